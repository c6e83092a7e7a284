//! End-to-end tests: the real `ferry` binary, with plugins really built,
//! packaged and loaded. `cargo xtask test` builds everything and points these
//! tests at it through `FERRY_E2E_*` variables.
//!
//! Modules:
//! - `accounting`: a property test: random districts with random bad rows add up, each bad row named once;
//! - `plugins_cli`: `ferry plugins list | info | package`;
//! - `load_errors`: wrong ABI, not a plugin, panics, tampered and incompatible plugins;
//! - `third_party`: a plugin built outside the workspace with ferry-sdk only;
//! - `authoring`: `docs/plugin-authoring.md` literally: `ferry plugins new`, cargo build and test (the
//!   conformance kit) offline, bundle, keygen, trust, install, migrate with it, remove;
//! - `bundles`: signed bundles, the trust store, `ferry plugins install|verify|remove`, tampered,
//!   untrusted, wrong-target and wrong-ABI bundles, an interrupted install, pinned and ambiguous versions;
//! - `integrity`: unverified and tampered plugins, the private image `dlopen` maps, which file
//!   was loaded and which it shadows, owner-only output files;
//! - `csv_to_csv`: the bundled sample through the CSV connector both ways;
//! - `commit`: the commit protocol, stops, shared outputs, exit codes, closed pipes, owner-only outputs;
//! - `archive`: the SQLite archive, the default destination, and `ferry archive`;
//! - `oneroster`: OneRoster packages: the LMS Toolkit sample, a delta into an archive, a generated
//!   district into a package `ferry validate oneroster` accepts, a round trip compared file by file;
//! - `powerschool`: generated districts (quirks, encodings) through the PowerSchool connector;
//! - `powerschool_api`: the PowerSchool connector's API mode against the fake PowerSchool: the same
//!   district as its export, 429s, short-lived tokens, Ctrl-C then a resume, a `/count` that disagrees;
//! - `core2`: the Core 2.0 contract (older model minor, dry runs, late rejects and receipts,
//!   accounting, field policy, stops at any moment, secrets, `PLUGIN:LOCATION`);
//! - `workflow`: migration folders: `ferry init`, the journal, `ferry status`;
//! - `oneroster_validate`: `ferry validate oneroster` on the real LMS Toolkit sample, on broken copies
//!   of it (each error at its file, line and column), and on a package the crate wrote;
//! - `checks`: `ferry check`, the readiness checks, on a generated district;
//! - `solution`: the whole workflow through the Solution Document (plan init, check, render, `--plan` runs);
//! - `browser`: every HTML report in headless Chromium (no console errors, no requests, the
//!   headline figures of the JSON report, a screenshot and PDFs kept), through `cdp`, a small
//!   DevTools protocol client over `--remote-debugging-pipe`;
//! - `edfi`: a generated district through the Ed-Fi connector into the fake Ed-Fi API, and `ferry verify`
//!   reading it back;
//! - `live_chain`: a generated district from the fake PowerSchool API to the fake Ed-Fi API through the
//!   binary: 429s and token refreshes on both sides, a dry run naming a missing descriptor, Ctrl-C in
//!   mid-read, then a resume, every record accounted for;
//! - `faults`: `kill -9` and SIGTERM at seeded random moments of a run into an archive;
//! - `isolation`: `--isolate`: runners that segfault, abort, are killed, pass their memory or time
//!   limit, or are stopped, each failing the run cleanly; isolated runs write what in-process runs write.

#![allow(clippy::unwrap_used, reason = "test code: a failed unwrap is a failed test")]

mod support;

mod accounting;
mod archive;
mod authoring;
#[cfg(unix)]
mod browser;
mod bundles;
#[cfg(unix)]
mod cdp;
mod checks;
mod commit;
mod core2;
mod csv_to_csv;
mod edfi;
#[cfg(unix)]
mod faults;
mod integrity;
#[cfg(unix)]
mod isolation;
mod live_chain;
mod load_errors;
mod oneroster;
mod oneroster_validate;
mod plugins_cli;
mod powerschool;
mod powerschool_api;
mod readers;
mod solution;
mod third_party;
mod workflow;
