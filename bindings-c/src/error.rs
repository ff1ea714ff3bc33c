//! Result codes and the error object.

use std::ffi::{c_char, CStr, CString};

use oauth::{Error, ErrorCode, RefreshTokenState};

use crate::ffi::{c_string, guard, ptr_or_null, SecretCString};
use crate::token::oauth_refresh_token;

/// What a call returned. Values are stable and never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum oauth_refresh_result {
    /// Success.
    Ok = 0,
    /// The input was refused before any I/O.
    InvalidInput = 1,
    /// The server refused the refresh token: authorize again.
    InvalidGrant = 2,
    /// The server refused the client credentials.
    InvalidClient = 3,
    /// The server says the request is malformed.
    InvalidRequest = 4,
    /// The server refused the requested scope.
    InvalidScope = 5,
    /// The client may not use this grant.
    UnauthorizedClient = 6,
    /// The server does not support this grant type.
    UnsupportedGrantType = 7,
    /// HTTP 429.
    RateLimited = 8,
    /// HTTP 5xx, `server_error` or `temporarily_unavailable`.
    ServerError = 9,
    /// Another non-2xx answer without an OAuth error body.
    HttpStatus = 10,
    /// A connect timeout, or no answer after the request was sent.
    Timeout = 11,
    /// The connection was refused, not resolved, or reset.
    Connection = 12,
    /// The TLS handshake or certificate check failed.
    Tls = 13,
    /// A 2xx answer that is not a valid token.
    InvalidResponse = 14,
    /// A token store could not be read or written.
    StoreFailed = 15,
    /// The store (Redis) could not be reached when a refresh had to be coordinated; nothing
    /// was sent. A still-valid token is returned instead while there is one.
    StoreUnavailable = 16,
    /// A stored token could not be decrypted: wrong key, or a key for a plain store (or
    /// none for an encrypted one).
    StoreDecrypt = 17,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// An internal error: a bug caught as a panic, in the core (its `internal` code) or at
    /// the C boundary. The refresh token state says whether the request may have left
    /// (`UNKNOWN`) or not (`UNUSED`).
    Panic = 102,
}

impl From<ErrorCode> for oauth_refresh_result {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::InvalidInput => oauth_refresh_result::InvalidInput,
            ErrorCode::InvalidGrant => oauth_refresh_result::InvalidGrant,
            ErrorCode::InvalidClient => oauth_refresh_result::InvalidClient,
            ErrorCode::InvalidRequest => oauth_refresh_result::InvalidRequest,
            ErrorCode::InvalidScope => oauth_refresh_result::InvalidScope,
            ErrorCode::UnauthorizedClient => oauth_refresh_result::UnauthorizedClient,
            ErrorCode::UnsupportedGrantType => oauth_refresh_result::UnsupportedGrantType,
            ErrorCode::RateLimited => oauth_refresh_result::RateLimited,
            ErrorCode::ServerError => oauth_refresh_result::ServerError,
            ErrorCode::HttpStatus => oauth_refresh_result::HttpStatus,
            ErrorCode::Timeout => oauth_refresh_result::Timeout,
            ErrorCode::Connection => oauth_refresh_result::Connection,
            ErrorCode::Tls => oauth_refresh_result::Tls,
            ErrorCode::InvalidResponse => oauth_refresh_result::InvalidResponse,
            ErrorCode::StoreFailed => oauth_refresh_result::StoreFailed,
            ErrorCode::StoreUnavailable => oauth_refresh_result::StoreUnavailable,
            ErrorCode::StoreDecrypt => oauth_refresh_result::StoreDecrypt,
            // A panic the core caught: C has called this "panic" since the first version.
            ErrorCode::Internal => oauth_refresh_result::Panic,
            // Every code is named above. The core marks ErrorCode #[non_exhaustive], so Rust
            // demands this arm; a code added later would land here, and the unit test
            // `every_core_code_has_its_own_result_and_name` (over ErrorCode::ALL) fails
            // until it has its own result value.
            _ => oauth_refresh_result::Panic,
        }
    }
}

/// What a failure means for the refresh token that was sent.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum oauth_refresh_token_state {
    /// The server did not consume it: safe to retry with it.
    Unused = 0,
    /// The server refused it: authorize again.
    Rejected = 1,
    /// It was sent and the outcome is not known: it may have been consumed.
    Unknown = 2,
}

impl From<RefreshTokenState> for oauth_refresh_token_state {
    fn from(state: RefreshTokenState) -> Self {
        match state {
            RefreshTokenState::Unused => oauth_refresh_token_state::Unused,
            RefreshTokenState::Rejected => oauth_refresh_token_state::Rejected,
            RefreshTokenState::Unknown => oauth_refresh_token_state::Unknown,
        }
    }
}

