//! `Client`: options in, blocking refreshes with the GIL released, asyncio futures out.

use oauth_refresh::options::Value;
use oauth_refresh::{ClientOptions, GustoEnvironment, SystemAccessTokenRequest};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use crate::background;
use crate::error::{guarded, internal, to_pyerr};
use crate::options::{each, value, PY};
use crate::request::RefreshTokenRequest;
use crate::token::Token;

static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Refreshes tokens at one token endpoint. Thread-safe; keeps connections alive.
#[pyclass(frozen, module = "oauth_refresh", name = "Client")]
pub struct Client(Arc<oauth_refresh::Client>);

impl Client {
    pub fn inner(&self) -> Arc<oauth_refresh::Client> {
        self.0.clone()
    }
}

#[pymethods]
impl Client {
    /// A client for an RFC 6749 token endpoint; every option is a keyword argument
    /// (`oauth_refresh.ClientOptions` lists them).
    #[new]
    #[pyo3(signature = (token_url, **options))]
    fn new(
        py: Python<'_>,
        token_url: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = ClientOptions::default();
            o.set(PY, "token_url", value(token_url)?)
                .map_err(|e| to_pyerr(py, &e))?;
            build(py, o, options)
        })
    }

    /// The Gusto preset. `environment` is "demo" (the default), "production" or a base URL.
    #[staticmethod]
    #[pyo3(signature = (environment=None, **options))]
    fn gusto(
        py: Python<'_>,
        environment: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = ClientOptions::gusto(GustoEnvironment::Demo);
            o.set(
                PY,
                "environment",
                environment.map(value).transpose()?.unwrap_or(Value::Null),
            )
            .map_err(|e| to_pyerr(py, &e))?;
            build(py, o, options)
        })
    }

    /// Exchanges a refresh token. Pass a `RefreshTokenRequest`, or the fields themselves.
    #[pyo3(signature = (request_or_client_id, client_secret=None, refresh_token=None, *, redirect_uri=None, scope=None))]
    fn refresh(
        &self,
        py: Python<'_>,
        request_or_client_id: &Bound<'_, PyAny>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
        redirect_uri: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Token> {
        guarded(py, || {
            let request = to_request(
                request_or_client_id,
                client_secret,
                refresh_token,
                redirect_uri,
                scope,
            )?;
            let client = &self.0;
            let result = py.detach(|| client.refresh(&request));
            result.map(Token).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `refresh` as a coroutine: the exchange runs on a worker thread, never on the event loop.
    /// Cancelled before the exchange started: nothing is sent, `CancelledError`. Cancelled
    /// after: it is awaited anyway and its token returned (or its error raised), so a
    /// rotated refresh token is never lost.
    #[pyo3(signature = (request_or_client_id, client_secret=None, refresh_token=None, *, redirect_uri=None, scope=None))]
    fn refresh_async<'py>(
        &self,
        py: Python<'py>,
        request_or_client_id: &Bound<'py, PyAny>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
        redirect_uri: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let request = to_request(
                request_or_client_id,
                client_secret,
                refresh_token,
                redirect_uri,
                scope,
            )?;
            let client = self.0.clone();
            in_background(py, Answer::Token, move || client.refresh(&request))
        })
    }

    /// Gusto's `system_access` grant.
    fn system_access(
        &self,
        py: Python<'_>,
        client_id: String,
        client_secret: String,
    ) -> PyResult<Token> {
        guarded(py, || {
            let request = SystemAccessTokenRequest::new(client_id, client_secret);
            let client = &self.0;
            let result = py.detach(|| client.system_access(&request));
            result.map(Token).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `system_access` for asyncio.
    fn system_access_async<'py>(
        &self,
        py: Python<'py>,
        client_id: String,
        client_secret: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let request = SystemAccessTokenRequest::new(client_id, client_secret);
            let client = self.0.clone();
            in_background(py, Answer::Token, move || client.system_access(&request))
        })
    }

    fn __repr__(&self) -> String {
        "Client(...)".to_owned()
    }
}

