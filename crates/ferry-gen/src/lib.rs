//! Deterministic synthetic test data for Ferry, with nothing but std.
//!
//! [`powerschool`] writes a realistic PowerSchool district export: about ten
//! schools (plus the district office, school 0, and Graduated Students,
//! school 999999), four school years of terms (YearID 31–34, 2021-22 to
//! 2024-25, exported in February 2025), students entering, moving, leaving and
//! graduating, staff (Users + SchoolStaff), courses, sections, schedules (CC,
//! with drops as negative SectionID/TermID), stored grades, current gradebook
//! grades, daily and meeting attendance (only non-present events), contacts in
//! the Person model plus the legacy Mother/Father fields, and custom `U_` /
//! `S_NJ_` fields. One file per table, tab-delimited, PowerSchool column
//! names, MM/DD/YYYY dates.
//!
//! [`PsGenOptions::full_district`] asks for everything else a district
//! exports ([`PsGenOptions::district_tables`]): Log (discipline referrals
//! and notes, resolved through Gen `logtype` / `subtype`) and the Incident
//! Management tables, SPEnrollments (Gen `specprog`), Test, TestScore,
//! StudentTest and StudentTestScore, Cycle_Day, Bell_Schedule and
//! Bell_Schedule_Items (times in seconds after midnight), RoleDef and
//! SectionTeacher (lead and co-teachers), ClassRank, the
//! `U_StudentsUserFields` and `S_TX_STU_X` extension tables keyed by
//! `StudentsDCID`, contact details with closed earlier periods; and the
//! secrets of a full Students export ([`PsGenOptions::secrets`], listed in
//! the manifest under `secrets`). [`PsGenOptions::contacts_export`] adds
//! `contacts.txt`, contacts and their students side by side.
//!
//! With [`PsGenOptions::quirks`] on, the files also carry every quirk the
//! PowerSchool reference lists: all four header styles and a headerless file
//! (`sections.txt`; its columns are in the manifest), comma-quoted and pipe
//! files, CRLF, a UTF-8 byte-order mark (`students.txt`), literal quotes in
//! unquoted values, tabs inside values (rows a reader must reject), ISO and
//! two-digit-year dates, `--` grades, blanks, DCID ≠ ID, leading-zero student
//! numbers, `true`/`false` flags and orphan rows (in the district tables too).
//! The [`GenManifest`] records each file's layout, exact row count, the rows
//! a correct reader rejects and the columns that hold secrets.
//!
//! ```no_run
//! use ferry_gen::{powerschool, PsGenOptions, TextEncoding};
//!
//! let opts = PsGenOptions {
//!     students: 1000,
//!     seed: 42,
//!     quirks: true,
//!     encoding: TextEncoding::Cp1252,
//!     ..PsGenOptions::default()
//! };
//! let manifest = powerschool(&opts, std::path::Path::new("target/district")).unwrap();
//! println!("{} rows", manifest.total_rows());
//! ```

mod catalog;
mod day;
mod manifest;
mod names;
mod powerschool;
mod rng;
mod table;

pub use manifest::{GenFile, GenManifest, HeaderStyle, MANIFEST_FILE, SOURCE_CONFIG_FILE, TextEncoding};
pub use powerschool::{MISSING_COURSE_NUMBER, MISSING_STUDENT_ID, PsGenOptions, powerschool};
