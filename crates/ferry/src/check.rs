//! `ferry check [--from SOURCE] [--rules SET,…]`, in a migration folder: the
//! readiness checks (finalize the previous year). The source is read once
//! through its connector in a dry run (nothing is written), every batch
//! looked at by the host's checks tap (`ferry_host::checks`) with the rules
//! of the plan's `[checks]`; the findings go to `reports/` as JSON and
//! Markdown ([`CheckReport`], from which a page can be rendered too), to the
//! terminal, and to the journal (step `check`). Exit 1 when anything
//! blocks. Findings name records by id, file and line, never by a value.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use ferry_host::checks::{ChecksConfig, Finding, Findings, RuleResult, Severity};
use ferry_model::Date;
use serde::{Deserialize, Serialize};

use crate::UsageError;
use crate::cli::Format;
use crate::freeze::{entity_counts, read_source, source_files};
use crate::project::{Entry, Outcome, PLAN, Project, Step};

/// The part of the plan `ferry check` reads: `[source] from` and `[checks]`;
/// every other key is left to the commands that use it.
#[derive(Debug, Default, Deserialize)]
struct PlanForChecks {
    #[serde(default)]
    source: SourceHead,
    #[serde(default)]
    checks: ChecksConfig,
}

#[derive(Debug, Default, Deserialize)]
struct SourceHead {
    #[serde(default)]
    from: Option<String>,
}

/// A checks run, as its reports hold it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    /// The source, as given to `--from` (or the plan's `[source] from`).
    pub source: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The rule sets run.
    pub rule_sets: Vec<String>,
    /// The day the checks are as of.
    pub as_of: Date,
    /// The closed school years (the year each ends in).
    pub closed_years: Vec<i64>,
    /// `passed`, or `blocked` when a blocking finding was made.
    pub outcome: String,
    /// Records (or school days) found by blocking rules.
    pub blocking: u64,
    /// Records (or school days) found by warning rules.
    pub warnings: u64,
    /// Every rule of the sets run: enabled or not, blocking or not, its count.
    pub rules: Vec<RuleResult>,
    /// What the rules found, each with its explanation, what to do, count and
    /// examples by id, file and line.
    pub findings: Vec<Finding>,
    /// How the data was read where it matters.
    pub notes: Vec<String>,
    /// Per entity: records read, written (none: a dry run), rejected, skipped.
    pub read: serde_json::Value,
    /// The reports written (JSON, Markdown), relative to the folder.
    #[serde(default)]
    pub reports: Vec<String>,
}

/// The line of the plan that holds `"value"`, for an error message.
fn line_of(text: &str, value: &str) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    text.lines().position(|l| l.contains(&quoted) || l.contains(&format!("'{value}'"))).map(|i| i + 1)
}

