//! The HTTPS listeners: the same routes and state as plain HTTP, behind certificates a
//! client configured with the CA file accepts (or, for the broken ones, must refuse).

mod common;

use common::{connect, exchange, refresh_request, tls, tls_config};
use rustls::{CertificateError, Error};
use token_server::TokenServer;

#[test]
fn the_valid_listener_serves_the_same_state_by_ip_and_by_name() {
    let server = TokenServer::start();
    let config = tls_config(server.ca_file());
    for name in ["127.0.0.1", "localhost"] {
        let mut stream = tls(&config, name, connect(server.https_url())).unwrap();
        let request = refresh_request("/https/ok/token", "tls-client", &format!("seed-{name}"));
        let reply = exchange(&mut stream, &request);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(
            reply.body.contains("\"refresh_token\":\"rt-"),
            "{}",
            reply.body
        );
    }
    assert_eq!(server.token_requests("https"), 2);
    assert!(server
        .https_url()
        .ends_with(&format!(":{}", server.https_port())));
}

#[test]
fn broken_certificates_fail_verification_for_the_right_reason() {
    let server = TokenServer::start();
    let config = tls_config(server.ca_file());
    let wrong = tls(&config, "127.0.0.1", connect(server.https_wrong_host_url())).err();
    assert!(
        matches!(
            wrong,
            Some(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{wrong:?}"
    );
    let expired = tls(&config, "localhost", connect(server.https_expired_url())).err();
    assert!(
        matches!(
            expired,
            Some(Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            ))
        ),
        "{expired:?}"
    );
    let other = tls_config(server.other_ca_file());
    let unknown = tls(&other, "127.0.0.1", connect(server.https_url())).err();
    assert!(
        matches!(
            unknown,
            Some(Error::InvalidCertificate(CertificateError::UnknownIssuer))
        ),
        "{unknown:?}"
    );
}

#[test]
fn the_ca_files_go_with_the_server() {
    let server = TokenServer::start();
    let (ca, other) = (
        server.ca_file().to_owned(),
        server.other_ca_file().to_owned(),
    );
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_ne!(pem, std::fs::read_to_string(&other).unwrap());
    drop(server);
    assert!(!ca.exists() && !other.exists());
}
