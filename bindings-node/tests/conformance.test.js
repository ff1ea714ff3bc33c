// Every case of tests/conformance/cases.json, through the Node API.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const { Client, OAuthRefreshError } = require('..')
const { startServer, ROOT } = require('./server')

const { cases } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'conformance', 'cases.json'), 'utf8'))
let server
before(async () => { server = await startServer() })
after(() => server.stop())

function buildClient(c, base, scope, modes) {
  const options = {}
  if ('max_retries' in c) options.maxRetries = c.max_retries
  if ('timeout_ms' in c) options.timeoutMs = c.timeout_ms
  if ('connect_timeout_ms' in c) options.connectTimeoutMs = c.connect_timeout_ms
  if (c.token_url) return new Client({ tokenUrl: c.token_url, ...options })
  if (c.dialect === 'gusto') {
    return Client.gusto({ environment: `${base}/${scope}/${modes}`, apiVersion: c.api_version, ...options })
  }
  return new Client({
    tokenUrl: `${base}/${scope}/${modes}/token`,
    bodyEncoding: c.body_encoding,
    clientAuth: c.client_auth,
    ...options,
  })
}

function run(client, kase, r) {
  if (kase.grant === 'system_access') return client.systemAccess({ clientId: r.client_id, clientSecret: r.client_secret })
  return client.refresh({
    clientId: r.client_id,
    clientSecret: r.client_secret,
    grantType: r.grant_type ?? 'refresh_token',
    refreshToken: r.refresh_token,
    redirectUri: r.redirect_uri,
    scope: r.scope,
  })
}

test('the case file has every case', () => assert.ok(cases.length >= 50))

for (const kase of cases) {
  test(kase.name, async () => {
    const scope = `node-${kase.name}`
    const r = Object.fromEntries(Object.entries(kase.request).map(([k, v]) => [k, v.replaceAll('{scope}', scope)]))
    const base = { undefined: server.url, blackhole: server.blackhole, refused: server.refused, tls: server.url.replace('http://', 'https://') }[kase.target]
    let token, error
    try {
      const client = buildClient(kase.client, base, scope, kase.modes)
      if (kase.reuse) await run(client, kase, r)
      token = await run(client, kase, r)
    } catch (e) {
      error = e
    }
    if (kase.expect.token) {
      assert.equal(error, undefined, `expected a token, got ${error}`)
      const want = kase.expect.token
      assert.equal(token.tokenType, want.token_type)
      assert.equal(token.expiresIn, want.expires_in)
      assert.equal(token.scope, want.scope)
      assert.equal(token.refreshTokenRotated, want.refresh_token_rotated)
      assert.equal(token.refreshToken !== null, want.has_refresh_token)
      assert.equal(r.refresh_token !== undefined && token.refreshToken === r.refresh_token, want.refresh_token_kept)
      assert.equal(token.idToken !== null, want.has_id_token)
      assert.equal(token.createdAt !== null, want.has_created_at)
      assert.deepEqual(Object.keys(token.extra).sort(), want.extra_keys)
      assert.ok(token.accessToken)
      if (want.expires_in === null) {
        // No lifetime (none sent, or beyond any clock): no expiry known, never expired.
        assert.equal(token.expiresAt, null)
        assert.equal(token.isExpired(), false)
      } else {
        assert.ok(token.expiresAt instanceof Date)
        assert.ok(token.expiresAt.getTime() <= Date.now() + token.expiresIn * 1000)
      }
      if (token.refreshTokenRotated) assert.equal(await server.currentRefreshToken(r.refresh_token), token.refreshToken)
    } else {
      const want = kase.expect.error
      assert.ok(error instanceof OAuthRefreshError, `expected an OAuthRefreshError, got ${error}`)
      assert.equal(error.code, want.code.toUpperCase())
      assert.equal(error.refreshTokenState, want.state)
      assert.equal(error.status, want.status)
      assert.equal(error.retryable, want.retryable)
      assert.equal(error.error, want.error)
      assert.equal(error.retryAfterMs, want.retry_after_s === null ? null : want.retry_after_s * 1000)
      if (want.salvaged_refresh_token) {
        assert.ok(error.refreshToken)
        assert.equal(await server.currentRefreshToken(r.refresh_token), error.refreshToken)
      } else {
        assert.equal(error.refreshToken, null)
      }
      const shown = `${error} ${util.inspect(error)} ${JSON.stringify(error)}`
      for (const secret of [r.client_secret, r.refresh_token]) {
        if (secret && secret.length >= 4) assert.ok(!shown.includes(secret), 'a secret was shown')
      }
    }
    if (kase.requests !== null) assert.equal(await server.tokenRequests(scope), kase.requests)
    for (const [key, value] of Object.entries(kase.server_saw ?? {})) {
      assert.equal((await server.stats(scope)).last[key], value)
    }
  })
}
