// AccountTokens from Node: many accounts in one process, processes sharing a FileStore
// directory or Redis, events and health, refresh-ahead within its cap, close(), option and
// account id errors, and no secret anywhere.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { AccountTokens, Client, FileStore, MemoryStore, RedisStore, TokenManager, OAuthRefreshError } = require('..')
const { startServer } = require('./server')

const ADDON = path.join(__dirname, '..')
const REDIS_URL = process.env.REDIS_URL
const noRedis = REDIS_URL ? false : (process.env.REDIS_SKIP || 'REDIS_URL is not set: run under scripts/with-redis.sh')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

const CREDENTIALS = { clientId: 'app', clientSecret: 'secret-app' }
const client = (scope, modes = 'ok') => new Client({ tokenUrl: `${server.url}/${scope}/${modes}/token` })
const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-refresh-node-accounts-'))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const rejection = (promise) => promise.then(() => { throw new Error('resolved') }, (e) => e)

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

test('200 accounts in one process: each refreshed once, then served from the cache; accounts() and remove()', async () => {
  const refreshed = []
  const tokens = new AccountTokens(client('node-acc-many'), { ...CREDENTIALS, onEvent: (e) => refreshed.push(e) })
  const ids = Array.from({ length: 200 }, (_, i) => `company-${String(i).padStart(3, '0')}`)
  for (const id of ids) tokens.add(id, `seed-node-acc-many-${id}`)
  assert.deepEqual(tokens.accounts(), ids)

  const first = await Promise.all(ids.map((id, i) => (i % 2 ? tokens.accessToken(id) : tokens.token(id).then((t) => t.accessToken))))
  assert.equal(new Set(first).size, 200)
  assert.equal(await server.tokenRequests('node-acc-many'), 200)
  assert.deepEqual(refreshed.map((e) => e.account).sort(), ids, 'one refreshed event per account, before its promise settled')
  assert.ok(refreshed.every((e) => e.kind === 'refreshed' && e.code === null && e.refreshTokenState === null && e.attempts === 0))

  const again = await Promise.all(ids.map((id) => tokens.accessToken(id)))
  assert.deepEqual(again, first)
  assert.deepEqual(ids.map((id) => tokens.accessTokenSync(id)), first)
  assert.equal(await server.tokenRequests('node-acc-many'), 200, 'no request for a cached token')
  assert.equal(refreshed.length, 200)
  // Each account's first call found no access token and waited on its refresh; no other.
  assert.deepEqual(tokens.stats, { cached: 200, refreshes: 200, refreshedAhead: 0, adoptions: 0, failures: 0, waits: 0, evictions: 0 })
  assert.deepEqual(tokens.unhealthy(), [])
  assert.deepEqual(tokens.health(ids[0]), { status: 'ok', code: null, refreshTokenState: null, since: null, attempts: 0 })

  assert.equal(tokens.remove(ids[7]), true)
  assert.equal(tokens.remove(ids[7]), false)
  assert.deepEqual(tokens.accounts(), ids.filter((id) => id !== ids[7]))
  assert.equal(tokens.stats.cached, 199)
  const err = await rejection(tokens.accessToken(ids[7]))
  assert.ok(err instanceof OAuthRefreshError && err.code === 'INVALID_INPUT', 'a removed account has no grant')
  assert.equal(await server.tokenRequests('node-acc-many'), 200)
  tokens.close()
})

test('a cached token settles accessToken() without a thread; invalidate() refreshes once', async () => {
  const tokens = new AccountTokens(client('node-acc-hit', 'delay=100'), CREDENTIALS)
  tokens.add('a', 'seed-node-acc-hit')
  const first = await tokens.accessToken('a')
  const settledIn = async (promise) => {
    let done = false
    promise.then(() => { done = true })
    for (let i = 0; i < 5; i++) await Promise.resolve()
    return done
  }
  assert.equal(await settledIn(tokens.accessToken('a')), true, 'a hit settles within a few microtasks')
  tokens.invalidate('a')
  const refreshing = tokens.accessToken('a')
  assert.equal(await settledIn(refreshing), false, 'a refresh goes to a thread')
  const second = await refreshing
  assert.notEqual(second, first)
  assert.equal(tokens.accessTokenSync('a'), second)
  assert.equal(await server.tokenRequests('node-acc-hit'), 2)
  tokens.close()
})

