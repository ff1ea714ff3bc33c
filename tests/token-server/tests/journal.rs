//! The secrets journal. Alone in its test binary: the variable is read from the process's
//! environment, which every server started meanwhile would share.

mod common;

use common::{connect, exchange, refresh_request};
use token_server::{TokenServer, JOURNAL_VAR};

#[test]
fn every_secret_seen_or_issued_is_journaled_once_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    // Edition 2021: set_var is safe, and no other test in this binary reads the variable.
    std::env::set_var(JOURNAL_VAR, &path);
    let server = TokenServer::start();
    let request = refresh_request("/j/extras/token", "journal-client", "seed-journal-1");
    let reply = exchange(&mut connect(server.url()), &request);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let basic = "am91cm5hbC1jbGllbnQ6c2VjcmV0LWpvdXJuYWwtY2xpZW50";
    for value in [
        "secret-journal-client",
        basic,
        "seed-journal-1",
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
        body["id_token"].as_str().unwrap(),
    ] {
        assert!(lines.contains(&value), "{value} not in {lines:?}");
    }
    // The client id is not a secret, and "ok"-sized values are too short to scan for.
    assert!(!lines.contains(&"journal-client"), "{lines:?}");
    std::env::remove_var(JOURNAL_VAR);
}
