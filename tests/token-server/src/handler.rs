//! Routing and the two token-endpoint dialects, with the injected faults.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::echo::{self, Received};
use crate::modes::Modes;
use crate::state::{Refusal, State};

pub type Reply = Response<Full<Bytes>>;

/// Returned to hyper to drop the connection without answering (the `close` fault).
#[derive(Debug)]
pub struct HangUp;

impl std::fmt::Display for HangUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed on purpose")
    }
}

impl std::error::Error for HangUp {}

/// Ends a token request's time in flight however the handler returns.
struct InFlight<'a> {
    state: &'a State,
    scope: &'a str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state.finish_token_request(self.scope);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Rfc,
    Gusto,
}

pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, HangUp> {
    let path = req.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (scope, modes, rest): (&str, &str, &[&str]) = match parts.as_slice() {
        ["token"] | ["oauth", "token"] | ["v1", "me"] => ("default", "ok", &parts[..]),
        ["proxy", "stats"] if req.method() == Method::GET => {
            return Ok(reply(StatusCode::OK, state.proxy.snapshot()));
        }
        [scope, "stats"] if req.method() == Method::GET => {
            return Ok(reply(StatusCode::OK, state.stats(scope)));
        }
        ["current", token] => {
            let token = percent_encoding::percent_decode_str(token).decode_utf8_lossy();
            let current = state.current_refresh_token(&token);
            let refreshes = state.family_refreshes(&token);
            return Ok(reply(
                StatusCode::OK,
                json!({ "refresh_token": current, "refreshes": refreshes }),
            ));
        }
        [scope, modes, rest @ ..] => (scope, modes, rest),
        _ => return Ok(not_found()),
    };
    let modes = match Modes::parse(modes) {
        Ok(m) => m,
        Err(why) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &why,
            ))
        }
    };
    match (req.method(), rest) {
        (&Method::POST, ["token"]) => token(state, scope, modes, Dialect::Rfc, req).await,
        (&Method::POST, ["oauth", "token"]) => {
            token(state, scope, modes, Dialect::Gusto, req).await
        }
        (&Method::GET, ["v1", "me"]) => Ok(me(&state, scope, &modes, &req)),
        _ => Ok(not_found()),
    }
}

/// `fault=me-401` refuses the first `times` (default 1) uses, as an API does when it
/// revoked an access token early: clients must refresh and retry.
fn me(state: &State, scope: &str, modes: &Modes, req: &Request<Incoming>) -> Reply {
    let bearer = header(req, AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned));
    let earlier = state.me_requests(scope);
    let refuse = modes.fault.as_deref() == Some("me-401") && earlier < modes.times.unwrap_or(1);
    match bearer {
        Some(token) if state.use_access_token(scope, &token) && !refuse => {
            reply(StatusCode::OK, json!({ "ok": true }))
        }
        _ => {
            let mut r = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not valid",
            );
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
    }
}

