//! Text cells to canonical [`Value`]s ([`ValueParser`]) and back
//! ([`ValueFormatter`]).
//!
//! Rules, for a cell read as a field of type:
//! - any type: an empty cell, a cell of spaces, or one of the dialect's
//!   `null_values` (any case, spaces around ignored) is [`Value::Null`];
//! - text: exactly as given (leading zeros, inner and surrounding spaces
//!   kept) unless the dialect says `trim`;
//! - code: the text, which the model normalizes to a canonical code while
//!   keeping it as the original;
//! - integer: `-12`, `+7`, and `12.0` (a zero fraction, as spreadsheets write
//!   whole numbers);
//! - decimal: an exact decimal number (`85.5`, `-3`), at most four places;
//! - timestamp: RFC 3339, or a date (midnight UTC); time: `08:30`, `8:30 PM`;
//! - boolean: one of the dialect's `true_values` / `false_values`, any case;
//! - date: the first of the dialect's `date_formats` that reads it;
//! - list: items separated by `,` (a `\,` is a comma inside an item, a `\\` a
//!   backslash), spaces around items removed, empty items dropped.
//!
//! Surrounding spaces never matter for integers, numbers, booleans and dates.
//! Error reasons never contain the cell's text (it may be personal data).

use std::fmt::{self, Write as _};

use ferry_model::{Date, Decimal, FieldType, InvalidTime, ListRef, TimeOfDay, Timestamp, Value};
use serde::Deserialize;

use super::date::{DateError, DateFormat};
use super::dialect::Dialect;

/// Why a cell could not be read as a value of its field's type. The reason
/// does not contain the cell's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

/// Reads cells as values per a [`Dialect`]. Build one per file and reuse it.
#[derive(Clone, Debug)]
pub struct ValueParser {
    date_formats: Vec<DateFormat>,
    pivot: u8,
    null_values: Vec<String>,
    true_values: Vec<String>,
    false_values: Vec<String>,
    trim: bool,
    no_date: String,
    bad_date: String,
    no_bool: String,
}

impl ValueParser {
    /// A parser for cells of files in `dialect`.
    pub fn new(dialect: &Dialect) -> ValueParser {
        let formats = dialect.date_formats.iter().map(DateFormat::as_str).collect::<Vec<_>>().join(", ");
        let trim_all = |v: &[String]| v.iter().map(|s| s.trim().to_owned()).collect::<Vec<_>>();
        ValueParser {
            date_formats: dialect.date_formats.clone(),
            pivot: dialect.two_digit_year_pivot,
            null_values: trim_all(&dialect.null_values),
            true_values: trim_all(&dialect.true_values),
            false_values: trim_all(&dialect.false_values),
            trim: dialect.trim,
            no_date: format!("not a date in any of the formats {formats}"),
            bad_date: format!("not a valid calendar date (formats tried: {formats})"),
            no_bool: format!(
                "not a boolean (true: {}; false: {})",
                dialect.true_values.join(", "),
                dialect.false_values.join(", ")
            ),
        }
    }

    /// Whether the cell means "no value".
    pub fn is_null(&self, cell: &str) -> bool {
        let t = cell.trim();
        t.is_empty()
            || (!self.null_values.is_empty() && self.null_values.iter().any(|n| n.eq_ignore_ascii_case(t)))
    }

