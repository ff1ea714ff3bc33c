// `make demo`, PostgreSQL: two AccountTokens (think: two hosts) keep several companies' rotating
// tokens in one PostgreSQL table, sealed under a key from the environment. The first refreshes
// each company once; the second serves them from the table without a request.
//
// Needs TOKEN_SERVER_URL, POSTGRES_URL and TOKEN_ENCRYPTION_KEY (64 hex digits).
'use strict'
const { AccountTokens, Client, PostgresStore } = require('..')

const COMPANIES = ['company-1', 'company-2', 'company-3']
const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/pg-node/ok/token` })

function host () {
  // One pool for every account; the table is created on first use.
  const store = new PostgresStore({ url: process.env.POSTGRES_URL, table: 'demo_node_tokens',
    encryptionKey: process.env.TOKEN_ENCRYPTION_KEY })
  return new AccountTokens(client, { clientId: 'my-app', clientSecret: 'secret-my-app' }, store)
}

async function main () {
  const a = host()
  const b = host()
  for (const company of COMPANIES) {
    a.add(company, `seed-node-pg-${company}`)
    await a.accessToken(company)
  }
  let same = true
  for (const company of COMPANIES) {
    same = same && (await a.accessToken(company)) === (await b.accessToken(company))
  }
  console.log(`node: postgres: ${b.accounts().length} companies, the second host served the same ` +
    `tokens: ${same}; refreshes a ${a.stats.refreshes} b ${b.stats.refreshes}`)
  a.close()
  b.close()
}

main().catch((e) => { console.error(`node: ${e.code}: ${e.message}`); process.exit(1) })
