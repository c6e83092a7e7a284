//! How the plugin names itself in the archives it writes.

/// What the plugin calls itself in `ferry_meta` and `ferry_runs`.
pub const WRITER: &str = concat!("ferry-plugin-sqlite ", env!("CARGO_PKG_VERSION"));
