//! The enrollment and activity tables: the current enrollment of Students
//! and ReEnrollments → school enrollments, CC → section enrollments,
//! StoredGrades and PGFinalGrades → grades, Attendance (with
//! Attendance_Code, Period and Calendar_Day) → attendance events.

use ferry_sdk::model::{
    AttendanceEvent, Code, CodeSet, Date, EntryKind, ExitKind, Grade, GradeKind, SchoolEnrollment,
    SectionEnrollment, SectionEnrollmentStatus,
};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::config::Settings;
use crate::lookups::{AttCode, Lookups, section_key};
use crate::map_people::{student_cols, student_of_row};
use crate::row::{
    Bad, Ctx, Fields, Out, columns, dcid_or_id, dcid_or_id_str, fill_id_alts, id_alts, put, put_code,
};
use crate::values::{self, GRADUATED_SCHOOL, NO_GRADE, exclusive_end_to_inclusive, grade_level, int};

/// Resolves a row's student: `StudentID` (→ Students.ID), else a
/// Student_Number column. Returns the student's index.
fn student(f: &Fields<'_>, lk: &Lookups, id_col: usize, number_col: usize) -> Result<u32, Bad> {
    if let Some(v) = f.get(id_col) {
        let n = int(v).ok_or_else(|| Bad::at(f, id_col, "StudentID is not a number"))?;
        return lk
            .students
            .by_id
            .get(&n)
            .copied()
            .ok_or_else(|| Bad::at(f, id_col, "the student is not among the students read"));
    }
    if let Some(num) = f.trimmed(number_col) {
        return lk
            .students
            .by_key
            .get(num)
            .copied()
            .ok_or_else(|| Bad::at(f, number_col, "the student is not among the students read"));
    }
    Err(Bad::row("the row names no student (StudentID or Student_Number)"))
}

/// Columns that name a section.
struct SectionCols {
    id: usize,
    school: usize,
    course: usize,
    number: usize,
    term: usize,
}

