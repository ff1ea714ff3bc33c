//! How each account's grant is doing, and the events that tell a service when it changes.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::error::{Error, ErrorCode, RefreshTokenState};
use crate::secret::Secret;

/// Where an account's grant stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthStatus {
    /// Its last refresh (if any) in this process succeeded.
    Ok,
    /// Its last refresh failed in a way that may pass (server down, timeout, rate limit,
    /// unknown outcome): refreshing goes on.
    Failing,
    /// The server refused the grant (`invalid_grant`) and no other process had a newer one:
    /// a person must authorize again. Refresh-ahead stops trying it, and callers get the
    /// error without a request until a new grant is added (here or by another process).
    NeedsReauthorization,
}

impl HealthStatus {
    /// `ok`, `failing`, `needs_reauthorization`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "ok",
            HealthStatus::Failing => "failing",
            HealthStatus::NeedsReauthorization => "needs_reauthorization",
        }
    }
}

/// An account's health: never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// Where the grant stands.
    pub status: HealthStatus,
    /// The last failure's code (not `Ok`).
    pub code: Option<ErrorCode>,
    /// The last failure's refresh-token state (not `Ok`).
    pub refresh_token_state: Option<RefreshTokenState>,
    /// When it stopped being `Ok`.
    pub since: Option<SystemTime>,
    /// Failed refreshes since then.
    pub attempts: u32,
}

impl Health {
    /// A grant whose last refresh succeeded, or that was not refreshed yet.
    pub const OK: Health = Health {
        status: HealthStatus::Ok,
        code: None,
        refresh_token_state: None,
        since: None,
        attempts: 0,
    };
}

/// What happened to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// This process refreshed its token (and stored it, or tried to: see `code`).
    Refreshed,
    /// A refresh failed; refreshing goes on.
    Failed,
    /// The grant needs a person to authorize again: reported once.
    NeedsReauthorization,
    /// A failing grant works again.
    Recovered,
}

impl EventKind {
    /// `refreshed`, `failed`, `needs_reauthorization`, `recovered`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Refreshed => "refreshed",
            EventKind::Failed => "failed",
            EventKind::NeedsReauthorization => "needs_reauthorization",
            EventKind::Recovered => "recovered",
        }
    }
}

/// One event, for the hook given to [`AccountTokens::on_event`](super::AccountTokens::on_event).
/// Carries the account id, never a token or a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountEvent {
    /// What happened.
    pub kind: EventKind,
    /// To which account.
    pub account: String,
    /// The failure's code (`Failed`, `NeedsReauthorization`).
    pub code: Option<ErrorCode>,
    /// The failure's refresh-token state (`Failed`, `NeedsReauthorization`).
    pub refresh_token_state: Option<RefreshTokenState>,
    /// The account's failed refreshes in a row (`Failed`, `NeedsReauthorization`).
    pub attempts: u32,
}

/// A grant that is not `Ok`.
pub(crate) struct Sick {
    pub health: Health,
    /// `NeedsReauthorization`: the refresh token the server refused and its error, so a
    /// caller gets that error without a request while the store still holds that token.
    pub refused: Option<(Secret, Error)>,
}

/// Every account that is not `Ok` (the others have no entry: the book stays small).
#[derive(Default)]
pub(crate) struct Book {
    pub sick: HashMap<String, Sick>,
}

impl Book {
    pub fn health(&self, account: &str) -> Health {
        self.sick
            .get(account)
            .map_or(Health::OK, |s| s.health.clone())
    }

    /// A success: the event to report, if the grant was not `Ok`.
    pub fn succeeded(&mut self, account: &str) -> Option<AccountEvent> {
        self.sick.remove(account).map(|_| AccountEvent {
            kind: EventKind::Recovered,
            account: account.to_owned(),
            code: None,
            refresh_token_state: None,
            attempts: 0,
        })
    }

    /// A failure: the event to report (`None` for one already reported as needing
    /// reauthorization). `refused`: the refresh token an `invalid_grant` refused.
    pub fn failed(
        &mut self,
        account: &str,
        err: &Error,
        refused: Option<String>,
    ) -> Option<AccountEvent> {
        let needs = err.code() == ErrorCode::InvalidGrant;
        if needs && refused.is_some() && self.refusal(account, refused.as_deref()).is_some() {
            // The manager repeating, without a request, the refusal already recorded for this
            // very refresh token (a refresh-ahead job dispatched before it): not an attempt.
            return None;
        }
        let sick = self.sick.entry(account.to_owned()).or_insert_with(|| Sick {
            health: Health {
                since: Some(SystemTime::now()),
                ..Health::OK
            },
            refused: None,
        });
        let already = sick.health.status == HealthStatus::NeedsReauthorization;
        sick.health.attempts = sick.health.attempts.saturating_add(1);
        sick.health.code = Some(err.code());
        sick.health.refresh_token_state = Some(err.refresh_token_state());
        let kind = if needs {
            sick.health.status = HealthStatus::NeedsReauthorization;
            sick.refused = refused.map(|rt| (Secret::new(rt), err.clone()));
            EventKind::NeedsReauthorization
        } else {
            if !already {
                sick.health.status = HealthStatus::Failing;
            }
            EventKind::Failed
        };
        (!(needs && already)).then(|| AccountEvent {
            kind,
            account: account.to_owned(),
            code: Some(err.code()),
            refresh_token_state: Some(err.refresh_token_state()),
            attempts: sick.health.attempts,
        })
    }

    /// The error to answer with, without a request, while the store holds `stored` (the
    /// refresh token a server refused).
    pub fn refusal(&self, account: &str, stored: Option<&str>) -> Option<Error> {
        let (refused, err) = self.sick.get(account)?.refused.as_ref()?;
        (Some(refused.expose()) == stored).then(|| err.clone())
    }

    /// Whether refresh-ahead should leave the account alone: its grant was refused and
    /// no new one was added since.
    pub fn refused(&self, account: &str) -> bool {
        self.sick.get(account).is_some_and(|s| s.refused.is_some())
    }

    /// A new grant was added: the refused one no longer stops anyone.
    pub fn readded(&mut self, account: &str) {
        if let Some(sick) = self.sick.get_mut(account) {
            sick.refused = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RefreshTokenState;

    fn invalid_grant() -> Error {
        Error::new(
            ErrorCode::InvalidGrant,
            RefreshTokenState::Rejected,
            "refused",
        )
    }

    #[test]
    fn a_refusal_counts_once_per_refused_refresh_token() {
        let mut book = Book::default();
        let first = book.failed("a", &invalid_grant(), Some("rt-1".to_owned()));
        assert_eq!(first.map(|e| e.attempts), Some(1));
        // The same refusal repeated (no request was sent): no event, no attempt.
        assert!(book
            .failed("a", &invalid_grant(), Some("rt-1".to_owned()))
            .is_none());
        assert_eq!(book.health("a").attempts, 1);
        // A new grant refused in turn is another attempt (reported once already: no event).
        book.readded("a");
        assert!(book
            .failed("a", &invalid_grant(), Some("rt-2".to_owned()))
            .is_none());
        assert_eq!(book.health("a").attempts, 2);
        assert_eq!(book.health("a").status, HealthStatus::NeedsReauthorization);
    }
}
