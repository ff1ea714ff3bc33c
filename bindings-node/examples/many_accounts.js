// `make demo`, many accounts: one AccountTokens holds the grants of a few companies under one
// client, refreshes them ahead of time on its own threads (tokens here live 2 s), reports
// each event, and tells which grant needs a person to authorize again.
// TOKEN_SERVER_URL is set by scripts/with-token-server.sh.
const { AccountTokens, Client, OAuthRefreshError } = require('oauth-refresh')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main() {
  const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/many-accounts-node/expires=2/token` })
  const tokens = new AccountTokens(client, {
    clientId: 'demo-app',
    clientSecret: 'secret-demo-app',
    refreshAhead: true,          // off by default
    maxConcurrentRefreshes: 2,
    minWindowMs: 500,            // tokens live 2 s here: refresh well before
    // Events carry the account, a code and a state: never a token.
    onEvent: (e) => console.log(`node: event ${e.kind} ${e.account}${e.code ? ` ${e.code} (${e.refreshTokenState})` : ''}`),
  })                             // store: in memory (a FileStore directory or a RedisStore without account to share)

  // Onboard accounts: each grant is stored first, refreshed when first needed.
  for (const company of ['company-1', 'company-2', 'company-3']) tokens.add(company, `seed-node-many-${company}`)
  tokens.add('company-4', 'a-revoked-grant') // the server refuses it: invalid_grant

  for (const company of tokens.accounts()) {
    try {
      await tokens.accessToken(company)
    } catch (err) {
      if (!(err instanceof OAuthRefreshError)) throw err
      console.log(`node: ${company}: ${err.code}, refresh token ${err.refreshTokenState}`)
    }
  }

  // Callers now get cached tokens while refresh-ahead renews them in the background.
  const served = new Set()
  for (let i = 0; i < 12; i++) {
    for (const company of ['company-1', 'company-2', 'company-3']) served.add(await tokens.accessToken(company))
    await sleep(250)
  }
  const stats = tokens.stats
  console.log(`node: ${served.size} access tokens served in 3 s; ${stats.refreshes} refreshes, ${stats.refreshedAhead} of them ahead; callers waited on ${stats.waits} (first uses)`)
  for (const [company, health] of tokens.unhealthy()) {
    console.log(`node: ${company} is ${health.status} (${health.code}) since ${new Date(health.since).toISOString()}`)
  }

  // A person authorized again: the new grant recovers the account.
  tokens.add('company-4', 'seed-node-many-company-4-again')
  await tokens.accessToken('company-4')
  console.log(`node: company-4 is ${tokens.health('company-4').status}`)
  tokens.close() // stops refresh-ahead
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
