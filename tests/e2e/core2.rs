//! Core 2.0's contract, end to end: an older model minor, dry runs, late
//! rejects and receipts, the accounting check, the field policy, stops at
//! any moment, secrets, and the `PLUGIN:LOCATION` shorthand.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn noop_paths() -> Vec<std::path::PathBuf> {
    vec![fixtures_dir(), plugins_dir()]
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.retain(|n| n != ".ferry-home");
    v.sort();
    v
}

#[test]
fn a_plugin_of_an_older_model_minor_runs_against_todays_host_and_sinks() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &noop_paths(),
        &["migrate", "--from", "model-2-0", "--to", "csv:out", "--format", "json"],
    );
    let report = run.ok().json();
    assert_eq!(entity(&report, "students")["written"], 3);
    let out = read(&tmp.path().join("out/students.csv"));
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let gy = header.iter().position(|c| *c == "graduation_year").expect("today's layout has the 2.1 column");
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[gy], "", "a column the old plugin does not know reads as null: {line}");
    }
    assert!(out.contains("Brontë") && out.contains(",000102,"), "{out}");
    // And into the archive, the default destination.
    let run = ferry(tmp.path(), &noop_paths(), &["migrate", "--from", "model-2-0", "--format", "json"]);
    assert_eq!(entity(&run.ok().json(), "students")["written"], 3);
}

#[test]
fn a_dry_run_writes_nothing_and_reports_per_entity() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--to", "csv:out", "--dry-run", "--format", "json"],
    );
    let report = run.ok().json();
    assert_eq!(report["dry_run"], true);
    assert_balanced(&report);
    let plan = report["plan"].as_array().unwrap();
    let students = plan.iter().find(|p| p["entity"] == "students").unwrap();
    assert_eq!(students["create"], entity(&report, "students")["written"]);
    assert!(plan.iter().any(|p| p["entity"] == "orgs" && p["create"] == 3), "{report}");
    assert!(listing(tmp.path()).is_empty(), "no output folder, no rejects file: {:?}", listing(tmp.path()));

    // Into the archive: nothing is created, and a second dry run over an
    // existing archive sees every record as unchanged.
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--dry-run", "--format", "json"],
    );
    run.ok();
    assert!(listing(tmp.path()).is_empty(), "{:?}", listing(tmp.path()));
    ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", &sample_source(), "--allow-rejects"]).ok();
    let archive = tmp.path().join("ferry-archive.sqlite");
    let before = std::fs::read(&archive).unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--dry-run", "--format", "json"],
    );
    let report = run.ok().json();
    let plan = report["plan"].as_array().unwrap();
    let students = plan.iter().find(|p| p["entity"] == "students").unwrap();
    assert_eq!(students["create"], 0, "{report}");
    assert_eq!(students["unchanged"], entity(&report, "students")["written"], "{report}");
    assert_eq!(std::fs::read(&archive).unwrap(), before, "a dry run leaves the archive byte for byte");
}

#[test]
fn late_rejects_and_receipts_reach_the_report_and_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &noop_paths(),
        &[
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=10",
            "--to",
            "noop",
            "--to-set",
            "late_rejects=2",
            "--to-set",
            "receipts=true",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(3), "late rejects are rejects: {}", run.stderr);
    let report = run.json();
    assert_balanced(&report);
    let s = entity(&report, "students");
    assert_eq!(
        (s["read"].as_u64(), s["written"].as_u64(), s["rejected"].as_u64()),
        (Some(10), Some(8), Some(2))
    );
    assert_eq!(report["late_rejects"], 2);
    assert_eq!(report["receipt_counts"]["students"], 8);
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    assert_eq!(rejects.len(), 2);
    assert!(
        rejects.iter().all(|r| r["stage"] == "sink" && r["severity"] == "reject" && r["file"] == "memory")
    );
    assert_eq!(rejects[0]["record_id"], "1");
    assert_eq!(rejects[0]["line"], 1);
    let receipts = jsonl(&tmp.path().join("ferry-receipts.jsonl"));
    assert_eq!(receipts.len(), 8);
    assert_eq!(receipts[0]["source_id"], "3");
    assert_eq!(receipts[0]["destination_id"], "D-3");
    // And for people.
    let run = ferry(
        tmp.path(),
        &noop_paths(),
        &[
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=10",
            "--to",
            "noop",
            "--to-set",
            "late_rejects=2",
            "--to-set",
            "receipts=true",
            "--allow-rejects",
        ],
    );
    run.ok();
    assert!(
        run.stdout.contains("late rejects") && run.stdout.contains("Receipts: 8 students"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_sink_that_under_reports_fails_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &noop_paths(),
        &[
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=5",
            "--to",
            "noop",
            "--to-set",
            "under_report=1",
            "--to-set",
            "marker=committed",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("accounted for 4 written and 0 rejected"), "{}", run.stderr);
    assert!(!tmp.path().join("committed").exists(), "nothing was committed");
}

#[test]
fn the_field_policy_keeps_a_student_whose_birth_date_is_impossible() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--to", "csv:out", "--allow-rejects", "--format", "json"],
    );
    let report = run.ok().json();
    let s = entity(&report, "students");
    assert_eq!(
        (s["written"].as_u64(), s["rejected"].as_u64(), s["warned"].as_u64()),
        (Some(6), Some(2), Some(1))
    );
    let out = read(&tmp.path().join("out/students.csv"));
    let luis = out.lines().find(|l| l.contains(",000790,")).expect("the student migrates");
    assert!(!luis.contains("2011"), "the impossible birth date is null: {luis}");
    let diags = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    let w: Vec<_> = diags.iter().filter(|d| d["severity"] == "warning").collect();
    assert_eq!(w.len(), 1, "{diags:?}");
    assert_eq!(
        (w[0]["file"].as_str(), w[0]["line"].as_u64(), w[0]["field"].as_str()),
        (Some("students.csv"), Some(7), Some("birth_date"))
    );
    assert!(w[0].get("value").is_none(), "no value unless asked");

    // A stricter policy rejects the student, and every record that needs
    // them is rejected too, naming the student's reject.
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "csv:out2",
            "--allow-rejects",
            "--format",
            "json",
            "--field-policy",
            "students.birth_date=reject",
        ],
    );
    let report = run.ok().json();
    assert_balanced(&report);
    assert_eq!(entity(&report, "students")["rejected"], 3);
    assert!(!read(&tmp.path().join("out2/students.csv")).contains(",000790,"));
    let bad = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--field-policy", "students.birthdate=reject"],
    );
    assert_ne!(bad.code, Some(0));
    assert!(bad.stderr.contains("unknown field 'birthdate'"), "{}", bad.stderr);
}

