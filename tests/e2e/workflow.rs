//! The migration folder (issue 10, first steps): `ferry init`, the journal
//! that `migrate` records itself in, and `ferry status`.

use ferry_gen::PsGenOptions;

use crate::support::*;

#[test]
fn init_then_runs_are_journaled_and_status_follows_their_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    ferry(root, &[plugins_dir()], &["init", "mig", "--name", "Lakeview to NewSIS"]).ok();
    let dir = root.join("mig");
    for f in ["plan.toml", "journal.jsonl", "snapshots", "reports"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let again = ferry(root, &[plugins_dir()], &["init", "mig"]);
    assert_eq!(again.code, Some(2), "a migration folder is made once: {}", again.stderr);

    // Outside a migration folder, status says how to make one.
    let outside = ferry(root, &[plugins_dir()], &["status"]);
    assert_eq!(outside.code, Some(2));
    assert!(outside.stderr.contains("ferry init"), "{}", outside.stderr);

    let s = status(&dir);
    assert_eq!(s["name"], "Lakeview to NewSIS");
    assert_eq!(step(&s, "init")["state"], "passed");
    assert_eq!(step(&s, "migrate")["state"], "not-started");
    assert_eq!(step(&s, "plan")["state"], "not-started");
    assert_eq!(s["next"], "inventory", "the first step that is built and not passed");

    std::fs::write(
        dir.join("plan.toml"),
        "[migration]\nname = \"Lakeview to NewSIS\"\n[timeline]\nfreeze_start = \"2027-06-20\"\nfreeze_end = \"2027-07-05\"\n[timeline.owners]\nmigrate = \"data manager\"\n",
    )
    .unwrap();
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    ferry_gen::powerschool(&PsGenOptions { students: 30, seed: 3, ..PsGenOptions::default() }, &export)
        .unwrap();
    let from = "powerschool:export/ferry-source.toml";
    ferry(&dir, &[plugins_dir()], &["migrate", "--from", from, "--dry-run", "--allow-rejects"]).ok();
    ferry(&dir, &[plugins_dir()], &["migrate", "--from", from, "--allow-rejects"]).ok();
    let s = status(&dir);
    assert_eq!(step(&s, "dry-run")["state"], "passed");
    assert_eq!(step(&s, "migrate")["state"], "passed");
    assert_eq!(step(&s, "migrate")["owner"], "data manager");
    assert_eq!(s["timeline"]["freeze_start"], "2027-06-20");
    assert_eq!(s["next"], "inventory", "this test takes no inventory");

    // The journal: inputs with their hashes, counts, the report in reports/.
    let entries = jsonl(&dir.join("journal.jsonl"));
    let last = entries.last().unwrap();
    assert_eq!(last["step"], "migrate");
    assert_eq!(last["outcome"], "passed");
    let inputs = last["inputs"].as_array().unwrap();
    assert!(
        inputs
            .iter()
            .any(|i| i["path"] == "export/students.txt" && i["sha256"].as_str().unwrap().len() == 64)
    );
    assert!(last["counts"].as_array().unwrap().iter().any(|c| c["entity"] == "students" && c["read"] == 30));
    let report = dir.join(last["report"].as_str().unwrap());
    assert!(report.starts_with(dir.join("reports")) && report.is_file());

    // A source file changes: the runs that read it are stale, and say which file.
    let students = export.join("students.txt");
    let mut text = read(&students);
    text.push('\n');
    std::fs::write(&students, text).unwrap();
    let s = status(&dir);
    assert_eq!(step(&s, "migrate")["state"], "stale");
    assert_eq!(step(&s, "migrate")["changed"], serde_json::json!(["export/students.txt"]));

    // A failed run is recorded as failed.
    let bad = ferry(&dir, &[plugins_dir()], &["migrate", "--from", from, "--to-set", "prune_stale=\"yes\""]);
    assert_eq!(bad.code, Some(2));
    let s = status(&dir);
    assert_eq!(step(&s, "migrate")["state"], "failed");
    assert_eq!(step(&s, "migrate")["runs"], 2);
    let text = ferry(&dir, &[plugins_dir()], &["status"]);
    text.ok();
    assert!(text.stdout.contains("Freeze window: 2027-06-20 to 2027-07-05"), "{}", text.stdout);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in ["journal.jsonl", "plan.toml", last["report"].as_str().unwrap()] {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f} is owner-only");
        }
    }
}

