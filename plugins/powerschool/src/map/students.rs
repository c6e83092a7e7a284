//! Students → students, and in a later pass demographics (FedEthnicity and
//! the StudentRace lookup); the Students columns other passes read.

use ferry_sdk::model::{Demographics, Student};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{alt, dcid_or_id, id_alts};
use crate::lookups::{Lookups, NO_SCHOOL, NO_STUDENT, ParentKey, RejectedRow};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::{self, grade_level, int, sex};

columns!(student_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NUMBER = ["studentnumber"] Yes,
    STATE_NUMBER = ["statestudentnumber"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
    PREFERRED = ["preferredname", "prefname"] Yes,
    DOB = ["dob"] Yes,
    GENDER = ["gender"] Yes,
    GRADE = ["gradelevel"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["enrollstatus"] Yes,
    STREET = ["street"] Yes,
    CITY = ["city"] Yes,
    STATE = ["state"] Yes,
    ZIP = ["zip"] Yes,
    PHONE = ["homephone"] Yes,
    WEB_ID = ["studentwebid"] Yes,
    NEXT_SCHOOL = ["nextschool"] Yes,
    NEXT_GRADE = ["schednextyeargrade"] Yes,
    CLASS_OF = ["classof", "schedyearofgraduation"] Yes,
    FAMILY = ["familyident"] Yes,
    ENTRYDATE = ["entrydate"] Yes,
    EXITDATE = ["exitdate"] Yes,
    ENTRYCODE = ["entrycode"] Yes,
    EXITCODE = ["exitcode"] Yes,
    EXITCOMMENT = ["exitcomment"] Yes,
    ENTRYCOMMENT = ["entrycomment"] Enrollment,
    TRACK = ["track"] Enrollment,
    FTEID = ["fteid"] Enrollment,
    MEMBERSHIP = ["membershipshare"] Enrollment,
    ENROLLMENTCODE = ["enrollmentcode"] Enrollment,
    ENROLLMENTTYPE = ["enrollmenttype"] Enrollment,
    RESIDENCE = ["districtofresidence"] Enrollment,
    TUITION = ["tuitionpayer"] Enrollment,
    WITHDRAWAL = ["withdrawalreasoncode"] Enrollment,
    FEDETHNICITY = ["fedethnicity"] Yes,
    FEDRACEDECLINE = ["fedracedecline"] Demographics,
    MOTHER = ["mother"] Legacy,
    FATHER = ["father"] Legacy,
    GUARDIAN = ["guardian"] Legacy,
    GUARDIANEMAIL = ["guardianemail"] Legacy,
    MOTHER_HOME = ["motherhomephone"] Legacy,
    MOTHER_DAY = ["motherdayphone"] Legacy,
    FATHER_HOME = ["fatherhomephone"] Legacy,
    FATHER_DAY = ["fatherdayphone"] Legacy,
    GUARDIAN_DAY = ["guardiandayphone"] Legacy,
    EMERG1 = ["emergcontact1"] Legacy,
    EPHONE1 = ["emergphone1"] Legacy,
    EREL1 = ["emerg1rel"] Legacy,
    EMERG2 = ["emergcontact2"] Legacy,
    EPHONE2 = ["emergphone2"] Legacy,
    EREL2 = ["emerg2rel"] Legacy,
    EMERG3 = ["emergcontact3"] Legacy,
    EPHONE3 = ["emergphone3"] Legacy,
    EREL3 = ["emerg3rel"] Legacy,
});

/// A student's source id: DCID, else ID, else Student_Number.
pub fn student_id(f: &Fields<'_>) -> Option<String> {
    use student_cols as c;
    dcid_or_id(f, c::DCID, c::ID).or_else(|| f.trimmed(c::NUMBER).map(str::to_owned))
}

/// The index of the student a Students row produced (later passes).
pub fn student_of_row(f: &Fields<'_>, lk: &Lookups) -> Option<(u32, String)> {
    let id = student_id(f)?;
    lk.students.seen.get(&id).map(|n| (*n, id))
}

/// A Students row → a student. The current enrollment, demographics and
/// legacy contacts of the row are read by later passes.
pub fn student(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use student_cols as c;
    let id = student_id(f).unwrap_or_default();
    ctx.id.clone_from(&id);
    let rec = (|| {
        if id.is_empty() {
            return Err(Bad::row("the row has no DCID, ID or Student_Number"));
        }
        if lk.students.seen.contains_key(&id) {
            return Err(Bad::row("another Students row has this id"));
        }
        let school = ctx.opt_int(f, c::SCHOOLID, "school_id");
        if let Some(s) = school
            && !lk.schools.contains_key(&s)
        {
            return Err(Bad::at(f, c::SCHOOLID, lk.rejected.why(&ParentKey::School(s), "school", NO_SCHOOL)));
        }
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        alt(&mut meta, "student_number", f.get(c::NUMBER));
        alt(&mut meta, "state", f.get(c::STATE_NUMBER));
        f.ext_into(&mut meta);
        if let Some(rows) = f.get(c::DCID).and_then(int).and_then(|d| lk.student_ext.get(&d)) {
            for (file, values) in rows {
                let keys = &lk.student_ext_keys[usize::from(*file)].1;
                for (k, v) in keys.iter().zip(values.split('\u{1f}')) {
                    if !crate::fields::blank(v) {
                        meta.ext.insert(k.as_str(), v);
                    }
                }
            }
        }
        Ok(Student {
            meta,
            student_number: f.get(c::NUMBER).map(str::to_owned),
            state_id: f.get(c::STATE_NUMBER).map(str::to_owned),
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            preferred_name: f.get(c::PREFERRED).map(str::to_owned),
            birth_date: ctx.opt_date(f, c::DOB, "birth_date"),
            sex: f.get(c::GENDER).map(sex),
            grade_level: f.get(c::GRADE).map(grade_level),
            school_id: school.map(|s| s.to_string()),
            status: f.get(c::STATUS).map(values::enroll_status),
            email: None,
            phone: f.get(c::PHONE).map(str::to_owned),
            address: f.get(c::STREET).map(str::to_owned),
            city: f.get(c::CITY).map(str::to_owned),
            region: f.get(c::STATE).map(str::to_owned),
            postal_code: f.get(c::ZIP).map(str::to_owned),
            username: f.get(c::WEB_ID).map(str::to_owned),
            graduation_year: ctx.opt_int(f, c::CLASS_OF, "graduation_year").filter(|y| *y > 0),
            // Next_School is a School_Number, as SchoolID is; 0 means none.
            next_school_id: ctx
                .opt_int(f, c::NEXT_SCHOOL, "next_school_id")
                .filter(|s| *s != 0 && lk.schools.contains_key(s))
                .map(|s| s.to_string()),
            next_grade_level: f.get(c::NEXT_GRADE).map(grade_level),
            household_id: f.get(c::FAMILY).filter(|v| v.trim() != "0").map(str::to_owned),
        })
    })();
    let result = ctx.emit(out, rec)?;
    if result == RowOutcome::Record
        && let Some(n) = lk.students.add(&id)
    {
        if let Some(i) = f.get(c::ID).and_then(int) {
            lk.students.by_id.insert(i, n);
        }
        if let Some(d) = f.get(c::DCID).and_then(int) {
            lk.students.by_dcid.insert(d, n);
        }
        if let Some(num) = f.trimmed(c::NUMBER)
            && let Some(other) = lk.students.by_key.insert(num.to_owned(), n)
            && other != n
        {
            *lk.shared_numbers.entry(num.to_owned()).or_insert(1) += 1;
        }
    }
    Ok(result)
}

/// Notes the keys of a rejected Students row.
pub fn student_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    use student_cols as c;
    if let Some(i) = f.get(c::ID).and_then(int) {
        lk.rejected.note(ParentKey::StudentId(i), at);
    }
    if let Some(d) = f.get(c::DCID).and_then(int) {
        lk.rejected.note(ParentKey::StudentDcid(d), at);
    }
    if let Some(n) = f.trimmed(c::NUMBER) {
        lk.rejected.note(ParentKey::StudentNumber(n.to_owned()), at);
    }
}

