//! Property test of the accounting: random CSV districts with random bad
//! rows, each migrated by the real `ferry` (CSV source → SQLite archive).
//! Per entity, read = written + rejected + skipped, with the counts the
//! generator expects; every bad row is named by exactly one reject, with its
//! file and line, and nothing else is rejected.
//!
//! Bad rows: a missing id, a missing required name, bytes that are not
//! UTF-8, an extra field, a repeated student id (refused by the archive),
//! an impossible entry date, an exit before the entry, a missing school; and
//! enrollments of a rejected student (rejected by the host's cascade).
//! Enrollments of a student that does not exist are written: nothing in the
//! model asks for the parent to be in the same run.
//!
//! `FERRY_PROPTEST_CASES` (default 128) and `FERRY_PROPTEST_SEED` (default:
//! random) choose the cases; both are printed, and a failing case is shrunk
//! and shown with the seed that replays it.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use crate::support::*;

/// What a student row is.
#[derive(Clone, Debug)]
enum Student {
    Good,
    /// The required last name is empty: rejected by the source; its
    /// enrollments by the host's cascade.
    MissingLastName,
    /// The source id is empty.
    MissingId,
    /// A name holds a byte that is not UTF-8 (the file is read as UTF-8).
    BadBytes,
    /// One field too many.
    ExtraField,
    /// February 30th as the (optional) birth date: a warning, still written.
    BadBirthDate,
    /// The id of an earlier written student: the archive refuses the repeat.
    Repeat(usize),
}

/// What an enrollment row is.
#[derive(Clone, Debug)]
enum Enrollment {
    Good,
    /// February 30th as the (required) entry date.
    BadEntryDate,
    /// Ends a month before it starts.
    ExitBeforeEntry,
    /// The required school is empty.
    MissingSchool,
    /// Points at a student no file has: written.
    Orphan,
}

#[derive(Clone, Debug)]
struct District {
    students: Vec<(Student, Vec<Enrollment>)>,
    crlf: bool,
    /// Blank lines after each row (they shift line numbers, not rows).
    blanks: Vec<u8>,
    /// `--only orgs,students`: enrollments are skipped (after the cascade).
    only: bool,
}

fn student() -> impl Strategy<Value = Student> {
    prop_oneof![
        6 => Just(Student::Good),
        1 => Just(Student::MissingLastName),
        1 => Just(Student::MissingId),
        1 => Just(Student::BadBytes),
        1 => Just(Student::ExtraField),
        1 => Just(Student::BadBirthDate),
        1 => any::<usize>().prop_map(Student::Repeat),
    ]
}

fn enrollment() -> impl Strategy<Value = Enrollment> {
    prop_oneof![
        6 => Just(Enrollment::Good),
        1 => Just(Enrollment::BadEntryDate),
        1 => Just(Enrollment::ExitBeforeEntry),
        1 => Just(Enrollment::MissingSchool),
        1 => Just(Enrollment::Orphan),
    ]
}

fn district() -> impl Strategy<Value = District> {
    (
        prop::collection::vec((student(), prop::collection::vec(enrollment(), 0..3)), 1..14),
        any::<bool>(),
        prop::collection::vec(prop_oneof![4 => Just(0u8), 1 => 1u8..3], 40),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(students, crlf, blanks, only)| District { students, crlf, blanks, only })
}

/// The files of a district, and what the run must report.
struct Expected {
    /// `(file, text)`.
    files: Vec<(&'static str, Vec<u8>)>,
    /// Per entity: rows read and rows rejected.
    counts: BTreeMap<&'static str, (u64, u64)>,
    /// Every `(file, line)` that must be rejected.
    rejects: Vec<(String, u64)>,
}

/// Lines of one file: the header, then rows with the district's blank lines.
struct File {
    name: &'static str,
    text: Vec<u8>,
    line: u64,
    eol: &'static [u8],
    read: u64,
    rejected: u64,
}

impl File {
    fn new(name: &'static str, header: &str, eol: &'static [u8]) -> File {
        let mut text = header.as_bytes().to_vec();
        text.extend_from_slice(eol);
        File { name, text, line: 1, eol, read: 0, rejected: 0 }
    }

