//! Source tables in the archive: the old system's own tables, as they came,
//! beside the canonical tables (see `ferry_model::source_table`).
//!
//! - Table `src_<Table>` (`src_StoredGrades`) per source table: `_row`, the
//!   row's key (`file id × 1,000,000,000 + line`, SQLite's rowid, so lookups by
//!   row cost nothing to index), `_line`, the line in its file, then every
//!   source column under its source name, in source order. Integers are
//!   INTEGER; decimals TEXT in their shortest exact form (`'3.5'`); dates TEXT
//!   `YYYY-MM-DD`; everything else TEXT as it came. The prefix keeps them
//!   apart from canonical tables (SQLite names ignore case: `Students` and
//!   `students` would clash).
//! - `ferry_source_files`: one row per file read into a source table (its id
//!   is the `_row` prefix), so a canonical row's `source_table`,
//!   `origin_file` and `origin_line` find its source row.
//! - `ferry_source_tables`: one row per source table: its source name, the
//!   run that wrote it, rows, checksum, the columns with their types, and the
//!   columns the source left out (secrets).
//!
//! A run that sends a source table replaces it: a source table is a snapshot
//! of the old system as the run read it.

use std::fmt::Write as _;

use ferry_model::source_table::{ColumnType, FILE_META, LINE_COLUMN, OMITTED_META, TABLE_META};
use ferry_model::{Date, Decimal, RecordBatch};
use rusqlite::Connection;

use crate::checksum::Cell;
use crate::encode::push_date;
use crate::schema::quote;

/// The prefix of source tables in the archive.
pub const PREFIX: &str = "src_";
/// The catalog of source tables.
pub const CATALOG: &str = "ferry_source_tables";
/// The files read into source tables.
pub const FILES: &str = "ferry_source_files";
/// The row key column.
pub const ROW_COLUMN: &str = "_row";
/// How `_row` combines a file id and a line: `file id × ROW_STRIDE + line`.
pub const ROW_STRIDE: i64 = 1_000_000_000;

/// The archive table holding source table `source` (`StoredGrades` →
/// `src_StoredGrades`).
pub fn table_name(source: &str) -> String {
    format!("{PREFIX}{source}")
}

/// The catalog tables' DDL.
pub fn catalog_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {CATALOG} (
  name TEXT PRIMARY KEY NOT NULL,
  source_table TEXT NOT NULL,
  run_id TEXT NOT NULL,
  rows INTEGER NOT NULL,
  checksum TEXT NOT NULL,
  columns TEXT NOT NULL,
  omitted TEXT
);
CREATE TABLE IF NOT EXISTS {FILES} (
  id INTEGER PRIMARY KEY,
  source_table TEXT NOT NULL,
  file TEXT NOT NULL,
  run_id TEXT NOT NULL,
  rows INTEGER NOT NULL,
  UNIQUE (source_table, file)
);"
    )
}

/// What a source-table batch says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// The source table's name.
    pub table: String,
    /// The file its rows come from.
    pub file: String,
    /// Columns the source left out.
    pub omitted: Vec<String>,
    /// The source columns (after `_line`): name and type.
    pub columns: Vec<(String, ColumnType)>,
}

impl BatchInfo {
    /// Reads a batch's schema; `table` is the name the batch travelled under.
    pub fn of(table: &str, batch: &RecordBatch) -> Result<BatchInfo, String> {
        let schema = batch.schema_ref();
        let meta = schema.metadata();
        if let Some(t) = meta.get(TABLE_META)
            && t != table
        {
            return Err(format!("a batch of source table {table} says it is of {t}"));
        }
        let first = schema.fields().first().map(|f| f.name().as_str());
        if first != Some(LINE_COLUMN) {
            return Err(format!("source table {table}: the first column must be {LINE_COLUMN}"));
        }
        let mut columns = Vec::with_capacity(schema.fields().len().saturating_sub(1));
        for f in schema.fields().iter().skip(1) {
            let ty = ColumnType::of(f.data_type()).ok_or_else(|| {
                format!("source table {table}: column {} has type {}", f.name(), f.data_type())
            })?;
            if f.name() == ROW_COLUMN {
                return Err(format!("source table {table}: a column is named {ROW_COLUMN}"));
            }
            columns.push((f.name().clone(), ty));
        }
        Ok(BatchInfo {
            table: table.to_owned(),
            file: meta.get(FILE_META).cloned().unwrap_or_default(),
            omitted: meta
                .get(OMITTED_META)
                .map(|o| o.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            columns,
        })
    }
}

/// The declared SQLite type of a column.
pub fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Integer => "INTEGER",
        ColumnType::Decimal | ColumnType::Date | ColumnType::Text => "TEXT",
    }
}

/// `CREATE TABLE` of a source table with `columns`.
pub fn create_sql(name: &str, columns: &[(String, ColumnType)]) -> String {
    let mut s = format!(
        "CREATE TABLE {} (\n  {ROW_COLUMN} INTEGER PRIMARY KEY,\n  {LINE_COLUMN} INTEGER",
        quote(name)
    );
    for (c, ty) in columns {
        let _ = write!(s, ",\n  {} {}", quote(c), sql_type(*ty));
    }
    s.push_str("\n)");
    s
}

