//! SQL text for the archive: DDL generated from [`Table`], the statements a
//! writer and a planner prepare, the metadata tables and the
//! `student_records` view.

use std::fmt::Write as _;

use ferry_model::{EntityKind, FieldType};

use crate::schema::{
    META_TABLE, RUN_PLUGINS_TABLE, RUNS_TABLE, Role, SOURCE_ID, SOURCE_SYSTEM, STUDENT_VIEW, Table, quote,
};

impl Table {
    /// `CREATE TABLE IF NOT EXISTS`.
    pub fn create_sql(&self) -> String {
        let mut s = format!("CREATE TABLE IF NOT EXISTS {} (\n", quote(self.name()));
        for (i, c) in self.columns.iter().enumerate() {
            let _ =
                write!(s, "  {} {}{}", quote(&c.name), c.sql_type, if c.not_null { " NOT NULL" } else { "" });
            s.push_str(if i + 1 < self.columns.len() { ",\n" } else { "\n)" });
        }
        s
    }

    /// `ALTER TABLE … ADD COLUMN` for a column an older archive lacks.
    pub fn add_column_sql(&self, c: &crate::schema::Column) -> String {
        // Columns added later cannot be NOT NULL without a default; only meta
        // columns are NOT NULL and those exist since the schema version began.
        format!("ALTER TABLE {} ADD COLUMN {} {}", quote(self.name()), quote(&c.name), c.sql_type)
    }

    /// `CREATE INDEX IF NOT EXISTS` for `idx`.
    pub fn index_sql(&self, idx: &crate::schema::Index) -> String {
        let cols: Vec<String> = idx.columns.iter().map(|c| quote(c)).collect();
        let mut s = format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {} ({})",
            if idx.unique { "UNIQUE " } else { "" },
            quote(&idx.name),
            quote(self.name()),
            cols.join(", ")
        );
        if idx.skip_nulls {
            let _ = write!(s, " WHERE {} IS NOT NULL", quote(idx.columns[0]));
        }
        s
    }

    /// The insert statement, with `?1…?n` in column order (`run_id` last). With `upsert`, an
    /// existing row with the same natural key is updated in place.
    pub fn insert_sql(&self, upsert: bool) -> String {
        let names: Vec<String> = self.columns.iter().map(|c| quote(&c.name)).collect();
        let params: Vec<String> = (1..=self.columns.len()).map(|i| format!("?{i}")).collect();
        let mut s = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(self.name()),
            names.join(", "),
            params.join(", ")
        );
        if upsert {
            let sets: Vec<String> =
                self.columns[2..].iter().map(|c| format!("{0} = excluded.{0}", quote(&c.name))).collect();
            // A row this very run wrote is not overwritten: the statement
            // then changes nothing, which tells the writer the source
            // repeated a source id.
            let _ = write!(
                s,
                " ON CONFLICT ({}, {}) DO UPDATE SET {} WHERE {}.run_id IS NOT excluded.run_id",
                quote(SOURCE_SYSTEM),
                quote(SOURCE_ID),
                sets.join(", "),
                quote(self.name())
            );
        }
        s
    }

    /// Deletes the row with the natural key `?1`, `?2`.
    pub fn delete_sql(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} = ?1 AND {} = ?2",
            quote(self.name()),
            quote(SOURCE_SYSTEM),
            quote(SOURCE_ID)
        )
    }

    /// Selects the content columns ([`Table::content_columns`], in that
    /// order) of the row with the natural key `?1`, `?2`; a column the
    /// existing table lacks (`have` lists its columns) reads as NULL, as it
    /// would after the upgrade that adds it.
    pub fn select_content_sql(&self, have: &[String]) -> String {
        let cols: Vec<String> = self
            .content_columns()
            .map(|c| if have.contains(&c.name) { quote(&c.name) } else { "NULL".to_owned() })
            .collect();
        format!(
            "SELECT {} FROM {} WHERE {} = ?1 AND {} = ?2",
            cols.join(", "),
            quote(self.name()),
            quote(SOURCE_SYSTEM),
            quote(SOURCE_ID)
        )
    }

    /// A `json_object(…)` of the canonical columns of the row aliased
    /// `alias` (identity, fields, alternative ids and extensions; not the
    /// provenance), with JSON columns nested. SQLite caps a function at 127
    /// arguments, so a wide table is built in chunks merged with `json_patch`
    /// (which leaves out the null members of later chunks).
    pub fn json_object_sql(&self, alias: &str) -> String {
        const PAIRS_PER_CALL: usize = 60;
        let mut parts = Vec::new();
        for c in &self.columns {
            let col = format!("{alias}.{}", quote(&c.name));
            let value = match c.role {
                Role::OriginFile
                | Role::OriginLine
                | Role::SourceRow
                | Role::SourceTable
                | Role::SourceLocator
                | Role::SourceRowHash
                | Role::SourceModifiedAt
                | Role::Operation
                | Role::RunId => continue,
                Role::AltIds | Role::Extensions => format!("json({col})"),
                Role::Field(f) if matches!(f.ty, FieldType::List) => format!("json({col})"),
                _ => col,
            };
            parts.push(format!("'{}', {value}", c.name.replace('\'', "''")));
        }
        let calls: Vec<String> =
            parts.chunks(PAIRS_PER_CALL).map(|chunk| format!("json_object({})", chunk.join(", "))).collect();
        calls.into_iter().rev().reduce(|acc, call| format!("json_patch({call}, {acc})")).unwrap_or_default()
    }
}

