//! AccountTokens against the real token server: many accounts under one client, stores of
//! every kind, health and events, refresh-ahead, and processes sharing accounts in Redis.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oauth_refresh::{
    AccountEvent, AccountStore, AccountTokens, AccountsConfig, Client, ErrorCode, EventKind,
    FileStore, HealthStatus, ManagerOptions, MemoryStore, RedisStore, Secret, TokenStore,
};
use token_server::{RedisServer, TokenServer};

mod support;

/// The tests that load the machine (refresh-ahead, worker processes) take turns: together
/// they would starve each other of its two cores.
static HEAVY: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn config(options: ManagerOptions) -> AccountsConfig {
    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "app".into();
    config.manager.credentials.client_secret = Secret::new("secret-app");
    config.manager.options = options;
    config
}

fn short_lived() -> ManagerOptions {
    ManagerOptions {
        min_window: Duration::from_secs(1),
        jitter: 0.0,
        ..ManagerOptions::default()
    }
}

fn client(server: &TokenServer, scope: &str, modes: &str) -> Arc<Client> {
    Arc::new(Client::new(format!("{}/{scope}/{modes}/token", server.url())).unwrap())
}

/// Every event the hook saw.
fn recorded(tokens: &AccountTokens) -> Arc<Mutex<Vec<AccountEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    tokens.on_event(move |e| sink.lock().unwrap().push(e.clone()));
    events
}

/// Polls `done` every 20 ms for up to `limit`; whether it came true.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn many_accounts_share_one_client_and_refresh_once_each() {
    let server = TokenServer::start();
    let tokens = config(ManagerOptions::default())
        .build(client(&server, "many", "ok"), Arc::new(MemoryStore::new()))
        .unwrap();
    let events = recorded(&tokens);
    let connections = server.connections();
    for i in 0..200 {
        tokens
            .add(&format!("acct-{i:03}"), format!("seed-many-{i}"))
            .unwrap();
    }
    for round in 0..3 {
        for i in 0..200 {
            let access = tokens.access_token(&format!("acct-{i:03}")).unwrap();
            assert!(access.starts_with("at-"), "round {round}");
        }
    }
    assert_eq!(
        server.token_requests("many"),
        200,
        "one refresh per account"
    );
    assert!(
        server.connections() - connections <= 2,
        "one client keeps its connection alive for every account"
    );
    let stats = tokens.stats();
    assert_eq!(
        (stats.refreshes, stats.failures, stats.cached),
        (200, 0, 200)
    );
    let listed = tokens.accounts().unwrap();
    assert_eq!(listed.len(), 200);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted");
    let refreshed: Vec<_> = events.lock().unwrap().clone();
    assert_eq!(refreshed.len(), 200);
    assert!(refreshed
        .iter()
        .all(|e| e.kind == EventKind::Refreshed && e.code.is_none()));

    assert!(tokens.remove("acct-007").unwrap());
    assert!(!tokens.remove("acct-007").unwrap(), "already gone");
    assert_eq!(tokens.accounts().unwrap().len(), 199);
    let err = tokens.access_token("acct-007").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.message().contains("acct-007") && err.message().contains("add it"),
        "{err}"
    );
    assert_eq!(
        server.token_requests("many"),
        200,
        "nothing sent for a removed account"
    );
}

