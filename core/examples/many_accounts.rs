//! `make demo`: one AccountTokens for several companies under one client, with refresh-ahead
//! and events, against the local token server. Secrets never reach the output.

use std::sync::Arc;
use std::time::Duration;

use oauth_refresh::{AccountsConfig, Client, HealthStatus, MemoryStore, Secret};

fn main() -> Result<(), oauth_refresh::Error> {
    let server =
        std::env::var("TOKEN_SERVER_URL").expect("run through scripts/with-token-server.sh");
    // Access tokens that live 3 s, so refresh-ahead has work to show.
    let client = Arc::new(Client::new(format!("{server}/many-rust/expires=3/token"))?);

    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "demo-app".into();
    config.manager.credentials.client_secret = Secret::new("secret-demo-app");
    config.manager.options.min_window = Duration::from_secs(1);
    config.accounts.refresh_ahead = true;
    config.accounts.max_concurrent_refreshes = 2;
    let tokens = config.build(client, Arc::new(MemoryStore::new()))?;
    tokens.on_event(|event| {
        let code = event.code.map_or("", |c| c.as_str());
        println!(
            "rust: event {} {} {code}",
            event.kind.as_str(),
            event.account
        );
    });

    // Grants arrive from an authorization-code exchange (Gusto: per company).
    for company in ["company-1", "company-2", "company-3"] {
        tokens.add(company, format!("seed-rust-{company}"))?;
    }
    tokens.add("company-revoked", "no-longer-valid")?;

    std::thread::sleep(Duration::from_millis(2500));
    for company in ["company-1", "company-2", "company-3"] {
        let access = tokens.access_token(company)?;
        println!(
            "rust: {company} has an access token ({} chars)",
            access.len()
        );
    }
    let health = tokens.health("company-revoked");
    assert_eq!(health.status, HealthStatus::NeedsReauthorization);
    println!(
        "rust: company-revoked is {} ({})",
        health.status.as_str(),
        health.code.map_or("", |c| c.as_str())
    );
    let stats = tokens.stats();
    println!(
        "rust: {} accounts, {} refreshes ({} ahead of callers), {} calls waited",
        tokens.accounts()?.len(),
        stats.refreshes,
        stats.refreshed_ahead,
        stats.waits
    );
    Ok(())
}
