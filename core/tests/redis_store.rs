//! RedisStore against a private redis-server and the real token server: the primitives,
//! encryption at rest, processes as hosts, lease holders killed mid-refresh, and Redis
//! going away and coming back empty.
#![cfg(feature = "redis")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_refresh::{
    Client, EncryptionKey, ErrorCode, ManagerOptions, RedisStore, TokenManager, TokenStore,
};
use redis::Commands;
use token_server::{RedisServer, TokenServer};

mod support;
use support::{credentials, seed_token, worker};

/// The tests that run worker processes take turns: together they would starve each other of
/// the machine's two cores, and their expiry counts and quiet moments assume they do not.
static PROCESSES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    PROCESSES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a private Redis, or returns from the test saying why it was skipped.
macro_rules! redis_or_skip {
    ($name:expr) => {
        match RedisServer::start($name) {
            Some(redis) => redis,
            None => return,
        }
    };
}

fn raw(redis: &RedisServer) -> redis::Connection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

/// A store under `prefix` (the tests keep their keys apart by prefix).
fn keyed(url: &str, prefix: &str, account: &str) -> Result<RedisStore, oauth_refresh::Error> {
    RedisStore::new(url, account)?.with_prefix(prefix)
}

#[test]
fn compare_and_swap_is_keyed_on_the_refresh_token_and_versions_the_record() {
    let redis = redis_or_skip!("cas");
    let server = TokenServer::start();
    let store = keyed(&redis.url(), "t", "acct-1").unwrap();
    let other_account = keyed(&redis.url(), "t", "acct-2").unwrap();
    let (a, b) = (
        seed_token(&server, "seed-cas-a", "ok"),
        seed_token(&server, "seed-cas-b", "ok"),
    );

    assert!(store.load().unwrap().is_none());
    assert!(
        !store.compare_and_swap(Some("nope"), &a).unwrap(),
        "not empty-expected"
    );
    assert!(store.compare_and_swap(None, &a).unwrap());
    assert!(
        !store.compare_and_swap(None, &b).unwrap(),
        "no longer empty"
    );
    let a_rt = a.refresh_token().unwrap();
    assert!(!store.compare_and_swap(Some("other"), &b).unwrap());
    assert!(store.compare_and_swap(Some(a_rt), &b).unwrap());
    assert!(
        store.compare_and_swap(Some(a_rt), &b).unwrap(),
        "a retried swap that already happened reports success"
    );
    assert_eq!(
        store.load().unwrap().unwrap().access_token(),
        b.access_token()
    );
    assert!(
        other_account.load().unwrap().is_none(),
        "accounts do not share keys"
    );
    // Taking the lease reads the record in the same round trip.
    let wait = Duration::from_millis(20);
    let (lease, stored) = store
        .lease_and_load(Duration::from_secs(5), wait)
        .unwrap()
        .unwrap();
    assert_eq!(stored.unwrap().access_token(), b.access_token());
    assert!(
        store
            .lease_and_load(Duration::from_secs(5), wait)
            .unwrap()
            .is_none(),
        "held"
    );
    drop(lease);
    let (_, nothing) = other_account
        .lease_and_load(Duration::from_secs(5), wait)
        .unwrap()
        .unwrap();
    assert!(nothing.is_none());

    let mut conn = raw(&redis);
    assert_eq!(store.token_key(), "t:{acct-1}:token");
    assert_eq!(store.lease_key(), "t:{acct-1}:lease");
    let version: i64 = conn.hget(store.token_key(), "version").unwrap();
    assert_eq!(version, 2, "two writes");
    let expires_at: u64 = conn.hget(store.token_key(), "expires_at").unwrap();
    let expected = (b.expires_at_unix().unwrap() * 1000.0) as u64;
    assert!(expires_at.abs_diff(expected) <= 1);
}

