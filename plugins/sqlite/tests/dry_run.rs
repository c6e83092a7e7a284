//! Dry runs: the sink plans a run against the existing archive and writes
//! nothing at all (no archive, no temporary copy, no lock file).
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::EntityPlan;
use ferry_sdk::model::*;
use ferry_sdk::serde_json::{Value as Json, json};
use ferry_sdk::testkit::{self, SinkOutcome, SourceOutput};

fn dry_run(path: &Path, input: &SourceOutput, extra: Json) -> SinkOutcome {
    let mut config = cfg(path);
    if let (Some(c), Json::Object(e)) = (config.as_object_mut(), extra) {
        c.extend(e);
    }
    testkit::run_sink_with::<SqlitePlugin>(&config, path.parent().unwrap(), input, true).unwrap()
}

fn plan_of<'a>(o: &'a SinkOutcome, entity: &str) -> &'a EntityPlan {
    o.plan.iter().find(|p| p.entity == entity).unwrap_or_else(|| panic!("no plan for {entity}: {:?}", o.plan))
}

/// `(create, update, unchanged, delete)`.
fn counts(p: &EntityPlan) -> (u64, u64, u64, u64) {
    (p.create, p.update, p.unchanged, p.delete)
}

#[test]
fn a_dry_run_without_an_archive_creates_no_file_and_plans_every_record_as_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    let o = dry_run(&path, &s.output(), json!({}));
    assert_eq!(files(dir.path()), Vec::<String>::new(), "no archive, no temporary copy, no lock file");
    assert_eq!(o.written, s.total(), "every record is accounted for");
    assert!(o.rejects.is_empty() && o.committed.is_none());
    // One plan per entity the run wrote (the sample has 14 of them), and the source table.
    let given: std::collections::BTreeSet<EntityKind> = s.output().batches.iter().map(|b| b.0).collect();
    assert_eq!(o.plan.len(), given.len() + 1);
    assert_eq!(given.len(), 14);
    assert_eq!(counts(plan_of(&o, "students")), (2, 0, 0, 0));
    assert_eq!(counts(plan_of(&o, "attendance")), (5, 0, 0, 0));
    assert_eq!(counts(plan_of(&o, "src_Attendance")), (5, 0, 0, 0));
    assert_eq!(o.plan.iter().map(|p| p.create).sum::<u64>(), s.total() + 5);
    assert!(o.plan.iter().all(|p| p.reject == 0));

    // In a folder that does not exist, nothing is created either.
    let nested = dir.path().join("not").join("yet").join("district.sqlite");
    dry_run(&nested, &s.output(), json!({}));
    assert!(!dir.path().join("not").exists());
}

#[test]
fn a_second_run_over_an_archive_is_planned_as_updates_and_unchanged_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());
    let before = fs::read(&path).unwrap();
    let listing = files(dir.path());

    // The same export again: nothing would change.
    let o = dry_run(&path, &s.output(), json!({}));
    assert!(o.plan.iter().all(|p| p.create == 0 && p.update == 0 && p.delete == 0), "{:?}", o.plan);
    assert_eq!(o.plan.iter().map(|p| p.unchanged).sum::<u64>(), s.total() + 5, "the source table too");

    // One field of one student changed, one attendance event new.
    let mut changed = s.clone();
    changed.students[0].last_name = "Núñez García".into();
    let mut extra = changed.attendance[0].clone();
    extra.meta.source.id = "ATT-NEW".into();
    extra.meta.origin.as_mut().unwrap().line = 10;
    changed.attendance.push(extra);
    let o = dry_run(&path, &changed.output(), json!({}));
    assert_eq!(counts(plan_of(&o, "students")), (0, 1, 1, 0));
    assert_eq!(counts(plan_of(&o, "attendance")), (1, 0, 5, 0));
    assert_eq!(counts(plan_of(&o, "grades")), (0, 0, 1, 0));
    assert_eq!(o.written, changed.total());

    // An extension is content too; so is where the row was read.
    let mut moved = s.clone();
    moved.orgs[1].meta.ext.insert("Alternate_School_Number", "043");
    moved.courses[0].meta.origin.as_mut().unwrap().line = 3;
    let o = dry_run(&path, &moved.output(), json!({}));
    assert_eq!(counts(plan_of(&o, "orgs")), (0, 1, 1, 0));
    assert_eq!(counts(plan_of(&o, "courses")), (0, 1, 0, 0));

    assert_eq!(fs::read(&path).unwrap(), before, "the archive is untouched, byte for byte");
    assert_eq!(files(dir.path()), listing, "no temporary file is left behind");

    // The real run does what the dry run said.
    write(&path, &changed.output());
    let o = dry_run(&path, &changed.output(), json!({}));
    assert!(o.plan.iter().all(|p| p.create + p.update + p.delete == 0), "{:?}", o.plan);
}

#[test]
fn deletes_repeats_and_pruning_are_planned_as_the_write_would_do_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive_in(dir.path());
    let s = sample();
    write(&path, &s.output());

    let mut gone = s.students[1].clone();
    gone.meta.op = Operation::Delete;
    let mut never_there = s.students[1].clone();
    never_there.meta.source.id = "4242".into();
    never_there.meta.op = Operation::Delete;
    let mut renamed = s.students[0].clone();
    renamed.first_name = "Josefina".into();
    let mut input = SourceOutput::default();
    // José twice (the repeat is refused, as the write would), Zoë deleted, a
    // delete of a student the archive never had.
    batch(&mut input, &[s.students[0].clone(), renamed, gone, never_there]);
    let o = dry_run(&path, &input, json!({}));
    assert_eq!(counts(plan_of(&o, "students")), (0, 0, 2, 1));
    assert_eq!(plan_of(&o, "students").reject, 1);
    assert_eq!(o.late_rejects.len(), 1);
    assert_eq!(o.plan.len(), 1, "entities the run does not write are not in the plan: {:?}", o.plan);

    // With prune_stale, the rows of the source system the run did not write go.
    let mut only_jose = SourceOutput::default();
    batch(&mut only_jose, &s.students[..1]);
    let o = dry_run(&path, &only_jose, json!({ "prune_stale": true, "prune_max_fraction": 1.0 }));
    assert_eq!(counts(plan_of(&o, "students")), (0, 0, 1, 1));
    // Beyond the limit (one of two students is 50%), the dry run refuses as the run would.
    let mut refused = cfg(&path);
    refused["prune_stale"] = json!(true);
    let err = testkit::run_sink_with::<SqlitePlugin>(&refused, path.parent().unwrap(), &only_jose, true)
        .map(|_| ())
        .expect_err("a dry run that would prune half the students is refused");
    assert!(format!("{err:?}").contains("prune_max_fraction"), "{err:?}");
    let o = dry_run(&path, &only_jose, json!({}));
    assert_eq!(counts(plan_of(&o, "students")), (0, 0, 1, 0));
    assert_eq!(count(&path, "students"), 2, "nothing was deleted");
}

#[test]
fn a_dry_run_refuses_what_the_real_run_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.sqlite");
    fs::write(&text, "student,grade\n1,A\n").unwrap();
    let e = testkit::run_sink_with::<SqlitePlugin>(&cfg(&text), dir.path(), &sample().output(), true)
        .unwrap_err();
    assert!(e.message.contains("not a Ferry archive"), "{e}");
    assert_eq!(files(dir.path()), ["notes.sqlite"]);
}
