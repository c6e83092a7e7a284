//! Crash isolation (`ferry migrate --isolate`): a plugin in a runner process
//! that aborts, segfaults, is killed, runs out of its memory or its time
//! fails the run cleanly: rolled back, the plugin and the signal named, the
//! host alive, earlier outputs intact, no temporary files left. With the
//! `crashy` fixture, and the CSV connector for runs that succeed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn paths() -> Vec<PathBuf> {
    vec![plugins_dir(), fixtures_dir()]
}

/// A run's output folder holding an earlier run's file.
fn earlier_output(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("orgs.csv"), "from an earlier run\n").unwrap();
    out
}

/// The earlier output is as it was, and nothing else is in the folder.
#[track_caller]
fn assert_intact(out: &Path) {
    assert_eq!(read(&out.join("orgs.csv")), "from an earlier run\n", "the earlier output changed");
    let names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["orgs.csv"], "stray files left in {}", out.display());
}

#[track_caller]
fn assert_failed_cleanly(run: &Run, what: &[&str]) {
    assert_eq!(run.code, Some(1), "the host must fail the run, not die: {}", run.stderr);
    assert!(run.stderr.contains("plugin 'crashy'"), "the plugin is named: {}", run.stderr);
    assert!(run.stderr.contains("rolled back; earlier outputs are intact"), "{}", run.stderr);
    for w in what {
        assert!(run.stderr.contains(w), "expected {w:?} in:\n{}", run.stderr);
    }
}

fn crashy_into(dir: &Path, source_set: &[&str], extra: &[&str]) -> Run {
    let out = dir.join("out");
    let mut args = vec!["migrate", "--from", "crashy"];
    for s in source_set {
        args.extend(["--from-set", s]);
    }
    let to_set = format!("directory={}", out.display());
    args.extend(["--to", "csv", "--to-set", &to_set]);
    args.extend(extra);
    ferry(dir, &paths(), &args)
}

#[test]
fn an_isolated_run_writes_what_an_in_process_run_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = sample_source();
    let run = |out: &str, extra: &[&str]| {
        let to_set = format!("directory={out}");
        let mut args = vec![
            "migrate",
            "--from",
            &src,
            "--to",
            "csv",
            "--to-set",
            &to_set,
            "--format",
            "json",
            "--allow-rejects",
        ];
        args.extend(extra);
        let r = ferry(tmp.path(), &paths(), &args);
        r.ok();
        r.json()
    };
    let plain = run("plain", &[]);
    let isolated = run("isolated", &["--isolate"]);
    let sink_only = run("sink-only", &["--isolate", "sink", "--memory-mb", "4096", "--timeout-s", "600"]);
    for report in [&isolated, &sink_only] {
        assert_balanced(report);
        for count in ["read", "written", "rejected", "skipped"] {
            assert_eq!(total(report, count), total(&plain, count), "{count}");
        }
    }
    assert!(total(&plain, "written") > 0);
    let files = |d: &str| {
        let mut v: Vec<(String, String)> = std::fs::read_dir(tmp.path().join(d))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (p.file_name().unwrap().to_string_lossy().into_owned(), read(&p))
            })
            .collect();
        v.sort();
        v
    };
    assert!(!files("plain").is_empty());
    assert_eq!(files("isolated"), files("plain"), "the same files, byte for byte");
    assert_eq!(files("sink-only"), files("plain"));
}

#[test]
fn a_source_that_segfaults_fails_the_run_naming_the_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let run = crashy_into(tmp.path(), &["crash=segfault", "at=2"], &["--isolate"]);
    assert_failed_cleanly(&run, &["signal 11 (SIGSEGV)", "during next_batch"]);
    assert_intact(&out);
}

#[test]
fn a_sink_that_aborts_fails_the_run_and_its_temporary_file_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let to_set = format!("directory={}", out.display());
    let run = ferry(
        tmp.path(),
        &paths(),
        &[
            "migrate",
            "--from",
            "crashy",
            "--to",
            "crashy",
            "--to-set",
            &to_set,
            "--to-set",
            "crash=abort",
            "--to-set",
            "at=3",
            "--isolate",
        ],
    );
    // The sink had written its temporary file beside orgs.csv before it died;
    // the host removes it (it holds the run's id), and only it.
    assert_failed_cleanly(&run, &["signal 6 (SIGABRT)", "during write_batch"]);
    assert_intact(&out);
}

#[test]
fn a_sink_that_segfaults_in_prepare_or_commit_commits_nothing() {
    for at in ["prepare", "commit"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = earlier_output(tmp.path());
        let to_set = format!("directory={}", out.display());
        let at_set = format!("at={at}");
        let run = ferry(
            tmp.path(),
            &paths(),
            &[
                "migrate",
                "--from",
                "crashy",
                "--to",
                "crashy",
                "--to-set",
                &to_set,
                "--to-set",
                "crash=segfault",
                "--to-set",
                &at_set,
                "--isolate",
                "sink",
            ],
        );
        assert_failed_cleanly(&run, &["(SIGSEGV)", &format!("during {at}")]);
        assert_intact(&out);
        assert!(
            !tmp.path().join("ferry-rejects.jsonl").exists(),
            "the run's own outputs are not put in place"
        );
    }
}

