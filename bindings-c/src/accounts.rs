//! Many accounts under one client: a valid access token for each, one store for all, an
//! optional refresh-ahead thread, health per account and events.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use oauth::options::Value;
use oauth::{AccountEvent, AccountStore, AccountsConfig, EventKind, Health, HealthStatus};
use zeroize::Zeroize;

use crate::client::{deliver, oauth_refresh_client};
use crate::error::{oauth_refresh_error, oauth_refresh_result, oauth_refresh_token_state};
use crate::ffi::{
    boundary, c_string, guard, millis, req_str, required_text, secret_c_string, set_each, text,
    Refusal, Sends, C,
};
use crate::store::oauth_refresh_store;
use crate::token::oauth_refresh_token;

/// Where an account's grant stands.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum oauth_refresh_health_status {
    /// Its last refresh (if any) in this process succeeded.
    Ok = 0,
    /// Its last refresh failed in a way that may pass (server down, timeout, rate limit,
    /// unknown outcome): refreshing goes on.
    Failing = 1,
    /// The server refused the grant (`invalid_grant`) and no other process had a newer one:
    /// a person must authorize again. Nothing is sent for it until a new grant is added
    /// (here or by another process sharing the store).
    NeedsReauthorization = 2,
}

/// What happened to an account.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum oauth_refresh_event_kind {
    /// This process refreshed its token (and stored it, or tried to).
    Refreshed = 0,
    /// A refresh failed; refreshing goes on.
    Failed = 1,
    /// The grant needs a person to authorize again: reported once.
    NeedsReauthorization = 2,
    /// A failing grant works again.
    Recovered = 3,
}

/// How an account's grant is doing in this process. Never holds a secret.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct oauth_refresh_health {
    /// Where the grant stands.
    pub status: oauth_refresh_health_status,
    /// The last failure's code; `OAUTH_REFRESH_RESULT_OK` while the status is `OK`.
    pub code: oauth_refresh_result,
    /// The last failure's refresh-token state; `UNUSED` while the status is `OK`.
    pub refresh_token_state: oauth_refresh_token_state,
    /// When it stopped being `OK`, in Unix milliseconds; 0 while it is `OK`.
    pub since_ms: u64,
    /// Failed refreshes since then.
    pub attempts: u32,
}

/// One event, passed to `on_event`. Never holds a secret. It and `account` are valid only
/// during the call: copy what you keep.
#[repr(C)]
pub struct oauth_refresh_account_event {
    /// What happened.
    pub kind: oauth_refresh_event_kind,
    /// To which account (a NUL-terminated string).
    pub account: *const c_char,
    /// The failure's code (`FAILED`, `NEEDS_REAUTHORIZATION`); `OAUTH_REFRESH_RESULT_OK`
    /// otherwise.
    pub code: oauth_refresh_result,
    /// The failure's refresh-token state (`FAILED`, `NEEDS_REAUTHORIZATION`); `UNUSED`
    /// otherwise.
    pub refresh_token_state: oauth_refresh_token_state,
    /// The account's failed refreshes in a row (`FAILED`, `NEEDS_REAUTHORIZATION`); 0
    /// otherwise.
    pub attempts: u32,
}

/// Called with every event, on the thread that saw it: a caller's thread (inside
/// oauth_refresh_accounts_access_token() and the like) or a refresh-ahead thread. Several
/// threads may call it at once, so it must be thread-safe; keep it short (a refresh waits
/// for it), and do not free the accounts handle from it.
pub type oauth_refresh_on_event =
    Option<unsafe extern "C" fn(context: *mut c_void, event: *const oauth_refresh_account_event)>;

