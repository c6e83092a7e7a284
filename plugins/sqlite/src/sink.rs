//! The archive sink: writes a run into a temporary copy of the archive and
//! swaps it in atomically on commit.
//!
//! Protocol, per run:
//! 1. take the writer lock (`<file>.ferry-lock`, an SQLite lock the OS drops
//!    when the process dies), so one run at a time writes an archive;
//! 2. delete temporary files of earlier runs that died (safe: we hold the lock);
//! 3. check the existing archive (refusing other files and newer schemas) and
//!    copy it to `<file>.ferry-tmp-<run>`, or start a new file;
//! 4. write everything in ONE transaction with prepared statements. Journal
//!    and fsync are off on the temporary file: it is thrown away on any failure;
//! 5. on commit: build deferred indexes, record the run in `ferry_runs`, commit,
//!    close, fsync the file, rename it over the archive, fsync the folder.
//!
//! A kill at any moment leaves the archive either as it was or as the run left
//! it; the next run removes the orphaned temporary file.
//!
//! Records are decoded on the caller's thread and inserted by a writer thread
//! that owns the connection, so SQLite works while the host reads the next
//! batch. A failure on the writer thread fails the next `write` or `commit`.

use std::any::Any;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ferry_sdk::model::{Date, EntityKind, FieldType, MODEL_VERSION, Record, Value, with_record_type};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::serde_json::{self, json};
use ferry_sdk::{Committed, Error, OpenContext, RecordBatch, RunSummary, Sink, Written, tracing};
use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Statement};

use crate::archive::{self, Probe, WRITER, db_error};
use crate::hash::{Cell, KeySet, RowEncoder, TableChecksum, key_hash};
use crate::schema::{RUNS_TABLE, Role, SCHEMA_VERSION, Table, quote, tables};
use ferry_sdk::text::json as flat_json;

/// Page size of new archives: larger pages mean fewer page splits on bulk
/// loads and shallower indexes.
const PAGE_SIZE: u32 = 8192;

/// Page cache (KiB) while upserting into tables that hold rows, and for
/// building indexes at commit (SQLite's sorter keeps this much in memory).
const CACHE_KIB: i64 = 256 * 1024;

/// Page cache (KiB) while bulk-inserting into a new archive: a small cache
/// makes SQLite write table pages out as it goes, on the writer thread while
/// the host reads the next batches, instead of all at once at commit.
const BULK_CACHE_KIB: i64 = 16 * 1024;

/// Batches decoded and waiting for the writer thread (bounds memory).
const QUEUE: usize = 4;

/// The sink's configuration.
#[derive(Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SinkConfig {
    /// The archive file.
    path: String,
    /// Delete rows of the run's source systems that the run did not write.
    #[serde(default)]
    prune_stale: bool,
    /// TEST ONLY: caps the temporary file at this many pages (SQLite's
    /// `max_page_count`) to simulate a full disk.
    #[serde(default, rename = "_test_max_page_count")]
    test_max_page_count: Option<u32>,
}

/// The writer lock: an exclusive SQLite lock on `<file>.ferry-lock`, released
/// by the OS when the connection closes or the process dies.
struct WriterLock {
    _conn: Connection,
}

impl WriterLock {
    fn acquire(target: &Path) -> Result<WriterLock, Error> {
        let path = sibling(target, ".ferry-lock");
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| db_error(&e, "cannot create the archive's lock file", &path))?;
        conn.busy_timeout(Duration::ZERO).map_err(|e| db_error(&e, "cannot use the lock file", &path))?;
        match conn.execute_batch("BEGIN EXCLUSIVE") {
            Ok(()) => Ok(WriterLock { _conn: conn }),
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) =>
            {
                Err(Error::io(format!(
                    "another Ferry run is writing {} right now (it holds {}); wait for it to finish and run again",
                    target.display(),
                    path.display()
                )))
            }
            Err(e) => Err(db_error(&e, "cannot lock the archive", &path)),
        }
    }
}

/// `<target><suffix>` in the same folder.
fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    target.with_file_name(name)
}

