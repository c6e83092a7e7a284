//! Configuration of the source and the sink (see the crate's `README.md`).

use std::collections::BTreeMap;

use ferry_sdk::serde::Deserialize;
use ferry_sdk::text::{DateFormat, Delimiter, DialectOverride, EncodingChoice};

/// The source's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
pub struct SourceConfig {
    /// The folder of export files (relative to the job file).
    pub directory: String,
    /// Dialect keys applied to every file, over what is sniffed.
    #[serde(default)]
    pub dialect: Option<DialectOverride>,
    /// Per-file settings, keyed by file name.
    #[serde(default)]
    pub files: BTreeMap<String, FileConfig>,
    /// Two-digit years below this are 20yy, the others 19yy (default 50).
    #[serde(default)]
    pub two_digit_year_pivot: Option<u8>,
    /// Keep each decoded row in `meta.origin.raw` (default true).
    #[serde(default = "yes")]
    pub keep_raw_rows: bool,
    /// The month a school year starts in, for school years derived from
    /// dates (default 7, July).
    #[serde(default = "july")]
    pub school_year_start_month: u32,
    /// Contacts from the legacy Students fields (Mother, Father, Guardian,
    /// Emerg_Contact_n): `auto` (only when there is no Person export),
    /// `always` or `never`.
    #[serde(default)]
    pub legacy_contacts: LegacyContacts,
    /// File names to leave alone.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Bring in the secrets a full export holds (social security numbers,
    /// web passwords, locker combinations), which are left out by default.
    #[serde(default)]
    pub include_secrets: bool,
    /// Attendance code (`Att_Code`) → canonical category, over the rules
    /// based on `Presence_Status_CD` and the description.
    #[serde(default)]
    pub attendance_codes: BTreeMap<String, String>,
    /// Entry code → canonical entry kind, over the rules based on the Gen
    /// descriptions.
    #[serde(default)]
    pub entry_codes: BTreeMap<String, String>,
    /// Exit code → canonical exit kind.
    #[serde(default)]
    pub exit_codes: BTreeMap<String, String>,
    /// StudentRace `RaceCD` → one of `american_indian_or_alaska_native`,
    /// `asian`, `black_or_african_american`,
    /// `native_hawaiian_or_other_pacific_islander`, `white`,
    /// `hispanic_or_latino`.
    #[serde(default)]
    pub race_codes: BTreeMap<String, String>,
    /// API mode (`directory` is a URL): the OAuth client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// API mode: the OAuth client secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// API mode: requests in flight at once (default 4).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// API mode: rows per page (default: the server's maximum).
    #[serde(default)]
    pub page_size: Option<u64>,
    /// API mode: schema tables to read beyond the default ones, or a
    /// projection for a default one: table name → projection (`*`, or
    /// columns separated by commas).
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// API mode: named PowerQueries to read.
    #[serde(default)]
    pub powerqueries: BTreeMap<String, PowerQueryConfig>,
    /// API mode: pick an interrupted read up where it stopped.
    #[serde(default)]
    pub resume: bool,
    /// API mode: the owner-only folder holding the staged pages and the
    /// resume state (relative to the job file).
    #[serde(default)]
    pub state_dir: Option<String>,
    /// API mode: retries of a request that failed retryably (default 5).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// API mode: seconds one request may take (default 60).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// API mode: a table whose rows read differ from its `/count`.
    #[serde(default)]
    pub count_check: CountCheck,
}

/// One PowerQuery read in API mode.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
pub struct PowerQueryConfig {
    /// The PowerSchool table its rows are (mapped as that table's rows,
    /// read in place of the table); without it, the staged file is
    /// recognised by its column names, or kept as a source table.
    #[serde(default)]
    pub table: Option<String>,
    /// The query's arguments (the JSON body).
    #[serde(default)]
    pub arguments: Option<ferry_sdk::serde_json::Value>,
}

/// What a row count that differs from the API's `/count` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "ferry_sdk::serde", rename_all = "lowercase")]
pub enum CountCheck {
    /// Stops the read, naming the table.
    #[default]
    Error,
    /// A warning naming the table; the rows read go on.
    Warn,
}

fn yes() -> bool {
    true
}

fn july() -> u32 {
    7
}

