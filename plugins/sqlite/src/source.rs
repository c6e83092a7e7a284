//! The archive source: reads entity tables back into canonical records,
//! streaming in rowid order (keyset pages: each call resumes after the last
//! row it read, so no table is ever loaded whole).

use std::borrow::Cow;
use std::path::PathBuf;

use ferry_sdk::model::{AltId, EntityKind, FieldDef, FieldType, Origin, Record, Value, with_record_type};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::{BatchBuilder, Error, OpenContext, Reject, Source, tracing};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};

use crate::archive::{self, db_error};
use crate::schema::{Role, Table, quote};
use ferry_sdk::text::json as flat_json;

/// The source's configuration.
#[derive(Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SourceConfig {
    /// The archive file.
    path: String,
    /// Entities to read; default every entity table in the archive.
    #[serde(default)]
    entities: Option<Vec<String>>,
    /// Read only records of this source system.
    #[serde(default)]
    source_system: Option<String>,
}

/// How to read one entity table.
struct TablePlan {
    table: Table,
    /// `SELECT rowid, … WHERE rowid > ?1 [AND source_system = ?2] ORDER BY rowid`.
    sql: String,
    /// Per schema column: its position in the select list (absent in an
    /// archive written before the model had the field).
    positions: Vec<Option<usize>>,
}

/// The SQLite archive source.
pub struct ArchiveSource {
    conn: Connection,
    path: PathBuf,
    /// The archive's file name, for rejects.
    label: String,
    plans: Vec<TablePlan>,
    current: usize,
    last_rowid: i64,
    source_system: Option<String>,
}

/// Why a row could not become a record: (field, reason, offending value).
type RowError = (String, String, Option<String>);

fn bad(field: &str, reason: impl Into<String>, value: Option<String>) -> RowError {
    (field.to_owned(), reason.into(), value)
}

