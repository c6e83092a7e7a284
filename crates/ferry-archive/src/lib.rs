//! Reading a Ferry archive (the SQLite file the `sqlite` plugin writes) for
//! `ferry archive info | query | extract`.
//!
//! The archive is always opened read-only and with `query_only`, so a query
//! can never change the backup. The format checks here mirror the `sqlite`
//! plugin's (`ferry_meta.format = 'ferry-archive'`, a schema version this
//! build knows); the end-to-end tests check both agree on archives the plugin
//! writes.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use ferry_model::EntityKind;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The newest archive schema version this build reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Why the archive cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ArchiveError(pub String);

/// An open archive.
pub struct Archive {
    path: PathBuf,
    conn: Connection,
    schema_version: i64,
}

/// A query's result: column names and rows of JSON values.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// What `ferry archive info` shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Info {
    /// The file.
    pub path: PathBuf,
    /// `ferry_meta` as key/value pairs.
    pub meta: Vec<(String, String)>,
    /// Rows per entity table present.
    pub entities: Vec<(String, i64)>,
    /// The runs, oldest first.
    pub runs: Table,
}

fn sql_err(path: &Path, what: &str) -> impl Fn(rusqlite::Error) -> ArchiveError {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |e| ArchiveError(format!("{path}: {what}: {e}"))
}

impl Archive {
    /// Opens and checks an archive.
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        let not_archive = |why: &str| {
            ArchiveError(format!(
                "{} is not a Ferry archive ({why}); give the .sqlite file a `ferry migrate` into the sqlite plugin wrote",
                path.display()
            ))
        };
        let mut header = [0u8; 16];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(path)
                .map_err(|e| ArchiveError(format!("cannot open {}: {e}", path.display())))?;
            if f.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
                return Err(not_archive("it is not an SQLite database"));
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_err(path, "cannot open"))?;
        conn.pragma_update(None, "query_only", true).map_err(sql_err(path, "cannot open read-only"))?;
        let has_meta: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ferry_meta')",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err(path, "cannot read"))?;
        if !has_meta {
            return Err(not_archive("an SQLite database without a ferry_meta table"));
        }
        let get = |k: &str| -> Result<Option<String>, ArchiveError> {
            conn.query_row("SELECT value FROM ferry_meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()
                .map_err(sql_err(path, "cannot read ferry_meta"))
        };
        if get("format")?.as_deref() != Some("ferry-archive") {
            return Err(not_archive("its ferry_meta does not name the ferry-archive format"));
        }
        let schema_version = get("schema_version")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if schema_version > SCHEMA_VERSION {
            return Err(ArchiveError(format!(
                "{} was written by a newer Ferry (archive schema version {schema_version}; this ferry reads up to {SCHEMA_VERSION}): upgrade ferry to read it",
                path.display()
            )));
        }
        if schema_version < 1 {
            return Err(not_archive("its ferry_meta has no valid schema_version"));
        }
        Ok(Archive { path: path.to_owned(), conn, schema_version })
    }

    /// The archive's schema version.
    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    fn table_exists(&self, name: &str) -> Result<bool, ArchiveError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(sql_err(&self.path, "cannot read the schema"))
    }

    /// Entities, counts and runs.
    pub fn info(&self) -> Result<Info, ArchiveError> {
        let meta = self
            .query("SELECT key, value FROM ferry_meta ORDER BY key")?
            .rows
            .into_iter()
            .map(|r| (text(&r[0]), text(&r[1])))
            .collect();
        let mut entities = Vec::new();
        for e in EntityKind::ALL {
            if self.table_exists(e.name())? {
                let n: i64 = self
                    .conn
                    .query_row(&format!("SELECT count(*) FROM \"{}\"", e.name()), [], |r| r.get(0))
                    .map_err(sql_err(&self.path, "cannot count"))?;
                entities.push((e.name().to_owned(), n));
            }
        }
        let runs = if self.table_exists("ferry_runs")? {
            self.query("SELECT run_id, source, sink, started_at, finished_at, committed_at, config_sha256, counts FROM ferry_runs ORDER BY seq")?
        } else {
            Table::default()
        };
        Ok(Info { path: self.path.clone(), meta, entities, runs })
    }

    /// Runs read-only SQL.
    pub fn query(&self, sql: &str) -> Result<Table, ArchiveError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| ArchiveError(format!("invalid query: {e}")))?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let n = columns.len();
        let mut rows = Vec::new();
        let mut q = stmt.query([]).map_err(|e| ArchiveError(format!("query failed: {e}")))?;
        while let Some(row) = q.next().map_err(|e| ArchiveError(format!("query failed: {e}")))? {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(match row.get_ref(i).map_err(|e| ArchiveError(e.to_string()))? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(v) => v.into(),
                    ValueRef::Real(v) => v.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(b) => format!("<{} bytes>", b.len()).into(),
                });
            }
            rows.push(out);
        }
        Ok(Table { columns, rows })
    }

    /// The rows of one entity, optionally filtered by an SQL condition.
    pub fn extract(&self, entity: &str, condition: Option<&str>) -> Result<Table, ArchiveError> {
        let Some(kind) = EntityKind::from_name(entity) else {
            let all: Vec<&str> = EntityKind::ALL.iter().map(|e| e.name()).collect();
            return Err(ArchiveError(format!("unknown entity '{entity}'; entities: {}", all.join(", "))));
        };
        if !self.table_exists(kind.name())? {
            return Err(ArchiveError(format!("{} holds no {entity}", self.path.display())));
        }
        let sql = match condition {
            Some(c) => {
                format!("SELECT * FROM \"{}\" WHERE {c} ORDER BY source_system, source_id", kind.name())
            }
            None => format!("SELECT * FROM \"{}\" ORDER BY source_system, source_id", kind.name()),
        };
        self.query(&sql)
    }
}

/// A cell as display text.
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        let text_file = dir.path().join("notes.sqlite");
        std::fs::write(&text_file, "hello").unwrap();
        let e = Archive::open(&text_file).err().unwrap();
        assert!(e.0.contains("not a Ferry archive") && e.0.contains("not an SQLite database"), "{e}");

        let plain = dir.path().join("plain.sqlite");
        Connection::open(&plain).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
        let e = Archive::open(&plain).err().unwrap();
        assert!(e.0.contains("without a ferry_meta table"), "{e}");

        let newer = dir.path().join("newer.sqlite");
        Connection::open(&newer)
            .unwrap()
            .execute_batch(
                "CREATE TABLE ferry_meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO ferry_meta VALUES ('format','ferry-archive'),('schema_version','99');",
            )
            .unwrap();
        let e = Archive::open(&newer).err().unwrap();
        assert!(e.0.contains("newer Ferry") && e.0.contains("99"), "{e}");
    }

    #[test]
    fn queries_are_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        Connection::open(&p)
            .unwrap()
            .execute_batch(
                "CREATE TABLE ferry_meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO ferry_meta VALUES ('format','ferry-archive'),('schema_version','1');
                 CREATE TABLE students(source_system TEXT, source_id TEXT, last_name TEXT); INSERT INTO students VALUES ('x','1','Núñez');",
            )
            .unwrap();
        let a = Archive::open(&p).unwrap();
        assert!(a.query("DELETE FROM students").is_err());
        let t = a.extract("students", Some("last_name LIKE 'N%'")).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0][2], "Núñez");
        let info = a.info().unwrap();
        assert_eq!(info.entities, vec![("students".to_owned(), 1)]);
        assert!(a.extract("pupils", None).unwrap_err().0.contains("unknown entity"));
    }
}
