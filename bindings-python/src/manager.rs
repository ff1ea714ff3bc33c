//! `TokenManager`: the core's manager with Python callbacks.

use std::sync::Arc;

use oauth_refresh::options::Value;
use oauth_refresh::ManagerConfig;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::background::{in_background, Answer};
use crate::client::Client;
use crate::error::{guarded, to_pyerr};
use crate::options::{each, value, PY};
use crate::store::Store;
use crate::token::Token;

/// Owns one account's token: serves it while fresh, refreshes it once when not (across
/// threads, processes sharing a `FileStore`, and hosts sharing a `RedisStore` or a
/// `PostgresStore`), and stores each new token before returning it.
#[pyclass(frozen, module = "oauth_refresh", name = "TokenManager")]
pub struct TokenManager(Arc<oauth_refresh::TokenManager>);

#[pymethods]
impl TokenManager {
    /// A manager refreshing with `client`; options (`scope`, `min_window`, ...: see
    /// `oauth_refresh.TokenManagerOptions`) are keyword arguments.
    #[new]
    #[pyo3(signature = (client, client_id, client_secret, refresh_token=None, *, store=None, on_refresh=None, **options))]
    #[allow(clippy::too_many_arguments)] // one per Python argument
    fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        client_id: &Bound<'_, PyAny>,
        client_secret: &Bound<'_, PyAny>,
        refresh_token: Option<&Bound<'_, PyAny>>,
        store: Option<&Bound<'_, PyAny>>,
        on_refresh: Option<Py<PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let store = Store::from_arg(store)?.for_one_account();
            let mut config = ManagerConfig::default();
            let positional = [
                ("client_id", Some(client_id)),
                ("client_secret", Some(client_secret)),
                ("refresh_token", refresh_token),
            ];
            for (name, v) in positional {
                config
                    .set(PY, name, v.map(value).transpose()?.unwrap_or(Value::Null))
                    .map_err(|e| to_pyerr(py, &e))?;
            }
            each(options, |name, v| config.set(PY, name, v))?;
            let mut manager = config
                .build(client.get().inner(), store)
                .map_err(|e| to_pyerr(py, &e))?;
            if let Some(hook) = on_refresh {
                manager = manager.on_refresh(move |token| {
                    // Runs on the refreshing thread, without the GIL: take it for the callback.
                    Python::attach(|py| {
                        let token = Token(token.clone());
                        if let Err(e) = hook.call1(py, (token,)) {
                            e.write_unraisable(py, Some(hook.bind(py)));
                        }
                    });
                });
            }
            Ok(TokenManager(Arc::new(manager)))
        })
    }

    /// A valid access token, refreshing first if needed (the GIL is released meanwhile).
    fn access_token(&self, py: Python<'_>) -> PyResult<String> {
        let manager = &self.0;
        guarded(py, || {
            // A cache hit keeps the GIL: releasing and taking it back costs more than the hit.
            if let Some(access_token) = manager.fresh_access_token() {
                return Ok(access_token);
            }
            py.detach(|| manager.access_token())
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// The current token, refreshing first if needed.
    fn token(&self, py: Python<'_>) -> PyResult<Token> {
        let manager = &self.0;
        guarded(py, || {
            py.detach(|| manager.token())
                .map(Token)
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `access_token` as a coroutine, resolving to the access token (a `str`); the refresh
    /// runs on a worker thread. Cancellation as for `Client.refresh_async`.
    fn access_token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.0.clone();
        guarded(py, || {
            in_background(py, Answer::AccessToken, move || manager.token())
        })
    }

    /// `token` as a coroutine, resolving to the current `Token`.
    fn token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.0.clone();
        guarded(py, || {
            in_background(py, Answer::Token, move || manager.token())
        })
    }

    /// Marks the token stale (say, after the API answered 401): the next call refreshes.
    fn invalidate(&self, py: Python<'_>) -> PyResult<()> {
        guarded(py, || {
            self.0.invalidate();
            Ok(())
        })
    }

    /// After a refresh whose outcome was unknown (a timeout after sending, a 5xx, a broken
    /// answer), the manager does not send that refresh token again on its own: every call
    /// raises that error again at once, its message starting "not resent", because a server
    /// that rotates tokens may revoke the whole grant on reuse (the Gusto preset forgives
    /// and resends). Once you know it is safe (or there is nothing else to try), this lets
    /// the next call send it once more.
    fn allow_resend(&self, py: Python<'_>) -> PyResult<()> {
        guarded(py, || {
            self.0.allow_resend();
            Ok(())
        })
    }

    /// Counters: `refreshes`, `adoptions`, `failures`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = guarded(py, || Ok(self.0.stats()))?;
        let dict = PyDict::new(py);
        dict.set_item("refreshes", s.refreshes)?;
        dict.set_item("adoptions", s.adoptions)?;
        dict.set_item("failures", s.failures)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        "TokenManager(...)".to_owned()
    }
}
