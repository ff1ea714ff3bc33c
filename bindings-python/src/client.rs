//! `Client`: options in, blocking refreshes with the GIL released, asyncio futures out.

use oauth_refresh::options::Value;
use oauth_refresh::{ClientOptions, GustoEnvironment, SystemAccessTokenRequest};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::Arc;

use crate::background::{in_background, Answer};
use crate::error::{guarded, to_pyerr};
use crate::options::{each, value, PY};
use crate::request::RefreshTokenRequest;
use crate::token::Token;

/// Refreshes tokens at one token endpoint. Thread-safe; keeps connections alive.
#[pyclass(frozen, module = "oauth_refresh", name = "Client")]
pub struct Client(Arc<oauth_refresh::Client>);

impl Client {
    pub fn inner(&self) -> Arc<oauth_refresh::Client> {
        self.0.clone()
    }
}

#[pymethods]
impl Client {
    /// A client for an RFC 6749 token endpoint; every option is a keyword argument
    /// (`oauth_refresh.ClientOptions` lists them).
    #[new]
    #[pyo3(signature = (token_url, **options))]
    fn new(
        py: Python<'_>,
        token_url: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = ClientOptions::default();
            o.set(PY, "token_url", value(token_url)?)
                .map_err(|e| to_pyerr(py, &e))?;
            build(py, o, options)
        })
    }

    /// The Gusto preset. `environment` is "demo" (the default), "production" or a base URL.
    #[staticmethod]
    #[pyo3(signature = (environment=None, **options))]
    fn gusto(
        py: Python<'_>,
        environment: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = ClientOptions::gusto(GustoEnvironment::Demo);
            o.set(
                PY,
                "environment",
                environment.map(value).transpose()?.unwrap_or(Value::Null),
            )
            .map_err(|e| to_pyerr(py, &e))?;
            build(py, o, options)
        })
    }

    /// Exchanges a refresh token. Pass a `RefreshTokenRequest`, or the fields themselves.
    #[pyo3(signature = (request_or_client_id, client_secret=None, refresh_token=None, *, redirect_uri=None, scope=None))]
    fn refresh(
        &self,
        py: Python<'_>,
        request_or_client_id: &Bound<'_, PyAny>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
        redirect_uri: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Token> {
        guarded(py, || {
            let request = to_request(
                request_or_client_id,
                client_secret,
                refresh_token,
                redirect_uri,
                scope,
            )?;
            let client = &self.0;
            let result = py.detach(|| client.refresh(&request));
            result.map(Token).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `refresh` as a coroutine: the exchange runs on a worker thread, never on the event loop.
    /// Cancelled before the exchange started: nothing is sent, `CancelledError`. Cancelled
    /// after: it is awaited anyway and its token returned (or its error raised), so a
    /// rotated refresh token is never lost.
    #[pyo3(signature = (request_or_client_id, client_secret=None, refresh_token=None, *, redirect_uri=None, scope=None))]
    fn refresh_async<'py>(
        &self,
        py: Python<'py>,
        request_or_client_id: &Bound<'py, PyAny>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
        redirect_uri: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let request = to_request(
                request_or_client_id,
                client_secret,
                refresh_token,
                redirect_uri,
                scope,
            )?;
            let client = self.0.clone();
            in_background(py, Answer::Token, move || client.refresh(&request))
        })
    }

    /// Gusto's `system_access` grant.
    fn system_access(
        &self,
        py: Python<'_>,
        client_id: String,
        client_secret: String,
    ) -> PyResult<Token> {
        guarded(py, || {
            let request = SystemAccessTokenRequest::new(client_id, client_secret);
            let client = &self.0;
            let result = py.detach(|| client.system_access(&request));
            result.map(Token).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `system_access` for asyncio.
    fn system_access_async<'py>(
        &self,
        py: Python<'py>,
        client_id: String,
        client_secret: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let request = SystemAccessTokenRequest::new(client_id, client_secret);
            let client = self.0.clone();
            in_background(py, Answer::Token, move || client.system_access(&request))
        })
    }

    fn __repr__(&self) -> String {
        "Client(...)".to_owned()
    }
}

/// Applies the keyword arguments and builds the client.
fn build(
    py: Python<'_>,
    mut o: ClientOptions,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Client> {
    o.surface = "python";
    each(options, |name, v| o.set(PY, name, v))?;
    let client = o.build().map_err(|e| to_pyerr(py, &e))?;
    Ok(Client(Arc::new(client)))
}

fn to_request(
    first: &Bound<'_, PyAny>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
) -> PyResult<oauth_refresh::RefreshTokenRequest> {
    if let Ok(request) = first.cast::<RefreshTokenRequest>() {
        if client_secret.is_some()
            || refresh_token.is_some()
            || redirect_uri.is_some()
            || scope.is_some()
        {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pass either a RefreshTokenRequest or the fields, not both",
            ));
        }
        return Ok(request.get().0.clone());
    }
    if !first.is_instance_of::<PyString>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "expected a RefreshTokenRequest or a client_id string",
        ));
    }
    let client_id: String = first.extract()?;
    let (Some(client_secret), Some(refresh_token)) = (client_secret, refresh_token) else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "refresh() needs client_id, client_secret and refresh_token",
        ));
    };
    let mut request =
        oauth_refresh::RefreshTokenRequest::new(client_id, client_secret, refresh_token);
    request.redirect_uri = redirect_uri;
    request.scope = scope;
    Ok(request)
}
