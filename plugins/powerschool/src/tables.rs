//! The PowerSchool tables this connector reads, their numbers and names, and
//! how a file's table is recognized: from its headers (a `[01]`,
//! `[Students]` or `STUDENTS.` qualifier on most columns), from its file
//! name, or from the columns it has.

use std::fmt;

/// A table the connector knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Schools (39).
    Schools,
    /// Terms (13).
    Terms,
    /// Gen (6): entry and exit codes.
    Gen,
    /// Attendance_Code (156).
    AttendanceCode,
    /// Period (138).
    Period,
    /// Calendar_Day (51).
    CalendarDay,
    /// Students (1).
    Students,
    /// StudentRace.
    StudentRace,
    /// ReEnrollments (18).
    ReEnrollments,
    /// Users (one row per person, 7.8+).
    Users,
    /// SchoolStaff (one row per person and school, 7.8+).
    SchoolStaff,
    /// Teachers (5): the reporting view joining Users and SchoolStaff.
    Teachers,
    /// Courses (2).
    Courses,
    /// Sections (3).
    Sections,
    /// CC (4): section enrollments.
    Cc,
    /// StoredGrades (31).
    StoredGrades,
    /// PGFinalGrades (95).
    PgFinalGrades,
    /// Attendance (157).
    Attendance,
    /// Person (contacts).
    Person,
    /// StudentContactAssoc.
    StudentContactAssoc,
    /// StudentContactDetail.
    StudentContactDetail,
    /// CodeSet.
    CodeSet,
    /// EmailAddress.
    EmailAddress,
    /// PersonEmailAddressAssoc.
    PersonEmailAddressAssoc,
    /// PhoneNumber.
    PhoneNumber,
    /// PersonPhoneNumberAssoc.
    PersonPhoneNumberAssoc,
    /// PersonAddress.
    PersonAddress,
    /// PersonAddressAssoc.
    PersonAddressAssoc,
    /// Ferry's flat contacts layout (one row per student and contact), what
    /// the sink writes for Data Import Manager.
    Contacts,
    /// Log (8): discipline and other log entries.
    Log,
    /// SPEnrollments: special-program participation.
    SpEnrollments,
    /// Test: the assessments.
    Test,
    /// TestScore: the scores an assessment reports.
    TestScore,
    /// StudentTest: a student's sitting of a test.
    StudentTest,
    /// StudentTestScore: one score of a sitting.
    StudentTestScore,
    /// Cycle_Day: the days of a school's rotation.
    CycleDay,
    /// Bell_Schedule: a school's bell schedules.
    BellSchedule,
    /// Bell_Schedule_Items: the periods of a bell schedule and their times.
    BellScheduleItems,
    /// RoleDef: roles (of section teachers).
    RoleDef,
    /// SectionTeacher: every teacher of a section (co-teachers too).
    SectionTeacher,
    /// ClassRank: stored GPAs and class ranks.
    ClassRank,
    /// Incident Management: Incident.
    Incident,
    /// Incident Management: Incident_Detail (behaviours, actions, roles of an incident).
    IncidentDetail,
    /// Incident Management: Incident_Person_Role.
    IncidentPersonRole,
    /// Incident Management: Incident_Action.
    IncidentAction,
    /// Incident Management: Incident_LU_Code (the codes).
    IncidentLuCode,
    /// A contacts export with StudentContactAssoc and Person columns side by
    /// side (StudentDCID, PersonID, names, email, phone, custody flags).
    ContactsExport,
    /// A one-to-one extension of Students keyed by `StudentsDCID`
    /// (`U_StudentsUserFields`, `S_NJ_STU_X`): merged into the students'
    /// extensions. Recognized by its name's prefix and that column.
    StudentExtension,
    /// A table the connector does not map (U_ extensions, state tables, …): it is
    /// kept as a source table only. Never recognized by name.
    Unmapped,
}

struct Info {
    table: Table,
    name: &'static str,
    number: Option<u16>,
    aliases: &'static [&'static str],
}

