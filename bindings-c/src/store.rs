//! Stores a manager or the accounts can share: memory (one process), a file or a directory
//! (one host), Redis or PostgreSQL (many hosts), optionally encrypted.

use std::ffi::c_char;
use std::sync::Arc;

use oauth::options::Value;
use oauth::{AccountStore, StoreOptions, TokenStore};

use crate::error::{oauth_refresh_error, oauth_refresh_result};
use crate::ffi::{boundary, guard, opt_str, req_str, set_each, text, tri_state, Refusal, Sends, C};

/// Store options; start from oauth_refresh_store_options_default(), which fills in every
/// default. Strings are borrowed for the duration of the call that takes them. One struct
/// serves every store; each store reads only the fields it has.
#[repr(C)]
pub struct oauth_refresh_store_options {
    /// Redis and PostgreSQL: the account whose token this is, for a manager; NULL: every
    /// account, for oauth_refresh_accounts_new() (one connection, or one pool, for all of
    /// them). A store of one account given to the accounts, or one of every account given to
    /// a manager, fails with `OAUTH_REFRESH_RESULT_INVALID_INPUT` at first use.
    pub account: *const c_char,
    /// Redis only: the key prefix; NULL means "oauth-refresh". It may not contain `{` or
    /// `}`. Keys are `<prefix>:{<account>}:token` and `<prefix>:{<account>}:lease`: the
    /// braces are literal (the account is the keys' Redis Cluster hash tag) and the account
    /// is percent-encoded for `%`, `{`, `}`, space and bytes outside printable ASCII.
    pub prefix: *const c_char,
    /// Seal the token under this key, given as 64 hex digits or the base64 of 32 bytes
    /// (as kept in an environment variable), or NULL to store it in clear.
    pub encryption_key: *const c_char,
    /// Redis and PostgreSQL: how long to wait to connect and for each answer (PostgreSQL:
    /// also for a free connection of the pool), in ms. 0, the default, means the store's own:
    /// 2000 for Redis, 5000 for PostgreSQL.
    pub timeout_ms: u64,
    /// PostgreSQL only: the table, `name` or `schema.name` (letters, digits and `_`); NULL
    /// means "oauth_refresh_tokens".
    pub table: *const c_char,
    /// PostgreSQL only: create the table on first use. -1 (the default) means yes; 0 no (you
    /// create it yourself, from the schema in the README); 1 yes; anything else is
    /// `OAUTH_REFRESH_RESULT_INVALID_INPUT`.
    pub create_table: i8,
    /// PostgreSQL only: the most connections open at once, shared by every account of the
    /// store (default 4; at least 1).
    pub max_connections: u32,
}

/// Where a manager keeps its token, or the accounts theirs. Create with
/// oauth_refresh_store_memory_new(), oauth_refresh_store_file_new(),
/// oauth_refresh_store_redis_new() or oauth_refresh_store_postgres_new(); free exactly once with oauth_refresh_store_free(). A
/// manager or accounts handle keeps its own reference, so the store may be freed once the
/// handles using it exist.
pub struct oauth_refresh_store {
    /// The store as one account's (what a manager takes).
    pub(crate) token: Arc<dyn TokenStore>,
    /// The same store as every account's (what the accounts take).
    pub(crate) accounts: Arc<dyn AccountStore>,
}

impl oauth_refresh_store {
    fn new<S: TokenStore + AccountStore + 'static>(store: S) -> Self {
        let store = Arc::new(store);
        oauth_refresh_store {
            token: store.clone(),
            accounts: store,
        }
    }
}

/// Options with every default.
#[no_mangle]
pub extern "C" fn oauth_refresh_store_options_default() -> oauth_refresh_store_options {
    oauth_refresh_store_options {
        account: std::ptr::null(),
        prefix: std::ptr::null(),
        encryption_key: std::ptr::null(),
        // The stores' defaults differ (Redis 2 s, PostgreSQL 5 s): 0 leaves each its own.
        timeout_ms: 0,
        table: std::ptr::null(),
        create_table: -1,
        max_connections: oauth::PostgresStore::DEFAULT_MAX_CONNECTIONS as u32,
    }
}

/// Which store the options are for: each takes its own fields.
#[derive(Clone, Copy)]
enum Kind {
    File,
    Redis,
    Postgres,
}

/// The core's store options from the C struct (`account` is an argument of the store).
///
/// # Safety
/// The strings in `o` are NULL or valid.
unsafe fn options_of(
    o: &oauth_refresh_store_options,
    kind: Kind,
) -> Result<StoreOptions, Box<oauth_refresh_error>> {
    let mut core = StoreOptions::default();
    let key = unsafe { text(o.encryption_key, "encryption_key") }?;
    let timeout = match o.timeout_ms {
        0 => Value::Null,
        ms => Value::Number(ms as f64),
    };
    match kind {
        Kind::File => set_each([("encryption_key", key)], |name, value| {
            core.set_file(C, name, value)
        })?,
        Kind::Redis => {
            let values = [
                ("prefix", unsafe { text(o.prefix, "prefix") }?),
                ("timeout_ms", timeout),
                ("encryption_key", key),
            ];
            set_each(values, |name, value| core.set_redis(C, name, value))?;
        }
        Kind::Postgres => {
            let values = [
                ("table", unsafe { text(o.table, "table") }?),
                ("create_table", tri_state(o.create_table)),
                ("max_connections", Value::Number(o.max_connections.into())),
                ("timeout_ms", timeout),
                ("encryption_key", key),
            ];
            set_each(values, |name, value| core.set_postgres(C, name, value))?;
        }
    }
    Ok(core)
}

