// PostgresStore from Node: a TokenManager and AccountTokens over a real PostgreSQL, two
// processes sharing one rotating token, encryption at rest, the option and store errors.
// Needs the server of scripts/with-postgres.sh (POSTGRES_URL); each test has its own table.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn, spawnSync } = require('node:child_process')
const path = require('node:path')
const util = require('node:util')
const { AccountTokens, Client, PostgresStore, TokenManager, OAuthRefreshError } = require('..')
const { startServer } = require('./server')

const ADDON = path.join(__dirname, '..')
const POSTGRES_URL = process.env.POSTGRES_URL
const skip = POSTGRES_URL ? false : (process.env.POSTGRES_SKIP || 'POSTGRES_URL is not set: run under scripts/with-postgres.sh')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

test('PostgreSQL is there, unless this is not CI (where the tests below are skipped)', () => {
  assert.ok(POSTGRES_URL || !process.env.CI, `the PostgreSQL tests cannot be skipped under CI: ${skip}`)
})

const CREDENTIALS = { clientId: 'app', clientSecret: 'secret-app' }
const client = (scope, modes = 'ok') => new Client({ tokenUrl: `${server.url}/${scope}/${modes}/token` })
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i)

/** Runs `sql` through psql, the password in its environment, never on its command line. */
function psql(sql) {
  const url = new URL(POSTGRES_URL)
  const password = decodeURIComponent(url.password)
  url.password = ''
  return execFileSync('psql', [url.href, '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password, PGOPTIONS: '-c client_min_messages=warning' } }).trim()
}

/** A fresh table for one test (a second run against the same server starts clean). */
function table(name) {
  psql(`DROP TABLE IF EXISTS ${name}`)
  return name
}

/** The stored token of `account` in `table`, as JSON (unsealed stores only). */
const stored = (table, account) => JSON.parse(psql(`SELECT record FROM ${table} WHERE account = '${account}'`))

test('a TokenManager stores each refresh before use; another process reads it without a request', { skip }, async () => {
  const t = table('node_manager')
  const manager = new TokenManager(client('node-pg-manager'), { ...CREDENTIALS, refreshToken: 'seed-node-pg-manager' },
    new PostgresStore({ url: POSTGRES_URL, account: 'acct', table: t }))
  const token = await manager.token()
  const row = stored(t, 'acct')
  assert.equal(row.access_token, token.accessToken, 'stored before it was returned')
  assert.equal(row.refresh_token, await server.currentRefreshToken('seed-node-pg-manager'))

  const script = `
const { Client, PostgresStore, TokenManager } = require(${JSON.stringify(ADDON)})
const [tokenUrl, url, table] = process.argv.slice(1)
const store = new PostgresStore({ url, account: 'acct', table })
process.stdout.write(new TokenManager(new Client({ tokenUrl }), { clientId: 'app', clientSecret: 'secret-app' }, store).accessTokenSync())`
  const child = spawnSync(process.execPath, ['-e', script, `${server.url}/node-pg-manager/ok/token`, POSTGRES_URL, t],
    { encoding: 'utf8', timeout: 10_000 })
  assert.equal(child.status, 0, child.stderr)
  assert.ok(child.stdout === token.accessToken, 'the other process served the stored access token')
  assert.equal(await server.tokenRequests('node-pg-manager'), 1)
})

test('AccountTokens over a PostgresStore: several accounts, one row each, accounts() and remove()', { skip }, async () => {
  const t = table('node_accounts')
  const ids = ['company-1', 'company-2', 'company-3', 'company 4', "o'brien"]
  const tokens = new AccountTokens(client('node-pg-accounts'), CREDENTIALS,
    new PostgresStore({ url: POSTGRES_URL, table: t, maxConnections: 2 }))
  for (const id of ids) tokens.add(id, `seed-node-pg-accounts-${id}`)
  assert.deepEqual(tokens.accounts(), [...ids].sort())
  const first = await Promise.all(ids.map((id) => tokens.accessToken(id)))
  assert.equal(new Set(first).size, ids.length)
  assert.equal(await server.tokenRequests('node-pg-accounts'), ids.length)
  assert.equal(psql(`SELECT count(*) FROM ${t}`), String(ids.length))

  // A second object over its own pool reads every account's token from the table.
  const other = new AccountTokens(client('node-pg-accounts'), CREDENTIALS, new PostgresStore({ url: POSTGRES_URL, table: t }))
  assert.deepEqual(ids.map((id) => other.accessTokenSync(id)), first)
  assert.equal(await server.tokenRequests('node-pg-accounts'), ids.length, 'no request for a stored token')
  assert.equal(other.stats.refreshes, 0)

  assert.equal(tokens.remove('company-2'), true)
  assert.equal(tokens.remove('company-2'), false)
  assert.deepEqual(other.accounts(), [...ids].filter((id) => id !== 'company-2').sort())
  tokens.close()
  other.close()
})

const WORKER = `
const { Client, PostgresStore, TokenManager } = require(${JSON.stringify(ADDON)})
const [tokenUrl, url, table, seconds] = process.argv.slice(1)
const store = new PostgresStore({ url, account: 'shared', table })
const manager = new TokenManager(new Client({ tokenUrl }), { clientId: 'app', clientSecret: 'secret-app', minWindowMs: 50 }, store)
let errors = 0
const until = Date.now() + Number(seconds) * 1000
;(async () => {
  for (let i = 0; Date.now() < until; i++) {
    try { i % 2 ? manager.accessTokenSync() : await manager.accessToken() } catch (e) { errors += 1; console.error(e.code) }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  process.stdout.write(String(manager.stats.refreshes))
  process.exit(errors ? 1 : 0)
})()
`

test('two processes share one rotating token through PostgreSQL in family mode', { skip }, async () => {
  const t = table('node_family')
  const seed = 'seed-node-pg-family'
  await new TokenManager(client('node-pg-family-seed', 'expires=1'), { ...CREDENTIALS, refreshToken: seed },
    new PostgresStore({ url: POSTGRES_URL, account: 'shared', table: t })).accessToken()
  const seconds = 3
  const results = await Promise.all([0, 1].map(() => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', WORKER, `${server.url}/node-pg-family/family,expires=1/token`, POSTGRES_URL, t, String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', (code) => resolve({ code, refreshes: Number(out) }))
  })))
  assert.deepEqual(results.map((r) => r.code), [0, 0], 'a worker saw an error, INVALID_GRANT if a token was sent twice (see stderr)')
  const requests = await server.tokenRequests('node-pg-family')
  assert.equal(results.reduce((n, r) => n + r.refreshes, 0), requests, 'each request was one process\'s refresh')
  assert.ok(requests >= seconds - 2 && requests <= seconds + 3, `${requests} refreshes for about ${seconds} expiries`)
  assert.ok(stored(t, 'shared').refresh_token === await server.currentRefreshToken(seed), 'the table holds the family\'s current refresh token')
})

