// Type-checked with `tsc --noEmit` against the generated index.d.ts; never run.
import { AccountEvent, AccountHealth, AccountStats, AccountTokens, Client, ERROR_CODES, FileStore, MemoryStore, OAuthRefreshError, OAuthRefreshErrorCode, PostgresStore, RedisStore, RefreshTokenRequest, Token, TokenManager } from 'oauth-refresh'

async function main(): Promise<string> {
  const client = new Client({ tokenUrl: 'https://auth.example.com/token', bodyEncoding: 'form', clientAuth: 'basic', timeoutMs: 30000, connectTimeoutMs: 10000, maxRetries: 2, headers: {}, allowInsecureHttp: false })
  const gusto = Client.gusto({ environment: 'demo', gustoApiVersion: '2025-06-15' })
  const request = { clientId: 'id', clientSecret: 'secret', grantType: 'refresh_token', refreshToken: 'rt' }
  const controller = new AbortController()
  try {
    const token: Token = await client.refresh(request, { signal: controller.signal })
    const same: Token = gusto.refreshSync({ ...request, redirectUri: 'https://app/cb', scope: 'read' })
    const sys: Token = await gusto.systemAccess({ clientId: 'id', clientSecret: 'secret' })
    const extra: Token = client.refreshSync({ ...request, audience: 'https://api.example', resource: undefined })
    const typed: RefreshTokenRequest = { clientId: 'id', clientSecret: 'secret', refreshToken: 'rt', audience: 'api' }
    await client.refresh(typed)
    void extra
    const expires: Date | null = token.expiresAt
    const rotated: boolean = same.refreshTokenRotated
    const next: string | null = sys.refreshToken
    return `${token.accessToken} ${token.tokenType} ${token.expiresIn} ${expires} ${rotated} ${next} ${token.scope} ${token.createdAt} ${JSON.stringify(token.extra)}`
  } catch (e) {
    if (e instanceof OAuthRefreshError) {
      const state: 'unused' | 'rejected' | 'unknown' = e.refreshTokenState
      const wait: number | null = e.retryAfterMs
      const kept: Token | null = e.token
      const code: OAuthRefreshErrorCode = e.code
      const internal: boolean = code === 'INTERNAL' && ERROR_CODES.includes(code)
      return `${code} ${internal} ${state} ${e.retryable} ${e.status} ${e.error} ${e.errorDescription} ${e.errorUri} ${wait} ${e.salvagedRefreshToken} ${kept?.tokenType}`
    }
    throw e
  }
}

function stores(client: Client): TokenManager[] {
  const key: string | Uint8Array = Math.random() < 0.5 ? '00'.repeat(32) : new Uint8Array(32)
  const redis = new RedisStore({ url: 'redis://127.0.0.1:6379', account: 'company-1', prefix: 'app', encryptionKey: key, timeoutMs: 2000 })
  const file = new FileStore('/var/lib/app/token.json', { encryptionKey: key })
  const options = { clientId: 'id', clientSecret: 'secret', refreshToken: 'rt', minWindowMs: 30000, refreshWithoutStore: false }
  const postgres = new PostgresStore({ url: 'postgres://app@db.internal/app', account: 'company-1', table: 'app.oauth_tokens',
    createTable: false, maxConnections: 8, timeoutMs: 5000, encryptionKey: key })
  const manager = new TokenManager(client, options, redis)
  manager.allowResend()
  return [manager, new TokenManager(client, options, file), new TokenManager(client, options, postgres)]
}

async function hooks(client: Client): Promise<string> {
  const kept: Token[] = []
  const manager = new TokenManager(client, { clientId: 'id', clientSecret: 'secret', onRefresh: (token: Token) => { kept.push(token) } }, new MemoryStore())
  const asyncHook = new TokenManager(client, { clientId: 'id', clientSecret: 'secret', onRefresh: async (token) => token.refreshToken })
  const token: Token = manager.tokenSync()
  const later: Token = await asyncHook.token()
  const access: string = manager.accessTokenSync()
  const access2: string = await manager.accessToken()
  return `${token.accessToken} ${later.accessToken} ${access} ${access2} ${kept.length}`
}

