//! Tokens for many accounts under one client: one object, one store, one connection pool,
//! a cache with a bound, optional refresh ahead, and health per account.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::error::{catch_panic, Error, ErrorCode};
use crate::lock::lock;
use crate::manager::{Credentials, ManagerOptions, TokenManager};
use crate::secret::Secret;
use crate::store::{AccountStore, TokenStore};
use crate::token::Token;

mod config;
mod health;
mod scheduler;

pub use config::{AccountOptions, AccountsConfig};
pub use health::{AccountEvent, EventKind, Health, HealthStatus};

use health::Book;
use scheduler::Scheduler;

/// The longest account id (bytes): ids go into store keys and file names.
pub const MAX_ACCOUNT_LEN: usize = 256;

type EventHook = Arc<dyn Fn(&AccountEvent) + Send + Sync>;

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountStats {
    /// Accounts held in memory now.
    pub cached: u64,
    /// Refreshes this process performed successfully (callers' and refresh-ahead's).
    pub refreshes: u64,
    /// Of those, the ones refresh-ahead performed.
    pub refreshed_ahead: u64,
    /// Tokens taken over from the store because another process refreshed first.
    pub adoptions: u64,
    /// Refreshes that failed.
    pub failures: u64,
    /// Calls that found their account's token due and so waited on a refresh (or its
    /// failure). With refresh-ahead keeping up, this stays 0.
    pub waits: u64,
    /// Accounts dropped from memory to keep within `max_cached_accounts`.
    pub evictions: u64,
}

/// Valid access tokens for many accounts of one token endpoint and one client: a Gusto
/// partner's companies, a SaaS's connected tenants.
///
/// Each account has the guarantees of a [`TokenManager`] (the new token stored before use,
/// one refresh at a time per account in this process and, through the store's lease,
/// across processes and hosts; a token another process refreshed first is adopted). A
/// cached token is served without a lock. Accounts load lazily from the store, which
/// stays the source of truth; at most `max_cached_accounts` stay in memory.
///
/// Dropping it stops refresh-ahead (waiting for refreshes in flight to finish).
pub struct AccountTokens {
    shared: Arc<Shared>,
    scheduler: Option<Scheduler>,
}

/// What the callers and the refresh-ahead threads share.
pub(crate) struct Shared {
    client: Arc<Client>,
    credentials: Credentials,
    options: ManagerOptions,
    limits: AccountOptions,
    store: Arc<dyn AccountStore>,
    slots: papaya::HashMap<String, Arc<Slot>>,
    book: Mutex<Book>,
    on_event: Mutex<Option<EventHook>>,
    /// A server's Retry-After: no refresh-ahead request before then.
    pause_until: Mutex<Option<Instant>>,
    started: Instant,
    refreshed_ahead: AtomicU64,
    adoptions: AtomicU64,
    refreshes: AtomicU64,
    failures: AtomicU64,
    waits: AtomicU64,
    evictions: AtomicU64,
}

/// One account in memory.
pub(crate) struct Slot {
    manager: TokenManager,
    store: Arc<dyn TokenStore>,
    /// Milliseconds since `Shared::started` of the last call, for eviction.
    last_used: AtomicU64,
    /// Refresh-ahead has it in hand.
    scheduled: AtomicBool,
    /// Refresh-ahead tries it again no earlier than this, after a failure.
    retry_at: Mutex<Option<Instant>>,
}

/// `invalid_input` unless `account` is a usable id: 1 to 256 bytes, no NUL.
pub(crate) fn check_account(account: &str) -> Result<(), Error> {
    if account.is_empty() || account.len() > MAX_ACCOUNT_LEN || account.contains('\0') {
        return Err(Error::invalid_input(format!(
            "an account id must be 1 to {MAX_ACCOUNT_LEN} bytes, without NUL"
        )));
    }
    Ok(())
}

impl AccountTokens {
    /// Accounts refreshed by `client` with `config`, kept in `store` ([`MemoryStore`](crate::MemoryStore)
    /// for one process, [`FileStore`](crate::FileStore) over a directory for one host,
    /// `RedisStore::for_accounts` for many hosts). Starts refresh-ahead if the config asks.
    pub fn new(
        client: Arc<Client>,
        config: AccountsConfig,
        store: Arc<dyn AccountStore>,
    ) -> Result<Self, Error> {
        config.build(client, store)
    }

