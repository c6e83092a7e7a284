//! The district tables written before any student (with
//! `district_tables`): the Gen rows of log types, subtypes and special
//! programs, Cycle_Day, Bell_Schedule and Bell_Schedule_Items of every
//! school and year, RoleDef and SectionTeacher (lead teachers and
//! co-teachers), Test and TestScore, and Incident_LU_Code.

use std::io;

use crate::catalog::{Level, SCHOOLS, YEARS, YearCal};
use crate::rng::Rng;

use super::district_codes::{BELLS, LOG_TYPES, LU_CODES, PROGRAMS, ROLES, TESTS, bell, role};
use super::files::{DistrictFiles, Files};
use super::model::{District, Gen};

/// The random stream of the district's static tables.
const STATIC_STREAM: u64 = 3 << 40;

/// The bell schedule (an index of `BELLS`) of the `idx`-th school day:
/// early dismissal on the last day and before a break, two delayed
/// openings in winter, else the regular day.
pub(super) fn bell_of(cal: &YearCal, idx: usize) -> usize {
    match cal.days.get(idx + 1) {
        None => bell::EARLY,
        Some(&next) if next - cal.days[idx] > 4 => bell::EARLY,
        _ if idx == cal.s2_start + 7 || idx == cal.s2_start + 19 => bell::DELAYED,
        _ => bell::REGULAR,
    }
}

/// A time of day (seconds after midnight) as `h:mm AM`.
pub(super) fn clock(secs: i64) -> String {
    let (h, m) = (secs / 3600, secs / 60 % 60);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    format!("{h12}:{m:02} {}", if h < 12 { "AM" } else { "PM" })
}

impl Gen {
    /// Writes the district's static tables and sets up [`District`].
    pub(super) fn write_district_static(&mut self, f: &mut Files) -> io::Result<()> {
        let q = self.q();
        let mut d = District {
            logtypes: Vec::new(),
            programs: Vec::new(),
            admins: vec![Vec::new(); SCHOOLS.len()],
            teachers: vec![Vec::new(); SCHOOLS.len()],
            score_ids: Vec::new(),
            points: Vec::new(),
            ranks: Vec::new(),
            last_at: vec![0; SCHOOLS.len() * YEARS],
        };
        for (i, s) in self.staff.iter().enumerate() {
            if s.status != 1 {
                continue;
            }
            match (s.dept, s.staff_status) {
                ("ADMIN", _) if self.users[s.user].title != "Secretary" => d.admins[s.school].push(i),
                (_, 1) => d.teachers[s.school].push(i),
                _ => {}
            }
        }
        // Gen: log types, their subtypes, special programs.
        for (i, lt) in LOG_TYPES.iter().enumerate() {
            d.logtypes.push(self.gen_row(f, "logtype", lt.name, lt.desc, 0, i)?);
        }
        for (lt, &lt_id) in LOG_TYPES.iter().zip(&d.logtypes) {
            for (i, (code, desc, _, _)) in lt.subtypes.iter().enumerate() {
                self.gen_row(f, "subtype", code, desc, lt_id, i)?;
            }
        }
        for (i, (name, code)) in PROGRAMS.iter().enumerate() {
            d.programs.push(self.gen_row(f, "specprog", name, code, 0, i)?);
        }
        let Some(df) = f.district.as_mut() else { return Ok(()) };
        self.calendars(df)?;
        for (i, (name, desc)) in ROLES.iter().enumerate() {
            let t = &mut df.roledef;
            t.i(i as i64 + 1);
            t.i(if q { i as i64 + 31 } else { i as i64 + 1 });
            t.s(name);
            t.s(desc);
            t.i(i as i64);
            t.end()?;
        }
        self.section_teachers(df, &d)?;
        for (i, test) in TESTS.iter().enumerate() {
            let id = i as i64 + 1;
            let t = &mut df.test;
            t.i(id);
            t.i(if q { id + 50 } else { id });
            t.s(test.name);
            t.s(test.desc);
            t.i(test.ty);
            t.end()?;
            let mut ids = Vec::new();
            for (k, sc) in test.scores.iter().enumerate() {
                let sid = self.next("testscore");
                let t = &mut df.test_score;
                t.i(sid);
                t.i(if q { sid + 500 } else { sid });
                t.i(id);
                t.s(sc.name);
                t.s(sc.desc);
                t.i(k as i64 + 1);
                t.end()?;
                ids.push(sid);
            }
            d.score_ids.push(ids);
        }
        for (i, (ty, cat, short, long, state)) in LU_CODES.iter().enumerate() {
            let t = &mut df.incident_lu_code;
            t.i(i as i64 + 1);
            t.s(ty);
            t.s(cat);
            t.s(short);
            t.s(long);
            t.s(state);
            t.i(i as i64 + 1);
            t.end()?;
        }
        self.district = Some(d);
        Ok(())
    }

