// The package works from ESM with named imports.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client, ERROR_CODES, OAuthRefreshError, Token } from 'oauth-refresh'
import cjs from 'oauth-refresh'

test('named ESM imports are the CommonJS exports', () => {
  assert.equal(typeof Client, 'function')
  assert.equal(typeof Token, 'function')
  assert.ok(OAuthRefreshError.prototype instanceof Error)
  assert.equal(cjs.Client, Client)
  assert.equal(cjs.ERROR_CODES, ERROR_CODES)
  assert.ok(ERROR_CODES.includes('INTERNAL'))
  assert.throws(() => new Client({ tokenUrl: 'http://auth.example.com/token' }), OAuthRefreshError)
})
