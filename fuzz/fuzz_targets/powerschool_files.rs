//! Fuzz target `powerschool_files`: see `ferry_fuzz_checks::powerschool` for the input format
//! and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz_checks::powerschool::check(data));
