//! [`PowerSchoolSink`]: canonical records → the tab-delimited files
//! PowerSchool's import tools take (PowerSchool field names, MM/DD/YYYY
//! dates, exclusive exit dates), plus reference files for what cannot be
//! imported and an `IMPORT-GUIDE.md` saying what to import in which order.
//!
//! Rows refer to each other by the numbers PowerSchool matches on
//! (Student_Number, TeacherNumber, Course_Number + Section_Number + TermID,
//! School_Number), since PowerSchool assigns its own IDs on import. Files
//! are written into a temporary folder and moved into place on commit.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::PathBuf;

use ferry_sdk::model::{
    AcademicSession, AttendanceCategory, AttendanceEvent, Code, CodeSet, Contact, Course, Date, Demographics,
    EntityKind, EntryKind, ExitKind, Grade, GradeKind, Org, Record, SchoolEnrollment, Section,
    SectionEnrollment, SectionEnrollmentStatus, SectionStaff, SessionKind, Staff, Student, StudentContact,
};
use ferry_sdk::text::{
    DateFormat, Delimiter, Encoding, LineEnding, QuoteStyle, Row, TextWriter, WriteOptions,
};
use ferry_sdk::{Committed, Error, OpenContext, RecordBatch, Reject, RunSummary, Sink, Written, tracing};

use crate::codes;
use crate::config::SinkConfig;
use crate::values::{self, NO_GRADE, inclusive_end_to_exclusive};

/// Every file the sink writes: name, columns, and whether PowerSchool can
/// import it (else it is a reference file).
pub(crate) const FILES: &[(&str, &[&str], bool)] = &[
    (
        "schools.txt",
        &[
            "School_Number",
            "Name",
            "Low_Grade",
            "High_Grade",
            "SchoolAddress",
            "SchoolCity",
            "SchoolState",
            "SchoolZip",
            "SchoolPhone",
        ],
        false,
    ),
    (
        "terms.txt",
        &["ID", "SchoolID", "YearID", "Name", "Abbreviation", "FirstDay", "LastDay", "IsYearRec", "Portion"],
        false,
    ),
    (
        "students.txt",
        &[
            "Student_Number",
            "State_StudentNumber",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "PreferredName",
            "DOB",
            "Gender",
            "Grade_Level",
            "SchoolID",
            "Enroll_Status",
            "EntryDate",
            "ExitDate",
            "EntryCode",
            "ExitCode",
            "ExitComment",
            "Street",
            "City",
            "State",
            "Zip",
            "Home_Phone",
            "Student_Web_ID",
            "FedEthnicity",
        ],
        true,
    ),
    (
        "reenrollments.txt",
        &[
            "Student_Number",
            "SchoolID",
            "Grade_Level",
            "EntryDate",
            "ExitDate",
            "EntryCode",
            "ExitCode",
            "ExitComment",
        ],
        true,
    ),
    ("studentrace.txt", &["Student_Number", "RaceCD"], true),
    (
        "teachers.txt",
        &[
            "TeacherNumber",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "SchoolID",
            "HomeSchoolID",
            "Email_Addr",
            "Status",
            "StaffStatus",
            "Title",
            "TeacherLoginID",
            "SIF_StatePrID",
            "Home_Phone",
        ],
        true,
    ),
    ("courses.txt", &["Course_Number", "Course_Name", "Credit_Hours", "CreditType", "SchoolID"], true),
    (
        "sections.txt",
        &[
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "TeacherNumber",
            "Room",
            "Expression",
            "MaxEnrollment",
        ],
        true,
    ),
    (
        "cc.txt",
        &[
            "Student_Number",
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "DateEnrolled",
            "DateLeft",
        ],
        true,
    ),
    (
        "storedgrades.txt",
        &[
            "Student_Number",
            "SchoolID",
            "SchoolName",
            "Course_Number",
            "Course_Name",
            "TermID",
            "StoreCode",
            "Grade",
            "Percent",
            "GPA_Points",
            "EarnedCrHrs",
            "PotentialCrHrs",
            "Grade_Level",
            "ExcludeFromGPA",
            "Comment_Value",
        ],
        true,
    ),
    (
        "pgfinalgrades.txt",
        &[
            "Student_Number",
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "FinalGradeName",
            "Grade",
            "Percent",
            "Comment_Value",
        ],
        false,
    ),
    (
        "attendance.txt",
        &[
            "Student_Number",
            "SchoolID",
            "Att_Date",
            "Att_Code",
            "Att_Mode_Code",
            "Total_Minutes",
            "Att_Comment",
        ],
        true,
    ),
    (
        "attendance_meeting.txt",
        &[
            "Student_Number",
            "SchoolID",
            "Att_Date",
            "Att_Code",
            "Att_Mode_Code",
            "Course_Number",
            "Section_Number",
            "TermID",
            "Period",
            "Total_Minutes",
            "Att_Comment",
        ],
        false,
    ),
    ("attendance_code.txt", &["SchoolID", "YearID", "Att_Code", "Description", "Presence_Status_CD"], false),
    ("gen.txt", &["Cat", "Name", "Value"], false),
    (
        "contacts.txt",
        &[
            "Contact_ID",
            "Student_Number",
            "Relationship",
            "ContactPriorityOrder",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "Email",
            "Home_Phone",
            "Mobile_Phone",
            "Work_Phone",
            "Street",
            "City",
            "State",
            "Zip",
            "IsCustodial",
            "IsEmergency",
            "LivesWithFlg",
            "ReceivesMailFlg",
        ],
        true,
    ),
];

