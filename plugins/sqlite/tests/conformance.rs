//! Ferry's conformance kit (`ferry_sdk::testing`) on the SQLite archive: its
//! sink fed the shared sample district, and its source reading the archive back.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod common;

use common::*;
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::serde_json::json;
use ferry_sdk::testing::Conformance;

#[test]
fn the_sqlite_archive_passes_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive_in(dir.path());
    let s = sample();
    ferry_sdk::testkit::run_sink::<SqlitePlugin>(&cfg(&archive), dir.path(), &s.output()).unwrap();
    let report = Conformance::<SqlitePlugin>::new(dir.path())
        .source(cfg(&archive))
        .sink(|out| json!({ "path": out.join("district.sqlite") }))
        .run();
    eprintln!("{report}");
    report.assert_passed();
}