const TEMP_MARK: &str = ".ferry-tmp-";

fn temp_path(target: &Path, run_id: &str) -> PathBuf {
    let mut run: String = run_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(64)
        .collect();
    if run.is_empty() {
        run.push_str("run");
    }
    sibling(target, &format!("{TEMP_MARK}{run}"))
}

/// Deletes `<file>.ferry-tmp-*` left by runs that died. Only called while
/// holding the writer lock, so no live run owns them.
fn remove_stale_temps(target: &Path) -> Result<(), Error> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let prefix = format!("{name}{TEMP_MARK}");
    let entries = fs::read_dir(&dir).map_err(|e| Error::io(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| {
                Error::io(format!("cannot remove {} left by an interrupted run: {e}", p.display()))
            })?;
            tracing::info!(file = %p.display(), "removed a temporary file left by an interrupted archive run");
        }
    }
    Ok(())
}

/// Creates the new archive's file readable and writable by its owner only:
/// it holds FERPA-protected records. (An existing archive is copied with its
/// permissions, whatever the district chose.)
fn create_private(path: &Path) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map(|_| ()).map_err(|e| Error::io(format!("cannot create {}: {e}", path.display())))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn entity_index(kind: EntityKind) -> usize {
    EntityKind::ALL.iter().position(|e| *e == kind).unwrap_or(0)
}

/// Per-entity state of the run.
struct EntityWriter {
    /// The table held no rows when the run started: rows are plainly
    /// inserted and its indexes (natural key included) built at commit, which
    /// is several times faster than maintaining them row by row.
    bulk: bool,
    /// The insert (bulk) or upsert statement.
    sql: String,
    /// Records written this run.
    written: u64,
    /// Bulk only: hashes of the natural keys written, to notice a source
    /// that repeats a record (then the last one wins, as with an upsert).
    keys: KeySet,
    /// A key was seen twice (or two keys share a hash).
    maybe_duplicates: bool,
    /// Source systems written this run (for pruning).
    systems: Vec<String>,
    /// Bulk only, when the table's columns are in schema order: the table
    /// checksum accumulated from the rows as they are bound, which spares
    /// re-reading the table at commit.
    checksum: Option<TableChecksum>,
    /// The run added columns to the table: its checksum is recorded again.
    altered: bool,
}

/// What the sink hands the writer thread.
enum Msg {
    /// A decoded batch: a `Vec<R>` of the entity's record type.
    Records(EntityKind, Box<dyn Any + Send>),
    /// Finish and commit the database (the file stays the temporary one).
    Commit(Box<RunSummary>),
}

/// The writer thread's state; it owns the connection.
struct Writer {
    conn: Connection,
    temp: PathBuf,
    target: PathBuf,
    run_id: String,
    prune_stale: bool,
    started_at: String,
    tables: Vec<Table>,
    writers: Vec<EntityWriter>,
    json: String,
    row: RowEncoder,
}

