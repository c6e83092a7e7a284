//! [`Dialect`]: how a delimited file is written, as a user configures it, and
//! [`DialectOverride`], the field-by-field override of one dialect by another.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::date::DateFormat;
use super::encoding::EncodingChoice;

/// A field delimiter: one ASCII character.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiter(u8);

impl Delimiter {
    /// `,`
    pub const COMMA: Delimiter = Delimiter(b',');
    /// A tab.
    pub const TAB: Delimiter = Delimiter(b'\t');
    /// `|`
    pub const PIPE: Delimiter = Delimiter(b'|');
    /// `;`
    pub const SEMICOLON: Delimiter = Delimiter(b';');

    /// Parses one ASCII character or a name: `comma`, `tab` (also `\t`),
    /// `pipe`, `semicolon`.
    pub fn parse(s: &str) -> Result<Delimiter, String> {
        let named = match s.to_ascii_lowercase().as_str() {
            "comma" => Some(Delimiter::COMMA),
            "tab" | "\\t" => Some(Delimiter::TAB),
            "pipe" => Some(Delimiter::PIPE),
            "semicolon" => Some(Delimiter::SEMICOLON),
            _ => None,
        };
        if let Some(d) = named {
            return Ok(d);
        }
        match s.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => Ok(Delimiter(*b)),
            _ => Err(format!(
                "delimiter {s:?} is not usable; give one ASCII character (not a quote or line break) or one of \"comma\", \"tab\", \"pipe\", \"semicolon\""
            )),
        }
    }

    /// The delimiter byte.
    pub fn byte(self) -> u8 {
        self.0
    }

    /// The delimiter as a character.
    pub fn as_char(self) -> char {
        char::from(self.0)
    }
}

impl Default for Delimiter {
    fn default() -> Delimiter {
        Delimiter::COMMA
    }
}

impl fmt::Debug for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_char())
    }
}

