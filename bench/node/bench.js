// `node bench.js CLIENT URL N WARMUP`: N refreshes after WARMUP, one JSON line of figures.
// Every client reuses its connection, as a careful user would.
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')

const ID = 'bench-app'
const SECRET = 'secret-bench-app'
const RT = 'rt-bench'
const FORM = `grant_type=refresh_token&refresh_token=${RT}`
const BASIC = 'Basic ' + Buffer.from(`${ID}:${SECRET}`).toString('base64')

async function make(client, url) {
  switch (client) {
    case 'oauth-refresh refresh (await)':
    case 'oauth-refresh refreshSync': {
      const { Client } = require(path.join(__dirname, '..', '..', 'bindings-node'))
      const c = new Client({ tokenUrl: url })
      const request = { clientId: ID, clientSecret: SECRET, refreshToken: RT }
      if (client.endsWith('refreshSync')) return () => c.refreshSync(request).accessToken
      return async () => (await c.refresh(request)).accessToken
    }
    case 'undici.request': {
      const { request, Agent } = require('undici')
      const dispatcher = new Agent({ keepAliveTimeout: 60_000 })
      const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: BASIC }
      return async () => {
        const { body } = await request(url, { method: 'POST', headers, body: FORM, dispatcher })
        return (await body.json()).access_token
      }
    }
    case 'fetch': {
      const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: BASIC }
      return async () => (await (await fetch(url, { method: 'POST', headers, body: FORM })).json()).access_token
    }
    case 'simple-oauth2 token.refresh()': {
      const { AuthorizationCode } = require('simple-oauth2')
      const u = new URL(url)
      const agent = new http.Agent({ keepAlive: true })
      const oauth = new AuthorizationCode({
        client: { id: ID, secret: SECRET },
        auth: { tokenHost: u.origin, tokenPath: u.pathname },
        http: { agent },
      })
      const token = oauth.createToken({ access_token: 'x', refresh_token: RT, expires_in: 1 })
      return async () => (await token.refresh()).token.access_token
    }
    case 'openid-client refreshTokenGrant': {
      const oc = await import('openid-client')
      const u = new URL(url)
      const config = new oc.Configuration({ issuer: u.origin, token_endpoint: url }, ID, SECRET)
      oc.allowInsecureRequests(config)
      return async () => (await oc.refreshTokenGrant(config, RT)).access_token
    }
    default:
      throw new Error(`unknown client ${client}`)
  }
}

/** TokenManager.accessTokenSync() served from the cache, timed in batches of 1,000 calls. */
function cached(url, n, warmup) {
  const { Client, TokenManager } = require(path.join(__dirname, '..', '..', 'bindings-node'))
  const manager = new TokenManager(new Client({ tokenUrl: url }), { clientId: ID, clientSecret: SECRET, refreshToken: RT })
  for (let i = 0; i < warmup; i++) manager.accessTokenSync()
  const latencies = []
  for (let b = 0; b < Math.max(1, Math.floor(n / 1000)); b++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < 1000; i++) manager.accessTokenSync()
    latencies.push(Number(process.hrtime.bigint() - t) / 1000 / 1000)
  }
  return latencies
}

async function main() {
  const [client, url, n, warmup] = process.argv.slice(2)
  if (client === 'manager-cached') return report(cached(url, Number(n), Number(warmup)), Number(n))
  const one = await make(client, url)
  for (let i = 0; i < Number(warmup); i++) {
    if (!(await one())) throw new Error('no access token')
  }
  const sync = client.endsWith('Sync') // not awaited, as its users would not
  const latencies = []
  for (let i = 0; i < Number(n); i++) {
    const t = process.hrtime.bigint()
    const answer = one()
    if (!sync) await answer
    latencies.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  report(latencies, Number(n))
}

/** Prints the figures; `latencies` in µs per call (per batch for cache hits). */
function report(latencies, n) {
  const seconds = latencies.reduce((a, b) => a + b, 0) / 1e6 * (n / latencies.length)
  latencies.sort((a, b) => a - b)
  const hwm = fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)
  console.log(JSON.stringify({
    n, seconds, median_us: latencies[latencies.length >> 1],
    p99_us: latencies[Math.floor(latencies.length * 0.99)], rss_kb: hwm ? Number(hwm[1]) : 0,
  }))
  process.exit(0) // keep-alive agents would otherwise hold the process open
}

main().catch((e) => { console.error(e); process.exit(1) })
