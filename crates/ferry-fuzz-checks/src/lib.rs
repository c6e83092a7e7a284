//! The properties Ferry's fuzz targets check, one function per target.
//!
//! Each function takes the fuzzer's bytes, runs them through a reader's public
//! entry point exactly as a connector or the host does, and panics when a
//! property does not hold (a panic inside the code under test is a failure
//! too). The cargo-fuzz crate in `fuzz/` calls these functions; the replay
//! test of this crate (`tests/replay.rs`) runs every file of
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through them on
//! the stable toolchain, so that an input that once crashed stays fixed.
//!
//! Targets:
//! - [`text::check`] (`text_reader`): the SDK's delimited-text reader, with
//!   encoding detection, line tracking and value parsing;
//! - [`powerschool::check`] (`powerschool_files`): the PowerSchool source's
//!   sniffing, header and table recognition, and a full read of the folder;
//! - [`config::check`] (`config`): job files, `--from-set` overrides, and the
//!   CSV and PowerSchool plugins' configurations as they open;
//! - [`manifest::check`] (`manifest`): the plugin manifest as the host reads
//!   it from disk and as the SDK builds it, and the compatibility check;
//! - [`bundle::check`] (`bundle`): plugin bundles as `ferry plugins install`
//!   opens them, and libraries' embedded manifest sections.
//!
//! Assertion messages name the property and never print the input (a
//! regression file holds it).

pub mod bundle;
pub mod config;
pub mod manifest;
pub mod powerschool;
pub mod text;

use ferry_sdk::ErrorKind;

/// A target's check: panics when a property fails.
pub type Check = fn(&[u8]);

/// Every target: its name (the folder under `fuzz/corpus` and
/// `fuzz/regressions`, and the `fuzz/fuzz_targets` file) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("text_reader", text::check),
    ("powerschool_files", powerschool::check),
    ("config", config::check),
    ("manifest", manifest::check),
    ("bundle", bundle::check),
];

/// Inputs longer than this are cut: the readers stream, so longer inputs add
/// time without new paths.
pub const MAX_INPUT: usize = 64 * 1024;

/// Whether an error kind is one a plugin may honestly return for bad input:
/// never a panic, an internal error or a kind nobody knows.
pub(crate) fn is_input_error(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Config | ErrorKind::Data | ErrorKind::Io | ErrorKind::Unsupported)
}

/// The greatest line number a row of `data` can start on: one more than its
/// line-break bytes (counting a CRLF pair twice, so the bound also holds for
/// encodings whose breaks are not single bytes).
pub(crate) fn max_line(data: &[u8]) -> u64 {
    1 + data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64
}
