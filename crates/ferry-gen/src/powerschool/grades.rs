//! Grades: StoredGrades of finished terms (and of courses transferred in
//! from outside the district) and the current year's PGFinalGrades.

use std::io;

use crate::catalog::{FIRST_YEAR_ID, Level, SCHOOLS, TermKind, YEARS};
use crate::day::Day;
use crate::rng::Rng;

use super::files::Files;
use super::model::{Gen, Points, Span};
use super::schedule::CcRow;

const GRADE_COMMENTS: &[&str] =
    &["Excellent effort", "Needs to complete homework", "A pleasure to have in class"];

fn letter(pct: f64) -> (&'static str, f64) {
    match pct {
        p if p >= 90.0 => ("A", 4.0),
        p if p >= 80.0 => ("B", 3.0),
        p if p >= 70.0 => ("C", 2.0),
        p if p >= 60.0 => ("D", 1.0),
        _ => ("F", 0.0),
    }
}

impl Gen {
    fn teacher_name(&self, section: usize) -> String {
        let u = &self.users[self.staff[self.sections[section].teacher].user];
        format!("{}, {}", u.last, u.first)
    }

    #[allow(clippy::too_many_arguments, reason = "one stored-grade row has many columns")]
    fn stored_row(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        school: (i64, &str),
        course: usize,
        section: Option<usize>,
        term_id: i64,
        store: &str,
        grade_level: i32,
        stored: Day,
        credit: f64,
    ) -> io::Result<()> {
        let q = self.q();
        let id = self.next("stored");
        let c = &self.catalog.courses[course];
        let pct = rng.normal(85.0, 8.0).clamp(45.0, 100.0).round();
        let (mut letter, points) = letter(pct);
        let no_grade = q && id % 487 == 200;
        if no_grade {
            letter = "--";
        }
        let teacher = section.map(|s| self.teacher_name(s)).unwrap_or_default();
        let comment = if rng.chance(0.03) { GRADE_COMMENTS[rng.index(GRADE_COMMENTS.len())] } else { "" };
        let t = &mut f.stored;
        t.i(if q { id + 500_000 } else { id });
        t.i(id);
        t.i(student);
        t.i(school.0);
        t.s(school.1);
        t.s(&c.number);
        t.s(&c.name);
        t.i(section.map_or(0, |s| self.sections[s].id));
        t.i(term_id);
        t.s(store);
        t.s(letter);
        if no_grade {
            t.i(0)
        } else {
            t.f(pct, 1)
        };
        t.f(if c.exclude_gpa { 0.0 } else { points }, 1);
        t.f(if letter == "F" || no_grade { 0.0 } else { credit }, 2);
        t.f(credit, 2);
        t.s(c.credit_type);
        t.i(i64::from(grade_level));
        t.d(stored);
        t.s(&teacher);
        t.b(c.exclude_gpa);
        t.b(c.exclude_gpa);
        t.b(false);
        if q && matches!(id, 50 | 150 | 250) {
            t.expect_bad_row();
            t.s("Great\twork");
        } else {
            t.s(comment);
        }
        t.end()?;
        // High-school GPA points for ClassRank (district tables).
        if let Some(d) = self.district.as_mut()
            && grade_level >= 9
            && !no_grade
            && !c.exclude_gpa
            && credit > 0.0
        {
            let honors = c.grade >= 11 && matches!(c.credit_type, "ENG" | "MATH" | "SCI" | "SOC" | "WL");
            let weighted = if honors && points > 0.0 { points + 0.5 } else { points };
            d.points.push(Points { year_id: term_id / 100, points, weighted, credit });
        }
        Ok(())
    }

