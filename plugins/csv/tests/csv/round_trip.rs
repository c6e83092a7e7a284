//! The sink's default layout read back through the source's
//! `layout = "canonical"` gives equal records.

use ferry_sdk::model::with_record_type;
use ferry_sdk::model::{
    AcademicSession, AttendanceEvent, Code, Course, Date, EntityKind, Grade, GradeKind, Meta, Org, OrgKind,
    Record, Section, SessionKind, Sex, Student, StudentContact,
};
use ferry_sdk::serde_json::{Value, json};
use ferry_sdk::testkit::{self, SourceOutput};

use super::{add_batch, data_dir, read, without_origin, write};

fn date(y: i32, m: u32, d: u32) -> Option<Date> {
    Some(Date::new(y, m, d).unwrap())
}

fn meta(id: &str) -> Meta {
    Meta::new("powerschool", id)
}

/// Records of several entities with every kind of value and the awkward
/// characters: accents, delimiters, quotes, line breaks, escapes.
fn district() -> SourceOutput {
    let mut org = Org {
        meta: meta("0042"),
        kind: Some(Code::mapped(OrgKind::District, "D")),
        name: "Distrito Escolar Ñandú, \"Norte\"".into(),
        identifier: Some("0042".into()),
        low_grade: Some(Code::normalize("PK")),
        high_grade: Some(Code::normalize("12")),
        ..Org::default()
    };
    org.meta.ext.insert("NCES", "0100005");

    let session = AcademicSession {
        meta: meta("Y2025"),
        kind: Some(Code::mapped(SessionKind::SchoolYear, "")),
        title: "2024-2025".into(),
        start_date: date(2024, 8, 26),
        end_date: date(2025, 6, 13),
        school_year: Some(2025),
        org_id: Some("0042".into()),
        ..AcademicSession::default()
    };

    let mut s1 = Student {
        meta: meta("000123"),
        student_number: Some("000123".into()),
        first_name: "José".into(),
        middle_name: Some(" M ".into()),
        last_name: "Núñez".into(),
        birth_date: date(2011, 6, 19),
        sex: Some(Code::normalize("Woman")),
        grade_level: Some(Code::normalize("K")),
        address: Some("1 Main St, Apt \"B\"\nSpringfield".into()),
        email: Some("jose@example.org".into()),
        ..Student::default()
    };
    s1.meta.set_alt_id("state", "0099887766");
    s1.meta.set_alt_id("odd;kind=x", "a\\b;c=d");
    s1.meta.ext.insert("U_Locker", "17");
    s1.meta.ext.insert("Comment \"quoted\"", "line\nbreak\ttab é");
    s1.meta.ext.insert("Empty", "");
    let mut s2 = Student {
        meta: meta("000124"),
        first_name: "Zoë".into(),
        last_name: "O'Brien".into(),
        sex: Some(Code::mapped(Sex::Female, "F")),
        ..Student::default()
    };
    s2.meta.source.system = "other-sis".into();

    let course = Course {
        meta: meta("C1"),
        course_number: Some("0001".into()),
        title: "Álgebra I".into(),
        credit_hours: Some(dec("0.5")),
        grade_levels: vec!["09".into(), "10".into(), "odd,one\\x".into()],
        ..Course::default()
    };
    let section = Section {
        meta: meta("S1"),
        course_id: Some("C1".into()),
        session_ids: vec!["Y2025".into(), "S1-2025".into()],
        max_enrollment: Some(30),
        period: Some("1(A)".into()),
        ..Section::default()
    };
    let contact = StudentContact {
        meta: meta("SC1"),
        student_id: Some("000123".into()),
        contact_id: Some("P1".into()),
        relationship: Some(Code::normalize("Mother")),
        custodial: Some(true),
        emergency: Some(false),
        priority: Some(1),
        ..StudentContact::default()
    };
    let absence = AttendanceEvent {
        meta: meta("A1"),
        student_id: Some("000123".into()),
        date: date(2024, 9, 3),
        category: Some(Code::normalize("A")),
        minutes: Some(-5),
        ..AttendanceEvent::default()
    };
    let grade = Grade {
        meta: meta("G1"),
        student_id: Some("000123".into()),
        kind: Some(Code::mapped(GradeKind::Transcript, "stored")),
        percent: Some(dec("92.35")),
        gpa_points: Some(dec("3.7")),
        credits_earned: Some(dec("0.3333")),
        exclude_from_gpa: Some(false),
        letter_grade: Some("A-".into()),
        ..Grade::default()
    };

    let mut out = SourceOutput::default();
    add_batch(&mut out, &[org]);
    add_batch(&mut out, &[session]);
    add_batch(&mut out, &[s1, s2]);
    add_batch(&mut out, &[course]);
    add_batch(&mut out, &[section]);
    add_batch(&mut out, &[contact]);
    add_batch(&mut out, &[absence]);
    add_batch(&mut out, &[grade]);
    out
}