#[test]
fn the_lease_has_one_holder_expires_and_is_released_only_by_its_owner() {
    let redis = redis_or_skip!("lease");
    let store = keyed(&redis.url(), "t", "lease").unwrap();
    let short = Duration::from_millis(20);
    let first = store
        .lease(Duration::from_secs(10), short)
        .unwrap()
        .unwrap();
    assert!(store
        .lease(Duration::from_secs(10), short)
        .unwrap()
        .is_none());
    let mut conn = raw(&redis);
    let owner: String = conn.get(store.lease_key()).unwrap();
    assert!(owner.starts_with(&format!("{}:", std::process::id())));
    drop(first);

    // A live holder renews its lease: however long it holds it, nobody takes over.
    let second = store
        .lease(Duration::from_millis(200), short)
        .unwrap()
        .unwrap();
    assert!(
        store
            .lease(Duration::from_secs(10), Duration::from_millis(700))
            .unwrap()
            .is_none(),
        "held past three TTLs by a live holder"
    );

    // Its TTL ran out while it stalled and another host took the lease: the stalled one's
    // late release (its real Drop) must not free the new holder's lease.
    let _: () = conn.set(store.lease_key(), "4242:another-host").unwrap();
    drop(second);
    let holder: String = conn.get(store.lease_key()).unwrap();
    assert_eq!(holder, "4242:another-host");

    // A holder that died (nobody renews) loses the lease within its TTL.
    let _: () = conn
        .set_options(
            store.lease_key(),
            "4242:dead-host",
            redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(200)),
        )
        .unwrap();
    let third = store
        .lease(Duration::from_secs(10), Duration::from_secs(5))
        .unwrap()
        .expect("the dead holder's lease expires");
    drop(third);
    assert!(!conn.exists::<_, bool>(store.lease_key()).unwrap());
}

#[test]
fn an_encrypted_redis_store_holds_no_token_bytes_and_refuses_a_wrong_key() {
    let redis = redis_or_skip!("seal");
    let server = TokenServer::start();
    let token = seed_token(&server, "seed-seal", "ok");
    let key = EncryptionKey::from_bytes(&[7; 32]).unwrap();
    let wrong = EncryptionKey::from_bytes(&[8; 32]).unwrap();
    let secrets = [token.access_token(), token.refresh_token().unwrap()];

    let store = keyed(&redis.url(), "t", "seal")
        .unwrap()
        .with_encryption(key.clone());
    assert!(store.compare_and_swap(None, &token).unwrap());
    let mut conn = raw(&redis);
    let everything: Vec<String> = conn.hvals(store.token_key()).unwrap();
    for secret in secrets {
        assert!(everything.iter().all(|v| !v.contains(secret)));
    }
    assert_eq!(
        store.load().unwrap().unwrap().access_token(),
        token.access_token()
    );
    let swapped = keyed(&redis.url(), "t", "seal").unwrap();
    for (label, reader) in [
        ("wrong key", swapped.with_encryption(wrong.clone())),
        ("no key", keyed(&redis.url(), "t", "seal").unwrap()),
    ] {
        let err = reader.load().unwrap_err();
        assert_eq!(err.code(), ErrorCode::StoreDecrypt, "{label}: {err}");
        let wait = Duration::from_millis(20);
        let Err(err) = reader.lease_and_load(Duration::from_secs(5), wait) else {
            panic!("{label}: the lease path opened the record");
        };
        assert_eq!(err.code(), ErrorCode::StoreDecrypt, "{label}: {err}");
    }
    // A record moved to another account's key does not open there.
    let record: String = conn.hget(store.token_key(), "token").unwrap();
    let other = keyed(&redis.url(), "t", "other")
        .unwrap()
        .with_encryption(key.clone());
    let _: () = conn.hset(other.token_key(), "token", record).unwrap();
    assert_eq!(other.load().unwrap_err().code(), ErrorCode::StoreDecrypt);
}

#[test]
fn bad_settings_are_invalid_input_and_never_echo_the_url() {
    for (url, prefix, account) in [
        ("http://:hunter2@127.0.0.1:1", "p", "a"),
        ("redis://127.0.0.1:1", "", "a"),
        ("redis://127.0.0.1:1", "p", ""),
    ] {
        let Err(err) = keyed(url, prefix, account) else {
            panic!("{url} {prefix:?} {account:?} was accepted");
        };
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }
}

