//! `text_reader`: the SDK's delimited-text reader, as every file connector
//! uses it.
//!
//! Input: the first byte chooses the dialect, the rest is the file.
//!
//! | bits | meaning |
//! |---|---|
//! | 0–1 | delimiter: comma, tab, pipe, semicolon |
//! | 2 | quoting |
//! | 3 | a header line (otherwise the columns are `a`, `b`, `c`) |
//! | 4–5 | encoding: auto, utf-8, windows-1252, shift_jis |
//! | 6 | trim values |
//! | 7 | with a header line: columns `a`, `b`, `c` replace its names |
//!
//! Properties:
//! - reading never panics; an error is a data, configuration or I/O error;
//! - the same bytes handed over one at a time read exactly the same (the
//!   line tracking and the BOM look-ahead do not depend on read sizes);
//! - rows are counted (`rows_read`), start on strictly increasing lines, after
//!   the header's line, and never past the input's last line;
//! - a good row written back with `Row::to_line` (as a reject's raw value and
//!   a record's raw row are) reads back as the same fields;
//! - `is_valid_utf8` agrees with the standard library, whatever the chunks;
//! - a date read from a cell prints as ISO and reads back the same.

use std::io::{self, Cursor, Read};

use ferry_sdk::model::FieldType;
use ferry_sdk::text::{
    DateFormat, Decoding, Delimiter, Dialect, Encoding, EncodingChoice, TextReader, ValueParser,
    is_valid_utf8,
};

use crate::{MAX_INPUT, is_input_error, max_line};

/// The dialect the first byte of an input chooses.
pub fn dialect(flags: u8) -> Dialect {
    let delimiter =
        [Delimiter::COMMA, Delimiter::TAB, Delimiter::PIPE, Delimiter::SEMICOLON][usize::from(flags & 0b11)];
    let encoding = match (flags >> 4) & 0b11 {
        0 => EncodingChoice::Auto,
        1 => EncodingChoice::Fixed(Encoding::UTF_8),
        2 => EncodingChoice::Fixed(Encoding::WINDOWS_1252),
        _ => EncodingChoice::from_label("shift_jis").unwrap_or(EncodingChoice::Auto),
    };
    let header = flags & 0b1000 != 0;
    let named = !header || flags & 0b1000_0000 != 0;
    Dialect {
        delimiter,
        quoting: flags & 0b100 != 0,
        header,
        columns: if named { ["a", "b", "c"].map(str::to_owned).to_vec() } else { Vec::new() },
        encoding,
        trim: flags & 0b100_0000 != 0,
        ..Dialect::default()
    }
}

/// A reader that hands over one byte per call: the smallest reads a file
/// or pipe can give.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// What reading gave, row by row, comparable across readers.
#[derive(Debug, PartialEq)]
enum Outcome {
    Row { line: u64, fields: Vec<String> },
    Bad { line: u64, kind: String },
    Failed { kind: String },
}

/// Every row of `reader`, and the rows it says it read.
fn read_all<R: Read>(reader: &mut TextReader<R>) -> (Vec<Outcome>, u64) {
    let mut out = Vec::new();
    loop {
        match reader.next_row() {
            Ok(None) => break,
            Ok(Some(Ok(row))) => {
                out.push(Outcome::Row { line: row.line(), fields: row.iter().map(str::to_owned).collect() });
            }
            Ok(Some(Err(bad))) => {
                assert!(!bad.to_string().is_empty(), "a row error says what is wrong");
                out.push(Outcome::Bad { line: bad.line, kind: format!("{:?}", bad.kind) });
            }
            Err(e) => {
                assert!(is_input_error(e.kind), "reading fails with {:?}: {}", e.kind, e.message);
                out.push(Outcome::Failed { kind: format!("{:?}", e.kind) });
                break;
            }
        }
    }
    (out, reader.rows_read())
}

