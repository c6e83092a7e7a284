//! Fuzz target `bundle`: see `ferry_fuzz_checks::bundle` for the input format
//! and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz_checks::bundle::check(data));
