//! What an [`AccountTokens`](super::AccountTokens) is built from, as data: the manager's
//! credentials and timing (shared by every account) and the options of many accounts.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::error::Error;
use crate::limits::checked_duration;
use crate::manager::{option, ManagerConfig};
use crate::options::{self, Checked, Face, Kind, OptionInfo, Value};
use crate::store::AccountStore;

use super::AccountTokens;

/// How many accounts, how far ahead, and how fast.
#[derive(Clone, Debug)]
pub struct AccountOptions {
    /// Accounts kept in memory at most (default 10,000); the idlest are dropped beyond it
    /// and loaded again from the store when asked for.
    pub max_cached_accounts: u32,
    /// Refresh every account before it is due, on a background thread, so that callers
    /// never wait (default false).
    pub refresh_ahead: bool,
    /// Refresh-ahead refreshes in flight at once, at most (default 4).
    pub max_concurrent_refreshes: u32,
    /// Refresh-ahead requests per minute to the token endpoint, at most (default 0: no
    /// limit; Gusto allows 200 per minute per application and user).
    pub requests_per_minute: u32,
    /// Refresh-ahead also refreshes a grant this long after it was issued, however long its
    /// access token lives, for servers that expire unused refresh tokens (default: never).
    pub keep_alive: Option<Duration>,
}

impl Default for AccountOptions {
    fn default() -> Self {
        AccountOptions {
            max_cached_accounts: 10_000,
            refresh_ahead: false,
            max_concurrent_refreshes: 4,
            requests_per_minute: 0,
            keep_alive: None,
        }
    }
}

/// Everything an [`AccountTokens`] is built from besides its client and store: the
/// bindings fill it through [`AccountsConfig::set`], as they do `ManagerConfig`.
#[derive(Clone, Debug, Default)]
pub struct AccountsConfig {
    /// The client credentials and timing every account shares (its `refresh_token` is not
    /// used: each account's grant is in the store).
    pub manager: ManagerConfig,
    /// How many accounts, how far ahead, and how fast.
    pub accounts: AccountOptions,
}

impl AccountsConfig {
    /// Every option a face can set, in the order the docs list them.
    pub const OPTIONS: &'static [OptionInfo] = &[
        option::CLIENT_ID,
        option::CLIENT_SECRET,
        option::SCOPE,
        option::REDIRECT_URI,
        option::REFRESH_FRACTION,
        option::MIN_WINDOW,
        option::JITTER,
        option::DEFAULT_LIFETIME,
        option::LEASE_WAIT,
        option::LEASE_TTL,
        option::REFRESH_WITHOUT_STORE,
        OptionInfo::new("max_cached_accounts", Kind::Count, "Accounts kept in memory at most (default 10000; at least 1): the idlest are dropped beyond it and loaded again from the store."),
        OptionInfo::new("refresh_ahead", Kind::Bool, "Refresh every account before it is due, on a background thread, so that callers never wait (default false)."),
        OptionInfo::new("max_concurrent_refreshes", Kind::Count, "Refresh-ahead refreshes in flight at once, at most (default 4; at least 1)."),
        OptionInfo::new("requests_per_minute", Kind::Count, "Refresh-ahead requests per minute to the token endpoint, at most (default 0: no limit)."),
        OptionInfo::new("keep_alive", Kind::Duration, "Refresh-ahead also refreshes a grant this long after it was issued, for servers that expire unused refresh tokens (default 0: never)."),
    ];

    /// Sets the option `name`, as `face` spells it (see [`ClientOptions::set`](crate::ClientOptions::set)).
    pub fn set(&mut self, face: Face, name: &str, value: Value) -> Result<(), Error> {
        let (manager, a) = (&mut self.manager, &mut self.accounts);
        options::set(
            Self::OPTIONS,
            "AccountTokens",
            face,
            name,
            value,
            None,
            |option, value| {
                match (option, value) {
                    ("max_cached_accounts", Checked::Count(v)) => {
                        a.max_cached_accounts = at_least_one(name, v)?
                    }
                    ("refresh_ahead", Checked::Bool(v)) => a.refresh_ahead = v,
                    ("max_concurrent_refreshes", Checked::Count(v)) => {
                        a.max_concurrent_refreshes = at_least_one(name, v)?
                    }
                    ("requests_per_minute", Checked::Count(v)) => a.requests_per_minute = v,
                    ("keep_alive", Checked::Duration(v)) => {
                        a.keep_alive = (!v.is_zero()).then_some(v)
                    }
                    (option, value) => return manager.apply(name, option, value),
                }
                Ok(())
            },
        )
    }

    /// The accounts' manager, after checking the credentials and every option's range.
    pub fn build(
        self,
        client: Arc<Client>,
        store: Arc<dyn AccountStore>,
    ) -> Result<AccountTokens, Error> {
        self.manager.check_credentials()?;
        self.manager.options.validate()?;
        let a = &self.accounts;
        at_least_one("max_cached_accounts", a.max_cached_accounts)?;
        at_least_one("max_concurrent_refreshes", a.max_concurrent_refreshes)?;
        if let Some(keep_alive) = a.keep_alive {
            checked_duration("keep_alive", keep_alive)?;
        }
        Ok(AccountTokens::start(client, self, store))
    }
}

fn at_least_one(name: &str, value: u32) -> Result<u32, Error> {
    if value == 0 {
        return Err(Error::invalid_input(format!("{name} must be at least 1")));
    }
    Ok(value)
}
