//! Each rule on small hand-built batches.

use ferry_model::{
    AcademicSession, AttendanceCategory, AttendanceEvent, CalendarDay, Code, Date, EntityKind, ExitKind,
    Grade, GradeKind, Meta, Origin, Record, RecordBuilder, SchoolEnrollment, Section, SectionEnrollment,
    SectionEnrollmentStatus, SessionKind, Student,
};

use super::*;
use crate::stages::{StageBatch, Tap};

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn meta(id: &str, file: &str, line: u64) -> Meta {
    let mut m = Meta::new("t", id);
    m.origin = Some(Origin { file: file.into(), line, raw: None });
    m
}

trait CloneBatch {
    fn clone_batch(&self) -> StageBatch;
}

impl CloneBatch for StageBatch {
    fn clone_batch(&self) -> StageBatch {
        StageBatch { entity: self.entity, records: self.records.clone(), warnings: Vec::new() }
    }
}

fn batch<R: Record>(records: &[R]) -> StageBatch {
    let mut b = R::Builder::with_capacity(records.len());
    for r in records {
        b.push(r);
    }
    StageBatch { entity: R::KIND, records: b.finish().unwrap(), warnings: Vec::new() }
}

/// School years 2024 (ended 2024-06-10) and 2025 (ends 2025-06-10).
fn sessions() -> StageBatch {
    let s = |id: &str, year: i64, start: &str, end: &str, kind: SessionKind| AcademicSession {
        meta: meta(id, "terms.txt", 2),
        kind: Some(Code::mapped(kind, "")),
        title: id.into(),
        start_date: Some(d(start)),
        end_date: Some(d(end)),
        school_year: Some(year),
        ..AcademicSession::default()
    };
    batch(&[
        s("1:3300", 2024, "2023-08-15", "2024-06-10", SessionKind::SchoolYear),
        s("1:3301", 2024, "2023-08-15", "2024-01-12", SessionKind::Semester),
        s("1:3400", 2025, "2024-08-15", "2025-06-10", SessionKind::SchoolYear),
    ])
}

fn config(as_of: &str) -> RuleConfig {
    let mut c = ChecksConfig::default();
    c.year_end.as_of = Some(d(as_of));
    c.resolve(None, d("2030-01-01")).unwrap()
}

fn run(config: RuleConfig, batches: &[StageBatch]) -> Findings {
    let mut tap = ChecksTap::new(config);
    for b in batches {
        tap.observe(b);
    }
    tap.findings()
}

fn finding(f: &Findings, rule: Rule) -> Option<&Finding> {
    f.findings.iter().find(|x| x.rule == rule.id())
}

fn ids(f: &Finding) -> Vec<&str> {
    f.examples.iter().map(|p| p.id.as_str()).collect()
}

fn enrollment(
    id: &str,
    line: u64,
    student: &str,
    year: i64,
    exit: Option<&str>,
    code: Option<ExitKind>,
) -> SchoolEnrollment {
    SchoolEnrollment {
        meta: meta(id, "reenrollments.txt", line),
        student_id: Some(student.into()),
        school_id: Some("1".into()),
        school_year: Some(year),
        entry_date: Some(d(if year == 2024 { "2023-08-15" } else { "2024-08-15" })),
        exit_date: exit.map(d),
        exit_code: code.map(|c| Code::mapped(c, "X")),
        ..SchoolEnrollment::default()
    }
}

#[test]
fn open_enrollments_are_those_of_a_closed_year_without_an_exit_or_past_its_end() {
    let enrollments = batch(&[
        enrollment("E1", 2, "S1", 2024, None, None),
        enrollment("E2", 3, "S2", 2024, Some("2024-06-10"), Some(ExitKind::EndOfYear)),
        enrollment("E3", 4, "S3", 2025, None, None),
        enrollment("E4", 5, "S4", 2024, Some("2024-09-01"), Some(ExitKind::EndOfYear)),
    ]);
    // The enrollments come before their sessions: order does not matter.
    let f = run(config("2024-07-01"), &[enrollments, sessions()]);
    assert_eq!(f.closed_years, [2024]);
    let open = finding(&f, Rule::OpenEnrollments).unwrap();
    assert_eq!(open.count, 2);
    assert_eq!(ids(open), ["E1", "E4"]);
    assert_eq!((open.examples[0].file.as_str(), open.examples[0].line), ("reenrollments.txt", 2));
    assert_eq!(open.severity, Severity::Blocking);

    // Once 2025 is closed too, E3 is open as well.
    let enrollments = batch(&[enrollment("E3", 4, "S3", 2025, None, None)]);
    let f = run(config("2025-07-01"), &[sessions(), enrollments]);
    assert_eq!(ids(finding(&f, Rule::OpenEnrollments).unwrap()), ["E3"]);

    // closed_years in the plan wins over as_of.
    let mut c = config("2025-07-01");
    c.closed_years = Some(vec![2024]);
    let enrollments = batch(&[enrollment("E3", 4, "S3", 2025, None, None)]);
    let f = run(c, &[sessions(), enrollments]);
    assert!(finding(&f, Rule::OpenEnrollments).is_none(), "{f:?}");
}

