//! Per-entity state of a write, and the table-wide statements run on it:
//! resolving repeated records, building indexes, pruning stale rows.

use ferry_archive::TableState;
use ferry_archive::checksum::TableChecksum;
use ferry_archive::schema::{Table, quote};
use ferry_sdk::model::EntityKind;
use rusqlite::Connection;

use crate::sink::writer::Duplicates;

/// Page cache (KiB) while upserting into tables that hold rows, and for
/// building indexes at the end (SQLite's sorter keeps this much in memory,
/// then merges from temporary files): bounded so that a whole district of
/// 100,000 students stays under 300 MB (64 MB: 374 MB and 8% faster; 256 MB:
/// 524 MB, measured on the same run).
pub(crate) const CACHE_KIB: i64 = 32 * 1024;

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
    /// Repeats of a source id kept under another id so far
    /// (`duplicates = "keep"`).
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
    pub(crate) fn leave_bulk(
        &mut self,
        conn: &Connection,
        table: &Table,
        policy: Duplicates,
        found: &mut Vec<ferry_sdk::Reject>,
    ) -> rusqlite::Result<()> {
        self.build_indexes(conn, table, policy, found)?;
        self.bulk = false;
        self.insert_sql = table.insert_sql(true);
        self.checksum = None;
        Ok(())
    }
}

impl EntityWriter {
    /// Creates the table's indexes that do not exist (all of them after a
    /// bulk load). A bulk load inserts without looking keys up, so the unique
    /// natural key is built only after the repeats of a source id (every row
    /// of a key after its first) are refused, or kept under `<id>#<n>`, into
    /// `found`.
    pub(crate) fn build_indexes(
        &mut self,
        conn: &Connection,
        table: &Table,
        policy: Duplicates,
        found: &mut Vec<ferry_sdk::Reject>,
    ) -> rusqlite::Result<()> {
        for idx in &table.indexes {
            // The journal is off on the temporary copy, so a failing CREATE
            // UNIQUE INDEX could not be rolled back: look for repeats first.
            if idx.unique && self.bulk && !index_exists(conn, &idx.name)? {
                let n = resolve_repeats(conn, table, policy, found)?;
                if n > 0 {
                    // The rows changed after the checksum saw them.
                    self.checksum = None;
                    match policy {
                        Duplicates::Reject => self.upserted -= n.min(self.upserted),
                        Duplicates::Keep => self.kept_repeats += n,
                    }
                }
            }
            conn.execute_batch(&table.index_sql(idx))?;
        }
        Ok(())
    }
}

fn index_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// The reason given for a refused repeat.
pub(crate) fn repeat_reason(kind: EntityKind, at: &str) -> String {
    format!(
        "the source id was already written in this run by another {kind} record; source ids are unique per entity, so this repeat{at} is refused and the first record kept (set duplicates = \"keep\" to keep both)"
    )
}

/// Where a record was read, for a reason: ` (students.txt, line 9)`.
pub(crate) fn at(file: Option<&str>, line: u64) -> String {
    match (file, line) {
        (Some(f), l) if l > 0 => format!(" ({f}, line {l})"),
        (Some(f), _) => format!(" ({f})"),
        _ => String::new(),
    }
}

