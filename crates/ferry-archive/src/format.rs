//! Recognising an archive: what is at a path, whether it is a Ferry archive
//! and of which schema version, and opening it read-only. Every reader and
//! writer of archives goes through these checks, so they all refuse the same
//! files with the same messages.

use std::io::Read as _;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use crate::error::{ArchiveError, ErrorKind, db_error};
use crate::schema::{FORMAT, META_TABLE, SCHEMA_VERSION, quote};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What the caller does with the archive, which decides the schema versions
/// it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Read or write canonical records (the sqlite connector): exactly
    /// [`SCHEMA_VERSION`], whose value encoding this build implements.
    Records,
    /// Run SQL over it (`ferry archive info | query | extract`): any version
    /// up to [`SCHEMA_VERSION`]; SQL needs no knowledge of the encoding.
    Inspect,
}

/// What is at an archive path.
#[derive(Debug)]
pub enum Probe {
    /// Nothing.
    Missing,
    /// An empty file (no data to lose).
    Empty,
    /// A Ferry archive this build can use for the purpose asked.
    Archive(ArchiveInfo),
}

/// The identity of an archive, from `ferry_meta`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// Its schema version.
    pub schema_version: i64,
    /// The writer that created it.
    pub created_by: String,
}

fn not_archive(path: &Path, why: &str) -> ArchiveError {
    ArchiveError::new(
        ErrorKind::NotAnArchive,
        format!(
            "{} is not a Ferry archive ({why}). Ferry neither reads nor overwrites it: a Ferry archive is the \
             .sqlite file that `ferry migrate` writes through the sqlite connector; to create a new archive, \
             name a file that does not exist yet",
            path.display()
        ),
    )
}

/// Says what is at `path`: nothing, an empty file, or a Ferry archive this
/// build can use for `purpose`. Anything else (not SQLite, SQLite without
/// `ferry_meta`, another schema version) is an error naming the file and
/// what to do.
pub fn probe(path: &Path, purpose: Purpose) -> Result<Probe, ArchiveError> {
    let io = |e: std::io::Error, what: &str| {
        ArchiveError::new(ErrorKind::Io, format!("cannot {what} {}: {e}", path.display()))
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Probe::Missing),
        Err(e) => return Err(io(e, "open")),
    };
    if file.metadata().map_err(|e| io(e, "read"))?.is_dir() {
        return Err(ArchiveError::new(
            ErrorKind::Config,
            format!("{} is a folder; `path` must name the archive file", path.display()),
        ));
    }
    let mut header = [0u8; 16];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(io(e, "read")),
        }
    }
    if got == 0 {
        return Ok(Probe::Empty);
    }
    if got < header.len() || &header != SQLITE_MAGIC {
        return Err(not_archive(path, "it is not an SQLite database"));
    }
    drop(file);
    let conn = open_read_only(path)?;
    Ok(Probe::Archive(check(&conn, path, purpose)?))
}

/// Opens the SQLite database at `path` read-only, without any check.
pub fn open_read_only(path: &Path) -> Result<Connection, ArchiveError> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| db_error(&e, "cannot open the archive", path))
}

/// Checks that the database behind `conn` is a Ferry archive of a schema
/// version usable for `purpose`, and returns its identity.
pub fn check(conn: &Connection, path: &Path, purpose: Purpose) -> Result<ArchiveInfo, ArchiveError> {
    let has_meta: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [META_TABLE],
            |r| r.get(0),
        )
        .map_err(|e| db_error(&e, "cannot read the archive", path))?;
    if !has_meta {
        return Err(not_archive(path, "it is an SQLite database without a ferry_meta table"));
    }
    let get = |key: &str| -> Result<Option<String>, ArchiveError> {
        conn.query_row(&format!("SELECT value FROM {META_TABLE} WHERE key = ?1"), [key], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map_err(|e| db_error(&e, "cannot read the archive's ferry_meta table", path))
    };
    if get("format")?.as_deref() != Some(FORMAT) {
        return Err(not_archive(path, "its ferry_meta table does not name the ferry-archive format"));
    }
    let version = get("schema_version")?.and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(0);
    if version < 1 {
        return Err(not_archive(path, "its ferry_meta table has no valid schema_version"));
    }
    let created_by = get("created_by")?.unwrap_or_default();
    check_version(version, &created_by, path, purpose)?;
    Ok(ArchiveInfo { schema_version: version, created_by })
}