/// Checks one input (see the module's documentation).
pub fn check(data: &[u8]) {
    let Some((&flags, file)) = data.split_first() else { return };
    let file = &file[..file.len().min(MAX_INPUT)];
    let dialect = dialect(flags);

    assert_eq!(
        is_valid_utf8(Trickle(file)).ok(),
        Some(std::str::from_utf8(file).is_ok()),
        "is_valid_utf8 disagrees with the standard library"
    );

    let mut whole = match TextReader::new(Cursor::new(file), &dialect) {
        Ok(r) => r,
        Err(e) => {
            assert!(is_input_error(e.kind), "opening fails with {:?}: {}", e.kind, e.message);
            // The same bytes, decoded as `new` chose to (a legacy encoding
            // may be read field by field), fail the same way byte by byte.
            if let Ok(decoding) = Decoding::sniff(Cursor::new(file), dialect.encoding) {
                assert!(
                    TextReader::with_decoding(Trickle(file), &dialect, decoding).is_err(),
                    "the header fails in one read and not byte by byte"
                );
            }
            return;
        }
    };
    let encoding = whole.encoding();
    let decoding = whole.decoding();
    let header = whole.columns().to_vec();
    let (rows, counted) = read_all(&mut whole);

    // The same bytes read as the first reader decided to read them (a mixed
    // file field by field), one byte per read.
    let mut trickle = match TextReader::with_decoding(Trickle(file), &dialect, decoding) {
        Ok(r) => r,
        Err(e) => panic!("byte by byte, opening fails ({:?}) where one read did not", e.kind),
    };
    assert_eq!(trickle.columns(), header.as_slice(), "the columns depend on read sizes");
    assert_eq!(trickle.encoding(), encoding, "the encoding depends on read sizes");
    let (rows_trickled, counted_trickled) = read_all(&mut trickle);
    assert!(rows == rows_trickled, "the rows depend on read sizes");
    assert_eq!(counted, counted_trickled, "the row count depends on read sizes");

    let returned = rows.iter().filter(|r| !matches!(r, Outcome::Failed { .. })).count() as u64;
    assert_eq!(counted, returned, "rows_read is not the number of rows returned");

    let last = max_line(file);
    let mut previous = if dialect.header { 1 } else { 0 };
    for r in &rows {
        let line = match r {
            Outcome::Row { line, .. } | Outcome::Bad { line, .. } => *line,
            Outcome::Failed { .. } => continue,
        };
        assert!(
            line > previous,
            "row lines go {previous} then {line}: not increasing (or not after the header)"
        );
        assert!(line <= last, "a row starts on line {line}; the input has at most {last}");
        previous = line;
    }

    let parser = ValueParser::new(&dialect);
    for r in &rows {
        let Outcome::Row { fields, .. } = r else { continue };
        if dialect.quoting {
            round_trip(fields, dialect.delimiter);
        }
        for cell in fields {
            if let Ok(date) = parser.parse_date(cell) {
                let iso = date.to_string();
                assert!(
                    DateFormat::iso().parse(&iso, dialect.two_digit_year_pivot).ok() == Some(date),
                    "a date read from a cell does not read back from its ISO form"
                );
            }
            for ty in [
                FieldType::Int,
                FieldType::Decimal,
                FieldType::Bool,
                FieldType::Time,
                FieldType::Timestamp,
                FieldType::List,
            ] {
                let mut list = Vec::new();
                let _ = parser.parse(ty, cell, &mut list);
            }
        }
    }
}

/// A good row written as one line and read back is the same row.
fn round_trip(fields: &[String], delimiter: Delimiter) {
    // A blank line is no row; a leading byte-order mark is dropped on
    // reading: neither can come back.
    if (fields.len() == 1 && fields[0].is_empty())
        || fields.first().is_some_and(|f| f.starts_with('\u{feff}'))
    {
        return;
    }
    let mut row = ferry_sdk::text::Row::new();
    for f in fields {
        row.push(f);
    }
    let line = row.to_line(delimiter, true);
    let names: Vec<String> = (0..fields.len()).map(|i| format!("c{i}")).collect();
    let again = Dialect {
        delimiter,
        quoting: true,
        header: false,
        columns: names,
        encoding: EncodingChoice::Fixed(Encoding::UTF_8),
        ..Dialect::default()
    };
    let back = match TextReader::with_encoding(Cursor::new(line.as_bytes()), &again, Encoding::UTF_8) {
        Ok(mut r) => Some(read_all(&mut r).0),
        // A line mostly of control characters is refused as not text (a
        // binary file under a text file's name): it cannot come back either.
        Err(e) if e.message.contains("not a text") => return,
        Err(_) => None,
    };
    let expected = Outcome::Row { line: 1, fields: fields.to_vec() };
    assert!(
        back.as_deref() == Some(std::slice::from_ref(&expected)),
        "a row written with Row::to_line does not read back as the same fields"
    );
}