fn example_list(f: &Finding) -> String {
    f.examples
        .iter()
        .map(|p| {
            if p.file.is_empty() {
                format!("`{}`", p.id)
            } else {
                format!("`{}` ({} line {})", p.id, p.file, p.line)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(f: &Finding) -> &'static str {
    match f.severity {
        Severity::Blocking => "BLOCKING",
        Severity::Warning => "warning",
    }
}

/// The report as a standalone HTML page: the verdict, the counts, each
/// rule's result, and every finding with what to do and its examples by id,
/// file and line (never a value).
fn html(r: &CheckReport, files: &[(&str, &str)]) -> String {
    let years: Vec<String> = r.closed_years.iter().map(i64::to_string).collect();
    let mut page = crate::html::Page::new(&format!("Readiness checks of {}", r.source));
    page.meta(&[
        ("Source", &r.source),
        ("Run", &r.started_at),
        ("Rule sets", &r.rule_sets.join(", ")),
        ("As of", &r.as_of.to_string()),
        ("Closed school years", &if years.is_empty() { "none".to_owned() } else { years.join(", ") }),
    ]);
    let ok = r.blocking == 0;
    page.verdict(
        "outcome",
        ok,
        if ok { "Ready: no finding blocks the migration." } else { "Blocked: fix the blocking findings in the old system (or tune the rules in the plan), then check again." },
    );
    let failing = r.findings.iter().filter(|f| f.severity == Severity::Blocking).count() as u64;
    page.figures(&[
        ("blocking", "Records found by blocking rules", r.blocking),
        ("warnings", "Records found by warning rules", r.warnings),
        ("rules", "Rules run", r.rules.iter().filter(|x| x.enabled).count() as u64),
        ("blocking-findings", "Blocking findings", failing),
    ]);
    page.links("The same report as data", files);
    page.heading("Rules");
    let rows: Vec<Vec<String>> = r
        .rules
        .iter()
        .map(|x| {
            vec![
                x.rule.clone(),
                if !x.enabled {
                    "off".into()
                } else if x.blocking {
                    "blocking".into()
                } else {
                    "warning".into()
                },
                if x.enabled { x.count.to_string() } else { "-".into() },
            ]
        })
        .collect();
    page.table(&["rule", "kind", "found"], &rows);
    let bars: Vec<(String, u64)> =
        r.findings.iter().map(|f| (format!("{} ({})", f.rule, f.entity), f.count)).collect();
    if !bars.is_empty() {
        page.bar_chart("Records found, per finding", &bars);
    }
    page.heading("Findings");
    if r.findings.is_empty() {
        page.para("Nothing found.");
    }
    for f in &r.findings {
        let field = f.field.as_deref().map(|x| format!(" ({x})")).unwrap_or_default();
        page.subheading(&format!("{} {}: {} {}{field}", label(f), f.rule, f.count, f.entity));
        page.para(&f.explanation);
        page.para(&format!("What to do: {}", f.action));
        let examples: Vec<String> = f
            .examples
            .iter()
            .map(|p| {
                if p.file.is_empty() {
                    p.id.clone()
                } else {
                    format!("{} ({} line {})", p.id, p.file, p.line)
                }
            })
            .collect();
        page.ids("For example", &examples);
    }
    if !r.notes.is_empty() {
        page.heading("Notes");
        page.list(&r.notes);
    }
    page.note("Findings name records by id, file and line only: no names, birth dates or contact details.");
    page.finish()
}

/// The report as Markdown.
fn markdown(r: &CheckReport) -> String {
    let mut md = format!("# Readiness checks of {}\n\n", r.source);
    let years: Vec<String> = r.closed_years.iter().map(i64::to_string).collect();
    let _ = writeln!(
        md,
        "Rule sets: {}. As of {}; closed school years (the year each ends in): {}.\n",
        r.rule_sets.join(", "),
        r.as_of,
        if years.is_empty() { "none".into() } else { years.join(", ") }
    );
    let _ = writeln!(md, "**Outcome: {}** ({} blocking, {} warning).\n", r.outcome, r.blocking, r.warnings);
    md.push_str("| rule | on | blocks | found |\n|---|---|---|---:|\n");
    for rule in &r.rules {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            rule.rule,
            if rule.enabled { "yes" } else { "off" },
            if rule.blocking { "yes" } else { "no" },
            if rule.enabled { rule.count.to_string() } else { "-".into() }
        );
    }
    for f in &r.findings {
        let _ = writeln!(md, "\n## {} ({}): {} {}\n", f.rule, label(f), f.count, f.entity);
        let _ = writeln!(md, "{}.\n", f.explanation);
        let _ = writeln!(md, "What to do: {}.\n", f.action);
        let _ = writeln!(md, "For example: {}", example_list(f));
    }
    if !r.notes.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in &r.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

fn print_text(r: &CheckReport) {
    outln!(
        "Checks of {} ({}) as of {}; closed school years: {}",
        r.source,
        r.rule_sets.join(", "),
        r.as_of,
        if r.closed_years.is_empty() {
            "none".to_owned()
        } else {
            r.closed_years.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        }
    );
    outln!();
    for rule in &r.rules {
        if !rule.enabled {
            outln!("{:<44} off (plan.toml)", rule.rule);
            continue;
        }
        let found: Vec<&Finding> = r.findings.iter().filter(|f| f.rule == rule.rule).collect();
        if found.is_empty() {
            outln!("{:<44} passed", rule.rule);
        }
        for f in found {
            let what = f.field.as_deref().unwrap_or(&f.entity);
            outln!("{:<44} {:<8} {:>7} {what}", f.rule, label(f), f.count);
            outln!("    {}", f.explanation);
            outln!("    do: {}", f.action);
            outln!("    e.g. {}", example_list(f).replace('`', ""));
        }
    }
    for n in &r.notes {
        outln!("Note: {n}");
    }
    outln!();
    outln!(
        "Outcome: {} ({} blocking, {} warning). Reports: {}",
        r.outcome,
        r.blocking,
        r.warnings,
        r.reports.join(", ")
    );
}

/// `ferry check`.
pub fn check(
    from: Option<&str>,
    rule_sets: &[String],
    from_set: &[String],
    format: Format,
) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let plan_path = project.root.join(PLAN);
    let text = std::fs::read_to_string(&plan_path)
        .with_context(|| format!("cannot read {}", plan_path.display()))?;
    let plan: PlanForChecks = toml::from_str(&text)
        .map_err(|e| anyhow::Error::new(UsageError(format!("{}: {e}", plan_path.display()))))?;
    let today = Date::parse_iso(started_at.get(..10).unwrap_or_default())
        .map_err(|_| anyhow::anyhow!("cannot read today's date from {started_at}"))?;
    let config = plan.checks.resolve((!rule_sets.is_empty()).then_some(rule_sets), today).map_err(|e| {
        let place = match (&e.value, e.key.starts_with("checks")) {
            (Some(v), true) => line_of(&text, v).map(|l| format!(" line {l}")).unwrap_or_default(),
            _ => String::new(),
        };
        let file = if e.key.starts_with("checks") {
            format!("{}{place}: ", plan_path.display())
        } else {
            String::new()
        };
        anyhow::Error::new(UsageError(format!("{file}{e}")))
    })?;
    let source = match (from, &plan.source.from) {
        (Some(f), _) => f.to_owned(),
        (None, Some(f)) => f.clone(),
        (None, None) => {
            return Err(anyhow::Error::new(UsageError(format!(
                "give the source: ferry check --from PLUGIN[:LOCATION], or [source] from = \"PLUGIN:LOCATION\" in {}",
                plan_path.display()
            ))));
        }
    };

    let tmp = project.root.join(format!("reports/.check-{}.partial", std::process::id()));
    let read = (|| {
        crate::project::private_dir(&tmp)?;
        let config_path = tmp.join("rules.json");
        let findings_path = tmp.join("findings.json");
        crate::freeze::private_write(&config_path, &serde_json::to_string(&config)?)?;
        let report = read_source(
            &source,
            from_set,
            &tmp.join("none.sqlite"),
            &tmp.join("rejects.jsonl"),
            &[
                "--dry-run".as_ref(),
                "--checks".as_ref(),
                config_path.as_os_str(),
                "--checks-out".as_ref(),
                findings_path.as_os_str(),
            ],
        )?;
        let text = std::fs::read_to_string(&findings_path)
            .with_context(|| format!("the dry run wrote no findings ({})", findings_path.display()))?;
        let findings: Findings = serde_json::from_str(&text)?;
        Ok::<_, anyhow::Error>((report, findings))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let mut inputs = source_files(&project, &source).unwrap_or_default();
    inputs.extend(project.hash_inputs(std::slice::from_ref(&plan_path))?);
    let (report, findings) = match read {
        Ok(x) => x,
        Err(e) => {
            record(
                &project,
                started_at,
                inputs,
                serde_json::Value::Null,
                Outcome::Failed,
                Some(format!("{e:#}")),
                None,
            )?;
            return Err(e);
        }
    };
    let (blocking, warnings) = (findings.blocking(), findings.warnings());
    let mut notes = findings.notes.clone();
    let rejected: u64 =
        report["entities"].as_array().into_iter().flatten().filter_map(|e| e["rejected"].as_u64()).sum();
    if rejected > 0 {
        notes.push(format!(
            "{rejected} record(s) could not be read and were not checked (`ferry migrate --from {source} --dry-run` lists them with file, line and reason)"
        ));
    }
    let mut r = CheckReport {
        source: source.clone(),
        started_at: started_at.clone(),
        rule_sets: config.sets.clone(),
        as_of: findings.as_of,
        closed_years: findings.closed_years.clone(),
        outcome: if blocking > 0 { "blocked".into() } else { "passed".into() },
        blocking,
        warnings,
        rules: findings.rules.clone(),
        findings: findings.findings.clone(),
        notes,
        read: entity_counts(&report),
        reports: Vec::new(),
    };
    let stamp = started_at.replace([':', '-'], "");
    // The Markdown first, so the JSON can name both.
    let md = project.write_report(&format!("check-{stamp}.md"), &markdown(&r))?;
    // The JSON takes the Markdown's name (with its `-2` when two runs share a second).
    let json_name = md.trim_start_matches("reports/").trim_end_matches(".md").to_owned() + ".json";
    let html_name = json_name.trim_end_matches(".json").to_owned() + ".html";
    r.reports = vec![format!("reports/{json_name}"), md.clone(), format!("reports/{html_name}")];
    let json = project.write_report(&json_name, &serde_json::to_string_pretty(&r)?)?;
    if json != r.reports[0] {
        // Two runs in one second: the name taken says where it went.
        r.reports[0] = json.clone();
    }
    let page =
        html(&r, &[("JSON", crate::html::file_name(&json)), ("Markdown", crate::html::file_name(&md))]);
    r.reports[2] = project.write_report(&html_name, &page)?;
    let counts = serde_json::json!({
        "rules": ferry_host::checks::counts(&findings),
        "blocking": blocking,
        "warnings": warnings,
        "read": r.read,
    });
    let (outcome, error) = if blocking > 0 {
        (Outcome::Failed, Some(format!("{blocking} blocking finding(s); see {json}")))
    } else {
        (Outcome::Passed, None)
    };
    record(&project, started_at, inputs, counts, outcome, error, Some(json))?;
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&r)?),
        Format::Text => print_text(&r),
    }
    Ok(if blocking > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn record(
    project: &Project,
    started_at: String,
    inputs: Vec<crate::project::Input>,
    counts: serde_json::Value,
    outcome: Outcome,
    error: Option<String>,
    report: Option<String>,
) -> anyhow::Result<()> {
    project.record(&Entry { inputs, counts, error, report, ..Entry::ended(Step::Check, started_at, outcome) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_read_for_its_source_and_checks_only() {
        let text = r#"
[migration]
name = "x"
[source]
from = "powerschool:export/"
connector_setting = "left to others"
[entities.students]
priority = "required"
[checks]
rules = ["year-end"]
[checks.year-end]
as_of = "2025-07-01"
"#;
        let p: PlanForChecks = toml::from_str(text).unwrap();
        assert_eq!(p.source.from.as_deref(), Some("powerschool:export/"));
        assert_eq!(p.checks.rules, Some(vec!["year-end".to_owned()]));
        let bad = toml::from_str::<PlanForChecks>("[checks]\nrule = []\n").unwrap_err().to_string();
        assert!(bad.contains("unknown field `rule`") && bad.contains("line 2"), "{bad}");
        assert_eq!(line_of("a\nrequired = [\"x.y\"]\n", "x.y"), Some(2));
    }

    #[test]
    fn the_checks_a_new_plan_shows_in_comments_are_real_keys_and_defaults() {
        let plan = crate::project::plan_template("x");
        let start = plan.find("# [checks]").unwrap();
        let uncommented: String = plan[start..]
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let p: PlanForChecks = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        let required: Vec<&str> =
            p.checks.state_reporting.required.as_ref().unwrap().iter().map(String::as_str).collect();
        assert_eq!(required, ferry_host::checks::DEFAULT_REQUIRED);
        let config = p.checks.resolve(None, Date::new(2027, 1, 1).unwrap()).unwrap();
        assert_eq!(config.sets, ["year-end", "state-reporting"]);
        assert_eq!(config.as_of, Date::new(2027, 6, 15).unwrap());
        assert!((config.min_daily_attendance - 5.0).abs() < f64::EPSILON);
    }
}
