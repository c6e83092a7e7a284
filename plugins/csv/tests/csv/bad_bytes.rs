//! Bad bytes never become good-looking data: mixed encodings, UTF-16, NUL
//! bytes, repeated column names, files that are not text, truncated files
//! and folders with nothing to read.

use std::path::Path;

use ferry_sdk::ErrorKind;
use ferry_sdk::model::{EntityKind, Student};
use ferry_sdk::serde_json::{Value, json};

use super::{assert_accounted, read};

fn students(file: &str, dialect: Value) -> Value {
    json!({ "entities": { "students": {
        "file": file,
        "dialect": dialect,
        "columns": { "id": "source_id", "last": "last_name", "first": "first_name" }
    }}})
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn names(out: &ferry_sdk::testkit::SourceOutput) -> Vec<(String, String, String)> {
    let s: Vec<Student> = out.records().unwrap();
    s.into_iter().map(|s| (s.meta.source.id, s.last_name, s.first_name)).collect()
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
}

#[test]
fn a_stray_windows_1252_byte_in_a_utf8_file_spoils_no_other_row_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = "id,last,first\n1,Núñez,Zoë\n2,Jos".as_bytes().to_vec();
    data.push(0xE9); // "é" as a Windows tool writes it
    data.extend_from_slice(",Ana\n3,Çelik,Renée\n".as_bytes());
    write(dir.path(), "s.csv", &data);
    for dialect in [json!({}), json!({ "encoding": "windows-1252" })] {
        let out = read(students("s.csv", dialect.clone()), dir.path()).unwrap();
        assert_eq!(
            names(&out),
            owned(&[("1", "Núñez", "Zoë"), ("2", "José", "Ana"), ("3", "Çelik", "Renée")]),
            "{dialect}"
        );
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let w: Vec<(&str, u64, &str)> =
            out.warnings.iter().map(|w| (w.file.as_str(), w.line, w.field.as_str())).collect();
        // last_name is required, so the warning names the column (the field policy
        // would reject any warning on a required field).
        assert_eq!(w, [("s.csv", 3, "last")], "{dialect}: {:?}", out.warnings);
        assert!(
            out.warnings[0].reason.contains("not valid UTF-8; read as windows-1252"),
            "{:?}",
            out.warnings
        );
        assert!(!out.warnings[0].reason.contains("José"), "reasons carry no values");
    }
}

#[test]
fn a_genuine_windows_1252_file_configured_as_such_is_read_silently() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", b"id,last,first\r\n1,N\xFA\xF1ez,Zo\xEB\r\n2,M\xFCller,Ren\xE9e\r\n");
    for dialect in [json!({}), json!({ "encoding": "windows-1252" })] {
        let out = read(students("s.csv", dialect), dir.path()).unwrap();
        assert_eq!(names(&out), owned(&[("1", "Núñez", "Zoë"), ("2", "Müller", "Renée")]));
        assert!(out.warnings.is_empty() && out.rejects.is_empty(), "{:?} {:?}", out.warnings, out.rejects);
    }
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "id,last,first\r\n1,Núñez,Zoë\r\n2,王,Ana\r\n";
    for (name, big) in [("le.csv", false), ("be.csv", true)] {
        let mut data: Vec<u8> = if big { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for u in text.encode_utf16() {
            data.extend_from_slice(&if big { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        write(dir.path(), name, &data);
        let out = read(students(name, json!({})), dir.path()).unwrap();
        assert_eq!(names(&out), owned(&[("1", "Núñez", "Zoë"), ("2", "王", "Ana")]), "{name}");
        assert!(out.warnings.is_empty() && out.rejects.is_empty());
    }
}

#[test]
fn a_nul_byte_rejects_a_row_in_an_id_and_is_a_warning_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", b"id,last,first\n1,Kim,Ana\n\x001,Kim,Ana\n2,Le\x00e,Bo\n");
    let out = read(students("s.csv", json!({})), dir.path()).unwrap();
    assert_eq!(names(&out), owned(&[("1", "Kim", "Ana"), ("2", "Lee", "Bo")]), "no second student 1");
    let r: Vec<(&str, u64, &str)> =
        out.rejects.iter().map(|r| (r.file.as_str(), r.line, r.field.as_str())).collect();
    assert_eq!(r, [("s.csv", 3, "id")]);
    assert!(out.rejects[0].reason.contains("NUL"), "{:?}", out.rejects);
    let w: Vec<(u64, &str)> = out.warnings.iter().map(|w| (w.line, w.field.as_str())).collect();
    assert_eq!(w, [(4, "last")]);
    assert!(out.warnings[0].reason.contains("NUL byte(s)"));
    assert_accounted(&out, EntityKind::Students, 3);
}

#[test]
fn a_repeated_column_name_is_a_configuration_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", b"id,last,first,last\n1,Kim,Ana,Lee\n");
    let e = read(students("s.csv", json!({})), dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("s.csv") && e.message.contains("\"last\" (columns 2, 4)"), "{e}");
}

#[test]
fn a_binary_file_with_the_right_name_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", b"PK\x03\x04\x14\0\0\0\x08\0students.csv\x8a\x01\0\0\xff\xfe");
    let e = read(students("s.csv", json!({})), dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.message.contains("s.csv") && e.message.contains("not a text export: this is a ZIP archive"),
        "{e}"
    );
}

#[test]
fn a_file_cut_mid_record_rejects_its_last_record_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cut.csv", b"id,last,first\n1,Kim,Ana\n2,Le");
    write(dir.path(), "whole.csv", b"id,last,first\n1,Kim,Ana\n2,Lee,Bo");
    let out = read(students("cut.csv", json!({})), dir.path()).unwrap();
    assert_eq!(names(&out), owned(&[("1", "Kim", "Ana")]));
    let r: Vec<(&str, u64)> = out.rejects.iter().map(|r| (r.file.as_str(), r.line)).collect();
    assert_eq!(r, [("cut.csv", 3)]);
    assert!(out.rejects[0].reason.starts_with("file ends mid-record (truncated?)"), "{:?}", out.rejects);
    let out = read(students("whole.csv", json!({})), dir.path()).unwrap();
    assert_eq!(out.count(EntityKind::Students), 2, "a missing final newline is fine");
}

#[test]
fn an_empty_or_unrecognized_folder_is_a_configuration_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = json!({ "directory": dir.path().to_str().unwrap() });
    let e = read(cfg.clone(), dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains(&dir.path().display().to_string()) && e.message.contains("is empty"), "{e}");
    write(dir.path(), "Students.txt", b"id\n1\n");
    let e = read(cfg, dir.path()).unwrap_err();
    assert!(e.message.contains("holds 1 file(s) named otherwise: Students.txt"), "{e}");
}