/// The guide's file name.
pub const GUIDE: &str = "IMPORT-GUIDE.md";

struct Out {
    writer: TextWriter<BufWriter<File>>,
}

#[derive(Clone, Debug)]
struct TermRef {
    school: String,
    termid: i64,
}

#[derive(Clone, Debug)]
struct SectionRef {
    school: String,
    course: String,
    number: String,
    termid: i64,
    row: Vec<String>,
    teacher: Option<String>,
}

/// The PowerSchool sink.
pub struct PowerSchoolSink {
    dir: PathBuf,
    tmp: PathBuf,
    options: WriteOptions,
    checker: TextWriter<std::io::Sink>,
    outs: HashMap<&'static str, Out>,
    dates: DateFormat,
    schools: HashMap<String, String>,
    terms: HashMap<String, TermRef>,
    term_counters: HashMap<(String, i64), i64>,
    students: Vec<Student>,
    student_numbers: HashMap<String, String>,
    hispanic: HashMap<String, bool>,
    enrollments: HashMap<String, Vec<SchoolEnrollment>>,
    staff_numbers: HashMap<String, String>,
    contacts: HashMap<String, Contact>,
    linked_contacts: HashMap<String, ()>,
    courses: HashMap<String, (String, String)>,
    sections: HashMap<String, SectionRef>,
    section_order: Vec<String>,
    att_codes: BTreeMap<(String, i64, String), AttendanceCategory>,
    entry_codes: BTreeMap<String, EntryKind>,
    exit_codes: BTreeMap<String, ExitKind>,
    student_ext: Vec<String>,
    notes: Vec<String>,
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

fn flag(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "",
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.1}") } else { x.to_string() })
        .unwrap_or_default()
}

fn is_custom_field(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    key.contains('.') && (upper.starts_with("U_") || upper.starts_with("S_"))
}

