//! Attendance: daily and meeting (period) rows, only the events that are not
//! plain presence.

use std::io;

use crate::catalog::{self, FIRST_YEAR_ID, Level, SCHOOLS, YEARS};
use crate::day::Day;
use crate::rng::Rng;

use super::files::Files;
use super::model::{Gen, Span};
use super::schedule::CcRow;

const ATT_COMMENTS: &[&str] =
    &["Doctor appointment", "Family emergency", "Called in by parent", "Illness", "Note on file"];

pub(super) struct AttRow {
    pub(super) student: i64,
    pub(super) school: usize,
    pub(super) year: usize,
    pub(super) date: Day,
    pub(super) code_id: i64,
    pub(super) cc: Option<i64>,
    pub(super) period: Option<i64>,
    pub(super) calendar_day: i64,
    pub(super) minutes: i64,
}

impl Gen {
    pub(super) fn att_row(&mut self, f: &mut Files, rng: &mut Rng, row: AttRow) -> io::Result<()> {
        let id = self.next("attendance");
        let q = self.q();
        let t = &mut f.attendance;
        t.i(id);
        t.i(if q { id + 7_000_000 } else { id });
        t.i(row.student);
        t.i(SCHOOLS[row.school].number);
        t.i(i64::from(FIRST_YEAR_ID) + row.year as i64);
        t.d(row.date);
        t.i(row.code_id);
        t.s(if row.cc.is_some() { "ATT_ModeMeeting" } else { "ATT_ModeDaily" });
        t.i(row.cc.unwrap_or(0));
        t.i(row.period.unwrap_or(0));
        t.i(row.calendar_day);
        if q && matches!(id, 100 | 2_100 | 4_100) {
            t.expect_bad_row();
            t.s("Called in\tby parent");
        } else if rng.chance(0.03) {
            t.s(ATT_COMMENTS[rng.index(ATT_COMMENTS.len())]);
        } else {
            t.blank();
        }
        t.i(row.minutes);
        t.i(0);
        t.i(0);
        t.i(0);
        t.i(0);
        t.end()
    }

    pub(super) fn attendance(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
        ccs: &[CcRow],
    ) -> io::Result<()> {
        let level = SCHOOLS[sp.school].level;
        let (start, end) = {
            let cal = &self.cals[sp.year];
            let end = if sp.year == YEARS - 1 {
                cal.index_of(sp.exit).min(self.as_of_idx + 1)
            } else {
                cal.index_of(sp.exit)
            };
            (cal.index_of(sp.entry), end)
        };
        let daily_p = if level == Level::Elementary { 0.06 } else { 0.05 };
        let mut d = start + rng.gap(daily_p);
        while d < end {
            let date = self.cals[sp.year].days[d];
            let r = rng.unit();
            let c = match r {
                r if r < 0.12 => catalog::code::ABSENT,
                r if r < 0.54 => catalog::code::EXCUSED,
                r if r < 0.80 => catalog::code::UNEXCUSED,
                r if r < 0.95 => catalog::code::TARDY,
                r if r < 0.99 => catalog::code::EARLY,
                _ => catalog::code::FIELD_TRIP,
            };
            let row = AttRow {
                student,
                school: sp.school,
                year: sp.year,
                date,
                code_id: self.att_code_id(sp.school, sp.year, c),
                cc: None,
                period: None,
                calendar_day: self.calendar_day_id(sp.school, sp.year, date),
                minutes: 0,
            };
            self.att_row(f, rng, row)?;
            d += 1 + rng.gap(daily_p);
        }
        if level == Level::Elementary {
            return Ok(());
        }
        let meet_p = 0.03;
        let mut d = start + rng.gap(meet_p);
        while d < end {
            let date = self.cals[sp.year].days[d];
            let period = 1 + rng.below(7) as u8;
            if let Some(cc) = ccs.iter().find(|c| c.period == period && c.enrolled <= date && date < c.left) {
                let r = rng.unit();
                let (c, minutes) = match r {
                    r if r < 0.6 => (catalog::code::TARDY, rng.range(3, 15)),
                    r if r < 0.9 => (catalog::code::UNEXCUSED, 50),
                    _ => (catalog::code::EXCUSED, 50),
                };
                let row = AttRow {
                    student,
                    school: sp.school,
                    year: sp.year,
                    date,
                    code_id: self.att_code_id(sp.school, sp.year, c),
                    cc: Some(cc.id),
                    period: Some(self.period_id(sp.school, sp.year, period)),
                    calendar_day: self.calendar_day_id(sp.school, sp.year, date),
                    minutes,
                };
                self.att_row(f, rng, row)?;
            }
            d += 1 + rng.gap(meet_p);
        }
        Ok(())
    }
}
