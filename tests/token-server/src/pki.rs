//! Certificates made at start time, so no key or expiry date is ever committed: one test CA
//! and three server certificates it signs (valid, wrong host, expired), plus an unrelated
//! CA that signs nothing, for "unknown issuer" tests.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use time::{Duration, OffsetDateTime};

/// The names the valid and the expired certificates hold.
const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1", "tokens.test"];
const WRONG_HOST: &str = "wrong-host.test";

/// The generated certificates: the CA files on disk, the server sides in memory.
pub struct Pki {
    /// Holds `ca.pem` and `other-ca.pem`; removed on drop.
    _dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    pub other_ca_file: PathBuf,
    pub valid: Arc<ServerConfig>,
    pub wrong_host: Arc<ServerConfig>,
    pub expired: Arc<ServerConfig>,
}

impl Pki {
    pub fn generate() -> io::Result<Pki> {
        let now = OffsetDateTime::now_utc();
        let year = Duration::days(365);
        let ca = certificate_authority("oauth-refresh test CA", now).map_err(io::Error::other)?;
        let other_ca = certificate_authority("other CA", now).map_err(io::Error::other)?;
        let dir = tempfile::Builder::new()
            .prefix("token-server-pki-")
            .tempdir()?;
        let ca_file = dir.path().join("ca.pem");
        let other_ca_file = dir.path().join("other-ca.pem");
        std::fs::write(&ca_file, ca.pem())?;
        std::fs::write(&other_ca_file, other_ca.pem())?;
        // A day of slack before now: a client whose clock is a little behind still accepts.
        let current = (now - Duration::days(1), now + year);
        Ok(Pki {
            valid: server(&ca, SERVER_NAMES, current)?,
            wrong_host: server(&ca, &[WRONG_HOST], current)?,
            expired: server(&ca, SERVER_NAMES, (now - 2 * year, now - year))?,
            _dir: dir,
            ca_file,
            other_ca_file,
        })
    }
}

fn certificate_authority(
    name: &str,
    now: OffsetDateTime,
) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Older than the expired certificate, so only that certificate's own dates are wrong.
    params.not_before = now - Duration::days(3 * 365);
    params.not_after = now + Duration::days(10 * 365);
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

/// A server certificate for `names` (IP addresses become IP SANs) signed by `ca`, ready to
/// serve HTTP/1.1.
fn server(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
) -> io::Result<Arc<ServerConfig>> {
    let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
    let mut params = CertificateParams::new(names.clone()).map_err(io::Error::other)?;
    params
        .distinguished_name
        .push(DnType::CommonName, &names[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    let key = KeyPair::generate().map_err(io::Error::other)?;
    let cert = params.signed_by(&key, ca).map_err(io::Error::other)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // The provider is named rather than taken from the process default, which is ambiguous
    // (a panic) when a test binary links both ring and aws-lc.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
