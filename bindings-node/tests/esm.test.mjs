// The package works from ESM with named imports: every CommonJS export, the same objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as esm from 'oauth-refresh'
import { Client, ERROR_CODES, OAuthRefreshError, TokenManager } from 'oauth-refresh'
import cjs from 'oauth-refresh'

test('every CommonJS export is a named ESM export', () => {
  const exported = Object.keys(cjs).filter((name) => !name.startsWith('__'))
  assert.ok(exported.length >= 7, `too few exports: ${exported}`)
  for (const name of exported) {
    assert.ok(name in esm, `${name} is not exported to ESM`)
    assert.equal(esm[name], cjs[name], name)
  }
  assert.deepEqual(Object.keys(esm).filter((name) => name !== 'default').sort(), exported.sort())
})

test('named ESM imports work', () => {
  assert.equal(typeof TokenManager, 'function')
  assert.ok(OAuthRefreshError.prototype instanceof Error)
  assert.ok(ERROR_CODES.includes('INTERNAL'))
  assert.throws(() => new Client({ tokenUrl: 'http://auth.example.com/token' }), OAuthRefreshError)
})