async fn token(
    state: Arc<State>,
    scope: &str,
    modes: Modes,
    dialect: Dialect,
    req: Request<Incoming>,
) -> Result<Reply, HangUp> {
    if modes.fast {
        // Drain the body so the connection can be reused, then answer without any work.
        let _ = req.into_body().collect().await;
        if state.journal.enabled() {
            state
                .fast_journaled
                .call_once(|| FAST_TOKENS.iter().for_each(|t| state.journal.record(t)));
        }
        return Ok(fast_reply());
    }
    let seen = [
        "user-agent",
        "x-gusto-api-version",
        "content-type",
        "accept",
        "x-extra",
    ]
    .iter()
    .filter_map(|&name| Some((name, header(&req, name)?)))
    .collect::<Vec<_>>();
    let earlier = state.count_token_request(scope, seen);
    let _in_flight = InFlight {
        state: &state,
        scope,
    };
    let misbehave = modes.times.is_none_or(|n| earlier < n);
    if misbehave && modes.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(modes.delay_ms)).await;
    }
    // The whole request is read before any fault, as a real server would.
    let content_type = header(&req, CONTENT_TYPE.as_str()).unwrap_or_default();
    let authorization = header(&req, AUTHORIZATION.as_str());
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "body too large",
            ))
        }
    };
    let params = parse_params(dialect, &content_type, &body);
    if state.journal.enabled() {
        journal_received(&state, authorization.as_deref(), params.as_ref().ok());
    }
    let fault = modes.fault.as_deref().filter(|_| misbehave);
    if let Some(reply) = early_fault(fault, &modes)? {
        return Ok(reply);
    }

    let params = match params {
        Ok(p) => p,
        Err(why) => return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why)),
    };
    let (client_id, client_secret, how) =
        match credentials(dialect, authorization.as_deref(), &params) {
            Ok(c) => c,
            Err(reply) => return Ok(reply),
        };
    state.note(scope, "client_auth", how);
    if client_secret != format!("secret-{client_id}") {
        return Ok(invalid_client());
    }

    let grant_type = params
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    let issued = match grant_type {
        "refresh_token" => {
            let Some(refresh_token) = params.get("refresh_token").filter(|t| !t.is_empty()) else {
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is missing",
                ));
            };
            if fault == Some("echo-secret") {
                let text = format!("refresh token {refresh_token} is malformed");
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &text,
                ));
            }
            let received = Received {
                refresh_token,
                client_id: &client_id,
                client_secret: &client_secret,
                authorization: authorization.as_deref(),
            };
            if let Some(reply) = echo::answer(fault, &received) {
                return Ok(reply);
            }
            match state.refresh(
                refresh_token,
                modes.family,
                modes.lazy,
                !modes.no_refresh_token,
            ) {
                Ok(issued) => issued,
                Err(refusal) => {
                    let why = match refusal {
                        Refusal::Unknown => "the refresh token is not known",
                        Refusal::Reused => "the refresh token was already used",
                        Refusal::Revoked => "the refresh token's grant was revoked",
                    };
                    return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why));
                }
            }
        }
        "system_access" => state.system_access(),
        "" => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            ))
        }
        _ => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "this server supports refresh_token and system_access",
            ))
        }
    };

    let mut body = Map::new();
    body.insert("access_token".into(), issued.access_token.clone().into());
    if !modes.no_token_type {
        let token_type = if dialect == Dialect::Gusto {
            "Bearer"
        } else {
            "bearer"
        };
        body.insert("token_type".into(), token_type.into());
    }
    let expires_in = modes.expires_in.unwrap_or(7200);
    if !modes.no_expires {
        body.insert(
            "expires_in".into(),
            if modes.expires_string {
                expires_in.to_string().into()
            } else {
                expires_in.into()
            },
        );
    }
    if let Some(rt) = &issued.refresh_token {
        body.insert("refresh_token".into(), rt.clone().into());
    }
    let scope_granted = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "public".to_owned());
    body.insert("scope".into(), scope_granted.into());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    body.insert(
        "created_at".into(),
        if modes.created_at_iso {
            iso8601(now).into()
        } else {
            now.into()
        },
    );
    if modes.extras {
        let id_token = format!("idt-{}", issued.access_token);
        state.journal.record(&id_token);
        body.insert("id_token".into(), id_token.into());
        body.insert("account_id".into(), "acct-1".into());
    }
    Ok(late_fault(fault, body))
}

