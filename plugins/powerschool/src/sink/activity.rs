//! Section enrollments → `cc.txt`, grades → `storedgrades.txt` (transcript
//! grades) or `pgfinalgrades.txt`, attendance → `attendance.txt` (daily)
//! or `attendance_meeting.txt`: written as they arrive, read in place.

use ferry_sdk::model::{
    AttendanceCategory, AttendanceEvent, CodeSet, EntityKind, Grade, GradeKind, RecordView,
    SectionEnrollment, SectionEnrollmentStatus,
};
use ferry_sdk::{Error, SinkBatch, Written};

use super::files::ImportFile;
use super::output::{Cited, Sheet, account};
use super::registry::Registry;
use crate::values::{self, NO_GRADE};

/// The Student_Number of student `id`, or `None` after rejecting `who`,
/// whose row cannot name it.
fn student<'r>(
    reg: &'r Registry,
    w: &mut Written,
    entity: EntityKind,
    who: Cited<'_>,
    id: Option<&str>,
) -> Option<&'r str> {
    let number = id.and_then(|s| reg.students.get(s)).map(String::as_str);
    if number.is_none() {
        w.rejects.push(reg.missing(entity, who, "student_id", EntityKind::Students, id, "the student"));
    }
    number
}

/// Section enrollments: an enrollment that did not stay active keeps
/// PowerSchool's sign, a negative TermID.
pub fn section_enrollments(
    sheet: &mut Sheet,
    reg: &Registry,
    batch: SinkBatch<'_>,
) -> Result<Written, Error> {
    let v = batch.view::<SectionEnrollment>()?;
    let m = v.meta();
    let mut w = Written::default();
    let entity = EntityKind::SectionEnrollments;
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let Some(number) = student(reg, &mut w, entity, who, v.student_id(i)) else { continue };
        let section = v.section_id(i);
        let Some(sec) = section.and_then(|s| reg.sections.get(s)) else {
            w.rejects.push(reg.missing(
                entity,
                who,
                "section_id",
                EntityKind::Sections,
                section,
                "the section",
            ));
            continue;
        };
        let negative = match v.status(i) {
            Some(s) => match values::int(s.original) {
                Some(n) => n < 0,
                None => s.value::<SectionEnrollmentStatus>() != SectionEnrollmentStatus::Active,
            },
            None => false,
        };
        let term = if negative { -sec.termid } else { sec.termid };
        sheet
            .line
            .start()
            .text(number)
            .text(&sec.school)
            .text(&sec.course)
            .text(&sec.number)
            .int(term)
            .date(v.entry_date(i))
            .exclusive(v.exit_date(i));
        account(&mut w, sheet.emit(ImportFile::Cc, entity, who)?);
    }
    Ok(w)
}

