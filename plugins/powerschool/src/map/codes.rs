//! The code tables → code values: Gen (every category), Attendance_Code,
//! RoleDef and Cycle_Day. Each row also fills the lookup other tables
//! resolve its code with (entry and exit kinds, attendance categories,
//! section roles, cycle-day letters), so a file's one counted pass makes
//! the records and the lookup together.
//!
//! A code value's id is `<table>:<DCID>` (else `:<ID>`): the code tables
//! share one entity, and their IDs overlap.

use std::collections::HashSet;

use ferry_sdk::model::{CodeSet, CodeValue, Decimal};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, id_alts};
use crate::lookups::{Lookups, NO_SCHOOL, ParentKey, RoleInfo};
use crate::map::{attendance, schools};
use crate::row::{Bad, Ctx, RowOutcome, unique};
use crate::values::{self, DISTRICT_OFFICE};

/// Code sets of the tables whose name is not their code set.
pub const ATTENDANCE_SET: &str = "attendance";
/// RoleDef's code set.
pub const ROLE_SET: &str = "roledef";
/// Cycle_Day's code set.
pub const CYCLE_DAY_SET: &str = "cycle_day";

/// The school a code belongs to: `None` when district-wide (blank, or the
/// district office's 0); a school the export lacks rejects the row.
fn code_school(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups, c: usize) -> Result<Option<i64>, Bad> {
    match ctx.int(f, c)? {
        None | Some(DISTRICT_OFFICE) => Ok(None),
        Some(s) if lk.schools.contains_key(&s) => Ok(Some(s)),
        Some(s) => Err(Bad::at(f, c, lk.rejected.why(&ParentKey::School(s), "school", NO_SCHOOL))),
    }
}

/// A school that must be there (the row's key).
pub fn known_school(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups, c: usize) -> Result<i64, Bad> {
    let school = ctx.need(f, c, "SchoolID")?;
    if !lk.schools.contains_key(&school) {
        return Err(Bad::at(f, c, lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL)));
    }
    Ok(school)
}

/// The school year of a `YearID` column, when given and not 0 (every year).
fn code_year(ctx: &mut Ctx<'_>, f: &Fields<'_>, c: usize) -> Option<i64> {
    ctx.opt_int(f, c, "school_year").filter(|y| *y != 0).map(values::school_year_of_yearid)
}

/// Sets the id being built to `<table>:<DCID or ID>`, or `None` when the
/// row has neither (the caller falls back to a natural key).
fn table_id(ctx: &mut Ctx<'_>, f: &Fields<'_>, table: &str, dcid: usize, id: usize) -> Option<String> {
    let n = dcid_or_id_str(f, dcid, id);
    ctx.set_id(&format!("{table}:{}", n.unwrap_or_default()));
    n.map(|n| format!("{table}:{n}"))
}

/// A Gen row → a code value of its category (`Cat`): code `Name`,
/// description `Value`; the entry and exit codes' kinds are their canonical
/// codes. `dailymembtypes` also names Calendar_Day's day types.
pub fn gen_value(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    s: &Settings,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use schools::gen_cols as c;
    schools::gen_row(f, lk, s);
    let id = table_id(ctx, f, "Gen", c::DCID, c::ID);
    let rec = (|| {
        let cat = f.trimmed(c::CAT).ok_or_else(|| Bad::at(f, c::CAT, "Cat is missing"))?;
        let code = f.trimmed(c::NAME).ok_or_else(|| Bad::at(f, c::NAME, "Name (the code) is missing"))?;
        let id = id.unwrap_or_else(|| format!("Gen:{cat}:{code}"));
        ctx.set_id(&id);
        unique(seen, &id, "Gen")?;
        let school = code_school(ctx, f, lk, c::SCHOOLID)?;
        let canonical = if cat.eq_ignore_ascii_case("entrycodes") {
            lk.entry_codes.get(code).map(|k| k.as_str())
        } else if cat.eq_ignore_ascii_case("exitcodes") {
            lk.exit_codes.get(code).map(|k| k.as_str())
        } else {
            None
        };
        if cat.eq_ignore_ascii_case("dailymembtypes") {
            lk.day_types.insert(code.to_owned(), f.get(c::VALUE).unwrap_or(code).trim().to_owned());
        }
        let school_year = code_year(ctx, f, c::YEARID);
        let sort_order = ctx.opt_int(f, c::SORTORDER, "sort_order");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(CodeValue {
            meta,
            code_set: Some(cat.to_owned()),
            code: Some(code.to_owned()),
            description: f.get(c::VALUE).map(str::to_owned),
            canonical: canonical.map(str::to_owned),
            school_id: school.map(|s| s.to_string()),
            school_year,
            counts_as_present: None,
            value: None,
            sort_order,
        })
    })();
    ctx.emit(out, rec)
}

