//! The client: one reused HTTP agent per token endpoint, safe defaults, bounded retries.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use ureq::http::{HeaderName, HeaderValue, Uri};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, RustlsConnector};

use crate::classify::{
    classify_response, classify_transport, scan_oversized, scan_refresh_token, Answer, MAX_BODY,
};
use crate::cork::CorkConnector;
use crate::encode::{basic_credentials, reserve_wiped, BodyEncoding, BodyWriter};
use crate::error::{catch_panic, Error, ErrorCode, RefreshTokenState};
use crate::limits::{checked_duration, checked_timeout};
use crate::options::{self, Checked, Face, Kind, OptionInfo, Preset, Value};
use crate::proxy::{self, is_loopback};
use crate::redact::redact;
use crate::request::{RefreshTokenRequest, SystemAccessTokenRequest};
use crate::resolve::CachingResolver;
use crate::secret::Secret;
use crate::tcp::TcpConnector;
use crate::token::Token;
use zeroize::Zeroizing;

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with form-urlencoded id and secret.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post,
}

impl ClientAuth {
    /// Parses `"basic"` or `"post"`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "basic" => Some(ClientAuth::Basic),
            "post" => Some(ClientAuth::Post),
            _ => None,
        }
    }
}

/// Which Gusto API the preset talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GustoEnvironment {
    /// `https://api.gusto-demo.com` (the default).
    Demo,
    /// `https://api.gusto.com`.
    Production,
    /// Another base URL, e.g. a local test server.
    Custom(String),
}

impl GustoEnvironment {
    fn base_url(&self) -> &str {
        match self {
            GustoEnvironment::Demo => "https://api.gusto-demo.com",
            GustoEnvironment::Production => "https://api.gusto.com",
            GustoEnvironment::Custom(base) => base.trim_end_matches('/'),
        }
    }
}

impl FromStr for GustoEnvironment {
    type Err = Error;

    /// `"demo"`, `"production"`, or a base URL starting with `http://` or `https://`.
    fn from_str(value: &str) -> Result<Self, Error> {
        match value {
            "demo" => Ok(GustoEnvironment::Demo),
            "production" => Ok(GustoEnvironment::Production),
            v if v.starts_with("https://") || v.starts_with("http://") => {
                Ok(GustoEnvironment::Custom(v.to_owned()))
            }
            _ => Err(Error::invalid_input(
                "Gusto environment must be \"demo\", \"production\" or a base URL",
            )),
        }
    }
}

/// When to resend a request that failed in a transient way (spec §6).
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2; 0 disables retries).
    pub max_retries: u32,
    /// Also retry when the refresh token may have been consumed. Only safe with servers
    /// that forgive a resent refresh token (Gusto revokes lazily); elsewhere reuse can
    /// revoke the whole token family. Default off; on in the Gusto preset.
    pub retry_unknown_outcome: bool,
    /// First backoff delay; doubled on each retry, with jitter.
    pub initial_backoff: Duration,
    /// The longest wait between attempts, and the longest `Retry-After` honoured.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            retry_unknown_outcome: false,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Every option of a [`Client`], as data: the defaults, the validation, and the name each
