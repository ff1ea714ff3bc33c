//! What the manager and store suites share: credentials, temp dirs, the worker process.
#![allow(dead_code)] // each suite uses its own part

use std::path::PathBuf;

use oauth_refresh::{Client, Credentials, RefreshTokenRequest, Secret, Token};
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
