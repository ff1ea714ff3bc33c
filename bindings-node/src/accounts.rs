//! `AccountTokens`: the core's many-accounts manager for Node.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use oauth_refresh::{AccountEvent, AccountStore, AccountsConfig, Health};
use serde_json::{json, Value};

use crate::background;
use crate::client::{settle, Client, Exchange, Outcome};
use crate::error::{code, guard, to_js_error, type_error, NOT_SENT};
use crate::manager::wrapped;
use crate::options::{each, object, NODE};
use crate::store::{FileStore, MemoryStore, PostgresStore, RedisStore};
use crate::token::{self, Token};

/// The wrapped `onEvent` hook, called on the JavaScript thread with a plain event object.
type Hook = FunctionRef<Value, Unknown<'static>>;
/// The same hook, for the events refresh-ahead's threads see: queued for the JavaScript
/// thread without waiting (no bound on the queue), and weak: it never keeps the process
/// alive.
type Queue = ThreadsafeFunction<Value, Unknown<'static>, Value, Status, false, true>;

thread_local! {
    // The events the core reported on this thread during the call it is running (see
    // `collecting`); `None` outside one.
    static EVENTS: RefCell<Option<Vec<Value>>> = const { RefCell::new(None) };
}

/// The core reports an event on the thread that saw it: a worker thread running a Promise
/// call, the JavaScript thread running a `*Sync` call, or a refresh-ahead thread. The first
/// two are collected here and handed to the hook on the JavaScript thread once the core has
/// returned, before the call settles (as `TokenManager` does with `onRefresh`); the
/// refresh-ahead ones go through the queue.
fn collecting<T>(job: impl FnOnce() -> T) -> (T, Vec<Value>) {
    struct Restore(Option<Vec<Value>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            EVENTS.with(|cell| cell.replace(self.0.take()));
        }
    }
    let outer = Restore(EVENTS.with(|cell| cell.replace(Some(Vec::new()))));
    let result = job();
    let events = EVENTS.with(|cell| cell.borrow_mut().take().unwrap_or_default());
    drop(outer);
    (result, events)
}

/// An event as Node shows it: codes upper-cased as `err.code` is; never a token.
fn event(e: &AccountEvent) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "account": e.account,
        "code": e.code.map(code),
        "refreshTokenState": e.refresh_token_state.map(|s| s.as_str()),
        "attempts": e.attempts,
    })
}

/// A health as Node shows it; `since` in milliseconds since the epoch, as `Date.now()`.
fn health(h: &Health) -> Value {
    let since = h
        .since
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64);
    json!({
        "status": h.status.as_str(),
        "code": h.code.map(code),
        "refreshTokenState": h.refresh_token_state.map(|s| s.as_str()),
        "since": since,
        "attempts": h.attempts,
    })
}

