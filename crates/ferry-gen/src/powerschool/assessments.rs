//! A student's tests (StudentTest) and their scores (StudentTestScore):
//! the district benchmark in fall and winter (K–8), state tests in spring
//! (past years only: the export is dated February), PSAT and SAT in high
//! school, ACCESS for English learners. Scores follow one ability per
//! student, so a student's results agree with each other.

use std::io;

use crate::catalog::TermKind;
use crate::day::Day;
use crate::rng::Rng;

use super::district_codes::{ScoreDef, TESTS, prog, test};
use super::files::DistrictFiles;
use super::model::{Gen, ProgramSpan, Span};

/// A score's `(NumScore, PercentScore, AlphaScore)` at position `p` (0..1)
/// of its range.
fn score_values(sc: &ScoreDef, p: f64) -> (f64, Option<i64>, &'static str) {
    let n = sc.levels.len();
    let level = ((p * n as f64) as usize).min(n.saturating_sub(1));
    let num = if sc.decimals == 0 && n > 0 && (sc.hi - sc.lo + 1.0 - n as f64).abs() < 0.5 {
        // A performance level: the number is the level.
        sc.lo + level as f64
    } else if sc.hi - sc.lo >= 500.0 {
        ((sc.lo + p * (sc.hi - sc.lo)) / 10.0).round() * 10.0
    } else {
        let scale = 10f64.powi(sc.decimals as i32);
        ((sc.lo + p * (sc.hi - sc.lo)) * scale).round() / scale
    };
    let pct = sc.percentile.then(|| 1 + ((p * 99.0) as i64).min(98));
    (num, pct, if n > 0 { sc.levels[level] } else { "" })
}

impl Gen {
    pub(super) fn assessments(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        student: i64,
        spans: &[Span],
        programs: &[ProgramSpan],
    ) -> io::Result<()> {
        let q = self.q();
        let ability = rng.normal(0.0, 1.0);
        let ell_at = |d: Day| {
            programs.iter().any(|p| p.program == prog::ELL && p.enter <= d && p.exit.is_none_or(|e| e > d))
        };
        for sp in spans {
            let cal = &self.cals[sp.year];
            let g = sp.grade;
            let spring = cal.q[3];
            let mut sittings: Vec<(usize, Day)> = Vec::with_capacity(6);
            if (0..=8).contains(&g) {
                sittings.push((test::BENCHMARK, cal.days[12]));
                sittings.push((test::BENCHMARK, cal.days[cal.s2_start - 8]));
            }
            if (3..=9).contains(&g) {
                sittings.push((test::ELA, cal.days[spring + 20]));
            }
            if (3..=8).contains(&g) {
                sittings.push((test::MATH, cal.days[spring + 21]));
            }
            if matches!(g, 5 | 8 | 11) {
                sittings.push((test::SCIENCE, cal.days[spring + 24]));
            }
            if matches!(g, 10 | 11) && rng.chance(0.65) {
                sittings.push((test::PSAT, cal.days[28]));
            }
            if g == 11 && rng.chance(0.55) {
                sittings.push((test::SAT, cal.days[spring + 8]));
            }
            if g == 12 && rng.chance(0.3) {
                sittings.push((test::SAT, cal.days[35]));
            }
            let access = cal.days[cal.s2_start + 5];
            if ell_at(access) {
                sittings.push((test::ACCESS, access));
            }
            sittings.sort_by_key(|s| s.1);
            for (k, date) in sittings {
                if date < sp.entry || date >= sp.exit || date > self.as_of {
                    continue;
                }
                if TESTS[k].ty == 1 && rng.chance(0.04) {
                    // Absent on test day.
                    continue;
                }
                let st = self.next("studenttest");
                let t = &mut df.student_test;
                t.i(st);
                t.i(if q { st + 400_000 } else { st });
                t.i(student);
                t.i(k as i64 + 1);
                t.d(date);
                t.i(i64::from(g));
                t.i(crate::catalog::SCHOOLS[sp.school].number);
                t.i(self.term_id(sp.year, TermKind::Year));
                t.end()?;
                let z = ability + rng.normal(0.0, 0.35);
                let p = 1.0 / (1.0 + (-1.7 * z).exp());
                for (j, sc) in TESTS[k].scores.iter().enumerate() {
                    let pj = (p + rng.normal(0.0, 0.04)).clamp(0.0, 0.999);
                    let score_id = self.district.as_ref().map_or(0, |d| d.score_ids[k][j]);
                    self.score_row(df, st, score_id, student, score_values(sc, pj), sc.decimals)?;
                }
            }
        }
        Ok(())
    }

    /// One StudentTestScore row.
    pub(super) fn score_row(
        &mut self,
        df: &mut DistrictFiles,
        student_test: i64,
        score: i64,
        student: i64,
        (num, pct, alpha): (f64, Option<i64>, &str),
        decimals: usize,
    ) -> io::Result<()> {
        let id = self.next("studenttestscore");
        let t = &mut df.student_test_score;
        t.i(id);
        t.i(if self.opts.quirks { id + 900_000 } else { id });
        t.i(student_test);
        t.i(score);
        t.f(num, decimals);
        match pct {
            Some(p) => t.i(p),
            None => t.blank(),
        }
        t.s(alpha);
        t.i(student);
        t.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_scales() {
        let level = &TESTS[test::ELA].scores[1];
        assert_eq!(score_values(level, 0.0), (1.0, None, "Level 1"));
        assert_eq!(score_values(level, 0.999), (5.0, None, "Level 5"));
        let sat = &TESTS[test::SAT].scores[0];
        let (n, pct, alpha) = score_values(sat, 0.5);
        assert_eq!((n, alpha), (1000.0, ""));
        assert_eq!(pct, Some(50));
        let access = &TESTS[test::ACCESS].scores[0];
        assert_eq!(score_values(access, 0.5).0, 3.5);
    }
}
