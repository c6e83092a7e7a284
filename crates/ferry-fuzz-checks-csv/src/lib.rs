//! `csv_config`: a configuration file of the CSV plugin, read as the host
//! reads one (`ferry_host::job::read_config_file`, TOML into JSON), then the
//! plugin opened with it as the host opens it (`Plugin::open_source`, and
//! `open_sink` for a dry run), and the source read to the end through the
//! SDK's test kit. This crate is apart from `ferry-fuzz-checks` because two
//! plugin crates cannot be linked into one binary (each exports the same
//! root-module symbol).
//!
//! Input: the configuration file (TOML), in a folder of its own beside
//! `students.csv` (canonical layout), `people.txt` (tab-delimited, no
//! header) and `schools.csv`. Inputs with a key or string that starts with
//! `/` or holds `..` are skipped: they could name files outside the folder.
//!
//! Properties:
//! - nothing panics; an error reading the file names it;
//! - the plugin refusing a configuration or a file says so as a
//!   configuration, data or I/O error (never an internal error or a panic);
//! - every reject and warning of a read names a file of the folder and a
//!   line in it.

use std::collections::BTreeMap;

use ferry_host::job::read_config_file;
use ferry_plugin_csv::CsvPlugin;
use ferry_sdk::{ErrorKind, OpenContext, Plugin, testkit};

/// The target's name (its folder under `fuzz/corpus` and `fuzz/regressions`).
pub const TARGET: &str = "csv_config";

/// Inputs longer than this are cut.
const MAX_INPUT: usize = 64 * 1024;

/// The files beside the configuration.
const FIXTURES: &[(&str, &str)] = &[
    (
        "students.csv",
        "source_id,last_name,first_name,birth_date,school_id\n1,Ruiz,Ana,2010-01-02,S1\n2,,Bo,2/30/2011,S1\n",
    ),
    ("people.txt", "7\tKim\tLee\t1/2/2009\n8\tOkafor\n"),
    ("schools.csv", "id,name,type\nS1,\"North, High\",school\n"),
];

fn is_input_error(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Config | ErrorKind::Data | ErrorKind::Io | ErrorKind::Unsupported)
}

fn inside(s: &str) -> bool {
    !s.starts_with(['/', '\\']) && !s.contains("..")
}

fn stays_inside(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => inside(s),
        toml::Value::Array(items) => items.iter().all(stays_inside),
        toml::Value::Table(t) => t.iter().all(|(k, v)| inside(k) && stays_inside(v)),
        _ => true,
    }
}

/// Checks one input (see the crate's documentation).
pub fn check(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Ok(table) = std::str::from_utf8(data).map(str::parse::<toml::Table>)
        && table.is_ok_and(|t| !stays_inside(&toml::Value::Table(t)))
    {
        return;
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    for (name, text) in FIXTURES {
        if std::fs::write(dir.path().join(name), text).is_err() {
            return;
        }
    }
    let path = dir.path().join("source.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let (config, base) = match read_config_file(&path) {
        Ok(c) => c,
        Err(e) => {
            let name = path.display().to_string();
            assert!(e.0.contains(&name), "a config file error does not name the file: {}", e.0);
            return;
        }
    };
    assert_eq!(base, dir.path(), "a config file's folder is not where relative paths start");

    let mut sink = OpenContext::new(config.clone(), &base);
    sink.dry_run = true;
    if let Err(e) = CsvPlugin::open_sink(&sink).map(drop) {
        assert!(
            is_input_error(e.kind),
            "the csv sink refuses its configuration with {:?}: {}",
            e.kind,
            e.message
        );
    }

    let lines: BTreeMap<&str, u64> =
        FIXTURES.iter().map(|(n, t)| (*n, 1 + t.bytes().filter(|&b| b == b'\n').count() as u64)).collect();
    match testkit::run_source::<CsvPlugin>(&config, &base, 64) {
        Ok(out) => {
            for r in out.rejects.iter().chain(&out.warnings) {
                // The configuration itself may be read as data (file = "source.toml").
                let last = lines.get(r.file.as_str()).copied().or_else(|| {
                    (r.file == "source.toml")
                        .then(|| 1 + data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64)
                });
                let Some(last) = last else {
                    panic!("a {:?} of {} names no file of the folder", r.severity, r.entity);
                };
                assert!(
                    r.line >= 1 && r.line <= last,
                    "a {:?} names line {} of a file of at most {last} lines",
                    r.severity,
                    r.line
                );
                assert!(!r.reason.is_empty(), "a reject without a reason");
            }
        }
        Err(e) => {
            assert!(is_input_error(e.kind), "the csv source fails with {:?}: {}", e.kind, e.message);
        }
    }
}
