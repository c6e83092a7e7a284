//! [`TextReader`]: a streaming reader of delimited files, one decoded
//! [`Row`] at a time, with exact line numbers and row-level errors.
//!
//! Parsing is the `csv` crate's (flexible widths, quoting per dialect, CR,
//! LF or CRLF line ends). Line numbers are tracked here, because the `csv`
//! crate's count ignores lone CRs, misplaces records after CRLF and counts
//! blank lines into the next record.
//!
//! Bad bytes never become good-looking data: a file that is not text at
//! all, or names a column twice, is a configuration error at open; a field
//! read in a fallback encoding, or holding NUL bytes, is noted on its row
//! ([`CellNote`]); a last record cut by the end of the file is a
//! [`RowErrorKind::Truncated`] row error.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::binary::not_text;
use super::dialect::{Delimiter, Dialect};
use super::encoding::{BOM, Decoding, Encoding};
use crate::error::Error;

/// Something the reader noticed in one field of a row it could read. The
/// connector turns it into a diagnostic (a warning, or a reject for a NUL
/// in an id), naming the column: see [`CellNote::reason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellNote {
    /// 0-based field index.
    pub field: usize,
    /// What was noticed.
    pub kind: CellNoteKind,
}

/// What the reader noticed in a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellNoteKind {
    /// Not valid UTF-8 in a file that is mostly UTF-8: read in this legacy
    /// encoding.
    Legacy(Encoding),
    /// Valid UTF-8 in a file that is mostly in this legacy encoding: read as
    /// UTF-8.
    Utf8In(Encoding),
    /// The field held NUL bytes; they are removed from the value.
    Nul,
}

impl CellNote {
    /// Whether the field held a NUL byte.
    pub fn is_nul(&self) -> bool {
        self.kind == CellNoteKind::Nul
    }

    /// The reason for a diagnostic about this field of column `column`,
    /// without its value.
    pub fn reason(&self, column: &str) -> String {
        match self.kind {
            CellNoteKind::Legacy(e) => format!(
                "column {column:?}: not valid UTF-8; read as {e} (the file mixes encodings: save it as UTF-8)"
            ),
            CellNoteKind::Utf8In(e) => format!(
                "column {column:?}: valid UTF-8 in a file mostly in {e}; read as UTF-8 (the file mixes encodings: save it as UTF-8)"
            ),
            CellNoteKind::Nul => format!(
                "column {column:?}: held NUL byte(s), which were removed (a damaged export? export it again)"
            ),
        }
    }
}

