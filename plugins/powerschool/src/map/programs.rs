//! Gen's district rows (`specprog` → programs; `logtype` and `subtype`, the
//! names log entries give their types) and SPEnrollments → program
//! participations.
//!
//! SPEnrollments carries no IEP (no plan dates, setting or service hours;
//! Code1 and Code2 mean what each district decides), so no special
//! education plan is made from it.

use ferry_sdk::model::{Code, CodeSet, Date, Program, ProgramKind, ProgramParticipation};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, dcid_or_id_str, id_alts};
use crate::lookups::{FastMap, IdMap, Lookups};
use crate::map::joins;
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::{exclusive_end_to_inclusive, int};

/// Why a participation's program is missing.
pub const NO_PROGRAM: &str = "the program is not among the Gen specprog rows read";

/// What later passes need of Gen's district rows.
#[derive(Debug, Default)]
pub struct ProgramLookups {
    /// Gen.ID of each `specprog` row made a program → the program's source id.
    pub programs: IdMap<String>,
    /// Gen.ID of each `logtype` row → its name.
    pub log_types: IdMap<String>,
    /// (log type Gen.ID, subtype code) → the subtype's description.
    pub subtypes: FastMap<(i64, String), String>,
}

columns!(gen_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    CAT = ["cat"] Yes,
    NAME = ["name"] Yes,
    VALUE = ["value"] Yes,
    VALUELI = ["valueli"] Yes,
    SCHOOLID = ["schoolid"] Yes,
});

/// Lower-case words of a name (letters and digits).
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The kind of program a Gen `specprog` name (and its code) suggests.
pub fn program_kind(name: &str, code: &str) -> ProgramKind {
    let w = words(name);
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    let next = |a: &str, bs: &[&str]| w.windows(2).any(|p| p[0] == a && bs.contains(&p[1].as_str()));
    if has(&["504"]) {
        ProgramKind::Section504
    } else if next("special", &["education", "ed", "educ", "services"]) || has(&["sped", "iep", "idea"]) {
        ProgramKind::SpecialEducation
    } else if next("english", &["learner", "learners", "language", "second"])
        || has(&["ell", "el", "esl", "esol", "lep", "bilingual", "multilingual"])
    {
        ProgramKind::EnglishLearner
    } else if has(&["gifted", "talented", "gate", "gt"]) {
        ProgramKind::Gifted
    } else if next("title", &["i", "1", "ia"]) {
        ProgramKind::TitleI
    } else if has(&["homeless", "mckinney"]) {
        ProgramKind::Homeless
    } else if has(&["lunch", "meal", "meals", "frl", "frpl", "nslp"]) || (has(&["free"]) && has(&["reduced"]))
    {
        ProgramKind::FreeReducedMeals
    } else if has(&["migrant"]) {
        ProgramKind::Migrant
    } else if has(&["foster"]) {
        ProgramKind::Foster
    } else {
        match ProgramKind::normalize(code) {
            ProgramKind::Other => ProgramKind::normalize(name),
            k => k,
        }
    }
}

/// A Gen row, in the pass after the entry and exit codes: a `specprog` row
/// → a program (id DCID, else ID; SPEnrollments.ProgramID is its Gen.ID);
/// `logtype` and `subtype` rows are noted for log entries. Other
/// categories are not this pass's business.
pub fn gen_district(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use gen_cols as c;
    let Some(cat) = f.trimmed(c::CAT) else { return Ok(RowOutcome::Skip) };
    let gen_id = f.get(c::ID).and_then(int);
    if cat.eq_ignore_ascii_case("logtype") {
        if let (Some(id), Some(name)) = (gen_id, f.trimmed(c::NAME)) {
            lk.programs.log_types.insert(id, name.to_owned());
        }
        return Ok(RowOutcome::Skip);
    }
    if cat.eq_ignore_ascii_case("subtype") {
        let log_type = f.get(c::VALUELI).and_then(int);
        if let (Some(t), Some(code)) = (log_type, f.trimmed(c::NAME)) {
            let desc = f.trimmed(c::VALUE).unwrap_or(code);
            lk.programs.subtypes.insert((t, code.to_owned()), desc.to_owned());
        }
        return Ok(RowOutcome::Skip);
    }
    if !cat.eq_ignore_ascii_case("specprog") {
        return Ok(RowOutcome::Skip);
    }
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let rec = (|| {
        let id = dcid_or_id(f, c::DCID, c::ID).ok_or_else(|| Bad::row("the Gen row has no DCID or ID"))?;
        let name = f.trimmed(c::NAME).ok_or_else(|| Bad::at(f, c::NAME, "the program's Name is missing"))?;
        let code = f.trimmed(c::VALUE);
        let school = f.get(c::SCHOOLID).and_then(int).filter(|s| lk.schools.contains_key(s));
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(Program {
            meta,
            kind: Some(Code::mapped(program_kind(name, code.unwrap_or_default()), name)),
            name: name.to_owned(),
            code: code.map(str::to_owned),
            org_id: school.map(|s| s.to_string()),
        })
    })();
    let outcome = ctx.emit(out, rec)?;
    if outcome == RowOutcome::Record
        && let Some(g) = gen_id
    {
        lk.programs.programs.insert(g, ctx.id.clone());
    }
    Ok(outcome)
}