test('a revoked grant: needs_reauthorization once, no further request; a new grant recovers', async () => {
  const events = []
  const tokens = new AccountTokens(client('node-acc-revoked'), { ...CREDENTIALS, onEvent: (e) => events.push(e) })
  const before = Date.now()
  tokens.add('gone', 'revoked-node-acc-grant') // not `seed-`: the server answers invalid_grant
  tokens.add('fine', 'seed-node-acc-fine')
  const errors = []
  for (let i = 0; i < 3; i++) {
    errors.push(await rejection(tokens.accessToken('gone')))
    try { tokens.tokenSync('gone') } catch (e) { errors.push(e) }
  }
  for (const e of errors) {
    assert.ok(e instanceof OAuthRefreshError)
    assert.equal(e.code, 'INVALID_GRANT')
    assert.equal(e.refreshTokenState, 'rejected')
    assert.ok(!e.message.includes('revoked-node-acc-grant'))
  }
  assert.equal(await server.tokenRequests('node-acc-revoked'), 1, 'one request, however many calls')
  assert.deepEqual(events, [{ kind: 'needs_reauthorization', account: 'gone', code: 'INVALID_GRANT', refreshTokenState: 'rejected', attempts: 1 }])
  const health = tokens.health('gone')
  assert.equal(health.status, 'needs_reauthorization')
  assert.equal(health.code, 'INVALID_GRANT')
  assert.equal(health.refreshTokenState, 'rejected')
  assert.equal(health.attempts, 1)
  assert.ok(health.since >= before - 1000 && health.since <= Date.now() + 1000, `since ${health.since}`)
  assert.deepEqual(tokens.unhealthy(), [['gone', health]])

  assert.ok(tokens.accessTokenSync('fine'), 'the other account is unaffected')
  tokens.add('gone', 'seed-node-acc-regranted')
  const access = await tokens.accessToken('gone')
  assert.ok(access)
  assert.deepEqual(events.slice(1).map((e) => [e.kind, e.account]),
    [['refreshed', 'fine'], ['refreshed', 'gone'], ['recovered', 'gone']])
  assert.deepEqual(tokens.health('gone'), { status: 'ok', code: null, refreshTokenState: null, since: null, attempts: 0 })
  assert.deepEqual(tokens.unhealthy(), [])
  assert.equal(await server.tokenRequests('node-acc-revoked'), 3)
  assert.equal(tokens.stats.refreshes, 2)
  assert.equal(tokens.stats.failures, 1)
  tokens.close()
})

test('a failing endpoint: failed events count attempts, health is failing, a success recovers', async () => {
  const events = []
  // The first two token requests of this scope answer 500, then the server behaves.
  const tokens = new AccountTokens(client('node-acc-failing', 'fault=500,times=2'), { ...CREDENTIALS, onEvent: (e) => events.push(e) })
  tokens.add('a', 'seed-node-acc-failing')
  const first = await rejection(tokens.accessToken('a'))
  assert.equal(first.code, 'SERVER_ERROR')
  assert.equal(tokens.health('a').status, 'failing')
  // An unknown outcome is not resent by itself: allowResend() lets the next call send it.
  tokens.allowResend('a')
  assert.throws(() => tokens.accessTokenSync('a'), (e) => e.code === 'SERVER_ERROR')
  assert.deepEqual(tokens.health('a').attempts, 2)
  tokens.allowResend('a')
  assert.ok(await tokens.accessToken('a'))
  assert.deepEqual(events.map((e) => [e.kind, e.code, e.refreshTokenState, e.attempts]), [
    ['failed', 'SERVER_ERROR', 'unknown', 1],
    ['failed', 'SERVER_ERROR', 'unknown', 2],
    ['refreshed', null, null, 0],
    ['recovered', null, null, 0],
  ])
  assert.equal(tokens.health('a').status, 'ok')
  assert.equal(await server.tokenRequests('node-acc-failing'), 3)
  tokens.close()
})

