//! The district model being generated: students' enrollment spans and
//! outcomes, sections, users and staff, and the generator state ([`Gen`])
//! with its id sequences and the ids of the terms, attendance codes, periods
//! and calendar days that other tables point at, and the state of the
//! district tables ([`District`]).

use std::collections::HashMap;

use crate::catalog::{Catalog, FIRST_YEAR_ID, TermKind, YEARS, YearCal};
use crate::day::Day;

use super::options::PsGenOptions;

/// One school enrollment span; `exit` is exclusive, as PowerSchool writes it.
#[derive(Clone, Debug)]
pub(super) struct Span {
    pub(super) school: usize,
    pub(super) grade: i32,
    pub(super) year: usize,
    pub(super) entry: Day,
    pub(super) exit: Day,
    pub(super) entry_code: &'static str,
    pub(super) exit_code: &'static str,
}

#[derive(Clone, Debug)]
pub(super) enum Outcome {
    Active,
    Left,
    Graduated(Day),
    Prereg { school: usize, grade: i32 },
}

pub(super) struct Stu {
    pub(super) spans: Vec<Span>,
    pub(super) outcome: Outcome,
    pub(super) zone: usize,
    pub(super) female: bool,
    pub(super) first: &'static str,
    pub(super) middle: Option<&'static str>,
    pub(super) last: &'static str,
    pub(super) shares_family: bool,
    pub(super) dob: Day,
    pub(super) district_entry: Day,
    pub(super) from_outside: bool,
}

pub(super) struct Sec {
    pub(super) id: i64,
    pub(super) dcid: i64,
    pub(super) year: usize,
    pub(super) school: usize,
    pub(super) course: usize,
    pub(super) k: u32,
    pub(super) teacher: usize,
    pub(super) students: u32,
}

pub(super) struct Group {
    pub(super) first: usize,
    pub(super) n: u32,
    pub(super) next: u32,
}

pub(super) struct User {
    pub(super) dcid: i64,
    pub(super) number: String,
    pub(super) first: &'static str,
    pub(super) middle: &'static str,
    pub(super) last: &'static str,
    pub(super) title: &'static str,
    pub(super) home_school: usize,
}

pub(super) struct StaffRow {
    pub(super) id: i64,
    pub(super) dcid: i64,
    pub(super) user: usize,
    pub(super) school: usize,
    pub(super) status: i64,
    pub(super) staff_status: i64,
    pub(super) dept: &'static str,
}

/// One special program enrollment of a student (SPEnrollments); `exit` is
/// exclusive, `None` while open.
pub(super) struct ProgramSpan {
    /// An index of `PROGRAMS`.
    pub(super) program: usize,
    pub(super) enter: Day,
    pub(super) exit: Option<Day>,
    pub(super) code1: &'static str,
}

/// A stored grade's GPA points (for ClassRank), of the student being written.
pub(super) struct Points {
    pub(super) year_id: i64,
    pub(super) points: f64,
    pub(super) weighted: f64,
    pub(super) credit: f64,
}

/// A student ranked in a school, year and grade (ClassRank is written once
/// every student is known).
pub(super) struct RankEntry {
    pub(super) student: i64,
    pub(super) school: usize,
    pub(super) year: usize,
    pub(super) grade: i32,
    pub(super) simple: f64,
    pub(super) weighted: f64,
    pub(super) date: Day,
}

/// What the district tables need beyond the core model (with
/// `district_tables`).
pub(super) struct District {
    /// Gen ids of the log types, in `LOG_TYPES` order.
    pub(super) logtypes: Vec<i64>,
    /// Gen ids of the special programs, in `PROGRAMS` order.
    pub(super) programs: Vec<i64>,
    /// SchoolStaff rows by school index: administrators and counselors.
    pub(super) admins: Vec<Vec<usize>>,
    /// SchoolStaff rows by school index: teachers.
    pub(super) teachers: Vec<Vec<usize>>,
    /// TestScore ids of each test, in `TESTS` order.
    pub(super) score_ids: Vec<Vec<i64>>,
    /// GPA points of the student being written.
    pub(super) points: Vec<Points>,
    /// Students to rank.
    pub(super) ranks: Vec<RankEntry>,
    /// The last student written in each school (index) and year (0: none):
    /// the other person of an incident.
    pub(super) last_at: Vec<i64>,
}

/// The generator's state.
pub(super) struct Gen {
    pub(super) opts: PsGenOptions,
    pub(super) cals: Vec<YearCal>,
    pub(super) as_of_idx: usize,
    pub(super) as_of: Day,
    pub(super) catalog: Catalog,
    pub(super) students: Vec<Stu>,
    pub(super) sections: Vec<Sec>,
    pub(super) groups: Vec<Group>,
    pub(super) group_of: HashMap<(usize, usize, usize), usize>,
    pub(super) users: Vec<User>,
    pub(super) staff: Vec<StaffRow>,
    pub(super) seq: HashMap<&'static str, i64>,
    /// Set by the district tables' static pass.
    pub(super) district: Option<District>,
}

impl Gen {
    /// A generator with the calendars and catalog set up and nothing planned.
    pub(super) fn new(opts: &PsGenOptions) -> Gen {
        let cals: Vec<YearCal> = (0..=YEARS).map(|y| YearCal::new(FIRST_YEAR_ID + y as i32)).collect();
        let as_of_idx = cals[YEARS - 1].s2_start + 20;
        let as_of = cals[YEARS - 1].days[as_of_idx];
        Gen {
            opts: opts.clone(),
            cals,
            as_of_idx,
            as_of,
            catalog: Catalog::new(),
            students: Vec::new(),
            sections: Vec::new(),
            groups: Vec::new(),
            group_of: HashMap::new(),
            users: Vec::new(),
            staff: Vec::new(),
            seq: HashMap::new(),
            district: None,
        }
    }

    pub(super) fn q(&self) -> bool {
        self.opts.quirks
    }

    /// The next id of a table's sequence.
    pub(super) fn next(&mut self, table: &'static str) -> i64 {
        let v = self.seq.entry(table).or_insert(0);
        *v += 1;
        *v
    }

    /// The DCID of a row with this ID: equal unless quirks are on.
    pub(super) fn dcid(&self, id: i64, offset: i64) -> i64 {
        if self.q() { id + offset } else { id }
    }

    pub(super) fn term_id(&self, y: usize, term: TermKind) -> i64 {
        i64::from(FIRST_YEAR_ID + y as i32) * 100 + term.offset()
    }

    pub(super) fn att_code_id(&self, school: usize, y: usize, code: usize) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 7 + code) as i64
    }

    pub(super) fn period_id(&self, school: usize, y: usize, period: u8) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 7 + period as usize - 1) as i64
    }

    pub(super) fn calendar_day_id(&self, school: usize, y: usize, d: Day) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 400) as i64 + i64::from(d - self.cals[y].first)
    }

    /// Cycle_Day `k` (0 = A) of a school and year.
    pub(super) fn cycle_day_id(&self, school: usize, y: usize, k: usize) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 2 + k) as i64
    }

    /// Bell schedule `b` (an index of `BELLS`) of a school and year.
    pub(super) fn bell_schedule_id(&self, school: usize, y: usize, b: usize) -> i64 {
        1 + ((school * (YEARS + 1) + y) * 3 + b) as i64
    }
}