async function accounts(client: Client): Promise<string> {
  const seen: AccountEvent[] = []
  const tokens = new AccountTokens(client, {
    clientId: 'id', clientSecret: 'secret', refreshAhead: true, maxConcurrentRefreshes: 4, requestsPerMinute: 200,
    maxCachedAccounts: 10000, keepAliveMs: 86400000, minWindowMs: 60000,
    onEvent: (event) => { seen.push(event) },
  }, new RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'app' }))
  const onFile = new AccountTokens(client, { clientId: 'id', clientSecret: 'secret', onEvent: async (e: AccountEvent) => e.account }, new FileStore('/var/lib/app/tokens'))
  const onPostgres = new AccountTokens(client, { clientId: 'id', clientSecret: 'secret' }, new PostgresStore({ url: 'postgres://app@db.internal/app' }))
  onPostgres.close()
  tokens.add('company-1', 'rt')
  onFile.add('company-2', await client.refresh({ clientId: 'id', clientSecret: 'secret', refreshToken: 'rt' }))
  const access: string = await tokens.accessToken('company-1')
  const same: string = tokens.accessTokenSync('company-1')
  const token: Token = await tokens.token('company-1')
  const again: Token = tokens.tokenSync('company-1')
  tokens.invalidate('company-1')
  tokens.allowResend('company-1')
  const removed: boolean = tokens.remove('company-1')
  const all: string[] = tokens.accounts()
  const health: AccountHealth = tokens.health('company-1')
  const status: 'ok' | 'failing' | 'needs_reauthorization' = health.status
  const since: number | null = health.since
  const code: OAuthRefreshErrorCode | null = health.code
  const sick: Map<string, AccountHealth> = new Map(tokens.unhealthy())
  const stats: AccountStats = tokens.stats
  const kind: 'refreshed' | 'failed' | 'needs_reauthorization' | 'recovered' | undefined = seen[0]?.kind
  const state: 'unused' | 'rejected' | 'unknown' | null | undefined = seen[0]?.refreshTokenState
  tokens.close()
  onFile.close()
  // @ts-expect-error an account id is a string
  tokens.accessTokenSync(42)
  // @ts-expect-error Node's durations are milliseconds with an Ms suffix
  new AccountTokens(client, { clientId: 'id', clientSecret: 'secret', keepAlive: 5 })
  // @ts-expect-error stats is a property, as TokenManager's
  tokens.stats()
  return `${access} ${same} ${token.accessToken} ${again.tokenType} ${removed} ${all.length} ${status} ${since} ${code} ${sick.size} ${stats.waits} ${stats.refreshedAhead} ${kind} ${state}`
}

function options(): Client[] {
  const retrying = new Client({ tokenUrl: 'https://auth.example.com/token', retryUnknownOutcome: true, initialBackoffMs: 100, maxBackoffMs: 5000, proxyFromEnv: false, caFile: '/etc/ca.pem', userAgent: 'app' })
  const manager = new TokenManager(retrying, { clientId: 'id', clientSecret: 's', refreshFraction: 0.2, jitter: 0, defaultLifetimeMs: 60000, leaseWaitMs: 1000, leaseTtlMs: 5000 })
  void manager
  // Each of these must stay a type error: tsc fails on an unused @ts-expect-error.
  // @ts-expect-error Node's durations are milliseconds with an Ms suffix
  new Client({ tokenUrl: 'https://auth.example.com/token', timeout: 5 })
  // @ts-expect-error the Gusto preset fixes the body encoding
  Client.gusto({ bodyEncoding: 'json' })
  // @ts-expect-error only 'form' or 'json'
  new Client({ tokenUrl: 'https://auth.example.com/token', bodyEncoding: 'xml' })
  // @ts-expect-error the token URL is required
  new Client({ timeoutMs: 5 })
  return [retrying]
}

void main
void options
void stores
void hooks
void accounts
