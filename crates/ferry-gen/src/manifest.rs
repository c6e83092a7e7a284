//! [`GenManifest`]: what the generator wrote, file by file, so tests and the
//! benchmark can prove every row is accounted for.
//!
//! It is saved as `manifest.toml` beside the export files, in a small subset
//! of TOML that any TOML reader accepts and [`GenManifest::parse`] reads back:
//!
//! ```toml
//! format = "ferry-gen-manifest/1"
//! system = "powerschool"
//! students = 1000
//! seed = 42
//! quirks = true
//! encoding = "utf-8"
//! total_rows = 81234
//! total_rejects = 9
//! district_tables = true   # these three only when the option was on
//! with_secrets = true
//! contacts_export = true
//!
//! [[files]]
//! name = "students.txt"
//! table = "Students"
//! rows = 1000
//! header = "numbered"          # bare | numbered | named | dotted | none
//! columns = ["ID", "DCID", "Student_Number"]   # bare names, file order
//! delimiter = "\t"
//! quoted = false
//! line_ending = "crlf"         # lf | crlf
//! bom = true
//! encoding = "utf-8"           # utf-8 | windows-1252
//! rejects = { wrong_field_count = 2 }   # rows a reader must reject, by reason
//! secrets = ["SSN", "Web_Password"]     # only when the file has any
//! ```
//!
//! Reject reasons: `wrong_field_count` (a tab inside a value),
//! `missing_student` (the row names a student that does not exist: by
//! `StudentID`, or by `StudentsDCID` in an extension table, or a test score
//! of such a row), `missing_course` (a section whose course does not exist).
//!
//! `secrets` lists the columns of a file that hold credentials or
//! government identifiers (fake values): a migration must not carry them
//! into the archive unless asked to. The key is left out when a file has
//! none, so a manifest without it reads as before.

use std::fmt::Write as _;

/// The name of the source configuration written beside a generated export.
pub const SOURCE_CONFIG_FILE: &str = "ferry-source.toml";

/// Name of the manifest file the generator writes into its output folder.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// The character set of the generated files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (a byte-order mark on one file when quirks are on).
    #[default]
    Utf8,
    /// Windows-1252, as older PowerSchool exports are believed to be.
    Cp1252,
}

impl TextEncoding {
    /// `utf-8` or `windows-1252`.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Cp1252 => "windows-1252",
        }
    }

    /// Parses a label: `utf-8`/`utf8`, `windows-1252`/`cp1252`.
    pub fn from_label(s: &str) -> Option<TextEncoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "windows-1252" | "cp1252" | "cp-1252" => Some(TextEncoding::Cp1252),
            _ => None,
        }
    }
}

/// How a file names its columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderStyle {
    /// `Student_Number`.
    Bare,
    /// `[01]Student_Number` (table number prefix).
    Numbered,
    /// `[Students]Student_Number` (table name prefix).
    Named,
    /// `STUDENTS.STUDENT_NUMBER` (Data Export Manager labels).
    Dotted,
    /// No header line; the columns are in the manifest.
    None,
}

impl HeaderStyle {
    /// The manifest's name for the style.
    pub fn label(self) -> &'static str {
        match self {
            HeaderStyle::Bare => "bare",
            HeaderStyle::Numbered => "numbered",
            HeaderStyle::Named => "named",
            HeaderStyle::Dotted => "dotted",
            HeaderStyle::None => "none",
        }
    }

    fn from_label(s: &str) -> Option<HeaderStyle> {
        Some(match s {
            "bare" => HeaderStyle::Bare,
            "numbered" => HeaderStyle::Numbered,
            "named" => HeaderStyle::Named,
            "dotted" => HeaderStyle::Dotted,
            "none" => HeaderStyle::None,
            _ => return None,
        })
    }
}

