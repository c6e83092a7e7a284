//! Archive errors as plugin errors.

use std::fmt::Display;
use std::path::Path;

use ferry_archive::{ArchiveError, ErrorKind};
use ferry_sdk::Error;

/// An [`ArchiveError`] as the plugin reports it: a file that is not an
/// archive is bad data, an archive of another schema version unsupported,
/// a missing one a configuration error.
pub(crate) fn from_archive(e: ArchiveError) -> Error {
    match e.kind {
        ErrorKind::NotAnArchive => Error::data(e.message),
        ErrorKind::Version => Error::unsupported(e.message),
        ErrorKind::Missing | ErrorKind::Config => Error::config(e.message),
        ErrorKind::DiskFull | ErrorKind::Io | ErrorKind::Query => Error::io(e.message),
    }
}

/// An SQLite error met while `doing` something with the file at `path`.
pub(crate) fn db_error(e: &rusqlite::Error, doing: impl Display, path: &Path) -> Error {
    from_archive(ferry_archive::db_error(e, doing, path))
}
