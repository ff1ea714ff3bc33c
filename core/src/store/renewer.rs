//! Keeps leases alive: one thread renews every lease this process holds, each every third
//! of its TTL, so a live refresher never loses its lease however slow the server is, and one
//! that died loses it within one TTL.
//!
//! One thread for all leases (not one per lease): taking a lease costs no thread start. The
//! thread exits once no lease has been held for a second, so a process that forks after a
//! burst of refreshes holds no stray thread; a forked child that takes a lease starts its own.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::Lease;

/// Renews one lease; failures are the store's to ignore (its TTL is the safety net).
pub(crate) type Renew = Arc<dyn Fn() + Send + Sync>;

/// How long the thread waits, idle, before it exits.
const IDLE: Duration = Duration::from_secs(1);

struct Held {
    renew: Renew,
    every: Duration,
    next: Instant,
}

#[derive(Default)]
struct Registry {
    held: HashMap<u64, Held>,
    next_id: u64,
    /// The process whose thread is running, if one is.
    running_in: Option<u32>,
}

#[derive(Default)]
struct Renewer {
    registry: Mutex<Registry>,
    changed: Condvar,
}

static RENEWER: LazyLock<Renewer> = LazyLock::new(Renewer::default);

fn lock() -> MutexGuard<'static, Registry> {
    RENEWER.registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// A lease being renewed; dropping it stops the renewals (a renewal already under way may
/// still finish: the store's renew is a no-op once the lease is not the holder's).
struct Renewing(u64);

impl Drop for Renewing {
    fn drop(&mut self) {
        lock().held.remove(&self.0);
    }
}

/// Calls `renew` every third of `ttl` until the returned guard is dropped.
fn renew_every_third(ttl: Duration, renew: Renew) -> Renewing {
    let every = (ttl / 3).max(Duration::from_millis(1));
    let mut registry = lock();
    let id = registry.next_id;
    registry.next_id += 1;
    registry.held.insert(
        id,
        Held {
            renew,
            every,
            next: Instant::now() + every,
        },
    );
    let pid = std::process::id();
    if registry.running_in != Some(pid) {
        let started = std::thread::Builder::new()
            .name("oauth-refresh-lease".into())
            .spawn(run);
        if started.is_ok() {
            registry.running_in = Some(pid);
        }
    }
    drop(registry);
    RENEWER.changed.notify_one();
    Renewing(id)
}

fn run() {
    let mut registry = lock();
    loop {
        let now = Instant::now();
        let due: Vec<Renew> = registry
            .held
            .values_mut()
            .filter(|h| h.next <= now)
            .map(|h| {
                h.next = now + h.every;
                h.renew.clone()
            })
            .collect();
        if !due.is_empty() {
            drop(registry);
            for renew in due {
                renew();
            }
            registry = lock();
            continue;
        }
        let wait = registry
            .held
            .values()
            .map(|h| h.next.saturating_duration_since(now))
            .min();
        let idle = wait.is_none();
        let (guard, timeout) = RENEWER
            .changed
            .wait_timeout(registry, wait.unwrap_or(IDLE))
            .unwrap_or_else(|e| e.into_inner());
        registry = guard;
        if idle && timeout.timed_out() && registry.held.is_empty() {
            registry.running_in = None;
            return;
        }
    }
}

/// A lease held in a shared store (Redis, PostgreSQL): renewed every third of its TTL until
/// dropped, then released, unless the store's write released it already.
pub(crate) struct RenewedLease {
    owner: String,
    /// Stopped before the release, so no renewal follows it.
    renewing: Option<Renewing>,
    /// `None` once the store released it with the token's write.
    release: Option<Box<dyn FnOnce() + Send>>,
}

impl RenewedLease {
    /// `release` is best effort: if the store is unreachable, the lease's expiry frees it.
    pub(crate) fn new(
        owner: String,
        ttl: Duration,
        renew: Renew,
        release: impl FnOnce() + Send + 'static,
    ) -> Self {
        RenewedLease {
            owner,
            renewing: Some(renew_every_third(ttl, renew)),
            release: Some(Box::new(release)),
        }
    }
}

impl Lease for RenewedLease {
    fn owner(&self) -> Option<&str> {
        Some(&self.owner)
    }

    fn released(&mut self) {
        self.release = None;
    }
}

impl Drop for RenewedLease {
    fn drop(&mut self) {
        drop(self.renewing.take());
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::renew_every_third;

    #[test]
    fn a_lease_is_renewed_while_held_and_not_after() {
        let count = Arc::new(AtomicU32::new(0));
        let seen = count.clone();
        let held = renew_every_third(
            Duration::from_millis(60),
            Arc::new(move || {
                seen.fetch_add(1, Ordering::Relaxed);
            }),
        );
        std::thread::sleep(Duration::from_millis(200));
        drop(held);
        let renewed = count.load(Ordering::Relaxed);
        assert!(renewed >= 3, "renewed {renewed} times in 10 periods");
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            count.load(Ordering::Relaxed) <= renewed + 1,
            "not after the drop"
        );
    }
}
