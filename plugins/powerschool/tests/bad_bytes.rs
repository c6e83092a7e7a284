//! Bad bytes never become good-looking data, on copies of `tests/data/district`
//! with bytes broken on purpose: a file mixing UTF-8 and Windows-1252, UTF-16
//! files, NUL bytes, a repeated column, a ZIP named students.txt, a file cut
//! mid-record, a class dropped the day it was added, a Student_Number two
//! students share, and a folder with nothing to migrate.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::{Path, PathBuf};

use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{
    Date, EntityKind, Grade, Record, SectionEnrollment, SectionEnrollmentStatus, Student,
};
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{Error, ErrorKind};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A change to a file's bytes.
type Edit<'a> = &'a dyn Fn(Vec<u8>) -> Vec<u8>;

/// A copy of the district export; each edit changes the bytes of one file.
fn district_with(edits: &[(&str, Edit<'_>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(data("district")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (file, edit) in edits {
        let path = dir.path().join(file);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, edit(bytes)).unwrap();
    }
    dir
}

/// `from` replaced by `to`, exactly once.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> =
        bytes.windows(from.len()).enumerate().filter(|(_, w)| *w == from).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 1, "{:?} once", String::from_utf8_lossy(from));
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

fn config(dir: &Path) -> serde_json::Value {
    json!({
        "directory": dir,
        "files": { "sections.txt": {
            "table": "Sections",
            "columns": ["ID", "DCID", "SchoolID", "Course_Number", "Section_Number", "TermID", "Teacher", "Room", "Expression"]
        } }
    })
}

fn try_read(dir: &Path) -> Result<SourceOutput, Error> {
    testkit::run_source::<PowerSchoolPlugin>(&config(dir), dir, 7)
}

fn read(dir: &Path) -> SourceOutput {
    try_read(dir).unwrap()
}

fn find<R: Record>(out: &SourceOutput, id: &str) -> R {
    out.records::<R>().unwrap().into_iter().find(|r| r.meta().source.id == id).unwrap()
}

fn last_names(out: &SourceOutput) -> Vec<String> {
    let mut n: Vec<String> = out.records::<Student>().unwrap().into_iter().map(|s| s.last_name).collect();
    n.sort();
    n
}

fn counts(out: &SourceOutput) -> Vec<(EntityKind, u64, usize)> {
    EntityKind::ALL.iter().map(|&e| (e, out.count(e), out.rejects_of(e).len())).collect()
}

#[test]
fn a_stray_windows_1252_name_in_a_utf8_students_file_spoils_no_other_name() {
    let plain = read(&data("district"));
    // No byte-order mark, and one name as a Windows tool writes it.
    let dir = district_with(&[("students.txt", &|b| {
        let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap().to_vec();
        replace(&b, "\tÅngström\t".as_bytes(), b"\t\xC5ngstr\xF6m\t")
    })]);
    let out = read(dir.path());
    assert_eq!(last_names(&out), last_names(&plain), "every name as in the clean export, none as mojibake");
    assert_eq!(counts(&out), counts(&plain));
    let w: Vec<(&str, u64, &str)> = out
        .warnings
        .iter()
        .filter(|w| w.reason.contains("UTF-8"))
        .map(|w| (w.file.as_str(), w.line, w.field.as_str()))
        .collect();
    assert_eq!(w, [("students.txt", 3, "[Students]Last_Name")], "{:?}", out.warnings);
    assert!(out.warnings.iter().any(|w| w.reason.contains("not valid UTF-8; read as windows-1252")));
}

