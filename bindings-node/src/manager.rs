//! `TokenManager`: the core's manager for Node.

use std::cell::RefCell;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use oauth_refresh::{ManagerConfig, TokenStore};

use crate::background;
use crate::client::{settle, Client, Exchange, Outcome};
use crate::error::{guard, to_js_error, type_error, NOT_SENT};
use crate::options::{each, object, NODE};
use crate::store::{FileStore, MemoryStore, PostgresStore, RedisStore};
use crate::token::Token;

type Hook = FunctionRef<Token, Unknown<'static>>;
type Wrap = FunctionRef<FnArgs<(Unknown<'static>, &'static str)>, Unknown<'static>>;

thread_local! {
    // One per JavaScript environment: wraps a hook so that its failure cannot lose a token
    // nor stop a refresh.
    static WRAP: RefCell<Option<Wrap>> = const { RefCell::new(None) };
    // The tokens the core handed to a manager's hook during the call this thread is
    // running (see `collecting`); `None` outside one.
    static REFRESHED: RefCell<Option<Vec<oauth_refresh::Token>>> = const { RefCell::new(None) };
}

/// Keeps `hook.js` for the `TokenManager`s and `AccountTokens` built in this environment.
pub fn install(env: &Env) -> Result<()> {
    let wrap: Function<FnArgs<(Unknown, &str)>, Unknown> =
        env.run_script(include_str!("hook.js"))?;
    let wrap = wrap.create_ref()?;
    WRAP.with(|cell| cell.replace(Some(wrap)));
    Ok(())
}

/// The core calls its hook on the thread that refreshed: a worker thread for `accessToken()`
/// and `token()`, the JavaScript thread for the `*Sync` methods (where calling JavaScript
/// from inside the core would run it while the lease is held). So the core's hook only
/// records the token, and the binding calls the JavaScript hook itself once the core has
/// returned, on the JavaScript thread, before it hands the result back.
fn collecting<T>(job: impl FnOnce() -> T) -> (T, Vec<oauth_refresh::Token>) {
    struct Restore(Option<Vec<oauth_refresh::Token>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            REFRESHED.with(|cell| cell.replace(self.0.take()));
        }
    }
    let outer = Restore(REFRESHED.with(|cell| cell.replace(Some(Vec::new()))));
    let result = job();
    let refreshed = REFRESHED.with(|cell| cell.borrow_mut().take().unwrap_or_default());
    drop(outer);
    (result, refreshed)
}

/// The core's hook: records the token for `collecting` (on this thread, in this call).
fn record(token: &oauth_refresh::Token) {
    REFRESHED.with(|cell| {
        if let Some(tokens) = cell.borrow_mut().as_mut() {
            tokens.push(token.clone());
        }
    });
}

/// Calls the wrapped JavaScript hook with each token; it reports its own failures, and
/// nothing it does can lose the token, so any error left is dropped.
fn call_hook(env: &Env, hook: Option<&Hook>, refreshed: Vec<oauth_refresh::Token>) {
    let Some(hook) = hook else { return };
    for token in refreshed {
        if let Ok(hook) = hook.borrow_back(env) {
            drop(hook.call(Token(token)));
        }
    }
}

/// Serves a valid access token for one account, refreshing it once when needed (across
/// concurrent calls, processes sharing a `FileStore`, and hosts sharing a `RedisStore` or
/// a `PostgresStore`), storing each new token before returning it.
#[napi]
pub struct TokenManager {
    inner: Arc<oauth_refresh::TokenManager>,
    on_refresh: Option<Arc<Hook>>,
}

