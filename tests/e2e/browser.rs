//! Every HTML report in a real browser (issue 10, "Reports in a real
//! browser"): headless Chromium, driven through the DevTools protocol
//! (`cdp`), loads each report and finds no console errors, no uncaught
//! exceptions, no log errors and no requests but the file itself; the
//! headline figures on the rendered page equal those of the JSON report;
//! a screenshot and the page printed to PDF are kept under
//! `test-artifacts/browser/` in the target folder.
//!
//! To check a new page (the Solution Document, the readiness checks):
//!
//! ```ignore
//! let Some(mut browser) = browser::browser() else { return }; // skipped without Chromium
//! let page = browser::assert_report(&mut browser, "plan-render", &html_path, &[
//!     ("entities", "12".into()),       // each data-figure and the value it must show
//! ]);
//! assert!(page.text.contains("…"));      // the rendered text, for anything else
//! ```
//!
//! Without Chromium the tests print "skipped: chromium not found" and pass,
//! unless `FERRY_REQUIRE_BROWSER` is set (as `.ci/run` does): then they fail.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cdp::{Browser, Rendered, find_chromium};
use crate::support::*;

/// Where screenshots and PDFs go: `$FERRY_E2E_ARTIFACTS`, else
/// `test-artifacts/browser` in the target folder (`$CARGO_TARGET_DIR`, or
/// the one `ferry` was built in).
pub fn artifacts_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FERRY_E2E_ARTIFACTS") {
        return PathBuf::from(d).join("browser");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let bin = ferry_bin();
        bin.parent().and_then(Path::parent).map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
    });
    target.join("test-artifacts/browser")
}

/// A line on the terminal even though the test harness captures output.
fn notice(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// A headless Chromium for the report tests; `None`, after printing
/// "skipped: chromium not found", when it is not installed and
/// `FERRY_REQUIRE_BROWSER` is not set. Fails when it is set.
pub fn browser() -> Option<Browser> {
    let required = std::env::var_os("FERRY_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty());
    let Some(exe) = find_chromium() else {
        assert!(
            !required,
            "FERRY_REQUIRE_BROWSER is set but chromium was not found (apt-get install chromium, or set FERRY_CHROMIUM)"
        );
        notice(
            "skipped: chromium not found (apt-get install chromium to run the browser tests; FERRY_REQUIRE_BROWSER=1 makes this a failure)",
        );
        return None;
    };
    Some(Browser::launch(&exe).unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display())))
}

/// Loads the report `html` and asserts it is clean (no console error, no
/// uncaught exception, no log error, no request but itself; nothing dark
/// or too wide in print) and shows every expected figure (its
/// `data-figure` key and value, present in the rendered text). Saves
/// `NAME.png`, `NAME-print.png`, `NAME-a4.pdf`, `NAME-letter.pdf` and the page as `NAME.html`
/// under [`artifacts_dir`].
#[track_caller]
pub fn assert_report(b: &mut Browser, name: &str, html: &Path, expected: &[(&str, String)]) -> Rendered {
    let dir = artifacts_dir();
    let page = b
        .open(html, Some((&dir, name)))
        .unwrap_or_else(|e| panic!("{name}: the browser could not render {}: {e}", html.display()));
    assert!(page.problems.is_empty(), "{name} ({}): {:#?}", html.display(), page.problems);
    assert!(page.print_problems.is_empty(), "{name} in print: {:#?}", page.print_problems);
    assert_eq!(page.requests, std::slice::from_ref(&page.url), "{name}: only the file itself is loaded");
    let wrong = page.figure_mismatches(expected);
    assert!(wrong.is_empty(), "{name}: {wrong:#?}\nfigures on the page: {:?}", page.figures);
    assert_eq!(page.artifacts.len(), 4, "{name}: two screenshots and two PDFs");
    // The page itself beside them, to open by hand.
    let _ = std::fs::copy(html, dir.join(format!("{name}.html")));
    page
}

fn sum(items: &Value, key: &str) -> u64 {
    items.as_array().into_iter().flatten().map(|e| e[key].as_u64().unwrap_or(0)).sum()
}

/// The figures of a run report (dry run or migration), as its page shows them.
fn run_figures(report: &Value) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = ["read", "written", "skipped", "rejected"]
        .into_iter()
        .map(|k| (k, sum(&report["entities"], k).to_string()))
        .collect();
    if report["plan"].as_array().is_some_and(|p| !p.is_empty()) {
        for k in ["create", "update", "unchanged"] {
            out.push((k, sum(&report["plan"], k).to_string()));
        }
    }
    out
}

