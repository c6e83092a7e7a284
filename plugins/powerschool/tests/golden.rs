//! Golden tests: hand-written PowerSchool exports under `tests/data/`, read
//! through the plugin's source (in process, via `ferry_sdk::testkit`), with
//! exact canonical values pinned.
//!
//! `tests/data/district/`: UTF-8, the Person contact model, every header
//! style (bare, `[13]`, `[Students]`, `COURSES.`), a headerless file, comma-quoted,
//! pipe and CRLF files, a BOM, literal quotes, a tab inside a value, ISO and
//! two-digit-year dates, `--` grades, DCID ≠ ID, leading zeros, negative CC
//! ids, school 999999, attendance codes that differ per school and year.
//! `tests/data/legacy/`: Windows-1252, legacy Mother/Father/Emerg contact
//! fields, the Teachers view with a teacher at two schools.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_plugin_powerschool::source::PowerSchoolSource;
use ferry_sdk::model::{
    AcademicSession, AttendanceCategory, AttendanceEvent, CodeSet, Contact, Course, Date, Decimal,
    Demographics, EntityKind, EntryKind, ExitKind, Grade, GradeKind, Org, OrgKind, Record, Relationship,
    SchoolEnrollment, Section, SectionEnrollment, SectionEnrollmentStatus, SectionStaff, SessionKind, Sex,
    Staff, StaffAssignment, StaffRole, Student, StudentContact,
};
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{BatchBuilder, OpenContext, Source};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn district_config() -> serde_json::Value {
    json!({
        "directory": data("district"),
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    })
}

fn read(cfg: &serde_json::Value) -> SourceOutput {
    testkit::run_source::<PowerSchoolPlugin>(cfg, &data(""), 7).unwrap()
}

fn by_id<R: Record>(out: &SourceOutput, id: &str) -> R {
    out.records::<R>()
        .unwrap()
        .into_iter()
        .find(|r| r.meta().source.id == id)
        .unwrap_or_else(|| panic!("no {} record {id}", R::KIND))
}

fn none<R: Record>(out: &SourceOutput, id: &str) {
    assert!(
        out.records::<R>().unwrap().iter().all(|r| r.meta().source.id != id),
        "{} {id} should not exist",
        R::KIND
    );
}

fn d(y: i32, m: u32, day: u32) -> Option<Date> {
    Some(Date::new(y, m, day).unwrap())
}

/// An exact decimal.
fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::parse(s).unwrap())
}

fn ext<R: Record>(r: &R, key: &str) -> Option<String> {
    r.meta().ext.get(key).map(str::to_owned)
}

fn stats(cfg: &serde_json::Value) -> Vec<ferry_plugin_powerschool::source::FileStats> {
    let ctx = OpenContext::new(cfg.clone(), data(""));
    let mut src = PowerSchoolSource::open(&ctx).unwrap();
    loop {
        let mut b = BatchBuilder::new(100);
        if !src.next_batch(&mut b).unwrap() {
            break;
        }
    }
    src.file_stats().to_vec()
}

