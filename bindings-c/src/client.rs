//! Options, the client, and the two grants.

use std::ffi::c_char;

use oauth::options::Value;
use oauth::{
    ClientOptions, GustoEnvironment, RefreshGrantType, RefreshTokenRequest,
    SystemAccessTokenRequest,
};

use crate::error::{oauth_refresh_error, oauth_refresh_result};
use crate::ffi::{
    boundary, millis, opt_str, req_str, set_each, text, tri_state, Refusal, Sends, C,
};
use crate::token::oauth_refresh_token;

/// Client options. Start from oauth_refresh_client_options_default() or
/// oauth_refresh_gusto_options(), which fill in every default, and change fields. Strings
/// are borrowed only for the duration of oauth_refresh_client_new(); a NULL string means
/// "the default". Every value is checked by the core: a bad one is
/// `OAUTH_REFRESH_RESULT_INVALID_INPUT` naming the field.
#[repr(C)]
pub struct oauth_refresh_client_options {
    /// The token endpoint URL. Required, except with the Gusto preset (which sets it).
    pub token_url: *const c_char,
    /// Non-NULL selects the Gusto preset: `"demo"`, `"production"` or a base URL.
    pub environment: *const c_char,
    /// Gusto preset only: `X-Gusto-API-Version`, or NULL for the application's minimum.
    pub gusto_api_version: *const c_char,
    /// `"form"` (default) or `"json"`; must be NULL with the Gusto preset (JSON).
    pub body_encoding: *const c_char,
    /// `"basic"` (default, HTTP Basic) or `"post"` (credentials in the body); must be NULL
    /// with the Gusto preset (post).
    pub client_auth: *const c_char,
    /// Deadline for a whole refresh, retries included, in ms (default 30000; more than 0).
    pub timeout_ms: u64,
    /// Deadline for opening a connection, in ms (default 10000; more than 0).
    pub connect_timeout_ms: u64,
    /// Retries after the first attempt, only where safe (default 2; 0 disables retries).
    pub max_retries: u32,
    /// Also retry when the refresh token may have been consumed: only for servers that
    /// forgive a resent token. -1 (the default) means the preset's choice: yes with the Gusto
    /// preset, no otherwise; 0 no; 1 yes; anything else is
    /// `OAUTH_REFRESH_RESULT_INVALID_INPUT`.
    pub retry_unknown_outcome: i8,
    /// First wait between attempts in ms, doubled each retry, with jitter (default 200).
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts in ms, and the longest Retry-After honoured (default 10000).
    pub max_backoff_ms: u64,
    /// `headers_len` extra header names and values (two arrays of the same length), or NULL.
    /// Values are treated as secrets.
    pub header_names: *const *const c_char,
    /// See `header_names`.
    pub header_values: *const *const c_char,
    /// The number of extra headers.
    pub headers_len: usize,
    /// Replaces the default `oauth-refresh/<version> (c)`, or NULL.
    pub user_agent: *const c_char,
    /// Allow plain http:// to hosts other than loopback (default false).
    pub allow_insecure_http: bool,
    /// A PEM file of CA certificates trusted besides the built-in roots, or NULL.
    pub ca_file: *const c_char,
    /// Use HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment (default true; loopback
    /// is never proxied).
    pub proxy_from_env: bool,
    /// Idle connections kept open for reuse: one per thread that refreshes at once
    /// (default 32; 0 opens a connection per refresh).
    pub max_idle_connections: u32,
}

/// A refresh request. Field names follow Gusto's `RefreshTokenRequest`; strings are borrowed
/// for the duration of the call.
#[repr(C)]
pub struct oauth_refresh_request {
    /// Your client ID. Required.
    pub client_id: *const c_char,
    /// Your client secret. Required.
    pub client_secret: *const c_char,
    /// NULL means `"refresh_token"`; any other value is `OAUTH_REFRESH_RESULT_INVALID_INPUT`.
    pub grant_type: *const c_char,
    /// The refresh token to exchange. Required.
    pub refresh_token: *const c_char,
    /// The redirect URI you set up via the Developer Portal (Gusto), or NULL.
    pub redirect_uri: *const c_char,
    /// A narrower scope to request, or NULL.
    pub scope: *const c_char,
}

