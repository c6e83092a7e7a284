//! The run: pull batches from a source, account for every record, push to a
//! sink, then commit (or abort on failure).
//!
//! The source is read on its own thread, one bounded batch ahead of the sink,
//! so reading and writing overlap on two cores while memory stays bounded.
//!
//! Accounting invariant, per entity: `read = written + rejected + skipped`.
//! A sink that accounts for fewer or more records than it was given fails the
//! run: nothing is lost silently.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use abi_stable::std_types::{ROption, RResult};
use ferry_model::EntityKind;
use ferry_plugin_abi::{Batch, Diagnostic, EntityCounts, ErrorKind, RunSummary};

use crate::loader::{LoadedPlugin, PluginCallError};
use crate::time;

/// One end of a migration: a loaded plugin and its configuration.
pub struct Endpoint {
    /// The plugin.
    pub plugin: LoadedPlugin,
    /// Its configuration, as JSON.
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
    /// SHA-256 of the job's configuration.
    pub config_sha256: String,
}

/// Where a reject was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The source could not produce the record.
    Source,
    /// The sink could not write it.
    Sink,
}

/// Receives what happens during a run (rejects file, progress bar).
pub trait Observer {
    /// A record was rejected.
    fn reject(&mut self, stage: Stage, diagnostic: &Diagnostic);
    /// Counts changed (after each batch).
    fn progress(&mut self, totals: &Totals);
    /// Whether the user asked to stop (checked between batches); the run is
    /// then aborted like a failed one.
    fn interrupted(&self) -> bool {
        false
    }
}

/// Running totals.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Per entity, in dependency order.
    pub entities: BTreeMap<EntityKind, EntityTotals>,
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
    /// Records the sink accepted.
    pub written: u64,
    /// Records rejected by the source or the sink.
    pub rejected: u64,
    /// Records skipped by a rule of the plan.
    pub skipped: u64,
    /// Reject reasons with counts, most frequent first (no values in them).
    pub top_reasons: Vec<(String, u64)>,
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

/// The outcome of a successful run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunReport {
    /// The run's id.
    pub run_id: String,
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
    /// Where the sink put the output.
    pub location: String,
    /// The sink's extra notes.
    pub notes: Vec<String>,
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
    /// The records did not add up.
    #[error("{0}")]
    Accounting(String),
    /// The user interrupted the run.
    #[error("interrupted")]
    Interrupted,
}

#[derive(Default)]
struct Ledger {
    totals: Totals,
    reasons: HashMap<(EntityKind, String), u64>,
    unknown_entity_rejects: u64,
}

impl Ledger {
    fn reject(&mut self, observer: &mut dyn Observer, stage: Stage, d: &Diagnostic, read_too: bool) {
        observer.reject(stage, d);
        match EntityKind::from_name(&d.entity) {
            Some(e) => {
                let t = self.totals.entities.entry(e).or_default();
                t.rejected += 1;
                if read_too {
                    t.read += 1;
                }
                *self.reasons.entry((e, d.reason.to_string())).or_default() += 1;
            }
            None => self.unknown_entity_rejects += 1,
        }
    }
}

enum Msg {
    Batch(Batch),
    Failed(PluginCallError),
}