impl PowerSchoolSink {
    /// Opens the sink: checks the configuration and makes the temporary folder.
    pub fn open(ctx: &OpenContext) -> Result<PowerSchoolSink, Error> {
        let cfg: SinkConfig = ctx.config()?;
        let encoding = match cfg.encoding.as_deref() {
            None => Encoding::UTF_8,
            Some(l) => Encoding::for_label(l).map_err(|e| Error::config(format!("encoding: {e}")))?,
        };
        let line_ending = match cfg.line_ending.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("crlf") => LineEnding::Crlf,
            Some("lf") => LineEnding::Lf,
            Some(other) => return Err(Error::config(format!("line_ending: {other:?} is not crlf or lf"))),
        };
        let dir = ctx.resolve(&cfg.directory);
        fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("directory {}: cannot create it: {e}", dir.display())))?;
        let run: String =
            ctx.run_id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let tmp = dir.join(format!(".ferry-powerschool-{run}.tmp"));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)
                .map_err(|e| Error::io(format!("{}: cannot clear it: {e}", tmp.display())))?;
        }
        fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("{}: cannot create it: {e}", tmp.display())))?;
        let options = WriteOptions {
            delimiter: Delimiter::TAB,
            quoting: QuoteStyle::Never,
            line_ending,
            encoding,
            bom: false,
        };
        Ok(PowerSchoolSink {
            dir,
            tmp,
            checker: TextWriter::new(std::io::sink(), options)?,
            options,
            outs: HashMap::new(),
            dates: DateFormat::new("%m/%d/%Y").map_err(Error::internal)?,
            schools: HashMap::new(),
            terms: HashMap::new(),
            term_counters: HashMap::new(),
            students: Vec::new(),
            student_numbers: HashMap::new(),
            hispanic: HashMap::new(),
            enrollments: HashMap::new(),
            staff_numbers: HashMap::new(),
            contacts: HashMap::new(),
            linked_contacts: HashMap::new(),
            courses: HashMap::new(),
            sections: HashMap::new(),
            section_order: Vec::new(),
            att_codes: BTreeMap::new(),
            entry_codes: BTreeMap::new(),
            exit_codes: BTreeMap::new(),
            student_ext: Vec::new(),
            notes: Vec::new(),
        })
    }

    fn date(&self, d: Option<Date>) -> String {
        let mut s = String::new();
        if let Some(d) = d {
            self.dates.write(d, &mut s);
        }
        s
    }

    fn exclusive(&self, d: Option<Date>) -> String {
        self.date(d.and_then(inclusive_end_to_exclusive))
    }

    fn out(&mut self, name: &'static str, extra: &[String]) -> Result<&mut Out, Error> {
        if !self.outs.contains_key(name) {
            let cols = FILES.iter().find(|f| f.0 == name).map(|f| f.1).unwrap_or_default();
            let file = File::create(self.tmp.join(name))
                .map_err(|e| Error::io(format!("{name}: cannot create: {e}")))?;
            let mut writer = TextWriter::new(BufWriter::with_capacity(256 * 1024, file), self.options)?;
            let mut header = Row::new();
            for c in cols.iter().map(|c| (*c).to_owned()).chain(extra.iter().cloned()) {
                header.push(&c);
            }
            if let Err(r) = writer.write_row(&header)? {
                return Err(Error::config(format!("{name}: a column name cannot be written: {r}")));
            }
            self.outs.insert(name, Out { writer });
        }
        self.outs.get_mut(name).ok_or_else(|| Error::internal("output vanished"))
    }

    /// Writes one row; a reject when it cannot be represented.
    fn row(
        &mut self,
        name: &'static str,
        fields: &[String],
        meta: &ferry_sdk::model::Meta,
        entity: EntityKind,
    ) -> Result<Option<Reject>, Error> {
        let mut row = Row::new();
        for f in fields {
            row.push(f);
        }
        let out = self.out(name, &[])?;
        Ok(match out.writer.write_row(&row)? {
            Ok(()) => None,
            Err(refusal) => {
                let cols = FILES.iter().find(|f| f.0 == name).map(|f| f.1).unwrap_or_default();
                let col = cols.get(refusal.field).copied().unwrap_or_default();
                Some(
                    Reject::new(entity, format!("{name}: {}", refusal.reason))
                        .of(meta)
                        .field(col)
                        .value(fields.get(refusal.field).cloned().unwrap_or_default()),
                )
            }
        })
    }

    fn school_number(&self, org: &Option<String>) -> String {
        org.as_deref()
            .map(|o| self.schools.get(o).cloned().unwrap_or_else(|| o.to_owned()))
            .unwrap_or_default()
    }

    fn student_number(&self, id: &Option<String>) -> Option<String> {
        id.as_deref().and_then(|i| self.student_numbers.get(i)).cloned()
    }

    fn missing(entity: EntityKind, meta: &ferry_sdk::model::Meta, field: &str, what: &str) -> Reject {
        Reject::new(entity, format!("{what} was not received by this sink, so the row cannot name it"))
            .of(meta)
            .field(field)
    }

    fn org(&mut self, r: Org) -> Result<Option<Reject>, Error> {
        let number = r
            .identifier
            .clone()
            .filter(|i| values::int(i).is_some())
            .unwrap_or_else(|| r.meta.source.id.clone());
        self.schools.insert(r.meta.source.id.clone(), number.clone());
        let g = |c: &Option<Code<ferry_sdk::model::GradeLevel>>| {
            c.as_ref().map(values::grade_level_number).unwrap_or_default()
        };
        let fields = [
            number,
            r.name.clone(),
            g(&r.low_grade),
            g(&r.high_grade),
            text(&r.address).to_owned(),
            text(&r.city).to_owned(),
            text(&r.region).to_owned(),
            text(&r.postal_code).to_owned(),
            text(&r.phone).to_owned(),
        ];
        self.row("schools.txt", &fields, &r.meta, EntityKind::Orgs)
    }

    fn session(&mut self, r: AcademicSession) -> Result<Option<Reject>, Error> {
        let school = self.school_number(&r.org_id);
        let year_end = r.school_year.or_else(|| r.end_date.map(|d| i64::from(d.year())));
        let Some(year_end) = year_end else {
            return Ok(Some(
                Reject::new(EntityKind::AcademicSessions, "the session has no school year or end date")
                    .of(&r.meta),
            ));
        };
        let yearid = year_end - 1991;
        let is_year = r.kind.as_ref().is_some_and(|k| k.code == SessionKind::SchoolYear);
        let from_id =
            r.meta.source.id.rsplit_once(':').and_then(|(_, t)| values::int(t)).filter(|t| t / 100 == yearid);
        let termid = match (is_year, from_id) {
            (true, _) => yearid * 100,
            (false, Some(t)) => t,
            (false, None) => {
                let n = self.term_counters.entry((school.clone(), yearid)).or_insert(0);
                *n += 1;
                yearid * 100 + *n
            }
        };
        self.terms.insert(r.meta.source.id.clone(), TermRef { school: school.clone(), termid });
        let portion = match r.kind.as_ref().map(|k| k.code) {
            Some(SessionKind::SchoolYear) => "1".to_owned(),
            Some(SessionKind::Semester) => "2".to_owned(),
            _ => r
                .kind
                .as_ref()
                .map(|k| k.original.clone())
                .filter(|o| values::int(o).is_some())
                .unwrap_or_else(|| "4".to_owned()),
        };
        let fields = [
            termid.to_string(),
            school,
            yearid.to_string(),
            r.title.clone(),
            text(&r.code).to_owned(),
            self.date(r.start_date),
            self.date(r.end_date),
            if is_year { "1" } else { "0" }.to_owned(),
            portion,
        ];
        self.row("terms.txt", &fields, &r.meta, EntityKind::AcademicSessions)
    }

    fn student(&mut self, r: Student) -> Result<Option<Reject>, Error> {
        let number = r
            .student_number
            .clone()
            .or_else(|| r.meta.alt_id("student_number").map(str::to_owned))
            .unwrap_or_else(|| r.meta.source.id.clone());
        // Check now what can be checked, so that problems are rejects.
        let probe = [
            number.clone(),
            r.first_name.clone(),
            r.last_name.clone(),
            text(&r.middle_name).to_owned(),
            text(&r.address).to_owned(),
            text(&r.city).to_owned(),
        ];
        let mut row = Row::new();
        for p in &probe {
            row.push(p);
        }
        if let Err(refusal) = self.checker.check(&row) {
            return Ok(Some(
                Reject::new(EntityKind::Students, format!("students.txt: {}", refusal.reason))
                    .of(&r.meta)
                    .value(probe.get(refusal.field).cloned().unwrap_or_default()),
            ));
        }
        for (k, _) in r.meta.ext.iter() {
            if is_custom_field(k) && !self.student_ext.iter().any(|e| e == k) {
                self.student_ext.push(k.to_owned());
            }
        }
        self.student_numbers.insert(r.meta.source.id.clone(), number);
        self.students.push(r);
        Ok(None)
    }

    fn staff(&mut self, r: Staff) -> Result<Option<Reject>, Error> {
        let number = r.staff_number.clone().unwrap_or_else(|| r.meta.source.id.clone());
        self.staff_numbers.insert(r.meta.source.id.clone(), number.clone());
        let school = self.school_number(&r.school_id);
        let status = match r.role.as_ref() {
            Some(role) if values::int(&role.original).is_some() => role.original.trim().to_owned(),
            Some(role) => codes::staff_status_number(role.code).to_owned(),
            None => String::new(),
        };
        let fields = [
            number,
            r.first_name.clone(),
            text(&r.middle_name).to_owned(),
            r.last_name.clone(),
            school.clone(),
            school,
            text(&r.email).to_owned(),
            match r.active {
                Some(true) => "1",
                Some(false) => "2",
                None => "",
            }
            .to_owned(),
            status,
            text(&r.title).to_owned(),
            text(&r.username).to_owned(),
            text(&r.state_id).to_owned(),
            text(&r.phone).to_owned(),
        ];
        self.row("teachers.txt", &fields, &r.meta, EntityKind::Staff)
    }

    fn student_contact(&mut self, r: StudentContact) -> Result<Option<Reject>, Error> {
        let Some(number) = self.student_number(&r.student_id) else {
            return Ok(Some(Self::missing(
                EntityKind::StudentContacts,
                &r.meta,
                "student_id",
                "the student",
            )));
        };
        let Some(contact) = r.contact_id.as_deref().and_then(|c| self.contacts.get(c)).cloned() else {
            return Ok(Some(Self::missing(
                EntityKind::StudentContacts,
                &r.meta,
                "contact_id",
                "the contact",
            )));
        };
        self.linked_contacts.insert(contact.meta.source.id.clone(), ());
        let fields = [
            contact.meta.source.id.clone(),
            number,
            r.relationship.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
            r.priority.map(|p| p.to_string()).unwrap_or_default(),
            contact.first_name.clone(),
            text(&contact.middle_name).to_owned(),
            contact.last_name.clone(),
            text(&contact.email).to_owned(),
            text(&contact.phone_home).to_owned(),
            text(&contact.phone_mobile).to_owned(),
            text(&contact.phone_work).to_owned(),
            text(&contact.address).to_owned(),
            text(&contact.city).to_owned(),
            text(&contact.region).to_owned(),
            text(&contact.postal_code).to_owned(),
            flag(r.custodial).to_owned(),
            flag(r.emergency).to_owned(),
            flag(r.lives_with).to_owned(),
            flag(r.receives_mail).to_owned(),
        ];
        self.row("contacts.txt", &fields, &r.meta, EntityKind::StudentContacts)
    }

    fn demographics(&mut self, r: Demographics) -> Result<Option<Reject>, Error> {
        let Some(number) = self.student_number(&r.person_id) else {
            return Ok(Some(Self::missing(EntityKind::Demographics, &r.meta, "person_id", "the student")));
        };
        if let (Some(h), Some(p)) = (r.hispanic_or_latino, r.person_id.clone()) {
            self.hispanic.insert(p, h);
        }
        let flags = [
            r.american_indian_or_alaska_native,
            r.asian,
            r.black_or_african_american,
            r.native_hawaiian_or_other_pacific_islander,
            r.white,
        ];
        for (field, v) in codes::RACE_FIELDS.iter().zip(flags) {
            if v == Some(true) {
                if let Some(rej) = self.row(
                    "studentrace.txt",
                    &[number.clone(), codes::race_code(field).to_owned()],
                    &r.meta,
                    EntityKind::Demographics,
                )? {
                    return Ok(Some(rej));
                }
            }
        }
        Ok(None)
    }

    fn course(&mut self, r: Course) -> Result<Option<Reject>, Error> {
        let number = r.course_number.clone().unwrap_or_else(|| r.meta.source.id.clone());
        self.courses.insert(r.meta.source.id.clone(), (number.clone(), r.title.clone()));
        let fields = [
            number,
            r.title.clone(),
            num(r.credit_hours),
            text(&r.subject).to_owned(),
            self.school_number(&r.org_id),
        ];
        self.row("courses.txt", &fields, &r.meta, EntityKind::Courses)
    }

    fn section(&mut self, r: Section) -> Result<Option<Reject>, Error> {
        let Some(course) = r.course_id.as_deref().and_then(|c| self.courses.get(c)).map(|c| c.0.clone())
        else {
            return Ok(Some(Self::missing(EntityKind::Sections, &r.meta, "course_id", "the course")));
        };
        let Some(term) = r.session_ids.iter().find_map(|s| self.terms.get(s)).cloned() else {
            return Ok(Some(Self::missing(
                EntityKind::Sections,
                &r.meta,
                "session_ids",
                "the section's term",
            )));
        };
        let school =
            r.school_id.as_ref().map_or(term.school.clone(), |s| self.school_number(&Some(s.clone())));
        let number = r.section_number.clone().unwrap_or_else(|| r.meta.source.id.clone());
        let row = vec![
            school.clone(),
            course.clone(),
            number.clone(),
            term.termid.to_string(),
            String::new(),
            text(&r.room).to_owned(),
            text(&r.period).to_owned(),
            r.max_enrollment.map(|m| m.to_string()).unwrap_or_default(),
        ];
        self.section_order.push(r.meta.source.id.clone());
        self.sections.insert(
            r.meta.source.id.clone(),
            SectionRef { school, course, number, termid: term.termid, row, teacher: None },
        );
        Ok(None)
    }

    fn section_staff(&mut self, r: SectionStaff) -> Result<Option<Reject>, Error> {
        let Some(number) = r.staff_id.as_deref().and_then(|s| self.staff_numbers.get(s)).cloned() else {
            return Ok(Some(Self::missing(
                EntityKind::SectionStaff,
                &r.meta,
                "staff_id",
                "the staff member",
            )));
        };
        let Some(sec) = r.section_id.as_deref().and_then(|s| self.sections.get_mut(s)) else {
            return Ok(Some(Self::missing(EntityKind::SectionStaff, &r.meta, "section_id", "the section")));
        };
        let lead = r.role.as_ref().is_none_or(|c| c.code == ferry_sdk::model::SectionRole::Lead);
        if sec.teacher.is_none() || lead {
            sec.teacher = Some(number);
        }
        Ok(None)
    }

    fn section_enrollment(&mut self, r: SectionEnrollment) -> Result<Option<Reject>, Error> {
        let Some(number) = self.student_number(&r.student_id) else {
            return Ok(Some(Self::missing(
                EntityKind::SectionEnrollments,
                &r.meta,
                "student_id",
                "the student",
            )));
        };
        let Some(sec) = r.section_id.as_deref().and_then(|s| self.sections.get(s)).cloned() else {
            return Ok(Some(Self::missing(
                EntityKind::SectionEnrollments,
                &r.meta,
                "section_id",
                "the section",
            )));
        };
        let negative = match r.status.as_ref() {
            Some(s) if values::int(&s.original).is_some() => values::int(&s.original).is_some_and(|n| n < 0),
            Some(s) => s.code != SectionEnrollmentStatus::Active,
            None => false,
        };
        let term = if negative { -sec.termid } else { sec.termid };
        let fields = [
            number,
            sec.school,
            sec.course,
            sec.number,
            term.to_string(),
            self.date(r.entry_date),
            self.exclusive(r.exit_date),
        ];
        self.row("cc.txt", &fields, &r.meta, EntityKind::SectionEnrollments)
    }

    fn grade(&mut self, r: Grade) -> Result<Option<Reject>, Error> {
        let Some(number) = self.student_number(&r.student_id) else {
            return Ok(Some(Self::missing(EntityKind::Grades, &r.meta, "student_id", "the student")));
        };
        let letter = r.letter_grade.clone().unwrap_or_else(|| NO_GRADE.to_owned());
        let transcript = r.kind.as_ref().is_none_or(|k| k.code == GradeKind::Transcript);
        if transcript {
            let school = match &r.school_id {
                Some(_) => self.school_number(&r.school_id),
                None => r.meta.ext.get("SchoolID").unwrap_or_default().to_owned(),
            };
            let course_number = r
                .course_number
                .clone()
                .or_else(|| r.course_id.as_deref().and_then(|c| self.courses.get(c)).map(|c| c.0.clone()))
                .unwrap_or_default();
            let termid = match r.session_id.as_deref().and_then(|s| self.terms.get(s)) {
                Some(t) => t.termid.to_string(),
                None => r
                    .meta
                    .ext
                    .get("TermID")
                    .map(str::to_owned)
                    .or_else(|| r.school_year.map(|y| ((y - 1991) * 100).to_string()))
                    .unwrap_or_default(),
            };
            let fields = [
                number,
                school,
                text(&r.school_name).to_owned(),
                course_number,
                text(&r.course_title).to_owned(),
                termid,
                text(&r.store_code).to_owned(),
                letter,
                num(r.percent),
                num(r.gpa_points),
                num(r.credits_earned),
                num(r.credits_attempted),
                r.grade_level.as_ref().map(values::grade_level_number).unwrap_or_default(),
                flag(r.exclude_from_gpa).to_owned(),
                text(&r.comment).to_owned(),
            ];
            return self.row("storedgrades.txt", &fields, &r.meta, EntityKind::Grades);
        }
        let Some(sec) = r.section_id.as_deref().and_then(|s| self.sections.get(s)).cloned() else {
            return Ok(Some(Self::missing(EntityKind::Grades, &r.meta, "section_id", "the section")));
        };
        let name =
            r.store_code.clone().or_else(|| r.kind.as_ref().map(|k| k.original.clone())).unwrap_or_default();
        let fields = [
            number,
            sec.school,
            sec.course,
            sec.number,
            sec.termid.to_string(),
            name,
            letter,
            num(r.percent),
            text(&r.comment).to_owned(),
        ];
        self.row("pgfinalgrades.txt", &fields, &r.meta, EntityKind::Grades)
    }

    fn attendance(&mut self, r: AttendanceEvent) -> Result<Option<Reject>, Error> {
        let Some(number) = self.student_number(&r.student_id) else {
            return Ok(Some(Self::missing(EntityKind::Attendance, &r.meta, "student_id", "the student")));
        };
        let Some(category) = r.category.clone() else {
            return Ok(Some(
                Reject::new(EntityKind::Attendance, "the event has no category")
                    .of(&r.meta)
                    .field("category"),
            ));
        };
        let school = self.school_number(&r.school_id);
        let Some(date) = r.date else {
            return Ok(Some(
                Reject::new(EntityKind::Attendance, "the event has no date").of(&r.meta).field("date"),
            ));
        };
        let yearid = values::school_year_of(date, 7) - 1991;
        let code = if category.original.chars().count() <= 7 {
            category.original.clone()
        } else {
            category.code.as_str().chars().take(7).collect()
        };
        match self.att_codes.get(&(school.clone(), yearid, code.clone())) {
            Some(c) if *c != category.code => {
                return Ok(Some(
                    Reject::new(
                        EntityKind::Attendance,
                        "another event of this school and year uses the same code for another category",
                    )
                    .of(&r.meta)
                    .field("category")
                    .value(code),
                ));
            }
            Some(_) => {}
            None => {
                self.att_codes.insert((school.clone(), yearid, code.clone()), category.code);
            }
        }
        let minutes = r.minutes.map(|m| m.to_string()).unwrap_or_default();
        match r.section_id.as_deref() {
            None => {
                let fields = [
                    number,
                    school,
                    self.date(Some(date)),
                    code,
                    "ATT_ModeDaily".to_owned(),
                    minutes,
                    text(&r.comment).to_owned(),
                ];
                self.row("attendance.txt", &fields, &r.meta, EntityKind::Attendance)
            }
            Some(s) => {
                let Some(sec) = self.sections.get(s).cloned() else {
                    return Ok(Some(Self::missing(
                        EntityKind::Attendance,
                        &r.meta,
                        "section_id",
                        "the section",
                    )));
                };
                let fields = [
                    number,
                    school,
                    self.date(Some(date)),
                    code,
                    "ATT_ModeMeeting".to_owned(),
                    sec.course,
                    sec.number,
                    sec.termid.to_string(),
                    text(&r.period).to_owned(),
                    minutes,
                    text(&r.comment).to_owned(),
                ];
                self.row("attendance_meeting.txt", &fields, &r.meta, EntityKind::Attendance)
            }
        }
    }

    fn take<R: Record>(
        &mut self,
        batch: &RecordBatch<'_>,
        written: &mut Written,
        mut f: impl FnMut(&mut Self, R) -> Result<Option<Reject>, Error>,
    ) -> Result<(), Error> {
        for r in batch.records::<R>()? {
            match f(self, r?)? {
                None => written.written += 1,
                Some(rej) => written.rejects.push(rej),
            }
        }
        Ok(())
    }

    fn write_deferred(&mut self) -> Result<(), Error> {
        // Sections, with their lead teacher.
        for id in std::mem::take(&mut self.section_order) {
            let Some(sec) = self.sections.get(&id).cloned() else { continue };
            let mut row = sec.row.clone();
            row[4] = sec.teacher.clone().unwrap_or_default();
            let meta = ferry_sdk::model::Meta::new(crate::row::SYSTEM, id);
            if let Some(r) = self.row("sections.txt", &row, &meta, EntityKind::Sections)? {
                self.notes.push(format!("sections.txt: section {} not written: {}", r.record_id, r.reason));
            }
        }
        // Students, with their current enrollment; earlier ones to ReEnrollments.
        let extra = self.student_ext.clone();
        self.out("students.txt", &extra)?;
        let students = std::mem::take(&mut self.students);
        for s in &students {
            let id = s.meta.source.id.clone();
            let number = self.student_numbers.get(&id).cloned().unwrap_or_default();
            let mut list = self.enrollments.remove(&id).unwrap_or_default();
            list.sort_by_key(|e| e.entry_date);
            let current = match &s.school_id {
                Some(school) => list.iter().rposition(|e| e.school_id.as_deref() == Some(school)),
                None => list.len().checked_sub(1),
            };
            let current = current.map(|i| list.remove(i));
            let school = match &s.school_id {
                Some(_) => self.school_number(&s.school_id),
                None => current.as_ref().map(|e| self.school_number(&e.school_id)).unwrap_or_default(),
            };
            let graduated_row = school == values::GRADUATED_SCHOOL.to_string() && current.is_none();
            let (entry, exit, entry_code, exit_code, comment) = match &current {
                Some(e) => (
                    self.date(e.entry_date),
                    self.exclusive(e.exit_date),
                    e.entry_code.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
                    e.exit_code.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
                    text(&e.exit_comment).to_owned(),
                ),
                None if graduated_row => {
                    let last = list.iter().filter_map(|e| e.exit_date).max();
                    (self.exclusive(last), self.exclusive(last), String::new(), String::new(), String::new())
                }
                None => Default::default(),
            };
            let grade = s
                .grade_level
                .as_ref()
                .or(current.as_ref().and_then(|e| e.grade_level.as_ref()))
                .map(values::grade_level_number)
                .unwrap_or_default();
            let mut row = vec![
                number.clone(),
                text(&s.state_id).to_owned(),
                s.first_name.clone(),
                text(&s.middle_name).to_owned(),
                s.last_name.clone(),
                text(&s.preferred_name).to_owned(),
                self.date(s.birth_date),
                s.sex.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
                grade,
                school,
                s.status.as_deref().map(values::enroll_status_number).unwrap_or_default(),
                entry,
                exit,
                entry_code,
                exit_code,
                comment,
                text(&s.address).to_owned(),
                text(&s.city).to_owned(),
                text(&s.region).to_owned(),
                text(&s.postal_code).to_owned(),
                text(&s.phone).to_owned(),
                text(&s.username).to_owned(),
                flag(self.hispanic.get(&id).copied()).to_owned(),
            ];
            for k in &extra {
                row.push(s.meta.ext.get(k).unwrap_or_default().to_owned());
            }
            let mut r = Row::new();
            for f in &row {
                r.push(f);
            }
            let out = self.out("students.txt", &extra)?;
            if let Err(refusal) = out.writer.write_row(&r)? {
                self.notes.push(format!("students.txt: student {id} not written: {}", refusal.reason));
            }
            for e in list {
                let fields = [
                    number.clone(),
                    self.school_number(&e.school_id),
                    e.grade_level.as_ref().map(values::grade_level_number).unwrap_or_default(),
                    self.date(e.entry_date),
                    self.exclusive(e.exit_date),
                    e.entry_code.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
                    e.exit_code.as_ref().map(|c| c.original.clone()).unwrap_or_default(),
                    text(&e.exit_comment).to_owned(),
                ];
                if let Some(r) =
                    self.row("reenrollments.txt", &fields, &e.meta, EntityKind::SchoolEnrollments)?
                {
                    self.notes.push(format!(
                        "reenrollments.txt: enrollment {} not written: {}",
                        r.record_id, r.reason
                    ));
                }
            }
        }
        if !self.enrollments.is_empty() {
            let n: usize = self.enrollments.values().map(Vec::len).sum();
            self.notes.push(format!(
                "{n} school enrollments of students this sink did not receive were not written"
            ));
        }
        // Attendance codes of the events written.
        for ((school, year, code), cat) in std::mem::take(&mut self.att_codes) {
            let (desc, presence) = match cat {
                AttendanceCategory::Present => ("Present", "Present"),
                AttendanceCategory::ExcusedAbsence => ("Absent Excused", "Absent"),
                AttendanceCategory::UnexcusedAbsence => ("Absent Unexcused", "Absent"),
                AttendanceCategory::Absent => ("Absent", "Absent"),
                AttendanceCategory::Tardy => ("Tardy", "Present"),
                AttendanceCategory::EarlyDeparture => ("Early Dismissal", "Present"),
                _ => ("Other", "Present"),
            };
            let meta = ferry_sdk::model::Meta::new(crate::row::SYSTEM, code.clone());
            let fields = [school, year.to_string(), code, desc.to_owned(), presence.to_owned()];
            if let Some(r) = self.row("attendance_code.txt", &fields, &meta, EntityKind::Attendance)? {
                self.notes.push(format!("attendance_code.txt: a code not written: {}", r.reason));
            }
        }
        // Entry and exit codes, described so that their meaning is plain.
        let entries: Vec<(String, String)> = std::mem::take(&mut self.entry_codes)
            .into_iter()
            .map(|(code, kind)| {
                let desc = match kind {
                    EntryKind::NewToDistrict => "New to district",
                    EntryKind::TransferInDistrict => "Transfer within district",
                    EntryKind::TransferIn => "Transfer in from another district",
                    EntryKind::ReEntry => "Re-entry",
                    EntryKind::Continuing => "Continuing from the prior year",
                    _ => "",
                };
                (code.clone(), if desc.is_empty() { code } else { desc.to_owned() })
            })
            .collect();
        let exits: Vec<(String, String)> = std::mem::take(&mut self.exit_codes)
            .into_iter()
            .map(|(code, kind)| {
                let desc = match kind {
                    ExitKind::Graduated => "Graduated",
                    ExitKind::EndOfYear => "End of year",
                    ExitKind::TransferInDistrict => "Transfer within district",
                    ExitKind::TransferOut => "Transfer out of district",
                    ExitKind::Dropout => "Dropped out",
                    ExitKind::Deceased => "Deceased",
                    ExitKind::Expelled => "Expelled",
                    _ => "",
                };
                (code.clone(), if desc.is_empty() { code } else { desc.to_owned() })
            })
            .collect();
        for (cat, list) in [("entrycodes", entries), ("exitcodes", exits)] {
            for (code, desc) in list {
                if code.is_empty() {
                    continue;
                }
                let meta = ferry_sdk::model::Meta::new(crate::row::SYSTEM, code.clone());
                if let Some(r) =
                    self.row("gen.txt", &[cat.to_owned(), code, desc], &meta, EntityKind::SchoolEnrollments)?
                {
                    self.notes.push(format!("gen.txt: a code not written: {}", r.reason));
                }
            }
        }
        let unlinked = self.contacts.keys().filter(|k| !self.linked_contacts.contains_key(*k)).count();
        if unlinked > 0 {
            self.notes.push(format!("{unlinked} contacts linked to no student were not written (contacts.txt has one row per student and contact)"));
        }
        Ok(())
    }
}

