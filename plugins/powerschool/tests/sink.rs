//! The sink's contract: every record is accounted for (written, rejected
//! when it arrives, or rejected late when the files turn out unable to
//! carry it), a dry run writes nothing and plans what a run writes, and the
//! commit's notes are information only.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{
    AcademicSession, Code, Contact, Course, Date, EntityKind, Meta, Org, OrgKind, Origin, Section,
    SectionEnrollment, SectionRole, SectionStaff, SessionKind, Staff, Student, StudentContact,
};
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{OpenContext, Plugin};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn district() -> SourceOutput {
    let cfg = json!({
        "directory": data("district"),
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    });
    sink_input(&testkit::run_source::<PowerSchoolPlugin>(&cfg, &data(""), 50).unwrap())
}

/// The entities the sink takes.
fn sink_entities() -> Vec<EntityKind> {
    let dir = tempfile::tempdir().unwrap();
    let ctx = OpenContext::new(json!({ "directory": "out" }), dir.path()).dry_run();
    PowerSchoolPlugin::open_sink(&ctx).unwrap().entities()
}

/// What the host sends the sink of a source's output: the batches of the
/// entities the sink takes (the source reads more: calendars, code values…).
fn sink_input(a: &SourceOutput) -> SourceOutput {
    let takes = sink_entities();
    SourceOutput {
        batches: a.batches.iter().filter(|(e, _)| takes.contains(e)).cloned().collect(),
        ..SourceOutput::default()
    }
}

fn total(input: &SourceOutput) -> u64 {
    EntityKind::ALL.iter().map(|e| input.count(*e)).sum()
}

/// A meta read from `file` at `line`.
fn meta(id: &str, file: &str, line: u64) -> Meta {
    let mut m = Meta::new("test", id);
    m.origin = Some(Origin { file: file.to_owned(), line, raw: None });
    m
}

fn lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file)).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn the_manifest_names_the_location_key_and_supports_dry_runs() {
    let m = testkit::manifest::<PowerSchoolPlugin>().unwrap();
    assert_eq!(m.location.as_deref(), Some("directory"), "--from powerschool:DIR fills `directory`");
    assert!(m.dry_run);
    assert!(m.transactional, "files appear on commit only");
    // What the import needs, for `ferry plan check`: fields of the model, and
    // grade levels of its code set.
    assert!(m.destination.requires.iter().any(|r| r == "students.student_number"));
    for r in &m.destination.requires {
        let (e, f) = r.split_once('.').unwrap();
        let kind = EntityKind::from_name(e).unwrap();
        assert!(kind.fields().iter().any(|d| d.name == f), "{r}");
    }
    for (key, values) in &m.destination.accepts {
        let (e, f) = key.split_once('.').unwrap();
        let kind = EntityKind::from_name(e).unwrap();
        let def = kind.fields().iter().find(|d| d.name == f).unwrap();
        let ferry_sdk::model::FieldType::Code(all) = def.ty else { panic!("{key} is not a code") };
        assert!(values.iter().all(|v| all.contains(&v.as_str())), "{key}");
    }
    let dir = tempfile::tempdir().unwrap();
    let ctx = OpenContext::new(json!({ "directory": "out" }), dir.path()).dry_run();
    let sink = PowerSchoolPlugin::open_sink(&ctx).unwrap();
    let takes: Vec<&str> = sink.entities().iter().map(|e| e.name()).collect();
    assert_eq!(takes, m.destination.entities, "plan check knows what the sink writes");
    assert!(
        takes.iter().all(|e| m.entities.iter().any(|x| x == e)),
        "the sink takes only entities its manifest lists"
    );
    // The manifest lists what the connector handles; the source maps these
    // too, which the sink does not write yet (in the manifest's order).
    let source_only: Vec<&str> =
        m.entities.iter().map(String::as_str).filter(|e| !takes.contains(e)).collect();
    assert_eq!(
        source_only,
        [
            "code_values",
            "class_periods",
            "bell_schedules",
            "bell_schedule_periods",
            "calendar_days",
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
        ]
    );
}

