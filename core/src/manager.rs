//! Always-valid access tokens for one account, refreshed once however many callers ask.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

use crate::client::Client;
use crate::error::{catch_panic, Error, ErrorCode, RefreshTokenState};
use crate::limits::{checked_duration, checked_fraction};
use crate::lock::lock;
use crate::options::{self, Checked, Face, OptionInfo, Value};
use crate::request::RefreshTokenRequest;
use crate::secret::Secret;
use crate::store::{store_error, Lease, Leased, MemoryStore, TokenStore};
use crate::token::Token;

/// What the manager refreshes with.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Your client ID.
    pub client_id: String,
    /// Your client secret.
    pub client_secret: Secret,
    /// The refresh token to start from when the store is empty.
    pub refresh_token: Option<Secret>,
    /// Sent with every refresh, if set.
    pub scope: Option<String>,
    /// Sent with every refresh, if set (Gusto's `redirect_uri`).
    pub redirect_uri: Option<String>,
}

/// When to refresh, and how long to wait for another refresher.
#[derive(Clone, Debug)]
pub struct ManagerOptions {
    /// Refresh when less than this fraction of the lifetime is left (default 0.1).
    pub refresh_fraction: f64,
    /// ... but never later than this before expiry (default 30 s).
    pub min_window: Duration,
    /// Up to this fraction of the window is added at random, so that many managers do not
    /// refresh in lockstep (default 0.1).
    pub jitter: f64,
    /// The lifetime assumed for a token without `expires_in` (default 1 h).
    pub default_lifetime: Duration,
    /// How long a caller whose token has expired waits for another process's refresh
    /// (default 30 s). Callers whose token is still valid never wait: they get it at once.
    pub lease_wait: Duration,
    /// How long a refresher that died keeps the lease in stores that need a bound (Redis;
    /// default 10 s). A live refresher renews it every third of this, so it never outlasts
    /// its lease however slow the server is.
    pub lease_ttl: Duration,
    /// When the store cannot be reached and the token has expired, refresh anyway, without
    /// the lease (default false). Another host may then use the same refresh token, which
    /// servers that rotate tokens punish by revoking the grant: opt in only for a single host.
    pub refresh_without_store: bool,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            refresh_fraction: 0.1,
            min_window: Duration::from_secs(30),
            jitter: 0.1,
            default_lifetime: Duration::from_secs(3600),
            lease_wait: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(10),
            refresh_without_store: false,
        }
    }
}

impl ManagerOptions {
    /// Refuses an option out of range (a fraction outside 0..=1, a duration over
    /// [`MAX_DURATION`](crate::limits::MAX_DURATION), a lease TTL under 100 ms) as
    /// `invalid_input`.
    pub fn validate(&self) -> Result<(), Error> {
        checked_fraction("refresh_fraction", self.refresh_fraction)?;
        checked_fraction("jitter", self.jitter)?;
        checked_duration("min_window", self.min_window)?;
        checked_duration("default_lifetime", self.default_lifetime)?;
        checked_duration("lease_wait", self.lease_wait)?;
        checked_duration("lease_ttl", self.lease_ttl)?;
        if self.lease_ttl < MIN_LEASE_TTL {
            return Err(Error::invalid_input("lease_ttl must be at least 100 ms"));
        }
        Ok(())
    }
}

/// Everything a [`TokenManager`] is built from besides its client, store and hook, as data:
/// the bindings fill it through [`ManagerConfig::set`], as they do [`ClientOptions`](crate::ClientOptions).
#[derive(Clone, Debug, Default)]
pub struct ManagerConfig {
    /// What the manager refreshes with.
    pub credentials: Credentials,
    /// When to refresh, and how long to wait for another refresher.
    pub options: ManagerOptions,
}

/// The manager's options, one constant each: [`ManagerConfig::OPTIONS`] lists them all,
/// [`AccountsConfig::OPTIONS`](crate::AccountsConfig::OPTIONS) all but `refresh_token`.
pub(crate) mod option {
    use crate::options::{Kind, OptionInfo};

