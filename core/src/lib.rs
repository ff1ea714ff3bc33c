//! Refresh OAuth 2.0 tokens (RFC 6749 §6, and Gusto's rotating `/oauth/token`) without
//! losing a rotated refresh token, burning one twice, or guessing after a failure.
//!
//! ```no_run
//! use oauth_refresh::{Client, RefreshTokenRequest};
//!
//! let client = Client::new("https://auth.example.com/token")?;
//! let token = client.refresh(&RefreshTokenRequest::new("id", "secret", "refresh-token"))?;
//! // Store the new refresh token before using the access token.
//! let next = token.refresh_token();
//! # Ok::<(), oauth_refresh::Error>(())
//! ```
//!
//! Every failure is an [`Error`] whose [`RefreshTokenState`] says whether the refresh
//! token that was sent is still good.

mod accounts;
mod classify;
#[cfg(test)]
mod classify_props;
mod client;
mod cork;
mod encode;
mod error;
pub mod limits;
mod lock;
mod manager;
pub mod options;
mod proxy;
mod redact;
mod request;
mod resolve;
mod seal;
mod secret;
mod store;
mod tcp;
mod time;
mod token;
mod wire;
// For the Python and Node bindings' asynchronous calls; not part of the crate's API.
#[doc(hidden)]
pub mod workers;

pub use accounts::{
    AccountEvent, AccountOptions, AccountStats, AccountTokens, AccountsConfig, EventKind, Health,
    HealthStatus, MAX_ACCOUNT_LEN,
};
pub use client::{Client, ClientAuth, ClientBuilder, ClientOptions, GustoEnvironment, RetryPolicy};
pub use encode::BodyEncoding;
pub use error::{Error, ErrorCode, Field, RefreshTokenState};
pub use manager::{Credentials, ManagerConfig, ManagerOptions, ManagerStats, TokenManager};
pub use request::{RefreshGrantType, RefreshTokenRequest, SystemAccessTokenRequest};
pub use seal::EncryptionKey;
pub use secret::Secret;
#[cfg(feature = "redis")]
pub use store::RedisStore;
pub use store::{
    account_file_name, AccountStore, FileStore, Lease, Leased, MemoryStore, StoreOptions,
    TokenStore,
};
#[cfg(feature = "postgres")]
pub use store::{PostgresStore, POSTGRES_SCHEMA};
pub use token::Token;
