//! Every file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`
//! through its target's check, on the stable toolchain: an input that once
//! crashed a fuzzer (kept in `regressions/`) must keep passing, and so must
//! the corpus the fuzzers grew.

#![allow(clippy::unwrap_used, reason = "test code: a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};

use ferry_fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Runs every input of `kind` (corpus or regressions) of every target;
/// returns how many ran. A failing input is named with its path.
fn replay(kind: &str) -> usize {
    let mut ran = 0;
    for (target, check) in TARGETS {
        for path in inputs(&fuzz_dir().join(kind).join(target)) {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(
                result.is_ok(),
                "{target}: {} fails its check (replay it: cargo test -p ferry-fuzz-checks)",
                path.display()
            );
            ran += 1;
        }
    }
    ran
}

#[test]
fn every_target_has_a_fuzz_target_file_and_a_corpus() {
    for (target, _) in TARGETS {
        assert!(
            fuzz_dir().join("fuzz_targets").join(format!("{target}.rs")).is_file(),
            "fuzz/fuzz_targets/{target}.rs"
        );
        assert!(!inputs(&fuzz_dir().join("corpus").join(target)).is_empty(), "fuzz/corpus/{target} is empty");
    }
}

#[test]
fn regressions_stay_fixed() {
    let ran = replay("regressions");
    println!("{ran} regression inputs replayed");
}

#[test]
fn the_corpus_passes() {
    let ran = replay("corpus");
    assert!(ran >= TARGETS.len(), "only {ran} corpus inputs");
}
