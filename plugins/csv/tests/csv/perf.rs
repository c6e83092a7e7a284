//! Throughput of CSV → canonical → CSV, end to end through the test kit.
//! Ignored by default; run with
//! `cargo test -p ferry-plugin-csv --test csv -- --ignored --nocapture perf`
//! (and `--release` for meaningful numbers).

use std::fmt::Write as _;
use std::time::Instant;

use ferry_sdk::model::EntityKind;
use ferry_sdk::serde_json::json;

use super::write;

#[test]
#[ignore = "a measurement, not a check; run it with --release"]
fn perf_csv_to_csv() {
    let rows: usize = std::env::var("FERRY_PERF_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "Student_Number,First_Name,Last_Name,DOB,Grade_Level,Gender,School,Status,U_Locker,U_Bus\n",
    );
    for i in 0..rows {
        let _ = writeln!(
            text,
            "{i:06},Fírst{},Last{},{:02}/{:02}/20{:02},{},{},{},A,{},{}",
            i % 977,
            i % 1013,
            i % 12 + 1,
            i % 28 + 1,
            i % 15 + 5,
            i % 12 + 1,
            if i % 2 == 0 { "M" } else { "F" },
            100 + i % 7,
            i % 500,
            i % 40
        );
    }
    std::fs::write(dir.path().join("students.csv"), &text).unwrap();
    let config = json!({ "entities": { "students": { "file": "students.csv", "columns": {
        "Student_Number": ["source_id", "student_number"], "First_Name": "first_name", "Last_Name": "last_name",
        "DOB": "birth_date", "Grade_Level": "grade_level", "Gender": "sex", "School": "school_id", "Status": "status",
    }}}});

    let t = Instant::now();
    let out =
        ferry_sdk::testkit::run_source::<ferry_plugin_csv::CsvPlugin>(&config, dir.path(), 5000).unwrap();
    let read_s = t.elapsed().as_secs_f64();
    assert_eq!(out.count(EntityKind::Students), rows as u64);
    let t = Instant::now();
    let (written, _) = write(json!({ "directory": "out" }), dir.path(), &out).unwrap();
    let write_s = t.elapsed().as_secs_f64();
    assert_eq!(written, rows as u64);
    let mb = text.len() as f64 / 1e6;
    println!(
        "{rows} rows ({mb:.1} MB): read {:.0} rows/s, write {:.0} rows/s, end to end {:.0} rows/s",
        rows as f64 / read_s,
        rows as f64 / write_s,
        rows as f64 / (read_s + write_s)
    );
}
