//! A real OAuth token server on 127.0.0.1 for the test suites of every language.
//!
//! Routes (`{scope}` isolates one test's counters, `{modes}` picks behaviour, see [`modes`]):
//! - `POST /token`, `POST /{scope}/{modes}/token`: RFC 6749 (form body, Basic or post auth)
//! - `POST /oauth/token`, `POST /{scope}/{modes}/oauth/token`: Gusto (JSON body, credentials in body)
//! - `GET /v1/me`, `GET /{scope}/{modes}/v1/me`: uses an access token (Gusto's lazy revocation)
//! - `GET /{scope}/stats`: how many token requests arrived, and the last non-secret headers
//! - `GET /current/{refresh_token}`: the refresh token the server considers current in that family
//!
//! Any client id is accepted; its secret must be `secret-` followed by the client id.
//! Refresh tokens starting with `seed-` that the server has never seen start a new family.

mod handler;
pub mod modes;
mod redis_server;
mod state;
mod unreachable;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

pub use redis_server::RedisServer;
use state::State;
use unreachable::{refused_addr, Blackhole};

/// A running server; dropping it stops it.
pub struct TokenServer {
    url: String,
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
    pub fn start_with(port: u16, threads: usize) -> std::io::Result<TokenServer> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State::new());
        let (stop, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()?;
        let served = state.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(listener, served, stopped));
        });
        let blackhole = Blackhole::new()?;
        let refused_url = format!("http://{}", refused_addr()?);
        Ok(TokenServer {
            url,
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

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handler::handle(state.clone(), req));
            // Errors here are the faults we inject (or clients hanging up): nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
