//! StoredGrades → transcript grades, PGFinalGrades → term and final grades.

use ferry_sdk::model::{Code, CourseAttemptResult, Decimal, Grade, GradeKind};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, fill_id_alts};
use crate::lookups::Lookups;
use crate::map::joins::{self, SectionCols};
use crate::row::{Ctx, RowOutcome, put, put_code, put_grade_level, put_int, put_pair};
use crate::values::{self, NO_GRADE};

fn letter(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|g| *g != NO_GRADE && !g.is_empty())
}

columns!(stored_cols {
    DCID = ["dcid"] Yes,
    ID = ["id"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    SCHOOLNAME = ["schoolname"] Yes,
    COURSE = ["coursenumber"] Yes,
    COURSE_NAME = ["coursename"] Yes,
    SECTIONID = ["sectionid"] Yes,
    TERMID = ["termid"] Yes,
    STORECODE = ["storecode"] Yes,
    GRADE = ["grade"] Yes,
    PERCENT = ["percent"] Yes,
    GPA = ["gpapoints"] Yes,
    EARNED = ["earnedcrhrs"] Yes,
    POTENTIAL = ["potentialcrhrs"] Yes,
    GRADE_LEVEL = ["gradelevel"] Yes,
    EXCLUDE_GPA = ["excludefromgpa"] Yes,
    COMMENT = ["commentvalue", "comment"] Yes,
    CREDIT_TYPE = ["credittype"] Yes,
    EXCLUDE_RANK = ["excludefromclassrank"] Yes,
    EXCLUDE_HONOR = ["excludefromhonorroll"] Yes,
    EXCLUDE_TRANSCRIPT = ["excludefromtranscripts"] Yes,
});

/// How a stored course attempt ended, as far as the grade row says: a
/// withdrawal or incomplete mark, else by the credits (all earned: completed;
/// none of those attempted: failed). `None` when the row does not say.
fn attempt_result(
    letter: Option<&str>,
    attempted: Option<Decimal>,
    earned: Option<Decimal>,
) -> Option<Code<CourseAttemptResult>> {
    let mark = letter.map(str::trim).unwrap_or_default();
    let upper = mark.to_ascii_uppercase();
    let kind = match upper.as_str() {
        "W" | "WD" | "WF" | "WP" => CourseAttemptResult::Withdrawn,
        "I" | "INC" => CourseAttemptResult::Incomplete,
        _ => match (attempted, earned) {
            (Some(a), Some(e)) if a.units() > 0 && e.units() >= a.units() => CourseAttemptResult::Completed,
            (Some(a), Some(e)) if a.units() > 0 && e.units() == 0 => CourseAttemptResult::Failed,
            _ => return None,
        },
    };
    Some(Code::mapped(kind, if mark.is_empty() { "credits" } else { mark }))
}

/// A StoredGrades row → a transcript grade (id DCID, else ID). `--` is no
/// grade: letter and percent are left empty. A section, school or term the
/// grade names but the export lacks (transfer credit, deleted sections)
/// stays in the extensions instead of a reference. `rec` is reused.
pub fn stored_grade(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    rec: &mut Grade,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use stored_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let filled = (|| {
        let stu = joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
        if ctx.id.is_empty() {
            let natural = format!(
                "sg:{}:{}:{}:{}",
                lk.students.id(stu),
                f.trimmed(c::COURSE).unwrap_or_default(),
                f.trimmed(c::TERMID).unwrap_or_default(),
                f.trimmed(c::STORECODE).unwrap_or_default()
            );
            ctx.set_id(&natural);
        }
        let school = ctx.opt_int(f, c::SCHOOLID, "school_id");
        let issues = ctx.issues.len();
        let term = ctx.opt_int(f, c::TERMID, "session_id").map(i64::abs);
        if ctx.issues.len() > issues {
            ctx.issue(f, c::TERMID, "school_year", "not a whole number");
        }
        let section = ctx.opt_int(f, c::SECTIONID, "section_id").map(i64::abs).filter(|s| *s != 0);
        let section_info = section.and_then(|s| lk.section_by_id.get(&s)).map(|i| &lk.sections[*i as usize]);
        let no_grade = f.trimmed(c::GRADE) == Some(NO_GRADE);
        let percent = if no_grade { None } else { ctx.opt_decimal(f, c::PERCENT, "percent") };
        let potential = ctx.opt_decimal(f, c::POTENTIAL, "credits_attempted");
        let earned = ctx.opt_decimal(f, c::EARNED, "credits_earned");
        let gpa = ctx.opt_decimal(f, c::GPA, "gpa_points");
        let exclude = ctx.opt_flag(f, c::EXCLUDE_GPA, "exclude_from_gpa");
        let exclude_rank = ctx.opt_flag(f, c::EXCLUDE_RANK, "exclude_from_class_rank");
        let exclude_honor = ctx.opt_flag(f, c::EXCLUDE_HONOR, "exclude_from_honor_roll");
        let exclude_transcript = ctx.opt_flag(f, c::EXCLUDE_TRANSCRIPT, "exclude_from_transcript");
        ctx.fill_meta(&mut rec.meta);
        fill_id_alts(&mut rec.meta, f, c::DCID, c::ID);
        f.ext_fill(&mut rec.meta);
        let school_known = school.filter(|s| lk.schools.contains_key(s));
        if school.is_some() && school_known.is_none() {
            f.keep(c::SCHOOLID, &mut rec.meta);
        }
        if section.is_some() && section_info.is_none() {
            f.keep(c::SECTIONID, &mut rec.meta);
        }
        let session = match (school, term) {
            (Some(s), Some(t)) if lk.terms.contains_key(&(s, t)) => Some((s, t)),
            _ => None,
        };
        if session.is_none() {
            f.keep(c::TERMID, &mut rec.meta);
        }
        let course = f.trimmed(c::COURSE);
        put(&mut rec.student_id, Some(lk.students.id(stu)));
        put_code(&mut rec.kind, GradeKind::Transcript, "StoredGrades");
        put(&mut rec.section_id, section_info.map(|s| s.id.as_str()));
        put(&mut rec.course_id, course.filter(|n| lk.courses.contains_key(*n)));
        put(&mut rec.course_number, f.get(c::COURSE));
        put(&mut rec.course_title, f.get(c::COURSE_NAME));
        match school_known {
            Some(s) => put_int(&mut rec.school_id, s),
            None => rec.school_id = None,
        }
        put(&mut rec.school_name, f.get(c::SCHOOLNAME));
        match session {
            Some((s, t)) => put_pair(&mut rec.session_id, s, t),
            None => rec.session_id = None,
        }
        rec.school_year = term.map(|t| values::school_year_of_yearid(t / 100));
        put(&mut rec.store_code, f.get(c::STORECODE));
        put(&mut rec.letter_grade, letter(f.get(c::GRADE)));
        rec.percent = percent;
        rec.credits_attempted = potential;
        rec.credits_earned = earned;
        rec.gpa_points = gpa;
        put_grade_level(&mut rec.grade_level, f.get(c::GRADE_LEVEL));
        rec.exclude_from_gpa = exclude;
        rec.exclude_from_class_rank = exclude_rank;
        rec.exclude_from_honor_roll = exclude_honor;
        rec.exclude_from_transcript = exclude_transcript;
        put(&mut rec.credit_type, f.get(c::CREDIT_TYPE));
        rec.attempt_result = attempt_result(f.get(c::GRADE), potential, earned);
        put(&mut rec.comment, f.get(c::COMMENT));
        Ok(())
    })();
    ctx.push_refilled(out, rec, filled)
}

columns!(pg_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SECTIONID = ["sectionid"] Yes,
    SCHOOLID = ["schoolid"] No,
    COURSE = ["coursenumber"] No,
    SECTION_NUMBER = ["sectionnumber"] No,
    TERMID = ["termid"] No,
    NAME = ["finalgradename"] Yes,
    GRADE = ["grade"] Yes,
    PERCENT = ["percent"] Yes,
    COMMENT = ["commentvalue", "comment"] Yes,
});