test('an encrypted PostgresStore row holds no token; the same key reads it, another key cannot', { skip }, async () => {
  const t = table('node_sealed')
  const tokenClient = client('node-pg-sealed')
  const token = await new TokenManager(tokenClient, { ...CREDENTIALS, refreshToken: 'seed-node-pg-sealed' },
    new PostgresStore({ url: POSTGRES_URL, account: 'sealed', table: t, encryptionKey: KEY })).token()
  const row = psql(`SELECT * FROM ${t}`)
  assert.ok(row.includes('sealed'), 'the row is there')
  assert.ok(!row.includes(token.accessToken) && !row.includes(token.refreshToken), 'no token in the row')
  const hex = Buffer.from(KEY).toString('hex')
  const same = new PostgresStore({ url: POSTGRES_URL, account: 'sealed', table: t, encryptionKey: hex })
  assert.ok(await new TokenManager(tokenClient, CREDENTIALS, same).accessToken() === token.accessToken)
  for (const encryptionKey of [new Uint8Array(32), undefined]) {
    const reader = new PostgresStore({ url: POSTGRES_URL, account: 'sealed', table: t, encryptionKey })
    await assert.rejects(new TokenManager(tokenClient, CREDENTIALS, reader).accessToken(),
      (e) => e instanceof OAuthRefreshError && e.code === 'STORE_DECRYPT')
  }
  // Bound to its account: the record moved to another account's row does not open.
  psql(`INSERT INTO ${t} (account, record, rt_fingerprint) SELECT 'moved', record, rt_fingerprint FROM ${t} WHERE account = 'sealed'`)
  const moved = new PostgresStore({ url: POSTGRES_URL, account: 'moved', table: t, encryptionKey: KEY })
  await assert.rejects(new TokenManager(tokenClient, CREDENTIALS, moved).accessToken(), (e) => e.code === 'STORE_DECRYPT')
  assert.equal(await server.tokenRequests('node-pg-sealed'), 1)
})