/// language gives each option ([`ClientOptions::OPTIONS`]). [`ClientBuilder`] is the fluent
/// Rust API over it; the bindings fill it through [`ClientOptions::set`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The token endpoint. Required unless `gusto` is set, which implies it.
    pub token_url: Option<String>,
    /// The Gusto preset: this environment's `/oauth/token`, JSON body, credentials in the
    /// body, unknown outcomes retried.
    pub gusto: Option<GustoEnvironment>,
    /// `X-Gusto-API-Version`.
    pub gusto_api_version: Option<String>,
    /// Body encoding (default [`BodyEncoding::Form`]; the Gusto preset's is fixed).
    pub body_encoding: Option<BodyEncoding>,
    /// Client authentication (default [`ClientAuth::Basic`]; the Gusto preset's is fixed).
    pub client_auth: Option<ClientAuth>,
    /// The deadline for a whole refresh, retries included.
    pub timeout: Duration,
    /// The deadline for opening a connection.
    pub connect_timeout: Duration,
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// Resend a refresh token whose outcome is unknown (default: only with the Gusto preset).
    pub retry_unknown_outcome: Option<bool>,
    /// First backoff delay; doubled on each retry, with jitter.
    pub initial_backoff: Duration,
    /// The longest wait between attempts, and the longest `Retry-After` honoured.
    pub max_backoff: Duration,
    /// Extra headers. Values may be API keys: kept as secrets so Debug never shows them.
    pub headers: Vec<(String, Secret)>,
    /// Replaces the default `User-Agent`.
    pub user_agent: Option<String>,
    /// Allow plain `http://` to hosts other than loopback.
    pub allow_insecure_http: bool,
    /// Extra CA certificates (PEM).
    pub ca_file: Option<PathBuf>,
    /// Use the proxy variables of the environment.
    pub proxy_from_env: bool,
    /// Idle connections kept open for reuse, one per thread that refreshes at once.
    pub max_idle_connections: u32,
    /// Names the language in the default `User-Agent`.
    #[doc(hidden)]
    pub surface: &'static str,
}

impl Default for ClientOptions {
    fn default() -> Self {
        let retry = RetryPolicy::default();
        ClientOptions {
            token_url: None,
            gusto: None,
            gusto_api_version: None,
            body_encoding: None,
            client_auth: None,
            timeout: ClientBuilder::DEFAULT_TIMEOUT,
            connect_timeout: ClientBuilder::DEFAULT_CONNECT_TIMEOUT,
            max_retries: retry.max_retries,
            retry_unknown_outcome: None,
            initial_backoff: retry.initial_backoff,
            max_backoff: retry.max_backoff,
            headers: Vec::new(),
            user_agent: None,
            allow_insecure_http: false,
            ca_file: None,
            proxy_from_env: true,
            max_idle_connections: 32,
            surface: "rust",
        }
    }
}

