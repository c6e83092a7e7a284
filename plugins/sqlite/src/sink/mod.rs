//! The archive sink: writes a run into a temporary copy of the archive and
//! swaps it in atomically on commit; in a dry run, plans it and writes
//! nothing.
//!
//! Protocol, per run:
//! 1. take the writer lock (`<file>.ferry-lock`, an SQLite lock the OS drops
//!    when the process dies), so one run at a time writes an archive;
//! 2. delete temporary files of earlier runs that died (safe: we hold the lock);
//! 3. check the existing archive (refusing other files and other schema
//!    versions) and copy it to `<file>.ferry-tmp-<run>`, or start a new file;
//! 4. `write`: hand each Arrow batch to the worker thread ([`worker`]), which
//!    writes it in ONE transaction with prepared statements ([`writer`]).
//!    Journal and fsync are off on the temporary file: it is thrown away on
//!    any failure;
//! 5. `prepare`: build deferred indexes, prune, record the run in
//!    `ferry_runs`, commit, close and fsync the temporary file ([`finish`]):
//!    everything that can fail;
//! 6. `commit`: rename it over the archive and fsync the folder.
//!
//! A kill at any moment leaves the archive either as it was or as the run left
//! it; the next run removes the orphaned temporary file.
//!
//! A dry run ([`plan`]) takes no lock and creates no file: it opens the
//! existing archive read-only and reports what the run would create, update,
//! leave unchanged or delete.

mod entity;
mod files;
mod finish;
mod keys;
mod plan;
mod source_tables;
mod worker;
mod writer;

// Layers, lowest first: files, keys, worker, entity, source_tables, finish, writer, plan.

use std::fs;
use std::path::PathBuf;

use ferry_archive::{Probe, Purpose, probe};
use ferry_sdk::model::EntityKind;
use ferry_sdk::serde::Deserialize;
use ferry_sdk::{Committed, Error, OpenContext, Prepared, RunSummary, Sink, SinkBatch, Written, tracing};

use crate::error::from_archive;
use files::{WriterLock, refuse_unfinished_journal, remove_stale_temps, sync_dir, temp_path};
use plan::Planner;
use worker::Worker;
use writer::{Writer, WriterOptions};

/// The default of `prune_max_fraction`.
fn default_prune_max_fraction() -> f64 {
    0.2
}

impl SinkConfig {
    /// The prune limit when `prune_stale` is on.
    fn prune(&self) -> Option<f64> {
        self.prune_stale.then_some(self.prune_max_fraction)
    }
}

/// The sink's configuration.
#[derive(Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SinkConfig {
    /// The archive file.
    path: String,
    /// Delete rows of the run's source systems that the run did not write.
    #[serde(default)]
    prune_stale: bool,
    /// With `prune_stale`: the largest share of an entity's rows one run may
    /// delete (the run is refused beyond it).
    #[serde(default = "default_prune_max_fraction")]
    prune_max_fraction: f64,
    /// What to keep: `all` (the source's own tables as they came and the
    /// canonical tables), `canonical` or `source` (a fast backup of the
    /// source tables alone).
    #[serde(default)]
    tables: Tables,
    /// A source id the run writes twice: `reject` the repeat (default) or
    /// `keep` both (the repeat under `<id>#<n>`).
    #[serde(default)]
    duplicates: writer::Duplicates,
    /// TEST ONLY: caps the temporary file at this many pages (SQLite's
    /// `max_page_count`) to simulate a full disk.
    #[serde(default, rename = "_test_max_page_count")]
    test_max_page_count: Option<u32>,
}

/// Which tables a run keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "ferry_sdk::serde", rename_all = "lowercase")]
enum Tables {
    /// Source tables and canonical tables.
    #[default]
    All,
    /// Canonical tables only.
    Canonical,
    /// Source tables only.
    Source,
}

/// Where the run's output goes.
enum Output {
    /// A real run: the temporary copy, under the writer lock.
    Temp { temp: PathBuf, lock: Option<WriterLock> },
    /// A dry run: nowhere.
    Nothing,
}

/// Where the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Writing,
    Prepared,
    /// Committed or discarded.
    Finished,
}

