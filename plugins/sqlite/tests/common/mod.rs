//! Shared fixtures: a small district with every entity, built in code with the
//! awkward values real exports have (accents, leading zeros, codes the model
//! does not know, extensions, alternative ids, raw rows), and helpers to run
//! the plugin through the SDK's test kit.
#![allow(dead_code, reason = "each test binary uses a different part")]
#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::model::source_table::{ColumnType, SourceTableBuilder};
use ferry_sdk::model::*;
use ferry_sdk::serde_json::{Value as Json, json};
use ferry_sdk::testkit::{self, SourceOutput};

pub fn d(y: i32, m: u32, day: u32) -> Option<Date> {
    Some(Date::new(y, m, day).unwrap())
}

pub fn meta(id: &str, file: &str, line: u64, raw: &str) -> Meta {
    let mut m = Meta::new("powerschool", id);
    m.origin = Some(Origin { file: file.into(), line, raw: Some(raw.into()) });
    m
}

pub fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::parse(s).unwrap())
}

/// Appends records of one entity as one batch.
pub fn batch<R: Record>(out: &mut SourceOutput, recs: &[R]) {
    out.push(recs).unwrap();
}

#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub orgs: Vec<Org>,
    pub sessions: Vec<AcademicSession>,
    pub students: Vec<Student>,
    pub staff: Vec<Staff>,
    pub contacts: Vec<Contact>,
    pub links: Vec<StudentContact>,
    pub demographics: Vec<Demographics>,
    pub courses: Vec<Course>,
    pub sections: Vec<Section>,
    pub section_staff: Vec<SectionStaff>,
    pub enrollments: Vec<SchoolEnrollment>,
    pub section_enrollments: Vec<SectionEnrollment>,
    pub grades: Vec<Grade>,
    pub attendance: Vec<AttendanceEvent>,
}