#[test]
fn students_keep_exact_values() {
    let out = read(&district_config());
    let jose: Student = by_id(&out, "5001");
    assert_eq!(jose.meta.source.system, "powerschool");
    assert_eq!(jose.meta.alt_id("id"), Some("101"), "ID kept beside the DCID");
    assert_eq!(jose.meta.alt_id("student_number"), Some("000123"));
    assert_eq!(jose.meta.alt_id("state"), Some("0123456789012"));
    assert_eq!(jose.student_number.as_deref(), Some("000123"), "leading zeros kept");
    assert_eq!(jose.state_id.as_deref(), Some("0123456789012"));
    assert_eq!((jose.first_name.as_str(), jose.last_name.as_str()), ("José", "Núñez"));
    assert_eq!(jose.middle_name.as_deref(), Some("\"Pepe\""), "quotes are text in a tab export");
    assert_eq!(jose.birth_date, d(2019, 6, 9));
    let sex = jose.sex.as_ref().unwrap();
    assert_eq!((sex.code, sex.original.as_str()), (Sex::Male, "M"));
    let g = jose.grade_level.as_ref().unwrap();
    assert_eq!((g.code.as_str(), g.original.as_str()), ("KG", "0"));
    assert_eq!(jose.school_id.as_deref(), Some("100"));
    assert_eq!(jose.status.as_deref(), Some("active"));
    assert_eq!(jose.address.as_deref(), Some("12 \"B\" Oak St"));
    assert_eq!(jose.postal_code.as_deref(), Some("07081"));
    assert_eq!(jose.phone.as_deref(), Some("(973) 555-1111"));
    assert_eq!(ext(&jose, "U_StudentsUserFields.Locker_Number").as_deref(), Some("B-12"));
    assert_eq!(
        ext(&jose, "[39]Name").as_deref(),
        Some("Escuela Peña"),
        "a related column stays a related column"
    );
    assert_eq!(ext(&jose, "Ethnicity").as_deref(), Some("4"), "own-table qualifier dropped from the key");
    assert_eq!(
        ext(&jose, "Mother").as_deref(),
        Some("Núñez, María"),
        "legacy fields kept when the Person model is read"
    );
    assert!(jose.meta.ext.is_pii("Mother"), "a parent's name is personal data");
    assert!(!jose.meta.ext.is_pii("U_StudentsUserFields.Locker_Number"));
    let origin = jose.meta.origin.as_ref().unwrap();
    assert_eq!((origin.file.as_str(), origin.line), ("students.txt", 2));
    assert!(origin.raw.as_deref().unwrap().starts_with("101\t5001\t000123\t"));
    assert_eq!(jose.meta.table.as_deref(), Some("Students"), "provenance: the PowerSchool table");
    assert_eq!(
        jose.meta.row_hash,
        Some(ferry_sdk::row_hash(origin.raw.as_deref().unwrap().split('\t'))),
        "provenance: the hash of the source row's cells"
    );
    assert!(out.warnings.is_empty(), "no value was left out: {:?}", out.warnings);

    let li: Student = by_id(&out, "5003");
    assert_eq!(li.birth_date, d(2020, 3, 4), "two-digit year");
    assert_eq!(li.sex, None, "blank gender");
    let g = li.grade_level.as_ref().unwrap();
    assert_eq!((g.code.as_str(), g.original.as_str()), ("PK", "-1"));
    assert_eq!(li.state_id, None);

    let zoe: Student = by_id(&out, "5002");
    assert_eq!((zoe.first_name.as_str(), zoe.last_name.as_str()), ("Zoë", "Ångström"));
    assert_eq!(zoe.birth_date, d(2006, 1, 15), "ISO date");
    let g = zoe.grade_level.as_ref().unwrap();
    assert_eq!((g.code.as_str(), g.original.as_str()), ("Other", "99"));
    assert_eq!((zoe.school_id.as_deref(), zoe.status.as_deref()), (Some("999999"), Some("graduated")));

    let rejects = out.rejects_of(EntityKind::Students);
    assert_eq!(rejects.len(), 1);
    let r = rejects[0];
    assert_eq!((r.file.as_str(), r.line), ("students.txt", 6));
    assert!(r.reason.contains("29 fields") && r.reason.contains("28 columns"), "{}", r.reason);
    assert!(!r.reason.contains("Main"), "no values in reasons");
    assert!(r.value.as_deref().unwrap().contains("1\t2 Main St"));
    assert_eq!(out.count(EntityKind::Students), 4);
}