/// Faults that answer before the request is even looked at.
fn early_fault(fault: Option<&str>, modes: &Modes) -> Result<Option<Reply>, HangUp> {
    let retry_after = modes.retry_after.clone().unwrap_or_else(|| "1".to_owned());
    let oauth = |status, error| {
        Ok(Some(oauth_error(
            status,
            error,
            "injected by the test server",
        )))
    };
    match fault {
        None
        | Some(
            "truncated"
            | "broken-with-refresh"
            | "echo-secret"
            | "echo-everywhere"
            | "echo-gusto"
            | "forge-log"
            | "echo-rotated"
            | "expires-absurd"
            | "expires-huge-string"
            | "expires-negative"
            | "nul-access-token"
            | "error-with-refresh"
            | "huge-with-refresh",
        ) => Ok(None),
        Some("close") => Err(HangUp),
        Some("429") => Ok(Some(with_header(
            reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "message": "slow down" }),
            ),
            "retry-after",
            &retry_after,
        ))),
        Some("503") => Ok(Some(html(StatusCode::SERVICE_UNAVAILABLE))),
        Some("503-retry-after") => Ok(Some(with_header(
            html(StatusCode::SERVICE_UNAVAILABLE),
            "retry-after",
            &retry_after,
        ))),
        Some("temporarily-unavailable") => {
            oauth(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
        Some("500") => oauth(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        Some("html-502") => Ok(Some(html(StatusCode::BAD_GATEWAY))),
        Some("html-404") => Ok(Some(html(StatusCode::NOT_FOUND))),
        Some("redirect") => Ok(Some(with_header(
            raw(
                StatusCode::FOUND,
                "text/plain",
                Bytes::from_static(b"moved"),
            ),
            "location",
            "/elsewhere/token",
        ))),
        Some("huge") => {
            let padding = "x".repeat(1 << 20);
            let body =
                json!({ "access_token": "at-huge", "token_type": "bearer", "padding": padding });
            Ok(Some(reply(StatusCode::OK, body)))
        }
        Some("no-access-token") => Ok(Some(reply(
            StatusCode::OK,
            json!({ "token_type": "bearer", "expires_in": 7200 }),
        ))),
        Some("not-json") => Ok(Some(raw(
            StatusCode::OK,
            "text/plain",
            Bytes::from_static(b"ok"),
        ))),
        Some("error-200") => oauth(StatusCode::OK, "invalid_grant"),
        Some("invalid-client") => Ok(Some(invalid_client())),
        Some("invalid-request") => oauth(StatusCode::BAD_REQUEST, "invalid_request"),
        Some("invalid-scope") => oauth(StatusCode::BAD_REQUEST, "invalid_scope"),
        Some("unauthorized-client") => oauth(StatusCode::BAD_REQUEST, "unauthorized_client"),
        Some("unsupported-grant-type") => oauth(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        Some("gusto-errors") => Ok(Some(reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "errors": [{ "error_key": "base", "category": "invalid_operation", "message": "Gusto says no" }] }),
        ))),
        Some("gusto-invalid-grant") => Ok(Some(reply(
            StatusCode::BAD_REQUEST,
            json!({ "errors": [{ "error_key": "invalid_grant", "category": "invalid_request", "message": "refresh token expired" }] }),
        ))),
        Some(other) => Ok(Some(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("unknown fault {other:?}"),
        ))),
    }
}

/// Faults that break a response after the server has really rotated the token.
fn late_fault(fault: Option<&str>, body: Map<String, Value>) -> Reply {
    match fault {
        Some("truncated") => {
            // The refresh token comes first, then the body stops mid-field.
            let rt = body.get("refresh_token").cloned().unwrap_or(Value::Null);
            let text = format!("{{\"refresh_token\":{rt},\"access_tok");
            raw(StatusCode::OK, "application/json", Bytes::from(text))
        }
        Some("broken-with-refresh") => {
            let rt = body.get("refresh_token").cloned().unwrap_or(Value::Null);
            reply(
                StatusCode::OK,
                json!({ "access_token": 42, "refresh_token": rt }),
            )
        }
        // Absurd lifetimes, after a real rotation: the client must neither crash nor lose
        // the new refresh token.
        Some("expires-absurd") => {
            let mut text = Value::Object(body).to_string();
            text = text.replacen("\"expires_in\":7200", "\"expires_in\":1e308", 1);
            raw(StatusCode::OK, "application/json", Bytes::from(text))
        }
        Some("expires-huge-string") => {
            with_field(body, "expires_in", "18446744073709551615".into())
        }
        Some("expires-negative") => with_field(body, "expires_in", (-5).into()),
        // A NUL inside the access token: unusable (no header or C string can hold it).
        Some("nul-access-token") => {
            let at = body["access_token"].as_str().unwrap_or_default().to_owned();
            with_field(body, "access_token", format!("{at}\u{0}x").into())
        }
        // A 2xx that says it failed yet carries the rotated refresh token.
        Some("error-with-refresh") => {
            let rt = body.get("refresh_token").cloned().unwrap_or(Value::Null);
            reply(
                StatusCode::OK,
                json!({ "error": "server_error", "refresh_token": rt }),
            )
        }
        Some("echo-rotated") => echo::rotated(&body),
        // A valid token padded past the client's 1 MiB limit, the refresh token last.
        Some("huge-with-refresh") => {
            let mut text = Value::Object(body.clone()).to_string();
            text.pop();
            let rt = body.get("refresh_token").cloned().unwrap_or(Value::Null);
            text.push_str(&format!(
                ",\"padding\":\"{}\",\"refresh_token\":{rt}}}",
                "x".repeat(3 << 20)
            ));
            raw(StatusCode::OK, "application/json", Bytes::from(text))
        }
        _ => reply(StatusCode::OK, Value::Object(body)),
    }
}