    pub(crate) fn start(
        client: Arc<Client>,
        config: AccountsConfig,
        store: Arc<dyn AccountStore>,
    ) -> Self {
        let mut credentials = config.manager.credentials;
        credentials.refresh_token = None;
        let shared = Arc::new(Shared {
            client,
            credentials,
            options: config.manager.options,
            limits: config.accounts,
            store,
            slots: papaya::HashMap::new(),
            book: Mutex::new(Book::default()),
            on_event: Mutex::new(None),
            pause_until: Mutex::new(None),
            started: Instant::now(),
            refreshed_ahead: AtomicU64::new(0),
            adoptions: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        });
        let scheduler = shared
            .limits
            .refresh_ahead
            .then(|| Scheduler::start(&shared));
        AccountTokens { shared, scheduler }
    }

    /// Calls `hook` with every event (refreshed, failed, needs_reauthorization, recovered),
    /// on the thread that saw it: keep it short. Replaces an earlier hook.
    pub fn on_event(&self, hook: impl Fn(&AccountEvent) + Send + Sync + 'static) {
        *lock(&self.shared.on_event) = Some(Arc::new(hook));
    }

    /// A valid access token for `account`, refreshing first if needed.
    pub fn access_token(&self, account: &str) -> Result<String, Error> {
        if let Some(hit) = self.shared.fresh(account, |t| t.access_token().to_owned()) {
            return Ok(hit);
        }
        self.shared
            .token_slow(account)
            .map(|t| t.access_token().to_owned())
    }

    /// `account`'s current token, refreshing first if needed.
    pub fn token(&self, account: &str) -> Result<Token, Error> {
        if let Some(hit) = self.shared.fresh(account, Token::clone) {
            return Ok(hit);
        }
        self.shared.token_slow(account)
    }

    /// `account`'s cached token if it needs no refresh; `None` otherwise. Never blocks and
    /// never sends.
    pub fn fresh_token(&self, account: &str) -> Option<Token> {
        self.shared.fresh(account, Token::clone)
    }

    /// The access token if `account`'s cached one needs no refresh; `None` otherwise.
    /// Never blocks and never sends (a binding serves a hit with it before handing the
    /// call to a thread).
    pub fn fresh_access_token(&self, account: &str) -> Option<String> {
        self.shared.fresh(account, |t| t.access_token().to_owned())
    }

    /// Marks `account`'s token as stale (after the API answered 401): its next call
    /// refreshes.
    pub fn invalidate(&self, account: &str) {
        if let Some(slot) = self.shared.slots.pin().get(account) {
            slot.manager.invalidate();
        }
    }

    /// After an unknown outcome, allows `account`'s refresh token to be sent once more (see
    /// [`TokenManager::allow_resend`]).
    pub fn allow_resend(&self, account: &str) {
        if let Some(slot) = self.shared.slots.pin().get(account) {
            slot.manager.allow_resend();
        }
    }

    /// Stores a new grant for `account` (from an authorization-code exchange, or Gusto's
    /// partner-managed-company call), replacing what was stored; it is refreshed when first
    /// used. A grant that needed reauthorization works again.
    pub fn add(&self, account: &str, refresh_token: impl Into<Secret>) -> Result<(), Error> {
        let refresh_token: Secret = refresh_token.into();
        if refresh_token.expose().is_empty() {
            return Err(Error::invalid_input("the refresh token is empty"));
        }
        self.add_token(account, Token::from_refresh_token(refresh_token))
    }

    /// Stores `token` (with its access token, used until due) for `account`, replacing what
    /// was stored. `invalid_input` when it has no refresh token.
    pub fn add_token(&self, account: &str, token: Token) -> Result<(), Error> {
        check_account(account)?;
        if token.refresh_token().is_none_or(str::is_empty) {
            return Err(Error::invalid_input("a grant needs a refresh token"));
        }
        let shared = &self.shared;
        let store = shared.store.account(account)?;
        // Under the lease, so no refresher of the old grant overwrites the new one.
        let Some(lease) = store.lease(shared.options.lease_ttl, shared.options.lease_wait)? else {
            return Err(Error::new(
                ErrorCode::Timeout,
                crate::RefreshTokenState::Unused,
                "another refresher held the account's lease longer than lease_wait",
            ));
        };
        let mut stored = false;
        for _ in 0..8 {
            let current = store.load()?;
            let expected = current.as_ref().and_then(Token::refresh_token);
            if store.compare_and_swap(expected, &token)? {
                stored = true;
                break;
            }
        }
        drop(lease);
        if !stored {
            return Err(crate::store::store_error(format!(
                "the grant of account {account:?} kept changing while it was added"
            )));
        }
        // A new manager holds what was added, so refresh-ahead sees it at once.
        if let Some(slot) = shared.slots.pin().remove(account) {
            shared.forget(slot);
        }
        lock(&shared.book).readded(account);
        shared.slot(account)?.manager.preload()
    }