/// Grades: transcript grades (and grades of no kind) are historical grades
/// naming their course, school and term by number; others are gradebook
/// grades of a section. No letter is `--`.
pub fn grades(sheet: &mut Sheet, reg: &Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<Grade>()?;
    let m = v.meta();
    let mut w = Written::default();
    let entity = EntityKind::Grades;
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let Some(number) = student(reg, &mut w, entity, who, v.student_id(i)) else { continue };
        let letter = v.letter_grade(i).unwrap_or(NO_GRADE);
        let kind = v.kind(i);
        let transcript = kind.is_none_or(|k| k.value::<GradeKind>() == GradeKind::Transcript);
        if transcript {
            let school = match v.school_id(i) {
                Some(s) => reg.school_number(Some(s)),
                None => m.extension(i, "SchoolID").unwrap_or_default(),
            };
            let course = v
                .course_number(i)
                .or_else(|| v.course_id(i).and_then(|c| reg.courses.get(c)).map(String::as_str))
                .unwrap_or_default();
            let line = sheet.line.start();
            line.text(number).text(school).opt(v.school_name(i)).text(course).opt(v.course_title(i));
            match v.session_id(i).and_then(|s| reg.terms.get(s)) {
                Some(t) => line.int(t.termid),
                None => match m.extension(i, "TermID") {
                    Some(t) => line.text(t),
                    None => line.opt_int(v.school_year(i).map(|y| (y - 1991) * 100)),
                },
            };
            line.opt(v.store_code(i))
                .text(letter)
                .decimal(v.percent(i))
                .decimal(v.gpa_points(i))
                .decimal(v.credits_earned(i))
                .decimal(v.credits_attempted(i))
                .grade(v.grade_level(i))
                .flag(v.exclude_from_gpa(i))
                .opt(v.comment(i));
            account(&mut w, sheet.emit(ImportFile::StoredGrades, entity, who)?);
            continue;
        }
        let section = v.section_id(i);
        let Some(sec) = section.and_then(|s| reg.sections.get(s)) else {
            w.rejects.push(reg.missing(
                entity,
                who,
                "section_id",
                EntityKind::Sections,
                section,
                "the section",
            ));
            continue;
        };
        let name = v.store_code(i).or(kind.map(|k| k.original)).unwrap_or_default();
        sheet
            .line
            .start()
            .text(number)
            .text(&sec.school)
            .text(&sec.course)
            .text(&sec.number)
            .int(sec.termid)
            .text(name)
            .text(letter)
            .decimal(v.percent(i))
            .opt(v.comment(i));
        account(&mut w, sheet.emit(ImportFile::PgFinalGrades, entity, who)?);
    }
    Ok(w)
}

/// Attendance events: daily ones to `attendance.txt`, those of a section to
/// `attendance_meeting.txt`. The code is the source's (at most 7
/// characters, else the category's); within a school and year a code keeps
/// one category.
pub fn attendance(sheet: &mut Sheet, reg: &mut Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<AttendanceEvent>()?;
    let m = v.meta();
    let mut w = Written::default();
    let entity = EntityKind::Attendance;
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let Some(number) = student(reg, &mut w, entity, who, v.student_id(i)) else { continue };
        let Some(category) = v.category(i) else {
            w.rejects.push(who.reject(entity, "the event has no category").field("category"));
            continue;
        };
        let cat = category.value::<AttendanceCategory>();
        let school = reg.school_number(v.school_id(i));
        let Some(date) = v.date(i) else {
            w.rejects.push(who.reject(entity, "the event has no date").field("date"));
            continue;
        };
        let yearid = values::school_year_of(date, 7) - 1991;
        let code: std::borrow::Cow<'_, str> = if category.original.chars().count() <= 7 {
            category.original.into()
        } else {
            cat.as_str().chars().take(7).collect::<String>().into()
        };
        let key = (school.to_owned(), yearid, code.into_owned());
        let known = reg.att_codes.get(&key).copied();
        if known.is_some_and(|c| c != cat) {
            w.rejects.push(
                who.reject(
                    entity,
                    "another event of this school and year uses the same code for another category",
                )
                .field("category")
                .value(key.2.as_str()),
            );
            continue;
        }
        let line = sheet.line.start();
        line.text(number).text(&key.0).date(Some(date)).text(&key.2);
        let file = match v.section_id(i) {
            None => {
                line.text("ATT_ModeDaily");
                ImportFile::Attendance
            }
            Some(s) => {
                let Some(sec) = reg.sections.get(s) else {
                    w.rejects.push(reg.missing(
                        entity,
                        who,
                        "section_id",
                        EntityKind::Sections,
                        Some(s),
                        "the section",
                    ));
                    continue;
                };
                line.text("ATT_ModeMeeting")
                    .text(&sec.course)
                    .text(&sec.number)
                    .int(sec.termid)
                    .opt(v.period(i));
                ImportFile::AttendanceMeeting
            }
        };
        line.opt_int(v.minutes(i)).opt(v.comment(i));
        match sheet.emit(file, entity, who)? {
            None => {
                if known.is_none() {
                    reg.att_codes.insert(key, cat);
                }
                w.written += 1;
            }
            Some(r) => w.rejects.push(r),
        }
    }
    Ok(w)
}
