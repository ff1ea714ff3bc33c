//! A process sharing a store, for the multi-process tests in tests/manager.rs and
//! tests/redis_store.rs.
//!
//! `manager_worker rfc|gusto URL STORE SECONDS`: calls `access_token()` every few ms for
//! SECONDS (or, with SECONDS = 0, forces a refresh in a loop until killed). STORE is a file
//! path, a `redis://` URL (then `WORKER_PREFIX` names the key prefix) or a `postgres://` URL
//! (then `WORKER_PREFIX` names the table); `WORKER_LEASE_TTL_MS` sets the lease TTL. Prints `ok=N failed=N invalid_grant=N
//! store_unavailable=N ...` and exits non-zero if anything failed but the store's reach.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_refresh::{
    Client, Credentials, ErrorCode, FileStore, GustoEnvironment, ManagerOptions, PostgresStore,
    RedisStore, Secret, TokenManager, TokenStore,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dialect, url, store, seconds] = args.as_slice() else {
        eprintln!("usage: manager_worker rfc|gusto URL STORE SECONDS");
        std::process::exit(2);
    };
    let client = match dialect.as_str() {
        "gusto" => Client::gusto(GustoEnvironment::from_str(url).unwrap())
            .build()
            .unwrap(),
        _ => Client::new(url.as_str()).unwrap(),
    };
    let credentials = Credentials {
        client_id: "app".into(),
        client_secret: Secret::new("secret-app"),
        refresh_token: None,
        scope: None,
        redirect_uri: None,
    };
    let env_ms = |name: &str, default: u64| {
        let ms = std::env::var(name).map_or(default, |v| v.parse().unwrap());
        Duration::from_millis(ms)
    };
    let options = ManagerOptions {
        min_window: Duration::from_millis(50),
        jitter: 0.0,
        lease_ttl: env_ms("WORKER_LEASE_TTL_MS", 10_000),
        ..ManagerOptions::default()
    };
    let store: Arc<dyn TokenStore> = if store.starts_with("postgres://") {
        let table = std::env::var("WORKER_PREFIX").unwrap_or_else(|_| "worker".into());
        Arc::new(
            PostgresStore::new(store, "acct")
                .and_then(|s| s.with_table(&table))
                .unwrap(),
        )
    } else if store.starts_with("redis://") {
        let prefix = std::env::var("WORKER_PREFIX").unwrap_or_else(|_| "worker".into());
        Arc::new(
            RedisStore::new(store, "acct")
                .and_then(|s| s.with_prefix(&prefix))
                .unwrap(),
        )
    } else {
        Arc::new(FileStore::new(store))
    };
    let manager = TokenManager::new(Arc::new(client), credentials, store)
        .with_options(options)
        .expect("valid options");
    let seconds: u64 = seconds.parse().unwrap();
    let (mut ok, mut failed, mut invalid_grant, mut unavailable) = (0, 0, 0, 0);
    let until = Instant::now() + Duration::from_secs(seconds);
    while seconds == 0 || Instant::now() < until {
        if seconds == 0 {
            manager.invalidate();
        }
        match manager.access_token() {
            Ok(_) => ok += 1,
            // Expected while Redis is down and the token has expired: nothing was sent.
            Err(e) if e.code() == ErrorCode::StoreUnavailable => unavailable += 1,
            Err(e) => {
                failed += 1;
                invalid_grant += usize::from(e.code() == ErrorCode::InvalidGrant);
                eprintln!("worker: {e}");
            }
        }
        std::thread::sleep(Duration::from_millis(if seconds == 0 { 1 } else { 5 }));
    }
    let stats = manager.stats();
    println!(
        "ok={ok} failed={failed} invalid_grant={invalid_grant} store_unavailable={unavailable} \
         refreshes={} adoptions={}",
        stats.refreshes, stats.adoptions
    );
    std::process::exit(i32::from(failed > 0));
}
