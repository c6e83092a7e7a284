//! Schools → orgs (and the logical schools PowerSchool always has), Terms
//! → academic sessions, Gen → the entry and exit code lookups (its code
//! values are made in `codes`).

use ferry_sdk::model::{AcademicSession, Code, EntityKind, Meta, Org, OrgKind, SessionKind};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{SYSTEM, alt, id_alts};
use crate::lookups::{Lookups, NO_SCHOOL, ParentKey, RejectedRow, TermInfo};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::{self, DISTRICT_OFFICE, GRADUATED_SCHOOL, grade_level, int};

columns!(school_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["schoolnumber"] Yes,
    NAME = ["name"] Yes,
    LOW = ["lowgrade"] Yes,
    HIGH = ["highgrade"] Yes,
    ADDRESS = ["schooladdress"] Yes,
    CITY = ["schoolcity"] Yes,
    STATE = ["schoolstate"] Yes,
    ZIP = ["schoolzip"] Yes,
    PHONE = ["schoolphone"] Yes,
});

fn org_kind(n: i64, text: &str) -> Code<OrgKind> {
    if n == DISTRICT_OFFICE {
        Code::mapped(OrgKind::District, text)
    } else {
        Code::mapped(OrgKind::School, "school")
    }
}

/// A Schools row: the org's id is its School_Number, which every `SchoolID`
/// refers to. School 0 (district office) is the district; other schools
/// have it as parent.
pub fn school(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use school_cols as c;
    let number = f.trimmed(c::NUMBER);
    ctx.id = number.unwrap_or_default().to_owned();
    let rec = (|| {
        let text = number.ok_or_else(|| Bad::at(f, c::NUMBER, "School_Number is missing"))?;
        let n = int(text).ok_or_else(|| Bad::at(f, c::NUMBER, "School_Number is not a number"))?;
        if lk.schools.contains_key(&n) {
            return Err(Bad::at(f, c::NUMBER, "another Schools row has this School_Number"));
        }
        let mut meta = ctx.meta(n.to_string());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok((
            n,
            Org {
                meta,
                kind: Some(org_kind(n, text)),
                name: f.get(c::NAME).unwrap_or_default().to_owned(),
                identifier: Some(text.to_owned()),
                parent_id: (n != DISTRICT_OFFICE).then(|| DISTRICT_OFFICE.to_string()),
                low_grade: f.get(c::LOW).map(grade_level),
                high_grade: f.get(c::HIGH).map(grade_level),
                address: f.get(c::ADDRESS).map(str::to_owned),
                city: f.get(c::CITY).map(str::to_owned),
                region: f.get(c::STATE).map(str::to_owned),
                postal_code: f.get(c::ZIP).map(str::to_owned),
                phone: f.get(c::PHONE).map(str::to_owned),
            },
        ))
    })();
    match rec {
        Ok((n, org)) => {
            let name = org.name.clone();
            let pushed = out.push(&org)?;
            if pushed {
                lk.schools.insert(n, name);
            }
            Ok(if pushed { RowOutcome::Record } else { RowOutcome::Rejected })
        }
        Err(bad) => {
            out.reject(ctx.reject(EntityKind::Orgs, bad));
            Ok(RowOutcome::Rejected)
        }
    }
}

/// Notes the key of a rejected Schools row.
pub fn school_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.get(school_cols::NUMBER).and_then(int) {
        lk.rejected.note(ParentKey::School(n), at);
    }
}

/// The logical schools PowerSchool always has, when the Schools export
/// left them out: 0 (District Office) and 999999 (Graduated Students).
pub fn missing_logical_schools(lk: &mut Lookups, out: &mut BatchBuilder) -> Result<(), Error> {
    for (n, name) in [(DISTRICT_OFFICE, "District Office"), (GRADUATED_SCHOOL, "Graduated Students")] {
        if lk.schools.contains_key(&n) {
            continue;
        }
        let org = Org {
            meta: Meta::new(SYSTEM, n.to_string()),
            kind: Some(org_kind(n, &n.to_string())),
            name: name.to_owned(),
            identifier: Some(n.to_string()),
            parent_id: (n != DISTRICT_OFFICE).then(|| DISTRICT_OFFICE.to_string()),
            ..Org::default()
        };
        if out.push(&org)? {
            lk.schools.insert(n, name.to_owned());
        }
    }
    Ok(())
}

