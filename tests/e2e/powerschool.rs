//! A generated PowerSchool district through the real binary: every row is
//! accounted for, with and without quirks, in UTF-8 and Windows-1252.

use std::path::Path;

use ferry_gen::{GenManifest, PsGenOptions, SOURCE_CONFIG_FILE, TextEncoding};

use crate::support::*;

fn generate(dir: &Path, quirks: bool, encoding: TextEncoding) -> GenManifest {
    generate_with(dir, PsGenOptions { students: 120, seed: 11, quirks, encoding, ..PsGenOptions::default() })
}

fn generate_with(dir: &Path, opts: PsGenOptions) -> GenManifest {
    let out = dir.join("export");
    std::fs::create_dir_all(&out).unwrap();
    ferry_gen::powerschool(&opts, &out).unwrap()
}

fn counts(report: &serde_json::Value, name: &str) -> (u64, u64, u64, u64) {
    let e = entity(report, name);
    let n = |k: &str| e[k].as_u64().unwrap();
    (n("read"), n("written"), n("rejected"), n("skipped"))
}

/// Rows of the files of `table` in the manifest, and their expected rejects.
fn rows(m: &GenManifest, table: &str) -> (u64, u64) {
    m.files
        .iter()
        .filter(|f| f.table.eq_ignore_ascii_case(table))
        .fold((0, 0), |a, f| (a.0 + f.rows, a.1 + f.rejected()))
}

fn check_district(quirks: bool, encoding: TextEncoding) {
    let tmp = tempfile::tempdir().unwrap();
    let m = generate(tmp.path(), quirks, encoding);
    check_export(tmp.path(), &m);
}

/// Migrates the export in `tmp/export` to CSV and checks every row of the
/// manifest is accounted for.
fn check_export(tmp: &Path, m: &GenManifest) {
    let quirks = m.quirks;
    let from = format!("powerschool:{}", tmp.join("export").join(SOURCE_CONFIG_FILE).display());
    let run = ferry(
        tmp,
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &from,
            "--to",
            "csv",
            "--to-set",
            "directory=out",
            "--format",
            "json",
            "--allow-rejects",
        ],
    );
    let report = run.ok().json();
    for e in report["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(n("read"), n("written") + n("rejected") + n("skipped"), "{e}");
    }
    // Every bad row the generator planted is rejected, and nothing else.
    let rejected: u64 =
        report["entities"].as_array().unwrap().iter().map(|e| e["rejected"].as_u64().unwrap()).sum();
    assert_eq!(rejected, m.total_rejects(), "quirks={quirks}");
    assert_eq!(jsonl(&tmp.join("ferry-rejects.jsonl")).len() as u64, m.total_rejects());
    // One record per row for the big tables: rows = written + rejected.
    for (table, entity_name) in [
        ("Attendance", "attendance"),
        ("CC", "section_enrollments"),
        ("Students", "students"),
        ("Courses", "courses"),
    ] {
        let (mut file_rows, mut file_rejects) = rows(m, table);
        if table == "Students" {
            // A row of a Students extension table whose student is missing
            // is filed as a students reject.
            for ext in ["U_StudentsUserFields", "S_TX_STU_X"] {
                let orphans = rows(m, ext).1;
                file_rows += orphans;
                file_rejects += orphans;
            }
        }
        let (read, written, rej, _) = counts(&report, entity_name);
        assert_eq!(read, file_rows, "{table}: rows in the export vs records read");
        assert_eq!((written, rej), (file_rows - file_rejects, file_rejects), "{table}");
    }
    if m.district_tables {
        check_district_tables(&report, m);
    }
    let (sg_rows, sg_rejects) = rows(m, "StoredGrades");
    let (pg_rows, pg_rejects) = rows(m, "PGFinalGrades");
    let (grades_read, grades_written, _, _) = counts(&report, "grades");
    assert_eq!(grades_read, sg_rows + pg_rows);
    assert_eq!(grades_written, sg_rows + pg_rows - sg_rejects - pg_rejects);
    // Accents survive either encoding; dates are ISO in the output.
    let students = read(&tmp.join("out/students.csv"));
    assert!(students.chars().any(|c| "áéíóúñüçãõàèìòùâêîôûäëïöÿ".contains(c)), "accented names expected");
    assert!(!students.contains('\u{fffd}'), "no replacement characters");
}

