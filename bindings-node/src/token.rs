//! `Token`: a JavaScript class (token.js) over the core's token, kept here in a per-thread
//! table and read one field at a time; `toJSON` and inspection show no secret.

use std::cell::RefCell;
use std::ptr::null_mut;

use napi::bindgen_prelude::*;
use napi::sys;
use oauth_refresh::limits::duration_from_millis;

use crate::error::{to_js_error, NOT_SENT};
use crate::raw::{args, call};
use crate::table::Table;

/// A core token on its way to JavaScript, where it becomes a `Token`.
pub struct Token(pub(crate) oauth_refresh::Token);

type Make = FunctionRef<u32, Unknown<'static>>;
type HandleOf = FunctionRef<Unknown<'static>, u32>;

thread_local! {
    // One per JavaScript environment: each runs on its own thread.
    // The tokens that JavaScript `Token`s of this thread stand for.
    static TABLE: RefCell<Table<oauth_refresh::Token>> = RefCell::default();
    static JS: RefCell<Option<(Make, HandleOf)>> = const { RefCell::new(None) };
}

/// Stores `token` and returns its handle, for a `Token` made in JavaScript (client_fast.js).
pub fn handle(token: oauth_refresh::Token) -> u32 {
    TABLE.with(|t| t.borrow_mut().insert(token))
}

fn with<T>(handle: u32, f: impl FnOnce(&oauth_refresh::Token) -> T) -> Result<T> {
    TABLE.with(|t| match t.borrow().get(handle) {
        Some(token) => Ok(f(token)),
        None => Err(Error::from_reason("not a live Token")),
    })
}

impl ToNapiValue for Token {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let handle = handle(val.0);
        let made = JS.with(|js| {
            let js = js.borrow();
            let (make, _) = js
                .as_ref()
                .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
            make.borrow_back(&Env::from_raw(env))?.call(handle)
        });
        match made {
            Ok(token) => Ok(token.raw()),
            Err(e) => {
                release_handle(handle);
                Err(e)
            }
        }
    }
}

impl TypeName for Token {
    fn type_name() -> &'static str {
        "Token"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// The core token behind `value` if it is a `Token`, `None` for anything else.
pub fn from_js(env: &Env, value: Unknown<'_>) -> Result<Option<oauth_refresh::Token>> {
    let handle = JS.with(|js| {
        let js = js.borrow();
        let (_, handle_of) = js
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        // SAFETY: a live handle of this environment, for as long as this call.
        let value: Unknown<'static> =
            unsafe { Unknown::from_raw_unchecked(env.raw(), value.raw()) };
        Ok::<_, Error>(handle_of.borrow_back(env)?.call(value).ok())
    })?;
    if handle.is_none() {
        // `handleOf` threw its TypeError: not a Token. Clear it so that nothing throws it.
        let mut ignored = null_mut();
        // SAFETY: on this environment's thread.
        unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut ignored) };
    }
    handle.map(|h| with(h, Clone::clone)).transpose()
}

fn release_handle(handle: u32) {
    drop(TABLE.with(|t| t.borrow_mut().remove(handle)));
}

/// `read(handle, field)`: one field, by token.js's numbering.
unsafe extern "C" fn read(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    call(env, NOT_SENT, |_| {
        let [handle, field] = args::<2>(env, info)?;
        let (handle, field) = (
            u32::from_napi_value(env, handle)?,
            u32::from_napi_value(env, field)?,
        );
        with(handle, |t| match field {
            0 => ToNapiValue::to_napi_value(env, t.access_token()),
            1 => ToNapiValue::to_napi_value(env, t.token_type()),
            // Lifetime in seconds as sent; null when none, or one beyond ten years.
            2 => ToNapiValue::to_napi_value(env, t.expires_in().map(|s| s as f64)),
            // Whole milliseconds, as a Date holds them.
            3 => ToNapiValue::to_napi_value(env, t.expires_at_unix().map(|s| (s * 1000.0).floor())),
            4 => ToNapiValue::to_napi_value(env, t.refresh_token()),
            5 => ToNapiValue::to_napi_value(env, t.refresh_token_rotated()),
            6 => ToNapiValue::to_napi_value(env, t.scope()),
            7 => ToNapiValue::to_napi_value(env, t.created_at().map(|s| s as f64)),
            8 => ToNapiValue::to_napi_value(env, t.id_token()),
            9 => ToNapiValue::to_napi_value(env, serde_json::Value::Object(t.extra().clone())),
            _ => Err(Error::from_reason("no such Token field")),
        })?
    })
}

/// `expired(handle, leewayMs)`: a `leewayMs` that is negative, NaN or over a year is
/// `INVALID_INPUT`.
unsafe extern "C" fn expired(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    call(env, NOT_SENT, |wrapped| {
        let [handle, leeway] = args::<2>(env, info)?;
        let handle = u32::from_napi_value(env, handle)?;
        let leeway = Option::<f64>::from_napi_value(env, leeway)?;
        let leeway = duration_from_millis("leewayMs", leeway.unwrap_or(0.0))
            .map_err(|e| to_js_error(wrapped, &e))?;
        with(handle, |t| {
            ToNapiValue::to_napi_value(env, t.is_expired(leeway))
        })?
    })
}

/// `release(handle)`: the `Token` was collected.
unsafe extern "C" fn release(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    call(env, NOT_SENT, |_| {
        let [handle] = args::<1>(env, info)?;
        release_handle(u32::from_napi_value(env, handle)?);
        ToNapiValue::to_napi_value(env, ())
    })
}

/// Defines the class (token.js), exports it, and keeps its factory and handle finder.
pub fn install(env: &Env, exports: &mut Object) -> Result<()> {
    type Natives = FnArgs<(Function<'static>, Function<'static>, Function<'static>)>;
    let install: Function<Natives, Array> = env.run_script(include_str!("token.js"))?;
    let natives = (
        env.create_function::<(), Unknown>("read", read)?,
        env.create_function::<(), Unknown>("expired", expired)?,
        env.create_function::<(), Unknown>("release", release)?,
    );
    // SAFETY: the functions live as long as this call; the script keeps what it needs.
    let natives: (Function<'static>, Function<'static>, Function<'static>) =
        unsafe { std::mem::transmute(natives) };
    let parts = install.call(FnArgs::from(natives))?;
    let class: Unknown = parts
        .get(0)?
        .ok_or_else(|| Error::from_reason("Token class missing"))?;
    exports.set_named_property("Token", class)?;
    let make: Function<u32, Unknown> = parts
        .get(1)?
        .ok_or_else(|| Error::from_reason("Token factory missing"))?;
    let handle_of: Function<Unknown, u32> = parts
        .get(2)?
        .ok_or_else(|| Error::from_reason("Token handles missing"))?;
    let refs = (make.create_ref()?, handle_of.create_ref()?);
    JS.with(|js| js.replace(Some(refs)));
    Ok(())
}

/// token.js's factory: a `Token` for a handle (client_fast.js makes its tokens with it).
pub fn factory(env: &Env) -> Result<Function<'_, u32, Unknown<'_>>> {
    JS.with(|js| {
        let js = js.borrow();
        let (make, _) = js
            .as_ref()
            .ok_or_else(|| Error::from_reason("oauth-refresh is not initialised"))?;
        make.borrow_back(env)
    })
}
