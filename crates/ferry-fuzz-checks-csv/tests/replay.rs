//! Every file of `fuzz/corpus/csv_config/` and `fuzz/regressions/csv_config/`
//! through the target's check, on the stable toolchain.

#![allow(clippy::unwrap_used, reason = "test code: a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};

use ferry_fuzz_checks_csv::{TARGET, check};

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join(TARGET);
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let files = inputs(kind);
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{TARGET}: {} fails its check", path.display());
    }
    files.len()
}

#[test]
fn regressions_stay_fixed() {
    println!("{} regression inputs replayed", replay("regressions"));
}

#[test]
fn the_corpus_passes() {
    assert!(replay("corpus") > 0, "fuzz/corpus/{TARGET} is empty");
}
