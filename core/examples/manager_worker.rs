//! A process sharing a FileStore, for the multi-process tests in tests/manager.rs.
//!
//! `manager_worker rfc|gusto URL FILE SECONDS`: calls `access_token()` every few ms for
//! SECONDS (or, with SECONDS = 0, forces a refresh in a loop until killed). Prints
//! `ok=N failed=N invalid_grant=N` and exits non-zero if anything failed.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_refresh::{
    Client, Credentials, ErrorCode, FileStore, GustoEnvironment, ManagerOptions, Secret,
    TokenManager,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dialect, url, file, seconds] = args.as_slice() else {
        eprintln!("usage: manager_worker rfc|gusto URL FILE SECONDS");
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
    let options = ManagerOptions {
        min_window: Duration::from_millis(50),
        jitter: 0.0,
        ..ManagerOptions::default()
    };
    let manager = TokenManager::new(
        Arc::new(client),
        credentials,
        Arc::new(FileStore::new(file)),
    )
    .with_options(options);
    let seconds: u64 = seconds.parse().unwrap();
    let (mut ok, mut failed, mut invalid_grant) = (0, 0, 0);
    let until = Instant::now() + Duration::from_secs(seconds);
    while seconds == 0 || Instant::now() < until {
        if seconds == 0 {
            manager.invalidate();
        }
        match manager.access_token() {
            Ok(_) => ok += 1,
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
        "ok={ok} failed={failed} invalid_grant={invalid_grant} refreshes={} adoptions={}",
        stats.refreshes, stats.adoptions
    );
    std::process::exit(i32::from(failed > 0));
}