/// Applies the keyword arguments and builds the client.
fn build(
    py: Python<'_>,
    mut o: ClientOptions,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Client> {
    o.surface = "python";
    each(options, |name, v| o.set(PY, name, v))?;
    let client = o.build().map_err(|e| to_pyerr(py, &e))?;
    Ok(Client(Arc::new(client)))
}

fn to_request(
    first: &Bound<'_, PyAny>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
) -> PyResult<oauth_refresh::RefreshTokenRequest> {
    if let Ok(request) = first.cast::<RefreshTokenRequest>() {
        if client_secret.is_some()
            || refresh_token.is_some()
            || redirect_uri.is_some()
            || scope.is_some()
        {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pass either a RefreshTokenRequest or the fields, not both",
            ));
        }
        return Ok(request.get().0.clone());
    }
    if !first.is_instance_of::<PyString>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "expected a RefreshTokenRequest or a client_id string",
        ));
    }
    let client_id: String = first.extract()?;
    let (Some(client_secret), Some(refresh_token)) = (client_secret, refresh_token) else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "refresh() needs client_id, client_secret and refresh_token",
        ));
    };
    let mut request =
        oauth_refresh::RefreshTokenRequest::new(client_id, client_secret, refresh_token);
    request.redirect_uri = redirect_uri;
    request.scope = scope;
    Ok(request)
}

type Work = Box<dyn FnOnce() -> Result<oauth_refresh::Token, oauth_refresh::Error> + Send>;

/// Where a job is. The move from `Waiting` to `Started` or `Cancelled` happens under the
/// mutex, so "was anything sent?" has one answer.
enum Stage {
    Waiting(Work),
    Started,
    Cancelled,
}

/// One refresh waiting for a worker: `_asyncio.run` submits it with the loop and where its
/// answer goes; a worker (background.rs) runs the exchange without the GIL and hands the
/// token or the error to the loop. If the awaiting task is cancelled, `_asyncio.run` calls
/// `cancel()`: the job is dropped unsent if it had not started, and awaited to the end (its
/// token kept) if it had.
#[pyclass(frozen, module = "oauth_refresh._native")]
struct Job {
    stage: Mutex<Stage>,
    answer: Answer,
}

/// What an awaited job resolves to.
#[derive(Clone, Copy)]
pub enum Answer {
    /// The `Token`.
    Token,
    /// Only its access token, a `str` (as `TokenManager.access_token()` returns).
    AccessToken,
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

/// On a worker: runs the job, then `loop.call_soon_threadsafe(deliver, outcome, ok, value)`
/// with the answer (`ok`) or the exception. Nothing is delivered for a job cancelled before
/// it started: no one awaits it.
fn run_job(job: Py<Job>, event_loop: Py<PyAny>, deliver: Py<PyAny>, outcome: Py<PyAny>) {
    let work = job.get().start();
    let result = work.map(|work| catch_unwind(AssertUnwindSafe(work)));
    Python::attach(|py| {
        let Some(result) = result else {
            return; // cancelled before it started
        };
        let answer = guarded(py, || {
            let token = match result {
                Ok(token) => token.map_err(|e| to_pyerr(py, &e))?,
                Err(payload) => {
                    std::mem::forget(payload); // its Drop could panic again
                    return Err(internal(py));
                }
            };
            Ok(match job.get().answer {
                Answer::Token => Token(token).into_pyobject(py)?.into_any().unbind(),
                Answer::AccessToken => PyString::new(py, token.access_token()).into_any().unbind(),
            })
        });
        let (ok, value) = match answer {
            Ok(value) => (true, value),
            Err(e) => (false, e.into_value(py).into_any()),
        };
        // A closed loop raises RuntimeError: no one awaits this outcome any more.
        drop(event_loop.call_method1(py, "call_soon_threadsafe", (deliver, outcome, ok, value)));
    });
}

#[pymethods]
impl Job {
    /// Queues the exchange for a worker thread; its answer is handed to `event_loop`.
    fn submit(
        slf: Py<Self>,
        event_loop: Py<PyAny>,
        deliver: Py<PyAny>,
        outcome: Py<PyAny>,
    ) -> PyResult<()> {
        if matches!(*slf.get().stage(), Stage::Started) {
            return Err(PyRuntimeError::new_err("this coroutine already ran"));
        }
        background::submit(Box::new(move || run_job(slf, event_loop, deliver, outcome)))
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

/// A coroutine that runs `work` on an executor thread when awaited, so the event loop is
/// never blocked and `asyncio.run(client.refresh_async(...))` works as with any `async def`.
/// Python's own executor threads are used (not threads of ours) because they shut down
/// cleanly with the interpreter.
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
