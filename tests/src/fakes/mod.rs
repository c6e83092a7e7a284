//! Fake servers on loopback, for tests that must not touch the network. Each
//! runs on a thread of its own with its own tokio runtime, so that
//! synchronous tests (and the `ferry` binary they start) can talk to it.

pub mod edfi;
pub mod powerschool;
