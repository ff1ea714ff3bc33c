//! Just enough HTTP/1.1 and TLS over std sockets to talk to the server and its proxies, so
//! these tests depend on nothing the clients under test use.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub struct Reply {
    pub status: u16,
    /// The status line and headers, lower-cased for easy matching.
    pub head: String,
    pub body: String,
}

/// A loopback connection to `url`'s port that gives up rather than hang a test.
pub fn connect(url: &str) -> TcpStream {
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    let stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Sends `request` as is and reads one reply.
pub fn exchange(stream: &mut (impl Read + Write), request: &str) -> Reply {
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    read_reply(stream)
}

/// Reads a head byte by byte (after a CONNECT, the next byte is the tunnel's), then a
/// `Content-Length` body.
pub fn read_reply(stream: &mut impl Read) -> Reply {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    Reply {
        status,
        head,
        body: String::from_utf8(body).unwrap(),
    }
}

/// A form-encoded refresh with Basic credentials, closing the connection afterwards.
pub fn refresh_request(path: &str, client_id: &str, refresh_token: &str) -> String {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:secret-{client_id}"));
    let body = format!("grant_type=refresh_token&refresh_token={refresh_token}");
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A client trusting only the certificates in `ca_file`.
pub fn tls_config(ca_file: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A finished TLS handshake with `name` over `tcp`, or the certificate error that ended it.
pub fn tls(
    config: &Arc<ClientConfig>,
    name: &str,
    mut tcp: TcpStream,
) -> Result<StreamOwned<ClientConnection, TcpStream>, rustls::Error> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut conn = ClientConnection::new(config.clone(), name).unwrap();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            let inner = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
            return Err(inner.cloned().unwrap_or_else(|| panic!("handshake: {e}")));
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}
