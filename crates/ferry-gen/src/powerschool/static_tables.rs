//! The tables written before any student: Schools, Terms, Attendance_Code,
//! Period, Calendar_Day, Gen (entry and exit codes), CodeSet, Courses,
//! Users, SchoolStaff and Sections.

use std::io;

use crate::catalog::{self, Level, SCHOOLS, YEARS};
use crate::day::Day;

use super::codes::{CODESETS, ENTRY_CODES, EXIT_CODES};
use super::district_static::bell_of;
use super::files::Files;
use super::model::Gen;
use super::text::fold_ascii;

impl Gen {
    pub(super) fn write_static(&mut self, f: &mut Files) -> io::Result<()> {
        let q = self.q();
        let district = self.opts.district_tables;
        for (i, s) in SCHOOLS.iter().enumerate() {
            let t = &mut f.schools;
            let id = i as i64 + 1;
            t.i(id);
            t.i(if q { id + 100 } else { id });
            t.i(s.number);
            t.s(s.name);
            t.s(s.abbr);
            t.i(s.low);
            t.i(s.high);
            if s.level == Level::Graduated || s.level == Level::District {
                t.blank()
            } else {
                t.s(&format!("34{:04}", s.number))
            };
            t.s(s.street);
            t.s(if s.street.is_empty() { "" } else { "Springfield" });
            t.s(if s.street.is_empty() { "" } else { "NJ" });
            t.s(if s.street.is_empty() { "" } else { "07081" });
            t.s(if s.street.is_empty() { "" } else { "(973) 555-0100" });
            t.blank();
            t.s("3400");
            t.i(i64::from(s.level == Level::Graduated));
            t.i(0);
            t.i(i as i64);
            t.end()?;
        }
        // Terms, attendance codes, periods and calendars of every real school.
        let mut term_dcid = 0i64;
        for (si, school) in SCHOOLS.iter().enumerate() {
            if matches!(school.level, Level::District | Level::Graduated) {
                continue;
            }
            for y in 0..YEARS {
                let cal = &self.cals[y];
                let yid = i64::from(cal.yearid);
                let fall = 1990 + cal.yearid;
                let terms: [(i64, String, String, Day, Day, i64, usize); 7] = [
                    (
                        0,
                        format!("{}-{}", fall, fall + 1),
                        format!("{:02}-{:02}", fall % 100, (fall + 1) % 100),
                        cal.first,
                        cal.last,
                        1,
                        cal.days.len(),
                    ),
                    (
                        1,
                        "Semester 1".into(),
                        "S1".into(),
                        cal.first,
                        cal.days[cal.s2_start - 1],
                        2,
                        cal.s2_start,
                    ),
                    (
                        2,
                        "Semester 2".into(),
                        "S2".into(),
                        cal.days[cal.s2_start],
                        cal.last,
                        2,
                        cal.days.len() - cal.s2_start,
                    ),
                    (3, "Quarter 1".into(), "Q1".into(), cal.first, cal.days[cal.q[1] - 1], 4, cal.q[1]),
                    (
                        4,
                        "Quarter 2".into(),
                        "Q2".into(),
                        cal.days[cal.q[1]],
                        cal.days[cal.q[2] - 1],
                        4,
                        cal.q[2] - cal.q[1],
                    ),
                    (
                        5,
                        "Quarter 3".into(),
                        "Q3".into(),
                        cal.days[cal.q[2]],
                        cal.days[cal.q[3] - 1],
                        4,
                        cal.q[3] - cal.q[2],
                    ),
                    (
                        6,
                        "Quarter 4".into(),
                        "Q4".into(),
                        cal.days[cal.q[3]],
                        cal.last,
                        4,
                        cal.days.len() - cal.q[3],
                    ),
                ];
                for (off, name, abbr, first, last, portion, ndays) in terms {
                    term_dcid += 1;
                    let dcid = term_dcid;
                    let t = &mut f.terms;
                    t.i(yid * 100 + off);
                    t.i(dcid);
                    t.i(school.number);
                    t.i(yid);
                    t.s(&name);
                    t.s(&abbr);
                    t.d(first);
                    t.d(last);
                    t.i(i64::from(off == 0));
                    t.i(portion);
                    t.i(ndays as i64);
                    t.end()?;
                }
                for (c, (code, desc, presence)) in catalog::att_codes(school.level).iter().enumerate() {
                    let id = self.att_code_id(si, y, c);
                    let t = &mut f.att_code;
                    t.i(id);
                    t.i(if q { id + 9_000 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.s(code);
                    t.s(desc);
                    t.s(presence);
                    t.i(i64::from(*presence == "Present"));
                    t.i(1);
                    t.i(0);
                    t.blank();
                    t.i(c as i64);
                    t.end()?;
                }
                for p in 1..=7u8 {
                    let id = self.period_id(si, y, p);
                    let t = &mut f.period;
                    t.i(id);
                    t.i(if q { id + 700 } else { id });
                    t.i(school.number);
                    t.i(yid);
                    t.i(i64::from(p));
                    t.s(&p.to_string());
                    t.s(&format!("Period {p}"));
                    t.i(i64::from(p));
                    t.end()?;
                }
                let mut d = cal.first;
                let mut session = cal.days.iter().peekable();
                let mut session_idx = 0;
                let cycles = if school.level == Level::Elementary { 1 } else { 2 };
                while d <= cal.last {
                    let in_session = session.peek().is_some_and(|&&x| x == d);
                    if in_session {
                        session.next();
                    }
                    let id = self.calendar_day_id(si, y, d);
                    let note =
                        cal.holidays.binary_search_by_key(&d, |h| h.0).ok().map_or("", |i| cal.holidays[i].1);
                    let (cycle_day, bell) = if in_session {
                        (
                            self.cycle_day_id(si, y, session_idx % cycles),
                            self.bell_schedule_id(si, y, bell_of(cal, session_idx)),
                        )
                    } else {
                        (0, 0)
                    };
                    if in_session {
                        session_idx += 1;
                    }
                    let t = &mut f.calendar;
                    t.i(id);
                    t.i(if q { id + 1_000_000 } else { id });
                    t.i(school.number);
                    t.d(d);
                    t.i(i64::from(in_session));
                    t.i(i64::from(in_session));
                    if district {
                        t.i(cycle_day);
                        t.i(bell);
                    }
                    t.s(if in_session {
                        ""
                    } else if note.is_empty() {
                        "Weekend"
                    } else {
                        "Holiday"
                    });
                    t.s(note);
                    for track in 0..6 {
                        t.i(i64::from(in_session && track == 0));
                    }
                    t.i(i64::from((d - cal.first) / 7 + 1));
                    t.end()?;
                    d += 1;
                }
            }
        }
        for (cat, codes) in [("entrycodes", ENTRY_CODES), ("exitcodes", EXIT_CODES)] {
            for (i, (code, desc)) in codes.iter().enumerate() {
                let id = self.next("gen");
                let t = &mut f.gens;
                t.i(id);
                t.i(id);
                t.s(cat);
                t.s(code);
                t.s(desc);
                t.i(0);
                t.i(0);
                t.i(0);
                t.i(i as i64);
                t.end()?;
            }
        }
        for (id, code, ty, display, desc) in CODESETS {
            let t = &mut f.codeset;
            t.i(*id);
            t.s(code);
            t.s(ty);
            t.s(display);
            t.s(desc);
            t.end()?;
        }
        for (i, c) in self.catalog.courses.iter().enumerate() {
            let id = i as i64 + 1;
            let t = &mut f.courses;
            t.i(id);
            t.i(if q { id + 300 } else { id });
            t.s(&c.number);
            t.s(&c.name);
            t.f(c.credit, 1);
            t.s(c.credit_type);
            t.i(c.owner);
            t.i(i64::from(c.exclude_gpa));
            t.i(i64::from(!c.graded));
            t.i(1);
            t.s(c.dept);
            t.s(&format!("{:05}", 51_000 + i));
            t.i(0);
            t.end()?;
        }
        for u in &self.users {
            let t = &mut f.users;
            t.i(u.dcid);
            t.i(SCHOOLS[u.home_school].number);
            t.s(&u.number);
            t.s(u.first);
            t.s(u.middle);
            t.s(u.last);
            t.s(&format!("{}, {}", u.last, u.first));
            let mut login = String::new();
            fold_ascii(
                &u.first[..u.first.char_indices().nth(1).map_or(u.first.len(), |(i, _)| i)],
                &mut login,
            );
            fold_ascii(u.last, &mut login);
            login.push_str(&u.dcid.to_string());
            t.s(&format!("{login}@springfield.example.org"));
            t.s(&login);
            t.s(u.title);
            t.s(&format!("S{:07}", u.dcid * 13));
            t.blank();
            t.blank();
            t.i(0);
            t.end()?;
        }
        for s in &self.staff {
            let t = &mut f.staff;
            t.i(s.id);
            t.i(s.dcid);
            t.i(self.users[s.user].dcid);
            t.i(SCHOOLS[s.school].number);
            t.i(s.status);
            t.i(s.staff_status);
            t.s(if s.staff_status == 1 { "Room" } else { "" });
            t.s(s.dept);
            t.i(if s.staff_status == 1 { 6 } else { 0 });
            t.end()?;
        }
        for sec in &self.sections {
            let c = &self.catalog.courses[sec.course];
            let slot_period = self.period_of(sec.course);
            let t = &mut f.sections;
            t.i(sec.id);
            t.i(sec.dcid);
            t.i(SCHOOLS[sec.school].number);
            t.s(&c.number);
            t.s(&sec.k.to_string());
            t.i(self.term_id(sec.year, c.term));
            t.i(self.staff[sec.teacher].id);
            t.s(&format!("{}{:02}", slot_period, sec.k));
            t.s(&format!("{slot_period}(A)"));
            t.i(if SCHOOLS[sec.school].level == Level::Elementary { 0 } else { 2 });
            t.s(if SCHOOLS[sec.school].level == Level::Elementary {
                "ATT_ModeDaily"
            } else {
                "ATT_ModeMeeting"
            });
            t.i(30);
            t.i(i64::from(sec.students));
            t.i(i64::from(c.grade));
            t.i(2);
            t.end()?;
        }
        Ok(())
    }

    fn period_of(&self, course: usize) -> u8 {
        let g = self.catalog.courses[course].grade;
        for gg in [g, 9, 10, 11, 12] {
            for slot in self.catalog.slots_of(gg) {
                if slot.courses.contains(&course) {
                    return slot.period;
                }
            }
        }
        1
    }
}
