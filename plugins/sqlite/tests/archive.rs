//! The archive sink and source end to end, through the SDK's test kit and
//! the plugin's own open functions: round trip, idempotence, refusal of
//! foreign files, and atomicity under failures, aborts, drops and kills.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use ferry_archive::{SCHEMA_VERSION, verify};
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::model::*;
use ferry_sdk::serde_json::{self, Value as Json, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{Committed, Error, ErrorKind, OpenContext, Plugin, RunSummary, Sink, SinkBatch};
use rusqlite::{Connection, OpenFlags};

fn ro(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn ctx(path: &Path, run_id: &str, extra: Json) -> OpenContext {
    let mut config = cfg(path);
    if let (Some(c), Json::Object(e)) = (config.as_object_mut(), extra) {
        c.extend(e);
    }
    let mut ctx = OpenContext::new(config, path.parent().unwrap());
    ctx.run_id = run_id.into();
    ctx
}

fn summary(run_id: &str) -> RunSummary {
    RunSummary {
        run_id: run_id.into(),
        source: "csv 0.1.0".into(),
        config_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        started_at: "2025-06-30T08:00:00Z".into(),
        finished_at: "2025-06-30T08:00:05Z".into(),
        ..RunSummary::default()
    }
}

/// Writes every batch of `input`.
fn write_all(sink: &mut Box<dyn Sink>, input: &SourceOutput) -> Result<(), Error> {
    for (e, b) in &input.batches {
        sink.write(SinkBatch::new(*e, b))?;
    }
    Ok(())
}

/// A run as the host makes it: open, write every batch, prepare, commit,
/// close; abort on a failure.
fn run(path: &Path, input: &SourceOutput, run_id: &str, extra: Json) -> Result<Committed, Error> {
    let mut sink = SqlitePlugin::open_sink(&ctx(path, run_id, extra))?;
    let done =
        write_all(&mut sink, input).and_then(|()| sink.prepare(&summary(run_id))).and_then(|_| sink.commit());
    if done.is_err() {
        sink.abort()?;
    }
    sink.close()?;
    done
}

fn source_err(config: Json, dir: &Path) -> Error {
    testkit::run_source::<SqlitePlugin>(&config, dir, 100).unwrap_err()
}

fn sink_err(path: &Path) -> Error {
    testkit::run_sink::<SqlitePlugin>(&cfg(path), path.parent().unwrap(), &sample().output()).unwrap_err()
}

#[test]
fn round_trip_reproduces_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let (written, rejects) = write(&path, &s.output());
    assert_eq!(written, s.total());
    assert!(rejects.is_empty());
    s.assert_same(&read(&path));
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    let checked = verify(&path).unwrap();
    assert!(checked.iter().all(|t| t.ok()), "{checked:?}");
    assert!(checked.iter().any(|t| t.table == "src_Attendance" && t.rows == 5), "source tables are verified");
    // An edited source row is found.
    {
        let c = Connection::open(&path).unwrap();
        c.execute("UPDATE src_Attendance SET Att_Code = 'P' WHERE _line = 2", []).unwrap();
    }
    let after = verify(&path).unwrap();
    assert!(after.iter().any(|t| t.table == "src_Attendance" && !t.ok()));
    assert!(after.iter().filter(|t| t.table != "src_Attendance").all(|t| t.ok()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "student records are readable by the owner only");
        // An update keeps the permissions the district chose.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, &s.output());
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    }
}

#[test]
fn columns_are_typed_and_json_is_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let c = ro(&path);
    let row: (String, String, String, String, String, String) = c
        .query_row(
            "SELECT student_number, typeof(student_number), birth_date, grade_level, grade_level_original, \
             json_extract(extensions, '$.U_Locker') FROM students WHERE source_id = '1001'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        ("000123".into(), "text".into(), "2011-02-03".into(), "KG".into(), "K".into(), "Locker, 17".into())
    );
    let alt: String = c
        .query_row(
            "SELECT json_extract(alt_ids, '$.state') FROM students WHERE source_id = '1001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(alt, "0098765432");
    // Decimals are exact text (REAL would round them), numbers stay numbers.
    let types: (String, String, String, i64, String, String) = c
        .query_row(
            "SELECT typeof(percent), typeof(school_year), typeof(exclude_from_gpa), exclude_from_gpa, percent, \
             credits_earned FROM grades",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(types, ("text".into(), "integer".into(), "integer".into(), 0, "93.5".into(), "0".into()));
    let levels: Vec<String> = c
        .prepare("SELECT j.value FROM courses, json_each(courses.grade_levels) AS j")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(levels, ["03", "K"]);
    let origin: (String, i64, String) = c
        .query_row(
            "SELECT origin_file, origin_line, source_row FROM students WHERE student_number = '000123'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        origin,
        ("students.csv".into(), 2, "1001,000123,José,Núñez,2011-02-03,M,K,\"Locker, 17\"".into())
    );
    let (app, ver): (i64, i64) = c
        .query_row("SELECT * FROM pragma_application_id, pragma_user_version", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((app, ver), (0x4652_5259, SCHEMA_VERSION));
    // José's three extensions and Zoë's nickname.
    let keys: i64 = c
        .query_row("SELECT count(*) FROM students, json_each(students.extensions)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 4);
}

#[test]
fn running_the_same_migration_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    run(&path, &s.output(), "run-1", json!({})).unwrap();
    run(&path, &s.output(), "run-2", json!({})).unwrap();
    assert_eq!(count(&path, "students"), 2);
    assert_eq!(count(&path, "attendance"), 5);
    assert_eq!(count(&path, "ferry_runs"), 2);
    s.assert_same(&read(&path));
    let c = ro(&path);
    let sums: Vec<String> = c
        .prepare("SELECT checksums FROM ferry_runs ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums[0], sums[1], "same input, same table checksums");
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}

#[test]
fn a_rerun_updates_changed_records_and_keeps_stale_ones_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    run(&path, &s.output(), "run-1", json!({})).unwrap();
    let mut jose = s.students[0].clone();
    jose.last_name = "Núñez García".into();
    let mut second = SourceOutput::default();
    batch(&mut second, &[jose]);
    run(&path, &second, "run-2", json!({})).unwrap();
    let c = ro(&path);
    let rows: Vec<(String, String, String)> = c
        .prepare("SELECT source_id, last_name, run_id FROM students ORDER BY source_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            ("1001".into(), "Núñez García".into(), "run-2".into()),
            ("1002".into(), "O'Brien-Łukasz".into(), "run-1".into())
        ]
    );
    assert_eq!(count(&path, "attendance"), 5, "entities the run did not write are untouched");
}

#[test]
fn prune_stale_mirrors_the_latest_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    run(&path, &s.output(), "run-1", json!({})).unwrap();
    let mut second = SourceOutput::default();
    batch(&mut second, &s.students[..1]);
    // Half the students would go: more than the default limit, so refused.
    let err = run(&path, &second, "run-2", json!({ "prune_stale": true })).unwrap_err();
    assert!(err.message.contains("would delete 1 of the 2 students rows"), "{}", err.message);
    assert!(err.message.contains("prune_max_fraction"), "{}", err.message);
    assert_eq!(count(&path, "students"), 2, "a refused prune commits nothing");
    let done =
        run(&path, &second, "run-2", json!({ "prune_stale": true, "prune_max_fraction": 0.5 })).unwrap();
    assert!(done.notes.iter().any(|n| n.contains("1 stale")), "{:?}", done.notes);
    assert_eq!(count(&path, "students"), 1);
    assert_eq!(count(&path, "attendance"), 5, "entities the run did not write are not pruned");
    let pruned: i64 = ro(&path)
        .query_row(
            "SELECT json_extract(counts, '$.students.pruned') FROM ferry_runs WHERE run_id = 'run-2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pruned, 1);
}

#[test]
fn a_repeated_source_id_is_refused_never_silently_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let mut again = s.students[0].clone();
    again.first_name = "Josefina".into();
    again.meta.origin = Some(Origin { file: "students.txt".into(), line: 9, raw: None });
    let names = |p: &Path| -> Vec<(String, String)> {
        ro(p)
            .prepare("SELECT source_id, first_name FROM students ORDER BY source_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let id0 = s.students[0].meta.source.id.clone();
    let id1 = s.students[1].meta.source.id.clone();
    for (run_id, existing) in [("run-1", false), ("run-2", true)] {
        // Into an empty table (bulk insert), then into a table with rows (upsert).
        let mut input = SourceOutput::default();
        batch(&mut input, &[s.students[0].clone(), s.students[1].clone(), again.clone()]);
        let mut sink = SqlitePlugin::open_sink(&ctx(&path, run_id, json!({}))).unwrap();
        write_all(&mut sink, &input).unwrap();
        let prepared = sink.prepare(&summary(run_id)).unwrap();
        sink.commit().unwrap();
        sink.close().unwrap();
        assert_eq!(prepared.rejects.len(), 1, "existing archive: {existing}");
        let r = &prepared.rejects[0];
        assert!(r.is_reject());
        assert_eq!((r.record_id.as_str(), r.file.as_str(), r.line), (id0.as_str(), "students.txt", 9));
        assert!(r.reason.contains("already written in this run"), "{}", r.reason);
        assert_eq!(
            names(&path),
            [(id0.clone(), "José".to_owned()), (id1.clone(), "Zoë".to_owned())],
            "{run_id}"
        );
    }
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));

    // By policy, both are kept: the repeat under another id, with a warning.
    let kept = dir.path().join("kept.sqlite");
    let mut input = SourceOutput::default();
    batch(&mut input, &[s.students[0].clone(), again.clone(), again.clone()]);
    let o = testkit::run_sink_with::<SqlitePlugin>(
        &json!({ "path": kept.display().to_string(), "duplicates": "keep" }),
        dir.path(),
        &input,
        false,
    )
    .unwrap();
    assert_eq!((o.written, o.late_rejects.len(), o.late_warnings.len()), (3, 0, 2));
    assert_eq!(
        names(&kept),
        [
            (id0.clone(), "José".to_owned()),
            (format!("{id0}#2"), "Josefina".to_owned()),
            (format!("{id0}#3"), "Josefina".to_owned())
        ]
    );
}

#[test]
fn runs_are_recorded_with_counts_and_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let done = run(&path, &s.output(), "run-1", json!({})).unwrap();
    assert_eq!(done.location, path.display().to_string());
    let c = ro(&path);
    let (source, sha, started, finished, counts, checksums): (
        String,
        String,
        String,
        String,
        String,
        String,
    ) = c
        .query_row(
            "SELECT source, config_sha256, started_at, finished_at, counts, checksums FROM ferry_runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(source, "csv 0.1.0");
    assert_eq!(sha.len(), 64);
    assert_eq!((started.as_str(), finished.as_str()), ("2025-06-30T08:00:00Z", "2025-06-30T08:00:05Z"));
    let counts: Json = serde_json::from_str(&counts).unwrap();
    assert_eq!(counts["attendance"]["archived"], 5);
    assert_eq!(counts["students"]["rows"], 2);
    let checksums: Json = serde_json::from_str(&checksums).unwrap();
    assert!(checksums["students"]["checksum"].as_str().unwrap().starts_with("ferry-rowhash-1:"));
    let meta: Vec<(String, String)> = c
        .prepare("SELECT key, value FROM ferry_meta ORDER BY key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(meta.contains(&("format".into(), "ferry-archive".into())));
    assert!(meta.contains(&("schema_version".into(), SCHEMA_VERSION.to_string())));
    assert!(meta.iter().any(|(k, v)| k == "created_by" && v.starts_with("ferry-plugin-sqlite ")));
    drop(c);

    // An edit behind Ferry's back shows up in verification.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE students SET first_name = 'X' WHERE source_id = '1002'", [])
        .unwrap();
    let bad: Vec<String> = verify(&path).unwrap().into_iter().filter(|t| !t.ok()).map(|t| t.table).collect();
    assert_eq!(bad, ["students"]);
}

#[test]
fn refuses_files_that_are_not_archives() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.sqlite");
    fs::write(&text, "student,grade\n1,A\n").unwrap();
    let e = sink_err(&text);
    assert_eq!(e.kind, ErrorKind::Data);
    assert!(e.message.contains("notes.sqlite") && e.message.contains("not a Ferry archive"), "{e}");
    assert!(e.message.contains("not an SQLite database"), "{e}");
    assert_eq!(fs::read_to_string(&text).unwrap(), "student,grade\n1,A\n");
    let e = source_err(cfg(&text), dir.path());
    assert!(e.message.contains("not a Ferry archive"), "{e}");

    let other = dir.path().join("gradebook.db");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE marks (id INTEGER, mark TEXT)").unwrap();
    let before = fs::read(&other).unwrap();
    let e = sink_err(&other);
    assert!(e.message.contains("gradebook.db") && e.message.contains("without a ferry_meta table"), "{e}");
    let e = source_err(cfg(&other), dir.path());
    assert!(e.message.contains("without a ferry_meta table"), "{e}");
    assert_eq!(fs::read(&other).unwrap(), before);

    let missing = dir.path().join("nothing.sqlite");
    assert_eq!(files(dir.path()), ["gradebook.db", "notes.sqlite"], "nothing is left beside foreign files");
    let e = source_err(cfg(&missing), dir.path());
    assert!(e.message.contains("nothing.sqlite") && e.message.contains("does not exist"), "{e}");
    assert!(!missing.exists());

    // An empty file holds nothing to lose: the sink may turn it into an archive.
    let empty = dir.path().join("empty.sqlite");
    fs::write(&empty, "").unwrap();
    assert!(source_err(cfg(&empty), dir.path()).message.contains("empty"));
    write(&empty, &sample().output());
    sample().assert_same(&read(&empty));
}

#[test]
fn an_archive_from_a_newer_ferry_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE ferry_meta SET value = '99' WHERE key = 'schema_version'", [])
        .unwrap();
    let before = fs::read(&path).unwrap();
    let e = sink_err(&path);
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(
        e.message.contains("newer Ferry") && e.message.contains("99") && e.message.contains("Upgrade Ferry"),
        "{e}"
    );
    assert!(e.message.contains("district.sqlite"), "{e}");
    let e = source_err(cfg(&path), dir.path());
    assert!(e.message.contains("newer Ferry"), "{e}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
}

fn big_input(n: usize) -> SourceOutput {
    let mut input = SourceOutput::default();
    for chunk in many_attendance("BIG", n).chunks(1000) {
        batch(&mut input, chunk);
    }
    input
}

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_previous_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let before = fs::read(&path).unwrap();
    // The size cap is below what the run needs: SQLite reports SQLITE_FULL,
    // exactly as on a full disk.
    let e = run(&path, &big_input(20_000), "run-2", json!({ "_test_max_page_count": 40 })).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("disk is full") && e.message.contains("previous archive is unchanged"), "{e}");
    assert_eq!(fs::read(&path).unwrap(), before, "byte for byte");
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    sample().assert_same(&read(&path));

    // With no archive before, a failed run leaves none.
    let fresh = dir.path().join("fresh.sqlite");
    assert!(run(&fresh, &big_input(20_000), "run-3", json!({ "_test_max_page_count": 40 })).is_err());
    assert!(!fresh.exists());
    assert!(files(dir.path()).iter().all(|f| !f.contains("ferry-tmp")));
}