fn canonical_config(dir: &str, kinds: &[EntityKind], dialect: Value) -> Value {
    let entities: ferry_sdk::serde_json::Map<String, Value> = kinds
        .iter()
        .map(|k| (k.name().to_owned(), json!({ "file": format!("{k}.csv"), "layout": "canonical" })))
        .collect();
    json!({ "directory": dir, "dialect": dialect, "entities": entities })
}

fn assert_same<R: Record>(before: &SourceOutput, after: &SourceOutput) {
    let a: Vec<R> = without_origin(before.records().unwrap());
    let b: Vec<R> = without_origin(after.records().unwrap());
    assert!(!a.is_empty());
    assert_eq!(a, b, "{}", R::KIND);
}

fn check_all(before: &SourceOutput, after: &SourceOutput) {
    assert!(after.rejects.is_empty(), "{:?}", after.rejects);
    assert_same::<Org>(before, after);
    assert_same::<AcademicSession>(before, after);
    assert_same::<Student>(before, after);
    assert_same::<Course>(before, after);
    assert_same::<Section>(before, after);
    assert_same::<StudentContact>(before, after);
    assert_same::<AttendanceEvent>(before, after);
    assert_same::<Grade>(before, after);
}

const KINDS: &[EntityKind] = &[
    EntityKind::Orgs,
    EntityKind::AcademicSessions,
    EntityKind::Students,
    EntityKind::Courses,
    EntityKind::Sections,
    EntityKind::StudentContacts,
    EntityKind::Attendance,
    EntityKind::Grades,
];

#[test]
fn default_layout_reads_back_into_equal_records() {
    let dir = tempfile::tempdir().unwrap();
    let before = district();
    let (written, rejects) = write(json!({ "directory": "out" }), dir.path(), &before).unwrap();
    assert_eq!((written, rejects.len()), (9, 0));
    let after = read(canonical_config("out", KINDS, json!({})), dir.path()).unwrap();
    check_all(&before, &after);
    let s: Vec<Student> = after.records().unwrap();
    let origin = s[0].meta.origin.as_ref().unwrap();
    assert_eq!((origin.file.as_str(), origin.line), ("students.csv", 2));
    assert_eq!(
        s[1].meta.origin.as_ref().unwrap().line,
        4,
        "the address of the first student spans two lines"
    );
}

#[test]
fn round_trip_in_another_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let before = district();
    let sink = json!({ "directory": "out", "dialect": {
        "delimiter": "tab", "quoting": "always", "line_ending": "crlf", "encoding": "windows-1252",
        "true_value": "Y", "false_value": "N", "date_format": "%m/%d/%Y",
    }});
    let (written, rejects) = write(sink, dir.path(), &before).unwrap();
    assert_eq!((written, rejects.len()), (9, 0));
    let bytes = std::fs::read(dir.path().join("out/students.csv")).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"Jos\xE9"), "written in Windows-1252");
    let source_dialect = json!({ "delimiter": "tab", "date_formats": ["%m/%d/%Y"], "true_values": ["Y"], "false_values": ["N"] });
    let after = read(canonical_config("out", KINDS, source_dialect), dir.path()).unwrap();
    check_all(&before, &after);
}