const INFO: &[Info] = &[
    Info { table: Table::Schools, name: "Schools", number: Some(39), aliases: &["school"] },
    Info { table: Table::Terms, name: "Terms", number: Some(13), aliases: &["term"] },
    Info { table: Table::Gen, name: "Gen", number: Some(6), aliases: &[] },
    Info {
        table: Table::AttendanceCode,
        name: "Attendance_Code",
        number: Some(156),
        aliases: &["attendancecodes"],
    },
    Info { table: Table::Period, name: "Period", number: Some(138), aliases: &["periods"] },
    Info {
        table: Table::CalendarDay,
        name: "Calendar_Day",
        number: Some(51),
        aliases: &["calendar", "calendardays"],
    },
    Info { table: Table::Students, name: "Students", number: Some(1), aliases: &["student"] },
    Info { table: Table::StudentRace, name: "StudentRace", number: None, aliases: &["studentraces"] },
    Info { table: Table::ReEnrollments, name: "ReEnrollments", number: Some(18), aliases: &["reenrollment"] },
    Info { table: Table::Users, name: "Users", number: None, aliases: &[] },
    Info { table: Table::SchoolStaff, name: "SchoolStaff", number: None, aliases: &[] },
    Info { table: Table::Teachers, name: "Teachers", number: Some(5), aliases: &["teacher", "staff"] },
    Info { table: Table::Courses, name: "Courses", number: Some(2), aliases: &["course"] },
    Info { table: Table::Sections, name: "Sections", number: Some(3), aliases: &["section"] },
    Info {
        table: Table::Cc,
        name: "CC",
        number: Some(4),
        aliases: &["schedules", "studentschedules", "schedule"],
    },
    Info {
        table: Table::StoredGrades,
        name: "StoredGrades",
        number: Some(31),
        aliases: &["historicalgrades"],
    },
    Info { table: Table::PgFinalGrades, name: "PGFinalGrades", number: Some(95), aliases: &["finalgrades"] },
    Info { table: Table::Attendance, name: "Attendance", number: Some(157), aliases: &[] },
    Info { table: Table::Person, name: "Person", number: None, aliases: &["persons"] },
    Info { table: Table::StudentContactAssoc, name: "StudentContactAssoc", number: None, aliases: &[] },
    Info { table: Table::StudentContactDetail, name: "StudentContactDetail", number: None, aliases: &[] },
    Info { table: Table::CodeSet, name: "CodeSet", number: None, aliases: &[] },
    Info { table: Table::EmailAddress, name: "EmailAddress", number: None, aliases: &[] },
    Info {
        table: Table::PersonEmailAddressAssoc,
        name: "PersonEmailAddressAssoc",
        number: None,
        aliases: &[],
    },
    Info { table: Table::PhoneNumber, name: "PhoneNumber", number: None, aliases: &[] },
    Info { table: Table::PersonPhoneNumberAssoc, name: "PersonPhoneNumberAssoc", number: None, aliases: &[] },
    Info { table: Table::PersonAddress, name: "PersonAddress", number: None, aliases: &[] },
    Info { table: Table::PersonAddressAssoc, name: "PersonAddressAssoc", number: None, aliases: &[] },
    Info { table: Table::Contacts, name: "Contacts", number: None, aliases: &[] },
    Info { table: Table::Log, name: "Log", number: Some(8), aliases: &["logs"] },
    Info { table: Table::SpEnrollments, name: "SPEnrollments", number: None, aliases: &["specialprograms"] },
    Info { table: Table::Test, name: "Test", number: None, aliases: &["tests"] },
    Info { table: Table::TestScore, name: "TestScore", number: None, aliases: &["testscores"] },
    Info { table: Table::StudentTest, name: "StudentTest", number: None, aliases: &["studenttests"] },
    Info {
        table: Table::StudentTestScore,
        name: "StudentTestScore",
        number: None,
        aliases: &["studenttestscores"],
    },
    Info { table: Table::CycleDay, name: "Cycle_Day", number: None, aliases: &["cycledays"] },
    Info { table: Table::BellSchedule, name: "Bell_Schedule", number: None, aliases: &["bellschedules"] },
    Info {
        table: Table::BellScheduleItems,
        name: "Bell_Schedule_Items",
        number: None,
        aliases: &["bellscheduleitem"],
    },
    Info { table: Table::RoleDef, name: "RoleDef", number: None, aliases: &["roledefs"] },
    Info {
        table: Table::SectionTeacher,
        name: "SectionTeacher",
        number: None,
        aliases: &["sectionteachers"],
    },
    Info { table: Table::ClassRank, name: "ClassRank", number: None, aliases: &["classranks"] },
    Info { table: Table::Incident, name: "Incident", number: None, aliases: &["incidents"] },
    Info { table: Table::IncidentDetail, name: "Incident_Detail", number: None, aliases: &[] },
    Info { table: Table::IncidentPersonRole, name: "Incident_Person_Role", number: None, aliases: &[] },
    Info { table: Table::IncidentAction, name: "Incident_Action", number: None, aliases: &[] },
    Info { table: Table::IncidentLuCode, name: "Incident_LU_Code", number: None, aliases: &[] },
    Info { table: Table::ContactsExport, name: "ContactsExport", number: None, aliases: &[] },
    Info { table: Table::StudentExtension, name: "(student extension)", number: None, aliases: &[] },
    Info { table: Table::Unmapped, name: "(not mapped)", number: None, aliases: &[] },
];

