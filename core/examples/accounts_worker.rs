//! A process sharing every account through Redis or PostgreSQL, for tests/accounts.rs and
//! tests/postgres_store.rs.
//!
//! `accounts_worker URL STORE_URL PREFIX ACCOUNTS SECONDS` (STORE_URL `redis://...`, with
//! PREFIX the key prefix, or `postgres://...`, with PREFIX the table): calls `access_token` for accounts
//! `acct-0` .. `acct-{ACCOUNTS-1}` in a shuffled order, over and over, for SECONDS. Prints
//! `ok=N failed=N invalid_grant=N refreshes=N adoptions=N` and exits non-zero if anything
//! failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_refresh::{
    AccountStore, AccountsConfig, Client, ErrorCode, ManagerOptions, PostgresStore, RedisStore,
    Secret,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, redis, prefix, accounts, seconds] = args.as_slice() else {
        eprintln!("usage: accounts_worker URL REDIS_URL PREFIX ACCOUNTS SECONDS");
        std::process::exit(2);
    };
    let (accounts, seconds): (usize, u64) = (accounts.parse().unwrap(), seconds.parse().unwrap());
    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "app".into();
    config.manager.credentials.client_secret = Secret::new("secret-app");
    config.manager.options = ManagerOptions {
        min_window: Duration::from_secs(1),
        jitter: 0.0,
        lease_ttl: Duration::from_secs(2),
        ..ManagerOptions::default()
    };
    let store: Arc<dyn AccountStore> = if redis.starts_with("postgres://") {
        let store = PostgresStore::for_accounts(redis).and_then(|s| s.with_table(prefix));
        Arc::new(store.unwrap())
    } else {
        let store = RedisStore::for_accounts(redis).and_then(|s| s.with_prefix(prefix));
        Arc::new(store.unwrap())
    };
    let tokens = config
        .build(Arc::new(Client::new(url.as_str()).unwrap()), store)
        .unwrap();
    let mut order: Vec<usize> = (0..accounts).collect();
    fastrand::shuffle(&mut order);
    let (mut ok, mut failed, mut invalid_grant) = (0u64, 0u64, 0u64);
    let until = Instant::now() + Duration::from_secs(seconds);
    'calls: loop {
        for &i in &order {
            if Instant::now() >= until {
                break 'calls;
            }
            match tokens.access_token(&format!("acct-{i}")) {
                Ok(_) => ok += 1,
                Err(e) => {
                    failed += 1;
                    invalid_grant += u64::from(e.code() == ErrorCode::InvalidGrant);
                    eprintln!("accounts_worker: acct-{i}: {e}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let stats = tokens.stats();
    println!(
        "ok={ok} failed={failed} invalid_grant={invalid_grant} refreshes={} adoptions={} ",
        stats.refreshes, stats.adoptions
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