    /// The cell as text (trimmed if the dialect says so); `None` when null.
    pub fn text<'a>(&self, cell: &'a str) -> Option<&'a str> {
        if self.is_null(cell) {
            None
        } else if self.trim {
            Some(cell.trim())
        } else {
            Some(cell)
        }
    }

    /// Reads `cell` as a value of type `ty`. Lists are split into `list`,
    /// which the returned value borrows (reuse one buffer across calls).
    pub fn parse<'a>(
        &self,
        ty: FieldType,
        cell: &'a str,
        list: &'a mut Vec<String>,
    ) -> Result<Value<'a>, ValueError> {
        let Some(text) = self.text(cell) else {
            return Ok(Value::Null);
        };
        match ty {
            FieldType::Text | FieldType::Code(_) => Ok(Value::Text(text)),
            FieldType::Int => self.parse_int(text).map(Value::Int),
            FieldType::Decimal => self.parse_decimal(text).map(Value::Decimal),
            FieldType::Timestamp => self.parse_timestamp(text).map(Value::Timestamp),
            FieldType::Time => self.parse_time(text).map(Value::Time),
            FieldType::Bool => self.parse_bool(text).map(Value::Bool),
            FieldType::Date => self.parse_date(text).map(Value::Date),
            FieldType::List => {
                split_list(text, list);
                Ok(if list.is_empty() { Value::Null } else { Value::List(ListRef::Slice(list)) })
            }
        }
    }

    /// Reads a date, trying the dialect's formats in order.
    pub fn parse_date(&self, cell: &str) -> Result<Date, ValueError> {
        let t = cell.trim();
        let mut invalid = false;
        for f in &self.date_formats {
            match f.parse(t, self.pivot) {
                Ok(d) => return Ok(d),
                Err(DateError::InvalidDate) => invalid = true,
                Err(DateError::NoMatch) => {}
            }
        }
        Err(ValueError(if invalid { self.bad_date.clone() } else { self.no_date.clone() }))
    }

    /// Reads a whole number.
    pub fn parse_int(&self, cell: &str) -> Result<i64, ValueError> {
        let t = cell.trim();
        if let Ok(n) = t.parse::<i64>() {
            return Ok(n);
        }
        match t.split_once('.') {
            Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => {
                whole.parse::<i64>().ok()
            }
            _ => None,
        }
        .ok_or_else(|| ValueError("not a whole number".to_owned()))
    }

    /// Reads an exact decimal (`85.5`, `-3`, `0.25`; at most four places,
    /// no exponent: see [`Decimal`]).
    pub fn parse_decimal(&self, cell: &str) -> Result<Decimal, ValueError> {
        Decimal::parse(cell).map_err(|e| ValueError(e.to_string()))
    }

    /// Reads an RFC 3339 timestamp (`2025-03-01T08:30:00Z`; without an
    /// offset, UTC), or a date alone in one of the dialect's date formats (midnight UTC).
    pub fn parse_timestamp(&self, cell: &str) -> Result<Timestamp, ValueError> {
        let t = cell.trim();
        Timestamp::parse_iso(t).or_else(|e| match self.parse_date(t) {
            Ok(d) => Ok(Timestamp::from_date_time(d, TimeOfDay::default())),
            Err(_) => Err(ValueError(e.to_string())),
        })
    }

    /// Reads a time of day (`08:30`, `08:30:15`, `8:30 AM`).
    pub fn parse_time(&self, cell: &str) -> Result<TimeOfDay, ValueError> {
        let t = cell.trim();
        let bad = || ValueError(InvalidTime.to_string());
        let upper = t.to_ascii_uppercase();
        let (clock, pm) = match upper.strip_suffix("AM").or_else(|| upper.strip_suffix("PM")) {
            Some(c) => (c.trim().to_owned(), Some(upper.ends_with("PM"))),
            None => (t.to_owned(), None),
        };
        let clock = if clock.len() >= 4 && clock.as_bytes().get(1) == Some(&b':') {
            format!("0{clock}")
        } else {
            clock
        };
        let time = TimeOfDay::parse_iso(&clock).map_err(|_| bad())?;
        match pm {
            None => Ok(time),
            Some(pm) => {
                let micros = time.micros();
                let hour = micros / 3_600_000_000;
                if !(1..=12).contains(&hour) {
                    return Err(bad());
                }
                let base = micros - hour * 3_600_000_000;
                let h24 = match (hour, pm) {
                    (12, false) => 0,
                    (12, true) => 12,
                    (h, false) => h,
                    (h, true) => h + 12,
                };
                TimeOfDay::from_micros(base + h24 * 3_600_000_000).map_err(|_| bad())
            }
        }
    }

    /// Reads a boolean.
    pub fn parse_bool(&self, cell: &str) -> Result<bool, ValueError> {
        let t = cell.trim();
        if self.true_values.iter().any(|v| v.eq_ignore_ascii_case(t)) {
            Ok(true)
        } else if self.false_values.iter().any(|v| v.eq_ignore_ascii_case(t)) {
            Ok(false)
        } else {
            Err(ValueError(self.no_bool.clone()))
        }
    }
}

/// Splits a list cell into `out` (see the module documentation), reusing
/// the strings already in `out`.
pub fn split_list(text: &str, out: &mut Vec<String>) {
    let mut n = 0;
    let mut item = |s: &str, escaped: bool, out: &mut Vec<String>| {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if n == out.len() {
            out.push(String::new());
        }
        let slot = &mut out[n];
        slot.clear();
        if escaped {
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c == '\\'
                    && let Some(next) = chars.next()
                {
                    slot.push(next);
                    continue;
                }
                slot.push(c);
            }
        } else {
            slot.push_str(s);
        }
        n += 1;
    };
    let bytes = text.as_bytes();
    let (mut start, mut i, mut escaped) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
                continue;
            }
            b',' => {
                item(&text[start..i], escaped, out);
                start = i + 1;
                escaped = false;
            }
            _ => {}
        }
        i += 1;
    }
    item(text.get(start..).unwrap_or_default(), escaped, out);
    out.truncate(n);
}

