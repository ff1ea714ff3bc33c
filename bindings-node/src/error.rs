//! Core errors become `OAuthRefreshError` instances. The class is JavaScript (a native class
//! cannot extend `Error`), created once per environment when the addon loads.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;

use napi::bindgen_prelude::*;
use oauth_refresh::{ErrorCode, RefreshTokenState};

/// The factory's arguments: message, code, refreshTokenState, retryable, status, error,
/// errorDescription, errorUri, retryAfterMs, refreshToken, token.
type Fields = (
    String,
    String,
    &'static str,
    bool,
    Option<u32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<crate::token::Token>,
);

type Make = FunctionRef<FnArgs<Fields>, Unknown<'static>>;

thread_local! {
    // One per JavaScript environment: each runs on its own thread.
    static MAKE: RefCell<Option<Make>> = const { RefCell::new(None) };
}

/// Defines the class, exports it, and keeps the factory for `to_js_error`.
pub fn install(env: &Env, exports: &mut Object) -> Result<()> {
    let pair: Array = env.run_script(include_str!("error.js"))?;
    let class: Unknown = pair
        .get(0)?
        .ok_or_else(|| Error::from_reason("error class missing"))?;
    exports.set_named_property("OAuthRefreshError", class)?;
    let make: Function<FnArgs<_>, Unknown> = pair
        .get(1)?
        .ok_or_else(|| Error::from_reason("error factory missing"))?;
    let make = make.create_ref()?;
    MAKE.with(|cell| cell.replace(Some(make)));
    Ok(())
}

/// The spec's code, upper-cased: `INVALID_GRANT`, ..., `INTERNAL`. Derived from the core's
/// name for every code, so no code can fall through to a made-up one (`ErrorCode` is
/// `#[non_exhaustive]`, so a `match` outside the core would need a catch-all arm).
fn code(code: ErrorCode) -> String {
    code.as_str().to_ascii_uppercase()
}

/// Every code the binding can throw, in `ErrorCode::ALL`'s order (exported as `ERROR_CODES`).
pub fn all_codes() -> Vec<String> {
    ErrorCode::ALL.into_iter().map(code).collect()
}

/// Calls the JavaScript factory: a napi error that throws the `OAuthRefreshError` built
/// from `fields`.
fn build(env: &Env, fields: Fields) -> Error {
    let built = MAKE.with(|cell| -> Result<Error> {
        let cell = cell.borrow();
        let make = cell
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        let value = make.borrow_back(env)?.call(FnArgs::from(fields))?;
        Ok(Error::from(value))
    });
    built.unwrap_or_else(|e| e)
}

/// A napi error that throws the `OAuthRefreshError` for `err`.
pub fn to_js_error(env: &Env, err: &oauth_refresh::Error) -> Error {
    build(
        env,
        (
            err.to_string(),
            code(err.code()),
            err.refresh_token_state().as_str(),
            err.is_retryable(),
            err.status().map(u32::from),
            err.error().map(str::to_owned),
            err.error_description().map(str::to_owned),
            err.error_uri().map(str::to_owned),
            err.retry_after().map(|d| d.as_secs_f64() * 1000.0),
            err.salvaged_refresh_token().map(str::to_owned),
            err.token().map(|t| crate::token::Token(t.clone())),
        ),
    )
}

/// For [`guard`]: a request may have left, so after a panic the refresh token's state is
/// unknown.
pub const SENT: RefreshTokenState = RefreshTokenState::Unknown;
/// For [`guard`]: no request was made.
pub const NOT_SENT: RefreshTokenState = RefreshTokenState::Unused;

/// `INTERNAL`: a panic the binding caught. `state` is `Unknown` when a request may have
/// left, `Unused` when none was made.
pub fn internal_error(env: &Env, state: RefreshTokenState) -> Error {
    to_js_error(env, &oauth_refresh::Error::internal(state))
}

/// Runs `f` and turns a panic into `OAuthRefreshError` `INTERNAL` (the addon's boundary:
/// a panic unwinding into Node would abort the process). `state` is what the failure
/// means for the refresh token: `Unknown` where `f` may have sent a request.
pub fn guard<T>(env: &Env, state: RefreshTokenState, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        // A payload whose own Drop panics must not unwind from here.
        std::mem::forget(payload);
        Err(internal_error(env, state))
    })
}

/// `INVALID_INPUT` raised by the binding itself (a bad option value).
pub fn invalid_input(env: &Env, message: impl Into<String>) -> Error {
    to_js_error(env, &oauth_refresh::Error::invalid_input(message))
}

/// Converts an argument, turning napi's conversion failure into a `TypeError` that names
/// the field but never echoes the value (it may be a secret of the wrong type).
pub fn convert<T: FromNapiValue>(env: &Env, value: Unknown<'_>, what: &str) -> Result<T> {
    // SAFETY: `value` is a live handle of this environment.
    unsafe { T::from_napi_value(env.raw(), value.raw()) }.map_err(|e| {
        let detail = match e.reason.rfind(" on ") {
            Some(i) if e.reason.starts_with("Failed to convert") => {
                format!("wrong type for {}", &e.reason[i + 4..])
            }
            _ if e.reason.starts_with("Failed to convert") => "wrong type".to_owned(),
            _ => e.reason.clone(),
        };
        type_error(env, format!("{what}: {detail}"))
    })
}

/// A napi error that throws a `TypeError`.
pub fn type_error(env: &Env, message: String) -> Error {
    Error::from(JsTypeError::from(Error::new(Status::InvalidArg, message)).into_unknown(*env))
}