#[test]
fn keys_are_unambiguous_and_a_brace_in_the_prefix_is_refused() {
    let url = "redis://127.0.0.1:1";
    let key = |prefix: &str, account: &str| {
        let store = keyed(url, prefix, account).unwrap();
        [store.token_key().to_owned(), store.lease_key().to_owned()]
    };
    // These two pairs used to share `app:tenant:1:token`.
    assert_eq!(
        key("app:tenant", "1"),
        ["app:tenant:{1}:token", "app:tenant:{1}:lease"]
    );
    assert_eq!(
        key("app", "tenant:1"),
        ["app:{tenant:1}:token", "app:{tenant:1}:lease"]
    );
    // Readable ids stay readable; what could end the hash tag, or hide, is encoded.
    assert_eq!(key("p", "company-123")[0], "p:{company-123}:token");
    assert_eq!(
        key("p", "{x}:%\n é")[0],
        "p:{%7Bx%7D:%25%0A%20%C3%A9}:token"
    );
    assert_ne!(key("p", "{x}")[0], key("p", "%7Bx%7D")[0]);
    for prefix in ["{app}", "app{", "a}pp"] {
        let Err(err) = keyed(url, prefix, "1") else {
            panic!("{prefix:?} was accepted");
        };
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("hash tag"), "{err}");
    }
}

#[test]
fn ambiguous_looking_accounts_never_share_a_record_or_a_lease() {
    let redis = redis_or_skip!("ambiguous");
    let server = TokenServer::start();
    let token = seed_token(&server, "seed-ambiguous", "ok");
    let (a, b) = (
        keyed(&redis.url(), "app:tenant", "1").unwrap(),
        keyed(&redis.url(), "app", "tenant:1").unwrap(),
    );
    assert!(a.compare_and_swap(None, &token).unwrap());
    assert!(b.load().unwrap().is_none(), "b sees a's token");
    let wait = Duration::from_millis(20);
    let _held = a.lease(Duration::from_secs(5), wait).unwrap().unwrap();
    assert!(
        b.lease(Duration::from_secs(5), wait).unwrap().is_some(),
        "a's lease blocks b"
    );
}

#[test]
fn an_unreachable_redis_is_store_unavailable_and_sends_nothing() {
    let server = TokenServer::start();
    let store = keyed(
        server.refused_url().replace("http", "redis").as_str(),
        "t",
        "a",
    )
    .unwrap()
    .with_timeout(Duration::from_millis(500))
    .unwrap();
    let client = Arc::new(Client::new(format!("{}/unreach/ok/token", server.url())).unwrap());
    let manager = TokenManager::new(client, credentials("seed-unreach"), Arc::new(store));
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert_eq!(
        err.refresh_token_state(),
        oauth_refresh::RefreshTokenState::Unused
    );
    assert_eq!(server.token_requests("unreach"), 0);
}

fn manager_over(
    redis: &RedisServer,
    url: &str,
    seed: &str,
    options: ManagerOptions,
) -> TokenManager {
    let store = keyed(&redis.url(), "t", seed)
        .unwrap()
        .with_timeout(Duration::from_millis(500))
        .unwrap();
    TokenManager::new(
        Arc::new(Client::new(url).unwrap()),
        credentials(seed),
        Arc::new(store),
    )
    .with_options(options)
    .unwrap()
}

#[test]
fn while_redis_is_down_a_valid_token_is_served_and_refreshing_waits() {
    let mut redis = redis_or_skip!("down");
    let server = TokenServer::start();
    // Tokens live 2 s; the refresh window opens after 0.5 s.
    let url = format!("{}/down/family,expires=2/token", server.url());
    let options = ManagerOptions {
        min_window: Duration::from_millis(1500),
        jitter: 0.0,
        ..ManagerOptions::default()
    };
    let manager = manager_over(&redis, &url, "seed-down", options);
    let first = manager.access_token().unwrap();
    redis.stop();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        manager.access_token().unwrap(),
        first,
        "due for refresh, Redis down, token still valid: served"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert_eq!(
        server.token_requests("down"),
        1,
        "never refreshed uncoordinated"
    );

    // Redis comes back empty: the manager reseeds it from memory and refreshes once.
    redis.restart();
    let second = manager.access_token().unwrap();
    assert_ne!(second, first);
    assert_eq!(server.token_requests("down"), 2);
    let stored = keyed(&redis.url(), "t", "seed-down")
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(
        stored.unwrap().refresh_token(),
        server.current_refresh_token("seed-down").as_deref()
    );
}