#[test]
fn a_rule_switched_off_finds_nothing_and_one_not_blocking_warns() {
    let toml = r#"
[year-end]
as_of = 2024-07-01
[year-end.rules.open_enrollments]
enabled = false
[year-end.rules.no_exit_code]
blocking = false
"#;
    let c: ChecksConfig = toml::from_str(toml).unwrap();
    let c = c.resolve(Some(&["year-end".to_owned()]), d("2030-01-01")).unwrap();
    assert_eq!(c.as_of, d("2024-07-01"), "a bare TOML date");
    let f = run(c, &[sessions(), batch(&[enrollment("E1", 2, "S1", 2024, None, None)])]);
    assert!(finding(&f, Rule::OpenEnrollments).is_none());
    let r = f.rules.iter().find(|r| r.rule == "year-end.open_enrollments").unwrap();
    assert!(!r.enabled);
    let no_code = finding(&f, Rule::NoExitCode).unwrap();
    assert_eq!(no_code.severity, Severity::Warning);
    assert_eq!(f.blocking(), 0);
    assert_eq!(f.warnings(), 1);
    assert!(f.rules.iter().all(|r| r.set == "year-end"), "only the set asked for");
}

#[test]
fn no_exit_code_looks_at_each_students_last_enrollment_of_a_closed_year() {
    let enrollments = batch(&[
        SchoolEnrollment {
            entry_date: Some(d("2023-08-15")),
            ..enrollment("A1", 2, "S1", 2024, Some("2024-01-10"), Some(ExitKind::TransferInDistrict))
        },
        SchoolEnrollment {
            entry_date: Some(d("2024-01-11")),
            ..enrollment("A2", 3, "S1", 2024, Some("2024-06-10"), None)
        },
        enrollment("B1", 4, "S2", 2024, Some("2024-06-10"), Some(ExitKind::Graduated)),
        enrollment("C1", 5, "S3", 2024, Some("2024-03-01"), None),
        SchoolEnrollment {
            entry_date: Some(d("2024-03-02")),
            ..enrollment("C2", 6, "S3", 2024, Some("2024-06-10"), Some(ExitKind::EndOfYear))
        },
        enrollment("D1", 7, "S4", 2025, Some("2025-06-10"), None),
    ]);
    let f = run(config("2024-07-01"), &[sessions(), enrollments]);
    let n = finding(&f, Rule::NoExitCode).unwrap();
    assert_eq!(ids(n), ["A2"], "C1 is not S3's last; D1's year is open");
    assert_eq!(n.count, 1);
}

fn section(id: &str, line: u64, session: &str) -> Section {
    Section {
        meta: meta(id, "sections.txt", line),
        course_id: Some(format!("C-{id}")),
        school_id: Some("1".into()),
        session_ids: vec![session.into()],
        ..Section::default()
    }
}

fn cc(id: &str, student: &str, section: &str, status: SectionEnrollmentStatus) -> SectionEnrollment {
    SectionEnrollment {
        meta: meta(id, "cc.txt", 9),
        student_id: Some(student.into()),
        section_id: Some(section.into()),
        status: Some(Code::mapped(status, "")),
        ..SectionEnrollment::default()
    }
}

fn grade(id: &str, student: &str, section: Option<&str>, course: Option<&str>, kind: GradeKind) -> Grade {
    Grade {
        meta: meta(id, "storedgrades.txt", 2),
        student_id: Some(student.into()),
        kind: Some(Code::mapped(kind, "")),
        section_id: section.map(str::to_owned),
        course_id: course.map(str::to_owned),
        school_year: Some(2024),
        ..Grade::default()
    }
}

