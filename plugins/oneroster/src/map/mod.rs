//! The mapping between OneRoster CSV rows and the canonical entities, both
//! directions, field by field (the table is in the crate's README).
//!
//! Inbound ([`inbound`]): a OneRoster row, read through [`OrRow`] (header →
//! value, with its file and line), becomes canonical records plus the field
//! issues and warnings met on the way. Outbound ([`outbound`]): canonical
//! records become [`OutRow`]s (OneRoster column → value, then `metadata.*`
//! columns for what OneRoster cannot hold). No I/O here.

pub mod gradebook;
pub mod inbound;
pub mod outbound;

use ferry_sdk::model::{Date, Timestamp};

/// The OneRoster version of a package (the format crate's).
pub use ferry_oneroster::Version;

/// One data row of a OneRoster file, as the package reader gives it.
pub trait OrRow {
    /// The file, as named in the package (`users.csv`).
    fn file(&self) -> &str;
    /// The row's line in the file (the header is line 1).
    fn line(&self) -> u64;
    /// The value of a standard column, trimmed; `None` when the column is
    /// absent or the value blank.
    fn get(&self, column: &str) -> Option<&str>;
    /// The `metadata.*` columns with a value, as `(column, value)`.
    fn metadata(&self) -> Vec<(String, String)>;
}

/// A row held in memory (tests, and rows kept for a join).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemRow {
    /// The file.
    pub file: String,
    /// The line.
    pub line: u64,
    /// `(column, value)` pairs, standard and `metadata.*`.
    pub cells: Vec<(String, String)>,
}

impl MemRow {
    /// A row of `file` at `line` from pairs.
    pub fn new(file: &str, line: u64, cells: &[(&str, &str)]) -> MemRow {
        MemRow {
            file: file.to_owned(),
            line,
            cells: cells.iter().map(|(c, v)| ((*c).to_owned(), (*v).to_owned())).collect(),
        }
    }

    /// A copy of any row.
    pub fn of(row: &dyn OrRow, columns: &[&str]) -> MemRow {
        let mut cells: Vec<(String, String)> =
            columns.iter().filter_map(|c| row.get(c).map(|v| ((*c).to_owned(), v.to_owned()))).collect();
        cells.extend(row.metadata());
        MemRow { file: row.file().to_owned(), line: row.line(), cells }
    }
}

impl OrRow for MemRow {
    fn file(&self) -> &str {
        &self.file
    }
    fn line(&self) -> u64 {
        self.line
    }
    fn get(&self, column: &str) -> Option<&str> {
        self.cells.iter().find(|(c, _)| c == column).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
    fn metadata(&self) -> Vec<(String, String)> {
        self.cells
            .iter()
            .filter(|(c, v)| c.starts_with("metadata.") && !v.trim().is_empty())
            .cloned()
            .collect()
    }
}

/// A row written out: standard columns by name (the writer puts them in the
/// specification's order), then `metadata.*` columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutRow {
    /// The sourcedId.
    pub id: String,
    /// Standard columns with a value.
    pub cells: Vec<(&'static str, String)>,
    /// `metadata.*` columns with a value.
    pub metadata: Vec<(String, String)>,
}

impl OutRow {
    /// A row with sourcedId `id`.
    pub fn new(id: &str) -> OutRow {
        OutRow { id: id.to_owned(), cells: vec![("sourcedId", id.to_owned())], metadata: Vec::new() }
    }
    /// Sets a standard column (nothing when `value` is `None` or empty).
    pub fn set(&mut self, column: &'static str, value: Option<impl Into<String>>) {
        if let Some(v) = value {
            let v = v.into();
            if !v.is_empty() {
                self.cells.retain(|(c, _)| *c != column);
                self.cells.push((column, v));
            }
        }
    }
    /// The value of a standard column.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells.iter().find(|(c, _)| *c == column).map(|(_, v)| v.as_str())
    }
    /// Adds a `metadata.*` column (nothing when empty or already set).
    pub fn meta(&mut self, column: impl Into<String>, value: impl Into<String>) {
        let (c, v) = (column.into(), value.into());
        if !v.is_empty() && !self.metadata.iter().any(|(k, _)| *k == c) {
            self.metadata.push((c, v));
        }
    }
}

