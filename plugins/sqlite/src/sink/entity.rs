//! Per-entity state of a write, and the table-wide statements run on it:
//! resolving repeated records, building indexes, pruning stale rows.

use ferry_archive::TableState;
use ferry_archive::checksum::TableChecksum;
use ferry_archive::schema::{Table, quote};
use rusqlite::Connection;

use crate::sink::keys::KeySet;

/// Page cache (KiB) while upserting into tables that hold rows, and for
/// building indexes at the end (SQLite's sorter keeps this much in memory).
pub(crate) const CACHE_KIB: i64 = 256 * 1024;

/// Per-entity state of the run.
pub(crate) struct EntityWriter {
    /// The table held no rows when the run started: rows are plainly
    /// inserted and its indexes (natural key included) built at the end,
    /// which is several times faster than maintaining them row by row. The
    /// first delete operation ends bulk mode (a delete needs the key index).
    pub bulk: bool,
    /// The insert (bulk) or upsert statement.
    pub insert_sql: String,
    /// The delete statement.
    pub delete_sql: String,
    /// Records received this run (upserts and deletes).
    pub records: u64,
    /// Records upserted.
    pub upserted: u64,
    /// Rows removed by delete operations.
    pub deleted: u64,
    /// Hashes (128-bit) of the natural keys upserted this run, to notice a
    /// source that repeats a source id: the repeat is refused, or kept under
    /// another id (`duplicates = "keep"`), never silently overwrites.
    pub keys: KeySet,
    /// Repeats kept under another id so far.
    pub kept_repeats: u64,
    /// Source systems upserted this run (for pruning).
    pub systems: Vec<String>,
    /// Bulk only, when the table's columns are in schema order: the table
    /// checksum accumulated from the rows as they are bound, which spares
    /// re-reading the table at the end.
    pub checksum: Option<TableChecksum>,
    /// The run added columns to the table: its checksum is recorded again.
    pub altered: bool,
}

impl EntityWriter {
    /// The state of a table as the run found it.
    pub(crate) fn new(table: &Table, st: TableState) -> EntityWriter {
        EntityWriter {
            bulk: st.empty,
            insert_sql: table.insert_sql(!st.empty),
            delete_sql: table.delete_sql(),
            records: 0,
            upserted: 0,
            deleted: 0,
            keys: KeySet::default(),
            kept_repeats: 0,
            systems: Vec::new(),
            checksum: (st.empty && st.in_order).then(TableChecksum::default),
            altered: st.altered && !st.empty,
        }
    }

    /// Notes the source system of an upserted record.
    pub(crate) fn saw_system(&mut self, system: &str) {
        if self.systems.last().map(String::as_str) != Some(system)
            && !self.systems.iter().any(|s| s == system)
        {
            self.systems.push(system.to_owned());
        }
    }

    /// Ends bulk mode: repeated records resolved, indexes built, and from now
    /// on records are upserted (and the checksum computed at the end).
    pub(crate) fn leave_bulk(&mut self, conn: &Connection, table: &Table) -> rusqlite::Result<()> {
        build_indexes(conn, table)?;
        self.bulk = false;
        self.insert_sql = table.insert_sql(true);
        self.checksum = None;
        Ok(())
    }
}

/// Creates the table's indexes that do not exist (all of them after a bulk load).
pub(crate) fn build_indexes(conn: &Connection, table: &Table) -> rusqlite::Result<()> {
    for idx in &table.indexes {
        conn.execute_batch(&table.index_sql(idx))?;
    }
    Ok(())
}

/// Drops the table's indexes for a bulk load.
pub(crate) fn drop_indexes(conn: &Connection, table: &Table) -> rusqlite::Result<()> {
    for idx in &table.indexes {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS {}", quote(&idx.name)))?;
    }
    Ok(())
}

/// Deletes the rows of `systems` that run `run_id` did not write; returns how many.
pub(crate) fn prune(
    conn: &Connection,
    table: &Table,
    systems: &[String],
    run_id: &str,
) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare(&format!(
        "DELETE FROM {} WHERE source_system = ?1 AND run_id IS NOT ?2",
        quote(table.name())
    ))?;
    let mut pruned = 0u64;
    for s in systems {
        pruned += stmt.execute([s.as_str(), run_id])? as u64;
    }
    Ok(pruned)
}