/// One row of text fields, decoded, stored in one buffer. The reader reuses
/// it from row to row; a sink fills one to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    text: String,
    ends: Vec<usize>,
    line: u64,
    notes: Vec<CellNote>,
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

    /// What the reader noticed in the row's fields (usually nothing), in
    /// field order.
    pub fn notes(&self) -> &[CellNote] {
        &self.notes
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.notes.clear();
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

    /// Removes the NUL bytes of every field, noting each field that had one.
    fn strip_nuls(&mut self) {
        let mut text = String::with_capacity(self.text.len());
        let mut start = 0;
        for (i, end) in self.ends.iter_mut().enumerate() {
            let field = &self.text[start..*end];
            if field.contains('\0') {
                text.extend(field.chars().filter(|&c| c != '\0'));
                self.notes.push(CellNote { field: i, kind: CellNoteKind::Nul });
            } else {
                text.push_str(field);
            }
            start = *end;
            *end = text.len();
        }
        self.notes.sort_by_key(|n| n.field);
        self.text = text;
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
#[non_exhaustive]
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
    /// The file ends inside this, its last record: in an open quote, or
    /// without a final line break and with fewer fields than the file has
    /// columns. A file cut short by a failed copy or download looks so.
    Truncated {
        /// Columns of the file.
        expected: usize,
        /// Fields read before the end.
        found: usize,
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
            RowErrorKind::Truncated { expected, found } => write!(
                f,
                "file ends mid-record (truncated?): the last line has {found} of {expected} fields or an open quote; copy or export the file again"
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

/// How many bytes are read ahead to look for a byte-order mark and at what
/// kind of file this is.
const HEAD: usize = 8 * 1024;

/// The input's first bytes, read ahead, then the rest.
struct Prefixed<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// UTF-16 input (its byte-order mark removed) as UTF-8, streaming.
struct Utf16<R> {
    input: Prefixed<R>,
    decoder: encoding_rs::Decoder,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    /// UTF-16 bytes decoded so far, for error messages.
    consumed: u64,
    /// Decoded bytes a short read had no room for.
    spill: Vec<u8>,
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.spill.is_empty() {
            let n = self.spill.len().min(out.len());
            out[..n].copy_from_slice(&self.spill[..n]);
            self.spill.drain(..n);
            return Ok(n);
        }
        if out.len() < 4 {
            // Room for any character, the rest kept for the next call.
            let mut one = [0u8; 4];
            let n = self.read(&mut one)?;
            let k = n.min(out.len());
            out[..k].copy_from_slice(&one[..k]);
            self.spill.extend_from_slice(&one[k..n]);
            return Ok(k);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let n = self.input.read(&mut self.buf)?;
                self.start = 0;
                self.end = n;
                self.eof = n == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.buf[self.start..self.end],
                out,
                self.eof,
            );
            self.start += read;
            self.consumed += read as u64;
            match result {
                encoding_rs::DecoderResult::InputEmpty => {
                    if self.eof {
                        self.done = true;
                    }
                    if written > 0 {
                        return Ok(written);
                    }
                }
                encoding_rs::DecoderResult::OutputFull => return Ok(written),
                encoding_rs::DecoderResult::Malformed(..) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "not valid UTF-16 near byte {} (an unpaired surrogate); the file is damaged: export it again",
                            self.consumed + 2
                        ),
                    ));
                }
            }
        }
    }
}

/// The input before line tracking: as it is, or transcoded from UTF-16.
enum Input<R> {
    Plain(Prefixed<R>),
    Utf16(Box<Utf16<R>>),
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(p) => p.read(buf),
            Input::Utf16(u) => u.read(buf),
        }
    }
}

/// Where a quoting parser stands, for telling whether the input ends in an
/// open quote (the `csv` crate does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field, or doubles.
    Closing,
}

/// What the start of an input said.
struct Head {
    /// A UTF-8 byte-order mark.
    bom: bool,
    /// A UTF-16 byte-order mark: big-endian or not.
    utf16: Option<bool>,
}

/// The input as the `csv` parser reads it: a leading UTF-8 byte-order mark is
/// dropped, UTF-16 is transcoded to UTF-8, and every line-break byte is
/// noted with its offset, so that the reader can tell on which line a
/// record starts.
struct Tracked<R> {
    inner: Input<R>,
    /// Offset of the next byte handed to the parser (BOM excluded).
    offset: u64,
    /// Line breaks not yet passed by the reader.
    breaks: VecDeque<Break>,
    /// The input has ended.
    eof: bool,
    /// The last byte handed to the parser.
    last: Option<u8>,
    /// The quote state at the bytes handed so far (`None`: no quoting).
    quote: Option<Quote>,
    delimiter: u8,
}

