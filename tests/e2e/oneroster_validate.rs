//! `ferry validate oneroster`: the real LMS Toolkit 1.1 sample as it is, and
//! one precise error for each kind of broken package, built from a copy of
//! the sample in a temporary folder; a package written by `ferry-oneroster`
//! passes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{ferry, samples};

fn sample() -> PathBuf {
    samples().join("oneroster/lms-toolkit-1.1")
}

/// A copy of the sample in a temporary folder, to break.
fn copy_sample() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    fs::create_dir(&pkg).unwrap();
    for e in fs::read_dir(sample()).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), pkg.join(e.file_name())).unwrap();
    }
    (dir, pkg)
}

/// Replaces one line (1-based) of a file.
fn edit_line(path: &Path, line: usize, f: impl FnOnce(&str) -> String) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    lines[line - 1] = f(&lines[line - 1]);
    fs::write(path, lines.join("\n")).unwrap();
}

fn validate(dir: &Path, pkg: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["validate", "oneroster", pkg.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let run = ferry(dir, &[], &args);
    (run.code, run.json())
}

/// Where a problem is: file, line, column index, column name.
type At = (String, Option<u64>, Option<u64>, Option<String>);

/// The problems of a code, where they are.
fn found(report: &Value, code: &str) -> Vec<At> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == code)
        .map(|p| {
            (
                p["file"].as_str().unwrap_or("").to_owned(),
                p["line"].as_u64(),
                p["column"]["index"].as_u64(),
                p["column"]["name"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn codes(report: &Value) -> Vec<String> {
    report["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_shared_sample_is_the_bundled_one() {
    // The reference copy beside the repository (as CI lays it), when present.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/oneroster/lms-toolkit-1.1");
    if !shared.is_dir() {
        eprintln!("skipped: no shared/ beside the repository");
        return;
    }
    for e in fs::read_dir(&shared).unwrap() {
        let e = e.unwrap();
        assert_eq!(
            fs::read(e.path()).unwrap(),
            fs::read(sample().join(e.file_name())).unwrap(),
            "{:?}",
            e.file_name()
        );
    }
}

#[test]
fn the_lms_toolkit_sample_loads_and_its_problems_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (code, r) = validate(dir.path(), &sample(), &[]);
    assert_eq!(r["version"], "1.1");
    assert_eq!(r["declared_version"], "1.1");
    let rows: BTreeMap<String, u64> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_owned(), f["rows"].as_u64().unwrap()))
        .collect();
    let expected: BTreeMap<String, u64> = [
        ("manifest.csv", 17),
        ("academicSessions.csv", 3),
        ("orgs.csv", 2),
        ("users.csv", 10),
        ("courses.csv", 2),
        ("demographics.csv", 8),
        ("classes.csv", 2),
        ("enrollments.csv", 24),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(rows, expected);
    // What the real package gets wrong, and nothing else: manifest.version
    // written 1 (a warning), and two teacher rows with a 19th field.
    assert_eq!(
        found(&r, "manifest-version"),
        [("manifest.csv".to_owned(), Some(2), Some(2), Some("value".to_owned()))]
    );
    assert_eq!(r["problems"][0]["severity"], "warning");
    assert_eq!(
        found(&r, "row-width"),
        [
            ("users.csv".to_owned(), Some(10), Some(19), Some("beyond the header".to_owned())),
            ("users.csv".to_owned(), Some(11), Some(19), Some("beyond the header".to_owned())),
        ]
    );
    assert_eq!(codes(&r).len(), 3, "{:#}", r["problems"]);
    assert_eq!(
        (r["errors"].as_u64(), r["warnings"].as_u64(), r["valid"].as_bool()),
        (Some(2), Some(1), Some(false))
    );
    assert_eq!(code, Some(1));

    // The summary for people: counts per file, problems at file:line:column,
    // and no personal values (names, emails, phones, birth dates).
    let run = ferry(dir.path(), &[], &["validate", "oneroster", sample().to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    for needle in [
        "enrollments.csv",
        "users.csv:10:19",
        "manifest.csv:2:2",
        "row-width (2)",
        "Not valid: 2 error(s), 1 warning(s).",
    ] {
        assert!(run.stdout.contains(needle), "{needle} not in\n{}", run.stdout);
    }
    for personal in ["Mary", "Archer", "studentgps.org", "(950)", "1997-05-30"] {
        assert!(!run.stdout.contains(personal) && !run.stderr.contains(personal), "{personal} printed");
    }
}

#[test]
fn a_missing_manifest() {
    let (dir, pkg) = copy_sample();
    fs::remove_file(pkg.join("manifest.csv")).unwrap();
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&r, "manifest-missing"), [("manifest.csv".to_owned(), None, None, None)]);
    // Without a manifest it is checked as 1.2 unless told: with --version 1.1
    // only the manifest is missing (and the sample's own row widths).
    let (code, r) = validate(dir.path(), &pkg, &["--version", "1.1"]);
    assert_eq!(code, Some(1));
    let mut c = codes(&r);
    c.dedup();
    assert_eq!(c, ["manifest-missing", "row-width"]);
}

#[test]
fn the_wrong_header_order() {
    let (dir, pkg) = copy_sample();
    // classes.csv: grades before title.
    edit_line(&pkg.join("classes.csv"), 1, |l| l.replacen("title,grades", "grades,title", 1));
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        found(&r, "header-order"),
        [("classes.csv".to_owned(), Some(1), Some(4), Some("grades".to_owned()))]
    );
    let p = r["problems"].as_array().unwrap().iter().find(|p| p["code"] == "header-order").unwrap();
    assert!(p["message"].as_str().unwrap().contains("where the specification's order puts title"), "{p}");
}

#[test]
fn an_unknown_enumeration_value() {
    let (dir, pkg) = copy_sample();
    edit_line(&pkg.join("classes.csv"), 2, |l| l.replacen(",scheduled,", ",lecture,", 1));
    edit_line(&pkg.join("classes.csv"), 3, |l| l.replacen(",scheduled,", ",Scheduled,", 1));
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        found(&r, "enum-unknown"),
        [("classes.csv".to_owned(), Some(2), Some(8), Some("classType".to_owned()))]
    );
    // A case-only mismatch is an error too, with a hint.
    assert_eq!(
        found(&r, "enum-case"),
        [("classes.csv".to_owned(), Some(3), Some(8), Some("classType".to_owned()))]
    );
    let msgs: Vec<&str> =
        r["problems"].as_array().unwrap().iter().filter_map(|p| p["message"].as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("\"lecture\" is not a token") && m.contains("homeroom, scheduled")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("only by case")), "{msgs:?}");
}

