//! What Core 2.0 records bring to the archive: delete operations, exact
//! decimals, full provenance, personal-data flags on extensions, the
//! prepare/commit split, archives of the previous schema version, and every
//! entity of the model (those of 2.2 included) kept whole.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use ferry_archive::{SCHEMA_VERSION, verify};
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::model::*;
use ferry_sdk::serde_json::{self, Value as Json, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{ErrorKind, OpenContext, Plugin, RunSummary, SinkBatch};
use rusqlite::{Connection, OpenFlags};

fn ro(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn ids(path: &Path, table: &str) -> Vec<String> {
    ro(path)
        .prepare(&format!("SELECT source_id FROM {table} ORDER BY source_id"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn deleted(r: &Student) -> Student {
    let mut d = r.clone();
    d.meta.op = Operation::Delete;
    d
}

#[test]
fn a_delete_operation_removes_the_archived_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    let mut input = SourceOutput::default();
    batch(&mut input, &[deleted(&s.students[1])]);
    let (written, rejects) = write(&path, &input);
    assert_eq!((written, rejects.len()), (1, 0));
    assert_eq!(ids(&path, "students"), ["1001"]);
    assert_eq!(read(&path).records::<Student>().unwrap(), s.students[..1]);
    let deleted_count: i64 = ro(&path)
        .query_row(
            "SELECT json_extract(counts, '$.students.deleted') FROM ferry_runs ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(deleted_count, 1);
    assert_eq!(count(&path, "attendance"), 5, "other entities are untouched");
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));

    // Deleting what is not there changes nothing.
    let mut ghost = deleted(&s.students[1]);
    ghost.meta.source.id = "4242".into();
    let mut input = SourceOutput::default();
    batch(&mut input, &[ghost]);
    write(&path, &input);
    assert_eq!(ids(&path, "students"), ["1001"]);
}

#[test]
fn deletes_apply_in_order_within_a_run_even_into_a_new_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let mut back = s.students[0].clone();
    back.first_name = "Josefina".into();
    let mut input = SourceOutput::default();
    // A new archive is bulk-loaded; a delete in the middle still applies to
    // what came before it, and what comes after it stays.
    batch(&mut input, &[s.students[0].clone(), s.students[1].clone()]);
    batch(&mut input, &[deleted(&s.students[0]), deleted(&s.students[1]), back.clone()]);
    let (written, _) = write(&path, &input);
    assert_eq!(written, 5);
    assert_eq!(read(&path).records::<Student>().unwrap(), [back]);
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}

#[test]
fn decimals_round_trip_exactly_and_stay_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let mut s = sample();
    s.courses[0].credit_hours = dec("0.3333");
    s.grades[0].gpa_points = dec("3.6667");
    s.grades[0].percent = dec("99.9999");
    s.grades[0].credits_attempted = dec("-0.0001");
    s.grades[0].credits_earned = dec("12345678901234.5678");
    write(&path, &s.output());
    let back = read(&path);
    s.assert_same(&back);
    let g = &back.records::<Grade>().unwrap()[0];
    assert_eq!(g.gpa_points.unwrap().units(), 36_667, "no float on the way");
    assert_eq!(g.credits_earned.unwrap().to_string(), "12345678901234.5678");

    let c = ro(&path);
    let row: (String, String, f64, String) = c
        .query_row(
            "SELECT credit_hours, typeof(credit_hours), CAST(credit_hours AS REAL) * 3, \
             (SELECT percent FROM grades) FROM courses",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((row.0.as_str(), row.1.as_str(), row.3.as_str()), ("0.3333", "text", "99.9999"));
    assert!((row.2 - 0.9999).abs() < 1e-12, "arithmetic works on the text: {}", row.2);

    // A hand edit that is not a decimal is a reject naming the field.
    drop(c);
    Connection::open(&path).unwrap().execute("UPDATE grades SET gpa_points = 'A+'", []).unwrap();
    let out = read(&path);
    let r = &out.rejects_of(EntityKind::Grades)[0];
    assert_eq!((r.field.as_str(), r.value.as_deref()), ("gpa_points", Some("A+")));
    assert!(r.reason.contains("not a decimal number"), "{}", r.reason);
}

#[test]
fn provenance_and_personal_data_flags_are_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    let c = ro(&path);
    let school: (String, String, String) = c
        .query_row(
            "SELECT source_table, source_row_hash, operation FROM orgs WHERE source_id = '100'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let hash: String = s.orgs[1].meta.row_hash.unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(school, ("Schools".into(), hash, "upsert".into()));
    let modified: String = c
        .query_row("SELECT source_modified_at FROM students WHERE source_id = '1001'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(modified, "2025-05-30T14:03:09.250000Z");
    let locator: String = c.query_row("SELECT source_locator FROM grades", [], |r| r.get(0)).unwrap();
    assert_eq!(locator, "https://sis.example.org/ws/v1/grades/G1");

    // Extensions flagged as personal data say so; the others keep the flat shape.
    let ext: String =
        c.query_row("SELECT extensions FROM students WHERE source_id = '1002'", [], |r| r.get(0)).unwrap();
    let ext: Json = serde_json::from_str(&ext).unwrap();
    assert_eq!(ext, json!({"Nickname": {"value": "Zozo", "pii": true}}));
    let nick: String = c
        .query_row(
            "SELECT json_extract(extensions, '$.Nickname.value') FROM students WHERE source_id = '1002'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nick, "Zozo");
    // An alternative id with its assigner.
    let nces: String = c
        .query_row(
            "SELECT json_extract(alt_ids, '$.nces.assigner') FROM orgs WHERE source_id = '1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nces, "NCES");
    let back = read(&path);
    s.assert_same(&back);
    let zoe = &back.records::<Student>().unwrap()[1];
    assert!(zoe.meta.ext.is_pii("Nickname"));
}

#[test]
fn an_interruption_between_prepare_and_commit_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    let before = fs::read(&path).unwrap();
    let mut ctx = OpenContext::new(cfg(&path), dir.path());
    ctx.run_id = "interrupted".into();
    let mut sink = SqlitePlugin::open_sink(&ctx).unwrap();
    let mut more = s.clone();
    more.students[0].last_name = "Changed".into();
    for (e, b) in &more.output().batches {
        sink.write(SinkBatch::new(*e, b)).unwrap();
    }
    let prepared = sink.prepare(&RunSummary::default()).unwrap();
    assert!(prepared.rejects.is_empty() && prepared.plan.is_empty());
    assert!(
        sink.write(SinkBatch::new(EntityKind::Students, &testkit::batch_of(&s.students).unwrap())).is_err()
    );
    // Everything that can fail has happened; the previous archive is still in place.
    assert_eq!(fs::read(&path).unwrap(), before);
    sink.abort().unwrap();
    sink.close().unwrap();
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);

    // Prepared and committed, the change is there.
    let mut sink = SqlitePlugin::open_sink(&ctx).unwrap();
    assert!(sink.commit().is_err(), "commit before prepare");
    for (e, b) in &more.output().batches {
        sink.write(SinkBatch::new(*e, b)).unwrap();
    }
    sink.prepare(&RunSummary::default()).unwrap();
    let done = sink.commit().unwrap();
    sink.close().unwrap();
    assert!(done.notes.iter().any(|n| n.contains("archived")), "{:?}", done.notes);
    more.assert_same(&read(&path));
}

#[test]
fn an_archive_of_the_previous_schema_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    write(&path, &sample().output());
    let older = SCHEMA_VERSION - 1;
    Connection::open(&path)
        .unwrap()
        .execute(&format!("UPDATE ferry_meta SET value = '{older}' WHERE key = 'schema_version'"), [])
        .unwrap();
    let before = fs::read(&path).unwrap();
    let e = testkit::run_sink::<SqlitePlugin>(&cfg(&path), dir.path(), &sample().output()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(
        e.message.contains("district.sqlite")
            && e.message.contains(&format!("schema version {older}"))
            && e.message.contains("older Ferry")
            && e.message.contains("another path"),
        "{e}"
    );
    let e = testkit::run_source::<SqlitePlugin>(&cfg(&path), dir.path(), 100).unwrap_err();
    assert!(e.message.contains("older Ferry"), "{e}");
    let e = testkit::run_sink_with::<SqlitePlugin>(&cfg(&path), dir.path(), &sample().output(), true)
        .unwrap_err();
    assert!(e.message.contains("older Ferry"), "a dry run says so too: {e}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(files(dir.path()), ["district.sqlite", "district.sqlite.ferry-lock"]);
    // The command line still inspects it.
    let a = ferry_archive::Archive::open(&path).unwrap();
    assert_eq!(a.schema_version(), older);
}

#[test]
fn every_entity_round_trips_with_its_alt_ids_and_joins_the_student_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let mut input = SourceOutput::default();
    let mut expected = 0;
    for kind in EntityKind::ALL {
        with_record_type!(*kind, R => {
            let mut a: R = testkit::sample_record("0017", 0, true);
            // Records about one student, so that the view finds them.
            for f in ["student_id", "person_id"] {
                if R::fields().iter().any(|d| d.name == f) {
                    a.set(f, Value::Text("0017")).unwrap();
                }
            }
            let m = a.meta_mut();
            m.push_alt_id("state", "0099", Some("TX"));
            m.push_alt_id("state", "77", Some("OK"));
            m.push_alt_id("old", "12", None);
            m.ext.insert_pii("U_Note", "private");
            let b: R = testkit::sample_record("18", 1, true);
            batch(&mut input, &[a, b]);
            expected += 2;
        });
    }
    let (written, rejects) = write(&path, &input);
    assert_eq!((written, rejects.len()), (expected, 0));
    let back = read(&path);
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    for kind in EntityKind::ALL {
        with_record_type!(*kind, R => {
            assert_eq!(back.records::<R>().unwrap(), input.records::<R>().unwrap(), "{kind}");
        });
    }
    let c = ro(&path);
    let alt: String =
        c.query_row("SELECT alt_ids FROM gpas WHERE source_id = '0017'", [], |r| r.get(0)).unwrap();
    let alt: Json = serde_json::from_str(&alt).unwrap();
    assert_eq!(alt["state"][1], json!({ "value": "77", "assigner": "OK" }), "{alt}");
    let time: String = c
        .query_row("SELECT start_time FROM bell_schedule_periods WHERE source_id = '18'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(time, "09:15:30");
    let entities: Vec<String> = c
        .prepare("SELECT DISTINCT entity FROM student_records WHERE student_id = '0017' ORDER BY entity")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for e in ["log_entries", "gpas", "discipline_actions", "line_item_results", "student_assessments"] {
        assert!(entities.iter().any(|x| x == e), "{e} in {entities:?}");
    }
    assert!(verify(&path).unwrap().iter().all(|t| t.ok()));
}
