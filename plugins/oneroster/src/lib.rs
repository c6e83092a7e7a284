//! The OneRoster 1.1 / 1.2 CSV connector: reads a package (zip or folder)
//! into the canonical model and writes one from it. The package format
//! itself (files, columns, reading, validating, writing) is the
//! `ferry-oneroster` crate's; this crate is the mapping ([`map`]) and the
//! connector. See the crate's `README.md` for the mapping, field by field.

pub mod map;
mod package;
mod sink;
mod source;

use ferry_sdk::{Error, OpenContext, Plugin, Sink, Source};

/// The OneRoster plugin.
pub struct OneRosterPlugin;

impl Plugin for OneRosterPlugin {
    const MANIFEST: &'static str = r#"
id = "oneroster"
description = "Reads and writes OneRoster 1.1 and 1.2 CSV packages (zip or folder; bulk and delta when reading, bulk or delta when writing)"
capabilities = ["source", "sink"]
location = "path"
dry_run = true
entities = [
    "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
    "courses", "sections", "section_staff", "section_enrollments", "staff_assignments",
    "line_item_categories", "line_items", "line_item_results",
]

[destination]
entities = [
    "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
    "courses", "sections", "section_staff", "section_enrollments", "staff_assignments",
    "line_item_categories", "line_items", "line_item_results",
]
requires = [
    "orgs.kind", "courses.org_id", "sections.school_id", "sections.session_ids",
    "section_enrollments.student_id", "section_enrollments.section_id",
    "section_staff.staff_id", "section_staff.section_id",
]
[destination.accepts]
"academic_sessions.kind" = ["schoolYear", "semester", "term", "gradingPeriod"]
"students.grade_level" = ["IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "PS", "UG"]
"students.sex" = ["male", "female", "unspecified", "notReported"]

[config.path]
type = "string"
required = true
description = "Source: the package, a .zip or a folder. Sink: where the package is written: a path ending in .zip is a zip file, anything else a folder (see zip). Relative to the job file. A bare location (--from oneroster:PKG, --to oneroster:out.zip) fills it."

[config.system]
type = "string"
description = "Source: the source system name stamped on every record (default \"oneroster\")."

[config.version]
type = "string"
description = "Source: the version to read a package as when its manifest does not say (1.1 or 1.2). Sink: the version written, \"1.2\" (default) or \"1.1\"."

[config.zip]
type = "boolean"
description = "Sink: write a zip file (true) or a folder (false); default: by the path's extension (.zip)."

[config.delta]
type = "boolean"
description = "Sink: write a delta package (every row with status active or tobedeleted and its dateLastModified; records to delete are written as tobedeleted). Default false: a bulk package, in which records to delete are left out."

[config.against]
type = "string"
description = "Sink: a previous package (zip or folder) to write a delta against: rows it holds as they are now are left out, rows of records this run no longer has are written as tobedeleted (with their previous values), the rest as active. Only the files this run writes are compared. Implies delta = true."
"#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(source::OneRosterSource::open(ctx)?))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(sink::OneRosterSink::open(ctx)?))
    }
}

ferry_sdk::export_plugin!(OneRosterPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_valid() {
        let m = ferry_sdk::testkit::manifest::<OneRosterPlugin>().unwrap();
        assert_eq!(m.id, "oneroster");
        assert!(m.is_source() && m.is_sink());
        assert_eq!(m.location.as_deref(), Some("path"));
        for key in ["path", "system", "version", "zip", "delta", "against"] {
            assert!(m.config.contains_key(key), "{key}");
        }
        assert_eq!(m.destination.entities, m.entities);
    }
}
