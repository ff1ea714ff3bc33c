//! The token manager: a valid access token for one account, refreshed once however many
//! threads (or processes sharing a file, or hosts sharing Redis) ask.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use oauth::options::Value;
use oauth::{ManagerConfig, ManagerOptions, TokenStore};

use crate::client::{deliver, oauth_refresh_client};
use crate::error::{oauth_refresh_error, oauth_refresh_result};
use crate::ffi::{
    boundary, guard, millis, required_text, secret_c_string, set_each, text, Refusal, Sends, C,
};
use crate::store::oauth_refresh_store;
use crate::token::oauth_refresh_token;

/// Called with every new token, on the thread that refreshed, after the token was stored or
/// when storing it failed. `token` is valid only during the call (copy what you keep).
/// A server answer C cannot hold (a NUL byte in a token) is not a new token: it fails the
/// refresh with `OAUTH_REFRESH_RESULT_INVALID_RESPONSE` instead.
pub type oauth_refresh_on_refresh =
    Option<unsafe extern "C" fn(user_data: *mut c_void, token: *const oauth_refresh_token)>;

/// Manager options; start from oauth_refresh_manager_options_default(), which fills in every
/// default, then change fields. Strings are borrowed for the duration of
/// oauth_refresh_manager_new().
#[repr(C)]
pub struct oauth_refresh_manager_options {
    /// Your client ID. Required.
    pub client_id: *const c_char,
    /// Your client secret. Required.
    pub client_secret: *const c_char,
    /// The refresh token to start from when the store is empty, or NULL.
    pub refresh_token: *const c_char,
    /// Sent as `scope` with every refresh (a narrower scope), or NULL to send none.
    pub scope: *const c_char,
    /// Sent as `redirect_uri` with every refresh (Gusto: the one set up in the Developer
    /// Portal), or NULL to send none.
    pub redirect_uri: *const c_char,
    /// Where the token is kept: a store from oauth_refresh_store_file_new() (one host),
    /// oauth_refresh_store_redis_new() or oauth_refresh_store_postgres_new() with an account
    /// (many hosts) or
    /// oauth_refresh_store_memory_new() (shared in this process), or NULL to keep it in this
    /// manager's memory. The manager keeps its own reference: the store may be freed after
    /// oauth_refresh_manager_new().
    pub store: *const oauth_refresh_store,
    /// Refresh when less than this fraction of the lifetime is left (default 0.1).
    pub refresh_fraction: f64,
    /// ... but never later than this before expiry, in ms (default 30000; 0 is allowed).
    pub min_window_ms: u64,
    /// Up to this fraction of the window is added at random, so that managers do not refresh
    /// in lockstep (default 0.1).
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
    /// Called with every new token, or NULL.
    pub on_refresh: oauth_refresh_on_refresh,
    /// Passed to `on_refresh` unchanged. The caller keeps it valid while the manager lives.
    pub user_data: *mut c_void,
}

/// Serves a valid access token for one account. Thread-safe. Create with
/// oauth_refresh_manager_new(), free exactly once with oauth_refresh_manager_free().
pub struct oauth_refresh_manager(oauth::TokenManager);

/// The C callback and its data, made sendable: the caller promises thread-safety by
/// passing them to a manager that may refresh on any thread.
struct Hook(
    unsafe extern "C" fn(*mut c_void, *const oauth_refresh_token),
    *mut c_void,
);

// SAFETY: documented on `oauth_refresh_manager_options::on_refresh`: the callback may run on
// any thread that calls into the manager, and `user_data` is the caller's to synchronize.
unsafe impl Send for Hook {}
unsafe impl Sync for Hook {}

impl Hook {
    fn call(&self, token: &oauth_refresh_token) {
        // SAFETY: the caller's callback, called as documented.
        unsafe { (self.0)(self.1, token) }
    }
}

