//! `docs/plugin-authoring.md`, step by step, through the real binary: a new
//! plugin crate from `ferry plugins new`, built and tested (the conformance
//! kit) with cargo offline, bundled, signed, trusted, installed, used in a
//! migration, and removed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::support::*;

/// Cargo, as the test runner was started by it.
fn cargo(cwd: &Path, args: &[&str], target: &Path) -> Run {
    let bin = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(bin)
        .current_dir(cwd)
        .args(&args[..1])
        .arg("--target-dir")
        .arg(target)
        .args(&args[1..])
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    Run::from(out)
}

/// The workspace's own target folder (the one the plugins were built into),
/// so the new crate reuses the compiled dependencies it can.
fn shared_target() -> PathBuf {
    lib("x").parent().and_then(Path::parent).expect("a target folder above the libraries").to_owned()
}

#[test]
fn a_new_plugin_goes_from_template_to_migration_and_out_again() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let crate_dir = home.join("e2e-roster");

    // 1. ferry plugins new
    let made = ferry(home, &[plugins_dir()], &["plugins", "new", "e2e-roster", "--path", "e2e-roster"]);
    assert!(made.ok().stdout.contains("created plugin crate e2e-roster"), "{}", made.stdout);
    for f in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "tests/conformance.rs",
        "README.md",
        "sample/students.jsonl",
    ] {
        assert!(crate_dir.join(f).is_file(), "{f} was made");
    }
    let again = ferry(home, &[plugins_dir()], &["plugins", "new", "e2e-roster", "--path", "e2e-roster"]);
    assert_eq!(again.code, Some(1), "an existing folder is refused: {}", again.stderr);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
    let bad = ferry(home, &[plugins_dir()], &["plugins", "new", "E2E_Roster"]);
    assert!(bad.stderr.contains("not a valid plugin id"), "{}", bad.stderr);

    // 2. cargo build, offline
    let target = shared_target();
    let t = Instant::now();
    let build = cargo(&crate_dir, &["build", "--offline"], &target);
    assert_eq!(build.code, Some(0), "the template builds as it is:\n{}", build.stderr);
    eprintln!("authoring: cargo build of the new crate took {:.1?}", t.elapsed());

    // 3. cargo test: the conformance kit
    let t = Instant::now();
    let test = cargo(&crate_dir, &["test", "--offline", "--", "--nocapture"], &target);
    assert_eq!(test.code, Some(0), "its conformance tests pass:\n{}\n{}", test.stdout, test.stderr);
    eprintln!("authoring: cargo test of the new crate took {:.1?}", t.elapsed());
    assert!(test.stdout.contains("test the_plugin_passes_the_conformance_kit ... ok"), "{}", test.stdout);
    for check in ["manifest", "source batches", "entities", "panics", "cancellation", "receipts", "dry run"] {
        assert!(
            test.stdout.contains(&format!("  ok      {check}")),
            "the kit ran `{check}`:\n{}",
            test.stdout
        );
    }

    // 4. ferry plugins keygen, bundle --sign
    let library = target.join("debug").join(format!(
        "{}e2e_roster{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    ferry(home, &[plugins_dir()], &["plugins", "keygen", "my-key", "--name", "E2E Authors"]).ok();
    let bundled = ferry(
        home,
        &[plugins_dir()],
        &[
            "plugins",
            "bundle",
            library.to_str().unwrap(),
            "--sign",
            "my-key",
            "--readme",
            "e2e-roster/README.md",
        ],
    );
    assert!(bundled.ok().stdout.contains("signed by key"), "{}", bundled.stdout);
    let bundle = "e2e-roster-0.1.0.ferry-plugin";
    assert!(home.join(bundle).is_file(), "{}", bundled.stdout);

    // 5. untrusted until trusted
    let refused = ferry(home, &[plugins_dir()], &["plugins", "install", bundle]);
    assert_ne!(refused.code, Some(0), "an untrusted signer is refused: {}", refused.stdout);
    ferry(home, &[plugins_dir()], &["plugins", "trust", "add", "my-key.pub", "--name", "E2E Authors"]).ok();
    let installed = ferry(home, &[plugins_dir()], &["plugins", "install", bundle]);
    assert!(
        installed.ok().stdout.contains("installed e2e-roster 0.1.0")
            && installed.stdout.contains("E2E Authors"),
        "{}",
        installed.stdout
    );

    // 6. ferry migrate with it: its source into CSV, and into its own sink.
    std::fs::copy(crate_dir.join("sample/students.jsonl"), home.join("students.jsonl")).unwrap();
    let run = ferry(
        home,
        &[plugins_dir()],
        &["migrate", "--from", "e2e-roster:students.jsonl", "--to", "csv:out", "--format", "json"],
    );
    let v = run.ok().json();
    let students = entity(&v, "students");
    assert_eq!((students["read"].as_u64(), students["written"].as_u64()), (Some(3), Some(3)), "{v}");
    let csv = read(&home.join("out/students.csv"));
    assert!(csv.contains("Núñez") && csv.contains("1003"), "{csv}");
    let copy = ferry(
        home,
        &[plugins_dir()],
        &["migrate", "--from", "e2e-roster:students.jsonl", "--to", "e2e-roster:copy.jsonl"],
    );
    copy.ok();
    let lines = read(&home.join("copy.jsonl"));
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(lines.contains("\"last_name\":\"Núñez\""), "{lines}");

    // 7. ferry plugins remove
    let removed = ferry(home, &[plugins_dir()], &["plugins", "remove", "e2e-roster"]);
    assert!(removed.ok().stdout.contains("removed e2e-roster 0.1.0"), "{}", removed.stdout);
    let gone = ferry(
        home,
        &[plugins_dir()],
        &["migrate", "--from", "e2e-roster:students.jsonl", "--to", "csv:out2"],
    );
    assert_ne!(gone.code, Some(0), "a removed plugin is gone: {}", gone.stderr);
    assert!(gone.stderr.contains("e2e-roster"), "{}", gone.stderr);
}
