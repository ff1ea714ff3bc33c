//! `Token`: secrets only through property access; `toJSON` and inspection show none.

use napi::bindgen_prelude::*;
use napi::JsDate;
use napi_derive::napi;
use oauth_refresh::limits::duration_from_millis;

use crate::error::{guard, to_js_error, NOT_SENT};

/// A token response. Its secret fields are getters on the prototype, so
/// `JSON.stringify`, `util.inspect` and `String()` never show them.
#[napi]
pub struct Token(pub(crate) oauth_refresh::Token);

#[napi]
impl Token {
    /// The access token.
    #[napi(getter, catch_unwind)]
    pub fn access_token(&self, env: &Env) -> Result<&str> {
        guard(env, NOT_SENT, || Ok(self.0.access_token()))
    }

    /// `Bearer` (normalized from any case) or the server's other type.
    #[napi(getter, catch_unwind)]
    pub fn token_type(&self, env: &Env) -> Result<&str> {
        guard(env, NOT_SENT, || Ok(self.0.token_type()))
    }

    /// Lifetime in seconds, as the server sent it; `null` when it sent none, or one beyond
    /// ten years (taken as no expiry known).
    #[napi(getter, catch_unwind)]
    pub fn expires_in(&self, env: &Env) -> Result<Option<f64>> {
        guard(env, NOT_SENT, || Ok(self.0.expires_in().map(|s| s as f64)))
    }

    /// When the access token expires: the moment the request was sent plus `expiresIn`;
    /// `null` when no expiry is known (`expiresIn` null).
    #[napi(getter, catch_unwind, ts_return_type = "Date | null")]
    pub fn expires_at<'env>(&self, env: &'env Env) -> Result<Option<JsDate<'env>>> {
        guard(env, NOT_SENT, || {
            self.0
                .expires_at_unix()
                .map(|s| env.create_date(s * 1000.0))
                .transpose()
        })
    }

    /// The refresh token to use next time (the new one, or the one sent when the server
    /// did not rotate). `null` only for `systemAccess`.
    #[napi(getter, catch_unwind)]
    pub fn refresh_token(&self, env: &Env) -> Result<Option<&str>> {
        guard(env, NOT_SENT, || Ok(self.0.refresh_token()))
    }

    /// True when the server returned a refresh token different from the one sent.
    #[napi(getter, catch_unwind)]
    pub fn refresh_token_rotated(&self, env: &Env) -> Result<bool> {
        guard(env, NOT_SENT, || Ok(self.0.refresh_token_rotated()))
    }

    /// The granted scope, if the server said.
    #[napi(getter, catch_unwind)]
    pub fn scope(&self, env: &Env) -> Result<Option<&str>> {
        guard(env, NOT_SENT, || Ok(self.0.scope()))
    }

    /// The server's `created_at` as Unix seconds.
    #[napi(getter, catch_unwind)]
    pub fn created_at(&self, env: &Env) -> Result<Option<f64>> {
        guard(env, NOT_SENT, || Ok(self.0.created_at().map(|s| s as f64)))
    }

    /// The OpenID Connect ID token, if any.
    #[napi(getter, catch_unwind)]
    pub fn id_token(&self, env: &Env) -> Result<Option<&str>> {
        guard(env, NOT_SENT, || Ok(self.0.id_token()))
    }

    /// Every other field of the response.
    #[napi(getter, catch_unwind, ts_return_type = "Record<string, unknown>")]
    pub fn extra(&self, env: &Env) -> Result<serde_json::Value> {
        guard(env, NOT_SENT, || {
            Ok(serde_json::Value::Object(self.0.extra().clone()))
        })
    }

    /// True when the access token expires within `leewayMs` (default 0) from now; false
    /// when no expiry is known (`expiresAt` null). A `leewayMs` that is negative, NaN or
    /// over a year throws `OAuthRefreshError` `INVALID_INPUT`.
    #[napi(catch_unwind)]
    pub fn is_expired(&self, env: &Env, leeway_ms: Option<f64>) -> Result<bool> {
        guard(env, NOT_SENT, || {
            let leeway = duration_from_millis("leewayMs", leeway_ms.unwrap_or(0.0))
                .map_err(|e| to_js_error(env, &e))?;
            Ok(self.0.is_expired(leeway))
        })
    }

    /// The fields that are not secret.
    #[napi(
        catch_unwind,
        js_name = "toJSON",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn to_json(&self, env: &Env) -> Result<serde_json::Value> {
        guard(env, NOT_SENT, || {
            Ok(serde_json::json!({
                "tokenType": self.0.token_type(),
                "expiresIn": self.0.expires_in(),
                // Whole milliseconds, as the `expiresAt` Date holds them.
                "expiresAt": self.0.expires_at_unix().map(|s| (s * 1000.0).floor()),
                "refreshTokenRotated": self.0.refresh_token_rotated(),
                "scope": self.0.scope(),
                "createdAt": self.0.created_at(),
            }))
        })
    }

    /// A description without secrets.
    #[napi(catch_unwind, js_name = "toString")]
    pub fn to_string_js(&self, env: &Env) -> Result<String> {
        guard(env, NOT_SENT, || {
            Ok(format!(
                "Token(tokenType={}, expiresIn={}, refreshTokenRotated={})",
                self.0.token_type(),
                self.0
                    .expires_in()
                    .map_or("null".to_owned(), |s| s.to_string()),
                self.0.refresh_token_rotated()
            ))
        })
    }
}

/// Makes `console.log(token)` and `util.inspect(token)` show the fields `toJSON` gives (no
/// secret), `expiresAt` as a `Date`: a native class has no own fields, so they would print
/// `Token {}`.
pub fn install_inspect(env: &Env, exports: &Object) -> Result<()> {
    let class: Unknown = exports.get_named_property("Token")?;
    let install: Function<Unknown, ()> = env.run_script(include_str!("token_inspect.js"))?;
    install.call(class)
}
