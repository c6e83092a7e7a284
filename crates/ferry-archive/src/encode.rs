//! How a record becomes a row: the cell of every column of a table for one
//! row of an Arrow batch, read in place through the model's views.
//!
//! | value | cell |
//! | --- | --- |
//! | text, code, code original | TEXT as given |
//! | integer | INTEGER |
//! | boolean | INTEGER 0 or 1 |
//! | decimal | TEXT, shortest exact form (`3.5`, `0.3333`, `-2`) |
//! | date | TEXT `YYYY-MM-DD` |
//! | timestamp | TEXT RFC 3339 UTC (`2025-03-01T08:30:00Z`, microseconds when set) |
//! | time of day | TEXT `HH:MM:SS` (`.ffffff` when set) |
//! | list, alternative ids, extensions | TEXT JSON ([`crate::json`]); NULL when empty |
//! | source row hash | TEXT, 32 lowercase hex digits |
//! | operation | TEXT `upsert` or `delete` |
//!
//! Values are written into a reused [`Scratch`] or borrowed from the batch:
//! encoding a row allocates nothing once the buffers are warm.

use std::fmt::Write as _;

use ferry_model::columns::AnyReader;
use ferry_model::{Date, FieldType, FieldsView, MetaView, RecordBatch, SchemaError, Value};

use crate::checksum::Cell;
use crate::json;
use crate::schema::{Role, Table};

/// Buffers reused from row to row.
#[derive(Default)]
pub struct Scratch {
    text: String,
    json: Vec<u8>,
}

/// Where a column's cell comes from.
#[derive(Clone, Copy)]
enum Src<'a> {
    SourceSystem,
    SourceId,
    Field(AnyReader<'a>),
    /// A code: this column and the next (its original).
    Code(AnyReader<'a>),
    /// Written with the code before it.
    CodeOriginal,
    AltIds,
    Extensions,
    OriginFile,
    OriginLine,
    SourceRow,
    SourceTable,
    SourceLocator,
    SourceRowHash,
    SourceModifiedAt,
    Operation,
    /// Bound by the writer, not part of a row's content.
    RunId,
}

/// The rows of one batch, as cells of one table.
pub struct BatchRows<'a> {
    srcs: Vec<Src<'a>>,
    meta: MetaView<'a>,
    len: usize,
}

