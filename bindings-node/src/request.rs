//! The request shapes JavaScript passes in: the seed's object literal, camelCase.

use napi_derive::napi;

/// The seed's `RefreshTokenRequest`, accepted as a plain object.
#[napi(object)]
pub struct RefreshTokenRequest {
    /// Your client ID.
    pub client_id: String,
    /// Your client secret.
    pub client_secret: String,
    /// `'refresh_token'` (the default); anything else is `INVALID_INPUT`.
    pub grant_type: Option<String>,
    /// The refresh token to exchange.
    pub refresh_token: String,
    /// The redirect URI you set up via the Developer Portal (Gusto), if any.
    pub redirect_uri: Option<String>,
    /// A narrower scope to request.
    pub scope: Option<String>,
}

impl RefreshTokenRequest {
    pub fn into_core(self) -> Result<oauth_refresh::RefreshTokenRequest, oauth_refresh::Error> {
        let mut request = oauth_refresh::RefreshTokenRequest::new(
            self.client_id,
            self.client_secret,
            self.refresh_token,
        );
        if let Some(grant_type) = &self.grant_type {
            request.grant_type = oauth_refresh::RefreshGrantType::parse(grant_type)?;
        }
        request.redirect_uri = self.redirect_uri;
        request.scope = self.scope;
        Ok(request)
    }
}

/// Gusto's `system_access` grant.
#[napi(object)]
pub struct SystemAccessTokenRequest {
    /// Your client ID.
    pub client_id: String,
    /// Your client secret.
    pub client_secret: String,
}
