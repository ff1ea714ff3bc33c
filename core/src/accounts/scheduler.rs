//! Refresh ahead: a background thread that refreshes every account before callers find it
//! due, earliest expiry first, within a cap on concurrent refreshes and a request budget,
//! pausing the whole endpoint when the server asks (Retry-After).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::{Shared, Slot};
use crate::lock::lock;

/// How often the scheduler looks for due accounts.
const TICK: Duration = Duration::from_millis(50);
/// How often it lists the store for accounts this process has not loaded.
const RESCAN: Duration = Duration::from_secs(30);
/// The longest pause after a failed refresh of one account.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub(crate) struct Scheduler {
    stop: Sender<()>,
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Scheduler {
    pub fn start(shared: &Arc<Shared>) -> Scheduler {
        let (stop, stopped) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let (shared, flag) = (Arc::downgrade(shared), stopping.clone());
        let thread = std::thread::Builder::new()
            .name("oauth-refresh-ahead".into())
            .spawn(move || run(&shared, &stopped, &flag))
            .expect("a thread for refresh-ahead");
        Scheduler {
            stop,
            stopping,
            thread,
        }
    }

    /// Stops it, waiting for the refreshes in flight.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::Relaxed);
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// A refresh handed to a worker: the account, its slot, and the `refresh_at` it was due by.
type Job = (Arc<Shared>, String, Arc<Slot>, SystemTime);

fn run(shared: &Weak<Shared>, stopped: &Receiver<()>, stopping: &AtomicBool) {
    let Some(limits) = shared.upgrade().map(|s| s.limits.clone()) else {
        return;
    };
    let workers = Workers::start(limits.max_concurrent_refreshes as usize);
    let mut budget = Budget::new(limits.requests_per_minute);
    let mut next_scan = Instant::now();
    loop {
        if let Some(shared) = shared.upgrade() {
            if Instant::now() >= next_scan {
                scan(&shared);
                next_scan = Instant::now() + RESCAN;
            }
            tick(&shared, &workers, &mut budget, stopping);
        }
        match stopped.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    workers.finish();
}

/// Loads the accounts the store holds that this process has not (up to the cache bound),
/// and notices grants another process re-added.
fn scan(shared: &Arc<Shared>) {
    let Ok(accounts) = shared.store.accounts() else {
        return; // the store is down: the next scan tries again
    };
    let bound = shared.limits.max_cached_accounts as usize;
    for account in accounts {
        let cached = shared.slots.pin().contains_key(&account);
        if !cached && shared.slots.len() >= bound {
            break;
        }
        if let Ok(slot) = shared.slot(&account) {
            let _ = slot.manager.preload();
            if lock(&shared.book).refused(&account) {
                if let Ok(stored) = slot.store.load() {
                    let stored_rt = stored.as_ref().and_then(|t| t.refresh_token());
                    let mut book = lock(&shared.book);
                    if book.refusal(&account, stored_rt).is_none() {
                        book.readded(&account);
                    }
                }
            }
        }
    }
}

fn paused(shared: &Shared) -> bool {
    lock(&shared.pause_until).is_some_and(|until| Instant::now() < until)
}

/// Hands the due accounts, earliest first, to the workers as each frees up, while the
/// budget allows and no Retry-After pauses the endpoint.
fn tick(shared: &Arc<Shared>, workers: &Workers, budget: &mut Budget, stopping: &AtomicBool) {
    workers.drain();
    let now = Instant::now();
    if paused(shared) {
        return;
    }
    let wall = SystemTime::now();
    let keep_alive = shared.limits.keep_alive;
    let mut due: Vec<(SystemTime, String, Arc<Slot>)> = {
        let book = lock(&shared.book);
        let slots = shared.slots.pin();
        slots
            .iter()
            .filter(|(account, slot)| {
                !slot.scheduled.load(Ordering::Relaxed)
                    && !book.refused(account)
                    && lock(&slot.retry_at).is_none_or(|at| now >= at)
            })
            .filter_map(|(account, slot)| {
                let s = slot.manager.schedule()?;
                // Callers find a token due at `refresh_at`: refresh it one window earlier.
                let window = s
                    .expires_at
                    .and_then(|e| e.duration_since(s.refresh_at).ok());
                let mut at = match window {
                    Some(window) => s.refresh_at.checked_sub(window).unwrap_or(s.refresh_at),
                    None => s.refresh_at,
                };
                if let (Some(keep_alive), Some(obtained)) = (keep_alive, s.obtained_at) {
                    at = at.min(obtained + keep_alive);
                }
                (at <= wall).then(|| (s.refresh_at, account.clone(), slot.clone()))
            })
            .collect()
    };
    due.sort_by_key(|(refresh_at, _, _)| *refresh_at);
    for (seen, account, slot) in due {
        while !workers.has_room() && !stopping.load(Ordering::Relaxed) {
            workers.wait_for_room();
        }
        if stopping.load(Ordering::Relaxed) || paused(shared) || !budget.take() {
            break;
        }
        slot.scheduled.store(true, Ordering::Relaxed);
        workers.send((shared.clone(), account, slot, seen));
    }
}

/// One job: refresh, record, and back off the account after a failure.
fn work((shared, account, slot, seen): Job) {
    let before = slot.manager.stats().refreshes;
    let (result, led) = slot.manager.refresh_ahead(seen);
    if slot.manager.stats().refreshes > before {
        shared.refreshed_ahead.fetch_add(1, Ordering::Relaxed);
    }
    if led {
        shared.record(&account, &slot, &result);
    }
    *lock(&slot.retry_at) = match result {
        Ok(_) => None,
        // The server's Retry-After paused the whole endpoint already.
        Err(e) if e.retry_after().is_some() => None,
        Err(_) => {
            let attempts = lock(&shared.book).health(&account).attempts.clamp(1, 7);
            let backoff = (Duration::from_secs(1) * (1 << (attempts - 1))).min(MAX_BACKOFF);
            Some(Instant::now() + backoff)
        }
    };
    slot.scheduled.store(false, Ordering::Relaxed);
}

/// `n` threads taking jobs from one queue; `has_room` while fewer than `n` are busy.
struct Workers {
    queue: Option<Sender<Job>>,
    busy: Arc<AtomicUsize>,
    /// A worker says it finished a job.
    freed: Receiver<()>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    fn start(n: usize) -> Workers {
        let (queue, jobs) = mpsc::channel::<Job>();
        let (free, freed) = mpsc::channel::<()>();
        let jobs = Arc::new(Mutex::new(jobs));
        let busy = Arc::new(AtomicUsize::new(0));
        let threads = (0..n)
            .filter_map(|i| {
                let (jobs, busy, free) = (jobs.clone(), busy.clone(), free.clone());
                std::thread::Builder::new()
                    .name(format!("oauth-refresh-ahead-{i}"))
                    .spawn(move || loop {
                        let job = lock(&jobs).recv();
                        let Ok(job) = job else { break };
                        work(job);
                        busy.fetch_sub(1, Ordering::Release);
                        let _ = free.send(());
                    })
                    .ok()
            })
            .collect::<Vec<_>>();
        Workers {
            queue: Some(queue),
            busy,
            freed,
            threads,
        }
    }

    fn has_room(&self) -> bool {
        self.busy.load(Ordering::Acquire) < self.threads.len()
    }

    /// Forgets the finished jobs nobody waited for.
    fn drain(&self) {
        while self.freed.try_recv().is_ok() {}
    }

    /// Waits (up to a tick) for a worker to finish a job.
    fn wait_for_room(&self) {
        let _ = self.freed.recv_timeout(TICK);
    }

    fn send(&self, job: Job) {
        self.busy.fetch_add(1, Ordering::Release);
        if let Some(queue) = &self.queue {
            if queue.send(job).is_err() {
                self.busy.fetch_sub(1, Ordering::Release);
            }
        }
    }

    fn finish(mut self) {
        self.queue = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Requests per minute, spaced evenly (a bucket of one): never more than the budget plus
/// one in any minute.
struct Budget {
    per_minute: u32,
    tokens: f64,
    last: Instant,
}

impl Budget {
    fn new(per_minute: u32) -> Budget {
        Budget {
            per_minute,
            tokens: 1.0,
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let now = Instant::now();
        let earned =
            now.duration_since(self.last).as_secs_f64() * f64::from(self.per_minute) / 60.0;
        self.tokens = (self.tokens + earned).min(1.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn the_budget_spaces_requests_and_zero_means_none() {
        let mut unlimited = Budget::new(0);
        assert!((0..1000).all(|_| unlimited.take()));
        let mut budget = Budget::new(60);
        assert!(budget.take(), "one at once");
        assert!(!budget.take(), "the next after a second");
        budget.last -= std::time::Duration::from_millis(1500);
        assert!(budget.take());
        assert!(!budget.take(), "no burst is saved up");
    }
}