/// Runs a migration to the end. On failure the sink is aborted.
pub fn run(m: &Migration, observer: &mut dyn Observer) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = time::now();
    let label = |p: &LoadedPlugin| format!("{} {}", p.manifest.id, p.manifest.version);
    let run_id = m.run_id.as_str();

    let mut source = m.source.plugin.open_source(&m.source.config.to_string(), &m.source.base_dir, run_id)?;
    let mut sink = m.sink.plugin.open_sink(&m.sink.config.to_string(), &m.sink.base_dir, run_id)?;

    // What the sink takes as configured (not merely what its plugin can take).
    let sink_entities: Vec<EntityKind> =
        sink.entities().iter().filter_map(|e| EntityKind::from_name(e)).collect();
    let wanted = |e: EntityKind| sink_entities.contains(&e) && m.only.as_ref().is_none_or(|o| o.contains(&e));

    let mut ledger = Ledger::default();

    let result: Result<(), RunError> = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let source_plugin = &m.source.plugin;
        let batch_size = m.batch_size;
        scope.spawn(move || {
            loop {
                match source.next_batch(batch_size) {
                    RResult::ROk(ROption::RSome(b)) => {
                        if tx.send(Msg::Batch(b)).is_err() {
                            return;
                        }
                    }
                    RResult::ROk(ROption::RNone) => return,
                    RResult::RErr(e) => {
                        let _ = tx.send(Msg::Failed(source_plugin.call_error(e)));
                        return;
                    }
                }
            }
        });

        for msg in rx {
            let batch = match msg {
                Msg::Batch(b) => b,
                Msg::Failed(e) => return Err(RunError::Plugin(e)),
            };
            for d in batch.diagnostics.iter() {
                ledger.reject(observer, Stage::Source, d, true);
            }
            if batch.count > 0 {
                let Some(entity) = EntityKind::from_name(&batch.entity) else {
                    return Err(RunError::Accounting(format!(
                        "plugin '{}' produced records of an entity this host does not know ('{}'); upgrade ferry",
                        m.source.plugin.manifest.id, batch.entity
                    )));
                };
                let count = u64::from(batch.count);
                ledger.totals.entities.entry(entity).or_default().read += count;
                if !wanted(entity) {
                    ledger.totals.entities.entry(entity).or_default().skipped += count;
                } else {
                    let report = match sink.write_batch(batch) {
                        RResult::ROk(r) => r,
                        RResult::RErr(e) => return Err(RunError::Plugin(m.sink.plugin.call_error(e))),
                    };
                    let refused = report.diagnostics.len() as u64;
                    if report.written + refused != count {
                        return Err(RunError::Accounting(format!(
                            "plugin '{}' was given {count} {entity} records but accounted for {} written and {refused} rejected; this is a bug in the sink",
                            m.sink.plugin.manifest.id, report.written
                        )));
                    }
                    ledger.totals.entities.entry(entity).or_default().written += report.written;
                    for d in report.diagnostics.iter() {
                        ledger.reject(observer, Stage::Sink, d, false);
                    }
                }
            }
            observer.progress(&ledger.totals);
            if observer.interrupted() {
                return Err(RunError::Interrupted);
            }
        }
        Ok(())
    });

    if let Err(e) = result {
        if let RResult::RErr(abort_err) = sink.abort() {
            tracing::warn!(target: "ferry::run", "the sink could not clean up after the failure: {}", abort_err.message);
        }
        return Err(e);
    }
    let Ledger { totals, reasons, unknown_entity_rejects } = ledger;
    if unknown_entity_rejects > 0 {
        let _ = sink.abort();
        return Err(RunError::Accounting(format!(
            "{unknown_entity_rejects} rejects named an entity this host does not know; upgrade ferry"
        )));
    }

    let finished_at = time::now();
    let summary = RunSummary {
        run_id: m.run_id.clone(),
        source: label(&m.source.plugin),
        config_sha256: m.config_sha256.clone(),
        started_at: started_at.clone(),
        finished_at: finished_at.clone(),
        entities: totals
            .entities
            .iter()
            .map(|(e, t)| EntityCounts {
                entity: e.name().to_owned(),
                read: t.read,
                written: t.written,
                rejected: t.rejected,
                skipped: t.skipped,
            })
            .collect(),
    };
    let summary_json = serde_json::to_string(&summary).map_err(|e| RunError::Accounting(e.to_string()))?;
    let commit = match sink.commit(summary_json.into()) {
        RResult::ROk(c) => c,
        RResult::RErr(e) => {
            let err = m.sink.plugin.call_error(e);
            if err.kind != ErrorKind::Panic {
                let _ = sink.abort();
            }
            return Err(RunError::Plugin(err));
        }
    };

    let mut entities = Vec::new();
    for (e, mut t) in totals.entities {
        let mut top: Vec<(String, u64)> =
            reasons.iter().filter(|((k, _), _)| *k == e).map(|((_, r), n)| (r.clone(), *n)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(3);
        t.top_reasons = top;
        entities.push(EntityLine { entity: e.name().to_owned(), totals: t });
    }
    Ok(RunReport {
        run_id: m.run_id.clone(),
        source: label(&m.source.plugin),
        sink: label(&m.sink.plugin),
        started_at,
        finished_at,
        seconds: started.elapsed().as_secs_f64(),
        entities,
        location: commit.location.into_string(),
        notes: commit.notes.into_iter().map(|n| n.into_string()).collect(),
    })
}
