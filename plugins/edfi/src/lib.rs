//! The Ed-Fi ODS/API connector (Data Standard 5.2, ODS/API 7.x).
//!
//! The sink keeps the records it is given, maps them at `prepare` into
//! Ed-Fi resources ([`map`]) in dependency order, checks every descriptor
//! value they use against the ODS before any write, and POSTs them (an
//! upsert by natural key) with bounded concurrency; each record is created,
//! updated, or rejected with the API's message. It is not transactional:
//! what was written stays written, whatever the run does next. The source
//! reads the resources back for `ferry verify`. See `README.md`.

mod api;
pub mod descriptors;
pub mod map;
pub mod settings;
mod sink;
pub mod source;

use ferry_sdk::{Error, OpenContext, Plugin, Sink, Source};

/// The Ed-Fi plugin.
pub struct EdFiPlugin;

impl Plugin for EdFiPlugin {
    const MANIFEST: &'static str = r#"
id = "edfi"
description = "Writes a district to an Ed-Fi ODS/API (Data Standard 5.2, ODS/API 7.x) by natural key, in dependency order, and reads it back for ferry verify"
capabilities = ["source", "sink"]
location = "base_url"
dry_run = true
transactional = false
entities = [
    "orgs", "academic_sessions", "students", "staff", "courses", "sections", "section_staff",
    "school_enrollments", "section_enrollments", "grades", "attendance", "academic_records",
]

[destination]
requires = [
    "students.birth_date", "school_enrollments.grade_level", "academic_sessions.org_id",
    "section_staff.role",
]
# What the source returns when it reads the ODS back (ferry verify compares these).
read_back = [
    "orgs.kind", "orgs.name", "orgs.parent_id",
    "academic_sessions.title", "academic_sessions.start_date", "academic_sessions.end_date",
    "academic_sessions.org_id",
    "courses.course_number", "courses.title",
    "students.first_name", "students.middle_name", "students.last_name", "students.birth_date",
    "staff.first_name", "staff.middle_name", "staff.last_name",
    "sections.course_id",
    "school_enrollments.student_id", "school_enrollments.school_id", "school_enrollments.entry_date",
    "school_enrollments.exit_date", "school_enrollments.grade_level", "school_enrollments.primary",
    "section_enrollments.student_id", "section_enrollments.section_id", "section_enrollments.exit_date",
    "section_staff.section_id", "section_staff.staff_id", "section_staff.end_date",
]
[destination.accepts]
"orgs.kind" = ["district", "school"]
"grades.kind" = ["term", "final", "transcript"]

[config.base_url]
type = "string"
required = true
description = "The API's base URL (https://host/api), holding oauth/token and data/v3. A bare location (--to edfi:URL) fills it."

[config.oauth_url]
type = "string"
description = "The token endpoint, when not {base_url}/oauth/token."

[config.data_url]
type = "string"
description = "The data path, when not {base_url}/data/v3 (a tenant or school-year route: {base_url}/2025/data/v3)."

[config.client_id]
type = "string"
required = true
description = "The OAuth2 client id (the API key)."

[config.client_secret]
type = "string"
required = true
secret = true
description = "The OAuth2 client secret: give it as { env = \"VAR\" } or { file = \"path\" }."

[config.data_standard]
type = "string"
description = "The Ed-Fi Data Standard written: \"5.2\" (the default, and the only one built)."

[config.namespace]
type = "string"
description = "The descriptor namespace (default uri://ed-fi.org)."

[config.descriptor_namespaces]
type = "table"
description = "Per descriptor, another namespace: { GradeLevelDescriptor = \"uri://state.example.org\" }."

[config.descriptor_codes]
type = "table"
description = "Per descriptor, canonical code -> code value, over the defaults: [descriptor_codes.AttendanceEventCategoryDescriptor] absent = \"Excused Absence\"."

[config.student_unique_id]
type = "string"
description = "Which id is the studentUniqueId: number (students.student_number, the default), state_id or source_id."

[config.staff_unique_id]
type = "string"
description = "Which id is the staffUniqueId: number (staff.staff_number, the default), state_id or source_id."

[config.education_organization_ids]
type = "table"
description = "Org source id -> Ed-Fi education organization id, over the default (the org's identifier, else its source id, when an integer)."

[config.concurrency]
type = "integer"
description = "Requests in flight at once (default 8)."

[config.max_retries]
type = "integer"
description = "Retries of a request that failed retryably: 429 (after its Retry-After), 5xx, a lost connection (default 4)."

[config.timeout_seconds]
type = "integer"
description = "Seconds one request may take (default 60)."

[config.page_size]
type = "integer"
description = "Source: records per GET page (default 500, the ODS/API's maximum)."

[config.system]
type = "string"
description = "Source: the source system stamped on the records read back (default edfi)."

[config.receipts]
type = "string"
description = "Source: the receipts of the run that wrote the ODS (its ferry-receipts.jsonl), which give the records read back their source ids; without them a record's id is its natural key."
"#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(source::EdFiSource::open(ctx)?))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(sink::EdFiSink::open(ctx)?))
    }
}

ferry_sdk::export_plugin!(EdFiPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_valid() {
        let m = ferry_sdk::testkit::manifest::<EdFiPlugin>().unwrap();
        assert_eq!(m.id, "edfi");
        assert!(m.is_sink());
        assert!(m.is_source());
        assert!(!m.destination.read_back.is_empty());
        assert!(!m.transactional, "an API sink cannot undo its writes");
        assert!(m.dry_run);
        assert!(m.config["client_secret"].secret);
    }
}