columns!(spenroll_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    PROGRAMID = ["programid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    ENTERDATE = ["enterdate"] Yes,
    EXITDATE = ["exitdate"] Yes,
    CODE1 = ["code1"] Yes,
    CODE2 = ["code2"] Yes,
    EXITCODE = ["exitcode"] Yes,
    COMMENT = ["spcomment"] Yes,
});

/// An exclusive end date column as an inclusive optional end date (see
/// [`exclusive_end_to_inclusive`]).
fn exclusive_end(ctx: &mut Ctx<'_>, f: &Fields<'_>, c: usize) -> Option<Date> {
    let d = ctx.opt_date(f, c, "end_date")?;
    let inclusive = exclusive_end_to_inclusive(d);
    if inclusive.is_none() {
        ctx.issue(f, c, "end_date", "not a usable date");
    }
    inclusive
}

/// An SPEnrollments row → a program participation (id DCID, else ID, else
/// `<student>:<program>:<EnterDate>`): EnterDate to ExitDate (exclusive in
/// PowerSchool, made inclusive), Code1 as the eligibility, ExitCode as the
/// exit reason; Code2 and Sp_Comment go to extensions as personal data.
pub fn participation(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use spenroll_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let rec = (|| {
        let stu = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
        let program_id = ctx.need(f, c::PROGRAMID, "ProgramID")?;
        let program = lk
            .programs
            .programs
            .get(&program_id)
            .ok_or_else(|| Bad::at(f, c::PROGRAMID, NO_PROGRAM))?
            .clone();
        let id = dcid_or_id(f, c::DCID, c::ID)
            .unwrap_or_else(|| format!("{stu}:{program}:{}", f.trimmed(c::ENTERDATE).unwrap_or_default()));
        let school = ctx.opt_int(f, c::SCHOOLID, "school_id");
        let known = school.filter(|s| lk.schools.contains_key(s));
        let begin = ctx.opt_date(f, c::ENTERDATE, "begin_date");
        let end = exclusive_end(ctx, f, c::EXITDATE);
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        if school.is_some() && known.is_none() {
            f.keep(c::SCHOOLID, &mut meta);
        }
        f.keep_pii(c::CODE2, &mut meta);
        f.keep_pii(c::COMMENT, &mut meta);
        Ok(ProgramParticipation {
            meta,
            student_id: Some(stu),
            program_id: Some(program),
            school_id: known.map(|s| s.to_string()),
            school_year: None,
            begin_date: begin,
            end_date: end,
            status: None,
            eligibility: f.trimmed(c::CODE1).map(str::to_owned),
            exit_reason: f.trimmed(c::EXITCODE).map(str::to_owned),
        })
    })();
    ctx.emit(out, rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        let k = |n: &str, c: &str| program_kind(n, c);
        assert_eq!(k("Special Education", "SPED"), ProgramKind::SpecialEducation);
        assert_eq!(k("Section 504", "504"), ProgramKind::Section504);
        assert_eq!(k("English Language Learner", "ELL"), ProgramKind::EnglishLearner);
        assert_eq!(k("Gifted and Talented", "GT"), ProgramKind::Gifted);
        assert_eq!(k("Title I", "TI"), ProgramKind::TitleI);
        assert_eq!(k("Title I Reading", ""), ProgramKind::TitleI);
        assert_eq!(k("Title III", ""), ProgramKind::Other);
        assert_eq!(k("Homeless (McKinney-Vento)", "HMLS"), ProgramKind::Homeless);
        assert_eq!(k("Free/Reduced Lunch", "FRL"), ProgramKind::FreeReducedMeals);
        assert_eq!(k("Migrant Education", ""), ProgramKind::Migrant);
        assert_eq!(k("Students in foster care", ""), ProgramKind::Foster);
        assert_eq!(k("Enrichment", "iep"), ProgramKind::SpecialEducation);
        assert_eq!(k("Ideas Club", "IC"), ProgramKind::Other);
        assert_eq!(k("Band", ""), ProgramKind::Other);
    }
}
