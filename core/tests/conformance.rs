//! Runs every case of `tests/conformance/cases.json` through the Rust API.

use std::str::FromStr;
use std::time::Duration;

use oauth_refresh::{
    BodyEncoding, Client, ClientAuth, Error, GustoEnvironment, RefreshGrantType,
    RefreshTokenRequest, SystemAccessTokenRequest, Token,
};
use serde_json::Value;
use token_server::TokenServer;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/cases.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn build_client(server: &TokenServer, case: &Value, scope: &str) -> Result<Client, Error> {
    let c = &case["client"];
    let modes = case["modes"].as_str().unwrap();
    let base = match text(case, "target") {
        None => server.url().to_owned(),
        Some("blackhole") => server.blackhole_url(),
        Some("refused") => server.refused_url().to_owned(),
        Some("tls") => server.url().replace("http://", "https://"),
        Some("https") => server.https_url().to_owned(),
        Some("https_wrong_host") => server.https_wrong_host_url().to_owned(),
        Some("https_expired") => server.https_expired_url().to_owned(),
        Some("https_proxied") => format!("https://tokens.test:{}", server.https_port()),
        Some(other) => panic!("unknown target {other}"),
    };
    let mut builder = match (text(c, "token_url"), text(c, "dialect")) {
        (Some(url), _) => Client::builder(url),
        (None, Some("gusto")) => {
            let env = GustoEnvironment::from_str(&format!("{base}/{scope}/{modes}"))?;
            let b = Client::gusto(env);
            match text(c, "gusto_api_version") {
                Some(v) => b.gusto_api_version(v),
                None => b,
            }
        }
        (None, _) => Client::builder(format!("{base}/{scope}/{modes}/token")),
    };
    if let Some(auth) = text(c, "client_auth") {
        builder = builder.client_auth(ClientAuth::parse(auth).unwrap());
    }
    if let Some(enc) = text(c, "body_encoding") {
        builder = builder.body_encoding(BodyEncoding::parse(enc).unwrap());
    }
    if let Some(n) = c.get("max_retries").and_then(Value::as_u64) {
        builder = builder.max_retries(n as u32);
    }
    if let Some(ms) = c.get("timeout_ms").and_then(Value::as_u64) {
        builder = builder.timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = c.get("connect_timeout_ms").and_then(Value::as_u64) {
        builder = builder.connect_timeout(Duration::from_millis(ms));
    }
    if let Some(path) = text(c, "ca_file") {
        builder = builder.ca_file(placeholders(server, path));
    }
    builder.build()
}

/// `{ca_file}`, `{other_ca_file}`, `{proxy}` and `{auth_proxy}` in a case's value.
fn placeholders(server: &TokenServer, value: &str) -> String {
    value
        .replace("{ca_file}", &server.ca_file().display().to_string())
        .replace(
            "{other_ca_file}",
            &server.other_ca_file().display().to_string(),
        )
        .replace("{proxy}", server.proxy_url())
        .replace("{auth_proxy}", server.authenticated_proxy_url())
}

/// The case's environment variables, set until dropped (then restored).
struct CaseEnv(Vec<(String, Option<std::ffi::OsString>)>);

impl CaseEnv {
    fn set(server: &TokenServer, case: &Value) -> CaseEnv {
        let vars = case.get("env").and_then(Value::as_object);
        CaseEnv(
            vars.into_iter()
                .flatten()
                .map(|(name, value)| {
                    let before = std::env::var_os(name);
                    std::env::set_var(name, placeholders(server, value.as_str().unwrap()));
                    (name.clone(), before)
                })
                .collect(),
        )
    }
}

impl Drop for CaseEnv {
    fn drop(&mut self) {
        for (name, before) in &self.0 {
            match before {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    }
}

/// CONNECT and plain requests the token server's proxies have received so far.
fn proxy_requests(server: &TokenServer) -> u64 {
    let stats = server.proxy_stats();
    stats["connects"].as_u64().unwrap() + stats["plain"].as_u64().unwrap()
}

fn run(client: &Client, case: &Value, scope: &str) -> Result<Token, Error> {
    let r = &case["request"];
    let field = |k: &str| text(r, k).map(|v| v.replace("{scope}", scope));
    if case["grant"] == "system_access" {
        let req = SystemAccessTokenRequest::new(
            field("client_id").unwrap(),
            field("client_secret").unwrap(),
        );
        return client.system_access(&req);
    }
    let mut req = RefreshTokenRequest::new(
        field("client_id").unwrap(),
        field("client_secret").unwrap(),
        field("refresh_token").unwrap(),
    );
    req.grant_type =
        RefreshGrantType::parse(field("grant_type").as_deref().unwrap_or("refresh_token"))?;
    req.redirect_uri = field("redirect_uri");
    req.scope = field("scope");
    client.refresh(&req)
}

fn check_token(server: &TokenServer, name: &str, token: &Token, want: &Value, sent: Option<&str>) {
    assert_eq!(token.token_type(), want["token_type"], "{name}: token_type");
    assert_eq!(
        want["expires_in"].as_u64(),
        token.expires_in(),
        "{name}: expires_in"
    );
    assert_eq!(token.scope(), want["scope"].as_str(), "{name}: scope");
    assert_eq!(
        token.refresh_token_rotated(),
        want["refresh_token_rotated"],
        "{name}: rotated"
    );
    assert_eq!(
        token.refresh_token().is_some(),
        want["has_refresh_token"],
        "{name}: has refresh token"
    );
    assert_eq!(
        sent.is_some() && token.refresh_token() == sent,
        want["refresh_token_kept"],
        "{name}: refresh token kept"
    );
    assert_eq!(
        token.id_token().is_some(),
        want["has_id_token"],
        "{name}: id_token"
    );
    assert_eq!(
        token.created_at().is_some(),
        want["has_created_at"],
        "{name}: created_at"
    );
    let keys: Vec<&String> = token.extra().keys().collect();
    let want_keys: Vec<String> = serde_json::from_value(want["extra_keys"].clone()).unwrap();
    assert_eq!(
        keys,
        want_keys.iter().collect::<Vec<_>>(),
        "{name}: extra keys"
    );
    assert!(!token.access_token().is_empty(), "{name}: access token");
    match token.expires_in() {
        Some(expires_in) => {
            let lifetime = token
                .expires_at()
                .unwrap()
                .duration_since(std::time::SystemTime::now())
                .unwrap();
            assert!(
                lifetime <= Duration::from_secs(expires_in),
                "{name}: expires_at"
            );
        }
        // No lifetime known: no expiry either, and never expired.
        None => {
            assert_eq!(token.expires_at(), None, "{name}: expires_at");
            assert!(!token.is_expired(Duration::MAX), "{name}: is_expired");
        }
    }
    if token.refresh_token_rotated() {
        let current = server.current_refresh_token(sent.unwrap());
        assert_eq!(
            current.as_deref(),
            token.refresh_token(),
            "{name}: the server's current token"
        );
    }
}

fn check_error(server: &TokenServer, name: &str, err: &Error, want: &Value, secrets: &[String]) {
    assert_eq!(err.code().as_str(), want["code"], "{name}: code ({err})");
    assert_eq!(
        err.refresh_token_state().as_str(),
        want["state"],
        "{name}: state ({err})"
    );
    assert_eq!(
        err.status().map(u64::from),
        want["status"].as_u64(),
        "{name}: status ({err})"
    );
    assert_eq!(
        err.is_retryable(),
        want["retryable"],
        "{name}: retryable ({err})"
    );
    assert_eq!(
        err.error(),
        want["error"].as_str(),
        "{name}: server error ({err})"
    );
    assert_eq!(
        err.retry_after().map(|d| d.as_secs()),
        want["retry_after_s"].as_u64(),
        "{name}: retry_after"
    );
    if want["salvaged_refresh_token"] == true {
        let salvaged = err
            .salvaged_refresh_token()
            .expect("a salvaged refresh token");
        let current = server.current_refresh_token(&secrets[1]);
        assert_eq!(
            current.as_deref(),
            Some(salvaged),
            "{name}: salvaged token is the current one"
        );
    } else {
        assert!(
            err.salvaged_refresh_token().is_none(),
            "{name}: nothing to salvage"
        );
    }
    if let Some(description) = want.get("error_description") {
        assert_eq!(
            err.error_description(),
            description.as_str(),
            "{name}: error_description"
        );
    }
    let salvaged = err.salvaged_refresh_token().map(str::to_owned);
    let fields = [err.error(), err.error_description(), err.error_uri()];
    let shown = format!(
        "{err} {err:?} {}",
        fields.map(Option::unwrap_or_default).join(" ")
    );
    for secret in secrets.iter().chain(&salvaged).filter(|s| s.len() >= 4) {
        assert!(
            !shown.contains(secret.as_str()),
            "{name}: a secret leaked into the error"
        );
    }
    assert!(
        !err.message().chars().any(char::is_control),
        "{name}: a control character in the message"
    );
}

#[test]
fn conformance_cases() {
    let server = TokenServer::start();
    let cases = cases();
    assert!(cases.len() >= 50, "the case file lost cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(&server, case)));
            result
                .err()
                .map(|_| case["name"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(failures.is_empty(), "failed cases: {failures:?}");
}

fn run_case(server: &TokenServer, case: &Value) {
    {
        let name = case["name"].as_str().unwrap();
        let scope = format!("rust-{name}");
        let r = &case["request"];
        let sent = text(r, "refresh_token").map(|t| t.replace("{scope}", &scope));
        let secrets = vec![
            text(r, "client_secret").unwrap_or_default().to_owned(),
            sent.clone().unwrap_or_default(),
        ];
        let proxied_before = proxy_requests(server);
        let env = CaseEnv::set(server, case);
        let built = build_client(server, case, &scope);
        drop(env);
        let outcome = built.and_then(|client| {
            if case["reuse"] == true {
                run(&client, case, &scope)
                    .unwrap_or_else(|e| panic!("{name}: first use failed: {e}"));
            }
            run(&client, case, &scope)
        });
        match (
            &outcome,
            case["expect"].get("token"),
            case["expect"].get("error"),
        ) {
            (Ok(token), Some(want), None) => {
                check_token(server, name, token, want, sent.as_deref())
            }
            (Err(err), None, Some(want)) => check_error(server, name, err, want, &secrets),
            (Ok(_), _, _) => panic!("{name}: expected an error, got a token"),
            (Err(err), _, _) => panic!("{name}: expected a token, got {err}"),
        }
        if let Some(n) = case["requests"].as_u64() {
            assert_eq!(
                server.token_requests(&scope),
                n,
                "{name}: token requests the server saw"
            );
        }
        if let Some(n) = case["proxy_connects"].as_u64() {
            assert_eq!(
                proxy_requests(server) - proxied_before,
                n,
                "{name}: requests the proxies saw"
            );
        }
        if let Some(saw) = case.get("server_saw").and_then(Value::as_object) {
            let stats = server.stats(&scope);
            for (key, value) in saw {
                assert_eq!(&stats["last"][key], value, "{name}: server saw {key}");
            }
        }
    }
}