impl ArchiveSource {
    /// Opens the archive read-only and plans the tables to read.
    pub fn open(ctx: &OpenContext) -> Result<ArchiveSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        if cfg.path.trim().is_empty() {
            return Err(Error::config("`path` is empty; name the archive file to read"));
        }
        let path = ctx.resolve(&cfg.path);
        let conn = archive::open_archive(&path)?;
        let wanted: Vec<EntityKind> = match &cfg.entities {
            None => EntityKind::ALL.to_vec(),
            Some(names) => {
                let mut v = Vec::new();
                for n in names {
                    let k = EntityKind::from_name(n).ok_or_else(|| {
                        let all: Vec<&str> = EntityKind::ALL.iter().map(|e| e.name()).collect();
                        Error::config(format!(
                            "`entities` names an unknown entity '{n}'; known: {}",
                            all.join(", ")
                        ))
                    })?;
                    v.push(k);
                }
                // Dependency order, whatever order the configuration lists.
                EntityKind::ALL.iter().copied().filter(|k| v.contains(k)).collect()
            }
        };
        let e = |err: rusqlite::Error| db_error(&err, "cannot read the archive", &path);
        let mut plans = Vec::new();
        for kind in wanted {
            let table = Table::new(kind);
            let have = archive::table_columns(&conn, table.name()).map_err(e)?;
            if have.is_empty() {
                continue;
            }
            let unknown: Vec<&str> = have
                .iter()
                .filter(|h| !table.columns.iter().any(|c| &c.name == *h))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                tracing::warn!(
                    table = table.name(),
                    columns = %unknown.join(", "),
                    "the archive has columns this Ferry does not know (written by a newer model?); they are not read"
                );
            }
            let mut select = vec!["rowid".to_owned()];
            let mut positions = Vec::with_capacity(table.columns.len());
            for c in &table.columns {
                if have.contains(&c.name) {
                    positions.push(Some(select.len()));
                    select.push(quote(&c.name));
                } else {
                    positions.push(None);
                }
            }
            let filter = if cfg.source_system.is_some() { " AND source_system = ?2" } else { "" };
            let sql = format!(
                "SELECT {} FROM {} WHERE rowid > ?1{filter} ORDER BY rowid",
                select.join(", "),
                quote(table.name())
            );
            plans.push(TablePlan { table, sql, positions });
        }
        let label =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        tracing::info!(archive = %path.display(), tables = plans.len(), "reading the archive");
        Ok(ArchiveSource {
            conn,
            path,
            label,
            plans,
            current: 0,
            last_rowid: i64::MIN,
            source_system: cfg.source_system,
        })
    }

    /// Reads rows of the current table into `out` until it is full (`false`)
    /// or the table is done (`true`).
    fn read_into<R: Record>(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        let ArchiveSource { conn, path, label, plans, current, last_rowid, source_system } = self;
        let plan = &plans[*current];
        let e =
            |err: rusqlite::Error| db_error(&err, format_args!("reading {} from the archive", R::KIND), path);
        let mut stmt = conn.prepare_cached(&plan.sql).map_err(e)?;
        stmt.raw_bind_parameter(1, *last_rowid).map_err(e)?;
        if let Some(s) = source_system {
            stmt.raw_bind_parameter(2, s.as_str()).map_err(e)?;
        }
        let mut rows = stmt.raw_query();
        let mut list = Vec::new();
        while let Some(row) = rows.next().map_err(e)? {
            let rowid: i64 = row.get(0).map_err(e)?;
            *last_rowid = rowid;
            match decode::<R>(plan, row, &mut list) {
                Ok(rec) => {
                    out.push(&rec)?;
                }
                Err((field, reason, value)) => {
                    let id = plan.positions[1]
                        .and_then(|p| row.get_ref(p).ok())
                        .and_then(|v| v.as_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let mut r =
                        Reject::new(R::KIND, format!("table {} row {rowid}: {reason}", plan.table.name()))
                            .at(label.as_str(), 0)
                            .field(field)
                            .record(id);
                    if let Some(v) = value {
                        r = r.value(v);
                    }
                    out.reject(r);
                }
            }
            if out.is_full() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Source for ArchiveSource {
    fn entities(&self) -> Vec<EntityKind> {
        self.plans.iter().map(|p| p.table.entity).collect()
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        while self.current < self.plans.len() {
            let kind = self.plans[self.current].table.entity;
            if !out.accepts(kind) {
                return Ok(true);
            }
            let done = with_record_type!(kind, R => self.read_into::<R>(out))?;
            if !done {
                return Ok(true);
            }
            self.current += 1;
            self.last_rowid = i64::MIN;
            if !out.is_empty() {
                return Ok(self.current < self.plans.len());
            }
        }
        Ok(false)
    }
}

/// Text of a cell; numbers in a text column (hand edits) read as their text.
fn text<'a>(v: ValueRef<'a>, field: &str) -> Result<Option<Cow<'a, str>>, RowError> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Text(b) | ValueRef::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => Ok(Some(Cow::Borrowed(s))),
            Err(_) => Err(bad(field, "is not valid UTF-8 text", None)),
        },
        ValueRef::Integer(i) => Ok(Some(Cow::Owned(i.to_string()))),
        ValueRef::Real(x) => Ok(Some(Cow::Owned(x.to_string()))),
    }
}

fn cell<'r>(row: &'r Row<'_>, pos: Option<usize>) -> Result<ValueRef<'r>, RowError> {
    match pos {
        None => Ok(ValueRef::Null),
        Some(p) => row.get_ref(p).map_err(|e| bad("", format!("cannot read column {p}: {e}"), None)),
    }
}

