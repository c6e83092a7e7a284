//! [`ArchiveError`]: why an archive cannot be opened, read or written.

use std::fmt::Display;
use std::path::Path;

use rusqlite::ErrorCode;

/// What went wrong, for callers that map errors to their own kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file is not a Ferry archive (or is damaged): never read nor overwritten.
    NotAnArchive,
    /// An archive of a schema version this build does not read or write.
    Version,
    /// No archive at the path.
    Missing,
    /// The path cannot be an archive (a folder).
    Config,
    /// The disk is full or the archive reached its size limit.
    DiskFull,
    /// Any other failure of the file system or SQLite.
    Io,
    /// An SQL query given by the user failed.
    Query,
}

/// Why the archive cannot be read or written. The message names the file and
/// says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ArchiveError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
}

impl ArchiveError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ArchiveError {
        ArchiveError { kind, message: message.into() }
    }
}

/// Turns an SQLite error met while `doing` something with the archive at
/// `path` into an [`ArchiveError`]: a full disk says so and says that the
/// previous archive is unchanged (writes go to a temporary copy).
pub fn db_error(e: &rusqlite::Error, doing: impl Display, path: &Path) -> ArchiveError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => ArchiveError::new(
            ErrorKind::DiskFull,
            format!(
                "{doing} ({}): the disk is full or the archive reached its size limit; the previous archive is \
                 unchanged. Free some space and run again",
                path.display()
            ),
        ),
        Some(ErrorCode::NotADatabase) => ArchiveError::new(
            ErrorKind::NotAnArchive,
            format!(
                "{doing} ({}): the file is not an SQLite database or is damaged; restore the archive from a copy",
                path.display()
            ),
        ),
        _ => ArchiveError::new(ErrorKind::Io, format!("{doing} ({}): {e}", path.display())),
    }
}