test('an onEvent that throws or rejects stops nothing: a warning reports it', async () => {
  const hooks = [
    () => { throw new Error('hook failed') },
    async () => { throw new Error('hook rejected') },
  ]
  for (const [i, hook] of hooks.entries()) {
    const tokens = new AccountTokens(client('node-acc-hook-throw'), { ...CREDENTIALS, onEvent: hook })
    tokens.add('a', `seed-node-acc-hook-throw-${i}`)
    tokens.add('b', `seed-node-acc-hook-throw-b-${i}`)
    let sync, async
    const warnings = await warningsDuring(async () => {
      sync = tokens.accessTokenSync('a')
      async = await tokens.accessToken('b')
    })
    assert.ok(sync && async && sync !== async)
    assert.equal(warnings.length, 2, `hook ${i}`)
    for (const w of warnings) {
      assert.equal(w.name, 'OAuthRefreshWarning')
      assert.equal(w.code, 'ON_EVENT_FAILED')
      assert.ok(!/hook failed|hook rejected/.test(w.message), 'the hook\'s message is not repeated')
      assert.ok(w.cause instanceof Error)
    }
    assert.equal(tokens.stats.refreshes, 2)
    tokens.close()
  }
})

test('refresh-ahead: callers never wait, events arrive from its threads, the cap holds; close() stops it', async () => {
  const events = []
  const cap = 2
  const tokens = new AccountTokens(client('node-acc-ahead', 'expires=2,delay=50'), {
    ...CREDENTIALS,
    refreshAhead: true,
    maxConcurrentRefreshes: cap,
    minWindowMs: 500,
    onEvent: (e) => events.push(e),
  })
  const ids = Array.from({ length: 12 }, (_, i) => `ahead-${i}`)
  // Each grant comes with a live access token (from another scope of the server), so every
  // request the scope sees is refresh-ahead's.
  const seeder = client('node-acc-ahead-seed', 'expires=2')
  for (const id of ids) tokens.add(id, await seeder.refresh({ ...CREDENTIALS, refreshToken: `seed-node-acc-ahead-${id}` }))
  const seen = new Set()
  const until = Date.now() + 3000
  while (Date.now() < until) {
    for (const id of ids) seen.add(await tokens.accessToken(id))
    for (const id of ids) seen.add(tokens.accessTokenSync(id))
    await sleep(25)
  }
  const stats = tokens.stats
  assert.equal(stats.waits, 0, 'no caller waited on a refresh')
  assert.equal(stats.failures, 0)
  assert.ok(stats.refreshedAhead >= ids.length * 2, `refreshed ahead ${stats.refreshedAhead} times`)
  assert.ok(seen.size >= ids.length * 3, `${seen.size} distinct access tokens served`)
  assert.equal(stats.refreshes, stats.refreshedAhead, 'every refresh was refresh-ahead\'s')
  const server1 = await server.stats('node-acc-ahead')
  assert.ok(server1.max_in_flight <= cap, `max in flight ${server1.max_in_flight}`)
  assert.ok(server1.max_in_flight >= 1)
  // Refresh-ahead's events came through the thread-safe queue to this thread.
  const ahead = events.filter((e) => e.kind === 'refreshed').length
  assert.equal(ahead, events.length)
  // (a refresh in flight when the stats were read may have reported its event already)
  assert.ok(Math.abs(ahead - stats.refreshedAhead) <= cap, `${ahead} events for ${stats.refreshedAhead} refreshes ahead`)

  tokens.close()
  const requests = server1.token_requests
  await sleep(1200)
  assert.ok(await server.tokenRequests('node-acc-ahead') <= requests + cap, 'nothing refreshed after close()')
  assert.throws(() => tokens.accessTokenSync(ids[0]), (e) => e.code === 'INVALID_INPUT' && /closed/.test(e.message))
  assert.equal((await rejection(tokens.accessToken(ids[0]))).code, 'INVALID_INPUT')
  assert.throws(() => tokens.stats, (e) => e.code === 'INVALID_INPUT')
  tokens.close() // again: nothing
})

