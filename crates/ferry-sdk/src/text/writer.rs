//! [`TextWriter`]: writes [`Row`]s as delimited text in a chosen encoding,
//! refusing (per row, never half-written) what the output cannot hold.

use std::fmt;
use std::io::Write;

use serde::Deserialize;

use super::dialect::Delimiter;
use super::encoding::{BOM, Encoding};
use super::reader::Row;
use crate::error::Error;

/// When fields are put in quotes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStyle {
    /// Only fields holding the delimiter, a quote or a line break.
    #[default]
    Necessary,
    /// Every field.
    Always,
    /// None: a quote is ordinary text, and a field holding the delimiter or
    /// a line break cannot be written (its row is refused).
    Never,
}

/// The line ending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// `\n`
    #[default]
    Lf,
    /// `\r\n`
    Crlf,
}

/// How to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Field delimiter.
    pub delimiter: Delimiter,
    /// Quoting.
    pub quoting: QuoteStyle,
    /// Line ending.
    pub line_ending: LineEnding,
    /// Output encoding; characters it cannot represent refuse the row.
    pub encoding: Encoding,
    /// Start the output with a UTF-8 byte-order mark (UTF-8 only).
    pub bom: bool,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            delimiter: Delimiter::COMMA,
            quoting: QuoteStyle::Necessary,
            line_ending: LineEnding::Lf,
            encoding: Encoding::UTF_8,
            bom: false,
        }
    }
}

/// Why a row was not written. Nothing of it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRefusal {
    /// 0-based index of the field at fault.
    pub field: usize,
    /// Why, without the field's text.
    pub reason: String,
}

impl fmt::Display for WriteRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A writer of delimited text. Fields are written straight into one output
/// buffer (no per-field call into a general CSV writer): a field is quoted
/// when the style says so, its quotes doubled.
pub struct TextWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    options: WriteOptions,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    rows: u64,
}

/// Bytes buffered before they are handed to the output.
const FLUSH_AT: usize = 64 * 1024;

impl<W: Write> fmt::Debug for TextWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextWriter")
            .field("options", &self.options)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

fn write_error(e: std::io::Error) -> Error {
    Error::io(format!("write failed: {e}"))
}

impl<W: Write> TextWriter<W> {
    /// A writer into `out`; writes the byte-order mark when asked.
    pub fn new(out: W, options: WriteOptions) -> Result<TextWriter<W>, Error> {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        if options.bom && options.encoding.is_utf8() {
            buf.extend_from_slice(BOM);
        }
        Ok(TextWriter { out, buf, options, bytes: Vec::new(), ends: Vec::new(), rows: 0 })
    }

    /// Appends one field to the buffer, quoted as the style says.
    #[inline]
    fn put_field(buf: &mut Vec<u8>, field: &[u8], options: &WriteOptions, lone: bool) {
        let d = options.delimiter.byte();
        let quote = match options.quoting {
            QuoteStyle::Always => true,
            QuoteStyle::Never => false,
            // A lone empty field is quoted, or its line would read as blank.
            QuoteStyle::Necessary => {
                (lone && field.is_empty())
                    || field.iter().any(|&b| b == d || b == b'"' || b == b'\n' || b == b'\r')
            }
        };
        if !quote {
            buf.extend_from_slice(field);
            return;
        }
        buf.push(b'"');
        let mut rest = field;
        while let Some(i) = rest.iter().position(|&b| b == b'"') {
            buf.extend_from_slice(&rest[..=i]);
            buf.push(b'"');
            rest = &rest[i + 1..];
        }
        buf.extend_from_slice(rest);
        buf.push(b'"');
    }

    fn end_line(&mut self) -> Result<(), Error> {
        match self.options.line_ending {
            LineEnding::Lf => self.buf.push(b'\n'),
            LineEnding::Crlf => self.buf.extend_from_slice(b"\r\n"),
        }
        self.rows += 1;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf).map_err(write_error)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Checks whether `row` can be written, without writing it.
    pub fn check(&mut self, row: &Row) -> Result<(), WriteRefusal> {
        self.encode(row)
    }

    /// Writes `row`; `Ok(Err(_))` when the row cannot be written (nothing of
    /// it is); `Err` when writing fails.
    pub fn write_row(&mut self, row: &Row) -> Result<Result<(), WriteRefusal>, Error> {
        let d = self.options.delimiter.byte();
        let lone = row.len() == 1;
        if self.options.encoding.is_utf8() {
            // The row's text is the output: check it, then write it as it is.
            if let Err(refusal) = self.check_quoting(row) {
                return Ok(Err(refusal));
            }
            for (i, field) in row.iter().enumerate() {
                if i > 0 {
                    self.buf.push(d);
                }
                Self::put_field(&mut self.buf, field.as_bytes(), &self.options, lone);
            }
        } else {
            if let Err(refusal) = self.encode(row) {
                return Ok(Err(refusal));
            }
            let mut start = 0;
            for (i, &end) in self.ends.iter().enumerate() {
                if i > 0 {
                    self.buf.push(d);
                }
                Self::put_field(&mut self.buf, &self.bytes[start..end], &self.options, lone);
                start = end;
            }
        }
        self.end_line()?;
        Ok(Ok(()))
    }

