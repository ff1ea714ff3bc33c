// `make demo`, Node part: refresh twice (await and sync), show a reuse failing, ask Gusto
// for a system token. TOKEN_SERVER_URL is set by scripts/with-token-server.sh.
const { Client, OAuthRefreshError, TokenManager } = require('oauth-refresh')

async function main() {
  const server = process.env.TOKEN_SERVER_URL
  const client = new Client({ tokenUrl: `${server}/token` })
  const first = await client.refresh({ clientId: 'demo-app', clientSecret: 'secret-demo-app', grantType: 'refresh_token', refreshToken: 'seed-node-demo' })
  console.log(`node: refreshed, rotated=${first.refreshTokenRotated} expiresAt=${first.expiresAt.toISOString()}`)
  console.log('node:', first)

  // Only the rotated refresh token works now.
  const second = client.refreshSync({ clientId: 'demo-app', clientSecret: 'secret-demo-app', refreshToken: first.refreshToken })
  console.log(`node: refreshed again with refreshSync, rotated=${second.refreshTokenRotated}`)

  try {
    await client.refresh({ clientId: 'demo-app', clientSecret: 'secret-demo-app', refreshToken: 'seed-node-demo' })
  } catch (err) {
    if (!(err instanceof OAuthRefreshError)) throw err
    console.log(`node: reusing the first token fails as it should: ${err.code}, token ${err.refreshTokenState}`)
  }

  const gusto = Client.gusto({ environment: server, gustoApiVersion: '2025-06-15' })
  const system = await gusto.systemAccess({ clientId: 'demo-app', clientSecret: 'secret-demo-app' })
  console.log(`node: gusto systemAccess tokenType=${system.tokenType} expiresIn=${system.expiresIn}`)

  // A manager serves the cached token while it is fresh and refreshes it once when not.
  const manager = new TokenManager(client, { clientId: 'demo-app', clientSecret: 'secret-demo-app', refreshToken: 'seed-node-demo-manager' })
  const initial = await manager.accessToken()
  const cached = await manager.accessToken()
  manager.invalidate() // as after an API 401
  const renewed = await manager.accessToken()
  console.log(`node: manager served the cached token again: ${initial === cached}, a new one after invalidate(): ${renewed !== initial}, stats ${JSON.stringify(manager.stats)}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
