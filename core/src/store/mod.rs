//! Where a [`TokenManager`](crate::TokenManager) keeps the current token, and how processes
//! sharing it take turns refreshing.
//!
//! Two primitives, nothing file-specific, so a networked store (Redis, a database) can
//! implement them too: a compare-and-swap keyed on the refresh token that was used, and a
//! lease that one refresher holds at a time.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::lock::lock;
use crate::seal::{unseal, EncryptionKey};
use crate::token::Token;

mod file;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod renewer;

pub use file::{account_file_name, FileStore};
pub use options::StoreOptions;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, SCHEMA as POSTGRES_SCHEMA};
#[cfg(feature = "redis")]
pub use redis::RedisStore;

/// The lease on refreshing; released when dropped.
pub trait Lease: Send {
    /// Who holds it, for a store that releases it in the same round trip as a write
    /// ([`TokenStore::compare_and_swap_releasing`]); `None` for stores that do not.
    fn owner(&self) -> Option<&str> {
        None
    }

    /// The store released it already: dropping it must not release it again.
    fn released(&mut self) {}
}

/// A place to keep one account's token, shared by everyone who refreshes it.
pub trait TokenStore: Send + Sync {
    /// The stored token, if any.
    fn load(&self) -> Result<Option<Token>, Error>;

    /// Stores `new` if the stored token's refresh token is still `expected` (`None`: if the
    /// store is empty). Returns whether it stored: `false` means someone else changed it.
    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error>;

    /// [`compare_and_swap`](Self::compare_and_swap), then releases `lease`. A networked store
    /// overrides it to do both in one round trip.
    fn compare_and_swap_releasing(
        &self,
        lease: Box<dyn Lease>,
        expected: Option<&str>,
        new: &Token,
    ) -> Result<bool, Error> {
        let stored = self.compare_and_swap(expected, new);
        drop(lease);
        stored
    }

    /// Waits up to `wait` for the refresh lease. `ttl` bounds how long a holder that died
    /// keeps it (stores whose locks die with their holder may ignore it). `None`: not
    /// acquired in time.
    fn lease(&self, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error>;

    /// [`lease`](Self::lease), then [`load`](Self::load). A networked store overrides it to
    /// do both in one round trip.
    fn lease_and_load(&self, ttl: Duration, wait: Duration) -> Result<Option<Leased>, Error> {
        match self.lease(ttl, wait)? {
            Some(lease) => Ok(Some((lease, self.load()?))),
            None => Ok(None),
        }
    }
}

/// A place to keep the tokens of many accounts, for [`AccountTokens`](crate::AccountTokens):
/// each account's part is a [`TokenStore`] with the same guarantees.
pub trait AccountStore: Send + Sync {
    /// The store of `account` (an account id the caller checked is not empty).
    fn account(&self, account: &str) -> Result<Arc<dyn TokenStore>, Error>;

    /// Every account that has a stored token, sorted.
    fn accounts(&self) -> Result<Vec<String>, Error>;

    /// Deletes `account`'s token; whether there was one.
    fn remove(&self, account: &str) -> Result<bool, Error>;
}

/// A lease with the token stored when it was taken.
pub type Leased = (Box<dyn Lease>, Option<Token>);

pub(crate) fn store_error(message: String) -> Error {
    Error::new(ErrorCode::StoreFailed, RefreshTokenState::Unused, message)
}

/// The token in a stored record, opened with `key` when there is one (`context`: what it was
/// sealed for). `place` names where it was read, for the error.
pub(crate) fn token_from_record(
    key: Option<&EncryptionKey>,
    record: &str,
    context: &[u8],
    place: &dyn std::fmt::Display,
) -> Result<Token, Error> {
    let json = unseal(key, record, context)?;
    Token::from_stored_json(json.expose())
        .ok_or_else(|| store_error(format!("{place} does not hold a stored token")))
}

/// What the networked stores compare instead of a refresh token: its SHA-256 (empty for none).
/// Refresh tokens are long random secrets, so their hash reveals nothing, and a record stays
/// useless to a reader of an encrypted store.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn fingerprint(refresh_token: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    refresh_token.map_or_else(String::new, |rt| hex(&Sha256::digest(rt.as_bytes())))
}

/// A new lease owner, `pid:random`: unique to this attempt, and naming the process for
/// operators (and tests that kill the holder).
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn lease_owner() -> Result<String, Error> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce)
        .map_err(|e| store_error(format!("no randomness for a lease owner: {e}")))?;
    Ok(format!("{}:{}", std::process::id(), hex(&nonce)))
}

/// Calls `attempt` until it takes the lease (`Some`), polling with backoff (2 ms doubling to
/// 50 ms: a refresh takes milliseconds to seconds) for up to `wait`; `None` if it never did.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn poll_lease<T>(
    wait: Duration,
    mut attempt: impl FnMut() -> Result<Option<T>, Error>,
) -> Result<Option<T>, Error> {
    let deadline = Instant::now() + wait.min(crate::limits::MAX_DURATION);
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(taken) = attempt()? {
            return Ok(Some(taken));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Lowercase hex, for random names and fingerprints.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn refresh_token_of(token: Option<&Token>) -> Option<&str> {
    token.and_then(Token::refresh_token)
}

/// Keeps the token in this process only (the default); given to
/// [`AccountTokens`](crate::AccountTokens), every account's token.
#[derive(Default)]
pub struct MemoryStore {
    token: Mutex<Option<Token>>,
    /// Whether the lease is held: managers sharing this store take turns.
    leased: Arc<(Mutex<bool>, Condvar)>,
    accounts: Mutex<HashMap<String, Arc<MemoryStore>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        Ok(lock(&self.token).clone())
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        let mut token = lock(&self.token);
        if refresh_token_of(token.as_ref()) != expected {
            return Ok(false);
        }
        *token = Some(new.clone());
        Ok(true)
    }

    fn lease(&self, _ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        // A holder in this process cannot die without the process: no TTL is needed.
        let (held, released) = &*self.leased;
        let deadline = Instant::now() + wait.min(crate::limits::MAX_DURATION);
        let mut held_now = lock(held);
        while *held_now {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            held_now = released
                .wait_timeout(held_now, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *held_now = true;
        Ok(Some(Box::new(MemoryLease(self.leased.clone()))))
    }
}

impl AccountStore for MemoryStore {
    fn account(&self, account: &str) -> Result<Arc<dyn TokenStore>, Error> {
        let mut accounts = lock(&self.accounts);
        Ok(accounts.entry(account.to_owned()).or_default().clone())
    }

    fn accounts(&self) -> Result<Vec<String>, Error> {
        let accounts = lock(&self.accounts);
        let mut held: Vec<String> = accounts
            .iter()
            .filter(|(_, store)| lock(&store.token).is_some())
            .map(|(account, _)| account.clone())
            .collect();
        held.sort_unstable();
        Ok(held)
    }

    fn remove(&self, account: &str) -> Result<bool, Error> {
        // The account's store stays (a manager may hold it); only its token goes.
        let store = lock(&self.accounts).get(account).cloned();
        Ok(store.is_some_and(|s| lock(&s.token).take().is_some()))
    }
}

struct MemoryLease(Arc<(Mutex<bool>, Condvar)>);

impl Lease for MemoryLease {}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        let (held, released) = &*self.0;
        *lock(held) = false;
        released.notify_one();
    }
}