/// Details of a failure. Create: any call that takes an `error_out`. Free exactly once with
/// oauth_refresh_error_free(). Strings it returns live as long as the error.
pub struct oauth_refresh_error {
    pub(crate) code: oauth_refresh_result,
    message: CString,
    state: oauth_refresh_token_state,
    retryable: bool,
    status: u16,
    error: Option<CString>,
    error_description: Option<CString>,
    error_uri: Option<CString>,
    retry_after_ms: i64,
    salvaged_refresh_token: Option<SecretCString>,
    token: Option<Box<oauth_refresh_token>>,
}

impl oauth_refresh_error {
    /// An error raised by the binding itself (NULL, UTF-8): nothing was sent.
    pub(crate) fn plain(code: oauth_refresh_result, message: &str) -> Self {
        Self::with_state(code, message, oauth_refresh_token_state::Unused)
    }

    /// An error raised by the binding itself, with what it means for the refresh token (a
    /// panic caught while a request may have left is `Unknown`).
    pub(crate) fn with_state(
        code: oauth_refresh_result,
        message: &str,
        state: oauth_refresh_token_state,
    ) -> Self {
        oauth_refresh_error {
            code,
            message: c_string(message),
            state,
            retryable: false,
            status: 0,
            error: None,
            error_description: None,
            error_uri: None,
            retry_after_ms: -1,
            salvaged_refresh_token: None,
            token: None,
        }
    }
}

impl oauth_refresh_error {
    /// A 2xx token that C cannot hold (a secret with a NUL byte). The core classifies such
    /// answers as `invalid_response` itself, so this is a defensive path: the answer was
    /// received, so the sent refresh token may have been consumed (`Unknown`), and the
    /// token's own refresh token is handed over when C can hold it.
    pub(crate) fn unrepresentable_token(token: &oauth::Token) -> Self {
        let mut error = Self::with_state(
            oauth_refresh_result::InvalidResponse,
            "invalid_response: the server sent a token containing a NUL byte",
            oauth_refresh_token_state::Unknown,
        );
        error.salvaged_refresh_token = token.refresh_token().and_then(SecretCString::new);
        error
    }
}

impl From<&Error> for Box<oauth_refresh_error> {
    fn from(e: &Error) -> Self {
        Box::new(oauth_refresh_error {
            code: e.code().into(),
            message: c_string(&e.to_string()),
            state: e.refresh_token_state().into(),
            retryable: e.is_retryable(),
            status: e.status().unwrap_or(0),
            error: e.error().map(c_string),
            error_description: e.error_description().map(c_string),
            error_uri: e.error_uri().map(c_string),
            retry_after_ms: e
                .retry_after()
                .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            salvaged_refresh_token: e.salvaged_refresh_token().and_then(SecretCString::new),
            token: e.token().and_then(oauth_refresh_token::new).map(Box::new),
        })
    }
}

/// The error's result code (never `OAUTH_REFRESH_RESULT_OK`); `OAUTH_REFRESH_RESULT_NULL_ARGUMENT`
/// if `error` is NULL.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_code(
    error: *const oauth_refresh_error,
) -> oauth_refresh_result {
    guard(oauth_refresh_result::Panic, || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(oauth_refresh_result::NullArgument, |e| e.code)
    })
}

/// A message without any secret. Valid until the error is freed; NULL if `error` is NULL.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_message(error: *const oauth_refresh_error) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(std::ptr::null(), |e| e.message.as_ptr())
    })
}

/// What the failure means for the refresh token that was sent (`UNUSED` if `error` is NULL).
#[no_mangle]
pub extern "C" fn oauth_refresh_error_refresh_token_state(
    error: *const oauth_refresh_error,
) -> oauth_refresh_token_state {
    guard(oauth_refresh_token_state::Unknown, || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(oauth_refresh_token_state::Unused, |e| e.state)
    })
}

/// True when a retry with the same refresh token may succeed and cannot burn it.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_retryable(error: *const oauth_refresh_error) -> bool {
    // SAFETY: NULL or a live error from this library.
    guard(false, || {
        unsafe { error.as_ref() }.is_some_and(|e| e.retryable)
    })
}

/// The HTTP status, or 0 when the server did not answer (or `error` is NULL).
#[no_mangle]
pub extern "C" fn oauth_refresh_error_status(error: *const oauth_refresh_error) -> u16 {
    // SAFETY: NULL or a live error from this library.
    guard(0, || unsafe { error.as_ref() }.map_or(0, |e| e.status))
}

/// The server's `error`, or NULL. Valid until the error is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_error(error: *const oauth_refresh_error) -> *const c_char {
    // SAFETY: NULL or a live error from this library.
    guard(std::ptr::null(), || {
        unsafe { error.as_ref() }.map_or(std::ptr::null(), |e| ptr_or_null(&e.error))
    })
}

/// The server's `error_description`, or NULL. Valid until the error is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_error_description(
    error: *const oauth_refresh_error,
) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(std::ptr::null(), |e| ptr_or_null(&e.error_description))
    })
}