#[test]
fn children_of_a_rejected_parent_are_rejected_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("students.csv"), "id,first,last\nS1,Ana,Ng\nS2,Bo,\n").unwrap();
    std::fs::write(tmp.path().join("grades.csv"), "id,student,kind\nG1,S1,final\nG2,S2,final\nG3,S2,term\n")
        .unwrap();
    std::fs::write(
        tmp.path().join("src.toml"),
        r#"
[entities.students]
file = "students.csv"
columns = { id = "source_id", first = "first_name", last = "last_name" }
[entities.grades]
file = "grades.csv"
columns = { id = "source_id", student = "student_id", kind = "kind" }
"#,
    )
    .unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", "csv:src.toml", "--to", "csv:out", "--format", "json"],
    );
    assert_eq!(run.code, Some(3));
    let report = run.json();
    assert_balanced(&report);
    assert_eq!(entity(&report, "grades")["rejected"], 2);
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    let g: Vec<_> = rejects.iter().filter(|r| r["entity"] == "grades").collect();
    assert_eq!(g.len(), 2);
    for r in g {
        assert_eq!(r["reason"], "its student was rejected (students.csv line 3)");
        assert_eq!(r["file"], "grades.csv");
    }
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("sh").args(["-c", &format!("kill -{sig} {pid}")]).status().unwrap();
    assert!(status.success());
}

