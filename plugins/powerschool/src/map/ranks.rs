//! ClassRank → academic records and GPAs. A ClassRank row is one student's
//! GPA by one method (`GPAMethod`: Simple, Weighted…) at one school in one
//! year, and their rank by it. Read twice: first the academic records, one
//! per student, school and year (`<student id>:<SchoolID>:<YearID>`), with
//! the class rank of the first method read for them; then every row is a
//! GPA of that record (the counted pass), keeping its own Rank, OutOf,
//! Percentile and DateRanked in its extensions.

use ferry_sdk::model::{AcademicRecord, Gpa};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, id_alts};
use crate::lookups::Lookups;
use crate::map::codes::known_school;
use crate::map::joins;
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values;

columns!(rank_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    METHOD = ["gpamethod"] Yes,
    GPA = ["gpa"] Yes,
    RANK = ["rank"] No,
    OUTOF = ["outof"] No,
    PERCENTILE = ["percentile"] No,
    DATE = ["dateranked"] No,
});

/// The row's student (index), school and YearID.
fn key(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups) -> Result<(u32, i64, i64), Bad> {
    use rank_cols as c;
    let student = joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
    let school = known_school(ctx, f, lk, c::SCHOOLID)?;
    let year = ctx.need(f, c::YEARID, "YearID")?;
    Ok((student, school, year))
}

/// The academic record id of a key.
fn record_id(lk: &Lookups, (student, school, year): (u32, i64, i64)) -> String {
    format!("{}:{school}:{year}", lk.students.id(student))
}

/// First pass: the academic record of the row's student, school and year,
/// unless one was made already. A row that is not a GPA (its student or
/// school missing…) makes none: the GPA pass rejects it.
pub fn academic_record(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use rank_cols as c;
    let Ok(k) = key(ctx, f, lk) else { return Ok(RowOutcome::Skip) };
    if ctx.decimal(f, c::GPA).ok().flatten().is_none() || !lk.ranked.insert(k) {
        return Ok(RowOutcome::Skip);
    }
    let id = record_id(lk, k);
    let class_rank = ctx.opt_int(f, c::RANK, "class_rank");
    let class_size = ctx.opt_int(f, c::OUTOF, "class_size");
    let class_rank_date = ctx.opt_date(f, c::DATE, "class_rank_date");
    let mut meta = ctx.meta(id);
    f.keep(c::PERCENTILE, &mut meta);
    let (student, school, year) = k;
    let rec = AcademicRecord {
        meta,
        student_id: Some(lk.students.id(student).to_owned()),
        school_id: Some(school.to_string()),
        school_year: Some(values::school_year_of_yearid(year)),
        session_id: None,
        class_rank,
        class_size,
        class_rank_method: f.get(c::METHOD).map(str::to_owned),
        class_rank_date,
        ..AcademicRecord::default()
    };
    ctx.emit(out, Ok(rec))
}

/// The counted pass: a ClassRank row → a cumulative GPA of its academic
/// record; weighted when its method says so.
pub fn gpa(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use rank_cols as c;
    let own = dcid_or_id_str(f, c::DCID, c::ID);
    ctx.set_id(own.unwrap_or_default());
    let rec = (|| {
        let k = key(ctx, f, lk)?;
        let value = ctx.decimal(f, c::GPA)?.ok_or_else(|| Bad::at(f, c::GPA, "GPA is missing"))?;
        let record = record_id(lk, k);
        let method = f.trimmed(c::METHOD);
        let id = own.map_or_else(|| format!("{record}:{}", method.unwrap_or_default()), str::to_owned);
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let (student, school, year) = k;
        Ok(Gpa {
            meta,
            student_id: Some(lk.students.id(student).to_owned()),
            academic_record_id: Some(record),
            school_id: Some(school.to_string()),
            school_year: Some(values::school_year_of_yearid(year)),
            session_id: None,
            method: method.map(str::to_owned),
            weighted: method.and_then(codes::gpa_weighted),
            cumulative: Some(true),
            value: Some(value),
            scale: None,
        })
    })();
    ctx.emit(out, rec)
}
