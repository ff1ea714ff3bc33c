//! liboauth_refresh: the core's client, tokens and errors behind a C API in rustls-ffi's
//! conventions. Conversions only; no HTTP or OAuth logic lives here.
//!
//! Every exported function checks its pointers, validates UTF-8, writes out-parameters only
//! on success, and catches panics: a panic never crosses into C.
#![allow(non_camel_case_types)]

mod client;
mod error;
mod ffi;
mod token;

pub use client::*;
pub use error::*;
pub use token::*;
