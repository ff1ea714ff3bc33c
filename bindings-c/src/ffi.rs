//! The panic boundary and the conversions every entry point shares.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use oauth::options::{Face, Value};
use zeroize::Zeroize;

use crate::error::{oauth_refresh_error, oauth_refresh_result, oauth_refresh_token_state};

/// Why an entry point refused to run: becomes a result code and, if asked, an error object.
pub struct Refusal {
    pub code: oauth_refresh_result,
    pub message: String,
}

impl Refusal {
    pub fn null(name: &str) -> Refusal {
        Refusal {
            code: oauth_refresh_result::NullArgument,
            message: format!("{name} is NULL"),
        }
    }
}

/// Where an entry point is when it may panic: whether a request may have left by then.
#[derive(Clone, Copy)]
pub enum Sends {
    /// A constructor or a getter: no refresh request is ever sent, so a caught panic leaves
    /// the refresh token `UNUSED`.
    Nothing,
    /// An entry point that may send a refresh request (refresh, system_access,
    /// manager_token): a caught panic cannot tell whether the request left, so the refresh
    /// token is `UNKNOWN`.
    Request,
}

/// Runs `body` so that no panic escapes, and reports a refusal through `error_out`. A caught
/// panic becomes `OAUTH_REFRESH_RESULT_PANIC`, its state chosen by `sends`.
pub fn boundary(
    error_out: *mut *mut oauth_refresh_error,
    sends: Sends,
    body: impl FnOnce() -> Result<(), Box<oauth_refresh_error>>,
) -> oauth_refresh_result {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(panicked(sends)));
    match outcome {
        Ok(()) => oauth_refresh_result::Ok,
        Err(error) => {
            let code = error.code;
            if !error_out.is_null() {
                // SAFETY: the caller passes a writable pointer or NULL (checked).
                unsafe { *error_out = Box::into_raw(error) };
            }
            code
        }
    }
}

/// The error for a panic caught at the C boundary.
fn panicked(sends: Sends) -> Box<oauth_refresh_error> {
    let (state, message) = match sends {
        Sends::Nothing => (
            oauth_refresh_token_state::Unused,
            "internal error: a panic was caught at the C boundary; nothing was sent",
        ),
        Sends::Request => (
            oauth_refresh_token_state::Unknown,
            "internal error: a panic was caught at the C boundary; the request may have been sent",
        ),
    };
    Box::new(oauth_refresh_error::with_state(
        oauth_refresh_result::Panic,
        message,
        state,
    ))
}

/// A getter's body, with `fallback` if it panics.
pub fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

impl From<Refusal> for Box<oauth_refresh_error> {
    fn from(r: Refusal) -> Self {
        Box::new(oauth_refresh_error::plain(r.code, &r.message))
    }
}

/// A C string argument as UTF-8; `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the call.
pub unsafe fn opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Refusal> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map(Some).map_err(|_| Refusal {
        code: oauth_refresh_result::InvalidUtf8,
        message: format!("{name} is not valid UTF-8"),
    })
}

/// A required C string argument.
///
/// # Safety
/// As [`opt_str`].
pub unsafe fn req_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Refusal> {
    unsafe { opt_str(ptr, name) }?.ok_or_else(|| Refusal::null(name))
}

/// A C string option as the core's option value: NULL is "not given" (the default).
///
/// # Safety
/// `ptr` is NULL or a valid C string.
pub unsafe fn text(ptr: *const c_char, name: &str) -> Result<Value, Refusal> {
    Ok(unsafe { opt_str(ptr, name) }?.map_or(Value::Null, |s| Value::Text(s.to_owned())))
}

/// A required C string option: NULL is `NULL_ARGUMENT`, as for every entry point.
///
/// # Safety
/// `ptr` is NULL or a valid C string.
pub unsafe fn required_text(ptr: *const c_char, name: &str) -> Result<Value, Refusal> {
    Ok(Value::Text(unsafe { req_str(ptr, name) }?.to_owned()))
}

/// A yes/no option that may be left to its default, as C spells it: -1 the default, 0 no,
/// 1 yes; anything else reaches the core as a value of the wrong kind, refused naming it.
pub fn tri_state(value: i8) -> Value {
    match value {
        -1 => Value::Null,
        0 => Value::Bool(false),
        1 => Value::Bool(true),
        _ => Value::Other,
    }
}

/// Hands each `(name, value)` (C spelling) to the core's `set`, stopping at the first refusal.
pub fn set_each<const N: usize>(
    values: [(&str, Value); N],
    mut set: impl FnMut(&str, Value) -> Result<(), oauth::Error>,
) -> Result<(), Box<oauth_refresh_error>> {
    for (name, value) in values {
        set(name, value).map_err(|e| Box::from(&e))?;
    }
    Ok(())
}

/// This face's spelling and units: snake_case, milliseconds (`_ms`).
pub const C: Face = Face::C;

/// A string for C, without interior NULs (server text may carry `\u0000`).
pub fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "")).expect("NULs were removed")
}

/// A C string holding a secret: wiped when dropped.
pub struct SecretCString(Option<CString>);

impl SecretCString {
    /// `None` when the secret holds a NUL, which no valid token does.
    pub fn new(secret: &str) -> Option<SecretCString> {
        CString::new(secret).ok().map(|c| SecretCString(Some(c)))
    }

    pub fn as_ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    }
}

impl Drop for SecretCString {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.into_bytes_with_nul().zeroize();
        }
    }
}

/// A copy of a secret for C to own (handed out with `CString::into_raw`, taken back and
/// wiped by `oauth_refresh_string_free`); `None` when it holds a NUL.
pub fn secret_c_string(secret: &str) -> Option<CString> {
    if secret.contains('\0') {
        return None;
    }
    // Checked above; the one copy moves into the CString (no other copy to wipe).
    CString::new(secret.to_owned()).ok()
}

/// Takes back a string made by [`secret_c_string`] and wipes it.
///
/// # Safety
/// `ptr` came from `CString::into_raw` in this library and is not used again.
pub unsafe fn wipe_c_string(ptr: *mut c_char) {
    // SAFETY: per the contract.
    let owned = unsafe { CString::from_raw(ptr) };
    owned.into_bytes_with_nul().zeroize();
}

/// The pointer of an optional string, or NULL.
pub fn ptr_or_null(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// A core duration as the milliseconds the C options hold.
pub fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::{boundary, Sends};
    use crate::error::{
        oauth_refresh_error, oauth_refresh_error_free, oauth_refresh_error_refresh_token_state,
        oauth_refresh_result, oauth_refresh_token_state,
    };

    fn panic_state(sends: Sends) -> oauth_refresh_token_state {
        let mut error: *mut oauth_refresh_error = std::ptr::null_mut();
        let result = boundary(&mut error, sends, || panic!("a test panic"));
        assert_eq!(result, oauth_refresh_result::Panic);
        let state = oauth_refresh_error_refresh_token_state(error);
        oauth_refresh_error_free(error);
        state
    }

    #[test]
    fn a_panic_is_unknown_only_where_a_request_may_have_left() {
        assert_eq!(
            panic_state(Sends::Nothing),
            oauth_refresh_token_state::Unused
        );
        assert_eq!(
            panic_state(Sends::Request),
            oauth_refresh_token_state::Unknown
        );
    }
}
