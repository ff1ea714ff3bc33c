// `make test-dist`: a TypeScript user of the installed npm packages, checked by `tsc --strict`
// against the package's index.d.ts, then run. Usage: node out/user.js SEED
import { Client, OAuthRefreshError, Token, TokenManager } from 'oauth-refresh'

async function main(seed: string): Promise<void> {
  const app = 'dist-node-ts'
  const client = new Client({ tokenUrl: `${process.env.TOKEN_SERVER_URL}/token`, timeoutMs: 5000, maxRetries: 1 })
  const token: Token = await client.refresh({ clientId: app, clientSecret: `secret-${app}`, refreshToken: seed })
  const expires: Date | null = token.expiresAt
  if (!token.accessToken || expires === null) throw new Error('no access token or expiry')
  try {
    client.refreshSync({ clientId: app, clientSecret: `secret-${app}`, refreshToken: seed })
    throw new Error('reusing a rotated refresh token succeeded')
  } catch (err) {
    if (!(err instanceof OAuthRefreshError)) throw err
    const state: 'unused' | 'rejected' | 'unknown' = err.refreshTokenState
    if (err.code !== 'INVALID_GRANT' || state !== 'rejected') throw new Error(`unexpected ${err.code} ${state}`)
  }
  const manager = new TokenManager(client, { clientId: app, clientSecret: `secret-${app}`, refreshToken: `${seed}-manager` })
  const access: string = await manager.accessToken()
  if (access !== (await manager.accessToken())) throw new Error('the manager did not serve its cached token')
  console.log('dist: node TypeScript (tsc --strict): refreshed, reuse refused (INVALID_GRANT), manager served its token')
}

// Never called: wrong options must stay type errors, or the types are not being checked.
export function wrongOptions(): void {
  // @ts-expect-error timeoutMs is a number
  new Client({ tokenUrl: 'https://auth.example.com/token', timeoutMs: 'soon' })
  // @ts-expect-error no such option
  new Client({ tokenUrl: 'https://auth.example.com/token', timeout: 5 })
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
