//! A student-year's schedule: CC rows in the sections of the grade's slots,
//! with mid-term section changes and same-day drops; a dropped enrollment
//! (or one ended by leaving) has a negative SectionID and TermID.

use std::io;

use crate::catalog::{SCHOOLS, TermKind, YEARS};
use crate::day::Day;
use crate::rng::Rng;

use super::files::Files;
use super::model::{Gen, Span};

/// A CC row of the student-year being generated.
pub(super) struct CcRow {
    pub(super) id: i64,
    pub(super) section: usize,
    pub(super) period: u8,
    pub(super) term: TermKind,
    pub(super) enrolled: Day,
    pub(super) left: Day,
}

impl Gen {
    pub(super) fn schedule(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        i: usize,
        id: i64,
        sp: &Span,
    ) -> io::Result<Vec<CcRow>> {
        let mut out = Vec::with_capacity(10);
        let cal_first = self.cals[sp.year].first;
        let n_slots = self.catalog.slots_of(sp.grade).len();
        for slot_no in 0..n_slots {
            let (course, period) = {
                let slot = &self.catalog.slots_of(sp.grade)[slot_no];
                (slot.courses[(i + slot_no) % slot.courses.len()], slot.period)
            };
            let term = self.catalog.courses[course].term;
            let (tfirst, tlast) = self.cals[sp.year].term_bounds(term);
            if sp.entry > tlast || sp.exit <= tfirst {
                continue;
            }
            let Some(&g) = self.group_of.get(&(sp.year, sp.school, course)) else { continue };
            let grp = &mut self.groups[g];
            let k = (grp.next % grp.n) as usize;
            grp.next += 1;
            let (first, n) = (grp.first, grp.n as usize);
            let enrolled = sp.entry.max(tfirst);
            let left = sp.exit.min(tlast + 1);
            let ended = sp.exit < tlast + 1;
            let cal = &self.cals[sp.year];
            let lo = cal.index_of(enrolled) + 10;
            let hi = cal.index_of(left).min(if sp.year == YEARS - 1 { self.as_of_idx } else { usize::MAX });
            let mut rows: Vec<(usize, Day, Day, bool)> = Vec::with_capacity(3);
            if n > 1 && lo + 10 < hi && rng.chance(0.03) {
                let drop = cal.days[rng.range(lo as i64, hi as i64 - 10) as usize];
                rows.push((first + k, enrolled, drop, true));
                rows.push((first + (k + 1) % n, drop, left, ended));
            } else {
                rows.push((first + k, enrolled, left, ended));
            }
            if n > 1 && rng.chance(0.003) {
                rows.push((first + (k + 1) % n, enrolled, enrolled, true));
            }
            for (si, from, to, negative) in rows {
                let cid = self.next("cc");
                let sec = &self.sections[si];
                let sign = if negative { -1 } else { 1 };
                let c = &self.catalog.courses[course];
                let t = &mut f.cc;
                t.i(cid);
                t.i(if self.opts.quirks { cid + 3_000_000 } else { cid });
                t.i(id);
                t.i(sign * sec.id);
                t.i(sign * self.term_id(sp.year, term));
                t.i(SCHOOLS[sp.school].number);
                t.s(&c.number);
                t.s(&sec.k.to_string());
                t.d(from);
                t.d(to);
                t.s(&format!("{period}(A)"));
                t.i(self.staff[sec.teacher].id);
                t.i(rng.range(0, 6));
                t.i(rng.range(0, 4));
                t.end()?;
                out.push(CcRow { id: cid, section: si, period, term, enrolled: from, left: to });
            }
        }
        let _ = cal_first;
        Ok(out)
    }
}
