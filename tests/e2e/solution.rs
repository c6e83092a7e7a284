//! The whole migration workflow on a generated district (issue 10's "done
//! when"): init → inventory → plan init → the plan edited → plan check
//! (a broken plan named at its line) → check → freeze → a source row changed and
//! named by freeze verify → migrate from the snapshot to a sandbox (dry run,
//! then for real) → verify → status; and a wrong crosswalk entry that verify
//! names the records of.

use std::path::Path;

use crate::support::*;

fn run(dir: &Path, args: &[&str]) -> Run {
    ferry(dir, &[plugins_dir()], args)
}

/// The 1-based line of the first line of `text` starting with `prefix`.
fn line_starting(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{text}"))
        + 1
}

/// Rewrites one cell of a tab-separated PowerSchool export; returns the old value.
fn set_cell(file: &Path, row: usize, column: &str, value: &str) -> (String, String) {
    let text = read(file);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let col = header.iter().position(|h| h == column).unwrap();
    let id_col = header.iter().position(|h| h == "ID").unwrap();
    let mut cells: Vec<String> = lines[row].split('\t').map(str::to_owned).collect();
    let old = std::mem::replace(&mut cells[col], value.to_owned());
    let id = cells[id_col].clone();
    lines[row] = cells.join("\t");
    std::fs::write(file, lines.join("\r\n") + "\r\n").unwrap();
    (id, old)
}

