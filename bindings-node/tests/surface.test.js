// Node's surface against tests/conformance/surface.json: the exports, every option of every
// constructor (reaching the core by its Node name), the error fields and the error codes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const oar = require('..')
const { startServer } = require('./server')

const surface = JSON.parse(fs.readFileSync(path.join(__dirname, '../../tests/conformance/surface.json'), 'utf8'))

/** The Node spelling of a core option: camelCase, durations in milliseconds with `Ms`. */
const nodeName = (name, kind) =>
  (kind === 'duration' ? `${name}_ms` : name).replace(/_([a-z])/g, (_, c) => c.toUpperCase())

let server
before(async () => { server = await startServer() })
after(() => server.stop())

test('exports', () => {
  const exported = Object.keys(oar).filter((name) => !name.startsWith('__')).sort()
  assert.deepEqual(exported, surface.exports.node)
})

/** Builds `kind` with option `name` set to an array, a type no option takes. */
function probe (kind, name) {
  const bad = { [name]: [12345678] }
  const client = () => new oar.Client({ tokenUrl: 'https://a.example/token' })
  switch (kind) {
    case 'client':
      return ['environment', 'gustoApiVersion'].includes(name)
        ? oar.Client.gusto(bad)
        : new oar.Client({ tokenUrl: 'https://a.example/token', ...bad })
    case 'manager':
      return new oar.TokenManager(client(), { clientId: 'a', clientSecret: 's', ...bad })
    case 'accounts':
      return new oar.AccountTokens(client(), { clientId: 'a', clientSecret: 's', ...bad })
    case 'file_store':
      return new oar.FileStore('/nonexistent/x', bad)
    case 'redis_store':
      return new oar.RedisStore({ url: 'redis://127.0.0.1:1', account: 'a', ...bad })
    case 'postgres_store':
      return new oar.PostgresStore({ url: 'postgres://u@127.0.0.1:1/db', account: 'a', ...bad })
    default:
      throw new Error(`no probe for ${kind}`)
  }
}

for (const [kind, options] of Object.entries(surface.options)) {
  test(`every ${kind} option reaches the core by its Node name`, () => {
    for (const [core, type] of Object.entries(options)) {
      const name = nodeName(core, type)
      assert.throws(() => probe(kind, name), (e) =>
        e instanceof oar.OAuthRefreshError && e.code === 'INVALID_INPUT' && e.message.includes(name) &&
        !/unknown \w+ option/.test(e.message) && !e.message.includes('12345678'), `${kind}.${name}`)
    }
  })
}

test('the .d.ts declares every option', () => {
  const dts = fs.readFileSync(path.join(__dirname, '../index.d.ts'), 'utf8')
  const declared = (iface) => {
    const body = dts.match(new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`))
    assert.ok(body, iface)
    return [...body[1].matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1])
  }
  const interfaces = {
    client: ['ClientOptions', 'GustoOptions'],
    manager: ['TokenManagerSettings'],
    accounts: ['AccountTokensSettings'],
    file_store: ['FileStoreOptions'],
    redis_store: ['RedisStoreSettings'],
    postgres_store: ['PostgresStoreSettings'],
  }
  for (const [kind, names] of Object.entries(interfaces)) {
    const got = new Set(names.flatMap(declared))
    const want = Object.entries(surface.options[kind]).map(([n, t]) => nodeName(n, t))
    assert.deepEqual([...got].sort(), want.sort(), kind)
  }
})

test('the .d.ts spells every health status and event kind as surface.json does', () => {
  const dts = fs.readFileSync(path.join(__dirname, '../index.d.ts'), 'utf8')
  const union = (iface, field) => {
    const body = dts.match(new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`))
    assert.ok(body, iface)
    const line = body[1].match(new RegExp(`^\\s+${field}: (.*)$`, 'm'))
    assert.ok(line, `${iface}.${field}`)
    return [...line[1].matchAll(/'([a-z_]+)'/g)].map((m) => m[1])
  }
  assert.deepEqual(union('AccountHealth', 'status'), surface.health_statuses)
  assert.deepEqual(union('AccountEvent', 'kind'), surface.event_kinds)
})

test('error fields and codes', async () => {
  const client = new oar.Client({ tokenUrl: `${server.url}/node-surface/ok/token` })
  const error = await client.refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: 'not-a-token' })
    .then(() => null, (e) => e)
  assert.ok(error instanceof oar.OAuthRefreshError && error.code === 'INVALID_GRANT')
  for (const [field, type] of Object.entries(surface.error_fields)) {
    assert.ok(nodeName(field, type) in error, field)
  }
  assert.equal(error.retryAfterMs, null)
  assert.equal(error.status, 400)
  assert.deepEqual(oar.ERROR_CODES, surface.error_codes.map((c) => c.toUpperCase()))
})

test('options are own properties only: a polluted Object.prototype sets nothing', () => {
  let inherited = 0 // a wrapped hook's throw would only be a warning: count the calls
  const hook = () => { inherited += 1; throw new Error('an inherited hook was called') }
  Object.prototype.allowInsecureHttp = true // eslint-disable-line no-extend-native
  Object.prototype.onRefresh = hook // eslint-disable-line no-extend-native
  Object.prototype.onEvent = hook // eslint-disable-line no-extend-native
  try {
    assert.throws(() => new oar.Client({ tokenUrl: 'http://auth.example.com/token' }),
      (e) => e.code === 'INVALID_INPUT' && /refusing plain http/.test(e.message))
    const client = new oar.Client({ tokenUrl: `${server.url}/node-proto/ok/token` })
    const manager = new oar.TokenManager(client, { clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-node-proto' })
    assert.ok(manager.accessTokenSync(), 'refreshed without calling the inherited hook')
    const accounts = new oar.AccountTokens(client, { clientId: 'app', clientSecret: 'secret-app' })
    accounts.add('a', 'seed-node-proto-accounts')
    assert.ok(accounts.accessTokenSync('a'), 'refreshed without calling the inherited hook')
    accounts.close()
    assert.equal(inherited, 0)
    // An object inheriting its headers is not a plain map: refused, never half read.
    const headers = Object.create({ 'X-Inherited': 'v' })
    assert.throws(() => new oar.Client({ tokenUrl: server.url, headers }), (e) => e.code === 'INVALID_INPUT')
  } finally {
    delete Object.prototype.allowInsecureHttp
    delete Object.prototype.onRefresh
    delete Object.prototype.onEvent
  }
})

test('headers must be a plain object; a path must be a string, never shown', () => {
  for (const headers of [new Map([['X-Extra', 'v']]), new Date(), ['X-Extra', 'v']]) {
    assert.throws(() => new oar.Client({ tokenUrl: server.url, headers }),
      (e) => e.code === 'INVALID_INPUT' && /headers must be a map/.test(e.message), String(headers))
  }
  for (const path of [Buffer.from('12345678'), ['12345678'], 12345678]) {
    assert.throws(() => new oar.FileStore(path),
      (e) => e instanceof TypeError && /path must be a string/.test(e.message) && !e.message.includes('12345678'))
  }
  assert.throws(() => new oar.FileStore('/tmp/a\0b'), (e) => e.code === 'INVALID_INPUT')
})