    /// Deletes `account`'s grant from the store and from memory; whether there was one.
    pub fn remove(&self, account: &str) -> Result<bool, Error> {
        check_account(account)?;
        let removed = self.shared.store.remove(account)?;
        if let Some(slot) = self.shared.slots.pin().remove(account) {
            self.shared.forget(slot);
        }
        lock(&self.shared.book).sick.remove(account);
        Ok(removed)
    }

    /// Every account the store holds a grant for, sorted.
    pub fn accounts(&self) -> Result<Vec<String>, Error> {
        self.shared.store.accounts()
    }

    /// How `account`'s grant is doing in this process.
    pub fn health(&self, account: &str) -> Health {
        lock(&self.shared.book).health(account)
    }

    /// Every account whose grant is not `Ok`, sorted by account.
    pub fn unhealthy(&self) -> Vec<(String, Health)> {
        let book = lock(&self.shared.book);
        let mut sick: Vec<(String, Health)> = book
            .sick
            .iter()
            .map(|(account, s)| (account.clone(), s.health.clone()))
            .collect();
        sick.sort_by(|a, b| a.0.cmp(&b.0));
        sick
    }

    /// Counters since creation.
    pub fn stats(&self) -> AccountStats {
        let s = &self.shared;
        let slots = s.slots.pin();
        let adopted: u64 = slots
            .iter()
            .map(|(_, slot)| slot.manager.stats().adoptions)
            .sum();
        AccountStats {
            cached: slots.len() as u64,
            refreshes: s.refreshes.load(Ordering::Relaxed),
            refreshed_ahead: s.refreshed_ahead.load(Ordering::Relaxed),
            adoptions: s.adoptions.load(Ordering::Relaxed) + adopted,
            failures: s.failures.load(Ordering::Relaxed),
            waits: s.waits.load(Ordering::Relaxed),
            evictions: s.evictions.load(Ordering::Relaxed),
        }
    }
}

impl Drop for AccountTokens {
    fn drop(&mut self) {
        if let Some(scheduler) = self.scheduler.take() {
            scheduler.stop();
        }
    }
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// `f` of `account`'s cached token while it needs no refresh: no lock, no request.
    fn fresh<T>(&self, account: &str, f: impl FnOnce(&Token) -> T) -> Option<T> {
        let slots = self.slots.pin();
        let slot = slots.get(account)?;
        let now = self.now_ms();
        // Written only when it changed, so readers on many cores do not fight over it.
        if slot.last_used.load(Ordering::Relaxed) != now {
            slot.last_used.store(now, Ordering::Relaxed);
        }
        slot.manager.fresh(f)
    }

    /// A caller's refresh of `account` (its token was due or not cached).
    fn token_slow(self: &Arc<Self>, account: &str) -> Result<Token, Error> {
        let slot = self.slot(account)?;
        slot.last_used.store(self.now_ms(), Ordering::Relaxed);
        if let Some(token) = slot.manager.fresh(Token::clone) {
            return Ok(token);
        }
        if slot.manager.holds_due_access_token() {
            self.waits.fetch_add(1, Ordering::Relaxed);
        }
        // A refused grant costs no request until a new one is stored.
        if lock(&self.book).refused(account) {
            let stored = slot.store.load()?;
            let stored_rt = stored.as_ref().and_then(Token::refresh_token);
            if let Some(err) = lock(&self.book).refusal(account, stored_rt) {
                return Err(err);
            }
        }
        let (result, led) = slot.manager.token_led();
        if result.is_err() && slot.manager.held_refresh_token().is_none() {
            // No grant is stored: keep no slot for an account that does not exist.
            self.slots.pin().remove(account);
        }
        // A shared outcome is the leader's to record (once, not once per caller).
        if led {
            self.record(account, &slot, &result);
        }
        result
    }

