//! Readiness checks (`ferry check`): rule sets run on the source, read once
//! in a dry run, by a tap on its Arrow batches ([`ChecksTap`]), not a
//! second reader.
//!
//! Two rule sets:
//! - `year-end` (finalize the previous year): enrollments still open in a
//!   closed school year, sections with no stored final grades, completed
//!   courses without a stored grade, school days on which no attendance was
//!   taken, students with no exit code at year end;
//! - `state-reporting`: fields the state needs left empty (the list is the
//!   plan's, with defaults for common state needs).
//!
//! The plan's `[checks]` table ([`ChecksConfig`]) switches rules on and off,
//! says which block and tunes them; [`ChecksConfig::resolve`] turns it into
//! the [`RuleConfig`] the tap runs with. Each [`Finding`] has its rule, a
//! one-line explanation and what to do, whether it blocks, a count, and a
//! few examples by id, file and line: never a value, so no name, birth date
//! or contact detail appears.

mod tap;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use ferry_model::{Date, EntityKind};
use serde::{Deserialize, Serialize};

pub use crate::inventory::Place;
pub use tap::ChecksTap;

/// How many examples a finding lists.
pub const EXAMPLES: usize = 5;

/// The rule sets, by name.
pub const RULE_SETS: [&str; 2] = ["year-end", "state-reporting"];

/// A rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// School enrollments of a closed year with no exit date, or one after
    /// the year's end.
    OpenEnrollments,
    /// Sections of a closed year, with students, and no stored final grade.
    SectionsWithoutFinalGrades,
    /// Completed section enrollments with no stored grade.
    CompletedWithoutGrades,
    /// School days on which a school recorded no attendance.
    DaysWithoutAttendance,
    /// Students whose last enrollment of a closed year has no exit code.
    NoExitCode,
    /// Fields the state needs, left empty.
    RequiredFields,
}

impl Rule {
    /// Every rule, in the order reports list them.
    pub const ALL: [Rule; 6] = [
        Rule::OpenEnrollments,
        Rule::SectionsWithoutFinalGrades,
        Rule::CompletedWithoutGrades,
        Rule::DaysWithoutAttendance,
        Rule::NoExitCode,
        Rule::RequiredFields,
    ];

    /// Its name within its set (the key under `[checks.<set>.rules]`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::OpenEnrollments => "open_enrollments",
            Rule::SectionsWithoutFinalGrades => "sections_without_final_grades",
            Rule::CompletedWithoutGrades => "completed_without_grades",
            Rule::DaysWithoutAttendance => "days_without_attendance",
            Rule::NoExitCode => "no_exit_code",
            Rule::RequiredFields => "required_fields",
        }
    }

    /// Its rule set.
    pub fn set(self) -> &'static str {
        match self {
            Rule::RequiredFields => "state-reporting",
            _ => "year-end",
        }
    }

    /// `<set>.<name>`, as findings show it.
    pub fn id(self) -> String {
        format!("{}.{}", self.set(), self.name())
    }

    /// Whether its findings block by default.
    pub fn blocks_by_default(self) -> bool {
        !matches!(self, Rule::DaysWithoutAttendance)
    }

    /// The entity its findings are about.
    pub fn entity(self) -> &'static str {
        match self {
            Rule::OpenEnrollments | Rule::NoExitCode => "school_enrollments",
            Rule::SectionsWithoutFinalGrades => "sections",
            Rule::CompletedWithoutGrades => "section_enrollments",
            Rule::DaysWithoutAttendance => "calendar_days",
            Rule::RequiredFields => "",
        }
    }

    /// What a finding of it means, in one line.
    pub fn explanation(self) -> &'static str {
        match self {
            Rule::OpenEnrollments => {
                "school enrollments of a closed school year with no exit date, or one after the year's last day: the end-of-year process did not close them"
            }
            Rule::SectionsWithoutFinalGrades => {
                "sections of a closed school year that have students but no stored final grade"
            }
            Rule::CompletedWithoutGrades => {
                "courses students completed (a section enrollment completed, or still active after its year closed) with no stored grade for that student and section or course"
            }
            Rule::DaysWithoutAttendance => "school days on which a school recorded no attendance at all",
            Rule::NoExitCode => {
                "students whose last enrollment of a closed school year has no exit code (promoted, graduated, transferred…)"
            }
            Rule::RequiredFields => "a field the plan lists as required for state reporting is empty",
        }
    }

    /// What to do about it, in one line.
    pub fn action(self) -> &'static str {
        match self {
            Rule::OpenEnrollments => {
                "run the end-of-year process in the old system (or enter the exit dates), then export again"
            }
            Rule::SectionsWithoutFinalGrades => {
                "store the final grades of these sections in the old system (PowerSchool: Permanently Store Grades), then export the stored grades again"
            }
            Rule::CompletedWithoutGrades => {
                "store these grades, or mark the enrollments dropped if no grade is due, then export again"
            }
            Rule::DaysWithoutAttendance => {
                "check attendance was taken those days: take it in the old system, or mark the day not in session in its calendar"
            }
            Rule::NoExitCode => {
                "enter the exit codes of these enrollments in the old system, then export again"
            }
            Rule::RequiredFields => {
                "fill it in the old system, or take it out of [checks.state-reporting] required if the state does not need it"
            }
        }
    }
}

