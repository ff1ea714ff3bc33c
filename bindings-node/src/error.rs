//! Core errors become `OAuthRefreshError` instances. The class is JavaScript (a native class
//! cannot extend `Error`), created once per environment when the addon loads.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;

use napi::bindgen_prelude::*;
use oauth_refresh::{ErrorCode, Field, RefreshTokenState};

use crate::options::NODE;

type Make = FunctionRef<FnArgs<(String, Object<'static>)>, Unknown<'static>>;

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
pub(crate) fn code(code: ErrorCode) -> String {
    code.as_str().to_ascii_uppercase()
}

/// Every code the binding can throw, in `ErrorCode::ALL`'s order (exported as `ERROR_CODES`).
pub fn all_codes() -> Vec<String> {
    ErrorCode::ALL.into_iter().map(code).collect()
}

/// A napi error that throws the `OAuthRefreshError` for `err`: the JavaScript factory gets
/// the message and an object of every field the core lists, named as Node names them.
pub fn to_js_error(env: &Env, err: &oauth_refresh::Error) -> Error {
    let built = MAKE.with(|cell| -> Result<Error> {
        let cell = cell.borrow();
        let make = cell
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        let mut fields = Object::new(env)?;
        for (name, kind, field) in err.fields() {
            let name = NODE.name(name, kind);
            match field {
                Field::Null => fields.set_named_property(&name, Null)?,
                Field::Code(c) => fields.set_named_property(&name, code(c))?,
                Field::Text(t) => fields.set_named_property(&name, t)?,
                Field::Bool(b) => fields.set_named_property(&name, b)?,
                Field::Number(n) => fields.set_named_property(&name, u32::from(n))?,
                Field::Duration(d) => fields.set_named_property(&name, d.as_secs_f64() * 1000.0)?,
                Field::Token(t) => {
                    fields.set_named_property(&name, crate::token::Token(t.clone()))?
                }
            }
        }
        // SAFETY: the object lives as long as this call; the factory copies what it keeps.
        let fields: Object<'static> = unsafe { std::mem::transmute(fields) };
        let value = make
            .borrow_back(env)?
            .call(FnArgs::from((err.to_string(), fields)))?;
        Ok(Error::from(value))
    });
    built.unwrap_or_else(|e| e)
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
