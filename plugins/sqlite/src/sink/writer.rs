//! The writer: owns the connection to the run's temporary copy and writes
//! every batch into it, inside one transaction, with prepared statements.
//! Values are read in place from the Arrow batch and bound as borrowed text
//! or integers ([`ferry_archive::encode`]).

use std::path::{Path, PathBuf};

use ferry_archive::checksum::{Cell, RowEncoder};
use ferry_archive::encode::{BatchRows, Scratch};
use ferry_archive::schema::{Table, tables};
use ferry_archive::{create_or_upgrade, format};
use ferry_sdk::model::{EntityKind, Operation, RecordBatch};
use ferry_sdk::{Error, RunSummary};
use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Statement};

use crate::error::db_error;
use crate::identity::WRITER;
use crate::sink::entity::{CACHE_KIB, EntityWriter, at, drop_indexes, repeat_reason};
use crate::sink::finish::{self, RunFacts};
use crate::sink::source_tables::SourceTables;
use crate::sink::worker::{Finished, Job};

/// Page size of new archives: larger pages mean fewer page splits on bulk
/// loads and shallower indexes.
const PAGE_SIZE: u32 = 8192;

/// Page cache (KiB) while bulk-inserting into a new archive: a small cache
/// makes SQLite write table pages out as it goes, on the worker thread while
/// the host reads the next batches, instead of all at once at the end.
const BULK_CACHE_KIB: i64 = 16 * 1024;

/// How to open the writer.
pub(crate) struct WriterOptions<'a> {
    /// The temporary copy (or new file) to write.
    pub temp: &'a Path,
    /// The archive it replaces on commit.
    pub target: &'a Path,
    /// The run's id.
    pub run_id: &'a str,
    /// Delete rows of the run's source systems that it did not write, up to
    /// this share of an entity's rows.
    pub prune_stale: Option<f64>,
    /// `temp` is a new, empty file.
    pub fresh: bool,
    /// Test only: caps the file at this many pages.
    pub max_pages: Option<u32>,
    /// What to do with a source id repeated within the run.
    pub duplicates: Duplicates,
}

/// What to do when the run writes a source id it wrote already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ferry_sdk::serde::Deserialize)]
#[serde(crate = "ferry_sdk::serde", rename_all = "lowercase")]
pub(crate) enum Duplicates {
    /// Refuse the repeat (a late reject); the first record stays.
    #[default]
    Reject,
    /// Keep both: the repeat is written under `<id>#<n>`, with a warning.
    Keep,
}

/// The worker's state when writing.
pub(crate) struct Writer {
    conn: Connection,
    temp: PathBuf,
    target: PathBuf,
    facts: RunFacts,
    tables: Vec<Table>,
    entities: Vec<EntityWriter>,
    scratch: Scratch,
    row: RowEncoder,
    sources: SourceTables,
    duplicates: Duplicates,
    /// Repeated source ids refused.
    rejects: Vec<ferry_sdk::Reject>,
    /// Scratch for a repeat's new id.
    repeat_id: String,
}

fn entity_index(kind: EntityKind) -> usize {
    EntityKind::ALL.iter().position(|e| *e == kind).unwrap_or(0)
}

