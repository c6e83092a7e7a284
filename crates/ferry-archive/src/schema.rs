//! The archive's tables, generated from the canonical model's field tables
//! (`EntityKind::fields()`): a new model field becomes a new column with no
//! hand edit here (existing archives get it with `ALTER TABLE ADD COLUMN` the
//! next time a run writes to them).
//!
//! One table per entity, named after `EntityKind::name()`:
//!
//! | columns | content |
//! | --- | --- |
//! | `source_system`, `source_id` | the natural key (unique together; the upsert target) |
//! | one per canonical field | typed by `FieldType` (see [`sql_type`]) |
//! | `<code field>`, `<code field>_original` | a code: its canonical value and the source's original value |
//! | `alt_ids`, `extensions` | JSON objects (see [`crate::json`]) |
//! | `origin_file`, `origin_line`, `source_row` | where the record was read, and the raw source row |
//! | `source_table`, `source_locator`, `source_row_hash`, `source_modified_at`, `operation` | the rest of the record's provenance |
//! | `run_id` | the run that last wrote the row |
//!
//! `docs/archive.md` describes it in full ([`crate::describe_markdown`]
//! generates its table reference).

use ferry_model::{EntityKind, FieldDef, FieldType};

/// The version of the archive layout: meta columns, metadata tables, naming
/// and value encoding rules. New model fields do not change it; a change that
/// an older Ferry could not read correctly does.
///
/// 2: exact decimals as text, timestamps and times of day, the provenance
/// columns of model 2.0, extensions flagged as personal data, alternative ids
/// with their assigner.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of every archive ("FRRY"), so `file(1)`-style tools
/// can tell a Ferry archive from another SQLite database.
pub const APPLICATION_ID: i32 = 0x4652_5259;

/// The value of the `format` key in `ferry_meta`.
pub const FORMAT: &str = "ferry-archive";

/// The key/value table naming the archive format and schema version.
pub const META_TABLE: &str = "ferry_meta";

/// The table with one row per committed run.
pub const RUNS_TABLE: &str = "ferry_runs";

/// The table of the plugins each run loaded: role, id, version, the
/// library's SHA-256 and the key that signed its bundle.
pub const RUN_PLUGINS_TABLE: &str = "ferry_run_plugins";

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
/// Source table column.
pub const SOURCE_TABLE: &str = "source_table";
/// API locator column.
pub const SOURCE_LOCATOR: &str = "source_locator";
/// Source row content hash column (32 hex digits).
pub const SOURCE_ROW_HASH: &str = "source_row_hash";
/// Last-modified time column (RFC 3339).
pub const SOURCE_MODIFIED_AT: &str = "source_modified_at";
/// Operation column.
pub const OPERATION: &str = "operation";
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
    /// `Meta::table`.
    SourceTable,
    /// `Meta::locator`.
    SourceLocator,
    /// `Meta::row_hash`, as 32 lowercase hex digits.
    SourceRowHash,
    /// `Meta::modified_at`, RFC 3339 UTC.
    SourceModifiedAt,
    /// `Meta::op` of the record that last wrote the row.
    Operation,
    /// The run that last wrote the row.
    RunId,
}

/// The SQL type of a field type's column. Decimals are TEXT in their shortest
/// exact form (`'3.5'`, `'0.3333'`): REAL would round them.
pub fn sql_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Int | FieldType::Bool => "INTEGER",
        FieldType::Text
        | FieldType::Decimal
        | FieldType::Date
        | FieldType::Timestamp
        | FieldType::Time
        | FieldType::List
        | FieldType::Code(_) => "TEXT",
    }
}

