//! SectionTeacher (with RoleDef) → section staff: every teacher of every
//! section, co-teachers and support staff too, with their role and dates.
//!
//! With a SectionTeacher export, it is the source of a section's staff:
//! Sections.Teacher only makes the lead of a section SectionTeacher has no
//! row for (see `Step::SectionStaff`), so no section and teacher is
//! repeated. The id is the lead's, `<section id>:<staff id>`, so a teacher
//! keeps one id whichever table names them; a second row of the same
//! teacher in the same section (another span of dates) is
//! `<section id>:<staff id>:<SectionTeacher DCID or ID>`.

use ferry_sdk::model::{Code, SectionStaff};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, id_alts};
use crate::lookups::{Lookups, NO_SECTION, NO_TEACHER, ParentKey};
use crate::row::{Bad, Ctx, RowOutcome};

columns!(st_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SECTIONID = ["sectionid"] Yes,
    TEACHERID = ["teacherid"] Yes,
    ROLEID = ["roleid"] Yes,
    START = ["startdate"] Yes,
    END = ["enddate"] Yes,
});

/// A SectionTeacher row → a section staff record. `SectionID` →
/// abs(Sections.ID); `TeacherID` → SchoolStaff.ID (the per-school id
/// Sections.Teacher holds too); `RoleID` → RoleDef, whose name is the
/// role's original (an unknown RoleID leaves the role empty and stays in
/// the extensions). Allocation and Priority_Order go to the extensions.
pub fn section_teacher(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use st_cols as c;
    let own = dcid_or_id_str(f, c::DCID, c::ID);
    ctx.set_id(own.unwrap_or_default());
    let section = (|| {
        let sid = ctx.need(f, c::SECTIONID, "SectionID")?.abs();
        lk.section_by_id.get(&sid).copied().ok_or_else(|| {
            Bad::at(f, c::SECTIONID, lk.rejected.why(&ParentKey::SectionId(sid), "section", NO_SECTION))
        })
    })();
    if let Ok(n) = section {
        // The section has SectionTeacher rows: Sections.Teacher no longer speaks for it.
        lk.taught.insert(n);
    }
    let rec = (|| {
        let sec = section?;
        let tid = ctx.need(f, c::TEACHERID, "TeacherID")?;
        let staff = lk.staff.by_id.get(&tid).copied().ok_or_else(|| {
            Bad::at(f, c::TEACHERID, lk.rejected.why(&ParentKey::StaffId(tid), "teacher", NO_TEACHER))
        })?;
        let section_id = lk.sections.get(sec as usize).map_or("", |s| s.id.as_str());
        let staff_id = lk.staff.id(staff);
        let mut id = format!("{section_id}:{staff_id}");
        if lk.section_staff_pairs.contains(&(sec, staff)) {
            id.push(':');
            id.push_str(
                own.ok_or_else(|| Bad::row("another SectionTeacher row names this teacher in this section"))?,
            );
        }
        let start_date = ctx.opt_date(f, c::START, "start_date");
        let end_date = ctx.opt_date(f, c::END, "end_date");
        let role_id = ctx.opt_int(f, c::ROLEID, "role");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let role = role_id.and_then(|r| lk.roles.get(&r)).map(|r| Code::mapped(r.role, r.name.as_str()));
        if role.is_none() {
            f.keep(c::ROLEID, &mut meta);
        }
        Ok((
            (sec, staff),
            SectionStaff {
                meta,
                section_id: Some(section_id.to_owned()),
                staff_id: Some(staff_id.to_owned()),
                role,
                start_date,
                end_date,
            },
        ))
    })();
    match rec {
        Ok((pair, rec)) => {
            let outcome = ctx.emit(out, Ok(rec))?;
            if outcome == RowOutcome::Record {
                lk.section_staff_pairs.insert(pair);
            }
            Ok(outcome)
        }
        Err(bad) => ctx.emit::<SectionStaff>(out, Err(bad)),
    }
}
