//! Recognising, creating, upgrading and verifying archives.
//!
//! Public so that the host's `ferry archive` commands can open an archive
//! with the same checks as the plugin ([`open_archive`]) and verify it
//! ([`verify`]).

use std::collections::HashSet;
use std::fmt::Display;
use std::io::Read as _;
use std::path::Path;

use ferry_sdk::model::MODEL_VERSION;
use ferry_sdk::{Error, serde_json};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _};

use crate::hash::{Cell, RowEncoder, TableChecksum};
use crate::schema::{self, FORMAT, META_TABLE, RUNS_TABLE, SCHEMA_VERSION, Table, quote};

/// What the plugin calls itself in `ferry_meta` and `ferry_runs`.
pub const WRITER: &str = concat!("ferry-plugin-sqlite ", env!("CARGO_PKG_VERSION"));

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What is at an archive path.
#[derive(Debug)]
pub enum Probe {
    /// Nothing.
    Missing,
    /// An empty file (no data to lose).
    Empty,
    /// A Ferry archive this build can read.
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

/// Turns an SQLite error into a plugin error: a full disk says so and says
/// that the previous archive is unchanged.
pub(crate) fn db_error(e: &rusqlite::Error, doing: impl Display, path: &Path) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Error::io(format!(
            "{doing} ({}): the disk is full or the archive reached its size limit; the previous archive is \
             unchanged. Free some space and run again",
            path.display()
        )),
        Some(ErrorCode::NotADatabase) => Error::data(format!(
            "{doing} ({}): the file is not an SQLite database or is damaged; restore the archive from a copy",
            path.display()
        )),
        _ => Error::io(format!("{doing} ({}): {e}", path.display())),
    }
}

fn not_archive(path: &Path, why: &str) -> Error {
    Error::data(format!(
        "{} is not a Ferry archive ({why}). Ferry neither reads nor overwrites it: point `path` at an archive \
         written by Ferry's sqlite connector, or (to create a new archive) at a file name that does not exist yet",
        path.display()
    ))
}

/// Says what is at `path`: nothing, an empty file, or a Ferry archive this
/// build can read. Anything else (not SQLite, SQLite without `ferry_meta`, a
/// newer schema version) is an error naming the file and what to do.
pub fn probe(path: &Path) -> Result<Probe, Error> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Probe::Missing),
        Err(e) => return Err(Error::io(format!("cannot open {}: {e}", path.display()))),
    };
    if file.metadata().map_err(|e| Error::io(format!("cannot read {}: {e}", path.display())))?.is_dir() {
        return Err(Error::config(format!(
            "{} is a folder; `path` must name the archive file",
            path.display()
        )));
    }
    let mut header = [0u8; 16];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(Error::io(format!("cannot read {}: {e}", path.display()))),
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
    Ok(Probe::Archive(check(&conn, path)?))
}

fn open_read_only(path: &Path) -> Result<Connection, Error> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| db_error(&e, "cannot open the archive", path))
}

/// Checks that the database behind `conn` is a Ferry archive this build can
/// read, and returns its identity.
pub fn check(conn: &Connection, path: &Path) -> Result<ArchiveInfo, Error> {
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
    let get = |key: &str| -> Result<Option<String>, Error> {
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
    if version > SCHEMA_VERSION {
        return Err(Error::unsupported(format!(
            "{} was written by a newer Ferry: archive schema version {version}, while this Ferry ({WRITER}) \
             understands up to version {SCHEMA_VERSION}. Upgrade Ferry to read or update this archive; the file \
             was left untouched",
            path.display()
        )));
    }
    if version < 1 {
        return Err(not_archive(path, "its ferry_meta table has no valid schema_version"));
    }
    Ok(ArchiveInfo { schema_version: version, created_by: get("created_by")?.unwrap_or_default() })
}

/// Opens an existing archive read-only, after checking that it is a Ferry
/// archive this build understands.
pub fn open_archive(path: &Path) -> Result<Connection, Error> {
    match probe(path)? {
        Probe::Missing => Err(Error::config(format!(
            "{} does not exist; point `path` at an archive written by Ferry's sqlite connector",
            path.display()
        ))),
        Probe::Empty => Err(not_archive(path, "the file is empty")),
        Probe::Archive(_) => open_read_only(path),
    }
}

/// The current UTC time, RFC 3339, from SQLite's clock.
pub(crate) fn now(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", [], |r| r.get(0))
}

/// The column names of `table` in table order; empty when it does not exist.
pub fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(1))?;
    rows.collect()
}

/// What [`create_or_upgrade`] found per entity table.
pub(crate) struct TableState {
    /// The table held no rows before this run.
    pub empty: bool,
    /// Its columns are exactly the schema's, in schema order (not an older
    /// table that gained columns at the end).
    pub in_order: bool,
    /// Columns were added to it (its checksum changes even if no row does).
    pub altered: bool,
}

