//! Period → class periods, Bell_Schedule → bell schedules,
//! Bell_Schedule_Items → bell schedule periods, Calendar_Day → calendar
//! days. Period and Calendar_Day also fill the lookups attendance reads
//! (PeriodID → abbreviation, Calendar_DayID → date); Period and
//! Bell_Schedule those of the rows referring to them.
//!
//! Ids follow the core rule (DCID, else ID, else a natural key); the rows
//! referring to a period or a bell schedule by `ID` are given its source id
//! through the lookups.

use std::collections::HashSet;

use ferry_sdk::model::{BellSchedule, BellSchedulePeriod, CalendarDay, ClassPeriod, Code, TimeOfDay};
use ferry_sdk::{BatchBuilder, Error};

use crate::codes;
use crate::columns::columns;
use crate::config::Settings;
use crate::fields::Fields;
use crate::ids::{dcid_or_id_str, id_alts};
use crate::lookups::{Lookups, ParentKey, PeriodInfo, RejectedRow};
use crate::map::codes::known_school;
use crate::row::{Bad, Ctx, RowOutcome, unique};
use crate::values::{self, int};

/// The record id: DCID, else ID, else `natural`.
fn record_id(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    dcid: usize,
    id: usize,
    natural: impl FnOnce() -> String,
) -> String {
    let id = dcid_or_id_str(f, dcid, id).map_or_else(natural, str::to_owned);
    ctx.set_id(&id);
    id
}

/// Pushes `rec` (or its reject); on a record, runs `then`.
fn emit_then<R: ferry_sdk::model::Record>(
    ctx: &Ctx<'_>,
    out: &mut BatchBuilder,
    rec: Result<R, Bad>,
    then: impl FnOnce(),
) -> Result<RowOutcome, Error> {
    let outcome = ctx.emit(out, rec)?;
    if outcome == RowOutcome::Record {
        then();
    }
    Ok(outcome)
}

columns!(period_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    NUMBER = ["periodnumber"] Yes,
    ABBREVIATION = ["abbreviation"] Yes,
    NAME = ["name"] Yes,
    SORTORDER = ["sortorder"] Yes,
});

/// A Period row → a class period of its school and year.
pub fn period(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use period_cols as c;
    let label = f.get(c::ABBREVIATION).or(f.get(c::NUMBER)).or(f.get(c::NAME)).unwrap_or_default().to_owned();
    let id = record_id(ctx, f, c::DCID, c::ID, || {
        format!(
            "{}:{}:{}",
            f.trimmed(c::SCHOOLID).unwrap_or_default(),
            f.trimmed(c::YEARID).unwrap_or_default(),
            label.trim()
        )
    });
    let n = ctx.int(f, c::ID);
    let rec = (|| {
        let n = n.clone()?;
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        unique(seen, &id, "Period")?;
        if n.is_some_and(|n| lk.periods.contains_key(&n)) {
            return Err(Bad::at(f, c::ID, "another Period row has this ID"));
        }
        let school_year = ctx.opt_int(f, c::YEARID, "school_year").map(values::school_year_of_yearid);
        let number = ctx.opt_int(f, c::NUMBER, "number");
        let sort_order = ctx.opt_int(f, c::SORTORDER, "sort_order");
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(ClassPeriod {
            meta,
            school_id: Some(school.to_string()),
            school_year,
            number,
            abbreviation: f.get(c::ABBREVIATION).map(str::to_owned),
            name: f.get(c::NAME).map(str::to_owned),
            sort_order,
        })
    })();
    let n = n.ok().flatten();
    emit_then(ctx, out, rec, || {
        if let Some(n) = n {
            lk.periods.insert(n, PeriodInfo { id, label });
        }
    })
}

/// Notes the key of a rejected Period row.
pub fn period_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.get(period_cols::ID).and_then(int) {
        lk.rejected.note(ParentKey::PeriodId(n), at);
    }
}