/// Accounts options; start from oauth_refresh_accounts_options_default(), which fills in
/// every default, then change fields. Strings are borrowed for the duration of
/// oauth_refresh_accounts_new().
#[repr(C)]
pub struct oauth_refresh_accounts_options {
    /// Your client ID. Required.
    pub client_id: *const c_char,
    /// Your client secret. Required.
    pub client_secret: *const c_char,
    /// Sent as `scope` with every refresh (a narrower scope), or NULL to send none.
    pub scope: *const c_char,
    /// Sent as `redirect_uri` with every refresh (Gusto: the one set up in the Developer
    /// Portal), or NULL to send none.
    pub redirect_uri: *const c_char,
    /// Where every account's grant is kept: a store from oauth_refresh_store_memory_new()
    /// (one process), oauth_refresh_store_file_new() over a directory (one host),
    /// oauth_refresh_store_redis_new() or oauth_refresh_store_postgres_new() without an
    /// account (many hosts), or NULL for a new memory store of this handle's own. The handle
    /// keeps its own reference: the store may be freed after oauth_refresh_accounts_new().
    pub store: *const oauth_refresh_store,
    /// Refresh when less than this fraction of the lifetime is left (default 0.1).
    pub refresh_fraction: f64,
    /// ... but never later than this before expiry, in ms (default 30000; 0 is allowed).
    pub min_window_ms: u64,
    /// Up to this fraction of the window is added at random, so that accounts do not
    /// refresh in lockstep (default 0.1).
    pub jitter: f64,
    /// The lifetime assumed for a token without expires_in, in ms (default 3600000).
    pub default_lifetime_ms: u64,
    /// How long a caller whose token has expired waits for another process's refresh, in
    /// ms (default 30000).
    pub lease_wait_ms: u64,
    /// How long a refresher that died keeps the lease in Redis, in ms (default 10000; at
    /// least 100).
    pub lease_ttl_ms: u64,
    /// When the store cannot be reached and the token has expired, refresh anyway without
    /// coordination (default false: another host could then reuse the same refresh token).
    pub refresh_without_store: bool,
    /// Accounts kept in memory at most (default 10000; at least 1): the idlest are dropped
    /// beyond it and loaded again from the store when asked for.
    pub max_cached_accounts: u32,
    /// Refresh every account before it is due, on a background thread, so that callers never
    /// wait (default false). oauth_refresh_accounts_free() stops it.
    pub refresh_ahead: bool,
    /// Refresh-ahead refreshes in flight at once, at most (default 4; at least 1).
    pub max_concurrent_refreshes: u32,
    /// Refresh-ahead requests per minute to the token endpoint, at most (default 0: no
    /// limit; Gusto allows 200 per minute per application and user).
    pub requests_per_minute: u32,
    /// Refresh-ahead also refreshes a grant this long after it was issued, in ms, for
    /// servers that expire unused refresh tokens (default 0: never).
    pub keep_alive_ms: u64,
    /// Called with every event (see `oauth_refresh_on_event`), or NULL.
    pub on_event: oauth_refresh_on_event,
    /// Passed to `on_event` unchanged. The caller keeps it valid, and safe to use from any
    /// thread, while the handle lives.
    pub context: *mut c_void,
}

/// Valid access tokens for many accounts of one token endpoint and one client (a Gusto
/// partner's companies): each account refreshed once however many threads, processes or
/// hosts ask, a cached token served without a lock. Thread-safe. Create with
/// oauth_refresh_accounts_new(), free exactly once with oauth_refresh_accounts_free().
pub struct oauth_refresh_accounts(oauth::AccountTokens);

/// A list of strings the caller owns: `len` NUL-terminated strings at `items` (NULL when
/// `len` is 0). Free it exactly once with oauth_refresh_strings_free().
#[repr(C)]
pub struct oauth_refresh_strings {
    /// The strings.
    pub items: *const *const c_char,
    /// How many.
    pub len: usize,
}

/// One account that is not `OK`, and its health.
#[repr(C)]
pub struct oauth_refresh_account_health {
    /// The account (a NUL-terminated string, owned by the list).
    pub account: *const c_char,
    /// Its health.
    pub health: oauth_refresh_health,
}

/// The accounts that are not `OK`, sorted by account: `len` entries at `items` (NULL when
/// `len` is 0). Free it exactly once with oauth_refresh_unhealthy_free().
#[repr(C)]
pub struct oauth_refresh_unhealthy {
    /// The accounts and their health.
    pub items: *const oauth_refresh_account_health,
    /// How many.
    pub len: usize,
}

/// The accounts' counters since the handle was created.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct oauth_refresh_account_stats {
    /// Accounts held in memory now.
    pub cached: u64,
    /// Refreshes this process performed successfully (callers' and refresh-ahead's).
    pub refreshes: u64,
    /// Of those, the ones refresh-ahead performed.
    pub refreshed_ahead: u64,
    /// Tokens taken over from the store because another process refreshed first.
    pub adoptions: u64,
    /// Refreshes that failed.
    pub failures: u64,
    /// Calls that found their account's token due and so waited on a refresh (or its
    /// failure). With refresh-ahead keeping up, this stays 0.
    pub waits: u64,
    /// Accounts dropped from memory to keep within `max_cached_accounts`.
    pub evictions: u64,
}