/// The core's hook: collects the event for the call this thread is running, or queues it.
fn report(queue: &Queue, e: &AccountEvent) {
    let mut plain = Some(event(e));
    let _ = EVENTS.try_with(|cell| {
        if let Some(events) = cell.borrow_mut().as_mut() {
            events.extend(plain.take());
        }
    });
    if let Some(plain) = plain {
        // Never blocks; after `close()` or at exit the queue refuses, and the event is dropped.
        queue.call(plain, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Calls the wrapped hook with each event; it reports its own failures.
fn call_hook(env: &Env, hook: Option<&Hook>, events: Vec<Value>) {
    let Some(hook) = hook else { return };
    for event in events {
        if let Ok(hook) = hook.borrow_back(env) {
            drop(hook.call(event));
        }
    }
}

/// What `close()` lets go of.
#[derive(Clone)]
struct Live {
    tokens: Arc<oauth_refresh::AccountTokens>,
    on_event: Option<Arc<Hook>>,
}

/// The answer after `close()`.
fn closed() -> oauth_refresh::Error {
    oauth_refresh::Error::closed("AccountTokens")
}

/// Valid access tokens for many accounts of one token endpoint and one client (a Gusto
/// partner's companies, a SaaS's tenants), through one store and one set of connections.
/// Each account has a `TokenManager`'s guarantees (stored before use, one refresh at a time
/// across processes and hosts, adoption); a cached token is served without a lock.
/// `close()` stops refresh-ahead.
#[napi]
pub struct AccountTokens {
    live: RefCell<Option<Live>>,
}

#[napi]
impl AccountTokens {
    /// Accounts refreshed by `client`, kept in `store` (default: a new `MemoryStore`; a
    /// `FileStore` over a directory for one host; a `RedisStore` or `PostgresStore` without
    /// `account` for many).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        client: &Client,
        #[napi(ts_arg_type = "AccountTokensOptions")] options: Unknown<'_>,
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
        let what = "new AccountTokens(client, options)";
        let options = object(&env, Some(options), what)?;
        // `onEvent` is the binding's own (a JavaScript function); the rest is the core's.
        let Some(o) = &options else {
            return Err(type_error(
                &env,
                format!("{what}: options must be an object"),
            ));
        };
        // Only its own: an inherited hook (a polluted prototype) is never called.
        let hook = match o.has_own_property("onEvent")? {
            false => None,
            true => {
                let hook = o.get_named_property::<Unknown>("onEvent")?;
                match hook.get_type()? {
                    ValueType::Undefined | ValueType::Null => None,
                    ValueType::Function => Some(wrapped(&env, hook, "onEvent")?),
                    _ => {
                        let message = format!("{what}: onEvent must be a function");
                        return Err(type_error(&env, message));
                    }
                }
            }
        };
        let store: Arc<dyn AccountStore> = match store {
            Some(Either4::A(memory)) => memory.0.clone(),
            Some(Either4::B(file)) => file.0.clone(),
            Some(Either4::C(redis)) => redis.0.clone(),
            Some(Either4::D(postgres)) => postgres.0.clone(),
            None => Arc::new(oauth_refresh::MemoryStore::new()),
        };
        let mut config = AccountsConfig::default();
        each(&env, options.as_ref(), &["onEvent"], |name, v| {
            config.set(NODE, name, v)
        })?;
        let tokens = config
            .build(client.0.clone(), store)
            .map_err(|e| to_js_error(&env, &e))?;
        let mut on_event = None;
        if let Some(hook) = hook {
            // SAFETY: `hook.js` returns a function, a live handle of this environment.
            let hook =
                unsafe { Function::<Value, Unknown>::from_napi_value(env.raw(), hook.raw()) }?;
            let queue: Queue = hook
                .build_threadsafe_function()
                .callee_handled::<false>()
                .weak::<true>()
                .build()?;
            tokens.on_event(move |e| report(&queue, e));
            on_event = Some(Arc::new(hook.create_ref()?));
        }
        Ok(AccountTokens {
            live: RefCell::new(Some(Live {
                tokens: Arc::new(tokens),
                on_event,
            })),
        })
    }

    /// A valid access token for `account`; a cached one at once, otherwise refreshed on a
    /// worker thread.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn access_token(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<PromiseRaw<'static, String>> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "accessToken(account)")?;
            // A cache hit: nothing to wait for, so no thread.
            if let Some(hit) = self.hit(&account) {
                return PromiseRaw::resolve(&env, hit);
            }
            let task = self.task(account, |t| t.access_token().to_owned());
            background::spawn(&env, task, None)
        })
    }

    /// `accessToken`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn access_token_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<String> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "accessTokenSync(account)")?;
            match self.hit(&account) {
                Some(hit) => Ok(hit),
                None => self.blocking(&env, account, |t| t.access_token().to_owned()),
            }
        })
    }

    /// `account`'s current token, refreshing first if needed (on a worker thread).
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn token(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<PromiseRaw<'static, Token>> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "token(account)")?;
            // A cache hit: nothing to wait for, so no thread.
            if let Some(hit) = self.hit_token(&account) {
                return PromiseRaw::resolve(&env, Token(hit));
            }
            background::spawn(&env, self.task(account, Token), None)
        })
    }

    /// `token`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn token_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<Token> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "tokenSync(account)")?;
            self.blocking(&env, account, Token)
        })
    }

    /// Marks `account`'s token stale (say, after the API answered 401): its next call
    /// refreshes.
    #[napi(catch_unwind)]
    pub fn invalidate(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<()> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "invalidate(account)")?;
            self.live(&env)?.tokens.invalidate(&account);
            Ok(())
        })
    }

    /// After a refresh of `account` whose outcome was unknown, lets its refresh token be sent
    /// once more (see `TokenManager.allowResend`).
    #[napi(catch_unwind)]
    pub fn allow_resend(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<()> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "allowResend(account)")?;
            self.live(&env)?.tokens.allow_resend(&account);
            Ok(())
        })
    }

    /// Stores a new grant for `account` (a refresh token, or a whole `Token` whose access
    /// token is used until due), replacing what the store held, under the account's lease;
    /// it is refreshed when first needed. A grant that needed reauthorization works again.
    /// Blocks while the store is written.
    #[napi(catch_unwind)]
    pub fn add(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
        #[napi(ts_arg_type = "string | Token")] refresh_token: Unknown<'_>,
    ) -> Result<()> {
        guard(&env, NOT_SENT, || {
            let what = "add(account, refreshToken)";
            let account = account_id(&env, account, what)?;
            let tokens = self.live(&env)?.tokens;
            let added = match refresh_token.get_type()? {
                // SAFETY: checked to be a string just before.
                ValueType::String => {
                    tokens.add(&account, unsafe { refresh_token.cast::<String>() }?)
                }
                _ => match token::from_js(&env, refresh_token)? {
                    Some(token) => tokens.add_token(&account, token),
                    // Never shown: it may be a secret of the wrong type.
                    None => {
                        let message = format!("{what}: refreshToken must be a string or a Token");
                        return Err(type_error(&env, message));
                    }
                },
            };
            added.map_err(|e| to_js_error(&env, &e))
        })
    }

    /// Deletes `account`'s grant from the store and from memory; whether there was one.
    #[napi(catch_unwind)]
    pub fn remove(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<bool> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "remove(account)")?;
            let tokens = self.live(&env)?.tokens;
            tokens.remove(&account).map_err(|e| to_js_error(&env, &e))
        })
    }

    /// Every account the store holds a grant for, sorted.
    #[napi(catch_unwind)]
    pub fn accounts(&self, env: Env) -> Result<Vec<String>> {
        guard(&env, NOT_SENT, || {
            let tokens = self.live(&env)?.tokens;
            tokens.accounts().map_err(|e| to_js_error(&env, &e))
        })
    }

    /// How `account`'s grant is doing in this process.
    #[napi(ts_return_type = "AccountHealth", catch_unwind)]
    pub fn health(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    ) -> Result<Value> {
        guard(&env, NOT_SENT, || {
            let account = account_id(&env, account, "health(account)")?;
            Ok(health(&self.live(&env)?.tokens.health(&account)))
        })
    }

    /// Every account whose grant is not `'ok'`, sorted by account, as `[account, health]`
    /// pairs (`new Map(tokens.unhealthy())`).
    #[napi(ts_return_type = "Array<[string, AccountHealth]>", catch_unwind)]
    pub fn unhealthy(&self, env: Env) -> Result<Value> {
        guard(&env, NOT_SENT, || {
            let sick = self.live(&env)?.tokens.unhealthy();
            Ok(Value::Array(
                sick.iter()
                    .map(|(account, h)| json!([account, health(h)]))
                    .collect(),
            ))
        })
    }

    /// Counters since creation.
    #[napi(getter, ts_return_type = "AccountStats", catch_unwind)]
    pub fn stats(&self, env: Env) -> Result<Value> {
        guard(&env, NOT_SENT, || {
            let s = self.live(&env)?.tokens.stats();
            Ok(json!({
                "cached": s.cached,
                "refreshes": s.refreshes,
                "refreshedAhead": s.refreshed_ahead,
                "adoptions": s.adoptions,
                "failures": s.failures,
                "waits": s.waits,
                "evictions": s.evictions,
            }))
        })
    }

    /// Stops refresh-ahead, waiting for its refreshes in flight (calls already in flight
    /// finish first), and lets go of the hook. Every later call throws `INVALID_INPUT`;
    /// closing again does nothing.
    #[napi(catch_unwind)]
    pub fn close(&self, env: Env) -> Result<()> {
        guard(&env, NOT_SENT, || {
            // Taken out before it is dropped: dropping it joins refresh-ahead's threads.
            let live = self.live.borrow_mut().take();
            drop(live);
            Ok(())
        })
    }
}

