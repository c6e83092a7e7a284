//! [`Archive`]: an archive opened for `ferry archive info | query | extract`.
//!
//! Always read-only and with `query_only`, so a query can never change the
//! backup. Archives of an older schema version open too (SQL needs no
//! knowledge of the value encoding); newer ones are refused.

use std::path::{Path, PathBuf};

use ferry_model::EntityKind;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::error::{ArchiveError, ErrorKind, db_error};
use crate::format::{Probe, Purpose, open_read_only, probe};
use crate::schema::{META_TABLE, RUN_PLUGINS_TABLE, RUNS_TABLE, quote};

/// An open archive.
pub struct Archive {
    path: PathBuf,
    conn: Connection,
    schema_version: i64,
}

/// A query's result: column names and rows of JSON values.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct QueryResult {
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
    /// The source tables kept as they came: archive table, source name, rows.
    pub source_tables: Vec<(String, String, u64)>,
    /// The runs, oldest first.
    pub runs: QueryResult,
}

fn sql_err<'a>(path: &'a Path, what: &'a str) -> impl Fn(rusqlite::Error) -> ArchiveError + 'a {
    move |e| db_error(&e, what, path)
}

fn query_err(what: &str) -> impl Fn(rusqlite::Error) -> ArchiveError + '_ {
    move |e| ArchiveError::new(ErrorKind::Query, format!("{what}: {e}"))
}

impl Archive {
    /// Opens and checks an archive.
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        let schema_version = match probe(path, Purpose::Inspect)? {
            Probe::Archive(info) => info.schema_version,
            Probe::Missing => {
                return Err(ArchiveError::new(
                    ErrorKind::Missing,
                    format!(
                        "{} does not exist; give the .sqlite file a `ferry migrate` wrote",
                        path.display()
                    ),
                ));
            }
            Probe::Empty => {
                return Err(ArchiveError::new(
                    ErrorKind::NotAnArchive,
                    format!("{} is not a Ferry archive (the file is empty)", path.display()),
                ));
            }
        };
        let conn = open_read_only(path)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| db_error(&e, "cannot open the archive read-only", path))?;
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
            .query(&format!("SELECT key, value FROM {META_TABLE} ORDER BY key"))?
            .rows
            .into_iter()
            .map(|r| (text(&r[0]), text(&r[1])))
            .collect();
        let mut entities = Vec::new();
        for e in EntityKind::ALL {
            if self.table_exists(e.name())? {
                let n: i64 = self
                    .conn
                    .query_row(&format!("SELECT count(*) FROM {}", quote(e.name())), [], |r| r.get(0))
                    .map_err(sql_err(&self.path, "cannot count"))?;
                entities.push((e.name().to_owned(), n));
            }
        }
        let runs = if self.table_exists(RUNS_TABLE)? {
            // What ran, where the archive records it (archives written before
            // it was recorded have no such table).
            let plugins = if self.table_exists(RUN_PLUGINS_TABLE)? {
                format!(
                    ", (SELECT group_concat(p.role || ' ' || p.id || ' ' || p.version || ' sha256 ' || p.sha256 \
                     || coalesce(' signed by ' || p.signed_by, ''), '; ') FROM {RUN_PLUGINS_TABLE} AS p \
                     WHERE p.run_id = r.run_id) AS plugins"
                )
            } else {
                String::new()
            };
            self.query(&format!(
                "SELECT run_id, source, sink, started_at, finished_at, committed_at, config_sha256, counts{plugins} \
                 FROM {RUNS_TABLE} AS r ORDER BY seq"
            ))?
        } else {
            QueryResult::default()
        };
        let source_tables = crate::source_tables::list(&self.conn)
            .map_err(sql_err(&self.path, "cannot list the source tables"))?;
        Ok(Info { path: self.path.clone(), meta, entities, source_tables, runs })
    }

    /// Runs read-only SQL.
    pub fn query(&self, sql: &str) -> Result<QueryResult, ArchiveError> {
        let mut stmt = self.conn.prepare(sql).map_err(query_err("invalid query"))?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let n = columns.len();
        let mut rows = Vec::new();
        let mut q = stmt.query([]).map_err(query_err("query failed"))?;
        while let Some(row) = q.next().map_err(query_err("query failed"))? {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(match row.get_ref(i).map_err(query_err("query failed"))? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(v) => v.into(),
                    ValueRef::Real(v) => v.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(b) => format!("<{} bytes>", b.len()).into(),
                });
            }
            rows.push(out);
        }
        Ok(QueryResult { columns, rows })
    }

    /// The rows of one entity, optionally filtered by an SQL condition.
    pub fn extract(&self, entity: &str, condition: Option<&str>) -> Result<QueryResult, ArchiveError> {
        let Some(kind) = EntityKind::from_name(entity) else {
            let all: Vec<&str> = EntityKind::ALL.iter().map(|e| e.name()).collect();
            return Err(ArchiveError::new(
                ErrorKind::Query,
                format!("unknown entity '{entity}'; entities: {}", all.join(", ")),
            ));
        };
        if !self.table_exists(kind.name())? {
            return Err(ArchiveError::new(
                ErrorKind::Query,
                format!("{} holds no {entity}", self.path.display()),
            ));
        }
        let sql = match condition {
            Some(c) => {
                format!("SELECT * FROM {} WHERE {c} ORDER BY source_system, source_id", quote(kind.name()))
            }
            None => format!("SELECT * FROM {} ORDER BY source_system, source_id", quote(kind.name())),
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
        assert!(
            e.message.contains("not a Ferry archive") && e.message.contains("not an SQLite database"),
            "{e}"
        );

        let plain = dir.path().join("plain.sqlite");
        Connection::open(&plain).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
        let e = Archive::open(&plain).err().unwrap();
        assert!(e.message.contains("without a ferry_meta table"), "{e}");

        let newer = dir.path().join("newer.sqlite");
        Connection::open(&newer)
            .unwrap()
            .execute_batch(
                "CREATE TABLE ferry_meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO ferry_meta VALUES ('format','ferry-archive'),('schema_version','99');",
            )
            .unwrap();
        let e = Archive::open(&newer).err().unwrap();
        assert!(e.message.contains("newer Ferry") && e.message.contains("99"), "{e}");
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
        assert_eq!(a.schema_version(), 1, "an archive of an older schema version can still be queried");
        let e = a.query("DELETE FROM students").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Query);
        let t = a.extract("students", Some("last_name LIKE 'N%'")).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0][2], "Núñez");
        let info = a.info().unwrap();
        assert_eq!(info.entities, vec![("students".to_owned(), 1)]);
        assert!(a.extract("pupils", None).unwrap_err().message.contains("unknown entity"));
    }
}
