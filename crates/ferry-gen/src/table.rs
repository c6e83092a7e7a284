//! [`TableWriter`]: writes one export file row by row, in a given layout
//! (header style, delimiter, quoting, line ending, byte-order mark, encoding),
//! counting rows and the rejects the file is expected to cause.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::day::{self, DateStyle, Day};
use crate::manifest::{GenFile, HeaderStyle, TextEncoding};

/// How a file is laid out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub style: HeaderStyle,
    pub delimiter: u8,
    pub quoted: bool,
    pub crlf: bool,
    pub bom: bool,
    pub encoding: TextEncoding,
    pub dates: DateStyle,
    /// Flags written as `true`/`false` instead of `1`/`0`.
    pub word_bools: bool,
}

impl Layout {
    /// PowerSchool's plain export: bare headers, tabs, LF, UTF-8, MM/DD/YYYY.
    pub fn plain(encoding: TextEncoding) -> Layout {
        Layout {
            style: HeaderStyle::Bare,
            delimiter: b'\t',
            quoted: false,
            crlf: false,
            bom: false,
            encoding,
            dates: DateStyle::Us,
            word_bools: false,
        }
    }
}

/// One export file being written.
pub(crate) struct TableWriter {
    name: String,
    table: &'static str,
    columns: Vec<String>,
    layout: Layout,
    out: BufWriter<File>,
    line: String,
    bytes: Vec<u8>,
    fields: usize,
    rows: u64,
    /// The current row is expected to have a wrong field count.
    bad_row: bool,
    rejects: Vec<(String, u64)>,
    secrets: Vec<String>,
}

/// Appends `s` encoded as Windows-1252; characters it cannot represent
/// become `?` (the generator only uses representable ones).
pub(crate) fn encode_cp1252(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        let u = u32::from(c);
        let b = if u < 0x80 || (0xA0..=0xFF).contains(&u) {
            u as u8
        } else {
            match c {
                '€' => 0x80,
                '‚' => 0x82,
                'ƒ' => 0x83,
                '„' => 0x84,
                '…' => 0x85,
                '†' => 0x86,
                '‡' => 0x87,
                'ˆ' => 0x88,
                '‰' => 0x89,
                'Š' => 0x8A,
                '‹' => 0x8B,
                'Œ' => 0x8C,
                'Ž' => 0x8E,
                '‘' => 0x91,
                '’' => 0x92,
                '“' => 0x93,
                '”' => 0x94,
                '•' => 0x95,
                '–' => 0x96,
                '—' => 0x97,
                '˜' => 0x98,
                '™' => 0x99,
                'š' => 0x9A,
                '›' => 0x9B,
                'œ' => 0x9C,
                'ž' => 0x9E,
                'Ÿ' => 0x9F,
                _ => b'?',
            }
        };
        out.push(b);
    }
}

fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

impl TableWriter {
    /// Creates `dir/name` and writes the header line (unless headerless).
    pub fn create(
        dir: &Path,
        name: &str,
        table: &'static str,
        number: Option<u16>,
        columns: &[&str],
        layout: Layout,
    ) -> io::Result<TableWriter> {
        let file = File::create(dir.join(name))?;
        let mut w = TableWriter {
            name: name.to_owned(),
            table,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            layout,
            out: BufWriter::with_capacity(256 * 1024, file),
            line: String::with_capacity(1024),
            bytes: Vec::with_capacity(1024),
            fields: 0,
            rows: 0,
            bad_row: false,
            rejects: Vec::new(),
            secrets: Vec::new(),
        };
        if layout.bom && layout.encoding == TextEncoding::Utf8 {
            w.out.write_all(b"\xEF\xBB\xBF")?;
        }
        if layout.style != HeaderStyle::None {
            let headers: Vec<String> =
                columns.iter().map(|c| header(c, table, number, layout.style)).collect();
            for h in &headers {
                w.s(h);
            }
            w.flush_line()?;
        }
        Ok(w)
    }

    fn sep(&mut self) {
        if self.fields > 0 {
            self.line.push(char::from(self.layout.delimiter));
        }
        self.fields += 1;
    }

    /// A text field.
    pub fn s(&mut self, v: &str) {
        self.sep();
        if self.layout.quoted {
            self.line.push('"');
            for c in v.chars() {
                if c == '"' {
                    self.line.push('"');
                }
                self.line.push(c);
            }
            self.line.push('"');
        } else {
            self.line.push_str(v);
        }
    }

    /// An empty field.
    pub fn blank(&mut self) {
        self.s("");
    }

    /// A whole number.
    pub fn i(&mut self, v: i64) {
        if self.layout.quoted {
            let mut s = String::new();
            push_int(&mut s, v);
            self.s(&s);
        } else {
            self.sep();
            push_int(&mut self.line, v);
        }
    }

    /// A decimal number with `decimals` digits after the point.
    pub fn f(&mut self, v: f64, decimals: usize) {
        let s = format!("{v:.decimals$}");
        self.s(&s);
    }

    /// A date in the file's date style.
    pub fn d(&mut self, v: Day) {
        let style = self.layout.dates;
        self.d_as(v, style);
    }