/// The C callback and its context, made sendable: the caller promises thread-safety
/// (documented on `oauth_refresh_on_event`).
struct Hook(
    unsafe extern "C" fn(*mut c_void, *const oauth_refresh_account_event),
    *mut c_void,
);

// SAFETY: documented on `oauth_refresh_accounts_options::context` and `oauth_refresh_on_event`:
// the callback may run on any thread, and the context is the caller's to synchronize.
unsafe impl Send for Hook {}
unsafe impl Sync for Hook {}

impl Hook {
    fn call(&self, event: &AccountEvent) {
        // Account ids hold no NUL (the core checks them); c_string drops one if it did.
        let account = c_string(&event.account);
        let c_event = oauth_refresh_account_event {
            kind: match event.kind {
                EventKind::Refreshed => oauth_refresh_event_kind::Refreshed,
                EventKind::Failed => oauth_refresh_event_kind::Failed,
                EventKind::NeedsReauthorization => oauth_refresh_event_kind::NeedsReauthorization,
                EventKind::Recovered => oauth_refresh_event_kind::Recovered,
            },
            account: account.as_ptr(),
            code: event.code.map_or(oauth_refresh_result::Ok, Into::into),
            refresh_token_state: event
                .refresh_token_state
                .map_or(oauth_refresh_token_state::Unused, Into::into),
            attempts: event.attempts,
        };
        // SAFETY: the caller's callback, called as documented; `c_event` and `account`
        // outlive the call.
        unsafe { (self.0)(self.1, &c_event) }
    }
}

impl From<&Health> for oauth_refresh_health {
    fn from(h: &Health) -> Self {
        oauth_refresh_health {
            status: match h.status {
                HealthStatus::Ok => oauth_refresh_health_status::Ok,
                HealthStatus::Failing => oauth_refresh_health_status::Failing,
                HealthStatus::NeedsReauthorization => {
                    oauth_refresh_health_status::NeedsReauthorization
                }
            },
            code: h.code.map_or(oauth_refresh_result::Ok, Into::into),
            refresh_token_state: h
                .refresh_token_state
                .map_or(oauth_refresh_token_state::Unused, Into::into),
            since_ms: h
                .since
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| millis(d).max(1)),
            attempts: h.attempts,
        }
    }
}

/// Options with every default, taken from the core (fill in `client_id` and
/// `client_secret`).
#[no_mangle]
pub extern "C" fn oauth_refresh_accounts_options_default() -> oauth_refresh_accounts_options {
    let core = AccountsConfig::default();
    let (m, a) = (&core.manager.options, &core.accounts);
    oauth_refresh_accounts_options {
        client_id: std::ptr::null(),
        client_secret: std::ptr::null(),
        scope: std::ptr::null(),
        redirect_uri: std::ptr::null(),
        store: std::ptr::null(),
        refresh_fraction: m.refresh_fraction,
        min_window_ms: millis(m.min_window),
        jitter: m.jitter,
        default_lifetime_ms: millis(m.default_lifetime),
        lease_wait_ms: millis(m.lease_wait),
        lease_ttl_ms: millis(m.lease_ttl),
        refresh_without_store: m.refresh_without_store,
        max_cached_accounts: a.max_cached_accounts,
        refresh_ahead: a.refresh_ahead,
        max_concurrent_refreshes: a.max_concurrent_refreshes,
        requests_per_minute: a.requests_per_minute,
        keep_alive_ms: a.keep_alive.map_or(0, millis),
        on_event: None,
        context: std::ptr::null_mut(),
    }
}