test('refresh-ahead with an onEvent hook does not keep a process alive', () => {
  for (const close of [true, false]) {
    const script = `
const { AccountTokens, Client } = require(${JSON.stringify(ADDON)})
const tokens = new AccountTokens(new Client({ tokenUrl: process.argv[1] }),
  { clientId: 'app', clientSecret: 'secret-app', refreshAhead: true, minWindowMs: 500, onEvent: () => {} })
tokens.add('a', 'seed-node-acc-exit-' + process.argv[2])
tokens.accessToken('a').then((access) => {
  if (process.argv[2] === 'true') tokens.close()
  process.stdout.write(access ? 'ok' : 'no token')
})`
    const started = Date.now()
    const child = spawnSync(process.execPath, ['-e', script, `${server.url}/node-acc-exit/expires=2/token`, String(close)],
      { encoding: 'utf8', timeout: 10_000 })
    assert.equal(child.signal, null, `close=${close}: the child did not exit by itself (${child.stderr})`)
    assert.equal(child.status, 0, child.stderr)
    assert.equal(child.stdout, 'ok')
    assert.ok(Date.now() - started < 5000)
  }
})

const WORKER = `
const { AccountTokens, Client, FileStore, RedisStore } = require(${JSON.stringify(ADDON)})
const [url, kind, where, count, seconds] = process.argv.slice(1)
const store = kind === 'file' ? new FileStore(where) : new RedisStore({ url: where, prefix: 'node-acc' })
const tokens = new AccountTokens(new Client({ tokenUrl: url }), { clientId: 'app', clientSecret: 'secret-app', minWindowMs: 50 }, store)
const ids = Array.from({ length: Number(count) }, (_, i) => 'shared-' + i)
let errors = 0
const until = Date.now() + Number(seconds) * 1000
;(async () => {
  while (Date.now() < until) {
    for (const [i, id] of ids.entries()) {
      try { i % 2 ? tokens.accessTokenSync(id) : await tokens.accessToken(id) } catch (e) { errors += 1; console.error(e.code) }
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  process.stdout.write(JSON.stringify(tokens.stats))
  tokens.close()
  process.exit(errors ? 1 : 0)
})()
`

/** Two processes share `store` (seeded here with `count` grants) for `seconds` while each
 * token lives one second, on a server that revokes a family whose refresh token is reused. */
async function twoProcesses(kind, where, store, scope) {
  const count = 10
  const seconds = 2
  const seeding = new AccountTokens(client(`${scope}-seed`), CREDENTIALS, store)
  const ids = Array.from({ length: count }, (_, i) => `shared-${i}`)
  for (const id of ids) seeding.add(id, `seed-node-${scope}-${id}`)
  assert.deepEqual(seeding.accounts(), [...ids].sort())
  const url = `${server.url}/${scope}/family,expires=1/token`
  const results = await Promise.all([0, 1].map(() => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', WORKER, url, kind, where, String(count), String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', (code) => resolve({ code, stats: out ? JSON.parse(out) : null }))
  })))
  assert.deepEqual(results.map((r) => r.code), [0, 0], 'a worker saw an error (see stderr)')
  const requests = await server.tokenRequests(scope)
  assert.equal(results.reduce((n, r) => n + r.stats.refreshes, 0), requests, 'each request was one process\'s refresh')
  assert.ok(results.every((r) => r.stats.refreshes > 0 && r.stats.failures === 0))
  assert.ok(requests >= count * 2 && requests <= count * (seconds + 2), `${requests} refreshes for ${count} accounts over ${seconds} s`)
  // The store holds the server's current refresh token for every account: none was lost.
  for (const id of ids) {
    const current = await server.currentRefreshToken(`seed-node-${scope}-${id}`)
    assert.ok(current, `${id}'s family is alive`)
    const stored = kind === 'file'
      ? fs.readFileSync(path.join(where, `${id}.token`), 'utf8')
      : execFileSync('redis-cli', ['-u', where, 'HGET', `node-acc:{${id}}:token`, 'token'], { encoding: 'utf8' })
    assert.equal(JSON.parse(stored).refresh_token, current, id)
  }
  seeding.close()
}

