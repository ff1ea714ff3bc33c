//! Core errors become instances of the exception classes in `oauth_refresh/_errors.py`,
//! which can inherit builtins (`ValueError`, `TimeoutError`, ...) as pyo3 classes cannot.

use oauth_refresh::{Error, ErrorCode};
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
        // A code added to the core later still raises the documented base class.
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

fn build<'py>(py: Python<'py>, err: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = ERRORS.get_or_try_init(py, || {
        PyResult::Ok(py.import("oauth_refresh._errors")?.unbind())
    })?;
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
    exc.setattr("refresh_token", err.salvaged_refresh_token())?;
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
