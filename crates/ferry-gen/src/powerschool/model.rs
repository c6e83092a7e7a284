//! The district model being generated: students' enrollment spans and
//! outcomes, sections, users and staff, and the generator state ([`Gen`])
//! with its id sequences and the ids of the terms, attendance codes, periods
//! and calendar days that other tables point at.

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
}
