//! Core errors become instances of the exception classes in `oauth_refresh/_errors.py`,
//! which can inherit builtins (`ValueError`, `TimeoutError`, ...) as pyo3 classes cannot.

use std::panic::{catch_unwind, AssertUnwindSafe};

use oauth_refresh::{Error, ErrorCode, RefreshTokenState};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "InvalidInputError",
        ErrorCode::InvalidGrant => "InvalidGrantError",
        ErrorCode::InvalidClient => "InvalidClientError",
        ErrorCode::InvalidRequest => "InvalidRequestError",
        ErrorCode::InvalidScope => "InvalidScopeError",
        ErrorCode::UnauthorizedClient => "UnauthorizedClientError",
        ErrorCode::UnsupportedGrantType => "UnsupportedGrantTypeError",
        ErrorCode::RateLimited => "RateLimitedError",
        ErrorCode::ServerError => "ServerError",
        ErrorCode::HttpStatus => "HttpStatusError",
        ErrorCode::Timeout => "TimeoutError",
        ErrorCode::Connection => "ConnectionError",
        ErrorCode::Tls => "TlsError",
        ErrorCode::InvalidResponse => "InvalidResponseError",
        ErrorCode::StoreFailed => "StoreFailedError",
        ErrorCode::StoreUnavailable => "StoreUnavailableError",
        ErrorCode::StoreDecrypt => "StoreDecryptError",
        // A bug caught as a panic: no class of its own, the documented base class.
        ErrorCode::Internal => "OAuthRefreshError",
        // The core's enum is #[non_exhaustive], so Rust demands this arm. A code added there
        // without a class here fails test_every_core_code_has_its_class (over ErrorCode::ALL).
        _ => "OAuthRefreshError",
    }
}

/// The exception instance for a core error, with every field as an attribute.
pub fn to_pyerr(py: Python<'_>, err: &Error) -> PyErr {
    match build(py, err) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// Runs the body of a method that calls into the core or converts a caller's values, turning
/// a panic into an `OAuthRefreshError` with code `"internal"`: pyo3 would raise
/// `PanicException`, a `BaseException` that `except Exception` does not catch. The
/// refresh token's state is `"unknown"`: the panic may have come after the request left.
pub fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(internal(py)))
}

/// The `"internal"` error for a panic caught in the binding. The core's message, no payload:
/// a panic message could quote a value the caller passed.
fn internal(py: Python<'_>) -> PyErr {
    to_pyerr(py, &Error::internal(RefreshTokenState::Unknown))
}

/// Every code of the core with the name of the class it raises: for the test that each one
/// maps to a class of `_errors` with that code.
#[pyfunction]
pub fn _error_codes() -> Vec<(&'static str, &'static str)> {
    ErrorCode::ALL
        .iter()
        .map(|&c| (c.as_str(), class_name(c)))
        .collect()
}

fn errors(py: Python<'_>) -> PyResult<&Py<PyModule>> {
    ERRORS.get_or_try_init(py, || {
        PyResult::Ok(py.import("oauth_refresh._errors")?.unbind())
    })
}

fn build<'py>(py: Python<'py>, err: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = errors(py)?;
    let class = module.bind(py).getattr(class_name(err.code()))?;
    // Only the message goes through the constructor: builtins like OSError treat
    // keyword arguments specially. The rest are plain attributes.
    let exc = class.call1((err.to_string(),))?;
    exc.setattr("code", err.code().as_str())?;
    exc.setattr("refresh_token_state", err.refresh_token_state().as_str())?;
    exc.setattr("retryable", err.is_retryable())?;
    exc.setattr("status", err.status())?;
    exc.setattr("error", err.error())?;
    exc.setattr("error_description", err.error_description())?;
    exc.setattr("error_uri", err.error_uri())?;
    exc.setattr("retry_after", err.retry_after().map(|d| d.as_secs_f64()))?;
    exc.setattr("salvaged_refresh_token", err.salvaged_refresh_token())?;
    // On store_failed: the new token the store could not keep.
    match err.token() {
        Some(token) => exc.setattr("token", crate::token::Token(token.clone()))?,
        None => exc.setattr("token", py.None())?,
    }
    Ok(exc)
}

/// An `InvalidInputError` raised by the binding itself (a bad option value).
pub fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_pyerr(py, &Error::invalid_input(message))
}
