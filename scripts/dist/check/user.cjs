// `make test-dist`: a CommonJS user of the installed npm packages, on a machine without Rust.
// Refreshes against the local token server, fails as it should, keeps a token fresh with a
// TokenManager. Prints no token. Usage: node user.cjs SEED
const assert = require('node:assert/strict')
const path = require('node:path')
const { Client, ERROR_CODES, OAuthRefreshError, TokenManager } = require('oauth-refresh')

// The addon was loaded from the platform package, not from the main one.
const addons = Object.keys(require.cache).filter((file) => file.endsWith('.node'))
assert.deepEqual(addons.map((file) => path.relative(process.cwd(), file)),
  ['node_modules/oauth-refresh-linux-x64-gnu/oauth-refresh.linux-x64-gnu.node'])

async function main() {
  const seed = process.argv[2]
  const app = 'dist-node-cjs'
  const request = { clientId: app, clientSecret: `secret-${app}`, grantType: 'refresh_token', refreshToken: seed }
  const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/token` })
  const token = await client.refresh(request)
  assert.ok(token.accessToken, 'no access token')
  assert.equal(token.refreshTokenRotated, true)
  assert.ok(token.expiresAt instanceof Date)
  const again = client.refreshSync({ ...request, refreshToken: token.refreshToken })
  assert.notEqual(again.accessToken, token.accessToken, 'refreshSync returned the old token')

  await assert.rejects(client.refresh(request), (err) => {
    assert.ok(err instanceof OAuthRefreshError, 'not an OAuthRefreshError')
    assert.deepEqual([err.code, err.refreshTokenState, err.retryable, err.status], ['INVALID_GRANT', 'rejected', false, 400])
    return true
  })
  assert.throws(() => new Client({ tokenUrl: 'http://auth.example.com/token' }),
    (err) => err instanceof OAuthRefreshError && err.code === 'INVALID_INPUT' && ERROR_CODES.includes(err.code))

  const manager = new TokenManager(client, { clientId: app, clientSecret: `secret-${app}`, refreshToken: `${seed}-manager` })
  const first = await manager.accessToken()
  assert.equal(await manager.accessToken(), first, 'the manager did not serve its cached token')
  manager.invalidate()
  assert.notEqual(await manager.accessToken(), first, 'invalidate() did not lead to a refresh')
  assert.equal(manager.stats.refreshes, 2)
  console.log(`dist: node ${process.version} CommonJS: refreshed twice, reuse refused (INVALID_GRANT), invalid input refused, manager refreshed ${manager.stats.refreshes} times`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