#[test]
fn the_whole_migration_from_inventory_to_verify() {
    let MigrationFolder { tmp: _tmp, dir, export } =
        migration_folder(Some("Lakeview to NewSIS"), 40, 11, false);
    // A grade level nobody knows the meaning of.
    let students_txt = export.join("students.txt");
    let (odd_student, _) = set_cell(&students_txt, 3, "Grade_Level", "77");
    let from = "powerschool:export/ferry-source.toml";

    run(&dir, &["inventory", "--from", from]).ok();
    let drafted = run(&dir, &["plan", "init", "--to", "csv:sandbox/", "--format", "json"]);
    drafted.ok();
    assert!(drafted.json()["flagged"].as_u64().unwrap() >= 1, "{}", drafted.stdout);
    let plan_path = dir.join("plan.toml");
    let plan = read(&plan_path);
    assert!(plan.contains("[source]\nfrom = \"powerschool:export/ferry-source.toml\""), "{plan}");
    assert!(plan.contains("[destinations.sandbox]\nto = \"csv:sandbox/\""), "{plan}");
    assert!(plan.contains("77 = \"?\" # FLAG: 1 records; meaning unknown"), "{plan}");
    assert!(plan.contains("F = \"female\""), "{plan}");

    // The open question blocks, at its line.
    let check = run(&dir, &["plan", "check"]);
    assert_eq!(check.code, Some(1), "{}{}", check.stdout, check.stderr);
    let table = line_starting(&plan, "[crosswalks.students.grade_level]");
    let at = table + line_starting(&plan.lines().skip(table).collect::<Vec<_>>().join("\n"), "77 = ");
    assert!(
        check.stdout.contains(&format!(
            "plan.toml:{at}: error: open question: what does students.grade_level '77' mean"
        )),
        "{}",
        check.stdout
    );
    assert_eq!(step(&run(&dir, &["status", "--format", "json"]).json(), "plan")["state"], "failed");

    // The test edits the plan as a person would: answers the question, drops
    // the calendar, keeps active students only, maps a field; and makes a typo.
    let mut plan: String = plan
        .lines()
        .map(|l| match l.split_once(" = \"?\"") {
            Some(("77", _)) => "77 = \"12\" # answered: the old code for seniors".to_owned(),
            Some((k, _)) => format!("{k} = \"Other\" # answered: kept as Other"),
            None => l.to_owned(),
        })
        .map(|l| l + "\n")
        .collect();
    plan = plan.replace(
        "[entities.calendar_days]\npriority = \"required\"",
        "[entities.calendar_days]\npriority = \"not_needed\"\nreason = \"the new SIS builds its own calendar\"",
    );
    plan = plan.replacen("[filters]\n", "[filters]\nactive_students_only = true\n", 1);
    plan.push_str("\n[entities.students.fields.state_idd]\ntransforms = [\"trim\"]\n");
    std::fs::write(&plan_path, &plan).unwrap();
    let check = run(&dir, &["plan", "check", "--format", "json"]);
    assert_eq!(check.code, Some(1));
    let report = check.json();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["line"], line_starting(&plan, "[entities.students.fields.state_idd]"), "{report}");
    assert!(problems[0]["message"].as_str().unwrap().contains("students has no field 'state_idd'"));
    let plan =
        plan.replace("state_idd]\ntransforms = [\"trim\"]", "state_id]\ntransforms = [\"trim\", \"upper\"]");
    std::fs::write(&plan_path, &plan).unwrap();
    let check = run(&dir, &["plan", "check"]);
    check.ok();
    assert!(check.stdout.contains("The plan is ready"), "{}", check.stdout);
    // What the user wrote stays when the plan is drafted again.
    run(&dir, &["plan", "init", "--to", "sandbox"]).ok();
    let again = read(&plan_path);
    assert!(again.contains("77 = \"12\" # answered: the old code for seniors"), "{again}");
    assert!(again.contains("reason = \"the new SIS builds its own calendar\""));
    assert_eq!(again.matches("[entities.students]").count(), 1);

    // The Solution Document for people.
    let render = run(&dir, &["plan", "render", "--format", "json"]);
    render.ok();
    let md = read(&dir.join(render.json()["reports"][0].as_str().unwrap()));
    for want in [
        "# Solution Document: Lakeview to NewSIS",
        "**calendar_days**: the new SIS builds its own calendar",
        "| `77` | `12` |",
        "only active students",
        "## Open questions\n\nNone",
    ] {
        assert!(md.contains(want), "{want:?} not in:\n{md}");
    }

    // Readiness: the generated district was never closed out; the checks
    // block, and the plan records what the district accepts for the sandbox.
    let check = run(&dir, &["check", "--format", "json"]);
    assert_eq!(check.code, Some(1), "{}", check.stderr);
    assert!(check.json()["blocking"].as_u64().unwrap() > 0);
    let mut plan = plan;
    plan.push_str(
        "\n[checks.year-end.rules.no_exit_code]\nblocking = false # accepted for the sandbox test\n\
         [checks.year-end.rules.open_enrollments]\nblocking = false\n\
         [checks.year-end.rules.sections_without_final_grades]\nblocking = false\n\
         [checks.year-end.rules.completed_without_grades]\nblocking = false\n\
         [checks.state-reporting]\nrequired = [\"students.grade_level\", \"students.school_id\"]\n",
    );
    std::fs::write(&plan_path, &plan).unwrap();
    let check = run(&dir, &["check", "--format", "json"]);
    check.ok();
    assert_eq!(check.json()["outcome"], "passed", "{}", check.stdout);
    run(&dir, &["plan", "check"]).ok();

    // Freeze; a write during the freeze window is caught, and undone.
    run(&dir, &["freeze", "--from", from]).ok();
    let (changed, old) = set_cell(&students_txt, 5, "Grade_Level", "3");
    let v = run(&dir, &["freeze", "verify", "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stderr);
    let students =
        v.json()["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").cloned().unwrap();
    assert_eq!(students["changed"], serde_json::json!([changed]), "{students}");
    set_cell(&students_txt, 5, "Grade_Level", &old);
    run(&dir, &["freeze", "verify"]).ok();

    // Dry run, then the migration, from the snapshot into a sandbox folder.
    let dry =
        run(&dir, &["migrate", "--plan", "plan.toml", "--to", "sandbox", "--dry-run", "--format", "json"]);
    dry.ok();
    assert!(dry.stderr.contains("Running the plan from the newest snapshot"), "{}", dry.stderr);
    let report = dry.json();
    assert!(!dir.join("sandbox").exists(), "a dry run writes nothing");
    let entity = |r: &serde_json::Value, e: &str| {
        r["entities"].as_array().unwrap().iter().find(|x| x["entity"] == e).cloned().unwrap()
    };
    for e in report["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(n("read"), n("written") + n("rejected") + n("skipped"), "{e}");
    }
    let cal = entity(&report, "calendar_days");
    assert_eq!(cal["skipped"], cal["read"]);
    assert!(
        cal["skip_rules"][0][0].as_str().unwrap().contains("not needed: the new SIS builds its own calendar")
    );
    let students = entity(&report, "students");
    assert!(students["skipped"].as_u64().unwrap() > 0, "inactive students are skipped: {students}");
    assert_eq!(students["skip_rules"][0][0], "[filters] active_students_only");
    let attendance = entity(&report, "attendance");
    assert!(
        attendance["skip_rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "its student was skipped ([filters] active_students_only)"),
        "{attendance}"
    );

    let real = run(&dir, &["migrate", "--plan", "plan.toml", "--to", "sandbox", "--format", "json"]);
    real.ok();
    let written = entity(&real.json(), "students")["written"].as_u64().unwrap();
    let sandbox_students = read(&dir.join("sandbox/students.csv"));
    assert_eq!(sandbox_students.lines().count() as u64, written + 1);
    assert!(!dir.join("sandbox/calendar_days.csv").exists());
    let crosswalk = read(&dir.join("reports/id-crosswalk.csv"));
    assert!(crosswalk.starts_with("entity,old_id,new_id\n"));
    assert_eq!(crosswalk.lines().filter(|l| l.starts_with("students,")).count() as u64, written);

    // The sandbox read back reconciles with the snapshot through the plan.
    let v = run(&dir, &["verify", "--plan", "plan.toml", "--to", "sandbox", "--format", "json"]);
    v.ok();
    assert_eq!(v.json()["reconciled"], true, "{}", v.stdout);

    let status = run(&dir, &["status", "--format", "json"]).json();
    for s in ["init", "inventory", "plan", "check", "freeze", "dry-run", "migrate", "verify"] {
        assert_eq!(step(&status, s)["state"], "passed", "{s}: {status}");
    }
    assert_eq!(step(&status, "freeze")["last_check"][1], "passed");

    // A wrong crosswalk entry: verify names the records it touches.
    let wrong = plan.replace("F = \"female\"", "F = \"male\"");
    std::fs::write(&plan_path, &wrong).unwrap();
    let v = run(&dir, &["verify", "--plan", "plan.toml", "--to", "sandbox", "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stderr);
    let report = v.json();
    assert_eq!(report["reconciled"], false);
    let differing: Vec<String> = entity(&report, "students")["differing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    // Exactly the migrated girls.
    let text = read(&students_txt);
    let header: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
    let (id, gender, status) = (
        header.iter().position(|h| *h == "ID").unwrap(),
        header.iter().position(|h| *h == "Gender").unwrap(),
        header.iter().position(|h| *h == "Enroll_Status").unwrap(),
    );
    let mut girls: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[gender] == "F" && c[status] == "0")
        .map(|c| c[id].to_owned())
        .collect();
    girls.sort();
    let mut got = differing.clone();
    got.sort();
    assert!(!got.is_empty());
    assert_eq!(got, girls, "{report}");
    assert!(!got.contains(&odd_student) || girls.contains(&odd_student));
    assert_eq!(step(&run(&dir, &["status", "--format", "json"]).json(), "verify")["state"], "failed");
}
