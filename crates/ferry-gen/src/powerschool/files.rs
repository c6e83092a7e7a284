//! The export files: one [`TableWriter`] per PowerSchool table, with its
//! file name, table number and layout (the header styles, delimiters,
//! quoting, line endings, byte-order mark and date styles quirks put in).
//! The columns are in [`columns`].

use std::io;
use std::path::Path;

use crate::day::DateStyle;
use crate::manifest::{GenFile, HeaderStyle};
use crate::table::{Layout, TableWriter};

use super::columns;
use super::options::PsGenOptions;

/// Every output file.
pub(super) struct Files {
    pub(super) schools: TableWriter,
    pub(super) terms: TableWriter,
    pub(super) gens: TableWriter,
    pub(super) att_code: TableWriter,
    pub(super) period: TableWriter,
    pub(super) calendar: TableWriter,
    pub(super) students: TableWriter,
    pub(super) race: TableWriter,
    pub(super) reenroll: TableWriter,
    pub(super) users: TableWriter,
    pub(super) staff: TableWriter,
    pub(super) courses: TableWriter,
    pub(super) sections: TableWriter,
    pub(super) cc: TableWriter,
    pub(super) stored: TableWriter,
    pub(super) pg: TableWriter,
    pub(super) attendance: TableWriter,
    pub(super) person: TableWriter,
    pub(super) assoc: TableWriter,
    pub(super) detail: TableWriter,
    pub(super) codeset: TableWriter,
    pub(super) email: TableWriter,
    pub(super) person_email: TableWriter,
    pub(super) phone: TableWriter,
    pub(super) person_phone: TableWriter,
    pub(super) address: TableWriter,
    pub(super) person_address: TableWriter,
}

/// A file's layout: PowerSchool's plain export, in `style` when quirks are on.
fn layout(opts: &PsGenOptions, style: HeaderStyle) -> Layout {
    let mut l = Layout::plain(opts.encoding);
    if opts.quirks {
        l.style = style;
    }
    l
}

impl Files {
    /// Creates every file in `dir`, each in its layout.
    pub(super) fn open(dir: &Path, opts: &PsGenOptions) -> io::Result<Files> {
        let q = opts.quirks;
        let tw = |name: &str, table: &'static str, num: Option<u16>, cols: &[&str], l: Layout| {
            TableWriter::create(dir, name, table, num, cols, l)
        };
        let mut schools_l = layout(opts, HeaderStyle::Named);
        let mut terms_l = layout(opts, HeaderStyle::Numbered);
        let mut students_l = layout(opts, HeaderStyle::Numbered);
        let mut reenroll_l = layout(opts, HeaderStyle::Named);
        let mut courses_l = layout(opts, HeaderStyle::Dotted);
        let sections_l = layout(opts, HeaderStyle::None);
        let mut cc_l = layout(opts, HeaderStyle::Bare);
        let mut stored_l = layout(opts, HeaderStyle::Named);
        let mut detail_l = layout(opts, HeaderStyle::Dotted);
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
            schools: tw("schools.txt", "Schools", Some(39), columns::SCHOOLS, schools_l)?,
            terms: tw("terms.txt", "Terms", Some(13), columns::TERMS, terms_l)?,
            gens: tw("gen.txt", "Gen", Some(6), columns::GENS, layout(opts, HeaderStyle::Bare))?,
            att_code: tw(
                "attendance_code.txt",
                "Attendance_Code",
                Some(156),
                columns::ATT_CODE,
                layout(opts, HeaderStyle::Numbered),
            )?,
            period: tw(
                "period.txt",
                "Period",
                Some(138),
                columns::PERIOD,
                layout(opts, HeaderStyle::Dotted),
            )?,
            calendar: tw(
                "calendar_day.txt",
                "Calendar_Day",
                Some(51),
                columns::CALENDAR,
                layout(opts, HeaderStyle::Numbered),
            )?,
            students: tw("students.txt", "Students", Some(1), columns::STUDENTS, students_l)?,
            race: tw("studentrace.txt", "StudentRace", None, columns::RACE, layout(opts, HeaderStyle::Bare))?,
            reenroll: tw("reenrollments.txt", "ReEnrollments", Some(18), columns::REENROLL, reenroll_l)?,
            users: tw("users.txt", "Users", None, columns::USERS, layout(opts, HeaderStyle::Dotted))?,
            staff: tw(
                "schoolstaff.txt",
                "SchoolStaff",
                None,
                columns::STAFF,
                layout(opts, HeaderStyle::Named),
            )?,
            courses: tw("courses.txt", "Courses", Some(2), columns::COURSES, courses_l)?,
            sections: tw("sections.txt", "Sections", Some(3), columns::SECTIONS, sections_l)?,
            cc: tw("cc.txt", "CC", Some(4), columns::CC, cc_l)?,
            stored: tw("storedgrades.txt", "StoredGrades", Some(31), columns::STORED, stored_l)?,
            pg: tw(
                "pgfinalgrades.txt",
                "PGFinalGrades",
                Some(95),
                columns::PG,
                layout(opts, HeaderStyle::Dotted),
            )?,
            attendance: tw(
                "attendance.txt",
                "Attendance",
                Some(157),
                columns::ATTENDANCE,
                layout(opts, HeaderStyle::Bare),
            )?,
            person: tw("person.txt", "Person", None, columns::PERSON, layout(opts, HeaderStyle::Bare))?,
            assoc: tw(
                "studentcontactassoc.txt",
                "StudentContactAssoc",
                None,
                columns::ASSOC,
                layout(opts, HeaderStyle::Named),
            )?,
            detail: tw("studentcontactdetail.txt", "StudentContactDetail", None, columns::DETAIL, detail_l)?,
            codeset: tw("codeset.txt", "CodeSet", None, columns::CODESET, layout(opts, HeaderStyle::Bare))?,
            email: tw(
                "emailaddress.txt",
                "EmailAddress",
                None,
                columns::EMAIL,
                layout(opts, HeaderStyle::Bare),
            )?,
            person_email: tw(
                "personemailaddressassoc.txt",
                "PersonEmailAddressAssoc",
                None,
                columns::PERSON_EMAIL,
                layout(opts, HeaderStyle::Bare),
            )?,
            phone: tw(
                "phonenumber.txt",
                "PhoneNumber",
                None,
                columns::PHONE,
                layout(opts, HeaderStyle::Bare),
            )?,
            person_phone: tw(
                "personphonenumberassoc.txt",
                "PersonPhoneNumberAssoc",
                None,
                columns::PERSON_PHONE,
                layout(opts, HeaderStyle::Bare),
            )?,
            address: tw(
                "personaddress.txt",
                "PersonAddress",
                None,
                columns::ADDRESS,
                layout(opts, HeaderStyle::Bare),
            )?,
            person_address: tw(
                "personaddressassoc.txt",
                "PersonAddressAssoc",
                None,
                columns::PERSON_ADDRESS,
                layout(opts, HeaderStyle::Bare),
            )?,
        })
    }

    /// Finishes every file, in manifest order, and returns what each holds.
    pub(super) fn finish(self) -> io::Result<Vec<GenFile>> {
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
        } = self;
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
        Ok(files)
    }
}