impl Writer {
    /// Prepares the temporary file: pragmas, transaction, schema.
    fn open(
        temp: &Path,
        target: &Path,
        run_id: &str,
        prune_stale: bool,
        fresh: bool,
        max_pages: Option<u32>,
    ) -> Result<Writer, Error> {
        let e = |err: rusqlite::Error| db_error(&err, "cannot prepare the archive", temp);
        let conn = Connection::open_with_flags(
            temp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(e)?;
        let cache = if fresh { BULK_CACHE_KIB } else { CACHE_KIB };
        let mut pragmas = format!(
            "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
             PRAGMA cache_size = -{cache};"
        );
        if fresh {
            pragmas.push_str(&format!(" PRAGMA page_size = {PAGE_SIZE};"));
        }
        if let Some(n) = max_pages {
            pragmas.push_str(&format!(" PRAGMA max_page_count = {n};"));
        }
        conn.execute_batch(&pragmas).map_err(e)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch("BEGIN EXCLUSIVE").map_err(e)?;
        let tables = tables();
        for t in &tables {
            t.check_names().map_err(Error::internal)?;
        }
        let states = archive::create_or_upgrade(&conn, &tables, fresh, temp)?;
        let started_at = archive::now(&conn).map_err(e)?;
        let mut writers = Vec::with_capacity(tables.len());
        for (t, st) in tables.iter().zip(&states) {
            for idx in &t.indexes {
                let sql = if st.empty {
                    format!("DROP INDEX IF EXISTS {}", quote(&idx.name))
                } else {
                    t.index_sql(idx)
                };
                conn.execute_batch(&sql).map_err(e)?;
            }
            writers.push(EntityWriter {
                bulk: st.empty,
                sql: t.insert_sql(!st.empty),
                written: 0,
                keys: KeySet::default(),
                maybe_duplicates: false,
                systems: Vec::new(),
                checksum: (st.empty && st.in_order).then(TableChecksum::default),
                altered: st.altered && !st.empty,
            });
        }
        Ok(Writer {
            conn,
            temp: temp.to_owned(),
            target: target.to_owned(),
            run_id: run_id.to_owned(),
            prune_stale,
            started_at,
            tables,
            writers,
            json: String::new(),
            row: RowEncoder::default(),
        })
    }

    /// The thread's loop. Returns the commit notes, or the first error (the
    /// connection is dropped either way; the file is the caller's to move or
    /// delete). A closed channel without a commit is an abort.
    fn run(mut self, rx: &Receiver<Msg>, failed: &Mutex<Option<Error>>) -> Result<Vec<String>, Error> {
        while let Ok(msg) = rx.recv() {
            let r = match msg {
                Msg::Records(kind, records) => with_record_type!(kind, R => self.insert::<R>(records)),
                Msg::Commit(summary) => return self.finish(&summary),
            };
            if let Err(e) = r {
                *failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e.clone());
                return Err(e);
            }
        }
        Err(Error::internal("the archive run was abandoned before its commit"))
    }

    fn insert<R: Record>(&mut self, records: Box<dyn Any + Send>) -> Result<(), Error> {
        let records = records.downcast::<Vec<R>>().map_err(|_| {
            Error::internal(format!("the archive writer got a batch that is not {}", R::KIND))
        })?;
        let i = entity_index(R::KIND);
        let Writer { conn, tables, writers, json, row, run_id, temp, .. } = self;
        let (table, w) = (&tables[i], &mut writers[i]);
        let e =
            |err: rusqlite::Error| db_error(&err, format_args!("writing {} to the archive", R::KIND), temp);
        let mut stmt = conn.prepare_cached(&w.sql).map_err(e)?;
        for rec in records.iter() {
            let meta = rec.meta();
            if w.bulk && !w.keys.insert(key_hash(&meta.source.system, &meta.source.id)) {
                w.maybe_duplicates = true;
            }
            if w.systems.last() != Some(&meta.source.system) && !w.systems.contains(&meta.source.system) {
                w.systems.push(meta.source.system.clone());
            }
            row.clear();
            let hashing = w.checksum.is_some();
            bind_record(&mut Binder { stmt: &mut stmt, row, hashing }, table, rec, run_id, json)
                .map_err(e)?;
            stmt.raw_execute().map_err(e)?;
            if let Some(sum) = &mut w.checksum {
                sum.add(row.finish());
            }
        }
        w.written += records.len() as u64;
        Ok(())
    }