#[test]
fn orgs_terms_and_enrollments() {
    let out = read(&district_config());
    let office: Org = by_id(&out, "0");
    assert_eq!(office.kind.as_ref().unwrap().code, OrgKind::District);
    let pena: Org = by_id(&out, "100");
    assert_eq!((pena.name.as_str(), pena.parent_id.as_deref()), ("Escuela Peña", Some("0")));
    assert_eq!(
        (pena.meta.alt_id("dcid"), pena.meta.alt_id("id")),
        (Some("12"), Some("2")),
        "DCID ≠ ID, both kept"
    );
    assert_eq!(pena.low_grade.as_ref().unwrap().code.as_str(), "PK");
    assert_eq!(ext(&pena, "Principal").as_deref(), Some("Dr. Ruiz"));
    let grad: Org = by_id(&out, "999999");
    assert_eq!(grad.name, "Graduated Students");
    assert!(grad.meta.origin.is_none(), "added: the export left it out");

    let s1: AcademicSession = by_id(&out, "200:3401");
    assert_eq!(s1.kind.as_ref().unwrap().code, SessionKind::Semester);
    assert_eq!((s1.start_date, s1.end_date), (d(2024, 9, 3), d(2025, 1, 24)));
    assert_eq!(
        (s1.parent_id.as_deref(), s1.org_id.as_deref(), s1.school_year),
        (Some("200:3400"), Some("200"), Some(2025))
    );
    assert_eq!(s1.meta.alt_id("dcid"), Some("703"));
    let year: AcademicSession = by_id(&out, "100:3400");
    assert_eq!(year.kind.as_ref().unwrap().code, SessionKind::SchoolYear);
    assert_eq!(year.parent_id, None);

    let current: SchoolEnrollment = by_id(&out, "current:5001");
    assert_eq!(
        (current.entry_date, current.exit_date),
        (d(2024, 9, 3), d(2025, 6, 13)),
        "ExitDate is exclusive"
    );
    let ec = current.entry_code.as_ref().unwrap();
    assert_eq!((ec.code, ec.original.as_str()), (EntryKind::NewToDistrict, "E1"));
    assert_eq!(
        (current.school_id.as_deref(), current.school_year, current.primary),
        (Some("100"), Some(2025), Some(true))
    );
    none::<SchoolEnrollment>(&out, "current:5002");
    let left: SchoolEnrollment = by_id(&out, "current:5004");
    assert_eq!(left.exit_date, d(2024, 11, 14));
    let xc = left.exit_code.as_ref().unwrap();
    assert_eq!((xc.code, xc.original.as_str()), (ExitKind::TransferOut, "TO"));
    let senior: SchoolEnrollment = by_id(&out, "801");
    assert_eq!((senior.student_id.as_deref(), senior.school_id.as_deref()), (Some("5002"), Some("200")));
    assert_eq!(
        (senior.entry_date, senior.exit_date),
        (d(2023, 9, 5), d(2024, 6, 14)),
        "M/D/YY, exclusive exit"
    );
    assert_eq!(senior.exit_code.as_ref().unwrap().code, ExitKind::Graduated);
    assert_eq!(senior.grade_level.as_ref().unwrap().code.as_str(), "12");
    assert_eq!(ext(&senior, "TRACK").as_deref(), Some("A"), "ext keys keep the file's spelling");
    assert_eq!(senior.meta.alt_id("id"), Some("1"));
    assert_eq!(out.count(EntityKind::SchoolEnrollments), 5);
}

#[test]
fn staff_courses_sections() {
    let out = read(&district_config());
    let ana: Staff = by_id(&out, "1");
    assert_eq!((ana.first_name.as_str(), ana.last_name.as_str()), ("Ana", "Ibáñez"));
    let role = ana.role.as_ref().unwrap();
    assert_eq!((role.code, role.original.as_str()), (StaffRole::Teacher, "1"));
    assert_eq!((ana.active, ana.school_id.as_deref()), (Some(true), Some("100")));
    assert_eq!((ana.staff_number.as_deref(), ana.username.as_deref()), (Some("T100"), Some("aibanez")));
    assert_eq!(ext(&ana, "SchoolStaff[100].Sched_Department").as_deref(), Some("MATH"));
    assert_eq!(
        ext(&ana, "SchoolStaff[200].Sched_Department").as_deref(),
        Some("ENG"),
        "one person, two schools"
    );
    assert_eq!(ext(&ana, "PreferredName").as_deref(), Some("Anita"));
    let bob: Staff = by_id(&out, "2");
    assert_eq!(bob.role.as_ref().unwrap().code, StaffRole::Administrator);

    let k: Course = by_id(&out, "0101");
    assert_eq!((k.title.as_str(), k.org_id.as_deref()), ("Kindergarten Math", Some("100")));
    assert_eq!(k.meta.alt_id("dcid"), Some("401"));
    let eng: Course = by_id(&out, "ENG10");
    assert_eq!(eng.title, "English 10, \"Honors\"", "quoted comma file");
    assert_eq!(eng.credit_hours, dec("1"));
    assert_eq!(ext(&eng, "SCHED_DEPARTMENT").as_deref(), Some("ENG"));

    let s: Section = by_id(&out, "9301");
    assert_eq!((s.course_id.as_deref(), s.school_id.as_deref()), (Some("0101"), Some("100")));
    assert_eq!(s.session_ids, ["100:3400"]);
    assert_eq!(
        (s.period.as_deref(), s.room.as_deref(), s.section_number.as_deref()),
        (Some("1(A)"), Some("R1"), Some("1"))
    );
    assert_eq!(s.meta.alt_id("id"), Some("301"));
    let rej = out.rejects_of(EntityKind::Sections);
    assert_eq!(rej.len(), 1);
    assert_eq!(
        (rej[0].file.as_str(), rej[0].line, rej[0].field.as_str()),
        ("sections.txt", 3, "Course_Number")
    );
    assert!(rej[0].reason.contains("not in the Courses export"));
    assert_eq!(rej[0].value.as_deref(), Some("ZZ9"));
    let lead: SectionStaff = by_id(&out, "9302:1");
    assert_eq!((lead.section_id.as_deref(), lead.staff_id.as_deref()), (Some("9302"), Some("1")));
    assert_eq!(lead.meta.table.as_deref(), Some("Sections"));
    assert_eq!(lead.meta.row_hash, s302_hash(&out));
    assert_eq!(out.count(EntityKind::SectionStaff), 3);
}