/// Refreshes tokens at one token endpoint and keeps connections alive. Thread-safe: one
/// client may be used by many threads at once. Create with oauth_refresh_client_new(),
/// free with oauth_refresh_client_free() once no thread uses it.
pub struct oauth_refresh_client(pub(crate) std::sync::Arc<oauth::Client>);

/// The C options holding the core's defaults for `core`.
fn defaults(core: &ClientOptions, environment: *const c_char) -> oauth_refresh_client_options {
    oauth_refresh_client_options {
        token_url: std::ptr::null(),
        environment,
        gusto_api_version: std::ptr::null(),
        body_encoding: std::ptr::null(),
        client_auth: std::ptr::null(),
        timeout_ms: millis(core.timeout),
        connect_timeout_ms: millis(core.connect_timeout),
        max_retries: core.max_retries,
        retry_unknown_outcome: -1,
        initial_backoff_ms: millis(core.initial_backoff),
        max_backoff_ms: millis(core.max_backoff),
        header_names: std::ptr::null(),
        header_values: std::ptr::null(),
        headers_len: 0,
        user_agent: std::ptr::null(),
        allow_insecure_http: core.allow_insecure_http,
        ca_file: std::ptr::null(),
        proxy_from_env: core.proxy_from_env,
        max_idle_connections: core.max_idle_connections,
    }
}

/// Options with every default (an RFC 6749 endpoint; set `token_url`).
#[no_mangle]
pub extern "C" fn oauth_refresh_client_options_default() -> oauth_refresh_client_options {
    defaults(&ClientOptions::default(), std::ptr::null())
}

/// Options for the Gusto preset. `environment` (`"demo"`, `"production"` or a base URL;
/// NULL means `"demo"`) is borrowed: it must stay valid until oauth_refresh_client_new().
#[no_mangle]
pub extern "C" fn oauth_refresh_gusto_options(
    environment: *const c_char,
) -> oauth_refresh_client_options {
    let environment = if environment.is_null() {
        c"demo".as_ptr()
    } else {
        environment
    };
    defaults(&ClientOptions::gusto(GustoEnvironment::Demo), environment)
}

/// The core's options from the C struct: each field by its C name, checked by the core.
///
/// # Safety
/// Every pointer in `o` is NULL or valid as documented on the struct.
unsafe fn build(
    o: &oauth_refresh_client_options,
) -> Result<oauth::Client, Box<oauth_refresh_error>> {
    // A required string left NULL is C's NULL_ARGUMENT, as for every entry point.
    let mut core = match unsafe { opt_str(o.environment, "environment") }? {
        Some(_) => ClientOptions::gusto(GustoEnvironment::Demo),
        None if o.token_url.is_null() => return Err(Refusal::null("options->token_url").into()),
        None => ClientOptions::default(),
    };
    core.surface = "c";
    let headers = unsafe { headers(o) }?;
    let values = [
        ("token_url", unsafe { text(o.token_url, "token_url") }?),
        ("environment", unsafe {
            text(o.environment, "environment")
        }?),
        ("gusto_api_version", unsafe {
            text(o.gusto_api_version, "gusto_api_version")
        }?),
        ("body_encoding", unsafe {
            text(o.body_encoding, "body_encoding")
        }?),
        ("client_auth", unsafe {
            text(o.client_auth, "client_auth")
        }?),
        ("timeout_ms", Value::Number(o.timeout_ms as f64)),
        (
            "connect_timeout_ms",
            Value::Number(o.connect_timeout_ms as f64),
        ),
        ("max_retries", Value::Number(o.max_retries.into())),
        ("retry_unknown_outcome", tri_state(o.retry_unknown_outcome)),
        (
            "initial_backoff_ms",
            Value::Number(o.initial_backoff_ms as f64),
        ),
        ("max_backoff_ms", Value::Number(o.max_backoff_ms as f64)),
        ("headers", headers),
        ("user_agent", unsafe { text(o.user_agent, "user_agent") }?),
        ("allow_insecure_http", Value::Bool(o.allow_insecure_http)),
        ("ca_file", unsafe { text(o.ca_file, "ca_file") }?),
        ("proxy_from_env", Value::Bool(o.proxy_from_env)),
        (
            "max_idle_connections",
            Value::Number(o.max_idle_connections.into()),
        ),
    ];
    set_each(values, |name, value| core.set(C, name, value))?;
    core.build().map_err(|e| Box::from(&e))
}

