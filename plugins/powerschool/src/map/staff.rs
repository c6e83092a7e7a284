//! Users + SchoolStaff (or the Teachers view) → staff: one staff member per
//! person, with their schools' rows in extensions.

use ferry_sdk::model::{Code, Staff};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, id_alts};
use crate::lookups::{Affiliation, Lookups, ParentKey, RejectedRow};
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::int;

columns!(users_cols {
    DCID = ["dcid"] Yes,
    ID = ["id"] No,
    USERS_DCID = ["usersdcid"] Yes,
    NUMBER = ["teachernumber"] Yes,
    STATE_ID = ["sifstateprid"] Yes,
    FIRST = ["firstname"] Yes,
    MIDDLE = ["middlename"] Yes,
    LAST = ["lastname"] Yes,
    EMAIL = ["emailaddr"] Yes,
    LOGIN = ["teacherloginid", "loginid"] Yes,
    TITLE = ["title"] Yes,
    HOME_SCHOOL = ["homeschoolid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["status"] Yes,
    STAFF_STATUS = ["staffstatus"] Yes,
    PHONE = ["homephone"] Yes,
});

columns!(schoolstaff_cols {
    ID = ["id"] No,
    USERS_DCID = ["usersdcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["status"] Yes,
    STAFF_STATUS = ["staffstatus"] Yes,
});

/// A SchoolStaff row: one person's affiliation with one school.
pub fn schoolstaff_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use schoolstaff_cols as c;
    let ss = ctx.int(f, c::ID)?.ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    let user =
        ctx.int(f, c::USERS_DCID)?.ok_or_else(|| Bad::at(f, c::USERS_DCID, "Users_DCID is missing"))?;
    let school = ctx.int(f, c::SCHOOLID)?;
    let prefix = format!("SchoolStaff[{}].", school.map_or_else(String::new, |s| s.to_string()));
    let a = Affiliation {
        school,
        status: f.trimmed(c::STATUS).map(str::to_owned),
        staff_status: f.trimmed(c::STAFF_STATUS).map(str::to_owned),
        ext: f.ext_pairs(&prefix),
    };
    lk.affiliations.entry(user).or_default().push((ss, a));
    Ok(())
}

/// The person key of a Teachers row: Users_DCID, else TeacherNumber, else
/// DCID or ID (then a teacher at two schools is two staff members).
pub fn teacher_key(f: &Fields<'_>) -> Option<String> {
    use users_cols as c;
    f.trimmed(c::USERS_DCID)
        .or_else(|| f.trimmed(c::NUMBER))
        .or_else(|| f.trimmed(c::DCID))
        .or_else(|| f.trimmed(c::ID))
        .map(str::to_owned)
}

/// First pass over a Teachers export: each person's schools.
pub fn teacher_prescan(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) {
    use users_cols as c;
    let Some(key) = teacher_key(f) else { return };
    let ss = ctx.int(f, c::ID).ok().flatten().unwrap_or(0);
    let school = ctx.int(f, c::SCHOOLID).ok().flatten();
    let prefix = format!("Teachers[{}].", school.map_or_else(String::new, |s| s.to_string()));
    let mut ext = f.ext_pairs(&prefix);
    if let Some(dcid) = f.get(c::DCID) {
        // The view's DCID is its SchoolStaff row's, not the person's.
        ext.push((
            format!("{prefix}{}", f.header(c::DCID).rsplit(['.', ']']).next().unwrap_or("DCID")),
            dcid.to_owned(),
        ));
    }
    let a = Affiliation {
        school,
        status: f.trimmed(c::STATUS).map(str::to_owned),
        staff_status: f.trimmed(c::STAFF_STATUS).map(str::to_owned),
        ext,
    };
    lk.teacher_rows.entry(key).or_default().push((ss, a));
}

/// A Users row (with its SchoolStaff rows) or the first Teachers row of a
/// person → a staff member; later Teachers rows of the person are folded.
pub fn staff(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    teachers: bool,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use users_cols as c;
    let id = if teachers {
        teacher_key(f)
    } else {
        dcid_or_id(f, c::DCID, c::ID).or_else(|| f.trimmed(c::NUMBER).map(str::to_owned))
    };
    let id = id.unwrap_or_default();
    ctx.id.clone_from(&id);
    if teachers && lk.staff.seen.contains_key(&id) {
        return Ok(RowOutcome::Folded);
    }
    let affiliations: Vec<(i64, Affiliation)> = if teachers {
        lk.teacher_rows.get(&id).cloned().unwrap_or_default()
    } else {
        f.get(c::DCID).and_then(int).and_then(|d| lk.affiliations.get(&d)).cloned().unwrap_or_default()
    };
    let rec = (|| {
        if id.is_empty() {
            return Err(Bad::row("the row has no DCID, ID or TeacherNumber"));
        }
        if lk.staff.seen.contains_key(&id) {
            return Err(Bad::row("another staff row has this id"));
        }
        let mut meta = ctx.meta(id.clone());
        if !teachers {
            id_alts(&mut meta, f, c::DCID, c::ID);
            f.ext_into(&mut meta);
        }
        let home = f.get(c::HOME_SCHOOL).or(f.get(c::SCHOOLID)).and_then(int);
        let home_known = home.filter(|h| lk.schools.contains_key(h));
        if home.is_some() && home_known.is_none() {
            f.keep(c::HOME_SCHOOL, &mut meta);
        }
        let main = affiliations
            .iter()
            .find(|(_, a)| a.school.is_some() && a.school == home)
            .or(affiliations.first());
        let staff_status = main.and_then(|(_, a)| a.staff_status.as_deref()).or(f.trimmed(c::STAFF_STATUS));
        let title = f.get(c::TITLE);
        let role = (staff_status.is_some() || title.is_some()).then(|| {
            Code::mapped(codes::staff_role(staff_status, title), staff_status.or(title).unwrap_or_default())
        });
        let active = if affiliations.is_empty() {
            f.trimmed(c::STATUS).map(|s| s == "1")
        } else {
            Some(affiliations.iter().any(|(_, a)| a.status.as_deref() == Some("1")))
        };
        for (_, a) in &affiliations {
            for (k, v) in &a.ext {
                meta.ext.insert(k.as_str(), v.as_str());
            }
        }
        Ok(Staff {
            meta,
            staff_number: f.get(c::NUMBER).map(str::to_owned),
            state_id: f.get(c::STATE_ID).map(str::to_owned),
            first_name: f.get(c::FIRST).unwrap_or_default().to_owned(),
            middle_name: f.get(c::MIDDLE).map(str::to_owned),
            last_name: f.get(c::LAST).unwrap_or_default().to_owned(),
            role,
            title: title.map(str::to_owned),
            school_id: home_known.map(|h| h.to_string()),
            active,
            email: f.get(c::EMAIL).map(str::to_owned),
            phone: f.get(c::PHONE).map(str::to_owned),
            username: f.get(c::LOGIN).map(str::to_owned),
        })
    })();
    let result = ctx.emit(out, rec)?;
    if result == RowOutcome::Record
        && let Some(n) = lk.staff.add(&id)
    {
        // The title, for the roles of the person's staff assignments.
        lk.staff_titles.resize(n as usize + 1, None);
        lk.staff_titles[n as usize] = f.get(c::TITLE).map(str::to_owned);
        if let Some(d) = f.get(c::DCID).and_then(int).filter(|_| !teachers) {
            lk.staff.by_dcid.insert(d, n);
        }
        if let Some(num) = f.trimmed(c::NUMBER) {
            lk.staff.by_key.insert(num.to_owned(), n);
        }
        for (ss, _) in &affiliations {
            lk.staff.by_id.insert(*ss, n);
        }
        if teachers && let Some(ss) = f.get(c::ID).and_then(int) {
            lk.staff.by_id.insert(ss, n);
        }
    }
    Ok(result)
}

/// Notes the keys of a rejected Users row (`teachers = false`) or
/// Teachers row: its DCID, TeacherNumber and SchoolStaff IDs.
pub fn staff_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow, teachers: bool) {
    use users_cols as c;
    let mut keys = Vec::new();
    if let Some(n) = f.trimmed(c::NUMBER) {
        keys.push(ParentKey::StaffNumber(n.to_owned()));
    }
    if teachers {
        keys.extend(f.get(c::ID).and_then(int).map(ParentKey::StaffId));
        let rows = teacher_key(f).and_then(|k| lk.teacher_rows.get(&k));
        keys.extend(rows.into_iter().flatten().map(|(ss, _)| ParentKey::StaffId(*ss)));
    } else if let Some(d) = f.get(c::DCID).and_then(int) {
        keys.push(ParentKey::StaffDcid(d));
        keys.extend(lk.affiliations.get(&d).into_iter().flatten().map(|(ss, _)| ParentKey::StaffId(*ss)));
    }
    for k in keys {
        lk.rejected.note(k, at);
    }
}

/// A Teachers row when Users was read: maps its ID to the staff member.
pub fn teacher_index_row(f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use users_cols as c;
    let ss = f.get(c::ID).and_then(int).ok_or_else(|| Bad::at(f, c::ID, "ID is missing"))?;
    let user = f.get(c::USERS_DCID).and_then(int);
    let number = f.trimmed(c::NUMBER);
    let staff = user
        .and_then(|u| lk.staff.by_dcid.get(&u))
        .or_else(|| number.and_then(|n| lk.staff.by_key.get(n)))
        .copied()
        .ok_or_else(|| {
            let key = match (user, number) {
                (Some(u), _) => ParentKey::StaffDcid(u),
                (None, n) => ParentKey::StaffNumber(n.unwrap_or_default().to_owned()),
            };
            let why = lk.rejected.why(&key, "teacher", "the teacher is not among the Users read");
            Bad::at(f, c::USERS_DCID, why)
        })?;
    lk.staff.by_id.insert(ss, staff);
    Ok(())
}
