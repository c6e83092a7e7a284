//! The export files: one [`TableWriter`] per PowerSchool table, with its
//! file name, table number and layout (the header styles, delimiters,
//! quoting, line endings, byte-order mark and date styles quirks put in).
//! The columns are in [`columns`]. The files of
//! [`PsGenOptions::district_tables`] are in [`DistrictFiles`], written only
//! with it; `contacts.txt` only with `contacts_export`.

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
    pub(super) district: Option<DistrictFiles>,
    pub(super) contacts: Option<TableWriter>,
}

/// The files of the rest of a district's tables (`district_tables`).
pub(super) struct DistrictFiles {
    pub(super) cycle_day: TableWriter,
    pub(super) bell_schedule: TableWriter,
    pub(super) bell_items: TableWriter,
    pub(super) roledef: TableWriter,
    pub(super) section_teacher: TableWriter,
    pub(super) log: TableWriter,
    pub(super) incident_lu_code: TableWriter,
    pub(super) incident: TableWriter,
    pub(super) incident_detail: TableWriter,
    pub(super) incident_person_role: TableWriter,
    pub(super) incident_action: TableWriter,
    pub(super) spenroll: TableWriter,
    pub(super) test: TableWriter,
    pub(super) test_score: TableWriter,
    pub(super) student_test: TableWriter,
    pub(super) student_test_score: TableWriter,
    pub(super) class_rank: TableWriter,
    pub(super) u_students: TableWriter,
    pub(super) s_tx: TableWriter,
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
        if q {
            students_l.crlf = true;
            students_l.bom = true;
        }
        let mut reenroll_l = layout(opts, HeaderStyle::Named);
        let mut courses_l = layout(opts, HeaderStyle::Dotted);
        let sections_l = layout(opts, HeaderStyle::None);
        let mut cc_l = layout(opts, HeaderStyle::Bare);
        let mut stored_l = layout(opts, HeaderStyle::Named);
        let mut detail_l = layout(opts, HeaderStyle::Dotted);
        let district = opts.district_tables;
        let calendar_cols = if district { columns::CALENDAR_DISTRICT } else { columns::CALENDAR };
        let detail_cols = if district { columns::DETAIL_DISTRICT } else { columns::DETAIL };
        let students_cols: Vec<&str> = if opts.secrets {
            columns::STUDENTS.iter().chain(columns::STUDENT_EXTRA).copied().collect()
        } else {
            columns::STUDENTS.to_vec()
        };
        let mut students = tw("students.txt", "Students", Some(1), &students_cols, students_l)?;
        if opts.secrets {
            students.mark_secrets(columns::STUDENT_SECRETS);
        }
        let district = if district { Some(DistrictFiles::open(dir, opts)?) } else { None };
        let contacts = if opts.contacts_export {
            let mut l = layout(opts, HeaderStyle::Bare);
            if q {
                l.delimiter = b',';
                l.quoted = true;
                l.crlf = true;
            }
            Some(tw("contacts.txt", "StudentContactAssoc", None, columns::CONTACTS_EXPORT, l)?)
        } else {
            None
        };
        if q {
            schools_l.delimiter = b',';
            schools_l.quoted = true;
            schools_l.crlf = true;
            terms_l.delimiter = b'|';
            terms_l.crlf = true;
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
                calendar_cols,
                layout(opts, HeaderStyle::Numbered),
            )?,
            students,
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
            detail: tw("studentcontactdetail.txt", "StudentContactDetail", None, detail_cols, detail_l)?,
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
            district,
            contacts,
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
            district,
            contacts,
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
        if let Some(d) = district {
            d.finish(&mut files)?;
        }
        if let Some(c) = contacts {
            files.push(c.finish()?);
        }
        Ok(files)
    }
}