/// Creates the schema in a new archive, or brings an existing one up to this
/// build's schema: missing metadata and entity tables, missing columns (new
/// model fields), the student view. Runs inside the caller's transaction.
pub(crate) fn create_or_upgrade(
    conn: &Connection,
    tables: &[Table],
    fresh: bool,
    path: &Path,
) -> Result<Vec<TableState>, Error> {
    let e = |err: rusqlite::Error| db_error(&err, "cannot prepare the archive's tables", path);
    conn.execute_batch(&schema::metadata_sql()).map_err(e)?;
    let now = now(conn).map_err(e)?;
    let model = format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1);
    let set = |k: &str, v: &str| {
        conn.execute(&format!("INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?1, ?2)"), [k, v])
            .map(|_| ())
    };
    if fresh {
        conn.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = {SCHEMA_VERSION};",
            schema::APPLICATION_ID
        ))
        .map_err(e)?;
        set("format", FORMAT).map_err(e)?;
        set("created_by", WRITER).map_err(e)?;
        set("created_at", &now).map_err(e)?;
    }
    set("schema_version", &SCHEMA_VERSION.to_string()).map_err(e)?;
    set("model_version", &model).map_err(e)?;
    set("last_written_by", WRITER).map_err(e)?;
    set("last_written_at", &now).map_err(e)?;
    let mut states = Vec::with_capacity(tables.len());
    for t in tables {
        let before = table_columns(conn, t.name()).map_err(e)?;
        let have: HashSet<&str> = before.iter().map(String::as_str).collect();
        let mut altered = false;
        if have.is_empty() {
            conn.execute_batch(&t.create_sql()).map_err(e)?;
        } else {
            for c in t.columns.iter().filter(|c| !have.contains(c.name.as_str())) {
                conn.execute_batch(&t.add_column_sql(c)).map_err(e)?;
                altered = true;
            }
        }
        let in_order = have.is_empty() || before.iter().eq(t.columns.iter().map(|c| &c.name));
        let has_rows: bool = conn
            .query_row(&format!("SELECT EXISTS (SELECT 1 FROM {})", quote(t.name())), [], |r| r.get(0))
            .map_err(e)?;
        states.push(TableState { empty: !has_rows, in_order, altered });
    }
    conn.execute_batch(&format!("DROP VIEW IF EXISTS {}", schema::STUDENT_VIEW)).map_err(e)?;
    if let Some(view) = schema::student_view_sql(tables) {
        conn.execute_batch(&view).map_err(e)?;
    }
    Ok(states)
}

/// The checksum of one entity table as stored now: every column in table
/// order except `run_id`, each row encoded and hashed as described in
/// [`crate::hash`], summed over all rows.
pub fn table_checksum(conn: &Connection, table: &str) -> rusqlite::Result<TableChecksum> {
    let cols: Vec<String> =
        table_columns(conn, table)?.into_iter().filter(|c| c != schema::RUN_ID).map(|c| quote(&c)).collect();
    let mut sum = TableChecksum::default();
    if cols.is_empty() {
        return Ok(sum);
    }
    let mut stmt = conn.prepare(&format!("SELECT {} FROM {}", cols.join(", "), quote(table)))?;
    let mut rows = stmt.query([])?;
    let mut enc = RowEncoder::default();
    while let Some(row) = rows.next()? {
        enc.clear();
        for i in 0..cols.len() {
            enc.push(Cell::from(row.get_ref(i)?));
        }
        sum.add(enc.finish());
    }
    Ok(sum)
}

/// The verification of one entity table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableVerification {
    /// The entity table.
    pub table: String,
    /// Rows now.
    pub rows: u64,
    /// The checksum now.
    pub checksum: String,
    /// Rows and checksum the last run that wrote the table recorded, with that
    /// run's `seq`; `None` when no run recorded one.
    pub recorded: Option<(u64, String, i64)>,
}

impl TableVerification {
    /// Whether the table is as the last run that wrote it left it.
    pub fn ok(&self) -> bool {
        match &self.recorded {
            Some((rows, sum, _)) => *rows == self.rows && *sum == self.checksum,
            None => self.rows == 0,
        }
    }
}

/// Recomputes the checksum of every entity table and compares it with the
/// one the last run that wrote the table recorded in `ferry_runs`.
pub fn verify(path: &Path) -> Result<Vec<TableVerification>, Error> {
    let conn = open_archive(path)?;
    let e = |err: rusqlite::Error| db_error(&err, "cannot verify the archive", path);
    let mut runs: Vec<(i64, serde_json::Value)> = Vec::new();
    {
        let mut stmt =
            conn.prepare(&format!("SELECT seq, checksums FROM {RUNS_TABLE} ORDER BY seq DESC")).map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            let seq: i64 = r.get(0).map_err(e)?;
            let text: String = r.get(1).map_err(e)?;
            let v = serde_json::from_str(&text).map_err(|err| {
                Error::data(format!("{}: run {seq} has unreadable checksums ({err})", path.display()))
            })?;
            runs.push((seq, v));
        }
    }
    let mut out = Vec::new();
    for t in schema::tables() {
        if table_columns(&conn, t.name()).map_err(e)?.is_empty() {
            continue;
        }
        let now = table_checksum(&conn, t.name()).map_err(e)?;
        let recorded = runs.iter().find_map(|(seq, v)| {
            let entry = v.get(t.name())?;
            Some((entry.get("rows")?.as_u64()?, entry.get("checksum")?.as_str()?.to_owned(), *seq))
        });
        out.push(TableVerification {
            table: t.name().to_owned(),
            rows: now.rows,
            checksum: now.hex(),
            recorded,
        });
    }
    Ok(out)
}
