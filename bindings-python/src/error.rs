//! Core errors become instances of the exception classes in `oauth_refresh/_errors.py`,
//! which can inherit builtins (`ValueError`, `TimeoutError`, ...) as pyo3 classes cannot.

use std::panic::{catch_unwind, AssertUnwindSafe};

use oauth_refresh::{Error, ErrorCode, Field, RefreshTokenState};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyModule};

use crate::options::PY;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

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
pub fn internal(py: Python<'_>) -> PyErr {
    to_pyerr(py, &Error::internal(RefreshTokenState::Unknown))
}

/// Every code of the core, for the test that each has its class in `_errors._BY_CODE`.
#[pyfunction]
pub fn _error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

fn errors(py: Python<'_>) -> PyResult<&Py<PyModule>> {
    ERRORS.get_or_try_init(py, || {
        PyResult::Ok(py.import("oauth_refresh._error_classes")?.unbind())
    })
}

fn build<'py>(py: Python<'py>, err: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = errors(py)?;
    // `_errors` is generated from the core's codes (`make generate`).
    let class = module
        .bind(py)
        .getattr("_BY_CODE")?
        .get_item(err.code().as_str())?;
    // Only the message goes through the constructor: builtins like OSError treat
    // keyword arguments specially. The fields are plain attributes, named as the core names them.
    let exc = class.call1((err.to_string(),))?;
    for (name, kind, field) in err.fields() {
        let value = match field {
            Field::Null => py.None(),
            Field::Code(code) => code.as_str().into_pyobject(py)?.into_any().unbind(),
            Field::Text(text) => text.into_pyobject(py)?.into_any().unbind(),
            Field::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
            Field::Number(n) => n.into_pyobject(py)?.into_any().unbind(),
            Field::Duration(d) => d.as_secs_f64().into_pyobject(py)?.into_any().unbind(),
            Field::Token(t) => crate::token::Token(t.clone())
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        };
        exc.setattr(PY.name(name, kind), value)?;
    }
    Ok(exc)
}
