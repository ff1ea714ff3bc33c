// A Node process sharing one account through PostgreSQL, for tests/mixed/run.py.
//
// `node worker.js TOKEN_URL POSTGRES_URL SECONDS`: calls accessTokenSync() every few ms for
// SECONDS and prints `lang=node ok=N failed=N invalid_grant=N refreshes=N adoptions=N`.
'use strict'
const path = require('node:path')
const { Client, PostgresStore, TokenManager } = require(path.join(__dirname, '../../bindings-node'))

const [tokenUrl, database, seconds] = process.argv.slice(2)
const store = new PostgresStore({ url: database, account: 'mixed', table: 'mixed_tokens' })
const manager = new TokenManager(new Client({ tokenUrl }), {
  clientId: 'app', clientSecret: 'secret-app', refreshToken: 'seed-mixed',
  minWindowMs: 1000, jitter: 0, leaseTtlMs: 2000
}, store)
const pause = new Int32Array(new SharedArrayBuffer(4))
let ok = 0; let failed = 0; let invalidGrant = 0
const until = Date.now() + Number(seconds) * 1000
while (Date.now() < until) {
  try {
    manager.accessTokenSync()
    ok++
  } catch (err) {
    failed++
    if (err.code === 'INVALID_GRANT') invalidGrant++
    console.error(`node worker: ${err.code}`)
  }
  Atomics.wait(pause, 0, 0, 5)
}
const { refreshes, adoptions } = manager.stats
console.log(`lang=node ok=${ok} failed=${failed} invalid_grant=${invalidGrant} refreshes=${refreshes} adoptions=${adoptions}`)