#[test]
fn account_ids_options_and_stores_are_checked() {
    let server = TokenServer::start();
    let tokens = config(ManagerOptions::default())
        .build(
            client(&server, "checks", "ok"),
            Arc::new(MemoryStore::new()),
        )
        .unwrap();
    for bad in [String::new(), "x".repeat(257), "a\0b".into()] {
        let err = tokens.access_token(&bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("1 to 256 bytes"), "{err}");
        assert_eq!(
            tokens.add(&bad, "seed-x").unwrap_err().code(),
            ErrorCode::InvalidInput
        );
    }
    assert!(tokens
        .access_token(&"x".repeat(256))
        .unwrap_err()
        .message()
        .contains("add it"));
    assert_eq!(
        tokens.add("a", "").unwrap_err().code(),
        ErrorCode::InvalidInput
    );

    let mut no_id = config(ManagerOptions::default());
    no_id.manager.credentials.client_id.clear();
    let refused = no_id.build(
        client(&server, "checks", "ok"),
        Arc::new(MemoryStore::new()),
    );
    assert!(refused.err().unwrap().message().contains("client ID"));
    for (name, value) in [
        ("max_cached_accounts", 0.0),
        ("max_concurrent_refreshes", 0.0),
    ] {
        let err = AccountsConfig::default()
            .set(
                oauth_refresh::options::Face::Python,
                name,
                oauth_refresh::options::Value::Number(value),
            )
            .unwrap_err();
        assert_eq!(err.message(), format!("{name} must be at least 1"));
    }
    let err = AccountsConfig::default()
        .set(
            oauth_refresh::options::Face::Node,
            "refresh_token",
            oauth_refresh::options::Value::Text("seed-x".into()),
        )
        .unwrap_err();
    assert!(
        err.message().starts_with("unknown AccountTokens option"),
        "{err}"
    );
    assert!(
        !err.message().contains("seed-x"),
        "the value is never shown"
    );

    // A Redis store of one account cannot hold many (checked before anything connects).
    let one = RedisStore::new("redis://127.0.0.1:1", "acct").unwrap();
    let err = one.account("other").err().unwrap();
    assert!(err.message().contains("holds one account"), "{err}");
    let every = RedisStore::for_accounts("redis://127.0.0.1:1").unwrap();
    assert!(every
        .load()
        .unwrap_err()
        .message()
        .contains("holds every account"));
}

#[test]
fn a_directory_store_keeps_one_safe_file_per_account() {
    let server = TokenServer::start();
    let dir = std::env::temp_dir().join(format!("oauth-refresh-accounts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key = oauth_refresh::EncryptionKey::parse(&"11".repeat(32)).unwrap();
    let store = || Arc::new(FileStore::new(dir.join("tokens")).with_encryption(key.clone()));
    let odd = [
        "../etc/passwd",
        "Company 1",
        "company 1",
        "é",
        "x.token",
        ".hidden",
    ];
    let tokens = config(ManagerOptions::default())
        .build(client(&server, "dir", "ok"), store())
        .unwrap();
    for (i, account) in odd.iter().enumerate() {
        tokens.add(account, format!("seed-dir-{i}")).unwrap();
        tokens.access_token(account).unwrap();
    }
    let mut listed = tokens.accounts().unwrap();
    let mut expected: Vec<String> = odd.iter().map(|a| a.to_string()).collect();
    listed.sort();
    expected.sort();
    assert_eq!(
        listed, expected,
        "every account read back from its file name"
    );
    for entry in std::fs::read_dir(dir.join("tokens")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.') && !name.contains('/'), "{name}");
    }
    assert!(!dir.join("etc").exists(), "nothing escaped the directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("tokens"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    // A second process's view (a new object over the same directory) needs no request.
    let requests = server.token_requests("dir");
    let again = config(ManagerOptions::default())
        .build(client(&server, "dir", "ok"), store())
        .unwrap();
    for account in odd {
        assert_eq!(
            again.access_token(account).unwrap(),
            tokens.access_token(account).unwrap()
        );
    }
    assert_eq!(server.token_requests("dir"), requests);
    // Sealed records are bound to their account: one copied over another's does not open.
    let file = |a: &str| {
        dir.join("tokens")
            .join(oauth_refresh::account_file_name(a).unwrap())
    };
    std::fs::copy(file("Company 1"), file("company 1")).unwrap();
    let err = store().account("company 1").unwrap().load().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreDecrypt);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_revoked_grant_needs_reauthorization_once_and_recovers_when_re_added() {
    let server = TokenServer::start();
    let mut config = config(ManagerOptions::default());
    // Refresh-ahead runs too: it must not try the refused grant again either.
    config.accounts.refresh_ahead = true;
    let tokens = config
        .build(
            client(&server, "revoked", "ok"),
            Arc::new(MemoryStore::new()),
        )
        .unwrap();
    let events = recorded(&tokens);
    tokens.add("gone", "revoked-by-the-user").unwrap();
    tokens.add("fine", "seed-revoked-fine").unwrap();
    for _ in 0..5 {
        let err = tokens.access_token("gone").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidGrant);
        assert!(!err.message().contains("revoked-by-the-user"));
    }
    tokens.access_token("fine").unwrap();
    assert_eq!(
        server.token_requests("revoked"),
        2,
        "a refused grant is not sent again"
    );
    let health = tokens.health("gone");
    assert_eq!(health.status, HealthStatus::NeedsReauthorization);
    assert_eq!(health.code, Some(ErrorCode::InvalidGrant));
    assert_eq!(health.attempts, 1);
    assert!(health.since.is_some());
    assert_eq!(tokens.health("fine").status, HealthStatus::Ok);
    let unhealthy: Vec<String> = tokens.unhealthy().into_iter().map(|(a, _)| a).collect();
    assert_eq!(unhealthy, ["gone"]);
    let needs: Vec<AccountEvent> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == EventKind::NeedsReauthorization)
        .cloned()
        .collect();
    assert_eq!(needs.len(), 1, "reported once");
    assert_eq!(
        (needs[0].account.as_str(), needs[0].code),
        ("gone", Some(ErrorCode::InvalidGrant))
    );
    assert!(
        !format!("{needs:?}").contains("revoked-by-the-user"),
        "no token in an event"
    );

    // A person authorized again: the new grant works, and the account recovers.
    tokens.add("gone", "seed-revoked-again").unwrap();
    tokens.access_token("gone").unwrap();
    assert_eq!(tokens.health("gone").status, HealthStatus::Ok);
    let kinds: Vec<EventKind> = events.lock().unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [EventKind::Refreshed, EventKind::Recovered]
    );
    assert!(tokens.unhealthy().is_empty());
}

