//! Accept loops: the plain listener and the HTTPS ones serve the same routes and `State`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::rt::{Read, Write};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::handler;
use crate::state::State;

/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The next accepted connection. Accept errors (out of descriptors, usually) are waited
/// out rather than retried at once, which would spin.
pub async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serves plain HTTP until the runtime stops.
pub async fn serve_http(listener: TcpListener, state: Arc<State>) {
    loop {
        let stream = accepted(accept(&listener).await, &state);
        tokio::spawn(serve_connection(TokioIo::new(stream), state.clone()));
    }
}

/// Serves HTTPS with `tls` until the runtime stops.
pub async fn serve_https(listener: TcpListener, tls: TlsAcceptor, state: Arc<State>) {
    loop {
        let stream = accepted(accept(&listener).await, &state);
        let (tls, state) = (tls.clone(), state.clone());
        // The handshake runs in the connection's task, so a slow client delays no other.
        tokio::spawn(async move {
            if let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE, tls.accept(stream)).await {
                serve_connection(TokioIo::new(stream), state).await;
            }
        });
    }
}

fn accepted(stream: TcpStream, state: &State) -> TcpStream {
    let _ = stream.set_nodelay(true);
    state.connections.fetch_add(1, Ordering::Relaxed);
    stream
}

async fn serve_connection<I>(io: I, state: Arc<State>)
where
    I: Read + Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handler::handle(state.clone(), req));
    // Errors here are the faults we inject (or clients hanging up): nothing to report.
    let _ = http1::Builder::new().serve_connection(io, service).await;
}