/// An Attendance_Code row → a code value of code set `attendance` (its
/// category is the canonical code; `Presence_Status_CD` says whether it
/// counts as present), and the attendance lookup. The blank code (what
/// PowerSchool shows as Present) names no code: it is only folded into the
/// lookup.
pub fn att_code_value(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    s: &Settings,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use attendance::attcode_cols as c;
    let id = table_id(ctx, f, "Attendance_Code", c::DCID, c::ID);
    let rec = (|| {
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let category = attendance::att_code_row(ctx, f, lk, s)?;
        let Some(code) = f.trimmed(c::CODE) else { return Ok(None) };
        let year = ctx.need(f, c::YEARID, "YearID")?;
        let id = id.unwrap_or_else(|| format!("Attendance_Code:{school}:{year}:{code}"));
        ctx.set_id(&id);
        unique(seen, &id, "Attendance_Code")?;
        let presence = f.trimmed(c::PRESENCE);
        let counts_as_present = match presence.map(str::to_ascii_lowercase).as_deref() {
            Some("present") => Some(true),
            Some("absent") => Some(false),
            _ => None,
        };
        let sort_order = ctx.opt_int(f, c::SORTORDER, "sort_order");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(Some(CodeValue {
            meta,
            code_set: Some(ATTENDANCE_SET.to_owned()),
            code: Some(code.to_owned()),
            description: f.get(c::DESCRIPTION).map(str::to_owned),
            canonical: Some(category.as_str().to_owned()),
            school_id: Some(school.to_string()),
            school_year: Some(values::school_year_of_yearid(year)),
            counts_as_present,
            value: None,
            sort_order,
        }))
    })();
    match rec {
        Ok(None) => Ok(RowOutcome::Folded),
        Ok(Some(r)) => ctx.emit(out, Ok(r)),
        Err(bad) => ctx.emit::<CodeValue>(out, Err(bad)),
    }
}

columns!(roledef_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NAME = ["name"] Yes,
    DESCRIPTION = ["description"] Yes,
    SORTORDER = ["sortorder"] Yes,
});

/// A RoleDef row → a code value of code set `roledef` (the section role
/// its name means is the canonical code), and the role SectionTeacher rows
/// name by `RoleID`.
pub fn role_value(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use roledef_cols as c;
    let id = table_id(ctx, f, "RoleDef", c::DCID, c::ID);
    let rec = (|| {
        let n = ctx.need(f, c::ID, "ID")?;
        let name = f.trimmed(c::NAME).ok_or_else(|| Bad::at(f, c::NAME, "Name is missing"))?;
        let id = id.unwrap_or_default();
        unique(seen, &id, "RoleDef")?;
        if lk.roles.contains_key(&n) {
            return Err(Bad::at(f, c::ID, "another RoleDef row has this ID"));
        }
        let role = codes::section_role(name);
        let sort_order = ctx.opt_int(f, c::SORTORDER, "sort_order");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let rec = CodeValue {
            meta,
            code_set: Some(ROLE_SET.to_owned()),
            code: Some(name.to_owned()),
            description: f.get(c::DESCRIPTION).map(str::to_owned),
            canonical: Some(role.as_str().to_owned()),
            school_id: None,
            school_year: None,
            counts_as_present: None,
            value: None,
            sort_order,
        };
        Ok((n, RoleInfo { role, name: name.to_owned() }, rec))
    })();
    match rec {
        Ok((n, info, rec)) => {
            let outcome = ctx.emit(out, Ok(rec))?;
            if outcome == RowOutcome::Record {
                lk.roles.insert(n, info);
            }
            Ok(outcome)
        }
        Err(bad) => ctx.emit::<CodeValue>(out, Err(bad)),
    }
}

columns!(cycle_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    LETTER = ["letter"] Yes,
    NUMBER = ["daynumber"] Yes,
    ABBREVIATION = ["abbreviation"] No,
    NAME = ["dayname"] Yes,
    SORTORDER = ["sortorder"] Yes,
});

/// A Cycle_Day row → a code value of code set `cycle_day` of its school
/// and year: code `Letter` (else `Abbreviation`), description `Day_Name`,
/// value `Day_Number`; and the letter calendar days name by `Cycle_Day_ID`.
pub fn cycle_day_value(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use cycle_cols as c;
    let id = table_id(ctx, f, "Cycle_Day", c::DCID, c::ID);
    let rec = (|| {
        let n = ctx.need(f, c::ID, "ID")?;
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let letter = f
            .trimmed(c::LETTER)
            .or_else(|| f.trimmed(c::ABBREVIATION))
            .ok_or_else(|| Bad::at(f, c::LETTER, "Letter is missing"))?;
        let id = id.unwrap_or_default();
        unique(seen, &id, "Cycle_Day")?;
        if lk.cycle_days.contains_key(&n) {
            return Err(Bad::at(f, c::ID, "another Cycle_Day row has this ID"));
        }
        let school_year = code_year(ctx, f, c::YEARID);
        let value = ctx.opt_int(f, c::NUMBER, "value").and_then(|n| Decimal::from_int(n).ok());
        let sort_order = ctx.opt_int(f, c::SORTORDER, "sort_order");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let rec = CodeValue {
            meta,
            code_set: Some(CYCLE_DAY_SET.to_owned()),
            code: Some(letter.to_owned()),
            description: f.get(c::NAME).map(str::to_owned),
            canonical: None,
            school_id: Some(school.to_string()),
            school_year,
            counts_as_present: None,
            value,
            sort_order,
        };
        Ok((n, letter.to_owned(), rec))
    })();
    match rec {
        Ok((n, letter, rec)) => {
            let outcome = ctx.emit(out, Ok(rec))?;
            if outcome == RowOutcome::Record {
                lk.cycle_days.insert(n, letter);
            }
            Ok(outcome)
        }
        Err(bad) => ctx.emit::<CodeValue>(out, Err(bad)),
    }
}
