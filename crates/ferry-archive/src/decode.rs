//! How a row becomes a record again: the inverse of [`crate::encode`],
//! lenient where a hand edit left a harmless variant (a number in a text
//! column) and precise about what is wrong otherwise.

use std::borrow::Cow;

use ferry_model::{
    Date, Decimal, FieldDef, FieldType, Operation, Origin, Record, TimeOfDay, Timestamp, Value,
};
use rusqlite::Row;
use rusqlite::types::ValueRef;

use crate::json;
use crate::schema::{Role, Table};

/// Why a row could not become a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The column at fault.
    pub column: String,
    /// What is wrong with it (never the value: it may be personal data).
    pub reason: String,
    /// The offending value, for the rejects file.
    pub value: Option<String>,
}

fn bad(column: &str, reason: impl Into<String>, value: Option<String>) -> RowError {
    RowError { column: column.to_owned(), reason: reason.into(), value }
}

/// Text of a cell; numbers in a text column (hand edits) read as their text.
fn text<'a>(v: ValueRef<'a>, column: &str) -> Result<Option<Cow<'a, str>>, RowError> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Text(b) | ValueRef::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => Ok(Some(Cow::Borrowed(s))),
            Err(_) => Err(bad(column, "is not valid UTF-8 text", None)),
        },
        ValueRef::Integer(i) => Ok(Some(Cow::Owned(i.to_string()))),
        ValueRef::Real(x) => Ok(Some(Cow::Owned(x.to_string()))),
    }
}

/// A cell as text for the rejects file.
pub fn show(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

/// The cells of one row of a `SELECT` that lists some of a table's columns.
pub struct RowCells<'r, 's> {
    row: &'r Row<'s>,
    /// Per table column, its position in the select list (absent in an
    /// archive written before the model had the field).
    positions: &'r [Option<usize>],
}

impl<'r, 's> RowCells<'r, 's> {
    /// `row`, whose select list holds table column `i` at `positions[i]`.
    pub fn new(row: &'r Row<'s>, positions: &'r [Option<usize>]) -> RowCells<'r, 's> {
        RowCells { row, positions }
    }

    /// The cell of table column `i` (NULL when the archive lacks it).
    pub fn get(&self, i: usize) -> Result<ValueRef<'r>, RowError> {
        match self.positions.get(i).copied().flatten() {
            None => Ok(ValueRef::Null),
            Some(p) => self.row.get_ref(p).map_err(|e| bad("", format!("cannot read column {p}: {e}"), None)),
        }
    }
}