#[test]
fn a_dry_run_writes_nothing_and_plans_what_a_run_writes() {
    let input = district();
    let dry_base = tempfile::tempdir().unwrap();
    let cfg = json!({ "directory": "import" });
    let dry = testkit::run_sink_with::<PowerSchoolPlugin>(&cfg, dry_base.path(), &input, true).unwrap();
    assert!(dry.committed.is_none());
    assert_eq!(dry_base.path().read_dir().unwrap().count(), 0, "no file, no folder");

    let base = tempfile::tempdir().unwrap();
    let real = testkit::run_sink_with::<PowerSchoolPlugin>(&cfg, base.path(), &input, false).unwrap();
    assert_eq!((dry.written, &dry.rejects, &dry.plan), (real.written, &real.rejects, &real.plan));
    assert_eq!(real.written, total(&input), "the district's records are all written");
    assert!(real.rejects.is_empty() && real.late_rejects.is_empty(), "{:?}", real.rejects);

    // The plan accounts for every record of every entity the sink takes.
    for e in sink_entities() {
        let p = dry.plan.iter().find(|p| p.entity == e.name()).unwrap_or_else(|| panic!("{e} planned"));
        assert_eq!(p.create + p.reject, input.count(e), "{e}");
        assert_eq!((p.update, p.unchanged, p.delete), (0, 0, 0), "{e}: import files only create");
    }
    assert_eq!(dry.plan.iter().map(|p| p.create).sum::<u64>(), dry.written);

    // A real run's notes are information only: where the guide is.
    let import = base.path().join("import");
    let c = real.committed.unwrap();
    assert_eq!(c.location, import.display().to_string());
    assert_eq!(
        c.notes,
        [format!("import order and instructions: {}", import.join("IMPORT-GUIDE.md").display())]
    );
    assert!(import.join("students.txt").exists());
}

/// A small district for the sink alone: one school, one year, two teachers
/// who both lead section 7, a student with one contact, and a contact
/// linked to no student.
fn hand_built() -> SourceOutput {
    let mut input = SourceOutput::default();
    input
        .push(&[Org {
            meta: meta("100", "schools.csv", 2),
            kind: Some(Code::mapped(OrgKind::School, "school")),
            name: "North".into(),
            identifier: Some("100".into()),
            ..Org::default()
        }])
        .unwrap();
    input
        .push(&[AcademicSession {
            meta: meta("100:3400", "terms.csv", 2),
            kind: Some(Code::mapped(SessionKind::SchoolYear, "year")),
            title: "2024-2025".into(),
            start_date: Some(Date::new(2024, 9, 1).unwrap()),
            end_date: Some(Date::new(2025, 6, 30).unwrap()),
            school_year: Some(2025),
            org_id: Some("100".into()),
            ..AcademicSession::default()
        }])
        .unwrap();
    input
        .push(&[
            Student {
                meta: meta("s1", "students.csv", 2),
                student_number: Some("1001".into()),
                first_name: "Ana".into(),
                last_name: "Lopez".into(),
                ..Student::default()
            },
            Student {
                meta: meta("s2", "students.csv", 3),
                student_number: Some("1002".into()),
                first_name: "Tab".into(),
                last_name: "In\tside".into(),
                ..Student::default()
            },
        ])
        .unwrap();
    let teacher = |id: &str, line: u64| Staff {
        meta: meta(id, "staff.csv", line),
        staff_number: Some(format!("T{id}")),
        first_name: "Teacher".into(),
        last_name: id.into(),
        ..Staff::default()
    };
    input.push(&[teacher("1", 2), teacher("2", 3)]).unwrap();
    let contact = |id: &str, line: u64| Contact {
        meta: meta(id, "contacts.csv", line),
        first_name: "Parent".into(),
        last_name: id.into(),
        ..Contact::default()
    };
    input.push(&[contact("c1", 2), contact("c2", 3)]).unwrap();
    input
        .push(&[StudentContact {
            meta: meta("c1:s1", "links.csv", 2),
            student_id: Some("s1".into()),
            contact_id: Some("c1".into()),
            ..StudentContact::default()
        }])
        .unwrap();
    input
        .push(&[Course {
            meta: meta("MATH", "courses.csv", 2),
            course_number: Some("MATH".into()),
            title: "Math".into(),
            ..Course::default()
        }])
        .unwrap();
    input
        .push(&[Section {
            meta: meta("7", "sections.csv", 2),
            section_number: Some("1".into()),
            course_id: Some("MATH".into()),
            school_id: Some("100".into()),
            session_ids: vec!["100:3400".into()],
            ..Section::default()
        }])
        .unwrap();
    let lead = |staff: &str, line: u64| SectionStaff {
        meta: meta(&format!("7:{staff}"), "section_staff.csv", line),
        section_id: Some("7".into()),
        staff_id: Some(staff.into()),
        role: Some(Code::mapped(SectionRole::Lead, "Teacher")),
        ..SectionStaff::default()
    };
    input.push(&[lead("1", 2), lead("2", 3)]).unwrap();
    let enrollment = |id: &str, student: &str, line: u64| SectionEnrollment {
        meta: meta(id, "enrollments.csv", line),
        student_id: Some(student.into()),
        section_id: Some("7".into()),
        ..SectionEnrollment::default()
    };
    input.push(&[enrollment("e1", "s1", 2), enrollment("e2", "s2", 3), enrollment("e3", "s9", 4)]).unwrap();
    input
}