    /// Without quoting, a field may not hold the delimiter or a line break.
    fn check_quoting(&self, row: &Row) -> Result<(), WriteRefusal> {
        if self.options.quoting != QuoteStyle::Never {
            return Ok(());
        }
        let delimiter = self.options.delimiter.as_char();
        match row.iter().position(|f| f.contains([delimiter, '\r', '\n'])) {
            None => Ok(()),
            Some(field) => Err(WriteRefusal {
                field,
                reason: "the value holds the delimiter or a line break, which cannot be written with quoting = \"never\"".to_owned(),
            }),
        }
    }

    /// Checks `row` and encodes it into `self.bytes`/`self.ends`.
    fn encode(&mut self, row: &Row) -> Result<(), WriteRefusal> {
        self.check_quoting(row)?;
        self.bytes.clear();
        self.ends.clear();
        for (i, field) in row.iter().enumerate() {
            if self.options.encoding.encode_append(field, &mut self.bytes).is_err() {
                // The character itself is not named: it may be part of a name.
                return Err(WriteRefusal {
                    field: i,
                    reason: format!(
                        "the value holds a character that {} cannot represent",
                        self.options.encoding
                    ),
                });
            }
            self.ends.push(self.bytes.len());
        }
        Ok(())
    }

    /// Flushes buffered rows and returns the output.
    pub fn finish(mut self) -> Result<W, Error> {
        self.out.write_all(&self.buf).map_err(write_error)?;
        self.out.flush().map_err(write_error)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> Row {
        let mut r = Row::new();
        for f in fields {
            r.push(f);
        }
        r
    }

    fn write(options: WriteOptions, rows: &[&[&str]]) -> (Vec<u8>, Vec<Option<WriteRefusal>>) {
        let mut w = TextWriter::new(Vec::new(), options).unwrap();
        let results = rows.iter().map(|r| w.write_row(&row(r)).unwrap().err()).collect();
        (w.finish().unwrap(), results)
    }

    #[test]
    fn quotes_only_when_needed_by_default() {
        let (out, _) = write(
            WriteOptions::default(),
            &[&["id", "name"], &["000123", "Núñez, José"], &["2", "say \"hi\""]],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id,name\n000123,\"Núñez, José\"\n2,\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn crlf_always_quoted_with_bom() {
        let o = WriteOptions {
            quoting: QuoteStyle::Always,
            line_ending: LineEnding::Crlf,
            bom: true,
            ..WriteOptions::default()
        };
        let (out, _) = write(o, &[&["a", ""]]);
        assert_eq!(out, b"\xEF\xBB\xBF\"a\",\"\"\r\n");
    }

    #[test]
    fn windows_1252_refuses_unrepresentable_rows_whole() {
        let o = WriteOptions { encoding: Encoding::WINDOWS_1252, ..WriteOptions::default() };
        let (out, results) = write(o, &[&["Zoë", "1"], &["ok", "漢字"], &["José", "2"]]);
        assert_eq!(out, b"Zo\xEB,1\nJos\xE9,2\n");
        let refusal = results[1].clone().unwrap();
        assert_eq!(refusal.field, 1);
        assert_eq!(refusal.reason, "the value holds a character that windows-1252 cannot represent");
    }

    #[test]
    fn quoting_of_lone_empty_fields_line_breaks_and_crs() {
        let (out, _) = write(WriteOptions::default(), &[&[""], &["", ""], &["a\rb", "c\nd"], &["x"]]);
        assert_eq!(String::from_utf8(out).unwrap(), "\"\"\n,\n\"a\rb\",\"c\nd\"\nx\n");
        // Many rows: the buffer is flushed along the way, in order.
        let rows: Vec<Vec<String>> = (0..20_000).map(|i| vec![i.to_string(), "x".repeat(5)]).collect();
        let refs: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
        let (out, _) = write(WriteOptions::default(), &slices);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 20_000);
        assert!(text.starts_with("0,xxxxx\n1,xxxxx\n") && text.ends_with("19999,xxxxx\n"));
    }

    #[test]
    fn never_quoting_refuses_delimiters_and_line_breaks() {
        let o =
            WriteOptions { quoting: QuoteStyle::Never, delimiter: Delimiter::TAB, ..WriteOptions::default() };
        let (out, results) = write(o, &[&["O\"Brien", "a,b"], &["x\ty", "1"], &["line\nbreak", "2"]]);
        assert_eq!(out, b"O\"Brien\ta,b\n");
        assert_eq!(results[1].as_ref().map(|r| r.field), Some(0));
        assert_eq!(results[2].as_ref().map(|r| r.field), Some(0));
    }
}
