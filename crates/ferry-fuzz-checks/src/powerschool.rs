//! `powerschool_files`: the PowerSchool source on a folder of export files:
//! sniffing (delimiter, quoting, encoding), the header styles, recognizing
//! each file's table, then the whole read through the SDK's test kit (the
//! same Arrow crossing and validation as the host).
//!
//! Input: one or more files. The first line is the first file's name; a line
//! `%%% NAME` starts the next file (at most four). Names keep only letters,
//! digits, `_`, `-` and `.`, and get `.txt` unless they end with an export
//! extension.
//!
//! Properties:
//! - finding and reading never panic; an error is a configuration, data or
//!   I/O error (never an internal one: the source's own per-file accounting
//!   check reports as internal);
//! - each file is found at most once, and a file recognized as a table the
//!   connector maps has every column that table's rows need;
//! - a file's columns are those of its header line, and its rows start on
//!   increasing lines after it, never past its end;
//! - every reject and warning names one of the files and a line in it.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_plugin_powerschool::fuzzing::{SourceConfig, Table, discover};
use ferry_sdk::testkit;

use crate::{MAX_INPUT, is_input_error, max_line};

/// The separator between files of one input.
const NEXT_FILE: &[u8] = b"\n%%% ";

/// A file name made safe: no folders, not hidden, an export extension.
fn file_name(raw: &[u8]) -> String {
    let mut name: String = String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(48)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert_str(0, "export");
    }
    let lower = name.to_ascii_lowercase();
    if ![".txt", ".csv", ".tsv", ".tab", ".dat"].iter().any(|e| lower.ends_with(e)) {
        name.push_str(".txt");
    }
    name
}

/// The files of one input: `(name, bytes)`, names unique.
pub fn files(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let data = &data[..data.len().min(MAX_INPUT)];
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = data;
    while out.len() < 4 {
        let (head, body) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        let (content, next) = match body.windows(NEXT_FILE.len()).position(|w| w == NEXT_FILE) {
            Some(i) => (&body[..=i], Some(&body[i + NEXT_FILE.len()..])),
            None => (body, None),
        };
        let name = file_name(head);
        if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            out.push((name, content.to_vec()));
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    out
}

/// Checks one input (see the module's documentation).
pub fn check(data: &[u8]) {
    let files = files(data);
    let Ok(dir) = tempfile::tempdir() else { return };
    for (name, bytes) in &files {
        if std::fs::write(dir.path().join(name), bytes).is_err() {
            return;
        }
    }
    let config = serde_json::json!({ "directory": "." });
    let cfg: SourceConfig = match serde_json::from_value(config.clone()) {
        Ok(c) => c,
        Err(e) => panic!("the fixed configuration does not parse: {e}"),
    };
    let lines: BTreeMap<&str, u64> = files.iter().map(|(n, b)| (n.as_str(), max_line(b))).collect();

    let found = match discover(dir.path(), &cfg) {
        Ok(found) => found,
        Err(e) => {
            assert!(is_input_error(e.kind), "discovery fails with {:?}: {}", e.kind, e.message);
            return;
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for spec in &found {
        assert!(lines.contains_key(spec.name.as_str()), "discovery found a file the folder does not have");
        assert!(!seen.contains(&spec.name.as_str()), "discovery found one file twice");
        seen.push(&spec.name);
        let keys: Vec<String> = spec.columns.iter().filter(|c| c.own).map(|c| c.key.clone()).collect();
        if !matches!(spec.table, Table::Unmapped | Table::StudentExtension) {
            let missing = spec.table.missing_columns(&keys);
            assert!(
                missing.is_empty(),
                "a file recognized as {} lacks the column(s) {missing:?} that table needs",
                spec.table
            );
        }
        check_rows(dir.path(), spec, lines[spec.name.as_str()]);
    }

    match testkit::run_source::<PowerSchoolPlugin>(&config, dir.path(), 256) {
        Ok(out) => {
            for r in out.rejects.iter().chain(&out.warnings) {
                let Some(&last) = lines.get(r.file.as_str()) else {
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
        Err(e) => assert!(is_input_error(e.kind), "the source fails with {:?}: {}", e.kind, e.message),
    }
}

/// A found file's header and rows, read as the source reads them.
fn check_rows(dir: &Path, spec: &ferry_plugin_powerschool::fuzzing::FileSpec, last: u64) {
    assert_eq!(spec.path, dir.join(&spec.name), "a file's path is not in its folder");
    let mut reader = match spec.open() {
        Ok(r) => r,
        Err(e) => {
            assert!(is_input_error(e.kind), "reopening fails with {:?}: {}", e.kind, e.message);
            return;
        }
    };
    assert_eq!(reader.columns().len(), spec.columns.len(), "a file's columns are not its header's");
    let mut previous = u64::from(spec.dialect.header);
    let mut rows = 0u64;
    loop {
        let line = match reader.next_row() {
            Ok(None) => break,
            Ok(Some(Ok(row))) => row.line(),
            Ok(Some(Err(bad))) => bad.line,
            Err(e) => {
                assert!(is_input_error(e.kind), "reading fails with {:?}: {}", e.kind, e.message);
                return;
            }
        };
        rows += 1;
        assert!(line > previous && line <= last, "a row on line {line} after line {previous}, of {last}");
        previous = line;
    }
    assert_eq!(reader.rows_read(), rows, "rows_read is not the number of rows returned");
}
