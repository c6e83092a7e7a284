//! The [`Source`] trait and the [`BatchBuilder`] a source fills.

use ferry_model::{EntityKind, Problem, Record, validate_into};

use crate::codec;
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
    /// (`out` may still hold a last batch then).
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error>;
}

/// A batch being filled: records of one entity, plus rejects.
pub struct BatchBuilder {
    pub(crate) entity: Option<EntityKind>,
    pub(crate) buf: Vec<u8>,
    pub(crate) count: u32,
    pub(crate) capacity: u32,
    pub(crate) rejects: Vec<Reject>,
    problems: Vec<Problem>,
}

impl BatchBuilder {
    /// An empty builder taking up to `capacity` records.
    pub fn new(capacity: u32) -> BatchBuilder {
        BatchBuilder {
            entity: None,
            buf: Vec::new(),
            count: 0,
            capacity: capacity.max(1),
            rejects: Vec::new(),
            problems: Vec::new(),
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

    /// Whether the batch has reached its capacity: return from `next_batch`.
    pub fn is_full(&self) -> bool {
        self.count >= self.capacity
    }

    /// Whether a record of `entity` may go in this batch (it is empty or holds
    /// the same entity, and is not full).
    pub fn accepts(&self, entity: EntityKind) -> bool {
        !self.is_full() && self.entity.is_none_or(|e| e == entity)
    }

    /// Validates `record` and adds it, or turns it into a reject with its
    /// problems as reasons. Returns whether it was added.
    ///
    /// Fails only when the batch already holds another entity (a bug in the
    /// source; check [`BatchBuilder::accepts`] first).
    pub fn push<R: Record>(&mut self, record: &R) -> Result<bool, Error> {
        if self.entity.is_some_and(|e| e != R::KIND) {
            return Err(Error::internal(format!(
                "source pushed a {} record into a batch of {}; a batch holds one entity",
                R::KIND,
                self.entity.map_or("", EntityKind::name)
            )));
        }
        self.problems.clear();
        validate_into(record, &mut self.problems);
        if !self.problems.is_empty() {
            let reasons: Vec<String> =
                self.problems.iter().map(|p| format!("{}: {}", p.field, p.reason)).collect();
            let field = if self.problems.len() == 1 { self.problems[0].field } else { "" };
            self.rejects.push(Reject::new(R::KIND, reasons.join("; ")).of(record.meta()).field(field));
            return Ok(false);
        }
        self.entity = Some(R::KIND);
        codec::encode(record, &mut self.buf)?;
        self.count += 1;
        Ok(true)
    }

    /// Records a row that could not become a record.
    pub fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }

    pub(crate) fn reset(&mut self) {
        self.entity = None;
        self.buf.clear();
        self.count = 0;
        self.rejects.clear();
    }
}
