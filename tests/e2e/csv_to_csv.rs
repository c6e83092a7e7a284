//! The bundled sample through the CSV connector: encodings, leading zeros,
//! dates, rejects with line numbers, and counts that add up.

use std::path::Path;

use crate::support::*;

#[test]
fn sample_district_csv_to_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "csv",
            "--to-set",
            "directory=out",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(3), "rejects without --allow-rejects exit 3: {}", run.stderr);
    let report = run.json();
    assert_balanced(&report);
    let students = entity(&report, "students");
    // The impossible birth date (line 7) is an optional field: the student is
    // written without it, with a warning (the field policy's default).
    assert_eq!(
        (students["read"].as_u64(), students["written"].as_u64(), students["rejected"].as_u64()),
        (Some(8), Some(6), Some(2))
    );
    assert_eq!(students["warned"], 1);
    assert_eq!(entity(&report, "orgs")["written"], 3);
    assert_eq!(entity(&report, "school_enrollments")["written"], 5);
    assert_eq!(entity(&report, "attendance")["written"], 5);

    // Windows-1252 input, UTF-8 output; leading zeros and long digit strings kept; dates normalized.
    let out = read(&tmp.path().join("out/students.csv"));
    for expected in ["José", "Núñez", "Zoë", "Brontë", "Læssøe", "Kierkegård", "O'Brien-Çelik"] {
        assert!(out.contains(expected), "{expected} missing:\n{out}");
    }
    assert!(out.contains(",000123,"), "{out}");
    assert!(out.contains(",007,"), "{out}");
    assert!(out.contains(",12345678901234567890,"), "{out}");
    assert!(out.contains(",2011-06-09,"), "MM/DD/YYYY → ISO: {out}");
    assert!(out.contains(",2010-02-03,"), "two-digit year: {out}");
    assert!(out.contains(",KG,K,"), "code and original: {out}");
    assert!(out.contains("Locker"), "unmapped column kept as an extension: {out}");
    // The BOM'd enrollment file and the unquoted tab file.
    let enr = read(&tmp.path().join("out/school_enrollments.csv"));
    assert!(enr.contains("E1,") && !enr.contains('\u{feff}'), "{enr}");
    let att = read(&tmp.path().join("out/attendance.csv"));
    assert!(att.contains("Dr. said \"\"rest\"\""), "a literal quote in an unquoted file survives: {att}");

    // Rejects and warnings: file, line, field, reason; no values unless asked.
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    let mut lines: Vec<(u64, &str)> =
        rejects.iter().map(|r| (r["line"].as_u64().unwrap(), r["severity"].as_str().unwrap())).collect();
    lines.sort_unstable();
    assert_eq!(lines, vec![(6, "reject"), (7, "warning"), (8, "reject")]);
    assert!(
        rejects
            .iter()
            .all(|r| r["file"] == "students.csv" && r["entity"] == "students" && r.get("value").is_none())
    );
    let at = |line: u64| rejects.iter().find(|r| r["line"] == line).unwrap();
    assert_eq!(at(6)["field"], "last_name");
    assert_eq!(at(7)["field"], "birth_date");
    assert!(at(8)["reason"].as_str().unwrap().contains("9 fields"), "{}", at(8));
    assert!(!read(&tmp.path().join("ferry-rejects.jsonl")).contains("García"), "no personal data in reasons");
}

#[test]
fn values_only_when_asked_and_allow_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "csv",
            "--to-set",
            "directory=out",
            "--allow-rejects",
            "--include-values",
        ],
    );
    run.ok();
    assert!(
        run.stdout.contains("students") && run.stdout.contains("Rejects: ferry-rejects.jsonl (2 records)"),
        "{}",
        run.stdout
    );
    let rejects = jsonl(&tmp.path().join("ferry-rejects.jsonl"));
    assert!(
        rejects.iter().any(|r| r["value"].as_str().is_some_and(|v| v.contains("02/30/2011"))),
        "{rejects:?}"
    );
}

#[test]
fn only_writes_the_planned_entities_and_counts_the_rest_as_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &sample_source(),
            "--to",
            "csv",
            "--to-set",
            "directory=out",
            "--only",
            "orgs,attendance",
            "--allow-rejects",
            "--format",
            "json",
        ],
    );
    let report = run.ok().json();
    assert_balanced(&report);
    assert_eq!(entity(&report, "school_enrollments")["skipped"], 5);
    assert_eq!(entity(&report, "students")["skipped"], 6);
    assert_eq!(entity(&report, "orgs")["written"], 3);
    assert!(!tmp.path().join("out/students.csv").exists());
}

