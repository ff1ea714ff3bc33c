// ESM entry: the generated CommonJS loader, re-exported by name.
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('./index.js')

export const { Client, Token, OAuthRefreshError, ERROR_CODES } = native
export default native