/// The row hash of section 9302's row (sections.txt line 2).
fn s302_hash(out: &SourceOutput) -> Option<[u8; 16]> {
    let s: Section = by_id(out, "9302");
    assert_eq!(s.meta.table.as_deref(), Some("Sections"));
    assert!(s.meta.row_hash.is_some());
    s.meta.row_hash
}

#[test]
fn schedules_grades_attendance() {
    let out = read(&district_config());
    let active: SectionEnrollment = by_id(&out, "601");
    let st = active.status.as_ref().unwrap();
    assert_eq!((st.code, st.original.as_str()), (SectionEnrollmentStatus::Active, "301"));
    assert_eq!(
        (active.entry_date, active.exit_date),
        (d(2024, 9, 3), d(2025, 6, 13)),
        "ISO dates, exclusive DateLeft"
    );
    assert_eq!(active.meta.table.as_deref(), Some("CC"));
    let cc_row = active.meta.origin.as_ref().unwrap().raw.as_deref().unwrap();
    assert_eq!(active.meta.row_hash, Some(ferry_sdk::row_hash(cc_row.split('\t'))));
    let dropped: SectionEnrollment = by_id(&out, "602");
    let st = dropped.status.as_ref().unwrap();
    assert_eq!((st.code, st.original.as_str()), (SectionEnrollmentStatus::Dropped, "-302"));
    assert_eq!(dropped.section_id.as_deref(), Some("9302"), "joined through abs(SectionID)");
    assert_eq!(dropped.exit_date, d(2024, 11, 14));
    assert_eq!(ext(&dropped, "TermID").as_deref(), Some("-3401"));
    let past: SectionEnrollment = by_id(&out, "603");
    assert_eq!(past.status.as_ref().unwrap().code, SectionEnrollmentStatus::Completed, "an earlier year");
    let ended: SectionEnrollment = by_id(&out, "604");
    assert_eq!(
        ended.status.as_ref().unwrap().code,
        SectionEnrollmentStatus::Completed,
        "negative, ran to the term's end"
    );
    let rej = out.rejects_of(EntityKind::SectionEnrollments);
    assert_eq!(rej.len(), 1);
    assert_eq!((rej[0].line, rej[0].field.as_str(), rej[0].value.as_deref()), (6, "StudentID", Some("999")));

    let a: Grade = by_id(&out, "901");
    assert_eq!(a.kind.as_ref().unwrap().code, GradeKind::Transcript);
    assert_eq!((a.letter_grade.as_deref(), a.percent, a.gpa_points), (Some("A-"), dec("91.5"), dec("3.7")));
    assert_eq!(
        (a.section_id.as_deref(), a.course_id.as_deref(), a.session_id.as_deref()),
        (Some("9304"), Some("ENG10"), Some("200:3300"))
    );
    assert_eq!(
        (a.school_year, a.exclude_from_gpa, a.comment.as_deref()),
        (Some(2024), Some(false), Some("Great year"))
    );
    let transfer: Grade = by_id(&out, "902");
    assert_eq!(
        (transfer.school_id.as_deref(), transfer.school_name.as_deref()),
        (None, Some("Springfield Academy"))
    );
    assert_eq!(
        ext(&transfer, "SchoolID").as_deref(),
        Some("777"),
        "a school outside the district stays in ext"
    );
    assert_eq!((transfer.section_id.as_deref(), transfer.session_id.as_deref()), (None, None));
    assert_eq!((transfer.course_id.as_deref(), transfer.course_number.as_deref()), (None, Some("ALG1")));
    assert_eq!(ext(&transfer, "TermID").as_deref(), Some("3200"));
    let dash: Grade = by_id(&out, "903");
    assert_eq!((dash.letter_grade.as_deref(), dash.percent), (None, None), "-- is no grade");
    assert_eq!((dash.exclude_from_gpa, dash.credits_attempted), (Some(true), dec("0.5")));
    let q1: Grade = by_id(&out, "pg:951");
    let k = q1.kind.as_ref().unwrap();
    assert_eq!((k.code, k.original.as_str()), (GradeKind::Term, "Q1"));
    assert_eq!((q1.letter_grade.as_deref(), q1.percent), (None, None));
    assert_eq!(
        (q1.section_id.as_deref(), q1.session_id.as_deref(), q1.school_year),
        (Some("9301"), Some("100:3400"), Some(2025))
    );
    assert_eq!(ext(&q1, "STARTDATE").as_deref(), Some("09/03/2024"));
    let y1: Grade = by_id(&out, "pg:952");
    assert_eq!(
        (y1.kind.as_ref().unwrap().code, y1.letter_grade.as_deref(), y1.percent),
        (GradeKind::Final, Some("B+"), dec("88"))
    );

    let absent: AttendanceEvent = by_id(&out, "20001");
    let c = absent.category.as_ref().unwrap();
    assert_eq!((c.code, c.original.as_str()), (AttendanceCategory::Absent, "A"));
    assert_eq!(
        (absent.date, absent.school_id.as_deref(), absent.section_id.as_deref()),
        (d(2024, 10, 1), Some("100"), None)
    );
    assert_eq!((absent.comment.as_deref(), absent.minutes), (Some("Sick"), Some(0)));
    assert_eq!(absent.meta.alt_id("id"), Some("10001"));
    let activity: AttendanceEvent = by_id(&out, "20002");
    let c = activity.category.as_ref().unwrap();
    assert_eq!(
        (c.code, c.original.as_str()),
        (AttendanceCategory::Present, "A"),
        "code 7 is another code in school 200"
    );
    assert_eq!((activity.section_id.as_deref(), activity.period.as_deref()), (Some("9302"), Some("P3")));
    let tardy: AttendanceEvent = by_id(&out, "20003");
    assert_eq!(tardy.category.as_ref().unwrap().code, AttendanceCategory::Tardy);
}

