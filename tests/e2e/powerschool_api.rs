//! The PowerSchool connector's API mode through the real binary, against
//! the fake PowerSchool (`ferry_e2e::fakes::powerschool`) serving a
//! generated district: the API read migrates what the export read
//! migrates, through 429s and short-lived tokens; Ctrl-C mid-read, then a
//! resumed run that picks up at the first page not read and says which
//! pages it kept; a `/count` that disagrees stops the run naming the table.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_e2e::fakes::powerschool::{FakePowerSchool, Options};
use ferry_gen::PsGenOptions;

use crate::support::*;

const SECRET_VAR: &str = "FERRY_TEST_PS_SECRET";

fn district(dir: &Path, students: u32) -> std::path::PathBuf {
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    ferry_gen::powerschool(
        &PsGenOptions { students, seed: 31, quirks: false, ..PsGenOptions::default() },
        &export,
    )
    .unwrap();
    export
}

/// `migrate` arguments reading the fake through the API into CSV in `out`.
fn api_args(fake: &FakePowerSchool, out: &str, extra: &[&str]) -> Vec<String> {
    let (id, _) = fake.credentials();
    let mut a: Vec<String> = [
        "migrate",
        "--from",
        "powerschool",
        "--from-set",
        &format!("directory={}", fake.base_url()),
        "--from-set",
        &format!("client_id={id}"),
        "--from-set",
        &format!("client_secret={{ env = \"{SECRET_VAR}\" }}"),
        "--from-set",
        "state_dir=ps-state",
        "--from-set",
        "concurrency=2",
        "--to",
        "csv",
        "--to-set",
        &format!("directory={out}"),
        "--format",
        "json",
        "--allow-rejects",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for e in extra {
        a.push("--from-set".into());
        a.push((*e).to_owned());
    }
    a
}

fn command(cwd: &Path, fake: &FakePowerSchool, args: &[String]) -> Command {
    let mut c = Command::new(ferry_bin());
    c.current_dir(cwd)
        .env("FERRY_PLUGIN_PATH", plugins_dir())
        .env("FERRY_HOME", cwd.join(".ferry-home"))
        .env(SECRET_VAR, fake.credentials().1)
        .env_remove("FERRY_LOG")
        .args(args);
    c
}

fn run(cwd: &Path, fake: &FakePowerSchool, args: &[String]) -> (Option<i32>, String, String) {
    let o = command(cwd, fake, args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Per entity: (read, written, rejected, skipped).
fn entity_counts(report: &serde_json::Value) -> Vec<(String, u64, u64, u64, u64)> {
    report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = |k: &str| e[k].as_u64().unwrap();
            (
                e["entity"].as_str().or(e["name"].as_str()).unwrap_or_default().to_owned(),
                n("read"),
                n("written"),
                n("rejected"),
                n("skipped"),
            )
        })
        .collect()
}

fn notices(report: &serde_json::Value) -> String {
    report["notices"].to_string()
}

#[test]
fn the_api_read_migrates_what_the_export_read_migrates() {
    let tmp = tempfile::tempdir().unwrap();
    let export = district(tmp.path(), 40);
    let from_export = ferry(
        tmp.path(),
        &[plugins_dir()],
        &[
            "migrate",
            "--from",
            &format!("powerschool:{}", export.display()),
            "--to",
            "csv",
            "--to-set",
            "directory=out-export",
            "--format",
            "json",
            "--allow-rejects",
        ],
    );
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            max_page_size: 25,
            throttle_every: Some(6),
            token_lifetime: Duration::from_secs(1),
            latency: Duration::from_millis(3),
            ..Options::default()
        },
    )
    .unwrap();
    let (code, stdout, stderr) = run(tmp.path(), &fake, &api_args(&fake, "out-api", &[]));
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    assert_eq!(Some(code.unwrap()), from_export.code, "the same exit code as the export read: {stderr}");
    let api: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let exp = from_export.json();
    assert_eq!(entity_counts(&api), entity_counts(&exp));
    let s = fake.stats();
    assert!(s.throttled > 0 && s.tokens_issued >= 2, "429s retried and tokens refreshed: {s:?}");
    assert!(notices(&api).contains("PowerSchool API:"), "{}", notices(&api));
    // The CSV files hold the same records (the origin columns name other files).
    let files = |d: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(tmp.path().join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(files("out-export"), files("out-api"));
    assert!(!secret_in(tmp.path(), &fake.credentials().1), "the secret is written nowhere");
}

/// Whether `secret` is in any file under `dir`.
fn secret_in(dir: &Path, secret: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
            {
                return true;
            }
        }
    }
    false
}

#[test]
fn ctrl_c_mid_read_then_a_resumed_run_picks_up_and_reports_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let export = district(tmp.path(), 60);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options { max_page_size: 10, latency: Duration::from_millis(30), ..Options::default() },
    )
    .unwrap();
    let mut child = command(tmp.path(), &fake, &api_args(&fake, "out", &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once a few tables are read (and before the big ones are).
    let start = Instant::now();
    while fake.stats().pages.len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(120), "the read never got going");
        assert!(child.try_wait().unwrap().is_none(), "ferry ended before it was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted_at = Instant::now();
    let status = Command::new("sh").args(["-c", &format!("kill -INT {}", child.id())]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(interrupted_at.elapsed() < Duration::from_secs(10), "stopped within a request or so");
    let state = tmp.path().join("ps-state").join("state.json");
    assert!(state.exists(), "the state is kept for a resume");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o600);
        assert_eq!(mode(&tmp.path().join("ps-state")), 0o700);
    }
    let before = fake.stats().pages;
    // Schools is read first (then Terms, Gen…): it was read whole.
    let first = "schools".to_owned();
    assert!(before.contains_key(&first) && before.len() >= 4, "{before:?}");
    fake.set_latency(Duration::ZERO);
    let (code, stdout, stderr) = run(tmp.path(), &fake, &api_args(&fake, "out", &["resume=true"]));
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let n = notices(&report);
    assert!(n.contains("resumed an interrupted read") && n.contains(&format!("{first} pages 1-")), "{n}");
    assert!(n.contains("read again") || n.contains("no page was read twice"), "{n}");
    let after = fake.stats().pages;
    assert_eq!(after[&first], before[&first], "a table read before the interrupt is not read again");
    assert!(after.get("students").is_some_and(|p| !p.is_empty()), "the rest was read");
    assert!(!tmp.path().join("ps-state").exists(), "the state folder is emptied once the read is over");

    // The same district read whole gives the same counts.
    let (_, whole, _) = run(tmp.path(), &fake, &api_args(&fake, "out2", &[]));
    let whole: serde_json::Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(entity_counts(&whole), entity_counts(&report));
}

#[test]
fn a_count_that_disagrees_stops_the_run_naming_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let export = district(tmp.path(), 10);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options { count_offset: [("sections".to_owned(), -2)].into(), ..Options::default() },
    )
    .unwrap();
    let (code, _, stderr) = run(tmp.path(), &fake, &api_args(&fake, "out", &[]));
    assert_ne!(code, Some(0));
    assert!(stderr.contains("sections") && stderr.contains("/count"), "{stderr}");
    let (code, stdout, stderr) = run(tmp.path(), &fake, &api_args(&fake, "out", &["count_check=\"warn\""]));
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    assert!(stdout.contains("sections"), "the report names the table");
}