columns!(term_cols {
    TERMID = ["id", "termid"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    NAME = ["name"] Yes,
    ABBREVIATION = ["abbreviation"] Yes,
    FIRSTDAY = ["firstday"] Yes,
    LASTDAY = ["lastday"] Yes,
    ISYEARREC = ["isyearrec"] Yes,
    PORTION = ["portion"] Yes,
});

/// First pass over Terms: every (SchoolID, TermID) with its dates, so that
/// sub-terms can name their year term as parent.
pub fn term_prescan(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) {
    use term_cols as c;
    let (Some(school), Some(term)) = (f.get(c::SCHOOLID).and_then(int), f.get(c::TERMID).and_then(int))
    else {
        return;
    };
    let yearid = f.get(c::YEARID).and_then(int).unwrap_or(term.abs() / 100);
    let last = ctx.date(f, c::LASTDAY).ok().flatten();
    lk.terms.entry((school, term)).or_insert(TermInfo { last, yearid });
    lk.current_yearid = Some(lk.current_yearid.map_or(yearid, |y| y.max(yearid)));
}

/// A Terms row: id `SchoolID:TermID` (TermIDs repeat in every school).
pub fn term(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut std::collections::HashSet<(i64, i64)>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use term_cols as c;
    ctx.id = format!(
        "{}:{}",
        f.trimmed(c::SCHOOLID).unwrap_or_default(),
        f.trimmed(c::TERMID).unwrap_or_default()
    );
    let rec = (|| {
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        let term = ctx.int(f, c::TERMID)?.ok_or_else(|| Bad::at(f, c::TERMID, "the term ID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(
                f,
                c::SCHOOLID,
                lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL),
            ));
        }
        if !seen.insert((school, term)) {
            return Err(Bad::at(f, c::TERMID, "another Terms row of this school has this term ID"));
        }
        let issues = ctx.issues.len();
        let yearid_col = ctx.opt_int(f, c::YEARID, "school_year");
        let year_known = ctx.issues.len() == issues;
        let yearid = yearid_col.unwrap_or(term / 100);
        let is_year = term % 100 == 0 || ctx.flag(f, c::ISYEARREC)? == Some(true);
        let portion = f.trimmed(c::PORTION);
        let kind = if is_year {
            SessionKind::SchoolYear
        } else if portion == Some("2") {
            SessionKind::Semester
        } else {
            SessionKind::Term
        };
        let original = portion.or(f.trimmed(c::ABBREVIATION)).unwrap_or_default();
        let mut meta = ctx.meta(format!("{school}:{term}"));
        alt(&mut meta, "dcid", f.get(c::DCID));
        f.ext_into(&mut meta);
        let year_term = yearid * 100;
        Ok(AcademicSession {
            meta,
            kind: Some(Code::mapped(kind, original)),
            title: f.get(c::NAME).or(f.get(c::ABBREVIATION)).unwrap_or_default().to_owned(),
            code: f.get(c::ABBREVIATION).map(str::to_owned),
            start_date: ctx.date(f, c::FIRSTDAY)?,
            end_date: ctx.date(f, c::LASTDAY)?,
            school_year: year_known.then(|| values::school_year_of_yearid(yearid)),
            parent_id: (!is_year && lk.terms.contains_key(&(school, year_term)))
                .then(|| format!("{school}:{year_term}")),
            org_id: Some(school.to_string()),
        })
    })();
    ctx.emit(out, rec)
}

/// Notes the key of a rejected Terms row.
pub fn term_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    use term_cols as c;
    if let (Some(s), Some(t)) = (f.get(c::SCHOOLID).and_then(int), f.get(c::TERMID).and_then(int)) {
        lk.rejected.note(ParentKey::Term(s, t.abs()), at);
    }
}

columns!(gen_cols {
    CAT = ["cat"] Yes,
    NAME = ["name"] Yes,
    VALUE = ["value"] Yes,
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    SORTORDER = ["sortorder"] Yes,
});

/// A Gen row: entry and exit codes with their descriptions (other
/// categories are read and not needed).
pub fn gen_row(f: &Fields<'_>, lk: &mut Lookups, s: &Settings) -> RowOutcome {
    use gen_cols as c;
    let (Some(cat), Some(code)) = (f.trimmed(c::CAT), f.trimmed(c::NAME)) else {
        return RowOutcome::Folded;
    };
    let desc = f.get(c::VALUE).unwrap_or(code);
    if cat.eq_ignore_ascii_case("entrycodes") {
        let k = s.entry_codes.get(code).copied().unwrap_or_else(|| codes::entry_kind_from_description(desc));
        lk.entry_codes.insert(code.to_owned(), k);
    } else if cat.eq_ignore_ascii_case("exitcodes") {
        let k = s.exit_codes.get(code).copied().unwrap_or_else(|| codes::exit_kind_from_description(desc));
        lk.exit_codes.insert(code.to_owned(), k);
    }
    RowOutcome::Folded
}