test('a wrong database password is STORE_FAILED, sends nothing and never shows a password', { skip }, async () => {
  const url = new URL(POSTGRES_URL)
  const real = decodeURIComponent(url.password)
  url.password = 'wrong-db-password-8731'
  const store = new PostgresStore({ url: url.href, account: 'a', table: 'node_password' })
  const manager = new TokenManager(client('node-pg-password'), { ...CREDENTIALS, refreshToken: 'seed-node-pg-password' }, store)
  const error = await manager.accessToken().then(() => null, (e) => e)
  assert.ok(error instanceof OAuthRefreshError, String(error))
  assert.equal(error.code, 'STORE_FAILED')
  assert.equal(error.refreshTokenState, 'unused')
  for (const shown of [error.message, util.inspect(error), JSON.stringify(error)]) {
    assert.ok(!shown.includes('wrong-db-password-8731') && !shown.includes(real), 'a password was shown')
  }
  assert.equal(await server.tokenRequests('node-pg-password'), 0)
})

test('a database that is down is STORE_UNAVAILABLE and sends nothing', async () => {
  const port = new URL(server.refused).port
  const store = new PostgresStore({ url: `postgres://oauth:pw-unreached@127.0.0.1:${port}/oauth`, account: 'a', timeoutMs: 500 })
  const manager = new TokenManager(client('node-pg-down'), { ...CREDENTIALS, refreshToken: 'seed-node-pg-down' }, store)
  await assert.rejects(manager.accessToken(), (e) => {
    assert.equal(e.code, 'STORE_UNAVAILABLE')
    assert.equal(e.refreshTokenState, 'unused')
    assert.ok(!e.message.includes('pw-unreached'))
    return true
  })
  assert.equal(await server.tokenRequests('node-pg-down'), 0)
})

test('a PostgresStore for one account refuses AccountTokens, one for every account refuses TokenManager', { skip }, async () => {
  const t = table('node_kind')
  const one = new AccountTokens(client('node-pg-kind'), CREDENTIALS, new PostgresStore({ url: POSTGRES_URL, account: 'a', table: t }))
  assert.throws(() => one.add('a', 'seed-node-pg-kind'), (e) => e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT')
  one.close()
  const every = new TokenManager(client('node-pg-kind'), { ...CREDENTIALS, refreshToken: 'seed-node-pg-kind' },
    new PostgresStore({ url: POSTGRES_URL, table: t }))
  await assert.rejects(every.accessToken(), (e) => e.code === 'INVALID_INPUT')
  assert.equal(await server.tokenRequests('node-pg-kind'), 0)
})

test('PostgresStore options: Node names, INVALID_INPUT or TypeError, never echoing a URL', () => {
  const url = 'postgres://u@127.0.0.1:1/db'
  const invalid = (options, name) => assert.throws(() => new PostgresStore({ url, ...options }), (e) => {
    assert.ok(e instanceof OAuthRefreshError && e.code === 'INVALID_INPUT', `${JSON.stringify(options)}: ${e}`)
    if (name) assert.match(e.message, new RegExp(name))
    return true
  })
  invalid({ maxConnections: 0 }, 'maxConnections')
  invalid({ maxConnections: -1 }, 'maxConnections')
  invalid({ timeoutMs: 0 }, 'timeoutMs')
  invalid({ createTable: 'yes' }, 'createTable')
  invalid({ table: 'tokens; DROP TABLE x' })
  invalid({ table: '' })
  invalid({ encryptionKey: new Uint8Array(5) }, 'encryptionKey')
  invalid({ prefix: 'app' }, 'unknown PostgresStore option "prefix"')
  invalid({ create_table: false }, 'here it is "createTable"')
  invalid({ account: '' })
  assert.throws(() => new PostgresStore({ url: 'http://:hunter2@127.0.0.1:1/db', account: 'a' }),
    (e) => e.code === 'INVALID_INPUT' && !e.message.includes('hunter2'))
  assert.throws(() => new PostgresStore({ url: 'postgres://u:hunter2@[::1/db' }),
    (e) => e.code === 'INVALID_INPUT' && !e.message.includes('hunter2'))
  assert.throws(() => new PostgresStore({ account: 'a' }), TypeError)
  assert.throws(() => new PostgresStore({ url, account: 5 }), TypeError)
  assert.throws(() => new PostgresStore(url), TypeError)
  assert.throws(() => new PostgresStore(), TypeError)
  assert.ok(new PostgresStore({ url, table: 'app.oauth_tokens', createTable: false, maxConnections: 8, timeoutMs: 2000 }))
})