    pub const CLIENT_ID: OptionInfo =
        OptionInfo::new("client_id", Kind::Text, "Your client ID (required).");
    pub const CLIENT_SECRET: OptionInfo =
        OptionInfo::new("client_secret", Kind::Text, "Your client secret.");
    pub const REFRESH_TOKEN: OptionInfo = OptionInfo::new(
        "refresh_token",
        Kind::Text,
        "The refresh token to start from when the store holds none.",
    );
    pub const SCOPE: OptionInfo =
        OptionInfo::new("scope", Kind::Text, "Sent with every refresh, if set.");
    pub const REDIRECT_URI: OptionInfo = OptionInfo::new(
        "redirect_uri",
        Kind::Text,
        "Sent with every refresh, if set (Gusto asks for it).",
    );
    pub const REFRESH_FRACTION: OptionInfo = OptionInfo::new(
        "refresh_fraction",
        Kind::Fraction,
        "Refresh when less than this fraction of the lifetime is left (default 0.1).",
    );
    pub const MIN_WINDOW: OptionInfo = OptionInfo::new(
        "min_window",
        Kind::Duration,
        "... but never later than this before expiry (default 30 s).",
    );
    pub const JITTER: OptionInfo = OptionInfo::new("jitter", Kind::Fraction, "Up to this fraction of the window is added at random, so that managers do not refresh in lockstep (default 0.1).");
    pub const DEFAULT_LIFETIME: OptionInfo = OptionInfo::new(
        "default_lifetime",
        Kind::Duration,
        "The lifetime assumed for a token without expires_in (default 1 h).",
    );
    pub const LEASE_WAIT: OptionInfo = OptionInfo::new("lease_wait", Kind::Duration, "How long a caller whose token has expired waits for another process's refresh (default 30 s).");
    pub const LEASE_TTL: OptionInfo = OptionInfo::new(
        "lease_ttl",
        Kind::Duration,
        "How long a refresher that died keeps the lease in Redis (default 10 s; at least 100 ms).",
    );
    pub const REFRESH_WITHOUT_STORE: OptionInfo = OptionInfo::new("refresh_without_store", Kind::Bool, "When the store cannot be reached and the token has expired, refresh without the lease (default false: only for a single host).");
}

impl ManagerConfig {
    /// Every option a face can set, in the order the docs list them.
    pub const OPTIONS: &'static [OptionInfo] = &[
        option::CLIENT_ID,
        option::CLIENT_SECRET,
        option::REFRESH_TOKEN,
        option::SCOPE,
        option::REDIRECT_URI,
        option::REFRESH_FRACTION,
        option::MIN_WINDOW,
        option::JITTER,
        option::DEFAULT_LIFETIME,
        option::LEASE_WAIT,
        option::LEASE_TTL,
        option::REFRESH_WITHOUT_STORE,
    ];

    /// Sets the option `name`, as `face` spells it (see [`ClientOptions::set`](crate::ClientOptions::set)).
    pub fn set(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        options::set(
            Self::OPTIONS,
            "manager",
            face,
            name,
            value,
            None,
            |option, value| self.apply(name, option, value),
        )
    }

    /// Sets `option` (the core's name; `name` is the face's, for messages) to a checked value.
    pub(crate) fn apply(&mut self, name: &str, option: &str, value: Checked) -> Result<(), Error> {
        let (c, o) = (&mut self.credentials, &mut self.options);
        match (option, value) {
            ("client_id", Checked::Text(v)) => c.client_id = options::field(name, v)?,
            ("client_secret", Checked::Text(v)) => {
                c.client_secret = Secret::new(options::field(name, v)?)
            }
            ("refresh_token", Checked::Text(v)) => {
                c.refresh_token = Some(Secret::new(options::field(name, v)?))
            }
            ("scope", Checked::Text(v)) => c.scope = Some(options::field(name, v)?),
            ("redirect_uri", Checked::Text(v)) => c.redirect_uri = Some(options::field(name, v)?),
            ("refresh_fraction", Checked::Fraction(v)) => o.refresh_fraction = v,
            ("min_window", Checked::Duration(v)) => o.min_window = v,
            ("jitter", Checked::Fraction(v)) => o.jitter = v,
            ("default_lifetime", Checked::Duration(v)) => o.default_lifetime = v,
            ("lease_wait", Checked::Duration(v)) => o.lease_wait = v,
            ("lease_ttl", Checked::Duration(v)) if v < MIN_LEASE_TTL => {
                return Err(Error::invalid_input(format!(
                    "{name} must be at least 100 ms"
                )))
            }
            ("lease_ttl", Checked::Duration(v)) => o.lease_ttl = v,
            ("refresh_without_store", Checked::Bool(v)) => o.refresh_without_store = v,
            (option, _) => return Err(options::mismatch(option)),
        }
        Ok(())
    }

    /// `invalid_input` unless the client ID and secret are there.
    pub(crate) fn check_credentials(&self) -> Result<(), Error> {
        if self.credentials.client_id.is_empty() {
            return Err(Error::invalid_input("the client ID is required"));
        }
        if self.credentials.client_secret.expose().is_empty() {
            return Err(Error::invalid_input("the client secret is required"));
        }
        Ok(())
    }

    /// The manager, after checking that the credentials are there and the options in range.
    pub fn build(
        self,
        client: Arc<Client>,
        store: Arc<dyn TokenStore>,
    ) -> Result<TokenManager, Error> {
        self.check_credentials()?;
        TokenManager::new(client, self.credentials, store).with_options(self.options)
    }
}