/// The schema-version rule: newer archives are refused for every purpose,
/// older ones for reading and writing records.
fn check_version(version: i64, created_by: &str, path: &Path, purpose: Purpose) -> Result<(), ArchiveError> {
    if version > SCHEMA_VERSION {
        return Err(ArchiveError::new(
            ErrorKind::Version,
            format!(
                "{} was written by a newer Ferry: archive schema version {version}, while this Ferry understands \
                 up to version {SCHEMA_VERSION}. Upgrade Ferry to read or update this archive; the file was left \
                 untouched",
                path.display()
            ),
        ));
    }
    if version < SCHEMA_VERSION && purpose == Purpose::Records {
        let by = if created_by.is_empty() { String::new() } else { format!(" ({created_by})") };
        return Err(ArchiveError::new(
            ErrorKind::Version,
            format!(
                "{} is an archive of schema version {version}, written by an older Ferry{by}; this Ferry reads and \
                 writes archive schema version {SCHEMA_VERSION} only (exact decimals, full provenance), so it \
                 neither reads records from it nor updates it, and the file was left untouched. Keep it as the \
                 backup it is (`ferry archive query` still reads it) and write new runs to an archive at another \
                 path",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Opens an existing archive read-only, after checking that it is a Ferry
/// archive usable for `purpose`.
pub fn open_archive(path: &Path, purpose: Purpose) -> Result<Connection, ArchiveError> {
    match probe(path, purpose)? {
        Probe::Missing => Err(ArchiveError::new(
            ErrorKind::Missing,
            format!("{} does not exist; name an archive written by Ferry's sqlite connector", path.display()),
        )),
        Probe::Empty => Err(not_archive(path, "the file is empty")),
        Probe::Archive(_) => open_read_only(path),
    }
}

/// The column names of `table` in table order; empty when it does not exist.
pub fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(1))?;
    rows.collect()
}

/// The current UTC time, RFC 3339, from SQLite's clock.
pub fn now(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_only(path: &Path, version: &str) {
        Connection::open(path)
            .unwrap()
            .execute_batch(&format!(
                "CREATE TABLE ferry_meta(key TEXT PRIMARY KEY, value TEXT); \
                 INSERT INTO ferry_meta VALUES ('format','ferry-archive'),('schema_version','{version}'),\
                 ('created_by', 'ferry-plugin-sqlite 0.0.9');"
            ))
            .unwrap();
    }

    #[test]
    fn versions_other_than_this_one_are_refused_for_records() {
        let dir = tempfile::tempdir().unwrap();
        let older = dir.path().join("older.sqlite");
        meta_only(&older, "1");
        let e = probe(&older, Purpose::Records).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Version);
        assert!(
            e.message.contains("schema version 1")
                && e.message.contains("older Ferry (ferry-plugin-sqlite 0.0.9)")
                && e.message.contains("another path"),
            "{e}"
        );
        assert!(
            matches!(probe(&older, Purpose::Inspect).unwrap(), Probe::Archive(i) if i.schema_version == 1)
        );

        let newer = dir.path().join("newer.sqlite");
        meta_only(&newer, "99");
        for purpose in [Purpose::Records, Purpose::Inspect] {
            let e = probe(&newer, purpose).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Version);
            assert!(e.message.contains("newer Ferry") && e.message.contains("99"), "{e}");
        }

        let current = dir.path().join("current.sqlite");
        meta_only(&current, &SCHEMA_VERSION.to_string());
        assert!(matches!(probe(&current, Purpose::Records).unwrap(), Probe::Archive(_)));
        assert!(matches!(probe(&dir.path().join("none"), Purpose::Records).unwrap(), Probe::Missing));
        assert_eq!(
            open_archive(&dir.path().join("none"), Purpose::Inspect).unwrap_err().kind,
            ErrorKind::Missing
        );
    }
}
