//! Fuzz target `csv_config`: see `ferry_fuzz_checks_csv` for the input
//! format and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz_checks_csv::check(data));