fn show(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
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
        (FieldType::Code(values), _) => {
            let code = text(v, f.name)?;
            let orig = text(original, f.name)?;
            match (code, orig) {
                (None, None) => Value::Null,
                (None, Some(o)) => {
                    owned = Some(o);
                    Value::Text(owned.as_deref().unwrap_or_default())
                }
                (Some(c), o) => {
                    // A code this build does not know (a newer model) reads as Other.
                    let code = values.iter().copied().find(|k| *k == c).unwrap_or("Other");
                    owned = Some(o.unwrap_or(c));
                    Value::Code { code, original: owned.as_deref().unwrap_or_default() }
                }
            }
        }
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Text, _) => {
            owned = text(v, f.name)?;
            Value::Text(owned.as_deref().unwrap_or_default())
        }
        (FieldType::Int, ValueRef::Integer(i)) => Value::Int(i),
        (FieldType::Int, ValueRef::Real(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::Int(x as i64),
        (FieldType::Int, _) => return Err(wrong("something else")),
        (FieldType::Number, ValueRef::Real(x)) => Value::Number(x),
        #[allow(clippy::cast_precision_loss, reason = "grade and credit values are small")]
        (FieldType::Number, ValueRef::Integer(i)) => Value::Number(i as f64),
        (FieldType::Number, _) => return Err(wrong("text")),
        (FieldType::Bool, ValueRef::Integer(0)) => Value::Bool(false),
        (FieldType::Bool, ValueRef::Integer(1)) => Value::Bool(true),
        (FieldType::Bool, _) => return Err(wrong("a value other than 0 or 1")),
        (FieldType::Date, _) => {
            let t = text(v, f.name)?.unwrap_or_default();
            match ferry_sdk::model::Date::parse_iso(&t) {
                Ok(d) => Value::Date(d),
                Err(_) => return Err(wrong("text that is not an ISO date (YYYY-MM-DD)")),
            }
        }
        (FieldType::List, _) => {
            let t = text(v, f.name)?.unwrap_or_default();
            *list = flat_json::read_array(&t)
                .map_err(|e| bad(f.name, format!("is not a JSON array of text: {e}"), show(v)))?;
            Value::List(list)
        }
    };
    rec.set(f.name, value).map_err(|e| bad(f.name, e.to_string(), show(v)))
}

/// Turns one row into a record.
fn decode<R: Record>(plan: &TablePlan, row: &Row<'_>, list: &mut Vec<String>) -> Result<R, RowError> {
    let mut rec = R::default();
    let mut origin: Option<Origin> = None;
    let cols = &plan.table.columns;
    for (ci, col) in cols.iter().enumerate() {
        let v = cell(row, plan.positions[ci])?;
        match col.role {
            Role::SourceSystem => {
                rec.meta_mut().source.system = text(v, &col.name)?.unwrap_or_default().into_owned()
            }
            Role::SourceId => rec.meta_mut().source.id = text(v, &col.name)?.unwrap_or_default().into_owned(),
            Role::Field(f) => {
                let original = match f.ty {
                    FieldType::Code(_) => cell(row, plan.positions.get(ci + 1).copied().flatten())?,
                    _ => ValueRef::Null,
                };
                read_field(&mut rec, f, v, original, list)?;
            }
            Role::CodeOriginal(_) | Role::RunId => {}
            Role::AltIds => {
                if let Some(t) = text(v, &col.name)? {
                    let pairs = flat_json::read_object(&t)
                        .map_err(|e| bad(&col.name, format!("is not a JSON object: {e}"), show(v)))?;
                    rec.meta_mut().alt_ids =
                        pairs.into_iter().map(|(kind, value)| AltId { kind, value }).collect();
                }
            }
            Role::Extensions => {
                if let Some(t) = text(v, &col.name)? {
                    let pairs = flat_json::read_object(&t)
                        .map_err(|e| bad(&col.name, format!("is not a JSON object: {e}"), show(v)))?;
                    for (k, val) in pairs {
                        rec.meta_mut().ext.insert(k, val);
                    }
                }
            }
            Role::OriginFile => {
                if let Some(t) = text(v, &col.name)? {
                    origin.get_or_insert_with(Origin::default).file = t.into_owned();
                }
            }
            Role::OriginLine => match v {
                ValueRef::Null => {}
                ValueRef::Integer(n) => {
                    origin.get_or_insert_with(Origin::default).line = u64::try_from(n).unwrap_or(0)
                }
                _ => return Err(bad(&col.name, "is not a line number", show(v))),
            },
            Role::SourceRow => {
                if let Some(t) = text(v, &col.name)? {
                    origin.get_or_insert_with(Origin::default).raw = Some(t.into_owned());
                }
            }
        }
    }
    rec.meta_mut().origin = origin;
    Ok(rec)
}