#[test]
fn the_cache_keeps_within_its_bound_and_reloads_from_the_store() {
    let server = TokenServer::start();
    let mut config = config(ManagerOptions::default());
    config.accounts.max_cached_accounts = 16;
    let tokens = config
        .build(client(&server, "bound", "ok"), Arc::new(MemoryStore::new()))
        .unwrap();
    let first: Vec<String> = (0..100)
        .map(|i| {
            tokens
                .add(&format!("a{i}"), format!("seed-bound-{i}"))
                .unwrap();
            tokens.access_token(&format!("a{i}")).unwrap()
        })
        .collect();
    let stats = tokens.stats();
    assert!(stats.cached <= 16, "{stats:?}");
    assert!(stats.evictions >= 84, "{stats:?}");
    for (i, access) in first.iter().enumerate() {
        assert_eq!(&tokens.access_token(&format!("a{i}")).unwrap(), access);
    }
    assert_eq!(
        server.token_requests("bound"),
        100,
        "evicted accounts reload from the store"
    );
}

#[test]
fn refresh_ahead_keeps_a_thousand_accounts_fresh_within_the_cap() {
    let _turn = one_at_a_time();
    let server = TokenServer::start();
    let mut config = config(short_lived());
    config.accounts.refresh_ahead = true;
    config.accounts.max_concurrent_refreshes = 3;
    // Tokens live 4 s; callers refresh in the last second, refresh-ahead in the one before.
    let tokens = config
        .build(
            client(&server, "ahead", "expires=4"),
            Arc::new(MemoryStore::new()),
        )
        .unwrap();
    let events = recorded(&tokens);
    let accounts: Vec<String> = (0..1000).map(|i| format!("co-{i}")).collect();
    for (i, account) in accounts.iter().enumerate() {
        tokens.add(account, format!("seed-ahead-{i}")).unwrap();
    }
    assert!(
        eventually(Duration::from_secs(30), || accounts
            .iter()
            .all(|a| tokens.fresh_access_token(a).is_some())),
        "refresh-ahead gave every added account a token: {:?}, {} fresh",
        tokens.stats(),
        accounts
            .iter()
            .filter(|a| tokens.fresh_access_token(a).is_some())
            .count()
    );
    let waits = tokens.stats().waits;
    let until = Instant::now() + Duration::from_secs(6);
    let mut calls = 0u64;
    while Instant::now() < until {
        for account in &accounts {
            tokens.access_token(account).unwrap();
            calls += 1;
        }
    }
    let stats = tokens.stats();
    assert_eq!(
        stats.waits, waits,
        "no caller waited for a refresh ({calls} calls)"
    );
    assert!(stats.refreshed_ahead >= 2000, "{stats:?}");
    assert_eq!(stats.failures, 0);
    let max_in_flight = server.stats("ahead")["max_in_flight"].as_u64().unwrap();
    assert!(
        max_in_flight <= 3,
        "{max_in_flight} refreshes at once, over the cap of 3"
    );
    drop(tokens); // stops refresh-ahead, waiting for the refreshes in flight
    let events = events.lock().unwrap();
    let refreshed = events
        .iter()
        .filter(|e| e.kind == EventKind::Refreshed)
        .count();
    assert_eq!(server.token_requests("ahead"), refreshed as u64);
    let failed = events.len() - refreshed;
    assert_eq!(failed, 0);
}

