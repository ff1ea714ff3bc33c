// TokenManager from Node: one refresh for many concurrent callers, a FileStore shared by
// processes, and STORE_FAILED.
process.env.UV_THREADPOOL_SIZE = '16'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client, FileStore, TokenManager, OAuthRefreshError } = require('..')
const { startServer } = require('./server')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

const WORKER = `
const { Client, FileStore, TokenManager } = require(${JSON.stringify(path.join(__dirname, '..'))})
const [url, file, seconds] = process.argv.slice(1)
const manager = new TokenManager(new Client({ tokenUrl: url }), { clientId: 'app', clientSecret: 'secret-app', minWindowMs: 50 }, new FileStore(file))
let errors = 0
const until = Date.now() + Number(seconds) * 1000
while (Date.now() < until) {
  try { manager.accessTokenSync() } catch (e) { errors += 1; console.error(e.code) }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
}
process.exit(errors ? 1 : 0)
`

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-refresh-node-'))

test('concurrent accessToken() calls cause one refresh', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-mgr/delay=200/token` })
  const manager = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-mgr' })
  for (const round of [1, 2]) {
    const tokens = await Promise.all(Array.from({ length: 16 }, () => manager.accessToken()))
    assert.equal(new Set(tokens).size, 1)
    assert.equal(await server.tokenRequests('node-mgr'), round)
    manager.invalidate()
  }
  assert.deepEqual(manager.stats, { refreshes: 2, adoptions: 0, failures: 0 })
  assert.equal(manager.accessTokenSync().length > 0, true)
  assert.ok((await manager.token()).refreshTokenRotated)
})

test('processes sharing a FileStore never burn the token', async () => {
  const dir = tmpdir()
  const file = path.join(dir, 'token.json')
  const seeding = new TokenManager(new Client({ tokenUrl: `${server.url}/node-mgr-seed/expires=1/token` }),
    { clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-mgr-procs' }, new FileStore(file))
  await seeding.accessToken()
  const url = `${server.url}/node-mgr-procs/family,expires=1/token`
  const codes = await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
    spawn(process.execPath, ['-e', WORKER, url, file, '6'], { stdio: 'inherit' }).on('exit', resolve)
  })))
  assert.deepEqual(codes, [0, 0, 0, 0])
  const requests = await server.tokenRequests('node-mgr-procs')
  assert.ok(requests >= 4 && requests <= 8, `${requests} refreshes for about 6 expiries`)
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')).refresh_token
  assert.equal(await server.currentRefreshToken('seed-node-mgr-procs'), stored)
  fs.rmSync(dir, { recursive: true })
})

test('a store that cannot be written is STORE_FAILED', async () => {
  const dir = tmpdir()
  const file = path.join(dir, 'token.json')
  const client = new Client({ tokenUrl: `${server.url}/node-mgr-fail/ok/token` })
  await new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-mgr-fail' }, new FileStore(file)).accessToken()
  fs.rmSync(`${file}.lock`)
  fs.mkdirSync(`${file}.lock`) // writes now fail; reads still work
  const manager = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app' }, new FileStore(file))
  await manager.accessToken()
  manager.invalidate()
  const err = await manager.accessToken().then(() => null, (e) => e)
  assert.ok(err instanceof OAuthRefreshError)
  assert.equal(err.code, 'STORE_FAILED')
  // The new token travels with the error, and is never shown.
  const current = await server.currentRefreshToken('seed-node-mgr-fail')
  assert.equal(err.token.refreshToken, current)
  assert.ok(!require('node:util').inspect(err).includes(current) && !JSON.stringify(err).includes(current))
  fs.rmSync(dir, { recursive: true })
})

test('wrong option types are TypeErrors', () => {
  const client = new Client({ tokenUrl: `${server.url}/token` })
  assert.throws(() => new TokenManager(client, { clientId: 1, clientSecret: 's' }), TypeError)
  assert.throws(() => new TokenManager(client, { clientId: 'a', clientSecret: 's', minWindowMs: -1 }), OAuthRefreshError)
})
