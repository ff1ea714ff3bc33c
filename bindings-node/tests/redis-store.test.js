// RedisStore from Node: processes as hosts sharing one rotating token, encryption at rest for
// Redis and files, and the store errors. Needs the redis-server of scripts/with-redis.sh.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client, FileStore, RedisStore, TokenManager, OAuthRefreshError } = require('..')
const { startServer } = require('./server')

const REDIS_URL = process.env.REDIS_URL
const skip = REDIS_URL ? false : (process.env.REDIS_SKIP || 'REDIS_URL is not set: run under scripts/with-redis.sh')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

const redisCli = (...args) => execFileSync('redis-cli', ['-u', REDIS_URL, ...args], { encoding: 'utf8' })
const storedToken = (key) => JSON.parse(redisCli('HGET', key, 'token'))
const credentials = (seed) => ({ clientId: 'app', clientSecret: 'secret-app', refreshToken: seed })
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i)

const WORKER = `
const { Client, RedisStore, TokenManager } = require(${JSON.stringify(path.join(__dirname, '..'))})
const [url, redisUrl, prefix, seconds] = process.argv.slice(1)
const store = new RedisStore({ url: redisUrl, account: 'acct', prefix })
const manager = new TokenManager(new Client({ tokenUrl: url }), { clientId: 'app', clientSecret: 'secret-app', minWindowMs: 50 }, store)
let errors = 0
const until = Date.now() + Number(seconds) * 1000
while (Date.now() < until) {
  try { manager.accessTokenSync() } catch (e) { errors += 1; console.error(e.code) }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
}
process.stdout.write(String(manager.stats.refreshes))
process.exit(errors ? 1 : 0)
`

test('eight processes share one rotating token through Redis', { skip }, async () => {
  const seeding = new TokenManager(new Client({ tokenUrl: `${server.url}/node-redis-seed/expires=1/token` }),
    credentials('seed-node-redis'), new RedisStore({ url: REDIS_URL, account: 'acct', prefix: 'node-hosts' }))
  await seeding.accessToken()
  const url = `${server.url}/node-redis/family,expires=1/token`
  const seconds = 20
  const results = await Promise.all(Array.from({ length: 8 }, () => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', WORKER, url, REDIS_URL, 'node-hosts', String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', (code) => resolve({ code, refreshes: Number(out) }))
  })))
  assert.deepEqual(results.map((r) => r.code), Array(8).fill(0), 'a worker saw an error (see stderr)')
  const requests = await server.tokenRequests('node-redis')
  assert.equal(results.reduce((n, r) => n + r.refreshes, 0), requests, 'each request was one worker\'s refresh')
  assert.ok(requests >= seconds - 2 && requests <= seconds + 3, `${requests} refreshes for about ${seconds} expiries`)
  assert.equal(storedToken('node-hosts:{acct}:token').refresh_token, await server.currentRefreshToken('seed-node-redis'))
})

test('an encrypted RedisStore holds no token bytes and refuses a wrong key', { skip }, async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-seal/ok/token` })
  const store = new RedisStore({ url: REDIS_URL, account: 'seal', prefix: 'node', encryptionKey: KEY })
  const token = await new TokenManager(client, credentials('seed-node-seal'), store).token()
  const everything = redisCli('HGETALL', 'node:{seal}:token')
  assert.ok(!everything.includes(token.accessToken) && !everything.includes(token.refreshToken))
  const hex = Buffer.from(KEY).toString('hex')
  const same = new RedisStore({ url: REDIS_URL, account: 'seal', prefix: 'node', encryptionKey: hex })
  assert.equal(await new TokenManager(client, credentials(), same).accessToken(), token.accessToken)
  for (const encryptionKey of [new Uint8Array(32), undefined]) {
    const reader = new RedisStore({ url: REDIS_URL, account: 'seal', prefix: 'node', encryptionKey })
    await assert.rejects(new TokenManager(client, credentials(), reader).accessToken(),
      (e) => e instanceof OAuthRefreshError && e.code === 'STORE_DECRYPT')
  }
  assert.equal(await server.tokenRequests('node-seal'), 1)
})

test('an encrypted FileStore holds no token bytes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-refresh-node-'))
  const file = path.join(dir, 'token')
  const client = new Client({ tokenUrl: `${server.url}/node-fseal/ok/token` })
  const token = await new TokenManager(client, credentials('seed-node-fseal'), new FileStore(file, { encryptionKey: KEY })).token()
  const contents = fs.readFileSync(file, 'utf8')
  assert.ok(!contents.includes(token.accessToken) && !contents.includes(token.refreshToken))
  assert.throws(() => new TokenManager(client, credentials(), new FileStore(file, { encryptionKey: new Uint8Array(32) })).accessTokenSync(),
    (e) => e.code === 'STORE_DECRYPT')
  fs.rmSync(dir, { recursive: true })
})

test('bad keys and settings are INVALID_INPUT, never echoed', () => {
  for (const encryptionKey of [new Uint8Array(5), 'zz'.repeat(32), 'not base64!']) {
    assert.throws(() => new FileStore('token', { encryptionKey }), (e) => {
      assert.equal(e.code, 'INVALID_INPUT')
      assert.ok(typeof encryptionKey !== 'string' || !e.message.includes(encryptionKey))
      return true
    })
  }
  assert.throws(() => new RedisStore({ url: 'http://:hunter2@127.0.0.1:1', account: 'a' }),
    (e) => e.code === 'INVALID_INPUT' && !e.message.includes('hunter2'))
  assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:1', account: '' }), (e) => e.code === 'INVALID_INPUT')
  for (const prefix of ['{app}', 'app}']) {
    assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:1', account: 'a', prefix }), (e) => e.code === 'INVALID_INPUT')
  }
  assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:1', account: 'a', timeoutMs: 0 }), (e) => e.code === 'INVALID_INPUT')
  assert.throws(() => new RedisStore({ account: 'a' }), TypeError)
  assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:1', account: 5 }), TypeError)
  assert.ok(new RedisStore({ url: 'redis://127.0.0.1:1' }), 'without account: every account\'s store, for AccountTokens')
  assert.throws(() => new RedisStore({ url: 'redis://127.0.0.1:1', prefix: '{app}' }), (e) => e.code === 'INVALID_INPUT')
})

test('an unreachable Redis is STORE_UNAVAILABLE and sends nothing', async () => {
  const store = new RedisStore({ url: server.refused.replace('http://', 'redis://'), account: 'a', timeoutMs: 500 })
  const manager = new TokenManager(new Client({ tokenUrl: `${server.url}/node-unreach/ok/token` }), credentials('seed-node-unreach'), store)
  await assert.rejects(manager.accessToken(), (e) => {
    assert.equal(e.code, 'STORE_UNAVAILABLE')
    assert.equal(e.refreshTokenState, 'unused')
    return true
  })
  assert.equal(await server.tokenRequests('node-unreach'), 0)
})
