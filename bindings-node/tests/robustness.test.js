// Never crash, never drop, never resend: inputs that could have crashed the process are
// tried in a child process (a crash there fails the test instead of the whole run), and a
// TokenManager does not resend a refresh token whose outcome is unknown.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { Client, ERROR_CODES, OAuthRefreshError, TokenManager } = require('..')
const { startServer } = require('./server')

const ADDON = path.join(__dirname, '..')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

// Runs `body` (an async function body with `m` the addon and `url` the token server) in a
// child `node -e`, and returns what it returned, or what it threw as { thrown, code, state }.
// The child must exit 0: a crash (abort, signal) fails here.
function inChild(body) {
  const script = `
const m = require(${JSON.stringify(ADDON)})
const url = process.argv[1]
;(async () => { ${body} })().then(
  (value) => process.stdout.write(JSON.stringify({ value: value ?? null })),
  (e) => process.stdout.write(JSON.stringify({
    thrown: e instanceof m.OAuthRefreshError ? 'OAuthRefreshError' : String(e && e.name),
    code: e && e.code,
    state: e && e.refreshTokenState,
  })),
)`
  const child = spawnSync(process.execPath, ['-e', script, server.url], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(child.signal, null, `the child was killed by ${child.signal}: ${child.stderr}`)
  assert.equal(child.status, 0, `the child exited ${child.status}: ${child.stderr}`)
  return JSON.parse(child.stdout)
}

const invalidInput = { thrown: 'OAuthRefreshError', code: 'INVALID_INPUT', state: 'unused' }

test('ERROR_CODES lists every code once, INTERNAL included, and matches the .d.ts union', () => {
  assert.ok(ERROR_CODES.includes('INTERNAL'))
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length)
  const dts = fs.readFileSync(path.join(ADDON, 'index.d.ts'), 'utf8')
  const union = dts.match(/export type OAuthRefreshErrorCode =([^]*?)\n\n/)[1]
  assert.deepEqual([...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]).sort(), [...ERROR_CODES].sort())
})

test('a timeout beyond any clock is INVALID_INPUT at construction, not a crash', () => {
  for (const timeoutMs of [1e22, 1e12, Infinity, NaN, -1]) {
    const got = inChild(`new m.Client({ tokenUrl: url + '/node-rob/ok/token', timeoutMs: ${timeoutMs} })`)
    assert.deepEqual(got, invalidInput, `timeoutMs ${timeoutMs}`)
  }
  const got = inChild(`new m.Client({ tokenUrl: url + '/node-rob/ok/token', connectTimeoutMs: 1e22 })`)
  assert.deepEqual(got, invalidInput)
  assert.deepEqual(inChild(`m.Client.gusto({ environment: url + '/node-rob/ok', timeoutMs: 1e22 })`), invalidInput)
})

test('every other duration option out of range is INVALID_INPUT, not a crash', () => {
  const manager = `new m.TokenManager(new m.Client({ tokenUrl: url + '/node-rob/ok/token' }),
    { clientId: 'app', clientSecret: 'secret-app', minWindowMs: 1e22 })`
  assert.deepEqual(inChild(manager), invalidInput)
  const redis = `new m.RedisStore({ url: 'redis://127.0.0.1:1', account: 'a', timeoutMs: 1e22 })`
  assert.deepEqual(inChild(redis), invalidInput)
})

test('isExpired(leewayMs) out of range is INVALID_INPUT, not a crash', () => {
  const refresh = (seed) => `const token = new m.Client({ tokenUrl: url + '/node-rob-leeway/ok/token' })
    .refreshSync({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-rob-leeway-${seed}' })`
  // A year of leeway is allowed (and reaches past the token's expiry); more is refused.
  assert.deepEqual(inChild(`${refresh('year')}; return token.isExpired(365 * 24 * 3600 * 1000)`), { value: true })
  for (const [i, leeway] of [1e22, -1, NaN].entries()) {
    assert.deepEqual(inChild(`${refresh(i)}; return token.isExpired(${leeway})`), invalidInput, `leewayMs ${leeway}`)
  }
})

test('an absurd expires_in gives a token with no expiry, async and sync', () => {
  const got = inChild(`
    const client = new m.Client({ tokenUrl: url + '/node-rob-absurd/fault=expires-absurd/token' })
    const first = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-rob-absurd' })
    const second = client.refreshSync({ clientId: 'app', clientSecret: 'secret-app', refreshToken: first.refreshToken })
    return [first, second].map((t) => ({
      expiresAt: t.expiresAt, expiresIn: t.expiresIn, expired: t.isExpired(), json: t.toJSON().expiresAt,
    }))`)
  const none = { expiresAt: null, expiresIn: null, expired: false, json: null }
  assert.deepEqual(got, { value: [none, none] })
})

test('a user agent with CR LF is INVALID_INPUT at construction', () => {
  assert.deepEqual(inChild(`new m.Client({ tokenUrl: url + '/node-rob/ok/token', userAgent: 'a\\r\\nX-Evil: 1' })`), invalidInput)
  assert.deepEqual(inChild(`m.Client.gusto({ environment: url + '/node-rob/ok', userAgent: 'a\\r\\nX-Evil: 1' })`), invalidInput)
})

test('after an unknown outcome the manager does not resend until allowResend()', async () => {
  assert.equal(typeof TokenManager.prototype.allowResend, 'function')
  const scope = 'node-rob-resend'
  const client = new Client({ tokenUrl: `${server.url}/${scope}/delay=3000/token`, timeoutMs: 500 })
  const manager = new TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', refreshToken: `seed-${scope}` })
  const fail = (p) => p.then(() => assert.fail('expected an error'), (e) => e)

  const first = await fail(manager.accessToken())
  assert.ok(first instanceof OAuthRefreshError)
  assert.equal(first.code, 'TIMEOUT')
  assert.equal(first.refreshTokenState, 'unknown')
  assert.equal(await server.tokenRequests(scope), 1)

  // Fails at once with the same error, without a request, async and sync.
  const started = Date.now()
  const second = await fail(manager.accessToken())
  assert.ok(second instanceof OAuthRefreshError)
  assert.equal(second.code, first.code)
  assert.equal(second.refreshTokenState, 'unknown')
  assert.match(second.message, /not resent/)
  assert.ok(Date.now() - started < 400, 'it failed fast')
  assert.throws(() => manager.accessTokenSync(), (e) => e instanceof OAuthRefreshError && e.code === first.code)
  assert.equal(await server.tokenRequests(scope), 1)

  manager.allowResend()
  const third = await fail(manager.accessToken())
  assert.ok(third instanceof OAuthRefreshError)
  assert.doesNotMatch(third.message, /not resent/)
  assert.equal(await server.tokenRequests(scope), 2)
})