/// The HTML page beside a JSON report.
fn html_of(dir: &Path, json_report: &str) -> PathBuf {
    let html = dir.join(json_report.strip_suffix(".json").unwrap().to_owned() + ".html");
    assert!(html.is_file(), "no HTML page beside {json_report}");
    html
}

#[test]
fn every_report_renders_cleanly_in_headless_chromium() {
    let Some(mut b) = browser() else { return };
    let MigrationFolder { tmp: _tmp, dir, export } = migration_folder(None, 40, 10, true);
    // Names the reports must never show.
    let students = read(&export.join("students.txt"));
    let header: Vec<&str> = students.lines().next().unwrap().split('\t').collect();
    let last = header.iter().position(|h| h.ends_with("Last_Name")).unwrap();
    let names: Vec<String> = students
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(last))
        .filter(|n| n.len() > 3)
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 10);
    // One student twice: a repeated id for the inventory, rejects for the runs.
    let again = students.lines().rfind(|l| !l.trim().is_empty()).unwrap().to_owned();
    let ending = if students.contains("\r\n") { "\r\n" } else { "\n" };
    let mut text = students.clone();
    if !text.ends_with('\n') {
        text.push_str(ending);
    }
    std::fs::write(export.join("students.txt"), text + &again + ending).unwrap();
    let no_names = |what: &str, page: &Rendered| {
        for n in &names {
            assert!(!page.text.contains(n.as_str()), "{what} shows the name {n}");
        }
    };
    let from = "powerschool:export/ferry-source.toml";

    // The inventory: its figures from its JSON.
    let inv = ferry(&dir, &[plugins_dir()], &["inventory", "--from", from, "--format", "json"]);
    inv.ok();
    let p = inv.json();
    let anomalies: u64 =
        p["entities"].as_array().unwrap().iter().map(|e| sum(&e["anomalies"], "count")).sum();
    assert!(anomalies > 0 && sum(&p["read"], "rejected") > 0, "{}", p["read"]);
    let html = dir.join(p["reports"][2].as_str().unwrap());
    let page = assert_report(
        &mut b,
        "inventory",
        &html,
        &[
            ("entities", p["entities"].as_array().unwrap().len().to_string()),
            ("records", sum(&p["entities"], "records").to_string()),
            ("rejected", sum(&p["read"], "rejected").to_string()),
            ("anomalies", anomalies.to_string()),
            ("school-years", p["school_years"].as_array().unwrap().len().to_string()),
        ],
    );
    no_names("the inventory", &page);
    let students = p["entities"].as_array().unwrap().iter().find(|e| e["entity"] == "students").unwrap();
    assert!(page.text.contains("students: fill rate per field"), "the fill rates are charted");
    assert!(page.text.contains("students.grade_level: code distribution"), "the codes are charted");
    assert!(page.text.contains(&format!("students ({} records)", students["records"])));
    assert!(
        p["entities"].as_array().unwrap().iter().any(|e| e["per_school_year"].as_array().is_some()),
        "the district has records per school and year"
    );
    assert!(page.text.contains("records per school and school year"), "and they are charted");
    assert!(page.text.contains("Anomaly: repeated id"), "anomalies are listed by id, file and line");

    // A dry run of the live source, whose bad rows are rejected: the reasons are listed.
    let live = ferry(
        &dir,
        &[plugins_dir()],
        &["migrate", "--from", from, "--to", "csv:sandbox", "--dry-run", "--format", "json"],
    );
    live.ok();
    let report = live.json();
    assert!(sum(&report["entities"], "rejected") > 0, "{report}");
    let entry = jsonl(&dir.join("journal.jsonl")).pop().unwrap();
    let page = assert_report(
        &mut b,
        "dry-run-rejects",
        &html_of(&dir, entry["report"].as_str().unwrap()),
        &run_figures(&report),
    );
    let reason =
        report["entities"].as_array().unwrap().iter().find_map(|e| e["top_reasons"][0][0].as_str()).unwrap();
    assert!(page.text.contains(reason), "the reject reasons are listed: {reason}");
    no_names("the dry run of the live source", &page);

    let frozen = ferry(&dir, &[plugins_dir()], &["freeze", "--from", from, "--format", "json"]);
    frozen.ok();
    let snap = dir.join(frozen.json()["snapshot"].as_str().unwrap());
    let from_snap = format!("sqlite:{}", snap.join("snapshot.sqlite").display());

    // The dry run, in text: the terminal names the page.
    let dry =
        ferry(&dir, &[plugins_dir()], &["migrate", "--from", &from_snap, "--to", "csv:sandbox", "--dry-run"]);
    dry.ok();
    assert!(dry.stdout.contains("open in a browser: reports/dry-run-"), "{}", dry.stdout);
    let entry = jsonl(&dir.join("journal.jsonl")).pop().unwrap();
    let json = entry["report"].as_str().unwrap();
    let report: Value = serde_json::from_str(&read(&dir.join(json))).unwrap();
    assert_eq!(report["dry_run"], true);
    let page = assert_report(&mut b, "dry-run", &html_of(&dir, json), &run_figures(&report));
    no_names("the dry run", &page);
    assert!(page.text.contains("would create"), "{}", page.text);

    // The migration.
    let run = ferry(
        &dir,
        &[plugins_dir()],
        &["migrate", "--from", &from_snap, "--to", "csv:sandbox", "--format", "json"],
    );
    run.ok();
    let entry = jsonl(&dir.join("journal.jsonl")).pop().unwrap();
    let json = entry["report"].as_str().unwrap();
    let page = assert_report(&mut b, "migrate", &html_of(&dir, json), &run_figures(&run.json()));
    no_names("the migration", &page);

    // The reconciliation, passed, then failed on a record changed in the sandbox.
    let verify_figures = |v: &Value| -> Vec<(&'static str, String)> {
        let e = &v["entities"];
        let len =
            |k: &str| e.as_array().unwrap().iter().map(|r| r[k].as_array().unwrap().len()).sum::<usize>();
        vec![
            ("reconciled", v["reconciled"].to_string()),
            ("entities", e.as_array().unwrap().len().to_string()),
            ("snapshot", sum(e, "snapshot").to_string()),
            ("destination", sum(e, "destination").to_string()),
            ("rejected", sum(e, "rejected").to_string()),
            ("missing", len("missing").to_string()),
            ("unexpected", len("unexpected").to_string()),
            ("differing", len("differing").to_string()),
        ]
    };
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "csv:sandbox", "--format", "json"]);
    v.ok();
    let good = v.json();
    assert_eq!(good["reconciled"], true);
    let page = assert_report(
        &mut b,
        "verify",
        &dir.join(good["reports"][2].as_str().unwrap()),
        &verify_figures(&good),
    );
    assert!(page.text.contains("Reconciled: every record"), "{}", page.text);

    let csv = dir.join("sandbox/students.csv");
    let text = read(&csv);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let last = header.iter().position(|h| *h == "last_name").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let id = cells[1].clone();
    cells[last] = "Changedname".into();
    lines[1] = cells.join(",");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let v = ferry(&dir, &[plugins_dir()], &["verify", "--to", "csv:sandbox", "--format", "json"]);
    assert_eq!(v.code, Some(1), "{}", v.stderr);
    let bad = v.json();
    let page = assert_report(
        &mut b,
        "verify-mismatch",
        &dir.join(bad["reports"][2].as_str().unwrap()),
        &verify_figures(&bad),
    );
    assert_eq!(page.figures["differing"], "1");
    assert!(page.text.contains(&format!("Differing (1): {id}")), "every mismatch by id:\n{}", page.text);
    assert!(page.text.contains("NOT reconciled"));
    assert!(!page.text.contains("Changedname"), "no record values");
}

