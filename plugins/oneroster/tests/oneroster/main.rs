//! Tests of the OneRoster plugin through `ferry_sdk::testkit`: the source on
//! the bundled Lakeview package and on small packages written here, the sink, and
//! round trips.
#![allow(clippy::unwrap_used, reason = "test helpers fail the test on error, like the tests")]

mod conformance;
mod sink;
mod source;

use std::path::{Path, PathBuf};

use ferry_plugin_oneroster::OneRosterPlugin;
use ferry_sdk::Error;
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit::{self, SourceOutput};

/// The bundled OneRoster 1.1 package (samples/oneroster/lakeview-1.1: fictional).
pub fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/oneroster/lakeview-1.1")
}

/// Reads the package at `path` in small batches (to cross batch edges).
pub fn read(path: &Path) -> Result<SourceOutput, Error> {
    testkit::run_source::<OneRosterPlugin>(&json!({ "path": path.to_str().unwrap() }), Path::new("."), 3)
}

/// Writes files into a new folder: `(name, text)`.
pub fn package(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.to_owned()
}
