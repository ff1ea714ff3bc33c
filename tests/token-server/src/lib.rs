//! A real OAuth token server on 127.0.0.1 for the test suites of every language.
//!
//! Routes (`{scope}` isolates one test's counters, `{modes}` picks behaviour, see [`modes`]):
//! - `POST /token`, `POST /{scope}/{modes}/token`: RFC 6749 (form body, Basic or post auth)
//! - `POST /oauth/token`, `POST /{scope}/{modes}/oauth/token`: Gusto (JSON body, credentials in body)
//! - `GET /v1/me`, `GET /{scope}/{modes}/v1/me`: uses an access token (Gusto's lazy revocation)
//! - `GET /{scope}/stats`: how many token requests arrived, and the last non-secret headers
//! - `GET /current/{refresh_token}`: the refresh token the server considers current in that family,
//!   and how many times the family was refreshed
//! - `GET /proxy/stats`: what reached the CONNECT proxies (see [`TokenServer::proxy_stats`])
//!
//! Any client id is accepted; its secret must be `secret-` followed by the client id.
//! Refresh tokens starting with `seed-` that the server has never seen start a new family.
//!
//! The same routes and state are served over HTTPS on three more ports, with certificates
//! made at start time by a test CA ([`TokenServer::ca_file`]): a valid one for `localhost`,
//! `127.0.0.1` and `tokens.test`, one for `wrong-host.test` only, and an expired one. Two
//! CONNECT proxies (one wanting `proxyuser:proxy-pass-Zq8w`) tunnel only to `tokens.test:PORT`
//! (which they send to 127.0.0.1) and count everything else they turn away.
//!
//! With `TOKEN_SERVER_JOURNAL=PATH` in the environment when a server starts, it appends each
//! secret it sees or issues to PATH, one per line, for a leak scanner: client secrets (and
//! Basic credentials as sent), refresh tokens received at the token endpoint, access,
//! refresh and id tokens issued, and the proxy credentials it receives. Values shorter than
//! 8 bytes or holding a line break are skipped. The file is opened with `O_APPEND` and each
//! line written in one `write`, so many servers may share it. Unset, nothing is journaled.

mod echo;
mod handler;
mod journal;
mod listen;
pub mod modes;
mod pki;
mod postgres_server;
mod proxy;
mod redis_server;
mod state;
mod unreachable;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

pub use journal::JOURNAL_VAR;
use pki::Pki;
pub use postgres_server::PostgresServer;
pub use proxy::{PROXY_PASSWORD, PROXY_USER, TUNNELLED_HOST};
pub use redis_server::RedisServer;
use state::State;
use unreachable::{refused_addr, Blackhole};

/// A running server; dropping it stops it.
pub struct TokenServer {
    url: String,
    https_url: String,
    https_wrong_host_url: String,
    https_expired_url: String,
    proxy_url: String,
    authenticated_proxy_url: String,
    /// The certificates; their directory goes when the server is dropped.
    pki: Pki,
    blackhole: Blackhole,
    refused_url: String,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    /// Starts on an ephemeral loopback port.
    pub fn start() -> TokenServer {
        TokenServer::start_on(0).expect("binding 127.0.0.1:0")
    }

    /// Starts on `port` (0: any free port) of 127.0.0.1, serving from a background thread.
    pub fn start_on(port: u16) -> std::io::Result<TokenServer> {
        TokenServer::start_with(port, 2)
    }

