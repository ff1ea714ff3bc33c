//! The request shapes JavaScript passes in: the seed's object literal, camelCase.

use std::collections::BTreeMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::type_error;
use crate::options::{own_keys, NODE};

/// The seed's `RefreshTokenRequest`, accepted as a plain object. Any other own key with a
/// string value is sent as an extra parameter under that exact name (`{ audience: 'api' }`
/// sends `audience=api`), as `RefreshTokenRequest.param` does in Rust; a name the library
/// sends itself (`client_id`, `refresh_token`, ...) is `INVALID_INPUT`. Extra keys set to
/// `undefined` or `null` are left out; any other value is a `TypeError`.
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

/// The keys `RefreshTokenRequest` reads itself; every other own key is an extra parameter.
const KNOWN: [&str; 6] = [
    "clientId",
    "clientSecret",
    "grantType",
    "refreshToken",
    "redirectUri",
    "scope",
];

impl RefreshTokenRequest {
    pub fn into_core(
        self,
        extra: BTreeMap<String, String>,
    ) -> std::result::Result<oauth_refresh::RefreshTokenRequest, oauth_refresh::Error> {
        let mut request = oauth_refresh::RefreshTokenRequest::new(
            self.client_id,
            self.client_secret,
            self.refresh_token,
        );
        if let Some(grant_type) = &self.grant_type {
            request.grant_type =
                oauth_refresh::RefreshGrantType::parse_for(grant_type, "grantType")?;
        }
        request.redirect_uri = self.redirect_uri;
        request.scope = self.scope;
        request.extra = extra;
        // Checked here too, so that the refusal names the fields as Node spells them.
        request.validate_for(NODE)?;
        Ok(request)
    }
}

/// The request object's other own enumerable string-keyed properties, as extra parameters.
/// A value that is not a string is a `TypeError` naming the key, never showing the value.
pub fn extra_params(env: &Env, value: Unknown<'_>, what: &str) -> Result<BTreeMap<String, String>> {
    let mut extra = BTreeMap::new();
    if value.get_type()? != ValueType::Object {
        return Ok(extra); // the struct conversion has already refused it
    }
    // SAFETY: checked to be an object just above.
    let object = unsafe { value.cast::<Object>() }?;
    for name in own_keys(&object)? {
        if KNOWN.contains(&name.as_str()) {
            continue;
        }
        let value: Unknown = object.get_named_property(&name)?;
        match value.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            // SAFETY: checked to be a string.
            ValueType::String => drop(extra.insert(name, unsafe { value.cast::<String>() }?)),
            _ => {
                return Err(type_error(
                    env,
                    format!("{what}: the extra parameter {name:?} must be a string"),
                ))
            }
        }
    }
    Ok(extra)
}

/// Gusto's `system_access` grant.
#[napi(object)]
pub struct SystemAccessTokenRequest {
    /// Your client ID.
    pub client_id: String,
    /// Your client secret.
    pub client_secret: String,
}
