//! School enrollments (the current enrollment of a Students row and
//! ReEnrollments) and section enrollments (CC).

use ferry_sdk::model::{
    Code, CodeSet, Date, EntryKind, ExitKind, SchoolEnrollment, SectionEnrollment, SectionEnrollmentStatus,
};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, dcid_or_id_str, fill_id_alts, id_alts};
use crate::lookups::{Lookups, NO_SCHOOL, ParentKey, RejectedRow};
use crate::map::joins::{self, SectionCols};
use crate::map::students::{student_cols, student_of_row};
use crate::row::{Bad, Ctx, RowOutcome, put, put_code};
use crate::values::{self, GRADUATED_SCHOOL, exclusive_end_to_inclusive, grade_level, int};

/// An exclusive end date column as an inclusive optional exit date: an
/// unreadable value (or one with no day before it) leaves it empty with a
/// field issue.
fn exclusive_exit(ctx: &mut Ctx<'_>, f: &Fields<'_>, c: usize) -> Option<Date> {
    let d = ctx.opt_date(f, c, "exit_date")?;
    let inclusive = exclusive_end_to_inclusive(d);
    if inclusive.is_none() {
        ctx.issue(f, c, "exit_date", "not a usable date");
    }
    inclusive
}

fn entry_code(lk: &Lookups, s: &Settings, code: &str) -> Code<EntryKind> {
    let k = s
        .entry_codes
        .get(code)
        .or(lk.entry_codes.get(code))
        .copied()
        .unwrap_or_else(|| EntryKind::normalize(code));
    Code::mapped(k, code)
}

fn exit_code(lk: &Lookups, s: &Settings, code: &str) -> Code<ExitKind> {
    let k = s
        .exit_codes
        .get(code)
        .or(lk.exit_codes.get(code))
        .copied()
        .unwrap_or_else(|| ExitKind::normalize(code));
    Code::mapped(k, code)
}

/// The columns an enrollment is built from.
struct EnrollCols {
    school: usize,
    grade: usize,
    entry: usize,
    exit: usize,
    entry_code: usize,
    exit_code: usize,
    exit_comment: usize,
}

fn enrollment(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    id: String,
    student: String,
    c: &EnrollCols,
) -> Result<SchoolEnrollment, Bad> {
    let school = ctx.int(f, c.school)?.ok_or_else(|| Bad::at(f, c.school, "SchoolID is missing"))?;
    if !lk.schools.contains_key(&school) {
        return Err(Bad::at(f, c.school, lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL)));
    }
    let entry = ctx.date(f, c.entry)?;
    let exit = exclusive_exit(ctx, f, c.exit);
    let mut meta = ctx.meta(id);
    f.ext_into(&mut meta);
    Ok(SchoolEnrollment {
        meta,
        student_id: Some(student),
        school_id: Some(school.to_string()),
        school_year: entry.map(|d| values::school_year_of(d, s.start_month)),
        entry_date: entry,
        exit_date: exit,
        entry_code: f.trimmed(c.entry_code).map(|v| entry_code(lk, s, v)),
        exit_code: f.trimmed(c.exit_code).map(|v| exit_code(lk, s, v)),
        exit_comment: f.get(c.exit_comment).map(str::to_owned),
        grade_level: f.get(c.grade).map(grade_level),
        primary: Some(true),
    })
}

/// The current enrollment on a Students row → a school enrollment with id
/// `current:<student id>`. Rows at school 999999 (Graduated Students) are a
/// status, not an enrollment, and rows without EntryDate have none.
pub fn current_enrollment(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use student_cols as c;
    let Some((_, sid)) = student_of_row(f, lk) else { return Ok(RowOutcome::Skip) };
    if f.get(c::SCHOOLID).and_then(int) == Some(GRADUATED_SCHOOL) || f.get(c::ENTRYDATE).is_none() {
        return Ok(RowOutcome::Skip);
    }
    let cols = EnrollCols {
        school: c::SCHOOLID,
        grade: c::GRADE,
        entry: c::ENTRYDATE,
        exit: c::EXITDATE,
        entry_code: c::ENTRYCODE,
        exit_code: c::EXITCODE,
        exit_comment: c::EXITCOMMENT,
    };
    let id = format!("current:{sid}");
    ctx.id.clone_from(&id);
    let mut rec = enrollment(ctx, f, lk, s, id, sid, &cols);
    if let Ok(r) = &mut rec
        && let Some(o) = &mut r.meta.origin
    {
        o.raw = None;
    }
    ctx.emit(out, rec)
}

columns!(reenroll_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    GRADE = ["gradelevel"] Yes,
    ENTRYDATE = ["entrydate"] Yes,
    EXITDATE = ["exitdate"] Yes,
    ENTRYCODE = ["entrycode"] Yes,
    EXITCODE = ["exitcode"] Yes,
    EXITCOMMENT = ["exitcomment"] Yes,
});

/// A ReEnrollments row → a school enrollment (id DCID, else ID, else
/// `<student>:<school>:<entry date>`).
pub fn reenrollment(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use reenroll_cols as c;
    let cols = EnrollCols {
        school: c::SCHOOLID,
        grade: c::GRADE,
        entry: c::ENTRYDATE,
        exit: c::EXITDATE,
        entry_code: c::ENTRYCODE,
        exit_code: c::EXITCODE,
        exit_comment: c::EXITCOMMENT,
    };
    ctx.id = dcid_or_id(f, c::DCID, c::ID).unwrap_or_default();
    let rec = (|| {
        let sid = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
        let id = dcid_or_id(f, c::DCID, c::ID).unwrap_or_else(|| {
            format!(
                "{sid}:{}:{}",
                f.trimmed(c::SCHOOLID).unwrap_or_default(),
                f.trimmed(c::ENTRYDATE).unwrap_or_default()
            )
        });
        let mut r = enrollment(ctx, f, lk, s, id, sid, &cols)?;
        id_alts(&mut r.meta, f, c::DCID, c::ID);
        Ok(r)
    })();
    ctx.emit(out, rec)
}

