//! Native functions that JavaScript calls without napi-rs's method machinery (which costs
//! about 0.3 µs a call: unwrapping and type-checking `this`, borrow tracking), for the calls
//! made on every refresh: token.js's field reads and client_fast.js's refreshes.

use std::ptr::null_mut;

use napi::bindgen_prelude::*;
use napi::sys;

use oauth_refresh::RefreshTokenState;

use crate::error::internal_error;

/// The arguments of a call from JavaScript (missing ones `undefined`).
pub unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N]> {
    let mut argv = [null_mut(); N];
    let mut argc = N;
    let status = sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        null_mut(),
        null_mut(),
    );
    if status != sys::Status::napi_ok {
        return Err(Error::from_reason("cannot read the arguments"));
    }
    for slot in argv.iter_mut().skip(argc) {
        sys::napi_get_undefined(env, slot);
    }
    Ok(argv)
}

/// Runs a native function called from JavaScript: its error is thrown, and a panic as
/// `INTERNAL` with the refresh token `state` it leaves.
pub unsafe fn call(
    env: sys::napi_env,
    state: RefreshTokenState,
    f: impl FnOnce(&Env) -> Result<sys::napi_value>,
) -> sys::napi_value {
    let wrapped = Env::from_raw(env);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&wrapped)))
        .unwrap_or_else(|payload| {
            std::mem::forget(payload); // its Drop could panic again
            Err(internal_error(&wrapped, state))
        });
    result.unwrap_or_else(|e| {
        JsError::from(e).throw_into(env);
        null_mut()
    })
}
