//! The [`Sink`] trait and the [`RecordBatch`] a sink receives.

use ferry_model::{EntityKind, Record};
use ferry_plugin_abi::RunSummary;

use crate::codec::{self, Decoder};
use crate::error::Error;
use crate::reject::Reject;

/// A connector that consumes canonical records.
///
/// The host calls [`Sink::write`] for every batch, then [`Sink::commit`] once,
/// or [`Sink::abort`] when the run fails. A sink that can should make the
/// commit atomic: until it, earlier outputs stay as they were.
pub trait Sink: Send + 'static {
    /// The entities this sink accepts.
    fn entities(&self) -> Vec<EntityKind>;

    /// Takes a batch of records of one entity.
    fn write(&mut self, batch: RecordBatch<'_>) -> Result<Written, Error>;

    /// Makes the output visible.
    fn commit(&mut self, summary: &RunSummary) -> Result<Committed, Error>;

    /// Discards the output of this run, keeping earlier outputs intact.
    fn abort(&mut self) -> Result<(), Error>;
}

/// What a sink did with a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Records accepted.
    pub written: u64,
    /// Records refused.
    pub rejects: Vec<Reject>,
}

/// What a sink reports on commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Where the output is.
    pub location: String,
    /// Extra lines for the run summary.
    pub notes: Vec<String>,
}

/// A batch of records of one entity, still encoded.
#[derive(Clone, Copy, Debug)]
pub struct RecordBatch<'a> {
    /// The entity.
    pub entity: EntityKind,
    /// How many records.
    pub count: u32,
    pub(crate) bytes: &'a [u8],
}

impl<'a> RecordBatch<'a> {
    /// A batch over encoded bytes (for tests and in-process use).
    pub fn new(entity: EntityKind, count: u32, bytes: &'a [u8]) -> RecordBatch<'a> {
        RecordBatch { entity, count, bytes }
    }

    /// Decodes the records. `R` must be the record type of [`RecordBatch::entity`]
    /// (use `ferry_sdk::model::with_record_type!` to dispatch).
    pub fn records<R: Record>(&self) -> Result<Decoder<'a, R>, Error> {
        if R::KIND != self.entity {
            return Err(Error::internal(format!("decoding a batch of {} as {}", self.entity, R::KIND)));
        }
        Ok(codec::decode(self.bytes))
    }
}
