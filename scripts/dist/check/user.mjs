// `make test-dist`: an ES module user of the installed npm packages: every CommonJS export is
// a named export, and a refresh, an error and a manager work. Usage: node user.mjs SEED
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from 'oauth-refresh'
import { Client, OAuthRefreshError, TokenManager } from 'oauth-refresh'

const cjs = createRequire(import.meta.url)('oauth-refresh')
const exported = Object.keys(cjs).filter((name) => !name.startsWith('__')).sort()
assert.ok(exported.length >= 8, `too few exports: ${exported}`)
assert.deepEqual(Object.keys(esm).filter((name) => name !== 'default').sort(), exported)
for (const name of exported) assert.equal(esm[name], cjs[name], name)

const seed = process.argv[2]
const app = 'dist-node-esm'
const request = { clientId: app, clientSecret: `secret-${app}`, refreshToken: seed }
const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/token` })
const token = await client.refresh(request)
assert.ok(token.accessToken && token.refreshTokenRotated)
assert.ok(!`${token}`.includes(token.accessToken), 'the token shows its secret')
await assert.rejects(client.refresh(request), (err) => err instanceof OAuthRefreshError && err.code === 'INVALID_GRANT')
const manager = new TokenManager(client, { ...request, refreshToken: `${seed}-manager` })
assert.equal(await manager.accessToken(), await manager.accessToken())
console.log(`dist: node ESM: ${exported.length} named exports, refreshed, reuse refused (INVALID_GRANT), manager refreshed ${manager.stats.refreshes} time`)
