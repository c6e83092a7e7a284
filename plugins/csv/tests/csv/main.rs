//! Tests of the CSV plugin through `ferry_sdk::testkit`: the source, the
//! sink, and round trips between them. Fixtures are in `tests/data`; tests
//! that write work in temporary folders.
#![allow(clippy::unwrap_used, reason = "test helpers fail the test on error, like the tests")]

mod bad_bytes;
mod conformance;
mod perf;
mod round_trip;
mod sink;
mod source;

use std::path::{Path, PathBuf};

use ferry_plugin_csv::CsvPlugin;
use ferry_sdk::model::{EntityKind, Record};
use ferry_sdk::serde_json::Value;
use ferry_sdk::testkit::{self, SourceOutput};
use ferry_sdk::{Error, Reject};

/// The fixtures folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("data")
}

/// Runs the source over `config` in small batches (to cross batch edges).
pub fn read(config: Value, base: &Path) -> Result<SourceOutput, Error> {
    testkit::run_source::<CsvPlugin>(&config, base, 2)
}

/// Runs the sink; returns `(written, rejects)`.
pub fn write(config: Value, base: &Path, input: &SourceOutput) -> Result<(u64, Vec<Reject>), Error> {
    testkit::run_sink::<CsvPlugin>(&config, base, input)
}

/// A source output holding `records`, as a sink receives it.
pub fn batch_of<R: Record>(records: &[R]) -> SourceOutput {
    let mut out = SourceOutput::default();
    out.push(records).unwrap();
    out
}

/// Appends `records` to `out` as one more batch.
pub fn add_batch<R: Record>(out: &mut SourceOutput, records: &[R]) {
    out.batches.extend(batch_of(records).batches);
}

/// Records read, with their origin and row hash cleared (they differ
/// between files).
pub fn without_origin<R: Record>(mut records: Vec<R>) -> Vec<R> {
    for r in &mut records {
        r.meta_mut().origin = None;
        r.meta_mut().row_hash = None;
    }
    records
}

/// Rows read = records produced + rejects.
pub fn assert_accounted(out: &SourceOutput, entity: EntityKind, rows: u64) {
    let rejected = out.rejects_of(entity).len() as u64;
    assert_eq!(
        out.count(entity) + rejected,
        rows,
        "{entity}: records {} + rejects {rejected}",
        out.count(entity)
    );
}
