// Type-checked with `tsc --noEmit` against the generated index.d.ts; never run.
import { Client, OAuthRefreshError, Token } from 'oauth-refresh'

async function main(): Promise<string> {
  const client = new Client({ tokenUrl: 'https://auth.example.com/token', bodyEncoding: 'form', clientAuth: 'basic', timeoutMs: 30000, connectTimeoutMs: 10000, maxRetries: 2, headers: {}, allowInsecureHttp: false })
  const gusto = Client.gusto({ environment: 'demo', apiVersion: '2025-06-15' })
  const request = { clientId: 'id', clientSecret: 'secret', grantType: 'refresh_token', refreshToken: 'rt' }
  const controller = new AbortController()
  try {
    const token: Token = await client.refresh(request, { signal: controller.signal })
    const same: Token = gusto.refreshSync({ ...request, redirectUri: 'https://app/cb', scope: 'read' })
    const sys: Token = await gusto.systemAccess({ clientId: 'id', clientSecret: 'secret' })
    const expires: Date | null = token.expiresAt
    const rotated: boolean = same.refreshTokenRotated
    const next: string | null = sys.refreshToken
    return `${token.accessToken} ${token.tokenType} ${token.expiresIn} ${expires} ${rotated} ${next} ${token.scope} ${token.createdAt} ${JSON.stringify(token.extra)}`
  } catch (e) {
    if (e instanceof OAuthRefreshError) {
      const state: 'unused' | 'rejected' | 'unknown' = e.refreshTokenState
      const wait: number | null = e.retryAfterMs
      return `${e.code} ${state} ${e.retryable} ${e.status} ${e.error} ${e.errorDescription} ${e.errorUri} ${wait} ${e.refreshToken}`
    }
    throw e
  }
}

void main