/// Creates the accounts handle refreshing through `client`, and starts refresh-ahead if
/// asked. It keeps its own references to the client and the store, so both may be freed
/// before it. On success writes `*accounts_out` (free it exactly once with
/// oauth_refresh_accounts_free()); on failure writes `*error_out` if it is not NULL (free it
/// exactly once with oauth_refresh_error_free()): a value out of range is
/// `OAUTH_REFRESH_RESULT_INVALID_INPUT` naming the field.
///
/// # Safety
/// `client` is a live client; `options` points to valid options; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_new(
    client: *const oauth_refresh_client,
    options: *const oauth_refresh_accounts_options,
    accounts_out: *mut *mut oauth_refresh_accounts,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let client = unsafe { client.as_ref() }.ok_or_else(|| Refusal::null("client"))?;
        let o = unsafe { options.as_ref() }.ok_or_else(|| Refusal::null("options"))?;
        if accounts_out.is_null() {
            return Err(Refusal::null("accounts_out").into());
        }
        let values = [
            ("client_id", unsafe {
                required_text(o.client_id, "options->client_id")
            }?),
            ("client_secret", unsafe {
                required_text(o.client_secret, "options->client_secret")
            }?),
            ("scope", unsafe { text(o.scope, "scope") }?),
            ("redirect_uri", unsafe {
                text(o.redirect_uri, "redirect_uri")
            }?),
            ("refresh_fraction", Value::Number(o.refresh_fraction)),
            ("min_window_ms", Value::Number(o.min_window_ms as f64)),
            ("jitter", Value::Number(o.jitter)),
            (
                "default_lifetime_ms",
                Value::Number(o.default_lifetime_ms as f64),
            ),
            ("lease_wait_ms", Value::Number(o.lease_wait_ms as f64)),
            ("lease_ttl_ms", Value::Number(o.lease_ttl_ms as f64)),
            (
                "refresh_without_store",
                Value::Bool(o.refresh_without_store),
            ),
            (
                "max_cached_accounts",
                Value::Number(o.max_cached_accounts.into()),
            ),
            ("refresh_ahead", Value::Bool(o.refresh_ahead)),
            (
                "max_concurrent_refreshes",
                Value::Number(o.max_concurrent_refreshes.into()),
            ),
            (
                "requests_per_minute",
                Value::Number(o.requests_per_minute.into()),
            ),
            ("keep_alive_ms", Value::Number(o.keep_alive_ms as f64)),
        ];
        let mut config = AccountsConfig::default();
        set_each(values, |name, value| config.set(C, name, value))?;
        // SAFETY: NULL or a live store, per the contract.
        let store: Arc<dyn AccountStore> = match unsafe { o.store.as_ref() } {
            Some(store) => store.accounts.clone(),
            None => Arc::new(oauth::MemoryStore::new()),
        };
        let accounts = config
            .build(client.0.clone(), store)
            .map_err(|e| Box::from(&e))?;
        if let Some(callback) = o.on_event {
            let hook = Hook(callback, o.context);
            accounts.on_event(move |event| hook.call(event));
        }
        // SAFETY: checked not NULL above.
        unsafe { *accounts_out = Box::into_raw(Box::new(oauth_refresh_accounts(accounts))) };
        Ok(())
    })
}

/// The handle and the account id of a call, refused before any work if either is missing.
///
/// # Safety
/// `accounts` is NULL or live; `account` is NULL or a C string.
unsafe fn args<'a>(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
) -> Result<(&'a oauth::AccountTokens, &'a str), Refusal> {
    // SAFETY: NULL or valid, per the contract.
    let accounts = unsafe { accounts.as_ref() }.ok_or_else(|| Refusal::null("accounts"))?;
    Ok((&accounts.0, unsafe { req_str(account, "account") }?))
}

/// `account`'s current access token, refreshed first if needed (blocking). On success writes
/// `*access_token_out`, a copy the caller owns: free it exactly once with
/// oauth_refresh_string_free(), which wipes it. On failure writes `*error_out` if not NULL
/// (free it exactly once with oauth_refresh_error_free()): an account id that is empty,
/// longer than 256 bytes or unknown to the store is `OAUTH_REFRESH_RESULT_INVALID_INPUT`; a
/// grant that needs reauthorization is `OAUTH_REFRESH_RESULT_INVALID_GRANT` at once, with
/// nothing sent, until a new grant is added.
///
/// # Safety
/// `accounts` is a live handle; `account` a C string; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_access_token(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
    access_token_out: *mut *mut c_char,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        let (accounts, account) = unsafe { args(accounts, account) }?;
        if access_token_out.is_null() {
            return Err(Refusal::null("access_token_out").into());
        }
        let mut access = accounts.access_token(account).map_err(|e| Box::from(&e))?;
        let copy = secret_c_string(&access);
        access.zeroize();
        let copy = match copy {
            Some(copy) => copy,
            // A token C cannot hold (the core refuses those, so never in practice): the
            // whole token says so, as oauth_refresh_accounts_token() would.
            None => {
                let token = accounts.token(account).map_err(|e| Box::from(&e))?;
                return Err(Box::new(oauth_refresh_error::unrepresentable_token(&token)));
            }
        };
        // SAFETY: checked not NULL above.
        unsafe { *access_token_out = copy.into_raw() };
        Ok(())
    })
}