/// One generated file.
#[derive(Clone, Debug, PartialEq)]
pub struct GenFile {
    /// File name inside the output folder.
    pub name: String,
    /// The PowerSchool table it exports.
    pub table: String,
    /// Data rows (the header line is not a row).
    pub rows: u64,
    /// Header style.
    pub header: HeaderStyle,
    /// Bare column names in file order (what a headerless file's reader
    /// must be told).
    pub columns: Vec<String>,
    /// Field delimiter.
    pub delimiter: char,
    /// Whether every field is wrapped in quotes.
    pub quoted: bool,
    /// CRLF line endings (else LF).
    pub crlf: bool,
    /// Starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Character set.
    pub encoding: TextEncoding,
    /// Rows a correct reader rejects, by reason.
    pub rejects: Vec<(String, u64)>,
    /// Columns holding secrets (passwords, SSNs …), in file order; empty
    /// for most files.
    pub secrets: Vec<String>,
}

impl GenFile {
    /// Rows a correct reader rejects, all reasons.
    pub fn rejected(&self) -> u64 {
        self.rejects.iter().map(|(_, n)| n).sum()
    }

    /// Rows rejected for `reason`.
    pub fn rejected_for(&self, reason: &str) -> u64 {
        self.rejects.iter().filter(|(r, _)| r == reason).map(|(_, n)| n).sum()
    }
}