#[test]
fn utf16_exports_with_a_byte_order_mark_read_like_the_utf8_ones() {
    let plain = read(&data("district"));
    let utf16 = |big: bool| {
        move |b: Vec<u8>| {
            let text = String::from_utf8(b).unwrap();
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let mut out: Vec<u8> = if big { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
            for u in text.encode_utf16() {
                out.extend_from_slice(&if big { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            out
        }
    };
    let (le, be) = (utf16(false), utf16(true));
    let dir = district_with(&[("students.txt", &le), ("cc.txt", &be), ("schools.txt", &le)]);
    let out = read(dir.path());
    assert_eq!(counts(&out), counts(&plain));
    assert_eq!(last_names(&out), last_names(&plain));
    assert_eq!(out.warnings.len(), plain.warnings.len());
}

#[test]
fn a_nul_before_a_dcid_rejects_the_row_and_never_makes_a_second_student() {
    let plain = read(&data("district"));
    let before = plain.rejects_of(EntityKind::Students).len();
    let dir = district_with(&[("students.txt", &|b| replace(&b, b"\n101\t5001\t", b"\n101\t\x005001\t"))]);
    let out = read(dir.path());
    let students = out.records::<Student>().unwrap();
    assert!(students.iter().all(|s| !s.meta.source.id.contains('\0')), "no student id holds a NUL");
    let r: Vec<(&str, u64, &str)> = out
        .rejects_of(EntityKind::Students)
        .iter()
        .filter(|r| r.reason.contains("NUL"))
        .map(|r| (r.file.as_str(), r.line, r.field.as_str()))
        .collect();
    assert_eq!(r, [("students.txt", 2, "[Students]DCID")]);
    assert_eq!(out.rejects_of(EntityKind::Students).len(), before + 1);
    // Nothing of that student's is pointed at another id.
    let grades = out.records::<Grade>().unwrap();
    assert!(grades.iter().all(|g| !g.student_id.as_deref().unwrap_or_default().contains('\0')));
    // A NUL in a name is a warning, and the name is read without it.
    let dir = district_with(&[("students.txt", &|b| {
        replace(&b, "\tNúñez\t6/9".as_bytes(), "\tNú\0ñez\t6/9".as_bytes())
    })]);
    let out = read(dir.path());
    assert_eq!(out.rejects_of(EntityKind::Students).len(), before);
    assert!(last_names(&out).contains(&"Núñez".to_owned()));
    let w: Vec<(u64, &str)> = out
        .warnings
        .iter()
        .filter(|w| w.reason.contains("NUL"))
        .map(|w| (w.line, w.field.as_str()))
        .collect();
    assert_eq!(w, [(2, "[Students]Last_Name")]);
}

#[test]
fn a_column_named_twice_is_a_configuration_error() {
    let dir = district_with(&[("students.txt", &|b| {
        replace(&b, b"[Students]Middle_Name", b"[Students]Last_Name")
    })]);
    let e = try_read(dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.message.contains("students.txt") && e.message.contains("\"[Students]Last_Name\" (columns 6, 7)"),
        "{e}"
    );
}

#[test]
fn a_zip_named_students_txt_is_a_configuration_error() {
    let dir = district_with(&[("students.txt", &|_| {
        b"PK\x03\x04\x14\0\0\0\x08\0students.txt\x8a\x01\0\0\xff\xfe\0\0".to_vec()
    })]);
    let e = try_read(dir.path()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.message.contains("students.txt: not a text export: this is a ZIP archive; unzip it first"),
        "{e}"
    );
}

#[test]
fn a_cc_file_cut_mid_record_rejects_its_last_row_as_truncated() {
    // Without its last line (a reject: its student is not there), cc.txt
    // ends with a good row; then that row is cut short.
    let whole = district_with(&[("cc.txt", &|b| {
        let end = b[..b.len() - 1].iter().rposition(|&c| c == b'\n').unwrap();
        b[..=end].to_vec()
    })]);
    let plain = read(whole.path());
    assert!(plain.rejects_of(EntityKind::SectionEnrollments).is_empty());
    let cut = district_with(&[("cc.txt", &|b| {
        let end = b[..b.len() - 1].iter().rposition(|&c| c == b'\n').unwrap();
        b[..end - 16].to_vec()
    })]);
    let out = read(cut.path());
    let r: Vec<(&str, u64, &str)> = out
        .rejects_of(EntityKind::SectionEnrollments)
        .iter()
        .map(|r| (r.file.as_str(), r.line, r.reason.as_str()))
        .collect();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].0, r[0].1), ("cc.txt", 5));
    assert!(r[0].2.starts_with("file ends mid-record (truncated?)"), "{r:?}");
    assert_eq!(
        out.count(EntityKind::SectionEnrollments) + 1,
        plain.count(EntityKind::SectionEnrollments),
        "every row accounted for"
    );
}

#[test]
fn a_class_dropped_the_day_it_was_added_never_ends_before_it_starts() {
    let dir = district_with(&[("cc.txt", &|b| {
        let b = replace(&b, b"\t2024-09-03\t2025-06-14\t1(A)\n2\t", b"\t2024-09-03\t2024-09-03\t1(A)\n2\t");
        replace(&b, b"\t2024-09-03\t2024-11-15\t", b"\t2024-09-03\t2024-08-01\t")
    })]);
    let out = read(dir.path());
    let day = Date::new(2024, 9, 3).unwrap();
    for e in out.records::<SectionEnrollment>().unwrap() {
        if let (Some(entry), Some(exit)) = (e.entry_date, e.exit_date) {
            assert!(exit >= entry, "{}: exit {exit} before entry {entry}", e.meta.source.id);
        }
    }
    let same_day: SectionEnrollment = find(&out, "601");
    assert_eq!((same_day.entry_date, same_day.exit_date), (Some(day), Some(day)));
    assert_eq!(same_day.status.unwrap().code, SectionEnrollmentStatus::Dropped);
    let before: SectionEnrollment = find(&out, "602");
    assert_eq!((before.entry_date, before.exit_date), (Some(day), None));
    assert_eq!(before.status.unwrap().code, SectionEnrollmentStatus::Dropped);
    let w: Vec<(&str, u64, &str)> = out
        .warnings
        .iter()
        .filter(|w| w.reason.contains("DateLeft is before DateEnrolled"))
        .map(|w| (w.file.as_str(), w.line, w.field.as_str()))
        .collect();
    assert_eq!(w, [("cc.txt", 3, "exit_date")]);
}

#[test]
fn a_student_number_two_students_share_is_a_summary_notice() {
    let plain = read(&data("district"));
    assert!(!plain.notices.iter().any(|n| n.contains("Student_Number")), "{:?}", plain.notices);
    let dir = district_with(&[("students.txt", &|b| replace(&b, b"\t200045\t", b"\t000123\t"))]);
    let out = read(dir.path());
    let n: Vec<&String> = out.notices.iter().filter(|n| n.contains("Student_Number")).collect();
    assert_eq!(n.len(), 1, "{:?}", out.notices);
    assert!(
        n[0].starts_with("1 Student_Number value(s) are each used by more than one student (2 students"),
        "{}",
        n[0]
    );
    assert!(!n[0].contains("000123") && !n[0].contains("Zoë"), "no numbers or names: {}", n[0]);
}

#[test]
fn an_empty_folder_is_a_configuration_error_not_an_empty_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = json!({ "directory": dir.path() });
    let e = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 7).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.message.contains(&dir.path().display().to_string()) && e.message.contains("holds no export files"),
        "{e}"
    );
    std::fs::write(dir.path().join("notes.txt"), "Log_Archive.ID\tLog_Archive.Note\n1\tx\n").unwrap();
    let e = testkit::run_source::<PowerSchoolPlugin>(&cfg, dir.path(), 7).unwrap_err();
    assert!(e.message.contains("none of them a PowerSchool table Ferry recognizes (notes.txt)"), "{e}");
}
