//! Rotation against a real server: chains, reuse, the family and lazy modes, threads.

use std::sync::Arc;

use oauth_refresh::options::{Face, Value};
use oauth_refresh::{
    Client, ClientOptions, ErrorCode, GustoEnvironment, RefreshTokenRequest, RefreshTokenState,
};
use token_server::TokenServer;

fn request(refresh_token: &str) -> RefreshTokenRequest {
    RefreshTokenRequest::new("app", "secret-app", refresh_token)
}

#[test]
fn a_chain_of_refreshes_reuses_one_connection() {
    let server = TokenServer::start();
    let client = Client::new(format!("{}/chain/ok/token", server.url())).unwrap();
    let mut current = "seed-chain".to_owned();
    for _ in 0..20 {
        let token = client.refresh(&request(&current)).unwrap();
        assert!(token.refresh_token_rotated());
        current = token.refresh_token().unwrap().to_owned();
    }
    assert_eq!(
        server.current_refresh_token("seed-chain").as_deref(),
        Some(current.as_str())
    );
    assert_eq!(server.token_requests("chain"), 20);
    assert_eq!(
        server.connections(),
        1,
        "keep-alive: one TCP connection for the whole chain"
    );
}

#[test]
fn without_idle_connections_each_refresh_opens_its_own() {
    let server = TokenServer::start();
    // Built as a binding builds it: by name, through the core's options.
    let mut options = ClientOptions::new(format!("{}/noidle/ok/token", server.url()));
    options
        .set(Face::Node, "maxIdleConnections", Value::Number(0.0))
        .unwrap();
    let client = options.build().unwrap();
    let mut current = "seed-noidle".to_owned();
    for _ in 0..3 {
        let token = client.refresh(&request(&current)).unwrap();
        current = token.refresh_token().unwrap().to_owned();
    }
    assert_eq!(server.token_requests("noidle"), 3);
    assert_eq!(server.connections(), 3, "no connection kept for reuse");
}

#[test]
fn reuse_in_family_mode_revokes_the_newest_token_too() {
    let server = TokenServer::start();
    let client = Client::new(format!("{}/fam/family/token", server.url())).unwrap();
    let first = client.refresh(&request("seed-fam")).unwrap();
    let reused = client.refresh(&request("seed-fam")).unwrap_err();
    assert_eq!(reused.code(), ErrorCode::InvalidGrant);
    assert_eq!(reused.refresh_token_state(), RefreshTokenState::Rejected);
    let newest = client
        .refresh(&request(first.refresh_token().unwrap()))
        .unwrap_err();
    assert_eq!(
        newest.code(),
        ErrorCode::InvalidGrant,
        "the whole family is revoked"
    );
}

#[test]
fn gusto_lazy_revocation_ends_when_the_new_access_token_is_used() {
    let server = TokenServer::start();
    let base = format!("{}/lazy/lazy", server.url());
    let client = Client::gusto(GustoEnvironment::Custom(base))
        .build()
        .unwrap();
    let first = client.refresh(&request("seed-lazy")).unwrap();
    // The response was "lost": resending the same refresh token is forgiven.
    let again = client.refresh(&request("seed-lazy")).unwrap();
    assert!(server.use_access_token("lazy", again.access_token()));
    let after_use = client.refresh(&request("seed-lazy")).unwrap_err();
    assert_eq!(after_use.code(), ErrorCode::InvalidGrant);
    // The token issued by the forgiven retry is the one that lives on.
    assert!(client
        .refresh(&request(again.refresh_token().unwrap()))
        .is_ok());
    assert_ne!(first.refresh_token(), again.refresh_token());
}

#[test]
fn threads_share_one_client_over_independent_chains() {
    let server = TokenServer::start();
    let client = Arc::new(Client::new(format!("{}/threads/ok/token", server.url())).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let client = Arc::clone(&client);
            std::thread::spawn(move || {
                let seed = format!("seed-thread-{t}");
                let mut current = seed.clone();
                for _ in 0..25 {
                    let token = client.refresh(&request(&current)).expect("no chain breaks");
                    current = token.refresh_token().unwrap().to_owned();
                }
                (seed, current)
            })
        })
        .collect();
    for handle in handles {
        let (seed, last) = handle.join().unwrap();
        assert_eq!(server.current_refresh_token(&seed), Some(last));
    }
    assert_eq!(server.token_requests("threads"), 200);
    assert!(
        server.connections() <= 8,
        "connections are pooled, not opened per refresh"
    );
}

/// The transport holds a request's head to send it with the body in one write; past its
/// buffer it must still send every byte, in order (plain HTTP and TLS).
#[test]
fn requests_larger_than_the_held_buffer_arrive_whole() {
    let server = TokenServer::start();
    let big_param = "p".repeat(20_000);
    let big_header = "h".repeat(12_000);
    let plain = format!("{}/big/ok/token", server.url());
    let tls = format!("{}/big-tls/ok/token", server.https_url());
    for (url, header) in [(&plain, ""), (&plain, big_header.as_str()), (&tls, "")] {
        let mut builder = Client::builder(url.as_str()).ca_file(server.ca_file());
        if !header.is_empty() {
            builder = builder.header("x-extra", header);
        }
        let client = builder.build().unwrap();
        let seed = format!("seed-big-{}-{}", url.len(), header.len());
        let token = client
            .refresh(&request(&seed).param("padding", big_param.as_str()))
            .unwrap();
        assert!(token.refresh_token_rotated());
    }
    let last = &server.stats("big")["last"];
    assert_eq!(last["x-extra"].as_str().map(str::len), Some(12_000));
}