/// How a rule is set in the plan (`[checks.<set>.rules.<rule>]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Whether it runs (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Whether its findings block (default: per rule).
    #[serde(default)]
    pub blocking: Option<bool>,
}

/// `[checks.year-end.rules]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YearEndRules {
    /// `year-end.open_enrollments`.
    #[serde(default)]
    pub open_enrollments: RuleSettings,
    /// `year-end.sections_without_final_grades`.
    #[serde(default)]
    pub sections_without_final_grades: RuleSettings,
    /// `year-end.completed_without_grades`.
    #[serde(default)]
    pub completed_without_grades: RuleSettings,
    /// `year-end.days_without_attendance` (a warning by default).
    #[serde(default)]
    pub days_without_attendance: RuleSettings,
    /// `year-end.no_exit_code`.
    #[serde(default)]
    pub no_exit_code: RuleSettings,
}

/// `[checks.year-end]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YearEndConfig {
    /// The day the checks are as of (default: today): a school year is
    /// closed when all its sessions ended before it.
    #[serde(default, deserialize_with = "date_or_text")]
    pub as_of: Option<Date>,
    /// The closed school years (the year each ends in), instead of those
    /// `as_of` closes.
    #[serde(default)]
    pub closed_years: Option<Vec<i64>>,
    /// The grade kinds that count as stored (default `["transcript"]`: a
    /// PowerSchool StoredGrades row; `final` adds gradebook final grades).
    #[serde(default)]
    pub stored_grade_kinds: Option<Vec<String>>,
    /// Schools recording fewer attendance events a school day, on average,
    /// are not checked day by day (default 5): where only absences are
    /// recorded, a small school has days without any by chance.
    #[serde(default)]
    pub min_daily_attendance: Option<f64>,
    /// Per rule.
    #[serde(default)]
    pub rules: YearEndRules,
}

/// `[checks.state-reporting.rules]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateReportingRules {
    /// `state-reporting.required_fields`.
    #[serde(default)]
    pub required_fields: RuleSettings,
}

/// `[checks.state-reporting]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateReportingConfig {
    /// The fields the state needs, as `entity.field` (default:
    /// [`DEFAULT_REQUIRED`]).
    #[serde(default)]
    pub required: Option<Vec<String>>,
    /// Per rule.
    #[serde(default)]
    pub rules: StateReportingRules,
}

/// The plan's `[checks]` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    /// The rule sets `ferry check` runs when `--rules` is not given
    /// (default: all).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// `[checks.year-end]`.
    #[serde(default, rename = "year-end")]
    pub year_end: YearEndConfig,
    /// `[checks.state-reporting]`.
    #[serde(default, rename = "state-reporting")]
    pub state_reporting: StateReportingConfig,
}

/// The fields common state reports need, checked when the plan lists none.
pub const DEFAULT_REQUIRED: [&str; 11] = [
    "students.state_id",
    "students.birth_date",
    "students.sex",
    "students.grade_level",
    "students.school_id",
    "demographics.hispanic_or_latino",
    "demographics.races",
    "school_enrollments.school_id",
    "school_enrollments.entry_date",
    "school_enrollments.entry_code",
    "school_enrollments.grade_level",
];

