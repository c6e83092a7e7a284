//! Courses → courses, Sections → sections and their lead teachers (kept
//! compactly until every section is read; with a SectionTeacher export,
//! only those of sections it has no row for become section staff).

use ferry_sdk::model::{Code, Course, EntityKind, Meta, Section, SectionRole, SectionStaff};
use ferry_sdk::{BatchBuilder, Error, Reject};

use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{SYSTEM, dcid_or_id, id_alts};
use crate::lookups::{Lookups, NO_SCHOOL, NO_TEACHER, ParentKey, RejectedRow, SectionInfo, section_key};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::tables::Table;
use crate::values::int;

columns!(course_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["coursenumber"] Yes,
    NAME = ["coursename"] Yes,
    CREDIT = ["credithours"] Yes,
    CREDITTYPE = ["credittype"] Yes,
    SCHOOLID = ["schoolid"] Yes,
});

/// A Courses row: id Course_Number, which Sections, CC and StoredGrades
/// refer to.
pub fn course(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use course_cols as c;
    let number = f.trimmed(c::NUMBER).unwrap_or_default();
    ctx.id = number.to_owned();
    let rec = (|| {
        if number.is_empty() {
            return Err(Bad::at(f, c::NUMBER, "Course_Number is missing"));
        }
        if lk.courses.contains_key(number) {
            return Err(Bad::at(f, c::NUMBER, "another Courses row has this Course_Number"));
        }
        let mut meta = ctx.meta(number.to_owned());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let school = f.get(c::SCHOOLID).and_then(int).filter(|s| lk.schools.contains_key(s));
        if school.is_none() {
            f.keep(c::SCHOOLID, &mut meta);
        }
        Ok(Course {
            meta,
            course_number: Some(number.to_owned()),
            title: f.get(c::NAME).unwrap_or_default().to_owned(),
            org_id: school.map(|s| s.to_string()),
            credit_hours: ctx.opt_decimal(f, c::CREDIT, "credit_hours"),
            subject: f.get(c::CREDITTYPE).map(str::to_owned),
            subject_code: None,
            grade_levels: Vec::new(),
        })
    })();
    let pushed = ctx.emit(out, rec)?;
    if pushed == RowOutcome::Record {
        lk.courses.insert(number.to_owned(), ());
    }
    Ok(pushed)
}

/// Notes the key of a rejected Courses row.
pub fn course_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.trimmed(course_cols::NUMBER) {
        lk.rejected.note(ParentKey::Course(n.to_owned()), at);
    }
}

/// A section's lead teacher, kept compactly until the section-staff pass.
#[derive(Clone, Copy, Debug)]
pub struct LeadTeacher {
    /// Line of the Sections row.
    pub line: u64,
    /// The section's index.
    pub section: u32,
    /// The staff member's index.
    pub staff: u32,
    /// The content hash of the Sections row.
    pub row_hash: [u8; 16],
}

impl LeadTeacher {
    /// The section-staff record: id `<section id>:<staff id>`, role lead.
    pub fn record(&self, file: &str, lk: &Lookups) -> SectionStaff {
        let section = lk.sections.get(self.section as usize).map_or("", |s| s.id.as_str());
        let staff = lk.staff.id(self.staff);
        let mut meta = Meta::new(SYSTEM, format!("{section}:{staff}"));
        meta.origin = Some(ferry_sdk::model::Origin { file: file.to_owned(), line: self.line, raw: None });
        meta.table = Some(Table::Sections.name().to_owned());
        meta.row_hash = Some(self.row_hash);
        SectionStaff {
            meta,
            section_id: Some(section.to_owned()),
            staff_id: Some(staff.to_owned()),
            role: Some(Code::mapped(SectionRole::Lead, "Teacher")),
            start_date: None,
            end_date: None,
        }
    }
}

columns!(section_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    COURSE = ["coursenumber"] Yes,
    NUMBER = ["sectionnumber"] Yes,
    TERMID = ["termid"] Yes,
    TEACHER = ["teacher"] Yes,
    TEACHERNUMBER = ["teachers.teachernumber", "users.teachernumber", "teachernumber"] Yes,
    ROOM = ["room"] Yes,
    EXPRESSION = ["expression"] Yes,
    MAX = ["maxenrollment"] Yes,
});