impl ClientOptions {
    /// Every option a face can set, in the order the docs list them.
    pub const OPTIONS: &'static [OptionInfo] = &[
        OptionInfo::new("token_url", Kind::Text, "The token endpoint, e.g. https://auth.example.com/token (not with the Gusto preset).").only(Preset::NotGusto),
        OptionInfo::new("environment", Kind::Text, "Gusto preset only: \"demo\" (default), \"production\", or a base URL.").only(Preset::GustoOnly),
        OptionInfo::new("gusto_api_version", Kind::Text, "Gusto preset only: X-Gusto-API-Version; omitted, Gusto uses the application's minimum version.").only(Preset::GustoOnly),
        OptionInfo::new("body_encoding", Kind::Choice(&["form", "json"]), "\"form\" (default) or \"json\" (not with the Gusto preset, which sends JSON).").only(Preset::NotGusto),
        OptionInfo::new("client_auth", Kind::Choice(&["basic", "post"]), "\"basic\" (default, HTTP Basic) or \"post\" (credentials in the body; not with the Gusto preset).").only(Preset::NotGusto),
        OptionInfo::new("timeout", Kind::Duration, "Deadline for a whole refresh, retries included (default 30 s; more than 0, at most a year)."),
        OptionInfo::new("connect_timeout", Kind::Duration, "Deadline for opening a connection (default 10 s; more than 0, at most a year)."),
        OptionInfo::new("max_retries", Kind::Count, "Retries after the first attempt, only where safe (default 2; 0 disables retries; at most 20)."),
        OptionInfo::new("retry_unknown_outcome", Kind::Bool, "Also retry when the refresh token may have been consumed: only for servers that forgive a resent token (default false; true with the Gusto preset)."),
        OptionInfo::new("initial_backoff", Kind::Duration, "First wait between attempts, doubled each retry, with jitter (default 200 ms)."),
        OptionInfo::new("max_backoff", Kind::Duration, "Longest wait between attempts, and the longest Retry-After honoured (default 10 s)."),
        OptionInfo::new("headers", Kind::Pairs, "Extra headers for every request (not Authorization, Content-Type or framing headers); values are treated as secrets."),
        OptionInfo::new("user_agent", Kind::Text, "Replaces the default User-Agent oauth-refresh/<version> (<language>)."),
        OptionInfo::new("allow_insecure_http", Kind::Bool, "Allow plain http:// to hosts other than loopback (default false)."),
        OptionInfo::new("ca_file", Kind::Path, "A PEM file of CA certificates trusted in addition to the built-in roots (SSL_CERT_FILE when not set)."),
        OptionInfo::new("proxy_from_env", Kind::Bool, "Use HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment (default true; loopback is never proxied)."),
        OptionInfo::new("max_idle_connections", Kind::Count, "Idle connections kept open for reuse: one per thread that refreshes at once (default 32; 0 opens a connection per refresh)."),
    ];

    /// The options of a client for this token endpoint, every other option at its default.
    pub fn new(token_url: impl Into<String>) -> Self {
        ClientOptions {
            token_url: Some(token_url.into()),
            ..ClientOptions::default()
        }
    }

    /// The options of the Gusto preset for this environment.
    pub fn gusto(environment: GustoEnvironment) -> Self {
        ClientOptions {
            gusto: Some(environment),
            ..ClientOptions::default()
        }
    }

    /// Whether unknown outcomes are retried: as set, else only with the Gusto preset
    /// (Gusto revokes the old refresh token only when the new access token is first used,
    /// so a lost response may be retried there).
    fn retries_unknown_outcome(&self) -> bool {
        self.retry_unknown_outcome.unwrap_or(self.gusto.is_some())
    }

    /// Sets the option `name`, as `face` spells it, from a value as the binding received
    /// it: type, range and meaning are checked here; the error names the option.
    pub fn set(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        let gusto = Some(self.gusto.is_some());
        options::set(
            Self::OPTIONS,
            "client",
            face,
            name,
            value,
            gusto,
            |option, value| {
                match (option, value) {
                    ("token_url", Checked::Text(v)) => self.token_url = Some(v),
                    ("environment", Checked::Text(v)) => self.gusto = Some(v.parse()?),
                    ("gusto_api_version", Checked::Text(v)) => self.gusto_api_version = Some(v),
                    ("body_encoding", Checked::Text(v)) => {
                        self.body_encoding = BodyEncoding::parse(&v)
                    }
                    ("client_auth", Checked::Text(v)) => self.client_auth = ClientAuth::parse(&v),
                    ("timeout", Checked::Duration(v)) => self.timeout = options::positive(name, v)?,
                    ("connect_timeout", Checked::Duration(v)) => {
                        self.connect_timeout = options::positive(name, v)?
                    }
                    ("max_retries", Checked::Count(v)) if v > MAX_RETRIES => {
                        return Err(Error::invalid_input(format!(
                            "{name} must be at most {MAX_RETRIES}"
                        )))
                    }
                    ("max_retries", Checked::Count(v)) => self.max_retries = v,
                    ("retry_unknown_outcome", Checked::Bool(v)) => {
                        self.retry_unknown_outcome = Some(v)
                    }
                    ("initial_backoff", Checked::Duration(v)) => self.initial_backoff = v,
                    ("max_backoff", Checked::Duration(v)) => self.max_backoff = v,
                    ("headers", Checked::Pairs(v)) => {
                        self.headers = v.into_iter().map(|(n, v)| (n, Secret::new(v))).collect()
                    }
                    ("user_agent", Checked::Text(v)) => self.user_agent = Some(v),
                    ("allow_insecure_http", Checked::Bool(v)) => self.allow_insecure_http = v,
                    ("ca_file", Checked::Text(v)) => self.ca_file = Some(PathBuf::from(v)),
                    ("proxy_from_env", Checked::Bool(v)) => self.proxy_from_env = v,
                    ("max_idle_connections", Checked::Count(v)) => self.max_idle_connections = v,
                    (option, _) => return Err(options::mismatch(option)),
                }
                Ok(())
            },
        )
    }

    /// Checks every option and builds the client. No I/O happens here except reading
    /// the CA file.
    pub fn build(self) -> Result<Client, Error> {
        ClientBuilder(self).build()
    }
}

