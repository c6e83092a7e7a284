//! Sections → `sections.txt`, each with its lead teacher's TeacherNumber:
//! sections are kept until their section staff arrive.

use std::collections::HashMap;

use ferry_sdk::model::{EntityKind, RecordView, Section, SectionRole, SectionStaff};
use ferry_sdk::text::Row;
use ferry_sdk::{Error, Reject, SinkBatch, Written};

use super::files::ImportFile;
use super::output::{Cited, Sheet};
use super::registry::{Registry, SectionRef};

/// The column of `sections.txt` the teacher goes into.
const TEACHER_COLUMN: usize = 4;

/// A record as a late reject will cite it.
#[derive(Clone, Debug)]
struct Citation {
    id: String,
    file: Option<String>,
    line: u64,
}

impl Citation {
    fn of(who: Cited<'_>) -> Citation {
        Citation { id: who.id.to_owned(), file: who.file.map(str::to_owned), line: who.line }
    }

    fn cited(&self) -> Cited<'_> {
        Cited { id: &self.id, file: self.file.as_deref(), line: self.line }
    }
}

/// A section's teacher, from a section staff record.
#[derive(Clone, Debug)]
struct Teacher {
    number: String,
    lead: bool,
    record: Citation,
}

/// A section waiting for its teacher.
#[derive(Clone, Debug)]
struct Pending {
    /// The row, with an empty teacher column.
    row: Row,
    record: Citation,
    teacher: Option<Teacher>,
}

/// Sections kept for their teachers.
#[derive(Debug, Default)]
pub struct Sections {
    order: Vec<String>,
    pending: HashMap<String, Pending>,
    /// Section staff counted as written whose teacher was replaced by a lead.
    late: Vec<Reject>,
}

impl Sections {
    /// Keeps sections whose course and term were received and whose values
    /// can be written.
    pub fn sections(
        &mut self,
        sheet: &mut Sheet,
        reg: &mut Registry,
        batch: SinkBatch<'_>,
    ) -> Result<Written, Error> {
        let v = batch.view::<Section>()?;
        let m = v.meta();
        let mut w = Written::default();
        for i in 0..v.len() {
            let who = Cited::row(m, i);
            if self.pending.contains_key(who.id) {
                w.rejects.push(who.reject(EntityKind::Sections, "another section has this id"));
                continue;
            }
            let course_id = v.course_id(i);
            let Some(course) = course_id.and_then(|c| reg.courses.get(c)).cloned() else {
                w.rejects.push(reg.missing(
                    EntityKind::Sections,
                    who,
                    "course_id",
                    EntityKind::Courses,
                    course_id,
                    "the course",
                ));
                continue;
            };
            let Some(term) = v.session_ids(i).iter().find_map(|s| reg.terms.get(s)).cloned() else {
                w.rejects.push(reg.missing(
                    EntityKind::Sections,
                    who,
                    "session_ids",
                    EntityKind::AcademicSessions,
                    None,
                    "the section's term",
                ));
                continue;
            };
            let school = match v.school_id(i) {
                Some(s) => reg.school_number(Some(s)).to_owned(),
                None => term.school.clone(),
            };
            let number = v.section_number(i).unwrap_or(who.id);
            sheet
                .line
                .start()
                .text(&school)
                .text(&course)
                .text(number)
                .int(term.termid)
                .text("")
                .opt(v.room(i))
                .opt(v.period(i))
                .opt_int(v.max_enrollment(i));
            let cols = ImportFile::Sections.columns();
            if let Some(rej) = sheet.probe(ImportFile::Sections, EntityKind::Sections, who, |c| {
                cols.get(c).copied().unwrap_or_default()
            }) {
                reg.refuse(EntityKind::Sections, who.id);
                w.rejects.push(rej);
                continue;
            }
            self.order.push(who.id.to_owned());
            self.pending.insert(
                who.id.to_owned(),
                Pending { row: sheet.line.row.clone(), record: Citation::of(who), teacher: None },
            );
            reg.sections.insert(
                who.id.to_owned(),
                SectionRef { school, course, number: number.to_owned(), termid: term.termid },
            );
            w.written += 1;
        }
        Ok(w)
    }

    /// A section's teacher: `sections.txt` has one, the lead (the last lead
    /// received, else the first teacher); another is refused.
    pub fn section_staff(&mut self, reg: &Registry, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let v = batch.view::<SectionStaff>()?;
        let m = v.meta();
        let mut w = Written::default();
        for i in 0..v.len() {
            let who = Cited::row(m, i);
            let staff = v.staff_id(i);
            let Some(number) = staff.and_then(|s| reg.staff.get(s)) else {
                w.rejects.push(reg.missing(
                    EntityKind::SectionStaff,
                    who,
                    "staff_id",
                    EntityKind::Staff,
                    staff,
                    "the staff member",
                ));
                continue;
            };
            let section = v.section_id(i);
            let Some(sec) = section.and_then(|s| self.pending.get_mut(s)) else {
                w.rejects.push(reg.missing(
                    EntityKind::SectionStaff,
                    who,
                    "section_id",
                    EntityKind::Sections,
                    section,
                    "the section",
                ));
                continue;
            };
            let lead = v.role(i).is_none_or(|c| c.value::<SectionRole>() == SectionRole::Lead);
            let one = "sections.txt has one teacher per section (TeacherNumber, the lead teacher)";
            if sec.teacher.is_some() && !lead {
                w.rejects.push(who.reject(EntityKind::SectionStaff, one).field("role"));
                continue;
            }
            let teacher = Teacher { number: number.clone(), lead, record: Citation::of(who) };
            if let Some(old) = sec.teacher.replace(teacher) {
                let reason = if old.lead {
                    one
                } else {
                    "a lead teacher of the section replaced this one: sections.txt has one teacher per section (TeacherNumber)"
                };
                self.late.push(old.record.cited().reject(EntityKind::SectionStaff, reason).field("role"));
            }
            w.written += 1;
        }
        Ok(w)
    }

    /// Writes the sections with their teachers; returns the late rejects.
    pub fn finish(&mut self, sheet: &mut Sheet) -> Result<Vec<Reject>, Error> {
        let mut late = std::mem::take(&mut self.late);
        for id in std::mem::take(&mut self.order) {
            let Some(sec) = self.pending.remove(&id) else { continue };
            let row = &mut sheet.line.row;
            row.clear();
            for (c, v) in sec.row.iter().enumerate() {
                match (&sec.teacher, c) {
                    (Some(t), TEACHER_COLUMN) => row.push(&t.number),
                    _ => row.push(v),
                }
            }
            if let Some(rej) = sheet.emit(ImportFile::Sections, EntityKind::Sections, sec.record.cited())? {
                late.push(rej);
                if let Some(t) = &sec.teacher {
                    late.push(
                        t.record
                            .cited()
                            .reject(
                                EntityKind::SectionStaff,
                                "its section could not be written in sections.txt",
                            )
                            .field("section_id"),
                    );
                }
            }
        }
        Ok(late)
    }
}