#[test]
fn what_the_files_cannot_carry_is_a_late_reject_not_a_note() {
    let input = hand_built();
    let base = tempfile::tempdir().unwrap();
    let o = testkit::run_sink_with::<PowerSchoolPlugin>(
        &json!({ "directory": "out" }),
        base.path(),
        &input,
        false,
    )
    .unwrap();
    assert_eq!(o.written + o.rejects.len() as u64, total(&input), "every record is accounted for");

    // Late: contact c2 has no student to be written with; section 7's first
    // lead teacher was replaced by the second (sections.txt has one).
    let late: Vec<(EntityKind, &str, &str, u64)> =
        o.late_rejects.iter().map(|r| (r.entity, r.record_id.as_str(), r.file.as_str(), r.line)).collect();
    assert_eq!(
        late,
        [
            (EntityKind::SectionStaff, "7:1", "section_staff.csv", 2),
            (EntityKind::Contacts, "c2", "contacts.csv", 3)
        ]
    );
    assert!(o.late_rejects[1].reason.contains("linked to no student"), "{}", o.late_rejects[1].reason);
    assert!(o.late_rejects.iter().all(|r| r.is_reject()));
    let out = base.path().join("out");
    let c = o.committed.unwrap();
    assert_eq!(c.notes.len(), 1, "no record is reported in notes: {:?}", c.notes);
    assert!(c.notes[0].starts_with("import order and instructions: "));
    assert_eq!(lines(&out, "contacts.txt").len(), 2, "header and c1's row");
    let sections = lines(&out, "sections.txt");
    assert_eq!(sections[1].split('\t').nth(4), Some("T2"), "the last lead teacher is the section's");

    // At once: student s2's name cannot be written without quoting, so the
    // student is refused, and its section enrollment names that.
    let s2 = o.rejects.iter().find(|r| r.record_id == "s2").unwrap();
    assert_eq!((s2.entity, s2.field.as_str(), s2.line), (EntityKind::Students, "Last_Name", 3));
    assert!(s2.reason.starts_with("students.txt: "), "{}", s2.reason);
    let e2 = o.rejects.iter().find(|r| r.record_id == "e2").unwrap();
    assert_eq!((e2.entity, e2.field.as_str()), (EntityKind::SectionEnrollments, "student_id"));
    assert_eq!(e2.reason, "the student was refused by this sink, so the row cannot name it");
    let e3 = o.rejects.iter().find(|r| r.record_id == "e3").unwrap();
    assert_eq!(e3.reason, "the student was not received by this sink, so the row cannot name it");
    assert_eq!(o.rejects.len(), 2 + 3);
    assert_eq!(lines(&out, "students.txt").len(), 2);
    assert_eq!(lines(&out, "cc.txt").len(), 2);

    // The plan of a dry run says the same, and writes nothing.
    let dry_base = tempfile::tempdir().unwrap();
    let dry = testkit::run_sink_with::<PowerSchoolPlugin>(
        &json!({ "directory": "out" }),
        dry_base.path(),
        &input,
        true,
    )
    .unwrap();
    assert_eq!((dry.written, &dry.rejects, &dry.late_rejects), (o.written, &o.rejects, &o.late_rejects));
    assert_eq!(dry_base.path().read_dir().unwrap().count(), 0);
    let plan = |e: EntityKind| dry.plan.iter().find(|p| p.entity == e.name()).map(|p| (p.create, p.reject));
    assert_eq!(plan(EntityKind::Contacts), Some((1, 1)));
    assert_eq!(plan(EntityKind::SectionStaff), Some((1, 1)));
    assert_eq!(plan(EntityKind::Students), Some((1, 1)));
    assert_eq!(plan(EntityKind::SectionEnrollments), Some((1, 2)));
}

#[test]
fn a_bare_folder_is_a_whole_configuration() {
    // `ferry migrate --from powerschool:legacy --to powerschool:out`: the
    // location fills `directory`, relative to where ferry runs.
    let a =
        testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": "legacy" }), &data(""), 100).unwrap();
    assert!(a.rejects.is_empty() && a.count(EntityKind::Students) > 0);
    let a = sink_input(&a);
    let base = tempfile::tempdir().unwrap();
    let (written, rejects) =
        testkit::run_sink::<PowerSchoolPlugin>(&json!({ "directory": "out" }), base.path(), &a).unwrap();
    assert_eq!((written, rejects.len()), (total(&a), 0));
    assert!(base.path().join("out/IMPORT-GUIDE.md").exists());

    // A file without a header line cannot be read from the folder alone:
    // the error says which file and what to configure.
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(data("district")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
    }
    let e = testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": dir.path() }), dir.path(), 100)
        .unwrap_err();
    assert!(e.message.contains("sections.txt") && e.message.contains("columns"), "{e}");
}