/// Options with every default, taken from the core (fill in `client_id` and
/// `client_secret`).
#[no_mangle]
pub extern "C" fn oauth_refresh_manager_options_default() -> oauth_refresh_manager_options {
    let core = ManagerOptions::default();
    oauth_refresh_manager_options {
        client_id: std::ptr::null(),
        client_secret: std::ptr::null(),
        refresh_token: std::ptr::null(),
        scope: std::ptr::null(),
        redirect_uri: std::ptr::null(),
        store: std::ptr::null(),
        refresh_fraction: core.refresh_fraction,
        min_window_ms: millis(core.min_window),
        jitter: core.jitter,
        default_lifetime_ms: millis(core.default_lifetime),
        lease_wait_ms: millis(core.lease_wait),
        lease_ttl_ms: millis(core.lease_ttl),
        refresh_without_store: core.refresh_without_store,
        on_refresh: None,
        user_data: std::ptr::null_mut(),
    }
}

/// Creates a manager refreshing through `client`. The manager keeps its own reference to
/// the client, so the client may be freed before the manager. On success writes
/// `*manager_out` (free it exactly once with oauth_refresh_manager_free()); on failure
/// writes `*error_out` if it is not NULL (free it exactly once with
/// oauth_refresh_error_free()).
///
/// # Safety
/// `client` is a live client; `options` points to valid options; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_manager_new(
    client: *const oauth_refresh_client,
    options: *const oauth_refresh_manager_options,
    manager_out: *mut *mut oauth_refresh_manager,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let client = unsafe { client.as_ref() }.ok_or_else(|| Refusal::null("client"))?;
        let o = unsafe { options.as_ref() }.ok_or_else(|| Refusal::null("options"))?;
        if manager_out.is_null() {
            return Err(Refusal::null("manager_out").into());
        }
        let values = [
            ("client_id", unsafe {
                required_text(o.client_id, "options->client_id")
            }?),
            ("client_secret", unsafe {
                required_text(o.client_secret, "options->client_secret")
            }?),
            ("refresh_token", unsafe {
                text(o.refresh_token, "refresh_token")
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
        ];
        let mut config = ManagerConfig::default();
        set_each(values, |name, value| config.set(C, name, value))?;
        // SAFETY: NULL or a live store, per the contract.
        let store: Arc<dyn TokenStore> = match unsafe { o.store.as_ref() } {
            Some(store) => store.token.clone(),
            None => Arc::new(oauth::MemoryStore::new()),
        };
        let mut manager = config
            .build(client.0.clone(), store)
            .map_err(|e| Box::from(&e))?;
        if let Some(callback) = o.on_refresh {
            let hook = Hook(callback, o.user_data);
            manager = manager.on_refresh(move |token| {
                // Always converts: the core answers a token whose secrets hold a NUL with
                // invalid_response and never hands it to a hook. Were one to slip through,
                // the callback is skipped but not silently: the same token then fails
                // oauth_refresh_manager_token() with INVALID_RESPONSE (see `deliver`), its
                // refresh token salvaged on the error.
                if let Some(c_token) = oauth_refresh_token::new(token) {
                    hook.call(&c_token);
                }
            });
        }
        // SAFETY: checked not NULL above.
        unsafe { *manager_out = Box::into_raw(Box::new(oauth_refresh_manager(manager))) };
        Ok(())
    })
}

/// The current token, refreshed first if needed (blocking). On success writes `*token_out`
/// (free it exactly once with oauth_refresh_token_free()); on failure writes `*error_out`
/// if not NULL (free it exactly once with oauth_refresh_error_free()).
/// `OAUTH_REFRESH_RESULT_STORE_FAILED` means the new token could not be stored; the
/// `on_refresh` callback has seen it.
///
/// # Safety
/// `manager` is a live manager; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_manager_token(
    manager: *const oauth_refresh_manager,
    token_out: *mut *mut oauth_refresh_token,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        // SAFETY: NULL or valid, per the contract.
        let manager = unsafe { manager.as_ref() }.ok_or_else(|| Refusal::null("manager"))?;
        if token_out.is_null() {
            return Err(Refusal::null("token_out").into());
        }
        unsafe { deliver(manager.0.token(), token_out) }
    })
}