/// The shortest lease: a live holder renews it every third of its TTL.
const MIN_LEASE_TTL: Duration = Duration::from_millis(100);

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ManagerStats {
    /// Refreshes this manager performed successfully.
    pub refreshes: u64,
    /// Tokens taken over from the store because another process refreshed first.
    pub adoptions: u64,
    /// Refreshes that failed.
    pub failures: u64,
}

type Hook = Arc<dyn Fn(&Token) + Send + Sync>;

/// The current token with the moment it should be refreshed.
#[derive(Clone)]
struct Entry {
    token: Token,
    refresh_at: SystemTime,
    /// False once invalidated: not even served while a refresh runs.
    usable: bool,
    /// The refresh token this one replaced, while the store does not hold it yet (its write
    /// failed): the next refresh puts it there first, so that no one refreshes with the old.
    unstored_from: Option<String>,
}

/// One refresh in progress in this process. Callers that need its outcome wait on it and
/// share it, success or failure: nobody sends the same refresh token again behind it.
#[derive(Default)]
struct Flight {
    outcome: Mutex<Option<Result<Token, Error>>>,
    done: Condvar,
}

impl Flight {
    fn wait(&self) -> Result<Token, Error> {
        let mut outcome = lock(&self.outcome);
        loop {
            if let Some(result) = outcome.as_ref() {
                return result.clone();
            }
            outcome = self.done.wait(outcome).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn finish(&self, result: &Result<Token, Error>) {
        *lock(&self.outcome) = Some(result.clone());
        self.done.notify_all();
    }
}

/// A refresh token that must not be sent again on its own, and the error that said so: the
/// last refresh whose outcome was unknown, or the last one the server refused.
struct Unknown {
    refresh_token: Secret,
    error: Error,
}

impl Entry {
    /// Usable and not yet expired: worth serving when a refresh cannot happen now.
    fn still_valid(&self) -> bool {
        self.usable && !self.token.is_expired(Duration::ZERO)
    }
}

/// Owns one account's token: serves it while fresh, refreshes it once when not, stores
/// each new token before handing it out, and recovers when another process refreshed first.
pub struct TokenManager {
    client: Arc<Client>,
    credentials: Credentials,
    store: Arc<dyn TokenStore>,
    options: ManagerOptions,
    current: ArcSwapOption<Entry>,
    flight: Mutex<Option<Arc<Flight>>>,
    unknown: Mutex<Option<Unknown>>,
    /// The refresh token an `invalid_grant` refused, with that error: never sent again.
    refused: Mutex<Option<Unknown>>,
    on_refresh: Option<Hook>,
    refreshes: AtomicU64,
    adoptions: AtomicU64,
    failures: AtomicU64,
    /// The account this manager serves in an [`AccountTokens`](crate::AccountTokens), for
    /// its messages.
    pub(crate) account: Option<String>,
}

/// When a held token is due, for a scheduler.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub refresh_at: SystemTime,
    pub expires_at: Option<SystemTime>,
    pub obtained_at: Option<SystemTime>,
}

impl TokenManager {
    /// A manager over `store`: [`MemoryStore`] for one process, [`FileStore`](crate::FileStore)
    /// for the processes of one host, `RedisStore` (feature `redis`) for many hosts.
    pub fn new(client: Arc<Client>, credentials: Credentials, store: Arc<dyn TokenStore>) -> Self {
        TokenManager {
            client,
            credentials,
            store,
            options: ManagerOptions::default(),
            current: ArcSwapOption::empty(),
            flight: Mutex::new(None),
            unknown: Mutex::new(None),
            refused: Mutex::new(None),
            on_refresh: None,
            refreshes: AtomicU64::new(0),
            adoptions: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            account: None,
        }
    }

