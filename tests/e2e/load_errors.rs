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

/// A copy of `library` whose manifest section is renamed: a library as the
/// SDK built it before manifests were embedded (the bytes stay, the section
/// the host looks for is gone).
#[cfg(target_os = "linux")]
fn without_manifest_section(library: &std::path::Path, out: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(library).unwrap();
    let name = b".ferry_manifest\0";
    let mut renamed = 0;
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(name.len()).position(|w| w == name) {
        bytes[i + at + name.len() - 2] = b'x';
        renamed += 1;
        i += at + name.len();
    }
    assert!(renamed > 0, "the section's name is in {}", library.display());
    let path = out.join(library.file_name().unwrap());
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
#[cfg(target_os = "linux")]
fn a_library_without_an_embedded_manifest_loads_from_its_folder_but_is_not_packaged_again() {
    let tmp = tempfile::tempdir().unwrap();
    let old = without_manifest_section(&lib("ferry-test-plugin-model-2-0"), tmp.path());
    for args in [
        vec!["plugins", "package", old.to_str().unwrap(), "--out", "x"],
        vec!["plugins", "bundle", old.to_str().unwrap(), "--out", "x.ferry-plugin"],
    ] {
        let run = ferry(tmp.path(), &[], &args);
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("no embedded manifest")
                && run.stderr.contains("rebuild it against the current ferry-sdk"),
            "{args:?} says what to do: {}",
            run.stderr
        );
    }
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("x.ferry-plugin").exists());
    // Packaged before (a folder with its ferry-plugin.toml and SHA-256), it
    // still loads: loading reads the manifest file and the library's own
    // manifest function, not the section.
    let plugins = tmp.path().join("p");
    let dir = fake_plugin(&plugins, "model-2-0", &old, "0.2.0");
    let m = dir.join("ferry-plugin.toml");
    std::fs::write(&m, read(&m).replace("version = \"0.1.0\"", "version = \"2.0.0\"")).unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins, plugins_dir()],
        &["migrate", "--from", "model-2-0", "--to", "csv:out", "--format", "json"],
    );
    assert_eq!(entity(&run.ok().json(), "students")["written"], 3);
}

#[test]
fn a_plugin_of_another_model_is_refused_saying_what_to_rebuild_against() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("p");
    for (id, model) in [("model-one", "1.4"), ("model-next", "2.99")] {
        let dir = fake_plugin(&plugins, id, &lib("ferry-test-plugin-model-2-0"), "0.2.0");
        let m = dir.join("ferry-plugin.toml");
        let text = read(&m).replace("model_version = \"2.0\"", &format!("model_version = \"{model}\""));
        std::fs::write(&m, text).unwrap();
    }
    let paths = [plugins, plugins_dir()];
    let one = migrate_from(tmp.path(), &paths, "model-one");
    assert_eq!(one.code, Some(1), "{}", one.stderr);
    assert!(
        one.stderr.contains("canonical model 1.4")
            && one.stderr.contains(
                "rebuild the plugin against the ferry-sdk of this ferry (plugin ABI 0.2.0, model 2.2)"
            ),
        "{}",
        one.stderr
    );
    let next = migrate_from(tmp.path(), &paths, "model-next");
    assert_eq!(next.code, Some(1), "{}", next.stderr);
    assert!(next.stderr.contains("model 2.99") && next.stderr.contains("upgrade ferry"), "{}", next.stderr);
}
