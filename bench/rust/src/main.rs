//! `oauth-refresh-bench CLIENT URL N WARMUP`: runs N refreshes after WARMUP and prints one
//! JSON line of figures. CLIENT: `ours`, `ours-2threads` (one shared client, two threads),
//! or `ureq` (a raw POST + serde_json parse: the floor). And TokenManager calls:
//! `manager-{cached,coordinated}-{memory,redis,postgres}`: `access_token()` served from the cache, or
//! after `invalidate()` (lease, load, refresh, compare-and-swap); Redis at `REDIS_URL`.
//! And `accounts-{memory,file,redis}`: AccountTokens over N accounts (see accounts.rs).

use std::sync::Arc;
use std::time::Instant;

use oauth_refresh::{
    Client, Credentials, MemoryStore, PostgresStore, RedisStore, RefreshTokenRequest, Secret,
    TokenManager, TokenStore,
};

mod accounts;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, client, url, n, warmup] = args.as_slice() else {
        eprintln!("usage: oauth-refresh-bench ours|ours-2threads|ureq URL N WARMUP");
        std::process::exit(2);
    };
    let (n, warmup): (usize, usize) = (n.parse().unwrap(), warmup.parse().unwrap());
    if let Some(store) = client.strip_prefix("accounts-") {
        return accounts::run(store, url, n);
    }
    let mut one: Box<dyn FnMut() + Send> = match client.as_str() {
        "ours" | "ours-2threads" => {
            // For ours-2threads this client only warms up; the timed threads share another.
            let client = Client::new(url.as_str()).unwrap();
            let request = RefreshTokenRequest::new("bench-app", "secret-bench-app", "rt-bench");
            Box::new(move || {
                let token = client.refresh(&request).unwrap();
                assert!(!token.access_token().is_empty());
            })
        }
        "ureq" => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let url = url.clone();
            Box::new(move || {
                let mut response = agent
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header(
                        "Authorization",
                        "Basic YmVuY2gtYXBwOnNlY3JldC1iZW5jaC1hcHA=",
                    )
                    .send("grant_type=refresh_token&refresh_token=rt-bench")
                    .unwrap();
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap();
                assert!(body["access_token"].is_string());
            })
        }
        manager if manager.starts_with("manager-") => {
            let store: Arc<dyn TokenStore> = if manager.ends_with("-postgres") {
                let url = std::env::var("POSTGRES_URL").expect("POSTGRES_URL");
                let account = format!("bench-{}", std::process::id());
                Arc::new(
                    PostgresStore::new(&url, &account)
                        .and_then(|s| s.with_table("bench_manager"))
                        .unwrap(),
                )
            } else if manager.ends_with("-redis") {
                let redis = std::env::var("REDIS_URL").expect("REDIS_URL");
                let account = format!("bench-{}", std::process::id());
                Arc::new(
                    RedisStore::new(&redis, &account)
                        .and_then(|s| s.with_prefix("bench"))
                        .unwrap(),
                )
            } else {
                Arc::new(MemoryStore::new())
            };
            let credentials = Credentials {
                client_id: "bench-app".into(),
                client_secret: Secret::new("secret-bench-app"),
                refresh_token: Some(Secret::new("rt-bench")),
                scope: None,
                redirect_uri: None,
            };
            let manager = TokenManager::new(
                Arc::new(Client::new(url.as_str()).unwrap()),
                credentials,
                store,
            );
            let coordinated = client.contains("-coordinated-");
            Box::new(move || {
                if coordinated {
                    manager.invalidate();
                }
                assert!(!manager.access_token().unwrap().is_empty());
            })
        }
        other => panic!("unknown client {other}"),
    };
    for _ in 0..warmup {
        one();
    }
    let threads = if client == "ours-2threads" { 2 } else { 1 };
    let started = Instant::now();
    let mut latencies = if client.contains("-cached-") {
        // A cache hit takes less time than reading the clock twice: time batches.
        batched(&mut one, n)
    } else if threads == 1 {
        time_loop(&mut one, n)
    } else {
        let client = Client::new(url.as_str()).unwrap();
        let per_thread = n / threads;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let request =
                            RefreshTokenRequest::new("bench-app", "secret-bench-app", "rt-bench");
                        let mut f = || {
                            client.refresh(&request).unwrap();
                        };
                        time_loop(&mut f, per_thread)
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    };
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable_by(f64::total_cmp);
    println!(
        "{{\"n\":{n},\"seconds\":{seconds},\"median_us\":{},\"p99_us\":{},\"rss_kb\":{}}}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        peak_rss_kb()
    );
}

fn time_loop(one: &mut dyn FnMut(), n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            one();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

/// Per-call times, each the mean of a batch of 1,000 calls.
fn batched(one: &mut dyn FnMut(), n: usize) -> Vec<f64> {
    const BATCH: usize = 1000;
    (0..n.div_ceil(BATCH))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..BATCH {
                one();
            }
            t.elapsed().as_secs_f64() * 1e6 / BATCH as f64
        })
        .collect()
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
