//! Delimited text (CSV, tab-separated exports) for file connectors: reading
//! rows, turning cells into canonical values, and writing rows back.
//!
//! - [`Dialect`] describes an input file (delimiter, quoting, header,
//!   encoding, date formats, null and boolean spellings) and deserializes
//!   from a connector's configuration; [`DialectOverride`] lays one
//!   configuration table over another, key by key.
//! - [`TextReader`] streams a file one decoded [`Row`] at a time, with the
//!   1-based line each row starts on, detecting UTF-8, Windows-1252, a mix of
//!   both ([`Decoding`]) and UTF-16 with a byte-order mark. A row with the
//!   wrong number of fields, or cut by the end of the file, is a
//!   [`RowError`], not a failure: turn it into a [`Reject`](crate::Reject)
//!   and read on. A field read in a fallback encoding or holding NUL bytes
//!   is a [`CellNote`] of its row: turn it into a warning (or a reject, for
//!   an id). A file that is not text, or names a column twice, fails to open.
//! - [`ValueParser`] reads a cell as a [`Value`](ferry_model::Value) of a
//!   [`FieldType`](ferry_model::FieldType); [`ValueFormatter`] writes one.
//! - [`TextWriter`] writes rows in a chosen encoding and quoting, refusing
//!   whole rows it cannot represent.
//!
//! ```
//! use ferry_sdk::model::{FieldType, Value};
//! use ferry_sdk::text::{Dialect, DialectOverride, TextReader, ValueParser};
//!
//! // A PowerSchool-style export: tab-delimited, no quoting, US dates.
//! let file: DialectOverride = serde_json::from_value(serde_json::json!({
//!     "delimiter": "tab", "quoting": false
//! })).unwrap();
//! let dialect = Dialect::default().with(&file);
//! let data = "Student_Number\tDOB\tNickname\n000123\t06/19/2011\t\"Bo\"\n";
//! let mut reader = TextReader::new(std::io::Cursor::new(data), &dialect).unwrap();
//! let parser = ValueParser::new(&dialect);
//! let mut list = Vec::new();
//! let row = reader.next_row().unwrap().unwrap().unwrap();
//! assert_eq!(parser.parse(FieldType::Text, row.get(0).unwrap(), &mut list).unwrap(), Value::Text("000123"));
//! let dob = parser.parse_date(row.get(1).unwrap()).unwrap();
//! assert_eq!(dob.to_string(), "2011-06-19");
//! assert_eq!(row.get(2), Some("\"Bo\""));
//! ```

mod binary;
mod date;
mod dialect;
mod encoding;
pub mod json;
mod reader;
mod value;
mod writer;

pub use date::{DateError, DateFormat};
pub use dialect::{Delimiter, Dialect, DialectOverride, default_date_formats};
pub use encoding::{Decoding, Encoding, EncodingChoice, is_valid_utf8};
pub use reader::{CellNote, CellNoteKind, Row, RowError, RowErrorKind, TextReader, text_head};
pub use value::{CodeStyle, ValueError, ValueFormatter, ValueParser, join_list, split_list};
pub use writer::{LineEnding, QuoteStyle, TextWriter, WriteOptions, WriteRefusal};
