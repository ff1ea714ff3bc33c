//! No public type prints a secret: Debug and Display of every one, with real-looking values.

use oauth_refresh::{
    Client, GustoEnvironment, RefreshTokenRequest, Secret, SystemAccessTokenRequest,
};
use token_server::TokenServer;

const CLIENT_SECRET: &str = "3aQSHRB3596nZhm6NdNBELZ1u9xbZmvCrKpBhbZYq6w";
const REFRESH_TOKEN: &str = "seed-iEjL96L9Pndwmi-xVX3Q-xbrvvhnjHYGX87sopgGJ8E";
const API_KEY: &str = "key-9c1f7e3b5a2d4f6e8a0b";

fn assert_hidden(shown: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!shown.contains(secret), "a secret was printed in: {shown}");
    }
}

#[test]
fn requests_secrets_and_builders_redact() {
    let request = RefreshTokenRequest::new("app", CLIENT_SECRET, REFRESH_TOKEN)
        .redirect_uri("https://app.example.com/cb")
        .param("code_verifier", "verifier-secret-value");
    let system = SystemAccessTokenRequest::new("app", CLIENT_SECRET);
    let builder = Client::builder("https://auth.example.com/token").header("X-Api-Key", API_KEY);
    let client = builder.clone().build().unwrap();
    let gusto = Client::gusto(GustoEnvironment::Demo).header("X-Api-Key", API_KEY);
    let shown = format!(
        "{request:?} {request:#?} {system:?} {builder:?} {client:?} {gusto:?} {:?}",
        Secret::new(CLIENT_SECRET)
    );
    assert_hidden(
        &shown,
        &[
            CLIENT_SECRET,
            REFRESH_TOKEN,
            API_KEY,
            "verifier-secret-value",
        ],
    );
    assert!(
        shown.contains("app"),
        "non-secret fields stay visible: {shown}"
    );
}

#[test]
fn tokens_and_errors_redact() {
    let server = TokenServer::start();
    let client = Client::new(format!("{}/sec/extras/token", server.url())).unwrap();
    let secret = "secret-app";
    let token = client
        .refresh(&RefreshTokenRequest::new("app", secret, REFRESH_TOKEN))
        .unwrap();
    let issued = [
        token.access_token(),
        token.refresh_token().unwrap(),
        token.id_token().unwrap(),
    ];
    assert_hidden(&format!("{token:?} {token:#?}"), &issued);

    // A reuse error, an echoing server, and an error that carries a salvaged token.
    let reused = client
        .refresh(&RefreshTokenRequest::new("app", secret, REFRESH_TOKEN))
        .unwrap_err();
    let echo = Client::new(format!("{}/echo/fault=echo-secret/token", server.url()))
        .unwrap()
        .refresh(&RefreshTokenRequest::new("app", secret, REFRESH_TOKEN))
        .unwrap_err();
    let salvaged = Client::new(format!("{}/trunc/fault=truncated/token", server.url()))
        .unwrap()
        .refresh(&RefreshTokenRequest::new(
            "app",
            secret,
            "seed-trunc-secret-value",
        ))
        .unwrap_err();
    let kept = salvaged.salvaged_refresh_token().unwrap().to_owned();
    for err in [&reused, &echo, &salvaged] {
        let shown = format!("{err} {err:?} {:?}", err.message());
        assert_hidden(
            &shown,
            &[secret, REFRESH_TOKEN, "seed-trunc-secret-value", &kept],
        );
    }
    assert!(echo.error_description().unwrap().contains("[redacted]"));
}
