//! The archive's schema, generated from the canonical model's field tables
//! (`EntityKind::fields()`): a new model field becomes a new column with no
//! hand edit here (existing archives get it with `ALTER TABLE ADD COLUMN` the
//! next time a run writes to them).
//!
//! One table per entity, named after `EntityKind::name()`:
//!
//! | columns | content |
//! | --- | --- |
//! | `source_system`, `source_id` | the natural key (unique together; the upsert target) |
//! | one per canonical field | typed by `FieldType`: TEXT, INTEGER, REAL, INTEGER 0/1 for booleans, ISO-8601 TEXT for dates, JSON array TEXT for lists |
//! | `<code field>`, `<code field>_original` | a code: its canonical value and the source's original value |
//! | `alt_ids`, `extensions` | JSON objects (usable with `json_extract` / `json_each`) |
//! | `origin_file`, `origin_line`, `source_row` | where the record was read, and the raw source row |
//! | `run_id` | the run that last wrote the row |
//!
//! See `docs/archive.md` for the full description.

use std::fmt::Write as _;

use ferry_sdk::model::{EntityKind, FieldDef, FieldType};

/// The version of the archive layout (meta columns, metadata tables, naming
/// rules). New model fields do not change it; a change that an older Ferry
/// could not read correctly does.
pub const SCHEMA_VERSION: i64 = 1;

/// `PRAGMA application_id` of every archive ("FRRY"), so `file(1)`-style tools
/// can tell a Ferry archive from another SQLite database.
pub const APPLICATION_ID: i32 = 0x4652_5259;

/// The value of the `format` key in `ferry_meta`.
pub const FORMAT: &str = "ferry-archive";

/// The key/value table naming the archive format and schema version.
pub const META_TABLE: &str = "ferry_meta";

/// The table with one row per committed run.
pub const RUNS_TABLE: &str = "ferry_runs";

/// The view with every archived record about each student.
pub const STUDENT_VIEW: &str = "student_records";

/// Source system column.
pub const SOURCE_SYSTEM: &str = "source_system";
/// Source id column.
pub const SOURCE_ID: &str = "source_id";
/// Alternative ids column (JSON object).
pub const ALT_IDS: &str = "alt_ids";
/// Extensions column (JSON object).
pub const EXTENSIONS: &str = "extensions";
/// Source file column.
pub const ORIGIN_FILE: &str = "origin_file";
/// Source line column.
pub const ORIGIN_LINE: &str = "origin_line";
/// Raw source row column.
pub const SOURCE_ROW: &str = "source_row";
/// Run id column.
pub const RUN_ID: &str = "run_id";

/// Suffix of the column holding a code's original value.
pub const ORIGINAL_SUFFIX: &str = "_original";

/// What a column holds.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    /// `Meta::source.system`.
    SourceSystem,
    /// `Meta::source.id`.
    SourceId,
    /// A canonical field; for a code, its canonical value.
    Field(&'static FieldDef),
    /// The original value of a code field.
    CodeOriginal(&'static FieldDef),
    /// `Meta::alt_ids` as a JSON object.
    AltIds,
    /// `Meta::ext` as a JSON object.
    Extensions,
    /// `Origin::file`.
    OriginFile,
    /// `Origin::line`.
    OriginLine,
    /// `Origin::raw`.
    SourceRow,
    /// The run that last wrote the row.
    RunId,
}

/// One column of an entity table.
#[derive(Clone, Debug)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// SQL type (`TEXT`, `INTEGER`, `REAL`).
    pub sql_type: &'static str,
    /// Declared `NOT NULL`.
    pub not_null: bool,
    /// What it holds.
    pub role: Role,
}

impl Column {
    fn meta(name: &str, sql_type: &'static str, not_null: bool, role: Role) -> Column {
        Column { name: name.to_owned(), sql_type, not_null, role }
    }

    /// One line of documentation.
    pub fn doc(&self) -> String {
        match self.role {
            Role::SourceSystem => "The system the record came from (with `source_id`: the natural key).".into(),
            Role::SourceId => "The record's id in that system, leading zeros kept.".into(),
            Role::Field(f) => {
                let ty = match f.ty {
                    FieldType::Date => " ISO-8601 date.",
                    FieldType::Bool => " 0 or 1.",
                    FieldType::List => " JSON array of text.",
                    FieldType::Code(_) => " Canonical code.",
                    _ => "",
                };
                format!("{}{}{}", f.doc.trim(), ty, if f.pii { " Personal data." } else { "" })
            }
            Role::CodeOriginal(f) => format!("`{}` exactly as the source system gave it.", f.name),
            Role::AltIds => "Other identifiers, JSON object `{\"kind\": \"value\"}` (state, dcid…).".into(),
            Role::Extensions => {
                "Every source field the model has no slot for, JSON object `{\"field\": \"value\"}` in source order."
                    .into()
            }
            Role::OriginFile => "The source file the record was read from.".into(),
            Role::OriginLine => "The 1-based line of the record in that file.".into(),
            Role::SourceRow => "The source row as decoded text, when the source kept it.".into(),
            Role::RunId => "The run that last wrote this row (see `ferry_runs`).".into(),
        }
    }
}

