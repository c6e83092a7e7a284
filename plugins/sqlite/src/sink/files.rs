//! The files beside an archive: the writer lock, the run's temporary copy,
//! leftovers of runs that died, and the durability steps of the rename.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_sdk::{Error, tracing};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::db_error;

/// The writer lock: an exclusive SQLite lock on `<file>.ferry-lock`, released
/// by the OS when the connection closes or the process dies.
pub(crate) struct WriterLock {
    _conn: Connection,
}

impl WriterLock {
    pub(crate) fn acquire(target: &Path) -> Result<WriterLock, Error> {
        let path = sibling(target, ".ferry-lock");
        // SQLite says only "unable to open database file"; the OS says why.
        if let Err(e) = fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)
        {
            let dir = match target.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                _ => PathBuf::from("."),
            };
            return Err(Error::io(format!(
                "cannot write in the folder {} (to create the archive {}): {e}; choose a folder you can write to",
                dir.display(),
                target.display()
            )));
        }
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
pub(crate) fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    target.with_file_name(name)
}

const TEMP_MARK: &str = ".ferry-tmp-";

/// The temporary copy of run `run_id`: `<file>.ferry-tmp-<run>`, with the run
/// id reduced to characters safe in a file name.
pub(crate) fn temp_path(target: &Path, run_id: &str) -> PathBuf {
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
pub(crate) fn remove_stale_temps(target: &Path) -> Result<(), Error> {
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

/// Refuses an archive beside which another SQLite program left an
/// unfinished rollback journal or write-ahead log: copying it would copy a
/// half-written file, and opening it read-only could not finish that write.
pub(crate) fn refuse_unfinished_journal(target: &Path) -> Result<(), Error> {
    for (suffix, what) in [("-journal", "rollback journal"), ("-wal", "write-ahead log")] {
        let j = sibling(target, suffix);
        if fs::metadata(&j).is_ok_and(|m| m.len() > 0) {
            return Err(Error::data(format!(
                "{} has an unfinished SQLite {what} ({}) left by another program that was writing it; open \
                 the archive once with sqlite3 (which finishes or rolls back that write) and run again",
                target.display(),
                j.display()
            )));
        }
    }
    Ok(())
}

/// Flushes a folder's entries (the rename) to disk.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_safe() {
        let t = temp_path(Path::new("/x/a.sqlite"), "2024-01-01T00:00:00Z/../x");
        assert_eq!(t, Path::new("/x/a.sqlite.ferry-tmp-2024-01-01T00_00_00Z____x"));
        assert_eq!(temp_path(Path::new("a.sqlite"), ""), Path::new("a.sqlite.ferry-tmp-run"));
    }
}
