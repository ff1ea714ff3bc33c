//! Core errors become `OAuthRefreshError` instances. The class is JavaScript (a native class
//! cannot extend `Error`), created once per environment when the addon loads.

use std::cell::RefCell;

use napi::bindgen_prelude::*;
use oauth_refresh::ErrorCode;

type Make = FunctionRef<
    FnArgs<(
        String,
        &'static str,
        &'static str,
        bool,
        Option<u32>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<String>,
        Option<crate::token::Token>,
    )>,
    Unknown<'static>,
>;

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

/// The spec's code, upper-cased: `INVALID_GRANT`, ...
fn code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "INVALID_INPUT",
        ErrorCode::InvalidGrant => "INVALID_GRANT",
        ErrorCode::InvalidClient => "INVALID_CLIENT",
        ErrorCode::InvalidRequest => "INVALID_REQUEST",
        ErrorCode::InvalidScope => "INVALID_SCOPE",
        ErrorCode::UnauthorizedClient => "UNAUTHORIZED_CLIENT",
        ErrorCode::UnsupportedGrantType => "UNSUPPORTED_GRANT_TYPE",
        ErrorCode::RateLimited => "RATE_LIMITED",
        ErrorCode::ServerError => "SERVER_ERROR",
        ErrorCode::HttpStatus => "HTTP_STATUS",
        ErrorCode::Timeout => "TIMEOUT",
        ErrorCode::Connection => "CONNECTION",
        ErrorCode::Tls => "TLS",
        ErrorCode::InvalidResponse => "INVALID_RESPONSE",
        ErrorCode::StoreFailed => "STORE_FAILED",
        ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
        ErrorCode::StoreDecrypt => "STORE_DECRYPT",
        _ => "UNKNOWN",
    }
}

/// A napi error that throws the `OAuthRefreshError` for `err`.
pub fn to_js_error(env: &Env, err: &oauth_refresh::Error) -> Error {
    let built = MAKE.with(|cell| -> Result<Error> {
        let cell = cell.borrow();
        let make = cell
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        let value = make.borrow_back(env)?.call(FnArgs::from((
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
        )))?;
        Ok(Error::from(value))
    });
    built.unwrap_or_else(|e| e)
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