/// A date written `"2025-07-01"` or as a bare TOML date `2025-07-01`.
fn date_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    use serde::de::Error;
    let v = Option::<toml::Value>::deserialize(d)?;
    let text = match v {
        None => return Ok(None),
        Some(toml::Value::String(s)) => s,
        Some(toml::Value::Datetime(dt)) => match (dt.date, dt.time) {
            (Some(date), None) => date.to_string(),
            _ => return Err(D::Error::custom("as_of: a date (YYYY-MM-DD), without a time")),
        },
        Some(other) => {
            return Err(D::Error::custom(format!("as_of: a date (YYYY-MM-DD), not {}", other.type_str())));
        }
    };
    Date::parse_iso(&text)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("as_of: {text:?} is not a date (YYYY-MM-DD)")))
}

/// A rule as a run has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleState {
    /// The rule.
    pub rule: Rule,
    /// Whether it runs.
    pub enabled: bool,
    /// Whether its findings block.
    pub blocking: bool,
}

/// What the tap runs with: the plan's `[checks]`, resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// The rule sets run.
    pub sets: Vec<String>,
    /// The day the checks are as of.
    pub as_of: Date,
    /// The closed years as the plan gives them (else `as_of` decides).
    pub closed_years: Option<Vec<i64>>,
    /// Grade kinds that count as stored.
    pub stored_grade_kinds: Vec<String>,
    /// Schools with fewer attendance events a day are not checked day by day.
    pub min_daily_attendance: f64,
    /// Every rule of the sets run.
    pub rules: Vec<RuleState>,
    /// The fields state reporting needs: `(entity, field)`.
    pub required: Vec<(String, String)>,
}

impl RuleConfig {
    /// The state of `rule`, when its set runs and it is enabled.
    pub fn enabled(&self, rule: Rule) -> Option<RuleState> {
        self.rules.iter().find(|r| r.rule == rule && r.enabled).copied()
    }
}