    /// Builds indexes, prunes, records the run, commits and closes.
    fn finish(self, summary: &RunSummary) -> Result<Vec<String>, Error> {
        let e = |err: rusqlite::Error| db_error(&err, "finishing the archive", &self.temp);
        let conn = &self.conn;
        let mut counts = serde_json::Map::new();
        let mut checksums = serde_json::Map::new();
        let (mut total, mut pruned_total) = (0u64, 0u64);
        // Index builds sort in memory up to the cache size; the host waits for
        // the commit, so the sorter may use a second thread.
        conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}; PRAGMA threads = 2;")).map_err(e)?;
        for (t, w) in self.tables.iter().zip(&self.writers) {
            let name = quote(t.name());
            if w.bulk && w.maybe_duplicates {
                // The last record written for a key wins, as an upsert would.
                let gone = conn
                    .execute(
                        &format!(
                            "DELETE FROM {name} WHERE rowid NOT IN \
                             (SELECT max(rowid) FROM {name} GROUP BY source_system, source_id)"
                        ),
                        [],
                    )
                    .map_err(e)?;
                if gone > 0 {
                    tracing::warn!(
                        entity = t.name(),
                        records = gone,
                        "the source repeated records; the last one of each was kept"
                    );
                }
            }
            for idx in &t.indexes {
                conn.execute_batch(&t.index_sql(idx)).map_err(e)?;
            }
            let mut pruned = 0u64;
            if self.prune_stale && w.written > 0 && !w.bulk {
                let mut stmt = conn
                    .prepare(&format!("DELETE FROM {name} WHERE source_system = ?1 AND run_id IS NOT ?2"))
                    .map_err(e)?;
                for s in &w.systems {
                    pruned += stmt.execute([s.as_str(), self.run_id.as_str()]).map_err(e)? as u64;
                }
            }
            pruned_total += pruned;
            total += w.written;
            let host = summary.entities.iter().find(|c| c.entity == t.name());
            if w.written == 0 && host.is_none() && !w.altered {
                continue;
            }
            let sum = match w.checksum {
                Some(sum) if !w.maybe_duplicates => sum,
                _ => archive::table_checksum(conn, t.name()).map_err(e)?,
            };
            let mut c = json!({ "archived": w.written, "pruned": pruned, "rows": sum.rows });
            if let (Some(h), Some(obj)) = (host, c.as_object_mut()) {
                obj.insert("read".into(), h.read.into());
                obj.insert("written".into(), h.written.into());
                obj.insert("rejected".into(), h.rejected.into());
                obj.insert("skipped".into(), h.skipped.into());
            }
            counts.insert(t.name().into(), c);
            checksums.insert(t.name().into(), json!({ "rows": sum.rows, "checksum": sum.hex() }));
        }
        // Planner statistics (sampled, so cheap): with them SQLite can, for
        // instance, skip-scan the (school_id, date) index for a date alone.
        conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE;").map_err(e)?;
        let committed_at = archive::now(conn).map_err(e)?;
        let or = |s: &str, d: &str| if s.is_empty() { d.to_owned() } else { s.to_owned() };
        conn.execute(
            &format!(
                "INSERT INTO {RUNS_TABLE} (run_id, source, sink, model_version, schema_version, config_sha256, \
                 started_at, finished_at, committed_at, counts, checksums) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            rusqlite::params![
                or(&summary.run_id, &self.run_id),
                (!summary.source.is_empty()).then_some(summary.source.as_str()),
                WRITER,
                format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1),
                SCHEMA_VERSION,
                (!summary.config_sha256.is_empty()).then_some(summary.config_sha256.as_str()),
                or(&summary.started_at, &self.started_at),
                or(&summary.finished_at, &committed_at),
                committed_at,
                serde_json::Value::Object(counts).to_string(),
                serde_json::Value::Object(checksums).to_string(),
            ],
        )
        .map_err(e)?;
        conn.execute_batch("COMMIT").map_err(e)?;
        let Writer { conn, temp, target, .. } = self;
        conn.close().map_err(|(_, err)| db_error(&err, "closing the archive", &temp))?;
        let mut notes = vec![format!("archived {total} records into {}", target.display())];
        if pruned_total > 0 {
            notes.push(format!("deleted {pruned_total} stale rows the source no longer has (prune_stale)"));
        }
        Ok(notes)
    }
}

/// The SQLite archive sink.
pub struct ArchiveSink {
    target: PathBuf,
    temp: PathBuf,
    tx: Option<SyncSender<Msg>>,
    worker: Option<JoinHandle<Result<Vec<String>, Error>>>,
    /// The writer thread's first error.
    failed: Arc<Mutex<Option<Error>>>,
    lock: Option<WriterLock>,
    /// Committed or discarded.
    finished: bool,
}

