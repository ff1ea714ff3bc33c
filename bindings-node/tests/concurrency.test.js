// The event loop stays free during refreshes; the workers run them side by side; aborts.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { startServer } = require('./server')

let server
before(async () => { server = await startServer() })
after(() => server.stop())

const request = (refreshToken) => ({ clientId: 'app', clientSecret: 'secret-app', refreshToken })

test('a timer keeps firing during a slow refresh', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-loop/delay=500/token` })
  let ticks = 0
  const timer = setInterval(() => { ticks += 1 }, 10)
  const token = await client.refresh(request('seed-node-loop'))
  clearInterval(timer)
  assert.ok(token.refreshTokenRotated)
  assert.ok(ticks >= 10, `the loop ran ${ticks} timer ticks while the refresh was in flight`)
})

// The core's worker threads (oauth_refresh::workers): up to this many refreshes at once.
const MAX_WORKERS = 64

test('50 concurrent refreshes all run at once', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-wide/delay=300/token` })
  const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => client.refresh(request(`seed-node-wide-${i}`))))
  assert.equal(new Set(tokens.map((t) => t.refreshToken)).size, 50)
  const stats = await server.stats('node-wide')
  assert.equal(stats.token_requests, 50)
  // A worker thread per refresh: the server had all of them in flight at once.
  assert.equal(stats.max_in_flight, 50)
})

test('aborting a queued refresh rejects with AbortError and sends nothing', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-busy/delay=800/token` })
  const busy = Array.from({ length: MAX_WORKERS }, (_, i) => client.refresh(request(`seed-node-busy-${i}`)))
  const controller = new AbortController()
  const aborted = new Client({ tokenUrl: `${server.url}/node-abort/ok/token` })
  const pending = aborted.refresh(request('seed-node-abort'), { signal: controller.signal })
  controller.abort()
  await assert.rejects(pending, (e) => e.name === 'AbortError')
  await Promise.all(busy)
  assert.equal(await server.tokenRequests('node-abort'), 0)
  // The token was never sent, so it still works.
  assert.ok((await aborted.refresh(request('seed-node-abort'))).refreshTokenRotated)
})

test('an already aborted signal stops the refresh before it starts', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-preabort/ok/token` })
  assert.throws(() => client.refresh(request('seed-node-preabort'), { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError')
  assert.equal(await server.tokenRequests('node-preabort'), 0)
})

test('worker threads: a refresh settles in each, and ending one mid-refresh harms nothing', async () => {
  const { Worker } = require('node:worker_threads')
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Client } = require(workerData.addon)
    new Client({ tokenUrl: workerData.url })
      .refresh({ clientId: 'app', clientSecret: 'secret-app', refreshToken: workerData.seed })
      .then((t) => parentPort.postMessage(t.refreshTokenRotated))`
  const run = (scope, seed) => new Worker(code, {
    eval: true, workerData: { addon: require.resolve('..'), url: `${server.url}/${scope}/token`, seed },
  })
  // Ended while its refresh waits at the server: its environment goes away first.
  const ended = run('node-worker-ended/delay=800', 'seed-node-worker-ended')
  await new Promise((resolve) => setTimeout(resolve, 200))
  await ended.terminate()
  // Others still work, in new workers and here.
  const answers = await Promise.all([1, 2].map((i) => new Promise((resolve, reject) => {
    const worker = run('node-worker-ok/ok', `seed-node-worker-${i}`)
    worker.once('message', (rotated) => { resolve(rotated); worker.terminate() })
    worker.once('error', reject)
  })))
  assert.deepEqual(answers, [true, true])
  await new Promise((resolve) => setTimeout(resolve, 800)) // the ended worker's exchange finishes
  const client = new Client({ tokenUrl: `${server.url}/node-worker-main/ok/token` })
  assert.ok((await client.refresh(request('seed-node-worker-main'))).refreshTokenRotated)
})