test('two processes sharing a FileStore directory refresh each account once per window', async () => {
  const dir = tmpdir()
  await twoProcesses('file', dir, new FileStore(dir), 'node-acc-files')
  fs.rmSync(dir, { recursive: true })
})

test('two processes sharing a RedisStore for every account refresh each account once per window', { skip: noRedis }, async () => {
  await twoProcesses('redis', REDIS_URL, new RedisStore({ url: REDIS_URL, prefix: 'node-acc' }), 'node-acc-redis')
})

test('a RedisStore for one account refuses AccountTokens, one for every account refuses TokenManager', { skip: noRedis }, async () => {
  const one = new AccountTokens(client('node-acc-mismatch'), CREDENTIALS, new RedisStore({ url: REDIS_URL, account: 'a' }))
  assert.throws(() => one.add('a', 'seed-node-acc-mismatch'), (e) => e.code === 'INVALID_INPUT')
  const every = new TokenManager(client('node-acc-mismatch'), { ...CREDENTIALS, refreshToken: 'seed-node-acc-mismatch' }, new RedisStore({ url: REDIS_URL }))
  assert.equal((await rejection(every.accessToken())).code, 'INVALID_INPUT')
  assert.equal(await server.tokenRequests('node-acc-mismatch'), 0)
  one.close()
})

test('add() takes a Token: its access token is served until due, no request', async () => {
  const refreshed = await client('node-acc-add-token').refresh({ ...CREDENTIALS, refreshToken: 'seed-node-acc-add-token' })
  const tokens = new AccountTokens(client('node-acc-add-token'), CREDENTIALS, new MemoryStore())
  tokens.add('t', refreshed)
  assert.equal(tokens.accessTokenSync('t'), refreshed.accessToken)
  assert.equal((await tokens.token('t')).refreshToken, refreshed.refreshToken)
  assert.equal(await server.tokenRequests('node-acc-add-token'), 1, 'only the refresh above')
  for (const bad of [12345678, null, {}, new MemoryStore()]) {
    assert.throws(() => tokens.add('t', bad), (e) => e instanceof TypeError && /refreshToken must be a string or a Token/.test(e.message) && !e.message.includes('12345678'))
  }
  assert.throws(() => tokens.add('t', ''), (e) => e.code === 'INVALID_INPUT')
  tokens.close()
})