#[test]
fn abort_keeps_the_previous_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let before = fs::read(&path).unwrap();
    let mut sink = SqlitePlugin::open_sink(&ctx(&path, "aborted", json!({}))).unwrap();
    write_all(&mut sink, &big_input(3_000)).unwrap();
    assert!(files(dir.path()).iter().any(|f| f.contains(".ferry-tmp-aborted")));
    sink.abort().unwrap();
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    // The lock is free again.
    write(&path, &sample().output());
}

#[test]
fn a_sink_dropped_without_commit_leaves_the_previous_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let before = fs::read(&path).unwrap();
    {
        let mut sink = SqlitePlugin::open_sink(&ctx(&path, "dropped", json!({}))).unwrap();
        write_all(&mut sink, &big_input(2_000)).unwrap();
    }
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);

    // Without a previous archive, nothing appears.
    let fresh = dir.path().join("fresh.sqlite");
    {
        let mut sink = SqlitePlugin::open_sink(&ctx(&fresh, "dropped", json!({}))).unwrap();
        write_all(&mut sink, &sample().output()).unwrap();
    }
    assert!(!fresh.exists());
}

#[test]
fn a_temporary_file_left_by_a_killed_run_is_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    // What a run killed halfway through its copy leaves: half a database.
    let stale = dir.path().join("district.sqlite.ferry-tmp-killed");
    fs::write(&stale, &fs::read(&path).unwrap()[..4096]).unwrap();
    // The reader and the checks ignore it.
    sample().assert_same(&read(&path));
    write(&path, &sample().output());
    assert!(!stale.exists());
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    sample().assert_same(&read(&path));
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}

