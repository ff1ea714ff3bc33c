//! Where a [`TokenManager`](crate::TokenManager) keeps the current token, and how processes
//! sharing it take turns refreshing.
//!
//! Two primitives, nothing file-specific, so a networked store (Redis, a database) can
//! implement them too: a compare-and-swap keyed on the refresh token that was used, and a
//! lease that one refresher holds at a time.

use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::seal::{unseal, EncryptionKey};
use crate::token::Token;

mod file;
mod options;
#[cfg(feature = "redis")]
mod redis;

pub use file::FileStore;
pub use options::StoreOptions;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

/// The lease on refreshing; released when dropped.
pub trait Lease: Send {}

/// A place to keep one account's token, shared by everyone who refreshes it.
pub trait TokenStore: Send + Sync {
    /// The stored token, if any.
    fn load(&self) -> Result<Option<Token>, Error>;

    /// Stores `new` if the stored token's refresh token is still `expected` (`None`: if the
    /// store is empty). Returns whether it stored: `false` means someone else changed it.
    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error>;

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

/// Lowercase hex, for random names and fingerprints.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn refresh_token_of(token: Option<&Token>) -> Option<&str> {
    token.and_then(Token::refresh_token)
}

/// Keeps the token in this process only (the default).
#[derive(Default)]
pub struct MemoryStore {
    token: Mutex<Option<Token>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<Token>, Error> {
        Ok(self.token.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn compare_and_swap(&self, expected: Option<&str>, new: &Token) -> Result<bool, Error> {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if refresh_token_of(token.as_ref()) != expected {
            return Ok(false);
        }
        *token = Some(new.clone());
        Ok(true)
    }

    fn lease(&self, _ttl: Duration, _wait: Duration) -> Result<Option<Box<dyn Lease>>, Error> {
        // One process: the manager's own single-flight already serializes refreshes.
        Ok(Some(Box::new(NoLease)))
    }
}

struct NoLease;

impl Lease for NoLease {}