impl Writer {
    /// Prepares the temporary file: pragmas, transaction, schema.
    pub(crate) fn open(o: &WriterOptions<'_>) -> Result<Writer, Error> {
        let e = |err: rusqlite::Error| db_error(&err, "cannot prepare the archive", o.temp);
        let conn = Connection::open_with_flags(
            o.temp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(e)?;
        let cache = if o.fresh { BULK_CACHE_KIB } else { CACHE_KIB };
        let mut pragmas = format!(
            "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
             PRAGMA cache_size = -{cache};"
        );
        if o.fresh {
            pragmas.push_str(&format!(" PRAGMA page_size = {PAGE_SIZE};"));
        }
        if let Some(n) = o.max_pages {
            pragmas.push_str(&format!(" PRAGMA max_page_count = {n};"));
        }
        conn.execute_batch(&pragmas).map_err(e)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch("BEGIN EXCLUSIVE").map_err(e)?;
        let tables = tables();
        for t in &tables {
            t.check_names().map_err(Error::internal)?;
        }
        let states = create_or_upgrade(&conn, &tables, o.fresh, WRITER).map_err(e)?;
        let started_at = format::now(&conn).map_err(e)?;
        let mut entities = Vec::with_capacity(tables.len());
        for (t, st) in tables.iter().zip(states) {
            if st.empty {
                drop_indexes(&conn, t).map_err(e)?;
            }
            entities.push(EntityWriter::new(t, st));
        }
        Ok(Writer {
            conn,
            temp: o.temp.to_owned(),
            target: o.target.to_owned(),
            facts: RunFacts { run_id: o.run_id.to_owned(), started_at, prune_stale: o.prune_stale },
            tables,
            entities,
            scratch: Scratch::default(),
            row: RowEncoder::default(),
            sources: SourceTables::default(),
            duplicates: o.duplicates,
            rejects: Vec::new(),
            repeat_id: String::new(),
        })
    }

    fn write(&mut self, kind: EntityKind, batch: &RecordBatch) -> Result<(), Error> {
        let i = entity_index(kind);
        let Writer {
            conn, tables, entities, scratch, row, facts, temp, duplicates, rejects, repeat_id, ..
        } = self;
        let (table, w) = (&tables[i], &mut entities[i]);
        let e = |err: rusqlite::Error| db_error(&err, format_args!("writing {kind} to the archive"), temp);
        let rows = BatchRows::new(table, batch).map_err(|err| Error::data(err.0))?;
        let meta = *rows.meta();
        let mut insert = conn.prepare_cached(&w.insert_sql).map_err(e)?;
        let mut delete = None;
        for r in 0..rows.len() {
            let (system, id) = (meta.source_system(r), meta.source_id(r));
            w.records += 1;
            if meta.operation(r) == Operation::Delete {
                if w.bulk {
                    w.leave_bulk(conn, table, *duplicates, rejects).map_err(e)?;
                    insert = conn.prepare_cached(&w.insert_sql).map_err(e)?;
                }
                let stmt = match &mut delete {
                    Some(s) => s,
                    None => delete.insert(conn.prepare_cached(&w.delete_sql).map_err(e)?),
                };
                w.deleted += stmt.execute([system, id]).map_err(e)? as u64;
                continue;
            }
            w.saw_system(system);
            // A source id this run already wrote is never overwritten: in
            // bulk mode the unique key finds it when it is built; an upsert
            // changes nothing, and then the repeat is refused or kept under
            // `<id>#<n>`.
            let mut attempt = 1u32;
            loop {
                row.clear();
                let hashing = w.checksum.is_some();
                let new_id = (attempt > 1).then(|| {
                    repeat_id.clear();
                    repeat_id.push_str(id);
                    repeat_id.push('#');
                    repeat_id.push_str(&attempt.to_string());
                    repeat_id.as_bytes()
                });
                rows.cells(r, scratch, |c, cell| {
                    let cell = match (c, new_id) {
                        (1, Some(new)) => Cell::Text(new),
                        _ => cell,
                    };
                    if hashing {
                        row.push(cell);
                    }
                    bind(&mut insert, c + 1, cell)
                })
                .map_err(e)?;
                // Not part of the checksum: the same rows written by another
                // run have the same checksum.
                insert.raw_bind_parameter(table.columns.len(), facts.run_id.as_str()).map_err(e)?;
                if insert.raw_execute().map_err(e)? > 0 {
                    break;
                }
                let where_ = at(meta.source_file(r), meta.source_line(r));
                if *duplicates == Duplicates::Reject {
                    let mut rej = ferry_sdk::Reject::new(kind, repeat_reason(kind, &where_)).record(id);
                    if let Some(f) = meta.source_file(r) {
                        rej = rej.at(f, meta.source_line(r));
                    }
                    rejects.push(rej);
                    break;
                }
                attempt += 1;
                if attempt == 2 {
                    w.kept_repeats += 1;
                    let mut warn = ferry_sdk::Reject::warning(
                        kind,
                        format!("the source id was already written in this run; this repeat{where_} is kept under the id with #<n> (duplicates = \"keep\")"),
                    )
                    .record(id);
                    if let Some(f) = meta.source_file(r) {
                        warn = warn.at(f, meta.source_line(r));
                    }
                    rejects.push(warn);
                }
            }
            if attempt == 1 || *duplicates == Duplicates::Keep {
                if let Some(sum) = &mut w.checksum {
                    sum.add(row.finish());
                }
                w.upserted += 1;
            }
        }
        Ok(())
    }
}

/// Binds one cell as parameter `i` (text is copied by SQLite on binding).
fn bind(stmt: &mut Statement<'_>, i: usize, cell: Cell<'_>) -> rusqlite::Result<()> {
    match cell {
        Cell::Null => stmt.raw_bind_parameter(i, Null),
        Cell::Int(n) => stmt.raw_bind_parameter(i, n),
        Cell::Real(x) => stmt.raw_bind_parameter(i, x),
        Cell::Text(t) => stmt.raw_bind_parameter(i, ToSqlOutput::Borrowed(ValueRef::Text(t))),
        Cell::Blob(b) => stmt.raw_bind_parameter(i, ToSqlOutput::Borrowed(ValueRef::Blob(b))),
    }
}

impl Job for Writer {
    fn batch(&mut self, kind: EntityKind, batch: &RecordBatch) -> Result<(), Error> {
        self.write(kind, batch)
    }

