//! Run a plugin in-process, through the same adapters and Arrow C Data
//! Interface crossing the host uses, with no `dlopen`: for connector authors'
//! unit tests.

use abi_stable::std_types::{ROption, RResult};
use ferry_model::{
    Date, Decimal, Diagnostic, EntityKind, FieldType, ListRef, Meta, Receipt, Record, RecordBatch,
    RecordBuilder, RecordView, TimeOfDay, Timestamp, Value,
};
use ferry_plugin_abi::{
    Batch, CancelFlag, CommitInfo, EntityPlan, Manifest, OpenOptions, OpenRequest, PrepareInfo, RunSummary,
    SOURCE_TABLE_PREFIX, source_table_name,
};

use crate::error::Error;
use crate::plugin::{Plugin, build_manifest, open_sink, open_source};
use crate::reject::Reject;

/// The plugin's manifest, as the host would see it; fails on a bad manifest.
pub fn manifest<P: Plugin>() -> Result<Manifest, String> {
    build_manifest(P::MANIFEST, "0.0.0")
}

/// A run id of its own for every opening, as a host gives each run.
fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("testkit-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn request(config: &serde_json::Value, base_dir: &std::path::Path, options: &OpenOptions) -> OpenRequest {
    OpenRequest {
        config_json: config.to_string().into(),
        base_dir: base_dir.to_string_lossy().into_owned().into(),
        run_id: run_id().into(),
        options_json: serde_json::to_string(options).unwrap_or_default().into(),
        cancel: CancelFlag::never(),
    }
}

/// `records` as the host sends them: a batch of `entity`.
fn wire_batch(entity: &str, records: &RecordBatch) -> Result<Batch, Error> {
    Ok(Batch {
        entity: entity.into(),
        model_major: ferry_model::MODEL_VERSION.0,
        model_minor: ferry_model::MODEL_VERSION.1,
        records: ferry_wire::export(records.clone()).map_err(wire)?,
        diagnostics: Default::default(),
    })
}

fn wire(e: ferry_wire::WireError) -> Error {
    Error::internal(e.0)
}

fn rejects(diags: Vec<Diagnostic>) -> Vec<Reject> {
    diags.iter().filter_map(Reject::from_diagnostic).collect()
}

/// An Arrow batch of `records` (for feeding sinks in tests).
pub fn batch_of<R: Record>(records: &[R]) -> Result<RecordBatch, Error> {
    let mut b = R::Builder::with_capacity(records.len());
    for r in records {
        b.push(r);
    }
    b.finish().map_err(|e| Error::internal(e.0))
}

/// A record of `R` for connector tests that must carry every field: each
/// field holds a value of its type that depends on `n` (text with an accent,
/// a comma and quotes; a code as its `n`-th canonical value with an
/// original of its own; an exact decimal with four places; a list of two
/// items), or, when `all_fields` is false, only the required fields do (the
/// record may then break an entity rule: a discipline participant names no
/// one). Its meta is `Meta::new("test", id)` and nothing else.
pub fn sample_record<R: Record>(id: &str, n: u32, all_fields: bool) -> R {
    let mut r = R::default();
    *r.meta_mut() = Meta::new("test", id);
    let day = Date::new(2024, 9, 1).and_then(|d| d.add_days(i64::from(n % 3650))).ok();
    let time = TimeOfDay::from_hms(8 + n % 10, 15, 30).unwrap_or_default();
    for f in R::fields().iter().filter(|f| all_fields || f.required) {
        let text = format!("{} {n}: é, \"q\"", f.name);
        let items = [format!("a{n}"), "b é".to_owned()];
        let original;
        let value = match f.ty {
            FieldType::Text => Value::Text(&text),
            FieldType::Int => Value::Int(i64::from(n) + 1),
            FieldType::Decimal => {
                Value::Decimal(Decimal::from_units(35_001 + i64::from(n)).unwrap_or_default())
            }
            FieldType::Bool => Value::Bool(n.is_multiple_of(2)),
            FieldType::Date => day.map_or(Value::Null, Value::Date),
            FieldType::Timestamp => {
                day.map_or(Value::Null, |d| Value::Timestamp(Timestamp::from_date_time(d, time)))
            }
            FieldType::Time => Value::Time(time),
            FieldType::Code(values) => {
                let code = values[n as usize % values.len()];
                original = format!("src {code}");
                Value::Code { code, original: &original }
            }
            FieldType::List => Value::List(ListRef::Slice(&items)),
        };
        // Every field takes a value of its own type.
        let _ = r.set(f.name, value);
    }
    r
}

/// Everything a source produced: batches, rejects and warnings.
#[derive(Debug, Default)]
pub struct SourceOutput {
    /// `(entity, records)` per batch, in order.
    pub batches: Vec<(EntityKind, RecordBatch)>,
    /// Every reject.
    pub rejects: Vec<Reject>,
    /// Every warning (records written with a field left empty).
    pub warnings: Vec<Reject>,
    /// `(table, rows)` per batch of a source table, in order (only when the
    /// source was asked for them: [`run_source_with_tables`]).
    pub tables: Vec<(String, RecordBatch)>,
    /// The source's lines for the run summary.
    pub notices: Vec<String>,
}