/// Joins list items with `,`, escaping `,` and `\` inside items.
pub fn join_list<'a>(items: impl IntoIterator<Item = &'a str>, out: &mut String) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if item.contains([',', '\\']) {
            for c in item.chars() {
                if c == ',' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        } else {
            out.push_str(item);
        }
    }
}

/// Which side of a code to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeStyle {
    /// The canonical code (`KG`).
    #[default]
    Canonical,
    /// The value the source system gave (`K`).
    Original,
}

/// Writes values as text, for sinks: dates in one format, booleans in one
/// spelling, numbers in their shortest exact form, lists as
/// [`join_list`] writes them, text as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueFormatter {
    date_format: DateFormat,
    true_text: String,
    false_text: String,
}

impl Default for ValueFormatter {
    fn default() -> ValueFormatter {
        ValueFormatter::new(DateFormat::iso(), "true", "false")
    }
}

impl ValueFormatter {
    /// A formatter writing dates in `date_format` and booleans as the given texts.
    pub fn new(
        date_format: DateFormat,
        true_text: impl Into<String>,
        false_text: impl Into<String>,
    ) -> ValueFormatter {
        ValueFormatter { date_format, true_text: true_text.into(), false_text: false_text.into() }
    }

    /// This formatter with another date format.
    #[must_use]
    pub fn with_date_format(mut self, date_format: DateFormat) -> ValueFormatter {
        self.date_format = date_format;
        self
    }

    /// This formatter with other boolean spellings.
    #[must_use]
    pub fn with_bools(
        mut self,
        true_text: impl Into<String>,
        false_text: impl Into<String>,
    ) -> ValueFormatter {
        self.true_text = true_text.into();
        self.false_text = false_text.into();
        self
    }

