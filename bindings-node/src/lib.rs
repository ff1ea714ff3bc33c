//! `oauth-refresh` for Node: the core's client, tokens and errors, converted and nothing
//! more. No HTTP or OAuth logic lives here.

mod accounts;
mod background;
mod client;
mod error;
mod manager;
mod options;
mod raw;
mod request;
mod store;
mod table;
mod token;

use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(module_exports, catch_unwind)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
    error::guard(&env, error::NOT_SENT, || {
        error::install(&env, &mut exports)?;
        token::install(&env, &mut exports)?;
        client::install_fast(&env, &exports)?;
        manager::install(&env)?;
        exports.set_named_property("ERROR_CODES", error::all_codes())
    })
}
