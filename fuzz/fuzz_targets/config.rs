//! Fuzz target `config`: see `ferry_fuzz_checks::config` for the input format
//! and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz_checks::config::check(data));
