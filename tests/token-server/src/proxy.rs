//! HTTP CONNECT proxies that record what reached them, so a test can prove a request went
//! through the proxy (or never did).
//!
//! Only `CONNECT tokens.test:PORT` is tunnelled, to `127.0.0.1:PORT`: a client that reaches
//! the HTTPS listener by that name must have come through the proxy, since the name resolves
//! nowhere. Other CONNECT targets (loopback ones above all) are refused with 403, and
//! requests in absolute form (`POST http://...`, how clients send plain HTTP to a proxy)
//! get 502: a proxied token request never reaches the token server by accident.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::listen::accept;
use crate::state::State;

/// The only host the proxies tunnel to.
pub const TUNNELLED_HOST: &str = "tokens.test";
/// The user the authenticated proxy wants.
pub const PROXY_USER: &str = "proxyuser";
/// That user's password.
pub const PROXY_PASSWORD: &str = "proxy-pass-Zq8w";

/// Connections one proxy serves at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 128;
/// A request head larger than this is not a client we want to help.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its head, and to finish after a refusal.
const SLOW_CLIENT: Duration = Duration::from_secs(10);
const LINGER: Duration = Duration::from_secs(2);
/// Targets kept for `targets`: enough for any one test, bounded for a long-lived server.
const TARGETS_KEPT: usize = 1000;

/// Counters over both proxies (`GET /proxy/stats`).
#[derive(Default)]
pub struct ProxyLog {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// CONNECT requests and other requests, counted on arrival whatever the answer.
    connects: u64,
    plain: u64,
    /// Outcomes: a tunnel opened, a CONNECT target refused, credentials missing or wrong.
    tunnelled: u64,
    refused: u64,
    unauthorized: u64,
    /// Where each request wanted to go (`host:port`), newest last.
    targets: VecDeque<String>,
}

impl ProxyLog {
    /// `{"connects", "tunnelled", "refused", "plain", "unauthorized", "targets"}`.
    pub fn snapshot(&self) -> Value {
        let c = self.lock();
        json!({
            "connects": c.connects,
            "tunnelled": c.tunnelled,
            "refused": c.refused,
            "plain": c.plain,
            "unauthorized": c.unauthorized,
            "targets": c.targets,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn arrived(&self, connect: bool, target: String) {
        let mut c = self.lock();
        if connect {
            c.connects += 1;
        } else {
            c.plain += 1;
        }
        if c.targets.len() == TARGETS_KEPT {
            c.targets.pop_front();
        }
        c.targets.push_back(target);
    }
}

/// `Basic base64(user:password)`, as the authenticated proxy expects it.
pub fn proxy_authorization() -> String {
    let pair = format!("{PROXY_USER}:{PROXY_PASSWORD}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Serves one proxy until the runtime stops; `authenticated` proxies want
/// [`proxy_authorization`].
pub async fn serve(listener: TcpListener, state: Arc<State>, authenticated: bool) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = accept(&listener).await;
        let state = state.clone();
        tokio::spawn(async move {
            // Errors are clients hanging up mid-way: nothing to report.
            let _ = proxy_connection(stream, &state, authenticated).await;
            drop(slot);
        });
    }
}

/// What the proxy needs from a request head.
struct Head {
    connect: bool,
    target: String,
    proxy_authorization: Option<String>,
    /// Bytes read past the head: the start of a tunnelled stream or of a body.
    rest: Vec<u8>,
}

async fn proxy_connection(
    mut client: TcpStream,
    state: &State,
    authenticated: bool,
) -> io::Result<()> {
    let head = match timeout(SLOW_CLIENT, read_head(&mut client)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => return refuse(client, "400 Bad Request", "").await,
        Ok(Err(_)) | Err(_) => return Ok(()),
    };
    let target = if head.connect {
        head.target.clone()
    } else {
        authority(&head.target)
    };
    state.proxy.arrived(head.connect, target);
    if let Some(value) = &head.proxy_authorization {
        journal_credentials(state, value);
    }
    if authenticated && head.proxy_authorization.as_deref() != Some(&proxy_authorization()) {
        state.proxy.lock().unauthorized += 1;
        let challenge = "Proxy-Authenticate: Basic realm=\"test\"\r\n";
        return refuse(client, "407 Proxy Authentication Required", challenge).await;
    }
    if !head.connect {
        return refuse(client, "502 Bad Gateway", "").await;
    }
    let Some(port) = tunnel_port(&head.target) else {
        state.proxy.lock().refused += 1;
        return refuse(client, "403 Forbidden", "").await;
    };
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return refuse(client, "502 Bad Gateway", "").await;
    };
    state.proxy.lock().tunnelled += 1;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    upstream.write_all(&head.rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Reads up to the blank line ending the head; `None` if it is malformed or too large.
async fn read_head(client: &mut TcpStream) -> io::Result<Option<Head>> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() >= MAX_HEAD {
            return Ok(None);
        }
        if client.read_buf(&mut buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let len = match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => continue,
            Err(_) => return Ok(None),
        };
        let proxy_authorization = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("proxy-authorization"))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(str::to_owned);
        return Ok(Some(Head {
            connect: req
                .method
                .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT")),
            target: req.path.unwrap_or_default().to_owned(),
            proxy_authorization,
            rest: buf[len..].to_vec(),
        }));
    }
}

/// Answers with an error and closes. The client's unread bytes (a request body) are read
/// and dropped first: closing on unread data would reset the connection, and the client
/// would see a reset instead of the answer.
async fn refuse(mut client: TcpStream, status: &str, headers: &str) -> io::Result<()> {
    let head =
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n");
    client.write_all(head.as_bytes()).await?;
    client.shutdown().await?;
    let mut sink = [0u8; 8192];
    let _ = timeout(LINGER, async {
        while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    Ok(())
}

/// The port to tunnel to if `target` is `tokens.test:PORT`.
fn tunnel_port(target: &str) -> Option<u16> {
    let (host, port) = target.rsplit_once(':')?;
    if !host.eq_ignore_ascii_case(TUNNELLED_HOST) {
        return None;
    }
    port.parse().ok().filter(|&p| p != 0)
}

/// `host:port` of an absolute-form target, or the target itself.
fn authority(target: &str) -> String {
    target
        .parse::<hyper::Uri>()
        .ok()
        .and_then(|uri| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| target.to_owned())
}

/// Proxy credentials are secrets too: journal the header's token and the password.
fn journal_credentials(state: &State, value: &str) {
    if !state.journal.enabled() {
        return;
    }
    let Some(token) = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, token)| token.trim())
    else {
        return;
    };
    state.journal.record(token);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|d| String::from_utf8(d).ok());
    if let Some((_, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
        state.journal.record(password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_test_is_tunnelled() {
        assert_eq!(tunnel_port("tokens.test:443"), Some(443));
        assert_eq!(tunnel_port("TOKENS.test:8443"), Some(8443));
        assert_eq!(tunnel_port("127.0.0.1:443"), None);
        assert_eq!(tunnel_port("localhost:443"), None);
        assert_eq!(tunnel_port("[::1]:443"), None);
        assert_eq!(tunnel_port("tokens.test.evil:443"), None);
        assert_eq!(tunnel_port("tokens.test:0"), None);
    }

    #[test]
    fn plain_targets_are_logged_by_authority() {
        assert_eq!(authority("http://127.0.0.1:8080/token"), "127.0.0.1:8080");
        assert_eq!(authority("/token"), "/token");
    }
}
