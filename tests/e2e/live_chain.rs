//! Both live connectors end to end through the binary: a generated district
//! served by the fake PowerSchool API (`ferry_e2e::fakes::powerschool`:
//! paging, 429s, short-lived tokens) → canonical → the fake Ed-Fi API
//! (`ferry_e2e::fakes::edfi`: natural keys, references, descriptors,
//! 429s, revoked tokens). A dry run reports a descriptor the ODS lacks and
//! writes nothing; a run stopped by Ctrl-C in mid-read writes nothing
//! either; the resumed run picks up from the last page read, and every
//! record is accounted for: read = written + rejected + skipped per
//! entity, and what was written is what the ODS holds.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_e2e::fakes::edfi::FakeEdFi;
use ferry_e2e::fakes::powerschool::{FakePowerSchool, Options};
use ferry_gen::PsGenOptions;

use crate::support::*;

const PS_SECRET: &str = "FERRY_TEST_CHAIN_PS_SECRET";
const EDFI_SECRET: &str = "FERRY_TEST_CHAIN_EDFI_SECRET";

/// `ferry migrate` from the fake PowerSchool API to the fake Ed-Fi API.
fn migrate(dir: &Path, ps: &FakePowerSchool, edfi: &FakeEdFi, extra: &[&str]) -> Command {
    let (ps_id, ps_secret) = ps.credentials();
    let (ed_id, ed_secret) = edfi.credentials();
    let mut c = Command::new(ferry_bin());
    c.current_dir(dir)
        .env("FERRY_PLUGIN_PATH", plugins_dir())
        .env("FERRY_HOME", dir.join(".ferry-home"))
        .env(PS_SECRET, ps_secret)
        .env(EDFI_SECRET, ed_secret)
        .env_remove("FERRY_LOG")
        .args(["migrate", "--from", "powerschool", "--to", "edfi"])
        .args(["--from-set", &format!("directory={}", ps.base_url())])
        .args(["--from-set", &format!("client_id={ps_id}")])
        .args(["--from-set", &format!("client_secret={{ env = \"{PS_SECRET}\" }}")])
        .args(["--from-set", "state_dir=ps-state", "--from-set", "concurrency=2"])
        .args(["--to-set", &format!("base_url={}", edfi.base_url())])
        .args(["--to-set", &format!("client_id={ed_id}")])
        .args(["--to-set", &format!("client_secret={{ env = \"{EDFI_SECRET}\" }}")])
        .args(["--to-set", "concurrency=4", "--to-set", "max_retries=6"])
        .args(["--format", "json", "--allow-rejects"])
        .args(extra);
    c
}

fn output(mut c: Command) -> (Option<i32>, serde_json::Value, String) {
    let o = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o.status.code(), report, stderr)
}

#[test]
fn a_district_moves_from_the_powerschool_api_to_the_ed_fi_api_through_faults_a_stop_and_a_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    ferry_gen::powerschool(
        &PsGenOptions { students: 50, seed: 77, quirks: false, ..PsGenOptions::default() },
        &export,
    )
    .unwrap();
    let ps = FakePowerSchool::serve_folder(
        &export,
        Options {
            max_page_size: 10,
            throttle_every: Some(9),
            token_lifetime: Duration::from_secs(1),
            latency: Duration::from_millis(25),
            ..Options::default()
        },
    )
    .unwrap();
    let edfi = FakeEdFi::start();

    // The dry run: a grade level the ODS lacks is reported before any write.
    let ninth = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade";
    assert!(edfi.remove_descriptor(ninth));
    ps.set_latency(Duration::ZERO);
    let (code, report, stderr) =
        output(migrate(dir, &ps, &edfi, &["--dry-run", "--rejects", "dry-rejects.jsonl"]));
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    assert!(edfi.counts().values().all(|n| *n == 0), "a dry run wrote: {:?}", edfi.counts());
    let rejects = jsonl(&dir.join("dry-rejects.jsonl"));
    assert!(
        rejects
            .iter()
            .any(|r| r["reason"].as_str().is_some_and(|m| m.contains("GradeLevelDescriptor#Ninth grade"))),
        "the dry run names the missing descriptor: {report}"
    );
    edfi.add_descriptor(ninth);

    // Ctrl-C in mid-read: nothing reaches the ODS (the sink writes once the read is whole).
    ps.set_latency(Duration::from_millis(25));
    let mut child =
        migrate(dir, &ps, &edfi, &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let served = |ps: &FakePowerSchool| ps.stats().pages.values().map(Vec::len).sum::<usize>();
    let before = served(&ps);
    let start = Instant::now();
    while served(&ps) < before + 4 {
        assert!(start.elapsed() < Duration::from_secs(120), "the read never got going");
        assert!(child.try_wait().unwrap().is_none(), "ferry ended before it was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        Command::new("sh").args(["-c", &format!("kill -INT {}", child.id())]).status().unwrap().success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(edfi.counts().values().all(|n| *n == 0), "an interrupted read wrote: {:?}", edfi.counts());
    assert!(!dir.join("ferry-rejects.jsonl").exists(), "a stopped run leaves no rejects file");

    // The resumed run, with the Ed-Fi API throttling and revoking a token.
    ps.set_latency(Duration::ZERO);
    edfi.inject(429, 3, Some(0));
    edfi.revoke_tokens_after(40);
    let (code, report, stderr) = output(migrate(dir, &ps, &edfi, &["--from-set", "resume=true"]));
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    assert_balanced(&report);
    let notes = report["notices"].to_string();
    assert!(notes.contains("resumed an interrupted read"), "{notes}");
    // What was written is what the ODS holds.
    for (name, resource) in [
        ("students", "students"),
        ("staff", "staffs"),
        ("courses", "courses"),
        ("sections", "sections"),
        ("school_enrollments", "studentSchoolAssociations"),
        ("section_enrollments", "studentSectionAssociations"),
    ] {
        let written = entity(&report, name)["written"].as_u64().unwrap();
        assert!(written > 0, "{name}: {report}");
        assert_eq!(edfi.count(resource) as u64, written, "{name}");
    }
    let receipts = jsonl(&dir.join("ferry-receipts.jsonl"));
    assert_eq!(receipts.len() as u64, total(&report, "written"), "one receipt per record written");
    let (p, e) = (ps.stats(), edfi.stats());
    assert!(p.throttled > 0 && p.tokens_issued >= 2, "PowerSchool 429s retried, tokens refreshed: {p:?}");
    assert!(e.throttled > 0 && e.tokens_issued >= 2, "Ed-Fi 429s retried, a revoked token replaced: {e:?}");
}
