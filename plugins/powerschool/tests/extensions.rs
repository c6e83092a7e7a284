//! Students' extension tables (`U_StudentsUserFields`, `S_<ST>_STU_X`),
//! merged into the students they extend; kept as source tables instead when
//! the destination keeps them. Secrets are left out of both.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use ferry_gen::PsGenOptions;
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::Student;
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit;

#[test]
fn extension_tables_are_merged_into_their_students() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PsGenOptions { quirks: true, ..PsGenOptions::full_district(200, 3) };
    let m = ferry_gen::powerschool(&opts, dir.path()).unwrap();
    let mut files = ferry_sdk::serde_json::Map::new();
    for f in m.files.iter().filter(|f| f.header == ferry_gen::HeaderStyle::None) {
        files.insert(f.name.clone(), json!({ "table": f.table, "columns": f.columns }));
    }
    let cfg =
        json!({ "directory": dir.path(), "files": files, "ignore": ["manifest.toml", "ferry-source.toml"] });
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 1000).unwrap();
    let students: Vec<Student> = out.records().unwrap();
    let with = |prefix: &str| {
        students.iter().filter(|s| s.meta.ext.iter().any(|(k, _)| k.starts_with(prefix))).count()
    };
    let u = m.file("u_studentsuserfields.txt").unwrap();
    let state = m.file("s_tx_stu_x.txt").unwrap();
    assert_eq!(with("S_TX_STU_X."), state.rows as usize, "one state row per student");
    let orphans = u.rejected_for("missing_student");
    assert!(orphans > 0, "the generator plants an orphan");
    assert_eq!(with("U_STUDENTSUSERFIELDS.") as u64, u.rows - orphans);
    // The orphan is a reject naming its file, not a silent loss.
    let rejected = out.rejects.iter().filter(|r| r.file == "u_studentsuserfields.txt").count() as u64;
    assert_eq!(rejected, orphans);
    // No secret anywhere.
    for s in &students {
        for (k, _) in s.meta.ext.iter() {
            assert!(
                !["SSN", "Web_Password", "Student_Web_Password", "LockerCombination"].contains(&k),
                "{k}"
            );
        }
    }

    // With source tables kept, the rows are there as they came instead.
    let out = testkit::run_source_with_tables::<PowerSchoolPlugin>(&cfg, dir.path(), 1000).unwrap();
    let students: Vec<Student> = out.records().unwrap();
    assert!(students.iter().all(|s| s.meta.ext.is_empty() && s.meta.origin.as_ref().unwrap().raw.is_none()));
    assert_eq!(out.table_rows("S_TX_STU_X"), state.rows);
    assert_eq!(out.table_rows("U_STUDENTSUSERFIELDS"), u.rows);
    let (_, batch) = out.tables.iter().find(|(t, _)| t == "Students").unwrap();
    for secret in ["SSN", "Web_Password", "Student_Web_Password", "LockerCombination"] {
        assert!(batch.schema().column_with_name(secret).is_none(), "{secret} left out");
    }
    assert!(batch.schema().column_with_name("Web_ID").is_some(), "not a secret");
    assert!(out.notices.iter().any(|n| n.contains("Students.SSN")), "{:?}", out.notices);
    // Every row of every file is in its source table.
    let mut by_table = std::collections::BTreeMap::<&str, u64>::new();
    for f in &m.files {
        *by_table.entry(f.table.as_str()).or_default() += f.rows;
    }
    let total: u64 = out.tables.iter().map(|(_, b)| b.num_rows() as u64).sum();
    assert_eq!(total, m.total_rows());
}

#[test]
fn the_fields_model_2_2_added_are_filled_from_the_export() {
    use ferry_sdk::model::{AttendanceEvent, CourseAttemptResult, Demographics, Grade, GradeKind};
    let dir = tempfile::tempdir().unwrap();
    ferry_gen::powerschool(&PsGenOptions::full_district(150, 4), dir.path()).unwrap();
    let cfg = json!({ "directory": dir.path(), "ignore": ["manifest.toml", "ferry-source.toml"] });
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 1000).unwrap();
    let students: Vec<Student> = out.records().unwrap();
    assert!(students.iter().all(|s| s.graduation_year.is_some_and(|y| y > 2000)), "class of");
    assert!(students.iter().any(|s| s.next_grade_level.is_some()));
    let grades: Vec<Grade> = out.records().unwrap();
    let stored: Vec<&Grade> =
        grades.iter().filter(|g| g.kind.as_ref().is_some_and(|k| k.code == GradeKind::Transcript)).collect();
    assert!(
        stored.iter().any(|g| g.exclude_from_class_rank.is_some() && g.exclude_from_transcript.is_some())
    );
    assert!(
        stored
            .iter()
            .any(|g| g.attempt_result.as_ref().is_some_and(|r| r.code == CourseAttemptResult::Completed))
    );
    let current =
        grades.iter().find(|g| g.kind.as_ref().is_some_and(|k| k.code != GradeKind::Transcript)).unwrap();
    assert_eq!(current.attempt_result.as_ref().unwrap().code, CourseAttemptResult::InProgress);
    let attendance: Vec<AttendanceEvent> = out.records().unwrap();
    assert!(attendance.iter().all(|a| a.session_id.is_some()), "the school year's session");
    let demographics: Vec<Demographics> = out.records().unwrap();
    assert!(demographics.iter().any(|d| !d.races.is_empty()));
    assert!(demographics.iter().all(|d| d.races.len() <= 1 || d.two_or_more_races == Some(true)));
}
