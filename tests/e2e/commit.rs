//! The commit protocol and the exit codes (issue 9): the rejects file and
//! the destination commit as one; stops roll back with no stray files; two
//! runs never share an output; a refused prune, a failed or misconfigured run
//! commit nothing; a closed pipe is quiet; usage errors exit 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferry_gen::PsGenOptions;

use crate::support::*;

fn plugins() -> Vec<PathBuf> {
    vec![plugins_dir()]
}

/// A generated PowerSchool export in `dir/export`.
fn export(dir: &Path, students: u32, seed: u64) -> PathBuf {
    let out = dir.join("export");
    std::fs::create_dir_all(&out).unwrap();
    ferry_gen::powerschool(&PsGenOptions { students, seed, quirks: true, ..PsGenOptions::default() }, &out)
        .unwrap();
    out
}

/// The names in a folder, but the export and ferry's private home.
fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "export" && n != ".ferry-home")
        .collect()
}

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Starts ferry in the background (`sh -c` so a umask or limit can be set).
fn spawn(cwd: &Path, prelude: &str, args: &[&str]) -> Child {
    let mut script = String::from(prelude);
    script.push_str(" exec \"$0\" \"$@\"");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(ferry_bin())
        .args(args)
        .current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", plugins_dir())
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .env_remove("FERRY_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> Run {
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Waits until `path` exists (the run has taken its output lock).
fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {} appeared", path.display());
        assert!(start.elapsed() < Duration::from_secs(60), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_rejects_path_that_is_a_folder_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 20, 1);
    std::fs::create_dir(dir.join("rejects")).unwrap();
    let run = ferry(
        dir,
        &plugins(),
        &["migrate", "--from", "powerschool:export/ferry-source.toml", "--rejects", "rejects"],
    );
    assert_eq!(run.code, Some(2), "a usage error: {}", run.stderr);
    assert!(run.stderr.contains("rejects is a folder"), "{}", run.stderr);
    assert!(!dir.join("ferry-archive.sqlite").exists(), "nothing was committed");
    assert_eq!(listing(dir), BTreeSet::from(["rejects".to_owned()]));
}

/// A rejects file that cannot be put in place (here its folder disappears
/// during the run, as a full or failing disk would refuse it) fails the run
/// before the archive commits: the archive stays as it was, and nothing of
/// the run is left over.
#[test]
fn rejects_that_cannot_be_put_in_place_commit_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 1500, 2);
    let from = "powerschool:export/ferry-source.toml";
    ferry(dir, &plugins(), &["migrate", "--from", from, "--allow-rejects"]).ok();
    let archive = dir.join("ferry-archive.sqlite");
    let before = sha(&archive);
    let names = listing(dir);

    let mut child =
        spawn(dir, "", &["migrate", "--from", from, "--allow-rejects", "--rejects", "out/rejects.jsonl"]);
    // Once the run's partial rejects file exists (the lock is taken and
    // checked by then), its folder goes.
    let start = Instant::now();
    let partial = || {
        std::fs::read_dir(dir.join("out")).is_ok_and(|d| {
            d.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        })
    };
    while !partial() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its partial rejects file appeared"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "the partial rejects file never appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let run = finish(child);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("rejects.jsonl"), "the error names the rejects file: {}", run.stderr);
    assert!(run.stderr.contains("nothing was committed"), "{}", run.stderr);
    assert_eq!(sha(&archive), before, "the archive did not commit");
    assert_eq!(listing(dir), names, "no stray files");
}

#[cfg(unix)]
#[test]
fn sigterm_and_sighup_roll_back_with_their_exit_codes_and_no_stray_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 1500, 3);
    ferry(dir, &plugins(), &["migrate", "--from", "powerschool:export/ferry-source.toml", "--allow-rejects"])
        .ok();
    let archive = dir.join("ferry-archive.sqlite");
    let before = sha(&archive);
    let names = listing(dir);
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let mut child =
            spawn(dir, "", &["migrate", "--from", "powerschool:export/ferry-source.toml", "--allow-rejects"]);
        // The run has its rejects file open: it is past the start.
        wait_for(&dir.join(".ferry-rejects.jsonl.lock"), &mut child);
        std::thread::sleep(Duration::from_millis(300));
        let pid = child.id().to_string();
        assert!(Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap().success());
        let run = finish(child);
        if run.code == Some(0) {
            // The run finished before the signal: then it committed whole.
            eprintln!("SIG{signal}: the run had already finished");
            continue;
        }
        assert_eq!(run.code, Some(code), "SIG{signal}: {}", run.stderr);
        assert!(run.stderr.contains("nothing was committed"), "{}", run.stderr);
        assert_eq!(sha(&archive), before, "SIG{signal} rolled back");
        assert_eq!(listing(dir), names, "SIG{signal} left no stray files");
    }
}

