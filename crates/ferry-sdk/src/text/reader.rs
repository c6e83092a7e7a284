//! [`TextReader`]: a streaming reader of delimited files, one decoded
//! [`Row`] at a time, with exact line numbers and row-level errors.
//!
//! Parsing is the `csv` crate's (flexible widths, quoting per dialect, CR,
//! LF or CRLF line ends). Line numbers are tracked here, because the `csv`
//! crate's count ignores lone CRs, misplaces records after CRLF and counts
//! blank lines into the next record.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::dialect::{Delimiter, Dialect};
use super::encoding::{BOM, Encoding, EncodingChoice, is_valid_utf8};
use crate::error::Error;

/// One row of text fields, decoded, stored in one buffer. The reader reuses
/// it from row to row; a sink fills one to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    text: String,
    ends: Vec<usize>,
    line: u64,
}

impl Row {
    /// An empty row.
    pub fn new() -> Row {
        Row::default()
    }

    /// The 1-based line the row starts on (0 for a row not read from a file).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.line = 0;
    }

    /// Sets the line the row is said to start on.
    pub fn set_line(&mut self, line: u64) {
        self.line = line;
    }

    /// Appends a field.
    pub fn push(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Appends a field written by `f` (no intermediate string).
    pub fn push_with(&mut self, f: impl FnOnce(&mut String)) {
        f(&mut self.text);
        self.ends.push(self.text.len());
    }

    /// The row as one line of text: fields joined by `delimiter`, quoted
    /// where needed when `quoting` (for `meta.origin.raw` and reject values).
    pub fn to_line(&self, delimiter: Delimiter, quoting: bool) -> String {
        let d = delimiter.as_char();
        let mut out = String::with_capacity(self.text.len() + self.len() * 3);
        for (i, f) in self.iter().enumerate() {
            if i > 0 {
                out.push(d);
            }
            if quoting && f.contains([d, '"', '\r', '\n']) {
                out.push('"');
                out.push_str(&f.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(f);
            }
        }
        out
    }
}

/// A row that could not be read; the reader goes on with the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// What is wrong.
    pub kind: RowErrorKind,
    /// The row as text (decoded, lossily if need be), for `Reject::value`.
    /// Never put it in a reason: it may hold personal data.
    pub raw: String,
}

/// What is wrong with a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowErrorKind {
    /// The row does not have one field per column.
    FieldCount {
        /// Columns of the file.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// A field is not valid text in the file's encoding.
    Encoding {
        /// 0-based field index.
        field: usize,
        /// The encoding the file is read with.
        encoding: Encoding,
    },
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RowErrorKind::FieldCount { expected, found } => {
                write!(f, "the row has {found} fields, the file has {expected} columns")?;
                if found > expected {
                    f.write_str(" (a delimiter inside a value that should have been quoted?)")?;
                }
                Ok(())
            }
            RowErrorKind::Encoding { field, encoding } => write!(
                f,
                "field {} is not valid {encoding}; set the dialect's encoding (\"auto\" or \"windows-1252\")",
                field + 1
            ),
        }
    }
}

/// A `\r` or `\n` byte of the input.
#[derive(Clone, Copy, Debug)]
struct Break {
    at: u64,
    cr: bool,
    /// False for the `\r` of a `\r\n` (the pair ends one line).
    counts: bool,
}

/// The input as the `csv` parser reads it: a leading UTF-8 byte-order mark is
/// dropped, and every line-break byte is noted with its offset, so that the
/// reader can tell on which line a record starts.
struct Tracked<R> {
    inner: R,
    /// Offset of the next byte handed to the parser (BOM excluded).
    offset: u64,
    /// Line breaks not yet passed by the reader.
    breaks: VecDeque<Break>,
    /// The first bytes, read ahead to look for a byte-order mark.
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
}