    pub(super) fn transfer_grades(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
    ) -> io::Result<()> {
        let prev_grade = sp.grade - 1;
        let term_id = i64::from(FIRST_YEAR_ID + sp.year as i32 - 1) * 100;
        let courses: Vec<usize> = self
            .catalog
            .slots_of(prev_grade)
            .iter()
            .filter(|s| self.catalog.courses[s.courses[0]].term == TermKind::Year)
            .map(|s| s.courses[0])
            .collect();
        for c in courses {
            self.stored_row(
                f,
                rng,
                student,
                (9001, "Springfield Academy"),
                c,
                None,
                term_id,
                "Y1",
                prev_grade,
                sp.entry,
                1.0,
            )?;
        }
        Ok(())
    }

    pub(super) fn grades(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        sp: &Span,
        ccs: &[CcRow],
    ) -> io::Result<()> {
        let level = SCHOOLS[sp.school].level;
        let school = (SCHOOLS[sp.school].number, SCHOOLS[sp.school].name);
        let (s1_last, s2_first, last, q3_first, q3_last) = {
            let cal = &self.cals[sp.year];
            (
                cal.days[cal.s2_start - 1],
                cal.days[cal.s2_start],
                cal.last,
                cal.days[cal.q[2]],
                cal.days[cal.q[3] - 1],
            )
        };
        let current = sp.year == YEARS - 1;
        for cc in ccs {
            let course = self.sections[cc.section].course;
            if !self.catalog.courses[course].graded {
                continue;
            }
            let full = cc.term == TermKind::Year;
            let stores: &[(TermKind, &str)] = match (level, full) {
                (Level::Middle, true) => &[(TermKind::Year, "Y1")],
                (_, true) => &[(TermKind::S1, "S1"), (TermKind::S2, "S2")],
                (_, false) => {
                    if cc.term == TermKind::S1 {
                        &[(TermKind::S1, "S1")]
                    } else {
                        &[(TermKind::S2, "S2")]
                    }
                }
            };
            let credit_total = self.catalog.courses[course].credit;
            for &(term, code) in stores {
                let end = match term {
                    TermKind::S1 => s1_last,
                    _ => last,
                };
                if end >= self.as_of || cc.enrolled > end || cc.left <= end {
                    continue;
                }
                let credit = if full && term != TermKind::Year { credit_total / 2.0 } else { credit_total };
                let tid = self.term_id(sp.year, term);
                self.stored_row(
                    f,
                    rng,
                    student,
                    school,
                    course,
                    Some(cc.section),
                    tid,
                    code,
                    sp.grade,
                    end + 4,
                    credit,
                )?;
            }
            if current {
                // In-progress gradebook grades: S1 final, Q3 running.
                if cc.term != TermKind::S2 && cc.enrolled <= s1_last && cc.left > s1_last {
                    self.pg_row(f, rng, student, cc.section, "S1", self.cals[sp.year].first, s1_last, false)?;
                }
                if cc.term != TermKind::S1 && cc.enrolled <= self.as_of && cc.left > self.as_of {
                    let blank = rng.chance(0.3);
                    self.pg_row(f, rng, student, cc.section, "Q3", q3_first.max(s2_first), q3_last, blank)?;
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments, reason = "one gradebook row has many columns")]
    fn pg_row(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        student: i64,
        section: usize,
        name: &str,
        start: Day,
        end: Day,
        no_grade: bool,
    ) -> io::Result<()> {
        let id = self.next("pg");
        let pct = rng.normal(84.0, 9.0).clamp(40.0, 100.0).round();
        let (letter, _) = letter(pct);
        let t = &mut f.pg;
        t.i(id);
        t.i(if self.opts.quirks { id + 800_000 } else { id });
        t.i(student);
        t.i(self.sections[section].id);
        t.s(name);
        t.d(start);
        t.d(end);
        t.s(if no_grade { "--" } else { letter });
        if no_grade {
            t.i(0)
        } else {
            t.f(pct, 1)
        };
        t.f(if no_grade { 0.0 } else { pct * 2.0 }, 1);
        t.i(if no_grade { 0 } else { 200 });
        t.s(if no_grade { "" } else { "S" });
        t.blank();
        t.blank();
        t.i(0);
        t.i(0);
        t.i(0);
        t.d(self.as_of);
        t.end()
    }
}