    /// Adds a row; returns its line.
    fn row(&mut self, bytes: &[u8], blanks: u8) -> u64 {
        self.line += 1;
        let line = self.line;
        self.text.extend_from_slice(bytes);
        self.text.extend_from_slice(self.eol);
        for _ in 0..blanks {
            self.text.extend_from_slice(self.eol);
            self.line += 1;
        }
        self.read += 1;
        line
    }
}

fn expected(d: &District) -> Expected {
    let eol: &'static [u8] = if d.crlf { b"\r\n" } else { b"\n" };
    let mut blanks = d.blanks.iter().copied().cycle();
    let mut rejects = Vec::new();
    let mut schools = File::new("schools.csv", "id,name,type", eol);
    for s in ["D1,Prop District,district", "SCH1,Prop Elementary,school", "SCH2,\"Prop High, North\",school"]
    {
        schools.row(s.as_bytes(), 0);
    }
    let mut students = File::new("students.csv", "Student ID,Last,First,Birth Date,School", eol);
    let mut enrollments = File::new("enrollments.csv", "id,student,school,entry,exit", eol);
    let mut written_ids: Vec<String> = Vec::new();
    for (i, (kind, enrs)) in d.students.iter().enumerate() {
        let mut id = format!("S{i:03}");
        let school = if i % 2 == 0 { "SCH1" } else { "SCH2" };
        let row =
            |id: &str, last: &str, birth: &str| format!("{id},{last},First{i},{birth},{school}").into_bytes();
        let (bytes, bad, cascades) = match kind {
            Student::Good => (row(&id, &format!("Last{i}"), "2010-01-02"), false, false),
            Student::MissingLastName => (row(&id, "", "2010-01-02"), true, true),
            Student::MissingId => (row("", &format!("Last{i}"), "2010-01-02"), true, false),
            Student::BadBytes => {
                let mut b = format!("{id},La").into_bytes();
                b.extend_from_slice(b"\xff\xfe");
                b.extend_from_slice(format!("st{i},First{i},2010-01-02,{school}").as_bytes());
                (b, true, false)
            }
            Student::ExtraField => {
                let mut b = row(&id, &format!("Last{i}"), "2010-01-02");
                b.extend_from_slice(b",extra");
                (b, true, false)
            }
            Student::BadBirthDate => (row(&id, &format!("Last{i}"), "2010-02-30"), false, false),
            Student::Repeat(j) if !written_ids.is_empty() => {
                id = written_ids[j % written_ids.len()].clone();
                (row(&id, &format!("Last{i}"), "2010-01-02"), true, false)
            }
            Student::Repeat(_) => (row(&id, &format!("Last{i}"), "2010-01-02"), false, false),
        };
        let line = students.row(&bytes, blanks.next().unwrap_or(0));
        if bad {
            students.rejected += 1;
            rejects.push((students.name.to_owned(), line));
        } else {
            written_ids.push(id.clone());
        }
        // Enrollments only of students whose id the row gives for sure.
        if !(matches!(kind, Student::Good | Student::MissingLastName | Student::BadBirthDate)) {
            continue;
        }
        for (k, e) in enrs.iter().enumerate() {
            let eid = format!("E{i:03}-{k}");
            let (student_id, school_id, entry, exit, bad) = match e {
                Enrollment::Good => (id.clone(), school, "2024-08-19", "2025-06-06", false),
                Enrollment::BadEntryDate => (id.clone(), school, "2024-02-30", "", true),
                Enrollment::ExitBeforeEntry => (id.clone(), school, "2024-08-19", "2024-07-19", true),
                Enrollment::MissingSchool => (id.clone(), "", "2024-08-19", "", true),
                Enrollment::Orphan => (format!("NOSUCH{i}"), school, "2024-08-19", "", false),
            };
            let parent_rejected = cascades && !matches!(e, Enrollment::Orphan);
            let row = format!("{eid},{student_id},{school_id},{entry},{exit}");
            let line = enrollments.row(row.as_bytes(), blanks.next().unwrap_or(0));
            if bad || parent_rejected {
                enrollments.rejected += 1;
                rejects.push((enrollments.name.to_owned(), line));
            }
        }
    }
    let counts = BTreeMap::from([
        ("orgs", (schools.read, schools.rejected)),
        ("students", (students.read, students.rejected)),
        ("school_enrollments", (enrollments.read, enrollments.rejected)),
    ]);
    rejects.sort();
    Expected {
        files: vec![
            (schools.name, schools.text),
            (students.name, students.text),
            (enrollments.name, enrollments.text),
        ],
        counts,
        rejects,
    }
}

const SOURCE: &str = r#"system = "prop"
[entities.orgs]
file = "schools.csv"
[entities.orgs.columns]
id = "source_id"
name = "name"
type = "kind"
[entities.students]
file = "students.csv"
[entities.students.dialect]
encoding = "utf-8"
[entities.students.columns]
"Student ID" = "source_id"
Last = "last_name"
First = "first_name"
"Birth Date" = "birth_date"
School = "school_id"
[entities.school_enrollments]
file = "enrollments.csv"
[entities.school_enrollments.columns]
id = "source_id"
student = "student_id"
school = "school_id"
entry = "entry_date"
exit = "exit_date"
"#;

fn check(d: &District) -> Result<(), TestCaseError> {
    let want = expected(d);
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in &want.files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    std::fs::write(tmp.path().join("source.toml"), SOURCE).unwrap();
    let mut args = vec!["migrate", "--from", "csv:source.toml", "--to", "sqlite:archive.sqlite"];
    args.extend(["--format", "json", "--allow-rejects"]);
    if d.only {
        args.extend(["--only", "orgs,students"]);
    }
    let run = ferry(tmp.path(), &[plugins_dir()], &args);
    prop_assert_eq!(run.code, Some(0), "ferry failed: {}", run.stderr);
    let report = run.json();
    for e in report["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        prop_assert_eq!(n("read"), n("written") + n("rejected") + n("skipped"), "unbalanced: {}", e);
    }
    for (name, (read, rejected)) in &want.counts {
        // An entity nothing was read of may be left out of the report.
        let zero = serde_json::json!({ "read": 0, "rejected": 0, "skipped": 0, "written": 0 });
        let e = report["entities"].as_array().unwrap().iter().find(|e| e["entity"] == *name).unwrap_or(&zero);
        let skipped = if d.only && *name == "school_enrollments" { read - rejected } else { 0 };
        let got = (e["read"].as_u64(), e["rejected"].as_u64(), e["skipped"].as_u64(), e["written"].as_u64());
        prop_assert_eq!(
            got,
            (Some(*read), Some(*rejected), Some(skipped), Some(read - rejected - skipped)),
            "{}",
            name
        );
    }
    let mut named: Vec<(String, u64)> = jsonl(&tmp.path().join("ferry-rejects.jsonl"))
        .iter()
        .filter(|r| r["severity"] == "reject")
        .map(|r| (r["file"].as_str().unwrap_or_default().to_owned(), r["line"].as_u64().unwrap_or(0)))
        .collect();
    named.sort();
    prop_assert_eq!(named, want.rejects.clone(), "the rejects named are not the bad rows, each once");
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn read_equals_written_plus_rejected_plus_skipped_and_each_bad_row_is_named_once() {
    let cases: u32 = env_or("FERRY_PROPTEST_CASES", 128);
    let seed: u64 = env_or("FERRY_PROPTEST_SEED", rand_seed());
    println!("accounting property: {cases} cases, seed {seed} (FERRY_PROPTEST_SEED={seed} replays them)");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    if let Err(e) = runner.run(&district(), |d| check(&d)) {
        panic!("seed {seed}: {e}");
    }
}

/// A seed from the clock and the process id, when none is given.
fn rand_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}