/// The district tables of a full export: one record per row of Log,
/// SPEnrollments, Test and StudentTest; discipline from Log and Incident
/// Management together; each entity's rejects are its files' planted ones.
fn check_district_tables(report: &serde_json::Value, m: &GenManifest) {
    for (table, entity_name) in [
        ("Log", "log_entries"),
        ("SPEnrollments", "program_participations"),
        ("Test", "assessments"),
        ("StudentTest", "student_assessments"),
    ] {
        let (file_rows, file_rejects) = rows(m, table);
        let (read, written, rej, _) = counts(report, entity_name);
        assert_eq!(read, file_rows, "{table}: rows in the export vs records read");
        assert_eq!((written, rej), (file_rows - file_rejects, file_rejects), "{table}");
    }
    let (incidents, ..) = counts(report, "discipline_incidents");
    assert!(incidents > rows(m, "Incident").0, "incidents from Incident and from Log");
    let (participants, _, participant_rejects, _) = counts(report, "discipline_participants");
    assert!(participants > rows(m, "Incident_Person_Role").0);
    assert_eq!(participant_rejects, rows(m, "Incident_Person_Role").1);
    let (actions, _, action_rejects, _) = counts(report, "discipline_actions");
    assert!(actions > rows(m, "Incident_Action").0);
    assert_eq!(action_rejects, rows(m, "Incident_Action").1);
    // A score row makes a score per result: more scores than rows.
    let (score_rows, score_rejects) = rows(m, "StudentTestScore");
    let (scores, _, rej, _) = counts(report, "assessment_scores");
    assert!(scores > score_rows, "{scores} scores of {score_rows} rows");
    assert_eq!(rej, score_rejects);
    let (programs, written, ..) = counts(report, "programs");
    assert_eq!((programs, written), (7, 7), "Gen's specprog rows");
}

#[test]
fn generated_full_district_with_quirks_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let m = generate_with(
        tmp.path(),
        PsGenOptions { students: 150, seed: 7, quirks: true, ..PsGenOptions::full_district(150, 7) },
    );
    check_export(tmp.path(), &m);
}

#[test]
fn generated_district_plain_utf8() {
    check_district(false, TextEncoding::Utf8);
}

#[test]
fn generated_district_with_quirks_utf8() {
    check_district(true, TextEncoding::Utf8);
}

#[test]
fn generated_district_with_quirks_windows_1252() {
    check_district(true, TextEncoding::Cp1252);
}

