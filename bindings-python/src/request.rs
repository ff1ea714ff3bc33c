//! `RefreshTokenRequest`: the seed's request, built from keywords or a (camelCase) dict.

use std::collections::BTreeMap;

use oauth_refresh::RefreshGrantType;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{guarded, to_pyerr};
use crate::repr_opt;

/// A refresh-token grant request. `repr()` never shows the secret or the token.
#[pyclass(frozen, module = "oauth_refresh", name = "RefreshTokenRequest")]
pub struct RefreshTokenRequest(pub oauth_refresh::RefreshTokenRequest);

#[pymethods]
impl RefreshTokenRequest {
    #[new]
    #[pyo3(signature = (client_id, client_secret, refresh_token, redirect_uri=None, scope=None, grant_type="refresh_token", extra=None))]
    #[allow(clippy::too_many_arguments)] // one per Python keyword argument
    fn new(
        py: Python<'_>,
        client_id: String,
        client_secret: String,
        refresh_token: String,
        redirect_uri: Option<String>,
        scope: Option<String>,
        grant_type: &str,
        extra: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut request =
                oauth_refresh::RefreshTokenRequest::new(client_id, client_secret, refresh_token);
            request.grant_type =
                RefreshGrantType::parse(grant_type).map_err(|e| to_pyerr(py, &e))?;
            request.redirect_uri = redirect_uri;
            request.scope = scope;
            request.extra = extra.unwrap_or_default();
            Ok(RefreshTokenRequest(request))
        })
    }

    /// From a mapping with the wire names (`client_id`) or the seed's camelCase (`clientId`).
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyDict>) -> PyResult<Self> {
        guarded(py, || {
            let pairs: Vec<(String, String)> = data
                .iter()
                .map(|(k, v)| PyResult::Ok((k.extract()?, v.extract()?)))
                .collect::<PyResult<_>>()?;
            oauth_refresh::RefreshTokenRequest::from_pairs(pairs)
                .map(RefreshTokenRequest)
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    #[getter]
    fn client_id(&self) -> &str {
        &self.0.client_id
    }

    #[getter]
    fn client_secret(&self) -> &str {
        self.0.client_secret.expose()
    }

    #[getter]
    fn grant_type(&self) -> &'static str {
        "refresh_token"
    }

    #[getter]
    fn refresh_token(&self) -> &str {
        self.0.refresh_token.expose()
    }

    #[getter]
    fn redirect_uri(&self) -> Option<&str> {
        self.0.redirect_uri.as_deref()
    }

    #[getter]
    fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }

    #[getter]
    fn extra(&self) -> BTreeMap<String, String> {
        self.0.extra.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "RefreshTokenRequest(client_id={}, client_secret=<redacted>, grant_type='refresh_token', refresh_token=<redacted>, redirect_uri={}, scope={}, extra=<{} redacted>)",
            repr_opt(Some(&self.0.client_id)),
            repr_opt(self.0.redirect_uri.as_deref()),
            repr_opt(self.0.scope.as_deref()),
            self.0.extra.len(),
        )
    }
}
