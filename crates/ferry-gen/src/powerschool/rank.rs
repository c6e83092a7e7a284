//! ClassRank: a high-school student's cumulative GPA (simple and weighted)
//! from the stored grades written for the student, ranked within school,
//! year and grade once every student is known. The simple GPA is the
//! credit-weighted mean of the student's high-school `GPA_Points`; the
//! weighted one adds half a point for eleventh- and twelfth-grade core
//! courses.

use std::io;

use crate::catalog::{FIRST_YEAR_ID, Level, SCHOOLS, YEARS};

use super::files::Files;
use super::model::{Gen, RankEntry, Span};

impl Gen {
    /// The student's rank entries: one per high-school year the student was
    /// enrolled on the day ranks were taken (the year's last day; in the
    /// current year, a week after semester 1), if the student has grades.
    pub(super) fn rank_student(&mut self, student: i64, spans: &[Span]) {
        let Some(d) = self.district.as_mut() else { return };
        let points = std::mem::take(&mut d.points);
        if points.is_empty() {
            return;
        }
        for sp in spans.iter().filter(|s| SCHOOLS[s.school].level == Level::High) {
            let cal = &self.cals[sp.year];
            let (at, date) = if sp.year == YEARS - 1 {
                let d = cal.days[cal.s2_start - 1] + 7;
                (d, d)
            } else {
                (cal.last, cal.last + 7)
            };
            if !(sp.entry <= at && at < sp.exit) || date > self.as_of {
                continue;
            }
            let through = i64::from(FIRST_YEAR_ID) + sp.year as i64;
            let (mut p, mut w, mut c) = (0.0, 0.0, 0.0);
            for g in points.iter().filter(|g| g.year_id <= through) {
                p += g.points * g.credit;
                w += g.weighted * g.credit;
                c += g.credit;
            }
            if c > 0.0 {
                d.ranks.push(RankEntry {
                    student,
                    school: sp.school,
                    year: sp.year,
                    grade: sp.grade,
                    simple: p / c,
                    weighted: w / c,
                    date,
                });
            }
        }
    }

    /// Writes ClassRank: by year, school and grade, the simple then the
    /// weighted ranking (equal GPAs share a rank).
    pub(super) fn write_ranks(&mut self, f: &mut Files) -> io::Result<()> {
        let Some(d) = self.district.as_mut() else { return Ok(()) };
        let Some(df) = f.district.as_mut() else { return Ok(()) };
        let mut ranks = std::mem::take(&mut d.ranks);
        ranks.sort_by_key(|e| (e.year, e.school, e.grade, e.student));
        let q = self.opts.quirks;
        let mut id = 0i64;
        for group in ranks.chunk_by(|a, b| (a.year, a.school, a.grade) == (b.year, b.school, b.grade)) {
            for (method, weighted) in [("Simple", false), ("Weighted", true)] {
                let gpa_of = |e: &RankEntry| if weighted { e.weighted } else { e.simple };
                let mut order: Vec<(f64, &RankEntry)> =
                    group.iter().map(|e| ((gpa_of(e) * 1000.0).round() / 1000.0, e)).collect();
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.student.cmp(&b.1.student)));
                let out_of = order.len();
                let mut rank = 0;
                let mut prev = f64::NAN;
                for (i, (gpa, e)) in order.iter().enumerate() {
                    if *gpa != prev {
                        rank = i + 1;
                        prev = *gpa;
                    }
                    id += 1;
                    let t = &mut df.class_rank;
                    t.i(id);
                    t.i(if q { id + 80_000 } else { id });
                    t.i(e.student);
                    t.i(SCHOOLS[e.school].number);
                    t.i(i64::from(FIRST_YEAR_ID) + e.year as i64);
                    t.s(method);
                    t.f(*gpa, 3);
                    t.i(rank as i64);
                    t.i(out_of as i64);
                    t.f(100.0 * (out_of - rank + 1) as f64 / out_of as f64, 1);
                    t.d(e.date);
                    t.end()?;
                }
            }
        }
        Ok(())
    }
}
