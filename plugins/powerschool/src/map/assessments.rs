//! Test → assessments, TestScore (a lookup of the scores' names),
//! StudentTest → student assessments (the sittings), StudentTestScore →
//! assessment scores.
//!
//! A StudentTestScore row can hold three results of one score: AlphaScore
//! (a level), NumScore (a raw or scale score) and PercentScore (a
//! percentile). Its counted pass makes one score of the first there
//! (AlphaScore, else NumScore, else PercentScore), with the row's id; two
//! more passes make the others, with ids `<id>:NumScore` and
//! `<id>:PercentScore`, as the model wants one score record per result.

use std::collections::HashSet;

use ferry_sdk::model::{Assessment, AssessmentScore, Code, ReportingMethod, StudentAssessment};
use ferry_sdk::{BatchBuilder, Error};

use crate::columns::columns;
use crate::fields::Fields;
use crate::ids::{dcid_or_id, dcid_or_id_str, id_alts};
use crate::lookups::{IdMap, Lookups, ParentKey, RejectedRow};
use crate::map::joins;
use crate::row::{Bad, Ctx, RowOutcome};
use crate::values::{self, grade_level, int};

/// Why a sitting's test is missing.
pub const NO_TEST: &str = "the test is not among the tests read";
/// Why a score's sitting is missing, when it was not read at all.
pub const NO_SITTING: &str = "the student test is not among the student tests read";

/// A TestScore row: the name of a score, and what it says about the score.
#[derive(Clone, Debug, Default)]
pub struct ScoreName {
    /// `Name`.
    pub name: Option<Box<str>>,
    /// `Description`.
    pub desc: Box<str>,
}

/// StudentTest.ID → the sitting's source id: compact pairs when both fit
/// 32 bits (memory grows with sittings by 8 bytes each), a map otherwise.
#[derive(Debug, Default)]
pub struct Sittings {
    small: Vec<(u32, u32)>,
    big: IdMap<String>,
    sorted: bool,
}

impl Sittings {
    /// Remembers sitting `id`, whose source id is `source`.
    pub fn add(&mut self, id: i64, source: &str) {
        match (u32::try_from(id), source.parse::<u32>()) {
            (Ok(i), Ok(s)) if s.to_string() == source => {
                self.small.push((i, s));
                self.sorted = false;
            }
            _ => {
                self.big.insert(id, source.to_owned());
            }
        }
    }

    /// Sorts the pairs (cheap when already in order).
    pub fn seal(&mut self) {
        if !self.sorted {
            self.small.sort_by_key(|p| p.0);
            self.small.shrink_to_fit();
            self.sorted = true;
        }
    }

    /// The source id of sitting `id` (after [`Sittings::seal`]).
    pub fn get(&self, id: i64) -> Option<String> {
        if let Ok(small) = u32::try_from(id)
            && let Ok(i) = self.small.binary_search_by_key(&small, |p| p.0)
        {
            return Some(self.small[i].1.to_string());
        }
        self.big.get(&id).cloned()
    }
}

/// What the assessment passes remember.
#[derive(Debug, Default)]
pub struct AssessmentLookups {
    /// Test.ID → the assessment's source id.
    pub tests: IdMap<String>,
    /// TestScore by ID.
    pub scores: IdMap<ScoreName>,
    /// The sittings read.
    pub sittings: Sittings,
    /// StudentTestScore rows (file, line) rejected in their counted pass:
    /// the passes for their further results leave them alone.
    pub rejected_scores: HashSet<(String, u64)>,
}

/// Sorts the sittings before scores are read.
pub fn seal_sittings(lk: &mut Lookups) {
    lk.tests.sittings.seal();
}

columns!(test_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    NAME = ["name"] Yes,
    TYPE = ["testtype"] Yes,
});

/// A Test row → an assessment (id DCID, else ID): Name is the title,
/// TestType (as written) the category.
pub fn test(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use test_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let rec = (|| {
        let id = dcid_or_id(f, c::DCID, c::ID).ok_or_else(|| Bad::row("the row has no DCID or ID"))?;
        let title = f.trimmed(c::NAME).ok_or_else(|| Bad::at(f, c::NAME, "the test's Name is missing"))?;
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        Ok(Assessment {
            meta,
            title: title.to_owned(),
            category: f.trimmed(c::TYPE).map(str::to_owned),
            ..Assessment::default()
        })
    })();
    let outcome = ctx.emit(out, rec)?;
    if outcome == RowOutcome::Record
        && let Some(n) = f.get(c::ID).and_then(int)
    {
        lk.tests.tests.insert(n, ctx.id.clone());
    }
    Ok(outcome)
}

columns!(score_name_cols {
    ID = ["id"] Yes,
    NAME = ["name"] Yes,
    DESC = ["description"] Yes,
});