impl ArchiveSink {
    /// Opens the sink: takes the lock, prepares the temporary copy and starts
    /// the writer thread.
    pub fn open(ctx: &OpenContext) -> Result<ArchiveSink, Error> {
        let cfg: SinkConfig = ctx.config()?;
        if cfg.path.trim().is_empty() {
            return Err(Error::config(
                "`path` is empty; name the archive file, e.g. path = \"district.sqlite\"",
            ));
        }
        let target = ctx.resolve(&cfg.path);
        if target.file_name().is_none() {
            return Err(Error::config(format!("`path` {} does not name a file", target.display())));
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create the folder {}: {e}", dir.display())))?;
        }
        // Refuse a file that is not an archive before leaving anything beside
        // it; the check is repeated under the lock, which is authoritative.
        archive::probe(&target)?;
        let lock = WriterLock::acquire(&target)?;
        remove_stale_temps(&target)?;
        let existing = match archive::probe(&target)? {
            Probe::Missing | Probe::Empty => false,
            Probe::Archive(_) => true,
        };
        if existing {
            for (suffix, what) in [("-journal", "rollback journal"), ("-wal", "write-ahead log")] {
                let j = sibling(&target, suffix);
                if fs::metadata(&j).is_ok_and(|m| m.len() > 0) {
                    return Err(Error::data(format!(
                        "{} has an unfinished SQLite {what} ({}) left by another program that was writing it; open \
                         the archive once with sqlite3 (which finishes or rolls back that write) and run again",
                        target.display(),
                        j.display()
                    )));
                }
            }
        }
        let temp = temp_path(&target, &ctx.run_id);
        let mut sink = ArchiveSink {
            target,
            temp,
            tx: None,
            worker: None,
            failed: Arc::new(Mutex::new(None)),
            lock: Some(lock),
            finished: false,
        };
        // From here on, dropping `sink` on an error removes the temporary file.
        if existing {
            fs::copy(&sink.target, &sink.temp).map_err(|e| {
                Error::io(format!(
                    "cannot copy {} to {} to update it: {e}; the archive is unchanged",
                    sink.target.display(),
                    sink.temp.display()
                ))
            })?;
        } else {
            create_private(&sink.temp)?;
        }
        let writer = Writer::open(
            &sink.temp,
            &sink.target,
            &ctx.run_id,
            cfg.prune_stale,
            !existing,
            cfg.test_max_page_count,
        )?;
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let failed = Arc::clone(&sink.failed);
        let worker = std::thread::Builder::new()
            .name("ferry-sqlite-writer".into())
            .spawn(move || writer.run(&rx, &failed))
            .map_err(|e| Error::io(format!("cannot start the archive writer thread: {e}")))?;
        sink.tx = Some(tx);
        sink.worker = Some(worker);
        tracing::info!(archive = %sink.target.display(), existing, "writing the archive");
        Ok(sink)
    }

    /// The writer thread's error, if it failed.
    fn failure(&self) -> Option<Error> {
        self.failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Waits for the writer thread and returns what it returned.
    fn join(&mut self) -> Result<Vec<String>, Error> {
        self.tx = None;
        match self.worker.take() {
            Some(h) => {
                h.join().unwrap_or_else(|_| Err(Error::internal("the archive writer thread panicked")))
            }
            None => Err(Error::internal("the archive writer thread is gone")),
        }
    }

    fn commit_inner(&mut self, summary: &RunSummary) -> Result<Committed, Error> {
        if let Some(f) = self.failure() {
            return Err(f.context("the archive run failed earlier and cannot be committed"));
        }
        let tx = self.tx.take().ok_or_else(|| Error::internal("the archive sink was already closed"))?;
        // A failed send means the thread ended; `join` says why.
        let _ = tx.send(Msg::Commit(Box::new(summary.clone())));
        drop(tx);
        let notes = self.join()?;
        let io = |what: &str, err: std::io::Error| {
            Error::io(format!("{what} {}: {err}; the previous archive is unchanged", self.temp.display()))
        };
        fs::File::open(&self.temp).and_then(|f| f.sync_all()).map_err(|err| io("cannot flush", err))?;
        fs::rename(&self.temp, &self.target).map_err(|err| io("cannot move into place", err))?;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The archive is in place; a failed folder sync only weakens
            // durability against a power cut, so it is logged, not fatal.
            if let Err(err) = sync_dir(dir) {
                tracing::warn!(folder = %dir.display(), error = %err, "could not sync the archive's folder");
            }
        }
        self.finished = true;
        self.lock = None;
        Ok(Committed { location: self.target.display().to_string(), notes })
    }

