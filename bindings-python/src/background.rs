//! The coroutines (`refresh_async`, `access_token_async`, ...): each wraps a blocking core
//! call in a `Job` that `_asyncio.run` submits to the core's worker threads
//! (`oauth_refresh::workers` says why not Python's executor).
//!
//! A worker runs the exchange without the GIL and leaves the outcome in its event loop's
//! `Mailbox`, then writes a byte to the mailbox's pipe, which the loop watches
//! (`add_reader`): the GIL is taken once, by the loop's own thread, to turn every waiting
//! outcome into a token or an exception. A loop that cannot watch a pipe (Windows' proactor)
//! is handed each outcome with `call_soon_threadsafe` instead, the worker taking the GIL.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use oauth_refresh::workers::Workers;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

use crate::error::{guarded, internal, to_pyerr};
use crate::token::Token;

/// Each worker makes its thread state once and keeps it while it waits without the GIL:
/// taking the GIL (for `call_soon_threadsafe`, or to drop a cancelled job's objects) is then
/// a plain acquisition (made and freed per job, it cost more than the thread hop saves).
static WORKERS: Workers = Workers::new("oauth-refresh-io", |run| {
    Python::attach(|py| py.detach(run))
});

static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DELIVER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

type Work = Box<dyn FnOnce() -> Result<oauth_refresh::Token, oauth_refresh::Error> + Send>;
type Outcome = std::thread::Result<Result<oauth_refresh::Token, oauth_refresh::Error>>;

/// What an awaited job resolves to.
#[derive(Clone, Copy)]
pub enum Answer {
    /// The `Token`.
    Token,
    /// Only its access token, a `str` (as `TokenManager.access_token()` returns).
    AccessToken,
}

/// A coroutine that runs `work` on a worker thread when awaited, so the event loop is never
/// blocked and `asyncio.run(client.refresh_async(...))` works as with any `async def`.
pub fn in_background<'py>(
    py: Python<'py>,
    answer: Answer,
    work: impl FnOnce() -> Result<oauth_refresh::Token, oauth_refresh::Error> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>> {
    let job = Job {
        stage: Mutex::new(Stage::Waiting(Box::new(work))),
        answer,
    };
    RUN.import(py, "oauth_refresh._asyncio", "run")?
        .call1((job,))
}

/// Where a job is. The move from `Waiting` to `Started` or `Cancelled` happens under the
/// mutex, so "was anything sent?" has one answer.
enum Stage {
    Waiting(Work),
    Started,
    Cancelled,
}

/// One exchange waiting for a worker. If the awaiting task is cancelled, `_asyncio.run`
/// calls `cancel()`: the job is dropped unsent if it had not started, and awaited to the end
/// (its token kept) if it had.
#[pyclass(frozen, module = "oauth_refresh._native")]
struct Job {
    stage: Mutex<Stage>,
    answer: Answer,
}

impl Job {
    fn stage(&self) -> std::sync::MutexGuard<'_, Stage> {
        self.stage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The work, marking the job started; `None` if it was cancelled first.
    fn start(&self) -> Option<Work> {
        let mut stage = self.stage();
        match std::mem::replace(&mut *stage, Stage::Started) {
            Stage::Waiting(work) => Some(work),
            other => {
                *stage = other;
                None
            }
        }
    }
}

#[pymethods]
impl Job {
    /// Queues the exchange for a worker. Its outcome goes to `outcome` through `mailbox`
    /// (the loop watches its pipe), or, with `None`, through `outcome.loop`'s
    /// `call_soon_threadsafe`.
    fn submit(slf: Py<Self>, outcome: Py<PyAny>, mailbox: Option<Py<Mailbox>>) -> PyResult<()> {
        if matches!(*slf.get().stage(), Stage::Started) {
            return Err(PyRuntimeError::new_err("this coroutine already ran"));
        }
        let mailbox = mailbox.map(|m| m.get().0.clone());
        WORKERS
            .submit(Box::new(move || run(slf, outcome, mailbox)))
            .map_err(PyRuntimeError::new_err)
    }

    /// True if the job had not started: it never will, and nothing was sent. False if it
    /// had: the request may be on the wire, and its outcome must be awaited.
    fn cancel(&self) -> bool {
        let mut stage = self.stage();
        match *stage {
            Stage::Started => false,
            Stage::Waiting(_) | Stage::Cancelled => {
                // Dropping the work (the request and its secrets) here, under the lock.
                *stage = Stage::Cancelled;
                true
            }
        }
    }
}

/// On a worker: the exchange, then its outcome to the loop. Nothing is delivered for a job
/// cancelled before it started: no one awaits it.
fn run(job: Py<Job>, outcome: Py<PyAny>, mailbox: Option<Arc<Inbox>>) {
    let answer = job.get().answer;
    // Dropped here without the GIL: pyo3 defers that to the next thread that holds it.
    let work = job.get().start();
    drop(job);
    let Some(work) = work else {
        return; // cancelled before it started: `outcome` is dropped as `job` was
    };
    let result = catch_unwind(AssertUnwindSafe(work));
    let finished = Finished {
        outcome,
        answer,
        result,
    };
    match mailbox {
        Some(inbox) => inbox.post(finished),
        None => Python::attach(move |py| {
            let Finished {
                outcome,
                answer,
                result,
            } = finished;
            let (ok, value) = convert(py, answer, result);
            // A closed loop raises RuntimeError: no one awaits this outcome any more.
            drop(outcome.getattr(py, "loop").and_then(|l| {
                let deliver = DELIVER.import(py, "oauth_refresh._asyncio", "_deliver")?;
                l.call_method1(py, "call_soon_threadsafe", (deliver, outcome, ok, value))
            }));
        }),
    }
}

