//! Threads for `*_async`: each blocking refresh runs here, off the event loop and without
//! the GIL, and resolves its asyncio future through `call_soon_threadsafe`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// Enough for many concurrent refreshes (each mostly waits on the network), bounded so a
/// burst cannot create unbounded threads; further jobs queue.
const MAX_WORKERS: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    sender: Sender<Job>,
    receiver: Arc<Mutex<Receiver<Job>>>,
    workers: AtomicUsize,
    idle: Arc<AtomicUsize>,
}

static POOL: OnceLock<Pool> = OnceLock::new();

pub fn spawn(job: impl FnOnce() + Send + 'static) {
    let pool = POOL.get_or_init(|| {
        let (sender, receiver) = channel();
        Pool {
            sender,
            receiver: Arc::new(Mutex::new(receiver)),
            workers: AtomicUsize::new(0),
            idle: Arc::new(AtomicUsize::new(0)),
        }
    });
    // The receiver lives in the pool for the life of the process, so sending cannot fail.
    let _ = pool.sender.send(Box::new(job));
    let grow = |n: usize| (n < MAX_WORKERS).then_some(n + 1);
    if pool.idle.load(Ordering::Acquire) == 0
        && pool
            .workers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, grow)
            .is_ok()
    {
        let (receiver, idle) = (pool.receiver.clone(), pool.idle.clone());
        std::thread::Builder::new()
            .name("oauth-refresh-async".into())
            .spawn(move || work(receiver, idle))
            .expect("spawning an oauth-refresh worker thread");
    }
}

fn work(receiver: Arc<Mutex<Receiver<Job>>>, idle: Arc<AtomicUsize>) {
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
        idle.fetch_sub(1, Ordering::AcqRel);
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}