/// Builds a [`Client`]; every option has a safe default. The fluent form of [`ClientOptions`].
#[derive(Clone, Debug)]
pub struct ClientBuilder(ClientOptions);

/// The most retries a client may make: more is a mistake (C's old `-1` for "default" reads as
/// 4,294,967,295), and the deadline ends them long before.
const MAX_RETRIES: u32 = 20;

/// Gusto's API version header (lower case, as `HeaderName` holds it).
const GUSTO_API_VERSION: &str = "x-gusto-api-version";

/// Headers the client owns; a caller's extra header may not replace them.
const OWN_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
];

impl ClientBuilder {
    /// The default deadline for a whole refresh, retries included.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default deadline for opening a connection.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Body encoding (default [`BodyEncoding::Form`]).
    pub fn body_encoding(mut self, encoding: BodyEncoding) -> Self {
        self.0.body_encoding = Some(encoding);
        self
    }

    /// Client authentication (default [`ClientAuth::Basic`]).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.0.client_auth = Some(auth);
        self
    }

    /// The deadline for a whole refresh, retries included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = timeout;
        self
    }

    /// The deadline for opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.0.connect_timeout = timeout;
        self
    }

    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.0.max_retries = retries;
        self
    }

    /// The whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.0.max_retries = policy.max_retries;
        self.0.retry_unknown_outcome = Some(policy.retry_unknown_outcome);
        self.0.initial_backoff = policy.initial_backoff;
        self.0.max_backoff = policy.max_backoff;
        self
    }

    /// Adds a header to every request (not `Authorization`, `Content-Type` or framing headers).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.headers.push((name.into(), Secret::new(value)));
        self
    }

    /// Sets `X-Gusto-API-Version`; without it Gusto uses the application's minimum version.
    pub fn gusto_api_version(mut self, version: impl Into<String>) -> Self {
        self.0.gusto_api_version = Some(version.into());
        self
    }

    /// Replaces the `User-Agent` (default `oauth-refresh/<version> (rust)`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.0.user_agent = Some(agent.into());
        self
    }

    /// Names the language binding in the default `User-Agent`.
    #[doc(hidden)]
    pub fn surface(mut self, surface: &'static str) -> Self {
        self.0.surface = surface;
        self
    }

    /// Allows plain `http://` to hosts other than loopback. Tokens then cross the
    /// network in clear: only for a trusted network.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.0.allow_insecure_http = allow;
        self
    }

    /// Trusts the CA certificates in this PEM file, in addition to the built-in roots.
    /// `SSL_CERT_FILE` is honoured the same way when this is not set.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.0.ca_file = Some(path.into());
        self
    }

    /// Use `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` from the environment (default on). A
    /// loopback token URL never goes through a proxy; see the README's Security section.
    pub fn proxy_from_env(mut self, enabled: bool) -> Self {
        self.0.proxy_from_env = enabled;
        self
    }

    /// Idle connections kept for reuse (default 32): one per thread that refreshes at once.
    pub fn max_idle_connections(mut self, connections: u32) -> Self {
        self.0.max_idle_connections = connections;
        self
    }

    /// Checks every option and builds the client. No I/O happens here except reading
    /// the CA file.
    pub fn build(self) -> Result<Client, Error> {
        let mut o = self.0;
        let token_url = match (&o.gusto, o.token_url.take()) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "the Gusto preset sets the token URL: give the environment instead",
                ))
            }
            (Some(environment), None) => format!("{}/oauth/token", environment.base_url()),
            (None, Some(url)) => url,
            (None, None) => return Err(Error::invalid_input("the token URL is required")),
        };
        if o.gusto.is_some() {
            // Gusto's endpoint takes JSON with the credentials in the body, nothing else.
            // As `set` refuses them: one rule in every face.
            for (set, name) in [
                (o.body_encoding.is_some(), "body_encoding"),
                (o.client_auth.is_some(), "client_auth"),
            ] {
                if set {
                    return Err(Error::invalid_input(format!(
                        "the Gusto preset sets {name} itself"
                    )));
                }
            }
            o.body_encoding = Some(BodyEncoding::Json);
            o.client_auth = Some(ClientAuth::Post);
        }
        if let Some(version) = o.gusto_api_version.take() {
            if o.gusto.is_none() {
                return Err(Error::invalid_input(
                    "gusto_api_version is an option of the Gusto preset",
                ));
            }
            o.headers
                .push((GUSTO_API_VERSION.to_owned(), Secret::new(version)));
        }
        let retry = RetryPolicy {
            max_retries: o.max_retries,
            retry_unknown_outcome: o.retries_unknown_outcome(),
            initial_backoff: o.initial_backoff,
            max_backoff: o.max_backoff,
        };
        let uri: Uri = token_url
            .parse()
            .map_err(|_| Error::invalid_input("the token URL is not a valid URL"))?;
        let host = uri.host().unwrap_or_default().to_owned();
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if o.allow_insecure_http || is_loopback(&host) => {}
            Some("http") => {
                return Err(Error::invalid_input(format!(
                    "refusing plain http:// to {host}: use https, or allow_insecure_http for a trusted network"
                )))
            }
            _ => return Err(Error::invalid_input("the token URL must start with https:// or http://")),
        }
        if host.is_empty() {
            return Err(Error::invalid_input("the token URL has no host"));
        }
        if o.max_retries > MAX_RETRIES {
            return Err(Error::invalid_input(format!(
                "max_retries must be at most {MAX_RETRIES}"
            )));
        }
        checked_timeout("timeout", o.timeout)?;
        checked_timeout("connect_timeout", o.connect_timeout)?;
        checked_duration("initial_backoff", retry.initial_backoff)?;
        checked_duration("max_backoff", retry.max_backoff)?;
        let body_encoding = o.body_encoding.unwrap_or_default();
        let client_auth = o.client_auth.unwrap_or_default();

        let mut headers = Vec::with_capacity(o.headers.len());
        for (name, value) in &o.headers {
            // Not quoted: a name and value swapped by mistake would put the value here.
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_input("an extra header has an invalid name"))?;
            if OWN_HEADERS.contains(&name.as_str()) || name == "user-agent" {
                return Err(Error::invalid_input(format!(
                    "header {name} is set by the client and cannot be replaced (user_agent sets the User-Agent)"
                )));
            }
            if headers
                .iter()
                .any(|(seen, _): &(HeaderName, HeaderValue)| *seen == name)
            {
                return Err(Error::invalid_input(format!(
                    "header {name} is given twice"
                )));
            }
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| Error::invalid_input(format!("invalid value for header {name}")))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }

        let user_agent = o.user_agent.unwrap_or_else(|| {
            format!(
                "oauth-refresh/{} ({})",
                env!("CARGO_PKG_VERSION"),
                o.surface
            )
        });
        // Checked here: the HTTP stack would otherwise refuse it on every request (by
        // panicking, in the version we use).
        if HeaderValue::from_str(&user_agent).is_err() {
            return Err(Error::invalid_input(
                "the user agent holds a character not allowed in a header (CR, LF, NUL, ...)",
            ));
        }
        let ca_file = o
            .ca_file
            .or_else(|| std::env::var_os("SSL_CERT_FILE").map(PathBuf::from));
        let root_certs = match ca_file {
            Some(path) => roots_with(&path)?,
            None => RootCerts::WebPki,
        };
        let proxy = match o.proxy_from_env {
            true => proxy::from_env(uri.scheme_str().unwrap_or_default(), &host)?,
            false => None,
        };
        // Errors name where the request went: the host, and the proxy when there is one.
        let place = match &proxy {
            Some(p) => format!("{host} (through the proxy {}:{})", p.host(), p.port()),
            None => host.clone(),
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(user_agent)
            .accept("application/json")
            .proxy(proxy)
            .tls_config(TlsConfig::builder().root_certs(root_certs).build())
            // Services refresh from thread pools: keep one warm connection per thread.
            .max_idle_connections(o.max_idle_connections as usize)
            .max_idle_connections_per_host(o.max_idle_connections as usize)
            .timeout_connect(Some(o.connect_timeout))
            .timeout_global(Some(o.timeout))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            // ureq's default chain with our TCP transport (SOCKS is refused with the proxy).
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector)
                .chain(RustlsConnector::default())
                .chain(CorkConnector),
            CachingResolver::default(),
        );

        Ok(Client {
            agent,
            token_url: uri,
            host,
            place,
            content_type: HeaderValue::from_static(body_encoding.content_type()),
            body_encoding,
            client_auth,
            timeout: o.timeout,
            connect_timeout: o.connect_timeout,
            retry,
            headers,
        })
    }
}