fn with_field(mut body: Map<String, Value>, key: &str, value: Value) -> Reply {
    body.insert(key.to_owned(), value);
    reply(StatusCode::OK, Value::Object(body))
}

fn parse_params(
    dialect: Dialect,
    content_type: &str,
    body: &[u8],
) -> Result<HashMap<String, String>, &'static str> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match dialect {
        Dialect::Rfc => {
            if media != "application/x-www-form-urlencoded" {
                return Err("the body must be application/x-www-form-urlencoded");
            }
            Ok(form_urlencoded::parse(body).into_owned().collect())
        }
        Dialect::Gusto => {
            if media != "application/json" {
                return Err("the body must be application/json");
            }
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
                return Err("the body is not a JSON object");
            };
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    _ => Err("every parameter must be a string"),
                })
                .collect()
        }
    }
}

/// Journals every secret the request carries, valid or not, before any fault can answer:
/// a client may leak what it sent whatever the server said.
fn journal_received(
    state: &State,
    authorization: Option<&str>,
    params: Option<&HashMap<String, String>>,
) {
    if let Some(auth) = authorization {
        if let Some(token) = auth.strip_prefix("Basic ") {
            state.journal.record(token.trim());
        }
        if let Some((_, secret)) = basic(auth) {
            state.journal.record(&secret);
        }
    }
    for key in ["client_secret", "refresh_token"] {
        if let Some(value) = params.and_then(|p| p.get(key)) {
            state.journal.record(value);
        }
    }
}

/// The client's id and secret, and how they came: `basic` or `post`.
// The refusal is a whole response; boxing it would only add noise to a test server.
#[allow(clippy::result_large_err)]
fn credentials(
    dialect: Dialect,
    authorization: Option<&str>,
    params: &HashMap<String, String>,
) -> Result<(String, String, &'static str), Reply> {
    let in_body = (params.get("client_id"), params.get("client_secret"));
    match (dialect, authorization, in_body) {
        (Dialect::Gusto, Some(_), _) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send client credentials in the body, not in an Authorization header",
        )),
        (Dialect::Rfc, Some(_), (_, Some(_))) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client credentials were sent both in the header and in the body",
        )),
        (Dialect::Rfc, Some(auth), _) => basic(auth)
            .map(|(id, secret)| (id, secret, "basic"))
            .ok_or_else(invalid_client),
        (_, None, (Some(id), Some(secret))) => Ok((id.clone(), secret.clone(), "post")),
        _ => Err(invalid_client()),
    }
}

/// Decodes `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unform = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some((unform(id)?, unform(secret)?))
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers().get(name)?.to_str().ok().map(str::to_owned)
}

pub fn reply(status: StatusCode, body: Value) -> Reply {
    raw(status, "application/json", Bytes::from(body.to_string()))
}

fn raw(status: StatusCode, content_type: &'static str, body: Bytes) -> Reply {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

fn html(status: StatusCode) -> Reply {
    let text = format!("<html><body><h1>{status}</h1></body></html>");
    raw(status, "text/html", Bytes::from(text))
}

fn with_header(mut r: Reply, name: &'static str, value: &str) -> Reply {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
    r
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
    reply(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

fn invalid_client() -> Reply {
    let r = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    );
    with_header(r, "www-authenticate", "Basic realm=\"token-server\"")
}

fn not_found() -> Reply {
    html(StatusCode::NOT_FOUND)
}

/// The tokens in `fast_reply`'s body, for the journal.
const FAST_TOKENS: [&str; 2] = ["at-fast-0123456789abcdef", "rt-fast-0123456789abcdef"];

fn fast_reply() -> Reply {
    const BODY: &[u8] = br#"{"access_token":"at-fast-0123456789abcdef","token_type":"bearer","expires_in":7200,"refresh_token":"rt-fast-0123456789abcdef","scope":"public","created_at":1700000000}"#;
    raw(StatusCode::OK, "application/json", Bytes::from_static(BODY))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant's algorithm).
fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