#[test]
fn powerschool_into_the_archive_and_import_files() {
    let tmp = tempfile::tempdir().unwrap();
    let m = generate(tmp.path(), true, TextEncoding::Cp1252);
    let from = format!("powerschool:{}", tmp.path().join("export").join(SOURCE_CONFIG_FILE).display());
    let run = ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", &from, "--format", "json"]);
    assert_eq!(run.code, Some(3), "planted bad rows are rejected: {}", run.stderr);
    let written = total(&run.json(), "written");
    let query = |sql: &str| {
        ferry(
            tmp.path(),
            &[plugins_dir()],
            &["archive", "query", "ferry-archive.sqlite", sql, "--format", "json"],
        )
        .ok()
        .json()
    };
    // Every file is kept as it came, under its PowerSchool table name, row for row.
    let mut by_table: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for f in &m.files {
        *by_table.entry(f.table.as_str()).or_default() += f.rows;
    }
    for (table, rows) in &by_table {
        let n = query(&format!("SELECT count(*) AS n FROM \"src_{table}\""))[0]["n"].as_u64().unwrap();
        assert_eq!(n, *rows, "source table {table}");
    }
    let report = run.json();
    let kept: u64 =
        report["source_tables"].as_array().unwrap().iter().map(|t| t["written"].as_u64().unwrap()).sum();
    assert_eq!(kept, m.total_rows(), "the report accounts for every source row");
    // Each canonical row finds its source row.
    let joined = query(
        "SELECT count(*) AS n, sum(s.\"Att_Date\" IS NOT NULL) AS dated FROM attendance a \
         JOIN ferry_source_files f ON f.source_table = a.source_table AND f.file = a.origin_file \
         JOIN \"src_Attendance\" s ON s._row = f.id * 1000000000 + a.origin_line",
    );
    let attendance = query("SELECT count(*) AS n FROM attendance")[0]["n"].as_u64().unwrap();
    assert_eq!(joined[0]["n"].as_u64().unwrap(), attendance, "{joined}");
    assert_eq!(
        joined[0]["dated"].as_u64().unwrap(),
        attendance,
        "the source rows are typed and whole: {joined}"
    );
    // The raw line is no longer repeated in every record.
    let raw = query("SELECT count(*) AS n FROM attendance WHERE source_row IS NOT NULL");
    assert_eq!(raw[0]["n"].as_u64(), Some(0));
    assert!(written > m.total_rows() / 2);

    // PowerSchool import files, with the guide.
    let to = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &from,
            "--to",
            "powerschool",
            "--to-set",
            "directory=import",
            "--allow-rejects",
        ],
    );
    to.ok();
    let guide = read(&tmp.path().join("import/IMPORT-GUIDE.md"));
    assert!(guide.to_lowercase().contains("students"), "{guide}");
    let students = std::fs::read(
        tmp.path().join("import").join(
            std::fs::read_dir(tmp.path().join("import"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .find(|n| n.to_lowercase().contains("student"))
                .unwrap(),
        ),
    )
    .unwrap();
    let head =
        String::from_utf8_lossy(&students[..students.iter().position(|&b| b == b'\n').unwrap()]).into_owned();
    assert!(head.contains("Student_Number") && head.contains('\t'), "{head}");
}

#[test]
fn extracted_csv_reads_back_through_the_canonical_layout_without_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), false, TextEncoding::Utf8);
    let from = format!("powerschool:{}", tmp.path().join("export").join(SOURCE_CONFIG_FILE).display());
    let run = ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", &from, "--format", "json"]);
    let report = run.ok().json();
    let query = |sql: &str| -> Vec<serde_json::Value> {
        let run = ferry(
            tmp.path(),
            &[plugins_dir()],
            &["archive", "query", "ferry-archive.sqlite", sql, "--format", "json"],
        );
        run.ok().json().as_array().unwrap().clone()
    };
    let back = tmp.path().join("extracted");
    std::fs::create_dir(&back).unwrap();
    let mut entities = Vec::new();
    for e in report["entities"].as_array().unwrap() {
        let entity = e["entity"].as_str().unwrap();
        if e["written"].as_u64().unwrap() == 0 {
            continue;
        }
        let csv = ferry(
            tmp.path(),
            &[plugins_dir()],
            &["archive", "extract", "ferry-archive.sqlite", "--entity", entity, "--format", "csv"],
        );
        std::fs::write(back.join(format!("{entity}.csv")), &csv.ok().stdout).unwrap();
        entities.push((entity.to_owned(), e["written"].as_u64().unwrap()));
    }
    let alt_before = query("SELECT count(*) AS n FROM students WHERE alt_ids IS NOT NULL");
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &format!("csv:{}", back.display()),
            "--to",
            "sqlite:again.sqlite",
            "--format",
            "json",
        ],
    );
    let again = run.ok().json();
    for e in again["entities"].as_array().unwrap() {
        assert_eq!(e["rejected"], 0, "{e}");
        assert_eq!(e["warned"], 0, "{e}");
        let want = entities.iter().find(|(n, _)| n == e["entity"].as_str().unwrap()).map(|x| x.1);
        assert_eq!(e["written"].as_u64(), want, "{e}");
    }
    let alt_after = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "archive",
            "query",
            "again.sqlite",
            "SELECT count(*) AS n FROM students WHERE alt_ids IS NOT NULL",
            "--format",
            "json",
        ],
    )
    .ok()
    .json();
    assert_eq!(alt_after[0]["n"], alt_before[0]["n"], "alternative ids survive the trip");
    assert!(alt_before[0]["n"].as_u64().unwrap() > 0);
}