columns!(bell_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    YEARID = ["yearid"] Yes,
    NAME = ["name"] Yes,
});

/// A Bell_Schedule row → a bell schedule of its school and year.
pub fn bell_schedule(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use bell_cols as c;
    let id = record_id(ctx, f, c::DCID, c::ID, || {
        format!(
            "{}:{}:{}",
            f.trimmed(c::SCHOOLID).unwrap_or_default(),
            f.trimmed(c::YEARID).unwrap_or_default(),
            f.trimmed(c::NAME).unwrap_or_default()
        )
    });
    let n = ctx.int(f, c::ID);
    let rec = (|| {
        let n = n.clone()?;
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let name = f.trimmed(c::NAME).ok_or_else(|| Bad::at(f, c::NAME, "Name is missing"))?;
        unique(seen, &id, "Bell_Schedule")?;
        if n.is_some_and(|n| lk.bell_schedules.contains_key(&n)) {
            return Err(Bad::at(f, c::ID, "another Bell_Schedule row has this ID"));
        }
        let school_year = ctx.opt_int(f, c::YEARID, "school_year").map(values::school_year_of_yearid);
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(BellSchedule { meta, school_id: Some(school.to_string()), school_year, name: name.to_owned() })
    })();
    let n = n.ok().flatten();
    emit_then(ctx, out, rec, || {
        if let Some(n) = n {
            lk.bell_schedules.insert(n, id);
        }
    })
}

/// Notes the key of a rejected Bell_Schedule row.
pub fn bell_schedule_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.get(bell_cols::ID).and_then(int) {
        lk.rejected.note(ParentKey::BellScheduleId(n), at);
    }
}

columns!(item_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    BELL = ["bellscheduleid"] Yes,
    PERIOD = ["periodid"] Yes,
    START = ["starttime"] Yes,
    END = ["endtime"] Yes,
    ADA = ["dailyadacode"] Yes,
});

/// A time of day: seconds after midnight (how PowerSchool stores it), or
/// a clock time (`08:30`, `8:30 AM`).
fn time(ctx: &Ctx<'_>, f: &Fields<'_>, c: usize) -> Result<Option<TimeOfDay>, Bad> {
    let Some(v) = f.trimmed(c) else { return Ok(None) };
    let t = match int(v) {
        Some(secs) => secs
            .checked_mul(1_000_000)
            .and_then(|us| TimeOfDay::from_micros(us).ok())
            .ok_or_else(|| Bad::at(f, c, "not a time of day (seconds after midnight, within one day)"))?,
        None => ctx.parser.parse_time(v).map_err(|e| Bad::at(f, c, e.0))?,
    };
    Ok(Some(t))
}

/// A Bell_Schedule_Items row → when one period meets in one bell schedule.
pub fn bell_item(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use item_cols as c;
    let id = record_id(ctx, f, c::DCID, c::ID, || {
        format!("{}:{}", f.trimmed(c::BELL).unwrap_or_default(), f.trimmed(c::PERIOD).unwrap_or_default())
    });
    let rec = (|| {
        let b = ctx.need(f, c::BELL, "Bell_Schedule_ID")?;
        let bell = lk.bell_schedules.get(&b).ok_or_else(|| {
            let why = lk.rejected.why(
                &ParentKey::BellScheduleId(b),
                "bell schedule",
                "the bell schedule is not in the Bell_Schedule export",
            );
            Bad::at(f, c::BELL, why)
        })?;
        let p = ctx.need(f, c::PERIOD, "Period_ID")?;
        let period = lk.periods.get(&p).ok_or_else(|| {
            let why =
                lk.rejected.why(&ParentKey::PeriodId(p), "period", "the period is not in the Period export");
            Bad::at(f, c::PERIOD, why)
        })?;
        unique(seen, &id, "Bell_Schedule_Items")?;
        let start_time = ctx.optional(f, c::START, "start_time", time);
        let end_time = ctx.optional(f, c::END, "end_time", time);
        let counts_for_attendance = ctx.opt_flag(f, c::ADA, "counts_for_attendance");
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(BellSchedulePeriod {
            meta,
            bell_schedule_id: Some(bell.clone()),
            period_id: Some(period.id.clone()),
            start_time,
            end_time,
            counts_for_attendance,
        })
    })();
    ctx.emit(out, rec)
}

