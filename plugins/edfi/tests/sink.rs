//! The sink against the fake Ed-Fi API on loopback (`ferry_e2e::fakes::edfi`),
//! in-process through the SDK's testkit (the same Arrow crossing as the host).

#![allow(clippy::unwrap_used, reason = "test code")]

use ferry_e2e::fakes::edfi::{FakeEdFi, Options};
use ferry_plugin_edfi::EdFiPlugin;
use ferry_sdk::model::*;
use ferry_sdk::serde_json::{Value, json};
use ferry_sdk::testkit::{SinkOutcome, SourceOutput, run_sink_with};

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::new(y, m, day).unwrap()
}

fn config(fake: &FakeEdFi) -> Value {
    let (id, secret) = fake.credentials();
    json!({ "base_url": fake.base_url(), "client_id": id, "client_secret": secret, "concurrency": 4, "max_retries": 3,
            "education_organization_ids": { "0": 255901 } })
}

/// A district office, a school, a year and a semester, `n` students each
/// with a school enrollment, a section enrollment, a grade and an absence,
/// a course, a section and its teacher: 8 + 5n records.
fn district(n: u32) -> SourceOutput {
    let mut out = SourceOutput::default();
    let org = |id: &str, kind: OrgKind| Org {
        meta: Meta::new("t", id),
        kind: Some(Code::mapped(kind, "x")),
        name: format!("Org {id}"),
        identifier: Some(id.to_owned()),
        parent_id: (id != "0").then(|| "0".to_owned()),
        low_grade: Some(Code::mapped(GradeLevel::Grade09, "9")),
        high_grade: Some(Code::mapped(GradeLevel::Grade12, "12")),
        ..Org::default()
    };
    out.push(&[org("0", OrgKind::District), org("255901001", OrgKind::School)]).unwrap();
    let session = |id: &str, kind: SessionKind, code: &str, end: Date| AcademicSession {
        meta: Meta::new("t", id),
        kind: Some(Code::mapped(kind, "x")),
        title: format!("{code} 2024-2025"),
        code: Some(code.into()),
        start_date: Some(d(2024, 8, 19)),
        end_date: Some(end),
        school_year: Some(2025),
        org_id: Some("255901001".into()),
        ..AcademicSession::default()
    };
    out.push(&[
        session("y", SessionKind::SchoolYear, "Y1", d(2025, 5, 30)),
        session("s1", SessionKind::Semester, "S1", d(2024, 12, 20)),
    ])
    .unwrap();
    let students: Vec<Student> = (0..n)
        .map(|i| Student {
            meta: Meta::new("t", format!("st{i}")),
            student_number: Some(format!("{:06}", i + 1)),
            first_name: "Ana".into(),
            last_name: "Díaz".into(),
            birth_date: Some(d(2010, 2, 3)),
            sex: Some(Code::mapped(Sex::Female, "F")),
            ..Student::default()
        })
        .collect();
    out.push(&students).unwrap();
    out.push(&[Staff {
        meta: Meta::new("t", "t1"),
        staff_number: Some("T1".into()),
        first_name: "B".into(),
        last_name: "C".into(),
        ..Staff::default()
    }])
    .unwrap();
    out.push(&[Course {
        meta: Meta::new("t", "c1"),
        course_number: Some("ALG1".into()),
        title: "Algebra I".into(),
        org_id: Some("0".into()),
        ..Course::default()
    }])
    .unwrap();
    out.push(&[Section {
        meta: Meta::new("t", "sec1"),
        course_id: Some("c1".into()),
        school_id: Some("255901001".into()),
        session_ids: vec!["s1".into()],
        ..Section::default()
    }])
    .unwrap();
    out.push(&[SectionStaff {
        meta: Meta::new("t", "ss1"),
        section_id: Some("sec1".into()),
        staff_id: Some("t1".into()),
        role: Some(Code::mapped(SectionRole::Lead, "1")),
        ..SectionStaff::default()
    }])
    .unwrap();
    let per = |f: &dyn Fn(u32) -> SchoolEnrollment| (0..n).map(f).collect::<Vec<_>>();
    out.push(&per(&|i| SchoolEnrollment {
        meta: Meta::new("t", format!("e{i}")),
        student_id: Some(format!("st{i}")),
        school_id: Some("255901001".into()),
        entry_date: Some(d(2024, 8, 19)),
        grade_level: Some(Code::mapped(GradeLevel::Grade09, "9")),
        ..SchoolEnrollment::default()
    }))
    .unwrap();
    let cc: Vec<SectionEnrollment> = (0..n)
        .map(|i| SectionEnrollment {
            meta: Meta::new("t", format!("cc{i}")),
            student_id: Some(format!("st{i}")),
            section_id: Some("sec1".into()),
            entry_date: Some(d(2024, 8, 20)),
            ..SectionEnrollment::default()
        })
        .collect();
    out.push(&cc).unwrap();
    let grades: Vec<Grade> = (0..n)
        .map(|i| Grade {
            meta: Meta::new("t", format!("g{i}")),
            student_id: Some(format!("st{i}")),
            kind: Some(Code::mapped(GradeKind::Term, "S1")),
            section_id: Some("sec1".into()),
            session_id: Some("s1".into()),
            letter_grade: Some("B".into()),
            ..Grade::default()
        })
        .collect();
    out.push(&grades).unwrap();
    let att: Vec<AttendanceEvent> = (0..n)
        .map(|i| AttendanceEvent {
            meta: Meta::new("t", format!("a{i}")),
            student_id: Some(format!("st{i}")),
            date: Some(d(2025, 1, 14)),
            category: Some(Code::mapped(AttendanceCategory::ExcusedAbsence, "E")),
            school_id: Some("255901001".into()),
            ..AttendanceEvent::default()
        })
        .collect();
    out.push(&att).unwrap();
    out
}

