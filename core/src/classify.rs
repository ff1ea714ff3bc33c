//! Turns what came back — a response, or a transport failure — into a Token or an Error.

use std::io;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::secret::Secret;
use crate::time::parse_retry_after;
use crate::token::Token;
use crate::wire::WireToken;

use RefreshTokenState::{Rejected, Unknown, Unused};

/// The largest response body read; anything longer is refused unread.
pub(crate) const MAX_BODY: u64 = 1 << 20;

/// What one exchange produced, for [`classify_response`].
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub retry_after: Option<&'a str>,
    pub body: &'a [u8],
    pub sent_at: SystemTime,
    pub previous_refresh_token: Option<&'a Secret>,
}

pub(crate) fn classify_response(a: &Answer<'_>) -> Result<Token, Error> {
    if !(200..300).contains(&a.status) {
        return Err(server_error(a, json_object(a.body)));
    }
    match serde_json::from_slice::<WireToken>(a.body) {
        Ok(wire) => {
            // Whatever else is wrong with the answer, a rotated refresh token is handed over.
            let salvage = match &wire.refresh_token {
                Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
                _ => None,
            };
            if wire.access_token.is_some() || !wire.has_error {
                Token::from_json(wire, a.sent_at, a.previous_refresh_token).map_err(|why| {
                    invalid_response(a.status, why.0).with_salvaged_refresh_token(salvage)
                })
            } else if salvage.is_some() {
                // An `error` beside a refresh token: the server may have rotated while
                // saying it failed. What it said is kept; the token is redacted from it.
                let (error, description, uri) = json_object(a.body)
                    .map(server_error_fields)
                    .unwrap_or_default();
                Err(
                    invalid_response(a.status, "an error body that also holds a refresh token")
                        .with_server_error(error, description, uri)
                        .with_salvaged_refresh_token(salvage),
                )
            } else {
                // Some servers answer 200 with an OAuth error body: treat it as that error.
                Err(server_error(a, json_object(a.body)))
            }
        }
        Err(_) => Err(invalid_response(a.status, "the body is not a JSON object")
            .with_salvaged_refresh_token(scan_refresh_token(a.body))),
    }
}

fn json_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn invalid_response(status: u16, why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidResponse,
        Unknown,
        format!("HTTP {status} with an unusable token response: {why}"),
    )
    .with_status(status)
}

/// A non-2xx answer (or a 2xx carrying an OAuth `error`).
fn server_error(a: &Answer<'_>, json: Option<Map<String, Value>>) -> Error {
    // Echoed secrets are hidden later, from every field at once (see `redact`).
    let (error, description, uri) = json.map(server_error_fields).unwrap_or_default();
    let retry_after = a
        .retry_after
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let oauth_code = error.as_deref().and_then(ErrorCode::from_oauth);

    let (code, state) = match (a.status, oauth_code) {
        (429, _) => (ErrorCode::RateLimited, Unused),
        (_, Some(ErrorCode::InvalidGrant)) => (ErrorCode::InvalidGrant, Rejected),
        (_, Some(ErrorCode::ServerError)) => {
            let unused = error.as_deref() == Some("temporarily_unavailable")
                || (a.status == 503 && retry_after.is_some());
            (
                ErrorCode::ServerError,
                if unused { Unused } else { Unknown },
            )
        }
        (_, Some(code)) => (code, Unused),
        (503, None) if retry_after.is_some() => (ErrorCode::ServerError, Unused),
        (500..=599, None) => (ErrorCode::ServerError, Unknown),
        (_, None) => (ErrorCode::HttpStatus, Unused),
    };

    let mut message = format!("the token endpoint answered HTTP {}", a.status);
    if let Some(e) = &error {
        message.push_str(&format!(" with error {e:?}"));
    }
    if let Some(d) = &description {
        message.push_str(": ");
        message.push_str(d);
    }
    Error::new(code, state, message)
        .with_status(a.status)
        .with_server_error(error, description, uri)
        .with_retry_after(retry_after)
}

/// RFC 6749's `{"error", "error_description", "error_uri"}`, or Gusto's
/// `{"errors": [{"error_key", "category", "message"}]}`.
fn server_error_fields(
    mut map: Map<String, Value>,
) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(error) = take(&mut map, "error") {
        let description = take(&mut map, "error_description");
        return (Some(error), description, take(&mut map, "error_uri"));
    }
    let first = match map.remove("errors") {
        Some(Value::Array(list)) => list.into_iter().next(),
        _ => None,
    };
    let Some(Value::Object(mut first)) = first else {
        return (None, None, None);
    };
    let key = take(&mut first, "error_key");
    let category = take(&mut first, "category");
    // Prefer whichever of the two names an OAuth error, so it maps to its code.
    let error = match (&key, &category) {
        (Some(k), _) if ErrorCode::from_oauth(k).is_some() => key,
        (_, Some(_)) => category,
        _ => key,
    };
    (error, take(&mut first, "message"), None)
}

