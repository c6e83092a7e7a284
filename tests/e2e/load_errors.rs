//! Libraries that must not load, and plugins that fail: the messages must name
//! the file or plugin and say what to do; the host never aborts.

use crate::support::*;

fn migrate_from(tmp: &std::path::Path, plugin_path: &[std::path::PathBuf], from: &str) -> Run {
    ferry(tmp, plugin_path, &["migrate", "--from", from, "--to", "csv", "--to-set", "directory=out"])
}

#[test]
fn a_library_of_another_abi_version_is_refused_by_its_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("p");
    fake_plugin(&plugins, "future", &lib("ferry-test-plugin-wrong-abi"), "0.99.0");
    let v = ferry(tmp.path(), std::slice::from_ref(&plugins), &["plugins", "list", "--format", "json"])
        .ok()
        .json();
    let future = &v["plugins"][0];
    assert_eq!(future["compatible"], false);
    let why = future["incompatible_reason"].as_str().unwrap();
    assert!(why.contains("ABI 0.99.0") && why.contains("0.2.0") && why.contains("rebuild"), "{why}");

    let run = migrate_from(tmp.path(), &[plugins, plugins_dir()], "future");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("ABI 0.99.0") && run.stderr.contains("rebuild the plugin"), "{}", run.stderr);
}

#[test]
fn a_library_of_another_abi_is_refused_by_abi_stable_even_if_its_manifest_lies() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("p");
    fake_plugin(&plugins, "liar", &lib("ferry-test-plugin-wrong-abi"), "0.2.0");
    let run = migrate_from(tmp.path(), &[plugins, plugins_dir()], "liar");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("plugin 'liar'"), "{}", run.stderr);
    assert!(run.stderr.contains("built against ferry plugin ABI 0.99.0"), "{}", run.stderr);
    assert!(run.stderr.contains("rebuild the plugin against ferry-sdk 0.2"), "{}", run.stderr);
    assert!(run.stderr.contains("libferry_test_plugin_wrong_abi"), "names the file: {}", run.stderr);

    let pkg = ferry(
        tmp.path(),
        &[],
        &["plugins", "package", lib("ferry-test-plugin-wrong-abi").to_str().unwrap(), "--out", "x"],
    );
    assert_eq!(pkg.code, Some(1));
    assert!(pkg.stderr.contains("ABI 0.99.0"), "{}", pkg.stderr);
}

#[test]
fn a_shared_library_that_is_not_a_plugin_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("p");
    fake_plugin(&plugins, "notplugin", &lib("ferry-test-plugin-not-a-plugin"), "0.2.0");
    let run = migrate_from(tmp.path(), &[plugins, plugins_dir()], "notplugin");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("is a shared library but not a Ferry plugin"), "{}", run.stderr);
    assert!(run.stderr.contains("libferry_test_plugin_not_a_plugin"), "{}", run.stderr);

    let garbage = tmp.path().join("g");
    std::fs::create_dir_all(&garbage).unwrap();
    let junk = garbage.join("junk.so");
    std::fs::write(&junk, b"\x7fELF but not really").unwrap();
    fake_plugin(&garbage, "junk", &junk, "0.2.0");
    let run = migrate_from(tmp.path(), &[garbage, plugins_dir()], "junk");
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("cannot open plugin library") && run.stderr.contains("junk.so"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_panicking_plugin_becomes_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = [fixtures_dir(), plugins_dir()];
    for (place, expect) in [
        ("open", "deliberate panic while opening"),
        ("next_batch", "index out of bounds"),
        ("write", "deliberate panic in write"),
    ] {
        let (to, to_set) =
            if place == "write" { ("panicky", "panic_in=write") } else { ("csv", "directory=out") };
        let from_set = format!("panic_in={}", if place == "write" { "none" } else { place });
        let run = ferry(
            tmp.path(),
            &paths,
            &["migrate", "--from", "panicky", "--from-set", &from_set, "--to", to, "--to-set", to_set],
        );
        assert_eq!(run.code, Some(1), "host must exit with an error, not abort: {run:?}", run = run.stderr);
        assert!(run.stderr.contains("plugin 'panicky' panicked"), "{}", run.stderr);
        assert!(run.stderr.contains(expect), "{}", run.stderr);
        assert!(run.stderr.contains("earlier outputs are intact"), "{}", run.stderr);
    }
}

#[test]
fn a_library_changed_after_packaging_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pkgs");
    let libfile = packaged_library(tmp.path(), &lib("ferry-test-plugin-panicky"), &out);
    flip_last_byte(&libfile);
    let run = ferry(
        tmp.path(),
        &[out, plugins_dir()],
        &[
            "migrate",
            "--from",
            "panicky",
            "--from-set",
            "panic_in=none",
            "--to",
            "csv",
            "--to-set",
            "directory=o",
        ],
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("is not the file that was packaged"), "{}", run.stderr);
}

#[test]
fn a_sink_whose_counts_do_not_add_up_fails_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[fixtures_dir()],
        &[
            "migrate",
            "--from",
            "panicky",
            "--from-set",
            "panic_in=none",
            "--to",
            "panicky",
            "--to-set",
            "panic_in=miscount",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("was given 1 orgs records but accounted for 2 written and 0 rejected"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("bug in the sink"), "{}", run.stderr);
}