pub fn sample() -> Sample {
    let mut district = Org {
        meta: Meta::new("powerschool", "1"),
        kind: Some(Code::mapped(OrgKind::District, "District")),
        name: "Distrito Escolar de Peñasco".into(),
        identifier: Some("0001".into()),
        ..Org::default()
    };
    district.meta.alt_ids.push(AltId {
        kind: "nces".into(),
        value: "0612345".into(),
        assigner: Some("NCES".into()),
    });
    let mut school = Org {
        meta: meta("100", "schools.csv", 2, "100,0042,École Élémentaire Saint-Zoë,K,05"),
        kind: Some(Code::mapped(OrgKind::School, "school")),
        name: "École Élémentaire Saint-Zoë".into(),
        identifier: Some("0042".into()),
        parent_id: Some("1".into()),
        low_grade: Some(Code::normalize("K")),
        high_grade: Some(Code::normalize("05")),
        phone: Some("(555) 010-0042".into()),
        ..Org::default()
    };
    school.meta.ext.insert("Alternate_School_Number", "042");
    school.meta.table = Some("Schools".into());
    school.meta.row_hash =
        Some(ferry_sdk::row_hash(["100", "0042", "École Élémentaire Saint-Zoë", "K", "05"]));

    let year = AcademicSession {
        meta: meta("Y2025", "terms.csv", 2, "Y2025,2024-2025,schoolYear"),
        kind: Some(Code::normalize("year")),
        title: "2024-2025".into(),
        code: Some("Y1".into()),
        start_date: d(2024, 8, 19),
        end_date: d(2025, 6, 6),
        school_year: Some(2025),
        org_id: Some("100".into()),
        ..AcademicSession::default()
    };

    let mut jose = Student {
        meta: meta("1001", "students.csv", 2, "1001,000123,José,Núñez,2011-02-03,M,K,\"Locker, 17\""),
        student_number: Some("000123".into()),
        state_id: Some("0098765432".into()),
        first_name: "José".into(),
        middle_name: Some(String::new()),
        last_name: "Núñez".into(),
        birth_date: d(2011, 2, 3),
        sex: Some(Code::normalize("M")),
        grade_level: Some(Code::normalize("K")),
        school_id: Some("100".into()),
        status: Some("active".into()),
        email: Some("jose.nunez@example.org".into()),
        ..Student::default()
    };
    jose.meta.set_alt_id("state", "0098765432");
    jose.meta.set_alt_id("dcid", "77");
    jose.meta.ext.insert("U_Locker", "Locker, 17");
    jose.meta.ext.insert("Allergy \"notes\"", "peanuts\nand shellfish");
    jose.meta.ext.insert("Ümlaut_Feld", "ja");
    jose.meta.table = Some("Students".into());
    jose.meta.modified_at = Some(Timestamp::parse_iso("2025-05-30T14:03:09.25Z").unwrap());
    let mut zoe = Student {
        meta: meta("1002", "students.csv", 3, "1002,000124,Zoë,O'Brien-Łukasz,2010-12-31,X,3"),
        student_number: Some("000124".into()),
        first_name: "Zoë".into(),
        last_name: "O'Brien-Łukasz".into(),
        preferred_name: Some("Zo".into()),
        birth_date: d(2010, 12, 31),
        sex: Some(Code::normalize("Woman")),
        grade_level: Some(Code::normalize("3")),
        school_id: Some("100".into()),
        ..Student::default()
    };
    // Personal data the model has no slot for.
    zoe.meta.ext.insert_pii("Nickname", "Zozo");

    let teacher = Staff {
        meta: meta("T7", "teachers.csv", 2, "T7,007,Ana,Ortíz,teacher"),
        staff_number: Some("007".into()),
        first_name: "Ana".into(),
        last_name: "Ortíz".into(),
        role: Some(Code::normalize("teacher")),
        school_id: Some("100".into()),
        active: Some(true),
        ..Staff::default()
    };
    let mother = Contact {
        meta: meta("C1", "contacts.csv", 2, "C1,María,Núñez"),
        first_name: "María".into(),
        last_name: "Núñez".into(),
        phone_mobile: Some("+1 555 0100".into()),
        ..Contact::default()
    };
    let link = StudentContact {
        meta: Meta::new("powerschool", "SC1"),
        student_id: Some("1001".into()),
        contact_id: Some("C1".into()),
        relationship: Some(Code::normalize("Mom")),
        custodial: Some(true),
        emergency: Some(false),
        lives_with: Some(true),
        priority: Some(1),
        ..StudentContact::default()
    };
    let demo = Demographics {
        meta: Meta::new("powerschool", "D1001"),
        person_id: Some("1001".into()),
        hispanic_or_latino: Some(true),
        white: Some(false),
        birth_country: Some("México".into()),
        home_language: Some("Español".into()),
        ..Demographics::default()
    };
    let course = Course {
        meta: meta("CRS-0101", "courses.csv", 2, "0101,Matemáticas 3,1.0"),
        course_number: Some("0101".into()),
        title: "Matemáticas 3".into(),
        org_id: Some("100".into()),
        credit_hours: dec("0.5"),
        grade_levels: vec!["03".into(), "K".into()],
        ..Course::default()
    };
    let section = Section {
        meta: meta("S-1", "sections.csv", 2, "S-1,0101,1(A)"),
        section_number: Some("01".into()),
        course_id: Some("CRS-0101".into()),
        school_id: Some("100".into()),
        session_ids: vec!["Y2025".into()],
        period: Some("1(A)".into()),
        max_enrollment: Some(28),
        ..Section::default()
    };
    let sstaff = SectionStaff {
        meta: Meta::new("powerschool", "SS-1"),
        section_id: Some("S-1".into()),
        staff_id: Some("T7".into()),
        role: Some(Code::normalize("primary")),
        start_date: d(2024, 8, 19),
        end_date: d(2025, 6, 6),
    };
    let enrollments = vec![
        SchoolEnrollment {
            meta: meta("E1", "enrollments.csv", 2, "E1,1001,100,2024-08-19,,NEW"),
            student_id: Some("1001".into()),
            school_id: Some("100".into()),
            school_year: Some(2025),
            entry_date: d(2024, 8, 19),
            entry_code: Some(Code::mapped(EntryKind::NewToDistrict, "NEW")),
            grade_level: Some(Code::normalize("K")),
            primary: Some(true),
            ..SchoolEnrollment::default()
        },
        SchoolEnrollment {
            meta: meta("E2", "enrollments.csv", 3, "E2,1002,100,2024-08-19,2025-03-14,TR"),
            student_id: Some("1002".into()),
            school_id: Some("100".into()),
            school_year: Some(2025),
            entry_date: d(2024, 8, 19),
            exit_date: d(2025, 3, 14),
            exit_code: Some(Code::mapped(ExitKind::TransferOut, "TR")),
            exit_comment: Some("Moved to Québec".into()),
            grade_level: Some(Code::normalize("3")),
            primary: Some(true),
            ..SchoolEnrollment::default()
        },
    ];
    let sec_enr = SectionEnrollment {
        meta: Meta::new("powerschool", "CC-1"),
        student_id: Some("1001".into()),
        section_id: Some("S-1".into()),
        entry_date: d(2024, 8, 19),
        exit_date: d(2024, 8, 18),
        status: Some(Code::normalize("enrolled")),
    };
    let mut grade = Grade {
        meta: meta("G1", "storedgrades.csv", 2, "G1,1001,0101,A-,93.5"),
        student_id: Some("1001".into()),
        kind: Some(Code::normalize("stored")),
        course_id: Some("CRS-0101".into()),
        course_number: Some("0101".into()),
        course_title: Some("Matemáticas 3".into()),
        school_id: Some("100".into()),
        school_year: Some(2025),
        store_code: Some("Y1".into()),
        letter_grade: Some("A-".into()),
        percent: dec("93.5"),
        credits_attempted: dec("0.5"),
        credits_earned: dec("-0.0"),
        gpa_points: dec("3.7"),
        exclude_from_gpa: Some(false),
        comment: Some("Très bien".into()),
        ..Grade::default()
    };
    grade.meta.locator = Some("https://sis.example.org/ws/v1/grades/G1".into());
    let mut attendance = Vec::new();
    for (i, (day, code)) in
        [((2024, 9, 3), "A"), ((2024, 10, 1), "T"), ((2025, 1, 7), "Q"), ((2023, 11, 2), "E")]
            .into_iter()
            .enumerate()
    {
        let line = u64::try_from(i + 2).unwrap();
        let mut m = meta(&format!("ATT-{}", i + 1), "attendance.csv", line, &format!("{i},1001,{code}"));
        m.table = Some("Attendance".into());
        attendance.push(AttendanceEvent {
            meta: m,
            student_id: Some("1001".into()),
            date: d(day.0, day.1, day.2),
            category: Some(Code::normalize(code)),
            school_id: Some("100".into()),
            period: (i % 2 == 0).then(|| "1(A)".to_owned()),
            minutes: (code == "T").then_some(12),
            ..AttendanceEvent::default()
        });
    }
    // An orphan: the student was rejected by the source, their absence is kept.
    attendance.push(AttendanceEvent {
        meta: meta("ATT-9", "attendance.csv", 9, "9,9999,A"),
        student_id: Some("9999".into()),
        date: d(2024, 9, 3),
        category: Some(Code::normalize("A")),
        school_id: Some("100".into()),
        ..AttendanceEvent::default()
    });
    Sample {
        orgs: vec![district, school],
        sessions: vec![year],
        students: vec![jose, zoe],
        staff: vec![teacher],
        contacts: vec![mother],
        links: vec![link],
        demographics: vec![demo],
        courses: vec![course],
        sections: vec![section],
        section_staff: vec![sstaff],
        enrollments,
        section_enrollments: vec![sec_enr],
        grades: vec![grade],
        attendance,
    }
}

