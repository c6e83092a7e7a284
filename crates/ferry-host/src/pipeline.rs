//! The run: pull batches from a source, through the stages, into a sink;
//! account for every record; prepare, check the accounting, then commit (or
//! abort on failure, on a stop request, and always in a dry run).
//!
//! The source is read on its own thread, one bounded batch ahead of the sink,
//! so reading and writing overlap on two cores while memory stays bounded.
//! That thread also imports each batch and validates it in full (offsets,
//! UTF-8, the model's layout), so sinks can read values in place.
//!
//! Accounting invariant, per entity: `read = written + rejected + skipped`.
//! It is checked after every batch the sink takes and once more after the
//! sink has reported its late rejects; a run that does not add up fails and
//! commits nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use abi_stable::std_types::{ROption, RResult, RString};
use ferry_model::{Diagnostic, EntityKind, Receipt, RecordBatch, Severity};
use ferry_plugin_abi::{
    Batch, CommitInfo, EntityCounts, EntityPlan, ErrorKind, PrepareInfo, RunSummary, SinkBox, SourceBox,
};

use crate::control::RunControl;
use crate::loader::{LoadedPlugin, OpenArgs, PluginCallError};
use crate::stages::{self, Effects, FieldPolicyConfig, StageBatch, Tap};
use crate::time;

/// One end of a migration: a loaded plugin and its configuration.
pub struct Endpoint {
    /// The plugin.
    pub plugin: LoadedPlugin,
    /// Its configuration, as JSON (secrets filled in).
    pub config: serde_json::Value,
    /// The folder relative paths in the configuration are relative to.
    pub base_dir: PathBuf,
}

/// What to run.
pub struct Migration {
    /// Where records come from.
    pub source: Endpoint,
    /// Where records go.
    pub sink: Endpoint,
    /// Records per batch.
    pub batch_size: u32,
    /// When set, only these entities are written; the others are skipped by
    /// this rule of the plan (and counted as skipped).
    pub only: Option<Vec<EntityKind>>,
    /// The run's id.
    pub run_id: String,
    /// SHA-256 of the job's configuration (secrets left out).
    pub config_sha256: String,
    /// Validate and plan everything, write nothing.
    pub dry_run: bool,
    /// What bad values in fields do.
    pub field_policy: FieldPolicyConfig,
    /// The plan's stages (`--plan`), if any.
    pub plan: Option<crate::plan::RunPlan>,
}

/// Who rejected (or warned about) a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reporter {
    /// The source could not produce the record (or repaired a field).
    Source,
    /// A stage of the host (field policy, cascade).
    Host,
    /// The sink could not write it (at write time, or late, at prepare).
    Sink,
}

/// Receives what happens during a run (rejects file, progress bar).
pub trait Observer {
    /// A record was rejected, or written with a warning.
    fn diagnostic(&mut self, by: Reporter, diagnostic: &Diagnostic);
    /// Counts changed (after each batch).
    fn progress(&mut self, totals: &Totals);
    /// The sink has prepared and every count balances; the commit comes
    /// next. Put the run's own outputs (the rejects file, the receipts) in
    /// place now, so the destination's commit never becomes visible without
    /// them. An error here aborts the sink: nothing is committed. If the
    /// commit then fails, the caller takes those outputs back.
    fn before_commit(&mut self, receipts: &[Receipt]) -> Result<(), String> {
        let _ = receipts;
        Ok(())
    }
}

/// Running totals.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Per entity, in dependency order.
    pub entities: BTreeMap<EntityKind, EntityTotals>,
    /// Per source table (kept as it came), by name.
    pub tables: BTreeMap<String, TableTotals>,
}

/// Counts for one source table.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableTotals {
    /// Rows the source sent.
    pub read: u64,
    /// Rows the sink wrote.
    pub written: u64,
}

/// One source table's line in a run report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableLine {
    /// The source table's name.
    pub table: String,
    /// Its counts.
    #[serde(flatten)]
    pub totals: TableTotals,
}

impl Totals {
    /// Sum of `read` over entities.
    pub fn read(&self) -> u64 {
        self.entities.values().map(|e| e.read).sum()
    }
    /// Sum of `written`.
    pub fn written(&self) -> u64 {
        self.entities.values().map(|e| e.written).sum()
    }
    /// Sum of `rejected`.
    pub fn rejected(&self) -> u64 {
        self.entities.values().map(|e| e.rejected).sum()
    }
    /// Sum of `skipped`.
    pub fn skipped(&self) -> u64 {
        self.entities.values().map(|e| e.skipped).sum()
    }
}

