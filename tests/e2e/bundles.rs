//! Plugin bundles, signatures, the trust store and installs, through the
//! real binary: keygen → bundle --sign → trust add → install → migrate with
//! it → verify → remove; and every refusal the issue names: a tampered
//! bundle, an untrusted key, the wrong target, the wrong ABI, an interrupted
//! install, and pinned versions.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use crate::support::*;

/// The install folder of a test's private `FERRY_HOME` (see `ferry()`).
fn installed_root(cwd: &Path) -> PathBuf {
    cwd.join(".ferry-home/plugins")
}

fn run(cwd: &Path, args: &[&str]) -> Run {
    ferry(cwd, &[plugins_dir()], args)
}

/// A copy of the noop fixture's library with bytes of its embedded manifest
/// replaced (`from` → `to`, padded with spaces to the same length): a
/// library as another build would be, without building one.
fn patched_noop(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut bytes = std::fs::read(lib("ferry-test-plugin-noop")).unwrap();
    for (from, to) in edits {
        assert!(to.len() <= from.len(), "{to} is longer than {from}");
        let padded = format!("{to:<width$}", width = from.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("{from:?} is not in the library"));
        bytes[at..at + from.len()].copy_from_slice(padded.as_bytes());
    }
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join(lib("ferry-test-plugin-noop").file_name().unwrap());
    std::fs::write(&file, bytes).unwrap();
    file
}