/// The check itself must fail on what it is there to catch: otherwise the
/// report tests above could pass without looking.
#[test]
fn the_browser_check_catches_scripts_errors_requests_and_wrong_figures() {
    let Some(mut b) = browser() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let page = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\">{body}</html>"))
            .unwrap();
        p
    };
    let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">";
    let cases = [
        ("console.html", "<body><script>console.error('boom-console')</script>".to_owned(), "boom-console"),
        (
            "throws.html",
            "<body><script>throw new Error('boom-uncaught')</script>".to_owned(),
            "boom-uncaught",
        ),
        (
            "image.html",
            "<body><img src=\"http://127.0.0.1:9/boom-image.png\">".to_owned(),
            "127.0.0.1:9/boom-image.png",
        ),
        (
            "sibling.html",
            "<link rel=\"stylesheet\" href=\"boom-sibling.css\"><body>".to_owned(),
            "boom-sibling.css",
        ),
        (
            "blocked.html",
            format!("{csp}<body><img src=\"http://127.0.0.1:9/boom-blocked.png\">"),
            "boom-blocked.png",
        ),
        ("inline-script.html", format!("{csp}<body><script>document.title='x'</script>"), "script"),
    ];
    for (file, body, expect) in &cases {
        let r = b.open(&page(file, body), None).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains(expect)),
            "{file}: expected a problem naming {expect:?}, got {:#?}",
            r.problems
        );
    }

    // A clean page passes, and its figures are compared.
    let clean = page(
        "clean.html",
        &format!(
            "{csp}<title>t</title><body><p>Records: <span class=\"figure\" data-figure=\"records\">5</span></p><p class=\"verdict\" data-figure=\"reconciled\" data-ok=\"false\">No</p>"
        ),
    );
    let r = b.open(&clean, None).unwrap();
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert!(r.figure_mismatches(&[("records", "5".into()), ("reconciled", "false".into())]).is_empty());
    assert_eq!(r.figure_mismatches(&[("records", "6".into())]).len(), 1, "a wrong figure is caught");
    assert_eq!(r.figure_mismatches(&[("rejected", "0".into())]).len(), 1, "a missing figure is caught");
    let dark =
        page("dark.html", "<style>@media print { body { background: #111; color: #eee } }</style><body>x");
    let r = b.open(&dark, None).unwrap();
    assert!(r.print_problems.iter().any(|p| p.contains("dark background")), "{:#?}", r.print_problems);
}

