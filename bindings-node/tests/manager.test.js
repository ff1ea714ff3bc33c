// TokenManager from Node: one refresh for many concurrent callers, a FileStore shared by
// processes, STORE_FAILED, the onRefresh hook and MemoryStore.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client, FileStore, MemoryStore, TokenManager, OAuthRefreshError } = require('..')
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

test('wrong option types are INVALID_INPUT naming the option; a hook that is not a function is a TypeError', () => {
  const client = new Client({ tokenUrl: `${server.url}/token` })
  assert.throws(() => new TokenManager(client, { clientId: 1, clientSecret: 's' }),
    (e) => e.code === 'INVALID_INPUT' && /clientId/.test(e.message))
  assert.throws(() => new TokenManager(client, { clientSecret: 's' }),
    (e) => e.code === 'INVALID_INPUT' && /client ID is required/.test(e.message))
  assert.throws(() => new TokenManager(client, { clientId: 'a', clientSecret: 's', minWindowMs: -1 }), OAuthRefreshError)
  for (const hook of [5, 'hook', {}]) {
    assert.throws(() => new TokenManager(client, { clientId: 'a', clientSecret: 's', onRefresh: hook }),
      (e) => e instanceof TypeError && /onRefresh must be a function/.test(e.message))
  }
  assert.throws(() => new TokenManager(client, { clientId: 'a', clientSecret: 's' }, {}))
})

const options = (seed, more) => ({ clientId: 'app', clientSecret: 'secret-app', refreshToken: seed, ...more })

/** Collects the process warnings emitted while `run` runs (they arrive on the next tick). */
async function warningsDuring(run) {
  const warnings = []
  const listener = (w) => warnings.push(w)
  process.on('warning', listener)
  try {
    await run()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return warnings
}

test('onRefresh gets each refreshed token on the JS thread before the call returns, sync and async', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-hook/ok/token` })
  const seen = []
  let reentered
  const manager = new TokenManager(client, options('seed-node-hook', {
    onRefresh: (token) => {
      seen.push(token)
      // JavaScript may call back into the manager: the refresh is over, nothing is held.
      reentered = manager.accessTokenSync()
    },
  }))
  const first = manager.tokenSync()
  assert.equal(seen.length, 1, 'called before tokenSync returned')
  assert.equal(seen[0].accessToken, first.accessToken)
  assert.equal(reentered, first.accessToken)
  assert.equal(manager.accessTokenSync(), first.accessToken)
  assert.equal(seen.length, 1, 'not called for a cached token')

  manager.invalidate()
  const second = await manager.accessToken().then((at) => {
    assert.equal(seen.length, 2, 'called before the promise settled')
    return at
  })
  assert.equal(seen[1].accessToken, second)
  assert.equal(seen[1].refreshToken, await server.currentRefreshToken('seed-node-hook'))

  manager.invalidate()
  const third = await manager.token()
  assert.equal(seen.length, 3)
  assert.equal(seen[2].accessToken, third.accessToken)
  manager.invalidate()
  assert.equal(manager.accessTokenSync(), seen[3].accessToken)
  assert.equal(await server.tokenRequests('node-hook'), 4)
  assert.deepEqual(manager.stats, { refreshes: 4, adoptions: 0, failures: 0 })
})

test('onRefresh is called once for many concurrent callers', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-hook-many/delay=200/token` })
  const seen = []
  const manager = new TokenManager(client, options('seed-node-hook-many', { onRefresh: (t) => seen.push(t) }))
  const tokens = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? manager.accessToken() : manager.token().then((t) => t.accessToken))))
  assert.equal(new Set(tokens).size, 1)
  assert.equal(seen.length, 1)
  assert.equal(seen[0].accessToken, tokens[0])
  assert.equal(await server.tokenRequests('node-hook-many'), 1)
})

test('an onRefresh that throws or rejects loses no token: the call returns it and a warning reports it', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-hook-throw/ok/token` })
  const hooks = [
    () => { throw new Error('hook failed') },
    () => { throw 'not an Error' }, // eslint-disable-line no-throw-literal
    async () => { throw new Error('hook rejected') },
  ]
  for (const [i, hook] of hooks.entries()) {
    const manager = new TokenManager(client, options(`seed-node-hook-throw-${i}`, { onRefresh: hook }))
    let sync, async
    const warnings = await warningsDuring(async () => {
      sync = manager.accessTokenSync()
      manager.invalidate()
      async = await manager.accessToken()
    })
    assert.ok(sync && async && sync !== async)
    assert.equal(async, (await manager.token()).accessToken)
    assert.equal(warnings.length, 2, `hook ${i}`)
    for (const w of warnings) {
      assert.equal(w.name, 'OAuthRefreshWarning')
      assert.equal(w.code, 'ON_REFRESH_FAILED')
      assert.ok(!/hook failed|hook rejected|not an Error/.test(w.message), 'the hook\'s message is not repeated')
    }
    assert.ok(warnings[0].cause !== undefined)
    assert.deepEqual(manager.stats, { refreshes: 2, adoptions: 0, failures: 0 })
  }
})

test('onRefresh gets the token a store could not keep, before STORE_FAILED is thrown', async () => {
  const calls = {
    sync: (m) => { try { m.tokenSync(); return null } catch (e) { return e } },
    async: (m) => m.accessToken().then(() => null, (e) => e),
  }
  for (const [how, call] of Object.entries(calls)) {
    const dir = tmpdir()
    const file = path.join(dir, 'token.json')
    const seed = `seed-node-hook-fail-${how}`
    const client = new Client({ tokenUrl: `${server.url}/node-hook-fail/ok/token` })
    await new TokenManager(client, options(seed), new FileStore(file)).accessToken()
    fs.rmSync(`${file}.lock`)
    fs.mkdirSync(`${file}.lock`) // writes now fail; reads still work
    const seen = []
    const manager = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', onRefresh: (t) => seen.push(t) }, new FileStore(file))
    await manager.accessToken()
    assert.equal(seen.length, 0, 'not called for a token adopted from the store')
    manager.invalidate()
    const err = await call(manager)
    assert.ok(err instanceof OAuthRefreshError, how)
    assert.equal(err.code, 'STORE_FAILED')
    assert.equal(seen.length, 1, how)
    assert.equal(seen[0].accessToken, err.token.accessToken)
    assert.equal(seen[0].refreshToken, await server.currentRefreshToken(seed))
    fs.rmSync(dir, { recursive: true })
  }
})

test('managers sharing a MemoryStore share one token; onRefresh fires only in the one that refreshed', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-memory/ok/token` })
  const store = new MemoryStore()
  const seen = { a: 0, b: 0 }
  const a = new TokenManager(client, options('seed-node-memory', { onRefresh: () => { seen.a += 1 } }), store)
  const b = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', onRefresh: () => { seen.b += 1 } }, store)
  const token = a.tokenSync()
  assert.equal(b.accessTokenSync(), token.accessToken)
  assert.equal((await b.token()).refreshToken, token.refreshToken)
  assert.deepEqual(seen, { a: 1, b: 0 })
  assert.equal(await server.tokenRequests('node-memory'), 1)
  // An empty store and no seed: nothing to refresh with.
  const empty = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app' }, new MemoryStore())
  assert.throws(() => empty.tokenSync(), (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT')
})
