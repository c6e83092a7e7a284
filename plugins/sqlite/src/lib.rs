//! The SQLite archive: Ferry's embedded default destination, and a source
//! that reads an archive back.
//!
//! After a migration a district keeps the old system's data in one `.sqlite`
//! file: a typed table per canonical entity (natural key `source_system` +
//! `source_id`, indexes on what people search by), every source field the
//! model has no slot for in a queryable JSON column, the raw source row with
//! its file and line, and a `ferry_runs` table with what each run wrote.
//! `docs/archive.md` describes the schema and gives example queries.
//!
//! - **Sink** (`path`, `prune_stale`): a run writes into a temporary copy in
//!   one transaction and renames it over the archive on commit; a failure, an
//!   abort or a kill leaves the previous archive exactly as it was. Records are
//!   upserted by natural key (a delete operation deletes the row), so running
//!   the same migration twice adds nothing. A dry run writes nothing and
//!   reports per entity what the run would create, update, leave unchanged
//!   or delete.
//! - **Source** (`path`, `entities`, `source_system`): reads the tables back
//!   into canonical records, meta included, streaming.
//!
//! The archive format itself (schema, value encoding, version checks,
//! checksums) is the `ferry-archive` crate, which `ferry archive` uses too;
//! this crate writes and reads it.
#![warn(missing_docs)]

mod error;
mod identity;
mod sink;
mod source;

use ferry_sdk::{Error, OpenContext, Plugin, Sink, Source};

pub use identity::WRITER;
pub use sink::ArchiveSink;
pub use source::ArchiveSource;

/// The plugin.
pub struct SqlitePlugin;

impl Plugin for SqlitePlugin {
    const MANIFEST: &'static str = r#"
        id = "sqlite"
        description = "SQLite archive: one .sqlite file with a typed table per entity that keeps every source field and row (sink), read back as canonical records (source)"
        capabilities = ["source", "sink"]
        location = "path"
        transactional = true
        dry_run = true
        entities = [
            "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
            "courses", "sections", "section_staff", "school_enrollments", "section_enrollments", "grades",
            "attendance",
            "code_values", "class_periods", "bell_schedules", "bell_schedule_periods",
            "calendar_days", "staff_assignments", "academic_records", "gpas", "diplomas",
            "programs", "program_participations", "special_education_plans", "discipline_incidents",
            "discipline_participants", "discipline_actions", "log_entries", "assessments",
            "student_assessments", "assessment_scores", "line_item_categories", "line_items",
            "line_item_results",
        ]

        [config.path]
        type = "string"
        required = true
        description = "The archive file. Sink: created when missing, otherwise updated atomically (never a file that is not a Ferry archive). Source: an existing archive."

        [config.prune_stale]
        type = "boolean"
        description = "Sink only. Default false: rows a run did not write stay in the archive (it is a backup). True: for each entity the run wrote, rows of the same source system that this run did not write are deleted, so the archive mirrors the latest export. Never for an entity the run read none of; and a run that would delete more than `prune_max_fraction` of an entity's rows is refused."

        [config.prune_max_fraction]
        type = "number"
        description = "Sink only, with prune_stale. The largest share of an entity's rows (of the run's source systems) that one run may prune; default 0.2. A run that would delete more fails before committing anything (an export missing a school, say); raise it, up to 1, when the deletion is meant."

        [config.entities]
        type = "array"
        description = "Source only. The entities to read, e.g. [\"students\", \"attendance\"]; default every entity table in the archive."

        [config.source_system]
        type = "string"
        description = "Source only. Read only the records of this source system (the archive can hold several)."
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(ArchiveSource::open(ctx)?))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(ArchiveSink::open(ctx)?))
    }
}

ferry_sdk::export_plugin!(SqlitePlugin);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_sdk::model::EntityKind;

    #[test]
    fn manifest_is_valid_and_lists_every_entity() {
        let m = ferry_sdk::testkit::manifest::<SqlitePlugin>().unwrap();
        assert_eq!(m.id, "sqlite");
        assert!(m.is_source() && m.is_sink());
        let all: Vec<&str> = EntityKind::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(m.entities, all);
        assert!(m.config["path"].required);
        assert!(m.dry_run && m.transactional);
        assert_eq!(m.location.as_deref(), Some("path"));
    }
}
