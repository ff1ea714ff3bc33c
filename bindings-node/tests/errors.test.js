// Every error code from a real server behaviour, with its fields, as OAuthRefreshError.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, OAuthRefreshError } = require('..')
const { startServer } = require('./server')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

// [name, modes, options, target, code, fields]
const CASES = [
  ['grant', 'ok', {}, null, 'INVALID_GRANT', { status: 400, refreshTokenState: 'rejected', retryable: false }],
  ['client', 'fault=invalid-client', {}, null, 'INVALID_CLIENT', { status: 401, error: 'invalid_client' }],
  ['request', 'fault=invalid-request', {}, null, 'INVALID_REQUEST', { status: 400 }],
  ['scope', 'fault=invalid-scope', {}, null, 'INVALID_SCOPE', { status: 400 }],
  ['unauth', 'fault=unauthorized-client', {}, null, 'UNAUTHORIZED_CLIENT', { status: 400 }],
  ['granttype', 'fault=unsupported-grant-type', {}, null, 'UNSUPPORTED_GRANT_TYPE', { status: 400 }],
  ['429', 'fault=429,retry-after=9', { maxRetries: 0 }, null, 'RATE_LIMITED', { retryAfterMs: 9000, retryable: true }],
  ['500', 'fault=500', {}, null, 'SERVER_ERROR', { status: 500, refreshTokenState: 'unknown' }],
  ['404', 'fault=html-404', {}, null, 'HTTP_STATUS', { status: 404, error: null }],
  ['slow', 'delay=3000', { timeoutMs: 300 }, null, 'TIMEOUT', { refreshTokenState: 'unknown' }],
  ['connect', 'ok', { connectTimeoutMs: 200, maxRetries: 0 }, 'blackhole', 'TIMEOUT', { refreshTokenState: 'unused' }],
  ['refused', 'ok', { maxRetries: 0 }, 'refused', 'CONNECTION', { refreshTokenState: 'unused' }],
  ['close', 'fault=close', {}, null, 'CONNECTION', { refreshTokenState: 'unknown' }],
  ['tls', 'ok', { maxRetries: 0 }, 'tls', 'TLS', { status: null }],
  ['broken', 'fault=broken-with-refresh', {}, null, 'INVALID_RESPONSE', { status: 200 }],
]

for (const [name, modes, options, target, code, fields] of CASES) {
  test(`${code} from ${name}`, async () => {
    const scope = `node-errors-${name}`
    const base = { null: server.url, blackhole: server.blackhole, refused: server.refused, tls: server.url.replace('http://', 'https://') }[target]
    const client = new Client({ tokenUrl: `${base}/${scope}/${modes}/token`, ...options })
    const refreshToken = name === 'grant' ? 'never-issued' : `seed-${scope}`
    const error = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken }).then(
      () => assert.fail('expected an error'),
      (e) => e,
    )
    assert.ok(error instanceof OAuthRefreshError)
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'OAuthRefreshError')
    assert.equal(error.code, code)
    for (const [key, value] of Object.entries(fields)) assert.equal(error[key], value, key)
    // The same failure through the synchronous twin.
    if (name !== 'grant' && name !== 'broken') {
      assert.throws(() => client.refreshSync({ clientId: 'app', clientSecret: 'secret-app', refreshToken: `${refreshToken}-sync` }), (e) => e instanceof OAuthRefreshError && e.code === code)
    }
  })
}