#[test]
fn two_runs_never_share_a_rejects_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 1500, 4);
    let mut first = spawn(
        dir,
        "",
        &[
            "migrate",
            "--from",
            "powerschool:export/ferry-source.toml",
            "--to",
            "sqlite:a.sqlite",
            "--allow-rejects",
            "--format",
            "json",
        ],
    );
    wait_for(&dir.join(".ferry-rejects.jsonl.lock"), &mut first);
    // A second run from the same folder into another archive, with the default rejects file.
    let second = ferry(
        dir,
        &plugins(),
        &["migrate", "--from", "powerschool:export/ferry-source.toml", "--to", "sqlite:b.sqlite"],
    );
    let first = finish(first);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(second.code, Some(2), "the second run is refused: {}", second.stderr);
    assert!(second.stderr.contains("another ferry run"), "{}", second.stderr);
    assert!(!dir.join("b.sqlite").exists(), "the refused run wrote nothing");
    // The first run's rejects file is whole: every line is JSON of its run.
    let report = first.json();
    let run_id = report["run_id"].as_str().unwrap();
    let lines = jsonl(&dir.join("ferry-rejects.jsonl"));
    assert!(!lines.is_empty(), "the quirky export has rejects");
    assert!(lines.iter().all(|l| l["run_id"] == run_id), "only the first run's lines");
    assert_eq!(
        listing(dir),
        BTreeSet::from(["a.sqlite", "a.sqlite.ferry-lock", "ferry-rejects.jsonl"].map(String::from))
    );
}

