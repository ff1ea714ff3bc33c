//! `oauth-refresh-bench accounts-{memory,file,redis,postgres} URL N`: AccountTokens over N
//! accounts (Redis at `REDIS_URL`, PostgreSQL at `POSTGRES_URL`).
//! Prints one JSON line: how long refresh-ahead takes to bring N added grants from the store
//! to fresh tokens (`ahead_seconds`, with at most 4 refreshes in flight), how long a new
//! process takes to serve all N from the store (`cold_load_seconds`), and for Redis and
//! PostgreSQL the round trips per refresh-ahead refresh and the connections the process holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_refresh::{
    AccountStore, AccountTokens, AccountsConfig, Client, FileStore, MemoryStore, PostgresStore,
    RedisStore, Secret,
};

fn config(ahead: bool) -> AccountsConfig {
    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "bench-app".into();
    config.manager.credentials.client_secret = Secret::new("secret-bench-app");
    config.accounts.refresh_ahead = ahead;
    config.accounts.max_concurrent_refreshes = 4;
    config.accounts.max_cached_accounts = u32::MAX;
    config
}

pub fn run(kind: &str, url: &str, n: usize) {
    let client = Arc::new(Client::new(url).unwrap());
    let redis = (kind == "redis").then(|| {
        let url = std::env::var("REDIS_URL").expect("REDIS_URL");
        let prefix = format!("bench-accounts-{}", std::process::id());
        Arc::new(
            RedisStore::for_accounts(&url)
                .unwrap()
                .with_prefix(&prefix)
                .unwrap(),
        )
    });
    let postgres = (kind == "postgres").then(|| {
        let url = std::env::var("POSTGRES_URL").expect("POSTGRES_URL");
        let table = format!("bench_accounts_{}", std::process::id());
        Arc::new(
            PostgresStore::for_accounts(&url)
                .unwrap()
                .with_table(&table)
                .unwrap(),
        )
    });
    let dir = std::env::temp_dir().join(format!("oauth-refresh-bench-{}", std::process::id()));
    let store: Arc<dyn AccountStore> = match (kind, &redis, &postgres) {
        ("memory", _, _) => Arc::new(MemoryStore::new()),
        ("file", _, _) => Arc::new(FileStore::new(&dir)),
        (_, Some(redis), _) => redis.clone(),
        (_, _, Some(postgres)) => postgres.clone(),
        _ => panic!("unknown store {kind}"),
    };
    let accounts: Vec<String> = (0..n).map(|i| format!("company-{i}")).collect();
    let seeding = config(false).build(client.clone(), store.clone()).unwrap();
    for account in &accounts {
        seeding.add(account, format!("seed-{account}")).unwrap();
    }
    drop(seeding);

    let trips = || {
        redis.as_ref().map_or(0, |r| r.round_trips())
            + postgres.as_ref().map_or(0, |p| p.round_trips())
    };
    let (started, trips_before) = (Instant::now(), trips());
    let ahead = config(true).build(client.clone(), store.clone()).unwrap();
    wait_all_fresh(&ahead, &accounts);
    let ahead_seconds = started.elapsed().as_secs_f64();
    let refreshes = ahead.stats().refreshed_ahead;
    let trips_per_refresh = (trips() - trips_before) as f64 / refreshes.max(1) as f64;
    drop(ahead);

    let started = Instant::now();
    let cold = config(false).build(client, store).unwrap();
    for account in &accounts {
        cold.access_token(account).unwrap();
    }
    let cold_load_seconds = started.elapsed().as_secs_f64();
    let connections = match (&redis, &postgres) {
        (Some(_), _) => connections(),
        (_, Some(p)) => p.connections(),
        _ => 0,
    };
    assert_eq!(cold.stats().refreshes, 0, "every token came from the store");
    drop(cold);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{{\"n\":{n},\"refreshes\":{refreshes},\"ahead_seconds\":{ahead_seconds},\
         \"cold_load_seconds\":{cold_load_seconds},\"round_trips_per_refresh\":{trips_per_refresh},\
         \"connections\":{connections}}}"
    );
}

fn wait_all_fresh(tokens: &AccountTokens, accounts: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut pending: Vec<&String> = accounts.iter().collect();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "refresh-ahead stalled: {:?}",
            tokens.stats()
        );
        pending.retain(|a| tokens.fresh_access_token(a).is_none());
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Connections to Redis from this process (the `CLIENT LIST` entries, minus the one asking).
fn connections() -> usize {
    let url = std::env::var("REDIS_URL").expect("REDIS_URL");
    let mut raw = redis::Client::open(url).unwrap().get_connection().unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut raw).unwrap();
    list.lines().count() - 1
}
