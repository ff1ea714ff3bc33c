//! Faults whose answers carry the request's secrets (or forged log lines), for tests that a
//! client's errors and logs never repeat what a hostile or careless server says.

use base64::Engine;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use crate::handler::{reply, Reply};

/// What the request carried, as the echo faults repeat it.
pub struct Received<'a> {
    pub refresh_token: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    /// The `Authorization` header, if credentials came in one.
    pub authorization: Option<&'a str>,
}

/// The answer of `echo-everywhere`, `echo-gusto` or `forge-log`, once credentials and the
/// refresh token are parsed; `None` for any other fault.
pub fn answer(fault: Option<&str>, got: &Received<'_>) -> Option<Reply> {
    let rt = got.refresh_token;
    let secret = got.client_secret;
    match fault? {
        // Every field, in every encoding a client might have sent: raw, form-encoded and
        // as Basic credentials.
        "echo-everywhere" => {
            let form: String = form_urlencoded::byte_serialize(rt.as_bytes()).collect();
            let mut basic = vec![base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{secret}", got.client_id))];
            let sent = got.authorization.and_then(|a| a.strip_prefix("Basic "));
            basic.extend(
                sent.map(str::trim)
                    .filter(|s| *s != basic[0])
                    .map(str::to_owned),
            );
            let description = format!(
                "refresh token {rt} (form: refresh_token={form}) rejected for client secret \
                 {secret}; Authorization: Basic {}",
                basic.join(" or Basic ")
            );
            Some(reply(
                StatusCode::BAD_REQUEST,
                json!({
                    "error": format!("invalid_request {rt}"),
                    "error_description": description,
                    "error_uri": format!("https://errors.test/{rt}?secret={secret}"),
                }),
            ))
        }
        "echo-gusto" => Some(reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "errors": [{
                "error_key": rt,
                "category": format!("invalid_grant {secret}"),
                "message": format!("token {rt} for {secret} is invalid"),
            }] }),
        )),
        // Line breaks, a fake log line, terminal escapes, a bell and a NUL: what a client
        // must not copy into a log unescaped.
        "forge-log" => Some(reply(
            StatusCode::BAD_REQUEST,
            json!({
                "error": "invalid_request\r\nFORGED",
                "error_description":
                    "bad\r\n2026-01-01 ERROR forged line\u{1b}[31m red \u{7} bell\u{0}nul",
            }),
        )),
        _ => None,
    }
}

/// `echo-rotated`: a 2xx that says it failed, after a real rotation, and names the new
/// refresh token in its error text as well as in its own field.
pub fn rotated(body: &Map<String, Value>) -> Reply {
    let rt = body.get("refresh_token").cloned().unwrap_or(Value::Null);
    let shown = rt.as_str().unwrap_or("nothing");
    reply(
        StatusCode::OK,
        json!({
            "error": "server_error",
            "error_description": format!("rotated to {shown}"),
            "refresh_token": rt,
        }),
    )
}