/// Every row of a natural key after the first (by rowid): deleted and
/// reported as rejects, or renamed `<id>#<n>` with a warning. Returns how many.
fn resolve_repeats(
    conn: &Connection,
    table: &Table,
    policy: Duplicates,
    found: &mut Vec<ferry_sdk::Reject>,
) -> rusqlite::Result<u64> {
    let name = quote(table.name());
    let kind = table.entity;
    // One sort of the keys finds the repeated ones (usually none); then one
    // pass over the table finds their later rows.
    let found_any: bool = conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {name} GROUP BY source_system, source_id HAVING count(*) > 1)"
        ),
        [],
        |r| r.get(0),
    )?;
    if !found_any {
        return Ok(0);
    }
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.ferry_repeats; \
         CREATE TEMP TABLE ferry_repeats AS SELECT source_system AS s, source_id AS i, min(rowid) AS first \
           FROM {name} GROUP BY source_system, source_id HAVING count(*) > 1; \
         CREATE INDEX temp.ferry_repeats_key ON ferry_repeats (s, i);"
    ))?;
    let mut stmt = conn.prepare(&format!(
        "SELECT t.rowid, t.source_id, t.origin_file, t.origin_line FROM main.{name} AS t \
         JOIN temp.ferry_repeats AS d ON t.source_system = d.s AND t.source_id = d.i AND t.rowid > d.first"
    ))?;
    let mut repeats: Vec<(i64, String, Option<String>, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    conn.execute_batch("DROP TABLE temp.ferry_repeats")?;
    repeats.sort_by_key(|r| r.0);
    let mut ordinal: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for (rowid, id, file, line) in &repeats {
        let line = line.map_or(0, |l| u64::try_from(l).unwrap_or(0));
        let where_ = at(file.as_deref(), line);
        let mut r = match policy {
            Duplicates::Reject => {
                conn.execute(&format!("DELETE FROM {name} WHERE rowid = ?1"), [rowid])?;
                ferry_sdk::Reject::new(kind, repeat_reason(kind, &where_))
            }
            Duplicates::Keep => {
                let n = ordinal.entry(id.as_str()).or_insert(1);
                *n += 1;
                conn.execute(
                    &format!("UPDATE {name} SET source_id = ?1 WHERE rowid = ?2"),
                    rusqlite::params![format!("{id}#{n}"), rowid],
                )?;
                ferry_sdk::Reject::warning(
                    kind,
                    format!(
                        "the source id was already written in this run; this repeat{where_} is kept under the id with #{n} (duplicates = \"keep\")"
                    ),
                )
            }
        }
        .record(id.clone());
        if let Some(f) = file {
            r = r.at(f.clone(), line);
        }
        found.push(r);
    }
    Ok(repeats.len() as u64)
}

/// Drops the table's indexes for a bulk load.
pub(crate) fn drop_indexes(conn: &Connection, table: &Table) -> rusqlite::Result<()> {
    for idx in &table.indexes {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS {}", quote(&idx.name)))?;
    }
    Ok(())
}

/// Deletes the rows of `systems` that run `run_id` did not write; returns how many.
/// Rows of `systems` in `table` that run `run_id` did not write, and all
/// rows of `systems` there.
pub(crate) fn stale_rows(
    conn: &Connection,
    table: &Table,
    systems: &[String],
    run_id: &str,
) -> rusqlite::Result<(u64, u64)> {
    let mut stmt = conn.prepare(&format!(
        "SELECT count(*), coalesce(sum(run_id IS NOT ?2), 0) FROM {} WHERE source_system = ?1",
        quote(table.name())
    ))?;
    let (mut stale, mut stored) = (0u64, 0u64);
    for s in systems {
        let (n, old): (i64, i64) = stmt.query_row([s.as_str(), run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        stored += u64::try_from(n).unwrap_or(0);
        stale += u64::try_from(old).unwrap_or(0);
    }
    Ok((stale, stored))
}

/// Why pruning `stale` of `stored` rows of `entity` is refused, if it is:
/// more than `max` of them would go.
pub(crate) fn prune_refusal(entity: &str, stale: u64, stored: u64, max: f64) -> Option<String> {
    #[allow(clippy::cast_precision_loss, reason = "a share of rows")]
    let share = if stored == 0 { 0.0 } else { stale as f64 / stored as f64 };
    (share > max).then(|| {
        format!(
            "prune_stale would delete {stale} of the {stored} {entity} rows of this source in the archive ({:.0}%, more than prune_max_fraction = {max}); nothing was committed. Check that the export is complete (a missing school or year looks like this); if the deletion is meant, set prune_max_fraction higher (up to 1)",
            share * 100.0
        )
    })
}

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
