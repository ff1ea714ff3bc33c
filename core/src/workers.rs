//! Threads for the faces' asynchronous calls (Python's coroutines, Node's promises): each
//! runs a blocking exchange so that the event loop never does.
//!
//! A face's own pool (Python's executor, libuv's) hands work over under a lock that the
//! woken event-loop thread then waits for: on a busy CPU, two context switches more per
//! call than the four a hand-over to a thread and back needs. Here a worker takes a job and
//! sends the request while the loop's thread goes on, and the face delivers the answer
//! without holding any lock the loop needs.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::lock::lock;

pub type Job = Box<dyn FnOnce() + Send>;

/// Refreshes mostly wait on the network: many may run at once. A thread starts when no
/// worker is free, up to this many; an idle one waits for the next job.
pub const MAX_WORKERS: usize = 64;

/// One pool per face, in a `static`.
pub struct Workers {
    name: &'static str,
    /// Runs a worker's loop: a face may need to set its thread up around it.
    enter: fn(&mut (dyn FnMut() + Send)),
    state: Mutex<State>,
    /// A job was queued.
    work: Condvar,
    /// A job finished (`stop` waits on it).
    finished: Condvar,
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    /// Workers waiting for a job.
    waiting: usize,
    running: usize,
    stopping: bool,
    /// The process the threads belong to: a forked child has none of them.
    pid: u32,
}

impl State {
    const fn new(pid: u32) -> State {
        State {
            queue: VecDeque::new(),
            threads: 0,
            waiting: 0,
            running: 0,
            stopping: false,
            pid,
        }
    }
}

impl Workers {
    /// `name` names the threads; `enter` runs each worker's loop (given the loop).
    pub const fn new(name: &'static str, enter: fn(&mut (dyn FnMut() + Send))) -> Workers {
        Workers {
            name,
            enter,
            state: Mutex::new(State::new(0)),
            work: Condvar::new(),
            finished: Condvar::new(),
        }
    }

    /// Queues `job` for a worker, starting one if none is free. Refused after `stop`, or
    /// when no thread can be started and none runs.
    pub fn submit(&'static self, job: Job) -> Result<(), &'static str> {
        let mut state = lock(&self.state);
        if state.pid != std::process::id() {
            // First use, or a forked child: the parent's workers are not in this process.
            *state = State::new(std::process::id());
        }
        if state.stopping {
            return Err("cannot schedule a refresh after interpreter shutdown");
        }
        state.queue.push_back(job);
        // Each queued job needs a waiting worker of its own, or a new one.
        if state.queue.len() > state.waiting && state.threads < MAX_WORKERS {
            let started = std::thread::Builder::new()
                .name(self.name.into())
                .spawn(move || (self.enter)(&mut || self.work()));
            match started {
                Ok(_) => state.threads += 1,
                Err(_) if state.threads == 0 => {
                    state.queue.pop_back();
                    return Err("cannot start a worker thread");
                }
                Err(_) => {} // a busy worker takes it when free
            }
        }
        drop(state);
        self.work.notify_one();
        Ok(())
    }

    fn work(&self) {
        let mut state = lock(&self.state);
        loop {
            let Some(job) = state.queue.pop_front() else {
                state.waiting += 1;
                state = wait(&self.work, state);
                state.waiting -= 1;
                continue;
            };
            state.running += 1;
            drop(state);
            // A job catches its own panics; this keeps the worker if one did not.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            state = lock(&self.state);
            state.running -= 1;
            if state.stopping {
                self.finished.notify_all();
            }
        }
    }

    /// At exit: no new job, and returns once every queued or running one has finished.
    pub fn stop(&self) {
        let mut state = lock(&self.state);
        if state.pid != std::process::id() {
            // A forked child (or a pool never used): the jobs counted are the parent's.
            return;
        }
        state.stopping = true;
        while state.running > 0 || !state.queue.is_empty() {
            state = wait(&self.finished, state);
        }
    }
}

fn wait<'a>(condvar: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    condvar.wait(guard).unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    static WORKERS: Workers = Workers::new("oauth-refresh-test", |run| run());

    #[test]
    fn concurrent_jobs_each_get_a_thread_and_stop_waits_for_them() {
        // Eight jobs that all wait for each other: they finish only if eight threads run.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let done = std::sync::Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for _ in 0..8 {
            let (barrier, done, tx) = (barrier.clone(), done.clone(), tx.clone());
            WORKERS
                .submit(Box::new(move || {
                    barrier.wait();
                    std::thread::sleep(Duration::from_millis(50));
                    done.fetch_add(1, Ordering::SeqCst);
                    tx.send(()).unwrap();
                }))
                .unwrap();
        }
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the jobs ran at once");
        WORKERS.stop(); // waits for the other seven
        assert_eq!(done.load(Ordering::SeqCst), 8);
        assert!(
            WORKERS.submit(Box::new(|| {})).is_err(),
            "refused after stop"
        );
    }

    static ONE: Workers = Workers::new("oauth-refresh-test", |run| run());

    #[test]
    fn a_panicking_job_leaves_its_worker_serving() {
        let idle = || {
            let state = lock(&ONE.state);
            state.running == 0 && state.waiting == 1
        };
        ONE.submit(Box::new(|| panic!("a job that panics")))
            .unwrap();
        let started = std::time::Instant::now();
        while !idle() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the worker came back"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let (tx, rx) = mpsc::channel();
        ONE.submit(Box::new(move || tx.send(()).unwrap())).unwrap();
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the same worker ran the next job");
        assert_eq!(lock(&ONE.state).threads, 1);
    }
}
