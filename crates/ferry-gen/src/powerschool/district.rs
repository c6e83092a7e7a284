//! A student's rows of the district tables (with `district_tables`): the
//! special programs (SPEnrollments) and the extension tables
//! (`U_StudentsUserFields`, `S_TX_STU_X`) here; logs and incidents in
//! [`logs`](super::logs), tests in [`assessments`](super::assessments), the
//! GPA to rank in [`rank`](super::rank).
//!
//! Everything here draws from the student's district stream, never from the
//! stream of the core files, so those stay byte for byte the same.

use std::io;

use crate::catalog::{Level, SCHOOLS, YEARS};
use crate::day::Day;
use crate::names;
use crate::rng::Rng;

use super::district_codes::{DISABILITIES, LANGUAGES, MEDICAL, prog};
use super::files::{DistrictFiles, Files};
use super::model::{Gen, Outcome, ProgramSpan, Span};

/// Random streams of a student's district rows and secrets (plus the
/// student's index), apart from the core streams.
pub(super) const DISTRICT_STREAM: u64 = 1 << 40;
pub(super) const SECRETS_STREAM: u64 = 2 << 40;

/// A student as the district tables see it: `(index, ID, DCID)`.
pub(super) type Who = (usize, i64, i64);

/// The span a day falls in (or the first one after it, or the last one).
pub(super) fn span_at(spans: &[Span], d: Day) -> &Span {
    spans
        .iter()
        .find(|s| s.entry <= d && d < s.exit)
        .or_else(|| spans.iter().find(|s| s.entry > d))
        .unwrap_or(
            // Callers pass at least one span.
            &spans[spans.len() - 1],
        )
}

impl Gen {
    /// Every district row of one student.
    pub(super) fn district_student(
        &mut self,
        f: &mut Files,
        rng: &mut Rng,
        who: Who,
        first: &'static str,
        spans: &[Span],
        outcome: &Outcome,
    ) -> io::Result<()> {
        let Some(df) = f.district.as_mut() else { return Ok(()) };
        let programs =
            if spans.is_empty() { Vec::new() } else { self.programs(df, rng, who, spans, outcome)? };
        if !spans.is_empty() {
            self.logs(df, rng, who.1, first, spans)?;
            self.assessments(df, rng, who.1, spans, &programs)?;
            self.rank_student(who.1, spans);
        }
        self.extensions(df, rng, who, spans, &programs)
    }