#[test]
fn sections_of_a_closed_year_with_students_need_a_stored_grade() {
    use SectionEnrollmentStatus::*;
    let sections = batch(&[
        section("X", 2, "1:3301"),
        section("Y", 3, "1:3300"),
        section("Z", 4, "1:3300"),
        section("W", 5, "1:3400"),
        section("V", 6, "1:3300"),
    ]);
    let ccs = batch(&[
        cc("c1", "S1", "X", Completed),
        cc("c2", "S1", "Y", Completed),
        cc("c3", "S1", "Z", Dropped),
        cc("c4", "S1", "W", Active),
        cc("c5", "S1", "V", Completed),
    ]);
    let grades = batch(&[
        grade("g1", "S1", Some("Y"), None, GradeKind::Transcript),
        grade("g2", "S1", Some("V"), None, GradeKind::Final),
    ]);
    // Grades first, then sessions: order does not matter.
    let f = run(config("2024-07-01"), &[grades, ccs, sessions(), sections]);
    let s = finding(&f, Rule::SectionsWithoutFinalGrades).unwrap();
    assert_eq!(
        ids(s),
        ["X", "V"],
        "Y has a stored grade, Z only a drop, W's year is open; V's grade is not stored"
    );
    assert_eq!(s.examples[0].line, 2);

    // With final grades counted as stored, V passes.
    let mut c = config("2024-07-01");
    c.stored_grade_kinds = vec!["transcript".into(), "final".into()];
    let f = run(
        c,
        &[
            sessions(),
            batch(&[section("V", 6, "1:3300")]),
            batch(&[cc("c5", "S1", "V", Completed)]),
            batch(&[grade("g2", "S1", Some("V"), None, GradeKind::Final)]),
        ],
    );
    assert!(finding(&f, Rule::SectionsWithoutFinalGrades).is_none(), "{f:?}");
}

#[test]
fn completed_courses_need_a_stored_grade_by_section_or_course() {
    use SectionEnrollmentStatus::*;
    let sections = batch(&[section("X", 2, "1:3300"), section("W", 3, "1:3400")]);
    let ccs = batch(&[
        cc("c1", "S1", "X", Completed),
        cc("c2", "S2", "X", Completed),
        cc("c3", "S3", "X", Active),
        cc("c4", "S4", "X", Dropped),
        cc("c5", "S5", "X", Active),
        cc("c6", "S6", "W", Completed),
    ]);
    let grades = batch(&[
        grade("g2", "S2", Some("X"), None, GradeKind::Transcript),
        grade("g3", "S3", None, Some("C-X"), GradeKind::Transcript),
    ]);
    let f = run(config("2024-07-01"), &[sessions(), sections, ccs, grades]);
    let c = finding(&f, Rule::CompletedWithoutGrades).unwrap();
    assert_eq!(ids(c), ["c1", "c5"], "c2 by section, c3 by course; c4 dropped; c6's year is open");
    assert!(!f.notes.iter().any(|n| n.starts_with("no grades")));

    // No grades at all: the note asks whether they were exported.
    let f = run(
        config("2024-07-01"),
        &[sessions(), batch(&[section("X", 2, "1:3300")]), batch(&[cc("c1", "S1", "X", Completed)])],
    );
    assert!(f.notes.iter().any(|n| n.starts_with("no grades were read")), "{:?}", f.notes);
}

fn day(school: &str, date: &str, line: u64, in_session: bool) -> CalendarDay {
    CalendarDay {
        meta: meta(&format!("{school}:{date}"), "calendar_day.txt", line),
        school_id: Some(school.into()),
        date: Some(d(date)),
        school_year: Some(2024),
        in_session: Some(in_session),
        ..CalendarDay::default()
    }
}

fn absence(id: &str, school: Option<&str>, section: Option<&str>, date: &str) -> AttendanceEvent {
    AttendanceEvent {
        meta: meta(id, "attendance.txt", 2),
        student_id: Some("S1".into()),
        date: Some(d(date)),
        category: Some(Code::mapped(AttendanceCategory::Absent, "A")),
        school_id: school.map(str::to_owned),
        section_id: section.map(str::to_owned),
        ..AttendanceEvent::default()
    }
}