/// The built-in roots plus every certificate in a PEM file.
fn roots_with(path: &std::path::Path) -> Result<RootCerts, Error> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid_input(format!("cannot read CA file {shown}: {e}")))?;
    let mut certs: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    let before = certs.len();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::invalid_input(format!(
                    "CA file {shown} is not valid PEM"
                )))
            }
        }
    }
    if certs.len() == before {
        return Err(Error::invalid_input(format!(
            "CA file {shown} holds no certificate"
        )));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

/// Reads `reader` to its end into `body`, which holds the new tokens: when it must grow,
/// the old buffer is wiped rather than freed with them (`read_to_end` would not).
fn read_wiped(reader: &mut impl Read, body: &mut Zeroizing<Vec<u8>>) -> std::io::Result<()> {
    // Token responses are small: a large first chunk would cost its zeroing (twice: on
    // reading, and when wiped) on every refresh.
    const CHUNK: usize = 1024;
    loop {
        // Grow only when full: a response that fits is read without a second buffer.
        if body.len() == body.capacity() {
            reserve_wiped(body, CHUNK);
        }
        let (len, capacity) = (body.len(), body.capacity());
        body.resize(capacity, 0);
        match reader.read(&mut body[len..]) {
            Ok(n) => {
                body.truncate(len + n);
                if n == 0 {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => body.truncate(len),
            Err(e) => {
                body.truncate(len);
                return Err(e);
            }
        }
    }
}

/// What one exchange sends, beyond its body.
struct Sending<'a> {
    /// The refresh token sent, if any: kept when the server does not rotate.
    refresh_token: Option<&'a Secret>,
    /// Values that must not appear in any error, even if the server echoes them.
    secrets: &'a [&'a str],
    /// Extra parameters sent (a PKCE verifier, say): secrets too, gathered only on error.
    extra: Option<&'a BTreeMap<String, String>>,
    /// Set once a request may have left, for the panic boundary.
    sent: &'a Cell<bool>,
}

/// Refreshes tokens at one token endpoint. Cheap to share: it is `Send + Sync` and
/// keeps connections alive between calls.
pub struct Client {
    agent: ureq::Agent,
    token_url: Uri,
    host: String,
    place: String,
    content_type: HeaderValue,
    body_encoding: BodyEncoding,
    client_auth: ClientAuth,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Only the settings: the HTTP agent's own Debug shows its connection pool, whose keys
/// can hold a proxy URL with its password.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Client")
            // Not the whole URL: it may carry user info.
            .field("host", &self.host)
            .field("path", &self.token_url.path())
            .field("body_encoding", &self.body_encoding)
            .field("client_auth", &self.client_auth)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("headers", &header_names)
            .field(
                "proxy",
                &self.agent.config().proxy().map(|p| (p.host(), p.port())),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder for an RFC 6749 token endpoint (form body, HTTP Basic).
    pub fn builder(token_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder(ClientOptions::new(token_url))
    }

    /// A client for an RFC 6749 token endpoint with every default.
    pub fn new(token_url: impl Into<String>) -> Result<Client, Error> {
        Client::builder(token_url).build()
    }

    /// A builder preset for Gusto's `POST {base}/oauth/token`: JSON body, credentials in
    /// the body, and retries of unknown outcomes (Gusto revokes the old refresh token only
    /// when the new access token is first used, so a lost response may be retried).
    pub fn gusto(environment: GustoEnvironment) -> ClientBuilder {
        ClientBuilder(ClientOptions::gusto(environment))
    }

    /// Whether this client's policy forgives resending a refresh token whose first
    /// exchange had an unknown outcome ([`RetryPolicy::retry_unknown_outcome`]).
    pub fn resends_unknown_outcome(&self) -> bool {
        self.retry.retry_unknown_outcome
    }

    /// Exchanges a refresh token for a new token (RFC 6749 §6). Blocks the calling thread.
    pub fn refresh(&self, request: &RefreshTokenRequest) -> Result<Token, Error> {
        let sent = Cell::new(false);
        catch_panic(|| sent.get(), || self.refresh_inner(request, &sent))
    }

    fn refresh_inner(
        &self,
        request: &RefreshTokenRequest,
        sent: &Cell<bool>,
    ) -> Result<Token, Error> {
        request.validate()?;
        let mut body = self.body_writer(&request.client_id, &request.client_secret);
        body.param("grant_type", "refresh_token");
        body.param("refresh_token", request.refresh_token.expose());
        if let Some(uri) = &request.redirect_uri {
            body.param("redirect_uri", uri);
        }
        if let Some(scope) = &request.scope {
            body.param("scope", scope);
        }
        for (name, value) in &request.extra {
            body.param(name, value);
        }
        let secrets = [
            request.client_secret.expose(),
            request.refresh_token.expose(),
        ];
        self.execute(
            &body.finish(),
            (&request.client_id, &request.client_secret),
            &Sending {
                refresh_token: Some(&request.refresh_token),
                secrets: &secrets,
                extra: Some(&request.extra),
                sent,
            },
        )
    }

    /// Gusto's `system_access` grant: a token for the application, with no refresh token.
    pub fn system_access(&self, request: &SystemAccessTokenRequest) -> Result<Token, Error> {
        let sent = Cell::new(false);
        catch_panic(|| sent.get(), || self.system_access_inner(request, &sent))
    }

    fn system_access_inner(
        &self,
        request: &SystemAccessTokenRequest,
        sent: &Cell<bool>,
    ) -> Result<Token, Error> {
        request.validate()?;
        let mut body = self.body_writer(&request.client_id, &request.client_secret);
        body.param("grant_type", "system_access");
        let secrets = [request.client_secret.expose()];
        self.execute(
            &body.finish(),
            (&request.client_id, &request.client_secret),
            &Sending {
                refresh_token: None,
                secrets: &secrets,
                extra: None,
                sent,
            },
        )
    }

    fn body_writer(&self, client_id: &str, client_secret: &Secret) -> BodyWriter {
        let mut body = BodyWriter::new(self.body_encoding);
        if self.client_auth == ClientAuth::Post {
            body.param("client_id", client_id);
            body.param("client_secret", client_secret.expose());
        }
        body
    }

    /// Sends the body, retrying what is safe to retry, until success or the deadline.
    fn execute(
        &self,
        body: &[u8],
        (client_id, client_secret): (&str, &Secret),
        sending: &Sending<'_>,
    ) -> Result<Token, Error> {
        let deadline = Instant::now() + self.timeout;
        let basic = match self.client_auth {
            ClientAuth::Basic => Some(basic_credentials(client_id, client_secret.expose())),
            ClientAuth::Post => None,
        };
        let authorization = match &basic {
            Some(header) => {
                let mut value = HeaderValue::from_str(header)
                    .map_err(|_| Error::invalid_input("client credentials cannot form a header"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let basic = basic.as_deref().and_then(|h| h.strip_prefix("Basic "));
        let mut retries = 0;
        loop {
            let result = self.attempt(
                retries == 0,
                body,
                authorization.as_ref(),
                deadline,
                sending,
            );
            let mut err = match result {
                Ok(token) => return Ok(token),
                Err(err) => {
                    // The extra headers' values may be API keys (the API version is not).
                    let headers = self
                        .headers
                        .iter()
                        .filter(|(name, _)| name.as_str() != GUSTO_API_VERSION)
                        .filter_map(|(_, v)| v.to_str().ok());
                    let extra = sending.extra.into_iter().flat_map(|m| m.values());
                    let secrets: Vec<&str> = (sending.secrets.iter().copied())
                        .chain(extra.map(String::as_str))
                        .chain(headers)
                        .collect();
                    redact(err, &secrets, basic)
                }
            };
            let retryable = self.may_retry(&err);
            err.set_retryable(retryable);
            if !retryable || retries >= self.retry.max_retries {
                return Err(err);
            }
            let delay = match err.retry_after() {
                Some(wait) if wait > self.retry.max_backoff => return Err(err),
                Some(wait) => wait,
                None => self.backoff(retries),
            };
            if Instant::now() + delay >= deadline {
                return Err(err);
            }
            std::thread::sleep(delay);
            retries += 1;
        }
    }

    /// Transient, and resending cannot burn the token under this client's policy.
    fn may_retry(&self, err: &Error) -> bool {
        let transient = matches!(
            err.code(),
            ErrorCode::RateLimited
                | ErrorCode::ServerError
                | ErrorCode::Timeout
                | ErrorCode::Connection
        );
        transient
            && match err.refresh_token_state() {
                RefreshTokenState::Unused => true,
                RefreshTokenState::Unknown => self.retry.retry_unknown_outcome,
                RefreshTokenState::Rejected => false,
            }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, retries: u32) -> Duration {
        let base = self
            .retry
            .initial_backoff
            .saturating_mul(1 << retries.min(16))
            .min(self.retry.max_backoff);
        base / 2 + base.mul_f64(fastrand::f64() / 2.0)
    }

    fn attempt(
        &self,
        first: bool,
        body: &[u8],
        authorization: Option<&HeaderValue>,
        deadline: Instant,
        sending: &Sending<'_>,
    ) -> Result<Token, Error> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::new(
                ErrorCode::Timeout,
                RefreshTokenState::Unused,
                "the deadline passed before the request could be sent",
            ));
        }
        let mut request = self
            .agent
            .post(&self.token_url)
            .header(ureq::http::header::CONTENT_TYPE, self.content_type.clone());
        if let Some(auth) = authorization {
            request = request.header(ureq::http::header::AUTHORIZATION, auth.clone());
        }
        for (name, value) in &self.headers {
            request = request.header(name, value.clone());
        }
        // A retry gets what is left of the deadline. The connect timeout must fire before
        // the overall one while connecting, so that a timeout before sending is reported as
        // such (token unused). The first attempt uses the agent's own timeouts, which are
        // the same, and skips building a per-request config (measurably cheaper).
        let request = if first {
            request
        } else {
            request
                .config()
                .timeout_global(Some(remaining))
                .timeout_connect(Some(self.connect_timeout.min(remaining)))
                .build()
        };

        let sent_at = SystemTime::now();
        sending.sent.set(true);
        let mut response = request
            .send(body)
            .map_err(|e| classify_transport(e, &self.place))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(ureq::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let success = (200..300).contains(&status);
        // Read one byte past the limit to learn whether the body is over it.
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut body = Zeroizing::new(Vec::new());
        if let Err(e) = read_wiped(&mut (&mut reader).take(MAX_BODY + 1), &mut body) {
            let err = classify_transport(ureq::Error::from(e), &self.place).with_status(status);
            // A 2xx cut short may already have carried the rotated refresh token.
            let salvaged = success.then(|| scan_refresh_token(&body)).flatten();
            return Err(err.with_salvaged_refresh_token(salvaged));
        }
        if body.len() as u64 > MAX_BODY {
            if !success {
                // An oversized error page still says what went wrong through its status.
                body.clear();
            } else {
                // The server may have rotated: find the refresh token before giving up.
                return Err(Error::new(
                    ErrorCode::InvalidResponse,
                    RefreshTokenState::Unknown,
                    format!(
                        "the response from {} is larger than {MAX_BODY} bytes",
                        self.place
                    ),
                )
                .with_status(status)
                .with_salvaged_refresh_token(scan_oversized(std::mem::take(&mut *body), reader)));
            }
        }
        classify_response(&Answer {
            status,
            retry_after: retry_after.as_deref(),
            body: &body,
            sent_at,
            previous_refresh_token: sending.refresh_token,
        })
    }
}
