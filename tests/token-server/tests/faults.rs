//! The faults that echo secrets back (or forge log lines), as clients will see them.

mod common;

use common::{connect, exchange, refresh_request};
use serde_json::Value;
use token_server::TokenServer;

fn refresh(server: &TokenServer, path: &str, refresh_token: &str) -> (u16, Value) {
    let request = refresh_request(path, "echo-client", refresh_token);
    let reply = exchange(&mut connect(server.url()), &request);
    (reply.status, serde_json::from_str(&reply.body).unwrap())
}

#[test]
fn echo_everywhere_repeats_the_secrets_in_every_encoding() {
    let server = TokenServer::start();
    let rt = "seed-echo+everywhere/1";
    let sent = rt.replace('+', "%2B").replace('/', "%2F");
    let (status, body) = refresh(&server, "/e1/fault=echo-everywhere/token", &sent);
    assert_eq!(status, 400);
    let secret = "secret-echo-client";
    assert_eq!(body["error"], format!("invalid_request {rt}"));
    let description = body["error_description"].as_str().unwrap();
    for form in [
        rt,
        secret,
        "seed-echo%2Beverywhere%2F1",
        "ZWNoby1jbGllbnQ6c2VjcmV0LWVjaG8tY2xpZW50",
    ] {
        assert!(description.contains(form), "{form} not in {description}");
    }
    assert_eq!(
        body["error_uri"],
        format!("https://errors.test/{rt}?secret={secret}")
    );
}

#[test]
fn echo_gusto_puts_them_in_gusto_errors() {
    let server = TokenServer::start();
    let (status, body) = refresh(&server, "/e2/fault=echo-gusto/token", "seed-gusto-1");
    assert_eq!(status, 422);
    let error = &body["errors"][0];
    assert_eq!(error["error_key"], "seed-gusto-1");
    assert_eq!(error["category"], "invalid_grant secret-echo-client");
    assert_eq!(
        error["message"],
        "token seed-gusto-1 for secret-echo-client is invalid"
    );
}

#[test]
fn forge_log_sends_control_characters() {
    let server = TokenServer::start();
    let (status, body) = refresh(&server, "/e3/fault=forge-log/token", "seed-forge-1");
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request\r\nFORGED");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("\r\n2026-01-01 ERROR forged line\u{1b}[31m"));
    assert!(description.ends_with("\u{7} bell\u{0}nul"));
}

#[test]
fn echo_rotated_really_rotates() {
    let server = TokenServer::start();
    let (status, body) = refresh(&server, "/e4/fault=echo-rotated/token", "seed-rotated-1");
    assert_eq!(status, 200);
    assert_eq!(body["error"], "server_error");
    let new = body["refresh_token"].as_str().unwrap();
    assert!(new.starts_with("rt-"), "{body}");
    assert_eq!(body["error_description"], format!("rotated to {new}"));
    assert_eq!(
        server.current_refresh_token("seed-rotated-1").as_deref(),
        Some(new)
    );
}
