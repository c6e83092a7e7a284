//! The field policy and rejected parents, on copies of `tests/data/district`
//! with one value broken on purpose.
//!
//! - A value of an optional field that cannot be read (an impossible birth
//!   date, a percent with too many decimals) leaves the field empty with a
//!   warning naming file, line and field; the record and its children
//!   migrate.
//! - A row whose parent (student, section…) was read but rejected is
//!   rejected with a reason naming the parent's reject; a parent that is not
//!   there at all keeps the plain reason.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{
    AttendanceEvent, Decimal, Demographics, EntityKind, Grade, Record, SchoolEnrollment, SectionEnrollment,
    Student, StudentContact,
};
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::testkit::{self, SourceOutput};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A copy of the district export with `edits` (file, text, replacement)
/// applied, each exactly once.
fn district_with(edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(data("district")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (file, from, to) in edits {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{file}: {from:?} once");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    dir
}

fn config(dir: &Path) -> serde_json::Value {
    json!({
        "directory": dir,
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    })
}

fn read(dir: &Path) -> SourceOutput {
    testkit::run_source::<PowerSchoolPlugin>(&config(dir), dir, 7).unwrap()
}

fn find<R: Record>(out: &SourceOutput, id: &str) -> Option<R> {
    out.records::<R>().unwrap().into_iter().find(|r| r.meta().source.id == id)
}

/// The ids of the records of `R` whose student is `student`.
fn of_student<R: Record>(out: &SourceOutput, field: &str, student: &str) -> Vec<String> {
    let mut ids: Vec<String> = out
        .records::<R>()
        .unwrap()
        .into_iter()
        .filter(|r| r.get(field).is_some_and(|v| format!("{v:?}").contains(&format!("\"{student}\""))))
        .map(|r| r.meta().source.id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn an_impossible_birth_date_is_a_warning_and_the_student_migrates_with_their_children() {
    let plain = read(&data("district"));
    let dir = district_with(&[("students.txt", "\t6/9/2019\t", "\t02/30/2011\t")]);
    let out = read(dir.path());

    // The student is written, birth date empty, everything else as read.
    let jose: Student = find(&out, "5001").expect("the student migrates");
    assert_eq!(jose.birth_date, None);
    let mut before: Student = find(&plain, "5001").unwrap();
    before.birth_date = None;
    let mut after = jose.clone();
    after.meta.origin = before.meta.origin.clone();
    after.meta.row_hash = before.meta.row_hash;
    assert_eq!(after, before, "only the birth date is lost");

    // One warning names file, line and field; no reject is added.
    assert!(plain.warnings.is_empty(), "{:?}", plain.warnings);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert!(!w.is_reject());
    assert_eq!(
        (w.entity, w.file.as_str(), w.line, w.field.as_str()),
        (EntityKind::Students, "students.txt", 2, "birth_date")
    );
    assert_eq!((w.record_id.as_str(), w.value.as_deref()), ("5001", Some("02/30/2011")));
    assert!(w.reason.contains("DOB") && w.reason.contains("left empty"), "{}", w.reason);
    assert!(!w.reason.contains("02/30"), "no values in reasons");
    assert_eq!(out.rejects, plain.rejects, "the same rejects as without the bad date");

    // Their children migrate: every entity has as many records as before.
    for e in EntityKind::ALL {
        assert_eq!(out.count(*e), plain.count(*e), "{e}");
    }
    let children = [
        (of_student::<SchoolEnrollment>(&out, "student_id", "5001"), vec!["current:5001"]),
        (of_student::<SectionEnrollment>(&out, "student_id", "5001"), vec!["601"]),
        (of_student::<Grade>(&out, "student_id", "5001"), vec!["pg:951", "pg:952"]),
        (of_student::<AttendanceEvent>(&out, "student_id", "5001"), vec!["20001"]),
        (of_student::<StudentContact>(&out, "student_id", "5001"), vec!["71", "72"]),
        (of_student::<Demographics>(&out, "person_id", "5001"), vec!["5001"]),
    ];
    for (got, want) in children {
        assert_eq!(got, want);
    }
}

#[test]
fn bad_decimals_flags_and_dates_of_optional_fields_are_warnings() {
    let plain = read(&data("district"));
    let dir = district_with(&[
        // StoredGrades 901: Percent with five decimals, GPA_Points garbage.
        ("storedgrades.txt", "\t91.5\t3.7\t", "\t91.55555\tA+ish\t"),
        // StoredGrades 903: ExcludeFromGPA neither true nor false.
        ("storedgrades.txt", "\t9\ttrue\t", "\t9\tmaybe\t"),
        // CC 603: DateEnrolled is not a date.
        (
            "cc.txt",
            "603\t102\t304\t3300\t200\tENG10\t1\t2023-09-05",
            "603\t102\t304\t3300\t200\tENG10\t1\tsoon",
        ),
        // Courses ENG10: Credit_Hours with too many decimals.
        ("courses.txt", "\"1\",\"ENG\"", "\"1.000001\",\"ENG\""),
    ]);
    let out = read(dir.path());
    assert_eq!(out.rejects, plain.rejects, "no reject is added");
    for e in EntityKind::ALL {
        assert_eq!(out.count(*e), plain.count(*e), "{e}");
    }
    let a: Grade = find(&out, "901").unwrap();
    assert_eq!((a.percent, a.gpa_points), (None, None));
    assert_eq!(a.credits_earned, Some(Decimal::parse("1").unwrap()), "other fields kept");
    let dash: Grade = find(&out, "903").unwrap();
    assert_eq!(dash.exclude_from_gpa, None);
    let cc: SectionEnrollment = find(&out, "603").unwrap();
    assert_eq!(cc.entry_date, None);
    assert!(cc.exit_date.is_some());
    let eng: ferry_sdk::model::Course = find(&out, "ENG10").unwrap();
    assert_eq!(eng.credit_hours, None);

    let mut got: Vec<(EntityKind, &str, u64, &str, &str)> = out
        .warnings
        .iter()
        .map(|w| (w.entity, w.file.as_str(), w.line, w.field.as_str(), w.record_id.as_str()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (EntityKind::Courses, "courses.txt", 3, "credit_hours", "ENG10"),
            (EntityKind::SectionEnrollments, "cc.txt", 4, "entry_date", "603"),
            (EntityKind::Grades, "storedgrades.txt", 2, "gpa_points", "901"),
            (EntityKind::Grades, "storedgrades.txt", 2, "percent", "901"),
            (EntityKind::Grades, "storedgrades.txt", 4, "exclude_from_gpa", "903"),
        ]
    );
    let percent = out.warnings.iter().find(|w| w.field == "percent").unwrap();
    assert!(
        percent.reason.contains("Percent") && percent.reason.contains("4 decimal places"),
        "{}",
        percent.reason
    );
    assert_eq!(percent.value.as_deref(), Some("91.55555"));
}

#[test]
fn a_bad_key_or_required_value_still_rejects() {
    let plain = read(&data("district"));
    let dir = district_with(&[
        // CC 601: StudentID is a key.
        ("cc.txt", "1\t601\t101\t", "1\t601\tx101\t"),
        // Attendance 20001: Att_Date is required.
        ("attendance.txt", "\t10/01/2024\t", "\t10/41/2024\t"),
    ]);
    let out = read(dir.path());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert!(find::<SectionEnrollment>(&out, "601").is_none());
    assert!(find::<AttendanceEvent>(&out, "20001").is_none());
    assert_eq!(out.rejects.len(), plain.rejects.len() + 2);
    let cc = out.rejects.iter().find(|r| r.record_id == "601").unwrap();
    assert_eq!((cc.entity, cc.line, cc.field.as_str()), (EntityKind::SectionEnrollments, 2, "StudentID"));
    assert!(cc.reason.contains("not a number"), "{}", cc.reason);
    let att = out.rejects.iter().find(|r| r.record_id == "20001").unwrap();
    assert_eq!((att.entity, att.field.as_str()), (EntityKind::Attendance, "Att_Date"));
}

#[test]
fn children_of_a_rejected_student_name_its_reject() {
    let plain = read(&data("district"));
    // José (students.txt line 2) at a school the export does not have.
    let dir = district_with(&[("students.txt", "\tM\t0\t100\t0\t", "\tM\t0\t777\t0\t")]);
    let out = read(dir.path());
    assert!(find::<Student>(&out, "5001").is_none());
    let student = out.rejects_of(EntityKind::Students).into_iter().find(|r| r.record_id == "5001").unwrap();
    assert_eq!((student.line, student.field.as_str()), (2, "[Students]SchoolID"));
    assert_eq!(student.reason, "the school is not in the Schools export");

    let named = "its student was rejected (students.txt line 2)";
    let mut children: Vec<(EntityKind, &str, u64, &str)> = out
        .rejects
        .iter()
        .filter(|r| r.reason == named)
        .map(|r| (r.entity, r.file.as_str(), r.line, r.record_id.as_str()))
        .collect();
    children.sort();
    assert_eq!(
        children,
        [
            (EntityKind::StudentContacts, "studentcontactassoc.txt", 2, "71"),
            (EntityKind::StudentContacts, "studentcontactassoc.txt", 3, "72"),
            (EntityKind::SectionEnrollments, "cc.txt", 2, "601"),
            (EntityKind::Grades, "pgfinalgrades.txt", 2, "pg:951"),
            (EntityKind::Grades, "pgfinalgrades.txt", 3, "pg:952"),
            (EntityKind::Attendance, "attendance.txt", 2, "20001"),
        ],
        "each child is rejected under its own entity"
    );
    // A student that is not there at all keeps the plain reason.
    for r in [
        out.rejects.iter().find(|r| r.file == "cc.txt" && r.line == 6).unwrap(),
        out.rejects.iter().find(|r| r.file == "studentcontactassoc.txt" && r.line == 4).unwrap(),
    ] {
        assert_eq!(r.reason, "the student is not among the students read", "{r:?}");
    }
    assert_eq!(out.rejects.len(), plain.rejects.len() + 1 + 6);
}

#[test]
fn children_of_a_rejected_section_and_of_an_unreadable_student_row_name_them() {
    let dir = district_with(&[(
        "cc.txt",
        "5\t605\t999\t301\t3400\t100\t0101\t1\t2024-09-03\t2025-06-14\t1(A)\n",
        "5\t605\t999\t301\t3400\t100\t0101\t1\t2024-09-03\t2025-06-14\t1(A)\n\
         6\t606\t102\t303\t3400\t200\tZZ9\t1\t2024-09-03\t2025-06-14\t4(A)\n\
         7\t607\t105\t301\t3400\t100\t0101\t1\t2024-09-03\t2025-06-14\t1(A)\n",
    )]);
    let out = read(dir.path());
    let reason = |id: &str| out.rejects.iter().find(|r| r.record_id == id).unwrap().reason.clone();
    // Section 303 (sections.txt line 3) names a course that is not there.
    assert_eq!(reason("9303"), "the course is not in the Courses export");
    assert_eq!(reason("606"), "its section was rejected (sections.txt line 3)");
    // Student 105 (students.txt line 6) has a tab inside a value: its row
    // cannot be split into columns, so its id is only likely.
    assert_eq!(reason("607"), "its student may be the row of students.txt line 6, which could not be read");
    assert_eq!(reason("605"), "the student is not among the students read");
}