#[test]
fn a_second_writer_is_refused_while_a_run_is_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let first = SqlitePlugin::open_sink(&ctx(&path, "first", json!({}))).unwrap();
    let Err(e) = SqlitePlugin::open_sink(&ctx(&path, "second", json!({}))) else {
        panic!("second writer admitted")
    };
    assert!(e.message.contains("another Ferry run is writing"), "{e}");
    assert!(
        files(dir.path()).iter().any(|f| f.ends_with("ferry-tmp-first")),
        "the first run's file is not touched"
    );
    // Readers are not blocked.
    sample().assert_same(&read(&path));
    drop(first);
    write(&path, &sample().output());
}

const KILL_ENV: &str = "FERRY_SQLITE_KILL_CHILD";

/// Run by [`kill_9_mid_run_leaves_the_previous_archive`] in a child process:
/// writes batches forever without committing, until it is killed.
#[test]
#[ignore = "child process of kill_9_mid_run_leaves_the_previous_archive"]
fn kill_child_writer() {
    let Ok(dir) = std::env::var(KILL_ENV) else { return };
    let dir = PathBuf::from(dir);
    let path = archive_in(&dir);
    let mut sink = SqlitePlugin::open_sink(&ctx(&path, "doomed", json!({}))).unwrap();
    let input = big_input(5_000);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut rounds = 0;
    while Instant::now() < deadline {
        write_all(&mut sink, &input).unwrap();
        rounds += 1;
        if rounds == 2 {
            fs::write(dir.join("started"), "").unwrap();
        }
    }
}