    /// A manager keeping the token in memory.
    pub fn in_memory(client: Arc<Client>, credentials: Credentials) -> Self {
        TokenManager::new(client, credentials, Arc::new(MemoryStore::new()))
    }

    /// Replaces the refresh timing options; `invalid_input` if one is out of range.
    pub fn with_options(mut self, options: ManagerOptions) -> Result<Self, Error> {
        options.validate()?;
        self.options = options;
        Ok(self)
    }

    /// Called with every new token, after it was stored or when storing it failed (so a
    /// token is never silently dropped). For users who persist tokens elsewhere too.
    pub fn on_refresh(mut self, hook: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Arc::new(hook));
        self
    }

    /// A valid access token, refreshing first if needed.
    pub fn access_token(&self) -> Result<String, Error> {
        match self.fresh_access_token() {
            Some(access_token) => Ok(access_token),
            None => self.refresh_slow(None).map(|t| t.access_token().to_owned()),
        }
    }

    /// The current token, refreshing first if needed.
    pub fn token(&self) -> Result<Token, Error> {
        match self.fresh(Token::clone) {
            Some(token) => Ok(token),
            None => self.refresh_slow(None),
        }
    }

    /// When the held token is due (`None`: no token held yet).
    pub(crate) fn schedule(&self) -> Option<Schedule> {
        let current = self.current.load();
        let entry = current.as_ref()?;
        let expires_at = entry.token.expires_at();
        let lifetime = entry.token.expires_in().map(Duration::from_secs);
        Some(Schedule {
            refresh_at: entry.refresh_at,
            expires_at,
            obtained_at: expires_at
                .zip(lifetime)
                .and_then(|(at, life)| at.checked_sub(life)),
        })
    }

    /// Refreshes ahead of callers: unless the held token is newer than the one due at
    /// `seen` (its `refresh_at`), or another refresher holds the lease (then its token is
    /// adopted later). Never waits for another flight or the lease.
    /// Also says whether this call led the flight.
    pub(crate) fn refresh_ahead(&self, seen: SystemTime) -> (Result<Token, Error>, bool) {
        self.flight(Some(seen))
    }

    /// [`token`](Self::token), and whether this call led a refresh (`false` for a cache hit
    /// or an outcome shared with a refresh already under way).
    pub(crate) fn token_led(&self) -> (Result<Token, Error>, bool) {
        match self.fresh(Token::clone) {
            Some(token) => (Ok(token), false),
            None => self.flight(None),
        }
    }

    /// The access token if the one held needs no refresh yet; `None` otherwise. Never
    /// blocks and never sends: a binding serves a cache hit with it before handing the
    /// call to a thread that may wait.
    pub fn fresh_access_token(&self) -> Option<String> {
        self.fresh(|t| t.access_token().to_owned())
    }

    /// `f` of the held token while it needs no refresh. Takes no lock and no reference
    /// count, and copies only what `f` does.
    pub(crate) fn fresh<T>(&self, f: impl FnOnce(&Token) -> T) -> Option<T> {
        let current = self.current.load();
        let entry = current.as_ref()?;
        (SystemTime::now() < entry.refresh_at).then(|| f(&entry.token))
    }

    /// After a refresh whose outcome was unknown (a timeout after sending, a 5xx, a broken
    /// answer), the manager does not send that refresh token again on its own unless the
    /// client's policy forgives it ([`RetryPolicy::retry_unknown_outcome`](crate::RetryPolicy)):
    /// a server that rotates tokens may revoke the whole grant on reuse. Every call fails at
    /// once with that error instead. This allows the next call to send it once more.
    pub fn allow_resend(&self) {
        *lock(&self.unknown) = None;
    }

