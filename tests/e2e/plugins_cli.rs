//! `ferry plugins list | info | package`.

use crate::support::*;

#[test]
fn list_shows_first_party_plugins_without_loading_code() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(tmp.path(), &[plugins_dir()], &["plugins", "list", "--format", "json"]);
    let v = run.ok().json();
    let plugins = v["plugins"].as_array().unwrap();
    let csv = plugins.iter().find(|p| p["id"] == "csv").expect("csv plugin listed");
    assert_eq!(csv["kind"], serde_json::json!(["source", "sink"]));
    assert_eq!(csv["compatible"], true);
    assert!(csv["entities"].as_array().unwrap().iter().any(|e| e == "students"));
    assert!(csv["library"].as_str().unwrap().contains("ferry_plugin_csv"));

    let text = ferry(tmp.path(), &[plugins_dir()], &["plugins", "list"]);
    assert!(
        text.ok().stdout.lines().any(|l| l.starts_with("csv ") && l.contains("source+sink")),
        "{}",
        text.stdout
    );
}

#[test]
fn list_reads_manifests_only() {
    // A manifest whose library is garbage is still listed: nothing was loaded.
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("garbage.so");
    std::fs::write(&lib, b"not a library").unwrap();
    fake_plugin(tmp.path(), "garbage", &lib, ferry_abi());
    let v = ferry(tmp.path(), &[tmp.path().to_owned()], &["plugins", "list", "--format", "json"]).ok().json();
    assert!(v["plugins"].as_array().unwrap().iter().any(|p| p["id"] == "garbage" && p["compatible"] == true));
}

/// The ABI version this host speaks, as `plugins info` reports it.
pub fn ferry_abi() -> &'static str {
    "0.2.0"
}

#[test]
fn info_describes_a_plugin_and_checks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(tmp.path(), &[plugins_dir()], &["plugins", "info", "csv", "--check"]);
    let out = &run.ok().stdout;
    assert!(out.contains("kind:        source+sink"), "{out}");
    assert!(out.contains("compatible:  yes"), "{out}");
    assert!(out.contains("load check:  ok"), "{out}");
    assert!(out.contains("host speaks 0.2.0"), "{out}");
    assert!(out.contains("location:    a bare --from/--to csv:PATH sets `directory`"), "{out}");
    assert!(out.contains("transactional") && out.contains("dry runs supported"), "{out}");

    let missing = ferry(tmp.path(), &[plugins_dir()], &["plugins", "info", "nope"]);
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("no plugin 'nope'"), "{}", missing.stderr);
}

#[test]
fn package_writes_manifest_with_hash_and_library() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pkgs");
    ferry(
        tmp.path(),
        &[],
        &["plugins", "package", lib("ferry-plugin-csv").to_str().unwrap(), "--out", out.to_str().unwrap()],
    )
    .ok();
    let manifest = read(&out.join("csv/ferry-plugin.toml"));
    assert!(manifest.contains("id = \"csv\""), "{manifest}");
    assert!(manifest.contains("sha256 = \""), "{manifest}");
    assert!(manifest.contains("abi_version = \"0.2.0\""), "{manifest}");
    assert!(manifest.contains("model_version = \"2.2\""), "{manifest}");
    let v =
        ferry(tmp.path(), std::slice::from_ref(&out), &["plugins", "list", "--format", "json"]).ok().json();
    assert_eq!(v["plugins"][0]["id"], "csv");
}