#[test]
fn a_dangling_reference() {
    let (dir, pkg) = copy_sample();
    edit_line(&pkg.join("enrollments.csv"), 2, |l| {
        l.replacen("25590100101Trad120ENG112011", "NO-SUCH-CLASS", 1)
    });
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        found(&r, "dangling-reference"),
        [("enrollments.csv".to_owned(), Some(2), Some(4), Some("classSourcedId".to_owned()))]
    );
    let p = r["problems"].as_array().unwrap().iter().find(|p| p["code"] == "dangling-reference").unwrap();
    assert_eq!(p["message"], "classSourcedId NO-SUCH-CLASS is not a sourcedId in classes.csv");
}

#[test]
fn a_duplicate_sourced_id() {
    let (dir, pkg) = copy_sample();
    edit_line(&pkg.join("enrollments.csv"), 3, |l| {
        let rest = l.split_once(',').unwrap().1;
        format!("6F4283DC-F831-4437-A9A3-E030C7AF0493,{rest}")
    });
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        found(&r, "duplicate-sourced-id"),
        [("enrollments.csv".to_owned(), Some(3), Some(1), Some("sourcedId".to_owned()))]
    );
    let p = r["problems"].as_array().unwrap().iter().find(|p| p["code"] == "duplicate-sourced-id").unwrap();
    assert!(p["message"].as_str().unwrap().ends_with("already used at line 2"), "{p}");
}