/// Counts for one entity.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EntityTotals {
    /// Records or rows read by the source.
    pub read: u64,
    /// Records the sink accepted (in a dry run: would accept).
    pub written: u64,
    /// Records rejected by the source, a stage or the sink.
    pub rejected: u64,
    /// Records skipped by a rule of the plan.
    pub skipped: u64,
    /// Records written with a warning.
    pub warned: u64,
    /// Reject reasons with counts, most frequent first (no values in them).
    pub top_reasons: Vec<(String, u64)>,
    /// The rules records were skipped by, with counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_rules: Vec<(String, u64)>,
}

impl EntityTotals {
    fn balanced(&self) -> bool {
        self.read == self.written + self.rejected + self.skipped
    }
}

/// One entity's line in a run report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EntityLine {
    /// The entity name.
    pub entity: String,
    /// Its counts.
    #[serde(flatten)]
    pub totals: EntityTotals,
}

/// The outcome of a successful run (or dry run).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunReport {
    /// The run's id.
    pub run_id: String,
    /// Whether nothing was written (a dry run).
    pub dry_run: bool,
    /// `id version` of the source plugin.
    pub source: String,
    /// `id version` of the sink plugin.
    pub sink: String,
    /// When the run started.
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Per entity counts, in dependency order.
    pub entities: Vec<EntityLine>,
    /// Source tables kept as they came (when the sink keeps them), by name.
    pub source_tables: Vec<TableLine>,
    /// The source's lines for the summary (columns it left out, say).
    pub notices: Vec<String>,
    /// Per entity, what the run did (or would do) to the destination.
    pub plan: Vec<EntityPlan>,
    /// Records the sink refused at prepare, after counting them as written.
    pub late_rejects: u64,
    /// Ids the destination assigned.
    #[serde(skip)]
    pub receipts: Vec<Receipt>,
    /// Receipts per entity.
    pub receipt_counts: BTreeMap<String, u64>,
    /// Where the sink put the output.
    pub location: String,
    /// The sink's extra notes.
    pub notes: Vec<String>,
    /// The plugins that ran: id, version, SHA-256 of the library, signer.
    pub plugins: Vec<ferry_plugin_abi::PluginIdentity>,
}

impl RunReport {
    /// Total rejected records.
    pub fn rejected(&self) -> u64 {
        self.entities.iter().map(|e| e.totals.rejected).sum()
    }
    /// Total records read.
    pub fn read(&self) -> u64 {
        self.entities.iter().map(|e| e.totals.read).sum()
    }
}

/// Why a run failed. The sink has been told to abort: earlier outputs are intact.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A plugin returned an error or panicked.
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
    /// The records did not add up, or a stage failed.
    #[error("{0}")]
    Accounting(String),
    /// The run was asked to stop (Ctrl-C, SIGTERM, SIGHUP).
    #[error("interrupted")]
    Interrupted,
    /// The run's own outputs (rejects file, receipts) could not be put in
    /// place before the commit, so nothing was committed.
    #[error("{0}")]
    Output(String),
}

#[derive(Default)]
struct Ledger {
    totals: Totals,
    reasons: HashMap<(EntityKind, String), u64>,
    notices: Vec<String>,
}

impl Ledger {
    fn entity(&mut self, e: EntityKind) -> &mut EntityTotals {
        self.totals.entities.entry(e).or_default()
    }

