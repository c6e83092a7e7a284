//! Output files that hold personal data: created owner-only (0600 on Unix,
//! whatever the umask), exclusively (never opened over a file someone else
//! made), under a name unique to the run, and removed unless committed.
//!
//! ```no_run
//! # fn main() -> Result<(), ferry_sdk::Error> {
//! use std::io::Write as _;
//! use ferry_sdk::files::TempFile;
//!
//! let target = std::path::Path::new("out/students.csv");
//! let (temp, mut file) = TempFile::create(target, "run-20250101T000000Z-42")?;
//! file.write_all(b"id,name\n").map_err(|e| ferry_sdk::Error::io(e.to_string()))?;
//! file.sync_all().map_err(|e| ferry_sdk::Error::io(e.to_string()))?;
//! temp.commit()?; // renamed over out/students.csv; dropped instead, it is removed
//! # Ok(())
//! # }
//! ```

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::Error;

/// Creates `path` for writing, owner-only and exclusively: it fails if the
/// file exists (the error names it and says what to do).
pub fn create_private(path: &Path) -> Result<File, Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| {
        if e.kind() == ErrorKind::AlreadyExists {
            Error::io(format!(
                "cannot create {}: it already exists (another run writing here, or one that was killed); \
                 if no other run is writing there, remove it and run again",
                path.display()
            ))
        } else {
            Error::io(format!("cannot create {}: {e}", path.display()))
        }
    })
}

/// Creates the folder `path` owner-only (0700 on Unix) and exclusively.
fn create_private_dir(path: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|e| {
        if e.kind() == ErrorKind::AlreadyExists {
            Error::io(format!(
                "cannot create the folder {}: it already exists (another run writing here, or one that was \
                 killed); if no other run is writing there, remove it and run again",
                path.display()
            ))
        } else {
            Error::io(format!("cannot create the folder {}: {e}", path.display()))
        }
    })
}

/// A file-name-safe tag unique to a run in this process: the run id's safe
/// characters and the process id.
pub fn run_tag(run_id: &str) -> String {
    let clean: String =
        run_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(40).collect();
    format!("{clean}-{}", std::process::id())
}

/// The temporary name of `target` in run `run_id`: `.<name>.<tag>.ferry-tmp`
/// in the same folder (so the rename is atomic).
pub fn temp_name(target: &Path, run_id: &str) -> PathBuf {
    let name = target.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}.{}.ferry-tmp", run_tag(run_id)))
}

/// A private temporary file beside its target: renamed over the target by
/// [`TempFile::commit`], removed when dropped (or by [`TempFile::discard`]).
#[derive(Debug)]
pub struct TempFile {
    temp: PathBuf,
    target: PathBuf,
    /// Committed or discarded: nothing to remove.
    done: bool,
}

impl TempFile {
    /// Creates the temporary file of `target` for run `run_id` (see
    /// [`temp_name`]) owner-only and exclusively, and returns it with the
    /// open file to write.
    pub fn create(target: &Path, run_id: &str) -> Result<(TempFile, File), Error> {
        let temp = temp_name(target, run_id);
        let file = create_private(&temp)?;
        Ok((TempFile { temp, target: target.to_owned(), done: false }, file))
    }

    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// The file it becomes on commit.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file over its target. Flush and sync the file
    /// first.
    pub fn commit(mut self) -> Result<(), Error> {
        fs::rename(&self.temp, &self.target).map_err(|e| {
            Error::io(format!(
                "cannot move {} into place as {}: {e}",
                self.temp.display(),
                self.target.display()
            ))
        })?;
        self.done = true;
        Ok(())
    }

    /// Removes the temporary file, reporting a failure (dropping it removes
    /// it too, silently).
    pub fn discard(mut self) -> Result<(), Error> {
        self.done = true;
        match fs::remove_file(&self.temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("cannot remove {}: {e}", self.temp.display()))),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A private temporary folder for a run's files (create them inside with
/// [`create_private`]): owner-only, created exclusively, removed with
/// everything in it when dropped (or by [`PrivateDir::remove`]).
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    /// Removed already.
    done: bool,
}

impl PrivateDir {
    /// Creates `<parent>/.<prefix>-<tag>.tmp` for run `run_id`.
    pub fn create(parent: &Path, prefix: &str, run_id: &str) -> Result<PrivateDir, Error> {
        let path = parent.join(format!(".{prefix}-{}.tmp", run_tag(run_id)));
        create_private_dir(&path)?;
        Ok(PrivateDir { path, done: false })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the folder and what is left in it, reporting a failure.
    pub fn remove(mut self) -> Result<(), Error> {
        self.done = true;
        match fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("cannot remove {}: {e}", self.path.display()))),
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use std::io::Write as _;

    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_temp_file_is_private_exclusive_and_renamed_on_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("students.csv");
        fs::write(&target, "old").unwrap();
        let (temp, mut f) = TempFile::create(&target, "run-1").unwrap();
        #[cfg(unix)]
        assert_eq!(mode(temp.path()), 0o600);
        assert!(TempFile::create(&target, "run-1").is_err(), "a second run with the same name is refused");
        f.write_all(b"new").unwrap();
        drop(f);
        temp.commit().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        #[cfg(unix)]
        assert_eq!(mode(&target), 0o600, "the committed file stays owner-only");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_temp_file_not_committed_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("x.csv");
        let (temp, _f) = TempFile::create(&target, "r").unwrap();
        let path = temp.path().to_owned();
        drop(temp);
        assert!(!path.exists() && !target.exists());
        let (temp, _f) = TempFile::create(&target, "r").unwrap();
        temp.discard().unwrap();
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_private_dir_is_owner_only_and_removed_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = PrivateDir::create(tmp.path(), "ferry-x", "run/../1").unwrap();
        assert_eq!(dir.path().parent(), Some(tmp.path()), "the run id cannot leave the folder");
        #[cfg(unix)]
        assert_eq!(mode(dir.path()), 0o700);
        assert!(PrivateDir::create(tmp.path(), "ferry-x", "run/../1").is_err(), "created exclusively");
        create_private(&dir.path().join("a.txt")).unwrap();
        drop(dir);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn run_tags_are_file_name_safe() {
        let t = run_tag("2025-01-01T10:00:00Z/../x");
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{t}");
    }
}