impl<R: Read> Tracked<R> {
    /// Wraps `inner`, after reading its first bytes (a byte-order mark, or
    /// several, dropped): why it is not text, if it is not.
    fn new(mut inner: R, delimiter: u8, quoting: bool) -> io::Result<(Tracked<R>, Head, Option<String>)> {
        let mut head = vec![0u8; HEAD];
        let mut len = 0;
        while len < head.len() {
            match inner.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(len);
        let utf16 = match head.get(..2) {
            Some(b"\xFF\xFE") => Some(false),
            Some(b"\xFE\xFF") => Some(true),
            _ => None,
        };
        let bom = utf16.is_none() && head.starts_with(BOM);
        // Every leading mark is dropped (a file saved twice by a tool that
        // adds one has two): the `csv` parser drops one more itself, but only
        // when its first read holds the whole mark, so what it saw would
        // depend on read sizes.
        let skip = if bom {
            let mut n = 0;
            while head[n..].starts_with(BOM) {
                n += BOM.len();
            }
            n
        } else if utf16.is_some() {
            2
        } else {
            0
        };
        head.drain(..skip);
        let not_text = if utf16.is_some() { None } else { not_text(&head) };
        let prefixed = Prefixed { head, pos: 0, inner };
        let inner = match utf16 {
            None => Input::Plain(prefixed),
            Some(big) => Input::Utf16(Box::new(Utf16 {
                input: prefixed,
                decoder: if big { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE }
                    .new_decoder_without_bom_handling(),
                buf: vec![0u8; 64 * 1024].into_boxed_slice(),
                start: 0,
                end: 0,
                eof: false,
                done: false,
                consumed: 0,
                spill: Vec::new(),
            })),
        };
        let tracked = Tracked {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            eof: false,
            last: None,
            quote: quoting.then_some(Quote::FieldStart),
            delimiter,
        };
        Ok((tracked, Head { bom, utf16 }, not_text))
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
        if let Some(mut q) = self.quote {
            let d = self.delimiter;
            let mut i = 0;
            while i < bytes.len() {
                if q == Quote::Quoted {
                    // Skip to the next quote at once.
                    match bytes[i..].iter().position(|&b| b == b'"') {
                        Some(j) => {
                            i += j + 1;
                            q = Quote::Closing;
                        }
                        None => break,
                    }
                    continue;
                }
                let b = bytes[i];
                let end = b == d || b == b'\n' || b == b'\r';
                q = match (q, b) {
                    (Quote::FieldStart, b'"') => Quote::Quoted,
                    (Quote::Closing, b'"') => Quote::Quoted,
                    _ if end => Quote::FieldStart,
                    _ => Quote::Unquoted,
                };
                i += 1;
            }
            self.quote = Some(q);
        }
        if let Some(&b) = bytes.last() {
            self.last = Some(b);
        }
        self.offset += bytes.len() as u64;
    }

    /// Whether the input, read to its end, ends inside a quoted field.
    fn in_quotes(&self) -> bool {
        self.quote == Some(Quote::Quoted)
    }

    /// Whether the input's last byte ends a line.
    fn ends_with_break(&self) -> bool {
        matches!(self.last, Some(b'\n' | b'\r'))
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        self.note(&buf[..n]);
        Ok(n)
    }
}

/// About the first `max` bytes of the text of `input`, for sniffing how it
/// is delimited: a UTF-8 byte-order mark is removed and UTF-16 (with its
/// byte-order mark) transcoded to UTF-8.
pub fn text_head(input: impl Read, max: usize) -> io::Result<Vec<u8>> {
    let (tracked, _, _) = Tracked::new(input, b',', false)?;
    let mut out = Vec::with_capacity(max);
    tracked.inner.take(max as u64).read_to_end(&mut out)?;
    Ok(out)
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
    /// The encoding the file is said to be in.
    encoding: Encoding,
    /// How fields are decoded (UTF-8 for transcoded UTF-16).
    decoding: Decoding,
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
        csv::ErrorKind::Io(e) if e.kind() == io::ErrorKind::InvalidData => Error::data(e.to_string()),
        csv::ErrorKind::Io(e) => Error::io(format!("read failed: {e}")),
        other => Error::data(format!("unreadable delimited text: {other:?}")),
    }
}

/// The names given more than once among `columns` (empty names aside), with
/// their 1-based positions, as a configuration error's text.
fn repeated_columns(columns: &[String]) -> Option<String> {
    let mut repeated: Vec<(&str, Vec<usize>)> = Vec::new();
    for c in columns {
        if c.is_empty() || repeated.iter().any(|(r, _)| r == c) {
            continue;
        }
        let at: Vec<usize> =
            columns.iter().enumerate().filter(|(_, o)| *o == c).map(|(j, _)| j + 1).collect();
        if at.len() > 1 {
            repeated.push((c, at));
        }
    }
    if repeated.is_empty() {
        return None;
    }
    let list: Vec<String> = repeated
        .iter()
        .map(|(c, at)| {
            let at: Vec<String> = at.iter().map(usize::to_string).collect();
            format!("{c:?} (columns {})", at.join(", "))
        })
        .collect();
    Some(list.join(", "))
}

