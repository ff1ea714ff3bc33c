//! The token a successful refresh returns (RFC 6749 §5.1), parsed leniently where servers differ.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::limits::MAX_LIFETIME_SECS;
use crate::secret::Secret;
use crate::time::parse_rfc3339;
use crate::wire::WireToken;

/// A token response. Secret fields are readable through their getters only.
#[derive(Clone)]
pub struct Token {
    access_token: Secret,
    token_type: String,
    expires_in: Option<u64>,
    expires_at: Option<SystemTime>,
    refresh_token: Option<Secret>,
    refresh_token_rotated: bool,
    scope: Option<String>,
    created_at: Option<i64>,
    id_token: Option<Secret>,
    extra: Map<String, Value>,
}

/// Why a 2xx body is not a usable token; the text names fields, never values.
pub(crate) struct NotAToken(pub &'static str);

impl Token {
    /// Builds a token from a parsed 2xx body.
    ///
    /// `sent_at` anchors `expires_at` (conservative: the server started the clock no
    /// earlier than that). `previous_refresh_token` is kept when the server does not
    /// rotate.
    pub(crate) fn from_json(
        mut body: WireToken,
        sent_at: SystemTime,
        previous_refresh_token: Option<&Secret>,
    ) -> Result<Token, NotAToken> {
        let access_token = match body.access_token.take() {
            Some(Value::String(s)) if printable(&s) => Secret::new(s),
            Some(_) => {
                return Err(NotAToken(
                    "access_token is not a non-empty printable string",
                ))
            }
            None => return Err(NotAToken("access_token is missing")),
        };
        let token_type = match body.token_type.take() {
            None | Some(Value::Null) => "Bearer".to_owned(),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
            Some(Value::String(s)) if printable(&s) => s,
            Some(_) => return Err(NotAToken("token_type is not a printable string")),
        };
        let expires_in = match body.expires_in.take() {
            None | Some(Value::Null) => None,
            Some(v) => lifetime(&v).ok_or(NotAToken("expires_in is not a number"))?,
        };
        // An empty refresh token is no refresh token: the one sent stays in use.
        let new_refresh_token = optional_string(body.refresh_token.take(), "refresh_token")?
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        let scope = optional_string(body.scope.take(), "scope")?;
        let id_token = optional_string(body.id_token.take(), "id_token")?.map(Secret::new);
        let created_at = match body.created_at.take() {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.parse::<i64>()
                    .ok()
                    .or_else(|| parse_rfc3339(&s))
                    .ok_or(NotAToken(
                        "created_at is neither epoch seconds nor ISO-8601",
                    ))?,
            ),
            Some(Value::Number(n)) => Some(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .ok_or(NotAToken("created_at is not a number"))?,
            ),
            Some(_) => return Err(NotAToken("created_at is neither a number nor a string")),
        };

        let (refresh_token, refresh_token_rotated) = match new_refresh_token {
            Some(new) => {
                let rotated = previous_refresh_token.is_none_or(|old| old != &new);
                (Some(new), rotated)
            }
            None => (previous_refresh_token.cloned(), false),
        };
        Ok(Token {
            access_token,
            token_type,
            expires_in,
            expires_at: expires_in.and_then(|s| sent_at.checked_add(Duration::from_secs(s))),
            refresh_token,
            refresh_token_rotated,
            scope,
            created_at,
            id_token,
            extra: body.extra,
        })
    }

    /// The access token.
    pub fn access_token(&self) -> &str {
        self.access_token.expose()
    }

    /// `Bearer` (normalized from any case) or the server's other type.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// Lifetime in seconds as the server sent it.
    pub fn expires_in(&self) -> Option<u64> {
        self.expires_in
    }

    /// When the access token expires: the moment the request was sent plus `expires_in`.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The refresh token to use next time: the new one, or the one sent when the server
    /// did not rotate. `None` only for grants that have none (`system_access`).
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(Secret::expose)
    }

    /// True when the server returned a refresh token different from the one sent.
    pub fn refresh_token_rotated(&self) -> bool {
        self.refresh_token_rotated
    }

    /// The granted scope, if the server said.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The server's `created_at`, as Unix seconds (sent as a number or an ISO-8601 string).
    pub fn created_at(&self) -> Option<i64> {
        self.created_at
    }

    /// The OpenID Connect ID token, if any.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_ref().map(Secret::expose)
    }

    /// Every other field of the response.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// True when the token expires within `leeway` from now. A token without a known
    /// lifetime is never considered expired here.
    pub fn is_expired(&self, leeway: Duration) -> bool {
        self.expires_at.is_some_and(|at| {
            // A leeway beyond the calendar reaches past any expiry.
            SystemTime::now()
                .checked_add(leeway)
                .is_none_or(|t| t >= at)
        })
    }

    /// `expires_at` as Unix seconds with a fraction (what the bindings expose).
    pub fn expires_at_unix(&self) -> Option<f64> {
        self.expires_at
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    }
}

