//! The dry run: what a run would do to the archive, computed without writing
//! anything. The existing archive (if any) is opened read-only; each record
//! is compared with the row of the same natural key:
//!
//! - no such row: **create**;
//! - a row whose content differs: **update**. Content is every column but
//!   `run_id`, encoded and hashed exactly as for the table checksums
//!   ([`ferry_archive::checksum`]): the record's cells as the writer would
//!   bind them against the stored row's cells, so any column that an upsert
//!   would change (a field, an extension, the source line) counts;
//! - the same content: **unchanged**;
//! - a delete operation of an existing row, or a row `prune_stale` would
//!   remove: **delete** (a delete of a row that does not exist leaves the
//!   archive unchanged).
//!
//! A record repeated within the run is compared with the state the run left
//! so far, as the write would see it.

use std::path::Path;

use ferry_archive::checksum::{Cell, RowEncoder};
use ferry_archive::encode::{BatchRows, Scratch};
use ferry_archive::format::{open_read_only, table_columns};
use ferry_archive::schema::{Table, quote, tables};
use ferry_sdk::model::{EntityKind, Operation, RecordBatch};
use ferry_sdk::{EntityPlan, Error, RunSummary, tracing};
use rusqlite::{Connection, OptionalExtension as _};

use crate::error::{db_error, from_archive};
use crate::sink::keys::{KeyMap, key_hash};
use crate::sink::worker::{Finished, Job};
use crate::sink::writer::Duplicates;

/// What the run has done so far to one natural key.
#[derive(Clone, Copy)]
struct Seen {
    /// The row's content hash after the run's records so far; `None`: no row.
    content: Option<u128>,
    /// The archive held the row before the run.
    in_archive: bool,
    /// Index into [`EntityPlanner::systems`].
    system: usize,
}

/// The plan of one entity.
#[derive(Default)]
struct EntityPlanner {
    /// Looks up the stored content of a key; `None` when the archive has no
    /// table for the entity.
    select_sql: Option<String>,
    seen: KeyMap<Seen>,
    /// Keys upserted by the run so far (a repeat is refused, as the write does).
    upserted: crate::sink::keys::KeySet,
    /// Source systems seen, and whether the run upserted records of each.
    systems: Vec<(String, bool)>,
    records: u64,
    plan: EntityPlan,
}

impl EntityPlanner {
    fn system_index(&mut self, system: &str) -> usize {
        match self.systems.iter().position(|(s, _)| s == system) {
            Some(i) => i,
            None => {
                self.systems.push((system.to_owned(), false));
                self.systems.len() - 1
            }
        }
    }
}

/// The worker's state in a dry run.
pub(crate) struct Planner {
    /// The existing archive, read-only; `None` when there is none yet.
    conn: Option<Connection>,
    path: std::path::PathBuf,
    prune_stale: Option<f64>,
    tables: Vec<Table>,
    entities: Vec<EntityPlanner>,
    scratch: Scratch,
    row: RowEncoder,
    /// Source tables the run would replace: name, rows, checksum of the rows.
    sources: Vec<(String, u64, ferry_archive::checksum::TableChecksum)>,
    text: Vec<ferry_archive::source_tables::CellText>,
    duplicates: Duplicates,
    /// Repeats the write would refuse.
    rejects: Vec<ferry_sdk::Reject>,
}

fn entity_index(kind: EntityKind) -> usize {
    EntityKind::ALL.iter().position(|e| *e == kind).unwrap_or(0)
}

impl Planner {
    /// Plans against the archive at `path` (`existing`: there is one, already
    /// checked to be an archive of this schema version).
    pub(crate) fn open(
        path: &Path,
        existing: bool,
        prune_stale: Option<f64>,
        duplicates: Duplicates,
    ) -> Result<Planner, Error> {
        let tables = tables();
        for t in &tables {
            t.check_names().map_err(Error::internal)?;
        }
        let conn = if existing { Some(open_read_only(path).map_err(from_archive)?) } else { None };
        let mut entities = Vec::with_capacity(tables.len());
        for t in &tables {
            let mut p = EntityPlanner {
                plan: EntityPlan { entity: t.name().to_owned(), ..EntityPlan::default() },
                ..EntityPlanner::default()
            };
            if let Some(c) = &conn {
                let have =
                    table_columns(c, t.name()).map_err(|e| db_error(&e, "cannot read the archive", path))?;
                if !have.is_empty() {
                    p.select_sql = Some(t.select_content_sql(&have));
                }
            }
            entities.push(p);
        }
        Ok(Planner {
            conn,
            path: path.to_owned(),
            prune_stale,
            tables,
            entities,
            scratch: Scratch::default(),
            row: RowEncoder::default(),
            sources: Vec::new(),
            text: Vec::new(),
            duplicates,
            rejects: Vec::new(),
        })
    }