impl SourceOutput {
    /// Every record of type `R`, as owned values.
    pub fn records<R: Record>(&self) -> Result<Vec<R>, Error> {
        let mut out = Vec::new();
        for (e, b) in &self.batches {
            if *e == R::KIND {
                let v = R::View::new(b).map_err(|e| Error::data(e.0))?;
                out.extend((0..v.len()).map(|i| v.record(i)));
            }
        }
        Ok(out)
    }

    /// Records of `entity`.
    pub fn count(&self, entity: EntityKind) -> u64 {
        self.batches.iter().filter(|b| b.0 == entity).map(|b| b.1.num_rows() as u64).sum()
    }

    /// Rejects of `entity`.
    pub fn rejects_of(&self, entity: EntityKind) -> Vec<&Reject> {
        self.rejects.iter().filter(|r| r.entity == entity).collect()
    }

    /// Rows of source table `table`.
    pub fn table_rows(&self, table: &str) -> u64 {
        self.tables.iter().filter(|t| t.0 == table).map(|t| t.1.num_rows() as u64).sum()
    }

    /// Adds records of one entity (for building sink input by hand).
    pub fn push<R: Record>(&mut self, records: &[R]) -> Result<(), Error> {
        self.batches.push((R::KIND, batch_of(records)?));
        Ok(())
    }
}

/// Opens `P`'s source with `config` and reads it to the end in batches of
/// `batch_size`, validating every batch as the host does.
pub fn run_source<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    batch_size: u32,
) -> Result<SourceOutput, Error> {
    read_source::<P>(config, base_dir, batch_size, &OpenOptions::default())
}

/// [`run_source`], telling the source that the destination keeps source
/// tables (they land in [`SourceOutput::tables`]).
pub fn run_source_with_tables<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    batch_size: u32,
) -> Result<SourceOutput, Error> {
    read_source::<P>(
        config,
        base_dir,
        batch_size,
        &OpenOptions { source_tables: true, ..OpenOptions::default() },
    )
}

fn read_source<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    batch_size: u32,
    options: &OpenOptions,
) -> Result<SourceOutput, Error> {
    let m = manifest::<P>();
    let mut src = match open_source::<P>(&m, request(config, base_dir, options)) {
        RResult::ROk(s) => s,
        RResult::RErr(e) => return Err(e.into()),
    };
    let mut out = SourceOutput::default();
    loop {
        match src.next_batch(batch_size) {
            RResult::ROk(ROption::RSome(b)) => {
                let Batch { entity, records, diagnostics, .. } = b;
                let diagnostics = ferry_wire::import_diagnostics(diagnostics).map_err(wire)?;
                out.notices.extend(diagnostics.iter().filter(|d| d.is_notice()).map(|d| d.reason.clone()));
                for r in rejects(diagnostics) {
                    if r.is_reject() { out.rejects.push(r) } else { out.warnings.push(r) }
                }
                if let Some(table) = source_table_name(&entity) {
                    if !options.source_tables {
                        return Err(Error::internal(format!(
                            "the source sent source table {table} without being asked for source tables"
                        )));
                    }
                    if let Some(rows) = ferry_wire::import(records, true).map_err(wire)? {
                        out.tables.push((table.to_owned(), rows));
                    }
                    continue;
                }
                if let Some(records) = ferry_wire::import(records, true).map_err(wire)? {
                    let e = EntityKind::from_name(&entity)
                        .ok_or_else(|| Error::internal(format!("unknown entity {entity}")))?;
                    if records.num_rows() > 0 {
                        out.batches.push((e, records));
                    }
                }
            }
            RResult::ROk(ROption::RNone) => break,
            RResult::RErr(e) => return Err(e.into()),
        }
    }
    match src.close() {
        RResult::ROk(()) => Ok(out),
        RResult::RErr(e) => Err(e.into()),
    }
}

/// What a sink did with a whole input.
#[derive(Debug, Default)]
pub struct SinkOutcome {
    /// Records written (late rejects subtracted).
    pub written: u64,
    /// Records rejected, late rejects included.
    pub rejects: Vec<Reject>,
    /// Late rejects alone.
    pub late_rejects: Vec<Reject>,
    /// Warnings the sink gave at prepare (records kept, with a repair).
    pub late_warnings: Vec<Reject>,
    /// Receipts.
    pub receipts: Vec<Receipt>,
    /// The plan per entity.
    pub plan: Vec<EntityPlan>,
    /// The commit's location and notes (none in a dry run).
    pub committed: Option<CommitInfo>,
}

