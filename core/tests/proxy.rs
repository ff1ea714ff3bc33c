//! Proxies from the environment, against the token server's own CONNECT proxies. The
//! conformance cases cover the paths every language shares (tunnel, authentication,
//! NO_PROXY, loopback never proxied); these cover what only Rust can see or set.
//!
//! The tests change the process environment, so they take turns.

use std::sync::Mutex;

use oauth_refresh::{Client, ErrorCode, RefreshTokenRequest, RefreshTokenState};
use token_server::TokenServer;

static ENV: Mutex<()> = Mutex::new(());

const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs `f` with exactly `vars` set among the proxy variables.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let _turn = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let before: Vec<_> = PROXY_VARS
        .iter()
        .map(|&n| (n, std::env::var_os(n)))
        .collect();
    for name in PROXY_VARS {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    for (name, value) in before {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
    result.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn proxied_url(server: &TokenServer, scope: &str) -> String {
    format!(
        "https://tokens.test:{}/{scope}/ok/token",
        server.https_port()
    )
}

fn request(scope: &str) -> RefreshTokenRequest {
    RefreshTokenRequest::new("app", "secret-app", format!("seed-{scope}"))
}

fn proxy_requests(server: &TokenServer) -> u64 {
    let stats = server.proxy_stats();
    stats["connects"].as_u64().unwrap() + stats["plain"].as_u64().unwrap()
}

#[test]
fn wrong_proxy_credentials_fail_before_sending_and_are_never_shown() {
    let server = TokenServer::start();
    let good = server.authenticated_proxy_url().to_owned();
    // The same proxy, with a password of our own that must appear nowhere.
    let (_, host) = good.rsplit_once('@').unwrap();
    let wrong = format!("http://proxyuser:wrong-pw-Kx93@{host}");
    let (client, err) = with_env(&[("HTTPS_PROXY", &wrong)], || {
        let client = Client::builder(proxied_url(&server, "wrong-pw"))
            .ca_file(server.ca_file())
            .max_retries(0)
            .build()
            .unwrap();
        let err = client.refresh(&request("wrong-pw")).unwrap_err();
        (client, err)
    });
    assert_eq!(err.code(), ErrorCode::Connection, "{err}");
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
    assert!(err.message().contains("407"), "{err}");
    assert_eq!(server.token_requests("wrong-pw"), 0);
    assert_eq!(server.proxy_stats()["unauthorized"], 1);
    let shown = format!("{err} {err:?} {client:?}");
    assert!(
        !shown.contains("wrong-pw-Kx93"),
        "the proxy password was shown"
    );
    let userinfo = good
        .trim_start_matches("http://")
        .split_once('@')
        .unwrap()
        .0;
    let password = userinfo.split_once(':').unwrap().1;
    let client = with_env(&[("HTTPS_PROXY", &good)], || {
        Client::builder(proxied_url(&server, "good-pw"))
            .ca_file(server.ca_file())
            .build()
            .unwrap()
    });
    client.refresh(&request("good-pw")).unwrap();
    assert!(
        !format!("{client:?}").contains(password),
        "the proxy password was shown"
    );
}

#[test]
fn all_proxy_serves_https_when_https_proxy_is_unset() {
    let server = TokenServer::start();
    let client = with_env(&[("all_proxy", server.proxy_url())], || {
        Client::builder(proxied_url(&server, "all"))
            .ca_file(server.ca_file())
            .build()
            .unwrap()
    });
    client.refresh(&request("all")).unwrap();
    assert_eq!(server.token_requests("all"), 1);
    assert_eq!(proxy_requests(&server), 1);
}

#[test]
fn proxy_from_env_off_ignores_the_environment() {
    let server = TokenServer::start();
    let client = with_env(&[("HTTPS_PROXY", server.proxy_url())], || {
        Client::builder(proxied_url(&server, "off"))
            .ca_file(server.ca_file())
            .proxy_from_env(false)
            .build()
            .unwrap()
    });
    // Direct, tokens.test does not resolve: nothing sent, nothing reached the proxy.
    let err = client.refresh(&request("off")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Connection, "{err}");
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
    assert_eq!(proxy_requests(&server), 0);
}

#[test]
fn loopback_https_goes_direct_and_http_proxy_upper_case_is_ignored() {
    let server = TokenServer::start();
    let every = [
        ("HTTPS_PROXY", server.proxy_url()),
        ("ALL_PROXY", server.proxy_url()),
        ("HTTP_PROXY", server.proxy_url()),
    ];
    let client = with_env(&every, || {
        Client::builder(format!("{}/loop/ok/token", server.https_url()))
            .ca_file(server.ca_file())
            .build()
            .unwrap()
    });
    client.refresh(&request("loop")).unwrap();
    // A non-loopback plain-HTTP URL (allowed explicitly) with only HTTP_PROXY set goes
    // direct: upper-case HTTP_PROXY can be set by a request header under CGI.
    let client = with_env(&[("HTTP_PROXY", server.proxy_url())], || {
        Client::builder("http://tokens.test:9/cgi/ok/token")
            .allow_insecure_http(true)
            .build()
            .unwrap()
    });
    let err = client.refresh(&request("cgi")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Connection, "{err}");
    assert_eq!(proxy_requests(&server), 0);
}

#[test]
fn an_invalid_proxy_url_is_refused_by_name_not_value() {
    let server = TokenServer::start();
    let err = with_env(&[("HTTPS_PROXY", "ftp://user:bad-pw-Lq2@proxy:1")], || {
        Client::builder(proxied_url(&server, "bad"))
            .build()
            .unwrap_err()
    });
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.message().contains("HTTPS_PROXY"), "{err}");
    assert!(!format!("{err} {err:?}").contains("bad-pw-Lq2"));
}
