//! The SQLite archive, Ferry's embedded default destination: written by a
//! migration with no `--to`, read with `ferry archive`, re-run without
//! duplicates, and read back as a source.

use std::path::Path;

use crate::support::*;

fn migrate_to_archive(dir: &Path) -> serde_json::Value {
    let run = ferry(
        dir,
        &[plugins_dir()],
        &["migrate", "--from", &sample_source(), "--allow-rejects", "--format", "json"],
    );
    run.ok().json()
}

fn query(dir: &Path, sql: &str) -> Vec<serde_json::Value> {
    let run =
        ferry(dir, &[plugins_dir()], &["archive", "query", "ferry-archive.sqlite", sql, "--format", "json"]);
    run.ok().json().as_array().unwrap().clone()
}

#[test]
fn the_default_destination_is_a_queryable_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let report = migrate_to_archive(tmp.path());
    assert_eq!(report["sink"].as_str().unwrap().split(' ').next(), Some("sqlite"));
    assert!(tmp.path().join("ferry-archive.sqlite").is_file());

    let info =
        ferry(tmp.path(), &[plugins_dir()], &["archive", "info", "ferry-archive.sqlite", "--format", "json"])
            .ok()
            .json();
    let counts: Vec<(String, i64)> = serde_json::from_value(info["entities"].clone()).unwrap();
    let count = |e: &str| counts.iter().find(|c| c.0 == e).map_or(0, |c| c.1);
    // Six of the eight students: one's impossible birth date is left empty (a warning).
    assert_eq!(count("students"), 6);
    assert_eq!(count("orgs"), 3);
    assert_eq!(count("attendance"), 5);
    assert_eq!(info["runs"]["rows"].as_array().unwrap().len(), 1);

    // Everything the old system had about one student, with the original rows.
    let rows = query(
        tmp.path(),
        "SELECT entity, origin_file, origin_line, source_row, record FROM student_records WHERE student_number = '000123' ORDER BY entity, origin_line",
    );
    let entities: Vec<&str> = rows.iter().map(|r| r["entity"].as_str().unwrap()).collect();
    assert_eq!(entities, ["attendance", "attendance", "school_enrollments", "students"], "{rows:?}");
    let student = rows.iter().find(|r| r["entity"] == "students").unwrap();
    assert_eq!(student["origin_line"], 2);
    assert!(student["source_row"].as_str().unwrap().contains("José"), "{student}");
    assert!(
        student["record"].as_str().unwrap().contains("A-17"),
        "extensions are part of the record: {student}"
    );

    // A student's attendance in one school year.
    let att = query(
        tmp.path(),
        "SELECT a.date, a.category_original AS code FROM attendance AS a JOIN students AS s ON s.source_system = a.source_system AND s.source_id = a.student_id WHERE s.student_number = '000123' AND a.date BETWEEN '2024-07-01' AND '2025-06-30' ORDER BY a.date",
    );
    assert_eq!(
        att,
        vec![
            serde_json::json!({"date": "2024-09-12", "code": "A"}),
            serde_json::json!({"date": "2024-10-01", "code": "T"})
        ]
    );

    // All students who left a school in a given year.
    let left = query(
        tmp.path(),
        "SELECT s.student_number FROM school_enrollments AS e JOIN orgs AS o ON o.source_system = e.source_system AND o.source_id = e.school_id JOIN students AS s ON s.source_system = e.source_system AND s.source_id = e.student_id WHERE o.identifier = '301' AND e.exit_date BETWEEN '2024-07-01' AND '2025-06-30' ORDER BY 1",
    );
    assert_eq!(
        left,
        vec![
            serde_json::json!({"student_number": "000123"}),
            serde_json::json!({"student_number": "000792"})
        ]
    );

    // Extensions stay queryable.
    let lockers = query(
        tmp.path(),
        "SELECT student_number, json_extract(extensions, '$.Locker') AS locker FROM students WHERE locker IS NOT NULL ORDER BY 1",
    );
    assert_eq!(lockers.len(), 2);

    // Extract as CSV.
    let csv = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "archive",
            "extract",
            "ferry-archive.sqlite",
            "--entity",
            "students",
            "--where",
            "grade_level = 'KG'",
        ],
    );
    let out = &csv.ok().stdout;
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("Læssøe"), "{out}");

    // The archive cannot be changed through a query.
    let del = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["archive", "query", "ferry-archive.sqlite", "DELETE FROM students"],
    );
    assert_eq!(del.code, Some(1));
}

#[test]
fn running_the_same_migration_twice_adds_no_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    migrate_to_archive(tmp.path());
    migrate_to_archive(tmp.path());
    let n = query(
        tmp.path(),
        "SELECT (SELECT count(*) FROM students) AS students, (SELECT count(*) FROM attendance) AS attendance, (SELECT count(*) FROM ferry_runs) AS runs",
    );
    assert_eq!(n[0], serde_json::json!({"students": 6, "attendance": 5, "runs": 2}));
    let sums = query(tmp.path(), "SELECT checksums FROM ferry_runs ORDER BY seq");
    assert_eq!(sums[0]["checksums"], sums[1]["checksums"], "same input, same checksums");
}

#[test]
fn the_archive_reads_back_into_the_same_canonical_records() {
    let tmp = tempfile::tempdir().unwrap();
    migrate_to_archive(tmp.path());
    // Sample → CSV directly, and sample → archive → CSV: the same records.
    ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "csv",
            "--to-set",
            "directory=direct",
            "--allow-rejects",
        ],
    )
    .ok();
    let via = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            "sqlite",
            "--from-set",
            "path=ferry-archive.sqlite",
            "--to",
            "csv",
            "--to-set",
            "directory=via",
            "--format",
            "json",
        ],
    );
    let report = via.ok().json();
    assert_eq!(
        report["entities"].as_array().unwrap().iter().map(|e| e["rejected"].as_u64().unwrap()).sum::<u64>(),
        0
    );
    for file in ["orgs.csv", "students.csv", "school_enrollments.csv", "attendance.csv"] {
        let sorted = |dir: &str| {
            let text = read(&tmp.path().join(dir).join(file));
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted("direct"), sorted("via"), "{file} differs");
    }
}

#[test]
fn files_that_are_not_archives_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.sqlite"), "shopping list").unwrap();
    let run = ferry(tmp.path(), &[plugins_dir()], &["archive", "info", "notes.sqlite"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("notes.sqlite is not a Ferry archive"), "{}", run.stderr);
    // The sink refuses to overwrite it too, and leaves it as it was.
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "sqlite",
            "--to-set",
            "path=notes.sqlite",
            "--allow-rejects",
        ],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(read(&tmp.path().join("notes.sqlite")), "shopping list");
}