impl<R: Read> Tracked<R> {
    /// Wraps `inner`; also says whether it started with a byte-order mark.
    /// Every leading mark is dropped (a file saved twice by a tool that adds
    /// one has two): the `csv` parser drops one more itself, but only when
    /// its first read holds the whole mark, so what it saw would depend on
    /// read sizes.
    fn new(mut inner: R) -> io::Result<(Tracked<R>, bool)> {
        let mut head = [0u8; 3];
        let mut bom = false;
        loop {
            let mut len = 0;
            while len < head.len() {
                match inner.read(&mut head[len..]) {
                    Ok(0) => break,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if len == 3 && &head == BOM {
                bom = true;
                continue;
            }
            return Ok((
                Tracked { inner, offset: 0, breaks: VecDeque::new(), head, head_len: len, head_pos: 0 },
                bom,
            ));
        }
    }

    fn note(&mut self, bytes: &[u8]) {
        let base = self.offset;
        let mut rest = bytes;
        let mut skipped = 0u64;
        while let Some(i) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let at = base + skipped + i as u64;
            if rest[i] == b'\n' {
                if let Some(last) = self.breaks.back_mut()
                    && last.cr
                    && last.at + 1 == at
                {
                    last.counts = false;
                }
                self.breaks.push_back(Break { at, cr: false, counts: true });
            } else {
                self.breaks.push_back(Break { at, cr: true, counts: true });
            }
            skipped += i as u64 + 1;
            rest = &rest[i + 1..];
        }
        self.offset += bytes.len() as u64;
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.head_pos < self.head_len {
            let n = (self.head_len - self.head_pos).min(buf.len());
            let head = self.head;
            buf[..n].copy_from_slice(&head[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            self.note(&head[self.head_pos - n..self.head_pos]);
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        self.note(&buf[..n]);
        Ok(n)
    }
}

/// A streaming reader of one delimited file.
///
/// ```
/// use ferry_sdk::text::{Dialect, TextReader};
///
/// let data = "Student Number,Last Name\r\n000123,Núñez\r\n7,a,b\r\n";
/// let mut r = TextReader::new(std::io::Cursor::new(data), &Dialect::default()).unwrap();
/// assert_eq!(r.columns(), ["Student Number", "Last Name"]);
/// assert_eq!(r.encoding().name(), "UTF-8");
/// let row = r.next_row().unwrap().unwrap().unwrap();
/// assert_eq!((row.line(), row.get(0), row.get(1)), (2, Some("000123"), Some("Núñez")));
/// let bad = r.next_row().unwrap().unwrap().unwrap_err();
/// assert_eq!(bad.line, 3);
/// assert!(r.next_row().unwrap().is_none());
/// ```
pub struct TextReader<R> {
    csv: csv::Reader<Tracked<R>>,
    record: csv::ByteRecord,
    row: Row,
    columns: Vec<String>,
    encoding: Encoding,
    bom: bool,
    delimiter: Delimiter,
    quoting: bool,
    /// The line the parser has reached, after the breaks already passed.
    line: u64,
    rows: u64,
}

impl<R> fmt::Debug for TextReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextReader")
            .field("columns", &self.columns)
            .field("encoding", &self.encoding)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(format!("read failed: {e}")),
        other => Error::data(format!("unreadable delimited text: {other:?}")),
    }
}

impl TextReader<File> {
    /// Opens the file at `path`. With `encoding = "auto"`, the file is read
    /// once to check it is UTF-8 before rows are read. Errors name the path.
    pub fn open(path: &Path, dialect: &Dialect) -> Result<TextReader<File>, Error> {
        let file = File::open(path).map_err(|e| {
            let msg = format!("cannot open {}: {e}", path.display());
            if e.kind() == io::ErrorKind::NotFound { Error::config(msg) } else { Error::io(msg) }
        })?;
        TextReader::new(file, dialect).map_err(|e| e.context(path.display()))
    }
}

impl<R: Read + Seek> TextReader<R> {
    /// Reads `input` from its current position, detecting the encoding when
    /// the dialect says `auto` (one pass over the input, then a seek back).
    pub fn new(mut input: R, dialect: &Dialect) -> Result<TextReader<R>, Error> {
        let encoding = match dialect.encoding {
            EncodingChoice::Fixed(e) => e,
            EncodingChoice::Auto => {
                let start = input.stream_position()?;
                let utf8 = is_valid_utf8(&mut input)?;
                input.seek(SeekFrom::Start(start))?;
                if utf8 { Encoding::UTF_8 } else { Encoding::WINDOWS_1252 }
            }
        };
        TextReader::with_encoding(input, dialect, encoding)
    }
}

impl<R: Read> TextReader<R> {
    /// Reads `input` in `encoding` (the dialect's `encoding` is not looked
    /// at). A UTF-8 byte-order mark is skipped and makes the input UTF-8.
    /// Reads the header line when the dialect has one.
    pub fn with_encoding(input: R, dialect: &Dialect, encoding: Encoding) -> Result<TextReader<R>, Error> {
        dialect.check().map_err(|e| Error::config(format!("dialect: {e}")))?;
        let (tracked, bom) = Tracked::new(input)?;
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .quoting(dialect.quoting)
            .double_quote(true)
            .delimiter(dialect.delimiter.byte())
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(64 * 1024)
            .from_reader(tracked);
        let mut reader = TextReader {
            csv,
            record: csv::ByteRecord::new(),
            row: Row::new(),
            columns: Vec::new(),
            encoding: if bom { Encoding::UTF_8 } else { encoding },
            bom,
            delimiter: dialect.delimiter,
            quoting: dialect.quoting,
            line: 1,
            rows: 0,
        };
        if dialect.header && reader.read_record()? {
            if let Err(field) = reader.decode() {
                return Err(Error::data(format!(
                    "column {} of the header line is not valid {}; set the dialect's encoding",
                    field + 1,
                    reader.encoding
                )));
            }
            reader.columns = reader.row.iter().map(|c| c.trim().to_owned()).collect();
        }
        if !dialect.columns.is_empty() {
            reader.columns.clone_from(&dialect.columns);
        }
        Ok(reader)
    }

    /// The column names: the header's (trimmed), or the dialect's `columns`.
    /// Empty for an empty file with a header line expected.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The encoding the input is read with.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether the input started with a UTF-8 byte-order mark.
    pub fn had_bom(&self) -> bool {
        self.bom
    }

    /// Data rows returned so far, good and bad (the header is not a row).
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// The next row: `None` at the end, `Some(Err(_))` for a row that cannot
    /// be used (wrong number of fields, undecodable text), after which the
    /// next call reads on. `Err` only when reading itself fails.
    pub fn next_row(&mut self) -> Result<Option<Result<&Row, RowError>>, Error> {
        if !self.read_record()? {
            return Ok(None);
        }
        self.rows += 1;
        if let Err(field) = self.decode() {
            let mut raw = Row::new();
            for f in &self.record {
                raw.push_with(|s| self.encoding.decode_lossy_append(f, s));
            }
            return Ok(Some(Err(RowError {
                line: self.row.line,
                kind: RowErrorKind::Encoding { field, encoding: self.encoding },
                raw: raw.to_line(self.delimiter, self.quoting),
            })));
        }
        if !self.columns.is_empty() && self.row.len() != self.columns.len() {
            return Ok(Some(Err(RowError {
                line: self.row.line,
                kind: RowErrorKind::FieldCount { expected: self.columns.len(), found: self.row.len() },
                raw: self.row.to_line(self.delimiter, self.quoting),
            })));
        }
        Ok(Some(Ok(&self.row)))
    }

    /// Parses the next record into `self.record` and sets the row's line.
    fn read_record(&mut self) -> Result<bool, Error> {
        if !self.csv.read_byte_record(&mut self.record).map_err(csv_error)? {
            return Ok(false);
        }
        let start = self.record.position().map_or(0, csv::Position::byte);
        self.row.line = self.line_at(start);
        Ok(true)
    }

    /// The line of the record whose parse started at byte `start`: breaks
    /// before it are passed, then the blank lines the parser skipped.
    fn line_at(&mut self, start: u64) -> u64 {
        let breaks = &mut self.csv.get_mut().breaks;
        while let Some(b) = breaks.front().copied() {
            if b.at >= start {
                break;
            }
            self.line += u64::from(b.counts);
            breaks.pop_front();
        }
        let mut pos = start;
        while let Some(b) = breaks.front().copied() {
            if b.at != pos {
                break;
            }
            self.line += u64::from(b.counts);
            breaks.pop_front();
            pos += 1;
        }
        self.line
    }

    /// Decodes `self.record` into `self.row`; `Err` holds the 0-based index
    /// of a field that is not valid in the encoding.
    fn decode(&mut self) -> Result<(), usize> {
        let row = &mut self.row;
        row.text.clear();
        row.ends.clear();
        if self.encoding.is_utf8() {
            let all = self.record.as_slice();
            let bad_at = match std::str::from_utf8(all) {
                Ok(s) => {
                    row.text.push_str(s);
                    let mut end = 0;
                    for (i, f) in self.record.iter().enumerate() {
                        end += f.len();
                        if !s.is_char_boundary(end) {
                            return Err(i);
                        }
                        row.ends.push(end);
                    }
                    return Ok(());
                }
                Err(e) => e.valid_up_to(),
            };
            let mut end = 0;
            for (i, f) in self.record.iter().enumerate() {
                end += f.len();
                if bad_at < end {
                    return Err(i);
                }
            }
            return Err(self.record.len().saturating_sub(1));
        }
        for (i, f) in self.record.iter().enumerate() {
            if !self.encoding.decode_append(f, &mut row.text) {
                return Err(i);
            }
            row.ends.push(row.text.len());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::text::DialectOverride;

    fn dialect(json: serde_json::Value) -> Dialect {
        Dialect::default().with(&serde_json::from_value::<DialectOverride>(json).unwrap())
    }

    /// A row read: its line, and its fields or the error's text.
    type Read = (u64, Result<Vec<String>, String>);

    /// The columns, every row, and the encoding used.
    fn read_all(data: &[u8], d: &Dialect) -> (Vec<String>, Vec<Read>, Encoding) {
        let mut r = TextReader::new(Cursor::new(data.to_vec()), d).unwrap();
        let mut out = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            out.push(match row {
                Ok(row) => (row.line(), Ok(row.iter().map(str::to_owned).collect())),
                Err(e) => (e.line, Err(e.to_string())),
            });
        }
        assert_eq!(r.rows_read(), out.len() as u64);
        (r.columns().to_vec(), out, r.encoding())
    }

    fn ok(line: u64, fields: &[&str]) -> Read {
        (line, Ok(fields.iter().map(|s| (*s).to_owned()).collect()))
    }

    #[test]
    fn line_numbers_with_every_line_ending_blank_lines_and_multiline_fields() {
        let d = Dialect::default();
        for (name, data) in [
            ("lf", "h1,h2\na,b\n\nc,d\n\"e\nx\",f\ng,h"),
            ("crlf", "h1,h2\r\na,b\r\n\r\nc,d\r\n\"e\r\nx\",f\r\ng,h\r\n"),
            ("cr", "h1,h2\ra,b\r\rc,d\r\"e\rx\",f\rg,h\r"),
        ] {
            let (cols, rows, _) = read_all(data.as_bytes(), &d);
            assert_eq!(cols, ["h1", "h2"], "{name}");
            let nl = match name {
                "lf" => "\n",
                "crlf" => "\r\n",
                _ => "\r",
            };
            let multi = format!("e{nl}x");
            assert_eq!(
                rows,
                vec![ok(2, &["a", "b"]), ok(4, &["c", "d"]), ok(5, &[&multi, "f"]), ok(7, &["g", "h"])],
                "{name}"
            );
        }
    }

    #[test]
    fn line_numbers_survive_buffer_boundaries() {
        // Rows long enough that CRLF pairs and records straddle the parser's
        // 64 KiB buffer at many places.
        let mut data = String::from("id,text\r\n");
        for i in 0..3000 {
            data.push_str(&format!("{i},{}\r\n", "x".repeat(i % 97)));
            if i % 10 == 0 {
                data.push_str("\r\n");
            }
        }
        let (_, rows, _) = read_all(data.as_bytes(), &Dialect::default());
        let mut line = 2;
        for (i, (l, r)) in rows.iter().enumerate() {
            assert_eq!(*l, line, "row {i}");
            assert_eq!(r.as_ref().unwrap()[0], i.to_string());
            line += if i % 10 == 0 { 2 } else { 1 };
        }
        assert_eq!(rows.len(), 3000);
    }

    #[test]
    fn auto_detects_windows_1252_and_utf8_with_bom() {
        let (cols, rows, enc) = read_all(b"name\r\nJos\xE9 N\xFA\xF1ez\r\nZo\xEB\r\n", &Dialect::default());
        assert_eq!(enc, Encoding::WINDOWS_1252);
        assert_eq!(cols, ["name"]);
        assert_eq!(rows, vec![ok(2, &["José Núñez"]), ok(3, &["Zoë"])]);

        let mut data = BOM.to_vec();
        data.extend_from_slice("\"name\",n\nZoë,1\n".as_bytes());
        let mut r = TextReader::new(Cursor::new(data), &Dialect::default()).unwrap();
        assert!(r.had_bom());
        assert_eq!(r.encoding(), Encoding::UTF_8);
        assert_eq!(r.columns(), ["name", "n"], "the BOM is not part of the first column name");
        assert_eq!(r.next_row().unwrap().unwrap().unwrap().get(0), Some("Zoë"));
    }

    /// Hands over one byte per read, as a pipe may.
    struct OneByte(Cursor<Vec<u8>>);

    impl io::Read for OneByte {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn every_leading_bom_is_dropped_whatever_the_read_sizes() {
        // Found by the text_reader fuzz target: a second mark was dropped by
        // the csv parser in one read of the file, and kept byte by byte.
        let data = b"\xEF\xBB\xBF\xEF\xBB\xBFid,name\n1,a\n".to_vec();
        let d = Dialect::default();
        let whole = TextReader::new(Cursor::new(data.clone()), &d).unwrap();
        let trickle = TextReader::with_encoding(OneByte(Cursor::new(data)), &d, Encoding::UTF_8).unwrap();
        assert_eq!(whole.columns(), ["id", "name"]);
        assert_eq!(trickle.columns(), ["id", "name"]);
        assert!(whole.had_bom() && trickle.had_bom());
    }

    #[test]
    fn a_bom_wins_over_a_configured_encoding() {
        let mut data = BOM.to_vec();
        data.extend_from_slice("name\nZoë\n".as_bytes());
        let (_, rows, enc) = read_all(&data, &dialect(serde_json::json!({ "encoding": "windows-1252" })));
        assert_eq!(enc, Encoding::UTF_8);
        assert_eq!(rows, vec![ok(2, &["Zoë"])]);
    }

    #[test]
    fn invalid_utf8_is_a_row_error_when_utf8_is_forced() {
        let d = dialect(serde_json::json!({ "encoding": "utf-8" }));
        let (_, rows, _) = read_all(b"a,b\n1,ok\n2,Zo\xEB\n3,\xC3\xA9\n", &d);
        assert_eq!(rows[0], ok(2, &["1", "ok"]));
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.as_ref().unwrap_err().contains("field 2 is not valid UTF-8"));
        assert_eq!(rows[2], ok(4, &["3", "é"]));
    }

    #[test]
    fn unquoted_tab_files_keep_quotes_as_text() {
        let d = dialect(serde_json::json!({ "delimiter": "tab", "quoting": false }));
        let (cols, rows, _) = read_all(b"Last\tFirst\nO\"Brien\t\"Bob\"\n", &d);
        assert_eq!(cols, ["Last", "First"]);
        assert_eq!(rows, vec![ok(2, &["O\"Brien", "\"Bob\""])]);
    }

    #[test]
    fn headerless_files_use_the_dialect_columns() {
        let d = dialect(serde_json::json!({ "header": false, "columns": ["id", "name"] }));
        let (cols, rows, _) = read_all(b"1,a\n2,b\n", &d);
        assert_eq!(cols, ["id", "name"]);
        assert_eq!(rows, vec![ok(1, &["1", "a"]), ok(2, &["2", "b"])]);
    }

    #[test]
    fn wrong_field_counts_are_row_errors_and_reading_goes_on() {
        let mut r = TextReader::new(Cursor::new("a,b\n1,2,3\n4\n5,6\n"), &Dialect::default()).unwrap();
        let e = r.next_row().unwrap().unwrap().unwrap_err();
        assert_eq!((e.line, &e.kind), (2, &RowErrorKind::FieldCount { expected: 2, found: 3 }));
        assert_eq!(e.raw, "1,2,3");
        assert!(!e.to_string().contains("1,2,3"), "reasons carry no values");
        let e = r.next_row().unwrap().unwrap().unwrap_err();
        assert_eq!((e.line, e.raw.as_str()), (3, "4"));
        assert_eq!(r.next_row().unwrap().unwrap().unwrap().get(1), Some("6"));
        assert!(r.next_row().unwrap().is_none());
        assert_eq!(r.rows_read(), 3);
    }

    #[test]
    fn empty_input_has_no_columns_and_no_rows() {
        let (cols, rows, enc) = read_all(b"", &Dialect::default());
        assert!(cols.is_empty() && rows.is_empty());
        assert_eq!(enc, Encoding::UTF_8);
    }

    #[test]
    fn rows_render_back_to_a_line() {
        let mut row = Row::new();
        row.push("a,b");
        row.push_with(|s| s.push_str("say \"hi\""));
        row.push("");
        assert_eq!(row.to_line(Delimiter::COMMA, true), "\"a,b\",\"say \"\"hi\"\"\",");
        assert_eq!(row.to_line(Delimiter::TAB, false), "a,b\tsay \"hi\"\t");
        assert_eq!(row.iter().collect::<Vec<_>>(), ["a,b", "say \"hi\"", ""]);
    }

    #[test]
    fn reads_a_file_from_disk_and_names_it_in_errors() {
        let dir = std::env::temp_dir().join(format!("ferry-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(&path, b"x\n1\n").unwrap();
        let mut r = TextReader::open(&path, &Dialect::default()).unwrap();
        assert_eq!(r.next_row().unwrap().unwrap().unwrap().get(0), Some("1"));
        let e = TextReader::open(&dir.join("missing.csv"), &Dialect::default()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Config);
        assert!(e.message.contains("missing.csv"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
