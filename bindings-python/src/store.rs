//! `MemoryStore`, `FileStore`, `RedisStore`, `PostgresStore`: the core's stores, built through its `StoreOptions`.

use std::path::PathBuf;
use std::sync::Arc;

use oauth_refresh::{AccountStore, StoreOptions, TokenStore};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{guarded, to_pyerr};
use crate::options::{each, PY};
use crate::repr_opt;

/// The store passed as `store=`: one of the four classes, or (`None`) a new `MemoryStore`.
pub enum Store {
    Memory(Arc<oauth_refresh::MemoryStore>),
    File(Arc<oauth_refresh::FileStore>),
    Redis(Arc<oauth_refresh::RedisStore>),
    Postgres(Arc<oauth_refresh::PostgresStore>),
}

impl Store {
    pub fn from_arg(store: Option<&Bound<'_, PyAny>>) -> PyResult<Store> {
        let Some(s) = store else {
            return Ok(Store::Memory(Arc::new(oauth_refresh::MemoryStore::new())));
        };
        if let Ok(file) = s.cast::<FileStore>() {
            Ok(Store::File(file.get().0.clone()))
        } else if let Ok(redis) = s.cast::<RedisStore>() {
            Ok(Store::Redis(redis.get().0.clone()))
        } else if let Ok(postgres) = s.cast::<PostgresStore>() {
            Ok(Store::Postgres(postgres.get().store.clone()))
        } else if let Ok(memory) = s.cast::<MemoryStore>() {
            Ok(Store::Memory(memory.get().0.clone()))
        } else {
            Err(PyTypeError::new_err(
                "store must be a MemoryStore, a FileStore, a RedisStore or a PostgresStore",
            ))
        }
    }

    /// For a `TokenManager`. (A `RedisStore` or `PostgresStore` of every account refuses at
    /// first use: the core's rule, not the binding's.)
    pub fn for_one_account(self) -> Arc<dyn TokenStore> {
        match self {
            Store::Memory(s) => s,
            Store::File(s) => s,
            Store::Redis(s) => s,
            Store::Postgres(s) => s,
        }
    }

    /// For `AccountTokens`.
    pub fn for_accounts(self) -> Arc<dyn AccountStore> {
        match self {
            Store::Memory(s) => s,
            Store::File(s) => s,
            Store::Redis(s) => s,
            Store::Postgres(s) => s,
        }
    }
}

/// Keeps the token in this process only.
#[pyclass(frozen, module = "oauth_refresh", name = "MemoryStore")]
pub struct MemoryStore(pub(crate) Arc<oauth_refresh::MemoryStore>);

#[pymethods]
impl MemoryStore {
    #[new]
    fn new() -> Self {
        MemoryStore(Arc::new(oauth_refresh::MemoryStore::new()))
    }
}

/// Keeps the token in a JSON file (mode 0600) shared by the processes of one host.
#[pyclass(frozen, module = "oauth_refresh", name = "FileStore")]
pub struct FileStore(pub(crate) Arc<oauth_refresh::FileStore>);

#[pymethods]
impl FileStore {
    /// A store at `path`; nothing is created until the first write. Options
    /// (`encryption_key`) are keyword arguments.
    #[new]
    #[pyo3(signature = (path, **options))]
    fn new(py: Python<'_>, path: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        guarded(py, || {
            let mut o = StoreOptions::default();
            each(options, |name, v| o.set_file(PY, name, v))?;
            let store = o.file(path).map_err(|e| to_pyerr(py, &e))?;
            Ok(FileStore(Arc::new(store)))
        })
    }
}

/// Keeps tokens in Redis, shared by the processes of many hosts: one account's (for a
/// `TokenManager`), or every account's over one connection (for `AccountTokens`).
#[pyclass(frozen, module = "oauth_refresh", name = "RedisStore")]
pub struct RedisStore(pub(crate) Arc<oauth_refresh::RedisStore>);

#[pymethods]
impl RedisStore {
    /// The store at `url` for `account`, or (`None`) for every account. Options (`prefix`,
    /// `timeout`, `encryption_key`) are keyword arguments.
    #[new]
    #[pyo3(signature = (url, account=None, **options))]
    fn new(
        py: Python<'_>,
        url: &str,
        account: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = StoreOptions::default();
            each(options, |name, v| o.set_redis(PY, name, v))?;
            let store = o.redis(url, account).map_err(|e| to_pyerr(py, &e))?;
            Ok(RedisStore(Arc::new(store)))
        })
    }

    fn __repr__(&self) -> String {
        // The URL may hold a password: show only the key.
        if self.0.is_for_accounts() {
            "RedisStore(account=None)".to_owned()
        } else {
            format!("RedisStore(key={:?})", self.0.token_key())
        }
    }
}

/// Keeps tokens in PostgreSQL, where the service keeps its data, durably: one account's (for a
/// `TokenManager`), or every account's through one pool of connections (for `AccountTokens`).
#[pyclass(frozen, module = "oauth_refresh", name = "PostgresStore")]
pub struct PostgresStore {
    store: Arc<oauth_refresh::PostgresStore>,
    /// Only for `repr`: the core does not hand the account back.
    account: Option<String>,
}

#[pymethods]
impl PostgresStore {
    /// The store at `url` (`postgres://user:password@host:port/database`) for `account`, or
    /// (`None`) for every account. Options (`table`, `create_table`, `max_connections`,
    /// `timeout`, `encryption_key`) are keyword arguments.
    #[new]
    #[pyo3(signature = (url, account=None, **options))]
    fn new(
        py: Python<'_>,
        url: &str,
        account: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = StoreOptions::default();
            each(options, |name, v| o.set_postgres(PY, name, v))?;
            let store = o.postgres(url, account).map_err(|e| to_pyerr(py, &e))?;
            Ok(PostgresStore {
                store: Arc::new(store),
                account: account.map(str::to_owned),
            })
        })
    }

    fn __repr__(&self) -> String {
        // The URL may hold a password: show only the account.
        format!(
            "PostgresStore(account={})",
            repr_opt(self.account.as_deref())
        )
    }
}
