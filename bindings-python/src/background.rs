//! The threads the coroutines (`refresh_async`, `access_token_async`, ...) run exchanges on.
//!
//! Rust threads, not Python's: a job needs no GIL until its answer is ready, so a worker
//! takes it and sends the request while the event loop's thread goes on, and takes the GIL
//! once, to hand the answer to the loop. A Python worker needed the GIL to wake, to call the
//! job and to deliver; on a busy CPU each wait for it was a context switch (five per refresh,
//! now four: the least a hand-over to another thread and back can take).
//!
//! Interpreter exit waits for every job queued or running (`stop`, from `threading`'s exit
//! hook, as the executor's threads are joined), so an exchange in flight completes and its
//! token is delivered.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use pyo3::prelude::*;

pub type Task = Box<dyn FnOnce() + Send>;

/// Refreshes mostly wait on the network: many may run at once. A thread starts when no
/// worker is free, up to this many; an idle one waits for the next job.
const MAX_WORKERS: usize = 64;

struct State {
    queue: VecDeque<Task>,
    threads: usize,
    /// Workers waiting for a job.
    waiting: usize,
    running: usize,
    stopping: bool,
    /// The process the threads belong to: a forked child has none of them.
    pid: u32,
}

impl State {
    fn new() -> State {
        State {
            queue: VecDeque::new(),
            threads: 0,
            waiting: 0,
            running: 0,
            stopping: false,
            pid: std::process::id(),
        }
    }
}

struct Pool {
    state: Mutex<State>,
    /// A job was queued, or the pool is stopping.
    work: Condvar,
    /// A job finished (`stop` waits on it).
    finished: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::new()),
        work: Condvar::new(),
        finished: Condvar::new(),
    })
}

fn lock(pool: &Pool) -> MutexGuard<'_, State> {
    pool.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Queues `task` for a worker, starting one if none is free.
pub fn submit(task: Task) -> Result<(), &'static str> {
    let pool = pool();
    let mut state = lock(pool);
    if state.pid != std::process::id() {
        *state = State::new(); // forked: the parent's workers are not in this process
    }
    if state.stopping {
        return Err("cannot schedule a refresh after interpreter shutdown");
    }
    state.queue.push_back(task);
    // Each queued job needs a waiting worker of its own, or a new one.
    if state.queue.len() > state.waiting && state.threads < MAX_WORKERS {
        let started = std::thread::Builder::new()
            .name("oauth-refresh-io".into())
            // A thread state made once, kept while the worker waits without the GIL: each
            // job's `Python::attach` is then a plain GIL acquisition (without it, one
            // thread state was made and freed per job, slower than the thread hop saves).
            .spawn(|| Python::attach(|py| py.detach(work)));
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
    pool.work.notify_one();
    Ok(())
}

fn work() {
    let pool = pool();
    let mut state = lock(pool);
    loop {
        let Some(task) = state.queue.pop_front() else {
            state.waiting += 1;
            state = pool.work.wait(state).unwrap_or_else(|e| e.into_inner());
            state.waiting -= 1;
            continue;
        };
        state.running += 1;
        drop(state);
        // The task catches its own panics; this keeps the worker alive if that failed.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task));
        state = lock(pool);
        state.running -= 1;
        if state.stopping {
            pool.finished.notify_all();
        }
    }
}

/// At interpreter exit: no new job, and the ones queued or running finish and deliver.
#[pyfunction]
pub fn stop(py: Python<'_>) {
    py.detach(|| {
        let pool = pool();
        let mut state = lock(pool);
        state.stopping = true;
        while state.running > 0 || !state.queue.is_empty() {
            state = pool.finished.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    });
}