/// One column of an entity table.
#[derive(Clone, Debug)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// SQL type (`TEXT`, `INTEGER`).
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
            Role::SourceSystem => {
                "The system the record came from (with `source_id`: the natural key).".into()
            }
            Role::SourceId => "The record's id in that system, leading zeros kept.".into(),
            Role::Field(f) => {
                let ty = match f.ty {
                    FieldType::Date => " ISO-8601 date.",
                    FieldType::Bool => " 0 or 1.",
                    FieldType::List => " JSON array of text.",
                    FieldType::Code(_) => " Canonical code.",
                    FieldType::Decimal => " Exact decimal as text (`'3.5'`, at most 4 places).",
                    FieldType::Timestamp => " RFC 3339 UTC timestamp.",
                    FieldType::Time => " Time of day, `HH:MM:SS`.",
                    FieldType::Text | FieldType::Int => "",
                };
                format!("{}{}{}", f.doc.trim(), ty, if f.pii { " Personal data." } else { "" })
            }
            Role::CodeOriginal(f) => format!("`{}` exactly as the source system gave it.", f.name),
            Role::AltIds => "Other identifiers, JSON object `{\"kind\": \"value\"}` (state, dcid…); an id with \
                             its assigning organisation as `{\"kind\": {\"value\": \"…\", \"assigner\": \"…\"}}`."
                .into(),
            Role::Extensions => "Every source field the model has no slot for, JSON object \
                                 `{\"field\": \"value\"}` in source order; personal data as \
                                 `{\"field\": {\"value\": \"…\", \"pii\": true}}`."
                .into(),
            Role::OriginFile => "The source file the record was read from.".into(),
            Role::OriginLine => "The 1-based line of the record in that file.".into(),
            Role::SourceRow => "The source row as decoded text, when the source kept it.".into(),
            Role::SourceTable => "The source table the record was read from (`Students`, `CC`), when the \
                                  source has tables."
                .into(),
            Role::SourceLocator => {
                "Where an API record came from (a URL, a page and index), when it did.".into()
            }
            Role::SourceRowHash => {
                "Content hash of the source row, 32 hex digits, for change detection between runs.".into()
            }
            Role::SourceModifiedAt => {
                "When the source last changed the record, RFC 3339 UTC, where it says.".into()
            }
            Role::Operation => {
                "`upsert`: the operation of the record that last wrote the row (a delete removes the row)."
                    .into()
            }
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
    &[&["program_id"]],
    &[&["incident_id"]],
    &[&["assessment_id"]],
    &[&["student_assessment_id"]],
    &[&["line_item_id"]],
    &[&["bell_schedule_id"]],
    &[&["academic_record_id"]],
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
            columns.push(Column {
                name: f.name.to_owned(),
                sql_type: sql_type(f.ty),
                not_null: false,
                role: Role::Field(f),
            });
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
            Column::meta(SOURCE_TABLE, "TEXT", false, Role::SourceTable),
            Column::meta(SOURCE_LOCATOR, "TEXT", false, Role::SourceLocator),
            Column::meta(SOURCE_ROW_HASH, "TEXT", false, Role::SourceRowHash),
            Column::meta(SOURCE_MODIFIED_AT, "TEXT", false, Role::SourceModifiedAt),
            Column::meta(OPERATION, "TEXT", true, Role::Operation),
            // Last: the row encoding of checksums leaves it out (see `crate::checksum`).
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

    /// Whether the entity has a field called `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.entity.fields().iter().any(|f| f.name == name)
    }

    /// The columns whose content a row's checksum covers: all but `run_id`,
    /// in table order.
    pub fn content_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| !matches!(c.role, Role::RunId))
    }
}

/// Every entity table, in dependency order.
pub fn tables() -> Vec<Table> {
    EntityKind::ALL.iter().map(|e| Table::new(*e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_has_distinct_column_names() {
        for t in tables() {
            t.check_names().unwrap();
            assert_eq!(t.columns[0].name, SOURCE_SYSTEM);
            assert!(matches!(t.columns.last().unwrap().role, Role::RunId));
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
        let scores = names(EntityKind::AssessmentScores);
        assert!(scores.contains(&"student_assessment_id".to_owned()), "{scores:?}");
        let days = names(EntityKind::CalendarDays);
        assert!(days.contains(&"school_id,date".to_owned()) && days.contains(&"bell_schedule_id".to_owned()));
        let results = names(EntityKind::LineItemResults);
        assert!(results.contains(&"student_id".to_owned()) && results.contains(&"line_item_id".to_owned()));
    }

    #[test]
    fn decimals_are_text_and_never_real() {
        for t in tables() {
            assert!(t.columns.iter().all(|c| c.sql_type != "REAL"), "{}", t.name());
        }
        let g = Table::new(EntityKind::Grades);
        let credits = g.columns.iter().find(|c| c.name == "credits_earned").unwrap();
        assert_eq!(credits.sql_type, "TEXT");
        assert!(credits.doc().contains("Exact decimal"), "{}", credits.doc());
    }
}
