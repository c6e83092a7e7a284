//! The run's own output files (the rejects file, the receipts): written to
//! a private file of this run, put in place just before the destination
//! commits, and taken back if that commit fails.
//!
//! - Each output is guarded by a lock beside it (`.<name>.lock`, an OS file
//!   lock that dies with the process), so two runs never write one file:
//!   the second is refused with the first one's process id.
//! - The partial file is `.<name>.<run>.partial`, created exclusively and
//!   readable by its owner only (it may hold personal data).
//! - [`Staged::install`] flushes it to disk and renames it over the target,
//!   keeping the previous file as `.<name>.<run>.previous`;
//!   [`Staged::confirm`] drops that backup once the destination committed.
//!   Dropped without confirming, a staged file removes its partial and puts
//!   the previous file back.
//! - Leftovers of runs killed outright are removed by the next run that
//!   takes the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::UsageError;

/// `.<name><suffix>` beside `target`.
fn hidden_sibling(target: &Path, suffix: &str) -> PathBuf {
    let name = target.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}{suffix}"))
}

fn folder_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Opens `path` for writing, owner-only (0600) whatever the umask.
fn private_options(create_new: bool) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if create_new {
        o.create_new(true);
    } else {
        o.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

/// An exclusive lock on one output path, held for the whole run.
pub struct OutputLock {
    path: PathBuf,
    file: File,
}

impl OutputLock {
    /// Takes the lock on `target`, or says which run holds it.
    pub fn acquire(target: &Path) -> anyhow::Result<OutputLock> {
        let path = hidden_sibling(target, ".lock");
        // The holder removes the lock file when it is done; a run that
        // locked a file just removed retries on the new one.
        for _ in 0..8 {
            let mut file = private_options(false)
                .open(&path)
                .with_context(|| format!("cannot create the lock file {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let pid = pid.trim();
                    let who = if pid.is_empty() { String::new() } else { format!(" (process {pid})") };
                    bail!(UsageError(format!(
                        "another ferry run{who} is writing {} right now; wait for it to finish, or give this run a file of its own (--rejects FILE, --receipts FILE)",
                        target.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            let still_there = match (fs::metadata(&path), file.metadata()) {
                (Ok(on_disk), Ok(ours)) => same_file(&on_disk, &ours),
                _ => false,
            };
            if !still_there {
                continue;
            }
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| write!(file, "{}", std::process::id()))
                .with_context(|| format!("cannot write the lock file {}", path.display()))?;
            let lock = OutputLock { path, file };
            lock.remove_leftovers(target);
            return Ok(lock);
        }
        bail!("cannot lock {}: other runs keep replacing its lock file {}", target.display(), path.display())
    }

    /// Removes the partial and backup files of runs that were killed: while
    /// the lock is held, no live run owns them.
    fn remove_leftovers(&self, target: &Path) {
        let Some(name) = target.file_name().and_then(|n| n.to_str()) else { return };
        let prefix = format!(".{name}.");
        let Ok(entries) = fs::read_dir(folder_of(target)) else { return };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(n) = file_name.to_str() else { continue };
            if n.starts_with(&prefix) && (n.ends_with(".partial") || n.ends_with(".previous")) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(file = %entry.path().display(), "removed a file left by an interrupted run")
                    }
                    Err(e) => {
                        tracing::warn!(file = %entry.path().display(), "cannot remove a file left by an interrupted run: {e}")
                    }
                }
            }
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; the OS lock goes with the handle.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// One output file of the run (see the module documentation).
pub struct Staged {
    target: PathBuf,
    tmp: PathBuf,
    backup: PathBuf,
    out: Option<BufWriter<File>>,
    error: Option<io::Error>,
    /// The target was replaced by this run's file (not yet confirmed).
    installed: bool,
    /// A previous target exists as `backup`.
    has_backup: bool,
    confirmed: bool,
    _lock: OutputLock,
}

/// A run id reduced to characters safe in a file name.
fn file_tag(run_id: &str) -> String {
    let tag: String = run_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(80)
        .collect();
    if tag.is_empty() { "run".into() } else { tag }
}

impl Staged {
    /// Locks `target` and creates this run's private partial file beside it.
    pub fn create(target: &Path, run_id: &str) -> anyhow::Result<Staged> {
        if target.is_dir() {
            bail!(UsageError(format!("{} is a folder; give the path of a file", target.display())));
        }
        let dir = folder_of(target);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
        let lock = OutputLock::acquire(target)?;
        let tag = file_tag(run_id);
        let tmp = hidden_sibling(target, &format!(".{tag}.partial"));
        let backup = hidden_sibling(target, &format!(".{tag}.previous"));
        let file = private_options(true)
            .open(&tmp)
            .with_context(|| format!("cannot create {} in the folder {}", tmp.display(), dir.display()))?;
        Ok(Staged {
            target: target.to_owned(),
            tmp,
            backup,
            out: Some(BufWriter::new(file)),
            error: None,
            installed: false,
            has_backup: false,
            confirmed: false,
            _lock: lock,
        })
    }

    /// Appends one line; the first error is kept and reported by `install`.
    pub fn line(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        if let Some(out) = &mut self.out
            && let Err(e) = writeln!(out, "{text}")
        {
            self.error = Some(e);
        }
    }

    /// Flushes the file to disk and renames it over the target (the previous
    /// target kept aside until [`Staged::confirm`]).
    pub fn install(&mut self) -> anyhow::Result<()> {
        let what = || format!("cannot write {}", self.target.display());
        if let Some(e) = self.error.take() {
            return Err(e).with_context(what);
        }
        let out = self.out.take().context("the output was already installed")?;
        let file = out.into_inner().map_err(|e| e.into_error()).with_context(what)?;
        file.sync_all().with_context(what)?;
        drop(file);
        if self.target.exists() {
            if fs::hard_link(&self.target, &self.backup).is_err() {
                fs::copy(&self.target, &self.backup)
                    .with_context(|| format!("cannot keep the previous {} aside", self.target.display()))?;
            }
            self.has_backup = true;
        }
        fs::rename(&self.tmp, &self.target)
            .with_context(|| format!("cannot move {} into place", self.target.display()))?;
        self.installed = true;
        let _ = File::open(folder_of(&self.target)).and_then(|d| d.sync_all());
        Ok(())
    }

    /// The destination committed: the new file stays, the old one goes.
    pub fn confirm(mut self) -> PathBuf {
        self.confirmed = true;
        if self.has_backup {
            let _ = fs::remove_file(&self.backup);
        }
        self.target.clone()
    }
}

/// Replaces `target` with `text` the way a run's outputs are: locked,
/// written to a private partial file, flushed and renamed into place, so an
/// interrupted write leaves the previous file whole.
pub fn replace_private(target: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = Staged::create(target, &format!("edit-{}", std::process::id()))?;
    f.line(text.strip_suffix('\n').unwrap_or(text));
    f.install()?;
    f.confirm();
    Ok(())
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.confirmed {
            return;
        }
        if self.installed {
            // The destination did not commit: put the previous file back.
            let restored = if self.has_backup {
                fs::rename(&self.backup, &self.target)
            } else {
                fs::remove_file(&self.target)
            };
            if let Err(e) = restored {
                tracing::warn!(file = %self.target.display(), "cannot put the previous file back: {e}");
            }
        } else {
            drop(self.out.take());
            let _ = fs::remove_file(&self.tmp);
            if self.has_backup {
                let _ = fs::remove_file(&self.backup);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn installed_then_confirmed_replaces_the_target_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.jsonl");
        fs::write(&target, "old\n").unwrap();
        let mut s = Staged::create(&target, "run-1").unwrap();
        s.line("new");
        s.install().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
        s.confirm();
        assert_eq!(names(dir.path()), ["r.jsonl"]);
    }

    #[test]
    fn installed_but_not_confirmed_puts_the_previous_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.jsonl");
        fs::write(&target, "old\n").unwrap();
        let mut s = Staged::create(&target, "run-1").unwrap();
        s.line("new");
        s.install().unwrap();
        drop(s);
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["r.jsonl"]);

        // With no previous file, the new one goes.
        let other = dir.path().join("q.jsonl");
        let mut s = Staged::create(&other, "run-2").unwrap();
        s.install().unwrap();
        drop(s);
        assert_eq!(names(dir.path()), ["r.jsonl"]);
    }

    #[test]
    fn a_second_writer_is_refused_and_leftovers_of_killed_runs_go() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.jsonl");
        fs::write(dir.path().join(".r.jsonl.run-0.partial"), "x").unwrap();
        let first = Staged::create(&target, "run-1").unwrap();
        assert!(!dir.path().join(".r.jsonl.run-0.partial").exists());
        let err = Staged::create(&target, "run-2").err().unwrap();
        assert!(err.downcast_ref::<UsageError>().is_some());
        assert!(format!("{err}").contains(&std::process::id().to_string()), "{err}");
        drop(first);
        assert_eq!(names(dir.path()), Vec::<String>::new());
        Staged::create(&target, "run-3").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn partial_files_are_owner_only_and_created_exclusively() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.jsonl");
        let mut s = Staged::create(&target, "run-1").unwrap();
        let partial = dir.path().join(".r.jsonl.run-1.partial");
        assert_eq!(fs::metadata(&partial).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(private_options(true).open(&partial).is_err(), "an existing partial is never reused");
        s.install().unwrap();
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_folder_is_not_a_rejects_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Staged::create(dir.path(), "run-1").err().unwrap();
        assert!(err.downcast_ref::<UsageError>().is_some());
    }
}
