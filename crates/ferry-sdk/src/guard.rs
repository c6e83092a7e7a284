//! The panic guard and the adapters between the safe traits and the ABI.
//!
//! Every call the host makes into a plugin runs inside [`guard`]: a panic is
//! caught and becomes a [`PluginError`] of kind `Panic` naming the plugin, and
//! the adapter refuses further calls (its state is unknown after a panic).
//! That includes `entities()` and dropping the connector, which happens in
//! `close` (or, if the host never called it, in the adapter's own drop).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use abi_stable::std_types::{ROption, RResult, RString, RVec};
use ferry_model::{Diagnostic, EntityKind, MODEL_VERSION};
use ferry_plugin_abi::{
    ArrowBatch, Batch, CommitInfo, CommitReport, EntityPlan, ErrorKind, FfiSink, FfiSource, PluginError,
    PrepareInfo, PrepareReport, RunSummary, SOURCE_TABLE_PREFIX, SOURCE_TABLES_ENTITY, WriteReport,
    source_table_name,
};

use crate::error::Error;
use crate::reject::Reject;
use crate::sink::{Sink, SinkBatch};
use crate::source::{BatchBuilder, Source, Taken};

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

fn panic_error(plugin: &str, what: &str, payload: &(dyn Any + Send)) -> PluginError {
    PluginError::new(
        ErrorKind::Panic,
        format!("plugin '{plugin}' panicked{what}: {}", panic_message(payload)),
    )
}

/// Runs `f`, turning errors and panics into ABI values. After a panic,
/// `poisoned` is set and every later call is refused (`entities()`, which
/// takes `&self`, included: hence an atomic).
pub(crate) fn guard<T>(
    plugin: &str,
    poisoned: &AtomicBool,
    f: impl FnOnce() -> Result<T, Error>,
) -> RResult<T, PluginError> {
    if poisoned.load(Ordering::Relaxed) {
        return RResult::RErr(PluginError::new(
            ErrorKind::Panic,
            format!("plugin '{plugin}' panicked earlier in this run and cannot be used further"),
        ));
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(payload) => {
            poisoned.store(true, Ordering::Relaxed);
            RResult::RErr(panic_error(plugin, "", &*payload))
        }
    }
}

/// Drops `inner` under the guard.
fn drop_guarded<T>(plugin: &str, inner: &mut Option<T>) -> RResult<(), PluginError> {
    match catch_unwind(AssertUnwindSafe(|| drop(inner.take()))) {
        Ok(()) => RResult::ROk(()),
        Err(payload) => RResult::RErr(panic_error(plugin, " while closing", &*payload)),
    }
}

fn export_rejects(rejects: Vec<Reject>) -> Result<ArrowBatch, Error> {
    export_diagnostics(rejects, Vec::new())
}

fn export_diagnostics(rejects: Vec<Reject>, notices: Vec<String>) -> Result<ArrowBatch, Error> {
    let diags: Vec<Diagnostic> = rejects
        .into_iter()
        .map(Diagnostic::from)
        .chain(notices.into_iter().map(Diagnostic::notice))
        .collect();
    ferry_wire::export_diagnostics(&diags).map_err(|e| Error::internal(e.0))
}

fn entity_names(list: Vec<EntityKind>) -> RVec<RString> {
    list.into_iter().map(|e| RString::from(e.name())).collect()
}

fn closed(plugin: &str) -> Error {
    Error::internal(format!("plugin '{plugin}' was called after it was closed"))
}

pub(crate) struct SourceAdapter {
    pub(crate) plugin: String,
    pub(crate) inner: Option<Box<dyn Source>>,
    pub(crate) builder: BatchBuilder,
    pub(crate) done: bool,
    pub(crate) poisoned: AtomicBool,
}

fn to_batch(b: &mut BatchBuilder) -> Result<Batch, Error> {
    let Taken { entity, records, table, rejects, notices } = b.take()?;
    let (name, records) = match (table, records) {
        (Some((table, batch)), _) => (format!("{SOURCE_TABLE_PREFIX}{table}"), Some(batch)),
        (None, records) => (entity.map_or("", EntityKind::name).to_owned(), records),
    };
    let records = match records {
        Some(r) => ferry_wire::export(r).map_err(|e| Error::internal(e.0))?,
        None => ArrowBatch::empty(),
    };
    Ok(Batch {
        entity: name.into(),
        model_major: MODEL_VERSION.0,
        model_minor: MODEL_VERSION.1,
        records,
        diagnostics: export_diagnostics(rejects, notices)?,
    })
}