/// The extra headers as name/value pairs; NULL arrays with a length are refused.
///
/// # Safety
/// The arrays hold `headers_len` valid C strings each, as documented on the struct.
unsafe fn headers(o: &oauth_refresh_client_options) -> Result<Value, Refusal> {
    if o.headers_len == 0 {
        return Ok(Value::Null);
    }
    if o.header_names.is_null() || o.header_values.is_null() {
        return Err(Refusal::null("header_names or header_values"));
    }
    let mut pairs = Vec::with_capacity(o.headers_len);
    for i in 0..o.headers_len {
        // SAFETY: both arrays hold `headers_len` entries, as documented.
        let (name, value) = unsafe { (*o.header_names.add(i), *o.header_values.add(i)) };
        let name = unsafe { req_str(name, "a header name") }?;
        let value = unsafe { req_str(value, "a header value") }?;
        pairs.push((name.to_owned(), value.to_owned()));
    }
    Ok(Value::Pairs(pairs))
}

/// Creates a client. On success writes `*client_out` (free it exactly once with
/// oauth_refresh_client_free()); on failure writes `*error_out` if `error_out` is not NULL
/// (free it exactly once with oauth_refresh_error_free()).
///
/// # Safety
/// `options` is NULL or points to valid options; `client_out` and `error_out` are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_client_new(
    options: *const oauth_refresh_client_options,
    client_out: *mut *mut oauth_refresh_client,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Nothing, || {
        // SAFETY: NULL or valid, per the contract.
        let options = unsafe { options.as_ref() }.ok_or_else(|| Refusal::null("options"))?;
        if client_out.is_null() {
            return Err(Refusal::null("client_out").into());
        }
        let client = unsafe { build(options) }?;
        // SAFETY: checked not NULL above.
        unsafe {
            *client_out = Box::into_raw(Box::new(oauth_refresh_client(std::sync::Arc::new(client))))
        };
        Ok(())
    })
}

/// Frees a client. Call exactly once, only with a pointer this library returned (or NULL,
/// which is ignored). No other thread may be using it.
///
/// # Safety
/// `client` is NULL or a client from oauth_refresh_client_new(), not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_client_free(client: *mut oauth_refresh_client) {
    crate::ffi::guard((), || {
        if !client.is_null() {
            // SAFETY: per the contract.
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

/// Writes a finished exchange to the out-parameters.
///
/// A token with a NUL byte in a secret cannot reach C. The core already answers such a 2xx
/// with `invalid_response` (state unknown, the rotated refresh token salvaged), so this
/// only guards against a token that did not come through that check (a store record
/// written by hand): reported the same way, honestly (an answer may have come back, so the
/// sent refresh token may be consumed).
///
/// # Safety
/// `token_out` is writable (checked non-NULL by the caller).
pub(crate) unsafe fn deliver(
    result: Result<oauth::Token, oauth::Error>,
    token_out: *mut *mut oauth_refresh_token,
) -> Result<(), Box<oauth_refresh_error>> {
    let token = result.map_err(|e| Box::from(&e))?;
    let c_token = oauth_refresh_token::new(&token)
        .ok_or_else(|| Box::new(oauth_refresh_error::unrepresentable_token(&token)))?;
    // SAFETY: per the contract.
    unsafe { *token_out = Box::into_raw(Box::new(c_token)) };
    Ok(())
}

/// Exchanges a refresh token (blocking). On success writes `*token_out` (free it exactly
/// once with oauth_refresh_token_free()); on failure writes `*error_out` if it is not NULL
/// (free it exactly once with oauth_refresh_error_free()). A client may be used from
/// several threads at once.
///
/// # Safety
/// `client` is a live client; `request` points to a valid request whose strings are
/// NUL-terminated; `token_out`/`error_out` are NULL or writable.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_client_refresh(
    client: *const oauth_refresh_client,
    request: *const oauth_refresh_request,
    token_out: *mut *mut oauth_refresh_token,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        // SAFETY: NULL or valid, per the contract.
        let client = unsafe { client.as_ref() }.ok_or_else(|| Refusal::null("client"))?;
        let r = unsafe { request.as_ref() }.ok_or_else(|| Refusal::null("request"))?;
        if token_out.is_null() {
            return Err(Refusal::null("token_out").into());
        }
        let mut request = RefreshTokenRequest::new(
            unsafe { req_str(r.client_id, "request->client_id") }?,
            unsafe { req_str(r.client_secret, "request->client_secret") }?,
            unsafe { req_str(r.refresh_token, "request->refresh_token") }?,
        );
        if let Some(grant_type) = unsafe { opt_str(r.grant_type, "request->grant_type") }? {
            request.grant_type = RefreshGrantType::parse(grant_type).map_err(|e| Box::from(&e))?;
        }
        request.redirect_uri =
            unsafe { opt_str(r.redirect_uri, "request->redirect_uri") }?.map(str::to_owned);
        request.scope = unsafe { opt_str(r.scope, "request->scope") }?.map(str::to_owned);
        unsafe { deliver(client.0.refresh(&request), token_out) }
    })
}