fn host_target(cwd: &Path) -> String {
    // What the fixture was built for is what this ferry runs on.
    let bytes = std::fs::read(lib("ferry-test-plugin-noop")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let at = text.find("\ntarget=").expect("the library names its target") + "\ntarget=".len();
    let _ = cwd;
    text[at..].split('\n').next().unwrap().trim().to_owned()
}

fn keygen(cwd: &Path, name: &str) -> (PathBuf, PathBuf) {
    let secret = cwd.join(name);
    run(cwd, &["plugins", "keygen", secret.to_str().unwrap(), "--name", name]).ok();
    (secret.clone(), PathBuf::from(format!("{}.pub", secret.display())))
}

fn bundle(cwd: &Path, library: &Path, key: Option<&Path>, out: &str) -> PathBuf {
    let mut args = vec!["plugins", "bundle", library.to_str().unwrap(), "--out", out];
    if let Some(k) = key {
        args.extend(["--sign", k.to_str().unwrap()]);
    }
    run(cwd, &args).ok();
    cwd.join(out)
}

fn migrate_noop(cwd: &Path, plugin: &str) -> Run {
    run(cwd, &["migrate", "--from", plugin, "--from-set", "count=3", "--to", plugin, "--format", "json"])
}

/// Rewrites a bundle (a zip) with one file's bytes changed by `f`.
fn rewrite_bundle(path: &Path, out: &Path, file: &str, f: impl Fn(Vec<u8>) -> Vec<u8>) {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        let name = e.name().unwrap().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if name == file {
            data = f(data);
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap();
}

#[test]
fn a_signed_bundle_installs_runs_records_what_ran_verifies_and_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let (secret, public) = keygen(cwd, "acme");
    let b = bundle(cwd, &lib("ferry-test-plugin-noop"), Some(&secret), "noop.ferry-plugin");

    // Not trusted yet: refused, saying what to do.
    let refused = run(cwd, &["plugins", "install", b.to_str().unwrap()]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("which you do not trust") && refused.stderr.contains("trust add"),
        "{}",
        refused.stderr
    );
    assert!(!installed_root(cwd).join("noop").exists(), "nothing was copied");

    run(cwd, &["plugins", "trust", "add", public.to_str().unwrap(), "--name", "acme"]).ok();
    let keys = run(cwd, &["plugins", "trust", "list", "--format", "json"]).ok().json();
    let key_id = keys[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(keys[0]["name"], "acme");
    let installed = run(cwd, &["plugins", "install", b.to_str().unwrap(), "--format", "json"]).ok().json();
    assert_eq!(installed["version"], "0.1.0");
    let dir = installed_root(cwd).join("noop/0.1.0");
    assert!(dir.join("ferry-plugin.toml").is_file() && dir.join("README.md").is_file());
    // Installing the same bundle again changes nothing.
    let again = run(cwd, &["plugins", "install", b.to_str().unwrap()]).ok().stdout.clone();
    assert!(again.contains("installed already, identical"), "{again}");

    let list = run(cwd, &["plugins", "list", "--format", "json"]).ok().json();
    let noop = list["plugins"].as_array().unwrap().iter().find(|p| p["id"] == "noop").unwrap().clone();
    assert_eq!(noop["installed"]["signed_by"], key_id.as_str());
    let sha = noop["sha256"].as_str().unwrap().to_owned();

    // The run records what ran.
    let report = migrate_noop(cwd, "noop").ok().json();
    let plugins = report["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 2);
    for p in plugins {
        assert_eq!(p["id"], "noop");
        assert_eq!(p["version"], "0.1.0");
        assert_eq!(p["sha256"], sha.as_str());
        assert_eq!(p["signed_by"], key_id.as_str());
    }
    let text =
        run(cwd, &["migrate", "--from", "noop", "--from-set", "count=3", "--to", "noop"]).ok().stdout.clone();
    assert!(
        text.contains(&format!("Plugin (source): noop 0.1.0, library sha256 {sha}, signed by key {key_id}")),
        "{text}"
    );

    let verified = run(cwd, &["plugins", "verify"]).ok().stdout.clone();
    assert!(verified.contains("ok       noop 0.1.0"), "{verified}");

    // A changed installed file: verify says which, and the loader refuses it.
    let library = dir.join(lib("ferry-test-plugin-noop").file_name().unwrap());
    flip_last_byte(&library);
    let changed = run(cwd, &["plugins", "verify"]);
    assert_eq!(changed.code, Some(1));
    assert!(
        changed.stdout.contains("CHANGED  noop 0.1.0")
            && changed.stdout.contains("libferry_test_plugin_noop"),
        "{}",
        changed.stdout
    );
    let refused = migrate_noop(cwd, "noop");
    assert_eq!(refused.code, Some(1));
    assert!(refused.stderr.contains("is not the file that was packaged"), "{}", refused.stderr);

    let removed = run(cwd, &["plugins", "remove", "noop"]).ok().stdout.clone();
    assert!(removed.contains("removed noop 0.1.0"), "{removed}");
    assert!(!installed_root(cwd).join("noop").exists());
    let gone = migrate_noop(cwd, "noop");
    assert_eq!(gone.code, Some(2), "{}", gone.stderr);
    assert!(gone.stderr.contains("no plugin 'noop'"), "{}", gone.stderr);

    let untrusted = run(cwd, &["plugins", "trust", "remove", "acme"]).ok().stdout.clone();
    assert!(untrusted.contains("no longer trusting 'acme'"), "{untrusted}");
    let refused = run(cwd, &["plugins", "install", b.to_str().unwrap()]);
    assert_eq!(refused.code, Some(1), "a key no longer trusted no longer installs");
}

#[test]
fn a_tampered_bundle_is_refused_saying_what_did_not_match() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let (secret, public) = keygen(cwd, "acme");
    run(cwd, &["plugins", "trust", "add", public.to_str().unwrap()]).ok();
    let b = bundle(cwd, &lib("ferry-test-plugin-noop"), Some(&secret), "noop.ferry-plugin");
    let target = host_target(cwd);
    let lib_entry =
        format!("lib/{target}/{}", lib("ferry-test-plugin-noop").file_name().unwrap().to_string_lossy());

    // A byte of the library changed, the checksums left as they were.
    let flip = |mut d: Vec<u8>| {
        let n = d.len() / 2;
        d[n] ^= 1;
        d
    };
    let t1 = cwd.join("t1.ferry-plugin");
    rewrite_bundle(&b, &t1, &lib_entry, flip);
    let r = run(cwd, &["plugins", "install", t1.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains(&format!("{lib_entry} does not match its checksum")), "{}", r.stderr);

    // The checksums recomputed to match: the signature no longer does, and
    // --allow-unsigned does not excuse a broken signature.
    let t2 = cwd.join("t2.ferry-plugin");
    let new_sum = entry_sha256(&t1, &lib_entry);
    let old_sum = sha256_hex(&lib("ferry-test-plugin-noop"));
    rewrite_bundle(&t1, &t2, "SHA256SUMS", |d| {
        String::from_utf8(d).unwrap().replace(&old_sum, &new_sum).into_bytes()
    });
    // The bundle manifest names the library's hash too.
    let t3 = cwd.join("t3.ferry-plugin");
    rewrite_bundle(&t2, &t3, "ferry-bundle.toml", |d| {
        String::from_utf8(d).unwrap().replace(&old_sum, &new_sum).into_bytes()
    });
    let r = run(cwd, &["plugins", "install", t3.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("ferry-bundle.toml does not match its checksum"), "{}", r.stderr);
    let t4 = cwd.join("t4.ferry-plugin");
    let manifest_sum = entry_sha256(&t3, "ferry-bundle.toml");
    let original_manifest_sum = entry_sha256(&b, "ferry-bundle.toml");
    rewrite_bundle(&t3, &t4, "SHA256SUMS", |d| {
        String::from_utf8(d).unwrap().replace(&original_manifest_sum, &manifest_sum).into_bytes()
    });
    let r = run(cwd, &["plugins", "install", t4.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("its signature does not match its contents"), "{}", r.stderr);

    // A file slipped in.
    let t5 = cwd.join("t5.ferry-plugin");
    std::fs::copy(&b, &t5).unwrap();
    let mut z =
        zip::ZipWriter::new_append(std::fs::OpenOptions::new().read(true).write(true).open(&t5).unwrap())
            .unwrap();
    z.start_file("lib/extra.so", zip::write::SimpleFileOptions::default()).unwrap();
    z.write_all(b"surprise").unwrap();
    z.finish().unwrap();
    let r = run(cwd, &["plugins", "install", t5.to_str().unwrap()]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("lib/extra.so is not listed in SHA256SUMS"), "{}", r.stderr);

    assert!(!installed_root(cwd).join("noop").exists(), "nothing tampered was installed");
    // The original still installs.
    run(cwd, &["plugins", "install", b.to_str().unwrap()]).ok();
}

/// The SHA-256 of one file of a bundle.
fn entry_sha256(bundle: &Path, name: &str) -> String {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut d = Vec::new();
    zin.by_name(name).unwrap().read_to_end(&mut d).unwrap();
    sha256_of(&d)
}

fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn unsigned_and_untrusted_bundles_install_only_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let unsigned = bundle(cwd, &lib("ferry-test-plugin-noop"), None, "noop.ferry-plugin");
    let r = run(cwd, &["plugins", "install", unsigned.to_str().unwrap()]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("is not signed") && r.stderr.contains("--allow-unsigned"), "{}", r.stderr);
    run(cwd, &["plugins", "install", unsigned.to_str().unwrap(), "--allow-unsigned"]).ok();
    let record = read(&installed_root(cwd).join("noop/0.1.0/ferry-install.toml"));
    assert!(record.contains("not signed; installed with --allow-unsigned"), "{record}");
    let report = migrate_noop(cwd, "noop").ok().json();
    assert_eq!(report["plugins"][0]["signed_by"], "", "no signer is claimed");
}

#[test]
fn a_bundle_for_another_target_or_abi_is_refused_before_anything_is_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let target = host_target(cwd);
    let t = format!("target={target}");
    let other = patched_noop(cwd, "other-target", &[(t.as_str(), "target=wrongarch-none-elf")]);
    let b = bundle(cwd, &other, None, "other.ferry-plugin");
    let r = run(cwd, &["plugins", "install", b.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("for wrongarch-none-elf")
            && r.stderr.contains(&format!("this ferry runs on {target}")),
        "{}",
        r.stderr
    );

    let abi = patched_noop(cwd, "other-abi", &[("abi_version=0.2.0", "abi_version=0.9.0")]);
    let b = bundle(cwd, &abi, None, "abi.ferry-plugin");
    let r = run(cwd, &["plugins", "install", b.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("built against ferry plugin ABI 0.9.0")
            && r.stderr.contains("rebuild the plugin against ferry-sdk 0.2"),
        "{}",
        r.stderr
    );
    let model = patched_noop(cwd, "other-model", &[("model_version=2.2", "model_version=3.2")]);
    let b = bundle(cwd, &model, None, "model.ferry-plugin");
    let r = run(cwd, &["plugins", "install", b.to_str().unwrap(), "--allow-unsigned"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("uses canonical model 3.2"), "{}", r.stderr);
    assert!(!installed_root(cwd).join("noop").exists());
}

#[test]
fn an_interrupted_install_leaves_the_installed_version_working_and_versions_can_be_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let v1 = bundle(cwd, &lib("ferry-test-plugin-noop"), None, "noop-1.ferry-plugin");
    run(cwd, &["plugins", "install", v1.to_str().unwrap(), "--allow-unsigned"]).ok();
    let v2_lib = patched_noop(cwd, "v2", &[("crate_version=0.1.0", "crate_version=0.2.0")]);
    let v2 = bundle(cwd, &v2_lib, None, "noop-2.ferry-plugin");

    // The install dies just before its rename into place.
    let out = std::process::Command::new(ferry_bin())
        .current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", plugins_dir())
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .env("FERRY_FAILPOINT", "install-before-rename")
        .args(["plugins", "install", v2.to_str().unwrap(), "--allow-unsigned"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the failpoint aborts the install");
    let noop_dir = installed_root(cwd).join("noop");
    let leftovers: Vec<String> = std::fs::read_dir(&noop_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(leftovers.iter().any(|n| n.starts_with(".installing-0.2.0")), "{leftovers:?}");
    assert!(!noop_dir.join("0.2.0").exists());
    // The installed version still works, and nothing half-installed is seen.
    let list = run(cwd, &["plugins", "list", "--format", "json"]).ok().json();
    let versions: Vec<&str> = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .chain(list["shadowed"].as_array().unwrap())
        .filter(|p| p["id"] == "noop")
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.1.0"]);
    assert_eq!(migrate_noop(cwd, "noop").ok().json()["plugins"][0]["version"], "0.1.0");

    // Installed again: in place, the leftovers gone, the newest active.
    run(cwd, &["plugins", "install", v2.to_str().unwrap(), "--allow-unsigned"]).ok();
    let names: Vec<String> = std::fs::read_dir(&noop_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["0.1.0", "0.2.0"], "no stray files: {names:?}");
    let text = run(cwd, &["plugins", "list"]).ok().stdout.clone();
    let active: Vec<&str> =
        text.lines().filter(|l| l.starts_with("noop ") && l.contains(" active ")).collect();
    assert!(active.len() == 1 && active[0].contains("0.2.0"), "{text}");
    let newest = migrate_noop(cwd, "noop");
    assert_eq!(newest.ok().json()["plugins"][0]["version"], "0.2.0");
    assert!(
        newest.stderr.contains("shadows noop 0.1.0") && newest.stderr.contains("(older)"),
        "not silent: {}",
        newest.stderr
    );

    // Pinned: that version, and with its hash.
    let pinned = migrate_noop(cwd, "noop@0.1.0").ok().json();
    assert_eq!(pinned["plugins"][0]["version"], "0.1.0");
    let sha = pinned["plugins"][0]["sha256"].as_str().unwrap().to_owned();
    let by_hash = format!("noop@0.1.0#sha256={}", &sha[..16]);
    assert_eq!(migrate_noop(cwd, &by_hash).ok().json()["plugins"][0]["sha256"], sha.as_str());
    let wrong = format!("noop@0.2.0#sha256={}", &sha[..16]);
    let r = migrate_noop(cwd, &wrong);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains(&format!("plugin '{wrong}' is not installed")), "{}", r.stderr);
    // A job file pins the same way.
    std::fs::write(
        cwd.join("job.toml"),
        "[source]\nplugin = \"noop@0.1.0\"\n[source.settings]\ncount = 2\n[sink]\nplugin = \"noop@0.1.0\"\n",
    )
    .unwrap();
    let job = run(cwd, &["migrate", "--job", "job.toml", "--format", "json"]).ok().json();
    assert_eq!(job["plugins"][1]["version"], "0.1.0");

    run(cwd, &["plugins", "remove", "noop@0.2.0"]).ok();
    assert_eq!(migrate_noop(cwd, "noop").ok().json()["plugins"][0]["version"], "0.1.0");
}

#[test]
fn the_same_version_from_two_different_libraries_is_ambiguous_until_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let b = bundle(cwd, &lib("ferry-test-plugin-noop"), None, "noop.ferry-plugin");
    run(cwd, &["plugins", "install", b.to_str().unwrap(), "--allow-unsigned"]).ok();
    // Another library claiming the same id and version, earlier on the path.
    let other = patched_noop(cwd, "other", &[("Benchmark fixture", "Another  fixture")]);
    let elsewhere = package(cwd, &other, &cwd.join("elsewhere"));
    let paths = [cwd.join("elsewhere"), plugins_dir()];
    let r = ferry(cwd, &paths, &["migrate", "--from", "noop", "--from-set", "count=1", "--to", "noop"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("plugin 'noop' 0.1.0 is ambiguous"), "{}", r.stderr);
    assert!(r.stderr.contains(&elsewhere.join("ferry-plugin.toml").display().to_string()), "{}", r.stderr);
    let list = ferry(cwd, &paths, &["plugins", "list"]).ok().stdout.clone();
    assert!(list.contains("AMBIGUOUS"), "{list}");
    let sha = sha256_hex(&lib("ferry-test-plugin-noop"));
    let pin = format!("noop@0.1.0#sha256={}", &sha[..16]);
    let r = ferry(
        cwd,
        &paths,
        &["migrate", "--from", &pin, "--from-set", "count=1", "--to", &pin, "--format", "json"],
    );
    assert_eq!(r.ok().json()["plugins"][0]["sha256"], sha.as_str());
}