    /// One Gen row; returns its ID.
    fn gen_row(
        &mut self,
        f: &mut Files,
        cat: &str,
        name: &str,
        value: &str,
        li: i64,
        sort: usize,
    ) -> io::Result<i64> {
        let id = self.next("gen");
        let t = &mut f.gens;
        t.i(id);
        t.i(id);
        t.s(cat);
        t.s(name);
        t.s(value);
        t.i(li);
        t.i(0);
        t.i(0);
        t.i(sort as i64);
        t.end()?;
        Ok(id)
    }

    /// Cycle_Day, Bell_Schedule and Bell_Schedule_Items of every real school
    /// and year (the ids Calendar_Day points at).
    fn calendars(&mut self, df: &mut DistrictFiles) -> io::Result<()> {
        let q = self.q();
        for (si, school) in SCHOOLS.iter().enumerate() {
            let (start, minutes) = match school.level {
                Level::District | Level::Graduated => continue,
                Level::Elementary => (8 * 3600 + 40 * 60, 45),
                Level::Middle => (8 * 3600, 46),
                Level::High => (7 * 3600 + 40 * 60, 50),
            };
            for y in 0..YEARS {
                let yid = i64::from(self.cals[y].yearid);
                let cycles = if school.level == Level::Elementary { 1 } else { 2 };
                for k in 0..cycles {
                    let id = self.cycle_day_id(si, y, k);
                    let letter = ["A", "B"][k];
                    let t = &mut df.cycle_day;
                    t.i(id);
                    t.i(if q { id + 3_000 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.s(letter);
                    t.i(k as i64 + 1);
                    t.s(letter);
                    t.s(&format!("{letter} Day"));
                    t.i(k as i64 + 1);
                    t.end()?;
                }
                for (b, (name, shorter, later)) in BELLS.iter().enumerate() {
                    let id = self.bell_schedule_id(si, y, b);
                    let t = &mut df.bell_schedule;
                    t.i(id);
                    t.i(if q { id + 4_000 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.s(name);
                    t.i(1);
                    t.end()?;
                    let length = minutes + shorter;
                    let mut at = start + later * 60;
                    for p in 1..=7u8 {
                        let item = self.next("bell_item");
                        let period = self.period_id(si, y, p);
                        let t = &mut df.bell_items;
                        t.i(item);
                        t.i(if q { item + 60_000 } else { item });
                        t.i(id);
                        t.i(period);
                        t.i(at);
                        t.i(at + length * 60);
                        t.i(length);
                        t.i(1);
                        t.end()?;
                        at += (length + 4) * 60;
                        if p == 4 {
                            at += if b == bell::EARLY { 20 } else { 30 } * 60;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// SectionTeacher: every section's lead teacher (Sections.Teacher), and
    /// co-teachers and support staff in some sections, a few joining after
    /// the term began.
    fn section_teachers(&mut self, df: &mut DistrictFiles, d: &District) -> io::Result<()> {
        let q = self.q();
        let mut rng = Rng::new(self.opts.seed, STATIC_STREAM);
        for si in 0..self.sections.len() {
            let (sec_id, school, year, course, lead) = {
                let s = &self.sections[si];
                (s.id, s.school, s.year, s.course, s.teacher)
            };
            let term = self.catalog.courses[course].term;
            let cal = &self.cals[year];
            let (first, last) = cal.term_bounds(term);
            let (lo, hi) = (cal.index_of(first), cal.index_of(last));
            let mut rows = vec![(lead, role::LEAD, 1.0, first)];
            let pool = &d.teachers[school];
            let elementary = SCHOOLS[school].level == Level::Elementary;
            for (role_id, p, allocation) in
                [(role::CO_TEACHER, if elementary { 0.06 } else { 0.10 }, 0.5), (role::SUPPORT, 0.03, 0.25)]
            {
                if pool.len() < 3 || !rng.chance(p) {
                    continue;
                }
                let other = pool[rng.index(pool.len())];
                if rows.iter().any(|r| r.0 == other) {
                    continue;
                }
                let start = if rng.chance(0.2) && lo + 30 < hi {
                    cal.days[rng.range(lo as i64 + 10, hi as i64 - 20) as usize]
                } else {
                    first
                };
                rows.push((other, role_id, allocation, start));
            }
            for (prio, (staff, role_id, allocation, start)) in rows.into_iter().enumerate() {
                let id = self.next("sectionteacher");
                let t = &mut df.section_teacher;
                t.i(id);
                t.i(if q { id + 20_000 } else { id });
                t.i(sec_id);
                t.i(self.staff[staff].id);
                t.i(role_id);
                t.f(allocation, 2);
                t.d(start);
                t.d(last);
                t.i(prio as i64 + 1);
                t.end()?;
            }
        }
        Ok(())
    }
}
