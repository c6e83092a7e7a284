//! The [`Source`] trait and the [`BatchBuilder`] a source fills.

use std::any::Any;

use ferry_model::{EntityKind, Record, RecordBatch, RecordBuilder, Violation, validate_into};
use ferry_plugin_abi::CancelFlag;

use crate::error::Error;
use crate::reject::Reject;

/// A connector that produces canonical records.
///
/// The host calls [`Source::next_batch`] until it returns `Ok(false)`. Each
/// call fills the builder with records of one entity (and any rejects met on
/// the way) up to its capacity. Calls are synchronous and come from one host
/// thread at a time.
pub trait Source: Send + 'static {
    /// The entities this source will produce, in the order it produces them.
    fn entities(&self) -> Vec<EntityKind>;

    /// Fills `out`; returns `Ok(false)` once there is nothing more to read
    /// (`out` may still hold a last batch then). A long call should check
    /// [`BatchBuilder::cancelled`] now and then and return
    /// [`Error::cancelled`] when it is set.
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error>;

    /// Releases files and connections. Called once, last; dropping the
    /// source afterwards must release nothing more.
    fn close(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A field whose source value could not be stored: the source leaves the
/// field empty and reports it; [`BatchBuilder::push_with`] then applies the
/// model's rule (a key or required field rejects the record; any other field
/// is nulled with a warning, which the host's field policy may turn into a
/// reject or keep the value as text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldIssue {
    /// The canonical field (or a path such as `alt.state`).
    pub field: String,
    /// Why, without the value, naming the field (and the source column
    /// where it helps): it is used as the reject's or warning's reason as given.
    pub reason: String,
    /// The source value, shown only when the user asks for values.
    pub value: Option<String>,
}

impl FieldIssue {
    /// An issue with `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldIssue {
        FieldIssue { field: field.into(), reason: reason.into(), value: None }
    }
    /// The offending source value.
    #[must_use]
    pub fn value(mut self, value: impl Into<String>) -> FieldIssue {
        self.value = Some(value.into());
        self
    }
}

/// A batch being filled: records of one entity, plus rejects and warnings.
pub struct BatchBuilder {
    entity: Option<EntityKind>,
    /// A batch of a source table instead of records (see [`BatchBuilder::push_table`]).
    table: Option<(String, RecordBatch)>,
    notices: Vec<String>,
    /// Builders by entity, kept across batches so their buffers are reused.
    builders: Vec<(EntityKind, Box<dyn Any + Send>)>,
    current: Option<usize>,
    count: u32,
    pub(crate) capacity: u32,
    pub(crate) diagnostics: Vec<Reject>,
    violations: Vec<Violation>,
    pub(crate) cancel: CancelFlag,
}

impl BatchBuilder {
    /// An empty builder taking up to `capacity` records.
    pub fn new(capacity: u32) -> BatchBuilder {
        BatchBuilder {
            entity: None,
            table: None,
            notices: Vec::new(),
            builders: Vec::new(),
            current: None,
            count: 0,
            capacity: capacity.max(1),
            diagnostics: Vec::new(),
            violations: Vec::new(),
            cancel: CancelFlag::never(),
        }
    }

    /// The entity of the records in this batch so far.
    pub fn entity(&self) -> Option<EntityKind> {
        self.entity
    }

    /// Records pushed so far.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether no record was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the batch has reached its capacity (or holds a source table):
    /// return from `next_batch`.
    pub fn is_full(&self) -> bool {
        self.count >= self.capacity || self.table.is_some()
    }

    /// Whether a record of `entity` may go in this batch (it is empty or holds
    /// the same entity, and is not full).
    pub fn accepts(&self, entity: EntityKind) -> bool {
        !self.is_full() && self.entity.is_none_or(|e| e == entity)
    }

    /// How many rows a batch may hold (the host's batch size).
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Sends `batch`, rows of the source's own table `table` as they came
    /// (built with [`ferry_model::source_table::SourceTableBuilder`]), as this
    /// call's batch: only when [`OpenContext::source_tables`](crate::OpenContext)
    /// says the destination keeps them, and only into an empty builder
    /// (return from `next_batch` after it). Rejects and notices may go with it.
    pub fn push_table(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        if self.count > 0 || self.table.is_some() {
            return Err(Error::internal(format!(
                "source pushed rows of source table {table} into a batch that already holds rows"
            )));
        }
        if table.is_empty() {
            return Err(Error::internal("a source table needs a name"));
        }
        if batch.num_rows() > 0 {
            self.table = Some((table.to_owned(), batch));
        }
        Ok(())
    }

    /// Adds a line to the run summary, about no record in particular (which
    /// columns were left out, say). Never personal data.
    pub fn notice(&mut self, text: impl Into<String>) {
        self.notices.push(text.into());
    }

    /// Whether anything is waiting to be sent.
    pub(crate) fn has_content(&self) -> bool {
        self.count > 0 || self.table.is_some() || !self.diagnostics.is_empty() || !self.notices.is_empty()
    }

    /// Whether the host asked to stop (Ctrl-C, SIGTERM): a long read should
    /// return [`Error::cancelled`].
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn builder<R: Record>(&mut self) -> Result<&mut R::Builder, Error> {
        if self.entity.is_some_and(|e| e != R::KIND) {
            return Err(Error::internal(format!(
                "source pushed a {} record into a batch of {}; a batch holds one entity",
                R::KIND,
                self.entity.map_or("", EntityKind::name)
            )));
        }
        let idx = match self.current {
            Some(i) => i,
            None => {
                let i = match self.builders.iter().position(|(k, _)| *k == R::KIND) {
                    Some(i) => i,
                    None => {
                        let capacity = usize::try_from(self.capacity).unwrap_or(4096).min(65_536);
                        self.builders.push((R::KIND, Box::new(R::Builder::with_capacity(capacity))));
                        self.builders.len() - 1
                    }
                };
                self.current = Some(i);
                self.entity = Some(R::KIND);
                i
            }
        };
        self.builders[idx]
            .1
            .downcast_mut::<R::Builder>()
            .ok_or_else(|| Error::internal("batch builder of the wrong type"))
    }