    /// Counts a diagnostic. Rejects from the source count as read too (the
    /// record never reached a batch); a late reject moves a record from
    /// written to rejected.
    fn diagnostic(
        &mut self,
        observer: &mut dyn Observer,
        by: Reporter,
        d: &Diagnostic,
        read_too: bool,
        late: bool,
    ) -> Result<(), RunError> {
        if d.is_notice() {
            if !self.notices.contains(&d.reason) {
                self.notices.push(d.reason.clone());
            }
            return Ok(());
        }
        let Some(e) = EntityKind::from_name(&d.entity) else {
            return Err(RunError::Accounting(format!(
                "a diagnostic names an entity this host does not know ('{}'); upgrade ferry",
                d.entity
            )));
        };
        observer.diagnostic(by, d);
        if d.severity == Severity::Warning {
            self.entity(e).warned += 1;
            return Ok(());
        }
        let t = self.entity(e);
        t.rejected += 1;
        if read_too {
            t.read += 1;
        }
        if late {
            if t.written == 0 {
                return Err(RunError::Accounting(format!(
                    "the sink rejected a {e} record late that it never counted as written; this is a bug in the sink"
                )));
            }
            t.written -= 1;
        }
        *self.reasons.entry((e, d.reason.clone())).or_default() += 1;
        Ok(())
    }

    fn check(&self) -> Result<(), RunError> {
        for (name, t) in &self.totals.tables {
            if t.read != t.written {
                return Err(RunError::Accounting(format!(
                    "the rows of source table {name} do not add up: {} read, {} written; nothing was committed",
                    t.read, t.written
                )));
            }
        }
        for (e, t) in &self.totals.entities {
            if !t.balanced() {
                return Err(RunError::Accounting(format!(
                    "the records of {e} do not add up: {} read, {} written, {} rejected, {} skipped; nothing was committed",
                    t.read, t.written, t.rejected, t.skipped
                )));
            }
        }
        Ok(())
    }
}