/// Sets one canonical field from its column(s).
fn read_field<R: Record>(
    rec: &mut R,
    f: &FieldDef,
    v: ValueRef<'_>,
    original: ValueRef<'_>,
    list: &mut Vec<String>,
) -> Result<(), RowError> {
    let wrong = |what: &str| bad(f.name, format!("holds {what}, not a {}", f.ty.name()), show(v));
    let owned: Option<Cow<'_, str>>;
    let value = match (f.ty, v) {
        (FieldType::Code(_), _) => match (text(v, f.name)?, text(original, f.name)?) {
            (None, None) => Value::Null,
            (None, Some(o)) => {
                owned = Some(o);
                Value::Text(owned.as_deref().unwrap_or_default())
            }
            (Some(c), o) => {
                // A code this build does not know (a newer model) reads as Other.
                let original = o.unwrap_or_else(|| c.clone());
                return rec
                    .set(f.name, Value::Code { code: &c, original: &original })
                    .map_err(|e| bad(f.name, e.to_string(), show(v)));
            }
        },
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Text, _) => {
            owned = text(v, f.name)?;
            Value::Text(owned.as_deref().unwrap_or_default())
        }
        (FieldType::Int, ValueRef::Integer(i)) => Value::Int(i),
        (FieldType::Int, ValueRef::Real(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::Int(x as i64),
        (FieldType::Int, _) => return Err(wrong("something else")),
        (FieldType::Decimal, ValueRef::Integer(i)) => {
            Value::Decimal(Decimal::from_int(i).map_err(|e| bad(f.name, e.to_string(), show(v)))?)
        }
        (FieldType::Decimal, _) => {
            let t = text(v, f.name)?.unwrap_or_default();
            match Decimal::parse(&t) {
                Ok(d) => Value::Decimal(d),
                Err(e) => return Err(bad(f.name, format!("holds text that is {e}"), show(v))),
            }
        }
        (FieldType::Bool, ValueRef::Integer(0)) => Value::Bool(false),
        (FieldType::Bool, ValueRef::Integer(1)) => Value::Bool(true),
        (FieldType::Bool, _) => return Err(wrong("a value other than 0 or 1")),
        (FieldType::Date, _) => match Date::parse_iso(&text(v, f.name)?.unwrap_or_default()) {
            Ok(d) => Value::Date(d),
            Err(_) => return Err(wrong("text that is not an ISO date (YYYY-MM-DD)")),
        },
        (FieldType::Timestamp, _) => match Timestamp::parse_iso(&text(v, f.name)?.unwrap_or_default()) {
            Ok(t) => Value::Timestamp(t),
            Err(_) => return Err(wrong("text that is not an RFC 3339 timestamp")),
        },
        (FieldType::Time, _) => match TimeOfDay::parse_iso(&text(v, f.name)?.unwrap_or_default()) {
            Ok(t) => Value::Time(t),
            Err(_) => return Err(wrong("text that is not a time of day (HH:MM:SS)")),
        },
        (FieldType::List, _) => {
            let t = text(v, f.name)?.unwrap_or_default();
            *list = json::read_list(&t)
                .map_err(|e| bad(f.name, format!("is not a JSON array of text: {e}"), show(v)))?;
            Value::List(ferry_model::ListRef::Slice(list))
        }
    };
    rec.set(f.name, value).map_err(|e| bad(f.name, e.to_string(), show(v)))
}

fn parse_hex(t: &str) -> Option<[u8; 16]> {
    let b = t.as_bytes();
    if b.len() != 32 {
        return None;
    }
    let nibble = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

/// Turns one row of `table` into a record. `list` is a reused buffer.
pub fn record<R: Record>(
    table: &Table,
    row: &RowCells<'_, '_>,
    list: &mut Vec<String>,
) -> Result<R, RowError> {
    let mut rec = R::default();
    let mut origin: Option<Origin> = None;
    for (ci, col) in table.columns.iter().enumerate() {
        let v = row.get(ci)?;
        let name = col.name.as_str();
        let opt_text = |v: ValueRef<'_>| text(v, name).map(|t| t.map(Cow::into_owned));
        let m = rec.meta_mut();
        match col.role {
            Role::SourceSystem => m.source.system = opt_text(v)?.unwrap_or_default(),
            Role::SourceId => m.source.id = opt_text(v)?.unwrap_or_default(),
            Role::Field(f) => {
                let original = match f.ty {
                    FieldType::Code(_) => row.get(ci + 1)?,
                    _ => ValueRef::Null,
                };
                read_field(&mut rec, f, v, original, list)?;
            }
            Role::CodeOriginal(_) | Role::RunId => {}
            Role::AltIds => {
                if let Some(t) = text(v, name)? {
                    m.alt_ids = json::read_alt_ids(&t)
                        .map_err(|e| bad(name, format!("is not a JSON object: {e}"), show(v)))?;
                }
            }
            Role::Extensions => {
                if let Some(t) = text(v, name)? {
                    let entries = json::read_extensions(&t)
                        .map_err(|e| bad(name, format!("is not a JSON object: {e}"), show(v)))?;
                    for (k, val, pii) in entries {
                        m.ext.insert_flagged(k, val, pii);
                    }
                }
            }
            Role::OriginFile => {
                if let Some(t) = opt_text(v)? {
                    origin.get_or_insert_with(Origin::default).file = t;
                }
            }
            Role::OriginLine => match v {
                ValueRef::Null => {}
                ValueRef::Integer(n) => {
                    origin.get_or_insert_with(Origin::default).line = u64::try_from(n).unwrap_or(0)
                }
                _ => return Err(bad(name, "is not a line number", show(v))),
            },
            Role::SourceRow => {
                if let Some(t) = opt_text(v)? {
                    origin.get_or_insert_with(Origin::default).raw = Some(t);
                }
            }
            Role::SourceTable => m.table = opt_text(v)?,
            Role::SourceLocator => m.locator = opt_text(v)?,
            Role::SourceRowHash => {
                m.row_hash = match text(v, name)? {
                    None => None,
                    Some(t) => Some(
                        parse_hex(&t).ok_or_else(|| bad(name, "is not 32 hexadecimal digits", show(v)))?,
                    ),
                }
            }
            Role::SourceModifiedAt => {
                m.modified_at = match text(v, name)? {
                    None => None,
                    Some(t) => Some(
                        Timestamp::parse_iso(&t)
                            .map_err(|_| bad(name, "is not an RFC 3339 timestamp", show(v)))?,
                    ),
                }
            }
            Role::Operation => {
                m.op = match text(v, name)?.as_deref() {
                    None | Some("upsert") => Operation::Upsert,
                    Some("delete") => Operation::Delete,
                    Some(_) => return Err(bad(name, "is neither 'upsert' nor 'delete'", show(v))),
                }
            }
        }
    }
    rec.meta_mut().origin = origin;
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_hashes_read_back_from_hex() {
        let mut s = String::new();
        crate::encode::push_hex(&mut s, &[0, 1, 0xfe, 0xff, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        assert_eq!(parse_hex(&s), Some([0, 1, 0xfe, 0xff, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]));
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex(&"g".repeat(32)), None);
    }
}
