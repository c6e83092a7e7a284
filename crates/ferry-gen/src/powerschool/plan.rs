//! Pass 1: every student's enrollment history over the four years (entry,
//! transfers, promotion, leaving, graduating, pre-registration), kept in
//! memory as a few spans per student.

use crate::catalog::{self, FIRST_YEAR_ID, YEARS};
use crate::day::Day;
use crate::names;
use crate::rng::Rng;

use super::model::{Gen, Outcome, Span, Stu};

impl Gen {
    pub(super) fn plan(&mut self) {
        let n = self.opts.students as usize;
        self.students.reserve(n);
        let mut prev_last: &'static str = names::LAST[0];
        for i in 0..n {
            let mut rng = Rng::new(self.opts.seed, i as u64 * 2 + 1);
            let s = self.plan_student(i, &mut rng, prev_last);
            prev_last = s.last;
            self.students.push(s);
        }
    }

    fn plan_student(&self, i: usize, rng: &mut Rng, prev_last: &'static str) -> Stu {
        let female = rng.chance(0.5);
        let first = rng.pick(if female { names::FEMALE } else { names::MALE });
        let middle = if rng.chance(0.7) {
            Some(rng.pick(if female { names::FEMALE } else { names::MALE }))
        } else {
            None
        };
        let shares_family = i > 0 && rng.chance(0.12);
        let last = if shares_family { prev_last } else { rng.pick(names::LAST) };
        let mut zone = rng.index(5);
        let mut s = Stu {
            spans: Vec::new(),
            outcome: Outcome::Active,
            zone,
            female,
            first,
            middle,
            last,
            shares_family,
            dob: 0,
            district_entry: 0,
            from_outside: false,
        };
        let fall = |y: usize| 1990 + FIRST_YEAR_ID + y as i32;
        let dob_for = |rng: &mut Rng, g: i32, y: usize| {
            let born = fall(y) - g - 6;
            crate::day::from_ymd(born, 9, 1) + rng.range(0, 364) as Day
        };
        if rng.chance(0.01) {
            // Pre-registered for next school year.
            let g = if rng.chance(0.7) { 0 } else { rng.range(1, 8) as i32 };
            s.outcome = Outcome::Prereg { school: catalog::school_for(g, zone), grade: g };
            s.dob = dob_for(rng, g, YEARS);
            s.district_entry = self.cals[YEARS].first;
            return s;
        }
        let sy = if rng.chance(0.7) { 0 } else { 1 + rng.index(YEARS - 1) };
        let mut g = if sy == 0 {
            let r = rng.range(0, 26) as i32;
            if r == 0 { -1 } else { (r - 1) / 2 }
        } else if rng.chance(0.4) {
            if rng.chance(0.3) { -1 } else { 0 }
        } else {
            rng.range(1, 12) as i32
        };
        s.dob = dob_for(rng, g, sy);
        let mut y = sy;
        let mut entry = self.cals[sy].first;
        let mut entry_code = "C1";
        if sy > 0 {
            s.from_outside = g > 0;
            entry_code = if g > 0 { "E2" } else { "E1" };
            if g > 0 && rng.chance(0.25) {
                entry = self.cals[sy].days[rng.range(5, 150) as usize];
            }
        }
        s.district_entry = if sy == 0 {
            // Entered before the window: kindergarten (or later) years ago.
            let k_fall = fall(0) - g.max(0);
            crate::day::from_ymd(k_fall, 9, 8)
        } else {
            entry
        };
        let mut transferred = false;
        loop {
            let cal = &self.cals[y];
            let current = y == YEARS - 1;
            let school = catalog::school_for(g, zone);
            let end_idx = if current { self.as_of_idx } else { cal.days.len() };
            let start_idx = cal.index_of(entry);
            if rng.chance(0.05) && start_idx + 12 < end_idx {
                let exit = if !current && rng.chance(0.4) {
                    cal.last + 1
                } else {
                    cal.days[rng.range(start_idx as i64 + 10, end_idx as i64 - 1) as usize]
                };
                let code = if g >= 9 && rng.chance(0.2) { "DO" } else { "TO" };
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: code });
                s.outcome = Outcome::Left;
                break;
            }
            if !transferred && (0..=5).contains(&g) && rng.chance(0.02) && start_idx + 30 < end_idx {
                let d = rng.range(start_idx as i64 + 10, end_idx as i64 - 10) as usize;
                let exit = cal.days[d];
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: "T1" });
                zone = (zone + 1 + rng.index(4)) % 5;
                s.zone = zone;
                entry = exit;
                entry_code = "T1";
                transferred = true;
                continue;
            }
            let exit = cal.last + 1;
            if current {
                s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: "" });
                s.outcome = Outcome::Active;
                break;
            }
            let code = if g == 12 { "G1" } else { "EY" };
            s.spans.push(Span { school, grade: g, year: y, entry, exit, entry_code, exit_code: code });
            if g == 12 {
                s.outcome = Outcome::Graduated(exit);
                break;
            }
            if !((1..=5).contains(&g) && rng.chance(0.01)) {
                g += 1;
            }
            y += 1;
            entry = self.cals[y].first;
            entry_code = "C1";
            transferred = false;
        }
        s
    }
}
