// The Node surface: the seed literal, tokens, redaction, argument types, options.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { spawn } = require('node:child_process')
const readline = require('node:readline')
const { Client, FileStore, OAuthRefreshError, Token, TokenManager } = require('..')
const { version } = require('../package.json')
const { startServer } = require('./server')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

const SECRET = '3aQSHRB3596nZhm6NdNBELZ1u9xbZmvCrKpBhbZYq6w'

test('the seed object literal works as is, sync and async', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-seed/ok/token` })
  const first = client.refreshSync({ clientId: 'app', clientSecret: 'secret-app', grantType: 'refresh_token', refreshToken: 'seed-node-seed' })
  const second = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: first.refreshToken })
  assert.equal(second.refreshTokenRotated, true)
  assert.equal(await server.currentRefreshToken('seed-node-seed'), second.refreshToken)
  assert.equal((await server.stats('node-seed')).last['user-agent'], `oauth-refresh/${version} (node)`)
})

test('token fields', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-token/extras,created-at-iso/token` })
  const token = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-token', scope: 'read' })
  assert.equal(token.tokenType, 'Bearer')
  assert.equal(token.expiresIn, 7200)
  assert.equal(token.scope, 'read')
  assert.equal(typeof token.createdAt, 'number')
  assert.deepEqual(token.extra, { account_id: 'acct-1' })
  assert.match(token.idToken, /^idt-/)
  assert.ok(token.expiresAt instanceof Date)
  assert.equal(token.isExpired(), false)
  assert.equal(token.isExpired(7300 * 1000), true)
  assert.throws(() => token.isExpired(-1), (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT')
})

test('inspect, JSON.stringify and String() show no secret', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-redact/extras/token`, headers: { 'X-Api-Key': SECRET } })
  const token = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-redact' })
  const salvage = new Client({ tokenUrl: `${server.url}/node-redact2/fault=truncated/token` })
  const error = await salvage.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-redact2' }).catch((e) => e)
  assert.ok(error.salvagedRefreshToken, 'the salvaged token is readable')
  const shown = [token, error, client].map((v) => `${util.inspect(v, { depth: 5 })} ${JSON.stringify(v)} ${String(v)}`).join(' ')
  for (const secret of [SECRET, 'secret-app', token.accessToken, token.refreshToken, token.idToken, error.salvagedRefreshToken, 'seed-node-redact']) {
    assert.ok(!shown.includes(secret), 'a secret was shown')
  }
  assert.match(JSON.stringify(token), /"tokenType":"Bearer"/)
})

test('console.log shows what a token is, and JSON gives whole milliseconds', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-inspect/ok/token` })
  const token = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-inspect' })
  const shown = util.inspect(token)
  assert.match(shown, /^Token \{/)
  assert.match(shown, /tokenType: 'Bearer'/)
  assert.match(shown, /expiresIn: 7200/)
  assert.match(shown, new RegExp(`expiresAt: ${token.expiresAt.toISOString().replace(/[.]/g, '[.]')}`))
  assert.ok(!shown.includes(token.accessToken) && !shown.includes(token.refreshToken), 'a secret was shown')
  const { expiresAt } = JSON.parse(JSON.stringify(token))
  assert.ok(Number.isInteger(expiresAt), 'expiresAt is whole milliseconds')
  assert.equal(expiresAt, token.expiresAt.getTime())
})