    fn plan(&mut self, kind: EntityKind, batch: &RecordBatch) -> Result<(), Error> {
        let i = entity_index(kind);
        let Planner { conn, path, tables, entities, scratch, row, duplicates, rejects, .. } = self;
        let (table, p) = (&tables[i], &mut entities[i]);
        let e = |err: rusqlite::Error| db_error(&err, format_args!("reading {kind} from the archive"), path);
        let rows = BatchRows::new(table, batch).map_err(|err| Error::data(err.0))?;
        let meta = *rows.meta();
        let mut lookup = match (conn.as_ref(), &p.select_sql) {
            (Some(c), Some(sql)) => Some(c.prepare_cached(sql).map_err(e)?),
            _ => None,
        };
        let width = table.content_columns().count();
        for r in 0..rows.len() {
            let (source_system, id) = (meta.source_system(r), meta.source_id(r));
            p.records += 1;
            let key = key_hash(source_system, id);
            let system = p.system_index(source_system);
            let before = match p.seen.get(&key) {
                Some(s) => *s,
                None => {
                    let stored = match &mut lookup {
                        None => None,
                        Some(stmt) => stmt
                            .query_row([source_system, id], |found| {
                                row.clear();
                                for c in 0..width {
                                    row.push(Cell::from(found.get_ref(c)?));
                                }
                                Ok(row.finish())
                            })
                            .optional()
                            .map_err(e)?,
                    };
                    Seen { content: stored, in_archive: stored.is_some(), system }
                }
            };
            let deleting = meta.operation(r) == Operation::Delete;
            if deleting {
                p.upserted.remove(&key);
            } else if !p.upserted.insert(key) {
                // A repeated source id: the write refuses it (or keeps it
                // under another id).
                if *duplicates == Duplicates::Keep {
                    p.plan.create += 1;
                } else {
                    p.plan.reject += 1;
                    let mut rej = ferry_sdk::Reject::new(
                        kind,
                        "the source id was already written in this run by another record; the repeat would be refused",
                    )
                    .record(id);
                    if let Some(f) = meta.source_file(r) {
                        rej = rej.at(f, meta.source_line(r));
                    }
                    rejects.push(rej);
                }
                continue;
            }
            let after = if deleting {
                if before.content.is_some() {
                    p.plan.delete += 1;
                } else {
                    p.plan.unchanged += 1;
                }
                None
            } else {
                p.systems[system].1 = true;
                row.clear();
                rows.cells(r, scratch, |_, cell| -> Result<(), Error> {
                    row.push(cell);
                    Ok(())
                })?;
                let content = row.finish();
                match before.content {
                    None => p.plan.create += 1,
                    Some(c) if c == content => p.plan.unchanged += 1,
                    Some(_) => p.plan.update += 1,
                }
                Some(content)
            };
            p.seen.insert(key, Seen { content: after, ..before });
        }
        Ok(())
    }

    /// Rows `prune_stale` would delete from one table: those of the systems
    /// the run upserted that the run did not touch.
    fn stale_rows(conn: &Connection, table: &Table, p: &EntityPlanner) -> rusqlite::Result<(u64, u64)> {
        let mut count =
            conn.prepare(&format!("SELECT count(*) FROM {} WHERE source_system = ?1", quote(table.name())))?;
        let (mut stale, mut all) = (0u64, 0u64);
        for (i, (system, upserted)) in p.systems.iter().enumerate() {
            if !upserted {
                continue;
            }
            let stored =
                u64::try_from(count.query_row([system.as_str()], |r| r.get::<_, i64>(0))?).unwrap_or(0);
            let touched = p.seen.values().filter(|s| s.in_archive && s.system == i).count() as u64;
            let created = p.seen.values().filter(|s| !s.in_archive && s.system == i).count() as u64;
            stale += stored.saturating_sub(touched);
            // After the run: what was there plus what it creates.
            all += stored + created;
        }
        Ok((stale, all))
    }
}

impl Job for Planner {
    fn batch(&mut self, kind: EntityKind, batch: &RecordBatch) -> Result<(), Error> {
        self.plan(kind, batch)
    }

    fn table(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        use ferry_archive::source_tables::{BatchInfo, add_to_checksum, table_name};
        let info = BatchInfo::of(table, batch).map_err(Error::data)?;
        let name = table_name(table);
        let i = match self.sources.iter().position(|(t, _, _)| *t == name) {
            Some(i) => i,
            None => {
                self.sources.push((name, 0, Default::default()));
                self.sources.len() - 1
            }
        };
        let (_, rows, sum) = &mut self.sources[i];
        *rows += batch.num_rows() as u64;
        add_to_checksum(batch, &info.columns, sum, &mut self.text).map_err(Error::data)
    }

    fn finish(self: Box<Self>, _summary: &RunSummary) -> Result<Finished, Error> {
        let Planner { conn, path, prune_stale, tables, entities, sources, rejects, .. } = *self;
        let mut plan = Vec::new();
        for (name, rows, sum) in sources {
            let before = match &conn {
                Some(c) => ferry_archive::source_tables::recorded(c, &name)
                    .map_err(|e| db_error(&e, "reading the source tables of the archive", &path))?,
                None => None,
            };
            // A source table is replaced whole; the same rows again change nothing.
            let p = match before {
                Some((n, checksum)) if n == rows && checksum == sum.hex() => {
                    EntityPlan { entity: name, unchanged: rows, ..EntityPlan::default() }
                }
                Some((n, _)) => EntityPlan { entity: name, create: rows, delete: n, ..EntityPlan::default() },
                None => EntityPlan { entity: name, create: rows, ..EntityPlan::default() },
            };
            plan.push(p);
        }
        for (t, mut p) in tables.iter().zip(entities) {
            if let (Some(max), Some(c), Some(_)) = (prune_stale, &conn, &p.select_sql)
                && p.records > 0
            {
                let (stale, stored) = Self::stale_rows(c, t, &p).map_err(|e| {
                    db_error(&e, format_args!("reading {} from the archive", t.name()), &path)
                })?;
                if let Some(why) = crate::sink::entity::prune_refusal(t.name(), stale, stored, max) {
                    return Err(Error::data(why));
                }
                p.plan.delete += stale;
            }
            if p.records > 0 || p.plan.delete > 0 || p.plan.reject > 0 {
                plan.push(p.plan);
            }
        }
        tracing::info!(archive = %path.display(), "dry run: nothing was written");
        let total: u64 = plan.iter().map(|p| p.create + p.update + p.delete).sum();
        Ok(Finished {
            notes: vec![format!("dry run: {total} changes planned for {}, nothing written", path.display())],
            plan,
            rejects,
        })
    }
}