columns!(cc_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SECTIONID = ["sectionid"] Yes,
    TERMID = ["termid"] No,
    SCHOOLID = ["schoolid"] No,
    COURSE = ["coursenumber"] No,
    SECTION_NUMBER = ["sectionnumber"] No,
    ENROLLED = ["dateenrolled"] Yes,
    LEFT = ["dateleft"] Yes,
});

/// A CC row → a section enrollment. Negative SectionID/TermID: the
/// enrollment ended; it is `completed` when it ran to the end of its term,
/// else `dropped`. A positive row is `active` in the export's current
/// school year and `completed` in earlier years. The status keeps the
/// SectionID (or TermID) as written. `rec` is reused row after row.
///
/// A class dropped the day it was added (DateLeft = DateEnrolled: PowerSchool
/// end dates are exclusive, so the student was never in it; PowerSchool
/// makes such rows negative too) has no inclusive last day. The canonical
/// model has no zero-length section enrollment and never an exit before the
/// entry, so it is `dropped` with `exit_date = entry_date`: it began and
/// ended that day. A DateLeft before DateEnrolled is a contradiction: the
/// enrollment is `dropped` on its entry date too, and `exit_date` carries a
/// field issue (a warning naming DateLeft, or a reject by the field policy).
/// The source row keeps both dates as written.
pub fn cc(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    rec: &mut SectionEnrollment,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use cc_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let sc = SectionCols {
        id: c::SECTIONID,
        school: c::SCHOOLID,
        course: c::COURSE,
        number: c::SECTION_NUMBER,
        term: c::TERMID,
    };
    let filled = (|| {
        let stu = joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
        let sec = joins::section(ctx, f, lk, &sc)?;
        let info = &lk.sections[sec as usize];
        let entry = ctx.opt_date(f, c::ENROLLED, "entry_date");
        let left = ctx.opt_date(f, c::LEFT, "exit_date");
        let exit = left.and_then(|d| {
            let inclusive = exclusive_end_to_inclusive(d);
            if inclusive.is_none() {
                ctx.issue(f, c::LEFT, "exit_date", "not a usable date");
            }
            inclusive
        });
        let sign = f.get(c::SECTIONID).or(f.get(c::TERMID)).map(str::trim);
        let negative = sign.and_then(int).is_some_and(|n| n < 0);
        let term = lk.terms.get(&(info.school, info.term));
        // Dropped the day it was added (or, contradictorily, before).
        let zero_length = match (entry, left) {
            (Some(e), Some(l)) if l < e => {
                ctx.issue(
                    f,
                    c::LEFT,
                    "exit_date",
                    "DateLeft is before DateEnrolled; read as dropped on DateEnrolled",
                );
                true
            }
            (Some(e), Some(l)) => l == e,
            _ => false,
        };
        let exit = match (zero_length, left == entry) {
            (false, _) => exit,
            (true, true) => entry,
            (true, false) => None,
        };
        let status = if zero_length {
            SectionEnrollmentStatus::Dropped
        } else if negative {
            let term_end = term.and_then(|t| t.last).and_then(values::inclusive_end_to_exclusive);
            match (left, term_end) {
                (Some(l), Some(end)) if l >= end => SectionEnrollmentStatus::Completed,
                _ => SectionEnrollmentStatus::Dropped,
            }
        } else {
            match (term, lk.current_yearid) {
                (Some(t), Some(cur)) if t.yearid < cur => SectionEnrollmentStatus::Completed,
                _ => SectionEnrollmentStatus::Active,
            }
        };
        if ctx.id.is_empty() {
            let natural = format!(
                "{}:{}:{}",
                lk.students.id(stu),
                info.id,
                entry.map_or_else(String::new, |d| d.to_string())
            );
            ctx.set_id(&natural);
        }
        ctx.fill_meta(&mut rec.meta);
        fill_id_alts(&mut rec.meta, f, c::DCID, c::ID);
        f.ext_fill(&mut rec.meta);
        put(&mut rec.student_id, Some(lk.students.id(stu)));
        put(&mut rec.section_id, Some(&info.id));
        rec.entry_date = entry;
        rec.exit_date = exit;
        put_code(&mut rec.status, status, sign.unwrap_or_default());
        Ok(sec)
    })();
    match filled {
        Ok(sec) => {
            let pushed = out.push_with(&*rec, &ctx.issues)?;
            if pushed
                && lk.keep_cc
                && let Some(id) = f.get(c::ID).and_then(int)
            {
                lk.add_cc(id, sec);
            }
            Ok(if pushed { RowOutcome::Record } else { RowOutcome::Rejected })
        }
        Err(bad) => {
            out.reject(ctx.reject(ferry_sdk::model::EntityKind::SectionEnrollments, bad));
            Ok(RowOutcome::Rejected)
        }
    }
}

/// Notes the keys of a rejected CC row, when attendance refers to CC rows.
pub fn cc_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(id) = f.get(cc_cols::ID).and_then(int).filter(|_| lk.keep_cc) {
        lk.rejected.note(ParentKey::CcId(id), at);
    }
}