    /// A date in a given style.
    pub fn d_as(&mut self, v: Day, style: DateStyle) {
        let mut s = String::with_capacity(10);
        day::write(&mut s, v, style);
        self.s(&s);
    }

    /// A date or a blank.
    pub fn dopt(&mut self, v: Option<Day>) {
        match v {
            Some(d) => self.d(d),
            None => self.blank(),
        }
    }

    /// A flag: `1`/`0`, or `true`/`false` in files that spell them out.
    pub fn b(&mut self, v: bool) {
        let s = match (self.layout.word_bools, v) {
            (true, true) => "true",
            (true, false) => "false",
            (false, true) => "1",
            (false, false) => "0",
        };
        self.s(s);
    }

    /// Marks the current row as one that has the wrong number of fields (a
    /// delimiter inside a value) and will be rejected.
    pub fn expect_bad_row(&mut self) {
        self.bad_row = true;
        self.count_reject("wrong_field_count");
    }

    /// Counts one row of this file that a reader must reject, by reason.
    pub fn count_reject(&mut self, reason: &str) {
        match self.rejects.iter_mut().find(|(r, _)| r == reason) {
            Some(slot) => slot.1 += 1,
            None => self.rejects.push((reason.to_owned(), 1)),
        }
    }

    /// Marks `columns` (names of this file's columns) as holding secrets.
    pub fn mark_secrets(&mut self, columns: &[&str]) {
        for c in columns {
            debug_assert!(self.columns.iter().any(|x| x == c), "{}: no column {c}", self.name);
            self.secrets.push((*c).to_owned());
        }
    }

    /// Ends the row.
    pub fn end(&mut self) -> io::Result<()> {
        debug_assert!(
            self.bad_row || self.fields == self.columns.len(),
            "{}: row has {} fields, {} columns",
            self.name,
            self.fields,
            self.columns.len()
        );
        self.bad_row = false;
        self.rows += 1;
        self.flush_line()
    }

    fn flush_line(&mut self) -> io::Result<()> {
        self.line.push_str(if self.layout.crlf { "\r\n" } else { "\n" });
        match self.layout.encoding {
            TextEncoding::Utf8 => self.out.write_all(self.line.as_bytes())?,
            TextEncoding::Cp1252 => {
                self.bytes.clear();
                encode_cp1252(&self.line, &mut self.bytes);
                self.out.write_all(&self.bytes)?;
            }
        }
        self.line.clear();
        self.fields = 0;
        Ok(())
    }

    /// Flushes the file and describes it for the manifest.
    pub fn finish(mut self) -> io::Result<GenFile> {
        self.out.flush()?;
        Ok(GenFile {
            name: self.name,
            table: self.table.to_owned(),
            rows: self.rows,
            header: self.layout.style,
            columns: self.columns,
            delimiter: char::from(self.layout.delimiter),
            quoted: self.layout.quoted,
            crlf: self.layout.crlf,
            bom: self.layout.bom && self.layout.encoding == TextEncoding::Utf8,
            encoding: self.layout.encoding,
            rejects: self.rejects,
            secrets: self.secrets,
        })
    }
}

/// The header text of `column` in `style`. Columns of another table
/// (`U_StudentsUserFields.Locker`) keep their qualifier.
fn header(column: &str, table: &str, number: Option<u16>, style: HeaderStyle) -> String {
    let foreign = column.contains('.');
    match style {
        HeaderStyle::Bare | HeaderStyle::None => column.to_owned(),
        _ if foreign => {
            if style == HeaderStyle::Dotted {
                column.to_ascii_uppercase()
            } else {
                column.to_owned()
            }
        }
        HeaderStyle::Numbered => match number {
            Some(n) => format!("[{n:02}]{column}"),
            None => format!("[{table}]{column}"),
        },
        HeaderStyle::Named => format!("[{table}]{column}"),
        HeaderStyle::Dotted => format!("{}.{}", table.to_ascii_uppercase(), column.to_ascii_uppercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_styles() {
        assert_eq!(
            header("Student_Number", "Students", Some(1), HeaderStyle::Numbered),
            "[01]Student_Number"
        );
        assert_eq!(header("Att_Code", "Attendance_Code", Some(156), HeaderStyle::Numbered), "[156]Att_Code");
        assert_eq!(header("Course_Name", "Courses", Some(2), HeaderStyle::Named), "[Courses]Course_Name");
        assert_eq!(
            header("Student_Number", "Students", Some(1), HeaderStyle::Dotted),
            "STUDENTS.STUDENT_NUMBER"
        );
        assert_eq!(
            header("U_StudentsUserFields.Locker", "Students", Some(1), HeaderStyle::Dotted),
            "U_STUDENTSUSERFIELDS.LOCKER"
        );
        assert_eq!(header("U_X.Locker", "Students", Some(1), HeaderStyle::Named), "U_X.Locker");
    }

    #[test]
    fn cp1252() {
        let mut b = Vec::new();
        encode_cp1252("José Šárka Žofie € 漢", &mut b);
        assert_eq!(b, b"Jos\xE9 \x8A\xE1rka \x8Eofie \x80 ?");
    }

    #[test]
    fn ints() {
        for n in [0i64, 7, -7, 1234567890, i64::MIN + 1] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