#[test]
fn a_429_storm_pauses_the_whole_endpoint_and_no_token_expires_unrefreshed() {
    let _turn = one_at_a_time();
    let server = TokenServer::start();
    let store = Arc::new(MemoryStore::new());
    // 50 accounts holding tokens that live 12 s.
    let seeding = config(ManagerOptions::default())
        .build(client(&server, "storm-seed", "expires=12"), store.clone())
        .unwrap();
    let accounts: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
    for (i, account) in accounts.iter().enumerate() {
        seeding.add(account, format!("seed-storm-{i}")).unwrap();
        seeding.access_token(account).unwrap();
    }
    // Callers find a token due 4 s before expiry, refresh-ahead 4 s before that; the server's
    // first 2 answers are 429 with Retry-After: 1 (each pausing the endpoint for a second, so
    // refresh-ahead has 2 s to spare), and the client does not retry on its own.
    let mut config = config(ManagerOptions {
        min_window: Duration::from_secs(4),
        ..short_lived()
    });
    config.accounts.refresh_ahead = true;
    config.accounts.max_concurrent_refreshes = 2;
    let storm = format!(
        "{}/storm/fault=429,times=2,retry-after=1,expires=12/token",
        server.url()
    );
    let client = Arc::new(Client::builder(storm).max_retries(0).build().unwrap());
    let tokens = config.build(client, store).unwrap();
    let until = Instant::now() + Duration::from_secs(9);
    let (mut calls, mut quiet_checked) = (0u64, false);
    while Instant::now() < until {
        for account in &accounts {
            tokens.access_token(account).unwrap();
            calls += 1;
        }
        if !quiet_checked && tokens.stats().failures > 0 {
            // Paused: nothing more is sent for any account (at most the two in flight).
            let at_429 = server.token_requests("storm");
            std::thread::sleep(Duration::from_millis(600));
            let during = server.token_requests("storm") - at_429;
            assert!(during <= 2, "{during} requests during Retry-After");
            quiet_checked = true;
        }
    }
    assert!(quiet_checked, "the storm came: {:?}", tokens.stats());
    let stats = tokens.stats();
    assert_eq!(
        stats.waits, 0,
        "no caller found a token due ({calls} calls): {stats:?}"
    );
    assert!(stats.refreshed_ahead >= 50, "{stats:?}");
    assert_eq!(
        stats.failures,
        2,
        "the two 429s, of {} requests",
        server.token_requests("storm")
    );
    assert!(tokens.unhealthy().is_empty(), "every account recovered");
}

