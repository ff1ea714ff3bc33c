//! What the server remembers: refresh-token families, access tokens, per-scope counters.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, Once};

use serde_json::{json, Value};

use crate::journal::Journal;
use crate::proxy::ProxyLog;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Live,
    /// Lazy mode: refreshed once, still usable until a child access token is used.
    Pending,
    Consumed,
}

struct RefreshToken {
    family: u64,
    status: Status,
}

struct AccessToken {
    family: u64,
    parent: Option<String>,
}

/// Per-scope counters and the last request's non-secret headers, for assertions.
#[derive(Default, Clone)]
pub struct ScopeStats {
    pub token_requests: u64,
    pub me_requests: u64,
    /// Token requests being handled now, and the most at once: shows client concurrency
    /// without timing anything.
    pub in_flight: u64,
    pub max_in_flight: u64,
    pub last: HashMap<&'static str, String>,
}

#[derive(Default)]
struct Inner {
    refresh: HashMap<String, RefreshToken>,
    access: HashMap<String, AccessToken>,
    revoked: HashSet<u64>,
    /// The newest refresh token of each family: the one the server considers current.
    current: HashMap<u64, String>,
    /// Successful refreshes of each family, to show one refresh per account per window.
    refreshes: HashMap<u64, u64>,
    scopes: HashMap<String, ScopeStats>,
    next_id: u64,
}

pub struct State {
    /// TCP connections accepted, to show that clients keep them alive.
    pub connections: AtomicU64,
    /// Every secret seen or issued, when `TOKEN_SERVER_JOURNAL` asks for it.
    pub journal: Journal,
    /// The fixed tokens of `fast` mode go into the journal once, not once per request.
    pub fast_journaled: Once,
    /// What reached the CONNECT proxies.
    pub proxy: ProxyLog,
    inner: Mutex<Inner>,
    random: RandomState,
}

/// Why a refresh was refused.
pub enum Refusal {
    Unknown,
    Reused,
    Revoked,
}

pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl State {
    pub fn new() -> State {
        State {
            connections: AtomicU64::new(0),
            journal: Journal::from_env(),
            fast_journaled: Once::new(),
            proxy: ProxyLog::default(),
            inner: Mutex::new(Inner::default()),
            random: RandomState::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking handler must not wedge every later test.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_token(&self, inner: &mut Inner, prefix: &str) -> String {
        inner.next_id += 1;
        let noise = self.random.hash_one(inner.next_id);
        format!("{prefix}-{}-{noise:016x}", inner.next_id)
    }

    /// Counts a token request and returns how many came before it in this scope. The
    /// request is in flight until `finish_token_request`.
    pub fn count_token_request(&self, scope: &str, last: Vec<(&'static str, String)>) -> u64 {
        let mut inner = self.lock();
        let stats = inner.scopes.entry(scope.to_owned()).or_default();
        stats.token_requests += 1;
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        stats.last.extend(last);
        stats.token_requests - 1
    }

    pub fn finish_token_request(&self, scope: &str) {
        let mut inner = self.lock();
        if let Some(stats) = inner.scopes.get_mut(scope) {
            stats.in_flight = stats.in_flight.saturating_sub(1);
        }
    }

    /// Records a non-secret fact about the last request of a scope.
    pub fn note(&self, scope: &str, key: &'static str, value: &str) {
        let mut inner = self.lock();
        let stats = inner.scopes.entry(scope.to_owned()).or_default();
        stats.last.insert(key, value.to_owned());
    }

    pub fn stats(&self, scope: &str) -> Value {
        let inner = self.lock();
        let stats = inner.scopes.get(scope).cloned().unwrap_or_default();
        json!({
            "token_requests": stats.token_requests,
            "me_requests": stats.me_requests,
            "max_in_flight": stats.max_in_flight,
            "last": stats.last,
            "connections": self.connections.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The refresh token the server considers current for the family of `token`.
    pub fn current_refresh_token(&self, token: &str) -> Option<String> {
        let inner = self.lock();
        let family = inner.refresh.get(token)?.family;
        if inner.revoked.contains(&family) {
            return None;
        }
        inner.current.get(&family).cloned()
    }

    /// How many times the family of `token` was refreshed (with rotation).
    pub fn family_refreshes(&self, token: &str) -> Option<u64> {
        let inner = self.lock();
        let family = inner.refresh.get(token)?.family;
        Some(inner.refreshes.get(&family).copied().unwrap_or(0))
    }

    /// Exchanges a refresh token. Unknown tokens starting with `seed-` start a new family,
    /// so every test can invent its own without an extra round trip.
    pub fn refresh(
        &self,
        token: &str,
        family_mode: bool,
        lazy: bool,
        rotate: bool,
    ) -> Result<Issued, Refusal> {
        let issued = self.rotate(token, family_mode, lazy, rotate)?;
        self.journal_issued(&issued);
        Ok(issued)
    }

    /// The state change of [`State::refresh`], under the lock (the journal is written after).
    fn rotate(
        &self,
        token: &str,
        family_mode: bool,
        lazy: bool,
        rotate: bool,
    ) -> Result<Issued, Refusal> {
        let mut inner = self.lock();
        if !inner.refresh.contains_key(token) {
            if !token.starts_with("seed-") {
                return Err(Refusal::Unknown);
            }
            inner.next_id += 1;
            let family = inner.next_id;
            inner.refresh.insert(
                token.to_owned(),
                RefreshToken {
                    family,
                    status: Status::Live,
                },
            );
            inner.current.insert(family, token.to_owned());
        }
        let rt = &inner.refresh[token];
        let (family, status) = (rt.family, rt.status);
        if inner.revoked.contains(&family) {
            return Err(Refusal::Revoked);
        }
        if status == Status::Consumed {
            if family_mode {
                inner.revoked.insert(family);
            }
            return Err(Refusal::Reused);
        }
        let access_token = self.new_token(&mut inner, "at");
        inner.access.insert(
            access_token.clone(),
            AccessToken {
                family,
                parent: Some(token.to_owned()),
            },
        );
        if !rotate {
            return Ok(Issued {
                access_token,
                refresh_token: None,
            });
        }
        let refresh_token = self.new_token(&mut inner, "rt");
        inner
            .refresh
            .get_mut(token)
            .expect("looked up above")
            .status = if lazy {
            Status::Pending
        } else {
            Status::Consumed
        };
        inner.refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                family,
                status: Status::Live,
            },
        );
        inner.current.insert(family, refresh_token.clone());
        *inner.refreshes.entry(family).or_default() += 1;
        Ok(Issued {
            access_token,
            refresh_token: Some(refresh_token),
        })
    }

    pub fn system_access(&self) -> Issued {
        let issued = self.new_system_access();
        self.journal_issued(&issued);
        issued
    }

    fn new_system_access(&self) -> Issued {
        let mut inner = self.lock();
        inner.next_id += 1;
        let family = inner.next_id;
        let access_token = self.new_token(&mut inner, "sat");
        inner.access.insert(
            access_token.clone(),
            AccessToken {
                family,
                parent: None,
            },
        );
        Issued {
            access_token,
            refresh_token: None,
        }
    }

    fn journal_issued(&self, issued: &Issued) {
        self.journal.record(&issued.access_token);
        if let Some(rt) = &issued.refresh_token {
            self.journal.record(rt);
        }
    }

    /// How many `/v1/me` requests a scope has seen so far.
    pub fn me_requests(&self, scope: &str) -> u64 {
        self.lock().scopes.get(scope).map_or(0, |s| s.me_requests)
    }

    /// Uses an access token (`GET .../v1/me`). In lazy mode this is what finally
    /// revokes the refresh token it was issued for.
    pub fn use_access_token(&self, scope: &str, token: &str) -> bool {
        let mut inner = self.lock();
        inner
            .scopes
            .entry(scope.to_owned())
            .or_default()
            .me_requests += 1;
        let Some(at) = inner.access.get(token) else {
            return false;
        };
        let (family, parent) = (at.family, at.parent.clone());
        if inner.revoked.contains(&family) {
            return false;
        }
        if let Some(rt) = parent.and_then(|p| inner.refresh.get_mut(&p)) {
            if rt.status == Status::Pending {
                rt.status = Status::Consumed;
            }
        }
        true
    }
}