/// An index of an entity table.
#[derive(Clone, Debug)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// Indexed columns, in order.
    pub columns: Vec<&'static str>,
    /// Whether it is the unique natural key.
    pub unique: bool,
    /// Rows whose first column is NULL are left out (a partial index): an
    /// optional reference such as `section_id` costs nothing where it is
    /// empty, and `col = value` lookups use the index all the same.
    pub skip_nulls: bool,
}

/// The indexes people search by. Each group lists alternatives: the entity
/// gets the first one whose columns it all has (a student's attendance is
/// searched by student and date, a transcript by student and year).
const LOOKUPS: &[&[&[&str]]] = &[
    &[&["student_number"]],
    &[&["staff_number"]],
    &[&["state_id"]],
    &[&["last_name", "first_name"]],
    &[&["identifier"]],
    &[&["course_number"]],
    &[&["person_id"]],
    &[
        &["student_id", "date"],
        &["student_id", "entry_date"],
        &["student_id", "school_year"],
        &["student_id"],
    ],
    &[&["school_id", "date"], &["school_id", "entry_date"], &["school_id"]],
    &[&["school_id", "exit_date"]],
    &[&["section_id"]],
    &[&["course_id"]],
    &[&["contact_id"]],
    &[&["staff_id"]],
    &[&["org_id"]],
    &[&["session_id"]],
];

/// Quotes an SQL identifier.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The schema of one entity table.
#[derive(Clone, Debug)]
pub struct Table {
    /// The entity.
    pub entity: EntityKind,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// Indexes; the first is the unique natural key.
    pub indexes: Vec<Index>,
}

impl Table {
    /// The table of `entity`, from the model's field table.
    pub fn new(entity: EntityKind) -> Table {
        let name = entity.name();
        let mut columns = vec![
            Column::meta(SOURCE_SYSTEM, "TEXT", true, Role::SourceSystem),
            Column::meta(SOURCE_ID, "TEXT", true, Role::SourceId),
        ];
        for f in entity.fields() {
            let sql_type = match f.ty {
                FieldType::Int | FieldType::Bool => "INTEGER",
                FieldType::Number => "REAL",
                FieldType::Text | FieldType::Date | FieldType::List | FieldType::Code(_) => "TEXT",
            };
            columns.push(Column { name: f.name.to_owned(), sql_type, not_null: false, role: Role::Field(f) });
            if matches!(f.ty, FieldType::Code(_)) {
                columns.push(Column {
                    name: format!("{}{ORIGINAL_SUFFIX}", f.name),
                    sql_type: "TEXT",
                    not_null: false,
                    role: Role::CodeOriginal(f),
                });
            }
        }
        columns.extend([
            Column::meta(ALT_IDS, "TEXT", false, Role::AltIds),
            Column::meta(EXTENSIONS, "TEXT", false, Role::Extensions),
            Column::meta(ORIGIN_FILE, "TEXT", false, Role::OriginFile),
            Column::meta(ORIGIN_LINE, "INTEGER", false, Role::OriginLine),
            Column::meta(SOURCE_ROW, "TEXT", false, Role::SourceRow),
            Column::meta(RUN_ID, "TEXT", true, Role::RunId),
        ]);
        let mut indexes = vec![Index {
            name: format!("{name}_key"),
            columns: vec![SOURCE_SYSTEM, SOURCE_ID],
            unique: true,
            skip_nulls: false,
        }];
        for group in LOOKUPS {
            let has = |c: &&str| entity.fields().iter().any(|f| f.name == *c);
            if let Some(spec) = group.iter().find(|spec| spec.iter().all(has)) {
                let required = entity.fields().iter().any(|f| f.name == spec[0] && f.required);
                indexes.push(Index {
                    name: format!("{name}_by_{}", spec.join("_")),
                    columns: spec.to_vec(),
                    unique: false,
                    skip_nulls: !required,
                });
            }
        }
        Table { entity, columns, indexes }
    }

