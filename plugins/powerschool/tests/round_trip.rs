//! Round trip: a PowerSchool export (generated, with every quirk) is read
//! by the source, written by the sink as PowerSchool import files, and those
//! files read back by the source. Every field both sides share must match.
//!
//! Import files cannot carry PowerSchool's internal ID/DCID (PowerSchool
//! assigns them), so records are matched by the keys PowerSchool imports
//! match on: Student_Number, TeacherNumber, Course_Number, School_Number,
//! (SchoolID, TermID), and a section's (SchoolID, Course_Number,
//! Section_Number, TermID); references are compared through those keys.
//! Not shared, so not compared: source ids and alternative ids, origins,
//! extensions other than custom `U_`/`S_` student fields, StoredGrades'
//! SectionID, and the original text of a section enrollment's status (the
//! sign is kept; SectionID itself is not importable).
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::BTreeMap;
use std::fmt::Debug;

use ferry_gen::{PsGenOptions, TextEncoding};
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{
    AcademicSession, AttendanceEvent, Contact, Course, Demographics, EntityKind, Grade, GradeKind, Org,
    Record, SchoolEnrollment, Section, SectionEnrollment, SectionStaff, Staff, Student, StudentContact,
};
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{OpenContext, Plugin};

mod generated_config {
    use ferry_gen::{GenManifest, HeaderStyle};
    use ferry_sdk::serde_json::{self, json};

    pub fn config(dir: &std::path::Path, m: &GenManifest) -> serde_json::Value {
        let mut files = serde_json::Map::new();
        for f in m.files.iter().filter(|f| f.header == HeaderStyle::None) {
            files.insert(f.name.clone(), json!({ "table": f.table, "columns": f.columns }));
        }
        json!({ "directory": dir, "files": files })
    }
}

/// Natural keys of one read.
struct Keys {
    students: BTreeMap<String, String>,
    staff: BTreeMap<String, String>,
    sections: BTreeMap<String, String>,
}

impl Keys {
    fn of(out: &SourceOutput) -> Keys {
        let students = out
            .records::<Student>()
            .unwrap()
            .into_iter()
            .map(|s| (s.meta.source.id.clone(), s.student_number.clone().unwrap_or_default()))
            .collect();
        let staff = out
            .records::<Staff>()
            .unwrap()
            .into_iter()
            .map(|s| (s.meta.source.id.clone(), s.staff_number.clone().unwrap_or_default()))
            .collect();
        let sessions: BTreeMap<String, String> = out
            .records::<AcademicSession>()
            .unwrap()
            .into_iter()
            .map(|s| (s.meta.source.id.clone(), s.meta.source.id))
            .collect();
        let sections = out
            .records::<Section>()
            .unwrap()
            .into_iter()
            .map(|s| {
                let term = s.session_ids.first().and_then(|t| sessions.get(t)).cloned().unwrap_or_default();
                let key = format!(
                    "{}|{}|{}",
                    s.course_id.unwrap_or_default(),
                    s.section_number.unwrap_or_default(),
                    term
                );
                (s.meta.source.id, key)
            })
            .collect();
        Keys { students, staff, sections }
    }

    fn student(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|i| self.students.get(i)).cloned().unwrap_or_else(|| format!("?{id:?}"))
    }

    fn section(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|i| self.sections.get(i)).cloned().unwrap_or_default()
    }

    fn staff(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|i| self.staff.get(i)).cloned().unwrap_or_default()
    }
}

/// Compares two sides entity by entity: `key` and `shared` project a record
/// to its natural key and to the fields both sides share.
fn compare<R: Record, K: Ord + Debug, V: PartialEq + Debug>(
    a: &SourceOutput,
    b: &SourceOutput,
    ka: &Keys,
    kb: &Keys,
    project: impl Fn(&R, &Keys) -> (K, V),
) -> usize {
    let side = |out: &SourceOutput, keys: &Keys| -> BTreeMap<K, V> {
        let mut m = BTreeMap::new();
        for r in out.records::<R>().unwrap() {
            let (k, v) = project(&r, keys);
            assert!(m.insert(k, v).is_none(), "{}: two records with one natural key", R::KIND);
        }
        m
    };
    let (left, right) = (side(a, ka), side(b, kb));
    assert_eq!(left.len(), right.len(), "{}: record counts", R::KIND);
    for (k, v) in &left {
        let w = right.get(k).unwrap_or_else(|| panic!("{}: {k:?} was not read back", R::KIND));
        assert_eq!(v, w, "{}: {k:?}", R::KIND);
    }
    left.len()
}