    /// Stops the writer, deletes the temporary file, releases the lock.
    fn discard(&mut self) -> Result<(), Error> {
        self.finished = true;
        if self.worker.is_some() {
            let _ = self.join();
        }
        let r = match fs::remove_file(&self.temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!(
                "cannot remove the temporary file {}: {e}; delete it by hand (the archive itself is unchanged)",
                self.temp.display()
            ))),
        };
        self.lock = None;
        r
    }
}

/// Decodes a batch into a `Vec` of its record type.
fn decode_all<R: Record>(batch: &RecordBatch<'_>) -> Result<(u64, Box<dyn Any + Send>), Error> {
    let mut v: Vec<R> = Vec::with_capacity(batch.count as usize);
    for r in batch.records::<R>()? {
        v.push(r?);
    }
    Ok((v.len() as u64, Box::new(v)))
}

impl Sink for ArchiveSink {
    fn entities(&self) -> Vec<EntityKind> {
        EntityKind::ALL.to_vec()
    }

    fn write(&mut self, batch: RecordBatch<'_>) -> Result<Written, Error> {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        let Some(tx) = &self.tx else {
            return Err(Error::internal("write after commit or abort"));
        };
        let (written, records) = with_record_type!(batch.entity, R => decode_all::<R>(&batch))?;
        if tx.send(Msg::Records(batch.entity, records)).is_err() {
            return Err(self
                .failure()
                .unwrap_or_else(|| Error::internal("the archive writer thread stopped")));
        }
        Ok(Written { written, rejects: Vec::new() })
    }

    fn commit(&mut self, summary: &RunSummary) -> Result<Committed, Error> {
        if self.finished {
            return Err(Error::internal("commit after commit or abort"));
        }
        let r = self.commit_inner(summary);
        if r.is_err() {
            let _ = self.discard();
        }
        r
    }

    fn abort(&mut self) -> Result<(), Error> {
        if self.finished && self.worker.is_none() && self.lock.is_none() {
            return Ok(());
        }
        self.discard()
    }
}

impl Drop for ArchiveSink {
    fn drop(&mut self) {
        // Dropped without commit (an error, a host that went away): the run's
        // output is discarded and the previous archive stays as it was.
        if !self.finished {
            if let Err(e) = self.discard() {
                tracing::warn!("{e}");
            }
        }
    }
}

/// Binds cells to the insert statement and, when the table checksum is
/// accumulated on the way, feeds them to the row encoder.
struct Binder<'s, 'c> {
    stmt: &'s mut Statement<'c>,
    row: &'s mut RowEncoder,
    hashing: bool,
}

impl Binder<'_, '_> {
    fn cell(&mut self, i: usize, cell: Cell<'_>) -> rusqlite::Result<()> {
        if self.hashing {
            self.row.push(cell);
        }
        match cell {
            Cell::Null => self.stmt.raw_bind_parameter(i, Null),
            Cell::Int(n) => self.stmt.raw_bind_parameter(i, n),
            Cell::Real(x) => self.stmt.raw_bind_parameter(i, x),
            Cell::Text(t) | Cell::Blob(t) => {
                self.stmt.raw_bind_parameter(i, ToSqlOutput::Borrowed(ValueRef::Text(t)))
            }
        }
    }

    fn text(&mut self, i: usize, t: Option<&str>) -> rusqlite::Result<()> {
        self.cell(i, t.map_or(Cell::Null, |t| Cell::Text(t.as_bytes())))
    }
}

