//! The token object and its getters.

use std::ffi::{c_char, CString};
use std::time::Duration;

use oauth::Token;

use crate::ffi::{c_string, guard, ptr_or_null, wipe_c_string, SecretCString};

/// A token response. Create: oauth_refresh_client_refresh(),
/// oauth_refresh_client_system_access() or oauth_refresh_manager_token(). Free exactly once
/// with oauth_refresh_token_free(), which wipes its secrets. Every string it returns lives
/// as long as the token.
pub struct oauth_refresh_token {
    /// The core's token, for what C asks of it beyond its fields (is_expired).
    token: Token,
    access_token: SecretCString,
    token_type: CString,
    expires_in: i64,
    expires_at_ms: i64,
    refresh_token: Option<SecretCString>,
    refresh_token_rotated: bool,
    scope: Option<CString>,
    created_at: i64,
    id_token: Option<SecretCString>,
    extra_json: CString,
}

impl oauth_refresh_token {
    /// `None` when a secret holds a NUL byte, which C cannot represent (no valid token does).
    pub(crate) fn new(token: &Token) -> Option<Self> {
        // Absent stays absent; present but holding a NUL fails the whole token.
        let secret = |s: Option<&str>| match s {
            None => Some(None),
            Some(v) => SecretCString::new(v).map(Some),
        };
        Some(oauth_refresh_token {
            token: token.clone(),
            access_token: SecretCString::new(token.access_token())?,
            token_type: c_string(token.token_type()),
            expires_in: token
                .expires_in()
                .map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX)),
            expires_at_ms: token.expires_at_unix().map_or(-1, |s| (s * 1000.0) as i64),
            refresh_token: secret(token.refresh_token())?,
            refresh_token_rotated: token.refresh_token_rotated(),
            scope: token.scope().map(c_string),
            created_at: token.created_at().unwrap_or(-1),
            id_token: secret(token.id_token())?,
            extra_json: c_string(
                &serde_json::to_string(token.extra()).expect("JSON values serialize"),
            ),
        })
    }
}

/// Runs `f` on a live token, or returns `fallback` for NULL (or a panic).
fn with<T>(
    token: *const oauth_refresh_token,
    fallback: T,
    f: impl FnOnce(&oauth_refresh_token) -> T,
) -> T
where
    T: Copy,
{
    // SAFETY: NULL or a live token from this library.
    guard(fallback, || unsafe { token.as_ref() }.map_or(fallback, f))
}

/// The access token. Valid until the token is freed; NULL if `token` is NULL.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_access_token(
    token: *const oauth_refresh_token,
) -> *const c_char {
    with(token, std::ptr::null(), |t| t.access_token.as_ptr())
}

/// `"Bearer"` (normalized from any case) or the server's other type. Valid until the token is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_token_type(
    token: *const oauth_refresh_token,
) -> *const c_char {
    with(token, std::ptr::null(), |t| t.token_type.as_ptr())
}

/// Lifetime in seconds as the server sent it, or -1.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_expires_in(token: *const oauth_refresh_token) -> i64 {
    with(token, -1, |t| t.expires_in)
}

/// When the access token expires, in Unix milliseconds (request send time plus
/// `expires_in`), or -1.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_expires_at_ms(token: *const oauth_refresh_token) -> i64 {
    with(token, -1, |t| t.expires_at_ms)
}

/// The refresh token to use next time (the new one, or the one sent when the server did
/// not rotate); NULL for system_access. Valid until the token is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_refresh_token(
    token: *const oauth_refresh_token,
) -> *const c_char {
    with(token, std::ptr::null(), |t| {
        t.refresh_token
            .as_ref()
            .map_or(std::ptr::null(), SecretCString::as_ptr)
    })
}

/// True when the server returned a refresh token different from the one sent.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_refresh_token_rotated(
    token: *const oauth_refresh_token,
) -> bool {
    with(token, false, |t| t.refresh_token_rotated)
}

/// The granted scope, or NULL. Valid until the token is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_scope(token: *const oauth_refresh_token) -> *const c_char {
    with(token, std::ptr::null(), |t| ptr_or_null(&t.scope))
}

/// The server's `created_at` in Unix seconds, or -1.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_created_at(token: *const oauth_refresh_token) -> i64 {
    with(token, -1, |t| t.created_at)
}

/// The OpenID Connect ID token, or NULL. Valid until the token is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_id_token(token: *const oauth_refresh_token) -> *const c_char {
    with(token, std::ptr::null(), |t| {
        t.id_token
            .as_ref()
            .map_or(std::ptr::null(), SecretCString::as_ptr)
    })
}

/// Every other response field, as a JSON object text (`{}` when none). Valid until the
/// token is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_extra_json(
    token: *const oauth_refresh_token,
) -> *const c_char {
    with(token, std::ptr::null(), |t| t.extra_json.as_ptr())
}

/// True when the access token expires within `leeway_ms` milliseconds from now (0: has
/// expired). False for a token without a known expiry. True if `token` is NULL: no token is
/// no usable token.
#[no_mangle]
pub extern "C" fn oauth_refresh_token_is_expired(
    token: *const oauth_refresh_token,
    leeway_ms: u64,
) -> bool {
    with(token, true, |t| {
        t.token.is_expired(Duration::from_millis(leeway_ms))
    })
}

/// Frees a string this library handed to the caller (from
/// oauth_refresh_manager_access_token()) and wipes it. Call exactly once per string, or
/// with NULL, which is ignored. Never pass a string a getter returned: those belong to
/// their object.
///
/// # Safety
/// `string` is NULL or a string this library handed over for the caller to free.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_string_free(string: *mut c_char) {
    guard((), || {
        if !string.is_null() {
            // SAFETY: per the contract.
            unsafe { wipe_c_string(string) };
        }
    })
}

/// Frees a token and wipes its secrets. Call exactly once, only with a pointer this library
/// returned (or NULL, which is ignored).
#[no_mangle]
pub extern "C" fn oauth_refresh_token_free(token: *mut oauth_refresh_token) {
    guard((), || {
        if !token.is_null() {
            // SAFETY: a pointer this library handed out, freed once by contract.
            drop(unsafe { Box::from_raw(token) });
        }
    })
}