/// `account`'s current token, refreshed first if needed (blocking). On success writes
/// `*token_out` (free it exactly once with oauth_refresh_token_free()); failures as
/// oauth_refresh_accounts_access_token().
///
/// # Safety
/// `accounts` is a live handle; `account` a C string; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_token(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
    token_out: *mut *mut oauth_refresh_token,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        let (accounts, account) = unsafe { args(accounts, account) }?;
        if token_out.is_null() {
            return Err(Refusal::null("token_out").into());
        }
        unsafe { deliver(accounts.token(account), token_out) }
    })
}

/// Marks `account`'s token stale (say, after the API answered 401): its next call
/// refreshes. A NULL argument, or an account not in memory, is a no-op.
///
/// # Safety
/// `accounts` is NULL or a live handle; `account` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_invalidate(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
) {
    guard((), || {
        if let Ok((accounts, account)) = unsafe { args(accounts, account) } {
            accounts.invalidate(account);
        }
    })
}

/// After a refresh of `account` whose outcome is unknown (state `UNKNOWN`), its refresh
/// token is not sent again by itself (see oauth_refresh_manager_allow_resend()): this lets
/// the next call send it once more. A NULL argument, or an account not in memory, is a
/// no-op.
///
/// # Safety
/// `accounts` is NULL or a live handle; `account` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_allow_resend(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
) {
    guard((), || {
        if let Ok((accounts, account)) = unsafe { args(accounts, account) } {
            accounts.allow_resend(account);
        }
    })
}

/// Stores a new grant for `account` (from an authorization-code exchange, or Gusto's
/// partner-managed-company call), replacing what was stored, under the account's lease; it
/// is refreshed when first used. A grant that needed reauthorization works again. Nothing is
/// sent. On failure writes `*error_out` if not NULL (free it exactly once with
/// oauth_refresh_error_free()): an empty `refresh_token` or a bad account id is
/// `OAUTH_REFRESH_RESULT_INVALID_INPUT`.
///
/// # Safety
/// `accounts` is a live handle; `account` and `refresh_token` are C strings; `error_out` is
/// NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_add(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
    refresh_token: *const c_char,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        let (accounts, account) = unsafe { args(accounts, account) }?;
        let refresh_token = unsafe { req_str(refresh_token, "refresh_token") }?;
        accounts
            .add(account, refresh_token)
            .map_err(|e| Box::from(&e))
    })
}

/// Deletes `account`'s grant from the store and from memory. On success writes whether
/// there was one to `*removed_out`; on failure writes `*error_out` if not NULL (free it
/// exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `accounts` is a live handle; `account` a C string; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_remove(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
    removed_out: *mut bool,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        let (accounts, account) = unsafe { args(accounts, account) }?;
        if removed_out.is_null() {
            return Err(Refusal::null("removed_out").into());
        }
        let removed = accounts.remove(account).map_err(|e| Box::from(&e))?;
        // SAFETY: checked not NULL above.
        unsafe { *removed_out = removed };
        Ok(())
    })
}

/// Every account the store holds a grant for, sorted. On success writes `*accounts_out`
/// (free it exactly once with oauth_refresh_strings_free()); on failure writes `*error_out`
/// if not NULL (free it exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `accounts` is a live handle; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_accounts(
    accounts: *const oauth_refresh_accounts,
    accounts_out: *mut oauth_refresh_strings,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let accounts = unsafe { accounts.as_ref() }.ok_or_else(|| Refusal::null("accounts"))?;
        if accounts_out.is_null() {
            return Err(Refusal::null("accounts_out").into());
        }
        let ids = accounts.0.accounts().map_err(|e| Box::from(&e))?;
        let items: Vec<*const c_char> = ids
            .iter()
            .map(|id| c_string(id).into_raw().cast_const())
            .collect();
        let (items, len) = into_raw_list(items);
        // SAFETY: checked not NULL above.
        unsafe { *accounts_out = oauth_refresh_strings { items, len } };
        Ok(())
    })
}

