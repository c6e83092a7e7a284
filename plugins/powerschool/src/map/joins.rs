//! How activity rows name their student and section: `StudentID` (or a
//! Student_Number column) and `abs(SectionID)` (or the section's natural
//! columns); a miss names the parent's reject when it was read and rejected.

use crate::fields::Fields;
use crate::lookups::{Lookups, NO_SECTION, NO_STUDENT, ParentKey, section_key};
use crate::row::{Bad, Ctx};
use crate::values::int;

/// Resolves a row's student: `StudentID` (→ Students.ID), else a
/// Student_Number column. Returns the student's index.
pub fn student(f: &Fields<'_>, lk: &Lookups, id_col: usize, number_col: usize) -> Result<u32, Bad> {
    if let Some(v) = f.get(id_col) {
        let n = int(v).ok_or_else(|| Bad::at(f, id_col, "StudentID is not a number"))?;
        return lk.students.by_id.get(&n).copied().ok_or_else(|| {
            Bad::at(f, id_col, lk.rejected.why(&ParentKey::StudentId(n), "student", NO_STUDENT))
        });
    }
    if let Some(num) = f.trimmed(number_col) {
        return lk.students.by_key.get(num).copied().ok_or_else(|| {
            let key = ParentKey::StudentNumber(num.to_owned());
            Bad::at(f, number_col, lk.rejected.why(&key, "student", NO_STUDENT))
        });
    }
    Err(Bad::row("the row names no student (StudentID or Student_Number)"))
}

/// Columns that name a section.
pub struct SectionCols {
    pub id: usize,
    pub school: usize,
    pub course: usize,
    pub number: usize,
    pub term: usize,
}

/// Resolves a row's section: `abs(SectionID)` (→ Sections.ID), else
/// SchoolID + Course_Number + Section_Number + abs(TermID).
pub fn section(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups, c: &SectionCols) -> Result<u32, Bad> {
    if let Some(v) = f.get(c.id) {
        let n = int(v).ok_or_else(|| Bad::at(f, c.id, "SectionID is not a number"))?;
        return lk.section_by_id.get(&n.abs()).copied().ok_or_else(|| {
            Bad::at(f, c.id, lk.rejected.why(&ParentKey::SectionId(n.abs()), "section", NO_SECTION))
        });
    }
    let (Some(school), Some(course), Some(number), Some(term)) =
        (ctx.int(f, c.school)?, f.trimmed(c.course), f.trimmed(c.number), ctx.int(f, c.term)?)
    else {
        return Err(Bad::row(
            "the row names no section (SectionID, or SchoolID, Course_Number, Section_Number and TermID)",
        ));
    };
    let key = section_key(school, course, number, term.abs());
    lk.section_by_key.get(&key).copied().ok_or_else(|| {
        Bad::at(f, c.number, lk.rejected.why(&ParentKey::SectionKey(key.clone()), "section", NO_SECTION))
    })
}