    fn table(&mut self, table: &str, batch: &RecordBatch) -> Result<(), Error> {
        self.sources
            .write(&self.conn, table, batch)
            .map_err(|e| Error::data(format!("{e} (in {})", self.temp.display())))
    }

    /// Builds indexes, prunes, records the run, commits and closes the
    /// temporary file (which stays where it is until the sink's commit).
    fn finish(self: Box<Self>, summary: &RunSummary) -> Result<Finished, Error> {
        let Writer {
            conn, temp, target, facts, tables, mut entities, sources, mut rejects, duplicates, ..
        } = *self;
        let source_sums = sources
            .finish(&conn, &facts.run_id)
            .map_err(|err| db_error(&err, "recording the source tables", &temp))?;
        let done = finish::finish(
            &conn,
            &tables,
            &mut entities,
            &facts,
            summary,
            source_sums,
            (duplicates, &mut rejects),
        )
        .map_err(|err| match err {
            finish::FinishError::Db(err) => db_error(&err, "finishing the archive", &temp),
            finish::FinishError::Refused(why) => Error::data(why),
        })?;
        let kept: u64 = entities.iter().map(|w| w.kept_repeats).sum();
        conn.close().map_err(|(_, err)| db_error(&err, "closing the archive", &temp))?;
        let mut notes = vec![format!("archived {} records into {}", done.upserted, target.display())];
        if !sources.tables.is_empty() {
            let rows: u64 = sources.tables.iter().map(|t| t.rows).sum();
            notes.push(format!(
                "kept {} source tables as they came ({rows} rows, tables src_<name>)",
                sources.tables.len()
            ));
        }
        if done.deleted > 0 {
            notes.push(format!("deleted {} rows the source marked as deleted", done.deleted));
        }
        if done.pruned > 0 {
            notes.push(format!("deleted {} stale rows the source no longer has (prune_stale)", done.pruned));
        }
        let refused = rejects.iter().filter(|r| r.is_reject()).count();
        if refused > 0 {
            notes.push(format!(
                "refused {refused} record(s) repeating a source id already written in this run (see the rejects)"
            ));
        }
        if kept > 0 {
            notes.push(format!(
                "kept {kept} record(s) repeating a source id under <id>#<n> (duplicates = \"keep\")"
            ));
        }
        Ok(Finished { notes, plan: Vec::new(), rejects })
    }
}
