//! Input refused before any I/O, and the seed's request shape.

use std::time::Duration;

use oauth_refresh::{
    Client, ErrorCode, GustoEnvironment, RefreshGrantType, RefreshTokenRequest, RefreshTokenState,
    StoreOptions, SystemAccessTokenRequest,
};
use token_server::TokenServer;

#[test]
fn the_seed_example_deserializes() {
    let seed = r#"{
        "clientId": "qr6L_9FRkbMVL_GdwvrMW6Ef8tcU6NUxjWpOfqXqOG8",
        "clientSecret": "3aQSHRB3596nZhm6NdNBELZ1u9xbZmvCrKpBhbZYq6w",
        "grantType": "refresh_token",
        "refreshToken": "iEjL96L9Pndwmi-xVX3Q-xbrvvhnjHYGX87sopgGJ8E"
    }"#;
    let r: RefreshTokenRequest = serde_json::from_str(seed).unwrap();
    assert_eq!(r.client_id, "qr6L_9FRkbMVL_GdwvrMW6Ef8tcU6NUxjWpOfqXqOG8");
    assert_eq!(
        r.refresh_token.expose(),
        "iEjL96L9Pndwmi-xVX3Q-xbrvvhnjHYGX87sopgGJ8E"
    );
    assert_eq!(r.grant_type, RefreshGrantType::RefreshToken);
    assert_eq!(r.redirect_uri, None);

    let wire = r#"{"client_id":"a","client_secret":"s","refresh_token":"t","redirect_uri":"https://x/cb","scope":"read","audience":"api"}"#;
    let r: RefreshTokenRequest = serde_json::from_str(wire).unwrap();
    assert_eq!(r.redirect_uri.as_deref(), Some("https://x/cb"));
    assert_eq!(r.scope.as_deref(), Some("read"));
    assert_eq!(r.extra.get("audience").map(String::as_str), Some("api"));

    let wrong =
        r#"{"clientId":"a","clientSecret":"s","grantType":"system_access","refreshToken":"t"}"#;
    assert!(serde_json::from_str::<RefreshTokenRequest>(wrong).is_err());
    let missing = r#"{"clientId":"a","grantType":"refresh_token","refreshToken":"t"}"#;
    assert!(serde_json::from_str::<RefreshTokenRequest>(missing).is_err());
}

#[test]
fn bad_fields_are_refused_before_any_request() {
    let server = TokenServer::start();
    let client = Client::new(format!("{}/input/ok/token", server.url())).unwrap();
    let cases = [
        RefreshTokenRequest::new("", "s", "t"),
        RefreshTokenRequest::new("a", "", "t"),
        RefreshTokenRequest::new("a", "s", ""),
        RefreshTokenRequest::new("a\0b", "s", "t"),
        RefreshTokenRequest::new("a", "s\0", "t"),
        RefreshTokenRequest::new("a", "s", "t\0"),
        RefreshTokenRequest::new("a", "s", "t").scope(""),
        RefreshTokenRequest::new("a", "s", "t").redirect_uri("x\0"),
        RefreshTokenRequest::new("a", "s", "t").param("refresh_token", "other"),
        RefreshTokenRequest::new("a", "s", "t").param("", "v"),
        RefreshTokenRequest::new("a", "s", "t").param("n", "v\0"),
    ];
    for (i, request) in cases.iter().enumerate() {
        let err = client.refresh(request).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "case {i}: {err}");
        assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
        assert!(!err.is_retryable());
    }
    let err = client
        .system_access(&SystemAccessTokenRequest::new("a", ""))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(
        server.token_requests("input"),
        0,
        "nothing reached the server"
    );
    assert_eq!(
        RefreshGrantType::parse("password").unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}

#[test]
fn the_token_url_and_options_are_checked() {
    let refused = |b: oauth_refresh::ClientBuilder| b.build().unwrap_err().code();
    for url in [
        "ftp://auth.example.com/token",
        "not a url",
        "http://auth.example.com/token",
        "https:///token",
    ] {
        assert_eq!(
            refused(Client::builder(url)),
            ErrorCode::InvalidInput,
            "{url}"
        );
    }
    for url in [
        "http://localhost:1/token",
        "http://127.0.0.2:1/token",
        "http://[::1]:1/token",
        "https://auth.example.com/token",
    ] {
        assert!(Client::new(url).is_ok(), "{url}");
    }
    assert!(Client::builder("http://auth.example.com/token")
        .allow_insecure_http(true)
        .build()
        .is_ok());
    let https = || Client::builder("https://auth.example.com/token");
    assert_eq!(
        refused(https().header("Authorization", "Bearer x")),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        refused(https().header("Content-Type", "text/plain")),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        refused(https().header("bad name", "v")),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        refused(https().header("X-Ok", "line\nbreak")),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        refused(https().timeout(Duration::ZERO)),
        ErrorCode::InvalidInput
    );
    // Values that would overflow time arithmetic, or break every request, are refused
    // here rather than panicking later.
    for agent in ["a\r\nX-Forged: 1", "nul\0byte", "bell\x07"] {
        assert_eq!(
            refused(https().user_agent(agent)),
            ErrorCode::InvalidInput,
            "{agent:?}"
        );
    }
    let huge = Duration::from_secs(u64::MAX);
    assert_eq!(refused(https().timeout(huge)), ErrorCode::InvalidInput);
    assert_eq!(
        refused(https().connect_timeout(huge)),
        ErrorCode::InvalidInput
    );
    let policy = oauth_refresh::RetryPolicy {
        max_backoff: huge,
        ..Default::default()
    };
    assert_eq!(
        refused(https().retry_policy(policy)),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        refused(https().ca_file("/nonexistent/ca.pem")),
        ErrorCode::InvalidInput
    );
    let not_pem =
        std::env::temp_dir().join(format!("oauth-refresh-not-pem-{}", std::process::id()));
    std::fs::write(&not_pem, "hello").unwrap();
    assert_eq!(refused(https().ca_file(&not_pem)), ErrorCode::InvalidInput);
    std::fs::remove_file(not_pem).unwrap();
}

