//! The PowerSchool district generator: students entering, moving, leaving
//! and graduating over four school years, their schedules, grades,
//! attendance and contacts, written as PowerSchool export files.
//!
//! Generation runs in two passes. The first plans every student's
//! enrollment history (kept in memory: a few spans per student). Sections and
//! teachers are sized from it. The second pass streams every student's rows
//! into all files at once, so nothing per-row is held.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use crate::catalog::{
    self, Catalog, FIRST_YEAR_ID, GRADUATED, Level, SCHOOLS, TeacherKey, TermKind, YEARS, YearCal,
};
use crate::day::{DateStyle, Day};
use crate::manifest::{GenManifest, HeaderStyle, MANIFEST_FILE, SOURCE_CONFIG_FILE, TextEncoding};
use crate::names;
use crate::rng::Rng;
use crate::table::{Layout, TableWriter};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsGenOptions {
    /// Students in the Students table (active, left, graduated and
    /// pre-registered together).
    pub students: u32,
    /// Seed: the same options always produce the same bytes.
    pub seed: u64,
    /// Put every export quirk in (header styles, delimiters, CRLF, BOM,
    /// headerless file, literal quotes, tabs in values, two-digit years,
    /// blanks, DCID ≠ ID, leading zeros, orphan rows).
    pub quirks: bool,
    /// Character set of every file.
    pub encoding: TextEncoding,
}

impl Default for PsGenOptions {
    fn default() -> PsGenOptions {
        PsGenOptions { students: 1000, seed: 1, quirks: false, encoding: TextEncoding::Utf8 }
    }
}

/// A student id no Students row has (orphan rows point at it).
pub const MISSING_STUDENT_ID: i64 = 9_999_999;
/// A course number no Courses row has (the orphan section uses it).
pub const MISSING_COURSE_NUMBER: &str = "ZZ999";

/// One school enrollment span; `exit` is exclusive, as PowerSchool writes it.
#[derive(Clone, Debug)]
struct Span {
    school: usize,
    grade: i32,
    year: usize,
    entry: Day,
    exit: Day,
    entry_code: &'static str,
    exit_code: &'static str,
}

#[derive(Clone, Debug)]
enum Outcome {
    Active,
    Left,
    Graduated(Day),
    Prereg { school: usize, grade: i32 },
}

struct Stu {
    spans: Vec<Span>,
    outcome: Outcome,
    zone: usize,
    female: bool,
    first: &'static str,
    middle: Option<&'static str>,
    last: &'static str,
    shares_family: bool,
    dob: Day,
    district_entry: Day,
    from_outside: bool,
}

struct Sec {
    id: i64,
    dcid: i64,
    year: usize,
    school: usize,
    course: usize,
    k: u32,
    teacher: usize,
    students: u32,
}

struct Group {
    first: usize,
    n: u32,
    next: u32,
}

struct User {
    dcid: i64,
    number: String,
    first: &'static str,
    middle: &'static str,
    last: &'static str,
    title: &'static str,
    home_school: usize,
}

struct StaffRow {
    id: i64,
    dcid: i64,
    user: usize,
    school: usize,
    status: i64,
    staff_status: i64,
    dept: &'static str,
}

struct FamPerson {
    id: i64,
    rel: i64,
    first: &'static str,
    last: &'static str,
    email: Option<String>,
    phone: Option<String>,
    custodial: bool,
}

struct Family {
    persons: Vec<FamPerson>,
    street: String,
    city: &'static str,
    zip: String,
    phone: String,
}

/// A CC row of the student-year being generated.
struct CcRow {
    id: i64,
    section: usize,
    period: u8,
    term: TermKind,
    enrolled: Day,
    left: Day,
}

/// Every output file.
struct Files {
    schools: TableWriter,
    terms: TableWriter,
    gens: TableWriter,
    att_code: TableWriter,
    period: TableWriter,
    calendar: TableWriter,
    students: TableWriter,
    race: TableWriter,
    reenroll: TableWriter,
    users: TableWriter,
    staff: TableWriter,
    courses: TableWriter,
    sections: TableWriter,
    cc: TableWriter,
    stored: TableWriter,
    pg: TableWriter,
    attendance: TableWriter,
    person: TableWriter,
    assoc: TableWriter,
    detail: TableWriter,
    codeset: TableWriter,
    email: TableWriter,
    person_email: TableWriter,
    phone: TableWriter,
    person_phone: TableWriter,
    address: TableWriter,
    person_address: TableWriter,
}

const STUDENT_COLUMNS: &[&str] = &[
    "ID",
    "DCID",
    "Student_Number",
    "State_StudentNumber",
    "First_Name",
    "Middle_Name",
    "Last_Name",
    "LastFirst",
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
    "SchoolEntryDate",
    "DistrictEntryDate",
    "Ethnicity",
    "FedEthnicity",
    "FedRaceDecline",
    "Street",
    "City",
    "State",
    "Zip",
    "Mailing_Street",
    "Mailing_City",
    "Mailing_State",
    "Mailing_Zip",
    "Home_Phone",
    "Home_Room",
    "Next_School",
    "Sched_NextYearGrade",
    "ClassOf",
    "Student_Web_ID",
    "Mother",
    "Father",
    "GuardianEmail",
    "Emerg_Contact_1",
    "Emerg_Phone_1",
    "State_ExcludeFromReporting",
    "Track",
    "FTEID",
    "Transaction_Date",
    "U_StudentsUserFields.Locker_Number",
    "S_NJ_STU_X.Homeless_Code",
];

/// CodeSet ids.
mod cs {
    pub const MOTHER: i64 = 1;
    pub const FATHER: i64 = 2;
    pub const GRANDMOTHER: i64 = 3;
    pub const GRANDFATHER: i64 = 4;
    pub const AUNT: i64 = 5;
    pub const UNCLE: i64 = 6;
    pub const GUARDIAN: i64 = 7;
    pub const HOME: i64 = 20;
    pub const MOBILE: i64 = 21;
    pub const WORK: i64 = 22;
    pub const EMAIL_CURRENT: i64 = 30;
    pub const ADDR_HOME: i64 = 40;
    pub const MALE: i64 = 50;
    pub const FEMALE: i64 = 51;
    pub const NJ: i64 = 60;
}

const CODESETS: &[(i64, &str, &str, &str, &str)] = &[
    (1, "Mother", "Relationship", "Mother", "Mother"),
    (2, "Father", "Relationship", "Father", "Father"),
    (3, "Grandmother", "Relationship", "Grandmother", "Grandmother"),
    (4, "Grandfather", "Relationship", "Grandfather", "Grandfather"),
    (5, "Aunt", "Relationship", "Aunt", "Aunt"),
    (6, "Uncle", "Relationship", "Uncle", "Uncle"),
    (7, "Guardian", "Relationship", "Guardian", "Legal guardian"),
    (8, "Stepmother", "Relationship", "Stepmother", "Stepmother"),
    (9, "Stepfather", "Relationship", "Stepfather", "Stepfather"),
    (10, "Other", "Relationship", "Other", "Other relationship"),
    (20, "Home", "Phone", "Home", "Home phone"),
    (21, "Mobile", "Phone", "Mobile", "Mobile phone"),
    (22, "Work", "Phone", "Work", "Work phone"),
    (30, "Current", "Email", "Current", "Current email"),
    (31, "Work", "Email", "Work", "Work email"),
    (40, "Home", "Address", "Home", "Home address"),
    (41, "Mailing", "Address", "Mailing", "Mailing address"),
    (50, "M", "Gender", "Male", "Male"),
    (51, "F", "Gender", "Female", "Female"),
    (60, "NJ", "State", "New Jersey", "New Jersey"),
    (61, "NY", "State", "New York", "New York"),
    (62, "PA", "State", "Pennsylvania", "Pennsylvania"),
];

const ENTRY_CODES: &[(&str, &str)] = &[
    ("E1", "New to district"),
    ("E2", "Transfer in from another district"),
    ("R1", "Re-entry after withdrawal"),
    ("C1", "Continuing, promoted from prior year"),
    ("T1", "Transfer within district"),
];

const EXIT_CODES: &[(&str, &str)] = &[
    ("EY", "End of year, promoted"),
    ("G1", "Graduated with diploma"),
    ("T1", "Transfer within district"),
    ("TO", "Transfer out of district"),
    ("DO", "Dropped out"),
];

const NICKNAMES: &[&str] = &["\"Sunny\"", "\"Bud\"", "\"Tink\"", "\"Ace\""];
const ATT_COMMENTS: &[&str] =
    &["Doctor appointment", "Family emergency", "Called in by parent", "Illness", "Note on file"];
const GRADE_COMMENTS: &[&str] =
    &["Excellent effort", "Needs to complete homework", "A pleasure to have in class"];

fn fold_ascii(s: &str, out: &mut String) {
    for c in s.chars().flat_map(char::to_lowercase) {
        let m = match c {
            'a'..='z' | '0'..='9' => c,
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'š' => 's',
            'ž' => 'z',
            _ => continue,
        };
        out.push(m);
    }
}

fn phone(rng: &mut Rng) -> (String, String) {
    let area = rng.pick(&["201", "973", "908", "732"]);
    let line = 100 + rng.below(100);
    (format!("({area}) 555-{line:04}"), format!("{area}555{line:04}"))
}

fn letter(pct: f64) -> (&'static str, f64) {
    match pct {
        p if p >= 90.0 => ("A", 4.0),
        p if p >= 80.0 => ("B", 3.0),
        p if p >= 70.0 => ("C", 2.0),
        p if p >= 60.0 => ("D", 1.0),
        _ => ("F", 0.0),
    }
}

