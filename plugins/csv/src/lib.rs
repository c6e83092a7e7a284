//! The generic CSV connector: reads and writes delimited text files (CSV,
//! tab-separated exports) of any canonical entity.
//!
//! As a source, each configured entity is one file whose columns are mapped
//! to canonical paths (every unmapped column is kept as an extension), or a
//! file in the sink's default layout (`layout = "canonical"`). As a sink,
//! each entity is written in the default layout or in a mapped layout such as
//! another system's import template. See the crate's `README.md` for the
//! configuration.
//!
//! Built on [`ferry_sdk::text`]; depends on nothing else of Ferry.

mod layout;
mod paths;
mod sink;
mod source;

use std::fmt::Display;

use ferry_sdk::serde::de::DeserializeOwned;
use ferry_sdk::{Error, OpenContext, Plugin, Sink, Source};

/// The CSV plugin.
pub struct CsvPlugin;

impl Plugin for CsvPlugin {
    const MANIFEST: &'static str = r#"
id = "csv"
description = "Reads and writes delimited text files (CSV, tab-separated): mapped column by column, or in Ferry's canonical layout"
capabilities = ["source", "sink"]
location = "directory"
dry_run = true
entities = [
    "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
    "courses", "sections", "section_staff", "school_enrollments", "section_enrollments", "grades", "attendance",
    "code_values", "class_periods", "bell_schedules", "bell_schedule_periods", "calendar_days",
    "staff_assignments", "academic_records", "gpas", "diplomas", "programs",
    "program_participations", "special_education_plans", "discipline_incidents",
    "discipline_participants", "discipline_actions", "log_entries", "assessments",
    "student_assessments", "assessment_scores", "line_item_categories", "line_items",
    "line_item_results",
]

[config.directory]
type = "string"
description = "Source: the folder entity files are read from (default: the job file's folder). Sink: the folder files are written to (required). Relative to the job file."

[config.system]
type = "string"
description = "Source: the source system name stamped on every record (default \"csv\"); a column mapped to source_system overrides it."

[config.keep_raw_rows]
type = "boolean"
description = "Source: keep each row's text in the record's origin (default false). Rows may hold personal data."

[config.dialect]
type = "table"
description = "How files are written. Source: delimiter, quoting, header, columns, encoding, date_formats, two_digit_year_pivot, null_values, true_values, false_values, trim. Sink: delimiter, quoting, header, encoding, date_format, line_ending, true_value, false_value."

[config.entities]
type = "table"
description = "One [entities.<entity>] table per entity. Source: file, and a [columns] mapping (\"Source Column\" = \"canonical.path\") or layout = \"canonical\"; optional [dialect] overrides. Sink: optional file and columns = [{ column, field | value, format, code }]."

[config.all_entities]
type = "boolean"
description = "Sink: also write entities not listed in [entities], in the default layout (default: true when [entities] is empty, else false)."
"#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(source::CsvSource::open(ctx)?))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(sink::CsvSink::open(ctx)?))
    }
}

ferry_sdk::export_plugin!(CsvPlugin);

/// A configuration error about `key`.
pub(crate) fn config_error(key: impl Display, message: String) -> Error {
    Error::config(format!("{key}: {message}"))
}

/// Deserializes one section of the configuration; errors name it.
pub(crate) fn parse_section<T: DeserializeOwned>(
    value: &ferry_sdk::serde_json::Value,
    key: &str,
) -> Result<T, Error> {
    ferry_sdk::parse_config(value, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_valid_and_lists_every_entity() {
        let m = ferry_sdk::testkit::manifest::<CsvPlugin>().unwrap();
        assert_eq!(m.id, "csv");
        assert!(m.is_source() && m.is_sink());
        let all: Vec<&str> = ferry_sdk::model::EntityKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(m.entities, all);
        for key in ["directory", "system", "keep_raw_rows", "dialect", "entities", "all_entities"] {
            assert!(m.config.contains_key(key), "{key}");
        }
    }
}