/// A finished job: where its outcome goes, and what it is.
struct Finished {
    outcome: Py<PyAny>,
    answer: Answer,
    result: Outcome,
}

/// `(True, the token or its access token)`, or `(False, the exception)`.
fn convert(py: Python<'_>, answer: Answer, result: Outcome) -> (bool, Py<PyAny>) {
    let value = guarded(py, || {
        let token = match result {
            Ok(token) => token.map_err(|e| to_pyerr(py, &e))?,
            Err(payload) => {
                std::mem::forget(payload); // its Drop could panic again
                return Err(internal(py));
            }
        };
        Ok(match answer {
            Answer::Token => Token(token).into_pyobject(py)?.into_any().unbind(),
            Answer::AccessToken => PyString::new(py, token.access_token()).into_any().unbind(),
        })
    });
    match value {
        Ok(value) => (true, value),
        Err(e) => (false, e.into_value(py).into_any()),
    }
}

/// An event loop's mailbox (`_asyncio` makes one per loop and watches `fileno()`).
#[pyclass(frozen, name = "_Mailbox", module = "oauth_refresh._native")]
pub struct Mailbox(Arc<Inbox>);

/// Shared with the workers: the outcomes waiting, and the pipe that wakes the loop.
struct Inbox {
    finished: Mutex<Vec<Finished>>,
    pipe: Pipe,
}

impl Inbox {
    /// From a worker: leaves `finished` and wakes the loop, unless an earlier outcome
    /// already did and the loop has not yet taken it (it takes all at once).
    fn post(&self, finished: Finished) {
        let mut waiting = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        let wake = waiting.is_empty();
        waiting.push(finished);
        drop(waiting);
        if wake {
            self.pipe.wake();
        }
    }
}

#[pymethods]
impl Mailbox {
    #[new]
    fn new() -> PyResult<Self> {
        let pipe = Pipe::new().map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(Mailbox(Arc::new(Inbox {
            finished: Mutex::new(Vec::new()),
            pipe,
        })))
    }

    /// The pipe's end the loop watches.
    fn fileno(&self) -> i32 {
        self.0.pipe.read_fd()
    }

    /// The loop's reader callback: hands every outcome waiting to `deliver(outcome, ok,
    /// value)`.
    fn deliver(&self, py: Python<'_>, deliver: &Bound<'_, PyAny>) -> PyResult<()> {
        // Emptied before the list is taken: a wake-up written after this belongs to an
        // outcome posted after it, which then waits for the next call.
        self.0.pipe.drain();
        let finished =
            std::mem::take(&mut *self.0.finished.lock().unwrap_or_else(|e| e.into_inner()));
        // Every outcome is delivered even if one delivery raises (say, KeyboardInterrupt):
        // the first error is raised after the others.
        let mut first_error = None;
        for f in finished {
            let (ok, value) = convert(py, f.answer, f.result);
            if let Err(e) = deliver.call1((f.outcome, ok, value)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A non-blocking pipe: a worker writes a byte to wake the loop, which reads them all.
#[cfg(unix)]
struct Pipe {
    read: std::os::fd::OwnedFd,
    write: std::os::fd::OwnedFd,
}

#[cfg(unix)]
impl Pipe {
    fn new() -> std::io::Result<Pipe> {
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: two new descriptors, owned from here on.
        Ok(unsafe {
            Pipe {
                read: std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                write: std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            }
        })
    }

    fn read_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.read.as_raw_fd()
    }

    fn wake(&self) {
        use std::os::fd::AsRawFd;
        // A full pipe already wakes the loop: a failed write changes nothing.
        // SAFETY: one byte from a live buffer to our own descriptor.
        unsafe { libc::write(self.write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }

    fn drain(&self) {
        let mut buffer = [0u8; 64];
        // SAFETY: reads into a live buffer of that size, from our own descriptor.
        while unsafe { libc::read(self.read_fd(), buffer.as_mut_ptr().cast(), buffer.len()) } > 0 {}
    }
}

/// No pipe here: `_asyncio` falls back to `call_soon_threadsafe`.
#[cfg(not(unix))]
struct Pipe;

#[cfg(not(unix))]
impl Pipe {
    fn new() -> std::io::Result<Pipe> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no pipe on this platform",
        ))
    }
    fn read_fd(&self) -> i32 {
        -1
    }
    fn wake(&self) {}
    fn drain(&self) {}
}

/// At interpreter exit (`threading`'s hook, which runs before the interpreter joins its
/// threads, as the executor's does): every job queued or running completes and delivers.
#[pyfunction]
pub fn stop(py: Python<'_>) {
    py.detach(|| WORKERS.stop());
}
