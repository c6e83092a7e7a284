//! [`FieldsView`]: read any field of a batch by name, whatever its entity: for
//! generic sinks (CSV, SQLite) that map fields by configuration.

use arrow_array::{Array, RecordBatch};

use crate::columns::{AnyReader, MetaView, SchemaError};
use crate::entities::EntityKind;
use crate::value::{FieldDef, Value};

/// The fields of one batch, each with a reader chosen for its type.
#[derive(Clone, Debug)]
pub struct FieldsView<'a> {
    kind: EntityKind,
    meta: MetaView<'a>,
    readers: Vec<AnyReader<'a>>,
    len: usize,
}

impl<'a> FieldsView<'a> {
    /// A view of `batch`, a batch of `kind`. Columns the model does not know are
    /// ignored; model fields the batch lacks read as null.
    pub fn new(kind: EntityKind, batch: &'a RecordBatch) -> Result<FieldsView<'a>, SchemaError> {
        let readers = kind
            .fields()
            .iter()
            .map(|f| {
                let col = batch.column_by_name(f.name).map(|c| c.as_ref() as &dyn Array);
                AnyReader::new(f.ty, col).map_err(|e| SchemaError(format!("{kind}.{}: {e}", f.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FieldsView { kind, meta: MetaView::new(batch)?, readers, len: batch.num_rows() })
    }

    /// The entity.
    pub fn kind(&self) -> EntityKind {
        self.kind
    }
    /// Rows.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The meta columns.
    pub fn meta(&self) -> &MetaView<'a> {
        &self.meta
    }
    /// The index of field `name` (an index into [`EntityKind::fields`]).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.kind.fields().iter().position(|f| f.name == name)
    }
    /// The definition of field `index`.
    pub fn def(&self, index: usize) -> Option<&'static FieldDef> {
        self.kind.fields().get(index)
    }
    /// Field `index` of row `row`.
    #[inline]
    pub fn get(&self, index: usize, row: usize) -> Value<'a> {
        self.readers.get(index).map_or(Value::Null, |r| r.get(row))
    }
    /// The reader of field `index`, to hoist the lookup out of a loop.
    pub fn reader(&self, index: usize) -> Option<AnyReader<'a>> {
        self.readers.get(index).copied()
    }
}
