// The event loop stays free during refreshes; the pool runs them side by side; aborts.
process.env.UV_THREADPOOL_SIZE = '16' // read by libuv when the pool first starts

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

test('50 concurrent refreshes run as wide as the thread pool', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-wide/delay=300/token` })
  const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => client.refresh(request(`seed-node-wide-${i}`))))
  assert.equal(new Set(tokens.map((t) => t.refreshToken)).size, 50)
  const stats = await server.stats('node-wide')
  assert.equal(stats.token_requests, 50)
  // One pool thread per refresh in flight: the server saw the whole pool at once.
  assert.equal(stats.max_in_flight, 16)
})

test('aborting a queued refresh rejects with AbortError and sends nothing', async () => {
  const client = new Client({ tokenUrl: `${server.url}/node-busy/delay=800/token` })
  const busy = Array.from({ length: 16 }, (_, i) => client.refresh(request(`seed-node-busy-${i}`)))
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
