//! API mode against the fake PowerSchool (`ferry_e2e::fakes::powerschool`)
//! serving a generated district: the API read gives the same canonical
//! records as the export read of the same district, through the quirks,
//! paging, 429s and short-lived tokens; a `/count` that disagrees stops the
//! read naming the table.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::Path;
use std::time::Duration;

use ferry_e2e::fakes::powerschool::{FakePowerSchool, Options};
use ferry_gen::{GenManifest, PsGenOptions};
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{EntityKind, Record, with_record_type};
use ferry_sdk::serde_json::{Value, json};
use ferry_sdk::testkit::{self, SourceOutput};

fn district(dir: &Path, students: u32) -> GenManifest {
    ferry_gen::powerschool(
        &PsGenOptions { students, seed: 23, quirks: false, ..PsGenOptions::default() },
        dir,
    )
    .unwrap()
}

fn api_config(fake: &FakePowerSchool, state: &Path) -> Value {
    let (id, secret) = fake.credentials();
    json!({
        "directory": fake.base_url(),
        "client_id": id,
        "client_secret": secret,
        "state_dir": state,
        "concurrency": 3,
    })
}

/// Records of `entity`, written out, without their origin (file and line
/// differ between an export file and a staged page) and their row hash
/// (a hash of the source row's text: the API gives ISO dates and its own
/// column order), extension keys lower-cased (the API gives column names
/// lower-case) and their `M/D/YYYY` dates as ISO (extensions keep the
/// source's text, and the API gives dates as `YYYY-MM-DD`). Everything
/// else must be equal.
fn canonical(out: &SourceOutput, entity: EntityKind) -> Vec<String> {
    with_record_type!(entity, R => {
        out.records::<R>().unwrap().into_iter().map(|mut r| {
            let meta = r.meta_mut();
            meta.origin = None;
            meta.row_hash = None;
            let mut ext: Vec<(String, String, bool)> = meta
                .ext
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), iso(v), meta.ext.is_pii(k)))
                .collect();
            ext.sort();
            meta.ext.clear();
            for (k, v, pii) in ext {
                meta.ext.insert_flagged(k, v, pii);
            }
            format!("{r:?}")
        }).collect()
    })
}

/// `M/D/YYYY` as `YYYY-MM-DD`; anything else as it is.
fn iso(v: &str) -> String {
    let p: Vec<&str> = v.split('/').collect();
    match p.as_slice() {
        [m, d, y]
            if y.len() == 4
                && [m, d, y].iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())) =>
        {
            format!("{y}-{:02}-{:02}", m.parse::<u32>().unwrap(), d.parse::<u32>().unwrap())
        }
        _ => v.to_owned(),
    }
}

fn entities() -> Vec<EntityKind> {
    testkit::manifest::<PowerSchoolPlugin>()
        .unwrap()
        .entities
        .iter()
        .map(|e| EntityKind::from_name(e).unwrap())
        .collect()
}

#[test]
fn the_api_and_the_export_give_the_same_records() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    let m = district(&export, 60);
    let from_export =
        testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": export }), tmp.path(), 500).unwrap();
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            max_page_size: 37,
            throttle_every: Some(7),
            token_lifetime: Duration::from_secs(1),
            latency: Duration::from_millis(2),
            ..Options::default()
        },
    )
    .unwrap();
    let state = tmp.path().join("state");
    let from_api =
        testkit::run_source::<PowerSchoolPlugin>(&api_config(&fake, &state), tmp.path(), 500).unwrap();
    let mut compared = 0;
    for e in entities() {
        let (a, b) = (canonical(&from_export, e), canonical(&from_api, e));
        assert_eq!(a.len(), b.len(), "{e:?}: export {} records, API {}", a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{e:?}");
        }
        compared += a.len();
        assert_eq!(from_export.rejects_of(e).len(), from_api.rejects_of(e).len(), "{e:?} rejects");
    }
    assert!(compared as u64 > m.total_rows() / 2, "{compared} records compared");
    let s = fake.stats();
    assert!(s.throttled > 0, "429s were served and retried: {s:?}");
    assert!(s.pages.get("students").is_some_and(|p| p.len() > 1), "students came in several pages");
    assert!(from_api.notices.iter().any(|n| n.contains("PowerSchool API:")), "{:?}", from_api.notices);
    // Pages of 37 rows: the one-record and empty pages the quirks make are read too.
    assert!(!state.join("pages").exists(), "the staged pages are removed once read");
}

#[test]
fn short_lived_tokens_are_refreshed() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    district(&export, 20);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            token_lifetime: Duration::from_secs(1),
            latency: Duration::from_millis(15),
            max_page_size: 50,
            ..Options::default()
        },
    )
    .unwrap();
    let out =
        testkit::run_source::<PowerSchoolPlugin>(&api_config(&fake, &tmp.path().join("s")), tmp.path(), 500)
            .unwrap();
    assert!(out.count(EntityKind::Students) > 0);
    let s = fake.stats();
    assert!(s.tokens_issued >= 2, "a read longer than a token's life fetched a new one: {s:?}");
}