impl<'de> Deserialize<'de> for Delimiter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Delimiter, D::Error> {
        let s = String::deserialize(d)?;
        Delimiter::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How a delimited input file is written. Every field has a default, so an
/// empty configuration table reads standard UTF-8 or Windows-1252 CSV with a
/// header line.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `delimiter` | `","` | one ASCII character, or `comma`, `tab` (`\t`), `pipe`, `semicolon` |
/// | `quoting` | `true` | `"` quotes fields; `false`: quotes are ordinary text (PowerSchool tab exports) |
/// | `header` | `true` | the first line names the columns |
/// | `columns` | `[]` | column names; needed when `header = false`, replace the header's names otherwise |
/// | `encoding` | `"auto"` | `auto` (UTF-8 if the whole file is valid UTF-8, else Windows-1252), `utf-8`, `windows-1252`, `cp1252`, `latin1` or any WHATWG label |
/// | `date_formats` | `["%Y-%m-%d", "%-m/%-d/%Y", "%-m/%-d/%y"]` | tried in order; see [`DateFormat`] |
/// | `two_digit_year_pivot` | `50` | `yy` is `20yy` when `yy` < pivot, else `19yy` |
/// | `null_values` | `[]` | cell texts that mean "no value" besides an empty cell (any case) |
/// | `true_values` | `["true", "t", "yes", "y", "1"]` | spellings of true (any case) |
/// | `false_values` | `["false", "f", "no", "n", "0"]` | spellings of false (any case) |
/// | `trim` | `false` | remove spaces around every value, text included |
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dialect {
    /// The field delimiter.
    pub delimiter: Delimiter,
    /// Whether `"` quotes fields.
    pub quoting: bool,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Column names for a file without a header (or to replace the header's).
    pub columns: Vec<String>,
    /// The file's encoding.
    pub encoding: EncodingChoice,
    /// Date formats, tried in order.
    pub date_formats: Vec<DateFormat>,
    /// Two-digit years below this are 20yy, the others 19yy.
    pub two_digit_year_pivot: u8,
    /// Texts that mean "no value", compared ignoring ASCII case.
    pub null_values: Vec<String>,
    /// Spellings of true, compared ignoring ASCII case.
    pub true_values: Vec<String>,
    /// Spellings of false, compared ignoring ASCII case.
    pub false_values: Vec<String>,
    /// Whether to remove surrounding spaces from every value.
    pub trim: bool,
}

/// The default date formats: ISO, `MM/DD/YYYY` (or `M/D/YYYY`), `M/D/YY`.
pub fn default_date_formats() -> Vec<DateFormat> {
    ["%Y-%m-%d", "%-m/%-d/%Y", "%-m/%-d/%y"].iter().filter_map(|f| DateFormat::new(f).ok()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Dialect {
    fn default() -> Dialect {
        Dialect {
            delimiter: Delimiter::COMMA,
            quoting: true,
            header: true,
            columns: Vec::new(),
            encoding: EncodingChoice::Auto,
            date_formats: default_date_formats(),
            two_digit_year_pivot: 50,
            null_values: Vec::new(),
            true_values: strings(&["true", "t", "yes", "y", "1"]),
            false_values: strings(&["false", "f", "no", "n", "0"]),
            trim: false,
        }
    }
}

/// A dialect in which every key is optional: what a configuration table
/// says, to lay over another dialect with [`Dialect::with`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs, reason = "the fields are those of Dialect")]
pub struct DialectOverride {
    pub delimiter: Option<Delimiter>,
    pub quoting: Option<bool>,
    pub header: Option<bool>,
    pub columns: Option<Vec<String>>,
    pub encoding: Option<EncodingChoice>,
    pub date_formats: Option<Vec<DateFormat>>,
    pub two_digit_year_pivot: Option<u8>,
    pub null_values: Option<Vec<String>>,
    pub true_values: Option<Vec<String>>,
    pub false_values: Option<Vec<String>>,
    pub trim: Option<bool>,
}

impl Dialect {
    /// This dialect with every key `o` sets replaced by `o`'s value.
    #[must_use]
    pub fn with(mut self, o: &DialectOverride) -> Dialect {
        fn set<T: Clone>(slot: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                slot.clone_from(v);
            }
        }
        set(&mut self.delimiter, &o.delimiter);
        set(&mut self.quoting, &o.quoting);
        set(&mut self.header, &o.header);
        set(&mut self.columns, &o.columns);
        set(&mut self.encoding, &o.encoding);
        set(&mut self.date_formats, &o.date_formats);
        set(&mut self.two_digit_year_pivot, &o.two_digit_year_pivot);
        set(&mut self.null_values, &o.null_values);
        set(&mut self.true_values, &o.true_values);
        set(&mut self.false_values, &o.false_values);
        set(&mut self.trim, &o.trim);
        self
    }

    /// Checks what deserialization cannot: dates need a format, a value may
    /// not be both true and false, a headerless file needs column names.
    pub fn check(&self) -> Result<(), String> {
        if self.date_formats.is_empty() {
            return Err("date_formats is empty; list at least one format, e.g. [\"%Y-%m-%d\"]".to_owned());
        }
        if let Some(both) =
            self.true_values.iter().find(|t| self.false_values.iter().any(|f| f.eq_ignore_ascii_case(t)))
        {
            return Err(format!("{both:?} is in both true_values and false_values"));
        }
        if !self.header && self.columns.is_empty() {
            return Err(
                "the file has no header line (header = false), so name its columns with columns = [\"…\", …]"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Encoding;

    #[test]
    fn delimiters() {
        assert_eq!(Delimiter::parse("tab").unwrap(), Delimiter::TAB);
        assert_eq!(Delimiter::parse("\t").unwrap(), Delimiter::TAB);
        assert_eq!(Delimiter::parse("\\t").unwrap(), Delimiter::TAB);
        assert_eq!(Delimiter::parse("Pipe").unwrap(), Delimiter::PIPE);
        assert_eq!(Delimiter::parse("^").unwrap().byte(), b'^');
        assert!(Delimiter::parse("\"").is_err());
        assert!(Delimiter::parse("ab").is_err());
        assert!(Delimiter::parse("§").is_err());
    }

    #[test]
    fn deserializes_and_merges() {
        let file: DialectOverride = serde_json::from_value(serde_json::json!({
            "delimiter": "tab", "quoting": false, "encoding": "cp1252", "date_formats": ["%m/%d/%Y"]
        }))
        .unwrap();
        let entity: DialectOverride = serde_json::from_value(
            serde_json::json!({ "header": false, "columns": ["a", "b"], "quoting": true }),
        )
        .unwrap();
        let d = Dialect::default().with(&file).with(&entity);
        assert_eq!(d.delimiter, Delimiter::TAB);
        assert!(d.quoting, "the entity's override wins");
        assert!(!d.header);
        assert_eq!(d.columns, ["a", "b"]);
        assert_eq!(d.encoding, EncodingChoice::Fixed(Encoding::WINDOWS_1252));
        assert_eq!(d.date_formats.len(), 1);
        assert_eq!(d.two_digit_year_pivot, 50, "untouched keys keep their defaults");
        d.check().unwrap();

        let full: Dialect = serde_json::from_value(serde_json::json!({ "trim": true })).unwrap();
        assert!(full.trim && full.header && full.date_formats.len() == 3);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let e =
            serde_json::from_value::<DialectOverride>(serde_json::json!({ "delimeter": "," })).unwrap_err();
        assert!(e.to_string().contains("unknown field `delimeter`"), "{e}");
        let e = serde_json::from_value::<Dialect>(serde_json::json!({ "encoding": "ebcdic" })).unwrap_err();
        assert!(e.to_string().contains("unknown encoding"), "{e}");
        let e = serde_json::from_value::<Dialect>(serde_json::json!({ "date_formats": ["%Q"] })).unwrap_err();
        assert!(e.to_string().contains("unsupported directive"), "{e}");
        let d = Dialect { header: false, ..Dialect::default() };
        assert!(d.check().unwrap_err().contains("columns"));
        let d = Dialect { false_values: vec!["Y".into()], ..Dialect::default() };
        assert!(d.check().unwrap_err().contains("both"));
    }
}