impl FfiSource for SourceAdapter {
    fn entities(&self) -> RResult<RVec<RString>, PluginError> {
        let SourceAdapter { plugin, inner, poisoned, .. } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_ref().ok_or_else(|| closed(plugin))?;
            Ok(entity_names(inner.entities()))
        })
    }

    fn next_batch(&mut self, max_records: u32) -> RResult<ROption<Batch>, PluginError> {
        let SourceAdapter { plugin, inner, builder, done, poisoned } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_mut().ok_or_else(|| closed(plugin))?;
            if *done {
                return Ok(ROption::RNone);
            }
            builder.capacity = max_records.max(1);
            loop {
                if builder.cancelled() {
                    return Err(Error::cancelled());
                }
                let more = inner.next_batch(builder)?;
                if !more {
                    *done = true;
                }
                if builder.has_content() {
                    return Ok(ROption::RSome(to_batch(builder)?));
                }
                if !more {
                    return Ok(ROption::RNone);
                }
            }
        })
    }

    fn close(&mut self) -> RResult<(), PluginError> {
        let SourceAdapter { plugin, inner, poisoned, .. } = self;
        let closing = guard(plugin, poisoned, || inner.as_mut().map_or(Ok(()), |s| s.close()));
        let dropped = drop_guarded(plugin, inner);
        match closing {
            RResult::ROk(()) => dropped,
            err => err,
        }
    }
}

impl Drop for SourceAdapter {
    fn drop(&mut self) {
        if let RResult::RErr(e) = drop_guarded(&self.plugin, &mut self.inner) {
            tracing::error!("{}", e.message);
        }
    }
}

pub(crate) struct SinkAdapter {
    pub(crate) plugin: String,
    pub(crate) inner: Option<Box<dyn Sink>>,
    pub(crate) poisoned: AtomicBool,
}

impl FfiSink for SinkAdapter {
    fn entities(&self) -> RResult<RVec<RString>, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_ref().ok_or_else(|| closed(plugin))?;
            let mut names = entity_names(inner.entities());
            if inner.source_tables() {
                names.push(SOURCE_TABLES_ENTITY.into());
            }
            Ok(names)
        })
    }

    fn write_batch(&mut self, batch: Batch) -> RResult<WriteReport, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_mut().ok_or_else(|| closed(plugin))?;
            if batch.model_major != MODEL_VERSION.0 {
                return Err(Error::unsupported(format!(
                    "records use canonical model {}.{}, this sink reads model {}.x",
                    batch.model_major, batch.model_minor, MODEL_VERSION.0
                )));
            }
            if let Some(table) = source_table_name(&batch.entity) {
                let table = table.to_owned();
                let Some(records) = ferry_wire::import(batch.records, false).map_err(|e| Error::data(e.0))?
                else {
                    return Ok(WriteReport::default());
                };
                let written = inner.write_table(&table, &records)?;
                return Ok(WriteReport { written, diagnostics: export_rejects(Vec::new())? });
            }
            let entity = EntityKind::from_name(&batch.entity).ok_or_else(|| {
                Error::unsupported(format!("this sink does not know the entity '{}'", batch.entity))
            })?;
            let Batch { records, .. } = batch;
            // The host validated the batch in full when it came from the source.
            let Some(records) = ferry_wire::import(records, false).map_err(|e| Error::data(e.0))? else {
                return Ok(WriteReport::default());
            };
            let written = inner.write(SinkBatch::new(entity, &records))?;
            Ok(WriteReport { written: written.written, diagnostics: export_rejects(written.rejects)? })
        })
    }

    fn prepare(&mut self, summary_json: RString) -> RResult<PrepareReport, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_mut().ok_or_else(|| closed(plugin))?;
            let summary: RunSummary = serde_json::from_str(&summary_json)
                .map_err(|e| Error::internal(format!("unreadable run summary from the host: {e}")))?;
            let p = inner.prepare(&summary)?;
            let plan: Vec<EntityPlan> = p.plan;
            let info =
                serde_json::to_string(&PrepareInfo { plan }).map_err(|e| Error::internal(e.to_string()))?;
            Ok(PrepareReport {
                diagnostics: export_rejects(p.rejects)?,
                receipts: ferry_wire::export_receipts(&p.receipts).map_err(|e| Error::internal(e.0))?,
                info_json: info.into(),
            })
        })
    }

    fn commit(&mut self) -> RResult<CommitReport, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            let inner = inner.as_mut().ok_or_else(|| closed(plugin))?;
            let c = inner.commit()?;
            let info = CommitInfo { location: c.location, notes: c.notes };
            let json = serde_json::to_string(&info).map_err(|e| Error::internal(e.to_string()))?;
            Ok(CommitReport { info_json: json.into() })
        })
    }

    fn abort(&mut self) -> RResult<(), PluginError> {
        // Abort is attempted even after a panic: discarding this run's output
        // is the safest thing left to do.
        let SinkAdapter { plugin, inner, .. } = self;
        guard(plugin, &AtomicBool::new(false), || inner.as_mut().map_or(Ok(()), |s| s.abort()))
    }

    fn close(&mut self) -> RResult<(), PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        let closing = guard(plugin, poisoned, || inner.as_mut().map_or(Ok(()), |s| s.close()));
        let dropped = drop_guarded(plugin, inner);
        match closing {
            RResult::ROk(()) => dropped,
            err => err,
        }
    }
}

impl Drop for SinkAdapter {
    fn drop(&mut self) {
        if let RResult::RErr(e) = drop_guarded(&self.plugin, &mut self.inner) {
            tracing::error!("{}", e.message);
        }
    }
}