impl AccountTokens {
    /// The cached access token, if `account`'s needs no refresh (never blocks).
    fn hit(&self, account: &str) -> Option<String> {
        let live = self.live.borrow();
        live.as_ref()?.tokens.fresh_access_token(account)
    }

    /// The cached token, if `account`'s needs no refresh (never blocks).
    fn hit_token(&self, account: &str) -> Option<oauth_refresh::Token> {
        let live = self.live.borrow();
        live.as_ref()?.tokens.fresh_token(account)
    }

    /// What calls use, or `INVALID_INPUT` after `close()`. A clone: JavaScript the call runs
    /// (the hook) may close it meanwhile.
    fn live(&self, env: &Env) -> Result<Live> {
        let live = self.live.borrow().clone();
        live.ok_or_else(|| to_js_error(env, &closed()))
    }

    /// `accessToken()` / `token()`: the core's `token(account)` on a worker thread, answered
    /// by `answer`; after `close()` the promise rejects.
    fn task<T: ToNapiValue + TypeName>(
        &self,
        account: String,
        answer: fn(oauth_refresh::Token) -> T,
    ) -> Call<T> {
        let live = self.live.borrow().clone();
        let on_event = live.as_ref().and_then(|l| l.on_event.clone());
        let tokens = live.map(|l| l.tokens);
        Call {
            job: Exchange::new(move || match &tokens {
                Some(tokens) => tokens.token(&account),
                None => Err(closed()),
            }),
            on_event,
            answer,
        }
    }

