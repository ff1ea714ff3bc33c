//! `oauth_refresh._native`: the Python face of the core. Conversions only; no HTTP or OAuth
//! logic lives here.

mod accounts;
mod background;
mod client;
mod error;
mod manager;
mod options;
mod request;
mod store;
mod token;

use pyo3::prelude::*;

/// Python's `repr` of an optional string: `'text'` or `None`.
fn repr_opt(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")),
        None => "None".to_owned(),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<request::RefreshTokenRequest>()?;
    m.add_class::<token::Token>()?;
    m.add_class::<manager::TokenManager>()?;
    m.add_class::<store::MemoryStore>()?;
    m.add_class::<store::FileStore>()?;
    m.add_class::<store::RedisStore>()?;
    m.add_class::<store::PostgresStore>()?;
    m.add_class::<accounts::AccountTokens>()?;
    m.add_class::<accounts::AccountEvent>()?;
    m.add_class::<accounts::Health>()?;
    m.add_class::<background::Mailbox>()?;
    m.add_function(wrap_pyfunction!(error::_error_codes, m)?)?;
    // Not a module attribute: only atexit calls it.
    let close_all = wrap_pyfunction!(accounts::close_all, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (close_all,))?;
    // Before the interpreter joins its threads, as concurrent.futures' hook runs: every
    // exchange queued or in flight completes and is delivered.
    let stop = wrap_pyfunction!(background::stop, m)?;
    m.py()
        .import("threading")?
        .call_method1("_register_atexit", (stop,))?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