test('wrong argument types are TypeErrors that do not echo the value', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-types/ok/token` })
  const calls = [
    () => client.refreshSync({ clientId: 'a', clientSecret: 12345678, refreshToken: 't' }),
    () => client.refreshSync({ clientId: 'a', clientSecret: 's' }),
    () => client.refreshSync({ clientId: 'a', clientSecret: 's', refreshToken: 't', audience: 12345678 }),
    () => client.refreshSync({ clientId: 'a', clientSecret: 's', refreshToken: 't', audience: { v: '12345678' } }),
    () => client.refresh({ clientId: 'a', clientSecret: 's', refreshToken: 't', resource: [12345678] }),
    () => client.refreshSync('not an object'),
    () => client.refreshSync(),
    () => client.refresh({ clientId: 1, clientSecret: 's', refreshToken: 't' }),
    () => client.refresh({ clientId: 'a', clientSecret: 's', refreshToken: 't' }, { signal: 'no' }),
    () => client.systemAccessSync({ clientId: 'a' }),
    () => new Client(42),
  ]
  for (const call of calls) {
    assert.throws(call, (e) => e instanceof TypeError && !String(e.message).includes('12345678'), String(call))
  }
  // An option of the wrong type is the core's INVALID_INPUT, naming the option as Node spells
  // it and never the value.
  const options = [
    [() => new Client({ tokenUrl: 12345678 }), 'tokenUrl'],
    [() => new Client(), 'token URL'],
    [() => new Client({ tokenUrl: server.url, timeoutMs: '12345678' }), 'timeoutMs'],
    [() => new Client({ tokenUrl: server.url, headers: { X: 12345678 } }), 'headers'],
    [() => new Client({ tokenUrl: server.url, maxRetries: 1.5 }), 'maxRetries'],
    [() => new Client({ tokenUrl: server.url, proxyFromEnv: 'yes' }), 'proxyFromEnv'],
    [() => Client.gusto({ gustoApiVersion: 12345678 }), 'gustoApiVersion'],
    [() => new FileStore('/tmp/x', { encryptionKey: 12345678 }), 'encryptionKey'],
  ]
  for (const [call, name] of options) {
    assert.throws(call, (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT' &&
      e.message.includes(name) && !e.message.includes('12345678'), String(call))
  }
  assert.equal(await server.tokenRequests('node-types'), 0)
})

test('an unknown or misplaced option is INVALID_INPUT naming it, with its Node spelling', () => {
  const cases = [
    [() => new Client({ tokenUrl: 'https://a.example/token', timeout_ms: 5 }), /"timeout_ms": here it is "timeoutMs"/],
    [() => new Client({ tokenUrl: 'https://a.example/token', timeout: 5 }), /"timeout": here it is "timeoutMs" \(milliseconds\)/],
    [() => new Client({ tokenUrl: 'https://a.example/token', retries: 5 }), /unknown client option "retries"/],
    [() => new Client({ tokenUrl: 'https://a.example/token', environment: 'demo' }), /Gusto preset/],
    [() => Client.gusto({ bodyEncoding: 'form' }), /Gusto preset sets bodyEncoding/],
    [() => Client.gusto({ tokenUrl: 'https://a.example/token' }), /Gusto preset sets tokenUrl/],
    [() => new TokenManager(new Client({ tokenUrl: 'https://a.example/token' }), { clientId: 'a', clientSecret: 's', minWindow: 1 }), /"minWindow": here it is "minWindowMs"/],
  ]
  for (const [call, message] of cases) {
    assert.throws(call, (e) => e.code === 'INVALID_INPUT' && message.test(e.message), String(call))
  }
})

test('bad option values and a wrong grantType are INVALID_INPUT', () => {
  const bad = [
    () => new Client({ tokenUrl: 'http://auth.example.com/token' }),
    () => new Client({ tokenUrl: 'not a url' }),
    () => new Client({ tokenUrl: 'https://a.example/token', bodyEncoding: 'xml' }),
    () => new Client({ tokenUrl: 'https://a.example/token', clientAuth: 'jwt' }),
    () => new Client({ tokenUrl: 'https://a.example/token', timeoutMs: 0 }),
    () => new Client({ tokenUrl: 'https://a.example/token', headers: { Authorization: 'x' } }),
    () => new Client({ tokenUrl: 'https://a.example/token', caFile: '/nonexistent.pem' }),
    () => Client.gusto({ environment: 'staging' }),
    () => new Client({ tokenUrl: 'https://a.example/token' }).refreshSync({ clientId: 'a', clientSecret: 's', grantType: 'system_access', refreshToken: 't' }),
    () => new Client({ tokenUrl: 'https://a.example/token' }).refreshSync({ clientId: '', clientSecret: 's', refreshToken: 't' }),
    // An extra key may not stand in for a field the library sends itself.
    () => new Client({ tokenUrl: 'https://a.example/token' }).refreshSync({ clientId: 'a', clientSecret: 's', refreshToken: 't', client_id: 'b' }),
    () => new Client({ tokenUrl: 'https://a.example/token' }).refreshSync({ clientId: 'a', clientSecret: 's', refreshToken: 't', grant_type: 'password' }),
  ]
  for (const call of bad) {
    assert.throws(call, (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT' && e.refreshTokenState === 'unused', String(call))
  }
})

test('the Gusto preset sends its headers; systemAccess has no refresh token', async () => {
  const client = Client.gusto({ environment: `${server.url}/node-gusto/ok`, gustoApiVersion: '2025-06-15' })
  const token = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-gusto', redirectUri: 'https://app/cb' })
  assert.equal(token.refreshTokenRotated, true)
  const last = (await server.stats('node-gusto')).last
  assert.equal(last['x-gusto-api-version'], '2025-06-15')
  assert.equal(last['content-type'], 'application/json')
  assert.equal(last.client_auth, 'post')
  const system = await client.systemAccess({ clientId: 'app', clientSecret: 'secret-app' })
  assert.equal(system.refreshToken, null)
  assert.equal(client.systemAccessSync({ clientId: 'app', clientSecret: 'secret-app' }).tokenType, 'Bearer')
})

// A token endpoint in another process (refreshSync blocks this one's event loop) that
// answers every refresh and tells what form parameters the last one carried, secrets left out.
const RECORDER = `
const http = require('node:http')
let last = null
http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET') return res.end(JSON.stringify(last))
    const params = Object.fromEntries(new URLSearchParams(body))
    delete params.refresh_token
    delete params.client_secret
    last = params
    res.end(JSON.stringify({ access_token: 'at-recorded', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-recorded' }))
  })
}).listen(0, '127.0.0.1', function () { console.log('http://127.0.0.1:' + this.address().port) })
`

test('unknown string keys of a request are sent as extra form parameters, sync and async', async () => {
  const child = spawn(process.execPath, ['-e', RECORDER], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [url] = await new Promise((resolve) => readline.createInterface({ input: child.stdout }).once('line', (l) => resolve([l])))
    const client = new Client({ tokenUrl: `${url}/token`, clientAuth: 'post' })
    const last = async () => (await fetch(url)).json()
    const request = { clientId: 'app', clientSecret: 'secret-app', grantType: 'refresh_token', refreshToken: 'rt', redirectUri: 'https://app/cb', scope: 'read' }
    client.refreshSync({ ...request, audience: 'https://api.example', resource: 'r1', absent: undefined, none: null })
    assert.deepEqual(await last(), {
      grant_type: 'refresh_token',
      client_id: 'app',
      redirect_uri: 'https://app/cb',
      scope: 'read',
      audience: 'https://api.example',
      resource: 'r1',
    })
    await client.refresh({ ...request, audience: 'async' })
    assert.equal((await last()).audience, 'async')
    // Known camelCase keys are fields, never extra parameters.
    await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'rt' })
    assert.deepEqual(await last(), { grant_type: 'refresh_token', client_id: 'app' })
  } finally {
    child.kill()
  }
})

test('request refusals name the fields as Node spells them', () => {
  const client = new Client({ tokenUrl: 'https://a.example/token' })
  const refusal = (request) => {
    try { client.refreshSync(request) } catch (e) { return e }
    throw new Error('accepted')
  }
  const base = { clientId: 'a', clientSecret: 's', refreshToken: 't' }
  for (const [field, says] of [['clientId', 'clientId is empty'], ['refreshToken', 'refreshToken is empty'],
    ['scope', 'scope is empty'], ['redirectUri', 'redirectUri is empty']]) {
    const e = refusal({ ...base, [field]: '' })
    assert.equal(e.code, 'INVALID_INPUT')
    assert.ok(e.message.includes(says), e.message)
  }
  const e = refusal({ ...base, grantType: 'password' })
  assert.ok(e.code === 'INVALID_INPUT' && e.message.includes('grantType must be'), e.message)
})

test('a Token comes only from a refresh: no constructor, no forged receiver, no handle shown', async () => {
  assert.throws(() => new Token(), TypeError)
  assert.throws(() => new Token(Symbol('key'), 0), TypeError)
  const client = new Client({ tokenUrl: `${server.url}/node-forge/ok/token` })
  const token = client.refreshSync({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-forge' })
  assert.ok(token instanceof Token)
  const getter = Object.getOwnPropertyDescriptor(Token.prototype, 'accessToken').get
  assert.equal(getter.call(token), token.accessToken)
  for (const forged of [{}, Object.create(Token.prototype), { accessToken: 'x' }]) {
    assert.throws(() => getter.call(forged), TypeError)
    assert.throws(() => Token.prototype.isExpired.call(forged), TypeError)
  }
  assert.deepEqual(Object.keys(token), [])
  assert.deepEqual(Object.getOwnPropertySymbols(token), [])
  // The plain-request fast path takes a real Client too, and hides its helpers.
  const plain = { clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-forge-2' }
  assert.throws(() => Client.prototype.refreshSync.call({}, plain), TypeError)
  assert.throws(() => Client.prototype.refresh.call(Object.create(Client.prototype), plain), TypeError)
  assert.ok(!Object.getOwnPropertyNames(Client.prototype).some((name) => name.startsWith('__')))
  assert.equal(await server.tokenRequests('node-forge'), 1)
})