/// When contacts come from the legacy Students fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "ferry_sdk::serde", rename_all = "lowercase")]
pub enum LegacyContacts {
    /// When no Person export is in the folder.
    #[default]
    Auto,
    /// Always (a district that never moved to the Person model, or both).
    Always,
    /// Never: the fields stay in the student's extensions.
    Never,
}

/// Settings of one file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
pub struct FileConfig {
    /// The PowerSchool table (`Students`, `CC`, `Attendance_Code`…).
    pub table: Option<String>,
    /// Column names: for a file without a header line (then `header`
    /// defaults to false), or to replace the header's names.
    pub columns: Option<Vec<String>>,
    /// Whether the first line is a header.
    pub header: Option<bool>,
    /// Field delimiter.
    pub delimiter: Option<Delimiter>,
    /// Whether `"` quotes fields.
    pub quoting: Option<bool>,
    /// Encoding: `auto`, `utf-8`, `windows-1252`…
    pub encoding: Option<EncodingChoice>,
    /// Date formats, tried in order.
    pub date_formats: Option<Vec<DateFormat>>,
    /// Skip this file.
    #[serde(default)]
    pub ignore: bool,
}

impl FileConfig {
    /// The dialect keys this file sets.
    pub fn dialect(&self) -> DialectOverride {
        let header = self.header.or_else(|| self.columns.as_ref().map(|_| false));
        DialectOverride {
            delimiter: self.delimiter,
            quoting: self.quoting,
            header,
            columns: self.columns.clone(),
            encoding: self.encoding,
            date_formats: self.date_formats.clone(),
            ..DialectOverride::default()
        }
    }
}

/// The sink's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
pub struct SinkConfig {
    /// The folder the import files are written to (created if missing).
    pub directory: String,
    /// `utf-8` (default) or `windows-1252`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// `crlf` (default, what Windows import tools expect) or `lf`.
    #[serde(default)]
    pub line_ending: Option<String>,
}

/// The source configuration, checked and resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Keep decoded rows in `meta.origin.raw`.
    pub keep_raw: bool,
    /// First month of a school year.
    pub start_month: u32,
    /// Read contacts from the legacy Students fields.
    pub legacy_contacts: bool,
    /// Configured attendance categories by `Att_Code`.
    pub attendance_codes: BTreeMap<String, ferry_sdk::model::AttendanceCategory>,
    /// Configured entry kinds by code.
    pub entry_codes: BTreeMap<String, ferry_sdk::model::EntryKind>,
    /// Configured exit kinds by code.
    pub exit_codes: BTreeMap<String, ferry_sdk::model::ExitKind>,
    /// Configured race flags by `RaceCD`.
    pub race_codes: BTreeMap<String, &'static str>,
}

impl Settings {
    /// Checks `cfg`; `has_person` says whether a Person export is present.
    pub fn new(cfg: &SourceConfig, has_person: bool) -> Result<Settings, ferry_sdk::Error> {
        use crate::codes::{RACE_FIELDS, configured};
        if !(1..=12).contains(&cfg.school_year_start_month) {
            return Err(ferry_sdk::Error::config("school_year_start_month: give a month number, 1 to 12"));
        }
        let mut race_codes = BTreeMap::new();
        for (code, field) in &cfg.race_codes {
            let f = RACE_FIELDS
                .iter()
                .chain(std::iter::once(&"hispanic_or_latino"))
                .find(|f| **f == field.as_str())
                .ok_or_else(|| {
                    ferry_sdk::Error::config(format!(
                        "race_codes.\"{code}\": {field:?} is not one of {}, hispanic_or_latino",
                        RACE_FIELDS.join(", ")
                    ))
                })?;
            race_codes.insert(code.clone(), *f);
        }
        Ok(Settings {
            keep_raw: cfg.keep_raw_rows,
            start_month: cfg.school_year_start_month,
            legacy_contacts: match cfg.legacy_contacts {
                LegacyContacts::Always => true,
                LegacyContacts::Never => false,
                LegacyContacts::Auto => !has_person,
            },
            attendance_codes: configured(&cfg.attendance_codes, "attendance_codes")?,
            entry_codes: configured(&cfg.entry_codes, "entry_codes")?,
            exit_codes: configured(&cfg.exit_codes, "exit_codes")?,
            race_codes,
        })
    }
}