fn spawn_ferry(cwd: &Path, args: &[&str]) -> std::process::Child {
    Command::new(ferry_bin())
        .current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", std::env::join_paths(noop_paths()).unwrap())
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn a_stop_just_before_the_commit_commits_nothing() {
    for (sig, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let tmp = tempfile::tempdir().unwrap();
        let child = spawn_ferry(
            tmp.path(),
            &[
                "migrate",
                "--from",
                "noop",
                "--from-set",
                "count=100",
                "--to",
                "noop",
                "--to-set",
                "prepare_ms=1500",
                "--to-set",
                "marker=committed",
            ],
        );
        // Every record is read and written within this; the sink is preparing.
        std::thread::sleep(Duration::from_millis(700));
        signal(child.id(), sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(stderr.contains("nothing was committed"), "{stderr}");
        assert!(!tmp.path().join("committed").exists(), "SIG{sig} before the commit committed");
    }
}

#[cfg(unix)]
#[test]
fn stops_at_random_points_never_leave_a_half_commit() {
    // A district-sized run into the archive, stopped at pseudo-random moments:
    // either the run completed (exit 0, the archive holds every record) or it
    // was rolled back (exit 130/143, the archive is byte for byte the one before).
    let tmp = tempfile::tempdir().unwrap();
    let count = "count=200000";
    ferry(tmp.path(), &noop_paths(), &["migrate", "--from", "noop", "--from-set", "count=10"]).ok();
    let archive = tmp.path().join("ferry-archive.sqlite");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let (mut rolled_back, mut completed) = (0, 0);
    for round in 0..8 {
        let before = std::fs::read(&archive).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 50 + seed % 1500;
        let sig = if round % 2 == 0 { "TERM" } else { "INT" };
        let child = spawn_ferry(tmp.path(), &["migrate", "--from", "noop", "--from-set", count]);
        std::thread::sleep(Duration::from_millis(delay));
        signal(child.id(), sig);
        let out = child.wait_with_output().unwrap();
        let after = std::fs::read(&archive).unwrap();
        match out.status.code() {
            Some(0) => {
                completed += 1;
                let info = ferry(
                    tmp.path(),
                    &noop_paths(),
                    &["archive", "info", "ferry-archive.sqlite", "--format", "json"],
                );
                assert!(
                    info.ok().stdout.contains("200000"),
                    "a completed run holds every record: {}",
                    info.stdout
                );
            }
            Some(130 | 143) => {
                rolled_back += 1;
                assert!(
                    after == before,
                    "round {round} (SIG{sig} after {delay} ms): rolled back but the archive changed"
                );
            }
            other => {
                panic!("round {round}: unexpected exit {other:?}: {}", String::from_utf8_lossy(&out.stderr))
            }
        }
        let stray: Vec<String> = listing(tmp.path())
            .into_iter()
            .filter(|n| n != "ferry-archive.sqlite" && n != "ferry-rejects.jsonl")
            // The archive's lock file stays between runs by design.
            .filter(|n| !n.ends_with(".ferry-lock"))
            .filter(|n| !n.ends_with(".partial"))
            .collect();
        assert!(stray.is_empty(), "round {round}: stray files {stray:?}");
    }
    assert!(rolled_back > 0, "no round was stopped in time ({completed} completed)");
}

#[cfg(unix)]
#[test]
fn a_blocking_call_inside_a_plugin_is_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = spawn_ferry(
        tmp.path(),
        &[
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=10",
            "--from-set",
            "block_ms=60000",
            "--to",
            "noop",
        ],
    );
    std::thread::sleep(Duration::from_millis(400));
    signal(child.id(), "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(20), "the plugin saw the cancel flag and returned early");
}

#[test]
fn a_secret_never_appears_in_logs_in_plugins_info_or_in_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = "hunter2-sekrit-7f3a";
    std::fs::write(tmp.path().join("src.toml"), "count = 3\ntoken = { env = \"NOOP_TOKEN\" }\n").unwrap();
    let path = std::env::join_paths(noop_paths()).unwrap();
    let out = Command::new(ferry_bin())
        .current_dir(tmp.path())
        .env("FERRY_PLUGIN_PATH", &path)
        .env("FERRY_HOME", tmp.path().join(".ferry-home"))
        .env("NOOP_TOKEN", secret)
        .args(["-vvv", "migrate", "--from", "noop:src.toml", "--format", "json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("a token of 19 characters"), "the plugin got the secret: {stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret), "the secret was printed");
    let archive = std::fs::read(tmp.path().join("ferry-archive.sqlite")).unwrap();
    assert!(!archive.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is in the archive");
    let info = ferry(tmp.path(), &noop_paths(), &["plugins", "info", "noop", "--format", "json"]);
    assert!(!info.ok().stdout.contains(secret));
    // A secret written into a configuration is refused, without echoing it.
    std::fs::write(tmp.path().join("bad.toml"), format!("count = 3\ntoken = \"{secret}\"\n")).unwrap();
    let run = ferry(tmp.path(), &noop_paths(), &["migrate", "--from", "noop:bad.toml"]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("'token' is written in the configuration"), "{}", run.stderr);
    assert!(!run.stderr.contains(secret));
}

#[test]
fn from_powerschool_dir_works_as_a_new_user_would_type_it() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    let opts = ferry_gen::PsGenOptions {
        students: 60,
        seed: 5,
        quirks: false,
        encoding: ferry_gen::TextEncoding::Utf8,
        ..ferry_gen::PsGenOptions::default()
    };
    ferry_gen::powerschool(&opts, &export).unwrap();
    std::fs::remove_file(export.join(ferry_gen::SOURCE_CONFIG_FILE)).ok();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            "powerschool:export/",
            "--to",
            "csv:out/",
            "--allow-rejects",
            "--format",
            "json",
        ],
    );
    let report = run.ok().json();
    assert_balanced(&report);
    assert_eq!(entity(&report, "students")["written"], 60);
    assert!(tmp.path().join("out/students.csv").is_file());
    // And into the default destination, then back out of it.
    ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", "powerschool:export", "--allow-rejects"]).ok();
    let back = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", "sqlite:ferry-archive.sqlite", "--to", "csv:again", "--format", "json"],
    );
    assert_eq!(entity(&back.ok().json(), "students")["written"], 60);
}

#[test]
fn panics_in_entities_and_drop_name_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    for place in ["entities", "drop"] {
        let run = ferry(
            tmp.path(),
            &noop_paths(),
            &["migrate", "--from", "panicky", "--from-set", &format!("panic_in={place}"), "--to", "csv:out"],
        );
        assert_eq!(run.code, Some(1), "{place}: {}", run.stderr);
        assert!(run.stderr.contains("plugin 'panicky' panicked"), "{place}: {}", run.stderr);
        assert!(!tmp.path().join("out/orgs.csv").exists(), "{place}: nothing committed");
    }
}
