//! `make demo`, many hosts: two managers (think: two hosts) share one account's rotating
//! token through Redis, sealed under a key from the environment. One refreshes; the other
//! adopts the stored token without a request.
//!
//! Needs TOKEN_SERVER_URL, REDIS_URL and TOKEN_ENCRYPTION_KEY (64 hex digits).

use std::sync::Arc;

use oauth_refresh::{Client, Credentials, EncryptionKey, RedisStore, Secret, TokenManager};

fn host(client: &Arc<Client>) -> Result<TokenManager, Box<dyn std::error::Error>> {
    let key = EncryptionKey::parse(&std::env::var("TOKEN_ENCRYPTION_KEY")?)?;
    let store = RedisStore::new(&std::env::var("REDIS_URL")?, "company-42")?
        .with_prefix("my-app-rust")?
        .with_encryption(key);
    let credentials = Credentials {
        client_id: "my-app".into(),
        client_secret: Secret::new("secret-my-app"),
        refresh_token: Some(Secret::new("seed-rust-hosts")), // used only if Redis is empty
        scope: None,
        redirect_uri: None,
    };
    Ok(TokenManager::new(
        client.clone(),
        credentials,
        Arc::new(store),
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::var("TOKEN_SERVER_URL")?;
    let client = Arc::new(Client::new(format!("{server}/token"))?);
    let (a, b) = (host(&client)?, host(&client)?);
    let same = a.access_token()? == b.access_token()?;
    println!(
        "rust: two hosts, one token: {same}; a {:?}, b {:?}",
        a.stats(),
        b.stats()
    );
    Ok(())
}
