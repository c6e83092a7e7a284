//! The PowerSchool connector.
//!
//! As a source it reads a folder of PowerSchool text exports (Quick Export,
//! Data Export Manager, DDE, AutoSend: any header style, delimiter, quoting,
//! line ending and encoding) into the canonical model. As a sink it writes
//! the tab-delimited files PowerSchool's import tools take, with a generated
//! `IMPORT-GUIDE.md`. See the crate's `README.md` for the configuration, the
//! id rules and code mappings.
//!
//! Built on [`ferry_sdk`] only.
//!
//! Code map:
//! - `source`: the read, pass by pass; `source::handlers` is the table of
//!   per-table handlers (each PowerSchool table's passes: when they run,
//!   what they count, the columns they read, how they map a row);
//! - `map`: the mappers, one module per concern (schools, courses,
//!   students, staff, the Person model, other contacts, enrollments, grades,
//!   attendance, the joins activity rows share, and the district tables:
//!   the code tables, calendars, co-teachers, staff assignments, class
//!   ranks, programs, discipline and log entries, assessments);
//! - `files`, `header`, `tables`: finding the files, their dialect, headers
//!   and table; `columns`, `fields`, `row`, `ids`: a row as a mapper sees it;
//!   `lookups`: the join lookups, rejected parents included;
//! - `sink`: the import files, kept records, late rejects, dry runs and
//!   `IMPORT-GUIDE.md`.

mod api;
mod codes;
mod columns;
mod config;
mod fields;
mod files;
mod header;
mod ids;
mod lookups;
mod map;
mod row;
mod secrets;
mod sink;
pub mod source;
mod tables;
mod values;

/// The file finder and table recognizer, for the fuzz targets
/// (`fuzz/`) and their regression tests (`crates/ferry-fuzz-checks`). Not
/// part of the connector's interface.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::config::SourceConfig;
    pub use crate::files::{FileSpec, discover};
    pub use crate::tables::Table;
}

use ferry_sdk::{Error, OpenContext, Plugin, Sink, Source};

/// The PowerSchool plugin.
pub struct PowerSchoolPlugin;