    /// `account`'s slot, loading it on first use.
    pub(crate) fn slot(self: &Arc<Self>, account: &str) -> Result<Arc<Slot>, Error> {
        if let Some(slot) = self.slots.pin().get(account) {
            return Ok(slot.clone());
        }
        check_account(account)?;
        let store = self.store.account(account)?;
        let mut manager =
            TokenManager::new(self.client.clone(), self.credentials.clone(), store.clone())
                .with_options(self.options.clone())?
                .on_refresh(hook_for(self, account));
        manager.account = Some(account.to_owned());
        let slot = Arc::new(Slot {
            manager,
            store,
            last_used: AtomicU64::new(self.now_ms()),
            scheduled: AtomicBool::new(false),
            retry_at: Mutex::new(None),
        });
        let slot = self
            .slots
            .pin()
            .get_or_insert(account.to_owned(), slot)
            .clone();
        if self.slots.len() > self.limits.max_cached_accounts as usize {
            self.evict();
        }
        Ok(slot)
    }

    /// Drops the idlest eighth of the cache (at least one account), never one refreshing.
    fn evict(&self) {
        let slots = self.slots.pin();
        let bound = self.limits.max_cached_accounts as usize;
        let excess = slots.len().saturating_sub(bound);
        if excess == 0 {
            return;
        }
        let mut idle: Vec<(u64, &String)> = slots
            .iter()
            .filter(|(_, slot)| !slot.scheduled.load(Ordering::Relaxed))
            .map(|(account, slot)| (slot.last_used.load(Ordering::Relaxed), account))
            .collect();
        let drop_count = (excess + bound / 8).max(1).min(idle.len());
        if drop_count == 0 {
            return; // every account is being refreshed ahead: try again on the next insert
        }
        idle.select_nth_unstable_by_key(drop_count - 1, |(used, _)| *used);
        for (_, account) in &idle[..drop_count] {
            if let Some(slot) = slots.remove(*account) {
                self.forget(slot);
            }
        }
        self.evictions
            .fetch_add(drop_count as u64, Ordering::Relaxed);
    }

    /// Keeps the counters of a slot leaving memory.
    fn forget(&self, slot: &Slot) {
        let adopted = slot.manager.stats().adoptions;
        self.adoptions.fetch_add(adopted, Ordering::Relaxed);
    }

    /// Counts a refresh's outcome, updates the account's health and reports the event.
    fn record(&self, account: &str, slot: &Slot, result: &Result<Token, Error>) {
        let event = match result {
            Ok(_) => lock(&self.book).succeeded(account),
            Err(err) if err.code() == ErrorCode::InvalidInput => None,
            Err(err) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if let Some(wait) = err.retry_after() {
                    // The server asked the whole client to slow down, not one account.
                    let until = Instant::now() + wait.min(Duration::from_secs(3600));
                    let mut pause = lock(&self.pause_until);
                    *pause = Some(pause.map_or(until, |p| p.max(until)));
                }
                let refused = (err.code() == ErrorCode::InvalidGrant)
                    .then(|| slot.manager.held_refresh_token())
                    .flatten();
                lock(&self.book).failed(account, err, refused)
            }
        };
        if let Some(event) = event {
            self.report(&event);
        }
    }

    fn report(&self, event: &AccountEvent) {
        let hook = lock(&self.on_event).clone();
        if let Some(hook) = hook {
            // A hook that panics must not take a refresh down with it.
            let _ = catch_panic(
                || false,
                || {
                    hook(event);
                    Ok(())
                },
            );
        }
    }

    /// A refresh this process performed (the manager's hook).
    fn refreshed(&self, account: &str) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        self.report(&AccountEvent {
            kind: EventKind::Refreshed,
            account: account.to_owned(),
            code: None,
            refresh_token_state: None,
            attempts: 0,
        });
    }
}

/// Gives each manager a hook that counts and reports its refreshes.
pub(crate) fn hook_for(shared: &Arc<Shared>, account: &str) -> impl Fn(&Token) + Send + Sync {
    let (shared, account): (Weak<Shared>, String) = (Arc::downgrade(shared), account.to_owned());
    move |_token: &Token| {
        if let Some(shared) = shared.upgrade() {
            shared.refreshed(&account);
        }
    }
}
