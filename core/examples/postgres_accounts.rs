//! `make demo`, PostgreSQL: two AccountTokens (think: two hosts) keep several companies'
//! rotating tokens in one PostgreSQL table, sealed under a key from the environment. The
//! first refreshes each company once; the second serves them from the table without a request.
//!
//! Needs TOKEN_SERVER_URL, POSTGRES_URL and TOKEN_ENCRYPTION_KEY (64 hex digits).

use std::sync::Arc;

use oauth_refresh::{AccountTokens, AccountsConfig, Client, EncryptionKey, PostgresStore, Secret};

const COMPANIES: [&str; 3] = ["company-1", "company-2", "company-3"];

fn host(client: &Arc<Client>) -> Result<AccountTokens, Box<dyn std::error::Error>> {
    let key = EncryptionKey::parse(&std::env::var("TOKEN_ENCRYPTION_KEY")?)?;
    // One pool for every account; the table is created on first use.
    let store = PostgresStore::for_accounts(&std::env::var("POSTGRES_URL")?)?
        .with_table("demo_rust_tokens")?
        .with_encryption(key);
    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "my-app".into();
    config.manager.credentials.client_secret = Secret::new("secret-my-app");
    Ok(config.build(client.clone(), Arc::new(store))?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::var("TOKEN_SERVER_URL")?;
    let client = Arc::new(Client::new(format!("{server}/pg-rust/ok/token"))?);
    let a = host(&client)?;
    for company in COMPANIES {
        a.add(company, format!("seed-rust-pg-{company}"))?;
        a.access_token(company)?;
    }
    let b = host(&client)?;
    let same = COMPANIES
        .iter()
        .all(|c| a.access_token(c).ok() == b.access_token(c).ok());
    println!(
        "rust: postgres: {} companies, the second host served the same tokens: {same}; \
         refreshes a {} b {}",
        b.accounts()?.len(),
        a.stats().refreshes,
        b.stats().refreshes
    );
    Ok(())
}
