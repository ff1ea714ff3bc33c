//! What the manager and store suites share: credentials, temp dirs, the worker process.
#![allow(dead_code)] // each suite uses its own part

use std::path::PathBuf;
use std::str::FromStr;

use oauth_refresh::{
    Client, Credentials, GustoEnvironment, RefreshTokenRequest, Secret, Token, TokenStore,
};
use token_server::TokenServer;

pub fn credentials(seed: &str) -> Credentials {
    Credentials {
        client_id: "app".into(),
        client_secret: Secret::new("secret-app"),
        refresh_token: Some(Secret::new(seed)),
        scope: None,
        redirect_uri: None,
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oauth-refresh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The example binary `cargo test` builds next to the tests (examples/manager_worker.rs).
pub fn worker() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("manager_worker")
}

/// A stored starting point: the seed refreshed once, outside any manager, in `modes`.
pub fn seed_token(server: &TokenServer, seed: &str, modes: &str) -> Token {
    let client = Client::new(format!("{}/seeding/{modes}/token", server.url())).unwrap();
    client
        .refresh(&RefreshTokenRequest::new("app", "secret-app", seed))
        .unwrap()
}

/// A cheap, deterministic spread of delays.
pub fn spread(n: u64) -> u64 {
    n.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 33
}

/// Four `accounts_worker` processes share `accounts` accounts through the store at `store_url`
/// (Redis under key prefix `name`, or PostgreSQL in table `name`), seeded by `seeding`,
/// against the token server in "reuse revokes the family" mode with 4-second tokens: no
/// worker fails, each account is refreshed once per window, and `stored(i)` (account
/// `acct-{i}`'s stored token) is the server's current one at the end.
pub fn four_processes_share_accounts(
    server: &TokenServer,
    store_url: &str,
    name: &str,
    accounts: usize,
    stored: impl Fn(usize) -> Token,
) {
    // Tokens live 4 s and are refreshed in their last second.
    let (seconds, lifetime, window) = (8, 4, 1);
    let url = format!("{}/{name}/family,expires={lifetime}/token", server.url());
    let worker = worker().with_file_name("accounts_worker");
    let workers: Vec<std::process::Child> = (0..4)
        .map(|_| {
            std::process::Command::new(&worker)
                .args([
                    &url,
                    store_url,
                    name,
                    &accounts.to_string(),
                    &seconds.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("run `cargo test`, which builds the accounts_worker example")
        })
        .collect();
    for worker in workers {
        let out = worker.wait_with_output().unwrap();
        let summary = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "a worker failed: {summary}");
        assert!(summary.contains("failed=0 invalid_grant=0 "), "{summary}");
    }
    // One refresh per account per window: never two hosts in the same window.
    let most = seconds / (lifetime - window) + 2;
    for i in 0..accounts {
        let seed = format!("seed-{name}-{i}");
        let refreshes = server.family_refreshes(&seed).unwrap();
        assert!(
            (1..=most).contains(&refreshes),
            "acct-{i}: {refreshes} refreshes in {seconds} s"
        );
        assert_eq!(
            stored(i).refresh_token(),
            server.current_refresh_token(&seed).as_deref(),
            "acct-{i}: the store holds the server's current token"
        );
    }
}

/// Fifty times: waits for one of three workers (`spawn` starts one) to hold the lease
/// (`holder`: the pid in the lease's owner), kills it with SIGKILL at a random moment of its
/// refresh, starts another, and waits until someone completes a refresh (`version` grows).
pub fn kill_lease_holders_fifty_times(
    mut spawn: impl FnMut() -> std::process::Child,
    mut holder: impl FnMut() -> Option<u32>,
    mut version: impl FnMut() -> i64,
) {
    use std::time::{Duration, Instant};
    let mut workers: Vec<std::process::Child> = (0..3).map(|_| spawn()).collect();
    for round in 0..50u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let held = loop {
            if let Some(pid) = holder() {
                if let Some(i) = workers.iter().position(|w| w.id() == pid) {
                    break i;
                }
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: nobody took the lease"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        std::thread::sleep(Duration::from_millis(spread(round) % 25));
        let before = version();
        let mut victim = workers.swap_remove(held);
        victim.kill().unwrap(); // SIGKILL
        victim.wait().unwrap();
        workers.push(spawn());
        // Another process completes a refresh once the dead holder's lease expires.
        let deadline = Instant::now() + Duration::from_secs(10);
        while version() <= before {
            assert!(Instant::now() < deadline, "round {round}: no one took over");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for mut w in workers {
        w.kill().unwrap();
        w.wait().unwrap();
    }
}

/// Nothing was lost: the token `store` holds is one the server at `base` (Gusto-style)
/// accepts, and its access token works at `scope`.
pub fn assert_the_stored_token_works(
    server: &TokenServer,
    base: &str,
    scope: &str,
    store: &dyn TokenStore,
) {
    let stored = store
        .load()
        .unwrap()
        .expect("the store always holds a token");
    let checker = Client::gusto(GustoEnvironment::from_str(base).unwrap())
        .build()
        .unwrap();
    let next = checker
        .refresh(&RefreshTokenRequest::new(
            "app",
            "secret-app",
            stored.refresh_token().unwrap(),
        ))
        .unwrap_or_else(|e| panic!("the stored token was refused: {e}"));
    assert!(server.use_access_token(scope, next.access_token()));
}