#[test]
fn kill_9_mid_run_leaves_the_previous_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let before = fs::read(&path).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["kill_child_writer", "--exact", "--ignored", "--test-threads=1"])
        .env(KILL_ENV, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    while !dir.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the child never started writing");
        assert!(child.try_wait().unwrap().is_none(), "the child exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no abort runs
    child.wait().unwrap();
    fs::remove_file(dir.path().join("started")).unwrap();
    assert!(files(dir.path()).iter().any(|f| f == "district.sqlite.ferry-tmp-doomed"), "killed mid-run");
    assert_eq!(fs::read(&path).unwrap(), before, "the archive is the previous one, byte for byte");
    sample().assert_same(&read(&path));
    // The next run takes the (released) lock, clears the leftover and commits.
    write(&path, &sample().output());
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}

#[test]
fn the_source_reads_selected_entities_and_systems() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    let mut other = s.students[0].clone();
    other.meta.source.system = "infinite_campus".into();
    let mut input = SourceOutput::default();
    batch(&mut input, &[other.clone()]);
    write(&path, &input);

    let config = json!({ "path": "district.sqlite", "entities": ["attendance", "students"] });
    let out = testkit::run_source::<SqlitePlugin>(&config, dir.path(), 2).unwrap();
    let order: Vec<EntityKind> = out.batches.iter().map(|b| b.0).collect();
    assert_eq!(
        order,
        [
            EntityKind::Students,
            EntityKind::Students,
            EntityKind::Attendance,
            EntityKind::Attendance,
            EntityKind::Attendance
        ]
    );
    assert_eq!(
        out.records::<Student>().unwrap(),
        [s.students[0].clone(), s.students[1].clone(), other.clone()]
    );
    assert_eq!(out.count(EntityKind::Orgs), 0);

    let config =
        json!({ "path": "district.sqlite", "entities": ["students"], "source_system": "infinite_campus" });
    let out = testkit::run_source::<SqlitePlugin>(&config, dir.path(), 100).unwrap();
    assert_eq!(out.records::<Student>().unwrap(), [other]);

    let e = source_err(json!({ "path": "district.sqlite", "entities": ["pupils"] }), dir.path());
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("pupils") && e.message.contains("students"), "{e}");
    let e = source_err(json!({ "path": "district.sqlite", "tables": ["students"] }), dir.path());
    assert!(e.message.contains("tables"), "{e}");
}