impl TextReader<File> {
    /// Opens the file at `path`. With `encoding = "auto"` (or a legacy
    /// encoding), the file is read once to choose how to decode it before
    /// rows are read (see [`Decoding::sniff`]). Errors name the path.
    pub fn open(path: &Path, dialect: &Dialect) -> Result<TextReader<File>, Error> {
        let file = File::open(path).map_err(|e| {
            let msg = format!("cannot open {}: {e}", path.display());
            if e.kind() == io::ErrorKind::NotFound { Error::config(msg) } else { Error::io(msg) }
        })?;
        TextReader::new(file, dialect).map_err(|e| e.context(path.display()))
    }
}

impl<R: Read + Seek> TextReader<R> {
    /// Reads `input` from its current position, choosing how to decode it
    /// from the dialect's encoding (one pass over the input, then a seek
    /// back; see [`Decoding::sniff`]).
    pub fn new(mut input: R, dialect: &Dialect) -> Result<TextReader<R>, Error> {
        let start = input.stream_position()?;
        let decoding = Decoding::sniff(&mut input, dialect.encoding)?;
        input.seek(SeekFrom::Start(start))?;
        TextReader::with_decoding(input, dialect, decoding)
    }
}

impl<R: Read> TextReader<R> {
    /// Reads `input` in `encoding` (the dialect's `encoding` is not looked
    /// at): [`TextReader::with_decoding`] with [`Decoding::Strict`].
    pub fn with_encoding(input: R, dialect: &Dialect, encoding: Encoding) -> Result<TextReader<R>, Error> {
        TextReader::with_decoding(input, dialect, Decoding::Strict(encoding))
    }

