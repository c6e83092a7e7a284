//! The orphan rows quirks add: a section whose course is not in the catalog,
//! and CC and attendance rows of a student who does not exist.

use std::io;

use crate::catalog::{self, SCHOOLS, TermKind, YEARS};
use crate::rng::Rng;

use super::attendance::AttRow;
use super::files::Files;
use super::model::Gen;
use super::options::{MISSING_COURSE_NUMBER, MISSING_STUDENT_ID};

impl Gen {
    /// A section whose course is not in the catalog (quirks only).
    pub(super) fn orphan_section(&mut self, f: &mut Files) -> io::Result<()> {
        let id = self.next("sections");
        let t = &mut f.sections;
        t.count_reject("missing_course");
        t.i(id);
        t.i(id + 40_000);
        t.i(301);
        t.s(MISSING_COURSE_NUMBER);
        t.s("1");
        t.i(self.term_id(YEARS - 1, TermKind::Year));
        t.i(self.staff[0].id);
        t.s("999");
        t.s("7(A)");
        t.i(2);
        t.s("ATT_ModeMeeting");
        t.i(30);
        t.i(0);
        t.i(12);
        t.i(2);
        t.end()?;
        Ok(())
    }

    /// Rows that point at a student who does not exist.
    pub(super) fn orphans(&mut self, f: &mut Files) -> io::Result<()> {
        let Some(sec) = self.sections.first() else { return Ok(()) };
        let (sid, k, course, year, school) = (sec.id, sec.k, sec.course, sec.year, sec.school);
        let term = self.catalog.courses[course].term;
        let (tfirst, tlast) = self.cals[year].term_bounds(term);
        for _ in 0..2 {
            let cid = self.next("cc");
            let t = &mut f.cc;
            t.count_reject("missing_student");
            t.i(cid);
            t.i(cid + 3_000_000);
            t.i(MISSING_STUDENT_ID);
            t.i(sid);
            t.i(self.term_id(year, term));
            t.i(SCHOOLS[school].number);
            t.s(&self.catalog.courses[course].number);
            t.s(&k.to_string());
            t.d(tfirst);
            t.d(tlast + 1);
            t.s("1(A)");
            t.i(0);
            t.i(0);
            t.i(0);
            t.end()?;
        }
        f.attendance.count_reject("missing_student");
        let date = self.cals[year].days[3];
        let mut rng = Rng::new(self.opts.seed, 11);
        let row = AttRow {
            student: MISSING_STUDENT_ID,
            school,
            year,
            date,
            code_id: self.att_code_id(school, year, catalog::code::ABSENT),
            cc: None,
            period: None,
            calendar_day: self.calendar_day_id(school, year, date),
            minutes: 0,
        };
        self.att_row(f, &mut rng, row)
    }
}