/// A browser that never answers fails the call within its timeout, and is
/// killed when dropped.
#[test]
fn a_hung_browser_fails_in_time_and_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("hung-browser");
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 60\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let page = tmp.path().join("p.html");
    std::fs::write(&page, "<!DOCTYPE html><p>x</p>").unwrap();
    let mut b = Browser::launch_with_timeout(&fake, Duration::from_secs(1)).unwrap();
    let pid = b.pid();
    let t0 = Instant::now();
    let err = b.open(&page, None).unwrap_err();
    assert!(err.contains("did not answer"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    drop(b);
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "the hung browser was killed and reaped");
}

#[test]
fn the_solution_document_and_the_readiness_checks_render_cleanly() {
    let Some(mut b) = browser() else { return };
    let MigrationFolder { tmp: _tmp, dir, export } =
        migration_folder(Some("Lakeview to NewSIS"), 30, 12, false);
    let run = |args: &[&str]| ferry(&dir, &[plugins_dir()], args);
    run(&["inventory", "--from", "powerschool:export/ferry-source.toml"]).ok();
    run(&["plan", "init", "--to", "csv:sandbox/"]).ok();
    let plan_path = dir.join("plan.toml");
    // One open question left unanswered, and an entity dropped.
    let plan = read(&plan_path).replace(
        "[entities.calendar_days]\npriority = \"required\"",
        "[entities.calendar_days]\npriority = \"not_needed\"\nreason = \"the new SIS builds its own calendar\"",
    );
    std::fs::write(&plan_path, plan).unwrap();
    let render = run(&["plan", "render", "--format", "json"]);
    render.ok();
    let doc = render.json();
    let html = dir.join(doc["reports"][1].as_str().unwrap());
    let open = doc["open_questions"].as_array().unwrap().len();
    assert!(open > 0, "the generated district has codes nobody mapped: {doc}");
    let moving = doc["entities"].as_array().unwrap().iter().filter(|e| e["priority"] != "not_needed").count();
    let entries: usize =
        doc["crosswalks"].as_array().unwrap().iter().map(|c| c[1].as_array().unwrap().len()).sum();
    let page = assert_report(
        &mut b,
        "solution-document",
        &html,
        &[
            ("open-questions", open.to_string()),
            ("entities", moving.to_string()),
            ("dropped", "1".into()),
            ("crosswalk-entries", entries.to_string()),
        ],
    );
    assert!(page.text.contains("calendar_days: the new SIS builds its own calendar"), "{}", page.text);
    assert!(page.text.contains("OPEN QUESTION"), "{}", page.text);

    let check = run(&["check", "--format", "json"]);
    assert_eq!(check.code, Some(1), "the generated district was never closed out: {}", check.stderr);
    let report = check.json();
    let html = dir.join(report["reports"][2].as_str().unwrap());
    let blocking_findings =
        report["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "blocking").count();
    let page = assert_report(
        &mut b,
        "check",
        &html,
        &[
            ("blocking", report["blocking"].to_string()),
            ("warnings", report["warnings"].to_string()),
            ("blocking-findings", blocking_findings.to_string()),
        ],
    );
    let first = &report["findings"][0]["examples"][0]["id"];
    assert!(page.text.contains(first.as_str().unwrap()), "the examples are listed by id: {}", page.text);
    // No student's name on either page.
    let students = read(&export.join("students.txt"));
    let header: Vec<&str> = students.lines().next().unwrap().split('\t').collect();
    let last = header.iter().position(|h| *h == "Last_Name").unwrap();
    for row in students.lines().skip(1).take(10) {
        let name = row.split('\t').nth(last).unwrap();
        assert!(!page.text.contains(name), "a student's name on the check page");
    }
}