fn spawn_ferry(dir: &Path, args: &[&str]) -> Child {
    let path = std::env::join_paths(paths()).unwrap();
    Command::new(ferry_bin())
        .current_dir(dir)
        .env("FERRY_PLUGIN_PATH", path)
        .env("FERRY_HOME", dir.join(".ferry-home"))
        .env_remove("FERRY_LOG")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pid the plugin wrote when it was opened (its runner's, isolated).
fn wait_for_pid(file: &Path, child: &mut Child) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(file).ok().and_then(|s| s.trim().parse().ok()) {
            return pid;
        }
        assert!(child.try_wait().unwrap().is_none(), "ferry ended before the plugin was opened");
        assert!(start.elapsed() < Duration::from_secs(60), "the plugin was never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn finish(child: Child) -> Run {
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn signal(pid: i32, sig: &str) {
    assert!(Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success());
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !read(Path::new(&format!("/proc/{pid}/stat")))
            .split(") ")
            .nth(1)
            .is_some_and(|s| s.starts_with('Z'))
}

#[test]
fn a_runner_killed_with_sigkill_mid_run_fails_the_run_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let pid_file = tmp.path().join("sink.pid");
    let sets = [format!("directory={}", out.display()), format!("pid_file={}", pid_file.display())];
    let mut child = spawn_ferry(
        tmp.path(),
        &[
            "migrate",
            "--from",
            "crashy",
            "--from-set",
            "batches=400",
            "--from-set",
            "delay_ms=50",
            "--batch-size",
            "1",
            "--to",
            "crashy",
            "--to-set",
            &sets[0],
            "--to-set",
            &sets[1],
            "--isolate",
        ],
    );
    let pid = wait_for_pid(&pid_file, &mut child);
    assert_ne!(pid, i32::try_from(child.id()).unwrap(), "the sink runs in its own process");
    // Mid-run: once the sink has its temporary file.
    let start = Instant::now();
    while !std::fs::read_dir(&out)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("ferry-tmp"))
    {
        assert!(start.elapsed() < Duration::from_secs(60), "the sink never wrote");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(pid, "-KILL");
    let run = finish(child);
    assert_failed_cleanly(&run, &["signal 9 (SIGKILL)", &format!("pid {pid}")]);
    assert_intact(&out);
}

#[test]
fn a_runner_over_its_memory_limit_is_reported_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let start = Instant::now();
    let run =
        crashy_into(tmp.path(), &["crash=oom", "at=1"], &["--isolate", "source", "--memory-mb", "1024"]);
    assert_failed_cleanly(&run, &["exceeded its memory limit of 1024 MB", "(SIGABRT)", "during next_batch"]);
    assert_intact(&out);
    assert!(start.elapsed() < Duration::from_secs(120));
}

#[test]
fn a_runner_over_its_time_limit_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let start = Instant::now();
    let run = crashy_into(tmp.path(), &["crash=sleep", "at=2"], &["--isolate", "--timeout-s", "2"]);
    assert_failed_cleanly(&run, &["exceeded its time limit of 2 s", "(SIGKILL)"]);
    assert!(start.elapsed() < Duration::from_secs(60), "the watchdog, not the plugin's hour, ended the run");
    assert_intact(&out);
}

#[test]
fn the_job_file_isolates_and_sets_the_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    std::fs::write(tmp.path().join("source.toml"), "crash = \"sleep\"\nat = \"1\"\n").unwrap();
    std::fs::write(
        tmp.path().join("job.toml"),
        "[source]\nplugin = \"crashy\"\nconfig = \"source.toml\"\n\n[sink]\nplugin = \"csv\"\nconfig = \"sink.toml\"\n\n[run]\nisolate = \"source\"\n\n[run.isolation]\ntimeout_s = 1\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("sink.toml"), format!("directory = \"{}\"\n", out.display())).unwrap();
    let run = ferry(tmp.path(), &paths(), &["migrate", "--job", "job.toml"]);
    assert_failed_cleanly(&run, &["exceeded its time limit of 1 s", "during next_batch"]);
    assert_intact(&out);
}

#[test]
fn a_limit_without_isolation_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = crashy_into(tmp.path(), &[], &["--memory-mb", "512"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("add --isolate"), "{}", run.stderr);
}

#[test]
fn a_stop_reaches_the_isolated_plugin_and_rolls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let out = earlier_output(tmp.path());
    let pid_file = tmp.path().join("source.pid");
    let sets = [format!("pid_file={}", pid_file.display()), format!("directory={}", out.display())];
    let mut child = spawn_ferry(
        tmp.path(),
        &[
            "migrate",
            "--from",
            "crashy",
            "--from-set",
            "crash=cancel",
            "--from-set",
            "at=2",
            "--from-set",
            &sets[0],
            "--to",
            "csv",
            "--to-set",
            &sets[1],
            "--isolate",
        ],
    );
    let pid = wait_for_pid(&pid_file, &mut child);
    std::thread::sleep(Duration::from_millis(300));
    let ferry_pid = i32::try_from(child.id()).unwrap();
    signal(ferry_pid, "-INT");
    let run = finish(child);
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was committed"), "{}", run.stderr);
    assert_intact(&out);
    let start = Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < Duration::from_secs(10), "the runner outlived its run");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_runner_verifies_the_library_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let pkgs = tmp.path().join("pkgs");
    let libfile = packaged_library(tmp.path(), &lib("ferry-test-plugin-crashy"), &pkgs);
    flip_last_byte(&libfile);
    let run = ferry(
        tmp.path(),
        &[pkgs, plugins_dir()],
        &["migrate", "--from", "crashy", "--to", "csv", "--to-set", "directory=out", "--isolate"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("is not the file that was packaged"), "{}", run.stderr);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn plugin_runner_refuses_to_be_run_by_hand() {
    let out = Command::new(ferry_bin())
        .args(["plugin-runner", "--manifest", "/nonexistent/ferry-plugin.toml"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a command to run by hand"));
    let help = Command::new(ferry_bin()).arg("--help").output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("plugin-runner"), "hidden from help");
}