/// Gusto's `system_access` grant (blocking): a token for the application, with no refresh
/// token. Out-parameters as oauth_refresh_client_refresh().
///
/// # Safety
/// As oauth_refresh_client_refresh(); the two strings are NUL-terminated.
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn oauth_refresh_client_system_access(
    client: *const oauth_refresh_client,
    client_id: *const c_char,
    client_secret: *const c_char,
    token_out: *mut *mut oauth_refresh_token,
    error_out: *mut *mut oauth_refresh_error,
) -> oauth_refresh_result {
    boundary(error_out, Sends::Request, || {
        // SAFETY: NULL or valid, per the contract.
        let client = unsafe { client.as_ref() }.ok_or_else(|| Refusal::null("client"))?;
        if token_out.is_null() {
            return Err(Refusal::null("token_out").into());
        }
        let request =
            SystemAccessTokenRequest::new(unsafe { req_str(client_id, "client_id") }?, unsafe {
                req_str(client_secret, "client_secret")
            }?);
        unsafe { deliver(client.0.system_access(&request), token_out) }
    })
}

/// The library version, a static string.
#[no_mangle]
pub extern "C" fn oauth_refresh_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::deliver;
    use crate::error::{
        oauth_refresh_error_code, oauth_refresh_error_message,
        oauth_refresh_error_refresh_token_state, oauth_refresh_error_salvaged_refresh_token,
        oauth_refresh_result, oauth_refresh_token_state,
    };
    use crate::token::oauth_refresh_token;
    use std::ffi::CStr;

    fn token(access_token: &str, refresh_token: &str) -> oauth::Token {
        let json = serde_json::json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "refresh_token": refresh_token,
        });
        oauth::Token::from_stored_json(&json.to_string()).expect("a stored token")
    }

    #[test]
    fn a_token_c_cannot_hold_is_an_honest_invalid_response() {
        let mut out: *mut oauth_refresh_token = std::ptr::null_mut();
        let error = unsafe { deliver(Ok(token("at\0x", "rt-next")), &mut out) }
            .expect_err("a NUL in the access token");
        assert!(out.is_null());
        assert_eq!(
            oauth_refresh_error_code(&*error),
            oauth_refresh_result::InvalidResponse
        );
        assert_eq!(
            oauth_refresh_error_refresh_token_state(&*error),
            oauth_refresh_token_state::Unknown
        );
        let salvaged = oauth_refresh_error_salvaged_refresh_token(&*error);
        assert_eq!(unsafe { CStr::from_ptr(salvaged) }.to_bytes(), b"rt-next");
        let message = unsafe { CStr::from_ptr(oauth_refresh_error_message(&*error)) };
        assert!(!message.to_string_lossy().contains("rt-next"));

        // A refresh token C cannot hold is not salvaged.
        let error = unsafe { deliver(Ok(token("at", "rt\0x")), &mut out) }
            .expect_err("a NUL in the refresh token");
        assert!(oauth_refresh_error_salvaged_refresh_token(&*error).is_null());
        assert!(out.is_null());
    }
}
