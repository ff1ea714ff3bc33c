// ESM entry: the generated CommonJS loader, re-exported by name. tests/esm.test.mjs fails
// when the loader gains an export that is missing here.
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./index.js')

export const {
  AccountTokens,
  Client,
  ERROR_CODES,
  FileStore,
  MemoryStore,
  OAuthRefreshError,
  PostgresStore,
  RedisStore,
  Token,
  TokenManager,
} = native
export default native