#[test]
fn freeze_snapshots_the_source_and_verify_names_what_changed() {
    let MigrationFolder { tmp: _tmp, dir, export } = migration_folder(None, 30, 4, false);
    let from = "powerschool:export/ferry-source.toml";

    let frozen = ferry(&dir, &[plugins_dir()], &["freeze", "--from", from, "--format", "json"]);
    frozen.ok();
    let snap = dir.join(frozen.json()["snapshot"].as_str().unwrap());
    for f in ["snapshot.sqlite", "manifest.json", "records.tsv"] {
        assert!(snap.join(f).is_file(), "{f}");
    }
    let manifest: serde_json::Value = serde_json::from_str(&read(&snap.join("manifest.json"))).unwrap();
    assert!(manifest["files"].as_array().unwrap().iter().any(|f| f["path"] == "export/students.txt"));
    assert!(manifest["records"].as_u64().unwrap() > 30);
    let s = status(&dir);
    assert_eq!(step(&s, "freeze")["state"], "passed");

    // Unchanged: verify passes.
    let v = ferry(&dir, &[plugins_dir()], &["freeze", "verify"]);
    v.ok();
    assert!(v.stdout.contains("Unchanged"), "{}", v.stdout);

    // One student's row changes in the live source: verify names that student.
    let students = export.join("students.txt");
    let text = read(&students);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split('\t').collect();
    let (id_col, grade_col) = (
        header.iter().position(|h| *h == "ID").unwrap(),
        header.iter().position(|h| *h == "Grade_Level").unwrap(),
    );
    let mut cells: Vec<String> = lines[2].split('\t').map(str::to_owned).collect();
    let id = cells[id_col].clone();
    cells[grade_col] = if cells[grade_col] == "12" { "11".into() } else { "12".into() };
    lines[2] = cells.join("\t");
    std::fs::write(&students, lines.join("\r\n") + "\r\n").unwrap();
    let v = ferry(&dir, &[plugins_dir()], &["freeze", "verify", "--format", "json"]);
    assert_eq!(v.code, Some(1), "a changed source fails verify: {}", v.stderr);
    let report = v.json();
    assert_eq!(report["unchanged"], false);
    assert_eq!(report["files_changed"], serde_json::json!(["export/students.txt"]));
    let students_change =
        report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert_eq!(students_change["changed"], serde_json::json!([id]), "{report}");
    let s = status(&dir);
    assert_eq!(step(&s, "freeze")["state"], "stale", "the freeze's inputs changed: {s}");
    assert_eq!(step(&s, "freeze")["last_check"][1], "failed");

    // Migrations run from the snapshot, which still holds the frozen source.
    let from_snap = format!("sqlite:{}", snap.join("snapshot.sqlite").display());
    ferry(&dir, &[plugins_dir()], &["migrate", "--from", &from_snap, "--to", "csv:sandbox", "--dry-run"])
        .ok();
    ferry(&dir, &[plugins_dir()], &["migrate", "--from", &from_snap, "--to", "csv:sandbox"]).ok();
    assert!(dir.join("sandbox/students.csv").is_file());
    let s = status(&dir);
    assert_eq!(step(&s, "migrate")["state"], "passed", "the snapshot did not change: {s}");

    // The sandbox, read back, reconciles with the snapshot record by record.
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "csv:sandbox", "--format", "json"]);
    v.ok();
    let report = v.json();
    assert_eq!(report["reconciled"], true, "{report}");
    let students = report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert_eq!(students["snapshot"], students["destination"]);
    assert_eq!(step(&status(&dir), "verify")["state"], "passed");

    // A record changed in the destination is named.
    let csv = dir.join("sandbox/students.csv");
    let text = read(&csv);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let last = header.iter().position(|h| *h == "last_name").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let id = cells[1].clone();
    cells[last] = "Changed".into();
    lines[1] = cells.join(",");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "csv:sandbox", "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stderr);
    assert!(!v.stdout.is_empty(), "verify reports the difference: {}", v.stderr);
    let report = v.json();
    let students = report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert_eq!(students["differing"], serde_json::json!([id]), "{report}");
    assert!(!v.stdout.contains("Changed"), "no record values in the report");
    assert_eq!(step(&status(&dir), "verify")["state"], "failed");
    let md = dir.join(report["reports"][1].as_str().unwrap());
    assert!(read(&md).contains(&format!("Differing (1): {id}")), "{}", read(&md));
}