#[test]
fn a_token_that_dies_early_is_fetched_again_on_the_401() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    district(&export, 20);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            token_dies_after: Some(Duration::from_millis(400)),
            latency: Duration::from_millis(15),
            max_page_size: 50,
            ..Options::default()
        },
    )
    .unwrap();
    let cfg = api_config(&fake, &tmp.path().join("s"));
    let out = testkit::run_source::<PowerSchoolPlugin>(&cfg, tmp.path(), 500).unwrap();
    assert!(out.count(EntityKind::Students) > 0);
    let s = fake.stats();
    assert!(
        s.unauthorized >= 1 && s.tokens_issued >= 2,
        "the expired token was refused and a new one fetched: {s:?}"
    );
}

#[test]
fn a_count_that_disagrees_names_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    district(&export, 10);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options { count_offset: [("courses".to_owned(), 3)].into(), ..Options::default() },
    )
    .unwrap();
    let cfg = api_config(&fake, &tmp.path().join("s"));
    let e = testkit::run_source::<PowerSchoolPlugin>(&cfg, tmp.path(), 500).unwrap_err();
    assert!(e.to_string().contains("courses") && e.to_string().contains("/count"), "{e}");
    let mut warn = cfg.clone();
    warn["count_check"] = json!("warn");
    let out = testkit::run_source::<PowerSchoolPlugin>(&warn, tmp.path(), 500).unwrap();
    assert!(out.count(EntityKind::Courses) > 0);
}

#[test]
fn a_resumed_read_keeps_the_tables_read_and_reads_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    district(&export, 30);
    let whole =
        testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": export }), tmp.path(), 500).unwrap();
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            max_page_size: 20,
            count_offset: [("sections".to_owned(), 1)].into(),
            ..Options::default()
        },
    )
    .unwrap();
    let state = tmp.path().join("s");
    let cfg = api_config(&fake, &state);
    // The first read stops at Sections (its count disagrees).
    let e = testkit::run_source::<PowerSchoolPlugin>(&cfg, tmp.path(), 500).unwrap_err();
    assert!(e.to_string().contains("sections"), "{e}");
    assert!(state.join("state.json").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state.join("state.json")), 0o600);
        assert_eq!(mode(&state.join("pages")), 0o700);
        assert_eq!(mode(&state.join("pages").join("schools.txt")), 0o600);
    }
    let before = fake.stats().pages;
    fake.set_count_offset("sections", 0);
    let mut resume = cfg.clone();
    resume["resume"] = json!(true);
    let out = testkit::run_source::<PowerSchoolPlugin>(&resume, tmp.path(), 500).unwrap();
    let after = fake.stats().pages;
    assert_eq!(after["schools"], before["schools"], "schools, read whole before, is not read again");
    assert!(after["sections"].len() > before["sections"].len(), "sections is read again");
    let notices = out.notices.join("\n");
    assert!(
        notices.contains("resumed an interrupted read") && notices.contains("schools pages 1-1"),
        "{notices}"
    );
    assert!(!notices.contains("sections pages"), "sections is not reported as kept: {notices}");
    for e in entities() {
        assert_eq!(canonical(&whole, e), canonical(&out, e), "{e:?}");
    }
}

#[test]
fn a_powerquery_is_read_in_place_of_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    district(&export, 10);
    let fake = FakePowerSchool::serve_folder(
        &export,
        Options {
            max_page_size: 7,
            queries: [("com.example.ferry.courses".to_owned(), "courses".to_owned())].into(),
            ..Options::default()
        },
    )
    .unwrap();
    let mut cfg = api_config(&fake, &tmp.path().join("s"));
    cfg["powerqueries"] =
        json!({ "com.example.ferry.courses": { "table": "Courses", "arguments": { "yearid": "35" } } });
    let out = testkit::run_source_with_tables::<PowerSchoolPlugin>(&cfg, tmp.path(), 500).unwrap();
    let courses = fake.rows("courses").unwrap() as u64;
    let stats = fake.stats();
    let pages = &stats.pages["com.example.ferry.courses"];
    assert_eq!(pages.len() as u64, courses / 7 + 1, "paged by 7: {pages:?}");
    assert!(!stats.pages.contains_key("courses"), "the Courses table is read through the query only");
    let kept: u64 = out.tables.iter().filter(|(t, _)| t == "Courses").map(|(_, b)| b.num_rows() as u64).sum();
    assert_eq!(kept, courses, "every row of the query is kept as a Courses row");
    assert_eq!(out.count(EntityKind::Courses) + out.rejects_of(EntityKind::Courses).len() as u64, courses);
}

#[test]
fn missing_credentials_and_unknown_tables_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakePowerSchool::start(Vec::new(), Options::default());
    let e =
        testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": fake.base_url() }), tmp.path(), 500)
            .unwrap_err();
    assert!(e.to_string().contains("client_id"), "{e}");
    let mut cfg = api_config(&fake, &tmp.path().join("s"));
    cfg["tables"] = json!({ "u_nosuch": "*" });
    let e = testkit::run_source::<PowerSchoolPlugin>(&cfg, tmp.path(), 500).unwrap_err();
    assert!(e.to_string().contains("u_nosuch") && e.to_string().contains("404"), "{e}");
    let mut bad = api_config(&fake, &tmp.path().join("s"));
    bad["client_secret"] = json!("wrong");
    assert!(testkit::run_source::<PowerSchoolPlugin>(&bad, tmp.path(), 500).is_err());
}
