//! Writing source tables (the old system's own tables, as they came) into
//! the run's temporary copy: `src_<Table>` per table, replaced by the run
//! that sends it, with its files in `ferry_source_files` and its row count,
//! checksum and columns in `ferry_source_tables` (see
//! [`ferry_archive::source_tables`]).

use std::collections::HashMap;

use ferry_archive::checksum::{Cell, RowEncoder, TableChecksum};
use ferry_archive::schema::quote;
use ferry_archive::source_tables::{
    BatchInfo, CATALOG, CellText, FILES, ROW_STRIDE, cell, create_sql, insert_sql, split_columns, sql_type,
    table_name,
};
use ferry_sdk::model::RecordBatch;
use ferry_sdk::model::source_table::ColumnType;
use ferry_sdk::serde_json::{self, json};
use rusqlite::Connection;
use rusqlite::types::{Null, ToSqlOutput, ValueRef};

/// One source table written this run.
pub(crate) struct SourceTable {
    /// `src_<Table>`.
    pub name: String,
    /// The source's name.
    pub source: String,
    /// Columns, in the order they were first seen.
    pub columns: Vec<(String, ColumnType)>,
    /// Columns the source left out.
    pub omitted: Vec<String>,
    /// File name → `(id, rows)`.
    pub files: Vec<(String, i64, u64)>,
    /// Rows written.
    pub rows: u64,
    /// Checksum of the rows as written (`_line` and every column, in order).
    pub checksum: TableChecksum,
}

/// The source tables of a run.
#[derive(Default)]
pub(crate) struct SourceTables {
    pub tables: Vec<SourceTable>,
    by_name: HashMap<String, usize>,
    next_file_id: Option<i64>,
    text: Vec<CellText>,
    row: RowEncoder,
}