#[test]
fn a_mapped_read_survives_a_trip_through_the_default_layout() {
    let dir = tempfile::tempdir().unwrap();
    let mapped = json!({ "entities": { "students": {
        "file": "students_cp1252.csv",
        "columns": {
            "Student_Number": ["source_id", "student_number", "alt.number"],
            "First_Name": "first_name",
            "Last_Name": "last_name",
            "DOB": "birth_date",
            "Grade_Level": "grade_level",
            "Gender": "sex",
        },
    }}});
    let first = read(mapped, &data_dir()).unwrap();
    let out = dir.path().join("out");
    write(json!({ "directory": out }), dir.path(), &first).unwrap();
    let again = read(canonical_config(out.to_str().unwrap(), &[EntityKind::Students], json!({})), dir.path())
        .unwrap();
    assert!(again.rejects.is_empty(), "{:?}", again.rejects);
    assert_same::<Student>(&first, &again);
    let s: Vec<Student> = again.records().unwrap();
    assert_eq!(s[0].meta.ext.get("U_Locker"), Some("17"));
    assert_eq!(s[0].meta.alt_id("number"), Some("000123"));
}

#[test]
fn canonical_files_tolerate_missing_and_extra_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("students.csv"),
        "source_id,last_name,first_name,grade_level_original,sex,Homeroom\n7,Lee,Ann,K,f,12B\n",
    )
    .unwrap();
    let out = read(canonical_config(".", &[EntityKind::Students], json!({})), dir.path()).unwrap();
    let s: Vec<Student> = out.records().unwrap();
    assert_eq!(s[0].meta.source.system, "csv", "no source_system column: the configured system");
    let g = s[0].grade_level.as_ref().unwrap();
    assert_eq!(
        (g.code.to_string(), g.original.as_str()),
        ("KG".to_owned(), "K"),
        "an original alone is normalized"
    );
    let sex = s[0].sex.as_ref().unwrap();
    assert_eq!(
        (sex.code, sex.original.as_str()),
        (Sex::Female, "f"),
        "a code without its original column is normalized"
    );
    assert_eq!(s[0].meta.ext.get("Homeroom"), Some("12B"));
}

fn dec(s: &str) -> ferry_sdk::model::Decimal {
    ferry_sdk::model::Decimal::parse(s).unwrap()
}

/// Two records of every entity of the model, every field set.
fn every_entity() -> SourceOutput {
    let mut out = SourceOutput::default();
    for kind in EntityKind::ALL {
        with_record_type!(*kind, R => {
            let mut a: R = testkit::sample_record("0017", 0, true);
            a.meta_mut().set_alt_id("state", "0099");
            a.meta_mut().ext.insert("U_Note", "a, \"b\"");
            let b: R = testkit::sample_record("18", 1, true);
            add_batch(&mut out, &[a, b]);
        });
    }
    out
}

#[test]
fn every_entity_reads_back_from_the_default_layout() {
    let dir = tempfile::tempdir().unwrap();
    let before = every_entity();
    let (written, rejects) = write(json!({ "directory": "out" }), dir.path(), &before).unwrap();
    assert_eq!((written, rejects.len()), (2 * EntityKind::ALL.len() as u64, 0));
    let after = read(canonical_config("out", EntityKind::ALL, json!({})), dir.path()).unwrap();
    assert!(
        after.rejects.is_empty() && after.warnings.is_empty(),
        "{:?} {:?}",
        after.rejects,
        after.warnings
    );
    for kind in EntityKind::ALL {
        with_record_type!(*kind, R => assert_same::<R>(&before, &after));
    }
    let header = std::fs::read_to_string(dir.path().join("out/line_item_results.csv")).unwrap();
    assert!(header.starts_with("source_system,source_id,alt_ids,line_item_id,student_id,score,"), "{header}");
}