/// The server's `error_uri`, or NULL. Valid until the error is freed.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_error_uri(
    error: *const oauth_refresh_error,
) -> *const c_char {
    // SAFETY: NULL or a live error from this library.
    guard(std::ptr::null(), || {
        unsafe { error.as_ref() }.map_or(std::ptr::null(), |e| ptr_or_null(&e.error_uri))
    })
}

/// How long the server asked to wait, in milliseconds, or -1.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_retry_after_ms(error: *const oauth_refresh_error) -> i64 {
    // SAFETY: NULL or a live error from this library.
    guard(-1, || {
        unsafe { error.as_ref() }.map_or(-1, |e| e.retry_after_ms)
    })
}

/// On `OAUTH_REFRESH_RESULT_INVALID_RESPONSE`: a new refresh token found in the broken
/// response (the server probably rotated: store it), else NULL. Valid until the error is
/// freed, which wipes it.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_salvaged_refresh_token(
    error: *const oauth_refresh_error,
) -> *const c_char {
    guard(std::ptr::null(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }
            .and_then(|e| e.salvaged_refresh_token.as_ref())
            .map_or(std::ptr::null(), SecretCString::as_ptr)
    })
}

/// On `OAUTH_REFRESH_RESULT_STORE_FAILED` after a refresh: the new token, which the server
/// issued but the store could not keep (its refresh token is the only valid one: store it
/// yourself). NULL otherwise, or if `error` is NULL. It belongs to the error: read it with the
/// token getters while the error lives, and do not free it.
#[no_mangle]
pub extern "C" fn oauth_refresh_error_token(
    error: *const oauth_refresh_error,
) -> *const oauth_refresh_token {
    guard(std::ptr::null(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }
            .and_then(|e| e.token.as_deref())
            .map_or(std::ptr::null(), |t| t as *const oauth_refresh_token)
    })
}

/// Frees an error. Call exactly once, only with a pointer this library returned (or NULL,
/// which is ignored).
#[no_mangle]
pub extern "C" fn oauth_refresh_error_free(error: *mut oauth_refresh_error) {
    guard((), || {
        if !error.is_null() {
            // SAFETY: a pointer this library handed out, freed once by contract.
            drop(unsafe { Box::from_raw(error) });
        }
    })
}

/// The snake_case name of a result code (`"invalid_grant"`), a static string; `"unknown"`
/// for a value this version does not know. Takes an integer so any value is safe to pass.
#[no_mangle]
pub extern "C" fn oauth_refresh_result_name(result: u32) -> *const c_char {
    let name: &'static CStr = match result {
        0 => c"ok",
        1 => c"invalid_input",
        2 => c"invalid_grant",
        3 => c"invalid_client",
        4 => c"invalid_request",
        5 => c"invalid_scope",
        6 => c"unauthorized_client",
        7 => c"unsupported_grant_type",
        8 => c"rate_limited",
        9 => c"server_error",
        10 => c"http_status",
        11 => c"timeout",
        12 => c"connection",
        13 => c"tls",
        14 => c"invalid_response",
        15 => c"store_failed",
        16 => c"store_unavailable",
        17 => c"store_decrypt",
        100 => c"null_argument",
        101 => c"invalid_utf8",
        102 => c"panic",
        _ => c"unknown",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::ffi::CStr;

    use oauth::ErrorCode;

    use super::{oauth_refresh_result, oauth_refresh_result_name};

    fn name(result: oauth_refresh_result) -> &'static str {
        // SAFETY: a static, NUL-terminated string.
        unsafe { CStr::from_ptr(oauth_refresh_result_name(result as u32)) }
            .to_str()
            .expect("ASCII")
    }

    #[test]
    fn every_core_code_has_its_own_result_and_name() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let result = oauth_refresh_result::from(code);
            assert_ne!(result, oauth_refresh_result::Ok, "{code}");
            assert!(seen.insert(result as u32), "{code} shares {result:?}");
            let expected = match code {
                ErrorCode::Internal => "panic",
                other => other.as_str(),
            };
            assert_eq!(name(result), expected);
        }
        // The core's codes come first, in the order of the result values.
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            if *code != ErrorCode::Internal {
                assert_eq!(oauth_refresh_result::from(*code) as usize, i + 1, "{code}");
            }
        }
    }

    #[test]
    fn every_result_has_a_name() {
        for result in [
            oauth_refresh_result::Ok,
            oauth_refresh_result::NullArgument,
            oauth_refresh_result::InvalidUtf8,
            oauth_refresh_result::Panic,
        ] {
            assert_ne!(name(result), "unknown", "{result:?}");
        }
        assert_eq!(name(oauth_refresh_result::Ok), "ok");
        assert_eq!(name(oauth_refresh_result::Panic), "panic");
        // SAFETY: a static, NUL-terminated string.
        assert_eq!(
            unsafe { CStr::from_ptr(oauth_refresh_result_name(u32::MAX)) }.to_bytes(),
            b"unknown"
        );
    }
}
