//! Generated districts (`ferry_gen::powerschool`), with and without quirks,
//! in UTF-8 and Windows-1252: every row of every file is accounted for.
//!
//! Accounting rule: each file has one *entity* (the entity its rows become,
//! or, for lookup tables such as Attendance_Code, the entity its rejects are
//! filed under). For every file, rows in the manifest = rows read = records
//! of that entity whose origin is the file + rows folded into lookups or
//! merged + rejects of that entity citing the file; and the rejects are
//! exactly the ones the manifest announces, for the announced reasons.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use ferry_gen::{GenManifest, HeaderStyle, PsGenOptions, TextEncoding};
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_plugin_powerschool::source::{FileStats, PowerSchoolSource};
use ferry_sdk::model::{EntityKind, Record, with_record_type};
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{BatchBuilder, OpenContext, Source};

/// The source configuration for a generated folder: headerless files get
/// their columns from the manifest.
pub fn config(dir: &std::path::Path, m: &GenManifest) -> serde_json::Value {
    let mut files = serde_json::Map::new();
    for f in m.files.iter().filter(|f| f.header == HeaderStyle::None) {
        files.insert(f.name.clone(), json!({ "table": f.table, "columns": f.columns }));
    }
    json!({ "directory": dir, "files": files })
}

fn stats(cfg: &serde_json::Value, dir: &std::path::Path) -> Vec<FileStats> {
    let mut src = PowerSchoolSource::open(&OpenContext::new(cfg.clone(), dir)).unwrap();
    loop {
        let mut b = BatchBuilder::new(5000);
        if !src.next_batch(&mut b).unwrap() {
            break;
        }
    }
    src.file_stats().to_vec()
}

/// Records of `entity` read from `file`; each names the file's `table` and
/// carries a row hash.
fn records_from(out: &SourceOutput, entity: EntityKind, file: &str, table: &str) -> u64 {
    with_record_type!(entity, R => {
        let records = out.records::<R>().unwrap();
        let from: Vec<&R> =
            records.iter().filter(|r| r.meta().origin.as_ref().is_some_and(|o| o.file == file)).collect();
        for r in &from {
            assert!(
                r.meta().table.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(table)),
                "{file}: {} {} names table {:?}",
                R::KIND,
                r.meta().source.id,
                r.meta().table
            );
            assert!(r.meta().row_hash.is_some(), "{file}: {} has a row hash", r.meta().source.id);
        }
        from.len() as u64
    })
}

fn check(opts: PsGenOptions) {
    let dir = tempfile::tempdir().unwrap();
    let m = ferry_gen::powerschool(&opts, dir.path()).unwrap();
    let cfg = config(dir.path(), &m);
    let stats = stats(&cfg, dir.path());
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 2000).unwrap();
    assert_eq!(stats.len(), m.files.len(), "every generated file is read");
    for f in &m.files {
        let s = stats.iter().find(|s| s.file == f.name).unwrap_or_else(|| panic!("{} not read", f.name));
        assert_eq!(
            s.table.to_ascii_lowercase(),
            f.table.to_ascii_lowercase(),
            "{}: table recognized",
            f.name
        );
        assert_eq!(s.rows, f.rows, "{}: rows read = rows written", f.name);
        assert_eq!(s.rows, s.records + s.folded + s.rejected, "{}: nothing lost", f.name);
        assert_eq!(
            s.rejected,
            f.rejected(),
            "{}: rejects announced by the manifest ({:?})",
            f.name,
            f.rejects
        );
        let entity = EntityKind::from_name(&s.entity).unwrap();
        assert_eq!(
            records_from(&out, entity, &f.name, &f.table),
            s.records,
            "{}: records of {entity}",
            f.name
        );
        let rejects: Vec<_> = out.rejects.iter().filter(|r| r.file == f.name && r.entity == entity).collect();
        assert_eq!(rejects.len() as u64, f.rejected(), "{}: rejects of {entity}", f.name);
        for (reason, n) in &f.rejects {
            let needle = match reason.as_str() {
                "wrong_field_count" => "fields, the file has",
                "missing_student" => "the student is not among",
                "missing_course" => "the course is not in",
                other => panic!("unknown reason {other}"),
            };
            let got = rejects.iter().filter(|r| r.reason.contains(needle)).count() as u64;
            assert_eq!(got, *n, "{}: {reason}", f.name);
        }
        if opts.encoding == TextEncoding::Cp1252
            && matches!(f.name.as_str(), "students.txt" | "users.txt" | "person.txt")
        {
            assert_eq!(s.encoding, "windows-1252", "{}", f.name);
        }
    }
    assert_eq!(stats.iter().map(|s| s.rows).sum::<u64>(), m.total_rows());
    // Generated bad rows are all bad rows, never bad values of optional
    // fields: the field policy warns about nothing.
    assert!(out.warnings.is_empty(), "no warnings: {:?}", out.warnings.iter().take(5).collect::<Vec<_>>());
    assert_eq!(
        out.rejects.len() as u64,
        m.total_rejects(),
        "no other rejects: {:?}",
        out.rejects.iter().take(5).collect::<Vec<_>>()
    );
    // Every entity the connector maps comes out of a PowerSchool district.
    for e in testkit::manifest::<PowerSchoolPlugin>().unwrap().entities {
        assert!(out.count(EntityKind::from_name(&e).unwrap()) > 0, "no {e}");
    }
    // Accented names survive either encoding.
    let students = out.records::<ferry_sdk::model::Student>().unwrap();
    assert!(students.iter().any(|s| s.last_name.contains(['ñ', 'é', 'ü', 'Š', 'Ž', 'ø'])));
    if opts.quirks {
        assert!(students.iter().any(|s| s.student_number.as_deref().is_some_and(|n| n.starts_with("00"))));
        assert!(students.iter().any(|s| s.middle_name.as_deref().is_some_and(|n| n.starts_with('"'))));
    }
}

#[test]
fn plain_utf8() {
    check(PsGenOptions {
        students: 250,
        seed: 11,
        quirks: false,
        encoding: TextEncoding::Utf8,
        ..PsGenOptions::default()
    });
}

#[test]
fn quirks_utf8() {
    check(PsGenOptions {
        students: 250,
        seed: 12,
        quirks: true,
        encoding: TextEncoding::Utf8,
        ..PsGenOptions::default()
    });
}

#[test]
fn plain_windows_1252() {
    check(PsGenOptions {
        students: 200,
        seed: 13,
        quirks: false,
        encoding: TextEncoding::Cp1252,
        ..PsGenOptions::default()
    });
}

#[test]
fn quirks_windows_1252() {
    check(PsGenOptions {
        students: 200,
        seed: 14,
        quirks: true,
        encoding: TextEncoding::Cp1252,
        ..PsGenOptions::default()
    });
}