#[test]
fn school_days_without_attendance_from_the_calendar() {
    let calendar = batch(&[
        day("1", "2024-03-04", 10, true),
        day("1", "2024-03-05", 11, true),
        day("1", "2024-03-06", 12, true),
        day("1", "2024-03-07", 14, true),
        day("1", "2024-03-09", 13, false),
        day("2", "2024-03-04", 20, true),
    ]);
    let attendance = batch(&[
        absence("a1", Some("1"), None, "2024-03-04"),
        // Only a section: its school is the section's.
        absence("a2", None, Some("X"), "2024-03-06"),
        absence("a3", Some("2"), None, "2024-03-04"),
    ]);
    let mut every_school = config("2024-07-01");
    every_school.min_daily_attendance = 0.0;
    // A section-only event before its section is known, and one after.
    let later = batch(&[absence("a4", None, Some("X"), "2024-03-07")]);
    let f =
        run(every_school, &[sessions(), calendar, attendance, batch(&[section("X", 2, "1:3300")]), later]);
    let a = finding(&f, Rule::DaysWithoutAttendance).unwrap();
    assert_eq!(ids(a), ["1:2024-03-05"]);
    assert_eq!((a.examples[0].file.as_str(), a.examples[0].line), ("calendar_day.txt", 11));
    assert_eq!(a.severity, Severity::Warning, "a warning by default");
    assert!(f.notes.iter().any(|n| n.contains("calendars read")), "{:?}", f.notes);
}

#[test]
fn school_days_without_attendance_from_the_data_without_a_calendar() {
    let attendance = batch(&[
        absence("a1", Some("A"), None, "2024-03-04"),
        absence("a2", Some("A"), None, "2024-03-05"),
        absence("a3", Some("B"), None, "2024-03-04"),
    ]);
    let mut every_school = config("2024-07-01");
    every_school.min_daily_attendance = 0.0;
    let f = run(every_school, &[sessions(), attendance]);
    let a = finding(&f, Rule::DaysWithoutAttendance).unwrap();
    assert_eq!(ids(a), ["B:2024-03-05"]);
    assert!(f.notes.iter().any(|n| n.contains("no calendar was read")), "{:?}", f.notes);
}

#[test]
fn required_fields_left_empty_are_counted_by_field_with_examples() {
    let student = |id: &str, line: u64, state_id: Option<&str>, birth: Option<&str>| Student {
        meta: meta(id, "students.txt", line),
        first_name: "Marisol".into(),
        last_name: "Quintanilla".into(),
        state_id: state_id.map(str::to_owned),
        birth_date: birth.map(d),
        ..Student::default()
    };
    let students = batch(&[
        student("1", 2, Some("123"), Some("2011-04-05")),
        student("2", 3, None, Some("2011-04-05")),
        student("3", 4, Some(" "), None),
    ]);
    let mut c = ChecksConfig::default();
    c.state_reporting.required = Some(vec!["students.state_id".into(), "students.birth_date".into()]);
    let c = c.resolve(Some(&["state-reporting".to_owned()]), d("2025-01-01")).unwrap();
    let f = run(c, &[students]);
    let state = f.findings.iter().find(|x| x.field.as_deref() == Some("students.state_id")).unwrap();
    assert_eq!((state.count, ids(state)), (2, vec!["2", "3"]));
    assert_eq!(state.entity, "students");
    let birth = f.findings.iter().find(|x| x.field.as_deref() == Some("students.birth_date")).unwrap();
    assert_eq!((birth.count, ids(birth)), (1, vec!["3"]));
    assert_eq!(f.rules.len(), 1);
    assert_eq!(f.rules[0].count, 3);
    assert!(f.notes.is_empty(), "{:?}", f.notes);

    // An entity the source never sent cannot be checked: a note says so.
    let mut c = ChecksConfig::default();
    c.state_reporting.required = Some(vec!["demographics.races".into()]);
    let c = c.resolve(Some(&["state-reporting".to_owned()]), d("2025-01-01")).unwrap();
    let f = run(c, &[batch(&[student("1", 2, None, None)])]);
    assert!(f.findings.is_empty());
    assert!(f.notes.iter().any(|n| n.contains("no record of demographics was read")), "{:?}", f.notes);
    let json = serde_json::to_string(&f).unwrap();
    for pii in ["Marisol", "Quintanilla", "2011-04-05"] {
        assert!(!json.contains(pii), "{pii} in {json}");
    }
}

