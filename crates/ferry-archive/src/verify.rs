//! Verifying an archive: every entity table's checksum recomputed from its
//! rows and compared with the one the last run that wrote it recorded; every
//! source table's against the catalog (`ferry_source_tables`).

use std::path::Path;

use rusqlite::Connection;

use crate::checksum::{Cell, RowEncoder, TableChecksum};
use crate::error::{ArchiveError, ErrorKind, db_error};
use crate::format::{Purpose, open_archive, table_columns};
use crate::schema::{RUN_ID, RUNS_TABLE, quote, tables};

/// The checksum of one entity table as stored now: every column in table
/// order except `run_id`, each row encoded and hashed as described in
/// [`crate::checksum`], summed over all rows.
pub fn table_checksum(conn: &Connection, table: &str) -> rusqlite::Result<TableChecksum> {
    checksum_without(conn, table, RUN_ID)
}

/// The checksum of a source table as stored now: `_line` and every source
/// column in table order (not `_row`, which only combines file and line).
pub fn source_table_checksum(conn: &Connection, table: &str) -> rusqlite::Result<TableChecksum> {
    checksum_without(conn, table, crate::source_tables::ROW_COLUMN)
}

fn checksum_without(conn: &Connection, table: &str, skip: &str) -> rusqlite::Result<TableChecksum> {
    let cols: Vec<String> =
        table_columns(conn, table)?.into_iter().filter(|c| c != skip).map(|c| quote(&c)).collect();
    let mut sum = TableChecksum::default();
    if cols.is_empty() {
        return Ok(sum);
    }
    let mut stmt = conn.prepare(&format!("SELECT {} FROM {}", cols.join(", "), quote(table)))?;
    let mut rows = stmt.query([])?;
    let mut enc = RowEncoder::default();
    while let Some(row) = rows.next()? {
        enc.clear();
        for i in 0..cols.len() {
            enc.push(Cell::from(row.get_ref(i)?));
        }
        sum.add(enc.finish());
    }
    Ok(sum)
}

/// One record's identity and the hash of what it says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordHash {
    /// The entity table.
    pub entity: String,
    /// `source_system`.
    pub system: String,
    /// `source_id`.
    pub id: String,
    /// The hash of its canonical content: fields, codes, alternative ids and
    /// extensions, not where it was read (file, line, raw row) nor which run
    /// wrote it, so a record that only moved within its file is unchanged.
    pub hash: u128,
}

/// The hash of every record of every entity table (see [`RecordHash`]),
/// sorted by entity, system and id.
pub fn record_hashes(path: &Path) -> Result<Vec<RecordHash>, ArchiveError> {
    record_hashes_of(path, None)
}

/// Like [`record_hashes`], over only the canonical fields `only` names per
/// entity (the code value of a code field, not its original text; no
/// alternative ids nor extensions), and only for those entities: for
/// reconciling with a destination that keeps less than the model (an Ed-Fi
/// API read back). A field the model does not have is an error naming it.
pub fn record_hashes_over(
    path: &Path,
    only: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<Vec<RecordHash>, ArchiveError> {
    for (entity, fields) in only {
        let Some(t) = tables().into_iter().find(|t| t.name() == entity) else {
            return Err(ArchiveError::new(
                ErrorKind::Config,
                format!("{entity} is not an entity of the model"),
            ));
        };
        for f in fields {
            if !t.entity.fields().iter().any(|d| d.name == f) {
                return Err(ArchiveError::new(
                    ErrorKind::Config,
                    format!("{entity}.{f} is not a field of the model"),
                ));
            }
        }
    }
    record_hashes_of(path, Some(only))
}

fn record_hashes_of(
    path: &Path,
    only: Option<&std::collections::BTreeMap<String, Vec<String>>>,
) -> Result<Vec<RecordHash>, ArchiveError> {
    use crate::schema::Role;
    let conn = open_archive(path, Purpose::Records)?;
    let e = |err: rusqlite::Error| db_error(&err, "cannot read the archive", path);
    let mut out = Vec::new();
    let mut enc = RowEncoder::default();
    for t in tables() {
        let wanted = match only {
            Some(only) => match only.get(t.name()) {
                Some(f) => Some(f),
                None => continue,
            },
            None => None,
        };
        let have = table_columns(&conn, t.name()).map_err(e)?;
        if have.is_empty() {
            continue;
        }
        let content: Vec<String> = t
            .columns
            .iter()
            .filter(|c| match wanted {
                Some(w) => matches!(c.role, Role::Field(d) if w.iter().any(|f| f == d.name)),
                None => {
                    matches!(c.role, Role::Field(_) | Role::CodeOriginal(_) | Role::AltIds | Role::Extensions)
                }
            })
            .map(|c| if have.contains(&c.name) { quote(&c.name) } else { "NULL".to_owned() })
            .collect();
        let sql = format!(
            "SELECT source_system, source_id{}{} FROM {}",
            if content.is_empty() { "" } else { ", " },
            content.join(", "),
            quote(t.name())
        );
        let mut stmt = conn.prepare(&sql).map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            enc.clear();
            for i in 0..content.len() {
                enc.push(Cell::from(row.get_ref(i + 2).map_err(e)?));
            }
            out.push(RecordHash {
                entity: t.name().to_owned(),
                system: row.get(0).map_err(e)?,
                id: row.get(1).map_err(e)?,
                hash: enc.finish(),
            });
        }
    }
    out.sort();
    Ok(out)
}