fn run(fake: &FakeEdFi, input: &SourceOutput, dry: bool) -> SinkOutcome {
    run_with(&config(fake), input, dry)
}

fn run_with(cfg: &Value, input: &SourceOutput, dry: bool) -> SinkOutcome {
    let tmp = tempfile::tempdir().unwrap();
    run_sink_with::<EdFiPlugin>(cfg, tmp.path(), input, dry).unwrap()
}

fn records(input: &SourceOutput) -> u64 {
    input.batches.iter().map(|b| b.1.num_rows() as u64).sum()
}

#[test]
fn a_district_is_written_in_order_and_a_second_run_updates_it() {
    let fake = FakeEdFi::start();
    let input = district(20);
    let o = run(&fake, &input, false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    assert_eq!(o.written, records(&input));
    assert_eq!(o.written, 8 + 5 * 20);
    // One receipt per record, with the resource id and the natural key it was written under.
    assert_eq!(o.receipts.len() as u64, o.written);
    let stu = o.receipts.iter().find(|r| r.source_id == "st0").unwrap();
    assert_eq!(stu.natural_key.as_deref(), Some("students: studentUniqueId=000001"));
    assert_eq!(stu.outcome.as_deref(), Some("created"));
    assert_eq!(stu.destination_id.len(), 32);
    // The server holds exactly what was written, derived resources included.
    let counts = fake.counts();
    for (r, n) in [
        ("localEducationAgencies", 1),
        ("schools", 1),
        ("sessions", 2),
        ("gradingPeriods", 1),
        ("courses", 1),
        ("students", 20),
        ("staffs", 1),
        ("courseOfferings", 1),
        ("sections", 1),
        ("studentSchoolAssociations", 20),
        ("studentSectionAssociations", 20),
        ("staffSectionAssociations", 1),
        ("studentSchoolAttendanceEvents", 20),
        ("grades", 20),
    ] {
        assert_eq!(counts.get(r).copied().unwrap_or(0), n, "{r}: {counts:?}");
    }
    let plan: u64 = o.plan.iter().map(|p| p.create).sum();
    assert_eq!(plan, o.written);
    let notes = o.committed.unwrap().notes.join("\n");
    assert!(notes.contains("not transactional"), "{notes}");
    // Again: every record updated, nothing duplicated.
    let again = run(&fake, &input, false);
    assert!(again.rejects.is_empty());
    assert!(again.receipts.iter().all(|r| r.outcome.as_deref() == Some("updated")));
    assert_eq!(fake.counts(), counts);
    let stats = fake.stats();
    assert_eq!(stats.bad_requests + stats.conflicts, 0);
}

#[test]
fn a_429_is_retried_and_an_expired_token_refreshed() {
    let fake = FakeEdFi::start();
    let input = district(5);
    fake.inject(429, 2, Some(0));
    fake.revoke_tokens_after(10);
    let o = run(&fake, &input, false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    assert_eq!(o.written, records(&input));
    let s = fake.stats();
    assert_eq!(s.throttled, 2, "{s:?}");
    assert!(s.unauthorized >= 1 && s.tokens_issued >= 2, "{s:?}");
    let notes = o.committed.unwrap().notes.join("\n");
    assert!(notes.contains("2 after a 429"), "{notes}");
    assert_eq!(fake.count("students"), 5);
}

#[test]
fn the_dry_run_reports_a_missing_descriptor_and_writes_nothing() {
    let fake = FakeEdFi::start();
    assert!(fake.remove_descriptor("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"));
    let input = district(3);
    let o = run(&fake, &input, true);
    let att: Vec<_> = o.rejects.iter().filter(|r| r.entity == EntityKind::Attendance).collect();
    assert_eq!(att.len(), 3, "{:?}", o.rejects);
    assert!(
        att[0].reason.contains("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"),
        "{}",
        att[0].reason
    );
    assert_eq!(o.rejects.len(), 3, "only the records using it: {:?}", o.rejects);
    assert_eq!(fake.stats().posts, 0, "a dry run writes nothing");
    assert!(fake.counts().is_empty());
    let students = o.plan.iter().find(|p| p.entity == "students").unwrap();
    assert_eq!((students.create, students.update), (3, 0));
    // After a real run, the dry run sees updates.
    fake.add_descriptor("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence");
    assert!(run(&fake, &input, false).rejects.is_empty());
    let o = run(&fake, &input, true);
    let students = o.plan.iter().find(|p| p.entity == "students").unwrap();
    assert_eq!((students.create, students.update), (0, 3));
}

#[test]
fn a_409_names_the_missing_parent_and_a_refused_parent_is_not_followed() {
    let fake = FakeEdFi::start();
    let mut input = district(2);
    // An enrollment at a school neither in the run nor in the ODS.
    input
        .push(&[SchoolEnrollment {
            meta: Meta::new("t", "e-elsewhere"),
            student_id: Some("st0".into()),
            school_id: Some("999".into()),
            entry_date: Some(d(2024, 9, 1)),
            grade_level: Some(Code::mapped(GradeLevel::Grade09, "9")),
            ..SchoolEnrollment::default()
        }])
        .unwrap();
    let o = run(&fake, &input, false);
    let r: Vec<_> = o.rejects.iter().filter(|r| r.record_id == "e-elsewhere").collect();
    assert_eq!(r.len(), 1, "{:?}", o.rejects);
    assert!(r[0].reason.contains("409") && r[0].reason.contains("schools (schoolId=999)"), "{}", r[0].reason);
    assert_eq!(o.rejects.len(), 1);
    assert_eq!(o.written, records(&input) - 1);
    // The dry run says the same with a GET, before any write.
    let fresh = FakeEdFi::start_with(Options::default());
    let o = run(&fresh, &input, true);
    let r: Vec<_> = o.rejects.iter().filter(|r| r.record_id == "e-elsewhere").collect();
    assert!(r[0].reason.contains("schools (schoolId=999) does not exist"), "{}", r[0].reason);
}

#[test]
fn a_parent_the_api_refuses_takes_its_children_with_it() {
    let fake = FakeEdFi::start();
    let mut input = district(2);
    // A session of a school year the ODS has no SchoolYearType for: 409 from the API.
    input
        .push(&[AcademicSession {
            meta: Meta::new("t", "far"),
            kind: Some(Code::mapped(SessionKind::Semester, "S")),
            title: "Far future".into(),
            start_date: Some(d(2099, 1, 5)),
            end_date: Some(d(2099, 5, 30)),
            school_year: Some(2099),
            org_id: Some("255901001".into()),
            ..AcademicSession::default()
        }])
        .unwrap();
    input
        .push(&[Section {
            meta: Meta::new("t", "sec-far"),
            course_id: Some("c1".into()),
            school_id: Some("255901001".into()),
            session_ids: vec!["far".into()],
            ..Section::default()
        }])
        .unwrap();
    // (pushed after their entities' batches: the sink orders them itself)
    let o = run(&fake, &input, false);
    let far = o.rejects.iter().find(|r| r.record_id == "far").unwrap();
    assert!(far.reason.contains("409"), "{}", far.reason);
    let sec = o.rejects.iter().find(|r| r.record_id == "sec-far").unwrap();
    assert!(sec.reason.contains("its parent") && sec.reason.contains("not sent"), "{}", sec.reason);
    assert_eq!(o.rejects.len(), 2, "{:?}", o.rejects);
}

#[test]
fn bad_settings_are_refused_naming_the_key() {
    let fake = FakeEdFi::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(&fake);
    cfg["data_standard"] = json!("6.0");
    let e = run_sink_with::<EdFiPlugin>(&cfg, tmp.path(), &district(1), false).unwrap_err();
    assert!(e.message.contains("data_standard"), "{}", e.message);
    let mut cfg = config(&fake);
    cfg["client_secret"] = json!("wrong");
    let e = run_sink_with::<EdFiPlugin>(&cfg, tmp.path(), &district(1), false).unwrap_err();
    assert!(!e.message.contains("wrong"), "the secret is never in a message: {}", e.message);
    assert_eq!(fake.stats().posts, 0);
}

/// The fields of `R` the manifest says are read back, of every record of
/// `out`, by source id (a code by its canonical value).
fn read_back_of<R: Record>(
    out: &SourceOutput,
    fields: &[String],
) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    out.records::<R>()
        .unwrap()
        .iter()
        .map(|r| {
            let vals = fields
                .iter()
                .map(|f| {
                    let v = match access::get(r, f) {
                        Some(ferry_sdk::model::Value::Code { code, .. }) => code.to_owned(),
                        Some(v) => format!("{v:?}"),
                        None => "none".into(),
                    };
                    (f.clone(), v)
                })
                .collect();
            (r.meta().source.id.clone(), vals)
        })
        .collect()
}

#[test]
fn the_ods_reads_back_as_it_was_written_under_the_source_ids_of_its_receipts() {
    let fake = FakeEdFi::start();
    let input = district(12);
    let o = run(&fake, &input, false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    let tmp = tempfile::tempdir().unwrap();
    let receipts = tmp.path().join("ferry-receipts.jsonl");
    let lines: Vec<String> = o
        .receipts
        .iter()
        .map(|r| {
            json!({ "entity": r.entity, "source_id": r.source_id, "destination_id": r.destination_id,
                    "natural_key": r.natural_key, "outcome": r.outcome })
            .to_string()
        })
        .collect();
    std::fs::write(&receipts, lines.join("\n")).unwrap();
    let mut cfg = config(&fake);
    cfg["receipts"] = json!("ferry-receipts.jsonl");
    cfg["page_size"] = json!(5); // several pages, fetched at once after the counted first
    let back = ferry_sdk::testkit::run_source::<EdFiPlugin>(&cfg, tmp.path(), 7).unwrap();
    assert!(back.rejects.is_empty(), "{:?}", back.rejects);
    let m = ferry_sdk::testkit::manifest::<EdFiPlugin>().unwrap();
    let fields = m.destination.read_back_fields();
    macro_rules! same {
        ($t:ty) => {{
            let f = &fields[<$t>::KIND.name()];
            let (want, got) = (read_back_of::<$t>(&input, f), read_back_of::<$t>(&back, f));
            assert_eq!(got, want, "{}", <$t>::KIND);
            assert!(!want.is_empty());
        }};
    }
    same!(Org);
    same!(AcademicSession);
    same!(Course);
    same!(Student);
    same!(Staff);
    same!(Section);
    same!(SchoolEnrollment);
    same!(SectionEnrollment);
    same!(SectionStaff);
    // The grading period made for the grades is no record of its own.
    assert_eq!(back.count(EntityKind::AcademicSessions), 2);
    // Without receipts the ids are the natural keys, references included.
    let mut bare = config(&fake);
    bare["page_size"] = json!(500);
    let back = ferry_sdk::testkit::run_source::<EdFiPlugin>(&bare, tmp.path(), 100).unwrap();
    let st = back.records::<Student>().unwrap();
    assert!(st.iter().any(|s| s.meta.source.id == "students: studentUniqueId=000001"), "{:?}", st[0].meta);
    let en = back.records::<SchoolEnrollment>().unwrap();
    assert!(en.iter().all(|e| e.student_id.as_deref().is_some_and(|s| s.starts_with("students: "))));
}

#[test]
fn a_missing_receipts_file_is_named() {
    let fake = FakeEdFi::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(&fake);
    cfg["receipts"] = json!("nowhere.jsonl");
    let Err(e) = ferry_sdk::testkit::run_source::<EdFiPlugin>(&cfg, tmp.path(), 100) else {
        panic!("a missing receipts file was accepted")
    };
    assert!(e.to_string().contains("nowhere.jsonl"), "{e}");
}

#[test]
fn the_ed_fi_connector_passes_the_conformance_kit() {
    let fake = FakeEdFi::start();
    let input = district(6);
    let o = run(&fake, &input, false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = o
        .receipts
        .iter()
        .map(|r| {
            json!({ "entity": r.entity, "source_id": r.source_id, "natural_key": r.natural_key }).to_string()
        })
        .collect();
    std::fs::write(tmp.path().join("ferry-receipts.jsonl"), lines.join("\n")).unwrap();
    let mut source = config(&fake);
    source["receipts"] = json!("ferry-receipts.jsonl");
    let sink = config(&fake);
    let before = fake.stats().posts;
    let report = ferry_sdk::testing::Conformance::<EdFiPlugin>::new(tmp.path())
        .source(source)
        .sink(move |_| sink.clone())
        .sink_input(input)
        .run();
    eprintln!("{report}");
    report.assert_passed();
    assert!(report.passed("receipts"), "{report}");
    assert!(fake.stats().posts > before, "the kit's sink runs wrote to the API");
}
