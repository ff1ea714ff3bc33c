//! One error type for every failure, with what the caller needs to decide what to do next.

use std::fmt;
use std::time::Duration;

use crate::options::Kind;
use crate::redact::escape_controls;
use crate::secret::Secret;
use crate::token::Token;

/// What went wrong, as a stable code shared by every language binding.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The caller's input was refused before any I/O.
    InvalidInput,
    /// The server refused the refresh token (`invalid_grant`): re-authorize.
    InvalidGrant,
    /// The server refused the client credentials (`invalid_client`).
    InvalidClient,
    /// The server says the request is malformed (`invalid_request`).
    InvalidRequest,
    /// The server refused the requested scope (`invalid_scope`).
    InvalidScope,
    /// The client may not use this grant (`unauthorized_client`).
    UnauthorizedClient,
    /// The server does not support this grant type (`unsupported_grant_type`).
    UnsupportedGrantType,
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx, or `server_error` / `temporarily_unavailable`.
    ServerError,
    /// Any other non-2xx answer without an OAuth error body (an HTML 404, a redirect).
    HttpStatus,
    /// A connect or overall timeout.
    Timeout,
    /// The connection failed (refused, DNS, reset).
    Connection,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// A 2xx answer that is not a valid token: not JSON, oversized, no `access_token`.
    InvalidResponse,
    /// A token store could not be read or written. When a new token could not be stored,
    /// [`Error::token`] holds it.
    StoreFailed,
    /// The store could not be reached (Redis down or restarting) when a refresh had to be
    /// coordinated through it. Nothing was sent: the refresh token is unchanged.
    StoreUnavailable,
    /// A stored token could not be decrypted: wrong key, no key for an encrypted store, or a
    /// key for a store that is not encrypted.
    StoreDecrypt,
    /// A bug in this library, caught before it could crash the process (a panic). The
    /// state says whether the request may have left: `unknown` if it may have.
    Internal,
}