/// `expires_in` sent as a JSON number or a numeric string: `None` when it is not a
/// non-negative number, `Some(None)` ("no expiry known") when it is above
/// [`MAX_LIFETIME_SECS`], whatever its size.
fn lifetime(v: &Value) -> Option<Option<u64>> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if f.is_nan() || f < 0.0 {
        return None;
    }
    Some((f <= MAX_LIFETIME_SECS as f64).then_some(f as u64))
}

/// Non-empty, without control characters. A control character cannot travel in an HTTP
/// header, nor a NUL in a C string: a token holding one is unusable in some face, so the
/// answer is refused in every face (and its refresh token salvaged).
fn printable(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

/// An optional string field; empty is allowed (an empty `refresh_token` is then ignored).
fn optional_string(value: Option<Value>, key: &'static str) -> Result<Option<String>, NotAToken> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() || printable(&s) => Ok(Some(s)),
        Some(_) => Err(NotAToken(match key {
            "refresh_token" => "refresh_token is not a printable string",
            "scope" => "scope is not a printable string",
            _ => "id_token is not a printable string",
        })),
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_token_rotated", &self.refresh_token_rotated)
            .field("scope", &self.scope)
            .field("created_at", &self.created_at)
            .field("id_token", &self.id_token)
            // Unknown fields may hold secrets the server invented; show their names only.
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How a token is kept in a store: every field, secrets in clear, times as Unix milliseconds.
/// Written from borrowed fields, so no copy of a secret is left behind.
#[derive(serde::Serialize)]
struct StoredRef<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_in: Option<u64>,
    expires_at_ms: Option<u64>,
    refresh_token: Option<&'a str>,
    scope: Option<&'a str>,
    created_at: Option<i64>,
    id_token: Option<&'a str>,
    extra: &'a Map<String, Value>,
}

#[derive(serde::Deserialize)]
struct Stored {
    access_token: Secret,
    token_type: String,
    expires_in: Option<u64>,
    expires_at_ms: Option<u64>,
    refresh_token: Option<Secret>,
    scope: Option<String>,
    created_at: Option<i64>,
    id_token: Option<Secret>,
    #[serde(default)]
    extra: Map<String, Value>,
}

impl Token {
    /// A placeholder holding only a refresh token: already expired, so the first use refreshes.
    pub(crate) fn from_refresh_token(refresh_token: Secret) -> Token {
        Token {
            access_token: Secret::default(),
            token_type: "Bearer".to_owned(),
            expires_in: None,
            expires_at: Some(UNIX_EPOCH),
            refresh_token: Some(refresh_token),
            refresh_token_rotated: false,
            scope: None,
            created_at: None,
            id_token: None,
            extra: Map::new(),
        }
    }

    /// The token as JSON for a [`TokenStore`](crate::TokenStore). The JSON holds the secrets
    /// in clear, so it is itself a [`Secret`]: write it only where the refresh token may live.
    pub fn to_stored_json(&self) -> Secret {
        let millis = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        };
        let record = StoredRef {
            access_token: self.access_token.expose(),
            token_type: &self.token_type,
            expires_in: self.expires_in,
            expires_at_ms: self.expires_at.map(millis),
            refresh_token: self.refresh_token.as_ref().map(Secret::expose),
            scope: self.scope.as_deref(),
            created_at: self.created_at,
            id_token: self.id_token.as_ref().map(Secret::expose),
            extra: &self.extra,
        };
        Secret::new(serde_json::to_string(&record).expect("a token serializes"))
    }

    /// Reads what [`Token::to_stored_json`] wrote; `None` if it is not such a record.
    pub fn from_stored_json(text: &str) -> Option<Token> {
        let r: Stored = serde_json::from_str(text).ok()?;
        Some(Token {
            access_token: r.access_token,
            token_type: r.token_type,
            expires_in: r.expires_in,
            expires_at: r
                .expires_at_ms
                .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms))),
            refresh_token: r.refresh_token,
            refresh_token_rotated: false,
            scope: r.scope,
            created_at: r.created_at,
            id_token: r.id_token,
            extra: r.extra,
        })
    }
}