/// The SQLite archive sink.
pub struct ArchiveSink {
    target: PathBuf,
    output: Output,
    worker: Worker,
    stage: Stage,
    /// The notes of the prepared run, for the commit.
    notes: Vec<String>,
    tables: Tables,
}

impl ArchiveSink {
    /// Opens the sink: for a real run takes the lock, prepares the temporary
    /// copy and starts the writer; for a dry run starts the planner.
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
        if ctx.dry_run {
            return ArchiveSink::open_dry_run(target, &cfg);
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create the folder {}: {e}", dir.display())))?;
        }
        // Refuse a file that is not an archive before leaving anything beside
        // it; the check is repeated under the lock, which is authoritative.
        probe(&target, Purpose::Records).map_err(from_archive)?;
        let lock = WriterLock::acquire(&target)?;
        remove_stale_temps(&target)?;
        let existing = existing_archive(&target)?;
        let temp = temp_path(&target, &ctx.run_id);
        // From here on, dropping the sink on an error removes the temporary file.
        let mut guard = TempGuard(Some(temp.clone()));
        if existing {
            // Created exclusively and owner-only while the copy is made; then
            // with the archive's own permissions, whatever the district chose.
            let copied = ferry_sdk::files::create_private(&temp).and_then(|mut out| {
                let io = |e: std::io::Error| {
                    Error::io(format!(
                        "cannot copy {} to {} to update it: {e}; the archive is unchanged",
                        target.display(),
                        temp.display()
                    ))
                };
                let mut from = fs::File::open(&target).map_err(io)?;
                std::io::copy(&mut from, &mut out).map_err(io)?;
                let perms = from.metadata().map_err(io)?.permissions();
                out.set_permissions(perms).map_err(io)
            });
            copied?;
        } else {
            // Readable and writable by its owner only: it holds FERPA-protected
            // records. (An existing archive is copied with its permissions,
            // whatever the district chose.)
            ferry_sdk::files::create_private(&temp)?;
        }
        let writer = Writer::open(&WriterOptions {
            temp: &temp,
            target: &target,
            run_id: &ctx.run_id,
            prune_stale: cfg.prune(),
            fresh: !existing,
            max_pages: cfg.test_max_page_count,
            duplicates: cfg.duplicates,
        })?;
        let worker = Worker::spawn(Box::new(writer))?;
        guard.0 = None;
        tracing::info!(archive = %target.display(), existing, "writing the archive");
        Ok(ArchiveSink {
            target,
            output: Output::Temp { temp, lock: Some(lock) },
            worker,
            stage: Stage::Writing,
            notes: Vec::new(),
            tables: cfg.tables,
        })
    }

    fn open_dry_run(target: PathBuf, cfg: &SinkConfig) -> Result<ArchiveSink, Error> {
        let existing = existing_archive(&target)?;
        let planner = Planner::open(&target, existing, cfg.prune(), cfg.duplicates)?;
        let worker = Worker::spawn(Box::new(planner))?;
        tracing::info!(archive = %target.display(), existing, "planning the archive run (dry run: nothing is written)");
        Ok(ArchiveSink {
            target,
            output: Output::Nothing,
            worker,
            stage: Stage::Writing,
            notes: Vec::new(),
            tables: cfg.tables,
        })
    }

    /// Stops the worker, deletes the temporary file, releases the lock.
    fn discard(&mut self) -> Result<(), Error> {
        self.stage = Stage::Finished;
        self.worker.stop();
        let Output::Temp { temp, lock } = &mut self.output else {
            return Ok(());
        };
        let r = match fs::remove_file(&*temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!(
                "cannot remove the temporary file {}: {e}; delete it by hand (the archive itself is unchanged)",
                temp.display()
            ))),
        };
        *lock = None;
        r
    }

    fn prepare_inner(&mut self, summary: &RunSummary) -> Result<Prepared, Error> {
        let done = self.worker.finish(summary)?;
        if let Output::Temp { temp, .. } = &self.output {
            fs::File::open(temp).and_then(|f| f.sync_all()).map_err(|err| {
                Error::io(format!(
                    "cannot flush {}: {err}; the previous archive is unchanged",
                    temp.display()
                ))
            })?;
        }
        self.notes = done.notes;
        Ok(Prepared { plan: done.plan, rejects: done.rejects, ..Prepared::default() })
    }

    fn commit_inner(&mut self) -> Result<Committed, Error> {
        let Output::Temp { temp, lock } = &mut self.output else {
            return Err(Error::internal("a dry run is never committed"));
        };
        fs::rename(&*temp, &self.target).map_err(|err| {
            Error::io(format!(
                "cannot move {} into place: {err}; the previous archive is unchanged",
                temp.display()
            ))
        })?;
        self.stage = Stage::Finished;
        *lock = None;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The archive is in place; a failed folder sync only weakens
            // durability against a power cut, so it is logged, not fatal.
            if let Err(err) = sync_dir(dir) {
                tracing::warn!(folder = %dir.display(), error = %err, "could not sync the archive's folder");
            }
        }
        Ok(Committed { location: self.target.display().to_string(), notes: std::mem::take(&mut self.notes) })
    }
}