/// A full district (every table a district exports, planted bad rows, the
/// secrets of a full export) into the archive: every row of every file is
/// kept as it came and accounted for, the planted rows and only they are
/// rejected, the new entities are queryable, and no secret is stored.
#[test]
fn a_full_district_into_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("export");
    std::fs::create_dir_all(&out).unwrap();
    let opts = PsGenOptions { quirks: true, contacts_export: false, ..PsGenOptions::full_district(150, 5) };
    let m = ferry_gen::powerschool(&opts, &out).unwrap();
    let from = format!("powerschool:{}", out.join(SOURCE_CONFIG_FILE).display());
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", &from, "--format", "json", "--allow-rejects"],
    );
    let report = run.ok().json();
    // Per entity, the books balance; the planted bad rows are the rejects.
    for e in report["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(n("read"), n("written") + n("rejected") + n("skipped"), "{e}");
    }
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    let rejected = rejects.iter().filter(|r| r["severity"] == "reject").count() as u64;
    assert_eq!(rejected, m.total_rejects());
    for f in &m.files {
        let of_file =
            rejects.iter().filter(|r| r["severity"] == "reject" && r["file"] == f.name.as_str()).count();
        assert_eq!(of_file as u64, f.rejected(), "{}: rejects", f.name);
    }
    // Per table, every row is kept as it came.
    let query = |sql: &str| -> Vec<serde_json::Value> {
        let q = ferry(
            tmp.path(),
            &[plugins_dir()],
            &["archive", "query", "ferry-archive.sqlite", sql, "--format", "json"],
        );
        q.ok().json().as_array().unwrap().clone()
    };
    let mut by_table: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for f in &m.files {
        let name = if f.name.starts_with("u_") { "U_STUDENTSUSERFIELDS".to_owned() } else { f.table.clone() };
        *by_table.entry(name).or_default() += f.rows;
    }
    let kept = query("SELECT source_table, rows FROM ferry_source_tables ORDER BY 1");
    assert_eq!(kept.len(), by_table.len(), "{kept:?}");
    for t in &kept {
        let name = t["source_table"].as_str().unwrap();
        assert_eq!(t["rows"].as_u64(), by_table.get(name).copied(), "{name}");
    }
    for t in report["source_tables"].as_array().unwrap() {
        assert_eq!(t["read"], t["written"], "{t}");
    }
    // No secret: not a column of the source tables, not an extension, and
    // the summary names what was left out.
    let students = m.file("students.txt").unwrap();
    assert!(!students.secrets.is_empty());
    let cols = query("SELECT columns, omitted FROM ferry_source_tables WHERE source_table = 'Students'");
    for s in &students.secrets {
        assert!(!cols[0]["columns"].as_str().unwrap().contains(&format!("\"{s}\"")), "{s} stored");
        assert!(cols[0]["omitted"].as_str().unwrap().contains(s.as_str()), "{s} named");
        let n = query(&format!("SELECT count(*) AS n FROM students WHERE extensions LIKE '%{s}%'"));
        assert_eq!(n[0]["n"], 0, "{s} in extensions");
    }
    assert!(
        report["notices"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("Students.SSN")),
        "{}",
        report["notices"]
    );
    // The district's new entities are in the archive, and queryable.
    for table in [
        "code_values",
        "calendar_days",
        "class_periods",
        "bell_schedules",
        "staff_assignments",
        "academic_records",
        "gpas",
        "programs",
        "program_participations",
        "discipline_incidents",
        "discipline_participants",
        "discipline_actions",
        "log_entries",
        "assessments",
        "student_assessments",
        "assessment_scores",
    ] {
        let n = query(&format!("SELECT count(*) AS n FROM {table}"));
        assert!(n[0]["n"].as_u64().unwrap() > 0, "{table} is empty");
    }
    // A student's tests and discipline, one query away.
    let rows = query(
        "SELECT entity, count(*) AS n FROM student_records WHERE entity IN ('log_entries', 'student_assessments', 'program_participations') GROUP BY entity",
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
}