/// A batch imported and checked on the source thread.
struct Imported {
    entity: Option<EntityKind>,
    records: Option<RecordBatch>,
    /// The batch is a source table's rows (then `entity` is `None`).
    table: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

enum Msg {
    Batch(Imported),
    Failed(PluginCallError),
    Cancelled,
}

fn import_batch(plugin: &LoadedPlugin, b: Batch, tables_asked: bool) -> Result<Imported, PluginCallError> {
    let Batch { entity, records, diagnostics, model_major, .. } = b;
    let bad = |m: String| plugin.host_error(ErrorKind::Data, m);
    if model_major != ferry_model::MODEL_VERSION.0 {
        return Err(bad(format!(
            "sent a batch of canonical model {model_major}.x; this host reads {}.x",
            ferry_model::MODEL_VERSION.0
        )));
    }
    let diagnostics = ferry_wire::import_diagnostics(diagnostics)
        .map_err(|e| bad(format!("sent unreadable diagnostics: {e}")))?;
    let records =
        ferry_wire::import(records, true).map_err(|e| bad(format!("sent an unreadable batch: {e}")))?;
    if let Some(table) = ferry_plugin_abi::source_table_name(&entity) {
        if !tables_asked {
            return Err(bad(format!(
                "sent source table {table}, but the destination keeps no source tables and none were asked for"
            )));
        }
        if let Some(r) = &records {
            ferry_wire::check_table(r)
                .map_err(|e| bad(format!("sent source table {table} in a form the host cannot read: {e}")))?;
        }
        return Ok(Imported { entity: None, records, table: Some(table.to_owned()), diagnostics });
    }
    let entity = match (&records, entity.as_str()) {
        (None, _) => None,
        (Some(_), "") => return Err(bad("sent records without naming their entity".to_owned())),
        (Some(_), name) => Some(EntityKind::from_name(name).ok_or_else(|| {
            bad(format!("produced records of an entity this host does not know ('{name}'); upgrade ferry"))
        })?),
    };
    if let (Some(kind), Some(r)) = (entity, &records) {
        ferry_wire::check_layout(kind, r)
            .map_err(|e| bad(format!("sent a batch of {kind} that does not follow the model: {e}")))?;
    }
    Ok(Imported { entity, records, table: None, diagnostics })
}

/// A plugin's entities, and whether it listed source tables among them.
fn entity_list(
    r: RResult<abi_stable::std_types::RVec<RString>, ferry_plugin_abi::PluginError>,
    p: &LoadedPlugin,
) -> Result<(Vec<EntityKind>, bool), PluginCallError> {
    match r {
        RResult::ROk(list) => Ok((
            list.iter().filter_map(|e| EntityKind::from_name(e)).collect(),
            list.iter().any(|e| e.as_str() == ferry_plugin_abi::SOURCE_TABLES_ENTITY),
        )),
        RResult::RErr(e) => Err(p.call_error(e)),
    }
}

/// A plugin's error, or the interruption it reports: a plugin that saw the
/// cancel flag and returned early is not a failure.
fn plugin_failure(control: &RunControl, e: PluginCallError) -> RunError {
    if e.kind == ErrorKind::Cancelled && control.is_cancelled() {
        RunError::Interrupted
    } else {
        RunError::Plugin(e)
    }
}

fn close_sink(sink: &mut SinkBox, plugin: &LoadedPlugin) {
    if let RResult::RErr(e) = sink.close() {
        tracing::warn!(target: "ferry::run", "{}", plugin.call_error(e));
    }
}

/// Runs a migration to the end. On failure or interruption the sink is
/// aborted; in a dry run it is always aborted after `prepare`.
pub fn run(m: &Migration, observer: &mut dyn Observer, control: &RunControl) -> Result<RunReport, RunError> {
    run_with_taps(m, observer, control, &mut [])
}

/// [`run`], with taps that see every batch the sink receives.
pub fn run_with_taps(
    m: &Migration,
    observer: &mut dyn Observer,
    control: &RunControl,
    taps: &mut [Box<dyn Tap>],
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = time::now();
    let label = |p: &LoadedPlugin| format!("{} {}", p.manifest.id, p.manifest.version);
    let args = |base_dir| OpenArgs {
        base_dir,
        run_id: &m.run_id,
        dry_run: m.dry_run,
        source_tables: false,
        entities: None,
        cancel: control.flag(),
    };

    // The sink first: what it takes tells the source what to send.
    let mut sink = m
        .sink
        .plugin
        .open_sink(&m.sink.config.to_string(), args(&m.sink.base_dir))
        .map_err(|e| plugin_failure(control, e))?;
    let fail_early = |sink: &mut SinkBox, e: PluginCallError| {
        let _ = sink.abort();
        close_sink(sink, &m.sink.plugin);
        plugin_failure(control, e)
    };
    let (sink_entities, keeps_tables) = match entity_list(sink.entities(), &m.sink.plugin) {
        Ok(x) => x,
        Err(e) => return Err(fail_early(&mut sink, e)),
    };
    let wanted: Vec<String> = sink_entities
        .iter()
        .filter(|e| m.only.as_ref().is_none_or(|only| only.contains(e)))
        .map(|e| e.name().to_owned())
        .collect();
    let source_args =
        OpenArgs { source_tables: keeps_tables, entities: Some(wanted), ..args(&m.source.base_dir) };
    let source = match m.source.plugin.open_source(&m.source.config.to_string(), source_args) {
        Ok(s) => s,
        Err(e) => return Err(fail_early(&mut sink, e)),
    };
    let result = drive(
        m,
        observer,
        control,
        taps,
        source,
        SinkEnd { sink: &mut sink, entities: sink_entities, keeps_tables },
        &started_at,
    );
    let (ledger, plan, receipts, late_rejects) = match result {
        Ok(x) => x,
        Err(e) => {
            if let RResult::RErr(abort_err) = sink.abort() {
                tracing::warn!(target: "ferry::run", "the sink could not clean up after the failure: {}", m.sink.plugin.call_error(abort_err));
            }
            close_sink(&mut sink, &m.sink.plugin);
            return Err(e);
        }
    };

    // The run's outputs go in place before the destination's commit, never
    // after, and only once no stop request can come between the two.
    let place_outputs = |sink: &mut SinkBox, observer: &mut dyn Observer| {
        observer.before_commit(&receipts).map_err(|e| {
            let _ = sink.abort();
            close_sink(sink, &m.sink.plugin);
            RunError::Output(e)
        })
    };
    let commit = if m.dry_run {
        if control.is_cancelled() {
            let _ = sink.abort();
            close_sink(&mut sink, &m.sink.plugin);
            return Err(RunError::Interrupted);
        }
        place_outputs(&mut sink, observer)?;
        if let RResult::RErr(e) = sink.abort() {
            close_sink(&mut sink, &m.sink.plugin);
            return Err(m.sink.plugin.call_error(e).into());
        }
        CommitInfo::default()
    } else if !control.begin_commit() {
        let _ = sink.abort();
        close_sink(&mut sink, &m.sink.plugin);
        return Err(RunError::Interrupted);
    } else {
        place_outputs(&mut sink, observer)?;
        match sink.commit() {
            RResult::ROk(c) => serde_json::from_str(&c.info_json).unwrap_or_default(),
            RResult::RErr(e) => {
                let err = m.sink.plugin.call_error(e);
                if err.kind != ErrorKind::Panic {
                    let _ = sink.abort();
                }
                close_sink(&mut sink, &m.sink.plugin);
                return Err(RunError::Plugin(err));
            }
        }
    };
    close_sink(&mut sink, &m.sink.plugin);

    let Ledger { totals, reasons, notices } = ledger;
    let source_tables =
        totals.tables.into_iter().map(|(table, totals)| TableLine { table, totals }).collect();
    let mut entities = Vec::new();
    for (e, mut t) in totals.entities {
        let mut top: Vec<(String, u64)> =
            reasons.iter().filter(|((k, _), _)| *k == e).map(|((_, r), n)| (r.clone(), *n)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(3);
        t.top_reasons = top;
        entities.push(EntityLine { entity: e.name().to_owned(), totals: t });
    }
    let mut receipt_counts = BTreeMap::new();
    for r in &receipts {
        *receipt_counts.entry(r.entity.clone()).or_default() += 1;
    }
    Ok(RunReport {
        run_id: m.run_id.clone(),
        dry_run: m.dry_run,
        source: label(&m.source.plugin),
        sink: label(&m.sink.plugin),
        started_at,
        finished_at: time::now(),
        seconds: started.elapsed().as_secs_f64(),
        entities,
        source_tables,
        notices,
        plan,
        late_rejects,
        receipts,
        receipt_counts,
        location: commit.location,
        notes: commit.notes,
        plugins: vec![m.source.plugin.identity("source"), m.sink.plugin.identity("sink")],
    })
}

/// The opened sink and what it takes.
struct SinkEnd<'a> {
    sink: &'a mut SinkBox,
    /// The entities it takes.
    entities: Vec<EntityKind>,
    /// Whether it keeps source tables.
    keeps_tables: bool,
}

/// The ledger, the plan, the receipts and the number of late rejects.
type Driven = (Ledger, Vec<EntityPlan>, Vec<Receipt>, u64);

/// Source → stages → sink, then prepare and the final accounting check.
fn drive(
    m: &Migration,
    observer: &mut dyn Observer,
    control: &RunControl,
    taps: &mut [Box<dyn Tap>],
    mut source: SourceBox,
    end: SinkEnd<'_>,
    started_at: &str,
) -> Result<Driven, RunError> {
    let SinkEnd { sink, entities: sink_entities, keeps_tables } = end;
    let sink_plugin = &m.sink.plugin;
    if let Err(e) = entity_list(source.entities(), &m.source.plugin) {
        let _ = source.close();
        return Err(e.into());
    }
    let mut stages = stages::standard(m.field_policy.clone(), m.only.clone(), sink_entities, m.plan.as_ref());
    let mut ledger = Ledger::default();

    let result: Result<(), RunError> = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let source_plugin = &m.source.plugin;
        let batch_size = m.batch_size;
        scope.spawn(move || {
            let outcome = loop {
                if control.is_cancelled() {
                    break Some(Msg::Cancelled);
                }
                match source.next_batch(batch_size) {
                    RResult::ROk(ROption::RSome(b)) => match import_batch(source_plugin, b, keeps_tables) {
                        Ok(i) => {
                            if tx.send(Msg::Batch(i)).is_err() {
                                break None;
                            }
                        }
                        Err(e) => break Some(Msg::Failed(e)),
                    },
                    RResult::ROk(ROption::RNone) => break None,
                    RResult::RErr(e) => {
                        let e = source_plugin.call_error(e);
                        break Some(if e.kind == ErrorKind::Cancelled && control.is_cancelled() {
                            Msg::Cancelled
                        } else {
                            Msg::Failed(e)
                        });
                    }
                }
            };
            if let RResult::RErr(e) = source.close() {
                let e = source_plugin.call_error(e);
                if outcome.is_none() {
                    let _ = tx.send(Msg::Failed(e));
                    return;
                }
                tracing::warn!(target: "ferry::run", "{e}");
            }
            if let Some(msg) = outcome {
                let _ = tx.send(msg);
            }
        });

        for msg in rx {
            let imported = match msg {
                Msg::Batch(b) => b,
                Msg::Failed(e) => return Err(RunError::Plugin(e)),
                Msg::Cancelled => return Err(RunError::Interrupted),
            };
            let Imported { entity, records, table, diagnostics } = imported;
            let mut warnings = Vec::new();
            for d in diagnostics {
                if d.is_notice() {
                    ledger.diagnostic(observer, Reporter::Source, &d, false, false)?;
                } else if d.is_reject() {
                    ledger.diagnostic(observer, Reporter::Source, &d, true, false)?;
                    for s in stages.iter_mut() {
                        s.rejected(&d);
                    }
                } else {
                    warnings.push(d);
                }
            }
            if let (Some(table), Some(rows)) = (&table, &records) {
                write_table(m, &mut ledger, sink, table, rows).map_err(|e| match e {
                    RunError::Plugin(p) => plugin_failure(control, p),
                    other => other,
                })?;
                for w in &warnings {
                    ledger.diagnostic(observer, Reporter::Source, w, false, false)?;
                }
            } else if let (Some(entity), Some(records)) = (entity, records) {
                ledger.entity(entity).read += records.num_rows() as u64;
                let batch = StageBatch { entity, records, warnings };
                let mut fx = Effects::default();
                let out =
                    stages::run_stages(&mut stages, batch, &mut fx).map_err(|e| RunError::Accounting(e.0))?;
                for d in &fx.rejects {
                    ledger.diagnostic(observer, Reporter::Host, d, false, false)?;
                }
                for (e, n, rule) in &fx.skipped {
                    let t = ledger.entity(*e);
                    t.skipped += n;
                    match t.skip_rules.iter_mut().find(|(r, _)| r == rule) {
                        Some((_, c)) => *c += n,
                        None => t.skip_rules.push((rule.clone(), *n)),
                    }
                    tracing::debug!(target: "ferry::run", "{n} {e} records skipped: {rule}");
                }
                if let Some(batch) = out {
                    write(m, observer, &mut ledger, taps, sink, &mut stages, batch).map_err(|e| match e {
                        RunError::Plugin(p) => plugin_failure(control, p),
                        other => other,
                    })?;
                }
            } else {
                for w in &warnings {
                    ledger.diagnostic(observer, Reporter::Source, w, false, false)?;
                }
            }
            observer.progress(&ledger.totals);
            if control.is_cancelled() {
                return Err(RunError::Interrupted);
            }
        }
        Ok(())
    });
    result?;
    if control.is_cancelled() {
        return Err(RunError::Interrupted);
    }
    ledger.check()?;

    // Prepare: the sink stages everything and reports late rejects and receipts.
    let summary = RunSummary {
        run_id: m.run_id.clone(),
        source: format!("{} {}", m.source.plugin.manifest.id, m.source.plugin.manifest.version),
        config_sha256: m.config_sha256.clone(),
        started_at: started_at.to_owned(),
        finished_at: time::now(),
        entities: ledger
            .totals
            .entities
            .iter()
            .map(|(e, t)| EntityCounts {
                entity: e.name().to_owned(),
                read: t.read,
                written: t.written,
                rejected: t.rejected,
                skipped: t.skipped,
                warned: t.warned,
            })
            .collect(),
        dry_run: m.dry_run,
        plugins: vec![m.source.plugin.identity("source"), m.sink.plugin.identity("sink")],
    };
    let summary_json = serde_json::to_string(&summary).map_err(|e| RunError::Accounting(e.to_string()))?;
    let prepared = match sink.prepare(summary_json.into()) {
        RResult::ROk(p) => p,
        RResult::RErr(e) => return Err(plugin_failure(control, sink_plugin.call_error(e))),
    };
    let bad = |what: &str, e: ferry_wire::WireError| {
        RunError::Plugin(sink_plugin.host_error(ErrorKind::Data, format!("sent unreadable {what}: {e}")))
    };
    let ferry_plugin_abi::PrepareReport { diagnostics, receipts, info_json } = prepared;
    let late = ferry_wire::import_diagnostics(diagnostics).map_err(|e| bad("late rejects", e))?;
    let mut late_rejects = 0;
    for d in &late {
        // A late warning (a record kept with a repair) stays written; anything
        // else refuses a record counted as written before.
        let mut d = d.clone();
        if d.severity != Severity::Warning {
            d.severity = Severity::Reject;
            late_rejects += 1;
        }
        let is_reject = d.is_reject();
        ledger.diagnostic(observer, Reporter::Sink, &d, false, is_reject)?;
    }
    let receipts = ferry_wire::import_receipts(receipts).map_err(|e| bad("receipts", e))?;
    let info: PrepareInfo = if info_json.is_empty() {
        PrepareInfo::default()
    } else {
        serde_json::from_str(&info_json).map_err(|e| {
            RunError::Plugin(sink_plugin.host_error(ErrorKind::Data, format!("sent an unreadable plan: {e}")))
        })?
    };
    ledger.check()?;
    observer.progress(&ledger.totals);
    Ok((ledger, info.plan, receipts, late_rejects))
}

