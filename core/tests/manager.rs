//! TokenManager against the real token server: single flight, processes sharing a
//! FileStore, crashes mid-refresh, and a store that cannot be written.

use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use oauth_refresh::{
    Client, ErrorCode, FileStore, GustoEnvironment, ManagerOptions, MemoryStore,
    RefreshTokenRequest, RefreshTokenState, Token, TokenManager, TokenStore,
};
use token_server::TokenServer;

mod support;
use support::{credentials, seed_token, spread, temp_dir, worker};

#[test]
fn many_threads_cause_one_refresh_per_expiry() {
    let server = TokenServer::start();
    let client = Arc::new(Client::new(format!("{}/mgr64/delay=200/token", server.url())).unwrap());
    let manager = Arc::new(TokenManager::in_memory(client, credentials("seed-mgr64")));
    for round in 1..=2u64 {
        let barrier = Arc::new(Barrier::new(64));
        let tokens: Vec<String> = (0..64)
            .map(|_| {
                let (m, b) = (manager.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    m.access_token().unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert!(
            tokens.iter().all(|t| t == &tokens[0]),
            "everyone got the one new token"
        );
        assert_eq!(
            server.token_requests("mgr64"),
            round,
            "exactly one refresh in round {round}"
        );
        manager.invalidate(); // as after an API 401: the next round refreshes once more
    }
    assert_eq!(manager.stats().refreshes, 2);
}

#[test]
fn a_fresh_token_is_served_without_a_request() {
    let server = TokenServer::start();
    let client = Arc::new(Client::new(format!("{}/mgrfresh/ok/token", server.url())).unwrap());
    let manager = TokenManager::in_memory(client, credentials("seed-mgrfresh"));
    let first = manager.access_token().unwrap();
    for _ in 0..100 {
        assert_eq!(manager.access_token().unwrap(), first);
    }
    assert_eq!(server.token_requests("mgrfresh"), 1);
}

#[test]
fn processes_sharing_a_file_store_never_burn_the_token() {
    let server = TokenServer::start();
    let dir = temp_dir("procs");
    let file = dir.join("token.json");
    let seed = "seed-mgrprocs";
    FileStore::new(&file)
        .compare_and_swap(None, &seed_token(&server, seed, "expires=1"))
        .unwrap();
    // Tokens live 1 s and are refreshed 50 ms before expiry; reuse revokes the family.
    let url = format!("{}/mgrprocs/family,expires=1/token", server.url());
    let seconds = 20;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            Command::new(worker())
                .args(["rfc", &url, file.to_str().unwrap(), &seconds.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .expect("run `cargo test`, which builds the manager_worker example")
        })
        .collect();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "a worker failed: {text}");
        assert!(text.contains("invalid_grant=0"), "{text}");
    }
    let requests = server.token_requests("mgrprocs");
    // One refresh per expiry (about one a second), plus the first: never one per process.
    assert!(
        (seconds - 2..=seconds + 3).contains(&requests),
        "{requests} refreshes in {seconds} s"
    );
    let stored = FileStore::new(&file).load().unwrap().unwrap();
    assert_eq!(
        server.current_refresh_token(seed).as_deref(),
        stored.refresh_token()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_process_killed_mid_refresh_leaves_a_token_the_server_accepts() {
    let server = TokenServer::start();
    let dir = temp_dir("kill");
    let file = dir.join("token.json");
    let seed = "seed-mgrkill";
    FileStore::new(&file)
        .compare_and_swap(None, &seed_token(&server, seed, "ok"))
        .unwrap();
    // Gusto revokes a refresh token only when its successor's access token is used, so a
    // crash between the server's rotation and our write is survivable: the file keeps the
    // old token, which still works. Without that, no client could survive such a crash.
    let base = format!("{}/mgrkill/lazy", server.url());
    let checker = Client::gusto(GustoEnvironment::from_str(&base).unwrap())
        .build()
        .unwrap();
    for round in 0..100u64 {
        let mut child = Command::new(worker())
            .args(["gusto", &base, file.to_str().unwrap(), "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + spread(round) % 40));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let stored = FileStore::new(&file)
            .load()
            .unwrap()
            .expect("the file always holds a token");
        let rt = stored.refresh_token().unwrap();
        // The server accepts it: refreshing succeeds. Store the result so the chain goes on,
        // and use its access token, as an application would.
        let next = checker
            .refresh(&RefreshTokenRequest::new("app", "secret-app", rt))
            .unwrap_or_else(|e| panic!("round {round}: the stored token was refused: {e}"));
        assert!(server.use_access_token("mgrkill", next.access_token()));
        assert!(FileStore::new(&file)
            .compare_and_swap(Some(rt), &next)
            .unwrap());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_store_that_cannot_be_seeded_fails_before_anything_is_sent() {
    let server = TokenServer::start();
    let dir = temp_dir("rofs");
    // The store's directory is a regular file: every write fails, even for root.
    let not_a_dir = dir.join("not-a-dir");
    std::fs::write(&not_a_dir, "x").unwrap();
    let store = Arc::new(FileStore::new(not_a_dir.join("token.json")));
    let client = Arc::new(Client::new(format!("{}/mgrro/ok/token", server.url())).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    let manager =
        TokenManager::new(client, credentials("seed-mgrro"), store).on_refresh(move |t| {
            hook_seen
                .lock()
                .unwrap()
                .push(t.refresh_token().unwrap().to_owned());
        });
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreFailed, "{err}");
    // Seeding the empty store already fails: nothing was refreshed, nothing is lost.
    assert_eq!(server.token_requests("mgrro"), 0);
    assert!(seen.lock().unwrap().is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A store whose reads work but whose writes fail after the refresh (while `failing`).
struct FailingWrites(MemoryStore, std::sync::atomic::AtomicBool);

impl FailingWrites {
    fn new() -> Self {
        FailingWrites(MemoryStore::new(), true.into())
    }
}

impl TokenStore for FailingWrites {
    fn load(&self) -> Result<Option<Token>, oauth_refresh::Error> {
        self.0.load()
    }
    fn compare_and_swap(
        &self,
        expected: Option<&str>,
        new: &Token,
    ) -> Result<bool, oauth_refresh::Error> {
        if expected.is_none() || !self.1.load(std::sync::atomic::Ordering::SeqCst) {
            return self.0.compare_and_swap(expected, new); // seeding works
        }
        FileStore::new("/nonexistent-dir/oauth-refresh/token.json").compare_and_swap(None, new)
    }
    fn lease(
        &self,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Box<dyn oauth_refresh::Lease>>, oauth_refresh::Error> {
        self.0.lease(ttl, wait)
    }
}

#[test]
fn a_failed_write_after_refresh_returns_store_failed_with_the_token() {
    let server = TokenServer::start();
    let client = Arc::new(Client::new(format!("{}/mgrfail/ok/token", server.url())).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    let store = Arc::new(FailingWrites::new());
    let manager =
        TokenManager::new(client, credentials("seed-mgrfail"), store).on_refresh(move |t| {
            hook_seen
                .lock()
                .unwrap()
                .push(t.refresh_token().unwrap().to_owned());
        });
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreFailed);
    let token = err.token().expect("the new token travels with the error");
    let current = server.current_refresh_token("seed-mgrfail");
    assert_eq!(token.refresh_token(), current.as_deref());
    assert_eq!(seen.lock().unwrap().as_slice(), [current.unwrap()]);
    assert!(!format!("{err} {err:?}").contains(token.refresh_token().unwrap()));
    // The manager kept it in memory too: the next call serves it without a request.
    assert_eq!(manager.access_token().unwrap(), token.access_token());
    assert_eq!(server.token_requests("mgrfail"), 1);
}

#[test]
fn a_token_whose_write_failed_is_stored_before_the_next_refresh() {
    let server = TokenServer::start();
    let client = Arc::new(Client::new(format!("{}/mgrunst/family/token", server.url())).unwrap());
    let store = Arc::new(FailingWrites::new());
    let manager = TokenManager::new(client, credentials("seed-mgrunst"), store.clone());
    let err = manager.access_token().unwrap_err();
    let unstored = err.token().unwrap().clone();
    assert_eq!(
        store.load().unwrap().unwrap().refresh_token(),
        Some("seed-mgrunst"),
        "the store still holds the consumed seed"
    );
    // The store works again. The next refresh must start from the unstored token, never
    // from the consumed seed the store still holds.
    store.1.store(false, std::sync::atomic::Ordering::SeqCst);
    manager.invalidate();
    manager.access_token().unwrap();
    assert_eq!(server.token_requests("mgrunst"), 2);
    let stored = store.load().unwrap().unwrap();
    assert_ne!(stored.refresh_token(), unstored.refresh_token());
    assert_eq!(
        stored.refresh_token(),
        server.current_refresh_token("seed-mgrunst").as_deref()
    );
    assert_eq!(manager.stats().failures, 0, "no invalid_grant on the way");
}

#[test]
fn invalid_grant_after_a_siblings_refresh_adopts_the_stored_token() {
    let server = TokenServer::start();
    let dir = temp_dir("adopt");
    let file = dir.join("token.json");
    let client = Arc::new(Client::new(format!("{}/mgradopt/ok/token", server.url())).unwrap());
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(&file));
    let a = TokenManager::new(client.clone(), credentials("seed-mgradopt"), store.clone());
    let b = TokenManager::new(client, credentials("seed-mgradopt"), store);
    let first = a.access_token().unwrap();
    assert_eq!(
        b.access_token().unwrap(),
        first,
        "b adopts a's token from the store"
    );
    // a refreshes behind b's back; b still holds the consumed refresh token in memory.
    a.invalidate();
    let second = a.access_token().unwrap();
    b.invalidate();
    assert_eq!(b.access_token().unwrap(), second);
    assert_eq!(
        server.token_requests("mgradopt"),
        2,
        "b never sent the consumed token"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_refresh_token_salvaged_from_a_broken_answer_is_kept_and_used() {
    let server = TokenServer::start();
    let client = Arc::new(
        Client::new(format!(
            "{}/mgrsalv/fault=truncated,times=1/token",
            server.url()
        ))
        .unwrap(),
    );
    let store = Arc::new(MemoryStore::new());
    let manager = TokenManager::new(client, credentials("seed-mgrsalv"), store.clone());
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidResponse);
    let kept = store.load().unwrap().unwrap();
    assert_eq!(
        kept.refresh_token(),
        server.current_refresh_token("seed-mgrsalv").as_deref()
    );
    // The next call refreshes with the salvaged token, which the server accepts.
    assert!(manager.access_token().is_ok());
    assert_eq!(server.token_requests("mgrsalv"), 2);
}

#[test]
fn a_token_without_expires_in_lives_the_default_lifetime() {
    let server = TokenServer::start();
    let client =
        Arc::new(Client::new(format!("{}/mgrnoexp/no-expires/token", server.url())).unwrap());
    let options = oauth_refresh::ManagerOptions {
        default_lifetime: Duration::from_millis(300),
        ..Default::default()
    };
    let manager = TokenManager::in_memory(client, credentials("seed-mgrnoexp"))
        .with_options(options)
        .unwrap();
    let first = manager.access_token().unwrap();
    assert_eq!(
        manager.access_token().unwrap(),
        first,
        "served from cache within the lifetime"
    );
    assert_eq!(server.token_requests("mgrnoexp"), 1);
    std::thread::sleep(Duration::from_millis(400));
    assert_ne!(
        manager.access_token().unwrap(),
        first,
        "refreshed after the default lifetime"
    );
    assert_eq!(server.token_requests("mgrnoexp"), 2);
    manager.invalidate();
    manager.access_token().unwrap();
    assert_eq!(server.token_requests("mgrnoexp"), 3, "and on invalidate()");
}

#[test]
fn waiters_share_a_failure_and_an_unknown_outcome_is_not_resent() {
    let server = TokenServer::start();
    // The endpoint hangs for 3 s; the client gives up after 0.5 s, with the token sent.
    let url = format!("{}/mgrhang/family,delay=3000,times=1/token", server.url());
    let client = Client::builder(url)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let manager = Arc::new(TokenManager::in_memory(
        Arc::new(client),
        credentials("seed-mgrhang"),
    ));
    let barrier = Arc::new(Barrier::new(16));
    let started = std::time::Instant::now();
    let errors: Vec<_> = (0..16)
        .map(|_| {
            let (m, b) = (manager.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                m.access_token().unwrap_err()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    // Each waiter resending after the one before would take 16 timeouts (8 s).
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(2500), "took {waited:?}");
    for err in &errors {
        assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
        assert_eq!(err.refresh_token_state(), RefreshTokenState::Unknown);
    }
    assert_eq!(server.token_requests("mgrhang"), 1, "the token left once");

    // Later calls fail at once with the same outcome rather than resend the token.
    let again = manager.access_token().unwrap_err();
    assert_eq!(again.code(), ErrorCode::Timeout);
    assert_eq!(again.refresh_token_state(), RefreshTokenState::Unknown);
    assert!(again.message().starts_with("not resent"), "{again}");
    assert_eq!(server.token_requests("mgrhang"), 1);

    // The caller decides to resend. The server dropped the hung request when the client
    // hung up, before rotating: the token still works.
    manager.allow_resend();
    manager.access_token().unwrap();
    assert_eq!(server.token_requests("mgrhang"), 2);
}

#[test]
fn a_gusto_client_resends_an_unknown_outcome_by_policy() {
    let server = TokenServer::start();
    let base = format!("{}/mgrgusto/lazy,delay=1500,times=1", server.url());
    let client = Client::gusto(GustoEnvironment::from_str(&base).unwrap())
        .timeout(Duration::from_millis(500))
        .max_retries(0)
        .build()
        .unwrap();
    let manager = TokenManager::in_memory(Arc::new(client), credentials("seed-mgrgusto"));
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unknown);
    // Gusto revokes lazily: the manager resends without being asked, and it works.
    manager.access_token().unwrap();
    assert_eq!(server.token_requests("mgrgusto"), 2);
}

#[test]
fn a_valid_token_is_served_at_once_while_another_process_refreshes() {
    let server = TokenServer::start();
    let dir = temp_dir("swr");
    let file = dir.join("token.json");
    // Tokens live 60 s, but the window is 59.5 s: every call is due for a refresh.
    let url = format!("{}/mgrswr/expires=60/token", server.url());
    let options = ManagerOptions {
        min_window: Duration::from_millis(59_500),
        jitter: 0.0,
        lease_wait: Duration::from_millis(300),
        ..ManagerOptions::default()
    };
    let manager = TokenManager::new(
        Arc::new(Client::new(&url).unwrap()),
        credentials("seed-mgrswr"),
        Arc::new(FileStore::new(&file)),
    )
    .with_options(options)
    .unwrap();
    let first = manager.access_token().unwrap();
    std::thread::sleep(Duration::from_millis(600));

    // Another process holds the lease (a flock on its own open file) for its refresh.
    let other = FileStore::new(&file);
    let lease = other
        .lease(Duration::from_secs(10), Duration::ZERO)
        .unwrap()
        .expect("the lease is free");
    assert_eq!(
        manager.access_token().unwrap(),
        first,
        "still valid: served without waiting for the other refresh"
    );
    assert_eq!(server.token_requests("mgrswr"), 1);

    // An invalidated token is not valid: that caller waits, and lease_wait runs out.
    manager.invalidate();
    let err = manager.access_token().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
    drop(lease);
    assert_ne!(manager.access_token().unwrap(), first);
    assert_eq!(server.token_requests("mgrswr"), 2);
}

#[test]
fn options_out_of_range_are_invalid_input() {
    let client = Arc::new(Client::new("http://127.0.0.1:9/token").unwrap());
    let bad = [
        ManagerOptions {
            refresh_fraction: f64::NAN,
            ..ManagerOptions::default()
        },
        ManagerOptions {
            jitter: -0.5,
            ..ManagerOptions::default()
        },
        ManagerOptions {
            default_lifetime: Duration::MAX,
            ..ManagerOptions::default()
        },
        ManagerOptions {
            lease_wait: Duration::from_secs(u64::MAX),
            ..ManagerOptions::default()
        },
        ManagerOptions {
            lease_ttl: Duration::from_millis(10),
            ..ManagerOptions::default()
        },
    ];
    for options in bad {
        let shown = format!("{options:?}");
        let manager = TokenManager::in_memory(client.clone(), credentials("seed-x"));
        let err = manager.with_options(options).err().expect(&shown);
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{shown}");
    }
}