test('options: unknown names in Node spelling, wrong types, ranges, the hook', () => {
  const c = client('node-acc-options')
  const refused = (options, pattern) => assert.throws(() => new AccountTokens(c, { ...CREDENTIALS, ...options }),
    (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT' && pattern.test(e.message), JSON.stringify(options))
  refused({ maxCachedAcounts: 5 }, /unknown AccountTokens option "maxCachedAcounts"/)
  refused({ keepAlive: 5 }, /"keepAlive".*"keepAliveMs"/)
  refused({ refresh_ahead: true }, /"refresh_ahead".*"refreshAhead"/)
  refused({ refreshAhead: 'yes' }, /refreshAhead/)
  refused({ maxConcurrentRefreshes: '4' }, /maxConcurrentRefreshes/)
  refused({ maxConcurrentRefreshes: 0 }, /maxConcurrentRefreshes/)
  refused({ maxCachedAccounts: 0 }, /maxCachedAccounts/)
  refused({ keepAliveMs: -1 }, /keepAliveMs/)
  refused({ minWindowMs: [500] }, /minWindowMs/)
  assert.throws(() => new AccountTokens(c, { clientId: 'app' }), (e) => e.code === 'INVALID_INPUT' && /secret/i.test(e.message))
  for (const hook of [5, 'hook', {}]) {
    assert.throws(() => new AccountTokens(c, { ...CREDENTIALS, onEvent: hook }),
      (e) => e instanceof TypeError && /onEvent must be a function/.test(e.message))
  }
  for (const options of [undefined, null, 'options']) {
    assert.throws(() => new AccountTokens(c, options), (e) => e instanceof TypeError && /options must be an object/.test(e.message))
  }
  const ok = new AccountTokens(c, { ...CREDENTIALS, maxCachedAccounts: 10, refreshAhead: false, requestsPerMinute: 200, keepAliveMs: 3_600_000, onEvent: null })
  ok.close()
})

test('account ids: a string of 1 to 256 bytes without NUL, else refused before any request', async () => {
  const tokens = new AccountTokens(client('node-acc-ids'), CREDENTIALS)
  for (const id of ['', 'x'.repeat(257), 'a\0b', 'é'.repeat(129)]) {
    assert.throws(() => tokens.add(id, 'seed-node-acc-ids'), (e) => e.code === 'INVALID_INPUT', JSON.stringify(id))
    assert.throws(() => tokens.accessTokenSync(id), (e) => e.code === 'INVALID_INPUT')
    assert.throws(() => tokens.remove(id), (e) => e.code === 'INVALID_INPUT')
    const e = await rejection(tokens.accessToken(id))
    assert.ok(e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT' && e.refreshTokenState === 'unused')
  }
  const methods = ['accessToken', 'accessTokenSync', 'token', 'tokenSync', 'invalidate', 'allowResend', 'remove', 'health']
  for (const method of methods) {
    for (const id of [5, undefined, { id: 'a' }]) {
      assert.throws(() => tokens[method](id), (e) => e instanceof TypeError && e.message === `${method}(account): account must be a string`, method)
    }
  }
  // Any id the core accepts works, whatever its characters.
  for (const id of ['x'.repeat(256), 'Company / 42 {eu}', 'é'.repeat(128)]) {
    tokens.add(id, `seed-node-acc-ids-${id.length}-${id.charCodeAt(0)}`)
    assert.ok(await tokens.accessToken(id))
  }
  assert.equal(await server.tokenRequests('node-acc-ids'), 3)
  tokens.close()
})

test('no secret in an error, an event, a health, the stats or the object', async () => {
  const secret = 'secret-app'
  const events = []
  const dir = tmpdir()
  const tokens = new AccountTokens(client('node-acc-secrets'), { ...CREDENTIALS, onEvent: (e) => events.push(e) }, new FileStore(dir))
  tokens.add('a', 'seed-node-acc-secrets')
  tokens.add('gone', 'revoked-node-acc-secrets-grant')
  const token = await tokens.token('a')
  const err = await rejection(tokens.accessToken('gone'))
  const shown = [
    util.inspect(tokens), util.inspect(err), String(err), JSON.stringify(err), err.message,
    JSON.stringify(events), util.inspect(events), JSON.stringify(tokens.unhealthy()),
    JSON.stringify(tokens.health('a')), JSON.stringify(tokens.stats), util.inspect(token),
  ].join('\n')
  for (const value of [secret, token.accessToken, token.refreshToken, 'seed-node-acc-secrets', 'revoked-node-acc-secrets-grant']) {
    assert.ok(!shown.includes(value), 'a secret was shown')
  }
  assert.equal(events.length, 2)
  tokens.close()
  fs.rmSync(dir, { recursive: true })
})