/// Exports `records` and hands them to the sink as a batch of `entity`.
fn send(
    sink: &mut SinkBox,
    plugin: &LoadedPlugin,
    entity: &str,
    records: RecordBatch,
) -> Result<ferry_plugin_abi::WriteReport, RunError> {
    let b = Batch {
        entity: entity.into(),
        model_major: ferry_model::MODEL_VERSION.0,
        model_minor: ferry_model::MODEL_VERSION.1,
        records: ferry_wire::export(records).map_err(|e| RunError::Accounting(e.0))?,
        diagnostics: Default::default(),
    };
    match sink.write_batch(b) {
        RResult::ROk(r) => Ok(r),
        RResult::RErr(e) => Err(RunError::Plugin(plugin.call_error(e))),
    }
}

/// Hands a source table's rows to the sink, which must write them all.
fn write_table(
    m: &Migration,
    ledger: &mut Ledger,
    sink: &mut SinkBox,
    table: &str,
    rows: &RecordBatch,
) -> Result<(), RunError> {
    let sink_plugin = &m.sink.plugin;
    let count = rows.num_rows() as u64;
    ledger.totals.tables.entry(table.to_owned()).or_default().read += count;
    let entity = format!("{}{table}", ferry_plugin_abi::SOURCE_TABLE_PREFIX);
    let report = send(sink, sink_plugin, &entity, rows.clone())?;
    if report.written != count {
        return Err(RunError::Accounting(format!(
            "plugin '{}' was given {count} rows of source table {table} but wrote {}; this is a bug in the sink",
            sink_plugin.manifest.id, report.written
        )));
    }
    ledger.totals.tables.entry(table.to_owned()).or_default().written += count;
    Ok(())
}