/// A PGFinalGrades row → a grade: `final` for a year grade (`Y…`), else
/// `term`; id `pg:<DCID>` (else ID). `--` is no grade. `rec` is reused.
pub fn pg_grade(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    rec: &mut Grade,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use pg_cols as c;
    ctx.id.clear();
    if let Some(i) = dcid_or_id_str(f, c::DCID, c::ID) {
        ctx.id.push_str("pg:");
        ctx.id.push_str(i);
    }
    let sc = SectionCols {
        id: c::SECTIONID,
        school: c::SCHOOLID,
        course: c::COURSE,
        number: c::SECTION_NUMBER,
        term: c::TERMID,
    };
    let filled = (|| {
        let stu = joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
        let sec = &lk.sections[joins::section(ctx, f, lk, &sc)? as usize];
        let name = f.trimmed(c::NAME).unwrap_or_default();
        if ctx.id.is_empty() {
            let natural = format!("pg:{}:{}:{name}", lk.students.id(stu), sec.id);
            ctx.set_id(&natural);
        }
        let kind = if name.starts_with(['Y', 'y']) { GradeKind::Final } else { GradeKind::Term };
        let no_grade = f.trimmed(c::GRADE) == Some(NO_GRADE);
        let percent = if no_grade { None } else { ctx.opt_decimal(f, c::PERCENT, "percent") };
        ctx.fill_meta(&mut rec.meta);
        fill_id_alts(&mut rec.meta, f, c::DCID, c::ID);
        f.ext_fill(&mut rec.meta);
        let year = lk.terms.get(&(sec.school, sec.term)).map(|t| values::school_year_of_yearid(t.yearid));
        put(&mut rec.student_id, Some(lk.students.id(stu)));
        put_code(&mut rec.kind, kind, name);
        put(&mut rec.section_id, Some(&sec.id));
        put(&mut rec.course_id, Some(&sec.course));
        put(&mut rec.course_number, Some(&sec.course));
        rec.course_title = None;
        put_int(&mut rec.school_id, sec.school);
        rec.school_name = None;
        put_pair(&mut rec.session_id, sec.school, sec.term);
        rec.school_year = year;
        put(&mut rec.store_code, (!name.is_empty()).then_some(name));
        put(&mut rec.letter_grade, letter(f.get(c::GRADE)));
        rec.percent = percent;
        rec.credits_attempted = None;
        rec.credits_earned = None;
        rec.gpa_points = None;
        rec.grade_level = None;
        rec.exclude_from_gpa = None;
        rec.exclude_from_class_rank = None;
        rec.exclude_from_honor_roll = None;
        rec.exclude_from_transcript = None;
        rec.credit_type = None;
        // A gradebook grade of the current term: the course is under way.
        rec.attempt_result = Some(Code::mapped(CourseAttemptResult::InProgress, "PGFinalGrades"));
        put(&mut rec.comment, f.get(c::COMMENT));
        Ok(())
    })();
    ctx.push_refilled(out, rec, filled)
}