/// A mistake in the `[checks]` table or the rule sets asked for: the message
/// names the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (`checks.state-reporting.required`).
    pub key: String,
    /// The value at fault, when one (to find its line).
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ChecksConfig {
    /// The configuration the tap runs with: the rule sets `sets` (else the
    /// plan's `rules`, else all), as of the plan's `as_of` or `today`.
    pub fn resolve(&self, sets: Option<&[String]>, today: Date) -> Result<RuleConfig, ConfigError> {
        let (sets, key) = match (sets, &self.rules) {
            (Some(s), _) => (s.to_vec(), "--rules"),
            (None, Some(s)) => (s.clone(), "checks.rules"),
            (None, None) => (RULE_SETS.iter().map(|s| (*s).to_owned()).collect(), "checks.rules"),
        };
        if sets.is_empty() {
            return Err(ConfigError {
                key: key.into(),
                value: None,
                message: format!("no rule set given; the rule sets: {}", RULE_SETS.join(", ")),
            });
        }
        for s in &sets {
            if !RULE_SETS.contains(&s.as_str()) {
                return Err(ConfigError {
                    key: key.into(),
                    value: Some(s.clone()),
                    message: format!("unknown rule set '{s}'; the rule sets: {}", RULE_SETS.join(", ")),
                });
            }
        }
        let ye = &self.year_end.rules;
        let settings = |rule: Rule| match rule {
            Rule::OpenEnrollments => ye.open_enrollments,
            Rule::SectionsWithoutFinalGrades => ye.sections_without_final_grades,
            Rule::CompletedWithoutGrades => ye.completed_without_grades,
            Rule::DaysWithoutAttendance => ye.days_without_attendance,
            Rule::NoExitCode => ye.no_exit_code,
            Rule::RequiredFields => self.state_reporting.rules.required_fields,
        };
        let rules = Rule::ALL
            .iter()
            .filter(|r| sets.iter().any(|s| s == r.set()))
            .map(|&rule| {
                let s = settings(rule);
                RuleState {
                    rule,
                    enabled: s.enabled.unwrap_or(true),
                    blocking: s.blocking.unwrap_or_else(|| rule.blocks_by_default()),
                }
            })
            .collect();
        let kinds = self.year_end.stored_grade_kinds.clone().unwrap_or_else(|| vec!["transcript".into()]);
        for k in &kinds {
            if !["term", "final", "transcript"].contains(&k.as_str()) {
                return Err(ConfigError {
                    key: "checks.year-end.stored_grade_kinds".into(),
                    value: Some(k.clone()),
                    message: format!("unknown grade kind '{k}'; the kinds: term, final, transcript"),
                });
            }
        }
        let listed: Vec<String> = self
            .state_reporting
            .required
            .clone()
            .unwrap_or_else(|| DEFAULT_REQUIRED.iter().map(|s| (*s).to_owned()).collect());
        let mut required = Vec::new();
        for item in &listed {
            let bad = |message: String| ConfigError {
                key: "checks.state-reporting.required".into(),
                value: Some(item.clone()),
                message,
            };
            let Some((entity, field)) = item.split_once('.') else {
                return Err(bad(format!("'{item}': write ENTITY.FIELD (students.birth_date)")));
            };
            let Some(kind) = EntityKind::from_name(entity) else {
                let all: Vec<&str> = EntityKind::ALL.iter().map(|k| k.name()).collect();
                return Err(bad(format!(
                    "'{item}': unknown entity '{entity}'; the entities: {}",
                    all.join(", ")
                )));
            };
            if !kind.fields().iter().any(|f| f.name == field) {
                let all: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
                return Err(bad(format!(
                    "'{item}': {entity} has no field '{field}'; its fields: {}",
                    all.join(", ")
                )));
            }
            required.push((entity.to_owned(), field.to_owned()));
        }
        required.dedup();
        let min_daily_attendance = self.year_end.min_daily_attendance.unwrap_or(5.0);
        if min_daily_attendance.is_nan() || min_daily_attendance < 0.0 {
            return Err(ConfigError {
                key: "checks.year-end.min_daily_attendance".into(),
                value: None,
                message: "a number of 0 or more".into(),
            });
        }
        Ok(RuleConfig {
            min_daily_attendance,
            sets,
            as_of: self.year_end.as_of.unwrap_or(today),
            closed_years: self.year_end.closed_years.clone(),
            stored_grade_kinds: kinds,
            rules,
            required,
        })
    }
}

/// Whether a finding stops the migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// It must be fixed (or its rule made non-blocking in the plan).
    Blocking,
    /// Worth a look.
    Warning,
}

/// What a rule found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `<set>.<rule>` (`year-end.open_enrollments`).
    pub rule: String,
    /// The entity of the records it counts.
    pub entity: String,
    /// The field, for a required field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Blocking or warning.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub explanation: String,
    /// What to do, in one line.
    pub action: String,
    /// How many records (or school days, for attendance) it concerns.
    pub count: u64,
    /// The first few, by id with file and line (a school day the data only
    /// implies has no file).
    pub examples: Vec<Place>,
}

/// A rule's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// `<set>.<rule>`.
    pub rule: String,
    /// Its set.
    pub set: String,
    /// Whether it ran.
    pub enabled: bool,
    /// Whether its findings block.
    pub blocking: bool,
    /// What it counted (0: passed).
    pub count: u64,
}

/// Everything a checks run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// The day the checks are as of.
    pub as_of: Date,
    /// The closed school years (the year each ends in).
    pub closed_years: Vec<i64>,
    /// Every rule of the sets run, enabled or not.
    pub rules: Vec<RuleResult>,
    /// What the enabled rules found (rules that found nothing have none).
    pub findings: Vec<Finding>,
    /// How the data was read where it matters (which school days were
    /// checked, what was missing).
    pub notes: Vec<String>,
}

impl Findings {
    /// Findings that block.
    pub fn blocking(&self) -> u64 {
        self.findings.iter().filter(|f| f.severity == Severity::Blocking).map(|f| f.count).sum()
    }
    /// Findings that only warn.
    pub fn warnings(&self) -> u64 {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).map(|f| f.count).sum()
    }
}

/// Counts per rule, for a journal entry.
pub fn counts(findings: &Findings) -> BTreeMap<String, u64> {
    findings.rules.iter().filter(|r| r.enabled).map(|r| (r.rule.clone(), r.count)).collect()
}