impl<'a> BatchRows<'a> {
    /// The rows of `batch`, a batch of `table`'s entity. Columns the model
    /// does not know are ignored; model columns the batch lacks read as null.
    pub fn new(table: &Table, batch: &'a RecordBatch) -> Result<BatchRows<'a>, SchemaError> {
        let fields = FieldsView::new(table.entity, batch)?;
        let reader = |name: &str| {
            fields
                .index(name)
                .and_then(|i| fields.reader(i))
                .ok_or_else(|| SchemaError(format!("{}.{name}: no such field in the model", table.entity)))
        };
        let mut srcs = Vec::with_capacity(table.columns.len());
        for c in &table.columns {
            srcs.push(match c.role {
                Role::SourceSystem => Src::SourceSystem,
                Role::SourceId => Src::SourceId,
                Role::Field(f) if matches!(f.ty, FieldType::Code(_)) => Src::Code(reader(f.name)?),
                Role::Field(f) => Src::Field(reader(f.name)?),
                Role::CodeOriginal(_) => Src::CodeOriginal,
                Role::AltIds => Src::AltIds,
                Role::Extensions => Src::Extensions,
                Role::OriginFile => Src::OriginFile,
                Role::OriginLine => Src::OriginLine,
                Role::SourceRow => Src::SourceRow,
                Role::SourceTable => Src::SourceTable,
                Role::SourceLocator => Src::SourceLocator,
                Role::SourceRowHash => Src::SourceRowHash,
                Role::SourceModifiedAt => Src::SourceModifiedAt,
                Role::Operation => Src::Operation,
                Role::RunId => Src::RunId,
            });
        }
        Ok(BatchRows { srcs, meta: *fields.meta(), len: batch.num_rows() })
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The meta columns (identity, operation…).
    pub fn meta(&self) -> &MetaView<'a> {
        &self.meta
    }

    /// Emits the cells of row `row`: `emit(column index, cell)` for every
    /// column of the table in table order, except `run_id` (which the caller
    /// binds itself: it is not part of the row's content).
    pub fn cells<E>(
        &self,
        row: usize,
        scratch: &mut Scratch,
        mut emit: impl FnMut(usize, Cell<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let m = &self.meta;
        let text = |t: Option<&'a str>| t.map_or(Cell::Null, |t| Cell::Text(t.as_bytes()));
        for (c, src) in self.srcs.iter().enumerate() {
            match *src {
                Src::SourceSystem => emit(c, Cell::Text(m.source_system(row).as_bytes()))?,
                Src::SourceId => emit(c, Cell::Text(m.source_id(row).as_bytes()))?,
                Src::Code(r) => match r.get(row) {
                    Value::Code { code, original } => {
                        emit(c, Cell::Text(code.as_bytes()))?;
                        emit(c + 1, Cell::Text(original.as_bytes()))?;
                    }
                    _ => {
                        emit(c, Cell::Null)?;
                        emit(c + 1, Cell::Null)?;
                    }
                },
                Src::Field(r) => emit(c, value_cell(r.get(row), scratch))?,
                Src::CodeOriginal | Src::RunId => {}
                Src::AltIds if m.alt_id_count(row) == 0 => emit(c, Cell::Null)?,
                Src::AltIds => {
                    json::write_alt_ids(&mut scratch.json, || m.alt_ids(row));
                    emit(c, Cell::Text(&scratch.json))?;
                }
                Src::Extensions if m.extension_count(row) == 0 => emit(c, Cell::Null)?,
                Src::Extensions => {
                    json::write_extensions(&mut scratch.json, m.extensions(row));
                    emit(c, Cell::Text(&scratch.json))?;
                }
                Src::OriginFile => emit(c, text(m.source_file(row)))?,
                Src::OriginLine => match m.source_file(row) {
                    Some(_) => emit(c, Cell::Int(i64::try_from(m.source_line(row)).unwrap_or(i64::MAX)))?,
                    None => emit(c, Cell::Null)?,
                },
                Src::SourceRow => emit(c, text(m.source_row(row)))?,
                Src::SourceTable => emit(c, text(m.source_table(row)))?,
                Src::SourceLocator => emit(c, text(m.source_locator(row)))?,
                Src::SourceRowHash => match m.source_row_hash(row) {
                    Some(h) => {
                        scratch.text.clear();
                        push_hex(&mut scratch.text, &h);
                        emit(c, Cell::Text(scratch.text.as_bytes()))?;
                    }
                    None => emit(c, Cell::Null)?,
                },
                Src::SourceModifiedAt => match m.source_modified_at(row) {
                    Some(t) => {
                        scratch.text.clear();
                        let _ = write!(scratch.text, "{t}");
                        emit(c, Cell::Text(scratch.text.as_bytes()))?;
                    }
                    None => emit(c, Cell::Null)?,
                },
                Src::Operation => emit(c, Cell::Text(m.operation(row).as_str().as_bytes()))?,
            }
        }
        Ok(())
    }
}

/// The cell of a field value; text built in `scratch` borrows it.
fn value_cell<'s>(v: Value<'s>, scratch: &'s mut Scratch) -> Cell<'s> {
    let s = &mut scratch.text;
    s.clear();
    match v {
        Value::Null => return Cell::Null,
        Value::Text(t) => return Cell::Text(t.as_bytes()),
        Value::Code { code, .. } => return Cell::Text(code.as_bytes()),
        Value::Int(n) => return Cell::Int(n),
        Value::Bool(b) => return Cell::Int(i64::from(b)),
        Value::List(items) => {
            json::write_list(&mut scratch.json, items.iter());
            return Cell::Text(&scratch.json);
        }
        Value::Date(d) => push_date(s, d),
        Value::Decimal(d) => {
            let _ = write!(s, "{d}");
        }
        Value::Timestamp(t) => {
            let _ = write!(s, "{t}");
        }
        Value::Time(t) => {
            let _ = write!(s, "{t}");
        }
    }
    Cell::Text(scratch.text.as_bytes())
}

/// Appends `YYYY-MM-DD` (years are 1 to 9999).
pub fn push_date(out: &mut String, d: Date) {
    let mut buf = [0u8; 10];
    let digits = |mut n: u32, out: &mut [u8]| {
        for b in out.iter_mut().rev() {
            *b = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(d.year().unsigned_abs(), &mut buf[0..4]);
    buf[4] = b'-';
    digits(d.month(), &mut buf[5..7]);
    buf[7] = b'-';
    digits(d.day(), &mut buf[8..10]);
    out.extend(buf.iter().map(|b| char::from(*b)));
}

/// Appends `bytes` as lowercase hex.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_model::{
        AltId, Code, Decimal, EntityKind, Grade, Meta, Operation, Origin, Record, RecordBuilder, TimeOfDay,
        Timestamp,
    };

    fn cells_of(batch: &RecordBatch, kind: EntityKind) -> Vec<(String, Option<String>)> {
        let table = Table::new(kind);
        let rows = BatchRows::new(&table, batch).unwrap();
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        rows.cells(0, &mut scratch, |c, cell| -> Result<(), ()> {
            let v = match cell {
                Cell::Null => None,
                Cell::Int(n) => Some(n.to_string()),
                Cell::Real(x) => Some(format!("{x}r")),
                Cell::Text(t) | Cell::Blob(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
            };
            out.push((table.columns[c].name.clone(), v));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn every_value_type_has_its_cell() {
        let mut meta = Meta::new("sis", "G1");
        meta.alt_ids.push(AltId { kind: "state".into(), value: "9".into(), assigner: Some("TX".into()) });
        meta.ext.insert_pii("Nick", "Jo");
        meta.origin = Some(Origin { file: "g.csv".into(), line: 7, raw: Some("raw".into()) });
        meta.table = Some("StoredGrades".into());
        meta.row_hash = Some([0xab; 16]);
        meta.op = Operation::Delete;
        meta.modified_at = Some(Timestamp::from_date_time(
            Date::new(2025, 3, 1).unwrap(),
            TimeOfDay::from_hms(8, 30, 0).unwrap(),
        ));
        let g = Grade {
            meta,
            student_id: Some("1".into()),
            kind: Some(Code::normalize("stored")),
            credits_earned: Some(Decimal::parse("0.3333").unwrap()),
            percent: Some(Decimal::parse("100").unwrap()),
            exclude_from_gpa: Some(true),
            school_year: Some(2025),
            ..Grade::default()
        };
        let mut b = <Grade as Record>::Builder::with_capacity(1);
        b.push(&g);
        let batch = b.finish().unwrap();
        let cells = cells_of(&batch, EntityKind::Grades);
        let get =
            |name: &str| cells.iter().find(|c| c.0 == name).unwrap_or_else(|| panic!("{name}")).1.clone();
        assert_eq!(get("credits_earned").as_deref(), Some("0.3333"));
        assert_eq!(get("percent").as_deref(), Some("100"));
        assert_eq!(get("exclude_from_gpa").as_deref(), Some("1"));
        assert_eq!(get("school_year").as_deref(), Some("2025"));
        assert_eq!(get("kind").as_deref(), Some("transcript"));
        assert_eq!(get("kind_original").as_deref(), Some("stored"));
        assert_eq!(get("gpa_points"), None);
        assert_eq!(get("grade_level_original"), None);
        assert_eq!(get("alt_ids").as_deref(), Some(r#"{"state":{"value":"9","assigner":"TX"}}"#));
        assert_eq!(get("extensions").as_deref(), Some(r#"{"Nick":{"value":"Jo","pii":true}}"#));
        assert_eq!(get("origin_line").as_deref(), Some("7"));
        assert_eq!(get("source_table").as_deref(), Some("StoredGrades"));
        assert_eq!(get("source_row_hash").as_deref(), Some("abababababababababababababababab"));
        assert_eq!(get("source_modified_at").as_deref(), Some("2025-03-01T08:30:00Z"));
        assert_eq!(get("operation").as_deref(), Some("delete"));
        assert!(cells.iter().all(|c| c.0 != "run_id"), "run_id is the writer's");
        let names: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
        let table = Table::new(EntityKind::Grades);
        let content: Vec<&str> = table.content_columns().map(|c| c.name.as_str()).collect();
        assert_eq!(names, content, "cells come in table order");
    }

    #[test]
    fn dates_are_zero_padded() {
        let mut s = String::new();
        push_date(&mut s, Date::new(7, 3, 9).unwrap());
        assert_eq!(s, "0007-03-09");
        s.clear();
        push_date(&mut s, Date::new(2024, 12, 31).unwrap());
        assert_eq!(s, "2024-12-31");
    }
}
