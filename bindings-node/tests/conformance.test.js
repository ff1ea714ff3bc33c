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

// C0 controls, DEL and C1 controls: what a log line must never receive raw.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u

/** `text` with the server's placeholders ({ca_file}, {proxy}, ...) filled in. */
function fill(text) {
  return text
    .replaceAll('{ca_file}', server.caFile)
    .replaceAll('{other_ca_file}', server.otherCaFile)
    .replaceAll('{proxy}', server.proxy)
    .replaceAll('{auth_proxy}', server.authProxy)
}

/**
 * Sets the case's environment variables and returns what undoes it. The core reads them when
 * a client is built, so no other case may build one meanwhile: node:test runs a file's
 * top-level tests one at a time, and other files run in other processes.
 */
function setEnv(env = {}) {
  const saved = Object.keys(env).map((name) => [name, process.env[name]])
  for (const [name, value] of Object.entries(env)) process.env[name] = fill(value)
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/**
 * No secret in the message or the server's fields, no control character in the message.
 * Checked before the comparisons, whose failure would print the fields; messages name the
 * secret, never its value.
 */
function checkNothingLeaks(error, r) {
  const secrets = {
    'the client secret': r.client_secret,
    'the refresh token sent': r.refresh_token,
    'the salvaged refresh token': error.salvagedRefreshToken,
  }
  const fields = {
    'the message': `${error} ${util.inspect(error)} ${JSON.stringify(error)}`,
    error: error.error,
    errorDescription: error.errorDescription,
    errorUri: error.errorUri,
  }
  for (const [field, text] of Object.entries(fields)) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (text && secret && secret.length >= 4) assert.ok(!text.includes(secret), `${field} holds ${name}`)
    }
  }
  const control = error.message.match(CONTROL)
  assert.equal(control, null, `the message holds U+${control?.[0].codePointAt(0).toString(16).padStart(4, '0')}`)
}

function buildClient(c, base, scope, modes) {
  const options = {}
  if ('ca_file' in c) options.caFile = fill(c.ca_file)
  if ('max_retries' in c) options.maxRetries = c.max_retries
  if ('timeout_ms' in c) options.timeoutMs = c.timeout_ms
  if ('connect_timeout_ms' in c) options.connectTimeoutMs = c.connect_timeout_ms
  if (c.token_url) return new Client({ tokenUrl: c.token_url, ...options })
  if (c.dialect === 'gusto') {
    return Client.gusto({ environment: `${base}/${scope}/${modes}`, gustoApiVersion: c.gusto_api_version, ...options })
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

// The names of the cases that reached their last check.
const checked = new Set()

for (const kase of cases) {
  test(kase.name, async () => {
    const scope = `node-${kase.name}`
    const r = Object.fromEntries(Object.entries(kase.request).map(([k, v]) => [k, v.replaceAll('{scope}', scope)]))
    const base = {
      undefined: server.url,
      blackhole: server.blackhole,
      refused: server.refused,
      tls: server.url.replace('http://', 'https://'),
      https: server.https,
      https_wrong_host: server.httpsWrongHost,
      https_expired: server.httpsExpired,
      https_proxied: `https://tokens.test:${server.httpsPort}`,
    }[kase.target]
    const proxiedBefore = await server.proxyRequests()
    let token, error
    const restoreEnv = setEnv(kase.env)
    try {
      const client = buildClient(kase.client, base, scope, kase.modes)
      if (kase.reuse) await run(client, kase, r)
      token = await run(client, kase, r)
    } catch (e) {
      error = e
    } finally {
      restoreEnv()
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
      if (token.refreshTokenRotated) {
        const current = (await server.currentRefreshToken(r.refresh_token)) === token.refreshToken
        assert.ok(current, "the returned refresh token is the server's current one")
      }
    } else {
      const want = kase.expect.error
      assert.ok(error instanceof OAuthRefreshError, `expected an OAuthRefreshError, got ${error}`)
      checkNothingLeaks(error, r)
      assert.equal(error.code, want.code.toUpperCase())
      assert.equal(error.refreshTokenState, want.state)
      assert.equal(error.status, want.status)
      assert.equal(error.retryable, want.retryable)
      assert.equal(error.error, want.error)
      assert.equal(error.retryAfterMs, want.retry_after_s === null ? null : want.retry_after_s * 1000)
      if ('error_description' in want) assert.equal(error.errorDescription, want.error_description)
      if (want.salvaged_refresh_token) {
        assert.ok(error.salvagedRefreshToken, 'a refresh token salvaged')
        const current = (await server.currentRefreshToken(r.refresh_token)) === error.salvagedRefreshToken
        assert.ok(current, "the salvaged refresh token is the server's current one")
      } else {
        assert.ok(error.salvagedRefreshToken === null, 'no refresh token salvaged')
      }
    }
    if (kase.requests !== null) assert.equal(await server.tokenRequests(scope), kase.requests)
    for (const [key, value] of Object.entries(kase.server_saw ?? {})) {
      assert.equal((await server.stats(scope)).last[key], value)
    }
    if ('proxy_connects' in kase) assert.equal((await server.proxyRequests()) - proxiedBefore, kase.proxy_connects)
    checked.add(kase.name)
  })
}

// Runs last (node:test keeps a file's order): no case skipped, none that returned early.
test('every case ran to its last check', () => {
  const names = cases.map((kase) => kase.name)
  assert.equal(new Set(names).size, names.length, 'case names are unique')
  assert.deepEqual([...checked].sort(), names.sort())
})