/// Writes an ISO date into `buf`.
fn iso_date(d: Date, buf: &mut [u8; 10]) -> &str {
    let digits = |mut n: u32, out: &mut [u8]| {
        for b in out.iter_mut().rev() {
            *b = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(d.year().unsigned_abs(), &mut buf[0..4]);
    buf[4] = b'-';
    digits(d.month(), &mut buf[5..7]);
    buf[7] = b'-';
    digits(d.day(), &mut buf[8..10]);
    std::str::from_utf8(buf).unwrap_or_default()
}

/// Binds one record to the insert statement, in column order (`?1…?n`).
fn bind_record<R: Record>(
    b: &mut Binder<'_, '_>,
    table: &Table,
    rec: &R,
    run_id: &str,
    json: &mut String,
) -> rusqlite::Result<()> {
    let meta = rec.meta();
    let mut date_buf = [0u8; 10];
    let mut i = 0;
    for col in &table.columns {
        i += 1;
        match col.role {
            Role::SourceSystem => b.text(i, Some(&meta.source.system))?,
            Role::SourceId => b.text(i, Some(&meta.source.id))?,
            Role::Field(f) => match rec.get(f.name).unwrap_or(Value::Null) {
                Value::Null => {
                    b.cell(i, Cell::Null)?;
                    if matches!(f.ty, FieldType::Code(_)) {
                        b.cell(i + 1, Cell::Null)?;
                    }
                }
                Value::Text(t) => b.text(i, Some(t))?,
                Value::Int(n) => b.cell(i, Cell::Int(n))?,
                Value::Number(x) => b.cell(i, Cell::Real(x))?,
                Value::Bool(v) => b.cell(i, Cell::Int(i64::from(v)))?,
                Value::Date(d) => b.text(i, Some(iso_date(d, &mut date_buf)))?,
                Value::Code { code, original } => {
                    b.text(i, Some(code))?;
                    b.text(i + 1, Some(original))?;
                }
                Value::List(items) => {
                    flat_json::write_array(json, items);
                    b.text(i, Some(json))?;
                }
            },
            // Bound together with its code column above.
            Role::CodeOriginal(_) => {}
            Role::AltIds if meta.alt_ids.is_empty() => b.cell(i, Cell::Null)?,
            Role::AltIds => {
                flat_json::write_object(
                    json,
                    meta.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str())),
                );
                b.text(i, Some(json))?;
            }
            Role::Extensions if meta.ext.is_empty() => b.cell(i, Cell::Null)?,
            Role::Extensions => {
                flat_json::write_object(json, meta.ext.iter());
                b.text(i, Some(json))?;
            }
            Role::OriginFile => b.text(i, meta.origin.as_ref().map(|o| o.file.as_str()))?,
            Role::OriginLine => match &meta.origin {
                Some(o) => b.cell(i, Cell::Int(i64::try_from(o.line).unwrap_or(i64::MAX)))?,
                None => b.cell(i, Cell::Null)?,
            },
            Role::SourceRow => b.text(i, meta.origin.as_ref().and_then(|o| o.raw.as_deref()))?,
            // Not part of the checksum: the same rows written by another run
            // have the same checksum.
            Role::RunId => b.stmt.raw_bind_parameter(i, run_id)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_zero_padded() {
        let mut b = [0u8; 10];
        assert_eq!(iso_date(Date::new(7, 3, 9).unwrap(), &mut b), "0007-03-09");
        assert_eq!(iso_date(Date::new(2024, 12, 31).unwrap(), &mut b), "2024-12-31");
    }

    #[test]
    fn temp_names_are_safe() {
        let t = temp_path(Path::new("/x/a.sqlite"), "2024-01-01T00:00:00Z/../x");
        assert_eq!(t, Path::new("/x/a.sqlite.ferry-tmp-2024-01-01T00_00_00Z____x"));
        assert_eq!(temp_path(Path::new("a.sqlite"), ""), Path::new("a.sqlite.ferry-tmp-run"));
    }
}
