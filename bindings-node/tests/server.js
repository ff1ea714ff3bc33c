// A real token server for a test file, started from the binary the Makefile built.
const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

const ROOT = path.resolve(__dirname, '..', '..')

async function startServer() {
  const binary = process.env.TOKEN_SERVER_BIN || path.join(ROOT, 'target', 'debug', 'token-server')
  const child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = []
  const reader = readline.createInterface({ input: child.stdout })
  await new Promise((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line)
      // The URL, then `name=value` lines ending with `authenticated_proxy=` (see its main.rs).
      if (line.startsWith('authenticated_proxy=')) resolve()
    })
    child.on('exit', () => reject(new Error('token-server exited')))
  })
  const url = lines[0]
  const field = Object.fromEntries(lines.slice(1).map((line) => line.split(/=(.*)/s).slice(0, 2)))
  const get = async (p) => (await fetch(url + p)).json()
  return {
    url,
    blackhole: field.blackhole,
    refused: field.refused,
    https: field.https,
    httpsWrongHost: field.https_wrong_host,
    httpsExpired: field.https_expired,
    httpsPort: Number(field.https_port),
    caFile: field.ca_file,
    otherCaFile: field.other_ca_file,
    proxy: field.proxy,
    authProxy: field.authenticated_proxy,
    /** CONNECT plus plain requests that reached the proxies so far. */
    proxyRequests: async () => {
      const stats = await get('/proxy/stats')
      return stats.connects + stats.plain
    },
    stats: (scope) => get(`/${scope}/stats`),
    tokenRequests: async (scope) => (await get(`/${scope}/stats`)).token_requests,
    currentRefreshToken: async (sent) => (await get('/current/' + encodeURIComponent(sent))).refresh_token,
    stop: () => child.kill(),
  }
}

module.exports = { startServer, ROOT }
