//! `make demo`: refreshes twice against the local token server (RFC 6749 dialect, then
//! Gusto's), and asks for a system token. Secrets never reach the output.

use std::sync::Arc;

use oauth_refresh::{
    Client, Credentials, GustoEnvironment, RefreshTokenRequest, Secret, SystemAccessTokenRequest,
    TokenManager,
};

fn main() -> Result<(), oauth_refresh::Error> {
    let server =
        std::env::var("TOKEN_SERVER_URL").expect("run through scripts/with-token-server.sh");

    let client = Client::new(format!("{server}/token"))?;
    let first = client.refresh(&RefreshTokenRequest::new(
        "demo-app",
        "secret-demo-app",
        "seed-rust-demo",
    ))?;
    println!(
        "rust: refreshed, rotated={} expires_in={:?}",
        first.refresh_token_rotated(),
        first.expires_in()
    );
    println!("rust: {first:?}");

    // The rotated refresh token is the only one that works now: use it for the next refresh.
    let next = first.refresh_token().expect("the server rotates");
    let second = client.refresh(&RefreshTokenRequest::new(
        "demo-app",
        "secret-demo-app",
        next,
    ))?;
    println!(
        "rust: refreshed again, rotated={}",
        second.refresh_token_rotated()
    );

    let reused = client.refresh(&RefreshTokenRequest::new(
        "demo-app",
        "secret-demo-app",
        "seed-rust-demo",
    ));
    if let Err(err) = reused {
        println!("rust: reusing the first token fails as it should: {err}");
    }

    let gusto = Client::gusto(GustoEnvironment::Custom(server))
        .gusto_api_version("2025-06-15")
        .build()?;
    let system = gusto.system_access(&SystemAccessTokenRequest::new(
        "demo-app",
        "secret-demo-app",
    ))?;
    println!(
        "rust: gusto system_access token_type={} expires_in={:?}",
        system.token_type(),
        system.expires_in()
    );

    // A manager serves the cached token while it is fresh and refreshes it once when not.
    let credentials = Credentials {
        client_id: "demo-app".into(),
        client_secret: Secret::new("secret-demo-app"),
        refresh_token: Some(Secret::new("seed-rust-demo-manager")),
        scope: None,
        redirect_uri: None,
    };
    let manager = TokenManager::in_memory(Arc::new(client), credentials);
    let first = manager.access_token()?;
    let cached = manager.access_token()?;
    manager.invalidate(); // as after an API 401
    let renewed = manager.access_token()?;
    println!(
        "rust: manager served the cached token again: {}, a new one after invalidate(): {}, {:?}",
        first == cached,
        renewed != first,
        manager.stats()
    );
    Ok(())
}
