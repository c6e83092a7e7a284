//! Plugin integrity: a library is loaded only if its bytes are the ones
//! packaged, those bytes are what is mapped, and the user is told which file
//! was loaded and which plugin it hides. And what plugins write is owner-only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Packages the panicky fixture into `tmp/pkgs` and returns its folder and library.
fn packaged_panicky(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = package(tmp, &lib("ferry-test-plugin-panicky"), &tmp.join("pkgs"));
    let library = dir.join(lib("ferry-test-plugin-panicky").file_name().unwrap());
    assert!(library.is_file(), "{}", library.display());
    (dir, library)
}

/// Deletes the `sha256` line of a plugin folder's manifest.
fn drop_sha256_line(dir: &Path) {
    let path = dir.join("ferry-plugin.toml");
    let text = read(&path);
    assert!(text.contains("sha256 = "), "{text}");
    let kept: String = text.lines().filter(|l| !l.starts_with("sha256")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
}

fn panicky_to_csv(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec!["migrate", "--from", "panicky", "--from-set", "panic_in=none"];
    args.extend(extra);
    args.extend(["--to", "csv", "--to-set", "directory=out"]);
    args
}

#[test]
fn a_tampered_library_whose_manifest_lost_its_sha256_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, library) = packaged_panicky(tmp.path());
    flip_last_byte(&library);
    drop_sha256_line(&dir);
    let paths = [tmp.path().join("pkgs"), plugins_dir()];

    let run = ferry(tmp.path(), &paths, &panicky_to_csv(&[]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("plugin 'panicky'") && run.stderr.contains("has no `sha256`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&dir.join("ferry-plugin.toml").display().to_string()),
        "names the manifest: {}",
        run.stderr
    );
    assert!(run.stderr.contains("--allow-unverified"), "says what to do: {}", run.stderr);
    assert!(!tmp.path().join("out").exists(), "nothing ran");

    let check = ferry(tmp.path(), &paths, &["plugins", "info", "panicky", "--check"]);
    assert_eq!(check.code, Some(1), "{}", check.stdout);
    assert!(
        check.stdout.contains("load check:  FAILED") && check.stdout.contains("has no `sha256`"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("sha256:      none — UNVERIFIED"), "{}", check.stdout);
}

#[test]
fn an_unverified_plugin_is_listed_as_such_and_loads_only_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = packaged_panicky(tmp.path());
    drop_sha256_line(&dir);
    let paths = [tmp.path().join("pkgs"), plugins_dir()];

    let v = ferry(tmp.path(), &paths, &["plugins", "list", "--format", "json"]).ok().json();
    let entry = |id: &str| v["plugins"].as_array().unwrap().iter().find(|p| p["id"] == id).cloned().unwrap();
    assert_eq!(entry("panicky")["unverified"], true, "{v}");
    assert_eq!(entry("csv")["unverified"], false, "{v}");
    assert_eq!(entry("csv")["sha256"].as_str().map(str::len), Some(64), "{v}");
    let text = ferry(tmp.path(), &paths, &["plugins", "list"]).ok().stdout.clone();
    assert!(text.lines().any(|l| l.starts_with("  panicky 0.1.0: UNVERIFIED")), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("  csv ") && l.contains("UNVERIFIED")), "{text}");

    assert_eq!(ferry(tmp.path(), &paths, &panicky_to_csv(&[])).code, Some(1));
    let run = ferry(tmp.path(), &paths, &panicky_to_csv(&["--allow-unverified"]));
    run.ok();
    assert!(
        run.stderr.contains("UNVERIFIED") && run.stderr.contains("--allow-unverified"),
        "warned: {}",
        run.stderr
    );
    assert!(tmp.path().join("out").is_dir());
    let check = ferry(tmp.path(), &paths, &["plugins", "info", "panicky", "--check", "--allow-unverified"]);
    assert!(check.ok().stdout.contains("load check:  ok"), "{}", check.stdout);
}

/// The memory maps of a running process.
#[cfg(target_os = "linux")]
fn maps(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default()
}

