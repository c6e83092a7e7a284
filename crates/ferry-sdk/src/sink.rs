//! The [`Sink`] trait and the [`SinkBatch`] a sink receives.

use ferry_model::{EntityKind, FieldsView, Receipt, Record, RecordBatch, RecordView, SchemaError};
use ferry_plugin_abi::{EntityPlan, RunSummary};

use crate::error::Error;
use crate::reject::Reject;

/// A connector that consumes canonical records.
///
/// The host calls [`Sink::write`] for every batch, then [`Sink::prepare`]
/// once, then [`Sink::commit`]; or [`Sink::abort`] when the run fails or is a
/// dry run; then [`Sink::close`]. A transactional sink makes the commit
/// atomic: until it, earlier outputs stay as they were.
///
/// Opened with [`OpenContext::dry_run`](crate::OpenContext::dry_run), a sink
/// validates and plans everything and writes nothing: `write` accounts for
/// every record as usual and `prepare` reports the plan.
pub trait Sink: Send + 'static {
    /// The entities this sink accepts.
    fn entities(&self) -> Vec<EntityKind>;

    /// Takes a batch of records of one entity; every record is accounted for
    /// as written (accepted, or staged for the commit) or rejected.
    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error>;

    /// Whether this sink keeps the source's own tables as they came (see
    /// [`ferry_model::source_table`]): then the host asks the source for them
    /// and calls [`Sink::write_table`] with each batch. The default: no.
    fn source_tables(&self) -> bool {
        false
    }

    /// Takes a batch of rows of source table `table` (its schema is described
    /// in [`ferry_model::source_table`]); returns how many rows it wrote,
    /// which must be all of them.
    fn write_table(&mut self, table: &str, batch: &RecordBatch) -> Result<u64, Error> {
        let _ = batch;
        Err(Error::unsupported(format!("this sink does not keep source tables (was given {table})")))
    }

    /// Stages everything: reports records refused now that everything is
    /// known (late rejects, counted as written before), the ids the
    /// destination assigned (receipts) and what the run does per entity.
    /// After it, `commit` must not reject anything.
    fn prepare(&mut self, summary: &RunSummary) -> Result<Prepared, Error> {
        let _ = summary;
        Ok(Prepared::default())
    }

    /// Makes the output visible.
    fn commit(&mut self) -> Result<Committed, Error>;

    /// Discards the output of this run, keeping earlier outputs intact.
    fn abort(&mut self) -> Result<(), Error>;

    /// Releases files and connections. Called once, last.
    fn close(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// What a sink did with a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Records accepted.
    pub written: u64,
    /// Records refused.
    pub rejects: Vec<Reject>,
}

/// What a sink reports from [`Sink::prepare`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Records counted as written earlier that are refused after all.
    pub rejects: Vec<Reject>,
    /// Ids the destination assigned.
    pub receipts: Vec<Receipt>,
    /// Per entity, what the run does (or, in a dry run, would do).
    pub plan: Vec<EntityPlan>,
}

/// What a sink reports on commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Where the output is.
    pub location: String,
    /// Extra lines for the run summary.
    pub notes: Vec<String>,
}

/// A batch of records of one entity: an Arrow record batch, read through a
/// typed zero-copy view ([`SinkBatch::view`]), by field name
/// ([`SinkBatch::fields`]), as owned records ([`SinkBatch::records`]), or as
/// Arrow itself ([`SinkBatch::arrow`]).
#[derive(Clone, Copy, Debug)]
pub struct SinkBatch<'a> {
    entity: EntityKind,
    batch: &'a RecordBatch,
}

impl<'a> SinkBatch<'a> {
    /// A batch of `entity` (for tests and in-process use).
    pub fn new(entity: EntityKind, batch: &'a RecordBatch) -> SinkBatch<'a> {
        SinkBatch { entity, batch }
    }

    /// The entity.
    pub fn entity(&self) -> EntityKind {
        self.entity
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Arrow batch itself (columns the model does not know included).
    pub fn arrow(&self) -> &'a RecordBatch {
        self.batch
    }

    /// A typed view reading values in place. `R` must be the record type of
    /// [`SinkBatch::entity`] (use `ferry_sdk::model::with_record_type!` to
    /// dispatch).
    pub fn view<R: Record>(&self) -> Result<R::View<'a>, Error> {
        self.check::<R>()?;
        R::View::new(self.batch).map_err(schema_error)
    }

    /// Every field, read by name.
    pub fn fields(&self) -> Result<FieldsView<'a>, Error> {
        FieldsView::new(self.entity, self.batch).map_err(schema_error)
    }

    /// The records as owned values (allocates every string: for sinks that
    /// keep records; others should read [`SinkBatch::view`]).
    pub fn records<R: Record>(&self) -> Result<impl Iterator<Item = R> + 'a, Error> {
        let view = self.view::<R>()?;
        Ok((0..view.len()).map(move |i| view.record(i)))
    }

    fn check<R: Record>(&self) -> Result<(), Error> {
        if R::KIND == self.entity {
            Ok(())
        } else {
            Err(Error::internal(format!("reading a batch of {} as {}", self.entity, R::KIND)))
        }
    }
}

fn schema_error(e: SchemaError) -> Error {
    Error::data(format!(
        "a batch does not have the layout of the canonical model ({e}); were source and sink built against the same model major version?"
    ))
}
