//! liboauth_refresh: the core's client, tokens and errors behind a C API in rustls-ffi's
//! conventions. Conversions only; no HTTP or OAuth logic lives here.
//!
//! Every exported function checks its pointers, validates UTF-8, writes out-parameters only
//! on success, and catches panics: a panic never crosses into C.
#![allow(non_camel_case_types)]
// The getters take pointers from C, where `unsafe` means nothing; each one NULL-checks and
// its doc comment states what the pointer must be.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod accounts;
mod client;
mod error;
mod ffi;
mod manager;
mod store;
mod token;

pub use accounts::*;
pub use client::*;
pub use error::*;
pub use manager::*;
pub use store::*;
pub use token::*;
