//! End-to-end test crate; the tests are in `e2e/`.
