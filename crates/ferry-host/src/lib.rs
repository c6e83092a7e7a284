//! The Ferry host: finds plugins ([`discovery`]), checks and loads them
//! ([`loader`]), reads jobs ([`job`]) and runs migrations ([`pipeline`]).
//!
//! Architecture invariants:
//! - only this crate loads libraries; plugins are never unloaded;
//! - `ferry plugins list` reads manifests only and loads no code;
//! - every call into a plugin returns a value: plugin panics arrive as errors
//!   naming the plugin (the SDK catches them), never as an unwind;
//! - per entity, `read = written + rejected + skipped`, or the run fails.
#![warn(missing_docs)]

pub mod bundle;
pub mod checks;
pub mod control;
pub mod discovery;
pub mod fsutil;
pub mod install;
pub mod inventory;
#[cfg(unix)]
pub mod isolate;
pub mod job;
pub mod library;
pub mod loader;
pub mod pipeline;
pub mod plan;
pub mod signing;
pub mod stages;
pub mod time;

pub use ferry_plugin_abi::{ABI_VERSION, MODEL_VERSION};