/// How `account`'s grant is doing in this process (an account never refreshed here is
/// `OK`). On success writes `*health_out`; `OAUTH_REFRESH_RESULT_NULL_ARGUMENT` or
/// `OAUTH_REFRESH_RESULT_INVALID_UTF8` (writing nothing) for a bad argument.
///
/// # Safety
/// `accounts` is NULL or a live handle; `account` is NULL or a C string; `health_out` is
/// NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_health(
    accounts: *const oauth_refresh_accounts,
    account: *const c_char,
    health_out: *mut oauth_refresh_health,
) -> oauth_refresh_result {
    boundary(std::ptr::null_mut(), Sends::Nothing, || {
        let (accounts, account) = unsafe { args(accounts, account) }?;
        if health_out.is_null() {
            return Err(Refusal::null("health_out").into());
        }
        let health = oauth_refresh_health::from(&accounts.health(account));
        // SAFETY: checked not NULL above.
        unsafe { *health_out = health };
        Ok(())
    })
}

/// Every account whose grant is not `OK`, sorted by account. On success writes
/// `*unhealthy_out` (free it exactly once with oauth_refresh_unhealthy_free());
/// `OAUTH_REFRESH_RESULT_NULL_ARGUMENT` (writing nothing) if a pointer is NULL.
///
/// # Safety
/// `accounts` is NULL or a live handle; `unhealthy_out` is NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_unhealthy(
    accounts: *const oauth_refresh_accounts,
    unhealthy_out: *mut oauth_refresh_unhealthy,
) -> oauth_refresh_result {
    boundary(std::ptr::null_mut(), Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let accounts = unsafe { accounts.as_ref() }.ok_or_else(|| Refusal::null("accounts"))?;
        if unhealthy_out.is_null() {
            return Err(Refusal::null("unhealthy_out").into());
        }
        let items: Vec<oauth_refresh_account_health> = accounts
            .0
            .unhealthy()
            .iter()
            .map(|(account, health)| oauth_refresh_account_health {
                account: c_string(account).into_raw().cast_const(),
                health: health.into(),
            })
            .collect();
        let (items, len) = into_raw_list(items);
        // SAFETY: checked not NULL above.
        unsafe { *unhealthy_out = oauth_refresh_unhealthy { items, len } };
        Ok(())
    })
}

/// The counters since the handle was created. On success writes `*stats_out`;
/// `OAUTH_REFRESH_RESULT_NULL_ARGUMENT` (writing nothing) if a pointer is NULL.
///
/// # Safety
/// `accounts` is NULL or a live handle; `stats_out` is NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_stats(
    accounts: *const oauth_refresh_accounts,
    stats_out: *mut oauth_refresh_account_stats,
) -> oauth_refresh_result {
    boundary(std::ptr::null_mut(), Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let accounts = unsafe { accounts.as_ref() }.ok_or_else(|| Refusal::null("accounts"))?;
        if stats_out.is_null() {
            return Err(Refusal::null("stats_out").into());
        }
        let s = accounts.0.stats();
        // SAFETY: checked not NULL above.
        unsafe {
            *stats_out = oauth_refresh_account_stats {
                cached: s.cached,
                refreshes: s.refreshes,
                refreshed_ahead: s.refreshed_ahead,
                adoptions: s.adoptions,
                failures: s.failures,
                waits: s.waits,
                evictions: s.evictions,
            }
        };
        Ok(())
    })
}

/// Frees the handle: stops refresh-ahead, waiting for the refreshes in flight (so no event
/// comes after it returns). Call exactly once, only with a pointer this library returned
/// (or NULL, which is ignored), never from `on_event`. No other thread may be using it.
///
/// # Safety
/// `accounts` is NULL or a handle from oauth_refresh_accounts_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_accounts_free(accounts: *mut oauth_refresh_accounts) {
    guard((), || {
        if !accounts.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(accounts) });
        }
    })
}

