//! The CONNECT proxies: one tunnel target, everything else turned away and counted.

mod common;

use common::{connect, exchange, read_reply, refresh_request, tls, tls_config};
use token_server::TokenServer;

fn connect_request(target: &str, extra: &str) -> String {
    format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n")
}

#[test]
fn tokens_test_is_tunnelled_to_the_https_listener() {
    let server = TokenServer::start();
    let target = format!("tokens.test:{}", server.https_port());
    let mut tcp = connect(server.proxy_url());
    let reply = exchange(&mut tcp, &connect_request(&target, ""));
    assert_eq!(reply.status, 200, "{}", reply.head);
    let mut stream = tls(&tls_config(server.ca_file()), "tokens.test", tcp).unwrap();
    let reply = exchange(
        &mut stream,
        &refresh_request("/tunnel/ok/token", "p", "seed-t1"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.token_requests("tunnel"), 1);
    let stats = server.proxy_stats();
    assert_eq!(stats["connects"], 1, "{stats}");
    assert_eq!(stats["tunnelled"], 1, "{stats}");
    assert_eq!(stats["targets"], serde_json::json!([target]), "{stats}");
}

#[test]
fn loopback_targets_are_refused_and_counted() {
    let server = TokenServer::start();
    let port = server.https_port();
    for target in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let reply = exchange(
            &mut connect(server.proxy_url()),
            &connect_request(&target, ""),
        );
        assert_eq!(reply.status, 403, "{}", reply.head);
    }
    let stats = server.proxy_stats();
    assert_eq!(
        (stats["connects"].as_u64(), stats["refused"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(stats["tunnelled"], 0, "{stats}");
}

#[test]
fn a_plain_request_through_the_proxy_is_answered_502_and_counted() {
    let server = TokenServer::start();
    let absolute = format!("{}/plain/ok/token", server.url());
    let mut tcp = connect(server.proxy_url());
    let reply = exchange(&mut tcp, &refresh_request(&absolute, "p", "seed-p1"));
    assert_eq!(reply.status, 502, "{}", reply.head);
    assert!(reply.head.contains("connection: close"), "{}", reply.head);
    assert_eq!(server.token_requests("plain"), 0);
    let stats = server.proxy_stats();
    assert_eq!(stats["plain"], 1, "{stats}");
    let authority = server.url().trim_start_matches("http://");
    assert_eq!(stats["targets"], serde_json::json!([authority]), "{stats}");
    // The same counters over HTTP, for the other languages' tests.
    let mut http = connect(server.url());
    let reply = exchange(
        &mut http,
        "GET /proxy/stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let served: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(served, stats);
}

#[test]
fn the_authenticated_proxy_wants_its_credentials() {
    let server = TokenServer::start();
    let url = server.authenticated_proxy_url();
    assert!(
        url.starts_with("http://proxyuser:proxy-pass-Zq8w@127.0.0.1:"),
        "{url}"
    );
    let target = format!("tokens.test:{}", server.https_port());
    let wrong = "Proxy-Authorization: Basic cHJveHl1c2VyOndyb25n\r\n"; // proxyuser:wrong
    for extra in ["", wrong] {
        let reply = exchange(&mut connect(url), &connect_request(&target, extra));
        assert_eq!(reply.status, 407, "{}", reply.head);
        assert!(
            reply
                .head
                .contains("proxy-authenticate: basic realm=\"test\""),
            "{}",
            reply.head
        );
    }
    let right = "Proxy-Authorization: Basic cHJveHl1c2VyOnByb3h5LXBhc3MtWnE4dw==\r\n";
    let mut tcp = connect(url);
    std::io::Write::write_all(&mut tcp, connect_request(&target, right).as_bytes()).unwrap();
    assert_eq!(read_reply(&mut tcp).status, 200);
    let stats = server.proxy_stats();
    assert_eq!(stats["unauthorized"], 2, "{stats}");
    assert_eq!(stats["tunnelled"], 1, "{stats}");
}