    /// Marks the current token as stale (for example after the API answered 401): the next
    /// call refreshes.
    pub fn invalidate(&self) {
        if let Some(entry) = self.current.load_full() {
            self.current.store(Some(Arc::new(Entry {
                refresh_at: SystemTime::UNIX_EPOCH,
                usable: false,
                ..(*entry).clone()
            })));
        }
    }

    /// Loads the stored token if none is held yet (one read, no lease), so that it can be
    /// scheduled.
    pub(crate) fn preload(&self) -> Result<(), Error> {
        if self.current.load().is_none() {
            if let Some(stored) = self.store.load()? {
                self.adopt(stored);
            }
        }
        Ok(())
    }

    /// Whether it holds a token with an access token that is due now (a grant just added
    /// holds none; one not loaded yet is not held).
    pub(crate) fn holds_due_access_token(&self) -> bool {
        let current = self.current.load();
        current.as_ref().is_some_and(|e| {
            !e.token.access_token().is_empty() && SystemTime::now() >= e.refresh_at
        })
    }

    /// The refresh token of the held token, if any.
    pub(crate) fn held_refresh_token(&self) -> Option<String> {
        let current = self.current.load();
        current.as_ref()?.token.refresh_token().map(str::to_owned)
    }

    /// Counters since the manager was created.
    pub fn stats(&self) -> ManagerStats {
        ManagerStats {
            refreshes: self.refreshes.load(Ordering::Relaxed),
            adoptions: self.adoptions.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    fn entry(&self, token: Token) -> Entry {
        let refresh_at = match token.expires_at() {
            Some(expires_at) => {
                let lifetime = Duration::from_secs(token.expires_in().unwrap_or(0));
                let window = lifetime
                    .mul_f64(self.options.refresh_fraction)
                    .max(self.options.min_window);
                let window = window + window.mul_f64(self.options.jitter * fastrand::f64());
                expires_at
                    .checked_sub(window)
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            }
            None if token.access_token().is_empty() => SystemTime::UNIX_EPOCH,
            None => SystemTime::now() + self.options.default_lifetime,
        };
        let usable = !token.access_token().is_empty();
        Entry {
            token,
            refresh_at,
            usable,
            unstored_from: None,
        }
    }

    fn adopt(&self, token: Token) -> Arc<Entry> {
        let entry = Arc::new(self.entry(token));
        self.current.store(Some(entry.clone()));
        entry
    }

    /// Takes `token`, which the store does not hold yet: it replaced `used`.
    fn adopt_unstored(&self, token: Token, used: &str) {
        self.current.store(Some(Arc::new(Entry {
            unstored_from: Some(used.to_owned()),
            ..self.entry(token)
        })));
    }

    /// The current entry, now known to be in the store.
    fn mark_stored(&self, entry: &Entry) {
        self.current.store(Some(Arc::new(Entry {
            unstored_from: None,
            ..entry.clone()
        })));
    }

    /// `ahead`: a scheduler's refresh of the token due at that time (see `refresh_ahead`);
    /// `None`: a caller's, of a token due now.
    fn refresh_slow(&self, ahead: Option<SystemTime>) -> Result<Token, Error> {
        self.flight(ahead).0
    }

    /// [`refresh_slow`](Self::refresh_slow), and whether this call led the flight (its
    /// outcome is this call's own, not shared with a refresh already under way).
    fn flight(&self, ahead: Option<SystemTime>) -> (Result<Token, Error>, bool) {
        // Single flight in this process: one caller refreshes; the others keep the current
        // token while it has not actually expired, and otherwise share the refresh's outcome.
        let (flight, leader) = {
            let mut slot = lock(&self.flight);
            match slot.as_ref() {
                Some(flight) => (flight.clone(), false),
                None => {
                    let flight = Arc::new(Flight::default());
                    *slot = Some(flight.clone());
                    (flight, true)
                }
            }
        };
        if !leader {
            if let Some(entry) = self.current.load_full().filter(|e| e.still_valid()) {
                return (Ok(entry.token.clone()), false);
            }
            return (flight.wait(), false);
        }
        // The last line of defence: a bug must not leave the waiters hanging, nor unwind
        // into a binding. If it struck mid-refresh, the outcome is unknown.
        let result = catch_panic(|| true, || self.refresh_led(ahead));
        flight.finish(&result);
        *lock(&self.flight) = None;
        (result, true)
    }

    /// The refresh this caller leads: coordinate with other processes, then refresh.
    fn refresh_led(&self, ahead: Option<SystemTime>) -> Result<Token, Error> {
        // Due means: refresh_at not later than this.
        let due = ahead.unwrap_or_else(SystemTime::now);
        let mut current = self.current.load_full();
        if current.is_none() {
            // First use: a fresh stored token needs no lease (one read, no write).
            if let Ok(Some(stored)) = self.store.load() {
                current = Some(self.adopt(stored));
            }
        }
        if let Some(entry) = &current {
            if due < entry.refresh_at {
                return Ok(entry.token.clone()); // another flight refreshed just before
            }
        }
        // Across processes: one refresher holds the lease. A caller whose token is still
        // valid does not wait for it; the others wait, then adopt what it stored.
        let valid = current.filter(|e| e.still_valid());
        let (lease, stored) = match self.coordinate(valid.is_none()) {
            Ok(Some(coordinated)) => coordinated,
            Ok(None) => {
                return match valid {
                    Some(entry) => Ok(entry.token.clone()),
                    None => Err(Error::new(
                        ErrorCode::Timeout,
                        RefreshTokenState::Unused,
                        "another refresher held the lease longer than lease_wait",
                    )),
                }
            }
            Err(err) => return self.without_store(err),
        };
        let base = match stored {
            Some(stored) => {
                let known = self.current.load_full();
                let ours = known.as_ref().and_then(|e| e.token.refresh_token());
                if ours != stored.refresh_token() {
                    // Another refresher (or process start-up) put a token we do not have.
                    if ours.is_some() {
                        self.adoptions.fetch_add(1, Ordering::Relaxed);
                    }
                    let entry = self.adopt(stored.clone());
                    if due < entry.refresh_at {
                        return Ok(entry.token.clone());
                    }
                }
                // What the store holds is stale (or was invalidated): refresh it.
                stored
            }
            None => {
                let seed = self.credentials.refresh_token.clone().ok_or_else(|| {
                    Error::invalid_input(match &self.account {
                        Some(account) => {
                            format!("no grant is stored for account {account:?}: add it first")
                        }
                        None => {
                            "the store is empty and no initial refresh token was given".to_owned()
                        }
                    })
                })?;
                let token = Token::from_refresh_token(seed);
                self.store.compare_and_swap(None, &token)?;
                token
            }
        };
        self.refresh_from(&base, Some(lease))
    }

    /// Takes the lease and reads the store, first putting back our token if the store lost
    /// it (Redis restarted empty) or never got it (a write failed).
    /// `None`: another refresher holds the lease (and `wait` was false, or `lease_wait` ran
    /// out).
    fn coordinate(&self, wait: bool) -> Result<Option<Leased>, Error> {
        let wait = if wait {
            self.options.lease_wait
        } else {
            Duration::ZERO
        };
        let Some((lease, mut stored)) = self.store.lease_and_load(self.options.lease_ttl, wait)?
        else {
            return Ok(None);
        };
        if let Some(entry) = self.current.load_full() {
            let stored_rt = stored.as_ref().and_then(Token::refresh_token);
            let behind = match &stored {
                None => entry.token.refresh_token().is_some(),
                Some(_) => {
                    entry.unstored_from.is_some() && stored_rt == entry.unstored_from.as_deref()
                }
            };
            if behind {
                if self.store.compare_and_swap(stored_rt, &entry.token)? {
                    self.mark_stored(&entry);
                    stored = Some(entry.token.clone());
                } else {
                    stored = self.store.load()?;
                }
            }
        }
        Ok(Some((lease, stored)))
    }

    /// The store failed before anything was sent: serve the current token while it works,
    /// refresh uncoordinated only if the caller opted in, and report the failure otherwise.
    fn without_store(&self, err: Error) -> Result<Token, Error> {
        let current = self.current.load_full();
        if let Some(entry) = current.as_ref().filter(|e| e.still_valid()) {
            return Ok(entry.token.clone());
        }
        match current {
            Some(entry)
                if self.options.refresh_without_store
                    && err.code() == ErrorCode::StoreUnavailable
                    && entry.token.refresh_token().is_some() =>
            {
                self.refresh_from(&entry.token, None)
            }
            _ => Err(err),
        }
    }

    /// Refreshes with `base`'s refresh token and keeps the result.
    /// `lease`: the store's lease, when coordinated (released with the new token's write).
    fn refresh_from(&self, base: &Token, lease: Option<Box<dyn Lease>>) -> Result<Token, Error> {
        let coordinated = lease.is_some();
        let used = base.refresh_token().ok_or_else(|| {
            Error::invalid_input("the stored token has no refresh token to refresh with")
        })?;
        if let Some(unknown) = lock(&self.unknown)
            .as_ref()
            .filter(|u| u.refresh_token.expose() == used)
        {
            return Err(unknown.error.not_resent());
        }
        if let Some(refused) = lock(&self.refused)
            .as_ref()
            .filter(|u| u.refresh_token.expose() == used)
        {
            return Err(refused.error.clone());
        }
        let mut request = RefreshTokenRequest::new(
            self.credentials.client_id.clone(),
            self.credentials.client_secret.clone(),
            used,
        );
        request.scope = self.credentials.scope.clone();
        request.redirect_uri = self.credentials.redirect_uri.clone();

        match self.client.refresh(&request) {
            Ok(token) => {
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                self.keep(used, token, lease)
            }
            Err(err) if err.code() == ErrorCode::InvalidGrant && coordinated => {
                // Someone may have refreshed with this token already and stored the result.
                match self.store.load()? {
                    Some(stored) if stored.refresh_token() != Some(used) => {
                        self.adoptions.fetch_add(1, Ordering::Relaxed);
                        Ok(self.adopt(stored).token.clone())
                    }
                    _ => {
                        // The server refused it and nobody stored another: sending it again
                        // could only be refused again.
                        self.failures.fetch_add(1, Ordering::Relaxed);
                        *lock(&self.refused) = Some(Unknown {
                            refresh_token: Secret::new(used),
                            error: err.clone(),
                        });
                        Err(err)
                    }
                }
            }
            Err(err) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if err.refresh_token_state() == RefreshTokenState::Unknown
                    && err.salvaged_refresh_token().is_none()
                    && !self.client.resends_unknown_outcome()
                {
                    *lock(&self.unknown) = Some(Unknown {
                        refresh_token: Secret::new(used),
                        error: err.clone(),
                    });
                }
                if let Some(salvaged) = err.salvaged_refresh_token() {
                    // The server rotated inside a broken answer: keep the new refresh token
                    // (with no usable access token), so the next call refreshes with it.
                    let placeholder = Token::from_refresh_token(Secret::new(salvaged));
                    match self.store.compare_and_swap(Some(used), &placeholder) {
                        Ok(true) => drop(self.adopt(placeholder)),
                        _ => self.adopt_unstored(placeholder, used),
                    }
                }
                Err(err)
            }
        }
    }

    /// Stores a new token, then hands it out; a failed store still hands it to the hook.
    /// Uncoordinated (the caller opted in), a failed store is not an error: the token is
    /// stored at the next refresh.
    fn keep(
        &self,
        used: &str,
        token: Token,
        lease: Option<Box<dyn Lease>>,
    ) -> Result<Token, Error> {
        let coordinated = lease.is_some();
        // Store first: until then no caller, in this process or another, may use it.
        let stored = match lease {
            Some(lease) => self
                .store
                .compare_and_swap_releasing(lease, Some(used), &token),
            None => self.store.compare_and_swap(Some(used), &token),
        };
        match stored {
            Ok(true) => drop(self.adopt(token.clone())),
            Ok(false) => {
                // Someone else stored a successor of `used` (our lease ran out mid-refresh).
                // Every other host uses theirs, so ours is dropped rather than split them.
                if let Ok(Some(theirs)) = self.store.load() {
                    self.adoptions.fetch_add(1, Ordering::Relaxed);
                    return Ok(self.adopt(theirs).token.clone());
                }
                self.adopt_unstored(token.clone(), used);
            }
            Err(_) => self.adopt_unstored(token.clone(), used),
        }
        if let Some(hook) = &self.on_refresh {
            hook(&token);
        }
        match stored {
            Err(err) if coordinated => Err(store_error(format!(
                "the new token could not be stored: {}",
                err.message()
            ))
            .with_token(token)),
            _ => Ok(token),
        }
    }
}
