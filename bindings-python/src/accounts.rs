//! `AccountTokens`: the core's tokens for many accounts, with a Python events hook, health
//! and event objects, and `close()` to stop refresh-ahead.

use std::cell::Cell;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use oauth_refresh::{AccountsConfig, Error};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::background::{in_background, Answer};
use crate::client::Client;
use crate::error::{guarded, to_pyerr};
use crate::options::{each, value, PY};
use crate::repr_opt;
use crate::store::Store;
use crate::token::Token;

type Inner = oauth_refresh::AccountTokens;

/// What the Python object owns: the core's `AccountTokens` until `close()`. Calls borrow it
/// (a cache hit) or hold a clone of the `Arc` while they run (everything else), so `close()`
/// knows when the last one has finished.
struct Holder(RwLock<Option<Arc<Inner>>>);

/// Every `AccountTokens` not yet closed, for the exit hook that closes them while threads
/// can still take the GIL.
static LIVE: Mutex<Vec<Weak<Holder>>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread runs the events hook: a `close()` from there must not wait for
    /// the call or the refresh-ahead thread it is running on.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

fn closed() -> Error {
    Error::closed("AccountTokens")
}

impl Holder {
    /// `f` of the core object, under a read lock held only for `f`: for what never waits.
    fn with<T>(&self, f: impl FnOnce(&Inner) -> T) -> Result<T, Error> {
        let inner = self.0.read().unwrap_or_else(|e| e.into_inner());
        inner.as_deref().map(f).ok_or_else(closed)
    }

    /// The core object, for a call that may wait (run it without the GIL).
    fn get(&self) -> Result<Arc<Inner>, Error> {
        let inner = self.0.read().unwrap_or_else(|e| e.into_inner());
        inner.clone().ok_or_else(closed)
    }

    fn weak(&self) -> Result<Weak<Inner>, Error> {
        self.get().map(|inner| Arc::downgrade(&inner))
    }