#[test]
fn the_request_budget_and_keep_alive_pace_refresh_ahead() {
    let _turn = one_at_a_time();
    let server = TokenServer::start();
    // Tokens live 2 h: only keep-alive (every 1 s) makes refresh-ahead refresh them, and the
    // budget of 240 a minute spaces those requests 0.25 s apart.
    let mut config = config(ManagerOptions::default());
    config.accounts.refresh_ahead = true;
    config.accounts.keep_alive = Some(Duration::from_secs(1));
    config.accounts.requests_per_minute = 240;
    let tokens = config
        .build(client(&server, "paced", "ok"), Arc::new(MemoryStore::new()))
        .unwrap();
    let started = Instant::now();
    for i in 0..3 {
        tokens
            .add(&format!("k{i}"), format!("seed-paced-{i}"))
            .unwrap();
    }
    std::thread::sleep(Duration::from_secs(5));
    drop(tokens);
    let elapsed = started.elapsed().as_secs_f64();
    let requests = server.token_requests("paced");
    assert!(
        requests as f64 <= 2.0 + elapsed * 4.0,
        "{requests} requests in {elapsed:.1} s with a budget of 4 a second"
    );
    for i in 0..3 {
        let refreshes = server.family_refreshes(&format!("seed-paced-{i}")).unwrap();
        assert!(refreshes >= 2, "k{i}: kept alive, {refreshes} refreshes");
    }
}

#[test]
fn redis_holds_every_account_on_one_connection() {
    let Some(redis) = RedisServer::start("accounts-conn") else {
        return;
    };
    let server = TokenServer::start();
    // A prefix with Redis glob characters lists only its own accounts.
    let store = Arc::new(
        RedisStore::for_accounts(&redis.url())
            .unwrap()
            .with_prefix("app*[1]")
            .unwrap(),
    );
    let tokens = config(ManagerOptions::default())
        .build(client(&server, "conn", "ok"), store.clone())
        .unwrap();
    let neighbour = RedisStore::for_accounts(&redis.url())
        .unwrap()
        .with_prefix("appx1")
        .unwrap();
    config(ManagerOptions::default())
        .build(client(&server, "conn", "ok"), Arc::new(neighbour))
        .unwrap()
        .add("stranger", "seed-stranger")
        .unwrap();
    for i in 0..300 {
        tokens
            .add(&format!("c{i}"), format!("seed-conn-{i}"))
            .unwrap();
        tokens.access_token(&format!("c{i}")).unwrap();
    }
    let mut raw = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let clients: String = redis::cmd("CLIENT").arg("LIST").query(&mut raw).unwrap();
    let names: HashSet<&str> = clients
        .lines()
        .filter_map(|l| l.split(' ').find(|f| f.starts_with("addr=")))
        .collect();
    // This test's raw connection and the accounts' one.
    assert_eq!(
        names.len(),
        2,
        "{} connections for 300 accounts",
        names.len() - 1
    );
    let listed = tokens.accounts().unwrap();
    assert_eq!(listed.len(), 300);
    assert!(!listed.contains(&"stranger".to_owned()));
    assert!(tokens.remove("c0").unwrap());
    assert_eq!(tokens.accounts().unwrap().len(), 299);
    // A coordinated refresh: the lease with the stored token, then the write with the release.
    tokens.invalidate("c1");
    let before = store.round_trips();
    tokens.access_token("c1").unwrap();
    assert_eq!(store.round_trips() - before, 2);
    let mut raw_lease: Option<String> = redis::cmd("GET")
        .arg("app*[1]:{c1}:lease")
        .query(&mut raw)
        .unwrap();
    assert_eq!(raw_lease.take(), None, "released with the write");
}

#[test]
fn four_processes_share_a_thousand_accounts_through_redis() {
    let _turn = one_at_a_time();
    let Some(redis) = RedisServer::start("accounts-hosts") else {
        return;
    };
    let server = TokenServer::start();
    let accounts = 1000;
    let store = RedisStore::for_accounts(&redis.url())
        .unwrap()
        .with_prefix("hosts")
        .unwrap();
    let seeding = config(ManagerOptions::default())
        .build(client(&server, "seeding", "ok"), Arc::new(store))
        .unwrap();
    for i in 0..accounts {
        seeding
            .add(&format!("acct-{i}"), format!("seed-hosts-{i}"))
            .unwrap();
    }
    let check = RedisStore::for_accounts(&redis.url())
        .unwrap()
        .with_prefix("hosts")
        .unwrap();
    support::four_processes_share_accounts(&server, &redis.url(), "hosts", accounts, |i| {
        let account = check.account(&format!("acct-{i}")).unwrap();
        account.load().unwrap().unwrap()
    });
}