impl DistrictFiles {
    fn open(dir: &Path, opts: &PsGenOptions) -> io::Result<DistrictFiles> {
        let q = opts.quirks;
        let tw = |name: &str, table: &'static str, cols: &[&str], l: Layout| {
            TableWriter::create(dir, name, table, None, cols, l)
        };
        let bare = || layout(opts, HeaderStyle::Bare);
        let mut items_l = bare();
        let mut log_l = layout(opts, HeaderStyle::Named);
        let mut student_test_l = layout(opts, HeaderStyle::Named);
        let mut rank_l = layout(opts, HeaderStyle::Dotted);
        let mut u_l = layout(opts, HeaderStyle::Dotted);
        let mut s_l = layout(opts, HeaderStyle::Named);
        if q {
            items_l.crlf = true;
            log_l.crlf = true;
            student_test_l.dates = DateStyle::Iso;
            rank_l.delimiter = b',';
            rank_l.quoted = true;
            u_l.word_bools = true;
            s_l.word_bools = true;
        }
        Ok(DistrictFiles {
            cycle_day: tw(
                "cycle_day.txt",
                "Cycle_Day",
                columns::CYCLE_DAY,
                layout(opts, HeaderStyle::Dotted),
            )?,
            bell_schedule: tw(
                "bell_schedule.txt",
                "Bell_Schedule",
                columns::BELL_SCHEDULE,
                layout(opts, HeaderStyle::Named),
            )?,
            bell_items: tw("bell_schedule_items.txt", "Bell_Schedule_Items", columns::BELL_ITEMS, items_l)?,
            roledef: tw("roledef.txt", "RoleDef", columns::ROLEDEF, bare())?,
            section_teacher: tw(
                "sectionteacher.txt",
                "SectionTeacher",
                columns::SECTION_TEACHER,
                layout(opts, HeaderStyle::Named),
            )?,
            log: tw("log.txt", "Log", columns::LOG, log_l)?,
            incident_lu_code: tw(
                "incident_lu_code.txt",
                "Incident_LU_Code",
                columns::INCIDENT_LU_CODE,
                bare(),
            )?,
            incident: tw("incident.txt", "Incident", columns::INCIDENT, bare())?,
            incident_detail: tw("incident_detail.txt", "Incident_Detail", columns::INCIDENT_DETAIL, bare())?,
            incident_person_role: tw(
                "incident_person_role.txt",
                "Incident_Person_Role",
                columns::INCIDENT_PERSON_ROLE,
                bare(),
            )?,
            incident_action: tw("incident_action.txt", "Incident_Action", columns::INCIDENT_ACTION, bare())?,
            spenroll: tw(
                "spenrollments.txt",
                "SPEnrollments",
                columns::SPENROLL,
                layout(opts, HeaderStyle::Dotted),
            )?,
            test: tw("test.txt", "Test", columns::TEST, bare())?,
            test_score: tw("testscore.txt", "TestScore", columns::TEST_SCORE, bare())?,
            student_test: tw("studenttest.txt", "StudentTest", columns::STUDENT_TEST, student_test_l)?,
            student_test_score: tw(
                "studenttestscore.txt",
                "StudentTestScore",
                columns::STUDENT_TEST_SCORE,
                bare(),
            )?,
            class_rank: tw("classrank.txt", "ClassRank", columns::CLASS_RANK, rank_l)?,
            u_students: tw("u_studentsuserfields.txt", "U_StudentsUserFields", columns::U_STUDENTS, u_l)?,
            s_tx: tw("s_tx_stu_x.txt", "S_TX_STU_X", columns::S_TX_STU, s_l)?,
        })
    }

    /// Finishes every file, in manifest order.
    fn finish(self, files: &mut Vec<GenFile>) -> io::Result<()> {
        let DistrictFiles {
            cycle_day,
            bell_schedule,
            bell_items,
            roledef,
            section_teacher,
            log,
            incident_lu_code,
            incident,
            incident_detail,
            incident_person_role,
            incident_action,
            spenroll,
            test,
            test_score,
            student_test,
            student_test_score,
            class_rank,
            u_students,
            s_tx,
        } = self;
        for w in [
            cycle_day,
            bell_schedule,
            bell_items,
            roledef,
            section_teacher,
            log,
            incident_lu_code,
            incident,
            incident_detail,
            incident_person_role,
            incident_action,
            spenroll,
            test,
            test_score,
            student_test,
            student_test_score,
            class_rank,
            u_students,
            s_tx,
        ] {
            files.push(w.finish()?);
        }
        Ok(())
    }
}