/// A TestScore row → the score names lookup.
pub fn score_name_row(ctx: &Ctx<'_>, f: &Fields<'_>, lk: &mut Lookups) -> Result<(), Bad> {
    use score_name_cols as c;
    let id = ctx.need(f, c::ID, "ID")?;
    let s = ScoreName {
        name: f.trimmed(c::NAME).map(Into::into),
        desc: f.trimmed(c::DESC).unwrap_or_default().into(),
    };
    lk.tests.scores.insert(id, s);
    Ok(())
}

columns!(sitting_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
    TESTID = ["testid"] Yes,
    DATE = ["testdate"] Yes,
    GRADE = ["gradelevel"] Yes,
    SCHOOLID = ["schoolid"] Yes,
    TERMID = ["termid"] Yes,
});

/// A StudentTest row → a student assessment (id DCID, else ID, else
/// `<student>:<test>:<Test_Date>`): its school year is TermID's year.
pub fn sitting(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &mut Lookups,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use sitting_cols as c;
    ctx.set_id(dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default());
    let rec = (|| {
        let stu = lk.students.id(joins::student(f, lk, c::STUDENTID, c::NUMBER)?).to_owned();
        let test = ctx.need(f, c::TESTID, "TestID")?;
        let assessment = lk.tests.tests.get(&test).ok_or_else(|| Bad::at(f, c::TESTID, NO_TEST))?.clone();
        let id = dcid_or_id(f, c::DCID, c::ID)
            .unwrap_or_else(|| format!("{stu}:{assessment}:{}", f.trimmed(c::DATE).unwrap_or_default()));
        let date = ctx.opt_date(f, c::DATE, "date");
        let school = ctx.opt_int(f, c::SCHOOLID, "school_id");
        let known = school.filter(|s| lk.schools.contains_key(s));
        let term = ctx.opt_int(f, c::TERMID, "school_year");
        let mut meta = ctx.meta(id);
        id_alts(&mut meta, f, c::DCID, c::ID);
        f.ext_into(&mut meta);
        if school.is_some() && known.is_none() {
            f.keep(c::SCHOOLID, &mut meta);
        }
        Ok(StudentAssessment {
            meta,
            student_id: Some(stu),
            assessment_id: Some(assessment),
            date,
            administered_at: None,
            grade_level: f.get(c::GRADE).map(grade_level),
            school_id: known.map(|s| s.to_string()),
            school_year: term.map(|t| values::school_year_of_yearid(t.abs() / 100)),
        })
    })();
    let outcome = ctx.emit(out, rec)?;
    if outcome == RowOutcome::Record
        && let Some(n) = f.get(c::ID).and_then(int)
    {
        lk.tests.sittings.add(n, &ctx.id);
    }
    Ok(outcome)
}

/// Notes the key of a rejected StudentTest row.
pub fn sitting_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    if let Some(n) = f.get(sitting_cols::ID).and_then(int) {
        lk.rejected.note(ParentKey::StudentTestId(n), at);
    }
}

columns!(score_cols {
    ID = ["id"] Yes,
    DCID = ["dcid"] Yes,
    SITTING = ["studenttestid"] Yes,
    SCORE = ["testscoreid"] No,
    NUM = ["numscore"] Yes,
    PERCENT = ["percentscore"] Yes,
    ALPHA = ["alphascore"] Yes,
    STUDENTID = ["studentid"] Yes,
    NUMBER = ["students.studentnumber", "studentnumber"] Yes,
});

/// Which result of a StudentTestScore row a score record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreResult {
    /// The first result there (AlphaScore, else NumScore, else
    /// PercentScore): the counted pass.
    First,
    /// NumScore, when AlphaScore came first.
    Num,
    /// PercentScore, when AlphaScore or NumScore came first.
    Percent,
}

/// How a NumScore is reported, by what the TestScore row says of it.
fn num_method(s: Option<&ScoreName>) -> ReportingMethod {
    let text = s
        .map_or_else(String::new, |s| format!("{} {}", s.name.as_deref().unwrap_or_default(), s.desc))
        .to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| text.contains(w));
    if has(&["level", "proficien"]) {
        ReportingMethod::ProficiencyLevel
    } else if has(&["percentile"]) {
        ReportingMethod::Percentile
    } else if has(&["lexile"]) {
        ReportingMethod::Lexile
    } else if has(&["quantile"]) {
        ReportingMethod::Quantile
    } else if has(&["composite"]) {
        ReportingMethod::Composite
    } else if has(&["stanine"]) {
        ReportingMethod::Stanine
    } else if has(&["scale"]) {
        ReportingMethod::ScaleScore
    } else {
        ReportingMethod::RawScore
    }
}