#[test]
fn large_tables_stream_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let input = big_input(5_000);
    write(&path, &input);
    let out = testkit::run_source::<SqlitePlugin>(&cfg(&path), dir.path(), 333).unwrap();
    assert_eq!(out.batches.len(), 16);
    assert!(out.batches.iter().all(|b| b.1.num_rows() <= 333));
    assert_eq!(out.records::<AttendanceEvent>().unwrap(), input.records::<AttendanceEvent>().unwrap());
}

#[test]
fn hand_edited_bad_values_become_rejects_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE students SET birth_date = '03/02/2011' WHERE source_id = '1001'", [])
        .unwrap();
    let out = read(&path);
    assert_eq!(out.records::<Student>().unwrap(), [s.students[1].clone()]);
    let r = &out.rejects_of(EntityKind::Students)[0];
    assert_eq!(
        (r.field.as_str(), r.record_id.as_str(), r.file.as_str()),
        ("birth_date", "1001", "district.sqlite")
    );
    assert!(r.reason.contains("ISO date") && !r.reason.contains("03/02/2011"), "{}", r.reason);
    assert_eq!(r.value.as_deref(), Some("03/02/2011"));
}

#[test]
fn an_archive_from_an_older_model_is_read_and_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    // As if written before the model had `students.username` and `attendance`.
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP VIEW student_records; ALTER TABLE students DROP COLUMN username; DROP TABLE attendance;",
        )
        .unwrap();
    let out = read(&path);
    assert_eq!(out.records::<Student>().unwrap(), s.students);
    assert_eq!(out.count(EntityKind::Attendance), 0);
    write(&path, &s.output());
    s.assert_same(&read(&path));
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}

