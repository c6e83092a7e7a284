//! Run a plugin in-process, through the same adapters the host calls, with no
//! `dlopen`: for connector authors' unit tests.

use abi_stable::std_types::{ROption, RResult};
use ferry_model::{EntityKind, Record};
use ferry_plugin_abi::{Manifest, OpenRequest, RunSummary};

use crate::codec;
use crate::error::Error;
use crate::plugin::{Plugin, build_manifest, open_sink, open_source};
use crate::reject::Reject;

/// The plugin's manifest, as the host would see it; fails on a bad manifest.
pub fn manifest<P: Plugin>() -> Result<Manifest, String> {
    build_manifest(P::MANIFEST, "0.0.0")
}

fn request(config: &serde_json::Value, base_dir: &std::path::Path) -> OpenRequest {
    OpenRequest {
        config_json: config.to_string().into(),
        base_dir: base_dir.to_string_lossy().into_owned().into(),
        run_id: "testkit".into(),
    }
}

/// Everything a source produced: encoded batches and rejects.
#[derive(Debug, Default)]
pub struct SourceOutput {
    /// `(entity, count, encoded records)` per batch, in order.
    pub batches: Vec<(EntityKind, u32, Vec<u8>)>,
    /// Every reject.
    pub rejects: Vec<Reject>,
}

impl SourceOutput {
    /// Decodes every record of type `R`.
    pub fn records<R: Record>(&self) -> Result<Vec<R>, Error> {
        let mut out = Vec::new();
        for (e, _, bytes) in &self.batches {
            if *e == R::KIND {
                for r in codec::decode::<R>(bytes) {
                    out.push(r?);
                }
            }
        }
        Ok(out)
    }

    /// Records of `entity`.
    pub fn count(&self, entity: EntityKind) -> u64 {
        self.batches.iter().filter(|b| b.0 == entity).map(|b| u64::from(b.1)).sum()
    }

    /// Rejects of `entity`.
    pub fn rejects_of(&self, entity: EntityKind) -> Vec<&Reject> {
        self.rejects.iter().filter(|r| r.entity == entity).collect()
    }
}

/// Opens `P`'s source with `config` and reads it to the end in batches of
/// `batch_size`.
pub fn run_source<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    batch_size: u32,
) -> Result<SourceOutput, Error> {
    let m = manifest::<P>();
    let mut src = match open_source::<P>(&m, request(config, base_dir)) {
        RResult::ROk(s) => s,
        RResult::RErr(e) => return Err(e.into()),
    };
    let mut out = SourceOutput::default();
    loop {
        match src.next_batch(batch_size) {
            RResult::ROk(ROption::RSome(b)) => {
                for d in b.diagnostics.iter() {
                    out.rejects.extend(Reject::from_diagnostic(d));
                }
                if b.count > 0 {
                    let e = EntityKind::from_name(&b.entity)
                        .ok_or_else(|| Error::internal(format!("unknown entity {}", b.entity)))?;
                    out.batches.push((e, b.count, b.records.into_vec()));
                }
            }
            RResult::ROk(ROption::RNone) => return Ok(out),
            RResult::RErr(e) => return Err(e.into()),
        }
    }
}

/// Writes `input` (a source's output) into `P`'s sink and commits.
/// Returns `(written, rejects)`.
pub fn run_sink<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    input: &SourceOutput,
) -> Result<(u64, Vec<Reject>), Error> {
    let m = manifest::<P>();
    let mut sink = match open_sink::<P>(&m, request(config, base_dir)) {
        RResult::ROk(s) => s,
        RResult::RErr(e) => return Err(e.into()),
    };
    let (mut written, mut rejects) = (0, Vec::new());
    for (entity, count, bytes) in &input.batches {
        let batch = ferry_plugin_abi::Batch {
            entity: entity.name().into(),
            model_major: ferry_model::MODEL_VERSION.0,
            model_minor: ferry_model::MODEL_VERSION.1,
            count: *count,
            records: bytes.clone().into(),
            diagnostics: Default::default(),
        };
        match sink.write_batch(batch) {
            RResult::ROk(r) => {
                written += r.written;
                rejects.extend(r.diagnostics.iter().filter_map(Reject::from_diagnostic));
            }
            RResult::RErr(e) => {
                let _ = sink.abort();
                return Err(e.into());
            }
        }
    }
    let summary = serde_json::to_string(&RunSummary { run_id: "testkit".into(), ..RunSummary::default() })
        .map_err(|e| Error::internal(e.to_string()))?;
    match sink.commit(summary.into()) {
        RResult::ROk(_) => Ok((written, rejects)),
        RResult::RErr(e) => Err(e.into()),
    }
}
