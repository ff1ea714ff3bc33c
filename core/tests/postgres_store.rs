//! PostgresStore against a real PostgreSQL: the shared one `scripts/with-postgres.sh` starts
//! (`POSTGRES_URL`; each test keeps to its own table), and private ones for the tests that
//! kill the database. Without PostgreSQL the tests say they were skipped (under CI, fail).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use oauth_refresh::{
    AccountStore, AccountsConfig, Client, EncryptionKey, ErrorCode, PostgresStore,
    RefreshTokenRequest, Secret, TokenManager, TokenStore,
};
use token_server::{PostgresServer, TokenServer};

mod support;
use support::{credentials, seed_token, worker};

/// The tests that run worker processes or restart a database take turns.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared database's URL, or returns from the test saying why it was skipped.
macro_rules! url_or_skip {
    () => {
        match std::env::var("POSTGRES_URL") {
            Ok(url) => url,
            Err(_) => {
                let why = std::env::var("POSTGRES_SKIP")
                    .unwrap_or_else(|_| "run through scripts/with-postgres.sh".into());
                assert!(std::env::var_os("CI").is_none(), "{why}");
                eprintln!("SKIPPED: {why}");
                return;
            }
        }
    };
}

fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

fn store(url: &str, table: &str, account: &str) -> PostgresStore {
    PostgresStore::new(url, account)
        .unwrap()
        .with_table(table)
        .unwrap()
}

#[test]
fn compare_and_swap_is_one_conditional_update_keyed_on_the_refresh_token() {
    let url = url_or_skip!();
    let server = TokenServer::start();
    let s = store(&url, "pg_cas", "acct-1");
    assert!(s.load().unwrap().is_none());
    let first = seed_token(&server, "seed-pgcas-1", "ok");
    let second = seed_token(&server, "seed-pgcas-2", "ok");
    let rt1 = first.refresh_token().unwrap();
    assert!(s.compare_and_swap(None, &first).unwrap());
    assert!(
        !s.compare_and_swap(None, &second).unwrap(),
        "not empty any more"
    );
    assert!(!s.compare_and_swap(Some("stale"), &second).unwrap());
    let trips = s.round_trips();
    assert!(s.compare_and_swap(Some(rt1), &second).unwrap());
    assert_eq!(s.round_trips() - trips, 1, "one statement");
    assert!(
        s.compare_and_swap(Some(rt1), &second).unwrap(),
        "a retried write is not a lost race"
    );
    assert_eq!(
        s.load().unwrap().unwrap().refresh_token(),
        second.refresh_token()
    );
    let mut db = raw(&url);
    let row = db
        .query_one("SELECT version, rt_fingerprint, expires_at IS NOT NULL FROM pg_cas WHERE account = 'acct-1'", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3, "every write bumps the version");
    assert_eq!(
        row.get::<_, String>(1).len(),
        64,
        "a SHA-256, not the token"
    );
    assert!(row.get::<_, bool>(2));
    // Accounts never share a row, and the store lists and removes them.
    let every = PostgresStore::for_accounts(&url)
        .unwrap()
        .with_table("pg_cas")
        .unwrap();
    let other = every.account("acct 2 {}%").unwrap();
    assert!(other.load().unwrap().is_none());
    assert!(other.compare_and_swap(None, &first).unwrap());
    assert_eq!(every.accounts().unwrap(), ["acct 2 {}%", "acct-1"]);
    assert!(every.remove("acct-1").unwrap());
    assert!(!every.remove("acct-1").unwrap());
    assert_eq!(every.accounts().unwrap(), ["acct 2 {}%"]);
    assert!(s.load().unwrap().is_none());
    // The wrong kind of store is refused before anything is sent.
    assert!(every
        .load()
        .unwrap_err()
        .message()
        .contains("holds every account"));
    assert!(s
        .account("x")
        .err()
        .unwrap()
        .message()
        .contains("holds one account"));
}