/// What the generator wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct GenManifest {
    /// The system the files imitate (`powerschool`).
    pub system: String,
    /// Students asked for.
    pub students: u32,
    /// The seed.
    pub seed: u64,
    /// Whether quirks were on.
    pub quirks: bool,
    /// The character set asked for.
    pub encoding: TextEncoding,
    /// Whether the rest of a district's tables were written.
    pub district_tables: bool,
    /// Whether Students carries its secrets.
    pub secrets: bool,
    /// Whether the combined `contacts.txt` was written.
    pub contacts_export: bool,
    /// Every file, in writing order.
    pub files: Vec<GenFile>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl GenManifest {
    /// Rows in all files.
    pub fn total_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Rows a correct reader rejects, all files.
    pub fn total_rejects(&self) -> u64 {
        self.files.iter().map(GenFile::rejected).sum()
    }

    /// The file called `name`.
    pub fn file(&self, name: &str) -> Option<&GenFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The manifest as TOML text.
    pub fn to_toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Written by ferry-gen: one [[files]] table per generated export file.");
        let _ = writeln!(s, "format = \"ferry-gen-manifest/1\"");
        let _ = writeln!(s, "system = {}", quote(&self.system));
        let _ = writeln!(s, "students = {}", self.students);
        let _ = writeln!(s, "seed = {}", self.seed);
        let _ = writeln!(s, "quirks = {}", self.quirks);
        let _ = writeln!(s, "encoding = {}", quote(self.encoding.label()));
        let _ = writeln!(s, "total_rows = {}", self.total_rows());
        let _ = writeln!(s, "total_rejects = {}", self.total_rejects());
        for (key, on) in [
            ("district_tables", self.district_tables),
            ("with_secrets", self.secrets),
            ("contacts_export", self.contacts_export),
        ] {
            if on {
                let _ = writeln!(s, "{key} = true");
            }
        }
        for f in &self.files {
            let _ = writeln!(s, "\n[[files]]");
            let _ = writeln!(s, "name = {}", quote(&f.name));
            let _ = writeln!(s, "table = {}", quote(&f.table));
            let _ = writeln!(s, "rows = {}", f.rows);
            let _ = writeln!(s, "header = {}", quote(f.header.label()));
            let cols: Vec<String> = f.columns.iter().map(|c| quote(c)).collect();
            let _ = writeln!(s, "columns = [{}]", cols.join(", "));
            let _ = writeln!(s, "delimiter = {}", quote(&f.delimiter.to_string()));
            let _ = writeln!(s, "quoted = {}", f.quoted);
            let _ = writeln!(s, "line_ending = \"{}\"", if f.crlf { "crlf" } else { "lf" });
            let _ = writeln!(s, "bom = {}", f.bom);
            let _ = writeln!(s, "encoding = {}", quote(f.encoding.label()));
            let rej: Vec<String> = f.rejects.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = writeln!(s, "rejects = {{ {} }}", rej.join(", "));
            if !f.secrets.is_empty() {
                let secrets: Vec<String> = f.secrets.iter().map(|c| quote(c)).collect();
                let _ = writeln!(s, "secrets = [{}]", secrets.join(", "));
            }
        }
        s
    }

    /// A `ferry` source configuration for the `powerschool` plugin that reads
    /// this export from the folder it is in (headerless files are named with
    /// their table and columns, as a district would).
    pub fn source_config_toml(&self) -> String {
        let mut s = String::new();
        let _ =
            writeln!(s, "# Written by ferry-gen: read this generated export with the powerschool plugin.");
        let _ = writeln!(s, "directory = \".\"");
        let _ = writeln!(s, "ignore = [{}, {}]", quote(MANIFEST_FILE), quote(SOURCE_CONFIG_FILE));
        for f in self.files.iter().filter(|f| f.header == HeaderStyle::None) {
            let cols: Vec<String> = f.columns.iter().map(|c| quote(c)).collect();
            let _ = writeln!(
                s,
                "\n[files.{}]\ntable = {}\ncolumns = [{}]",
                quote(&f.name),
                quote(&f.table),
                cols.join(", ")
            );
        }
        s
    }

    /// Reads what [`GenManifest::to_toml`] wrote.
    pub fn parse(text: &str) -> Result<GenManifest, String> {
        let mut m = GenManifest {
            system: String::new(),
            students: 0,
            seed: 0,
            quirks: false,
            encoding: TextEncoding::Utf8,
            district_tables: false,
            secrets: false,
            contacts_export: false,
            files: Vec::new(),
        };
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let err = |msg: &str| format!("manifest line {}: {msg}", n + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "[[files]]" {
                m.files.push(GenFile {
                    name: String::new(),
                    table: String::new(),
                    rows: 0,
                    header: HeaderStyle::Bare,
                    columns: Vec::new(),
                    delimiter: '\t',
                    quoted: false,
                    crlf: false,
                    bom: false,
                    encoding: TextEncoding::Utf8,
                    rejects: Vec::new(),
                    secrets: Vec::new(),
                });
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| err("expected key = value"))?;
            let (key, value) = (key.trim(), value.trim());
            let mut p = Parser { s: value, pos: 0 };
            let int = |v: &str| v.parse::<u64>().map_err(|_| err("expected a whole number"));
            let boolean = |v: &str| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(err("expected true or false")),
            };
            match m.files.last_mut() {
                None => match key {
                    "format" | "total_rows" | "total_rejects" => {}
                    "system" => m.system = p.string().map_err(|e| err(&e))?,
                    "students" => {
                        m.students = u32::try_from(int(value)?).map_err(|_| err("too many students"))?
                    }
                    "seed" => m.seed = int(value)?,
                    "quirks" => m.quirks = boolean(value)?,
                    "district_tables" => m.district_tables = boolean(value)?,
                    "with_secrets" => m.secrets = boolean(value)?,
                    "contacts_export" => m.contacts_export = boolean(value)?,
                    "encoding" => {
                        let l = p.string().map_err(|e| err(&e))?;
                        m.encoding = TextEncoding::from_label(&l).ok_or_else(|| err("unknown encoding"))?;
                    }
                    _ => return Err(err("unknown key")),
                },
                Some(f) => match key {
                    "name" => f.name = p.string().map_err(|e| err(&e))?,
                    "table" => f.table = p.string().map_err(|e| err(&e))?,
                    "rows" => f.rows = int(value)?,
                    "header" => {
                        let l = p.string().map_err(|e| err(&e))?;
                        f.header = HeaderStyle::from_label(&l).ok_or_else(|| err("unknown header style"))?;
                    }
                    "columns" => f.columns = p.strings().map_err(|e| err(&e))?,
                    "delimiter" => {
                        let d = p.string().map_err(|e| err(&e))?;
                        f.delimiter = d.chars().next().ok_or_else(|| err("empty delimiter"))?;
                    }
                    "quoted" => f.quoted = boolean(value)?,
                    "line_ending" => f.crlf = p.string().map_err(|e| err(&e))? == "crlf",
                    "bom" => f.bom = boolean(value)?,
                    "encoding" => {
                        let l = p.string().map_err(|e| err(&e))?;
                        f.encoding = TextEncoding::from_label(&l).ok_or_else(|| err("unknown encoding"))?;
                    }
                    "rejects" => f.rejects = p.counts().map_err(|e| err(&e))?,
                    "secrets" => f.secrets = p.strings().map_err(|e| err(&e))?,
                    _ => return Err(err("unknown key")),
                },
            }
        }
        Ok(m)
    }
}