    /// The table name.
    pub fn name(&self) -> &'static str {
        self.entity.name()
    }

    /// Fails when two columns share a name (a model field named like a meta
    /// column, or `x` next to a code field `x` + `_original`).
    pub fn check_names(&self) -> Result<(), String> {
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].iter().any(|d| d.name == c.name) {
                return Err(format!(
                    "the canonical model gives table '{}' two columns named '{}'; rename the model field",
                    self.name(),
                    c.name
                ));
            }
        }
        Ok(())
    }

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
    pub fn add_column_sql(&self, c: &Column) -> String {
        // Columns added later cannot be NOT NULL without a default; only meta
        // columns are NOT NULL and those exist since schema version 1.
        format!("ALTER TABLE {} ADD COLUMN {} {}", quote(self.name()), quote(&c.name), c.sql_type)
    }

    /// `CREATE INDEX IF NOT EXISTS` for `idx`.
    pub fn index_sql(&self, idx: &Index) -> String {
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

    /// The insert statement, with `?1…?n` in column order. With `upsert`, an
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
            let _ = write!(
                s,
                " ON CONFLICT ({}, {}) DO UPDATE SET {}",
                quote(SOURCE_SYSTEM),
                quote(SOURCE_ID),
                sets.join(", ")
            );
        }
        s
    }

    /// A `json_object(…)` of every column of the row aliased `alias` except
    /// origin, source row and run id, with JSON columns nested. SQLite caps a
    /// function at 127 arguments, so a wide table is built in chunks merged
    /// with `json_patch` (which leaves out the null members of later chunks).
    pub fn json_object_sql(&self, alias: &str) -> String {
        const PAIRS_PER_CALL: usize = 60;
        let mut parts = Vec::new();
        for c in &self.columns {
            let col = format!("{alias}.{}", quote(&c.name));
            let value = match c.role {
                Role::OriginFile | Role::OriginLine | Role::SourceRow | Role::RunId => continue,
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

    /// Whether the entity has a field called `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.entity.fields().iter().any(|f| f.name == name)
    }
}

/// Every entity table, in dependency order.
pub fn tables() -> Vec<Table> {
    EntityKind::ALL.iter().map(|e| Table::new(*e)).collect()
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
);"
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
             {x}.source_id AS record_id, {x}.origin_file AS origin_file, {x}.origin_line AS origin_line, \
             {x}.source_row AS source_row, "
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
    if let (Some(links), Some(contacts)) = (find(EntityKind::StudentContacts), find(EntityKind::Contacts)) {
        if links.has_field("student_id") && links.has_field("contact_id") {
            parts.push(format!(
                "{}{} AS record\nFROM students AS s JOIN student_contacts AS l ON l.source_system = s.source_system AND l.student_id = s.source_id \
                 JOIN contacts AS x ON x.source_system = l.source_system AND x.source_id = l.contact_id",
                head("contacts", "x"),
                contacts.json_object_sql("x")
            ));
        }
    }
    Some(format!("CREATE VIEW {STUDENT_VIEW} AS\n{}", parts.join("\nUNION ALL\n")))
}

/// The generated part of `docs/archive.md`: every entity table with its
/// columns and indexes.
pub fn describe_markdown() -> String {
    let mut s = String::new();
    for t in tables() {
        let _ = writeln!(s, "#### `{}`\n\n| column | type | content |\n| --- | --- | --- |", t.name());
        for c in &t.columns {
            let ty = format!("{}{}", c.sql_type, if c.not_null { " NOT NULL" } else { "" });
            let _ = writeln!(s, "| `{}` | {ty} | {} |", c.name, c.doc().replace('|', "\\|"));
        }
        let idx: Vec<String> = t
            .indexes
            .iter()
            .map(|i| {
                let kind = if i.unique {
                    " (unique)"
                } else if i.skip_nulls {
                    " (where set)"
                } else {
                    ""
                };
                format!("`{}`{kind}", i.columns.join(", "))
            })
            .collect();
        let _ = writeln!(s, "\nIndexes: {}.\n", idx.join("; "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_has_distinct_column_names() {
        for t in tables() {
            t.check_names().unwrap();
            assert_eq!(t.columns[0].name, SOURCE_SYSTEM);
            assert!(t.indexes[0].unique);
        }
    }

    #[test]
    fn indexes_cover_the_keys_people_search_by() {
        let names = |e: EntityKind| -> Vec<String> {
            Table::new(e).indexes.into_iter().map(|i| i.columns.join(",")).collect()
        };
        let students = names(EntityKind::Students);
        for want in ["student_number", "state_id", "last_name,first_name", "school_id"] {
            assert!(students.contains(&want.to_owned()), "{students:?}");
        }
        let att = names(EntityKind::Attendance);
        assert!(
            att.contains(&"student_id,date".to_owned()) && att.contains(&"school_id,date".to_owned()),
            "{att:?}"
        );
        assert!(!att.contains(&"student_id".to_owned()), "covered by student_id,date: {att:?}");
        let enr = names(EntityKind::SchoolEnrollments);
        assert_eq!(
            enr,
            [
                "source_system,source_id",
                "student_id,entry_date",
                "school_id,entry_date",
                "school_id,exit_date"
            ]
        );
        let grades = names(EntityKind::Grades);
        assert!(grades.contains(&"student_id,school_year".to_owned()), "{grades:?}");
    }

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
            "INSERT INTO students (source_system, source_id, extra_0, run_id) VALUES ('a', '1', 'x', 'r')",
            [],
        )
        .unwrap();
        let json: String =
            conn.query_row(&format!("SELECT {sql} FROM students AS s"), [], |r| r.get(0)).unwrap();
        assert!(json.contains(r#""extra_0":"x""#) && json.contains(r#""source_id":"1""#), "{json}");
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
    }
}