fn custom_ext<R: Record>(r: &R) -> Vec<(String, String)> {
    r.meta()
        .ext
        .iter()
        .filter(|(k, _)| k.starts_with("U_") || k.starts_with("S_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What the host sends the sink of `a`: the batches of the entities the
/// sink takes (the source reads more: calendars, code values…).
fn sink_input(a: &SourceOutput) -> SourceOutput {
    let dir = tempfile::tempdir().unwrap();
    let ctx = OpenContext::new(json!({ "directory": "out" }), dir.path()).dry_run();
    let takes = PowerSchoolPlugin::open_sink(&ctx).unwrap().entities();
    SourceOutput {
        batches: a.batches.iter().filter(|(e, _)| takes.contains(e)).cloned().collect(),
        ..SourceOutput::default()
    }
}

/// Writes `a` with the sink, reads the files back, compares.
fn round_trip(a: &SourceOutput) -> SourceOutput {
    let a = &sink_input(a);
    let out_dir = tempfile::tempdir().unwrap();
    let (written, rejects) =
        testkit::run_sink::<PowerSchoolPlugin>(&json!({ "directory": out_dir.path() }), out_dir.path(), a)
            .unwrap();
    assert!(rejects.is_empty(), "the sink refused records: {:?}", rejects.iter().take(3).collect::<Vec<_>>());
    let total: u64 = EntityKind::ALL.iter().map(|e| a.count(*e)).sum();
    assert_eq!(written, total);
    let guide = std::fs::read_to_string(out_dir.path().join("IMPORT-GUIDE.md")).unwrap();
    assert!(guide.contains("`students.txt`"));
    assert!(
        !out_dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp"))
    );
    let b = testkit::run_source::<PowerSchoolPlugin>(
        &json!({ "directory": out_dir.path() }),
        out_dir.path(),
        500,
    )
    .unwrap();
    assert!(
        b.rejects.is_empty(),
        "the sink's files read back with rejects: {:?}",
        b.rejects.iter().take(3).collect::<Vec<_>>()
    );
    let (ka, kb) = (Keys::of(a), Keys::of(&b));

    compare::<Org, _, _>(a, &b, &ka, &kb, |r, _| {
        let g = |c: &Option<ferry_sdk::model::Code<ferry_sdk::model::GradeLevel>>| {
            c.as_ref().map(|c| (c.code, c.original.clone()))
        };
        (
            r.meta.source.id.clone(),
            (
                r.kind.as_ref().map(|k| k.code),
                r.name.clone(),
                r.identifier.clone(),
                r.parent_id.clone(),
                g(&r.low_grade),
                g(&r.high_grade),
                r.address.clone(),
                r.city.clone(),
                r.region.clone(),
                r.postal_code.clone(),
                r.phone.clone(),
            ),
        )
    });
    compare::<AcademicSession, _, _>(a, &b, &ka, &kb, |r, _| {
        (
            r.meta.source.id.clone(),
            (
                r.kind.as_ref().map(|k| k.code),
                r.title.clone(),
                r.code.clone(),
                r.start_date,
                r.end_date,
                r.school_year,
                r.parent_id.clone(),
                r.org_id.clone(),
            ),
        )
    });
    compare::<Student, _, _>(a, &b, &ka, &kb, |r, _| {
        (
            r.student_number.clone(),
            (
                (
                    r.state_id.clone(),
                    r.first_name.clone(),
                    r.middle_name.clone(),
                    r.last_name.clone(),
                    r.preferred_name.clone(),
                    r.birth_date,
                ),
                (r.sex.clone(), r.grade_level.clone(), r.school_id.clone(), r.status.clone()),
                (
                    r.address.clone(),
                    r.city.clone(),
                    r.region.clone(),
                    r.postal_code.clone(),
                    r.phone.clone(),
                    r.username.clone(),
                ),
                custom_ext(r),
            ),
        )
    });
    compare::<Staff, _, _>(a, &b, &ka, &kb, |r, _| {
        (
            r.staff_number.clone(),
            (
                r.first_name.clone(),
                r.middle_name.clone(),
                r.last_name.clone(),
                r.role.as_ref().map(|c| c.code),
                r.title.clone(),
                r.school_id.clone(),
                r.active,
                r.email.clone(),
                r.username.clone(),
                r.state_id.clone(),
                r.phone.clone(),
            ),
        )
    });
    compare::<Contact, _, _>(a, &b, &ka, &kb, |r, _| {
        (
            r.meta.source.id.clone(),
            (
                r.first_name.clone(),
                r.middle_name.clone(),
                r.last_name.clone(),
                r.email.clone(),
                r.phone_home.clone(),
                r.phone_mobile.clone(),
                r.phone_work.clone(),
                r.address.clone(),
                r.city.clone(),
                r.region.clone(),
                r.postal_code.clone(),
            ),
        )
    });
    compare::<StudentContact, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            (k.student(&r.student_id), r.contact_id.clone()),
            (r.relationship.clone(), r.custodial, r.emergency, r.lives_with, r.receives_mail, r.priority),
        )
    });
    compare::<Demographics, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            k.student(&r.person_id),
            (
                r.hispanic_or_latino,
                r.american_indian_or_alaska_native,
                r.asian,
                r.black_or_african_american,
                r.native_hawaiian_or_other_pacific_islander,
                r.white,
                r.two_or_more_races,
            ),
        )
    });
    compare::<Course, _, _>(a, &b, &ka, &kb, |r, _| {
        (r.course_number.clone(), (r.title.clone(), r.credit_hours, r.subject.clone(), r.org_id.clone()))
    });
    compare::<Section, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            k.section(&Some(r.meta.source.id.clone())),
            (r.school_id.clone(), r.period.clone(), r.room.clone(), r.max_enrollment),
        )
    });
    compare::<SectionStaff, _, _>(a, &b, &ka, &kb, |r, k| {
        (k.section(&r.section_id), (k.staff(&r.staff_id), r.role.as_ref().map(|c| c.code)))
    });
    compare::<SchoolEnrollment, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            (k.student(&r.student_id), r.school_id.clone(), r.entry_date),
            (
                r.exit_date,
                r.entry_code.clone(),
                r.exit_code.clone(),
                r.exit_comment.clone(),
                r.grade_level.clone(),
                r.school_year,
            ),
        )
    });
    compare::<SectionEnrollment, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            (k.student(&r.student_id), k.section(&r.section_id), r.entry_date, r.exit_date),
            r.status.as_ref().map(|s| s.code),
        )
    });
    compare::<Grade, _, _>(a, &b, &ka, &kb, |r, k| {
        let transcript = r.kind.as_ref().map(|c| c.code) == Some(GradeKind::Transcript);
        let section = if transcript { String::new() } else { k.section(&r.section_id) };
        (
            (
                k.student(&r.student_id),
                r.course_number.clone(),
                r.session_id.clone(),
                r.store_code.clone(),
                section,
                r.school_name.clone(),
            ),
            (
                (
                    r.kind.as_ref().map(|c| c.code),
                    r.course_id.clone(),
                    r.school_id.clone(),
                    r.school_year,
                    r.letter_grade.clone(),
                    r.percent,
                ),
                (
                    r.credits_attempted,
                    r.credits_earned,
                    r.gpa_points,
                    r.grade_level.clone(),
                    r.exclude_from_gpa,
                    r.comment.clone(),
                ),
                transcript.then(|| {
                    (
                        r.course_title.clone(),
                        r.meta.ext.get("SchoolID").map(str::to_owned),
                        r.meta.ext.get("TermID").map(str::to_owned),
                    )
                }),
            ),
        )
    });
    compare::<AttendanceEvent, _, _>(a, &b, &ka, &kb, |r, k| {
        (
            (k.student(&r.student_id), r.date, r.period.clone(), k.section(&r.section_id)),
            (r.category.clone(), r.school_id.clone(), r.minutes, r.comment.clone()),
        )
    });
    b
}