#[test]
fn a_manifest_listing_an_absent_file() {
    let (dir, pkg) = copy_sample();
    fs::remove_file(pkg.join("demographics.csv")).unwrap();
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    // file.demographics,bulk is line 12 of the manifest.
    assert_eq!(
        found(&r, "manifest-file-missing"),
        [("manifest.csv".to_owned(), Some(12), Some(2), Some("value".to_owned()))]
    );
    // And the other way: a file present that the manifest says is absent.
    let (dir, pkg) = copy_sample();
    fs::write(pkg.join("categories.csv"), "sourcedId,status,dateLastModified,title\nc1,,,Homework\n")
        .unwrap();
    let (_, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(
        found(&r, "manifest-file-unlisted"),
        [("manifest.csv".to_owned(), Some(16), Some(2), Some("value".to_owned()))]
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = ferry(dir.path(), &[], &["validate", "oneroster", "nowhere.zip"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("nowhere.zip: no such file or folder"), "{}", run.stderr);
    fs::write(dir.path().join("notes.zip"), "not a zip").unwrap();
    let run = ferry(dir.path(), &[], &["validate", "oneroster", "notes.zip"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("not a zip archive or a folder"), "{}", run.stderr);
}

#[test]
fn a_package_written_by_the_crate_passes_and_keeps_every_value() {
    use ferry_oneroster::{FileRows, Package, Version, WriteOptions, write_package};
    // Read the sample with the reader, write it with the writer (a zip).
    let pkg = Package::open(&sample()).unwrap();
    let mut files = Vec::new();
    for f in ferry_oneroster::spec::files(Version::V1_1) {
        let Ok(mut reader) = pkg.open_file(f.name, Version::V1_1) else { continue };
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row() {
            let row = row.unwrap();
            rows.push(row.iter().map(|(h, v)| (h.name.clone(), v.to_owned())).collect::<BTreeMap<_, _>>());
        }
        files.push(FileRows { name: f.name.to_owned(), rows });
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zip");
    let mut options = WriteOptions::bulk(Version::V1_1, &out);
    options.source_system_name = Some("Ferry".into());
    write_package(&out, options, &files).unwrap();

    let (code, r) = validate(dir.path(), &out, &[]);
    assert_eq!(r["problems"], serde_json::json!([]), "{r:#}");
    assert_eq!((code, r["kind"].as_str()), (Some(0), Some("zip")));
    let run = ferry(dir.path(), &[], &["validate", "oneroster", "out.zip"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("Valid: no problems."), "{}", run.stdout);

    // File by file, the same rows and values (metadata.* columns included).
    let back = Package::open(&out).unwrap();
    for f in &files {
        let mut reader = back.open_file(&f.name, Version::V1_1).unwrap();
        let mut i = 0;
        while let Some(row) = reader.next_row() {
            let row = row.unwrap();
            let got: BTreeMap<String, String> =
                row.iter().map(|(h, v)| (h.name.clone(), v.to_owned())).collect();
            assert_eq!(got, f.rows[i], "{} row {}", f.name, i + 1);
            i += 1;
        }
        assert_eq!(i, f.rows.len(), "{}", f.name);
    }
}

#[test]
fn a_zip_with_an_enclosing_folder_loads_with_a_warning() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.zip");
    let mut z = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for e in fs::read_dir(sample()).unwrap() {
        let e = e.unwrap();
        z.start_file(format!("OneRoster/{}", e.file_name().to_string_lossy()), opts).unwrap();
        z.write_all(&fs::read(e.path()).unwrap()).unwrap();
    }
    z.finish().unwrap();
    let (code, r) = validate(dir.path(), &path, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&r, "enclosing-folder"), [(String::new(), None, None, None)]);
    assert_eq!(found(&r, "row-width").len(), 2);
    assert_eq!(r["files"].as_array().unwrap().len(), 8);
}

#[test]
fn the_terminal_shows_ten_problems_a_code_and_json_all() {
    let (dir, pkg) = copy_sample();
    let path = pkg.join("enrollments.csv");
    let text = fs::read_to_string(&path).unwrap().replace(",student,", ",Student,");
    fs::write(&path, text).unwrap();
    let (code, r) = validate(dir.path(), &pkg, &[]);
    assert_eq!(code, Some(1));
    let cased = found(&r, "enum-case");
    assert_eq!(cased.len(), 20);
    assert!(
        cased
            .iter()
            .all(|(f, _, c, n)| f == "enrollments.csv" && *c == Some(7) && n.as_deref() == Some("role"))
    );
    let run = ferry(dir.path(), &[], &["validate", "oneroster", pkg.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("error enum-case (20):"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("enrollments.csv:").count(), 10, "{}", run.stdout);
    assert!(run.stdout.contains("… and 10 more"), "{}", run.stdout);
    assert!(run.stdout.contains("10 problem(s) not shown: --format json lists all."), "{}", run.stdout);
}
