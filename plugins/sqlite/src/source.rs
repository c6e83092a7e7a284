//! The archive source: reads entity tables back into canonical records,
//! streaming in rowid order (keyset pages: each call resumes after the last
//! row it read, so no table is ever loaded whole).

use std::path::PathBuf;

use ferry_archive::decode::{self, RowCells, RowError};
use ferry_archive::format::table_columns;
use ferry_archive::schema::{Table, quote};
use ferry_archive::{Purpose, open_archive};
use ferry_sdk::model::{EntityKind, Record, with_record_type};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::{BatchBuilder, Error, OpenContext, Reject, Source, tracing};
use rusqlite::Connection;

use crate::error::{db_error, from_archive};

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

impl ArchiveSource {
    /// Opens the archive read-only and plans the tables to read.
    pub fn open(ctx: &OpenContext) -> Result<ArchiveSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        if cfg.path.trim().is_empty() {
            return Err(Error::config("`path` is empty; name the archive file to read"));
        }
        let path = ctx.resolve(&cfg.path);
        let conn = open_archive(&path, Purpose::Records).map_err(from_archive)?;
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
            let have = table_columns(&conn, table.name()).map_err(e)?;
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
            match decode::record::<R>(&plan.table, &RowCells::new(row, &plan.positions), &mut list) {
                Ok(rec) => {
                    out.push(&rec)?;
                }
                Err(RowError { column, reason, value }) => {
                    let id = plan.positions[1]
                        .and_then(|p| row.get_ref(p).ok())
                        .and_then(|v| v.as_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let mut r =
                        Reject::new(R::KIND, format!("table {} row {rowid}: {reason}", plan.table.name()))
                            .at(label.as_str(), 0)
                            .field(column)
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
