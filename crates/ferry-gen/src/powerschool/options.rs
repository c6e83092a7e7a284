//! What the caller asks for ([`PsGenOptions`]), and the missing student id
//! and course number the orphan rows point at.

use crate::manifest::TextEncoding;

/// What to generate.
///
/// The default writes the core export (students, enrollments, staff,
/// schedules, grades, attendance, contacts); [`PsGenOptions::full_district`]
/// turns on every other table a district exports and the secrets a full
/// export carries. Callers name the fields they set and take the rest from
/// the default: `PsGenOptions { students: 500, seed: 7, ..PsGenOptions::default() }`.
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
    /// Also write the rest of a district's tables: Log, SPEnrollments, the
    /// test tables (Test, TestScore, StudentTest, StudentTestScore),
    /// Cycle_Day, Bell_Schedule and Bell_Schedule_Items, RoleDef and
    /// SectionTeacher, ClassRank, the Incident Management tables and the
    /// `U_StudentsUserFields` and `S_TX_STU_X` extension tables. With it,
    /// Gen gains the `logtype`, `subtype` and `specprog` rows,
    /// Calendar_Day its `Cycle_Day_ID` and `Bell_Schedule_ID` columns and
    /// StudentContactDetail its communication flags and closed earlier
    /// periods. Off, the core files are exactly what they were without it.
    pub district_tables: bool,
    /// Add the secrets a full Students export carries (SSN, web passwords,
    /// parent web login, locker number and combination), fake values; the
    /// manifest lists them under the file's `secrets`.
    pub secrets: bool,
    /// Also write `contacts.txt`: StudentContactAssoc and Person columns
    /// side by side, one row per student and contact, the shape of a
    /// district's combined contacts export.
    pub contacts_export: bool,
}

impl Default for PsGenOptions {
    fn default() -> PsGenOptions {
        PsGenOptions {
            students: 1000,
            seed: 1,
            quirks: false,
            encoding: TextEncoding::Utf8,
            district_tables: false,
            secrets: false,
            contacts_export: false,
        }
    }
}

impl PsGenOptions {
    /// A full district export: every table ([`PsGenOptions::district_tables`])
    /// and the Students secrets ([`PsGenOptions::secrets`]); no quirks, no
    /// combined contacts file, UTF-8.
    pub fn full_district(students: u32, seed: u64) -> PsGenOptions {
        PsGenOptions { students, seed, district_tables: true, secrets: true, ..PsGenOptions::default() }
    }
}

/// A student id no Students row has (orphan rows point at it).
pub const MISSING_STUDENT_ID: i64 = 9_999_999;
/// A course number no Courses row has (the orphan section uses it).
pub const MISSING_COURSE_NUMBER: &str = "ZZ999";