/// A reader of the few TOML value forms the manifest uses.
struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s[self.pos..].starts_with([' ', '\t']) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat('"') {
            return Err("expected a quoted string".to_owned());
        }
        let mut out = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated string".to_owned())
    }

    fn strings(&mut self) -> Result<Vec<String>, String> {
        if !self.eat('[') {
            return Err("expected [".to_owned());
        }
        let mut out = Vec::new();
        if self.eat(']') {
            return Ok(out);
        }
        loop {
            out.push(self.string()?);
            if self.eat(']') {
                return Ok(out);
            }
            if !self.eat(',') {
                return Err("expected , or ]".to_owned());
            }
        }
    }

    fn counts(&mut self) -> Result<Vec<(String, u64)>, String> {
        if !self.eat('{') {
            return Err("expected {".to_owned());
        }
        let mut out = Vec::new();
        if self.eat('}') {
            return Ok(out);
        }
        loop {
            self.ws();
            let rest = &self.s[self.pos..];
            let end = rest.find([' ', '=']).ok_or("expected key = number")?;
            let key = rest[..end].to_owned();
            self.pos += end;
            if !self.eat('=') {
                return Err("expected =".to_owned());
            }
            self.ws();
            let rest = &self.s[self.pos..];
            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let n = rest[..end].parse::<u64>().map_err(|_| "expected a number".to_owned())?;
            self.pos += end;
            out.push((key, n));
            if self.eat('}') {
                return Ok(out);
            }
            if !self.eat(',') {
                return Err("expected , or }".to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let m = GenManifest {
            system: "powerschool".into(),
            students: 12,
            seed: 99,
            quirks: true,
            encoding: TextEncoding::Cp1252,
            district_tables: true,
            secrets: false,
            contacts_export: true,
            files: vec![
                GenFile {
                    name: "students.txt".into(),
                    table: "Students".into(),
                    rows: 12,
                    header: HeaderStyle::None,
                    columns: vec!["ID".into(), "U_X.\"odd\"\tname".into()],
                    delimiter: '\t',
                    quoted: false,
                    crlf: true,
                    bom: false,
                    encoding: TextEncoding::Cp1252,
                    rejects: vec![("wrong_field_count".into(), 2), ("missing_student".into(), 1)],
                    secrets: vec!["SSN".into(), "Web_Password".into()],
                },
                GenFile {
                    name: "schools.txt".into(),
                    table: "Schools".into(),
                    rows: 3,
                    header: HeaderStyle::Named,
                    columns: vec![],
                    delimiter: ',',
                    quoted: true,
                    crlf: false,
                    bom: true,
                    encoding: TextEncoding::Utf8,
                    rejects: vec![],
                    secrets: vec![],
                },
            ],
        };
        let text = m.to_toml();
        assert_eq!(GenManifest::parse(&text).unwrap(), m);
        assert_eq!(m.total_rows(), 15);
        assert_eq!(m.total_rejects(), 3);
        assert!(text.contains("rejects = { wrong_field_count = 2, missing_student = 1 }"), "{text}");
        assert!(text.contains("secrets = [\"SSN\", \"Web_Password\"]"), "{text}");
        assert_eq!(text.matches("secrets =").count(), 1, "no key for a file without secrets");
    }
}
