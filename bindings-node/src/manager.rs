//! `TokenManager`, `FileStore` and `RedisStore`: the core's manager for Node.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use oauth_refresh::limits::duration_from_millis;
use oauth_refresh::{Credentials, EncryptionKey, ManagerOptions, Secret, TokenStore};

use crate::client::{settle, Client, Exchange, Outcome};
use crate::error::{convert, guard, to_js_error, NOT_SENT, SENT};

/// An encryption key: 32 bytes, or 64 hex digits / base64 text.
fn parse_key(env: &Env, key: Either<String, Uint8Array>) -> Result<EncryptionKey> {
    match key {
        Either::A(text) => EncryptionKey::parse(&text),
        Either::B(bytes) => EncryptionKey::from_bytes(&bytes),
    }
    .map_err(|e| to_js_error(env, &e))
}

/// Options for `new FileStore(path, options?)`.
#[napi(object)]
pub struct FileStoreOptions {
    /// Seal the token with XChaCha20-Poly1305 under this key: 32 bytes, or 64 hex digits /
    /// base64 text.
    pub encryption_key: Option<Either<String, Uint8Array>>,
}

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host.
#[napi]
pub struct FileStore(Arc<oauth_refresh::FileStore>);

#[napi]
impl FileStore {
    /// A store at `path`; nothing is created until the first write.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        path: String,
        #[napi(ts_arg_type = "FileStoreOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || {
            let mut store = oauth_refresh::FileStore::new(path);
            if let Some(options) = options {
                let o: FileStoreOptions = convert(&env, options, "new FileStore(path, options)")?;
                if let Some(key) = o.encryption_key {
                    store = store.with_encryption(parse_key(&env, key)?);
                }
            }
            Ok(FileStore(Arc::new(store)))
        })
    }
}

/// Options for `new RedisStore(options)`.
#[napi(object)]
pub struct RedisStoreOptions {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// The account whose token this is. Keys are `<prefix>:{<account>}:token` and
    /// `...:lease`: the braces are literal (the account is the keys' Redis Cluster hash tag)
    /// and the account is percent-encoded for `%`, `{`, `}`, space and bytes outside
    /// printable ASCII.
    pub account: String,
    /// Key prefix (default "oauth-refresh"); may not contain `{` or `}`.
    pub prefix: Option<String>,
    /// Seal the token with XChaCha20-Poly1305 under this key: 32 bytes, or 64 hex digits /
    /// base64 text.
    pub encryption_key: Option<Either<String, Uint8Array>>,
    /// How long to wait to connect, and for each answer (default 2000; at most a year, else
    /// `INVALID_INPUT`).
    pub timeout_ms: Option<f64>,
}

/// Keeps the token in Redis, shared by the processes of many hosts.
#[napi]
pub struct RedisStore(Arc<oauth_refresh::RedisStore>);

#[napi]
impl RedisStore {
    /// A store; nothing connects until first use.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "RedisStoreOptions")] options: Unknown<'_>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create(env, options))
    }

    fn create(env: Env, options: Unknown<'_>) -> Result<Self> {
        let o: RedisStoreOptions = convert(&env, options, "new RedisStore(options)")?;
        let prefix = o.prefix.as_deref().unwrap_or("oauth-refresh");
        let mut store = duration_from_millis("timeoutMs", o.timeout_ms.unwrap_or(2000.0))
            .and_then(|timeout| {
                oauth_refresh::RedisStore::new(&o.url, prefix, &o.account)?.with_timeout(timeout)
            })
            .map_err(|e| to_js_error(&env, &e))?;
        if let Some(key) = o.encryption_key {
            store = store.with_encryption(parse_key(&env, key)?);
        }
        Ok(RedisStore(Arc::new(store)))
    }
}

/// Options for `new TokenManager(client, options, store?)`.
#[napi(object)]
pub struct TokenManagerOptions {
    /// Your client ID.
    pub client_id: String,
    /// Your client secret.
    pub client_secret: String,
    /// The refresh token to start from when the store is empty.
    pub refresh_token: Option<String>,
    /// Sent with every refresh, if set.
    pub scope: Option<String>,
    /// Sent with every refresh, if set (Gusto's `redirect_uri`).
    pub redirect_uri: Option<String>,
    /// Refresh at least this long before expiry (default 30000; at most a year, else
    /// `INVALID_INPUT`).
    pub min_window_ms: Option<f64>,
    /// When the store cannot be reached and the token has expired, refresh anyway without
    /// coordination (default false: another host could then reuse the same refresh token).
    pub refresh_without_store: Option<bool>,
}

