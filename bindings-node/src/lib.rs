//! `oauth-refresh` for Node: the core's client, tokens and errors, converted and nothing
//! more. No HTTP or OAuth logic lives here.

mod client;
mod error;
mod manager;
mod request;
mod token;

use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
    error::install(&env, &mut exports)
}
