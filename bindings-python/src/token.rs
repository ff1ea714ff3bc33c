//! `Token`: read-only view of a core token; secrets only through their attributes.

use oauth_refresh::limits::duration_from_secs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::error::{guarded, to_pyerr};
use crate::repr_opt;

static FROM_TIMESTAMP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A token response. `repr()` shows no secret.
#[pyclass(frozen, module = "oauth_refresh", name = "Token")]
pub struct Token(pub oauth_refresh::Token);

#[pymethods]
impl Token {
    #[getter]
    fn access_token(&self) -> &str {
        self.0.access_token()
    }

    #[getter]
    fn token_type(&self) -> &str {
        self.0.token_type()
    }

    #[getter]
    fn expires_in(&self) -> Option<u64> {
        self.0.expires_in()
    }

    /// An aware UTC datetime: when the request was sent plus `expires_in`.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guarded(py, || {
            let Some(seconds) = self.0.expires_at_unix() else {
                return Ok(None);
            };
            let from_timestamp = FROM_TIMESTAMP.import(py, "datetime", "datetime")?;
            let utc = UTC.get_or_try_init(py, || {
                PyResult::Ok(
                    py.import("datetime")?
                        .getattr("timezone")?
                        .getattr("utc")?
                        .unbind(),
                )
            })?;
            from_timestamp
                .getattr("fromtimestamp")?
                .call1((seconds, utc.bind(py)))
                .map(Some)
        })
    }

    #[getter]
    fn refresh_token(&self) -> Option<&str> {
        self.0.refresh_token()
    }

    #[getter]
    fn refresh_token_rotated(&self) -> bool {
        self.0.refresh_token_rotated()
    }

    #[getter]
    fn scope(&self) -> Option<&str> {
        self.0.scope()
    }

    /// The server's `created_at` as Unix seconds.
    #[getter]
    fn created_at(&self) -> Option<i64> {
        self.0.created_at()
    }

    #[getter]
    fn id_token(&self) -> Option<&str> {
        self.0.id_token()
    }

    /// Every other response field, as a new dict.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let loads = JSON_LOADS.import(py, "json", "loads")?;
            let text = serde_json::to_string(self.0.extra()).expect("JSON values serialize");
            loads.call1((text,))
        })
    }

    /// True when the access token expires within `leeway` seconds from now.
    #[pyo3(signature = (leeway=0.0))]
    fn is_expired(&self, py: Python<'_>, leeway: f64) -> PyResult<bool> {
        guarded(py, || {
            let leeway = duration_from_secs("leeway", leeway).map_err(|e| to_pyerr(py, &e))?;
            Ok(self.0.is_expired(leeway))
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Token(access_token=<redacted>, token_type={}, expires_in={}, refresh_token={}, refresh_token_rotated={}, scope={})",
            repr_opt(Some(self.0.token_type())),
            self.0.expires_in().map_or("None".to_owned(), |s| s.to_string()),
            if self.0.refresh_token().is_some() { "<redacted>" } else { "None" },
            if self.0.refresh_token_rotated() { "True" } else { "False" },
            repr_opt(self.0.scope()),
        )
    }
}
