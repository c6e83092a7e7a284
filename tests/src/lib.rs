//! End-to-end test crate; the tests are in `e2e/`. The library holds the
//! fake servers the tests (and connectors' own tests) run on loopback.

pub mod fakes;
