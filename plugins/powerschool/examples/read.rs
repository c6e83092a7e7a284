//! Times the PowerSchool source over a folder (records are encoded and
//! dropped): `cargo run -p ferry-plugin-powerschool --release --example read -- DIR`.
//! A `manifest.toml` written by ferry-gen names the headerless files.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line example reports what it read")]

use std::time::Instant;

use ferry_plugin_powerschool::source::PowerSchoolSource;
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::{BatchBuilder, OpenContext, Source};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: read DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let mut files = serde_json::Map::new();
    if let Ok(text) = std::fs::read_to_string(dir.join(ferry_gen::MANIFEST_FILE))
        && let Ok(m) = ferry_gen::GenManifest::parse(&text)
    {
        for f in m.files.iter().filter(|f| f.header == ferry_gen::HeaderStyle::None) {
            files.insert(f.name.clone(), json!({ "table": f.table, "columns": f.columns }));
        }
    }
    let ctx = OpenContext::new(
        json!({ "directory": dir, "files": files, "keep_raw_rows": std::env::var_os("NORAW").is_none() }),
        &dir,
    );
    let start = Instant::now();
    let mut src = match PowerSchoolSource::open(&ctx) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut records = 0u64;
    loop {
        let mut b = BatchBuilder::new(4096);
        let more = match src.next_batch(&mut b) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        records += u64::from(b.len());
        if !more {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let rows: u64 = src.file_stats().iter().map(|s| s.rows).sum();
    for s in src.file_stats() {
        println!(
            "{:30} {:>9} rows {:>9} records {:>6} rejected {:>8} folded  {}",
            s.file, s.rows, s.records, s.rejected, s.folded, s.entity
        );
    }
    println!(
        "{rows} rows counted, {records} records pushed in {secs:.2} s: {:.0} rows/s",
        rows as f64 / secs
    );
}