/// A Sections row. Its id is DCID (else ID, else
/// `SchoolID:Course_Number.Section_Number:TermID`); the lead teacher
/// (`Teacher` = SchoolStaff ID, or a TeacherNumber column) becomes a
/// section-staff record, kept for after the sections.
pub fn section(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    staff_out: &mut Vec<LeadTeacher>,
    misses: &mut Vec<(u32, Reject)>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use section_cols as c;
    let natural = format!(
        "{}:{}.{}:{}",
        f.trimmed(c::SCHOOLID).unwrap_or_default(),
        f.trimmed(c::COURSE).unwrap_or_default(),
        f.trimmed(c::NUMBER).unwrap_or_default(),
        f.trimmed(c::TERMID).unwrap_or_default()
    );
    let id = dcid_or_id(f, c::DCID, c::ID).unwrap_or(natural);
    ctx.id.clone_from(&id);
    let rec = (|| {
        if lk.section_ids.contains_key(&id) {
            return Err(Bad::row("another Sections row has this id"));
        }
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(
                f,
                c::SCHOOLID,
                lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL),
            ));
        }
        let course = f.trimmed(c::COURSE).ok_or_else(|| Bad::at(f, c::COURSE, "Course_Number is missing"))?;
        if !lk.courses.contains_key(course) {
            let why = lk.rejected.why(
                &ParentKey::Course(course.to_owned()),
                "course",
                "the course is not in the Courses export",
            );
            return Err(Bad::at(f, c::COURSE, why));
        }
        let term = ctx.int(f, c::TERMID)?.ok_or_else(|| Bad::at(f, c::TERMID, "TermID is missing"))?.abs();
        if !lk.terms.contains_key(&(school, term)) {
            let why = lk.rejected.why(
                &ParentKey::Term(school, term),
                "term",
                "the term is not in the Terms export for this school",
            );
            return Err(Bad::at(f, c::TERMID, why));
        }
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok((
            Section {
                meta,
                section_number: f.get(c::NUMBER).map(str::to_owned),
                title: None,
                course_id: Some(course.to_owned()),
                school_id: Some(school.to_string()),
                session_ids: vec![format!("{school}:{term}")],
                period: f.get(c::EXPRESSION).map(str::to_owned),
                room: f.get(c::ROOM).map(str::to_owned),
                max_enrollment: ctx.opt_int(f, c::MAX, "max_enrollment"),
            },
            SectionInfo { id: id.clone(), school, term, course: course.to_owned() },
        ))
    })();
    let (sec, info) = match rec {
        Ok(r) => r,
        Err(bad) => {
            out.reject(ctx.reject(EntityKind::Sections, bad));
            return Ok(RowOutcome::Rejected);
        }
    };
    if !out.push_with(&sec, &ctx.issues)? {
        return Ok(RowOutcome::Rejected);
    }
    let n = u32::try_from(lk.sections.len()).map_err(|_| Error::data("too many sections"))?;
    if let Some(sid) = f.get(c::ID).and_then(int) {
        lk.section_by_id.insert(sid, n);
    }
    let number = f.trimmed(c::NUMBER).unwrap_or_default();
    lk.section_by_key.insert(section_key(info.school, &info.course, number, info.term), n);
    lk.section_ids.insert(id.clone(), ());
    lk.sections.push(info);
    // The lead teacher.
    let by_id = f.get(c::TEACHER).and_then(int).filter(|t| *t != 0);
    let by_number = f.trimmed(c::TEACHERNUMBER);
    let staff = match (by_id, by_number) {
        (Some(t), _) => lk.staff.by_id.get(&t).copied().ok_or((c::TEACHER, ParentKey::StaffId(t))),
        (None, Some(num)) => lk
            .staff
            .by_key
            .get(num)
            .copied()
            .ok_or((c::TEACHERNUMBER, ParentKey::StaffNumber(num.to_owned()))),
        (None, None) => return Ok(RowOutcome::Record),
    };
    match staff {
        Ok(s) => {
            staff_out.push(LeadTeacher { line: ctx.line, section: n, staff: s, row_hash: ctx.row_hash() })
        }
        Err((col, key)) => {
            let why = lk.rejected.why(&key, "teacher", NO_TEACHER);
            let r = Reject::new(EntityKind::SectionStaff, why)
                .at(ctx.file, ctx.line)
                .field(f.header(col))
                .record(format!("{id}:?"))
                .value(f.get(col).unwrap_or_default());
            if lk.section_teacher_export {
                // SectionTeacher may name the section's teachers: decided after it.
                misses.push((n, r));
            } else {
                out.reject(r);
            }
        }
    }
    Ok(RowOutcome::Record)
}

/// Notes the keys of a rejected Sections row: abs(ID) and its natural key.
pub fn section_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    use section_cols as c;
    if let Some(id) = f.get(c::ID).and_then(int) {
        lk.rejected.note(ParentKey::SectionId(id.abs()), at);
    }
    let school = f.get(c::SCHOOLID).and_then(int);
    let term = f.get(c::TERMID).and_then(int);
    if let (Some(s), Some(course), Some(number), Some(t)) =
        (school, f.trimmed(c::COURSE), f.trimmed(c::NUMBER), term)
    {
        lk.rejected.note(ParentKey::SectionKey(section_key(s, course, number, t.abs())), at);
    }
}
