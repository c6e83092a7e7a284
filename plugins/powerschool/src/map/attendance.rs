//! Attendance (with the Attendance_Code lookup; Period and Calendar_Day are
//! read in `calendar`) → attendance events.

use ferry_sdk::model::{AttendanceCategory, AttendanceEvent, Date};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, fill_id_alts};
use crate::lookups::{AttCode, Lookups, NO_SCHOOL, ParentKey};
use crate::map::joins::{self, SectionCols};
use crate::row::{Bad, Ctx, RowOutcome, put, put_code, put_int, put_pair};
use crate::values;

columns!(attcode_cols {
    ID = ["id"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    CODE = ["attcode"] Yes,
    DESCRIPTION = ["description"] Yes,
    PRESENCE = ["presencestatuscd"] Yes,
    DCID = ["dcid"] Yes,
    SORTORDER = ["sortorder"] Yes,
});

/// An Attendance_Code row: a code of one school and year, for the lookup;
/// returns its category.
pub fn att_code_row(
    ctx: &Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    s: &Settings,
) -> Result<AttendanceCategory, Bad> {
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
    Ok(category)
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
) -> Result<RowOutcome, Error> {
    use att_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let filled = (|| {
        let stu = joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
        let date: Option<Date> = match ctx.date(f, c::DATE)? {
            Some(d) => Some(d),
            None => ctx.int(f, c::CALENDARID)?.and_then(|id| lk.calendar.get(&id).copied()),
        };
        let date = date.ok_or_else(|| Bad::at(f, c::DATE, "Att_Date is missing"))?;
        let school =
            ctx.int(f, c::SCHOOLID)?.ok_or_else(|| Bad::at(f, c::SCHOOLID, "SchoolID is missing"))?;
        if !lk.schools.contains_key(&school) {
            return Err(Bad::at(
                f,
                c::SCHOOLID,
                lk.rejected.why(&ParentKey::School(school), "school", NO_SCHOOL),
            ));
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
        let issues = ctx.issues.len();
        let cc = ctx.opt_int(f, c::CCID, "section_id").filter(|n| *n != 0);
        let section = match cc {
            Some(ccid) => Some(lk.cc_section(ccid).ok_or_else(|| {
                let why = lk.rejected.why(
                    &ParentKey::CcId(ccid),
                    "section enrollment",
                    "the CC row is not among the section enrollments read",
                );
                Bad::at(f, c::CCID, why)
            })?),
            // An unreadable CCID leaves the section empty.
            None if ctx.issues.len() > issues => None,
            None if f.get(c::SECTIONID).is_some() || f.get(c::SECTION_NUMBER).is_some() => {
                let sc = SectionCols {
                    id: c::SECTIONID,
                    school: c::SCHOOLID,
                    course: c::COURSE,
                    number: c::SECTION_NUMBER,
                    term: c::TERMID,
                };
                Some(joins::section(ctx, f, lk, &sc)?)
            }
            None => None,
        };
        let section_id = section.map(|n| lk.sections[n as usize].id.as_str());
        let issues = ctx.issues.len();
        let period = match ctx.opt_int(f, c::PERIODID, "period").filter(|n| *n != 0) {
            Some(p) => lk.periods.get(&p).map(|p| p.label.as_str()),
            None if ctx.issues.len() > issues => None,
            None => f.get(c::PERIOD),
        };
        let minutes = ctx.opt_int(f, c::MINUTES, "minutes");
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
        // The school year's term (TermID = YearID × 100), when the export has it.
        if lk.terms.contains_key(&(school, year * 100)) {
            put_pair(&mut rec.session_id, school, year * 100);
        } else {
            rec.session_id = None;
        }
        Ok(())
    })();
    ctx.push_refilled(out, rec, filled)
}