#[napi]
impl TokenManager {
    /// A manager; without a store the token lives in this process only.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        client: &Client,
        #[napi(ts_arg_type = "TokenManagerOptions")] options: Unknown<'_>,
        store: Option<Either4<&MemoryStore, &FileStore, &RedisStore, &PostgresStore>>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create(env, client, options, store))
    }

    fn create(
        env: Env,
        client: &Client,
        options: Unknown<'_>,
        store: Option<Either4<&MemoryStore, &FileStore, &RedisStore, &PostgresStore>>,
    ) -> Result<Self> {
        let what = "new TokenManager(client, options)";
        let options = object(&env, Some(options), what)?;
        // `onRefresh` is the binding's own (a JavaScript function); the rest is the core's.
        let Some(o) = &options else {
            return Err(type_error(
                &env,
                format!("{what}: options must be an object"),
            ));
        };
        // Only its own: an inherited hook (a polluted prototype) would receive the tokens.
        let on_refresh = match o.has_own_property("onRefresh")? {
            false => None,
            true => {
                let hook = o.get_named_property::<Unknown>("onRefresh")?;
                match hook.get_type()? {
                    ValueType::Undefined | ValueType::Null => None,
                    ValueType::Function => {
                        let wrapped = wrapped(&env, hook, "onRefresh")?;
                        // SAFETY: `hook.js` returns a function, a live handle of this environment.
                        Some(Arc::new(unsafe {
                            Hook::from_napi_value(env.raw(), wrapped.raw())
                        }?))
                    }
                    _ => {
                        let message = format!("{what}: onRefresh must be a function");
                        return Err(type_error(&env, message));
                    }
                }
            }
        };
        let store: Arc<dyn TokenStore> = match store {
            Some(Either4::A(memory)) => memory.0.clone(),
            Some(Either4::B(file)) => file.0.clone(),
            Some(Either4::C(redis)) => redis.0.clone(),
            Some(Either4::D(postgres)) => postgres.0.clone(),
            None => Arc::new(oauth_refresh::MemoryStore::new()),
        };
        let mut config = ManagerConfig::default();
        each(&env, options.as_ref(), &["onRefresh"], |name, v| {
            config.set(NODE, name, v)
        })?;
        let mut manager = config
            .build(client.0.clone(), store)
            .map_err(|e| to_js_error(&env, &e))?;
        if on_refresh.is_some() {
            manager = manager.on_refresh(record);
        }
        Ok(TokenManager {
            inner: Arc::new(manager),
            on_refresh,
        })
    }

    /// A valid access token; refreshes on a worker thread when needed.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn access_token(&self, env: Env) -> Result<PromiseRaw<'static, String>> {
        guard(&env, NOT_SENT, || {
            background::spawn(&env, self.task(|t| t.access_token().to_owned()), None)
        })
    }

    /// `accessToken`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn access_token_sync(&self, env: Env) -> Result<String> {
        // A cache hit: no refresh, so no hook to run and nothing to wait for.
        if let Some(access_token) = guard(&env, NOT_SENT, || Ok(self.inner.fresh_access_token()))? {
            return Ok(access_token);
        }
        self.blocking(&env, |t| t.access_token().to_owned())
    }

    /// The current token, refreshing first if needed (on a worker thread).
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn token(&self, env: Env) -> Result<PromiseRaw<'static, Token>> {
        guard(&env, NOT_SENT, || {
            background::spawn(&env, self.task(Token), None)
        })
    }

    /// `token`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn token_sync(&self, env: Env) -> Result<Token> {
        self.blocking(&env, Token)
    }

    /// Marks the token stale (say, after the API answered 401): the next call refreshes.
    #[napi(catch_unwind)]
    pub fn invalidate(&self, env: Env) -> Result<()> {
        guard(&env, NOT_SENT, || {
            self.inner.invalidate();
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
            self.inner.allow_resend();
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
            let s = self.inner.stats();
            Ok(serde_json::json!({
                "refreshes": s.refreshes,
                "adoptions": s.adoptions,
                "failures": s.failures,
            }))
        })
    }
}

impl TokenManager {
    /// `accessToken()` / `token()`: the core's `token()` on a worker thread, answered by
    /// `answer`.
    fn task<T: ToNapiValue + TypeName>(&self, answer: fn(oauth_refresh::Token) -> T) -> Managed<T> {
        let manager = self.inner.clone();
        Managed {
            job: Exchange::new(move || manager.token()),
            on_refresh: self.on_refresh.clone(),
            answer,
        }
    }

    /// The `*Sync` twin of `task`: the same call to the core, on this thread.
    fn blocking<T>(&self, env: &Env, answer: fn(oauth_refresh::Token) -> T) -> Result<T> {
        let mut job = Exchange::new({
            let manager = self.inner.clone();
            move || manager.token()
        });
        let (outcome, refreshed) = collecting(|| job.run());
        call_hook(env, self.on_refresh.as_deref(), refreshed);
        settle(env, outcome, answer)
    }
}

/// The user's hook `name` wrapped by `hook.js` in a function that never throws.
pub(crate) fn wrapped<'e>(
    env: &'e Env,
    hook: Unknown<'static>,
    name: &'static str,
) -> Result<Unknown<'e>> {
    WRAP.with(|cell| {
        let cell = cell.borrow();
        let wrap = cell
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        let wrapped = wrap.borrow_back(env)?.call(FnArgs::from((hook, name)))?;
        // SAFETY: a live handle of this environment, for as long as the caller's scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), wrapped.raw()) })
    })
}

/// A manager call on a worker thread: the core's answer, then the hook for each token the
/// call refreshed, on the JavaScript thread, before the promise settles.
pub struct Managed<T> {
    job: Exchange,
    on_refresh: Option<Arc<Hook>>,
    answer: fn(oauth_refresh::Token) -> T,
}

impl<T: ToNapiValue + TypeName> napi::Task for Managed<T> {
    type Output = (Outcome, Vec<oauth_refresh::Token>);
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(collecting(|| self.job.run()))
    }

    fn resolve(&mut self, env: Env, (outcome, refreshed): Self::Output) -> Result<T> {
        call_hook(&env, self.on_refresh.as_deref(), refreshed);
        settle(&env, outcome, self.answer)
    }
}