/// SQLite's own check of the file (`PRAGMA integrity_check`): the problems
/// it finds, none for a sound file.
pub fn integrity_check(path: &Path) -> Result<Vec<String>, ArchiveError> {
    let conn = open_archive(path, Purpose::Records)?;
    let e = |err: rusqlite::Error| db_error(&err, "cannot check the archive", path);
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(e)?;
    let lines: Vec<String> =
        stmt.query_map([], |r| r.get::<_, String>(0)).map_err(e)?.collect::<Result<_, _>>().map_err(e)?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

/// The verification of one entity table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableVerification {
    /// The entity table.
    pub table: String,
    /// Rows now.
    pub rows: u64,
    /// The checksum now.
    pub checksum: String,
    /// Rows and checksum the last run that wrote the table recorded, with that
    /// run's `seq`; `None` when no run recorded one.
    pub recorded: Option<(u64, String, i64)>,
}

impl TableVerification {
    /// Whether the table is as the last run that wrote it left it.
    pub fn ok(&self) -> bool {
        match &self.recorded {
            Some((rows, sum, _)) => *rows == self.rows && *sum == self.checksum,
            None => self.rows == 0,
        }
    }
}

/// Recomputes the checksum of every entity table and compares it with the
/// one the last run that wrote the table recorded in `ferry_runs`.
pub fn verify(path: &Path) -> Result<Vec<TableVerification>, ArchiveError> {
    let conn = open_archive(path, Purpose::Records)?;
    let e = |err: rusqlite::Error| db_error(&err, "cannot verify the archive", path);
    let mut runs: Vec<(i64, serde_json::Value)> = Vec::new();
    {
        let mut stmt =
            conn.prepare(&format!("SELECT seq, checksums FROM {RUNS_TABLE} ORDER BY seq DESC")).map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            let seq: i64 = r.get(0).map_err(e)?;
            let text: String = r.get(1).map_err(e)?;
            let v = serde_json::from_str(&text).map_err(|err| {
                ArchiveError::new(
                    ErrorKind::NotAnArchive,
                    format!("{}: run {seq} has unreadable checksums ({err})", path.display()),
                )
            })?;
            runs.push((seq, v));
        }
    }
    let mut out = Vec::new();
    for t in tables() {
        if table_columns(&conn, t.name()).map_err(e)?.is_empty() {
            continue;
        }
        let now = table_checksum(&conn, t.name()).map_err(e)?;
        let recorded = runs.iter().find_map(|(seq, v)| {
            let entry = v.get(t.name())?;
            Some((entry.get("rows")?.as_u64()?, entry.get("checksum")?.as_str()?.to_owned(), *seq))
        });
        out.push(TableVerification {
            table: t.name().to_owned(),
            rows: now.rows,
            checksum: now.hex(),
            recorded,
        });
    }
    // Source tables, against the catalog (the run that wrote one recorded it there).
    for (name, _, rows) in crate::source_tables::list(&conn).map_err(e)? {
        let now = source_table_checksum(&conn, &name).map_err(e)?;
        let seq = runs.iter().find(|(_, v)| v.get(&name).is_some()).map_or(0, |r| r.0);
        let recorded = crate::source_tables::recorded(&conn, &name).map_err(e)?.map(|(n, sum)| (n, sum, seq));
        debug_assert!(recorded.as_ref().is_none_or(|r| r.0 == rows));
        out.push(TableVerification { table: name, rows: now.rows, checksum: now.hex(), recorded });
    }
    Ok(out)
}