/// Writes `input` (a source's output) into `P`'s sink and commits.
/// Returns `(written, rejects)`.
pub fn run_sink<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    input: &SourceOutput,
) -> Result<(u64, Vec<Reject>), Error> {
    let o = run_sink_with::<P>(config, base_dir, input, false)?;
    Ok((o.written, o.rejects))
}

/// Writes `input` into `P`'s sink, then prepares and commits it, or, for a
/// dry run, prepares and aborts it; then closes it.
pub fn run_sink_with<P: Plugin>(
    config: &serde_json::Value,
    base_dir: &std::path::Path,
    input: &SourceOutput,
    dry_run: bool,
) -> Result<SinkOutcome, Error> {
    let m = manifest::<P>();
    let options = OpenOptions { dry_run, ..OpenOptions::default() };
    let req = request(config, base_dir, &options);
    let run = req.run_id.to_string();
    let mut sink = match open_sink::<P>(&m, req) {
        RResult::ROk(s) => s,
        RResult::RErr(e) => return Err(e.into()),
    };
    let mut out = SinkOutcome::default();
    let fail = |sink: &mut ferry_plugin_abi::SinkBox, e: ferry_plugin_abi::PluginError| -> Error {
        let _ = sink.abort();
        let _ = sink.close();
        e.into()
    };
    for (entity, batch) in &input.batches {
        match sink.write_batch(wire_batch(entity.name(), batch)?) {
            RResult::ROk(r) => {
                let refused = rejects(ferry_wire::import_diagnostics(r.diagnostics).map_err(wire)?);
                // The host's accounting check, so that a sink that passes here passes there.
                if r.written + refused.len() as u64 != batch.num_rows() as u64 {
                    let _ = sink.abort();
                    let _ = sink.close();
                    return Err(Error::internal(format!(
                        "the sink was given {} {entity} records but accounted for {} written and {} rejected",
                        batch.num_rows(),
                        r.written,
                        refused.len()
                    )));
                }
                out.written += r.written;
                out.rejects.extend(refused);
            }
            RResult::RErr(e) => return Err(fail(&mut sink, e)),
        }
    }
    for (table, rows) in &input.tables {
        match sink.write_batch(wire_batch(&format!("{SOURCE_TABLE_PREFIX}{table}"), rows)?) {
            RResult::ROk(r) if r.written == rows.num_rows() as u64 => {}
            RResult::ROk(r) => {
                let _ = sink.abort();
                let _ = sink.close();
                return Err(Error::internal(format!(
                    "the sink was given {} rows of source table {table} but wrote {}",
                    rows.num_rows(),
                    r.written
                )));
            }
            RResult::RErr(e) => return Err(fail(&mut sink, e)),
        }
    }
    let summary = serde_json::to_string(&RunSummary { run_id: run, dry_run, ..RunSummary::default() })
        .map_err(|e| Error::internal(e.to_string()))?;
    match sink.prepare(summary.into()) {
        RResult::ROk(p) => {
            let (late, warned): (Vec<Reject>, Vec<Reject>) =
                rejects(ferry_wire::import_diagnostics(p.diagnostics).map_err(wire)?)
                    .into_iter()
                    .partition(Reject::is_reject);
            out.late_rejects = late;
            out.late_warnings = warned;
            out.written -= (out.late_rejects.len() as u64).min(out.written);
            out.rejects.extend(out.late_rejects.iter().cloned());
            out.receipts = ferry_wire::import_receipts(p.receipts).map_err(wire)?;
            let info: PrepareInfo = serde_json::from_str(&p.info_json).unwrap_or_default();
            out.plan = info.plan;
        }
        RResult::RErr(e) => return Err(fail(&mut sink, e)),
    }
    if dry_run {
        if let RResult::RErr(e) = sink.abort() {
            return Err(fail(&mut sink, e));
        }
    } else {
        match sink.commit() {
            RResult::ROk(c) => out.committed = Some(serde_json::from_str(&c.info_json).unwrap_or_default()),
            RResult::RErr(e) => return Err(fail(&mut sink, e)),
        }
    }
    match sink.close() {
        RResult::ROk(()) => Ok(out),
        RResult::RErr(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use ferry_model::{validate, with_record_type};

    use super::*;

    fn check<R: Record>() {
        let full: R = sample_record("1", 3, true);
        assert!(validate(&full).is_empty(), "{}: {:?}", R::KIND, validate(&full));
        for f in R::fields() {
            assert!(!full.get(f.name).is_some_and(|v| v.is_null()), "{}.{} is set", R::KIND, f.name);
        }
        let lean: R = sample_record("2", 4, false);
        for f in R::fields() {
            assert_eq!(lean.get(f.name).is_some_and(|v| v.is_null()), !f.required, "{}.{}", R::KIND, f.name);
        }
        assert_ne!(full, sample_record::<R>("1", 4, true), "{}: values depend on n", R::KIND);
    }

    #[test]
    fn sample_records_fill_every_field_validly() {
        for kind in EntityKind::ALL {
            with_record_type!(*kind, R => check::<R>());
        }
    }
}