/// Writes a new store to `store_out`.
unsafe fn put<S: TokenStore + AccountStore + 'static>(
    store_out: *mut *mut oauth_refresh_store,
    store: S,
) {
    // SAFETY: the caller checked `store_out` is not NULL.
    unsafe { *store_out = Box::into_raw(Box::new(oauth_refresh_store::new(store))) };
}

/// A store in this process's memory, to share between handles: several accounts handles, or
/// managers (each manager given it shares one token). A handle given NULL instead keeps
/// its own. On success writes `*store_out` (free it exactly once with
/// oauth_refresh_store_free()); `OAUTH_REFRESH_RESULT_NULL_ARGUMENT` if `store_out` is NULL.
///
/// # Safety
/// `store_out` is NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_store_memory_new(
    store_out: *mut *mut oauth_refresh_store,
) -> oauth_refresh_result {
    boundary(std::ptr::null_mut(), Sends::Nothing, || {
        if store_out.is_null() {
            return Err(Refusal::null("store_out").into());
        }
        unsafe { put(store_out, oauth::MemoryStore::new()) };
        Ok(())
    })
}

/// A JSON file (mode 0600) shared by the processes of one host; `options` may be NULL
/// (only `encryption_key` applies). Given to oauth_refresh_accounts_new(), `path` is a
/// directory instead, holding one file per account (names safe whatever the account id). On success writes `*store_out` (free it exactly once
/// with oauth_refresh_store_free()); on failure writes `*error_out` if it is not NULL (free
/// it exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `path` is a C string; `options` is NULL or valid; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_store_file_new(
    path: *const c_char,
    options: *const oauth_refresh_store_options,
    store_out: *mut *mut oauth_refresh_store,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        let path = unsafe { req_str(path, "path") }?;
        if store_out.is_null() {
            return Err(Refusal::null("store_out").into());
        }
        // SAFETY: NULL or valid, per the contract.
        let options = match unsafe { options.as_ref() } {
            Some(o) => unsafe { options_of(o, Kind::File) }?,
            None => StoreOptions::default(),
        };
        let store = options.file(path).map_err(|e| Box::from(&e))?;
        unsafe { put(store_out, store) };
        Ok(())
    })
}

/// Redis at `url` (`redis://[user:password@]host:port[/db]`), shared by the processes of
/// many hosts: one account's token (`options->account`, for a manager) or every account's
/// (`options->account` NULL, for oauth_refresh_accounts_new()). Nothing connects until first
/// use. On success
/// writes `*store_out` (free it exactly once with oauth_refresh_store_free()); on failure
/// writes `*error_out` if it is not NULL (free it exactly once with
/// oauth_refresh_error_free()).
///
/// # Safety
/// `url` is a C string; `options` is valid; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_store_redis_new(
    url: *const c_char,
    options: *const oauth_refresh_store_options,
    store_out: *mut *mut oauth_refresh_store,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    unsafe {
        remote(
            url,
            options,
            store_out,
            error_out,
            Kind::Redis,
            StoreOptions::redis,
        )
    }
}

/// PostgreSQL at `url` (`postgres://user:password@host:port/database`, or the
/// `key=value ...` form), where the service keeps its data: one row per account in one table,
/// every write durable before it is acknowledged, one pool of at most
/// `options->max_connections` for every account of the store. One account's token
/// (`options->account`, for a manager) or every account's (`options->account` NULL, for
/// oauth_refresh_accounts_new()). Nothing connects until first use: a wrong password is
/// then `OAUTH_REFRESH_RESULT_STORE_FAILED` and a database that cannot be reached
/// `OAUTH_REFRESH_RESULT_STORE_UNAVAILABLE`; no message repeats the URL. On success writes
/// `*store_out` (free it exactly once with oauth_refresh_store_free()); on failure writes
/// `*error_out` if it is not NULL (free it exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `url` is a C string; `options` is valid; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_store_postgres_new(
    url: *const c_char,
    options: *const oauth_refresh_store_options,
    store_out: *mut *mut oauth_refresh_store,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    unsafe {
        remote(
            url,
            options,
            store_out,
            error_out,
            Kind::Postgres,
            StoreOptions::postgres,
        )
    }
}

/// A store at `url` of one account or every account (Redis, PostgreSQL), made by `make`.
///
/// # Safety
/// As the entry points that call it.
unsafe fn remote<S: TokenStore + AccountStore + 'static>(
    url: *const c_char,
    options: *const oauth_refresh_store_options,
    store_out: *mut *mut oauth_refresh_store,
    error_out: *mut *mut oauth_refresh_error,
    kind: Kind,
    make: fn(StoreOptions, &str, Option<&str>) -> Result<S, oauth::Error>,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        let url = unsafe { req_str(url, "url") }?;
        // SAFETY: NULL or valid, per the contract.
        let o = unsafe { options.as_ref() }.ok_or_else(|| Refusal::null("options"))?;
        if store_out.is_null() {
            return Err(Refusal::null("store_out").into());
        }
        let account = unsafe { opt_str(o.account, "options->account") }?;
        let store =
            make(unsafe { options_of(o, kind) }?, url, account).map_err(|e| Box::from(&e))?;
        unsafe { put(store_out, store) };
        Ok(())
    })
}

/// Frees a store. Call exactly once, only with a pointer this library returned (or NULL,
/// which is ignored). Managers and accounts created with it keep working.
///
/// # Safety
/// `store` is NULL or a store from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_store_free(store: *mut oauth_refresh_store) {
    guard((), || {
        if !store.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(store) });
        }
    })
}
