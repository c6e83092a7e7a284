//! Creating the schema in a new archive, or bringing an existing one (of this
//! schema version) up to this build's model: missing tables, missing columns
//! (new model fields), the metadata and the student view.

use std::collections::HashSet;

use ferry_model::MODEL_VERSION;
use rusqlite::Connection;

use crate::format::{now, table_columns};
use crate::schema::{APPLICATION_ID, FORMAT, META_TABLE, SCHEMA_VERSION, STUDENT_VIEW, Table, quote};
use crate::sql::{metadata_sql, student_view_sql};

/// What [`create_or_upgrade`] found per entity table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableState {
    /// The table held no rows before this run.
    pub empty: bool,
    /// Its columns are exactly the schema's, in schema order (not an older
    /// table that gained columns at the end).
    pub in_order: bool,
    /// Columns were added to it (its checksum changes even if no row does).
    pub altered: bool,
}

/// Creates or upgrades the schema (`fresh`: a new, empty database) and
/// records `writer` (e.g. `ferry-plugin-sqlite 0.1.0`) in `ferry_meta`. Runs
/// inside the caller's transaction; returns one state per table of `tables`.
pub fn create_or_upgrade(
    conn: &Connection,
    tables: &[Table],
    fresh: bool,
    writer: &str,
) -> rusqlite::Result<Vec<TableState>> {
    conn.execute_batch(&metadata_sql())?;
    conn.execute_batch(&crate::source_tables::catalog_sql())?;
    let now = now(conn)?;
    let model = format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1);
    let set = |k: &str, v: &str| {
        conn.execute(&format!("INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?1, ?2)"), [k, v])
            .map(|_| ())
    };
    if fresh {
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))?;
        set("format", FORMAT)?;
        set("created_by", writer)?;
        set("created_at", &now)?;
    }
    set("schema_version", &SCHEMA_VERSION.to_string())?;
    set("model_version", &model)?;
    set("last_written_by", writer)?;
    set("last_written_at", &now)?;
    let mut states = Vec::with_capacity(tables.len());
    for t in tables {
        let before = table_columns(conn, t.name())?;
        let have: HashSet<&str> = before.iter().map(String::as_str).collect();
        let mut altered = false;
        if have.is_empty() {
            conn.execute_batch(&t.create_sql())?;
        } else {
            for c in t.columns.iter().filter(|c| !have.contains(c.name.as_str())) {
                conn.execute_batch(&t.add_column_sql(c))?;
                altered = true;
            }
        }
        let in_order = have.is_empty() || before.iter().eq(t.columns.iter().map(|c| &c.name));
        let has_rows: bool =
            conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {})", quote(t.name())), [], |r| r.get(0))?;
        states.push(TableState { empty: !has_rows, in_order, altered });
    }
    conn.execute_batch(&format!("DROP VIEW IF EXISTS {STUDENT_VIEW}"))?;
    if let Some(view) = student_view_sql(tables) {
        conn.execute_batch(&view)?;
    }
    Ok(states)
}
