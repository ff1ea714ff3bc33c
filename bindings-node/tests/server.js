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
      if (lines.length === 3) resolve()
    })
    child.on('exit', () => reject(new Error('token-server exited')))
  })
  const url = lines[0]
  const get = async (p) => (await fetch(url + p)).json()
  return {
    url,
    blackhole: lines[1].replace('blackhole=', ''),
    refused: lines[2].replace('refused=', ''),
    stats: (scope) => get(`/${scope}/stats`),
    tokenRequests: async (scope) => (await get(`/${scope}/stats`)).token_requests,
    currentRefreshToken: async (sent) => (await get('/current/' + encodeURIComponent(sent))).refresh_token,
    stop: () => child.kill(),
  }
}

module.exports = { startServer, ROOT }