#[test]
fn conflicting_headers_and_absurd_retries_are_refused() {
    let https = || Client::builder("https://auth.example.com/token");
    let message = |b: oauth_refresh::ClientBuilder| b.build().unwrap_err().message().to_owned();
    // Two values for one header: which one the server would use is not ours to guess.
    assert!(message(https().header("X-Extra", "a").header("x-extra", "b")).contains("given twice"));
    let gusto = || Client::gusto(GustoEnvironment::Demo);
    assert!(message(
        gusto()
            .gusto_api_version("1")
            .header("X-Gusto-API-Version", "2")
    )
    .contains("given twice"));
    assert!(message(https().header("User-Agent", "x")).contains("user_agent"));
    // A header name is never quoted: a name and value swapped would show the value.
    let swapped = message(https().header("sk-live-0123456789 secret", "X-Api-Key"));
    assert!(!swapped.contains("sk-live"), "{swapped}");
    // C's old `-1` for "the default" as an unsigned count.
    assert!(message(https().max_retries(u32::MAX)).contains("at most 20"));
    assert!(https().max_retries(20).build().is_ok());
}

#[test]
fn a_file_store_path_no_file_could_have_is_refused() {
    for path in ["", "/tmp/a\0b"] {
        let Err(err) = StoreOptions::default().file(path) else {
            panic!("{path:?} was accepted");
        };
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{path:?}");
    }
    assert!(StoreOptions::default().file("/tmp/token.json").is_ok());
}

#[test]
fn headers_and_user_agent_reach_the_server() {
    let server = TokenServer::start();
    let client = Client::builder(format!("{}/hdr/ok/token", server.url()))
        .header("X-Extra", "on")
        .build()
        .unwrap();
    client
        .refresh(&RefreshTokenRequest::new("a", "secret-a", "seed-hdr"))
        .unwrap();
    let last = &server.stats("hdr")["last"];
    assert_eq!(last["x-extra"], "on");
    assert_eq!(
        last["user-agent"],
        format!("oauth-refresh/{} (rust)", env!("CARGO_PKG_VERSION"))
    );

    let custom = Client::builder(format!("{}/ua/ok/token", server.url()))
        .user_agent("my-service/2.0")
        .build()
        .unwrap();
    custom
        .refresh(&RefreshTokenRequest::new("a", "secret-a", "seed-ua"))
        .unwrap();
    assert_eq!(server.stats("ua")["last"]["user-agent"], "my-service/2.0");
}

#[test]
fn requests_from_pairs_accept_both_namings() {
    let seed = [
        ("clientId", "a"),
        ("clientSecret", "s"),
        ("grantType", "refresh_token"),
        ("refreshToken", "t"),
        ("redirectUri", "https://x/cb"),
    ];
    let r = RefreshTokenRequest::from_pairs(seed).unwrap();
    assert_eq!((r.client_id.as_str(), r.refresh_token.expose()), ("a", "t"));
    assert_eq!(r.redirect_uri.as_deref(), Some("https://x/cb"));
    let wire = [
        ("client_id", "a"),
        ("client_secret", "s"),
        ("refresh_token", "t"),
        ("scope", "read"),
        ("audience", "api"),
    ];
    let r = RefreshTokenRequest::from_pairs(wire).unwrap();
    assert_eq!(r.scope.as_deref(), Some("read"));
    assert_eq!(r.extra.get("audience").map(String::as_str), Some("api"));

    let wrong = [
        ("clientId", "a"),
        ("clientSecret", "s"),
        ("grantType", "system_access"),
        ("refreshToken", "t"),
    ];
    assert_eq!(
        RefreshTokenRequest::from_pairs(wrong).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let missing =
        RefreshTokenRequest::from_pairs([("clientId", "a"), ("refreshToken", "t")]).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::InvalidInput);
    assert!(missing.message().contains("client_secret"));
}