/// `INSERT` of `_row`, `_line` and `columns` into source table `name`.
pub fn insert_sql(name: &str, columns: &[&str]) -> String {
    let mut s = format!("INSERT INTO {} ({ROW_COLUMN}, {LINE_COLUMN}", quote(name));
    for c in columns {
        s.push_str(", ");
        s.push_str(&quote(c));
    }
    s.push_str(") VALUES (?1, ?2");
    for i in 0..columns.len() {
        let _ = write!(s, ", ?{}", i + 3);
    }
    s.push(')');
    s
}

/// The names of the source tables an archive holds (`src_…`), from its catalog.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<(String, String, u64)>> {
    let exists: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [CATALOG],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(&format!("SELECT name, source_table, rows FROM {CATALOG} ORDER BY name"))?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64)))?;
    rows.collect()
}

/// A source-table batch's lines and its source columns (after `_line`).
pub fn split_columns(batch: &RecordBatch) -> Result<(&[i64], Vec<&dyn arrow_array::Array>), String> {
    use arrow_array::cast::AsArray;
    let first = batch.columns().first().ok_or("a source-table batch without columns")?;
    let lines = first
        .as_primitive_opt::<arrow_array::types::Int64Type>()
        .ok_or_else(|| format!("{LINE_COLUMN} is not Int64"))?;
    Ok((lines.values(), batch.columns()[1..].iter().map(AsRef::as_ref).collect()))
}

/// Adds the rows of a source-table batch to `sum`, each encoded as the
/// writer stores it (`_line`, then the columns in the batch's order).
pub fn add_to_checksum(
    batch: &RecordBatch,
    columns: &[(String, ColumnType)],
    sum: &mut crate::checksum::TableChecksum,
    text: &mut Vec<CellText>,
) -> Result<(), String> {
    let (lines, arrays) = split_columns(batch)?;
    if text.len() < arrays.len() {
        text.resize_with(arrays.len(), CellText::default);
    }
    let mut row = crate::checksum::RowEncoder::default();
    for (r, &line) in lines.iter().enumerate() {
        row.clear();
        row.push(Cell::Int(line));
        for (c, (arr, t)) in arrays.iter().zip(text.iter_mut()).enumerate() {
            row.push(cell(*arr, columns[c].1, r, t));
        }
        sum.add(row.finish());
    }
    Ok(())
}

/// The catalog's row count and checksum of source table `name` (`src_…`), if any.
pub fn recorded(conn: &Connection, name: &str) -> rusqlite::Result<Option<(u64, String)>> {
    if list(conn)?.is_empty() {
        return Ok(None);
    }
    let mut stmt = conn.prepare(&format!("SELECT rows, checksum FROM {CATALOG} WHERE name = ?1"))?;
    let mut rows = stmt.query([name])?;
    match rows.next()? {
        Some(r) => Ok(Some((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?))),
        None => Ok(None),
    }
}

/// Scratch text for [`cell`].
#[derive(Default)]
pub struct CellText(String);

/// Cell `row` of Arrow column `col` (of a source-table type) as SQLite stores it.
pub fn cell<'a>(
    col: &'a dyn arrow_array::Array,
    ty: ColumnType,
    row: usize,
    text: &'a mut CellText,
) -> Cell<'a> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Decimal128Type, Int64Type};
    if col.is_null(row) {
        return Cell::Null;
    }
    let s = &mut text.0;
    s.clear();
    match ty {
        ColumnType::Integer => Cell::Int(col.as_primitive::<Int64Type>().value(row)),
        ColumnType::Text => Cell::Text(col.as_string::<i32>().value(row).as_bytes()),
        ColumnType::Decimal => {
            let units = col.as_primitive::<Decimal128Type>().value(row);
            match i64::try_from(units).ok().and_then(|u| Decimal::from_units(u).ok()) {
                Some(d) => {
                    let _ = write!(s, "{d}");
                }
                None => {
                    let _ = write!(s, "{units}e-4");
                }
            }
            Cell::Text(s.as_bytes())
        }
        ColumnType::Date => {
            let days = col.as_primitive::<Date32Type>().value(row);
            match Date::from_day_number(i64::from(days) + UNIX_EPOCH_DAY) {
                Ok(d) => push_date(s, d),
                Err(_) => {
                    let _ = write!(s, "{days}");
                }
            }
            Cell::Text(s.as_bytes())
        }
    }
}

/// Day number (`ferry_model::Date`) of 1970-01-01.
const UNIX_EPOCH_DAY: i64 = 719_162;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_and_names() {
        assert_eq!(table_name("StoredGrades"), "src_StoredGrades");
        let sql =
            create_sql("src_T", &[("ID".into(), ColumnType::Integer), ("Grade".into(), ColumnType::Text)]);
        assert!(sql.contains("_row INTEGER PRIMARY KEY") && sql.contains("\"ID\" INTEGER"), "{sql}");
        assert_eq!(
            insert_sql("src_T", &["ID", "Grade"]),
            "INSERT INTO \"src_T\" (_row, _line, \"ID\", \"Grade\") VALUES (?1, ?2, ?3, ?4)"
        );
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&catalog_sql()).unwrap();
        conn.execute_batch(&sql).unwrap();
        assert!(list(&conn).unwrap().is_empty());
    }
}