/// What this proves: the library `dlopen` mapped is a private copy (a sealed
/// memory file, the copy that was hashed), and the packaged file on disk was
/// never mapped, so replacing that file after the hash cannot change what
/// runs. (That the copy cannot change after hashing is checked by the host's
/// unit tests of the image.)
#[cfg(target_os = "linux")]
#[test]
fn the_library_mapped_is_the_private_copy_that_was_hashed_not_the_file_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let noop_lib = fixtures_dir().join("noop").join(lib("ferry-test-plugin-noop").file_name().unwrap());
    assert!(noop_lib.is_file(), "{}", noop_lib.display());
    let mut child = Command::new(ferry_bin())
        .current_dir(tmp.path())
        .env("FERRY_PLUGIN_PATH", std::env::join_paths([fixtures_dir(), plugins_dir()]).unwrap())
        .env("FERRY_HOME", tmp.path().join(".ferry-home"))
        .args([
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=3",
            "--from-set",
            "block_ms=30000",
            "--to",
            "noop",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The source blocks in its first call, so by then both plugins are mapped.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while Instant::now() < deadline {
        seen = maps(child.id());
        if seen.contains("ferry_test_plugin_noop") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let noop_lines: Vec<&str> = seen.lines().filter(|l| l.contains("ferry_test_plugin_noop")).collect();
    assert!(!noop_lines.is_empty(), "the noop plugin was never mapped:\n{seen}");
    let on_disk = noop_lib.canonicalize().unwrap().display().to_string();
    assert!(
        noop_lines.iter().all(|l| !l.contains(&on_disk)),
        "dlopen mapped the packaged file itself:\n{}",
        noop_lines.join("\n")
    );
    assert!(
        noop_lines.iter().all(|l| l.contains("/memfd:ferry-plugin:libferry_test_plugin_noop")),
        "the mapping is not the sealed private copy:\n{}",
        noop_lines.join("\n")
    );
}

#[test]
fn migrate_names_the_file_it_loaded_and_warns_of_a_shadowed_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    // A second noop earlier on the search path hides the fixture's.
    let early = package(tmp.path(), &lib("ferry-test-plugin-noop"), &tmp.path().join("early"));
    let paths = [tmp.path().join("early"), fixtures_dir(), plugins_dir()];
    let args = ["migrate", "--from", "noop", "--from-set", "count=2", "--to", "noop"];

    let run = ferry(tmp.path(), &paths, &args);
    let err = &run.ok().stderr;
    let used = early.join("ferry-plugin.toml").display().to_string();
    let hidden = fixtures_dir().join("noop/ferry-plugin.toml").display().to_string();
    assert!(err.contains("WARN"), "a warning at the default verbosity: {err}");
    assert!(err.contains(&format!("plugin 'noop': using noop 0.1.0 at {used}")), "{err}");
    assert!(err.contains("shadows noop") && err.contains(&hidden), "{err}");
    assert!(!err.contains("Plugin loaded from"), "info is off by default: {err}");

    let mut verbose = vec!["-v"];
    verbose.extend(args);
    let run = ferry(tmp.path(), &paths, &verbose);
    let err = &run.ok().stderr;
    let library = early.join(lib("ferry-test-plugin-noop").file_name().unwrap()).display().to_string();
    assert!(err.contains(&format!("Plugin loaded from {library}.")), "{err}");
    assert!(err.contains("sha256=\"verified\"") || err.contains("sha256=verified"), "{err}");
}

/// Runs ferry under `umask 022` (files anyone may read, unless the program
/// asks otherwise), with the first-party and fixture plugins.
#[cfg(unix)]
fn ferry_umask_022(cwd: &Path, args: &[&str]) -> Run {
    let mut script = String::from("umask 022; exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(ferry_bin())
        .args(args)
        .current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", std::env::join_paths([fixtures_dir(), plugins_dir()]).unwrap())
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .env_remove("FERRY_LOG")
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file under `dir` with its permission bits, by path relative to `dir`.
#[cfg(unix)]
fn modes(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), mode));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn csv_and_powerschool_sinks_write_owner_only_files_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let from = sample_source();
    let mut open = Vec::new();
    for (to, dir) in [("csv", "csv-out"), ("powerschool", "ps-out")] {
        let set = format!("directory={dir}");
        let run = ferry_umask_022(
            tmp.path(),
            &["migrate", "--from", &from, "--to", to, "--to-set", &set, "--allow-rejects"],
        );
        run.ok();
        let files = modes(&tmp.path().join(dir));
        assert!(files.len() > 3, "{to} wrote files: {files:?}");
        assert!(files.iter().all(|(n, _)| !n.contains("ferry-tmp") && !n.contains(".tmp")), "{files:?}");
        open.extend(files.into_iter().filter(|(_, m)| *m != 0o600).map(|(n, m)| format!("{dir}/{n}: {m:o}")));
    }
    assert!(open.is_empty(), "files not owner-only under umask 022: {open:#?}");
}
