//! `Token`: secrets only through property access; `toJSON` and inspection show none.

use napi::bindgen_prelude::*;
use napi::JsDate;
use napi_derive::napi;

/// A token response. Its secret fields are getters on the prototype, so
/// `JSON.stringify`, `util.inspect` and `String()` never show them.
#[napi]
pub struct Token(pub(crate) oauth_refresh::Token);

#[napi]
impl Token {
    /// The access token.
    #[napi(getter)]
    pub fn access_token(&self) -> &str {
        self.0.access_token()
    }

    /// `Bearer` (normalized from any case) or the server's other type.
    #[napi(getter)]
    pub fn token_type(&self) -> &str {
        self.0.token_type()
    }

    /// Lifetime in seconds, as the server sent it.
    #[napi(getter)]
    pub fn expires_in(&self) -> Option<f64> {
        self.0.expires_in().map(|s| s as f64)
    }

    /// When the access token expires: the moment the request was sent plus `expiresIn`.
    #[napi(getter, ts_return_type = "Date | null")]
    pub fn expires_at<'env>(&self, env: &'env Env) -> Result<Option<JsDate<'env>>> {
        self.0
            .expires_at_unix()
            .map(|s| env.create_date(s * 1000.0))
            .transpose()
    }

    /// The refresh token to use next time (the new one, or the one sent when the server
    /// did not rotate). `null` only for `systemAccess`.
    #[napi(getter)]
    pub fn refresh_token(&self) -> Option<&str> {
        self.0.refresh_token()
    }

    /// True when the server returned a refresh token different from the one sent.
    #[napi(getter)]
    pub fn refresh_token_rotated(&self) -> bool {
        self.0.refresh_token_rotated()
    }

    /// The granted scope, if the server said.
    #[napi(getter)]
    pub fn scope(&self) -> Option<&str> {
        self.0.scope()
    }

    /// The server's `created_at` as Unix seconds.
    #[napi(getter)]
    pub fn created_at(&self) -> Option<f64> {
        self.0.created_at().map(|s| s as f64)
    }

    /// The OpenID Connect ID token, if any.
    #[napi(getter)]
    pub fn id_token(&self) -> Option<&str> {
        self.0.id_token()
    }

    /// Every other field of the response.
    #[napi(getter, ts_return_type = "Record<string, unknown>")]
    pub fn extra(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.extra().clone())
    }

    /// True when the access token expires within `leewayMs` from now.
    #[napi]
    pub fn is_expired(&self, env: &Env, leeway_ms: Option<f64>) -> Result<bool> {
        let leeway = std::time::Duration::try_from_secs_f64(leeway_ms.unwrap_or(0.0) / 1000.0)
            .map_err(|_| {
                crate::error::invalid_input(env, "leewayMs must be a non-negative number")
            })?;
        Ok(self.0.is_expired(leeway))
    }

    /// The fields that are not secret.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "tokenType": self.0.token_type(),
            "expiresIn": self.0.expires_in(),
            "expiresAt": self.0.expires_at_unix().map(|s| s * 1000.0),
            "refreshTokenRotated": self.0.refresh_token_rotated(),
            "scope": self.0.scope(),
            "createdAt": self.0.created_at(),
        })
    }

    /// A description without secrets.
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> String {
        format!(
            "Token(tokenType={}, expiresIn={}, refreshTokenRotated={})",
            self.0.token_type(),
            self.0
                .expires_in()
                .map_or("null".to_owned(), |s| s.to_string()),
            self.0.refresh_token_rotated()
        )
    }
}
