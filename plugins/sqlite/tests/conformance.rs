//! Ferry's conformance kit (`ferry_sdk::testing`) on the SQLite archive: its
//! sink fed the shared sample district, and its source reading the archive back.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod common;

use common::{archive_in, cfg};
use ferry_plugin_sqlite::SqlitePlugin;
use ferry_sdk::serde_json::json;
use ferry_sdk::testing::Conformance;

#[test]
fn the_sqlite_archive_passes_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive_in(dir.path());
    // Records of every entity, so that reading the archive back produces
    // every entity its source lists.
    let mut all = ferry_sdk::testkit::SourceOutput::default();
    for kind in ferry_sdk::model::EntityKind::ALL {
        ferry_sdk::model::with_record_type!(*kind, R => {
            let records: Vec<R> =
                (1..=3).map(|n| ferry_sdk::testkit::sample_record::<R>(&format!("r{n}"), n, true)).collect();
            all.push(&records).unwrap();
        });
    }
    let (written, rejects) =
        ferry_sdk::testkit::run_sink::<SqlitePlugin>(&cfg(&archive), dir.path(), &all).unwrap();
    assert!(rejects.is_empty() && written > 0, "{rejects:?}");
    let report = Conformance::<SqlitePlugin>::new(dir.path())
        .source(cfg(&archive))
        .sink(|out| json!({ "path": out.join("district.sqlite") }))
        .run();
    eprintln!("{report}");
    report.assert_passed();
}
