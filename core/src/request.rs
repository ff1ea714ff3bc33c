//! What the caller asks for: a refresh (RFC 6749 §6) or Gusto's `system_access` grant.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::Error;
use crate::options::{Face, Kind};
use crate::secret::Secret;

/// The refresh-token grant, with the field names of Gusto's `RefreshTokenRequest`.
///
/// Deserializes from the wire names (`client_id`, ...) and from the seed's camelCase
/// (`clientId`, ...). Unknown string fields are kept in `extra` and sent as parameters.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct RefreshTokenRequest {
    /// Your client ID.
    #[serde(alias = "clientId")]
    pub client_id: String,
    /// Your client secret.
    #[serde(alias = "clientSecret")]
    pub client_secret: Secret,
    /// Always `refresh_token`; any other value is refused when deserializing.
    #[serde(alias = "grantType", default)]
    pub grant_type: RefreshGrantType,
    /// The refresh token to exchange.
    #[serde(alias = "refreshToken")]
    pub refresh_token: Secret,
    /// The redirect URI you set up via the Developer Portal (Gusto), if any.
    #[serde(alias = "redirectUri", default)]
    pub redirect_uri: Option<String>,
    /// A narrower scope to request (RFC 6749 §6).
    #[serde(default)]
    pub scope: Option<String>,
    /// Further string parameters sent with the request.
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

/// The only grant type a [`RefreshTokenRequest`] carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum RefreshGrantType {
    /// `refresh_token`.
    #[default]
    #[serde(rename = "refresh_token")]
    RefreshToken,
}

impl RefreshGrantType {
    /// Checks a grant type given as text (from a binding): only `refresh_token` passes.
    pub fn parse(value: &str) -> Result<Self, Error> {
        Self::parse_for(value, "grant_type")
    }

    /// [`parse`](Self::parse), naming the field `shown` (as the caller's language spells it).
    pub fn parse_for(value: &str, shown: &str) -> Result<Self, Error> {
        match value {
            "refresh_token" => Ok(RefreshGrantType::RefreshToken),
            _ => Err(Error::invalid_input(format!(
                "{shown} must be \"refresh_token\" for a refresh request"
            ))),
        }
    }
}

impl RefreshTokenRequest {
    /// A request with the required fields.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Self {
        RefreshTokenRequest {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            grant_type: RefreshGrantType::RefreshToken,
            refresh_token: refresh_token.into(),
            redirect_uri: None,
            scope: None,
            extra: BTreeMap::new(),
        }
    }

    /// Sets `redirect_uri`.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Sets `scope`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds an extra parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// Builds a request from name/value pairs, as a binding receives them from a dict or
    /// an object: wire names (`client_id`) or the seed's camelCase (`clientId`). Other
    /// names become extra parameters. A missing required field or a `grant_type` other
    /// than `refresh_token` is `invalid_input`.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let (mut client_id, mut client_secret, mut refresh_token) = (None, None, None);
        let mut request = RefreshTokenRequest::new("", "", "");
        for (name, value) in pairs {
            let value = value.into();
            match name.as_ref() {
                "client_id" | "clientId" => client_id = Some(value),
                "client_secret" | "clientSecret" => client_secret = Some(Secret::new(value)),
                "refresh_token" | "refreshToken" => refresh_token = Some(Secret::new(value)),
                "grant_type" | "grantType" => request.grant_type = RefreshGrantType::parse(&value)?,
                "redirect_uri" | "redirectUri" => request.redirect_uri = Some(value),
                "scope" => request.scope = Some(value),
                other => {
                    request.extra.insert(other.to_owned(), value);
                }
            }
        }
        let missing = |name: &str| Error::invalid_input(format!("{name} is missing"));
        request.client_id = client_id.ok_or_else(|| missing("client_id"))?;
        request.client_secret = client_secret.ok_or_else(|| missing("client_secret"))?;
        request.refresh_token = refresh_token.ok_or_else(|| missing("refresh_token"))?;
        Ok(request)
    }

    /// Refuses what no server could accept, before any I/O.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.validate_as(str::to_owned)
    }

    /// [`validate`](Self::validate), naming each field as `face` spells it: a binding calls
    /// it while converting a request, so that its caller reads `clientId is empty`.
    pub fn validate_for(&self, face: Face) -> Result<(), Error> {
        self.validate_as(|name| face.name(name, Kind::Text))
    }

    /// `shown` spells a field's name; called only for the one refused.
    fn validate_as(&self, shown: impl Fn(&str) -> String) -> Result<(), Error> {
        let fields = [
            ("client_id", Some(self.client_id.as_str())),
            ("client_secret", Some(self.client_secret.expose())),
            ("refresh_token", Some(self.refresh_token.expose())),
            ("redirect_uri", self.redirect_uri.as_deref()),
            ("scope", self.scope.as_deref()),
        ];
        for (name, value) in fields {
            if let Some(problem) = value.and_then(field_problem) {
                return Err(Error::invalid_input(format!("{} {problem}", shown(name))));
            }
        }
        for (name, value) in &self.extra {
            check_extra(name, value)?;
        }
        Ok(())
    }
}

/// Gusto's `system_access` grant: a token for the application itself, with no refresh token.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct SystemAccessTokenRequest {
    /// Your client ID.
    #[serde(alias = "clientId")]
    pub client_id: String,
    /// Your client secret.
    #[serde(alias = "clientSecret")]
    pub client_secret: Secret,
}

impl SystemAccessTokenRequest {
    /// A request with both required fields.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        SystemAccessTokenRequest {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_field("client_id", &self.client_id)?;
        check_field("client_secret", self.client_secret.expose())
    }
}

/// The names the library sends itself; an extra parameter may not override them.
const RESERVED: [&str; 6] = [
    "client_id",
    "client_secret",
    "grant_type",
    "refresh_token",
    "redirect_uri",
    "scope",
];

fn check_extra(name: &str, value: &str) -> Result<(), Error> {
    check_field("extra parameter name", name)?;
    if RESERVED.contains(&name) {
        return Err(Error::invalid_input(format!(
            "extra parameter {name:?} would override a field the library sets"
        )));
    }
    // The value may be anything but NUL; its name is safe to show, the value is not.
    if value.contains('\0') {
        return Err(Error::invalid_input(format!(
            "extra parameter {name:?} contains a NUL byte"
        )));
    }
    Ok(())
}

/// Empty and NUL-containing values are caller bugs; the message names the field, never its value.
pub(crate) fn check_field(name: &str, value: &str) -> Result<(), Error> {
    match field_problem(value) {
        Some(problem) => Err(Error::invalid_input(format!("{name} {problem}"))),
        None => Ok(()),
    }
}

/// Why no server could accept `value` as a field, if it could not.
fn field_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("is empty")
    } else if value.contains('\0') {
        Some("contains a NUL byte")
    } else {
        None
    }
}

impl fmt::Debug for RefreshTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenRequest")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("grant_type", &"refresh_token")
            .field("refresh_token", &self.refresh_token)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}