/// A StudentTestScore row → one of its results as an assessment score of
/// its sitting (see the module documentation), named by its TestScore
/// row. The result is the value as written; NumScore and PercentScore are
/// also exact decimals. The row's student (a StudentID column) must be
/// among the students read.
pub fn score(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    lk: &Lookups,
    which: ScoreResult,
    out: &mut BatchBuilder,
) -> Result<RowOutcome, Error> {
    use score_cols as c;
    let (alpha, num, pct) = (f.get(c::ALPHA).is_some(), f.get(c::NUM).is_some(), f.get(c::PERCENT).is_some());
    let col = match which {
        ScoreResult::First if alpha => c::ALPHA,
        ScoreResult::First if num => c::NUM,
        ScoreResult::First => c::PERCENT,
        ScoreResult::Num if alpha && num => c::NUM,
        ScoreResult::Percent if (alpha || num) && pct => c::PERCENT,
        _ => return Ok(RowOutcome::Skip),
    };
    let rejected = &lk.tests.rejected_scores;
    if which != ScoreResult::First
        && !rejected.is_empty()
        && rejected.contains(&(ctx.file.to_owned(), ctx.line))
    {
        return Ok(RowOutcome::Skip);
    }
    let base = dcid_or_id_str(f, c::DCID, c::ID).unwrap_or_default();
    let suffix = match which {
        ScoreResult::First => "",
        ScoreResult::Num => ":NumScore",
        ScoreResult::Percent => ":PercentScore",
    };
    ctx.set_id(&format!("{base}{suffix}"));
    let rec = (|| {
        if f.has(c::STUDENTID) || f.has(c::NUMBER) {
            joins::student(f, lk, c::STUDENTID, c::NUMBER)?;
        }
        let sitting_id = ctx.need(f, c::SITTING, "StudentTestID")?;
        let sitting = lk.tests.sittings.get(sitting_id).ok_or_else(|| {
            Bad::at(
                f,
                c::SITTING,
                lk.rejected.why(&ParentKey::StudentTestId(sitting_id), "student test", NO_SITTING),
            )
        })?;
        let result = f.trimmed(col).ok_or_else(|| {
            Bad::row("the row has no result (AlphaScore, NumScore and PercentScore are blank)")
        })?;
        let id = match dcid_or_id(f, c::DCID, c::ID) {
            Some(i) => format!("{i}{suffix}"),
            None => {
                let score = f.trimmed(c::SCORE).unwrap_or_default();
                format!("{sitting}:{score}{suffix}")
            }
        };
        let name = f.get(c::SCORE).and_then(int).and_then(|s| lk.tests.scores.get(&s));
        let (method, original) = match col {
            c::ALPHA => (ReportingMethod::ProficiencyLevel, "AlphaScore"),
            c::NUM => (num_method(name), "NumScore"),
            _ => (ReportingMethod::Percentile, "PercentScore"),
        };
        let value = if col == c::ALPHA { None } else { ctx.opt_decimal(f, col, "value") };
        let mut meta = ctx.meta(id);
        if which == ScoreResult::First {
            id_alts(&mut meta, f, c::DCID, c::ID);
        }
        f.ext_into(&mut meta);
        Ok(AssessmentScore {
            meta,
            student_assessment_id: Some(sitting),
            name: name.and_then(|n| n.name.as_deref()).map(str::to_owned),
            method: Some(Code::mapped(method, original)),
            result: Some(result.to_owned()),
            value,
        })
    })();
    ctx.emit(out, rec)
}

/// Notes a rejected StudentTestScore row, for the passes after it.
pub fn score_rejected(_: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    lk.tests.rejected_scores.insert((at.file.clone(), at.line));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sittings_by_id() {
        let mut s = Sittings::default();
        s.add(3, "400003");
        s.add(1, "400001");
        s.add(5_000_000_000, "7");
        s.add(2, "A-2");
        s.add(4, "004");
        s.seal();
        assert_eq!(s.get(1).as_deref(), Some("400001"));
        assert_eq!(s.get(3).as_deref(), Some("400003"));
        assert_eq!(s.get(5_000_000_000).as_deref(), Some("7"));
        assert_eq!(s.get(2).as_deref(), Some("A-2"));
        assert_eq!(s.get(4).as_deref(), Some("004"));
        assert_eq!(s.get(9), None);
    }

    #[test]
    fn methods() {
        let n = |name: &str, desc: &str| {
            num_method(Some(&ScoreName { name: Some(name.into()), desc: desc.into() }))
        };
        assert_eq!(n("ELA Scale Score", "Scale score"), ReportingMethod::ScaleScore);
        assert_eq!(n("ELA Performance Level", "Performance level"), ReportingMethod::ProficiencyLevel);
        assert_eq!(n("Overall Composite", "Overall proficiency level"), ReportingMethod::ProficiencyLevel);
        assert_eq!(n("PSAT Total", "Total score"), ReportingMethod::RawScore);
        assert_eq!(n("Reading", "Reading scale score"), ReportingMethod::ScaleScore);
        assert_eq!(num_method(None), ReportingMethod::RawScore);
    }
}
