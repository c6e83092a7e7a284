//! `ferry check` (issue 10, readiness checks) on a generated PowerSchool
//! district: what each rule finds, the problems the test puts in and the
//! checks then find by id, file and line, rules switched off in the plan,
//! the exit codes, the journal, and no name or birth date in the reports.

use std::path::Path;

use crate::support::*;

/// A tab-separated export file: its header and rows, and whether its lines
/// end in CRLF.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    crlf: bool,
}

impl Table {
    fn read(path: &Path) -> Table {
        let text = read(path);
        let crlf = text.contains("\r\n");
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let header = lines.next().unwrap().split('\t').map(str::to_owned).collect();
        let rows = lines.map(|l| l.split('\t').map(str::to_owned).collect()).collect();
        Table { header, rows, crlf }
    }
    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} in {:?}", self.header))
    }
    fn write(&self, path: &Path) {
        let end = if self.crlf { "\r\n" } else { "\n" };
        let mut text = self.header.join("\t") + end;
        for r in &self.rows {
            text.push_str(&r.join("\t"));
            text.push_str(end);
        }
        std::fs::write(path, text).unwrap();
    }
}

fn finding<'a>(report: &'a serde_json::Value, rule: &str) -> Option<&'a serde_json::Value> {
    report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == rule)
}

fn field_finding<'a>(report: &'a serde_json::Value, field: &str) -> Option<&'a serde_json::Value> {
    report["findings"].as_array().unwrap().iter().find(|f| f["field"] == field)
}

fn count(report: &serde_json::Value, rule: &str) -> u64 {
    finding(report, rule).map_or(0, |f| f["count"].as_u64().unwrap())
}

