//! Students → `students.txt`, carrying their current enrollment (the
//! latest at their school); their other school enrollments →
//! `reenrollments.txt`; demographics → `studentrace.txt` and the students'
//! FedEthnicity. Students and enrollments are kept until everything is
//! received, and every value is checked when it arrives, so that a problem
//! is a reject then rather than a late one.

use std::collections::HashMap;

use ferry_sdk::model::{Date, Demographics, EntityKind, RecordView, SchoolEnrollment, Student};
use ferry_sdk::{Error, Reject, SinkBatch, Written};

use super::files::ImportFile;
use super::output::{Cited, Line, Sheet, code_ref};
use super::registry::Registry;
use crate::codes;
use crate::values::{self, GRADUATED_SCHOOL};

/// Whether an extension key is a PowerSchool custom field (`U_…`/`S_…`
/// table fields), written as an extra column of `students.txt`.
fn is_custom_field(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    key.contains('.') && (upper.starts_with("U_") || upper.starts_with("S_"))
}

/// What a student's row says about enrollment.
enum Current<'a> {
    /// The current enrollment.
    Enrollment(&'a SchoolEnrollment),
    /// A graduate with no current enrollment: entry and exit are the day
    /// after the last enrollment ended.
    Graduated(Option<Date>),
    /// Nothing.
    Unknown,
}

/// Formats a `students.txt` row; `ext` are the custom fields' columns.
fn student_line(
    line: &mut Line,
    s: &Student,
    number: &str,
    school: &str,
    current: &Current<'_>,
    hispanic: Option<bool>,
    ext: &[&str],
) {
    let enrollment = match current {
        Current::Enrollment(e) => Some(*e),
        _ => None,
    };
    let grade = s.grade_level.as_ref().or(enrollment.and_then(|e| e.grade_level.as_ref()));
    line.start()
        .text(number)
        .opt(s.state_id.as_deref())
        .text(&s.first_name)
        .opt(s.middle_name.as_deref())
        .text(&s.last_name)
        .opt(s.preferred_name.as_deref())
        .date(s.birth_date)
        .original(s.sex.as_ref().map(code_ref))
        .grade(grade.map(code_ref))
        .text(school)
        .text(&s.status.as_deref().map(values::enroll_status_number).unwrap_or_default());
    match current {
        Current::Enrollment(e) => {
            line.date(e.entry_date)
                .exclusive(e.exit_date)
                .original(e.entry_code.as_ref().map(code_ref))
                .original(e.exit_code.as_ref().map(code_ref))
                .opt(e.exit_comment.as_deref());
        }
        Current::Graduated(last) => {
            line.exclusive(*last).exclusive(*last).text("").text("").text("");
        }
        Current::Unknown => {
            line.text("").text("").text("").text("").text("");
        }
    }
    line.opt(s.address.as_deref())
        .opt(s.city.as_deref())
        .opt(s.region.as_deref())
        .opt(s.postal_code.as_deref())
        .opt(s.phone.as_deref())
        .opt(s.username.as_deref())
        .flag(hispanic);
    for k in ext {
        line.text(s.meta.ext.get(k).unwrap_or_default());
    }
}

/// Formats a `reenrollments.txt` row.
fn enrollment_line(line: &mut Line, e: &SchoolEnrollment, number: &str, school: &str) {
    line.start()
        .text(number)
        .text(school)
        .grade(e.grade_level.as_ref().map(code_ref))
        .date(e.entry_date)
        .exclusive(e.exit_date)
        .original(e.entry_code.as_ref().map(code_ref))
        .original(e.exit_code.as_ref().map(code_ref))
        .opt(e.exit_comment.as_deref());
}

/// Students and school enrollments kept for the end.
#[derive(Debug, Default)]
pub struct Students {
    kept: Vec<Student>,
    /// Student id → Hispanic or Latino (FedEthnicity).
    hispanic: HashMap<String, bool>,
    /// Student id → school enrollments.
    enrollments: HashMap<String, Vec<SchoolEnrollment>>,
    /// Custom fields, in the order first seen: extra columns of `students.txt`.
    ext: Vec<String>,
}