    /// The `*Sync` twin of `task`: the same call to the core, on this thread.
    fn blocking<T>(
        &self,
        env: &Env,
        account: String,
        answer: fn(oauth_refresh::Token) -> T,
    ) -> Result<T> {
        let live = self.live(env)?;
        let tokens = live.tokens.clone();
        let mut job = Exchange::new(move || tokens.token(&account));
        let (outcome, events) = collecting(|| job.run());
        drop(job);
        call_hook(env, live.on_event.as_deref(), events);
        settle(env, outcome, answer)
    }
}

/// An account id argument: a string (its length and content are the core's to check), or a
/// `TypeError` naming the call.
fn account_id(env: &Env, value: Unknown<'_>, what: &str) -> Result<String> {
    if value.get_type()? != ValueType::String {
        return Err(type_error(env, format!("{what}: account must be a string")));
    }
    // SAFETY: checked to be a string just above.
    unsafe { value.cast::<String>() }
}

/// An `AccountTokens` call on a worker thread: the core's answer, then the hook for each
/// event the call saw, on the JavaScript thread, before the promise settles.
pub struct Call<T> {
    job: Exchange,
    on_event: Option<Arc<Hook>>,
    answer: fn(oauth_refresh::Token) -> T,
}

impl<T: ToNapiValue + TypeName> napi::Task for Call<T> {
    type Output = (Outcome, Vec<Value>);
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(collecting(|| self.job.run()))
    }

    fn resolve(&mut self, env: Env, (outcome, events): Self::Output) -> Result<T> {
        call_hook(&env, self.on_event.as_deref(), events);
        settle(&env, outcome, self.answer)
    }
}
