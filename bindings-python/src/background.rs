//! The threads the coroutines (`refresh_async`, `access_token_async`, ...) run exchanges
//! on: the core's pool (`oauth_refresh::workers` says why not Python's executor).

use oauth_refresh::workers::{Job, Workers};
use pyo3::prelude::*;

/// Each worker makes its thread state once and keeps it while it waits without the GIL:
/// a job's `Python::attach` is then a plain GIL acquisition (made and freed per job, it
/// cost more than the thread hop saves).
static WORKERS: Workers = Workers::new("oauth-refresh-io", |run| {
    Python::attach(|py| py.detach(run))
});

pub fn submit(job: Job) -> Result<(), &'static str> {
    WORKERS.submit(job)
}

/// At interpreter exit (`threading`'s hook, which runs before the interpreter joins its
/// threads, as the executor's does): every job queued or running completes and delivers.
#[pyfunction]
pub fn stop(py: Python<'_>) {
    py.detach(|| WORKERS.stop());
}