impl Sink for PowerSchoolSink {
    fn entities(&self) -> Vec<EntityKind> {
        EntityKind::ALL.to_vec()
    }

    fn write(&mut self, batch: RecordBatch<'_>) -> Result<Written, Error> {
        let mut w = Written::default();
        match batch.entity {
            EntityKind::Orgs => self.take(&batch, &mut w, |s, r: Org| s.org(r))?,
            EntityKind::AcademicSessions => {
                self.take(&batch, &mut w, |s, r: AcademicSession| s.session(r))?
            }
            EntityKind::Students => self.take(&batch, &mut w, |s, r: Student| s.student(r))?,
            EntityKind::Staff => self.take(&batch, &mut w, |s, r: Staff| s.staff(r))?,
            EntityKind::Contacts => self.take(&batch, &mut w, |s, r: Contact| {
                s.contacts.insert(r.meta.source.id.clone(), r);
                Ok(None)
            })?,
            EntityKind::StudentContacts => {
                self.take(&batch, &mut w, |s, r: StudentContact| s.student_contact(r))?
            }
            EntityKind::Demographics => self.take(&batch, &mut w, |s, r: Demographics| s.demographics(r))?,
            EntityKind::Courses => self.take(&batch, &mut w, |s, r: Course| s.course(r))?,
            EntityKind::Sections => self.take(&batch, &mut w, |s, r: Section| s.section(r))?,
            EntityKind::SectionStaff => self.take(&batch, &mut w, |s, r: SectionStaff| s.section_staff(r))?,
            EntityKind::SchoolEnrollments => self.take(&batch, &mut w, |s, r: SchoolEnrollment| {
                if s.student_number(&r.student_id).is_none() {
                    return Ok(Some(Self::missing(
                        EntityKind::SchoolEnrollments,
                        &r.meta,
                        "student_id",
                        "the student",
                    )));
                }
                if let Some(c) = &r.entry_code {
                    s.entry_codes.entry(c.original.clone()).or_insert(c.code);
                }
                if let Some(c) = &r.exit_code {
                    s.exit_codes.entry(c.original.clone()).or_insert(c.code);
                }
                let id = r.student_id.clone().unwrap_or_default();
                s.enrollments.entry(id).or_default().push(r);
                Ok(None)
            })?,
            EntityKind::SectionEnrollments => {
                self.take(&batch, &mut w, |s, r: SectionEnrollment| s.section_enrollment(r))?
            }
            EntityKind::Grades => self.take(&batch, &mut w, |s, r: Grade| s.grade(r))?,
            EntityKind::Attendance => self.take(&batch, &mut w, |s, r: AttendanceEvent| s.attendance(r))?,
        }
        Ok(w)
    }