/// Whether `target` holds an archive (checked: of this schema version, with
/// no unfinished journal of another program), as opposed to nothing or an
/// empty file.
fn existing_archive(target: &std::path::Path) -> Result<bool, Error> {
    match probe(target, Purpose::Records).map_err(from_archive)? {
        Probe::Missing | Probe::Empty => Ok(false),
        Probe::Archive(_) => {
            refuse_unfinished_journal(target)?;
            Ok(true)
        }
    }
}

/// Removes a temporary file when opening fails half-way.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

impl Sink for ArchiveSink {
    fn entities(&self) -> Vec<EntityKind> {
        match self.tables {
            Tables::Source => Vec::new(),
            Tables::All | Tables::Canonical => EntityKind::ALL.to_vec(),
        }
    }

    fn source_tables(&self) -> bool {
        self.tables != Tables::Canonical
    }

    fn write_table(&mut self, table: &str, batch: &ferry_sdk::model::RecordBatch) -> Result<u64, Error> {
        if self.stage != Stage::Writing {
            return Err(Error::internal("write after prepare, commit or abort"));
        }
        ferry_archive::source_tables::BatchInfo::of(table, batch).map_err(Error::data)?;
        self.worker.send_table(table, batch.clone())?;
        Ok(batch.num_rows() as u64)
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        if self.stage != Stage::Writing {
            return Err(Error::internal("write after prepare, commit or abort"));
        }
        // Checks the layout here, so that a bad batch fails this call.
        batch.fields()?;
        self.worker.send(batch.entity(), batch.arrow().clone())?;
        Ok(Written { written: batch.len() as u64, rejects: Vec::new() })
    }

    fn prepare(&mut self, summary: &RunSummary) -> Result<Prepared, Error> {
        if self.stage != Stage::Writing {
            return Err(Error::internal("prepare after prepare, commit or abort"));
        }
        let r = self.prepare_inner(summary);
        match &r {
            Ok(_) => self.stage = Stage::Prepared,
            Err(_) => {
                let _ = self.discard();
            }
        }
        r
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        match self.stage {
            Stage::Prepared => {}
            Stage::Writing => return Err(Error::internal("commit before prepare")),
            Stage::Finished => return Err(Error::internal("commit after commit or abort")),
        }
        let r = self.commit_inner();
        if r.is_err() {
            let _ = self.discard();
        }
        r
    }

    fn abort(&mut self) -> Result<(), Error> {
        if self.stage == Stage::Finished {
            return Ok(());
        }
        self.discard()
    }

    fn close(&mut self) -> Result<(), Error> {
        if self.stage == Stage::Finished {
            return Ok(());
        }
        // Closed without commit: the run's output is discarded.
        self.discard()
    }
}

impl Drop for ArchiveSink {
    fn drop(&mut self) {
        // Dropped without commit (an error, a host that went away): the run's
        // output is discarded and the previous archive stays as it was.
        if self.stage != Stage::Finished
            && let Err(e) = self.discard()
        {
            tracing::warn!("{e}");
        }
    }
}
