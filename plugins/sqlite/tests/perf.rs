//! Throughput of the archive sink, against `sqlite3 .import` of the same rows
//! as CSV. Ignored by default (it measures, it does not check behaviour):
//!
//! ```text
//! FERRY_PERF_ROWS=1000000 cargo test -p ferry-plugin-sqlite --test perf -- --ignored --nocapture
//! ```
//!
//! Test builds compile this crate without optimisation (dependencies, SQLite
//! included, are optimised); a release build of the plugin is faster still.

mod common;

use std::fs;
use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use common::*;
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::model::Record as _;
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::SourceOutput;
use ferry_sdk::{OpenContext, Plugin, RunSummary, SinkBatch};

#[test]
#[ignore = "benchmark; run explicitly"]
fn throughput_against_sqlite3_import() {
    let n: usize = std::env::var("FERRY_PERF_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perf.sqlite");
    let records = many_attendance("P", n);
    let mut input = SourceOutput::default();
    for chunk in records.chunks(5_000) {
        batch(&mut input, chunk);
    }

    let timed = |label: &str, path: &std::path::Path, run: &str| {
        let t = Instant::now();
        let mut ctx = OpenContext::new(json!({ "path": path.to_str().unwrap() }), dir.path());
        ctx.run_id = run.into();
        let mut sink = SqlitePlugin::open_sink(&ctx).unwrap();
        let opened = t.elapsed();
        for (e, b) in &input.batches {
            sink.write(SinkBatch::new(*e, b)).unwrap();
        }
        let written = t.elapsed();
        sink.prepare(&RunSummary::default()).unwrap();
        sink.commit().unwrap();
        sink.close().unwrap();
        let total = t.elapsed();
        println!(
            "{label}: {n} rows in {:.2}s = {:.0} rows/s (open {:.2}s, write {:.2}s, prepare and commit {:.2}s), {} MB",
            total.as_secs_f64(),
            n as f64 / total.as_secs_f64(),
            opened.as_secs_f64(),
            (written - opened).as_secs_f64(),
            (total - written).as_secs_f64(),
            fs::metadata(path).unwrap().len() / 1_000_000
        );
        total.as_secs_f64()
    };
    let fresh = timed("new archive", &path, "r1");
    timed("same rows again (upsert)", &path, "r2");

    // The same rows as a CSV file, the way a district export holds them.
    let csv = dir.path().join("attendance.csv");
    let mut f = std::io::BufWriter::new(fs::File::create(&csv).unwrap());
    writeln!(f, "id,student,date,code,school,period,minutes,mode").unwrap();
    for r in &records {
        let c = r.category.as_ref().unwrap();
        writeln!(
            f,
            "{},{},{},{},{},{},{},ATT_ModeMeeting",
            r.meta().source.id,
            r.student_id.as_deref().unwrap(),
            r.date.unwrap(),
            c.original,
            r.school_id.as_deref().unwrap(),
            r.period.as_deref().unwrap(),
            r.minutes.map(|m| m.to_string()).unwrap_or_default(),
        )
        .unwrap();
    }
    drop(f);
    let db = dir.path().join("import.db");
    let t = Instant::now();
    let status =
        Command::new("sqlite3").arg(&db).arg(format!(".import --csv {} attendance", csv.display())).status();
    match status {
        Ok(s) if s.success() => {
            let import = t.elapsed().as_secs_f64();
            println!(
                "sqlite3 .import: {n} rows in {import:.2}s = {:.0} rows/s; archive / import = {:.2}",
                n as f64 / import,
                fresh / import
            );
        }
        _ => println!("sqlite3 is not installed; no comparison"),
    }
}
