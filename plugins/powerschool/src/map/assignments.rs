//! SchoolStaff (or, without Users, the Teachers view) → staff assignments:
//! one per person and school, read after the staff (whose records merge a
//! person's SchoolStaff rows), so the staff member is known.

use std::collections::HashSet;

use ferry_sdk::model::{Code, StaffAssignment};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, id_alts};
use crate::lookups::{Lookups, ParentKey};
use crate::map::codes::known_school;
use crate::map::staff::{teacher_key, users_cols};
use crate::row::{Bad, Ctx, RowOutcome, unique};

columns!(assignment_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    USERS_DCID = ["usersdcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    STATUS = ["status"] No,
    STAFF_STATUS = ["staffstatus"] Yes,
});

/// The assignment of staff member `staff` to `school`: its role from
/// `StaffStatus` and the person's title (as the staff record's), and no
/// title of its own (PowerSchool keeps one per person, on the staff
/// record). `Status` and the other columns go to the extensions.
fn assignment(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    id: String,
    (staff, school): (u32, i64),
    (staff_status, title): (Option<&str>, Option<&str>),
    (dcid, idc): (usize, usize),
) -> StaffAssignment {
    let mut meta = ctx.meta(id);
    id_alts(&mut meta, f, dcid, idc);
    f.ext_into(&mut meta);
    let role = (staff_status.is_some() || title.is_some()).then(|| {
        Code::mapped(codes::staff_role(staff_status, title), staff_status.or(title).unwrap_or_default())
    });
    StaffAssignment {
        meta,
        staff_id: Some(lk.staff.id(staff).to_owned()),
        school_id: Some(school.to_string()),
        role,
        title: None,
        start_date: None,
        end_date: None,
    }
}

/// A SchoolStaff row → a staff assignment. The staff member is the Users
/// row of `Users_DCID` (else the one this SchoolStaff ID was merged into).
pub fn schoolstaff(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use assignment_cols as c;
    let id = dcid_or_id_str(f, c::DCID, c::ID).map(str::to_owned);
    ctx.set_id(id.as_deref().unwrap_or_default());
    let rec = (|| {
        let user = ctx.int(f, c::USERS_DCID)?;
        let ss = ctx.int(f, c::ID)?;
        let staff = user
            .and_then(|u| lk.staff.by_dcid.get(&u))
            .or_else(|| ss.and_then(|s| lk.staff.by_id.get(&s)))
            .copied()
            .ok_or_else(|| match (user, ss) {
                (Some(u), _) => Bad::at(
                    f,
                    c::USERS_DCID,
                    lk.rejected.why(
                        &ParentKey::StaffDcid(u),
                        "staff member",
                        "the staff member is not among the Users read",
                    ),
                ),
                (None, Some(s)) => Bad::at(
                    f,
                    c::ID,
                    lk.rejected.why(
                        &ParentKey::StaffId(s),
                        "staff member",
                        "the staff member is not among the Users read",
                    ),
                ),
                (None, None) => Bad::at(f, c::USERS_DCID, "Users_DCID is missing"),
            })?;
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let id = id.clone().unwrap_or_else(|| format!("{}:{school}", lk.staff.id(staff)));
        ctx.set_id(&id);
        unique(seen, &id, "SchoolStaff")?;
        let title = lk.staff_titles.get(staff as usize).and_then(Option::as_deref);
        Ok(assignment(ctx, f, lk, id, (staff, school), (f.trimmed(c::STAFF_STATUS), title), (c::DCID, c::ID)))
    })();
    ctx.emit(out, rec)
}

/// A Teachers view row (when there is no Users export) → the staff
/// assignment of its person at its school. A person whose staff record was
/// rejected has none (they are part of that reject).
pub fn teacher(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use users_cols as c;
    let Some(staff) = teacher_key(f).and_then(|k| lk.staff.seen.get(&k).copied()) else {
        return Ok(RowOutcome::Skip);
    };
    let id = dcid_or_id_str(f, c::DCID, c::ID).map(str::to_owned);
    if id.as_ref().is_some_and(|id| seen.contains(id)) {
        // The view's ids are SchoolStaff's: a SchoolStaff export made it.
        return Ok(RowOutcome::Skip);
    }
    ctx.set_id(id.as_deref().unwrap_or_default());
    let rec = (|| {
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let id = id.clone().unwrap_or_else(|| format!("{}:{school}", lk.staff.id(staff)));
        ctx.set_id(&id);
        unique(seen, &id, "Teachers")?;
        Ok(assignment(
            ctx,
            f,
            lk,
            id,
            (staff, school),
            (f.trimmed(c::STAFF_STATUS), f.get(c::TITLE)),
            (c::DCID, c::ID),
        ))
    })();
    ctx.emit(out, rec)
}
