//! `MemoryStore`, `FileStore`, `RedisStore`: the core's stores, built through its `StoreOptions`.

use std::path::PathBuf;
use std::sync::Arc;

use oauth_refresh::StoreOptions;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{guarded, to_pyerr};
use crate::options::{each, PY};

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

/// Keeps the token in Redis, shared by the processes of many hosts.
#[pyclass(frozen, module = "oauth_refresh", name = "RedisStore")]
pub struct RedisStore(pub(crate) Arc<oauth_refresh::RedisStore>);

#[pymethods]
impl RedisStore {
    /// The store for `account` at `url`. Options (`prefix`, `timeout`, `encryption_key`)
    /// are keyword arguments.
    #[new]
    #[pyo3(signature = (url, *, account, **options))]
    fn new(
        py: Python<'_>,
        url: &str,
        account: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut o = StoreOptions::default();
            each(options, |name, v| o.set_redis(PY, name, v))?;
            let store = o.redis(url, Some(account)).map_err(|e| to_pyerr(py, &e))?;
            Ok(RedisStore(Arc::new(store)))
        })
    }

    fn __repr__(&self) -> String {
        // The URL may hold a password: show only the key.
        format!("RedisStore(key={:?})", self.0.token_key())
    }
}