#[test]
fn the_configuration_names_the_bad_key() {
    let today = d("2025-01-01");
    let mut c = ChecksConfig::default();
    c.state_reporting.required = Some(vec!["students.bith_date".into()]);
    let e = c.resolve(None, today).unwrap_err();
    assert_eq!(e.key, "checks.state-reporting.required");
    assert_eq!(e.value.as_deref(), Some("students.bith_date"));
    assert!(e.message.contains("no field 'bith_date'") && e.message.contains("birth_date"), "{e}");
    c.state_reporting.required = Some(vec!["pupils.birth_date".into()]);
    assert!(c.resolve(None, today).unwrap_err().message.contains("unknown entity 'pupils'"));
    c.state_reporting.required = Some(vec!["birth_date".into()]);
    assert!(c.resolve(None, today).unwrap_err().message.contains("ENTITY.FIELD"));

    let e = ChecksConfig::default().resolve(Some(&["year-ends".to_owned()]), today).unwrap_err();
    assert_eq!(e.key, "--rules");
    assert!(e.message.contains("unknown rule set 'year-ends'"), "{e}");

    for (toml, key) in [
        ("[year-end.rules.open_enrolments]\nenabled = false\n", "open_enrolments"),
        ("[year-end]\nasof = \"2024-07-01\"\n", "asof"),
        ("[state-reporting]\nrequire = []\n", "require"),
        ("[year-end.rules.no_exit_code]\nblock = false\n", "block"),
    ] {
        let e = toml::from_str::<ChecksConfig>(toml).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("unknown field"), "{e}");
    }
    let e = toml::from_str::<ChecksConfig>("[year-end]\nas_of = \"July\"\n").unwrap_err().to_string();
    assert!(e.contains("not a date"), "{e}");
    // Every default required field exists in the model.
    let c = ChecksConfig::default().resolve(None, today).unwrap();
    assert_eq!(c.required.len(), DEFAULT_REQUIRED.len());
    assert!(EntityKind::from_name("demographics").is_some());
}

#[test]
fn schools_with_few_attendance_records_a_day_are_not_checked_day_by_day() {
    // School 1: 2 days, 6 events on the first: 3 a day, under the default 5.
    // School 2: 2 days, 12 events on the first: 6 a day. School 3: none at all.
    let calendar = batch(&[
        day("1", "2024-03-04", 10, true),
        day("1", "2024-03-05", 11, true),
        day("2", "2024-03-04", 20, true),
        day("2", "2024-03-05", 21, true),
        day("3", "2024-03-04", 30, true),
    ]);
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(absence(&format!("a{i}"), Some("1"), None, "2024-03-04"));
    }
    for i in 0..12 {
        events.push(absence(&format!("b{i}"), Some("2"), None, "2024-03-04"));
    }
    let enrolled = |id: &str, school: &str| SchoolEnrollment {
        school_id: Some(school.into()),
        ..enrollment(id, 2, "S1", 2024, Some("2024-06-10"), Some(ExitKind::EndOfYear))
    };
    let enrollments = batch(&[enrolled("E1", "1"), enrolled("E2", "2"), enrolled("E3", "3")]);
    let f = run(config("2024-07-01"), &[sessions(), calendar.clone_batch(), batch(&events), enrollments]);
    let a = finding(&f, Rule::DaysWithoutAttendance).unwrap();
    assert_eq!(ids(a), ["2:2024-03-05", "3:2024-03-04"], "school 1 is too small to tell; school 3 took none");
    let note = f.notes.iter().find(|n| n.contains("not checked one by one")).unwrap();
    assert!(note.contains("1 (2024: 3.0 a day)"), "{note}");

    // A school without students that year is not expected to take attendance.
    let enrollments = batch(&[enrolled("E1", "1"), enrolled("E2", "2")]);
    let f = run(config("2024-07-01"), &[sessions(), calendar, batch(&events), enrollments]);
    let a = finding(&f, Rule::DaysWithoutAttendance).unwrap();
    assert_eq!(ids(a), ["2:2024-03-05"]);
}