/// Whether `id` is a valid OneRoster GUID: under 256 characters of
/// `0-9 a-z A-Z . - _ / @`.
pub fn valid_sourced_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 256
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'@'))
}

/// An id as a OneRoster sourcedId: a valid id as it is; any other has each
/// byte outside `0-9 a-z A-Z . - _ /` written `@HH` (hex), `@` included, so
/// that different ids stay different (PowerSchool's `2400:101` becomes
/// `2400@3A101`). The caller checks the length.
pub fn encode_id(id: &str) -> std::borrow::Cow<'_, str> {
    if valid_sourced_id(id) {
        return std::borrow::Cow::Borrowed(id);
    }
    let mut out = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("@{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A list field: comma-separated items, trimmed, empties dropped.
pub fn list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
}

/// A OneRoster date (`YYYY-MM-DD`), or a full timestamp whose date is taken;
/// `Err` with the reason otherwise.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    if let Ok(d) = Date::parse_iso(s) {
        return Ok(d);
    }
    if let Ok(t) = Timestamp::parse_iso(s) {
        return t.date().map_err(|e| e.to_string());
    }
    Err("not a date (YYYY-MM-DD)".to_owned())
}

/// A OneRoster DateTime; a date alone is taken as midnight UTC (real
/// packages write `2021-05-28`); `Err` with the reason otherwise.
pub fn parse_timestamp(s: &str) -> Result<(Timestamp, bool), String> {
    let s = s.trim();
    if let Ok(t) = Timestamp::parse_iso(s) {
        return Ok((t, true));
    }
    if let Ok(d) = Date::parse_iso(s) {
        return Ok((Timestamp::from_date_time(d, ferry_sdk::model::TimeOfDay::default()), false));
    }
    Err("not a DateTime (YYYY-MM-DDTHH:MM:SS.sssZ)".to_owned())
}

/// A OneRoster boolean: `true`/`false`, leniently in any case, and `1`/`0`,
/// `yes`/`no`; the second value says whether the spelling was the
/// specification's.
pub fn parse_bool(s: &str) -> Option<(bool, bool)> {
    match s.trim() {
        "true" => Some((true, true)),
        "false" => Some((false, true)),
        t if t.eq_ignore_ascii_case("true") || t == "1" || t.eq_ignore_ascii_case("yes") => {
            Some((true, false))
        }
        t if t.eq_ignore_ascii_case("false") || t == "0" || t.eq_ignore_ascii_case("no") => {
            Some((false, false))
        }
        _ => None,
    }
}

/// A DateTime as OneRoster writes it: `2012-04-23T18:25:43.511Z`.
pub fn format_timestamp(t: Timestamp) -> String {
    let micros = t.micros();
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let whole = Timestamp::from_micros(micros - micros.rem_euclid(1_000_000));
    let s = whole.to_string();
    // `Timestamp` prints `YYYY-MM-DDTHH:MM:SSZ` for whole seconds.
    format!("{}.{millis:03}Z", s.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(valid_sourced_id("a-B_c.d/e@f9"));
        assert!(!valid_sourced_id("a b"));
        assert!(!valid_sourced_id(""));
        assert_eq!(list(" a, b ,,c"), ["a", "b", "c"]);
        assert_eq!(parse_date("2021-05-28").unwrap().to_string(), "2021-05-28");
        assert_eq!(parse_date("2021-05-28T10:00:00Z").unwrap().to_string(), "2021-05-28");
        assert!(parse_date("5/28/2021").is_err());
        assert_eq!(parse_bool("TRUE"), Some((true, false)));
        assert_eq!(parse_bool("false"), Some((false, true)));
        assert_eq!(parse_bool("maybe"), None);
        let (t, full) = parse_timestamp("2012-04-23T18:25:43.511Z").unwrap();
        assert!(full);
        assert_eq!(format_timestamp(t), "2012-04-23T18:25:43.511Z");
        let (t, full) = parse_timestamp("2017-09-21").unwrap();
        assert!(!full);
        assert_eq!(format_timestamp(t), "2017-09-21T00:00:00.000Z");
    }
}
