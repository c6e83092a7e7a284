//! The orphan rows quirks add: a section whose course is not in the catalog,
//! and CC and attendance rows of a student who does not exist; with the
//! district tables, also Log, SPEnrollments, StudentTest (with its scores),
//! `U_StudentsUserFields` and Incident_Person_Role rows of that student.

use std::io;

use crate::catalog::{self, SCHOOLS, TermKind, YEARS};
use crate::rng::Rng;

use super::attendance::AttRow;
use super::district_codes::{LU_OFFENDER, TESTS, test};
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

    /// District-table rows of the student who does not exist (quirks and
    /// district tables).
    pub(super) fn district_orphans(&mut self, f: &mut Files) -> io::Result<()> {
        let Some(df) = f.district.as_mut() else { return Ok(()) };
        let Some(score_ids) = self.district.as_ref().map(|d| d.score_ids[test::ELA].clone()) else {
            return Ok(());
        };
        let (logtype, program) = self.district.as_ref().map_or((0, 0), |d| (d.logtypes[1], d.programs[2]));
        let y = YEARS - 1;
        let date = self.cals[y].days[10];
        for k in 0..2 {
            let id = self.next("log");
            let t = &mut df.log;
            t.count_reject("missing_student");
            t.i(id);
            t.i(id + 90_000);
            t.i(MISSING_STUDENT_ID);
            t.i(301);
            t.i(logtype);
            t.d(date + k);
            t.s("8:05 AM");
            t.s("Office, Main");
            t.s("Truancy letter mailed");
            t.s("Letter mailed home about unexcused absences.");
            t.s("01");
            for _ in 0..7 {
                t.blank();
            }
            t.end()?;
        }
        let id = self.next("spenroll");
        let t = &mut df.spenroll;
        t.count_reject("missing_student");
        t.i(id);
        t.i(id + 70_000);
        t.i(MISSING_STUDENT_ID);
        t.i(program);
        t.i(301);
        t.d(date);
        t.blank();
        t.s("ESL");
        t.s("SPA");
        t.blank();
        t.i(10);
        t.blank();
        t.end()?;
        let st = self.next("studenttest");
        let t = &mut df.student_test;
        t.count_reject("missing_student");
        t.i(st);
        t.i(st + 400_000);
        t.i(MISSING_STUDENT_ID);
        t.i(test::ELA as i64 + 1);
        t.d(self.cals[y - 1].days[self.cals[y - 1].q[3] + 20]);
        t.i(9);
        t.i(301);
        t.i(self.term_id(y - 1, TermKind::Year));
        t.end()?;
        for (sc, id) in TESTS[test::ELA].scores.iter().zip(score_ids) {
            df.student_test_score.count_reject("missing_student");
            self.score_row(df, st, id, MISSING_STUDENT_ID, (sc.lo, None, ""), 0)?;
        }
        let t = &mut df.u_students;
        t.count_reject("missing_student");
        t.i(MISSING_STUDENT_ID);
        t.blank();
        t.blank();
        t.b(true);
        t.b(true);
        t.s("English");
        t.blank();
        t.blank();
        t.end()?;
        if self.seq.get("incident").is_some_and(|&n| n > 0) {
            df.incident_person_role.count_reject("missing_student");
            self.person_role(df, 1, MISSING_STUDENT_ID, LU_OFFENDER)?;
        }
        Ok(())
    }
}