#[test]
fn inventory_profiles_the_source_and_names_anomalies_by_id_and_line_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    ferry(root, &[plugins_dir()], &["init", "mig"]).ok();
    let dir = root.join("mig");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("source.toml"),
        r#"system = "inv"
[entities.orgs]
file = "schools.csv"
[entities.orgs.columns]
id = "source_id"
name = "name"
type = "kind"
[entities.students]
file = "students.csv"
[entities.students.columns]
"Student ID" = "source_id"
Last = "last_name"
First = "first_name"
"Birth Date" = "birth_date"
Sex = "sex"
School = "school_id"
[entities.school_enrollments]
file = "enrollments.csv"
[entities.school_enrollments.columns]
id = "source_id"
student = "student_id"
school = "school_id"
entry = "entry_date"
"#,
    )
    .unwrap();
    std::fs::write(data.join("schools.csv"), "id,name,type\nS1,North,school\n").unwrap();
    std::fs::write(
        data.join("students.csv"),
        "Student ID,Last,First,Birth Date,Sex,School\n\
         1,Quintanilla,Marisol,2011-04-05,F,S1\n\
         2,Okafor,Chidi,2012-01-09,M,S1\n\
         2,Okafor,Chidi,2012-01-09,M,S1\n\
         3,Quintanilla,Marisol,2011-04-05,F,S1\n\
         4,Berg,Ann,2010-02-03,X,S1\n",
    )
    .unwrap();
    std::fs::write(
        data.join("enrollments.csv"),
        "id,student,school,entry\nE1,1,S1,2024-08-20\nE2,9,S1,2024-08-21\nE3,4,S1,2023-08-22\n",
    )
    .unwrap();
    let run =
        ferry(&dir, &[plugins_dir()], &["inventory", "--from", "csv:data/source.toml", "--format", "json"]);
    run.ok();
    let p = run.json();
    let entity =
        |name: &str| p["entities"].as_array().unwrap().iter().find(|e| e["entity"] == name).unwrap().clone();
    let students = entity("students");
    assert_eq!(students["records"], 5);
    let field = |e: &serde_json::Value, f: &str| {
        e["fields"].as_array().unwrap().iter().find(|x| x["field"] == f).unwrap().clone()
    };
    let sex = field(&students, "sex");
    let counts: Vec<(String, u64)> = sex["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["original"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("F".to_owned(), 2), ("M".to_owned(), 2), ("X".to_owned(), 1)]);
    assert_eq!(field(&students, "last_name")["filled"], 5);
    assert_eq!(field(&students, "last_name")["pii"], true);
    let kinds: Vec<&str> =
        students["anomalies"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(kinds.iter().any(|k| k.starts_with("repeated id")), "{students}");
    assert!(kinds.iter().any(|k| k.starts_with("possibly the same person")), "{students}");
    let repeat = &students["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "repeated id")
        .unwrap()["examples"][0];
    assert_eq!((repeat["id"].as_str().unwrap(), repeat["line"].as_u64().unwrap()), ("2", 4));
    let enrollments = entity("school_enrollments");
    let orphan =
        enrollments["anomalies"].as_array().unwrap().iter().find(|a| a["field"] == "student_id").unwrap();
    assert_eq!(orphan["examples"][0]["id"], "E2");
    assert_eq!(orphan["examples"][0]["line"], 3);
    let entry = field(&enrollments, "entry_date");
    assert_eq!((entry["min"].as_str(), entry["max"].as_str()), (Some("2023-08-22"), Some("2024-08-21")));

    // Names and birth dates never appear in the reports (JSON, Markdown, HTML).
    assert!(p["reports"][2].as_str().unwrap().ends_with(".html"), "{}", p["reports"]);
    for r in p["reports"].as_array().unwrap() {
        let text = read(&dir.join(r.as_str().unwrap()));
        for pii in ["Quintanilla", "Marisol", "Okafor", "2011-04-05"] {
            assert!(!text.contains(pii), "{pii} in {r}");
        }
    }
    assert!(!run.stdout.contains("Quintanilla"));
    assert_eq!(step(&status(&dir), "inventory")["state"], "passed");
    assert!(
        !dir.join("none.sqlite").exists() && !data.join("ferry-archive.sqlite").exists(),
        "an inventory writes no data"
    );
}