columns!(calendar_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    DATE = ["datevalue"] Yes,
    INSESSION = ["insession"] Yes,
    MEMBERSHIP = ["membershipvalue"] Yes,
    CYCLE = ["cycledayid"] Yes,
    BELL = ["bellscheduleid"] Yes,
    TYPE = ["type"] Yes,
    NOTE = ["note"] Yes,
});

/// A Calendar_Day row → a calendar day of its school (school day or not),
/// and the date attendance rows name by Calendar_DayID. The cycle day is
/// Cycle_Day's letter; a `Cycle_Day_ID` or `Bell_Schedule_ID` not among
/// those read stays in the extensions; 0 is none. The track flags (A–F),
/// Week_Num and the other columns go to the extensions.
pub fn calendar_day(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    s: &Settings,
    seen: &mut HashSet<String>,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use calendar_cols as c;
    let id = record_id(ctx, f, c::DCID, c::ID, || {
        format!("{}:{}", f.trimmed(c::SCHOOLID).unwrap_or_default(), f.trimmed(c::DATE).unwrap_or_default())
    });
    let n = ctx.int(f, c::ID);
    let rec = (|| {
        let n = n.clone()?;
        let school = known_school(ctx, f, lk, c::SCHOOLID)?;
        let date = ctx.date(f, c::DATE)?.ok_or_else(|| Bad::at(f, c::DATE, "Date_Value is missing"))?;
        unique(seen, &id, "Calendar_Day")?;
        if n.is_some_and(|n| lk.calendar.contains_key(&n)) {
            return Err(Bad::at(f, c::ID, "another Calendar_Day row has this ID"));
        }
        let in_session = ctx.opt_flag(f, c::INSESSION, "in_session");
        let membership_value = ctx.opt_decimal(f, c::MEMBERSHIP, "membership_value");
        let cycle = ctx.opt_int(f, c::CYCLE, "cycle_day").filter(|n| *n != 0);
        let bell = ctx.opt_int(f, c::BELL, "bell_schedule_id").filter(|n| *n != 0);
        let mut meta = ctx.meta(id.clone());
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        let cycle_day = cycle.and_then(|n| lk.cycle_days.get(&n)).cloned();
        if cycle.is_some() && cycle_day.is_none() {
            f.keep(c::CYCLE, &mut meta);
        }
        let bell_schedule_id = bell.and_then(|n| lk.bell_schedules.get(&n)).cloned();
        if bell.is_some() && bell_schedule_id.is_none() {
            f.keep(c::BELL, &mut meta);
        }
        let ty = f.trimmed(c::TYPE);
        let described = ty.and_then(|t| lk.day_types.get(t)).map(String::as_str).or(ty);
        let day_type =
            codes::day_type(described, in_session).map(|k| Code::mapped(k, ty.unwrap_or_default()));
        Ok(CalendarDay {
            meta,
            school_id: Some(school.to_string()),
            date: Some(date),
            school_year: Some(values::school_year_of(date, s.start_month)),
            calendar_code: None,
            in_session,
            membership_value,
            cycle_day,
            bell_schedule_id,
            day_type,
            note: f.get(c::NOTE).map(str::to_owned),
        })
    })();
    let n = n.ok().flatten();
    let date = rec.as_ref().ok().and_then(|r| r.date);
    emit_then(ctx, out, rec, || {
        if let (Some(n), Some(d)) = (n, date) {
            lk.calendar.insert(n, d);
        }
    })
}