fn take(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// A transport failure: whether the request reached the server decides the token state.
pub(crate) fn classify_transport(err: ureq::Error, host: &str) -> Error {
    use ureq::Error as E;
    use ureq::Timeout as T;
    match err {
        E::Timeout(T::Resolve | T::Connect) => Error::new(
            ErrorCode::Timeout,
            Unused,
            format!("connecting to {host} timed out"),
        ),
        E::Timeout(_) => Error::new(
            ErrorCode::Timeout,
            Unknown,
            format!("{host} did not answer in time after the request was sent"),
        ),
        E::HostNotFound => Error::new(
            ErrorCode::Connection,
            Unused,
            format!("could not resolve {host}"),
        ),
        E::ConnectionFailed => Error::new(
            ErrorCode::Connection,
            Unused,
            format!("could not connect to {host}"),
        ),
        E::Tls(_) | E::Pem(_) | E::Rustls(_) => Error::new(
            ErrorCode::Tls,
            Unused,
            format!("TLS with {host} failed: {err}"),
        ),
        E::ConnectProxyFailed(reason) => Error::new(
            ErrorCode::Connection,
            Unused,
            format!("the proxy refused a tunnel to {host}: {reason}"),
        ),
        E::BodyExceedsLimit(_) => Error::new(
            ErrorCode::InvalidResponse,
            Unknown,
            format!("the response from {host} is larger than {MAX_BODY} bytes"),
        ),
        E::Io(io) => classify_io(io, host),
        other => Error::new(
            ErrorCode::Connection,
            Unknown,
            format!("the exchange with {host} failed after the request was sent: {other}"),
        ),
    }
}

fn classify_io(io: io::Error, host: &str) -> Error {
    use io::ErrorKind as K;
    if let Some(tls) = io.get_ref().filter(|inner| inner.is::<rustls::Error>()) {
        return Error::new(
            ErrorCode::Tls,
            Unused,
            format!("TLS with {host} failed: {tls}"),
        );
    }
    match io.kind() {
        // These can only happen before a single byte left.
        K::ConnectionRefused | K::AddrNotAvailable | K::NetworkUnreachable | K::HostUnreachable => {
            Error::new(
                ErrorCode::Connection,
                Unused,
                format!("could not connect to {host}: {io}"),
            )
        }
        K::TimedOut | K::WouldBlock => Error::new(
            ErrorCode::Timeout,
            Unknown,
            format!("{host} did not answer in time after the request was sent"),
        ),
        _ => Error::new(
            ErrorCode::Connection,
            Unknown,
            format!("the connection to {host} failed after the request was sent: {io}"),
        ),
    }
}

/// The key the scans look for in a body that is not valid JSON.
const KEY: &[u8] = b"\"refresh_token\"";

/// Finds `"refresh_token": "..."` in a body that is not valid JSON (say, truncated).
pub(crate) fn scan_refresh_token(body: &[u8]) -> Option<Secret> {
    let start = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &body[start..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let mut end = None;
    let mut escaped = false;
    for (i, &b) in rest.iter().enumerate() {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let literal = [b"\"", &rest[..end?], b"\""].concat();
    let value: String = serde_json::from_slice(&literal).ok()?;
    (!value.is_empty()).then(|| Secret::new(value))
}

/// The longest refresh token looked for in an oversized body.
const MAX_SCANNED_TOKEN: usize = 64 * 1024;

/// Finds the refresh token in a 2xx body over [`MAX_BODY`]: `head` is what was read, `rest`
/// the unread remainder. Memory stays bounded however long the body is (only the text after
/// the key is kept); the client's deadline bounds the time.
pub(crate) fn scan_oversized(mut head: Vec<u8>, mut rest: impl io::Read) -> Option<Secret> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match head.windows(KEY.len()).position(|w| w == KEY) {
            Some(at) => {
                head.drain(..at);
                if let Some(found) = scan_refresh_token(&head) {
                    return Some(found);
                }
                if head.len() > MAX_SCANNED_TOKEN + KEY.len() + 64 {
                    // Not a string value, or absurdly long: look for the next key.
                    head.drain(..KEY.len());
                    continue;
                }
            }
            // Keep only what could be the start of the key.
            None => drop(head.drain(..head.len().saturating_sub(KEY.len() - 1))),
        }
        let n = match rest.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        head.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_a_refresh_token_from_truncated_json() {
        let body = br#"{"token_type":"bearer", "refresh_token" : "rt-\u0041bc", "access_tok"#;
        assert_eq!(scan_refresh_token(body).unwrap().expose(), "rt-Abc");
        assert!(scan_refresh_token(br#"{"refresh_token":"unterminated"#).is_none());
        assert!(scan_refresh_token(b"<html>").is_none());
    }
}