/// Frees a list from oauth_refresh_accounts_accounts() and empties it (`items` NULL, `len`
/// 0), so freeing it again does nothing. NULL is ignored.
///
/// # Safety
/// `strings` is NULL, or a list this library wrote and the caller did not change.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_strings_free(strings: *mut oauth_refresh_strings) {
    guard((), || {
        // SAFETY: NULL or valid, per the contract.
        if let Some(list) = unsafe { strings.as_mut() } {
            // SAFETY: `items` and `len` are as this library wrote them.
            for item in unsafe { from_raw_list(list.items, list.len) } {
                // SAFETY: each string came from CString::into_raw.
                drop(unsafe { CString::from_raw(item.cast_mut()) });
            }
            *list = oauth_refresh_strings {
                items: std::ptr::null(),
                len: 0,
            };
        }
    })
}

/// Frees a list from oauth_refresh_accounts_unhealthy() and empties it (`items` NULL, `len`
/// 0), so freeing it again does nothing. NULL is ignored.
///
/// # Safety
/// `unhealthy` is NULL, or a list this library wrote and the caller did not change.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_unhealthy_free(unhealthy: *mut oauth_refresh_unhealthy) {
    guard((), || {
        // SAFETY: NULL or valid, per the contract.
        if let Some(list) = unsafe { unhealthy.as_mut() } {
            // SAFETY: `items` and `len` are as this library wrote them.
            for item in unsafe { from_raw_list(list.items, list.len) } {
                // SAFETY: each account came from CString::into_raw.
                drop(unsafe { CString::from_raw(item.account.cast_mut()) });
            }
            *list = oauth_refresh_unhealthy {
                items: std::ptr::null(),
                len: 0,
            };
        }
    })
}

/// A list for C: its items' pointer (NULL when empty) and length.
fn into_raw_list<T>(items: Vec<T>) -> (*const T, usize) {
    if items.is_empty() {
        return (std::ptr::null(), 0);
    }
    let len = items.len();
    (
        Box::into_raw(items.into_boxed_slice())
            .cast::<T>()
            .cast_const(),
        len,
    )
}

/// Takes back a list made by [`into_raw_list`].
///
/// # Safety
/// `items` and `len` came from [`into_raw_list`] and are not used again.
unsafe fn from_raw_list<T>(items: *const T, len: usize) -> Vec<T> {
    if items.is_null() {
        return Vec::new();
    }
    // SAFETY: per the contract: a boxed slice of `len` items.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(items.cast_mut(), len)) }.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_go_back_and_forth_and_an_empty_one_is_null() {
        let (items, len) = into_raw_list(vec![1u32, 2, 3]);
        assert_eq!(len, 3);
        assert_eq!(unsafe { from_raw_list(items, len) }, [1, 2, 3]);
        let (items, len) = into_raw_list(Vec::<u32>::new());
        assert!(items.is_null());
        assert_eq!(len, 0);
        assert!(unsafe { from_raw_list(items, len) }.is_empty());
    }

    #[test]
    fn health_is_plain_data() {
        let ok = oauth_refresh_health::from(&Health::OK);
        assert_eq!(ok.status, oauth_refresh_health_status::Ok);
        assert_eq!(ok.code, oauth_refresh_result::Ok);
        assert_eq!(ok.since_ms, 0);
        let failing = Health {
            status: HealthStatus::Failing,
            code: Some(oauth::ErrorCode::Timeout),
            refresh_token_state: Some(oauth::RefreshTokenState::Unknown),
            since: Some(UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123)),
            attempts: 2,
        };
        let c = oauth_refresh_health::from(&failing);
        assert_eq!(c.status, oauth_refresh_health_status::Failing);
        assert_eq!(c.code, oauth_refresh_result::Timeout);
        assert_eq!(c.refresh_token_state, oauth_refresh_token_state::Unknown);
        assert_eq!((c.since_ms, c.attempts), (1_700_000_000_123, 2));
    }

    #[test]
    fn every_event_kind_and_health_status_has_its_own_value() {
        assert_eq!(oauth_refresh_event_kind::NeedsReauthorization as u32, 2);
        assert_eq!(oauth_refresh_health_status::NeedsReauthorization as u32, 2);
        assert_eq!(oauth_refresh_event_kind::Recovered as u32, 3);
    }
}