/// Serves a valid access token for one account, refreshing it once when needed (across
/// concurrent calls, processes sharing a `FileStore`, and hosts sharing a `RedisStore`),
/// storing each new token before returning it.
#[napi]
pub struct TokenManager(Arc<oauth_refresh::TokenManager>);

#[napi]
impl TokenManager {
    /// A manager; without a store the token lives in this process only.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        client: &Client,
        #[napi(ts_arg_type = "TokenManagerOptions")] options: Unknown<'_>,
        store: Option<Either<&FileStore, &RedisStore>>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create(env, client, options, store))
    }

    fn create(
        env: Env,
        client: &Client,
        options: Unknown<'_>,
        store: Option<Either<&FileStore, &RedisStore>>,
    ) -> Result<Self> {
        let o: TokenManagerOptions = convert(&env, options, "new TokenManager(client, options)")?;
        let min_window = duration_from_millis("minWindowMs", o.min_window_ms.unwrap_or(30_000.0))
            .map_err(|e| to_js_error(&env, &e))?;
        let store: Arc<dyn TokenStore> = match store {
            Some(Either::A(file)) => file.0.clone(),
            Some(Either::B(redis)) => redis.0.clone(),
            None => Arc::new(oauth_refresh::MemoryStore::new()),
        };
        let credentials = Credentials {
            client_id: o.client_id,
            client_secret: Secret::new(o.client_secret),
            refresh_token: o.refresh_token.map(Secret::new),
            scope: o.scope,
            redirect_uri: o.redirect_uri,
        };
        let options = ManagerOptions {
            min_window,
            refresh_without_store: o.refresh_without_store.unwrap_or(false),
            ..ManagerOptions::default()
        };
        let manager = oauth_refresh::TokenManager::new(client.0.clone(), credentials, store)
            .with_options(options)
            .map_err(|e| to_js_error(&env, &e))?;
        Ok(TokenManager(Arc::new(manager)))
    }

    /// A valid access token; refreshes on the libuv pool when needed.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn access_token(&self) -> AsyncTask<AccessToken> {
        let manager = self.0.clone();
        AsyncTask::new(AccessToken(Exchange::new(move || manager.token())))
    }

    /// `accessToken`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn access_token_sync(&self, env: Env) -> Result<String> {
        guard(&env, SENT, || {
            self.0.access_token().map_err(|e| to_js_error(&env, &e))
        })
    }

    /// The current token, refreshing first if needed (on the libuv pool).
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn token(&self) -> AsyncTask<Exchange> {
        let manager = self.0.clone();
        AsyncTask::new(Exchange::new(move || manager.token()))
    }

    /// Marks the token stale (say, after the API answered 401): the next call refreshes.
    #[napi(catch_unwind)]
    pub fn invalidate(&self, env: Env) -> Result<()> {
        guard(&env, NOT_SENT, || {
            self.0.invalidate();
            Ok(())
        })
    }

    /// After a refresh whose outcome was unknown (`refreshTokenState` `'unknown'`: a
    /// timeout after sending, a 5xx, a broken answer) the manager does not send that
    /// refresh token again on its own, unless the client's policy forgives it (the Gusto
    /// preset): a server that rotates tokens may revoke the whole grant on reuse. Every
    /// call then fails at once with that same error (its message starts "not resent").
    /// Call this, once you have decided the token may be sent again, to let the next call
    /// send it once more.
    #[napi(catch_unwind)]
    pub fn allow_resend(&self, env: Env) -> Result<()> {
        guard(&env, NOT_SENT, || {
            self.0.allow_resend();
            Ok(())
        })
    }

    /// Counters: refreshes, adoptions, failures.
    #[napi(
        getter,
        ts_return_type = "{ refreshes: number, adoptions: number, failures: number }",
        catch_unwind
    )]
    pub fn stats(&self, env: Env) -> Result<serde_json::Value> {
        guard(&env, NOT_SENT, || {
            let s = self.0.stats();
            Ok(serde_json::json!({
                "refreshes": s.refreshes,
                "adoptions": s.adoptions,
                "failures": s.failures,
            }))
        })
    }
}

/// `accessToken()`: the manager's token, resolved as its access-token string.
pub struct AccessToken(Exchange);

impl napi::Task for AccessToken {
    type Output = Outcome;
    type JsValue = String;

    fn compute(&mut self) -> Result<Outcome> {
        Ok(self.0.run())
    }

    fn resolve(&mut self, env: Env, output: Outcome) -> Result<String> {
        settle(&env, output, |t| t.access_token().to_owned())
    }
}