    /// Validates `record` and adds it, or turns it into a reject with its
    /// violations as reasons. Returns whether it was added.
    ///
    /// Fails only when the batch already holds another entity (a bug in the
    /// source; check [`BatchBuilder::accepts`] first).
    pub fn push<R: Record>(&mut self, record: &R) -> Result<bool, Error> {
        self.push_with(record, &[])
    }

    /// Like [`BatchBuilder::push`], for a record some of whose source values
    /// could not be stored (`issues`, the fields left empty). An issue on a
    /// key or required field rejects the record with every reason; otherwise
    /// the record is added and each issue becomes a warning naming the field.
    pub fn push_with<R: Record>(&mut self, record: &R, issues: &[FieldIssue]) -> Result<bool, Error> {
        let mut violations = std::mem::take(&mut self.violations);
        violations.clear();
        validate_into(record, &mut violations);
        let strict = |f: &str| R::fields().iter().any(|d| d.name == f && d.is_strict()) || f == "source_id";
        let reject = !violations.is_empty() || issues.iter().any(|i| strict(&i.field));
        if reject {
            // Issues explain why a required field is missing: name them first,
            // and drop the "missing" violation of a field an issue names.
            let mut reasons: Vec<String> = issues.iter().map(|i| i.reason.clone()).collect();
            reasons.extend(
                violations
                    .iter()
                    .filter(|v| !issues.iter().any(|i| i.field == v.field))
                    .map(|v| format!("{}: {}", v.field, v.reason)),
            );
            let mut r = Reject::new(R::KIND, reasons.join("; ")).of(record.meta());
            match (issues, violations.as_slice()) {
                ([one], _) => {
                    r.field.clone_from(&one.field);
                    r.value.clone_from(&one.value);
                }
                ([], [one]) => r.field = one.field.to_owned(),
                ([], _) => {}
                (many, _) => {
                    let values: Vec<String> = many
                        .iter()
                        .filter_map(|i| i.value.as_ref().map(|v| format!("{}={v}", i.field)))
                        .collect();
                    r.value = (!values.is_empty()).then(|| values.join("; "));
                }
            }
            self.diagnostics.push(r);
            self.violations = violations;
            return Ok(false);
        }
        self.violations = violations;
        let row = self.count;
        self.builder::<R>()?.push(record);
        for i in issues {
            let mut w = Reject::warning(R::KIND, format!("{} (the field is left empty)", i.reason))
                .of(record.meta())
                .field(i.field.clone());
            w.value.clone_from(&i.value);
            w.row = Some(row);
            self.diagnostics.push(w);
        }
        self.count += 1;
        Ok(true)
    }

    /// Adds a warning about the record pushed last (by a `push` or
    /// `push_with` that returned `true`): something about its source row
    /// the record does not show, such as a field read in a fallback encoding
    /// (see [`CellNote`](crate::text::CellNote)). The host's field policy
    /// applies to it by its `field` (a canonical field, or a source column).
    /// Fails when this batch has no record yet.
    pub fn warn_last(&mut self, mut warning: Reject) -> Result<(), Error> {
        let Some(row) = self.count.checked_sub(1) else {
            return Err(Error::internal("a warning about the last record of a batch that has none"));
        };
        warning.severity = ferry_model::Severity::Warning;
        warning.row = Some(row);
        self.diagnostics.push(warning);
        Ok(())
    }

    /// Records a row that could not become a record.
    pub fn reject(&mut self, reject: Reject) {
        self.diagnostics.push(reject);
    }

    /// The batch so far and its diagnostics; the builder is empty afterwards.
    pub(crate) fn take(&mut self) -> Result<Taken, Error> {
        let entity = self.entity.take();
        let batch = match self.current.take() {
            Some(i) if self.count > 0 => {
                let b = &mut self.builders[i].1;
                let batch = with_builder_finish(entity, b.as_mut())?;
                Some(batch)
            }
            _ => None,
        };
        self.count = 0;
        Ok(Taken {
            entity,
            records: batch,
            table: self.table.take(),
            rejects: std::mem::take(&mut self.diagnostics),
            notices: std::mem::take(&mut self.notices),
        })
    }
}

/// What [`BatchBuilder::take`] hands over.
pub(crate) struct Taken {
    /// The entity of `records`.
    pub entity: Option<EntityKind>,
    /// Canonical records.
    pub records: Option<RecordBatch>,
    /// Or a source table's rows.
    pub table: Option<(String, RecordBatch)>,
    /// Rejects and warnings.
    pub rejects: Vec<Reject>,
    /// Lines for the run summary.
    pub notices: Vec<String>,
}

fn with_builder_finish(entity: Option<EntityKind>, b: &mut (dyn Any + Send)) -> Result<RecordBatch, Error> {
    let Some(kind) = entity else {
        return Err(Error::internal("a batch with records but no entity"));
    };
    ferry_model::with_record_type!(kind, R => {
        b.downcast_mut::<<R as Record>::Builder>()
            .ok_or_else(|| Error::internal("batch builder of the wrong type"))?
            .finish()
            .map_err(|e| Error::internal(e.0))
    })
}