/// The metadata tables.
pub fn metadata_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {META_TABLE} (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
  seq INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  source TEXT,
  sink TEXT NOT NULL,
  model_version TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  config_sha256 TEXT,
  started_at TEXT,
  finished_at TEXT,
  committed_at TEXT NOT NULL,
  counts TEXT NOT NULL,
  checksums TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {RUN_PLUGINS_TABLE} (
  run_id TEXT NOT NULL,
  role TEXT NOT NULL,
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  signed_by TEXT
);"
    )
}

/// The statement recording a run in `ferry_runs`, parameters in column order
/// from `run_id` to `checksums`.
pub fn insert_run_sql() -> String {
    format!(
        "INSERT INTO {RUNS_TABLE} (run_id, source, sink, model_version, schema_version, config_sha256, \
         started_at, finished_at, committed_at, counts, checksums) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    )
}

/// The statement recording one plugin of a run in `ferry_run_plugins`.
pub fn insert_run_plugin_sql() -> String {
    format!(
        "INSERT INTO {RUN_PLUGINS_TABLE} (run_id, role, id, version, sha256, signed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    )
}

/// The `student_records` view: one row per archived record about a student
/// (the student, their demographics, contacts, enrollments, grades,
/// attendance…), each with the student's identifiers, the record as a JSON
/// object and its original source row.
pub fn student_view_sql(tables: &[Table]) -> Option<String> {
    let find = |e: EntityKind| tables.iter().find(|t| t.entity == e);
    let students = find(EntityKind::Students)?;
    let head = |entity: &str, x: &str| {
        format!(
            "SELECT s.source_system AS source_system, s.source_id AS student_id, s.student_number AS student_number, \
             s.state_id AS state_id, s.last_name AS last_name, s.first_name AS first_name, '{entity}' AS entity, \
             {x}.source_id AS record_id, {x}.source_table AS source_table, {x}.origin_file AS origin_file, \
             {x}.origin_line AS origin_line, {x}.source_row AS source_row, "
        )
    };
    let mut parts = vec![format!(
        "{}{} AS record\nFROM students AS s",
        head("students", "s"),
        students.json_object_sql("s")
    )];
    for t in tables {
        let q = quote(t.name());
        if t.entity == EntityKind::Students {
            continue;
        }
        let via = if t.has_field("student_id") {
            "student_id"
        } else if t.has_field("person_id") {
            "person_id"
        } else {
            continue;
        };
        parts.push(format!(
            "{}{} AS record\nFROM students AS s JOIN {q} AS x ON x.source_system = s.source_system AND x.{via} = s.source_id",
            head(t.name(), "x"),
            t.json_object_sql("x")
        ));
    }
    if let (Some(links), Some(contacts)) = (find(EntityKind::StudentContacts), find(EntityKind::Contacts))
        && links.has_field("student_id")
        && links.has_field("contact_id")
    {
        parts.push(format!(
            "{}{} AS record\nFROM students AS s JOIN student_contacts AS l ON l.source_system = s.source_system AND l.student_id = s.source_id \
             JOIN contacts AS x ON x.source_system = l.source_system AND x.source_id = l.contact_id",
            head("contacts", "x"),
            contacts.json_object_sql("x")
        ));
    }
    Some(format!("CREATE VIEW {STUDENT_VIEW} AS\n{}", parts.join("\nUNION ALL\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;

    #[test]
    fn wide_tables_stay_under_the_function_argument_limit() {
        let mut t = Table::new(EntityKind::Students);
        let template = t.columns[2].clone();
        for i in 0..150 {
            t.columns.insert(3, Column { name: format!("extra_{i}"), ..template.clone() });
        }
        let sql = t.json_object_sql("s");
        assert_eq!(sql.matches("json_object(").count(), 3, "{sql}");
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&t.create_sql()).unwrap();
        conn.execute(
            "INSERT INTO students (source_system, source_id, extra_0, operation, run_id) \
             VALUES ('a', '1', 'x', 'upsert', 'r')",
            [],
        )
        .unwrap();
        let json: String =
            conn.query_row(&format!("SELECT {sql} FROM students AS s"), [], |r| r.get(0)).unwrap();
        assert!(json.contains(r#""extra_0":"x""#) && json.contains(r#""source_id":"1""#), "{json}");
        assert!(!json.contains("operation"), "provenance is not part of the record: {json}");
        let narrow = Table::new(EntityKind::Grades).json_object_sql("g");
        assert!(narrow.starts_with("json_object(") && !narrow.contains("json_patch"));
    }

    #[test]
    fn codes_get_two_columns() {
        let t = Table::new(EntityKind::Students);
        let i = t.columns.iter().position(|c| c.name == "grade_level").unwrap();
        assert_eq!(t.columns[i + 1].name, "grade_level_original");
        assert!(t.create_sql().contains("\"birth_date\" TEXT"));
        assert!(Table::new(EntityKind::SchoolEnrollments).create_sql().contains("\"primary\" INTEGER"));
        assert!(Table::new(EntityKind::Grades).create_sql().contains("\"percent\" TEXT"));
    }

    #[test]
    fn the_content_select_fills_missing_columns_with_null() {
        let t = Table::new(EntityKind::Staff);
        let have: Vec<String> =
            t.columns.iter().filter(|c| c.name != "username").map(|c| c.name.clone()).collect();
        let sql = t.select_content_sql(&have);
        assert!(sql.contains("NULL") && !sql.contains("\"username\"") && !sql.contains("run_id"), "{sql}");
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&t.create_sql()).unwrap();
        conn.execute_batch(&t.index_sql(&t.indexes[0])).unwrap();
        conn.prepare(&sql).unwrap();
        conn.prepare(&t.delete_sql()).unwrap();
        conn.prepare(&t.insert_sql(true)).unwrap();
    }
}