fn write(
    m: &Migration,
    observer: &mut dyn Observer,
    ledger: &mut Ledger,
    taps: &mut [Box<dyn Tap>],
    sink: &mut SinkBox,
    stages: &mut [Box<dyn stages::Stage>],
    batch: StageBatch,
) -> Result<(), RunError> {
    let sink_plugin = &m.sink.plugin;
    for t in taps.iter_mut() {
        t.observe(&batch);
    }
    let StageBatch { entity, records, warnings } = batch;
    let count = records.num_rows() as u64;
    let report = send(sink, sink_plugin, entity.name(), records)?;
    let refused = ferry_wire::import_diagnostics(report.diagnostics).map_err(|e| {
        RunError::Plugin(sink_plugin.host_error(ErrorKind::Data, format!("sent unreadable rejects: {e}")))
    })?;
    if report.written + refused.len() as u64 != count {
        return Err(RunError::Accounting(format!(
            "plugin '{}' was given {count} {entity} records but accounted for {} written and {} rejected; this is a bug in the sink",
            sink_plugin.manifest.id,
            report.written,
            refused.len()
        )));
    }
    ledger.entity(entity).written += report.written;
    let refused_ids: Vec<&str> = refused.iter().map(|d| d.record_id.as_str()).collect();
    for w in &warnings {
        // A warning about a record the sink then refused belongs to the reject.
        if !refused_ids.contains(&w.record_id.as_str()) || w.record_id.is_empty() {
            ledger.diagnostic(observer, Reporter::Source, w, false, false)?;
        }
    }
    for d in &refused {
        let mut d = d.clone();
        d.severity = Severity::Reject;
        ledger.diagnostic(observer, Reporter::Sink, &d, false, false)?;
        for s in stages.iter_mut() {
            s.rejected(&d);
        }
    }
    Ok(())
}