/// Resolves a row's section: `abs(SectionID)` (→ Sections.ID), else
/// SchoolID + Course_Number + Section_Number + abs(TermID).
fn section(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups, c: &SectionCols) -> Result<u32, Bad> {
    if let Some(v) = f.get(c.id) {
        let n = int(v).ok_or_else(|| Bad::at(f, c.id, "SectionID is not a number"))?;
        return lk
            .section_by_id
            .get(&n.abs())
            .copied()
            .ok_or_else(|| Bad::at(f, c.id, "the section is not among the sections read"));
    }
    let (Some(school), Some(course), Some(number), Some(term)) =
        (ctx.int(f, c.school)?, f.trimmed(c.course), f.trimmed(c.number), ctx.int(f, c.term)?)
    else {
        return Err(Bad::row(
            "the row names no section (SectionID, or SchoolID, Course_Number, Section_Number and TermID)",
        ));
    };
    lk.section_by_key
        .get(&section_key(school, course, number, term.abs()))
        .copied()
        .ok_or_else(|| Bad::at(f, c.number, "the section is not among the sections read"))
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
        return Err(Bad::at(f, c.school, "the school is not in the Schools export"));
    }
    let entry = ctx.date(f, c.entry)?;
    let exit = ctx
        .date(f, c.exit)?
        .map(|d| exclusive_end_to_inclusive(d).ok_or_else(|| Bad::at(f, c.exit, "not a usable date")));
    let exit = exit.transpose()?;
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
) -> Result<Out, Error> {
    use student_cols as c;
    let Some((_, sid)) = student_of_row(f, lk) else { return Ok(Out::Skip) };
    if f.get(c::SCHOOLID).and_then(int) == Some(GRADUATED_SCHOOL) || f.get(c::ENTRYDATE).is_none() {
        return Ok(Out::Skip);
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
    if let Ok(r) = &mut rec {
        if let Some(o) = &mut r.meta.origin {
            o.raw = None;
        }
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
) -> Result<Out, Error> {
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
        let sid = lk.students.id(student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
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
pub fn cc(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    rec: &mut SectionEnrollment,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
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
        let stu = student(f, lk, c::STUDENTID, c::NUMBER)?;
        let sec = section(ctx, f, lk, &sc)?;
        let info = &lk.sections[sec as usize];
        let entry = ctx.date(f, c::ENROLLED)?;
        let left = ctx.date(f, c::LEFT)?;
        let exit = match left {
            Some(d) => {
                Some(exclusive_end_to_inclusive(d).ok_or_else(|| Bad::at(f, c::LEFT, "not a usable date"))?)
            }
            None => None,
        };
        let sign = f.get(c::SECTIONID).or(f.get(c::TERMID)).map(str::trim);
        let negative = sign.and_then(int).is_some_and(|n| n < 0);
        let term = lk.terms.get(&(info.school, info.term));
        let status = if negative {
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
            let pushed = out.push(&*rec)?;
            if pushed && lk.keep_cc {
                if let Some(id) = f.get(c::ID).and_then(int) {
                    lk.add_cc(id, sec);
                }
            }
            Ok(if pushed { Out::Record } else { Out::Rejected })
        }
        Err(bad) => {
            out.reject(ctx.reject(ferry_sdk::model::EntityKind::SectionEnrollments, bad));
            Ok(Out::Rejected)
        }
    }
}

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
});

/// Sets a grade level code in place.
fn put_grade_level(slot: &mut Option<Code<ferry_sdk::model::GradeLevel>>, v: Option<&str>) {
    match v.map(str::trim) {
        Some(v) => put_code(slot, values::grade_level_code(v), v),
        None => *slot = None,
    }
}

/// Sets an optional text field to a number, reusing its string.
fn put_int(slot: &mut Option<String>, n: i64) {
    let s = slot.get_or_insert_with(String::new);
    s.clear();
    values::push_int(s, n);
}

/// Sets an optional text field to `school:term`, reusing its string.
fn put_pair(slot: &mut Option<String>, a: i64, b: i64) {
    let s = slot.get_or_insert_with(String::new);
    s.clear();
    values::push_int(s, a);
    s.push(':');
    values::push_int(s, b);
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
) -> Result<Out, Error> {
    use stored_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let filled = (|| {
        let stu = student(f, lk, c::STUDENTID, c::NUMBER)?;
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
        let school = ctx.int(f, c::SCHOOLID)?;
        let term = ctx.int(f, c::TERMID)?.map(i64::abs);
        let section = ctx.int(f, c::SECTIONID)?.map(i64::abs).filter(|s| *s != 0);
        let section_info = section.and_then(|s| lk.section_by_id.get(&s)).map(|i| &lk.sections[*i as usize]);
        let no_grade = f.trimmed(c::GRADE) == Some(NO_GRADE);
        let percent = if no_grade { None } else { ctx.number(f, c::PERCENT)? };
        let (potential, earned, gpa) =
            (ctx.number(f, c::POTENTIAL)?, ctx.number(f, c::EARNED)?, ctx.number(f, c::GPA)?);
        let exclude = ctx.flag(f, c::EXCLUDE_GPA)?;
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
        put(&mut rec.comment, f.get(c::COMMENT));
        Ok(())
    })();
    push_filled(ctx, out, rec, filled)
}

/// Pushes a refilled record, or rejects the row.
fn push_filled<R: ferry_sdk::model::Record>(
    ctx: &Ctx<'_>,
    out: &mut BatchBuilder,
    rec: &R,
    filled: Result<(), Bad>,
) -> Result<Out, Error> {
    match filled {
        Ok(()) => Ok(if out.push(rec)? { Out::Record } else { Out::Rejected }),
        Err(bad) => {
            out.reject(ctx.reject(R::KIND, bad));
            Ok(Out::Rejected)
        }
    }
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
) -> Result<Out, Error> {
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
        let stu = student(f, lk, c::STUDENTID, c::NUMBER)?;
        let sec = &lk.sections[section(ctx, f, lk, &sc)? as usize];
        let name = f.trimmed(c::NAME).unwrap_or_default();
        if ctx.id.is_empty() {
            let natural = format!("pg:{}:{}:{name}", lk.students.id(stu), sec.id);
            ctx.set_id(&natural);
        }
        let kind = if name.starts_with(['Y', 'y']) { GradeKind::Final } else { GradeKind::Term };
        let no_grade = f.trimmed(c::GRADE) == Some(NO_GRADE);
        let percent = if no_grade { None } else { ctx.number(f, c::PERCENT)? };
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
        put(&mut rec.comment, f.get(c::COMMENT));
        Ok(())
    })();
    push_filled(ctx, out, rec, filled)
}