impl Sample {
    pub fn output(&self) -> SourceOutput {
        let mut o = SourceOutput::default();
        batch(&mut o, &self.orgs);
        batch(&mut o, &self.sessions);
        batch(&mut o, &self.students);
        batch(&mut o, &self.staff);
        batch(&mut o, &self.contacts);
        batch(&mut o, &self.links);
        batch(&mut o, &self.demographics);
        batch(&mut o, &self.courses);
        batch(&mut o, &self.sections);
        batch(&mut o, &self.section_staff);
        batch(&mut o, &self.enrollments);
        batch(&mut o, &self.section_enrollments);
        batch(&mut o, &self.grades);
        batch(&mut o, &self.attendance);
        // The source table the attendance came from, as it came.
        let cols =
            [("ID", ColumnType::Integer), ("StudentID", ColumnType::Integer), ("Att_Code", ColumnType::Text)]
                .map(|(n, t)| (n.to_owned(), t));
        let mut t = SourceTableBuilder::new("Attendance", "attendance.csv", &cols, &[]).unwrap();
        for o in self.attendance.iter().filter_map(|a| a.meta.origin.as_ref()) {
            t.start_row(o.line);
            for (c, v) in o.raw.as_deref().unwrap_or_default().split(',').enumerate() {
                t.push(c, v, |_| None);
            }
        }
        o.tables.push(("Attendance".into(), t.finish().unwrap()));
        o
    }

