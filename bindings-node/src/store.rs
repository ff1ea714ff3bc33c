//! `MemoryStore`, `FileStore`, `RedisStore`, `PostgresStore`: the core's stores, built through its `StoreOptions`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use oauth_refresh::StoreOptions;

use crate::error::{convert, guard, to_js_error, type_error, NOT_SENT};
use crate::options::{each, object, NODE};

/// Keeps the token in this process only (what a manager without a store uses). Managers
/// given the same `MemoryStore` share one token; given to `AccountTokens`, it keeps every
/// account's.
#[napi]
pub struct MemoryStore(pub(crate) Arc<oauth_refresh::MemoryStore>);

#[napi]
impl MemoryStore {
    /// An empty store.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env) -> Result<Self> {
        guard(&env, NOT_SENT, || {
            Ok(MemoryStore(Arc::new(oauth_refresh::MemoryStore::new())))
        })
    }
}

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host. Given to
/// `AccountTokens`, `path` is a directory holding one file per account.
#[napi]
pub struct FileStore(pub(crate) Arc<oauth_refresh::FileStore>);

#[napi]
impl FileStore {
    /// A store at `path`; nothing is created until the first write.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
        #[napi(ts_arg_type = "FileStoreOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || {
            let what = "new FileStore(path, options)";
            // Checked here rather than by napi, whose message would show the value.
            if path.get_type()? != ValueType::String {
                return Err(type_error(&env, format!("{what}: path must be a string")));
            }
            // SAFETY: checked to be a string just above.
            let path = unsafe { path.cast::<String>() }?;
            let options = object(&env, options, what)?;
            let mut o = StoreOptions::default();
            each(&env, options.as_ref(), &[], |name, v| {
                o.set_file(NODE, name, v)
            })?;
            let store = o.file(path).map_err(|e| to_js_error(&env, &e))?;
            Ok(FileStore(Arc::new(store)))
        })
    }
}

/// Options for `new RedisStore(options)`.
#[napi(object, object_to_js = false)]
pub struct RedisStoreOptions {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// The account whose token this is, for a `TokenManager`; omitted, the store holds every
    /// account, for `AccountTokens`. Keys are `<prefix>:{<account>}:token` and `...:lease`:
    /// the braces are literal (the account is the keys' Redis Cluster hash tag) and the
    /// account is percent-encoded for `%`, `{`, `}`, space and bytes outside printable ASCII.
    pub account: Option<String>,
}

/// Keeps the token in Redis, shared by the processes of many hosts: one account's (with
/// `account`) or every account's (without), over one connection.
#[napi]
pub struct RedisStore(pub(crate) Arc<oauth_refresh::RedisStore>);

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
        let what = "new RedisStore(options)";
        let o: RedisStoreOptions = convert(&env, options, what)?;
        let options = object(&env, Some(options), what)?;
        let mut store = StoreOptions::default();
        let own = ["url", "account"];
        each(&env, options.as_ref(), &own, |name, v| {
            store.set_redis(NODE, name, v)
        })?;
        let store = store
            .redis(&o.url, o.account.as_deref())
            .map_err(|e| to_js_error(&env, &e))?;
        Ok(RedisStore(Arc::new(store)))
    }
}

/// Options for `new PostgresStore(options)`.
#[napi(object, object_to_js = false)]
pub struct PostgresStoreOptions {
    /// `postgres://user:password@host:port/database` (or the `key=value` form).
    pub url: String,
    /// The account whose token this is, for a `TokenManager`; omitted, the store holds every
    /// account, for `AccountTokens`. One row per account in `table`.
    pub account: Option<String>,
}

/// Keeps the token in PostgreSQL, durably (a write is acknowledged once committed), shared
/// by the processes of many hosts: one account's (with `account`) or every account's
/// (without), through one bounded pool of connections.
#[napi]
pub struct PostgresStore(pub(crate) Arc<oauth_refresh::PostgresStore>);

#[napi]
impl PostgresStore {
    /// A store; nothing connects until first use, when the table is created unless
    /// `createTable` is false.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "PostgresStoreOptions")] options: Unknown<'_>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create(env, options))
    }

    fn create(env: Env, options: Unknown<'_>) -> Result<Self> {
        let what = "new PostgresStore(options)";
        let o: PostgresStoreOptions = convert(&env, options, what)?;
        let options = object(&env, Some(options), what)?;
        let mut store = StoreOptions::default();
        let own = ["url", "account"];
        each(&env, options.as_ref(), &own, |name, v| {
            store.set_postgres(NODE, name, v)
        })?;
        let store = store
            .postgres(&o.url, o.account.as_deref())
            .map_err(|e| to_js_error(&env, &e))?;
        Ok(PostgresStore(Arc::new(store)))
    }
}