/// The current access token, refreshed first if needed (blocking): as
/// oauth_refresh_manager_token(), but only the access token. On success writes
/// `*access_token_out`, a copy the caller owns: free it exactly once with
/// oauth_refresh_string_free(), which wipes it. On failure writes `*error_out` if not NULL
/// (free it exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `manager` is a live manager; out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_manager_access_token(
    manager: *const oauth_refresh_manager,
    access_token_out: *mut *mut c_char,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        // SAFETY: NULL or valid, per the contract.
        let manager = unsafe { manager.as_ref() }.ok_or_else(|| Refusal::null("manager"))?;
        if access_token_out.is_null() {
            return Err(Refusal::null("access_token_out").into());
        }
        let token = manager.0.token().map_err(|e| Box::from(&e))?;
        let copy = secret_c_string(token.access_token())
            .ok_or_else(|| Box::new(oauth_refresh_error::unrepresentable_token(&token)))?;
        // SAFETY: checked not NULL above.
        unsafe { *access_token_out = copy.into_raw() };
        Ok(())
    })
}

/// The manager's counters since it was created: refreshes it performed, tokens it adopted
/// from the store because another process refreshed first, and refreshes that failed. On
/// success writes all three; `OAUTH_REFRESH_RESULT_NULL_ARGUMENT` (writing nothing) if any
/// pointer is NULL.
///
/// # Safety
/// `manager` is NULL or a live manager; the out-pointers are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_manager_stats(
    manager: *const oauth_refresh_manager,
    refreshes_out: *mut u64,
    adoptions_out: *mut u64,
    failures_out: *mut u64,
) -> oauth_refresh_result {
    boundary(std::ptr::null_mut(), Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let manager = unsafe { manager.as_ref() }.ok_or_else(|| Refusal::null("manager"))?;
        if refreshes_out.is_null() || adoptions_out.is_null() || failures_out.is_null() {
            return Err(Refusal::null("an out-pointer").into());
        }
        let stats = manager.0.stats();
        // SAFETY: checked not NULL above.
        unsafe {
            *refreshes_out = stats.refreshes;
            *adoptions_out = stats.adoptions;
            *failures_out = stats.failures;
        }
        Ok(())
    })
}

/// Marks the token stale (say, after the API answered 401): the next call refreshes.
/// NULL is a no-op.
#[no_mangle]
pub extern "C" fn oauth_refresh_manager_invalidate(manager: *const oauth_refresh_manager) {
    // SAFETY: NULL or a live manager from this library.
    guard((), || {
        if let Some(m) = unsafe { manager.as_ref() } {
            m.0.invalidate();
        }
    })
}

/// After a refresh whose outcome is unknown (state `UNKNOWN`: a timeout after sending, a
/// 5xx, a broken answer), the manager does not send that refresh token again by itself: a
/// server that rotates tokens may revoke the whole grant when an old token comes back.
/// Every oauth_refresh_manager_token() then fails at once with the same code and state (its
/// message says "not resent"), sending nothing, until this is called: it lets the next call
/// send the refresh token once more. Call it once you know the token is still good, or
/// accept the risk. NULL is a no-op.
#[no_mangle]
pub extern "C" fn oauth_refresh_manager_allow_resend(manager: *const oauth_refresh_manager) {
    // SAFETY: NULL or a live manager from this library.
    guard((), || {
        if let Some(m) = unsafe { manager.as_ref() } {
            m.0.allow_resend();
        }
    })
}

/// Frees a manager. Call exactly once, only with a pointer this library returned (or NULL,
/// which is ignored). No other thread may be using it.
///
/// # Safety
/// `manager` is NULL or a manager from oauth_refresh_manager_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_manager_free(manager: *mut oauth_refresh_manager) {
    guard((), || {
        if !manager.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(manager) });
        }
    })
}