    /// Appends `value` to `out`; a null appends nothing.
    pub fn write(&self, value: &Value<'_>, code: CodeStyle, out: &mut String) {
        match value {
            Value::Null => {}
            Value::Text(t) => out.push_str(t),
            // Writing to a String cannot fail.
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Decimal(x) => {
                let _ = write!(out, "{x}");
            }
            Value::Timestamp(t) => {
                let _ = write!(out, "{t}");
            }
            Value::Time(t) => {
                let _ = write!(out, "{t}");
            }
            Value::Bool(b) => out.push_str(if *b { &self.true_text } else { &self.false_text }),
            Value::Date(d) => self.date_format.write(*d, out),
            Value::Code { code: canonical, original } => out.push_str(match code {
                CodeStyle::Canonical => canonical,
                CodeStyle::Original => original,
            }),
            Value::List(items) => join_list(items.iter(), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::DialectOverride;

    fn parser(json: serde_json::Value) -> ValueParser {
        ValueParser::new(&Dialect::default().with(&serde_json::from_value::<DialectOverride>(json).unwrap()))
    }

    fn parse(p: &ValueParser, ty: FieldType, cell: &str) -> Result<String, String> {
        let mut list = Vec::new();
        p.parse(ty, cell, &mut list).map(|v| format!("{v:?}")).map_err(|e| e.0)
    }

    #[test]
    fn text_is_kept_exactly() {
        let p = parser(serde_json::json!({}));
        assert_eq!(parse(&p, FieldType::Text, "000123"), Ok("Text(\"000123\")".into()));
        assert_eq!(parse(&p, FieldType::Text, " O'Brien "), Ok("Text(\" O'Brien \")".into()));
        assert_eq!(parse(&p, FieldType::Text, ""), Ok("Null".into()));
        assert_eq!(parse(&p, FieldType::Text, "   "), Ok("Null".into()));
        let p = parser(serde_json::json!({ "trim": true, "null_values": ["NULL", "\\N"] }));
        assert_eq!(parse(&p, FieldType::Text, " 007 "), Ok("Text(\"007\")".into()));
        assert_eq!(parse(&p, FieldType::Text, "null"), Ok("Null".into()));
        assert_eq!(parse(&p, FieldType::Date, " \\N "), Ok("Null".into()));
    }

    #[test]
    fn dates_in_every_default_format() {
        let p = parser(serde_json::json!({}));
        for cell in
            ["2007-06-19", "06/19/2007", "6/19/2007", "6/19/07", " 2007-06-19 ", "06/19/2007 00:00:00"]
        {
            assert_eq!(p.parse_date(cell).map(|d| d.to_string()), Ok("2007-06-19".into()), "{cell}");
        }
        assert_eq!(p.parse_date("9/2/25").unwrap().to_string(), "2025-09-02");
        assert_eq!(p.parse_date("3/4/62").unwrap().to_string(), "1962-03-04");
        let e = p.parse_date("19.06.2007").unwrap_err().0;
        assert_eq!(e, "not a date in any of the formats %Y-%m-%d, %-m/%-d/%Y, %-m/%-d/%y");
        let e = p.parse_date("02/30/2024").unwrap_err().0;
        assert!(e.starts_with("not a valid calendar date"), "{e}");
        assert!(!e.contains("02/30"), "reasons carry no values");
        let p = parser(serde_json::json!({ "date_formats": ["%d.%m.%Y"], "two_digit_year_pivot": 30 }));
        assert_eq!(p.parse_date("19.06.2007").unwrap().to_string(), "2007-06-19");
        assert!(p.parse_date("2007-06-19").is_err());
    }

    #[test]
    fn numbers_and_booleans() {
        let p = parser(serde_json::json!({}));
        assert_eq!(p.parse_int(" 42 "), Ok(42));
        assert_eq!(p.parse_int("+7"), Ok(7));
        assert_eq!(p.parse_int("2025.0"), Ok(2025));
        assert!(p.parse_int("2.5").is_err());
        assert!(p.parse_int("12.").is_err());
        assert_eq!(p.parse_int("x").unwrap_err().0, "not a whole number");
        assert_eq!(p.parse_decimal("85.5"), Ok(Decimal::parse("85.5").unwrap()));
        assert!(p.parse_decimal("NaN").is_err());
        assert!(p.parse_decimal("1.00001").is_err());
        assert_eq!(p.parse_time("8:30 PM").unwrap().to_string(), "20:30:00");
        assert_eq!(p.parse_time("12:05 AM").unwrap().to_string(), "00:05:00");
        assert_eq!(p.parse_time("07:45").unwrap().to_string(), "07:45:00");
        assert!(p.parse_time("13:00 PM").is_err());
        assert_eq!(p.parse_timestamp("2025-03-01T08:30:00Z").unwrap().to_string(), "2025-03-01T08:30:00Z");
        for t in ["true", "TRUE", "Y", "yes", "1", " t "] {
            assert_eq!(p.parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "N", "no", "0"] {
            assert_eq!(p.parse_bool(f), Ok(false), "{f}");
        }
        let e = p.parse_bool("maybe").unwrap_err().0;
        assert!(e.starts_with("not a boolean (true: true, t, yes, y, 1; false:"), "{e}");
    }

    #[test]
    fn codes_are_passed_as_text_for_the_model() {
        let p = parser(serde_json::json!({}));
        let ty = FieldType::Code(&["KG", "01"]);
        assert_eq!(parse(&p, ty, "K"), Ok("Text(\"K\")".into()));
    }

    #[test]
    fn lists_split_and_join_with_escapes() {
        let mut out = vec!["stale".to_owned(); 5];
        split_list("09, 10,,11 ", &mut out);
        assert_eq!(out, ["09", "10", "11"]);
        split_list("a\\,b,c\\\\d", &mut out);
        assert_eq!(out, ["a,b", "c\\d"]);
        let mut s = String::new();
        join_list(out.iter().map(String::as_str), &mut s);
        assert_eq!(s, "a\\,b,c\\\\d");
        split_list(&s, &mut out);
        assert_eq!(out, ["a,b", "c\\d"]);
        split_list("", &mut out);
        assert!(out.is_empty());
        let p = parser(serde_json::json!({}));
        assert_eq!(parse(&p, FieldType::List, "1,2"), Ok("List(Slice([\"1\", \"2\"]))".into()));
        assert_eq!(parse(&p, FieldType::List, " , "), Ok("Null".into()));
    }

    #[test]
    fn formats_values() {
        let f = ValueFormatter::new(DateFormat::new("%m/%d/%Y").unwrap(), "Y", "N");
        let mut s = String::new();
        let items = vec!["09".to_owned(), "1,2".to_owned()];
        let d = Date::new(2011, 2, 3).unwrap();
        for v in [
            Value::Text("000123"),
            Value::Int(-4),
            Value::Decimal(Decimal::parse("85.5").unwrap()),
            Value::Decimal(Decimal::parse("3.0").unwrap()),
            Value::Bool(true),
            Value::Bool(false),
            Value::Date(d),
            Value::Code { code: "KG", original: "K" },
            Value::List(ListRef::Slice(&items)),
            Value::Null,
        ] {
            f.write(&v, CodeStyle::Canonical, &mut s);
            s.push('|');
        }
        f.write(&Value::Code { code: "KG", original: "K" }, CodeStyle::Original, &mut s);
        assert_eq!(s, "000123|-4|85.5|3|Y|N|02/03/2011|KG|09,1\\,2||K");
        let iso = ValueFormatter::default();
        s.clear();
        iso.write(&Value::Date(d), CodeStyle::Canonical, &mut s);
        assert_eq!(s, "2011-02-03");
    }
}