fn example_ids(f: &serde_json::Value) -> Vec<String> {
    f["examples"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

const PLAN: &str = r#"[migration]
name = "checks"

[source]
from = "powerschool:export/ferry-source.toml"
some_key_another_command_reads = true

[checks.year-end]
# After the generated district's 2024-25 school year, before 2025-26.
as_of = "2025-07-15"
# A small district: every school is checked day by day.
min_daily_attendance = 0
"#;

fn check(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    ferry(dir, &[plugins_dir()], &all)
}

#[test]
fn check_finds_what_the_year_and_the_state_leave_undone_by_id_and_line_only() {
    let MigrationFolder { tmp: _tmp, dir, export } = migration_folder(None, 40, 11, false);
    std::fs::write(dir.join("plan.toml"), PLAN).unwrap();

    // The district as generated: the source comes from the plan's [source].
    let before = check(&dir, &[]);
    assert_eq!(before.code, Some(1), "the current year is not finalized: {}", before.stderr);
    let before = before.json();
    assert_eq!(before["outcome"], "blocked");
    assert_eq!(before["source"], "powerschool:export/ferry-source.toml");
    assert_eq!(before["as_of"], "2025-07-15");
    assert!(before["closed_years"].as_array().unwrap().contains(&serde_json::json!(2025)), "{before}");
    assert!(!before["closed_years"].as_array().unwrap().contains(&serde_json::json!(2026)), "{before}");
    for rule in [
        "year-end.sections_without_final_grades",
        "year-end.completed_without_grades",
        "year-end.no_exit_code",
    ] {
        let f = finding(&before, rule).unwrap_or_else(|| panic!("{rule}: {before}"));
        assert!(f["count"].as_u64().unwrap() > 0);
        assert_eq!(f["severity"], "blocking");
        assert!(!f["explanation"].as_str().unwrap().is_empty() && !f["action"].as_str().unwrap().is_empty());
        let examples = f["examples"].as_array().unwrap();
        assert!(!examples.is_empty() && examples.len() <= 5, "{f}");
        for e in examples {
            assert!(e["file"].as_str().unwrap().ends_with(".txt") && e["line"].as_u64().unwrap() > 1, "{e}");
        }
    }
    let rules: Vec<&str> =
        before["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules.len(), 6, "both rule sets by default: {rules:?}");

    // Put problems in: one enrollment of a closed year left open, a closed
    // year's section whose stored grades are gone, a school day whose
    // attendance is gone, a student without a state id.
    let path = export.join("reenrollments.txt");
    let mut re = Table::read(&path);
    let (exit, entry, re_id) = (re.col("ExitDate"), re.col("EntryDate"), re.col("DCID"));
    let row = re
        .rows
        .iter()
        .position(|r| r[entry].ends_with("/2023") && !r[exit].is_empty())
        .expect("a 2023 entry");
    re.rows[row][exit].clear();
    let open_id = re.rows[row][re_id].clone();
    re.write(&path);

    let path = export.join("storedgrades.txt");
    let mut sg = Table::read(&path);
    let (sec, term) = (sg.col("SectionID"), sg.col("TermID"));
    let section = sg
        .rows
        .iter()
        .find(|r| r[term].starts_with("33") && r[sec].parse::<i64>().is_ok_and(|s| s > 0))
        .map(|r| r[sec].clone())
        .expect("a stored grade of 2023-24");
    let grades_before = sg.rows.len();
    sg.rows.retain(|r| r[sec] != section);
    let removed = grades_before - sg.rows.len();
    sg.write(&path);

    let path = export.join("attendance.txt");
    let mut att = Table::read(&path);
    let (school, date) = (att.col("SchoolID"), att.col("Att_Date"));
    let first = att.rows.iter().find(|r| r[date].ends_with("2024")).expect("attendance in 2024").clone();
    att.rows.retain(|r| !(r[school] == first[school] && r[date] == first[date]));
    att.write(&path);

    let path = export.join("students.txt");
    let mut st = Table::read(&path);
    let (state, st_id) = (st.col("State_StudentNumber"), st.col("DCID"));
    st.rows[0][state].clear();
    let no_state_id = st.rows[0][st_id].clone();
    let names = [st.rows[0][st.col("Last_Name")].clone(), st.rows[0][st.col("First_Name")].clone()];
    let dob = st.rows[0][st.col("DOB")].clone();
    st.write(&path);

    let run = check(&dir, &["--from", "powerschool:export/ferry-source.toml"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let after = run.json();
    let open = finding(&after, "year-end.open_enrollments").unwrap_or_else(|| panic!("{after}"));
    assert_eq!(count(&after, "year-end.open_enrollments"), count(&before, "year-end.open_enrollments") + 1);
    assert!(example_ids(open).contains(&open_id) || open["count"].as_u64().unwrap() > 5, "{open}");
    assert_eq!(
        count(&after, "year-end.sections_without_final_grades"),
        count(&before, "year-end.sections_without_final_grades") + 1,
        "section {section} lost its stored grades"
    );
    assert_eq!(
        count(&after, "year-end.completed_without_grades"),
        count(&before, "year-end.completed_without_grades") + removed as u64,
        "each of its students' completed course lost its grade"
    );
    assert_eq!(
        count(&after, "year-end.days_without_attendance"),
        count(&before, "year-end.days_without_attendance") + 1,
        "school {} on {} has no attendance left",
        first[school],
        first[date]
    );
    assert_eq!(finding(&after, "year-end.days_without_attendance").unwrap()["severity"], "warning");
    assert!(after["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("calendar")));
    let state_id = field_finding(&after, "students.state_id").unwrap_or_else(|| panic!("{after}"));
    assert_eq!(example_ids(state_id)[0], no_state_id);
    assert_eq!(state_id["examples"][0]["file"], "students.txt");
    assert_eq!(state_id["examples"][0]["line"], 2);

    // Names and birth dates never appear in the reports or the output.
    let (m, d, y) = {
        let p: Vec<&str> = dob.split('/').collect();
        (p[0].parse::<u32>().unwrap(), p[1].parse::<u32>().unwrap(), p[2])
    };
    let iso = format!("{y}-{m:02}-{d:02}");
    let reports: Vec<String> =
        after["reports"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
    assert_eq!(reports.len(), 3);
    assert!(
        reports[0].ends_with(".json") && reports[1].ends_with(".md") && reports[2].ends_with(".html"),
        "{reports:?}"
    );
    for r in &reports {
        let text = read(&dir.join(r));
        for pii in names.iter().chain([&dob, &iso]) {
            assert!(!text.contains(pii.as_str()), "{pii} in {r}");
        }
    }
    for pii in names.iter().chain([&dob, &iso]) {
        assert!(!run.stdout.contains(pii.as_str()), "{pii} in the output");
    }
    let md = read(&dir.join(&reports[1]));
    assert!(md.contains("year-end.open_enrollments") && md.contains("What to do:"), "{md}");

    // The journal: step check, failed (it blocks), with counts and the report.
    let entries = jsonl(&dir.join("journal.jsonl"));
    let last = entries.last().unwrap();
    assert_eq!(last["step"], "check");
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["report"], reports[0]);
    assert!(last["counts"]["blocking"].as_u64().unwrap() > 0);
    assert_eq!(
        last["counts"]["rules"]["year-end.open_enrollments"],
        count(&after, "year-end.open_enrollments")
    );
    assert!(last["inputs"].as_array().unwrap().iter().any(|i| i["path"] == "export/students.txt"));
    assert!(last["inputs"].as_array().unwrap().iter().any(|i| i["path"] == "plan.toml"));

    // Rules switched off or made warnings in the plan: nothing blocks, exit 0.
    std::fs::write(
        dir.join("plan.toml"),
        format!(
            "{PLAN}[checks.year-end.rules.open_enrollments]\nenabled = false\n\
             [checks.year-end.rules.sections_without_final_grades]\nenabled = false\n\
             [checks.year-end.rules.completed_without_grades]\nblocking = false\n\
             [checks.year-end.rules.no_exit_code]\nenabled = false\n"
        ),
    )
    .unwrap();
    let run = check(&dir, &["--rules", "year-end"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let off = run.json();
    assert_eq!(off["outcome"], "passed");
    assert_eq!(off["rule_sets"], serde_json::json!(["year-end"]));
    assert!(finding(&off, "year-end.open_enrollments").is_none());
    let rule =
        off["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "year-end.open_enrollments").unwrap();
    assert_eq!(rule["enabled"], false);
    assert_eq!(finding(&off, "year-end.completed_without_grades").unwrap()["severity"], "warning");
    assert!(field_finding(&off, "students.state_id").is_none(), "state-reporting was not asked for");
    let text = ferry(&dir, &[plugins_dir()], &["status", "--format", "json"]);
    text.ok();
    let status = text.json();
    let step = status["steps"].as_array().unwrap().iter().find(|s| s["step"] == "check").unwrap();
    assert_eq!(step["state"], "passed", "{status}");

    // The state's list in the plan: an unknown field is a usage error naming the key and line.
    std::fs::write(
        dir.join("plan.toml"),
        format!(
            "{PLAN}[checks.state-reporting]\nrequired = [\"students.state_id\", \"students.bith_date\"]\n"
        ),
    )
    .unwrap();
    let bad = check(&dir, &[]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("plan.toml line 14")
            && bad.stderr.contains("checks.state-reporting.required")
            && bad.stderr.contains("bith_date"),
        "{}",
        bad.stderr
    );
    std::fs::write(
        dir.join("plan.toml"),
        format!("{PLAN}[checks.year-end.rules.open_enrolments]\nenabled = false\n"),
    )
    .unwrap();
    let bad = check(&dir, &[]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("open_enrolments") && bad.stderr.contains("line"), "{}", bad.stderr);
    std::fs::write(dir.join("plan.toml"), PLAN).unwrap();
    let bad = check(&dir, &["--rules", "year-ends"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("unknown rule set 'year-ends'"), "{}", bad.stderr);
    assert!(
        !dir.join("none.sqlite").exists() && !export.join("ferry-archive.sqlite").exists(),
        "a check writes no data"
    );
}