    pub fn total(&self) -> u64 {
        self.output().batches.iter().map(|b| b.1.num_rows() as u64).sum()
    }

    /// Asserts that `got` holds exactly these records, in order.
    pub fn assert_same(&self, got: &SourceOutput) {
        assert!(got.rejects.is_empty(), "{:?}", got.rejects);
        assert_eq!(got.records::<Org>().unwrap(), self.orgs);
        assert_eq!(got.records::<AcademicSession>().unwrap(), self.sessions);
        assert_eq!(got.records::<Student>().unwrap(), self.students);
        assert_eq!(got.records::<Staff>().unwrap(), self.staff);
        assert_eq!(got.records::<Contact>().unwrap(), self.contacts);
        assert_eq!(got.records::<StudentContact>().unwrap(), self.links);
        assert_eq!(got.records::<Demographics>().unwrap(), self.demographics);
        assert_eq!(got.records::<Course>().unwrap(), self.courses);
        assert_eq!(got.records::<Section>().unwrap(), self.sections);
        assert_eq!(got.records::<SectionStaff>().unwrap(), self.section_staff);
        assert_eq!(got.records::<SchoolEnrollment>().unwrap(), self.enrollments);
        assert_eq!(got.records::<SectionEnrollment>().unwrap(), self.section_enrollments);
        assert_eq!(got.records::<Grade>().unwrap(), self.grades);
        assert_eq!(got.records::<AttendanceEvent>().unwrap(), self.attendance);
    }
}

pub fn cfg(path: &Path) -> Json {
    json!({ "path": path.to_str().unwrap() })
}

/// Writes `input` to the archive at `path` through the test kit.
pub fn write(path: &Path, input: &SourceOutput) -> (u64, Vec<ferry_sdk::Reject>) {
    testkit::run_sink::<SqlitePlugin>(&cfg(path), path.parent().unwrap(), input).unwrap()
}

/// Reads the whole archive back through the test kit.
pub fn read(path: &Path) -> SourceOutput {
    testkit::run_source::<SqlitePlugin>(&cfg(path), path.parent().unwrap(), 1000).unwrap()
}

/// Files in `dir`, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Rows in an entity table.
pub fn count(path: &Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

pub fn archive_in(dir: &Path) -> PathBuf {
    dir.join("district.sqlite")
}

/// `n` attendance events with ids `<prefix>-<i>`, spread over students, days
/// and categories, with an extension and a raw row each.
pub fn many_attendance(prefix: &str, n: usize) -> Vec<AttendanceEvent> {
    const CODES: [&str; 5] = ["A", "T", "E", "U", "Q"];
    let start = Date::new(2024, 8, 19).unwrap();
    (0..n)
        .map(|i| {
            let student = format!("{}", 100_000 + i % 1_000);
            let code = CODES[i % CODES.len()];
            let date = start.add_days(i64::try_from(i / 1_000 % 180).unwrap()).unwrap();
            let mut m = meta(
                &format!("{prefix}-{i}"),
                "attendance.csv",
                u64::try_from(i + 2).unwrap(),
                &format!("{prefix}-{i},{student},{date},{code},Period 1"),
            );
            m.ext.insert("Att_Mode_Code", "ATT_ModeMeeting");
            AttendanceEvent {
                meta: m,
                student_id: Some(student),
                date: Some(date),
                category: Some(Code::normalize(code)),
                school_id: Some("100".into()),
                period: Some("1(A)".into()),
                minutes: (code == "T").then_some(10),
                ..AttendanceEvent::default()
            }
        })
        .collect()
}