impl ErrorCode {
    /// The snake_case name used on the wire and in every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServerError => "server_error",
            ErrorCode::HttpStatus => "http_status",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Connection => "connection",
            ErrorCode::Tls => "tls",
            ErrorCode::InvalidResponse => "invalid_response",
            ErrorCode::StoreFailed => "store_failed",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::StoreDecrypt => "store_decrypt",
            ErrorCode::Internal => "internal",
        }
    }

    /// One sentence on what the code means, for every face's docs.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "The input was refused before any I/O.",
            ErrorCode::InvalidGrant => "The server refused the refresh token: authorize again.",
            ErrorCode::InvalidClient => "The server refused the client credentials.",
            ErrorCode::InvalidRequest => "The server says the request is malformed.",
            ErrorCode::InvalidScope => "The server refused the requested scope.",
            ErrorCode::UnauthorizedClient => "The client may not use this grant.",
            ErrorCode::UnsupportedGrantType => "The server does not support this grant type.",
            ErrorCode::RateLimited => "HTTP 429: the server asks to slow down (see retry_after).",
            ErrorCode::ServerError => "HTTP 5xx, or server_error / temporarily_unavailable.",
            ErrorCode::HttpStatus => "Another non-2xx answer without an OAuth error body (an HTML 404, a redirect).",
            ErrorCode::Timeout => "A connect or overall timeout.",
            ErrorCode::Connection => "The connection failed (refused, DNS, reset, proxy).",
            ErrorCode::Tls => "The TLS handshake or certificate check failed.",
            ErrorCode::InvalidResponse => "A 2xx answer that is not a valid token; the error's salvaged refresh token, if any, is the new one: store it.",
            ErrorCode::StoreFailed => "The token store could not be read or written; after a refresh, the error carries the new token: store it.",
            ErrorCode::StoreUnavailable => "The store could not be reached when a refresh had to be coordinated through it; nothing was sent.",
            ErrorCode::StoreDecrypt => "A stored token could not be decrypted: wrong key, no key, or a key for a store that is not encrypted.",
            ErrorCode::Internal => "A bug in oauth-refresh caught before it could crash the process (a panic).",
        }
    }

    /// Every code, in the order of the C result values; bindings test their mapping over it.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::InvalidInput,
        ErrorCode::InvalidGrant,
        ErrorCode::InvalidClient,
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidScope,
        ErrorCode::UnauthorizedClient,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::RateLimited,
        ErrorCode::ServerError,
        ErrorCode::HttpStatus,
        ErrorCode::Timeout,
        ErrorCode::Connection,
        ErrorCode::Tls,
        ErrorCode::InvalidResponse,
        ErrorCode::StoreFailed,
        ErrorCode::StoreUnavailable,
        ErrorCode::StoreDecrypt,
        ErrorCode::Internal,
    ];

    /// The code named by an OAuth `error` value (RFC 6749 §5.2), if it is one we map.
    pub(crate) fn from_oauth(error: &str) -> Option<ErrorCode> {
        Some(match error {
            "invalid_grant" => ErrorCode::InvalidGrant,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_scope" => ErrorCode::InvalidScope,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "server_error" | "temporarily_unavailable" => ErrorCode::ServerError,
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failure means for the refresh token that was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefreshTokenState {
    /// The server did not consume it: it is safe to retry with the same token.
    Unused,
    /// The server refused it: the user must authorize again.
    Rejected,
    /// It was sent and the outcome is not known: it may have been consumed.
    Unknown,
}

impl RefreshTokenState {
    /// `"unused"`, `"rejected"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshTokenState::Unused => "unused",
            RefreshTokenState::Rejected => "rejected",
            RefreshTokenState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RefreshTokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed refresh. Its message never contains a secret.
///
/// Boxed so that `Result<Token, Error>` stays small on the success path.
#[derive(Clone, Debug)]
pub struct Error(Box<Details>);

#[derive(Clone, Debug)]
struct Details {
    code: ErrorCode,
    state: RefreshTokenState,
    retryable: bool,
    message: String,
    status: Option<u16>,
    error: Option<String>,
    error_description: Option<String>,
    error_uri: Option<String>,
    retry_after: Option<Duration>,
    salvaged_refresh_token: Option<Secret>,
    token: Option<Box<Token>>,
}

impl Error {
    pub(crate) fn new(
        code: ErrorCode,
        state: RefreshTokenState,
        message: impl Into<String>,
    ) -> Self {
        Error(Box::new(Details {
            code,
            state,
            retryable: false,
            message: escape_controls(message.into()),
            status: None,
            error: None,
            error_description: None,
            error_uri: None,
            retry_after: None,
            salvaged_refresh_token: None,
            token: None,
        }))
    }

    /// [`ErrorCode::Internal`]: a panic caught before it could crash the process, by the
    /// core or by a binding's own boundary. `state`: `Unknown` if a request may have left.
    pub fn internal(state: RefreshTokenState) -> Self {
        Error::new(
            ErrorCode::Internal,
            state,
            "internal error in oauth-refresh (a caught panic); please report it",
        )
    }

    /// A refusal of the caller's input, before any I/O.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, RefreshTokenState::Unused, message)
    }

    /// A call on an object its owner closed (`what`: its name, as `AccountTokens`): a binding
    /// whose language closes objects explicitly answers every later call with this.
    pub fn closed(what: &str) -> Self {
        Error::invalid_input(format!("this {what} is closed"))
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    pub(crate) fn with_server_error(
        mut self,
        error: Option<String>,
        description: Option<String>,
        uri: Option<String>,
    ) -> Self {
        self.0.error = error.map(escape_controls);
        self.0.error_description = description.map(escape_controls);
        self.0.error_uri = uri.map(escape_controls);
        self
    }

    /// This error with `f` applied to its message and to each server-supplied field.
    pub(crate) fn map_text(mut self, f: impl Fn(&str) -> String) -> Self {
        let d = &mut *self.0;
        d.message = f(&d.message);
        for field in [&mut d.error, &mut d.error_description, &mut d.error_uri] {
            if let Some(text) = field.as_mut() {
                *text = f(text);
            }
        }
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.0.retry_after = retry_after;
        self
    }

    pub(crate) fn with_salvaged_refresh_token(mut self, token: Option<Secret>) -> Self {
        self.0.salvaged_refresh_token = token;
        self
    }

    pub(crate) fn with_token(mut self, token: Token) -> Self {
        self.0.token = Some(Box::new(token));
        self
    }

    /// This unknown-outcome error, as returned instead of resending its refresh token.
    pub(crate) fn not_resent(&self) -> Error {
        let mut err = self.clone();
        err.0.retryable = false;
        err.0.message = format!(
            "not resent: the last refresh with this refresh token had an unknown outcome \
             ({}); call allow_resend() to send it again",
            self.0.message
        );
        err
    }

    pub(crate) fn set_retryable(&mut self, retryable: bool) {
        self.0.retryable = retryable;
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// What this failure means for the refresh token that was sent.
    pub fn refresh_token_state(&self) -> RefreshTokenState {
        self.0.state
    }

    /// True when the same request may succeed later and resending it cannot burn the
    /// refresh token under this client's policy (the client already retried it as far
    /// as its retry policy allows).
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The server's `error` value (or Gusto's `error_key`/`category`).
    pub fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// The server's `error_description` (or Gusto's `message`).
    pub fn error_description(&self) -> Option<&str> {
        self.0.error_description.as_deref()
    }

    /// The server's `error_uri`.
    pub fn error_uri(&self) -> Option<&str> {
        self.0.error_uri.as_deref()
    }

    /// How long the server asked us to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// A human-readable explanation without any secret.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// On `invalid_response`: the new refresh token the server sent in a body we could
    /// not otherwise use. The server has probably rotated, so store it: the old one
    /// may already be dead.
    pub fn salvaged_refresh_token(&self) -> Option<&str> {
        self.0.salvaged_refresh_token.as_ref().map(Secret::expose)
    }
}

impl Error {
    /// On `store_failed` after a refresh: the new token, which the store does not hold.
    /// Persist it some other way: the old refresh token may no longer work.
    pub fn token(&self) -> Option<&Token> {
        self.0.token.as_deref()
    }
}

/// One field of an error, as a binding hands it to its language (see [`Error::fields`]).
#[derive(Clone, Copy)]
pub enum Field<'a> {
    /// Absent.
    Null,
    /// The error code; each face spells it its way (Node upper-cases it).
    Code(ErrorCode),
    /// Text.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
    /// A whole number (the HTTP status).
    Number(u16),
    /// A duration: seconds in Python, milliseconds (`_ms`, `Ms`) in C and Node.
    Duration(Duration),
    /// The token a store could not keep.
    Token(&'a Token),
}

impl Error {
    /// The name and kind of every field of [`Error::fields`], in its order (the kind
    /// decides its name and unit in each face: `retry_after` is `retryAfterMs` in Node).
    pub const FIELDS: [(&'static str, Kind); 10] = [
        ("code", Kind::Text),
        ("refresh_token_state", Kind::Text),
        ("retryable", Kind::Bool),
        ("status", Kind::Count),
        ("error", Kind::Text),
        ("error_description", Kind::Text),
        ("error_uri", Kind::Text),
        ("retry_after", Kind::Duration),
        ("salvaged_refresh_token", Kind::Text),
        ("token", Kind::Text),
    ];

    /// Every field besides the message, with its name and kind from [`FIELDS`](Self::FIELDS):
    /// a binding builds its language's error from these without knowing any one of them.
    pub fn fields(&self) -> [(&'static str, Kind, Field<'_>); 10] {
        let d = &*self.0;
        fn text(t: &Option<String>) -> Field<'_> {
            t.as_deref().map_or(Field::Null, Field::Text)
        }
        let fields = [
            Field::Code(d.code),
            Field::Text(d.state.as_str()),
            Field::Bool(d.retryable),
            d.status.map_or(Field::Null, Field::Number),
            text(&d.error),
            text(&d.error_description),
            text(&d.error_uri),
            d.retry_after.map_or(Field::Null, Field::Duration),
            self.salvaged_refresh_token()
                .map_or(Field::Null, Field::Text),
            self.token().map_or(Field::Null, Field::Token),
        ];
        let mut i = 0;
        fields.map(|f| {
            let (name, kind) = Self::FIELDS[i];
            i += 1;
            (name, kind, f)
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (refresh token {})",
            self.0.code, self.0.message, self.0.state
        )
    }
}

impl std::error::Error for Error {}

/// Runs `f`, turning a panic into an [`ErrorCode::Internal`] error instead of letting it
/// unwind into the caller: a binding's caller may be Node or C, where an unwinding panic
/// aborts the whole process. `sent` says, after the fact, whether a request may have left
/// (then the refresh token's state is `unknown`).
pub(crate) fn catch_panic<T>(
    sent: impl FnOnce() -> bool,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::internal(if sent() {
            RefreshTokenState::Unknown
        } else {
            RefreshTokenState::Unused
        }))
    })
}