impl Students {
    /// Student_Number is the student number, else the `student_number`
    /// alternative id, else the id.
    pub fn students(
        &mut self,
        sheet: &mut Sheet,
        reg: &mut Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, Error> {
        let mut w = Written::default();
        for r in batch.records::<Student>()? {
            let number = r
                .student_number
                .clone()
                .or_else(|| r.meta.alt_id("student_number").map(str::to_owned))
                .unwrap_or_else(|| r.meta.source.id.clone());
            let custom: Vec<&str> =
                r.meta.ext.iter().map(|(k, _)| k).filter(|k| is_custom_field(k)).collect();
            let school = reg.school_number(r.school_id.as_deref());
            student_line(&mut sheet.line, &r, &number, school, &Current::Unknown, None, &custom);
            let own = ImportFile::Students.columns();
            let column = |i: usize| own.get(i).copied().or_else(|| custom.get(i - own.len()).copied());
            let who = Cited::of(&r.meta);
            if let Some(rej) = sheet
                .probe(ImportFile::Students, EntityKind::Students, who, |i| column(i).unwrap_or_default())
            {
                reg.refuse(EntityKind::Students, &r.meta.source.id);
                w.rejects.push(rej);
                continue;
            }
            for k in custom {
                if !self.ext.iter().any(|e| e == k) {
                    self.ext.push(k.to_owned());
                }
            }
            reg.students.insert(r.meta.source.id.clone(), number);
            self.kept.push(r);
            w.written += 1;
        }
        Ok(w)
    }

    /// Keeps school enrollments of students received, checked as
    /// `reenrollments.txt` rows (the same values go into `students.txt`
    /// for a current enrollment).
    pub fn enrollments(
        &mut self,
        sheet: &mut Sheet,
        reg: &mut Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, Error> {
        let mut w = Written::default();
        for r in batch.records::<SchoolEnrollment>()? {
            let who = Cited::of(&r.meta);
            let Some(number) = r.student_id.as_deref().and_then(|s| reg.students.get(s)) else {
                w.rejects.push(reg.missing(
                    EntityKind::SchoolEnrollments,
                    who,
                    "student_id",
                    EntityKind::Students,
                    r.student_id.as_deref(),
                    "the student",
                ));
                continue;
            };
            enrollment_line(&mut sheet.line, &r, number, reg.school_number(r.school_id.as_deref()));
            let own = ImportFile::ReEnrollments.columns();
            if let Some(rej) =
                sheet.probe(ImportFile::ReEnrollments, EntityKind::SchoolEnrollments, who, |i| {
                    own.get(i).copied().unwrap_or_default()
                })
            {
                w.rejects.push(rej);
                continue;
            }
            if let Some(c) = &r.entry_code {
                reg.entry_codes.entry(c.original.clone()).or_insert(c.code);
            }
            if let Some(c) = &r.exit_code {
                reg.exit_codes.entry(c.original.clone()).or_insert(c.code);
            }
            let id = r.student_id.clone().unwrap_or_default();
            self.enrollments.entry(id).or_default().push(r);
            w.written += 1;
        }
        Ok(w)
    }

    /// Demographics: one `studentrace.txt` row per race; Hispanic or
    /// Latino goes into the student's FedEthnicity.
    pub fn demographics(
        &mut self,
        sheet: &mut Sheet,
        reg: &Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, Error> {
        let v = batch.view::<Demographics>()?;
        let m = v.meta();
        let mut w = Written::default();
        for i in 0..v.len() {
            let who = Cited::row(m, i);
            let person = v.person_id(i);
            let Some(number) = person.and_then(|p| reg.students.get(p)) else {
                w.rejects.push(reg.missing(
                    EntityKind::Demographics,
                    who,
                    "person_id",
                    EntityKind::Students,
                    person,
                    "the student",
                ));
                continue;
            };
            let flags = [
                v.american_indian_or_alaska_native(i),
                v.asian(i),
                v.black_or_african_american(i),
                v.native_hawaiian_or_other_pacific_islander(i),
                v.white(i),
            ];
            let races =
                || codes::RACE_FIELDS.iter().zip(flags).filter(|(_, f)| *f == Some(true)).map(|(r, _)| *r);
            let own = ImportFile::StudentRace.columns();
            let refused = races().find_map(|field| {
                sheet.line.start().text(number).text(codes::race_code(field));
                sheet.probe(ImportFile::StudentRace, EntityKind::Demographics, who, |c| {
                    own.get(c).copied().unwrap_or_default()
                })
            });
            if let Some(rej) = refused {
                w.rejects.push(rej);
                continue;
            }
            for field in races() {
                sheet.line.start().text(number).text(codes::race_code(field));
                sheet.write_checked(ImportFile::StudentRace)?;
            }
            if let (Some(h), Some(p)) = (v.hispanic_or_latino(i), person) {
                self.hispanic.insert(p.to_owned(), h);
            }
            w.written += 1;
        }
        Ok(w)
    }

    /// Writes the students, each with its current enrollment, and the
    /// other enrollments; returns the late rejects (rows that could not be
    /// written after all, and the enrollments of a student not written).
    pub fn finish(&mut self, sheet: &mut Sheet, reg: &Registry) -> Result<Vec<Reject>, Error> {
        let mut late = Vec::new();
        let extra = self.ext.clone();
        sheet.out.open(ImportFile::Students, &extra)?;
        let ext: Vec<&str> = extra.iter().map(String::as_str).collect();
        for s in std::mem::take(&mut self.kept) {
            let id = s.meta.source.id.as_str();
            let number = reg.students.get(id).map_or("", String::as_str);
            let mut list = self.enrollments.remove(id).unwrap_or_default();
            list.sort_by_key(|e| e.entry_date);
            let current = match &s.school_id {
                Some(school) => list.iter().rposition(|e| e.school_id.as_deref() == Some(school)),
                None => list.len().checked_sub(1),
            };
            let current = current.map(|i| list.remove(i));
            let school = match &s.school_id {
                Some(_) => reg.school_number(s.school_id.as_deref()),
                None => current.as_ref().map_or("", |e| reg.school_number(e.school_id.as_deref())),
            };
            let state = match &current {
                Some(e) => Current::Enrollment(e),
                None if school == GRADUATED_SCHOOL.to_string() => {
                    Current::Graduated(list.iter().filter_map(|e| e.exit_date).max())
                }
                None => Current::Unknown,
            };
            let hispanic = self.hispanic.get(id).copied();
            student_line(&mut sheet.line, &s, number, school, &state, hispanic, &ext);
            if let Some(rej) = sheet.emit(ImportFile::Students, EntityKind::Students, Cited::of(&s.meta))? {
                late.push(rej);
                for e in current.iter().chain(&list) {
                    late.push(
                        Cited::of(&e.meta)
                            .reject(
                                EntityKind::SchoolEnrollments,
                                "its student's row could not be written in students.txt",
                            )
                            .field("student_id"),
                    );
                }
                continue;
            }
            for e in &list {
                enrollment_line(&mut sheet.line, e, number, reg.school_number(e.school_id.as_deref()));
                if let Some(rej) = sheet.emit(
                    ImportFile::ReEnrollments,
                    EntityKind::SchoolEnrollments,
                    Cited::of(&e.meta),
                )? {
                    late.push(rej);
                }
            }
        }
        // Enrollments of students never written (none: an enrollment is kept
        // only when its student was).
        let mut left: Vec<SchoolEnrollment> = self.enrollments.drain().flat_map(|(_, l)| l).collect();
        left.sort_by(|a, b| a.meta.source.id.cmp(&b.meta.source.id));
        for e in &left {
            late.push(
                Cited::of(&e.meta)
                    .reject(EntityKind::SchoolEnrollments, "its student was not written in students.txt")
                    .field("student_id"),
            );
        }
        Ok(late)
    }
}