    fn commit(&mut self, summary: &RunSummary) -> Result<Committed, Error> {
        self.write_deferred()?;
        let mut counts: Vec<(&'static str, u64)> = Vec::new();
        for (name, out) in std::mem::take(&mut self.outs) {
            let rows = out.writer.rows_written().saturating_sub(1);
            out.writer.finish()?;
            counts.push((name, rows));
        }
        let guide = crate::guide::render(&counts, summary);
        fs::write(self.tmp.join(GUIDE), guide)
            .map_err(|e| Error::io(format!("{GUIDE}: cannot write: {e}")))?;
        let mut moved = Vec::new();
        for name in FILES.iter().map(|f| f.0).chain(std::iter::once(GUIDE)) {
            let from = self.tmp.join(name);
            if from.exists() {
                let to = self.dir.join(name);
                fs::rename(&from, &to)
                    .map_err(|e| Error::io(format!("{}: cannot move into place: {e}", to.display())))?;
                moved.push(name);
            }
        }
        let _ = fs::remove_dir_all(&self.tmp);
        tracing::info!("wrote {} PowerSchool files into {}", moved.len(), self.dir.display());
        let mut notes = std::mem::take(&mut self.notes);
        notes.insert(0, format!("import order and instructions: {}", self.dir.join(GUIDE).display()));
        Ok(Committed { location: self.dir.display().to_string(), notes })
    }

    fn abort(&mut self) -> Result<(), Error> {
        self.outs.clear();
        if self.tmp.exists() {
            fs::remove_dir_all(&self.tmp)
                .map_err(|e| Error::io(format!("{}: cannot remove: {e}", self.tmp.display())))?;
        }
        Ok(())
    }
}
