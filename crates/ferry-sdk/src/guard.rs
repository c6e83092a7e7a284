//! The panic guard and the adapters between the safe traits and the ABI.
//!
//! Every call the host makes into a plugin runs inside [`guard`]: a panic is
//! caught and becomes a [`PluginError`] of kind `Panic` naming the plugin, and
//! the adapter refuses further calls (its state is unknown after a panic).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::std_types::{ROption, RResult, RString, RVec};
use ferry_model::{EntityKind, MODEL_VERSION};
use ferry_plugin_abi::{
    Batch, CommitReport, Diagnostic, ErrorKind, FfiSink, FfiSource, PluginError, RunSummary, WriteReport,
};

use crate::error::Error;
use crate::sink::{RecordBatch, Sink};
use crate::source::{BatchBuilder, Source};

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// Runs `f`, turning errors and panics into ABI values.
pub(crate) fn guard<T>(
    plugin: &str,
    poisoned: &mut bool,
    f: impl FnOnce() -> Result<T, Error>,
) -> RResult<T, PluginError> {
    if *poisoned {
        return RResult::RErr(PluginError {
            kind: ErrorKind::Panic,
            message: format!("plugin '{plugin}' panicked earlier in this run and cannot be used further")
                .into(),
        });
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(payload) => {
            *poisoned = true;
            RResult::RErr(PluginError {
                kind: ErrorKind::Panic,
                message: format!("plugin '{plugin}' panicked: {}", panic_message(&*payload)).into(),
            })
        }
    }
}

pub(crate) struct SourceAdapter {
    pub(crate) plugin: String,
    pub(crate) inner: Box<dyn Source>,
    pub(crate) builder: BatchBuilder,
    pub(crate) done: bool,
    pub(crate) poisoned: bool,
}

fn to_batch(b: &mut BatchBuilder) -> Batch {
    let diagnostics: Vec<Diagnostic> = b.rejects.drain(..).map(Diagnostic::from).collect();
    // The next batch is likely as big: reserve it once instead of regrowing.
    let next_capacity = b.buf.len() + b.buf.len() / 8;
    let batch = Batch {
        entity: b.entity.map_or("", EntityKind::name).into(),
        model_major: MODEL_VERSION.0,
        model_minor: MODEL_VERSION.1,
        count: b.count,
        records: RVec::from(std::mem::replace(&mut b.buf, Vec::with_capacity(next_capacity))),
        diagnostics: RVec::from(diagnostics),
    };
    b.reset();
    batch
}

impl FfiSource for SourceAdapter {
    fn entities(&self) -> RVec<RString> {
        let inner = &self.inner;
        catch_unwind(AssertUnwindSafe(|| {
            inner.entities().into_iter().map(|e| RString::from(e.name())).collect()
        }))
        .unwrap_or_default()
    }

    fn next_batch(&mut self, max_records: u32) -> RResult<ROption<Batch>, PluginError> {
        let SourceAdapter { plugin, inner, builder, done, poisoned } = self;
        guard(plugin, poisoned, || {
            if *done {
                return Ok(ROption::RNone);
            }
            builder.capacity = max_records.max(1);
            loop {
                let more = inner.next_batch(builder)?;
                if !more {
                    *done = true;
                }
                if builder.count > 0 || !builder.rejects.is_empty() {
                    return Ok(ROption::RSome(to_batch(builder)));
                }
                if !more {
                    return Ok(ROption::RNone);
                }
            }
        })
    }
}

pub(crate) struct SinkAdapter {
    pub(crate) plugin: String,
    pub(crate) inner: Box<dyn Sink>,
    pub(crate) poisoned: bool,
}

impl FfiSink for SinkAdapter {
    fn entities(&self) -> RVec<RString> {
        let inner = &self.inner;
        catch_unwind(AssertUnwindSafe(|| {
            inner.entities().into_iter().map(|e| RString::from(e.name())).collect()
        }))
        .unwrap_or_default()
    }

    fn write_batch(&mut self, batch: Batch) -> RResult<WriteReport, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            if batch.model_major != MODEL_VERSION.0 {
                return Err(Error::unsupported(format!(
                    "records use canonical model {}.{}, this sink reads model {}.x",
                    batch.model_major, batch.model_minor, MODEL_VERSION.0
                )));
            }
            let entity = EntityKind::from_name(&batch.entity).ok_or_else(|| {
                Error::unsupported(format!("this sink does not know the entity '{}'", batch.entity))
            })?;
            let written = inner.write(RecordBatch::new(entity, batch.count, &batch.records))?;
            Ok(WriteReport {
                written: written.written,
                diagnostics: written.rejects.into_iter().map(Diagnostic::from).collect(),
            })
        })
    }

    fn commit(&mut self, summary_json: RString) -> RResult<CommitReport, PluginError> {
        let SinkAdapter { plugin, inner, poisoned } = self;
        guard(plugin, poisoned, || {
            let summary: RunSummary = serde_json::from_str(&summary_json)
                .map_err(|e| Error::internal(format!("unreadable run summary from the host: {e}")))?;
            let c = inner.commit(&summary)?;
            Ok(CommitReport {
                location: c.location.into(),
                notes: c.notes.into_iter().map(RString::from).collect(),
            })
        })
    }

    fn abort(&mut self) -> RResult<(), PluginError> {
        // Abort is attempted even after a panic: discarding this run's output
        // is the safest thing left to do.
        let SinkAdapter { plugin, inner, .. } = self;
        guard(plugin, &mut false, || inner.abort())
    }
}