#[test]
fn person_model_contacts_and_demographics() {
    let out = read(&district_config());
    let maria: Contact = by_id(&out, "4041");
    assert_eq!((maria.first_name.as_str(), maria.last_name.as_str()), ("María", "Núñez"));
    assert_eq!(maria.email.as_deref(), Some("maria@example.com"));
    assert_eq!(
        (maria.phone_mobile.as_deref(), maria.phone_home.as_deref()),
        (Some("(973) 555-1111"), Some("9735552222 x12"))
    );
    assert_eq!(maria.address.as_deref(), Some("12 Oak St #2B"));
    assert_eq!(
        (maria.city.as_deref(), maria.region.as_deref(), maria.postal_code.as_deref()),
        (Some("Springfield"), Some("NJ"), Some("07081"))
    );
    assert_eq!(ext(&maria, "Employer").as_deref(), Some("Café Olé"));
    assert_eq!(maria.meta.alt_id("id"), Some("41"));

    let mother: StudentContact = by_id(&out, "71");
    assert_eq!((mother.student_id.as_deref(), mother.contact_id.as_deref()), (Some("5001"), Some("4041")));
    let r = mother.relationship.as_ref().unwrap();
    assert_eq!((r.code, r.original.as_str()), (Relationship::Mother, "Mother"));
    assert_eq!(
        (mother.custodial, mother.emergency, mother.lives_with, mother.receives_mail),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(mother.priority, Some(1));
    assert_eq!(mother.school_pickup, Some(true), "a field since model 2.2, no longer an extension");
    assert_eq!(ext(&mother, "StudentContactDetail.SchoolPickupFlg"), None);
    let gran: StudentContact = by_id(&out, "72");
    assert_eq!(gran.relationship.as_ref().unwrap().code, Relationship::Grandparent);
    assert_eq!(gran.custodial, Some(false));
    let rej = out.rejects_of(EntityKind::StudentContacts);
    assert_eq!(rej.len(), 1);
    assert_eq!(
        (rej[0].file.as_str(), rej[0].line, rej[0].field.as_str()),
        ("studentcontactassoc.txt", 4, "StudentDCID")
    );
    none::<Contact>(&out, "5001:mother");

    let dj: Demographics = by_id(&out, "5001");
    assert_eq!(dj.person_id.as_deref(), Some("5001"));
    assert_eq!(
        (dj.hispanic_or_latino, dj.white, dj.asian, dj.two_or_more_races),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(dj.black_or_african_american, Some(false));
    let da: Demographics = by_id(&out, "5004");
    assert_eq!(
        (da.hispanic_or_latino, da.black_or_african_american, da.two_or_more_races),
        (Some(false), Some(true), Some(false))
    );
    none::<Demographics>(&out, "5003");
}

#[test]
fn every_row_is_accounted_for() {
    for s in stats(&district_config()) {
        assert_eq!(s.rows, s.records + s.rejected + s.folded, "{s:?}");
        assert!(s.rows > 0, "{s:?}");
        let expect_rejected = match s.file.as_str() {
            "students.txt" | "sections.txt" | "cc.txt" | "studentcontactassoc.txt" => 1,
            _ => 0,
        };
        assert_eq!(s.rejected, expect_rejected, "{s:?}");
        match s.file.as_str() {
            "students.txt" => assert_eq!((s.rows, s.records, s.encoding.as_str()), (5, 4, "UTF-8")),
            "cc.txt" => assert_eq!((s.rows, s.records), (5, 4)),
            "attendance_code.txt" => assert_eq!(
                (s.rows, s.records, s.folded, s.entity.as_str()),
                (5, 4, 1, "code_values"),
                "the blank present code is only folded into the lookup"
            ),
            "gen.txt" => assert_eq!((s.rows, s.records, s.entity.as_str()), (5, 5, "code_values")),
            "schoolstaff.txt" => {
                assert_eq!((s.rows, s.records, s.entity.as_str()), (3, 3, "staff_assignments"))
            }
            _ => {}
        }
    }
}

fn legacy_config() -> serde_json::Value {
    json!({ "directory": data("legacy") })
}

#[test]
fn windows_1252_legacy_contacts_and_teachers_view() {
    let out = read(&legacy_config());
    let skola: Org = by_id(&out, "200");
    assert_eq!(skola.name, "Škola Žofie", "Windows-1252 bytes 0x8A and 0x8E");
    let f: Student = by_id(&out, "70");
    assert_eq!(
        (f.first_name.as_str(), f.last_name.as_str(), f.student_number.as_deref()),
        ("François", "Lefèvre", Some("0042"))
    );
    assert_eq!(f.birth_date, d(2012, 12, 31));
    let a: Student = by_id(&out, "80");
    assert_eq!((a.first_name.as_str(), a.last_name.as_str(), a.birth_date), ("Åsa", "Björk", d(2013, 1, 2)));
    assert_eq!(ext(&f, "Mother"), None, "mapped, not kept, when legacy contacts are read");

    let mother: Contact = by_id(&out, "70:mother");
    assert_eq!((mother.first_name.as_str(), mother.last_name.as_str()), ("Hélène", "Lefèvre"));
    assert_eq!(
        (mother.email.as_deref(), mother.phone_work.as_deref()),
        (Some("famille@example.com"), Some("(973) 555-3000"))
    );
    let father: Contact = by_id(&out, "70:father");
    assert_eq!(
        (father.first_name.as_str(), father.last_name.as_str(), father.email.as_deref()),
        ("Marc", "Lefèvre", None)
    );
    let emerg: Contact = by_id(&out, "70:emerg1");
    assert_eq!(
        (emerg.first_name.as_str(), emerg.last_name.as_str(), emerg.phone_home.as_deref()),
        ("Žofie", "Dvorák", Some("(973) 555-3001"))
    );
    let link: StudentContact = by_id(&out, "70:emerg1");
    assert_eq!((link.student_id.as_deref(), link.contact_id.as_deref()), (Some("70"), Some("70:emerg1")));
    let r = link.relationship.as_ref().unwrap();
    assert_eq!(
        (r.code, r.original.as_str(), link.emergency, link.priority),
        (Relationship::Grandparent, "Grandmother", Some(true), Some(3))
    );
    let m: StudentContact = by_id(&out, "70:mother");
    assert_eq!((m.relationship.as_ref().unwrap().code, m.priority), (Relationship::Mother, Some(1)));
    assert_eq!(out.count(EntityKind::Contacts), 3);

    let j: Staff = by_id(&out, "5");
    assert_eq!((j.first_name.as_str(), j.last_name.as_str(), j.active), ("Jürgen", "Müller", Some(true)));
    assert_eq!(j.role.as_ref().unwrap().code, StaffRole::Teacher);
    assert_eq!(ext(&j, "Teachers[200].ID").as_deref(), Some("22"));
    assert_eq!(ext(&j, "Teachers[100].DCID").as_deref(), Some("121"));
    let s: Staff = by_id(&out, "6");
    assert_eq!((s.last_name.as_str(), s.active), ("Ó Briain", Some(false)));
    assert_eq!(out.count(EntityKind::Staff), 2, "a teacher at two schools is one staff member");
    let at_200: SectionStaff = by_id(&out, "11:5");
    let at_100: SectionStaff = by_id(&out, "12:5");
    assert_eq!((at_200.staff_id.as_deref(), at_100.staff_id.as_deref()), (Some("5"), Some("5")));
    // Each Teachers row is the person's assignment to its school.
    let a: StaffAssignment = by_id(&out, "122");
    assert_eq!((a.staff_id.as_deref(), a.school_id.as_deref()), (Some("5"), Some("200")));
    assert_eq!(a.role.as_ref().map(|r| r.code), Some(StaffRole::Teacher));
    assert_eq!(out.count(EntityKind::StaffAssignments), 3, "one per Teachers row");

    for st in stats(&legacy_config()) {
        assert_eq!(st.rows, st.records + st.rejected + st.folded, "{st:?}");
        assert_eq!(st.rejected, 0, "{st:?}");
        if st.file == "teachers.txt" {
            assert_eq!((st.records, st.folded), (2, 1), "the second row of a person is merged");
        }
        if st.file == "students.txt" || st.file == "schools.txt" {
            assert_eq!(st.encoding, "windows-1252");
        }
    }
}

#[test]
fn configured_encoding_table_and_codes_win() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["schools.txt", "terms.txt", "students.txt"] {
        std::fs::copy(data("legacy").join(f), dir.path().join(f)).unwrap();
    }
    // A name that says nothing, bare headers: the table comes from the configuration.
    std::fs::rename(dir.path().join("students.txt"), dir.path().join("export_0412.dat")).unwrap();
    let cfg = json!({
        "directory": dir.path(),
        "dialect": { "encoding": "windows-1252" },
        "files": { "export_0412.dat": { "table": "Students" } },
        "legacy_contacts": "never",
        "keep_raw_rows": false,
    });
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 100).unwrap();
    let f: Student = by_id(&out, "70");
    assert_eq!(f.first_name, "François");
    assert_eq!(f.meta.origin.as_ref().unwrap().file, "export_0412.dat");
    assert_eq!(f.meta.origin.as_ref().unwrap().raw, None);
    assert_eq!(
        ext(&f, "Mother").as_deref(),
        Some("Lefèvre, Hélène"),
        "legacy_contacts = never keeps the fields"
    );
    assert_eq!(out.count(EntityKind::Contacts), 0);

    let bad = json!({ "directory": dir.path(), "files": { "export_0412.dat": { "table": "Pupils" } } });
    let e = testkit::run_source::<PowerSchoolPlugin>(&bad, dir.path(), 100).unwrap_err();
    assert!(e.message.contains("unknown table") && e.message.contains("Students"), "{e}");
    let bad = json!({ "directory": dir.path(), "attendance_codes": { "X": "gone" } });
    let e = testkit::run_source::<PowerSchoolPlugin>(&bad, dir.path(), 100).unwrap_err();
    assert!(e.message.contains("attendance_codes") && e.message.contains("excusedAbsence"), "{e}");
    let _ = CodeSet::as_str(Sex::Male);
}