#[test]
fn refreshing_without_the_store_is_opt_in_and_stored_when_redis_returns() {
    let mut redis = redis_or_skip!("optin");
    let server = TokenServer::start();
    let url = format!("{}/optin/family,expires=1/token", server.url());
    let options = ManagerOptions {
        min_window: Duration::from_millis(100),
        refresh_without_store: true,
        ..ManagerOptions::default()
    };
    let manager = manager_over(&redis, &url, "seed-optin", options);
    let first = manager.access_token().unwrap();
    redis.stop();
    std::thread::sleep(Duration::from_millis(1100));
    let second = manager.access_token().unwrap();
    assert_ne!(
        second, first,
        "refreshed although Redis is down: the caller opted in"
    );
    redis.restart();
    manager.invalidate();
    manager.access_token().unwrap();
    assert_eq!(
        server.token_requests("optin"),
        3,
        "no invalid_grant, no retry"
    );
    let stored = keyed(&redis.url(), "t", "seed-optin")
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(
        stored.unwrap().refresh_token(),
        server.current_refresh_token("seed-optin").as_deref()
    );
}

fn spawn_worker(
    dialect: &str,
    url: &str,
    redis: &RedisServer,
    prefix: &str,
    seconds: u64,
) -> Child {
    Command::new(worker())
        .args([dialect, url, &redis.url(), &seconds.to_string()])
        .env("WORKER_PREFIX", prefix)
        .env("WORKER_LEASE_TTL_MS", "400")
        .stdout(Stdio::piped())
        .stderr(if seconds == 0 {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .expect("run `cargo test`, which builds the manager_worker example")
}

/// Waits for every worker and returns their summaries; each must have succeeded.
fn finish(workers: Vec<Child>) -> Vec<String> {
    workers
        .into_iter()
        .map(|w| {
            let out = w.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "a worker failed: {text}");
            assert!(text.contains(" invalid_grant=0 "), "{text}");
            text
        })
        .collect()
}

fn counter(summary: &str, name: &str) -> u64 {
    summary
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

#[test]
fn eight_hosts_share_one_rotating_token_across_twenty_expiries() {
    let _turn = one_at_a_time();
    let redis = redis_or_skip!("hosts");
    let server = TokenServer::start();
    let seed = "seed-hosts";
    let store = keyed(&redis.url(), "hosts", "acct").unwrap();
    store
        .compare_and_swap(None, &seed_token(&server, seed, "expires=1"))
        .unwrap();
    // Tokens live 1 s and are refreshed 50 ms before expiry; reuse revokes the family.
    let url = format!("{}/hosts/family,expires=1/token", server.url());
    let seconds = 20;
    let workers = (0..8)
        .map(|_| spawn_worker("rfc", &url, &redis, "hosts", seconds))
        .collect();
    let summaries = finish(workers);
    let requests = server.token_requests("hosts");
    let refreshes: u64 = summaries.iter().map(|s| counter(s, "refreshes")).sum();
    assert_eq!(
        refreshes, requests,
        "every request was one worker's refresh"
    );
    assert!(
        (seconds - 2..=seconds + 3).contains(&requests),
        "{requests} refreshes in {seconds} s: one per expiry, never one per host"
    );
    assert_eq!(
        store.load().unwrap().unwrap().refresh_token(),
        server.current_refresh_token(seed).as_deref()
    );
}

/// The pid in the lease's owner (`pid:random`), if someone holds it.
fn lease_holder(conn: &mut redis::Connection, store: &RedisStore) -> Option<u32> {
    let owner: Option<String> = conn.get(store.lease_key()).unwrap();
    owner?.split(':').next()?.parse().ok()
}

fn version(conn: &mut redis::Connection, store: &RedisStore) -> i64 {
    conn.hget::<_, _, Option<i64>>(store.token_key(), "version")
        .unwrap()
        .unwrap_or(0)
}

#[test]
fn a_lease_holder_killed_mid_refresh_is_taken_over_fifty_times() {
    let _turn = one_at_a_time();
    let redis = redis_or_skip!("kill");
    let server = TokenServer::start();
    let seed = "seed-rkill";
    let store = keyed(&redis.url(), "kill", "acct").unwrap();
    store
        .compare_and_swap(None, &seed_token(&server, seed, "ok"))
        .unwrap();
    // Gusto revokes a refresh token only when its successor is used, so a holder killed
    // after the server rotated leaves a stored token that still works (see tests/manager.rs).
    // Each refresh takes 30 ms, so the holder is usually killed with its request in flight.
    let base = format!("{}/rkill/lazy,delay=30", server.url());
    let mut conn = raw(&redis);
    let conn = std::cell::RefCell::new(&mut conn);
    support::kill_lease_holders_fifty_times(
        || spawn_worker("gusto", &base, &redis, "kill", 0),
        || lease_holder(&mut conn.borrow_mut(), &store),
        || version(&mut conn.borrow_mut(), &store),
    );
    // Nothing was lost: the stored token is one the server accepts.
    support::assert_the_stored_token_works(&server, &base, "rkill", &store);
}

#[test]
fn hosts_recover_when_redis_restarts_empty() {
    let _turn = one_at_a_time();
    let mut redis = redis_or_skip!("restart");
    let server = TokenServer::start();
    let seed = "seed-restart";
    let store = keyed(&redis.url(), "restart", "acct").unwrap();
    store
        .compare_and_swap(None, &seed_token(&server, seed, "expires=1"))
        .unwrap();
    let url = format!("{}/restart/family,expires=1/token", server.url());
    let seconds = 9;
    let workers = (0..4)
        .map(|_| spawn_worker("rfc", &url, &redis, "restart", seconds))
        .collect();
    // Stop Redis at a quiet moment, 300 ms after a refresh, when every host has adopted it:
    // a restart loses what only Redis knew, and a host still holding the token before would
    // then reuse it (the README says why Redis should persist).
    std::thread::sleep(Duration::from_secs(2));
    let seen = server.token_requests("restart");
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.token_requests("restart") == seen {
        assert!(Instant::now() < deadline, "no refresh to stop after");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    redis.stop();
    std::thread::sleep(Duration::from_millis(2500)); // past the token's expiry
    let during = server.token_requests("restart");
    redis.restart();
    let summaries = finish(workers);
    let unavailable: u64 = summaries
        .iter()
        .map(|s| counter(s, "store_unavailable"))
        .sum();
    assert!(unavailable > 0, "the outage was felt: {summaries:?}");
    assert!(
        server.token_requests("restart") > during,
        "refreshing resumed"
    );
    assert_eq!(
        store.load().unwrap().unwrap().refresh_token(),
        server.current_refresh_token(seed).as_deref(),
        "reseeded from memory and refreshed, with no double use"
    );
}

#[test]
fn the_lease_outlives_a_refresh_slower_than_its_ttl() {
    let redis = redis_or_skip!("outlived");
    let server = TokenServer::start();
    // The first refresh takes 10.5 s, longer than the default 10 s lease, against a server
    // where reusing a refresh token revokes the whole grant. The holder renews its lease,
    // so the second host waits and adopts instead of sending the same token again.
    let url = format!("{}/outlived/family,delay=10500,times=1/token", server.url());
    let host = || manager_over(&redis, &url, "seed-outlived", ManagerOptions::default());
    let (a, b) = (host(), host());
    let tokens = std::thread::scope(|s| {
        let first = s.spawn(|| a.access_token().unwrap());
        std::thread::sleep(Duration::from_millis(300));
        let second = s.spawn(|| b.access_token().unwrap());
        [first.join().unwrap(), second.join().unwrap()]
    });
    assert_eq!(
        server.token_requests("outlived"),
        1,
        "one refresh, never two"
    );
    assert_eq!(
        tokens[0], tokens[1],
        "the second host adopted the stored token"
    );
    let stored = keyed(&redis.url(), "t", "seed-outlived")
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(
        stored.unwrap().refresh_token(),
        server.current_refresh_token("seed-outlived").as_deref()
    );
}
