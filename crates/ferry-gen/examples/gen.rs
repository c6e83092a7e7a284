//! Writes a PowerSchool district: `cargo run -p ferry-gen --release --example gen -- OUT_DIR [STUDENTS] [SEED] [quirks] [cp1252] [full] [contacts]`
//! (`full`: every district table and the Students secrets; `contacts`: the combined contacts file).
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line example reports what it wrote")]

use std::time::Instant;

use ferry_gen::{PsGenOptions, TextEncoding, powerschool};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen OUT_DIR [STUDENTS] [SEED] [quirks] [cp1252] [full] [contacts]");
        std::process::exit(2);
    };
    let opts = PsGenOptions {
        students: args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000),
        seed: args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1),
        quirks: args.iter().any(|a| a == "quirks"),
        encoding: if args.iter().any(|a| a == "cp1252") { TextEncoding::Cp1252 } else { TextEncoding::Utf8 },
        district_tables: args.iter().any(|a| a == "full"),
        secrets: args.iter().any(|a| a == "full"),
        contacts_export: args.iter().any(|a| a == "contacts"),
    };
    let start = Instant::now();
    match powerschool(&opts, std::path::Path::new(out)) {
        Ok(m) => {
            let secs = start.elapsed().as_secs_f64();
            for f in &m.files {
                println!("{:32} {:>10} rows  rejects {:?}", f.name, f.rows, f.rejects);
            }
            println!("{} rows in {secs:.2} s ({:.0} rows/s)", m.total_rows(), m.total_rows() as f64 / secs);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