#[test]
fn the_student_view_answers_everything_about_a_student() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let mut input = s.output();
    // Enough rows that the planner statistics (ANALYZE at commit) favour indexes.
    let others: Vec<Student> = (0..1_000)
        .map(|i| Student {
            meta: Meta::new("powerschool", format!("{}", 100_000 + i)),
            student_number: Some(format!("{:06}", 500_000 + i)),
            first_name: "Ana".into(),
            last_name: format!("Pérez {i}"),
            school_id: Some("100".into()),
            ..Student::default()
        })
        .collect();
    batch(&mut input, &others);
    batch(&mut input, &many_attendance("A", 5_000));
    write(&path, &input);
    let c = ro(&path);
    let rows: Vec<(String, String)> = c
        .prepare("SELECT entity, record_id FROM student_records WHERE student_number = '000123' ORDER BY entity, record_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let entities: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        entities,
        [
            "attendance",
            "attendance",
            "attendance",
            "attendance",
            "contacts",
            "demographics",
            "grades",
            "school_enrollments",
            "section_enrollments",
            "student_contacts",
            "students"
        ]
    );
    let record: String = c
        .query_row(
            "SELECT record FROM student_records WHERE student_number = '000123' AND entity = 'students'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let record: Json = serde_json::from_str(&record).unwrap();
    assert_eq!(record["extensions"]["U_Locker"], "Locker, 17");
    assert_eq!(record["alt_ids"]["dcid"], "77");
    assert_eq!(record["grade_level_original"], "K");
    // The lookup finds the student by index in every branch, and their
    // attendance by index (one-row tables may be scanned: that is cheaper).
    let plan: Vec<String> = c
        .prepare("EXPLAIN QUERY PLAN SELECT * FROM student_records WHERE student_number = '000500'")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let by_number = plan.iter().filter(|l| l.contains("USING INDEX students_by_student_number")).count();
    // The student, each entity that refers to a student (by `student_id` or
    // `person_id`), and the contacts through `student_contacts`.
    let about_a_student = EntityKind::ALL
        .iter()
        .filter(|k| **k != EntityKind::Students)
        .filter(|k| k.fields().iter().any(|f| f.name == "student_id" || f.name == "person_id"))
        .count();
    assert_eq!(by_number, 1 + about_a_student + 1, "{plan:#?}");
    assert!(plan.iter().any(|l| l.contains("USING INDEX attendance_by_student_id_date")), "{plan:#?}");
}

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/archive.md")
}

#[test]
fn every_query_in_the_documentation_runs_and_finds_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let doc = fs::read_to_string(doc_path()).unwrap();
    let c = ro(&path);
    let mut n = 0;
    for block in doc.split("```sql").skip(1) {
        let sql = block.split("```").next().unwrap().trim();
        let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
        let cols = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let first = rows.next().unwrap_or_else(|e| panic!("{e}\n{sql}"));
        assert!(
            cols > 0 && (first.is_some() || sql.contains("-- may return no rows")),
            "no rows from:\n{sql}"
        );
        n += 1;
    }
    assert!(n >= 6, "only {n} queries found in docs/archive.md");
}