columns!(attcode_cols {
    ID = ["id"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    CODE = ["attcode"] Yes,
    DESCRIPTION = ["description"] Yes,
    PRESENCE = ["presencestatuscd"] Yes,
});

/// An Attendance_Code row: a code of one school and year.
pub fn att_code_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups, s: &Settings) -> Result<(), Bad> {
    use attcode_cols as c;
    let id = ctx.int(f, c::ID)?;
    let school = ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
    let year = ctx.int(f, c::YEARID)?.ok_or_else(|| Bad::at(f, c::YEARID, "YearID is missing"))?;
    let code = f.trimmed(c::CODE).unwrap_or_default();
    let category = s.attendance_codes.get(code).copied().unwrap_or_else(|| {
        codes::attendance_category(
            code,
            f.get(c::DESCRIPTION).unwrap_or_default(),
            f.get(c::PRESENCE).unwrap_or_default(),
        )
    });
    let n = u32::try_from(lk.att_codes.len()).map_err(|_| Bad::row("too many attendance codes"))?;
    lk.att_codes.push(AttCode { code: code.to_owned(), category });
    if let Some(id) = id {
        lk.att_by_key.insert((school, year, id), n);
        lk.att_by_id.entry(id).and_modify(|e| *e = None).or_insert(Some(n));
    }
    lk.att_by_code.entry((school, year, code.to_owned())).or_insert(n);
    Ok(())
}

columns!(period_cols {
    ID = ["id"] Yes,
    ABBREVIATION = ["abbreviation"] Yes,
    NUMBER = ["periodnumber"] Yes,
    NAME = ["name"] Yes,
});

/// A Period row.
pub fn period_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use period_cols as c;
    let id = ctx.int(f, c::ID)?.ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    let label = f.get(c::ABBREVIATION).or(f.get(c::NUMBER)).or(f.get(c::NAME)).unwrap_or_default();
    lk.periods.insert(id, label.to_owned());
    Ok(())
}

columns!(calendar_cols {
    ID = ["id"] Yes,
    DATE = ["datevalue"] Yes,
});

/// A Calendar_Day row.
pub fn calendar_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use calendar_cols as c;
    let id = ctx.int(f, c::ID)?.ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    if let Some(d) = ctx.date(f, c::DATE)? {
        lk.calendar.insert(id, d);
    }
    Ok(())
}

columns!(race_cols {
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    CODE = ["racecd"] Yes,
});

/// A StudentRace row (by StudentID, or Student_Number in the sink's files).
pub fn race_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use race_cols as c;
    let code = f.trimmed(c::CODE).ok_or_else(|| Bad::at(f, c::CODE, "RaceCD is missing"))?;
    let id = match ctx.int(f, c::STUDENTID)? {
        Some(id) => id,
        None => {
            let num = f.trimmed(c::NUMBER).ok_or_else(|| Bad::row("the row names no student"))?;
            let n = lk
                .students
                .by_key
                .get(num)
                .ok_or_else(|| Bad::at(f, c::NUMBER, "the student is not among the students read"))?;
            // Students read without an ID column are found by position.
            -(i64::from(*n) + 1)
        }
    };
    lk.races.push(id, code.into());
    Ok(())
}

/// The StudentRace key of a Students row: its ID, else its position.
pub fn race_key(f: &Fields<'_>, lk: &Lookups) -> Option<i64> {
    f.get(student_cols::ID).and_then(int).or_else(|| student_of_row(f, lk).map(|(n, _)| -(i64::from(n) + 1)))
}