#[test]
fn the_lease_has_one_holder_expires_and_is_released_only_by_its_owner() {
    let url = url_or_skip!();
    let a = store(&url, "pg_lease", "acct");
    let b = store(&url, "pg_lease", "acct");
    let ttl = Duration::from_millis(300);
    let held = a.lease(ttl, Duration::ZERO).unwrap().expect("free");
    assert!(
        b.lease(ttl, Duration::ZERO).unwrap().is_none(),
        "one holder"
    );
    // A live holder renews its lease: it outlasts several TTLs.
    std::thread::sleep(ttl * 3);
    assert!(
        b.lease(ttl, Duration::ZERO).unwrap().is_none(),
        "renewed while held"
    );
    drop(held);
    let again = b
        .lease(ttl, Duration::ZERO)
        .unwrap()
        .expect("released on drop");
    // Someone else's lease (say ours expired and another host took it) is not ours to release.
    let mut db = raw(&url);
    db.execute(
        "UPDATE pg_lease SET lease_owner = '4242:another-host' WHERE account = 'acct'",
        &[],
    )
    .unwrap();
    drop(again);
    let owner: Option<String> = db
        .query_one(
            "SELECT lease_owner FROM pg_lease WHERE account = 'acct'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner.as_deref(), Some("4242:another-host"));
    // A holder that died is replaced once its lease expires (on the database's clock).
    assert!(a.lease(ttl, Duration::ZERO).unwrap().is_none());
    db.execute(
        "UPDATE pg_lease SET lease_expires_at = now() - interval '1 second'",
        &[],
    )
    .unwrap();
    assert!(
        a.lease(ttl, Duration::ZERO).unwrap().is_some(),
        "the dead holder's lease expired"
    );
}

#[test]
fn records_are_sealed_bound_to_their_account() {
    let url = url_or_skip!();
    let server = TokenServer::start();
    let key = EncryptionKey::parse(&"22".repeat(32)).unwrap();
    let every = PostgresStore::for_accounts(&url)
        .unwrap()
        .with_table("pg_sealed")
        .unwrap()
        .with_encryption(key);
    let token = seed_token(&server, "seed-pgsealed", "ok");
    let alice = every.account("alice").unwrap();
    assert!(alice.compare_and_swap(None, &token).unwrap());
    assert_eq!(
        alice.load().unwrap().unwrap().access_token(),
        token.access_token()
    );
    let mut db = raw(&url);
    let record: String = db
        .query_one("SELECT record FROM pg_sealed WHERE account = 'alice'", &[])
        .unwrap()
        .get(0);
    assert!(record.starts_with("sealed-v1:"));
    for secret in [token.access_token(), token.refresh_token().unwrap()] {
        assert!(!record.contains(secret), "the row holds no token");
    }
    // Alice's record copied to Bob's row does not open; nor does it with another key.
    db.execute(
        "INSERT INTO pg_sealed (account, record) SELECT 'bob', record FROM pg_sealed WHERE account = 'alice'",
        &[],
    )
    .unwrap();
    let bob = every.account("bob").unwrap();
    assert_eq!(bob.load().unwrap_err().code(), ErrorCode::StoreDecrypt);
    let other_key = PostgresStore::new(&url, "alice")
        .unwrap()
        .with_table("pg_sealed")
        .unwrap()
        .with_encryption(EncryptionKey::parse(&"33".repeat(32)).unwrap());
    assert_eq!(
        other_key.load().unwrap_err().code(),
        ErrorCode::StoreDecrypt
    );
}

#[test]
fn bad_settings_and_a_wrong_password_never_show_the_url() {
    let url = url_or_skip!();
    let wrong = url.replacen("oauth-test-db", "not-the-password", 1);
    let err = store(&wrong, "pg_wrong", "acct").load().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreFailed, "{err}");
    assert!(
        err.message().contains("password authentication failed"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-password"));
    let err = PostgresStore::new("postgres://u:hunter2@[::1", "a")
        .err()
        .unwrap();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(!err.to_string().contains("hunter2"));
    for table in [
        "",
        "a.b.c",
        "1abc",
        "drop table x;--",
        "a-b",
        &"x".repeat(64),
    ] {
        let err = PostgresStore::for_accounts(&url)
            .unwrap()
            .with_table(table)
            .err()
            .unwrap();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{table}");
    }
    assert!(PostgresStore::new(&url, "").is_err());
    assert!(PostgresStore::for_accounts(&url)
        .unwrap()
        .with_max_connections(0)
        .is_err());
    // A schema-qualified table the user created with the documented schema.
    let mut db = raw(&url);
    db.batch_execute("CREATE SCHEMA IF NOT EXISTS tokens")
        .unwrap();
    db.batch_execute(&oauth_refresh::POSTGRES_SCHEMA.replace("{table}", "tokens.grants"))
        .unwrap();
    let own = PostgresStore::new(&url, "acct")
        .unwrap()
        .with_table("tokens.grants")
        .unwrap()
        .with_create_table(false);
    assert!(own.load().unwrap().is_none());
}

#[test]
fn a_database_that_is_down_is_store_unavailable_and_a_valid_token_is_still_served() {
    let _turn = one_at_a_time();
    let Some(mut db) = PostgresServer::start("down") else {
        return;
    };
    let server = TokenServer::start();
    let store = Arc::new(
        store(&db.url(), "pg_down", "acct")
            .with_timeout(Duration::from_secs(1))
            .unwrap(),
    );
    let client = Arc::new(Client::new(format!("{}/pgdown/ok/token", server.url())).unwrap());
    let manager = TokenManager::new(client, credentials("seed-pgdown"), store.clone());
    let first = manager.access_token().unwrap();
    db.kill();
    assert_eq!(
        manager.access_token().unwrap(),
        first,
        "still valid: served"
    );
    manager.invalidate();
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert_eq!(
        server.token_requests("pgdown"),
        1,
        "nothing sent without the lease"
    );
    db.restart();
    manager.access_token().unwrap();
    assert_eq!(server.token_requests("pgdown"), 2);
}

#[test]
fn a_token_the_store_kept_survives_the_database_being_killed() {
    let _turn = one_at_a_time();
    let Some(mut db) = PostgresServer::start("durable") else {
        return;
    };
    let server = TokenServer::start();
    let store = store(&db.url(), "pg_durable", "acct");
    let mut token = seed_token(&server, "seed-pgdurable", "ok");
    assert!(store.compare_and_swap(None, &token).unwrap());
    for round in 0..5 {
        let next = Client::new(format!("{}/pgdurable/ok/token", server.url()))
            .unwrap()
            .refresh(&RefreshTokenRequest::new(
                "app",
                "secret-app",
                token.refresh_token().unwrap(),
            ))
            .unwrap();
        assert!(store
            .compare_and_swap(token.refresh_token(), &next)
            .unwrap());
        db.kill(); // SIGKILL, right after the write was acknowledged
        db.restart();
        let kept = store.load().unwrap().expect("the row is there");
        assert_eq!(kept.refresh_token(), next.refresh_token(), "round {round}");
        token = next;
    }
}

#[test]
fn four_processes_share_two_hundred_accounts() {
    let _turn = one_at_a_time();
    let url = url_or_skip!();
    let server = TokenServer::start();
    let accounts = 200;
    let every = PostgresStore::for_accounts(&url)
        .unwrap()
        .with_table("pghosts")
        .unwrap();
    let mut config = AccountsConfig::default();
    config.manager.credentials.client_id = "app".into();
    config.manager.credentials.client_secret = Secret::new("secret-app");
    let seeding = config
        .build(
            Arc::new(Client::new(format!("{}/seeding/ok/token", server.url())).unwrap()),
            Arc::new(every),
        )
        .unwrap();
    for i in 0..accounts {
        seeding
            .add(&format!("acct-{i}"), format!("seed-pghosts-{i}"))
            .unwrap();
    }
    let check = PostgresStore::for_accounts(&url)
        .unwrap()
        .with_table("pghosts")
        .unwrap();
    support::four_processes_share_accounts(&server, &url, "pghosts", accounts, |i| {
        let account = check.account(&format!("acct-{i}")).unwrap();
        account.load().unwrap().unwrap()
    });
}

fn lease_holder(db: &mut postgres::Client) -> Option<u32> {
    let row = db
        .query_opt(
            "SELECT lease_owner FROM pg_kill WHERE account = 'acct' AND lease_expires_at > now()",
            &[],
        )
        .unwrap()?;
    let owner: Option<String> = row.get(0);
    owner?.split(':').next()?.parse().ok()
}

fn version(db: &mut postgres::Client) -> i64 {
    db.query_opt("SELECT version FROM pg_kill WHERE account = 'acct'", &[])
        .unwrap()
        .map_or(0, |r| r.get(0))
}

fn spawn_manager_worker(base: &str, url: &str) -> Child {
    Command::new(worker())
        .args(["gusto", base, url, "0"])
        .env("WORKER_PREFIX", "pg_kill")
        .env("WORKER_LEASE_TTL_MS", "400")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run `cargo test`, which builds the manager_worker example")
}

#[test]
fn a_worker_killed_mid_refresh_fifty_times_loses_no_grant() {
    let _turn = one_at_a_time();
    let url = url_or_skip!();
    let server = TokenServer::start();
    let store = store(&url, "pg_kill", "acct");
    store
        .compare_and_swap(None, &seed_token(&server, "seed-pgkill", "ok"))
        .unwrap();
    // Gusto revokes a refresh token only when its successor is used, so a holder killed after
    // the server rotated leaves a stored token that still works. Each refresh takes 30 ms.
    let base = format!("{}/pgkill/lazy,delay=30", server.url());
    let db = std::cell::RefCell::new(raw(&url));
    support::kill_lease_holders_fifty_times(
        || spawn_manager_worker(&base, &url),
        || lease_holder(&mut db.borrow_mut()),
        || version(&mut db.borrow_mut()),
    );
    support::assert_the_stored_token_works(&server, &base, "pgkill", &store);
}