columns!(extension_cols {
    DCID = ["studentsdcid"] Yes,
});

/// A row of a Students extension table (`U_StudentsUserFields`,
/// `S_NJ_STU_X`) → its values, kept for the student's extensions under
/// `<table>.<column>` (none when the destination keeps source tables: the
/// row is there as it came).
pub fn extension_values(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    let dcid = ctx.need(f, extension_cols::DCID, "StudentsDCID")?;
    if f.ext_keys().next().is_none() {
        return Ok(());
    }
    // One key list per extension file.
    let file = match lk.student_ext_keys.iter().position(|(name, _)| name == ctx.file) {
        Some(i) => i,
        None => {
            let keys = f.ext_keys().map(|k| format!("{}.{k}", ctx.table)).collect();
            lk.student_ext_keys.push((ctx.file.to_owned(), keys));
            lk.student_ext_keys.len() - 1
        }
    };
    let file = u16::try_from(file).map_err(|_| Bad::row("too many extension tables of Students"))?;
    lk.student_ext.entry(dcid).or_default().push((file, f.ext_values_joined().into()));
    Ok(())
}

/// A row of a Students extension table, once the students are read: its
/// student must be one of them.
pub fn extension_student(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &Lookups) -> Result<(), Bad> {
    let dcid = ctx.need(f, extension_cols::DCID, "StudentsDCID")?;
    if lk.students.by_dcid.contains_key(&dcid) {
        Ok(())
    } else {
        Err(Bad::at(
            f,
            extension_cols::DCID,
            lk.rejected.why(&ParentKey::StudentDcid(dcid), "student", NO_STUDENT),
        ))
    }
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
            let n = lk.students.by_key.get(num).ok_or_else(|| {
                let key = ParentKey::StudentNumber(num.to_owned());
                Bad::at(f, c::NUMBER, lk.rejected.why(&key, "student", NO_STUDENT))
            })?;
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

/// A Students row → demographics: FedEthnicity and the student's
/// StudentRace rows. Nothing when neither says anything.
pub fn demographics(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    s: &Settings,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use student_cols as c;
    let Some((_, id)) = student_of_row(f, lk) else { return Ok(RowOutcome::Skip) };
    let hispanic = match f.trimmed(c::FEDETHNICITY) {
        Some("1") => Some(true),
        Some("0") => Some(false),
        _ => None,
    };
    let races: Option<Vec<&str>> = race_key(f, lk)
        .map(|k| lk.races.get(k).map(|c| &**c).collect::<Vec<&str>>())
        .filter(|v| !v.is_empty());
    let mut d =
        Demographics { person_id: Some(id.clone()), hispanic_or_latino: hispanic, ..Demographics::default() };
    let mut unknown: Vec<&str> = Vec::new();
    if let Some(codes) = &races {
        let mut count = 0;
        for flag in codes::RACE_FIELDS {
            d.set_race(flag, false);
        }
        for &code in codes {
            let field = s.race_codes.get(code.trim()).copied().or_else(|| codes::race_field(code));
            match field {
                Some("hispanic_or_latino") => d.hispanic_or_latino = Some(true),
                Some(flag) => {
                    d.set_race(flag, true);
                    count += 1;
                }
                None => unknown.push(code),
            }
        }
        d.two_or_more_races = Some(count >= 2);
        // The list, in canonical race names (codes not known stay in extensions).
        d.races = codes
            .iter()
            .filter_map(|code| s.race_codes.get(code.trim()).copied().or_else(|| codes::race_field(code)))
            .map(str::to_owned)
            .collect();
    }
    let mut meta = ctx.meta(id);
    f.ext_into(&mut meta);
    if f.has(c::FEDETHNICITY) && hispanic.is_none() {
        f.keep(c::FEDETHNICITY, &mut meta);
    }
    if !unknown.is_empty() {
        meta.ext.insert("StudentRace.RaceCD", unknown.join(","));
    }
    if d.hispanic_or_latino.is_none() && races.is_none() && meta.ext.is_empty() {
        return Ok(RowOutcome::Skip);
    }
    d.meta = meta;
    ctx.emit(out, Ok(d))
}

/// Sets one race flag of a demographics record by its field name.
trait SetRace {
    fn set_race(&mut self, field: &str, v: bool);
}

impl SetRace for Demographics {
    fn set_race(&mut self, field: &str, v: bool) {
        let slot = match field {
            "american_indian_or_alaska_native" => &mut self.american_indian_or_alaska_native,
            "asian" => &mut self.asian,
            "black_or_african_american" => &mut self.black_or_african_american,
            "native_hawaiian_or_other_pacific_islander" => {
                &mut self.native_hawaiian_or_other_pacific_islander
            }
            _ => &mut self.white,
        };
        *slot = Some(v);
    }
}