/// The generator's state.
struct Gen {
    opts: PsGenOptions,
    cals: Vec<YearCal>,
    as_of_idx: usize,
    as_of: Day,
    catalog: Catalog,
    students: Vec<Stu>,
    sections: Vec<Sec>,
    groups: Vec<Group>,
    group_of: HashMap<(usize, usize, usize), usize>,
    users: Vec<User>,
    staff: Vec<StaffRow>,
    seq: HashMap<&'static str, i64>,
}

impl Gen {
    fn q(&self) -> bool {
        self.opts.quirks
    }

    /// The next id of a table's sequence.
    fn next(&mut self, table: &'static str) -> i64 {
        let v = self.seq.entry(table).or_insert(0);
        *v += 1;
        *v
    }

    /// The DCID of a row with this ID: equal unless quirks are on.
    fn dcid(&self, id: i64, offset: i64) -> i64 {
        if self.q() { id + offset } else { id }
    }

    fn layout(&self, style: HeaderStyle) -> Layout {
        let mut l = Layout::plain(self.opts.encoding);
        if self.q() {
            l.style = style;
        }
        l
    }

    fn open(&self, dir: &Path) -> io::Result<Files> {
        let q = self.q();
        let tw = |name: &str, table: &'static str, num: Option<u16>, cols: &[&str], l: Layout| {
            TableWriter::create(dir, name, table, num, cols, l)
        };
        let mut schools_l = self.layout(HeaderStyle::Named);
        let mut terms_l = self.layout(HeaderStyle::Numbered);
        let mut students_l = self.layout(HeaderStyle::Numbered);
        let mut reenroll_l = self.layout(HeaderStyle::Named);
        let mut courses_l = self.layout(HeaderStyle::Dotted);
        let sections_l = self.layout(HeaderStyle::None);
        let mut cc_l = self.layout(HeaderStyle::Bare);
        let mut stored_l = self.layout(HeaderStyle::Named);
        let mut detail_l = self.layout(HeaderStyle::Dotted);
        if q {
            schools_l.delimiter = b',';
            schools_l.quoted = true;
            schools_l.crlf = true;
            terms_l.delimiter = b'|';
            terms_l.crlf = true;
            students_l.crlf = true;
            students_l.bom = true;
            reenroll_l.dates = DateStyle::TwoDigit;
            courses_l.delimiter = b',';
            courses_l.quoted = true;
            cc_l.dates = DateStyle::Iso;
            stored_l.crlf = true;
            stored_l.word_bools = true;
            detail_l.word_bools = true;
        }
        Ok(Files {
            schools: tw(
                "schools.txt",
                "Schools",
                Some(39),
                &[
                    "ID",
                    "DCID",
                    "School_Number",
                    "Name",
                    "Abbreviation",
                    "Low_Grade",
                    "High_Grade",
                    "Alternate_School_Number",
                    "SchoolAddress",
                    "SchoolCity",
                    "SchoolState",
                    "SchoolZip",
                    "SchoolPhone",
                    "Principal",
                    "District_Number",
                    "State_ExcludeFromReporting",
                    "IsSummerSchool",
                    "SortOrder",
                ],
                schools_l,
            )?,
            terms: tw(
                "terms.txt",
                "Terms",
                Some(13),
                &[
                    "ID",
                    "DCID",
                    "SchoolID",
                    "YearID",
                    "Name",
                    "Abbreviation",
                    "FirstDay",
                    "LastDay",
                    "IsYearRec",
                    "Portion",
                    "NoOfDays",
                ],
                terms_l,
            )?,
            gens: tw(
                "gen.txt",
                "Gen",
                Some(6),
                &["ID", "DCID", "Cat", "Name", "Value", "ValueLI", "SchoolID", "YearID", "SortOrder"],
                self.layout(HeaderStyle::Bare),
            )?,
            att_code: tw(
                "attendance_code.txt",
                "Attendance_Code",
                Some(156),
                &[
                    "ID",
                    "DCID",
                    "SchoolID",
                    "YearID",
                    "Att_Code",
                    "Description",
                    "Presence_Status_CD",
                    "Calculate_ADA_YN",
                    "Calculate_ADM_YN",
                    "Course_Credit_Points",
                    "Alternate_Code",
                    "SortOrder",
                ],
                self.layout(HeaderStyle::Numbered),
            )?,
            period: tw(
                "period.txt",
                "Period",
                Some(138),
                &["ID", "DCID", "SchoolID", "Year_ID", "Period_Number", "Abbreviation", "Name", "Sort_Order"],
                self.layout(HeaderStyle::Dotted),
            )?,
            calendar: tw(
                "calendar_day.txt",
                "Calendar_Day",
                Some(51),
                &[
                    "ID",
                    "DCID",
                    "SchoolID",
                    "Date_Value",
                    "InSession",
                    "MembershipValue",
                    "Type",
                    "Note",
                    "A",
                    "B",
                    "C",
                    "D",
                    "E",
                    "F",
                    "Week_Num",
                ],
                self.layout(HeaderStyle::Numbered),
            )?,
            students: tw("students.txt", "Students", Some(1), STUDENT_COLUMNS, students_l)?,
            race: tw(
                "studentrace.txt",
                "StudentRace",
                None,
                &["ID", "DCID", "StudentID", "RaceCD"],
                self.layout(HeaderStyle::Bare),
            )?,
            reenroll: tw(
                "reenrollments.txt",
                "ReEnrollments",
                Some(18),
                &[
                    "ID",
                    "DCID",
                    "StudentID",
                    "SchoolID",
                    "Grade_Level",
                    "EntryDate",
                    "ExitDate",
                    "EntryCode",
                    "EntryComment",
                    "ExitCode",
                    "ExitComment",
                    "Track",
                    "FTEID",
                    "MembershipShare",
                    "EnrollmentCode",
                    "EnrollmentType",
                    "DistrictOfResidence",
                    "LunchStatus",
                    "TuitionPayer",
                ],
                reenroll_l,
            )?,
            users: tw(
                "users.txt",
                "Users",
                None,
                &[
                    "DCID",
                    "HomeSchoolID",
                    "TeacherNumber",
                    "First_Name",
                    "Middle_Name",
                    "Last_Name",
                    "LastFirst",
                    "Email_Addr",
                    "TeacherLoginID",
                    "Title",
                    "SIF_StatePrID",
                    "PreferredName",
                    "Home_Phone",
                    "FedEthnicity",
                ],
                self.layout(HeaderStyle::Dotted),
            )?,
            staff: tw(
                "schoolstaff.txt",
                "SchoolStaff",
                None,
                &[
                    "ID",
                    "DCID",
                    "Users_DCID",
                    "SchoolID",
                    "Status",
                    "StaffStatus",
                    "Sched_Classroom",
                    "Sched_Department",
                    "Sched_MaximumCourses",
                ],
                self.layout(HeaderStyle::Named),
            )?,
            courses: tw(
                "courses.txt",
                "Courses",
                Some(2),
                &[
                    "ID",
                    "DCID",
                    "Course_Number",
                    "Course_Name",
                    "Credit_Hours",
                    "CreditType",
                    "SchoolID",
                    "ExcludeFromGPA",
                    "ExcludeFromStoredGrades",
                    "GradeScaleID",
                    "Sched_Department",
                    "Alt_Course_Number",
                    "MultiTerm",
                ],
                courses_l,
            )?,
            sections: tw(
                "sections.txt",
                "Sections",
                Some(3),
                &[
                    "ID",
                    "DCID",
                    "SchoolID",
                    "Course_Number",
                    "Section_Number",
                    "TermID",
                    "Teacher",
                    "Room",
                    "Expression",
                    "Attendance_Type_Code",
                    "Att_Mode_Code",
                    "MaxEnrollment",
                    "No_of_Students",
                    "Grade_Level",
                    "GradebookType",
                ],
                sections_l,
            )?,
            cc: tw(
                "cc.txt",
                "CC",
                Some(4),
                &[
                    "ID",
                    "DCID",
                    "StudentID",
                    "SectionID",
                    "TermID",
                    "SchoolID",
                    "Course_Number",
                    "Section_Number",
                    "DateEnrolled",
                    "DateLeft",
                    "Expression",
                    "TeacherID",
                    "CurrentAbsences",
                    "CurrentTardies",
                ],
                cc_l,
            )?,
            stored: tw(
                "storedgrades.txt",
                "StoredGrades",
                Some(31),
                &[
                    "DCID",
                    "ID",
                    "StudentID",
                    "SchoolID",
                    "SchoolName",
                    "Course_Number",
                    "Course_Name",
                    "SectionID",
                    "TermID",
                    "StoreCode",
                    "Grade",
                    "Percent",
                    "GPA_Points",
                    "EarnedCrHrs",
                    "PotentialCrHrs",
                    "Credit_Type",
                    "Grade_Level",
                    "DateStored",
                    "Teacher_Name",
                    "ExcludeFromGPA",
                    "ExcludeFromClassRank",
                    "ExcludeFromTranscripts",
                    "Comment_Value",
                ],
                stored_l,
            )?,
            pg: tw(
                "pgfinalgrades.txt",
                "PGFinalGrades",
                Some(95),
                &[
                    "ID",
                    "DCID",
                    "StudentID",
                    "SectionID",
                    "FinalGradeName",
                    "StartDate",
                    "EndDate",
                    "Grade",
                    "Percent",
                    "Points",
                    "PointsPossible",
                    "Citizenship",
                    "Comment_Value",
                    "VarCredit",
                    "OverrideFG",
                    "IsIncomplete",
                    "IsExempt",
                    "LastGradeUpdate",
                ],
                self.layout(HeaderStyle::Dotted),
            )?,
            attendance: tw(
                "attendance.txt",
                "Attendance",
                Some(157),
                &[
                    "ID",
                    "DCID",
                    "StudentID",
                    "SchoolID",
                    "YearID",
                    "Att_Date",
                    "Attendance_CodeID",
                    "Att_Mode_Code",
                    "CCID",
                    "PeriodID",
                    "Calendar_DayID",
                    "Att_Comment",
                    "Total_Minutes",
                    "Att_Interval",
                    "Lock_Teacher_YN",
                    "Lock_Reporting_YN",
                    "ProgramID",
                ],
                self.layout(HeaderStyle::Bare),
            )?,
            person: tw(
                "person.txt",
                "Person",
                None,
                &[
                    "ID",
                    "DCID",
                    "FirstName",
                    "MiddleName",
                    "LastName",
                    "GenderCodeSetID",
                    "Employer",
                    "IsActive",
                ],
                self.layout(HeaderStyle::Bare),
            )?,
            assoc: tw(
                "studentcontactassoc.txt",
                "StudentContactAssoc",
                None,
                &[
                    "StudentContactAssocID",
                    "StudentDCID",
                    "PersonID",
                    "ContactPriorityOrder",
                    "CurrRelTypeCodeSetID",
                ],
                self.layout(HeaderStyle::Named),
            )?,
            detail: tw(
                "studentcontactdetail.txt",
                "StudentContactDetail",
                None,
                &[
                    "StudentContactDetailID",
                    "StudentContactAssocID",
                    "RelationshipTypeCodeSetID",
                    "IsActive",
                    "IsCustodial",
                    "IsEmergency",
                    "LivesWithFlg",
                    "SchoolPickupFlg",
                    "ReceivesMailFlg",
                    "StartDate",
                    "EndDate",
                    "RelationshipNote",
                ],
                detail_l,
            )?,
            codeset: tw(
                "codeset.txt",
                "CodeSet",
                None,
                &["CodeSetID", "Code", "CodeType", "DisplayValue", "Description"],
                self.layout(HeaderStyle::Bare),
            )?,
            email: tw(
                "emailaddress.txt",
                "EmailAddress",
                None,
                &["EmailAddressID", "EmailAddress"],
                self.layout(HeaderStyle::Bare),
            )?,
            person_email: tw(
                "personemailaddressassoc.txt",
                "PersonEmailAddressAssoc",
                None,
                &[
                    "PersonEmailAddressAssocID",
                    "PersonID",
                    "EmailAddressID",
                    "EmailTypeCodeSetID",
                    "IsPrimaryEmailAddress",
                    "EmailAddressPriorityOrder",
                ],
                self.layout(HeaderStyle::Bare),
            )?,
            phone: tw(
                "phonenumber.txt",
                "PhoneNumber",
                None,
                &["PhoneNumberID", "PhoneNumber", "PhoneNumberExt", "IsSMS"],
                self.layout(HeaderStyle::Bare),
            )?,
            person_phone: tw(
                "personphonenumberassoc.txt",
                "PersonPhoneNumberAssoc",
                None,
                &[
                    "PersonPhoneNumberAssocID",
                    "PersonID",
                    "PhoneNumberID",
                    "PhoneTypeCodeSetID",
                    "IsPreferred",
                    "PhoneNumberPriorityOrder",
                    "PhoneNumberAsEntered",
                ],
                self.layout(HeaderStyle::Bare),
            )?,
            address: tw(
                "personaddress.txt",
                "PersonAddress",
                None,
                &["PersonAddressID", "Street", "LineTwo", "Unit", "City", "StatesCodeSetID", "PostalCode"],
                self.layout(HeaderStyle::Bare),
            )?,
            person_address: tw(
                "personaddressassoc.txt",
                "PersonAddressAssoc",
                None,
                &[
                    "PersonAddressAssocID",
                    "PersonID",
                    "PersonAddressID",
                    "AddressTypeCodeSetID",
                    "AddressPriorityOrder",
                ],
                self.layout(HeaderStyle::Bare),
            )?,
        })
    }

    // ----- pass 1: plan -------------------------------------------------

    fn plan(&mut self) {
        let n = self.opts.students as usize;
        self.students.reserve(n);
        let mut prev_last: &'static str = names::LAST[0];
        for i in 0..n {
            let mut rng = Rng::new(self.opts.seed, i as u64 * 2 + 1);
            let s = self.plan_student(i, &mut rng, prev_last);
            prev_last = s.last;
            self.students.push(s);
        }
    }

    fn plan_student(&self, i: usize, rng: &mut Rng, prev_last: &'static str) -> Stu {
        let female = rng.chance(0.5);
        let first = rng.pick(if female { names::FEMALE } else { names::MALE });
        let middle = if rng.chance(0.7) {
            Some(rng.pick(if female { names::FEMALE } else { names::MALE }))
        } else {
            None
        };
        let shares_family = i > 0 && rng.chance(0.12);
        let last = if shares_family { prev_last } else { rng.pick(names::LAST) };
        let mut zone = rng.index(5);
        let mut s = Stu {
            spans: Vec::new(),
            outcome: Outcome::Active,
            zone,
            female,
            first,
            middle,
            last,
            shares_family,
            dob: 0,
            district_entry: 0,
            from_outside: false,
        };
        let fall = |y: usize| 1990 + FIRST_YEAR_ID + y as i32;
        let dob_for = |rng: &mut Rng, g: i32, y: usize| {
            let born = fall(y) - g - 6;
            crate::day::from_ymd(born, 9, 1) + rng.range(0, 364) as Day
        };
        if rng.chance(0.01) {
            // Pre-registered for next school year.
            let g = if rng.chance(0.7) { 0 } else { rng.range(1, 8) as i32 };
            s.outcome = Outcome::Prereg { school: catalog::school_for(g, zone), grade: g };
            s.dob = dob_for(rng, g, YEARS);
            s.district_entry = self.cals[YEARS].first;
            return s;
        }
        let sy = if rng.chance(0.7) { 0 } else { 1 + rng.index(YEARS - 1) };
        let mut g = if sy == 0 {
            let r = rng.range(0, 26) as i32;
            if r == 0 { -1 } else { (r - 1) / 2 }
        } else if rng.chance(0.4) {
            if rng.chance(0.3) { -1 } else { 0 }
        } else {
            rng.range(1, 12) as i32
        };
        s.dob = dob_for(rng, g, sy);
        let mut y = sy;
        let mut entry = self.cals[sy].first;
        let mut entry_code = "C1";
        if sy > 0 {
            s.from_outside = g > 0;
            entry_code = if g > 0 { "E2" } else { "E1" };
            if g > 0 && rng.chance(0.25) {
                entry = self.cals[sy].days[rng.range(5, 150) as usize];
            }
        }
        s.district_entry = if sy == 0 {
            // Entered before the window: kindergarten (or later) years ago.
            let k_fall = fall(0) - g.max(0);
            crate::day::from_ymd(k_fall, 9, 8)
        } else {
            entry
        };
        let mut transferred = false;
        loop {
            let cal = &self.cals[y];
            let current = y == YEARS - 1;
            let school = catalog::school_for(g, zone);
            let end_idx = if current { self.as_of_idx } else { cal.days.len() };
            let start_idx = cal.index_of(entry);
            if rng.chance(0.05) && start_idx + 12 < end_idx {
                let exit = if !current && rng.chance(0.4) {
                    cal.last + 1
                } else {
                    cal.days[rng.range(start_idx as i64 + 10, end_idx as i64 - 1) as usize]
                };
                let code = if g >= 9 && rng.chance(0.2) { "DO" } else { "TO" };
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: code });
                s.outcome = Outcome::Left;
                break;
            }
            if !transferred && (0..=5).contains(&g) && rng.chance(0.02) && start_idx + 30 < end_idx {
                let d = rng.range(start_idx as i64 + 10, end_idx as i64 - 10) as usize;
                let exit = cal.days[d];
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: "T1" });
                zone = (zone + 1 + rng.index(4)) % 5;
                s.zone = zone;
                entry = exit;
                entry_code = "T1";
                transferred = true;
                continue;
            }
            let exit = cal.last + 1;
            if current {
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: "" });
                s.outcome = Outcome::Active;
                break;
            }
            let code = if g == 12 { "G1" } else { "EY" };
            s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: code });
            if g == 12 {
                s.outcome = Outcome::Graduated(exit);
                break;
            }
            if !((1..=5).contains(&g) && rng.chance(0.01)) {
                g += 1;
            }
            y += 1;
            entry = self.cals[y].first;
            entry_code = "C1";
            transferred = false;
        }
        s
    }

    /// Sizes sections from the plan, then staffs them.
    fn build_sections(&mut self) {
        let mut counts: HashMap<(usize, usize, usize), u32> = HashMap::new();
        for (i, s) in self.students.iter().enumerate() {
            for sp in &s.spans {
                for (slot_no, slot) in self.catalog.slots_of(sp.grade).iter().enumerate() {
                    let c = slot.courses[(i + slot_no) % slot.courses.len()];
                    *counts.entry((sp.year, sp.school, c)).or_insert(0) += 1;
                }
            }
        }
        let mut keys: Vec<_> = counts.into_iter().collect();
        keys.sort_unstable();
        for ((y, school, course), count) in keys {
            let n = count.div_ceil(25).max(1);
            let first = self.sections.len();
            for k in 1..=n {
                let id = self.next("sections");
                let dcid = self.dcid(id, 40_000);
                let students = count / n + u32::from(k <= count % n);
                self.sections.push(Sec { id, dcid, year: y, school, course, k, teacher: 0, students });
            }
            self.group_of.insert((y, school, course), self.groups.len());
            self.groups.push(Group { first, n, next: 0 });
        }
        self.staff_sections();
    }

    fn new_user(&mut self, rng: &mut Rng, title: &'static str, school: usize) -> usize {
        let female = rng.chance(0.6);
        let dcid = self.next("users");
        self.users.push(User {
            dcid,
            number: (10_000 + dcid * 7).to_string(),
            first: rng.pick(if female { names::FEMALE } else { names::MALE }),
            middle: if rng.chance(0.5) { rng.pick(names::FEMALE) } else { "" },
            last: rng.pick(names::LAST),
            title,
            home_school: school,
        });
        self.users.len() - 1
    }

    fn new_staff(
        &mut self,
        user: usize,
        school: usize,
        staff_status: i64,
        dept: &'static str,
        status: i64,
    ) -> usize {
        let id = self.next("schoolstaff");
        let dcid = self.dcid(id, 5_000);
        self.staff.push(StaffRow { id, dcid, user, school, status, staff_status, dept });
        self.staff.len() - 1
    }

    fn staff_sections(&mut self) {
        let mut rng = Rng::new(self.opts.seed, 7);
        // Administrators and office staff.
        for (i, school) in SCHOOLS.iter().enumerate() {
            let roles: &[(&str, i64)] = match school.level {
                Level::Graduated => &[],
                Level::District => &[("Superintendent", 2), ("Registrar", 2), ("Data Manager", 2)],
                Level::Elementary => &[("Principal", 2), ("Secretary", 2)],
                _ => &[
                    ("Principal", 2),
                    ("Assistant Principal", 2),
                    ("Counselor", 2),
                    ("Counselor", 2),
                    ("Secretary", 2),
                ],
            };
            for &(title, ss) in roles {
                let u = self.new_user(&mut rng, title, i);
                self.new_staff(u, i, ss, "ADMIN", 1);
            }
        }
        let u = self.new_user(&mut rng, "Substitute Teacher", 8);
        self.new_staff(u, 8, 4, "SUB", 1);
        let u = self.new_user(&mut rng, "Cafeteria Manager", 8);
        self.new_staff(u, 8, 3, "FOOD", 1);
        // Teaching staff: pools per (school, key), sized for the busiest year.
        let mut per_year: HashMap<(usize, TeacherKey, usize), Vec<usize>> = HashMap::new();
        for (si, sec) in self.sections.iter().enumerate() {
            let key = self.catalog.courses[sec.course].key;
            per_year.entry((sec.school, key, sec.year)).or_default().push(si);
        }
        let mut need: HashMap<(usize, TeacherKey), usize> = HashMap::new();
        for ((school, key, _), secs) in &per_year {
            let n = match key {
                TeacherKey::Homeroom(_) => {
                    secs.iter().map(|&s| self.sections[s].k as usize).max().unwrap_or(1)
                }
                TeacherKey::Dept(d)
                    if matches!(*d, "ART" | "PE") && SCHOOLS[*school].level == Level::Elementary =>
                {
                    secs.len().div_ceil(28)
                }
                TeacherKey::Dept(_) => secs.len().div_ceil(5),
            };
            let slot = need.entry((*school, *key)).or_insert(0);
            *slot = (*slot).max(n);
        }
        let mut pool_keys: Vec<_> = need.into_iter().collect();
        pool_keys.sort_unstable_by_key(|((s, k), _)| (*s, format!("{k:?}")));
        let mut pools: HashMap<(usize, TeacherKey), Vec<usize>> = HashMap::new();
        let mut art_teacher: Option<usize> = None;
        for ((school, key), n) in pool_keys {
            let dept = match key {
                TeacherKey::Homeroom(_) => "HR",
                TeacherKey::Dept(d) => d,
            };
            let mut pool = Vec::with_capacity(n);
            for j in 0..n {
                // One art teacher works at two elementary schools.
                let shared = dept == "ART" && j == 0 && matches!(school, 2 | 3);
                let user = match (shared, art_teacher) {
                    (true, Some(u)) => u,
                    _ => {
                        let u = self.new_user(&mut rng, "Teacher", school);
                        if shared {
                            art_teacher = Some(u);
                        }
                        u
                    }
                };
                let status = if rng.chance(0.03) { 2 } else { 1 };
                pool.push(self.new_staff(user, school, 1, dept, status));
            }
            pools.insert((school, key), pool);
        }
        let mut keys: Vec<_> = per_year.into_iter().collect();
        keys.sort_unstable_by_key(|((s, k, y), _)| (*s, format!("{k:?}"), *y));
        for ((school, key, _), secs) in keys {
            let pool = &pools[&(school, key)];
            for (j, &si) in secs.iter().enumerate() {
                let t = match key {
                    TeacherKey::Homeroom(_) => self.sections[si].k as usize - 1,
                    TeacherKey::Dept(d)
                        if matches!(d, "ART" | "PE") && SCHOOLS[school].level == Level::Elementary =>
                    {
                        j / 28
                    }
                    TeacherKey::Dept(_) => j / 5,
                };
                self.sections[si].teacher = pool[t.min(pool.len() - 1)];
            }
        }
    }

    // ----- static tables -------------------------------------------------

    fn term_id(&self, y: usize, term: TermKind) -> i64 {
        i64::from(FIRST_YEAR_ID + y as i32) * 100 + term.offset()
    }

    fn att_code_id(&self, school: usize, y: usize, code: usize) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 7 + code) as i64
    }

    fn period_id(&self, school: usize, y: usize, period: u8) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 7 + period as usize - 1) as i64
    }

    fn calendar_day_id(&self, school: usize, y: usize, d: Day) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 400) as i64 + i64::from(d - self.cals[y].first)
    }

    fn write_static(&mut self, f: &mut Files) -> io::Result<()> {
        let q = self.q();
        for (i, s) in SCHOOLS.iter().enumerate() {
            let t = &mut f.schools;
            let id = i as i64 + 1;
            t.i(id);
            t.i(if q { id + 100 } else { id });
            t.i(s.number);
            t.s(s.name);
            t.s(s.abbr);
            t.i(s.low);
            t.i(s.high);
            if s.level == Level::Graduated || s.level == Level::District {
                t.blank()
            } else {
                t.s(&format!("34{:04}", s.number))
            };
            t.s(s.street);
            t.s(if s.street.is_empty() { "" } else { "Springfield" });
            t.s(if s.street.is_empty() { "" } else { "NJ" });
            t.s(if s.street.is_empty() { "" } else { "07081" });
            t.s(if s.street.is_empty() { "" } else { "(973) 555-0100" });
            t.blank();
            t.s("3400");
            t.i(i64::from(s.level == Level::Graduated));
            t.i(0);
            t.i(i as i64);
            t.end()?;
        }
        // Terms, attendance codes, periods and calendars of every real school.
        let mut term_dcid = 0i64;
        for (si, school) in SCHOOLS.iter().enumerate() {
            if matches!(school.level, Level::District | Level::Graduated) {
                continue;
            }
            for y in 0..YEARS {
                let cal = &self.cals[y];
                let yid = i64::from(cal.yearid);
                let fall = 1990 + cal.yearid;
                let terms: [(i64, String, String, Day, Day, i64, usize); 7] = [
                    (
                        0,
                        format!("{}-{}", fall, fall + 1),
                        format!("{:02}-{:02}", fall % 100, (fall + 1) % 100),
                        cal.first,
                        cal.last,
                        1,
                        cal.days.len(),
                    ),
                    (
                        1,
                        "Semester 1".into(),
                        "S1".into(),
                        cal.first,
                        cal.days[cal.s2_start - 1],
                        2,
                        cal.s2_start,
                    ),
                    (
                        2,
                        "Semester 2".into(),
                        "S2".into(),
                        cal.days[cal.s2_start],
                        cal.last,
                        2,
                        cal.days.len() - cal.s2_start,
                    ),
                    (3, "Quarter 1".into(), "Q1".into(), cal.first, cal.days[cal.q[1] - 1], 4, cal.q[1]),
                    (
                        4,
                        "Quarter 2".into(),
                        "Q2".into(),
                        cal.days[cal.q[1]],
                        cal.days[cal.q[2] - 1],
                        4,
                        cal.q[2] - cal.q[1],
                    ),
                    (
                        5,
                        "Quarter 3".into(),
                        "Q3".into(),
                        cal.days[cal.q[2]],
                        cal.days[cal.q[3] - 1],
                        4,
                        cal.q[3] - cal.q[2],
                    ),
                    (
                        6,
                        "Quarter 4".into(),
                        "Q4".into(),
                        cal.days[cal.q[3]],
                        cal.last,
                        4,
                        cal.days.len() - cal.q[3],
                    ),
                ];
                for (off, name, abbr, first, last, portion, ndays) in terms {
                    term_dcid += 1;
                    let dcid = term_dcid;
                    let t = &mut f.terms;
                    t.i(yid * 100 + off);
                    t.i(dcid);
                    t.i(school.number);
                    t.i(yid);
                    t.s(&name);
                    t.s(&abbr);
                    t.d(first);
                    t.d(last);
                    t.i(i64::from(off == 0));
                    t.i(portion);
                    t.i(ndays as i64);
                    t.end()?;
                }
                for (c, (code, desc, presence)) in catalog::att_codes(school.level).iter().enumerate() {
                    let id = self.att_code_id(si, y, c);
                    let t = &mut f.att_code;
                    t.i(id);
                    t.i(if q { id + 9_000 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.s(code);
                    t.s(desc);
                    t.s(presence);
                    t.i(i64::from(*presence == "Present"));
                    t.i(1);
                    t.i(0);
                    t.blank();
                    t.i(c as i64);
                    t.end()?;
                }
                for p in 1..=7u8 {
                    let id = self.period_id(si, y, p);
                    let t = &mut f.period;
                    t.i(id);
                    t.i(if q { id + 700 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.i(i64::from(p));
                    t.s(&p.to_string());
                    t.s(&format!("Period {p}"));
                    t.i(i64::from(p));
                    t.end()?;
                }
                let mut d = cal.first;
                let mut session = cal.days.iter().peekable();
                while d <= cal.last {
                    let in_session = session.peek().is_some_and(|&&x| x == d);
                    if in_session {
                        session.next();
                    }
                    let id = self.calendar_day_id(si, y, d);
                    let note =
                        cal.holidays.binary_search_by_key(&d, |h| h.0).ok().map_or("", |i| cal.holidays[i].1);
                    let t = &mut f.calendar;
                    t.i(id);
                    t.i(if q { id + 1_000_000 } else { id });
                    t.i(school.number);
                    t.d(d);
                    t.i(i64::from(in_session));
                    t.i(i64::from(in_session));
                    t.s(if in_session {
                        ""
                    } else if note.is_empty() {
                        "Weekend"
                    } else {
                        "Holiday"
                    });
                    t.s(note);
                    for track in 0..6 {
                        t.i(i64::from(in_session && track == 0));
                    }
                    t.i(i64::from((d - cal.first) / 7 + 1));
                    t.end()?;
                    d += 1;
                }
            }
        }
        for (cat, codes) in [("entrycodes", ENTRY_CODES), ("exitcodes", EXIT_CODES)] {
            for (i, (code, desc)) in codes.iter().enumerate() {
                let id = self.next("gen");
                let t = &mut f.gens;
                t.i(id);
                t.i(id);
                t.s(cat);
                t.s(code);
                t.s(desc);
                t.i(0);
                t.i(0);
                t.i(0);
                t.i(i as i64);
                t.end()?;
            }
        }
        for (id, code, ty, display, desc) in CODESETS {
            let t = &mut f.codeset;
            t.i(*id);
            t.s(code);
            t.s(ty);
            t.s(display);
            t.s(desc);
            t.end()?;
        }
        for (i, c) in self.catalog.courses.iter().enumerate() {
            let id = i as i64 + 1;
            let t = &mut f.courses;
            t.i(id);
            t.i(if q { id + 300 } else { id });
            t.s(&c.number);
            t.s(&c.name);
            t.f(c.credit, 1);
            t.s(c.credit_type);
            t.i(c.owner);
            t.i(i64::from(c.exclude_gpa));
            t.i(i64::from(!c.graded));
            t.i(1);
            t.s(c.dept);
            t.s(&format!("{:05}", 51_000 + i));
            t.i(0);
            t.end()?;
        }
        for u in &self.users {
            let t = &mut f.users;
            t.i(u.dcid);
            t.i(SCHOOLS[u.home_school].number);
            t.s(&u.number);
            t.s(u.first);
            t.s(u.middle);
            t.s(u.last);
            t.s(&format!("{}, {}", u.last, u.first));
            let mut login = String::new();
            fold_ascii(
                &u.first[..u.first.char_indices().nth(1).map_or(u.first.len(), |(i, _)| i)],
                &mut login,
            );
            fold_ascii(u.last, &mut login);
            login.push_str(&u.dcid.to_string());
            t.s(&format!("{login}@springfield.example.org"));
            t.s(&login);
            t.s(u.title);
            t.s(&format!("S{:07}", u.dcid * 13));
            t.blank();
            t.blank();
            t.i(0);
            t.end()?;
        }
        for s in &self.staff {
            let t = &mut f.staff;
            t.i(s.id);
            t.i(s.dcid);
            t.i(self.users[s.user].dcid);
            t.i(SCHOOLS[s.school].number);
            t.i(s.status);
            t.i(s.staff_status);
            t.s(if s.staff_status == 1 { "Room" } else { "" });
            t.s(s.dept);
            t.i(if s.staff_status == 1 { 6 } else { 0 });
            t.end()?;
        }
        for sec in &self.sections {
            let c = &self.catalog.courses[sec.course];
            let slot_period = self.period_of(sec.course);
            let t = &mut f.sections;
            t.i(sec.id);
            t.i(sec.dcid);
            t.i(SCHOOLS[sec.school].number);
            t.s(&c.number);
            t.s(&sec.k.to_string());
            t.i(self.term_id(sec.year, c.term));
            t.i(self.staff[sec.teacher].id);
            t.s(&format!("{}{:02}", slot_period, sec.k));
            t.s(&format!("{slot_period}(A)"));
            t.i(if SCHOOLS[sec.school].level == Level::Elementary { 0 } else { 2 });
            t.s(if SCHOOLS[sec.school].level == Level::Elementary {
                "ATT_ModeDaily"
            } else {
                "ATT_ModeMeeting"
            });
            t.i(30);
            t.i(i64::from(sec.students));
            t.i(i64::from(c.grade));
            t.i(2);
            t.end()?;
        }
        if q {
            // A section whose course is not in the catalog.
            let id = self.next("sections");
            let t = &mut f.sections;
            t.count_reject("missing_course");
            t.i(id);
            t.i(id + 40_000);
            t.i(301);
            t.s(MISSING_COURSE_NUMBER);
            t.s("1");
            t.i(self.term_id(YEARS - 1, TermKind::Year));
            t.i(self.staff[0].id);
            t.s("999");
            t.s("7(A)");
            t.i(2);
            t.s("ATT_ModeMeeting");
            t.i(30);
            t.i(0);
            t.i(12);
            t.i(2);
            t.end()?;
        }
        Ok(())
    }

    fn period_of(&self, course: usize) -> u8 {
        let g = self.catalog.courses[course].grade;
        for gg in [g, 9, 10, 11, 12] {
            for slot in self.catalog.slots_of(gg) {
                if slot.courses.contains(&course) {
                    return slot.period;
                }
            }
        }
        1
    }

    // ----- pass 2: students ----------------------------------------------

    fn family(&mut self, f: &mut Files, rng: &mut Rng, student_last: &'static str) -> io::Result<Family> {
        let (home_phone, home_digits) = phone(rng);
        let street =
            format!("{} {} {}", rng.range(1, 2999), rng.pick(names::STREETS), rng.pick(names::SUFFIXES));
        let city = rng.pick(names::CITIES);
        let zip = format!("07{:03}", rng.range(1, 999));
        let mut fam = Family { persons: Vec::new(), street, city, zip, phone: home_phone.clone() };
        let mother_first = rng.chance(0.6);
        let mut roles = vec![if mother_first { cs::MOTHER } else { cs::FATHER }];
        if rng.chance(0.65) {
            roles.push(if mother_first { cs::FATHER } else { cs::MOTHER });
        }
        if rng.chance(0.15) {
            roles.push(rng.pick(&[cs::GRANDMOTHER, cs::GRANDFATHER, cs::AUNT, cs::UNCLE, cs::GUARDIAN]));
        }
        let q = self.q();
        for rel in roles {
            let female = matches!(rel, cs::MOTHER | cs::GRANDMOTHER | cs::AUNT)
                || (rel == cs::GUARDIAN && rng.chance(0.5));
            let first = rng.pick(if female { names::FEMALE } else { names::MALE });
            let last = if rel == cs::MOTHER && rng.chance(0.2) || rel >= cs::GRANDMOTHER && rng.chance(0.5) {
                rng.pick(names::LAST)
            } else {
                student_last
            };
            let pid = self.next("person");
            let t = &mut f.person;
            t.i(pid);
            t.i(if q { pid + 200_000 } else { pid });
            t.s(first);
            t.s(if rng.chance(0.3) { rng.pick(names::FEMALE) } else { "" });
            t.s(last);
            t.i(if female { cs::FEMALE } else { cs::MALE });
            t.s(rng.pick(names::EMPLOYERS));
            t.i(1);
            t.end()?;
            let mut email = None;
            if rng.chance(0.8) {
                let mut e = String::new();
                fold_ascii(first, &mut e);
                e.push('.');
                fold_ascii(last, &mut e);
                e.push_str(&format!(
                    "{}@{}",
                    pid % 97,
                    rng.pick(&["example.com", "example.net", "example.org"])
                ));
                let eid = self.next("email");
                f.email.i(eid);
                f.email.s(&e);
                f.email.end()?;
                let aid = self.next("person_email");
                let t = &mut f.person_email;
                t.i(aid);
                t.i(pid);
                t.i(eid);
                t.i(cs::EMAIL_CURRENT);
                t.i(1);
                t.i(1);
                t.end()?;
                email = Some(e);
            }
            let mut phones: Vec<(i64, String, String)> = Vec::new();
            if rng.chance(0.9) {
                let (shown, digits) = phone(rng);
                phones.push((cs::MOBILE, shown, digits));
            }
            if rel <= cs::FATHER && rng.chance(0.5) {
                phones.push((cs::HOME, home_phone.clone(), home_digits.clone()));
            }
            if rng.chance(0.3) {
                let (shown, digits) = phone(rng);
                phones.push((cs::WORK, shown, digits));
            }
            let preferred = phones.first().map(|p| p.1.clone());
            for (prio, (ty, shown, digits)) in phones.into_iter().enumerate() {
                let nid = self.next("phone");
                let t = &mut f.phone;
                t.i(nid);
                t.s(&digits);
                t.s(if ty == cs::WORK && rng.chance(0.3) { "204" } else { "" });
                t.i(i64::from(ty == cs::MOBILE));
                t.end()?;
                let aid = self.next("person_phone");
                let t = &mut f.person_phone;
                t.i(aid);
                t.i(pid);
                t.i(nid);
                t.i(ty);
                t.i(i64::from(prio == 0));
                t.i(prio as i64 + 1);
                t.s(&shown);
                t.end()?;
            }
            let own_home = rel <= cs::FATHER || rel == cs::GUARDIAN;
            let addr_id = self.next("address");
            let t = &mut f.address;
            t.i(addr_id);
            if own_home {
                t.s(&fam.street);
            } else {
                t.s(&format!(
                    "{} {} {}",
                    rng.range(1, 2999),
                    rng.pick(names::STREETS),
                    rng.pick(names::SUFFIXES)
                ));
            }
            t.blank();
            t.s(if rng.chance(0.1) { "2B" } else { "" });
            t.s(if own_home { fam.city } else { rng.pick(names::CITIES) });
            t.i(cs::NJ);
            t.s(&fam.zip);
            t.end()?;
            let aid = self.next("person_address");
            let t = &mut f.person_address;
            t.i(aid);
            t.i(pid);
            t.i(addr_id);
            t.i(cs::ADDR_HOME);
            t.i(1);
            t.end()?;
            fam.persons.push(FamPerson {
                id: pid,
                rel,
                first,
                last,
                email,
                phone: preferred,
                custodial: rel <= cs::FATHER || rel == cs::GUARDIAN,
            });
        }
        Ok(fam)
    }

    fn contacts(&mut self, f: &mut Files, fam: &Family, dcid: i64, start: Day) -> io::Result<()> {
        let q = self.q();
        for (prio, p) in fam.persons.iter().enumerate() {
            let aid = self.next("assoc");
            let t = &mut f.assoc;
            t.i(aid);
            t.i(dcid);
            t.i(p.id);
            t.i(prio as i64 + 1);
            t.i(p.rel);
            t.end()?;
            let did = self.next("detail");
            let t = &mut f.detail;
            t.i(did);
            t.i(aid);
            t.i(p.rel);
            t.b(true);
            t.b(p.custodial);
            t.b(true);
            t.b(p.custodial);
            t.b(true);
            t.b(p.custodial);
            t.d(start);
            t.blank();
            t.s(if q && p.rel == cs::GUARDIAN { "Court order on file" } else { "" });
            t.end()?;
        }
        Ok(())
    }

    fn student(&mut self, f: &mut Files, i: usize, family: &mut Option<Family>) -> io::Result<()> {
        let mut rng = Rng::new(self.opts.seed, i as u64 * 2 + 2);
        let q = self.q();
        let id = 1001 + i as i64;
        let dcid = self.dcid(id, 100_000);
        let number = {
            let n = 1_000_000 + 3 * i as i64 + rng.range(0, 2);
            if q && i % 41 == 9 { format!("00{n}") } else { n.to_string() }
        };
        let spans = std::mem::take(&mut self.students[i].spans);
        let s = &self.students[i];
        let (zone, female, first, middle, last, dob, district_entry, from_outside, shares, outcome) = (
            s.zone,
            s.female,
            s.first,
            s.middle,
            s.last,
            s.dob,
            s.district_entry,
            s.from_outside,
            s.shares_family,
            s.outcome.clone(),
        );
        if !shares || family.is_none() {
            *family = Some(self.family(f, &mut rng, last)?);
        }
        let Some(fam) = family.as_ref() else { return Ok(()) };
        // Students row: the last span, or the graduated / pre-registered row.
        let last_span = spans.last().cloned();
        let (school, grade, entry, exit, entry_code, exit_code, status) = match (&outcome, &last_span) {
            (Outcome::Prereg { school, grade }, _) => {
                (*school, *grade, self.cals[YEARS].first, Some(self.cals[YEARS].last + 1), "E1", "", -1)
            }
            (Outcome::Graduated(d), _) => (GRADUATED, 99, *d, Some(*d), "", "G1", 3),
            (Outcome::Left, Some(sp)) => {
                (sp.school, sp.grade, sp.entry, Some(sp.exit), sp.entry_code, sp.exit_code, 2)
            }
            (_, Some(sp)) => {
                let exit = if q && i % 101 == 17 { None } else { Some(sp.exit) };
                (sp.school, sp.grade, sp.entry, exit, sp.entry_code, sp.exit_code, 0)
            }
            (_, None) => (1, 0, self.cals[0].first, None, "E1", "", 0),
        };
        let school_entry =
            spans.iter().rev().take_while(|sp| sp.school == school).last().map_or(entry, |sp| sp.entry);
        let mother = fam.persons.iter().find(|p| p.rel == cs::MOTHER);
        let father = fam.persons.iter().find(|p| p.rel == cs::FATHER);
        let other = fam.persons.iter().find(|p| p.rel > cs::FATHER);
        let class_of = match &outcome {
            Outcome::Graduated(d) => i64::from(crate::day::to_ymd(*d).0),
            _ => {
                let y = last_span.as_ref().map_or(YEARS, |sp| sp.year);
                i64::from(1990 + FIRST_YEAR_ID + y as i32 + 1) + i64::from(12 - grade.min(12))
            }
        };
        let t = &mut f.students;
        t.i(id);
        t.i(dcid);
        t.s(&number);
        if q && i % 89 == 5 {
            t.blank();
        } else {
            t.s(&format!("{:010}", (i as u64 * 7_919 + 31_337) % 10_000_000_000));
        }
        t.s(first);
        match middle {
            _ if q && i % 53 == 7 => t.s(NICKNAMES[i % NICKNAMES.len()]),
            Some(m) => t.s(m),
            None => t.blank(),
        }
        t.s(last);
        t.s(&format!(
            "{last}, {first}{}",
            middle
                .map(|m| format!(" {}", &m[..m.char_indices().nth(1).map_or(m.len(), |(i, _)| i)]))
                .unwrap_or_default()
        ));
        if q && i % 211 == 11 {
            t.blank();
        } else if q && i % 2 == 1 {
            t.d_as(dob, DateStyle::UsShort);
        } else {
            t.d(dob);
        }
        if q && i % 97 == 13 {
            t.blank();
        } else {
            t.s(if female { "F" } else { "M" });
        }
        t.i(i64::from(grade));
        t.i(SCHOOLS[school].number);
        t.i(status);
        t.d(entry);
        t.dopt(exit);
        t.s(entry_code);
        t.s(exit_code);
        t.s(if exit_code == "TO" { "Moved out of state" } else { "" });
        t.d(school_entry);
        t.d(district_entry);
        t.s(&(1 + i % 5).to_string());
        t.i(i64::from(i % 4 == 1));
        t.i(0);
        if q && i % 71 == 3 {
            t.s(&format!("12 \"B\" {}", &fam.street));
        } else {
            t.s(&fam.street);
        }
        t.s(fam.city);
        t.s("NJ");
        t.s(&fam.zip);
        if i % 10 == 0 {
            t.s(&format!("PO Box {}", 100 + i % 900));
            t.s(fam.city);
            t.s("NJ");
            t.s(&fam.zip);
        } else {
            for _ in 0..4 {
                t.blank();
            }
        }
        t.s(&fam.phone);
        if SCHOOLS[school].level == Level::Elementary {
            t.s(&format!("Room {}", 100 + zone * 10 + (i % 7)))
        } else {
            t.blank()
        };
        match &outcome {
            Outcome::Active if grade == 12 => {
                t.i(999_999);
                t.i(99);
            }
            Outcome::Active | Outcome::Prereg { .. } => {
                t.i(SCHOOLS[catalog::school_for(grade + 1, zone)].number);
                t.i(i64::from(grade + 1));
            }
            _ => {
                t.blank();
                t.blank();
            }
        }
        t.i(class_of);
        t.s(&format!("stu{}", number.trim_start_matches('0')));
        t.s(&mother.map(|p| format!("{}, {}", p.last, p.first)).unwrap_or_default());
        t.s(&father.map(|p| format!("{}, {}", p.last, p.first)).unwrap_or_default());
        t.s(mother.or(father).and_then(|p| p.email.as_deref()).unwrap_or(""));
        t.s(&other.map(|p| format!("{} {}", p.first, p.last)).unwrap_or_default());
        t.s(other.and_then(|p| p.phone.as_deref()).unwrap_or(""));
        t.i(0);
        t.s("A");
        t.i(1);
        t.d(self.as_of);
        if SCHOOLS[school].level == Level::High || SCHOOLS[school].level == Level::Middle {
            t.s(&format!("B-{:03}", (i * 37) % 1000));
        } else {
            t.blank();
        }
        t.s(if i % 113 == 0 { "Y" } else { "N" });
        t.end()?;

        // Race.
        let races = ["W", "B", "A", "I", "P"];
        let n_race = if rng.chance(0.1) { 2 } else { 1 };
        let r0 = rng.index(races.len());
        for k in 0..n_race {
            let rid = self.next("race");
            let t = &mut f.race;
            t.i(rid);
            t.i(rid);
            t.i(id);
            t.s(races[(r0 + k) % races.len()]);
            t.end()?;
        }
        // Contacts.
        self.contacts(f, fam, dcid, district_entry)?;
        // Earlier enrollments.
        let reenroll_count = match outcome {
            Outcome::Graduated(_) => spans.len(),
            _ => spans.len().saturating_sub(1),
        };
        for sp in &spans[..reenroll_count] {
            let rid = self.next("reenroll");
            let t = &mut f.reenroll;
            t.i(rid);
            t.i(if q { rid + 60_000 } else { rid });
            t.i(id);
            t.i(SCHOOLS[sp.school].number);
            t.i(i64::from(sp.grade));
            t.d(sp.entry);
            t.d(sp.exit);
            t.s(sp.entry_code);
            t.blank();
            t.s(sp.exit_code);
            t.blank();
            t.s("A");
            t.i(1);
            t.s("1.0");
            t.blank();
            t.i(1);
            t.s("3400");
            t.s(if i % 3 == 0 { "F" } else { "P" });
            t.blank();
            t.end()?;
        }
        // Schedules, grades, attendance.
        let mut transfer_done = false;
        for sp in &spans {
            let ccs = self.schedule(f, &mut rng, i, id, sp)?;
            if from_outside && !transfer_done && sp.grade >= 10 {
                self.transfer_grades(f, &mut rng, id, sp)?;
            }
            transfer_done = true;
            self.grades(f, &mut rng, id, sp, &ccs)?;
            self.attendance(f, &mut rng, id, sp, &ccs)?;
        }
        self.students[i].spans = spans;
        Ok(())
    }

    fn schedule(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        i: usize,
        id: i64,
        sp: &Span,
    ) -> io::Result<Vec<CcRow>> {
        let mut out = Vec::with_capacity(10);
        let cal_first = self.cals[sp.year].first;
        let n_slots = self.catalog.slots_of(sp.grade).len();
        for slot_no in 0..n_slots {
            let (course, period) = {
                let slot = &self.catalog.slots_of(sp.grade)[slot_no];
                (slot.courses[(i + slot_no) % slot.courses.len()], slot.period)
            };
            let term = self.catalog.courses[course].term;
            let (tfirst, tlast) = self.cals[sp.year].term_bounds(term);
            if sp.entry > tlast || sp.exit <= tfirst {
                continue;
            }
            let Some(&g) = self.group_of.get(&(sp.year, sp.school, course)) else { continue };
            let grp = &mut self.groups[g];
            let k = (grp.next % grp.n) as usize;
            grp.next += 1;
            let (first, n) = (grp.first, grp.n as usize);
            let enrolled = sp.entry.max(tfirst);
            let left = sp.exit.min(tlast + 1);
            let ended = sp.exit < tlast + 1;
            let cal = &self.cals[sp.year];
            let lo = cal.index_of(enrolled) + 10;
            let hi = cal.index_of(left).min(if sp.year == YEARS - 1 { self.as_of_idx } else { usize::MAX });
            let mut rows: Vec<(usize, Day, Day, bool)> = Vec::with_capacity(3);
            if n > 1 && lo + 10 < hi && rng.chance(0.03) {
                let drop = cal.days[rng.range(lo as i64, hi as i64 - 10) as usize];
                rows.push((first + k, enrolled, drop, true));
                rows.push((first + (k + 1) % n, drop, left, ended));
            } else {
                rows.push((first + k, enrolled, left, ended));
            }
            if n > 1 && rng.chance(0.003) {
                rows.push((first + (k + 1) % n, enrolled, enrolled, true));
            }
            for (si, from, to, negative) in rows {
                let cid = self.next("cc");
                let sec = &self.sections[si];
                let sign = if negative { -1 } else { 1 };
                let c = &self.catalog.courses[course];
                let t = &mut f.cc;
                t.i(cid);
                t.i(if self.opts.quirks { cid + 3_000_000 } else { cid });
                t.i(id);
                t.i(sign * sec.id);
                t.i(sign * self.term_id(sp.year, term));
                t.i(SCHOOLS[sp.school].number);
                t.s(&c.number);
                t.s(&sec.k.to_string());
                t.d(from);
                t.d(to);
                t.s(&format!("{period}(A)"));
                t.i(self.staff[sec.teacher].id);
                t.i(rng.range(0, 6));
                t.i(rng.range(0, 4));
                t.end()?;
                out.push(CcRow { id: cid, section: si, period, term, enrolled: from, left: to });
            }
        }
        let _ = cal_first;
        Ok(out)
    }

    fn teacher_name(&self, section: usize) -> String {
        let u = &self.users[self.staff[self.sections[section].teacher].user];
        format!("{}, {}", u.last, u.first)
    }

    #[allow(clippy::too_many_arguments, reason = "one stored-grade row has many columns")]
    fn stored_row(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        school: (i64, &str),
        course: usize,
        section: Option<usize>,
        term_id: i64,
        store: &str,
        grade_level: i32,
        stored: Day,
        credit: f64,
    ) -> io::Result<()> {
        let q = self.q();
        let id = self.next("stored");
        let c = &self.catalog.courses[course];
        let pct = rng.normal(85.0, 8.0).clamp(45.0, 100.0).round();
        let (mut letter, points) = letter(pct);
        let no_grade = q && id % 487 == 200;
        if no_grade {
            letter = "--";
        }
        let teacher = section.map(|s| self.teacher_name(s)).unwrap_or_default();
        let comment = if rng.chance(0.03) { GRADE_COMMENTS[rng.index(GRADE_COMMENTS.len())] } else { "" };
        let t = &mut f.stored;
        t.i(if q { id + 500_000 } else { id });
        t.i(id);
        t.i(student);
        t.i(school.0);
        t.s(school.1);
        t.s(&c.number);
        t.s(&c.name);
        t.i(section.map_or(0, |s| self.sections[s].id));
        t.i(term_id);
        t.s(store);
        t.s(letter);
        if no_grade {
            t.i(0)
        } else {
            t.f(pct, 1)
        };
        t.f(if c.exclude_gpa { 0.0 } else { points }, 1);
        t.f(if letter == "F" || no_grade { 0.0 } else { credit }, 2);
        t.f(credit, 2);
        t.s(c.credit_type);
        t.i(i64::from(grade_level));
        t.d(stored);
        t.s(&teacher);
        t.b(c.exclude_gpa);
        t.b(c.exclude_gpa);
        t.b(false);
        if q && matches!(id, 50 | 150 | 250) {
            t.expect_bad_row();
            t.s("Great\twork");
        } else {
            t.s(comment);
        }
        t.end()
    }

    fn transfer_grades(&mut self, f: &mut Files, rng: &mut Rng, student: i64, sp: &Span) -> io::Result<()> {
        let prev_grade = sp.grade - 1;
        let term_id = i64::from(FIRST_YEAR_ID + sp.year as i32 - 1) * 100;
        let courses: Vec<usize> = self
            .catalog
            .slots_of(prev_grade)
            .iter()
            .filter(|s| self.catalog.courses[s.courses[0]].term == TermKind::Year)
            .map(|s| s.courses[0])
            .collect();
        for c in courses {
            self.stored_row(
                f,
                rng,
                student,
                (9001, "Springfield Academy"),
                c,
                None,
                term_id,
                "Y1",
                prev_grade,
                sp.entry,
                1.0,
            )?;
        }
        Ok(())
    }

    fn grades(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
        ccs: &[CcRow],
    ) -> io::Result<()> {
        let level = SCHOOLS[sp.school].level;
        let school = (SCHOOLS[sp.school].number, SCHOOLS[sp.school].name);
        let (s1_last, s2_first, last, q3_first, q3_last) = {
            let cal = &self.cals[sp.year];
            (
                cal.days[cal.s2_start - 1],
                cal.days[cal.s2_start],
                cal.last,
                cal.days[cal.q[2]],
                cal.days[cal.q[3] - 1],
            )
        };
        let current = sp.year == YEARS - 1;
        for cc in ccs {
            let course = self.sections[cc.section].course;
            if !self.catalog.courses[course].graded {
                continue;
            }
            let full = cc.term == TermKind::Year;
            let stores: &[(TermKind, &str)] = match (level, full) {
                (Level::Middle, true) => &[(TermKind::Year, "Y1")],
                (_, true) => &[(TermKind::S1, "S1"), (TermKind::S2, "S2")],
                (_, false) => {
                    if cc.term == TermKind::S1 {
                        &[(TermKind::S1, "S1")]
                    } else {
                        &[(TermKind::S2, "S2")]
                    }
                }
            };
            let credit_total = self.catalog.courses[course].credit;
            for &(term, code) in stores {
                let end = match term {
                    TermKind::S1 => s1_last,
                    _ => last,
                };
                if end >= self.as_of || cc.enrolled > end || cc.left <= end {
                    continue;
                }
                let credit = if full && term != TermKind::Year { credit_total / 2.0 } else { credit_total };
                let tid = self.term_id(sp.year, term);
                self.stored_row(
                    f,
                    rng,
                    student,
                    school,
                    course,
                    Some(cc.section),
                    tid,
                    code,
                    sp.grade,
                    end + 4,
                    credit,
                )?;
            }
            if current {
                // In-progress gradebook grades: S1 final, Q3 running.
                if cc.term != TermKind::S2 && cc.enrolled <= s1_last && cc.left > s1_last {
                    self.pg_row(f, rng, student, cc.section, "S1", self.cals[sp.year].first, s1_last, false)?;
                }
                if cc.term != TermKind::S1 && cc.enrolled <= self.as_of && cc.left > self.as_of {
                    let blank = rng.chance(0.3);
                    self.pg_row(f, rng, student, cc.section, "Q3", q3_first.max(s2_first), q3_last, blank)?;
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments, reason = "one gradebook row has many columns")]
    fn pg_row(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        section: usize,
        name: &str,
        start: Day,
        end: Day,
        no_grade: bool,
    ) -> io::Result<()> {
        let id = self.next("pg");
        let pct = rng.normal(84.0, 9.0).clamp(40.0, 100.0).round();
        let (letter, _) = letter(pct);
        let t = &mut f.pg;
        t.i(id);
        t.i(if self.opts.quirks { id + 800_000 } else { id });
        t.i(student);
        t.i(self.sections[section].id);
        t.s(name);
        t.d(start);
        t.d(end);
        t.s(if no_grade { "--" } else { letter });
        if no_grade {
            t.i(0)
        } else {
            t.f(pct, 1)
        };
        t.f(if no_grade { 0.0 } else { pct * 2.0 }, 1);
        t.i(if no_grade { 0 } else { 200 });
        t.s(if no_grade { "" } else { "S" });
        t.blank();
        t.blank();
        t.i(0);
        t.i(0);
        t.i(0);
        t.d(self.as_of);
        t.end()
    }

    fn att_row(&mut self, f: &mut Files, rng: &mut Rng, row: AttRow) -> io::Result<()> {
        let id = self.next("attendance");
        let q = self.q();
        let t = &mut f.attendance;
        t.i(id);
        t.i(if q { id + 7_000_000 } else { id });
        t.i(row.student);
        t.i(SCHOOLS[row.school].number);
        t.i(i64::from(FIRST_YEAR_ID) + row.year as i64);
        t.d(row.date);
        t.i(row.code_id);
        t.s(if row.cc.is_some() { "ATT_ModeMeeting" } else { "ATT_ModeDaily" });
        t.i(row.cc.unwrap_or(0));
        t.i(row.period.unwrap_or(0));
        t.i(row.calendar_day);
        if q && matches!(id, 100 | 2_100 | 4_100) {
            t.expect_bad_row();
            t.s("Called in\tby parent");
        } else if rng.chance(0.03) {
            t.s(ATT_COMMENTS[rng.index(ATT_COMMENTS.len())]);
        } else {
            t.blank();
        }
        t.i(row.minutes);
        t.i(0);
        t.i(0);
        t.i(0);
        t.i(0);
        t.end()
    }

    fn attendance(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
        ccs: &[CcRow],
    ) -> io::Result<()> {
        let level = SCHOOLS[sp.school].level;
        let (start, end) = {
            let cal = &self.cals[sp.year];
            let end = if sp.year == YEARS - 1 {
                cal.index_of(sp.exit).min(self.as_of_idx + 1)
            } else {
                cal.index_of(sp.exit)
            };
            (cal.index_of(sp.entry), end)
        };
        let daily_p = if level == Level::Elementary { 0.06 } else { 0.05 };
        let mut d = start + rng.gap(daily_p);
        while d < end {
            let date = self.cals[sp.year].days[d];
            let r = rng.unit();
            let c = match r {
                r if r < 0.12 => catalog::code::ABSENT,
                r if r < 0.54 => catalog::code::EXCUSED,
                r if r < 0.80 => catalog::code::UNEXCUSED,
                r if r < 0.95 => catalog::code::TARDY,
                r if r < 0.99 => catalog::code::EARLY,
                _ => catalog::code::FIELD_TRIP,
            };
            let row = AttRow {
                student,
                school: sp.school,
                year: sp.year,
                date,
                code_id: self.att_code_id(sp.school, sp.year, c),
                cc: None,
                period: None,
                calendar_day: self.calendar_day_id(sp.school, sp.year, date),
                minutes: 0,
            };
            self.att_row(f, rng, row)?;
            d += 1 + rng.gap(daily_p);
        }
        if level == Level::Elementary {
            return Ok(());
        }
        let meet_p = 0.03;
        let mut d = start + rng.gap(meet_p);
        while d < end {
            let date = self.cals[sp.year].days[d];
            let period = 1 + rng.below(7) as u8;
            if let Some(cc) = ccs.iter().find(|c| c.period == period && c.enrolled <= date && date < c.left) {
                let r = rng.unit();
                let (c, minutes) = match r {
                    r if r < 0.6 => (catalog::code::TARDY, rng.range(3, 15)),
                    r if r < 0.9 => (catalog::code::UNEXCUSED, 50),
                    _ => (catalog::code::EXCUSED, 50),
                };
                let row = AttRow {
                    student,
                    school: sp.school,
                    year: sp.year,
                    date,
                    code_id: self.att_code_id(sp.school, sp.year, c),
                    cc: Some(cc.id),
                    period: Some(self.period_id(sp.school, sp.year, period)),
                    calendar_day: self.calendar_day_id(sp.school, sp.year, date),
                    minutes,
                };
                self.att_row(f, rng, row)?;
            }
            d += 1 + rng.gap(meet_p);
        }
        Ok(())
    }

    /// Rows that point at a student who does not exist.
    fn orphans(&mut self, f: &mut Files) -> io::Result<()> {
        let Some(sec) = self.sections.first() else { return Ok(()) };
        let (sid, k, course, year, school) = (sec.id, sec.k, sec.course, sec.year, sec.school);
        let term = self.catalog.courses[course].term;
        let (tfirst, tlast) = self.cals[year].term_bounds(term);
        for _ in 0..2 {
            let cid = self.next("cc");
            let t = &mut f.cc;
            t.count_reject("missing_student");
            t.i(cid);
            t.i(cid + 3_000_000);
            t.i(MISSING_STUDENT_ID);
            t.i(sid);
            t.i(self.term_id(year, term));
            t.i(SCHOOLS[school].number);
            t.s(&self.catalog.courses[course].number);
            t.s(&k.to_string());
            t.d(tfirst);
            t.d(tlast + 1);
            t.s("1(A)");
            t.i(0);
            t.i(0);
            t.i(0);
            t.end()?;
        }
        f.attendance.count_reject("missing_student");
        let date = self.cals[year].days[3];
        let mut rng = Rng::new(self.opts.seed, 11);
        let row = AttRow {
            student: MISSING_STUDENT_ID,
            school,
            year,
            date,
            code_id: self.att_code_id(school, year, catalog::code::ABSENT),
            cc: None,
            period: None,
            calendar_day: self.calendar_day_id(school, year, date),
            minutes: 0,
        };
        self.att_row(f, &mut rng, row)
    }
}

struct AttRow {
    student: i64,
    school: usize,
    year: usize,
    date: Day,
    code_id: i64,
    cc: Option<i64>,
    period: Option<i64>,
    calendar_day: i64,
    minutes: i64,
}

/// Writes a synthetic PowerSchool district export into `out_dir` (created if
/// missing) plus `manifest.toml`, and returns the manifest.
///
/// The same options always write the same bytes. See the crate
/// documentation for the files, their columns and the quirks.
pub fn powerschool(opts: &PsGenOptions, out_dir: &Path) -> io::Result<GenManifest> {
    std::fs::create_dir_all(out_dir)?;
    let cals: Vec<YearCal> = (0..=YEARS).map(|y| YearCal::new(FIRST_YEAR_ID + y as i32)).collect();
    let as_of_idx = cals[YEARS - 1].s2_start + 20;
    let as_of = cals[YEARS - 1].days[as_of_idx];
    let mut g = Gen {
        opts: opts.clone(),
        cals,
        as_of_idx,
        as_of,
        catalog: Catalog::new(),
        students: Vec::new(),
        sections: Vec::new(),
        groups: Vec::new(),
        group_of: HashMap::new(),
        users: Vec::new(),
        staff: Vec::new(),
        seq: HashMap::new(),
    };
    g.plan();
    g.build_sections();
    let mut f = g.open(out_dir)?;
    g.write_static(&mut f)?;
    let mut family = None;
    for i in 0..g.students.len() {
        g.student(&mut f, i, &mut family)?;
    }
    if opts.quirks {
        g.orphans(&mut f)?;
    }
    let Files {
        schools,
        terms,
        gens,
        att_code,
        period,
        calendar,
        students,
        race,
        reenroll,
        users,
        staff,
        courses,
        sections,
        cc,
        stored,
        pg,
        attendance,
        person,
        assoc,
        detail,
        codeset,
        email,
        person_email,
        phone,
        person_phone,
        address,
        person_address,
    } = f;
    let mut files = Vec::new();
    for w in [
        schools,
        terms,
        gens,
        att_code,
        period,
        calendar,
        students,
        race,
        reenroll,
        users,
        staff,
        courses,
        sections,
        cc,
        stored,
        pg,
        attendance,
        person,
        assoc,
        detail,
        codeset,
        email,
        person_email,
        phone,
        person_phone,
        address,
        person_address,
    ] {
        files.push(w.finish()?);
    }
    let manifest = GenManifest {
        system: "powerschool".to_owned(),
        students: opts.students,
        seed: opts.seed,
        quirks: opts.quirks,
        encoding: opts.encoding,
        files,
    };
    std::fs::write(out_dir.join(MANIFEST_FILE), manifest.to_toml())?;
    std::fs::write(out_dir.join(SOURCE_CONFIG_FILE), manifest.source_config_toml())?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ferry-gen-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn deterministic_and_counted() {
        let opts = PsGenOptions { students: 120, seed: 5, quirks: true, encoding: TextEncoding::Utf8 };
        let a = tmp("a");
        let b = tmp("b");
        let ma = powerschool(&opts, &a).unwrap();
        let mb = powerschool(&opts, &b).unwrap();
        assert_eq!(ma, mb);
        for f in &ma.files {
            let x = std::fs::read(a.join(&f.name)).unwrap();
            assert_eq!(x, std::fs::read(b.join(&f.name)).unwrap(), "{}", f.name);
            // Rows = line breaks minus the header line.
            let lines = x.iter().filter(|&&c| c == b'\n').count() as u64;
            let header = u64::from(f.header != HeaderStyle::None);
            assert_eq!(lines, f.rows + header, "{}", f.name);
        }
        assert_eq!(GenManifest::parse(&std::fs::read_to_string(a.join(MANIFEST_FILE)).unwrap()).unwrap(), ma);
        assert_eq!(ma.file("students.txt").unwrap().rows, 120);
        assert_eq!(ma.file("cc.txt").unwrap().rejected_for("missing_student"), 2);
        assert_eq!(ma.file("sections.txt").unwrap().rejected_for("missing_course"), 1);
        let students = std::fs::read(a.join("students.txt")).unwrap();
        assert!(students.starts_with(b"\xEF\xBB\xBF[01]ID\t[01]DCID"));
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    #[test]
    fn cp1252_has_no_utf8_multibyte_sequences() {
        let opts = PsGenOptions { students: 60, seed: 3, quirks: false, encoding: TextEncoding::Cp1252 };
        let d = tmp("c");
        powerschool(&opts, &d).unwrap();
        let s = std::fs::read(d.join("students.txt")).unwrap();
        assert!(std::str::from_utf8(&s).is_err(), "accented names make it invalid UTF-8");
        assert!(s.iter().any(|&b| b >= 0x80));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
