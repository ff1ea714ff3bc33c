// `make demo`, many hosts: two managers (think: two hosts) share one account's rotating token
// through Redis, sealed under a key from the environment. One refreshes; the other adopts it.
const { Client, RedisStore, TokenManager } = require('..')

const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/token` })
const host = () => new TokenManager(client,
  { clientId: 'my-app', clientSecret: 'secret-my-app', refreshToken: 'seed-node-hosts' },
  new RedisStore({ url: process.env.REDIS_URL, account: 'company-42', prefix: 'my-app-node',
    encryptionKey: process.env.TOKEN_ENCRYPTION_KEY }))

async function main() {
  const [a, b] = [host(), host()]
  const same = (await a.accessToken()) === (await b.accessToken())
  console.log(`node: two hosts, one token: ${same}; a ${JSON.stringify(a.stats)}, b ${JSON.stringify(b.stats)}`)
}

main().catch((e) => { console.error(`node: ${e.code}: ${e.message}`); process.exit(1) })
