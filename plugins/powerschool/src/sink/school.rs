//! Orgs → `schools.txt`, sessions → `terms.txt`, staff → `teachers.txt`,
//! courses → `courses.txt`: written as they arrive, read in place.

use ferry_sdk::model::{AcademicSession, Course, EntityKind, Org, RecordView, SessionKind, Staff, StaffRole};
use ferry_sdk::{Error, SinkBatch, Written};

use super::files::ImportFile;
use super::output::{Cited, Sheet, account};
use super::registry::{Registry, TermRef};
use crate::codes;
use crate::values;

/// Orgs: the School_Number is the identifier when it is a number, else the id.
pub fn orgs(sheet: &mut Sheet, reg: &mut Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<Org>()?;
    let m = v.meta();
    let mut w = Written::default();
    for i in 0..v.len() {
        let id = m.source_id(i);
        let number = v.identifier(i).filter(|n| values::int(n).is_some()).unwrap_or(id);
        reg.schools.insert(id.to_owned(), number.to_owned());
        sheet
            .line
            .start()
            .text(number)
            .text(v.name(i))
            .grade(v.low_grade(i))
            .grade(v.high_grade(i))
            .opt(v.address(i))
            .opt(v.city(i))
            .opt(v.region(i))
            .opt(v.postal_code(i))
            .opt(v.phone(i));
        account(&mut w, sheet.emit(ImportFile::Schools, EntityKind::Orgs, Cited::row(m, i))?);
    }
    Ok(w)
}

/// Sessions: TermID = YearID × 100 + n, YearID from the school year (or the
/// end date's year); n is 0 for a school year, the id's own TermID when it
/// ends in one of that year, else the next free number of the school's year.
pub fn sessions(sheet: &mut Sheet, reg: &mut Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<AcademicSession>()?;
    let m = v.meta();
    let mut w = Written::default();
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let school = reg.school_number(v.org_id(i)).to_owned();
        let year_end = v.school_year(i).or_else(|| v.end_date(i).map(|d| i64::from(d.year())));
        let Some(year_end) = year_end else {
            w.rejects
                .push(who.reject(EntityKind::AcademicSessions, "the session has no school year or end date"));
            continue;
        };
        let yearid = year_end - 1991;
        let kind = v.kind(i);
        let kind_code = kind.map(|k| k.value::<SessionKind>());
        let is_year = kind_code == Some(SessionKind::SchoolYear);
        let from_id = who.id.rsplit_once(':').and_then(|(_, t)| values::int(t)).filter(|t| t / 100 == yearid);
        let termid = match (is_year, from_id) {
            (true, _) => yearid * 100,
            (false, Some(t)) => t,
            (false, None) => {
                let n = reg.term_counters.entry((school.clone(), yearid)).or_insert(0);
                *n += 1;
                yearid * 100 + *n
            }
        };
        let portion = match kind_code {
            Some(SessionKind::SchoolYear) => "1",
            Some(SessionKind::Semester) => "2",
            _ => kind.map(|k| k.original).filter(|o| values::int(o).is_some()).unwrap_or("4"),
        };
        sheet
            .line
            .start()
            .int(termid)
            .text(&school)
            .int(yearid)
            .text(v.title(i))
            .opt(v.code(i))
            .date(v.start_date(i))
            .date(v.end_date(i))
            .text(if is_year { "1" } else { "0" })
            .text(portion);
        reg.terms.insert(who.id.to_owned(), TermRef { school, termid });
        account(&mut w, sheet.emit(ImportFile::Terms, EntityKind::AcademicSessions, who)?);
    }
    Ok(w)
}

/// Staff: TeacherNumber is the staff number, else the id.
pub fn staff(sheet: &mut Sheet, reg: &mut Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<Staff>()?;
    let m = v.meta();
    let mut w = Written::default();
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let number = v.staff_number(i).unwrap_or(who.id);
        let school = reg.school_number(v.school_id(i));
        let status = match v.role(i) {
            Some(role) if values::int(role.original).is_some() => role.original.trim(),
            Some(role) => codes::staff_status_number(role.value::<StaffRole>()),
            None => "",
        };
        let active = match v.active(i) {
            Some(true) => "1",
            Some(false) => "2",
            None => "",
        };
        sheet
            .line
            .start()
            .text(number)
            .text(v.first_name(i))
            .opt(v.middle_name(i))
            .text(v.last_name(i))
            .text(school)
            .text(school)
            .opt(v.email(i))
            .text(active)
            .text(status)
            .opt(v.title(i))
            .opt(v.username(i))
            .opt(v.state_id(i))
            .opt(v.phone(i));
        match sheet.emit(ImportFile::Teachers, EntityKind::Staff, who)? {
            None => {
                reg.staff.insert(who.id.to_owned(), number.to_owned());
                w.written += 1;
            }
            Some(r) => {
                reg.refuse(EntityKind::Staff, who.id);
                w.rejects.push(r);
            }
        }
    }
    Ok(w)
}

/// Courses: Course_Number is the course number, else the id.
pub fn courses(sheet: &mut Sheet, reg: &mut Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
    let v = batch.view::<Course>()?;
    let m = v.meta();
    let mut w = Written::default();
    for i in 0..v.len() {
        let who = Cited::row(m, i);
        let number = v.course_number(i).unwrap_or(who.id);
        sheet
            .line
            .start()
            .text(number)
            .text(v.title(i))
            .decimal(v.credit_hours(i))
            .opt(v.subject(i))
            .text(reg.school_number(v.org_id(i)));
        match sheet.emit(ImportFile::Courses, EntityKind::Courses, who)? {
            None => {
                reg.courses.insert(who.id.to_owned(), number.to_owned());
                w.written += 1;
            }
            Some(r) => {
                reg.refuse(EntityKind::Courses, who.id);
                w.rejects.push(r);
            }
        }
    }
    Ok(w)
}