    /// Starts on `port` with `threads` worker threads (1 for a server pinned to one CPU).
    /// The HTTPS listeners and the proxies always take ephemeral ports.
    pub fn start_with(port: u16, threads: usize) -> std::io::Result<TokenServer> {
        let plain = bind(port)?;
        let url = format!("http://{}", plain.local_addr()?);
        let pki = Pki::generate()?;
        let https = [
            (bind(0)?, pki.valid.clone()),
            (bind(0)?, pki.wrong_host.clone()),
            (bind(0)?, pki.expired.clone()),
        ];
        let https_url = |i: usize| -> std::io::Result<String> {
            Ok(format!("https://{}", https[i].0.local_addr()?))
        };
        let (https_url, https_wrong_host_url, https_expired_url) =
            (https_url(0)?, https_url(1)?, https_url(2)?);
        let proxies = [(bind(0)?, false), (bind(0)?, true)];
        let proxy_url = format!("http://{}", proxies[0].0.local_addr()?);
        let authenticated_proxy_url = format!(
            "http://{PROXY_USER}:{PROXY_PASSWORD}@{}",
            proxies[1].0.local_addr()?
        );
        let state = Arc::new(State::new());
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()?;
        let served = state.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                tokio::spawn(listen::serve_http(tokio_listener(plain), served.clone()));
                for (listener, config) in https {
                    let tls = TlsAcceptor::from(config);
                    let served = served.clone();
                    tokio::spawn(listen::serve_https(tokio_listener(listener), tls, served));
                }
                for (listener, authenticated) in proxies {
                    let served = served.clone();
                    tokio::spawn(proxy::serve(
                        tokio_listener(listener),
                        served,
                        authenticated,
                    ));
                }
                let _ = stopped.await;
            });
            // Dropping the runtime here ends every listener and connection task.
        });
        let blackhole = Blackhole::new()?;
        let refused_url = format!("http://{}", refused_addr()?);
        Ok(TokenServer {
            url,
            https_url,
            https_wrong_host_url,
            https_expired_url,
            proxy_url,
            authenticated_proxy_url,
            pki,
            blackhole,
            refused_url,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A URL whose connect never completes (for connect timeouts).
    pub fn blackhole_url(&self) -> String {
        format!("http://{}", self.blackhole.addr)
    }

    /// A URL where nothing listens (connection refused).
    pub fn refused_url(&self) -> &str {
        &self.refused_url
    }

    /// `https://127.0.0.1:PORT`: a certificate from [`TokenServer::ca_file`] valid now for
    /// `localhost`, `127.0.0.1` and `tokens.test`.
    pub fn https_url(&self) -> &str {
        &self.https_url
    }

    /// The port of [`TokenServer::https_url`], to build `https://tokens.test:PORT` (a name
    /// that resolves nowhere: only the proxies reach it).
    pub fn https_port(&self) -> u16 {
        port_of(&self.https_url)
    }

    /// `https://127.0.0.1:PORT` with a certificate for `wrong-host.test` only: host-name
    /// verification must fail.
    pub fn https_wrong_host_url(&self) -> &str {
        &self.https_wrong_host_url
    }

    /// `https://127.0.0.1:PORT` with a certificate that expired a year ago.
    pub fn https_expired_url(&self) -> &str {
        &self.https_expired_url
    }

    /// The PEM certificate of the CA that signed the HTTPS listeners' certificates.
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca_file
    }

    /// The PEM certificate of an unrelated CA that signed nothing (an "unknown issuer").
    pub fn other_ca_file(&self) -> &Path {
        &self.pki.other_ca_file
    }

    /// `http://127.0.0.1:PORT`: a CONNECT proxy that tunnels only to `tokens.test:PORT`.
    pub fn proxy_url(&self) -> &str {
        &self.proxy_url
    }

    /// `http://proxyuser:proxy-pass-Zq8w@127.0.0.1:PORT`: the same, wanting those
    /// credentials in `Proxy-Authorization: Basic` (407 without them).
    pub fn authenticated_proxy_url(&self) -> &str {
        &self.authenticated_proxy_url
    }

    /// What reached both proxies: `{"connects", "tunnelled", "refused", "plain",
    /// "unauthorized", "targets"}`. `connects` and `plain` count CONNECT and other requests
    /// on arrival; `tunnelled`, `refused` (a CONNECT target other than `tokens.test`) and
    /// `unauthorized` (407) count answers; `targets` lists the `host:port` each request
    /// asked for, newest last (the last 1000).
    pub fn proxy_stats(&self) -> serde_json::Value {
        self.state.proxy.snapshot()
    }

    /// The counters of one scope, as `GET /{scope}/stats` returns them.
    pub fn stats(&self, scope: &str) -> serde_json::Value {
        self.state.stats(scope)
    }

    /// TCP connections accepted since the server started.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// How many token requests reached the server in `scope`.
    pub fn token_requests(&self, scope: &str) -> u64 {
        self.stats(scope)["token_requests"].as_u64().unwrap_or(0)
    }

    /// The refresh token the server considers current in the family of `token`.
    pub fn current_refresh_token(&self, token: &str) -> Option<String> {
        self.state.current_refresh_token(token)
    }

    /// How many times the family of `token` was refreshed (with rotation).
    pub fn family_refreshes(&self, token: &str) -> Option<u64> {
        self.state.family_refreshes(token)
    }

    /// Uses an access token as an API call would (what revokes the parent in lazy mode).
    pub fn use_access_token(&self, scope: &str, token: &str) -> bool {
        self.state.use_access_token(scope, token)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind(port: u16) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Called inside the runtime, which a tokio listener needs.
fn tokio_listener(listener: std::net::TcpListener) -> tokio::net::TcpListener {
    tokio::net::TcpListener::from_std(listener).expect("a nonblocking listener")
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("our URLs end in a port")
}