    /// Takes the core object out: calls from now on raise; the caller stops it.
    fn take(&self) -> Option<Arc<Inner>> {
        self.0.write().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn close(&self, py: Python<'_>) {
        let Some(inner) = self.take() else { return };
        if IN_HOOK.with(Cell::get) {
            // The hook runs on a caller's thread (which holds a clone until it returns) or on
            // a refresh-ahead thread (which the stop joins): finish elsewhere.
            let _ = std::thread::Builder::new()
                .name("oauth-refresh-close".into())
                .spawn(move || stop(inner));
        } else {
            // Without the GIL: the threads being joined may be waiting for it in the hook.
            py.detach(move || stop(inner));
        }
    }
}

/// Waits for the calls in flight (each holds a clone), then drops the last reference, which
/// stops refresh-ahead and joins its threads.
fn stop(mut inner: Arc<Inner>) {
    loop {
        match Arc::try_unwrap(inner) {
            Ok(last) => return drop(last),
            Err(shared) => {
                inner = shared;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let mut inner = self.0.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        // Collected without close(): stop refresh-ahead without the GIL, as close() does
        // (calls in flight hold clones; the last of them stops it). While the interpreter
        // shuts down no hook can take the GIL, so holding it cannot block the stop.
        let _ = Python::try_attach(|py| py.detach(|| drop(inner.take())));
        drop(inner);
    }
}

/// Closes every `AccountTokens` still open: registered with `atexit`, which runs while
/// the refresh-ahead threads can still take the GIL to call a hook (later they could not,
/// and stopping them would hang).
#[pyfunction]
pub fn close_all(py: Python<'_>) {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for holder in live.iter().filter_map(Weak::upgrade) {
        holder.close(py);
    }
}

/// Valid access tokens for many accounts of one token endpoint and one client, kept in one
/// store: each account with a `TokenManager`'s guarantees, a cache hit served without a
/// lock, optional refresh-ahead, and health per account.
#[pyclass(frozen, module = "oauth_refresh", name = "AccountTokens")]
pub struct AccountTokens(Arc<Holder>);

#[pymethods]
impl AccountTokens {
    /// Accounts refreshed with `client`; options (`refresh_ahead`, `min_window`, ...: see
    /// `oauth_refresh.AccountTokensOptions`) are keyword arguments.
    #[new]
    #[pyo3(signature = (client, client_id, client_secret, *, store=None, on_event=None, **options))]
    fn new(
        py: Python<'_>,
        client: &Bound<'_, Client>,
        client_id: &Bound<'_, PyAny>,
        client_secret: &Bound<'_, PyAny>,
        store: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            if on_event.as_ref().is_some_and(|h| !h.bind(py).is_callable()) {
                return Err(PyTypeError::new_err("on_event must be callable"));
            }
            let store = Store::from_arg(store)?.for_accounts();
            let mut config = AccountsConfig::default();
            for (name, v) in [("client_id", client_id), ("client_secret", client_secret)] {
                config
                    .set(PY, name, value(v)?)
                    .map_err(|e| to_pyerr(py, &e))?;
            }
            each(options, |name, v| config.set(PY, name, v))?;
            let inner = config
                .build(client.get().inner(), store)
                .map_err(|e| to_pyerr(py, &e))?;
            if let Some(hook) = on_event {
                inner.on_event(move |event| {
                    // Runs on the thread that saw it (a caller's, without the GIL, or a
                    // refresh-ahead thread): take the GIL for the callback. Skipped while
                    // the interpreter shuts down, when no thread can take it.
                    let _ = Python::try_attach(|py| {
                        let event = AccountEvent::from(event);
                        let outer = IN_HOOK.with(|h| h.replace(true));
                        let result = hook.call1(py, (event,));
                        IN_HOOK.with(|h| h.set(outer));
                        if let Err(e) = result {
                            e.write_unraisable(py, Some(hook.bind(py)));
                        }
                    });
                });
            }
            let holder = Arc::new(Holder(RwLock::new(Some(Arc::new(inner)))));
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(&holder));
            Ok(AccountTokens(holder))
        })
    }

    /// A valid access token for `account`, refreshing first if needed (the GIL is released
    /// meanwhile).
    fn access_token(&self, py: Python<'_>, account: &str) -> PyResult<String> {
        guarded(py, || {
            // A cache hit keeps the GIL: releasing and taking it back costs more than the hit.
            let hit = self.0.with(|a| a.fresh_access_token(account));
            if let Some(access_token) = hit.map_err(|e| to_pyerr(py, &e))? {
                return Ok(access_token);
            }
            let inner = self.0.get().map_err(|e| to_pyerr(py, &e))?;
            py.detach(move || inner.access_token(account))
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `account`'s current token, refreshing first if needed.
    fn token(&self, py: Python<'_>, account: &str) -> PyResult<Token> {
        guarded(py, || {
            let inner = self.0.get().map_err(|e| to_pyerr(py, &e))?;
            py.detach(move || inner.token(account))
                .map(Token)
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `access_token` as a coroutine, resolving to the access token (a `str`); a refresh
    /// runs on a worker thread. Cancellation as for `Client.refresh_async`.
    fn access_token_async<'py>(
        &self,
        py: Python<'py>,
        account: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.in_background(py, Answer::AccessToken, account)
    }

    /// `token` as a coroutine, resolving to `account`'s current `Token`.
    fn token_async<'py>(&self, py: Python<'py>, account: String) -> PyResult<Bound<'py, PyAny>> {
        self.in_background(py, Answer::Token, account)
    }

    /// Marks `account`'s token stale (say, after the API answered 401): its next call
    /// refreshes.
    fn invalidate(&self, py: Python<'_>, account: &str) -> PyResult<()> {
        guarded(py, || {
            self.0
                .with(|a| a.invalidate(account))
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// After a refresh of `account` whose outcome was unknown, lets the next call send its
    /// refresh token once more (see `TokenManager.allow_resend`).
    fn allow_resend(&self, py: Python<'_>, account: &str) -> PyResult<()> {
        guarded(py, || {
            self.0
                .with(|a| a.allow_resend(account))
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// Stores a new grant for `account` (a refresh token, or a `Token` with its refresh
    /// token), replacing what was stored; it is refreshed when first used.
    fn add(&self, py: Python<'_>, account: &str, refresh_token: &Bound<'_, PyAny>) -> PyResult<()> {
        guarded(py, || {
            let inner = self.0.get().map_err(|e| to_pyerr(py, &e))?;
            let result = if let Ok(token) = refresh_token.cast::<Token>() {
                let token = token.get().0.clone();
                py.detach(move || inner.add_token(account, token))
            } else {
                let refresh_token: String = refresh_token.extract()?;
                py.detach(move || inner.add(account, refresh_token))
            };
            result.map_err(|e| to_pyerr(py, &e))
        })
    }

    /// Deletes `account`'s grant from the store and from memory; whether there was one.
    fn remove(&self, py: Python<'_>, account: &str) -> PyResult<bool> {
        guarded(py, || {
            let inner = self.0.get().map_err(|e| to_pyerr(py, &e))?;
            py.detach(move || inner.remove(account))
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// Every account the store holds a grant for, sorted.
    fn accounts(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        guarded(py, || {
            let inner = self.0.get().map_err(|e| to_pyerr(py, &e))?;
            py.detach(move || inner.accounts())
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// How `account`'s grant is doing in this process.
    fn health(&self, py: Python<'_>, account: &str) -> PyResult<Health> {
        guarded(py, || {
            self.0
                .with(|a| Health(a.health(account)))
                .map_err(|e| to_pyerr(py, &e))
        })
    }

    /// Every account whose grant is not `"ok"`, as `(account, Health)` pairs sorted by
    /// account.
    fn unhealthy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let sick = guarded(py, || {
            self.0.with(|a| a.unhealthy()).map_err(|e| to_pyerr(py, &e))
        })?;
        let pairs = sick
            .into_iter()
            .map(|(account, health)| (account, Health(health)).into_pyobject(py))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    /// Counters: `cached`, `refreshes`, `refreshed_ahead`, `adoptions`, `failures`,
    /// `waits`, `evictions`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = guarded(py, || {
            self.0.with(|a| a.stats()).map_err(|e| to_pyerr(py, &e))
        })?;
        let dict = PyDict::new(py);
        dict.set_item("cached", s.cached)?;
        dict.set_item("refreshes", s.refreshes)?;
        dict.set_item("refreshed_ahead", s.refreshed_ahead)?;
        dict.set_item("adoptions", s.adoptions)?;
        dict.set_item("failures", s.failures)?;
        dict.set_item("waits", s.waits)?;
        dict.set_item("evictions", s.evictions)?;
        Ok(dict)
    }

    /// Stops refresh-ahead: waits for the calls and refreshes in flight, then joins its
    /// threads. Calls afterwards raise `InvalidInputError`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        guarded(py, || {
            self.0.close(py);
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Calls `close()`; exceptions propagate.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        exc_value: &Bound<'_, PyAny>,
        traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let _ = (exc_type, exc_value, traceback);
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.0.with(|_| ()) {
            Ok(()) => "AccountTokens(...)".to_owned(),
            Err(_) => "AccountTokens(closed)".to_owned(),
        }
    }
}

impl AccountTokens {
    fn in_background<'py>(
        &self,
        py: Python<'py>,
        answer: Answer,
        account: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            // A weak reference until the job runs: a coroutine never awaited keeps nothing
            // alive, and a job that starts after close() raises.
            let inner = self.0.weak().map_err(|e| to_pyerr(py, &e))?;
            in_background(py, answer, move || {
                inner.upgrade().ok_or_else(closed)?.token(&account)
            })
        })
    }
}

/// Unix seconds.
fn unix(at: Option<SystemTime>) -> Option<f64> {
    at.map(|t| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    })
}

/// How an account's grant is doing: never a secret.
#[pyclass(frozen, module = "oauth_refresh", name = "Health")]
pub struct Health(oauth_refresh::Health);

#[pymethods]
impl Health {
    /// `"ok"`, `"failing"` or `"needs_reauthorization"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.as_str()
    }

    /// The last failure's error code (`None` when `"ok"`).
    #[getter]
    fn code(&self) -> Option<&'static str> {
        self.0.code.map(|c| c.as_str())
    }

    /// The last failure's refresh-token state (`None` when `"ok"`).
    #[getter]
    fn refresh_token_state(&self) -> Option<&'static str> {
        self.0.refresh_token_state.map(|s| s.as_str())
    }

    /// When it stopped being `"ok"`, in Unix seconds.
    #[getter]
    fn since(&self) -> Option<f64> {
        unix(self.0.since)
    }

    /// Failed refreshes since then.
    #[getter]
    fn attempts(&self) -> u32 {
        self.0.attempts
    }

    fn __repr__(&self) -> String {
        format!(
            "Health(status={}, code={}, refresh_token_state={}, since={}, attempts={})",
            repr_opt(Some(self.status())),
            repr_opt(self.code()),
            repr_opt(self.refresh_token_state()),
            self.since()
                .map_or("None".to_owned(), |s| format!("{s:.3}")),
            self.0.attempts,
        )
    }
}

/// What happened to an account, as the `on_event` hook receives it: never a secret.
#[pyclass(frozen, module = "oauth_refresh", name = "AccountEvent")]
pub struct AccountEvent(oauth_refresh::AccountEvent);

impl From<&oauth_refresh::AccountEvent> for AccountEvent {
    fn from(event: &oauth_refresh::AccountEvent) -> Self {
        AccountEvent(event.clone())
    }
}

#[pymethods]
impl AccountEvent {
    /// `"refreshed"`, `"failed"`, `"needs_reauthorization"` or `"recovered"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The account it happened to.
    #[getter]
    fn account(&self) -> &str {
        &self.0.account
    }

    /// The failure's error code (`"failed"`, `"needs_reauthorization"`).
    #[getter]
    fn code(&self) -> Option<&'static str> {
        self.0.code.map(|c| c.as_str())
    }

    /// The failure's refresh-token state (`"failed"`, `"needs_reauthorization"`).
    #[getter]
    fn refresh_token_state(&self) -> Option<&'static str> {
        self.0.refresh_token_state.map(|s| s.as_str())
    }

    /// The account's failed refreshes in a row (`"failed"`, `"needs_reauthorization"`).
    #[getter]
    fn attempts(&self) -> u32 {
        self.0.attempts
    }

    fn __repr__(&self) -> String {
        format!(
            "AccountEvent(kind={}, account={}, code={}, refresh_token_state={}, attempts={})",
            repr_opt(Some(self.kind())),
            repr_opt(Some(&self.0.account)),
            repr_opt(self.code()),
            repr_opt(self.refresh_token_state()),
            self.0.attempts,
        )
    }
}