#[test]
fn a_failed_or_misconfigured_run_leaves_no_partial_file_and_names_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 20, 5);
    let run = ferry(
        dir,
        &plugins(),
        &["migrate", "--from", "powerschool:export/ferry-source.toml", "--to-set", "prune_stale=\"yes\""],
    );
    assert_eq!(run.code, Some(2), "a bad configuration is a usage error: {}", run.stderr);
    assert!(run.stderr.contains("`prune_stale`"), "the error names the key: {}", run.stderr);
    assert!(!run.stderr.contains("partial"), "{}", run.stderr);
    assert_eq!(listing(dir), BTreeSet::new(), "no partial, no lock, no archive");

    // A run that fails in the sink (a folder that cannot be written).
    let run = ferry(
        dir,
        &plugins(),
        &["migrate", "--from", "powerschool:export/ferry-source.toml", "--to", "sqlite:/proc/ferry.sqlite"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("cannot write in the folder /proc"), "names the folder: {}", run.stderr);
    assert!(!run.stderr.contains("unable to open database file"), "{}", run.stderr);
    assert_eq!(listing(dir), BTreeSet::new(), "no partial file after a failed run");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = ferry(dir, &plugins(), &["migrate", "--from", "no-such-plugin:x"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no plugin 'no-such-plugin'"), "{}", run.stderr);
    std::fs::write(dir.join("job.toml"), "[source]\nplugin = \"csv\"\n[run]\nbatch_size = \"many\"\n")
        .unwrap();
    let run = ferry(dir, &plugins(), &["migrate", "--job", "job.toml"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("batch_size"), "names the key: {}", run.stderr);
    assert_eq!(listing(dir), BTreeSet::from(["job.toml".to_owned()]));
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_is_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    export(dir, 20, 6);
    ferry(dir, &plugins(), &["migrate", "--from", "powerschool:export/ferry-source.toml", "--allow-rejects"])
        .ok();
    for (cmd, reader) in [
        ("plugins list", "head -c 1"),
        ("archive info ferry-archive.sqlite", "true"),
        ("archive query ferry-archive.sqlite 'SELECT * FROM students'", "true"),
        ("archive query ferry-archive.sqlite 'SELECT * FROM students' --format csv", "head -1"),
    ] {
        // The reader goes away at once; make sure ferry writes after that.
        let script = format!("set -o pipefail; (sleep 0.2; exec \"$0\" {cmd}) | {reader} >/dev/null");
        let o = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg(ferry_bin())
            .current_dir(dir)
            .env("FERRY_PLUGIN_PATH", plugins_dir())
            .env("FERRY_HOME", dir.join(".ferry-home"))
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "`ferry {cmd} | {reader}` exits 0: {:?} {stderr}", o.status);
        assert!(stderr.is_empty(), "`ferry {cmd} | {reader}` is quiet: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn outputs_with_personal_data_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = finish(spawn(
        dir,
        "umask 000;",
        &["migrate", "--from", &sample_source(), "--allow-rejects", "--include-values", "--format", "json"],
    ));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for f in ["ferry-rejects.jsonl", "ferry-archive.sqlite"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f} is owner-only");
    }
    // The values of rejected fields are in the rejects file, and only there.
    let values: Vec<String> = jsonl(&dir.join("ferry-rejects.jsonl"))
        .iter()
        .filter_map(|l| l["value"].as_str().map(str::to_owned))
        .filter(|v| v.len() >= 4)
        .collect();
    assert!(!values.is_empty(), "the sample has rejected values");
    for v in &values {
        assert!(!run.stdout.contains(v.as_str()), "value {v:?} in the report");
        assert!(!run.stderr.contains(v.as_str()), "value {v:?} in the log");
    }
}

#[test]
fn archive_verify_finds_an_edited_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ferry(dir, &plugins(), &["migrate", "--from", &sample_source(), "--allow-rejects"]).ok();
    let run = ferry(dir, &plugins(), &["archive", "verify", "ferry-archive.sqlite"]);
    run.ok();
    assert!(run.stdout.contains("sound"), "{}", run.stdout);
    let conn = rusqlite::Connection::open(dir.join("ferry-archive.sqlite")).unwrap();
    let edited = conn
        .execute("UPDATE students SET grade_level = '12' WHERE rowid = (SELECT min(rowid) FROM students)", [])
        .unwrap();
    assert_eq!(edited, 1);
    drop(conn);
    let run = ferry(dir, &plugins(), &["archive", "verify", "ferry-archive.sqlite", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["ok"], false);
    let students = v["tables"].as_array().unwrap().iter().find(|t| t["table"] == "students").unwrap();
    assert_eq!(students["ok"], false, "{v}");
}

/// `prune_stale` never empties an archive because an export came in empty or
/// short: an empty folder is refused at open, and a run that would delete
/// more than `prune_max_fraction` of an entity's rows commits nothing.
#[test]
fn prune_stale_never_follows_an_empty_or_short_export() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    ferry_gen::powerschool(&PsGenOptions { students: 200, seed: 9, ..PsGenOptions::default() }, &full)
        .unwrap();
    let short = dir.join("short");
    std::fs::create_dir_all(&short).unwrap();
    ferry_gen::powerschool(&PsGenOptions { students: 20, seed: 9, ..PsGenOptions::default() }, &short)
        .unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    ferry(dir, &plugins(), &["migrate", "--from", "powerschool:full/ferry-source.toml", "--allow-rejects"])
        .ok();
    let archive = dir.join("ferry-archive.sqlite");
    let before = sha(&archive);

    let prune = ["--to-set", "prune_stale=true", "--allow-rejects"];
    let run = ferry(dir, &plugins(), &[&["migrate", "--from", "powerschool:empty"][..], &prune].concat());
    assert_eq!(run.code, Some(2), "an empty folder is a configuration error: {}", run.stderr);
    assert_eq!(sha(&archive), before, "nothing was pruned");

    let run = ferry(
        dir,
        &plugins(),
        &[&["migrate", "--from", "powerschool:short/ferry-source.toml"][..], &prune].concat(),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("prune_max_fraction"), "{}", run.stderr);
    assert_eq!(sha(&archive), before, "a refused prune commits nothing");

    // Meant: allowed explicitly.
    let run = ferry(
        dir,
        &plugins(),
        &[
            &["migrate", "--from", "powerschool:short/ferry-source.toml", "--to-set", "prune_max_fraction=1"]
                [..],
            &prune,
        ]
        .concat(),
    );
    run.ok();
    assert_ne!(sha(&archive), before);
}