columns!(att_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] No,
    DATE = ["attdate"] Yes,
    CODEID = ["attendancecodeid"] No,
    CODE = ["attendancecode.attcode", "attcode"] Yes,
    CCID = ["ccid"] No,
    SECTIONID = ["sectionid"] No,
    COURSE = ["coursenumber"] No,
    SECTION_NUMBER = ["sectionnumber"] No,
    TERMID = ["termid"] No,
    PERIODID = ["periodid"] No,
    PERIOD = ["period.abbreviation", "period"] Yes,
    CALENDARID = ["calendardayid"] No,
    COMMENT = ["attcomment"] Yes,
    MINUTES = ["totalminutes"] Yes,
});

/// An Attendance row → an attendance event. The code is resolved per
/// school and year (Attendance_CodeID, or an Att_Code column); meeting
/// attendance finds its section through CCID (or section columns). `rec`
/// is reused row after row.
pub fn attendance(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    rec: &mut AttendanceEvent,
    out: &mut BatchBuilder,
) -> Result<Out, Error> {
    use att_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let filled = (|| {
        let stu = student(f, lk, c::STUDENTID, c::NUMBER)?;
        let date: Option<Date> = match ctx.date(f, c::DATE)? {
            Some(d) => Some(d),
            None => ctx.int(f, c::CALENDARID)?.and_then(|id| lk.calendar.get(&id).copied()),
        };
        let date = date.ok_or_else(|| Bad::at(f, c::DATE, "Att_Date is missing"))?;
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(f, c::SCHOOLID, "the school is not in the Schools export"));
        }
        let year =
            ctx.int(f, c::YEARID)?.unwrap_or_else(|| values::school_year_of(date, s.start_month) - 1991);
        let code = match (ctx.int(f, c::CODEID)?, f.has(c::CODE)) {
            (Some(id), _) => lk
                .att_by_key
                .get(&(school, year, id))
                .or_else(|| lk.att_by_id.get(&id).and_then(Option::as_ref))
                .copied(),
            (None, true) => {
                let text = f.get(c::CODE).map_or("", str::trim);
                lk.att_by_code.get(&(school, year, text.to_owned())).copied()
            }
            (None, false) => return Err(Bad::row("the row has no Attendance_CodeID or Att_Code")),
        };
        let code = code.map(|n| &lk.att_codes[n as usize]).ok_or_else(|| {
            let col = if f.has(c::CODEID) { c::CODEID } else { c::CODE };
            Bad::at(f, col, "the attendance code is not among this school's codes for this year")
        })?;
        let cc = ctx.int(f, c::CCID)?.filter(|n| *n != 0);
        let section = match cc {
            Some(ccid) => Some(lk.cc_section(ccid).ok_or_else(|| {
                Bad::at(f, c::CCID, "the CC row is not among the section enrollments read")
            })?),
            None if f.get(c::SECTIONID).is_some() || f.get(c::SECTION_NUMBER).is_some() => {
                let sc = SectionCols {
                    id: c::SECTIONID,
                    school: c::SCHOOLID,
                    course: c::COURSE,
                    number: c::SECTION_NUMBER,
                    term: c::TERMID,
                };
                Some(section(ctx, f, lk, &sc)?)
            }
            None => None,
        };
        let section_id = section.map(|n| lk.sections[n as usize].id.as_str());
        let period = match ctx.int(f, c::PERIODID)?.filter(|n| *n != 0) {
            Some(p) => lk.periods.get(&p).map(String::as_str),
            None => f.get(c::PERIOD),
        };
        let minutes = ctx.int(f, c::MINUTES)?;
        if ctx.id.is_empty() {
            let natural =
                format!("{}:{date}:{}", lk.students.id(stu), period.or(section_id).unwrap_or("day"));
            ctx.set_id(&natural);
        }
        ctx.fill_meta(&mut rec.meta);
        fill_id_alts(&mut rec.meta, f, c::DCID, c::ID);
        f.ext_fill(&mut rec.meta);
        put(&mut rec.student_id, Some(lk.students.id(stu)));
        rec.date = Some(date);
        put_code(&mut rec.category, code.category, &code.code);
        put_int(&mut rec.school_id, school);
        put(&mut rec.section_id, section_id);
        put(&mut rec.period, period);
        rec.minutes = minutes;
        put(&mut rec.comment, f.get(c::COMMENT));
        Ok(())
    })();
    push_filled(ctx, out, rec, filled)
}