#[test]
fn an_import_template_through_a_job_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("job.toml"),
        format!(
            r#"
[source]
plugin = "csv"
config = "{}"

[sink]
plugin = "csv"
[sink.settings]
directory = "import"
[sink.settings.dialect]
delimiter = "tab"
encoding = "windows-1252"
line_ending = "crlf"
[sink.settings.entities.students]
file = "students_import.txt"
columns = [
  {{ column = "Student_Number", field = "student_number" }},
  {{ column = "Last_Name", field = "last_name" }},
  {{ column = "DOB", field = "birth_date", format = "%m/%d/%Y" }},
  {{ column = "Grade_Level", field = "grade_level", code = "original" }},
  {{ column = "Enroll_Status", value = "0" }},
]

[run]
rejects = "rejects/students.jsonl"
allow_rejects = true
"#,
            samples().join("csv-district/source.toml").display().to_string().replace('\\', "/")
        ),
    )
    .unwrap();
    let run = ferry(tmp.path(), &[plugins_dir()], &["migrate", "--job", "job.toml", "--format", "json"]);
    let report = run.ok().json();
    assert_balanced(&report);
    // Only students are configured in the sink: the other entities are skipped by the plan.
    assert_eq!(entity(&report, "orgs")["skipped"], 3);
    let bytes = std::fs::read(tmp.path().join("import/students_import.txt")).unwrap();
    let text: String = bytes.iter().map(|&b| char::from(b)).collect(); // Windows-1252 ≈ Latin-1 for these letters
    assert!(text.starts_with("Student_Number\tLast_Name\tDOB\tGrade_Level\tEnroll_Status\r\n"), "{text}");
    assert!(text.contains("000123\tNúñez\t06/09/2011\t8\t0\r\n"), "{text}");
    // Two rejects and one warning (the student with an impossible birth date is written).
    let diags = jsonl(&tmp.path().join("rejects/students.jsonl"));
    assert_eq!(diags.iter().filter(|d| d["severity"] == "reject").count(), 2);
    assert_eq!(diags.iter().filter(|d| d["severity"] == "warning").count(), 1);
}

#[test]
fn a_failed_run_leaves_earlier_outputs_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = [fixtures_dir(), plugins_dir()];
    ferry(
        tmp.path(),
        &paths,
        &[
            "migrate",
            "--from",
            "panicky",
            "--from-set",
            "panic_in=none",
            "--to",
            "csv",
            "--to-set",
            "directory=out",
        ],
    )
    .ok();
    let before = read(&tmp.path().join("out/orgs.csv"));
    let rejects_before = read(&tmp.path().join("ferry-rejects.jsonl"));
    // The second run fails after its first batch has reached the sink.
    let run = ferry(
        tmp.path(),
        &paths,
        &[
            "migrate",
            "--from",
            "panicky",
            "--from-set",
            "panic_in=next_batch",
            "--to",
            "csv",
            "--to-set",
            "directory=out",
        ],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(read(&tmp.path().join("out/orgs.csv")), before);
    assert_eq!(read(&tmp.path().join("ferry-rejects.jsonl")), rejects_before);
    let leftovers: Vec<_> =
        std::fs::read_dir(tmp.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left behind: {leftovers:?}");
}

#[test]
fn bad_configuration_names_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), "[entities.pupils]\nfile = \"x.csv\"\n").unwrap();
    let run = ferry(
        tmp.path(),
        &[plugins_dir()],
        &["migrate", "--from", "csv:s.toml", "--to", "csv", "--to-set", "directory=o"],
    );
    assert_eq!(run.code, Some(2), "a configuration error is a usage error");
    assert!(run.stderr.contains("pupils"), "{}", run.stderr);
    assert!(!Path::new(&tmp.path().join("o")).join("students.csv").exists());
}

#[cfg(unix)]
#[test]
fn ctrl_c_rolls_the_run_back() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = std::env::join_paths([fixtures_dir(), plugins_dir()]).unwrap();
    let child = std::process::Command::new(ferry_bin())
        .current_dir(tmp.path())
        .env("FERRY_PLUGIN_PATH", paths)
        .env("FERRY_HOME", tmp.path().join(".ferry-home"))
        .args([
            "migrate",
            "--from",
            "noop",
            "--from-set",
            "count=1000000000",
            "--to",
            "csv",
            "--to-set",
            "directory=out",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it start writing, then interrupt it as a terminal would.
    let out_dir = tmp.path().join("out");
    for _ in 0..200 {
        if out_dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    // The shell's own `kill`, so the test needs no extra package.
    let status =
        std::process::Command::new("sh").args(["-c", &format!("kill -INT {}", child.id())]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("nothing was committed"), "{stderr}");
    let left: Vec<_> =
        out_dir.read_dir().map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "no output and no temporary file after an interrupted run: {left:?}");
}