    /// Reads `input` decoded as `decoding` says (the dialect's `encoding` is
    /// not looked at). A UTF-8 byte-order mark is skipped and makes strict
    /// input UTF-8; a UTF-16 one (either order) makes the input UTF-16,
    /// transcoded. Reads the header line when the dialect has one.
    ///
    /// Fails with a configuration error when the input is not text (an
    /// archive, a workbook, a database, binary data: the message names the
    /// format when it is known), or names a column twice.
    pub fn with_decoding(input: R, dialect: &Dialect, decoding: Decoding) -> Result<TextReader<R>, Error> {
        dialect.check().map_err(|e| Error::config(format!("dialect: {e}")))?;
        let (tracked, head, not_text) = Tracked::new(input, dialect.delimiter.byte(), dialect.quoting)?;
        if let Some(why) = not_text {
            return Err(Error::config(format!("not a text export: {why}")));
        }
        let (encoding, decoding) = match (head.utf16, decoding) {
            (Some(big), _) => (Encoding::utf16(big), Decoding::Strict(Encoding::UTF_8)),
            (None, Decoding::Strict(_)) if head.bom => (Encoding::UTF_8, Decoding::Strict(Encoding::UTF_8)),
            (None, d) => (d.encoding(), d),
        };
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
            encoding,
            decoding,
            bom: head.bom,
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
            if let Some(list) = repeated_columns(&dialect.columns) {
                return Err(Error::config(format!(
                    "the dialect's columns name the same column more than once: {list}; give each column its own name"
                )));
            }
            reader.columns.clone_from(&dialect.columns);
        } else if let Some(list) = repeated_columns(&reader.columns) {
            return Err(Error::config(format!(
                "the header line names the same column more than once: {list}; \
                 a value could go to either, so rename or remove the repeated column(s) and export again \
                 (or name the columns in the configuration: header = true, columns = [\"…\", …])"
            )));
        }
        Ok(reader)
    }

    /// The column names: the header's (trimmed), or the dialect's `columns`.
    /// Empty for an empty file with a header line expected.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The encoding the input is read with (for a mixed file, the encoding
    /// of most of its text; see [`TextReader::decoding`]).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// How fields are decoded.
    pub fn decoding(&self) -> Decoding {
        self.decoding
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
    /// be used (wrong number of fields, undecodable text, cut by the end of
    /// the file), after which the next call reads on. `Err` only when
    /// reading itself fails. A row read in a fallback encoding, or whose
    /// NUL bytes were removed, says so in [`Row::notes`].
    pub fn next_row(&mut self) -> Result<Option<Result<&Row, RowError>>, Error> {
        if !self.read_record()? {
            return Ok(None);
        }
        self.rows += 1;
        if let Err(field) = self.decode() {
            let mut raw = Row::new();
            let lossy = self.decoding.encoding();
            for f in &self.record {
                raw.push_with(|s| lossy.decode_lossy_append(f, s));
            }
            return Ok(Some(Err(RowError {
                line: self.row.line,
                kind: RowErrorKind::Encoding { field, encoding: lossy },
                raw: raw.to_line(self.delimiter, self.quoting),
            })));
        }
        if self.ends_mid_record() {
            return Ok(Some(Err(RowError {
                line: self.row.line,
                kind: RowErrorKind::Truncated { expected: self.columns.len(), found: self.row.len() },
                raw: self.row.to_line(self.delimiter, self.quoting),
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

    /// Whether the record just read is the input's last and was cut by its
    /// end: in an open quote, or without a final line break and short of
    /// fields. A complete last line without a final line break is fine.
    fn ends_mid_record(&self) -> bool {
        let t = self.csv.get_ref();
        if !t.eof || self.csv.position().byte() != t.offset {
            return false;
        }
        t.in_quotes() || (!t.ends_with_break() && self.row.len() < self.columns.len())
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

    /// Decodes `self.record` into `self.row` (its notes included); `Err`
    /// holds the 0-based index of a field that is not valid in the encoding.
    fn decode(&mut self) -> Result<(), usize> {
        let row = &mut self.row;
        row.text.clear();
        row.ends.clear();
        row.notes.clear();
        match self.decoding {
            Decoding::Strict(e) if e.is_utf8() => decode_utf8(&self.record, row)?,
            Decoding::Strict(e) => {
                for (i, f) in self.record.iter().enumerate() {
                    if !e.decode_append(f, &mut row.text) {
                        return Err(i);
                    }
                    row.ends.push(row.text.len());
                }
            }
            Decoding::Mixed { legacy, legacy_majority } => {
                let all = self.record.as_slice();
                let fast = if legacy_majority { all.is_ascii() } else { std::str::from_utf8(all).is_ok() };
                if fast {
                    decode_utf8(&self.record, row)?;
                } else {
                    for (i, f) in self.record.iter().enumerate() {
                        match std::str::from_utf8(f) {
                            Ok(s) => {
                                row.text.push_str(s);
                                if legacy_majority && !f.is_ascii() {
                                    row.notes.push(CellNote { field: i, kind: CellNoteKind::Utf8In(legacy) });
                                }
                            }
                            Err(_) => {
                                if !legacy.decode_append(f, &mut row.text) {
                                    return Err(i);
                                }
                                if !legacy_majority {
                                    row.notes.push(CellNote { field: i, kind: CellNoteKind::Legacy(legacy) });
                                }
                            }
                        }
                        row.ends.push(row.text.len());
                    }
                }
            }
        }
        if self.record.as_slice().contains(&0) {
            row.strip_nuls();
        }
        Ok(())
    }
}

/// Decodes a record that should be UTF-8 into `row`; `Err` holds the 0-based
/// index of a field that is not.
fn decode_utf8(record: &csv::ByteRecord, row: &mut Row) -> Result<(), usize> {
    let all = record.as_slice();
    let bad_at = match std::str::from_utf8(all) {
        Ok(s) => {
            row.text.push_str(s);
            let mut end = 0;
            for (i, f) in record.iter().enumerate() {
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
    for (i, f) in record.iter().enumerate() {
        end += f.len();
        if bad_at < end {
            return Err(i);
        }
    }
    Err(record.len().saturating_sub(1))
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

    /// A row's fields and notes.
    type Noted = (Vec<String>, Vec<CellNote>);

    /// Every row's fields and notes (rows that fail are left out).
    fn notes_of(data: &[u8], d: &Dialect) -> (Encoding, Vec<Noted>) {
        let mut r = TextReader::new(Cursor::new(data.to_vec()), d).unwrap();
        let mut out = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            let row = row.unwrap();
            out.push((row.iter().map(str::to_owned).collect(), row.notes().to_vec()));
        }
        (r.encoding(), out)
    }

    #[test]
    fn a_utf8_file_with_a_stray_windows_1252_byte_is_read_field_by_field_and_says_so() {
        // UTF-8 names, and one line where a Windows tool wrote "é" as 0xE9.
        let mut bytes = "id,last,first\n1,Núñez,Zoë\n2,Jos".as_bytes().to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(",Ana\n3,Çelik,José\n".as_bytes());
        let (enc, rows) = notes_of(&bytes, &Dialect::default());
        assert_eq!(enc, Encoding::UTF_8);
        assert_eq!(rows[0].0, ["1", "Núñez", "Zoë"], "UTF-8 rows stay UTF-8");
        assert!(rows[0].1.is_empty());
        assert_eq!(rows[1].0, ["2", "José", "Ana"]);
        assert_eq!(rows[1].1, [CellNote { field: 1, kind: CellNoteKind::Legacy(Encoding::WINDOWS_1252) }]);
        assert_eq!(
            rows[1].1[0].reason("last"),
            "column \"last\": not valid UTF-8; read as windows-1252 (the file mixes encodings: save it as UTF-8)"
        );
        assert_eq!(rows[2].0, ["3", "Çelik", "José"]);
        assert!(rows[2].1.is_empty());
        // Configured as Windows-1252, the UTF-8 rows are still not mojibake.
        let (_, rows) = notes_of(&bytes, &dialect(serde_json::json!({ "encoding": "windows-1252" })));
        assert_eq!(rows[0].0, ["1", "Núñez", "Zoë"]);
        assert_eq!(rows[1].1.len(), 1);
    }

    #[test]
    fn a_genuine_windows_1252_file_is_read_silently() {
        let data = b"id,last\n1,Jos\xE9\n2,N\xFA\xF1ez\n3,Kim\n";
        for d in [Dialect::default(), dialect(serde_json::json!({ "encoding": "windows-1252" }))] {
            let (enc, rows) = notes_of(data, &d);
            assert_eq!(enc, Encoding::WINDOWS_1252);
            assert_eq!(rows.iter().map(|r| r.0[1].as_str()).collect::<Vec<_>>(), ["José", "Núñez", "Kim"]);
            assert!(rows.iter().all(|r| r.1.is_empty()), "{rows:?}");
        }
        // Mostly Windows-1252 with one UTF-8 line: that line is read as UTF-8 and noted.
        let mut data = b"id,last\n1,Jos\xE9\n2,N\xFA\xF1ez\n".to_vec();
        data.extend_from_slice("3,Zoë\n".as_bytes());
        let (enc, rows) = notes_of(&data, &Dialect::default());
        assert_eq!(enc, Encoding::WINDOWS_1252);
        assert_eq!(rows[2].0[1], "Zoë");
        assert_eq!(rows[2].1, [CellNote { field: 1, kind: CellNoteKind::Utf8In(Encoding::WINDOWS_1252) }]);
        assert!(rows[0].1.is_empty() && rows[1].1.is_empty());
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded_in_both_byte_orders() {
        let text = "ID\tLast_Name\r\n1\tNúñez\r\n2\t王\r\n";
        for big in [false, true] {
            let mut data: Vec<u8> = if big { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
            for u in text.encode_utf16() {
                data.extend_from_slice(&if big { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            let d = dialect(serde_json::json!({ "delimiter": "tab", "quoting": false }));
            let (cols, rows, enc) = read_all(&data, &d);
            assert_eq!(enc.name(), if big { "UTF-16BE" } else { "UTF-16LE" });
            assert_eq!(cols, ["ID", "Last_Name"]);
            assert_eq!(rows, vec![ok(2, &["1", "Núñez"]), ok(3, &["2", "王"])]);
            assert_eq!(text_head(Cursor::new(&data), 9).unwrap(), b"ID\tLast_N");
        }
    }

    #[test]
    fn nul_bytes_are_removed_and_noted_per_field() {
        let (_, rows) = notes_of(b"id,name\n\x00123,Ana\n124,Bo\x00b\n125,Cy\n", &Dialect::default());
        assert_eq!(rows[0].0, ["123", "Ana"]);
        assert_eq!(rows[0].1, [CellNote { field: 0, kind: CellNoteKind::Nul }]);
        assert!(rows[0].1[0].is_nul());
        assert_eq!(rows[1].0, ["124", "Bob"]);
        assert_eq!(rows[1].1, [CellNote { field: 1, kind: CellNoteKind::Nul }]);
        assert!(rows[2].1.is_empty());
    }

    #[test]
    fn a_repeated_column_name_is_a_configuration_error_naming_it() {
        let e = TextReader::new(Cursor::new("ID,Name,Grade,Name,ID\n1,a,9,b,2\n"), &Dialect::default())
            .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Config);
        assert!(e.message.contains("\"ID\" (columns 1, 5), \"Name\" (columns 2, 4)"), "{e}");
        // Empty names (trailing delimiters) are not names.
        assert!(TextReader::new(Cursor::new("ID,,\n1,,\n"), &Dialect::default()).is_ok());
        let d = dialect(serde_json::json!({ "header": false, "columns": ["a", "a"] }));
        assert!(
            TextReader::new(Cursor::new("1,2\n"), &d).unwrap_err().message.contains("\"a\" (columns 1, 2)")
        );
    }

    #[test]
    fn a_file_that_is_not_text_fails_to_open_naming_its_format() {
        let e =
            TextReader::new(Cursor::new(b"PK\x03\x04\x14\0\x08\0students.txt".to_vec()), &Dialect::default())
                .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Config);
        assert!(e.message.starts_with("not a text export: this is a ZIP archive; unzip it first"), "{e}");
        let mut x = 7u32;
        let noise: Vec<u8> = (0..3000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let e = TextReader::new(Cursor::new(noise), &Dialect::default()).unwrap_err();
        assert!(e.message.contains("not a text export") && e.message.contains("control bytes"), "{e}");
    }

    #[test]
    fn a_last_record_cut_by_the_end_of_the_file_is_truncated() {
        let truncated = |data: &str, d: &Dialect| {
            let (_, rows, _) = read_all(data.as_bytes(), d);
            rows.last().cloned().unwrap()
        };
        let csv = Dialect::default();
        // Fewer fields and no final newline.
        let (line, r) = truncated("a,b,c\n1,2,3\n4,5", &csv);
        assert_eq!(line, 3);
        assert!(r.unwrap_err().starts_with("file ends mid-record (truncated?)"));
        // An open quote, even with a final newline.
        let (line, r) = truncated("a,b\n1,2\n3,\"Sm\n", &csv);
        assert_eq!(line, 3);
        assert!(r.unwrap_err().starts_with("file ends mid-record (truncated?)"));
        // A complete last line without a final newline is fine, quoted or not.
        assert_eq!(truncated("a,b,c\n1,2,3", &csv), ok(2, &["1", "2", "3"]));
        assert_eq!(truncated("a,b\n1,\"x,y\"", &csv), ok(2, &["1", "x,y"]));
        // A short line that does end with a newline is a field-count error, not truncation.
        let (_, r) = truncated("a,b,c\n1,2\n", &csv);
        assert!(r.unwrap_err().starts_with("the row has 2 fields"));
        // Unquoted tab files: a cut line.
        let tab = dialect(serde_json::json!({ "delimiter": "tab", "quoting": false }));
        let (_, r) = truncated("a\tb\tc\n1\t\"2\t3\n4\t5", &tab);
        assert!(r.unwrap_err().starts_with("file ends mid-record"));
        let (_, r) = truncated("a\tb\n1\t\"2\n", &tab);
        assert_eq!(r.unwrap(), ["1", "\"2"], "no quoting: a quote opens nothing");
        // Long files: the end is found across buffer boundaries.
        let mut long = String::from("id,text\n");
        for i in 0..20_000 {
            long.push_str(&format!("{i},\"q \"\"{i}\"\" x\"\n"));
        }
        let (_, rows, _) = read_all(long.as_bytes(), &csv);
        assert!(rows.iter().all(|r| r.1.is_ok()));
        long.push_str("20000,\"cut");
        let (_, rows, _) = read_all(long.as_bytes(), &csv);
        assert_eq!(rows.len(), 20_001);
        assert!(rows[20_000].1.as_ref().unwrap_err().starts_with("file ends mid-record"));
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