/// Lower case without `_`, `-`, spaces and dots: how names are compared.
pub fn fold(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '_' | '-' | ' ' | '.')).flat_map(char::to_lowercase).collect()
}

impl Table {
    fn info(self) -> &'static Info {
        // INFO lists every variant once; the fallback is unreachable.
        INFO.iter().find(|i| i.table == self).unwrap_or(&INFO[0])
    }

    /// PowerSchool's name of the table (`Students`, `CC`, `Attendance_Code`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The table called `name` (any case, `_` optional, a few aliases).
    pub fn from_name(name: &str) -> Option<Table> {
        let f = fold(name);
        INFO.iter()
            .filter(|i| !matches!(i.table, Table::Unmapped | Table::StudentExtension))
            .find(|i| fold(i.name) == f || i.aliases.contains(&f.as_str()))
            .map(|i| i.table)
    }

    /// The table numbered `n`.
    pub fn from_number(n: u16) -> Option<Table> {
        INFO.iter().find(|i| i.number == Some(n)).map(|i| i.table)
    }

    /// The table a file name suggests: its stem is a table name, or starts
    /// with one (`students_2025-02-14.txt`).
    pub fn from_file_name(file: &str) -> Option<Table> {
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        if let Some(t) = Table::from_name(stem) {
            return Some(t);
        }
        let f = fold(stem);
        let mut best: Option<(usize, Table)> = None;
        for i in INFO.iter().filter(|i| !matches!(i.table, Table::Unmapped | Table::StudentExtension)) {
            for n in std::iter::once(fold(i.name)).chain(i.aliases.iter().map(|a| (*a).to_owned())) {
                if f.starts_with(&n) && best.is_none_or(|(len, _)| n.len() > len) {
                    best = Some((n.len(), i.table));
                }
            }
        }
        best.map(|(_, t)| t)
    }

    /// The table whose characteristic columns `keys` (folded own-column
    /// names) has, for files recognized neither by headers nor by name.
    pub fn from_columns(keys: &[String]) -> Option<Table> {
        let has = |c: &str| keys.iter().any(|k| k == c);
        let all = |cs: &[&str]| cs.iter().all(|c| has(c));
        const SIGNATURES: &[(Table, &[&str])] = &[
            (Table::ContactsExport, &["studentdcid", "personid", "firstname", "lastname"]),
            (Table::IncidentPersonRole, &["incidentid", "roleincidentdetailid"]),
            (Table::IncidentAction, &["incidentactionid", "incidentid"]),
            (Table::IncidentDetail, &["incidentdetailid", "incidentid"]),
            (Table::IncidentLuCode, &["lucodeid", "codetype"]),
            (Table::Incident, &["incidentid", "incidentts"]),
            (Table::Log, &["logtypeid", "entrydate"]),
            (Table::SpEnrollments, &["programid", "enterdate"]),
            (Table::StudentTestScore, &["studenttestid", "testscoreid"]),
            (Table::StudentTest, &["testid", "testdate", "studentid"]),
            (Table::TestScore, &["testid", "sortorder", "name"]),
            (Table::BellScheduleItems, &["bellscheduleid", "periodid", "starttime"]),
            (Table::BellSchedule, &["attendanceconversionid"]),
            (Table::CycleDay, &["letter", "daynumber"]),
            (Table::SectionTeacher, &["sectionid", "teacherid", "roleid"]),
            (Table::ClassRank, &["gpamethod", "outof"]),
            (Table::Attendance, &["attdate", "attendancecodeid"]),
            (Table::Attendance, &["attdate", "attcode"]),
            (Table::AttendanceCode, &["attcode", "presencestatuscd"]),
            (Table::CalendarDay, &["datevalue", "insession"]),
            (Table::Period, &["periodnumber"]),
            (Table::PgFinalGrades, &["finalgradename"]),
            (Table::StoredGrades, &["storecode"]),
            (Table::Cc, &["dateenrolled", "dateleft"]),
            (Table::Sections, &["sectionnumber", "coursenumber", "termid"]),
            (Table::Courses, &["coursenumber", "coursename"]),
            (Table::Terms, &["firstday", "lastday"]),
            (Table::Schools, &["schoolnumber"]),
            (Table::StudentContactDetail, &["studentcontactassocid", "relationshiptypecodesetid"]),
            (Table::StudentContactAssoc, &["studentcontactassocid", "studentdcid", "personid"]),
            (Table::PersonEmailAddressAssoc, &["personid", "emailaddressid"]),
            (Table::PersonPhoneNumberAssoc, &["personid", "phonenumberid"]),
            (Table::PersonAddressAssoc, &["personid", "personaddressid"]),
            (Table::EmailAddress, &["emailaddressid", "emailaddress"]),
            (Table::PhoneNumber, &["phonenumberid", "phonenumber"]),
            (Table::PersonAddress, &["personaddressid", "street"]),
            (Table::CodeSet, &["codesetid", "codetype"]),
            (Table::Contacts, &["contactid", "studentnumber", "relationship"]),
            (Table::StudentRace, &["racecd"]),
            (Table::Gen, &["cat", "name", "value"]),
            (Table::SchoolStaff, &["usersdcid", "staffstatus"]),
            (Table::Teachers, &["teachernumber", "schoolid", "status"]),
            (Table::Users, &["teachernumber"]),
            (Table::ReEnrollments, &["studentid", "entrydate", "exitdate"]),
            (Table::Students, &["studentnumber", "lastname"]),
            (Table::Person, &["firstname", "lastname"]),
        ];
        SIGNATURES.iter().find(|(_, cs)| all(cs)).map(|(t, _)| *t)
    }

    /// The columns (folded own-column names, alternatives separated by `|`)
    /// without which no row of the table can become a record: a file
    /// recognized as this table that lacks one is not read as it.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Table::Contacts => &["contactid"],
            Table::ContactsExport => &["studentdcid", "personid", "firstname", "lastname"],
            Table::StudentContactAssoc => &["studentcontactassocid", "studentdcid", "personid"],
            Table::StudentContactDetail => &["studentcontactassocid"],
            _ => &[],
        }
    }

    /// The required columns (see [`Table::required_columns`]) that `keys`
    /// (folded own-column names) lack, as their first alternative.
    pub fn missing_columns(self, keys: &[String]) -> Vec<&'static str> {
        self.required_columns()
            .iter()
            .filter(|alts| !alts.split('|').any(|a| keys.iter().any(|k| k == a)))
            .map(|alts| alts.split('|').next().unwrap_or(alts))
            .collect()
    }

    /// Every table the connector maps, for documentation and errors.
    pub fn all() -> impl Iterator<Item = Table> {
        INFO.iter().map(|i| i.table).filter(|t| !matches!(t, Table::Unmapped | Table::StudentExtension))
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_files() {
        assert_eq!(Table::from_name("students"), Some(Table::Students));
        assert_eq!(Table::from_name("ATTENDANCE_CODE"), Some(Table::AttendanceCode));
        assert_eq!(Table::from_name("attendancecode"), Some(Table::AttendanceCode));
        assert_eq!(Table::from_number(1), Some(Table::Students));
        assert_eq!(Table::from_number(157), Some(Table::Attendance));
        assert_eq!(Table::from_file_name("cc.txt"), Some(Table::Cc));
        assert_eq!(Table::from_file_name("Students_2025-02-14.csv"), Some(Table::Students));
        assert_eq!(Table::from_file_name("studentrace.txt"), Some(Table::StudentRace));
        assert_eq!(Table::from_file_name("attendance_2024.txt"), Some(Table::Attendance));
        assert_eq!(Table::from_file_name("attendance_code.txt"), Some(Table::AttendanceCode));
        assert_eq!(Table::from_file_name("studentcontactassoc.txt"), Some(Table::StudentContactAssoc));
        assert_eq!(Table::from_file_name("notes.txt"), None);
        assert_eq!(Table::from_file_name("sectionteacher.txt"), Some(Table::SectionTeacher));
        assert_eq!(Table::from_file_name("studenttestscore.txt"), Some(Table::StudentTestScore));
        assert_eq!(Table::from_file_name("incident.txt"), Some(Table::Incident));
        assert_eq!(Table::from_file_name("bell_schedule_items.txt"), Some(Table::BellScheduleItems));
        assert_eq!(Table::all().count(), INFO.len() - 2);
        assert_eq!(Table::from_name("(not mapped)"), None);
    }

    #[test]
    fn signatures() {
        let keys = |cs: &[&str]| cs.iter().map(|c| fold(c)).collect::<Vec<_>>();
        assert_eq!(
            Table::from_columns(&keys(&["ID", "StudentID", "SectionID", "DateEnrolled", "DateLeft"])),
            Some(Table::Cc)
        );
        assert_eq!(
            Table::from_columns(&keys(&["Student_Number", "Last_Name", "First_Name"])),
            Some(Table::Students)
        );
        assert_eq!(Table::from_columns(&keys(&["a", "b"])), None);
    }
}