impl SourceTables {
    /// Writes one batch of source table `table`.
    pub(crate) fn write(
        &mut self,
        conn: &Connection,
        table: &str,
        batch: &RecordBatch,
    ) -> Result<(), String> {
        let info = BatchInfo::of(table, batch)?;
        let i = match self.by_name.get(table) {
            Some(i) => *i,
            None => {
                let name = table_name(table);
                conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&name)))
                    .map_err(|e| e.to_string())?;
                conn.execute(&format!("DELETE FROM {FILES} WHERE source_table = ?1"), [table])
                    .map_err(|e| e.to_string())?;
                conn.execute_batch(&create_sql(&name, &info.columns)).map_err(|e| e.to_string())?;
                self.tables.push(SourceTable {
                    name,
                    source: table.to_owned(),
                    columns: info.columns.clone(),
                    omitted: Vec::new(),
                    files: Vec::new(),
                    rows: 0,
                    checksum: TableChecksum::default(),
                });
                self.by_name.insert(table.to_owned(), self.tables.len() - 1);
                self.tables.len() - 1
            }
        };
        let next_id = match self.next_file_id {
            Some(n) => n,
            None => conn
                .query_row(&format!("SELECT coalesce(max(id), 0) + 1 FROM {FILES}"), [], |r| r.get(0))
                .map_err(|e| e.to_string())?,
        };
        let t = &mut self.tables[i];
        for o in &info.omitted {
            if !t.omitted.contains(o) {
                t.omitted.push(o.clone());
            }
        }
        // Columns a later file adds; a column typed differently by another
        // file is text from then on (SQLite keeps each value's own type).
        for (c, ty) in &info.columns {
            match t.columns.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(c)) {
                Some((_, have)) if have != ty => *have = ColumnType::Text,
                Some(_) => {}
                None => {
                    conn.execute_batch(&format!(
                        "ALTER TABLE {} ADD COLUMN {} {}",
                        quote(&t.name),
                        quote(c),
                        sql_type(*ty)
                    ))
                    .map_err(|e| e.to_string())?;
                    t.columns.push((c.clone(), *ty));
                }
            }
        }
        let file_id = match t.files.iter().position(|f| f.0 == info.file) {
            Some(f) => t.files[f].1,
            None => {
                t.files.push((info.file.clone(), next_id, 0));
                self.next_file_id = Some(next_id + 1);
                next_id
            }
        };
        let names: Vec<&str> = info.columns.iter().map(|(n, _)| n.as_str()).collect();
        let mut stmt = conn.prepare_cached(&insert_sql(&t.name, &names)).map_err(|e| e.to_string())?;
        let (lines, arrays) = split_columns(batch).map_err(|e| format!("source table {table}: {e}"))?;
        if self.text.len() < arrays.len() {
            self.text.resize_with(arrays.len(), CellText::default);
        }
        // The checksum encodes each row in the table's column order (a
        // column this file lacks is NULL), as a verifier reading it back would.
        let pos: Vec<Option<usize>> = t
            .columns
            .iter()
            .map(|(n, _)| info.columns.iter().position(|(c, _)| c.eq_ignore_ascii_case(n)))
            .collect();
        let e = |err: rusqlite::Error| format!("writing source table {table}: {err}");
        let in_order = pos.len() == arrays.len() && pos.iter().enumerate().all(|(j, p)| *p == Some(j));
        let SourceTables { text, row, .. } = self;
        for (r, &line) in lines.iter().enumerate() {
            stmt.raw_bind_parameter(1, file_id * ROW_STRIDE + line).map_err(e)?;
            stmt.raw_bind_parameter(2, line).map_err(e)?;
            row.clear();
            row.push(Cell::Int(line));
            let mut cells: Vec<Cell<'_>> = Vec::new();
            for (c, (arr, text)) in arrays.iter().zip(text.iter_mut()).enumerate() {
                let v = cell(*arr, info.columns[c].1, r, text);
                if in_order {
                    row.push(v);
                } else {
                    cells.push(v);
                }
                match v {
                    Cell::Null => stmt.raw_bind_parameter(c + 3, Null),
                    Cell::Int(n) => stmt.raw_bind_parameter(c + 3, n),
                    Cell::Real(x) => stmt.raw_bind_parameter(c + 3, x),
                    Cell::Text(s) | Cell::Blob(s) => {
                        stmt.raw_bind_parameter(c + 3, ToSqlOutput::Borrowed(ValueRef::Text(s)))
                    }
                }
                .map_err(e)?;
            }
            if let Err(err) = stmt.raw_execute() {
                let repeated = matches!(&err, rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation);
                return Err(if repeated {
                    format!(
                        "source table {table}: line {line} of {} was sent twice; this is a bug in the source",
                        info.file
                    )
                } else {
                    e(err)
                });
            }
            if !in_order {
                for p in &pos {
                    row.push(p.map_or(Cell::Null, |i| cells[i]));
                }
            }
            t.checksum.add(row.finish());
        }
        let n = batch.num_rows() as u64;
        t.rows += n;
        if let Some(f) = t.files.iter_mut().find(|f| f.1 == file_id) {
            f.2 += n;
        }
        Ok(())
    }

    /// Records the run's source tables in the catalog; returns their rows and
    /// checksums for `ferry_runs`.
    pub(crate) fn finish(
        &self,
        conn: &Connection,
        run_id: &str,
    ) -> rusqlite::Result<serde_json::Map<String, serde_json::Value>> {
        let mut sums = serde_json::Map::new();
        for t in &self.tables {
            for (file, id, rows) in &t.files {
                conn.execute(
                    &format!("INSERT INTO {FILES} (id, source_table, file, run_id, rows) VALUES (?1, ?2, ?3, ?4, ?5)"),
                    rusqlite::params![id, t.source, file, run_id, i64::try_from(*rows).unwrap_or(i64::MAX)],
                )?;
            }
            let columns: Vec<serde_json::Value> =
                t.columns.iter().map(|(n, ty)| json!({ "name": n, "type": ty.as_str() })).collect();
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO {CATALOG} (name, source_table, run_id, rows, checksum, columns, omitted) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                rusqlite::params![
                    t.name,
                    t.source,
                    run_id,
                    i64::try_from(t.rows).unwrap_or(i64::MAX),
                    t.checksum.hex(),
                    serde_json::Value::Array(columns).to_string(),
                    (!t.omitted.is_empty()).then(|| serde_json::Value::from(t.omitted.clone()).to_string()),
                ],
            )?;
            sums.insert(t.name.clone(), json!({ "rows": t.rows, "checksum": t.checksum.hex() }));
        }
        Ok(sums)
    }
}