impl Plugin for PowerSchoolPlugin {
    const MANIFEST: &'static str = r#"
id = "powerschool"
description = "PowerSchool SIS: reads a folder of PowerSchool text exports or a live PowerSchool through its REST API; writes PowerSchool import files"
capabilities = ["source", "sink"]
entities = [
    "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
    "courses", "sections", "section_staff", "school_enrollments", "section_enrollments", "grades", "attendance",
    "code_values", "class_periods", "bell_schedules", "bell_schedule_periods", "calendar_days",
    "staff_assignments", "academic_records", "gpas",
    "programs", "program_participations", "discipline_incidents", "discipline_participants", "discipline_actions",
    "log_entries", "assessments", "student_assessments", "assessment_scores",
]
location = "directory"
dry_run = true

# What PowerSchool's import needs, for `ferry plan check`.
[destination]
entities = [
    "orgs", "academic_sessions", "students", "staff", "contacts", "student_contacts", "demographics",
    "courses", "sections", "section_staff", "school_enrollments", "section_enrollments", "grades", "attendance",
]
requires = [
    "students.student_number", "students.first_name", "students.last_name", "students.birth_date",
    "students.grade_level", "students.school_id", "school_enrollments.entry_date", "school_enrollments.school_id",
]
[destination.accepts]
"students.grade_level" = ["PR", "IT", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
"school_enrollments.grade_level" = ["PR", "IT", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]

[config.directory]
type = "string"
required = true
description = "Source: the folder of export files, or the PowerSchool server's https:// URL to read it through its REST API (API mode). Sink: the folder the import files are written to. Relative to the job file. A bare location (--from powerschool:DIR, --to powerschool:DIR) fills it; every other key has a default."

[config.dialect]
type = "table"
description = "Source: dialect keys for every file, over what is sniffed: delimiter, quoting, header, columns, encoding (auto, utf-8, windows-1252), date_formats, two_digit_year_pivot, null_values, true_values, false_values, trim."

[config.files]
type = "table"
description = "Source: [files.\"name.txt\"] per file: table (Students, CC, Attendance_Code…), columns (for a file without a header line), header, delimiter, quoting, encoding, date_formats, ignore."

[config.two_digit_year_pivot]
type = "integer"
description = "Source: two-digit years below this are 20yy, the others 19yy (default 50)."

[config.keep_raw_rows]
type = "boolean"
description = "Source: keep each decoded row in the record's origin, for the archive (default true). Rows hold personal data."

[config.school_year_start_month]
type = "integer"
description = "Source: the month school years start in, for school years derived from dates (default 7)."

[config.legacy_contacts]
type = "string"
description = "Source: contacts from the Students Mother/Father/Guardian/Emerg_Contact fields: auto (when there is no Person export), always, never."

[config.ignore]
type = "array"
description = "Source: file names to leave alone."

[config.attendance_codes]
type = "table"
description = "Source: Att_Code = canonical category (present, excusedAbsence, unexcusedAbsence, absent, tardy, earlyDeparture), over the rules."

[config.entry_codes]
type = "table"
description = "Source: entry code = canonical entry kind (newToDistrict, transferInDistrict, transferIn, reEntry, continuing)."

[config.exit_codes]
type = "table"
description = "Source: exit code = canonical exit kind (graduated, endOfYear, transferInDistrict, transferOut, dropout, deceased, expelled)."

[config.race_codes]
type = "table"
description = "Source: RaceCD = race field (white, asian, black_or_african_american, american_indian_or_alaska_native, native_hawaiian_or_other_pacific_islander, hispanic_or_latino)."

[config.client_id]
type = "string"
description = "Source, API mode (directory is an https:// URL): the OAuth client id of the PowerSchool plugin granting API access."

[config.client_secret]
type = "string"
secret = true
description = "Source, API mode: the OAuth client secret; give it as { env = \"VAR\" } or { file = \"path\" }."

[config.concurrency]
type = "integer"
description = "Source, API mode: requests (pages) in flight at once (default 4, at most 64)."

[config.page_size]
type = "integer"
description = "Source, API mode: rows per page (default, and at most, the server's schema_table_query_max_page_size from /ws/v1/metadata)."

[config.tables]
type = "table"
description = "Source, API mode: table = projection (\"*\" or columns separated by commas), for schema tables beyond the default ones or a projection for one of them."

[config.powerqueries]
type = "table"
description = "Source, API mode: [powerqueries.\"com.org.query\"] table = \"Students\" (the table its rows are, read in place of that table; else recognised by its column names, or kept as a source table), arguments = { … } (the JSON body)."

[config.resume]
type = "boolean"
description = "Source, API mode: pick an interrupted read up at its first page not read (--from-set resume=true)."

[config.state_dir]
type = "string"
description = "Source, API mode: the owner-only folder for the pages read and the resume state (default ferry-powerschool-api, relative to the job file); emptied when the read ends."

[config.max_retries]
type = "integer"
description = "Source, API mode: retries of a request that failed retryably: 429 (after its Retry-After), 5xx, a lost connection (default 5)."

[config.timeout_seconds]
type = "integer"
description = "Source, API mode: seconds one request may take (default 60)."

[config.count_check]
type = "string"
description = "Source, API mode: a table whose rows read differ from its /count: error (the default) or warn."

[config.encoding]
type = "string"
description = "Sink: utf-8 (default) or windows-1252."

[config.line_ending]
type = "string"
description = "Sink: crlf (default) or lf."
"#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(source::PowerSchoolSource::open(ctx)?))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(sink::PowerSchoolSink::open(ctx)?))
    }
}

ferry_sdk::export_plugin!(PowerSchoolPlugin);