    /// SPEnrollments: special education, 504, English learners and gifted
    /// once (entered, sometimes exited), Title I for every span at a Title I
    /// school, homelessness for part of a year, free or reduced lunch every
    /// school year.
    fn programs(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        who: Who,
        spans: &[Span],
        outcome: &Outcome,
    ) -> io::Result<Vec<ProgramSpan>> {
        let (first, last) = (&spans[0], &spans[spans.len() - 1]);
        let start = first.entry;
        let end = match outcome {
            Outcome::Left | Outcome::Graduated(_) => Some(last.exit),
            _ => None,
        };
        let horizon = end.unwrap_or(self.as_of);
        // A day of school somewhere in the student's spans (after `after`).
        let some_day = |g: &Gen, rng: &mut Rng, after: Day| -> Option<Day> {
            let candidates: Vec<&Span> = spans.iter().filter(|s| s.exit > after + 30).collect();
            let sp = *candidates.get(rng.index(candidates.len()))?;
            let cal = &g.cals[sp.year];
            let lo = cal.index_of(sp.entry.max(after + 1));
            let hi = cal.index_of(sp.exit.min(g.as_of));
            (lo + 5 < hi).then(|| cal.days[rng.range(lo as i64, hi as i64 - 1) as usize])
        };
        let mut out: Vec<ProgramSpan> = Vec::new();
        let mut codes2: Vec<(&'static str, &'static str, &'static str)> = Vec::new();
        if rng.chance(0.13) {
            let enter = if rng.chance(0.4) { some_day(self, rng, start).unwrap_or(start) } else { start };
            let (exit, exit_code) = match end {
                Some(e) => (Some(e), "WD"),
                None if rng.chance(0.06) => match some_day(self, rng, enter) {
                    Some(d) => (Some(d), "DECL"),
                    None => (None, ""),
                },
                None => (None, ""),
            };
            out.push(ProgramSpan { program: prog::SPED, enter, exit, code1: rng.pick(DISABILITIES) });
            codes2.push((rng.pick(&["01", "02", "03", "04"]), exit_code, "IEP annual review in spring"));
        } else if rng.chance(0.05) {
            let enter = some_day(self, rng, start).unwrap_or(start);
            out.push(ProgramSpan { program: prog::S504, enter, exit: end, code1: "504" });
            codes2.push(("", if end.is_some() { "WD" } else { "" }, "Accommodation plan on file"));
        }
        if rng.chance(0.09) {
            let (exit, exit_code) = match (end, rng.chance(0.35)) {
                (_, true) => match some_day(self, rng, start + 300) {
                    Some(d) => (Some(d), "PROF"),
                    None => (end, if end.is_some() { "WD" } else { "" }),
                },
                (Some(e), false) => (Some(e), "WD"),
                (None, false) => (None, ""),
            };
            out.push(ProgramSpan {
                program: prog::ELL,
                enter: start,
                exit,
                code1: rng.pick(&["ESL", "BIL"]),
            });
            codes2.push((rng.pick(&["SPA", "POR", "POL", "KOR"]), exit_code, ""));
        }
        if let Some(sp) = spans.iter().find(|s| s.grade >= 2)
            && rng.chance(0.07)
        {
            out.push(ProgramSpan { program: prog::GIFTED, enter: sp.entry, exit: end, code1: "GT" });
            codes2.push(("", if end.is_some() { "WD" } else { "" }, ""));
        }
        for sp in spans.iter().filter(|s| matches!(SCHOOLS[s.school].number, 101 | 104)) {
            let open = sp.year == YEARS - 1 && end.is_none();
            out.push(ProgramSpan {
                program: prog::TITLE1,
                enter: sp.entry,
                exit: if open { None } else { Some(sp.exit) },
                code1: "SW",
            });
            codes2.push(("", if open { "" } else { "EY" }, "Schoolwide program"));
        }
        if rng.chance(0.015)
            && let Some(d) = some_day(self, rng, start)
        {
            let sp = span_at(spans, d);
            let exit = (sp.exit <= horizon).then_some(sp.exit);
            out.push(ProgramSpan {
                program: prog::HOMELESS,
                enter: d,
                exit,
                code1: rng.pick(&["DBL", "SHL", "MOT"]),
            });
            codes2.push(("", if exit.is_some() { "EY" } else { "" }, ""));
        }
        if rng.chance(0.35) {
            let mut free = rng.chance(0.77);
            let mut y = usize::MAX;
            for sp in spans {
                if sp.year == y {
                    continue;
                }
                y = sp.year;
                let year_exit = spans.iter().filter(|s| s.year == y).map(|s| s.exit).max().unwrap_or(sp.exit);
                let open = y == YEARS - 1 && end.is_none();
                if rng.chance(0.1) {
                    free = !free;
                }
                out.push(ProgramSpan {
                    program: prog::FRL,
                    enter: sp.entry,
                    exit: if open { None } else { Some(year_exit) },
                    code1: if free { "F" } else { "R" },
                });
                codes2.push(("", "", if rng.chance(0.2) { "Direct certification" } else { "" }));
            }
        }
        let q = self.q();
        for (p, (code2, exit_code, comment)) in out.iter().zip(&codes2) {
            let program = self.district.as_ref().map_or(0, |d| d.programs[p.program]);
            let id = self.next("spenroll");
            let sp = span_at(spans, p.enter);
            let t = &mut df.spenroll;
            t.i(id);
            t.i(if q { id + 70_000 } else { id });
            t.i(who.1);
            t.i(program);
            t.i(SCHOOLS[sp.school].number);
            t.d(p.enter);
            t.dopt(p.exit);
            t.s(p.code1);
            t.s(code2);
            t.s(exit_code);
            t.i(i64::from(sp.grade));
            t.s(comment);
            t.end()?;
        }
        Ok(out)
    }

    /// `U_StudentsUserFields` (most students) and `S_TX_STU_X` (every
    /// student), keyed by the student's DCID.
    fn extensions(
        &mut self,
        df: &mut DistrictFiles,
        rng: &mut Rng,
        who: Who,
        spans: &[Span],
        programs: &[ProgramSpan],
    ) -> io::Result<()> {
        let as_of = self.as_of;
        let active = |p: usize| {
            programs.iter().any(|s| s.program == p && s.enter <= as_of && s.exit.is_none_or(|e| e > as_of))
        };
        let ell = programs.iter().any(|s| s.program == prog::ELL);
        let lep = active(prog::ELL);
        let grade = spans.last().map_or(0, |s| s.grade);
        let high = spans.last().is_some_and(|s| SCHOOLS[s.school].level == Level::High);
        if !rng.chance(0.04) {
            let t = &mut df.u_students;
            t.i(who.2);
            if rng.chance(0.6) {
                t.s(&format!("R{:02}", 1 + rng.below(24)));
                let a = rng.index(names::STREETS.len());
                let b = (a + 1 + rng.index(names::STREETS.len() - 1)) % names::STREETS.len();
                t.s(&format!("{} & {}", names::STREETS[a], names::STREETS[b]));
            } else {
                t.blank();
                t.blank();
            }
            t.b(rng.chance(0.9));
            t.b(rng.chance(0.95));
            t.s(if ell { rng.pick(LANGUAGES) } else { "English" });
            if high || grade >= 9 {
                t.s(rng.pick(&["Standard", "STEM Endorsement", "Career & Technical", ""]));
            } else {
                t.blank();
            }
            t.s(if rng.chance(0.06) { rng.pick(MEDICAL) } else { "" });
            t.end()?;
        }
        let frl = programs.iter().rev().find(|s| s.program == prog::FRL);
        let econ = match frl {
            Some(s) if s.code1 == "F" => "01",
            Some(_) => "02",
            None if active(prog::HOMELESS) => "99",
            None => "00",
        };
        let sped = active(prog::SPED);
        let t = &mut df.s_tx;
        t.i(who.2);
        t.s(econ);
        t.b(lep);
        t.s(if lep { programs.iter().find(|s| s.program == prog::ELL).map_or("", |s| s.code1) } else { "" });
        t.b(sped);
        t.b(active(prog::S504));
        t.b(active(prog::GIFTED));
        t.s(if active(prog::TITLE1) { "6" } else { "0" });
        t.s(match programs.iter().find(|s| s.program == prog::HOMELESS) {
            Some(s) if s.code1 == "SHL" => "2",
            Some(s) if s.code1 == "DBL" => "3",
            Some(_) => "4",
            None => "0",
        });
        t.b(rng.chance(0.003));
        t.s(if rng.chance(0.04) { rng.pick(&["1", "2"]) } else { "0" });
        t.b(rng.chance(0.03));
        t.b(econ != "00" || lep || sped || rng.chance(0.1));
        t.end()
    }
}