#[test]
fn generated_export_written_and_read_back_keeps_shared_fields() {
    let src_dir = tempfile::tempdir().unwrap();
    let m = ferry_gen::powerschool(
        &PsGenOptions {
            students: 160,
            seed: 21,
            quirks: true,
            encoding: TextEncoding::Utf8,
            ..PsGenOptions::default()
        },
        src_dir.path(),
    )
    .unwrap();
    let a = testkit::run_source::<PowerSchoolPlugin>(
        &generated_config::config(src_dir.path(), &m),
        src_dir.path(),
        500,
    )
    .unwrap();
    let b = round_trip(&a);
    assert_eq!(b.count(EntityKind::Students), m.file("students.txt").unwrap().rows);
    assert!(b.count(EntityKind::Attendance) > 100);
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

#[test]
fn hand_written_exports_written_and_read_back_keep_shared_fields() {
    let district = json!({
        "directory": fixture("district"),
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    });
    let a = testkit::run_source::<PowerSchoolPlugin>(&district, &fixture(""), 50).unwrap();
    let b = round_trip(&a);
    let graduate = b
        .records::<Student>()
        .unwrap()
        .into_iter()
        .find(|s| s.student_number.as_deref() == Some("200045"))
        .unwrap();
    assert_eq!(graduate.school_id.as_deref(), Some("999999"));
    let a = testkit::run_source::<PowerSchoolPlugin>(
        &json!({ "directory": fixture("legacy") }),
        &fixture(""),
        50,
    )
    .unwrap();
    let b = round_trip(&a);
    assert_eq!(b.count(EntityKind::Contacts), 3, "legacy contacts travel in contacts.txt");
}
