//! Finding the export files in the folder, sniffing how each is written
//! (delimiter, quoting, encoding), reading its header and deciding which
//! PowerSchool table it is.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use ferry_sdk::text::{
    DateFormat, Decoding, Delimiter, Dialect, Encoding, EncodingChoice, TextReader, ValueParser, text_head,
};
use ferry_sdk::{Error, tracing};

use crate::config::SourceConfig;
use crate::header::{self, Column};
use crate::tables::{Table, fold};

/// One export file, ready to be read.
#[derive(Clone, Debug)]
pub struct FileSpec {
    /// Where it is.
    pub path: PathBuf,
    /// Its name, as records and rejects cite it.
    pub name: String,
    /// The table it exports ([`Table::Unmapped`] for a table the connector
    /// does not map: it is kept as a source table only).
    pub table: Table,
    /// The table's name as PowerSchool calls it (`StoredGrades`,
    /// `U_StudentsUserFields`): the source table's name.
    pub source_table: String,
    /// How it is written; the encoding is fixed after detection.
    pub dialect: Dialect,
    /// Its columns.
    pub columns: Vec<Column>,
    /// The encoding it is read with (of most of its text, for a file that
    /// mixes UTF-8 and Windows-1252).
    pub encoding: Encoding,
    /// How its fields are decoded.
    pub decoding: Decoding,
}

impl FileSpec {
    /// Opens a reader positioned after the header.
    pub fn open(&self) -> Result<TextReader<File>, Error> {
        let file =
            File::open(&self.path).map_err(|e| Error::io(format!("cannot open {}: {e}", self.name)))?;
        TextReader::with_decoding(file, &self.dialect, self.decoding).map_err(|e| e.context(&self.name))
    }

    /// Whether the file has a column with `key`.
    pub fn has(&self, key: &str) -> bool {
        self.columns.iter().any(|c| c.key == key)
    }

    /// The headers of the secret columns left out.
    pub fn secrets(&self) -> Vec<String> {
        self.columns.iter().filter(|c| c.secret).map(|c| c.header.clone()).collect()
    }
}

/// Whether a table the connector does not map is a one-to-one extension of
/// Students: a `U_` or `S_` table keyed by `StudentsDCID`, and not a child
/// table (`S_<ST>_<TBL>_C`, several rows per student).
fn is_student_extension(table: &str, keys: &[String]) -> bool {
    let t = table.to_ascii_uppercase();
    (t.starts_with("U_") || t.starts_with("S_"))
        && !t.ends_with("_C")
        && keys.iter().any(|k| k == "studentsdcid")
}

/// The name of an unmapped file's table: the qualifier most of its headers
/// share, or the file's name without its extension.
fn unmapped_name(name: &str, headers: &[String]) -> String {
    header::other_table_from_headers(headers)
        .unwrap_or_else(|| name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_owned())
}

/// The first bytes of a file's text, for sniffing (UTF-16 as UTF-8).
fn sample(path: &Path) -> io::Result<Vec<u8>> {
    text_head(File::open(path)?, 64 * 1024)
}

/// The delimiter and quoting a sample suggests. Tab-delimited files are
/// read without quote processing, as PowerSchool writes them; other
/// delimiters quote when some field starts with a quote.
pub fn sniff(sample: &[u8]) -> (Delimiter, bool) {
    let first = sample.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first.iter().filter(|&&b| b == c).count();
    let candidates = [
        (Delimiter::TAB, count(b'\t')),
        (Delimiter::COMMA, count(b',')),
        (Delimiter::PIPE, count(b'|')),
        (Delimiter::SEMICOLON, count(b';')),
    ];
    let mut best = (Delimiter::TAB, 0);
    for (d, n) in candidates {
        if n > best.1 {
            best = (d, n);
        }
    }
    let delimiter = best.0;
    if delimiter == Delimiter::TAB {
        return (delimiter, false);
    }
    let d = delimiter.byte();
    let quoted = sample
        .split(|&b| b == b'\n')
        .take(50)
        .any(|line| line.first() == Some(&b'"') || line.windows(2).any(|w| w[0] == d && w[1] == b'"'));
    (delimiter, quoted)
}

/// PowerSchool's date formats, most common first: `M/D/YYYY` (also
/// zero-padded), ISO `YYYY-MM-DD`, `M/D/YY`; a time of day after the date
/// is ignored.
pub fn powerschool_date_formats() -> Vec<DateFormat> {
    ["%-m/%-d/%Y", "%Y-%m-%d", "%-m/%-d/%y"].iter().filter_map(|f| DateFormat::new(f).ok()).collect()
}

/// Whether a first line is data rather than column names: PowerSchool
/// column names are never numbers or dates.
fn looks_like_data(cells: &[String], dialect: &Dialect) -> bool {
    let parser = ValueParser::new(dialect);
    cells.iter().map(|c| c.trim()).any(|c| {
        !c.is_empty()
            && (crate::values::int(c).is_some()
                || ferry_sdk::model::Decimal::parse(c).is_ok()
                || parser.parse_date(c).is_ok())
    })
}

fn is_data_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.')
        && [".txt", ".csv", ".tsv", ".tab", ".dat"].iter().any(|e| lower.ends_with(e))
        && lower != "import-guide.md"
}

/// Headers that come down to the same column (`Last_Name` and
/// `[01]Last_Name` in a Students export), with their 1-based positions.
fn repeated_keys(columns: &[Column]) -> Option<String> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        if c.key.is_empty() || groups.iter().any(|g| columns[g[0]].key == c.key) {
            continue;
        }
        let same: Vec<usize> = (i..columns.len()).filter(|&j| columns[j].key == c.key).collect();
        if same.len() > 1 {
            groups.push(same);
        }
    }
    if groups.is_empty() {
        return None;
    }
    let list: Vec<String> = groups
        .iter()
        .map(|g| {
            let named: Vec<String> =
                g.iter().map(|&j| format!("{:?} (column {})", columns[j].header, j + 1)).collect();
            named.join(" and ")
        })
        .collect();
    Some(list.join(", "))
}

/// Every export file of the folder with its table, in name order. A file
/// whose table is not one the connector maps is [`Table::Unmapped`]: it is
/// still read and kept as a source table, never a reason to stop. An empty
/// file is skipped.
pub fn discover(dir: &Path, cfg: &SourceConfig) -> Result<Vec<FileSpec>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::config(format!("directory {}: cannot read it: {e}", dir.display())))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}: {e}", dir.display())))?;
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            tracing::warn!("skipping a file whose name is not valid Unicode in {}", dir.display());
            continue;
        };
        let configured = cfg.files.contains_key(&name);
        if (configured || is_data_file(&name)) && !cfg.ignore.contains(&name) {
            names.push(name);
        }
    }
    for configured in cfg.files.keys() {
        if !names.contains(configured) && !cfg.ignore.contains(configured) {
            return Err(Error::config(format!("files.\"{configured}\": no such file in {}", dir.display())));
        }
    }
    names.sort();
    let found = names.len();
    let pivot = cfg.two_digit_year_pivot.unwrap_or(50);
    let mut out = Vec::new();
    for name in names {
        let fc = cfg.files.get(&name).cloned().unwrap_or_default();
        if fc.ignore {
            continue;
        }
        let path = dir.join(&name);
        let sample = sample(&path).map_err(|e| Error::io(format!("{name}: cannot read: {e}")))?;
        let (delimiter, quoting) = sniff(&sample);
        let mut dialect = Dialect {
            delimiter,
            quoting,
            two_digit_year_pivot: pivot,
            date_formats: powerschool_date_formats(),
            ..Dialect::default()
        };
        if let Some(global) = &cfg.dialect {
            dialect = dialect.with(global);
        }
        dialect = dialect.with(&fc.dialect());
        dialect.check().map_err(|e| Error::config(format!("files.\"{name}\": {e}")))?;
        let decoding = match dialect.encoding {
            EncodingChoice::Fixed(e) if e.is_utf8() => Decoding::Strict(e),
            choice => {
                let f = File::open(&path).map_err(|e| Error::io(format!("{name}: cannot open: {e}")))?;
                Decoding::sniff(f, choice).map_err(|e| Error::io(format!("{name}: cannot read: {e}")))?
            }
        };
        let file = File::open(&path).map_err(|e| Error::io(format!("{name}: cannot open: {e}")))?;
        let reader = TextReader::with_decoding(file, &dialect, decoding).map_err(|e| e.context(&name))?;
        let headers = reader.columns().to_vec();
        let (encoding, decoding) = (reader.encoding(), reader.decoding());
        dialect.encoding = EncodingChoice::Fixed(encoding);
        drop(reader);
        if let Decoding::Mixed { legacy, .. } = decoding {
            tracing::warn!(
                "{name}: mixes UTF-8 and {legacy}: each field is read as whichever it is, and the fields read as the file's minority are reported"
            );
        }
        if headers.is_empty() {
            tracing::warn!("{name}: empty file, skipped");
            continue;
        }
        let told = fc.header.is_some()
            || fc.columns.is_some()
            || cfg.dialect.as_ref().is_some_and(|d| d.header.is_some() || d.columns.is_some());
        // A headerless file read as if its first row were names would lose
        // that row and misread every other: say so instead.
        if !told && dialect.header && looks_like_data(&headers, &dialect) {
            return Err(Error::config(format!(
                "{name}: its first line looks like a row of data, not a header (a cell is a number or a date). \
                 Name the file's columns in [files.\"{name}\"] columns = [\"ID\", …] (with table = \"…\" \
                 if its name does not say which table it is), or set header = true there if the first line is a header after all"
            )));
        }
        let configured = match &fc.table {
            Some(t) => Some(Table::from_name(t).ok_or_else(|| {
                let known: Vec<&str> = Table::all().map(Table::name).collect();
                Error::config(format!(
                    "files.\"{name}\".table: unknown table {t:?}; known tables: {}",
                    known.join(", ")
                ))
            })?),
            None => None,
        };
        let keys: Vec<String> = headers.iter().map(|h| fold(header::split(h).1)).collect();
        let mut table = configured
            .or_else(|| header::table_from_headers(&headers))
            .or_else(|| Table::from_file_name(&name))
            .or_else(|| Table::from_columns(&keys));
        // A table recognized by name or headers must have the columns its
        // rows need; otherwise the columns say what the file is (a contacts
        // export named contacts.txt is not Ferry's flat contacts layout).
        // The needed columns must be the table's own: a column of another
        // table with the same name (`StudentContactAssoc.StudentContactAssocID`
        // in a StudentContactDetail export) is a related column, which the
        // table's rows never read.
        let own_keys = |t: Table| -> Vec<String> {
            header::columns(&headers, t).into_iter().filter(|c| c.own).map(|c| c.key).collect()
        };
        if let Some(t) = table {
            let missing = t.missing_columns(&own_keys(t));
            if !missing.is_empty() {
                let by_columns = Table::from_columns(&keys)
                    .filter(|c| *c != t && c.missing_columns(&own_keys(*c)).is_empty());
                match (configured, by_columns) {
                    (None, Some(other)) => {
                        tracing::info!(
                            "{name}: read as {other}, which its columns are (it lacks {t}'s {})",
                            missing.join(", ")
                        );
                        table = Some(other);
                    }
                    _ => {
                        let related = if missing.iter().any(|m| keys.iter().any(|k| k == m)) {
                            " (a column of that name qualified with another table is that table's, not this one's)"
                        } else {
                            ""
                        };
                        return Err(Error::config(format!(
                            "{name}: recognized as PowerSchool table {t}, but it lacks the column(s) {} that every row of {t} needs{related}; \
                             export the table with them, or name the file's real table in [files.\"{name}\"] table = \"…\"",
                            missing.join(", ")
                        )));
                    }
                }
            }
        }
        let (table, source_table) = match table {
            Some(t) => (t, t.name().to_owned()),
            None if is_student_extension(&unmapped_name(&name, &headers), &keys) => {
                let source = unmapped_name(&name, &headers);
                tracing::info!(
                    "{name}: table {source}, an extension of Students (by StudentsDCID), merged into the students"
                );
                (Table::StudentExtension, source)
            }
            None => {
                let source = unmapped_name(&name, &headers);
                tracing::info!(
                    "{name}: table {source} is not mapped to canonical records; it is kept as a source table \
                     (name its table in [files.\"{name}\"] table = \"…\" if it is one of: {})",
                    Table::all().map(Table::name).collect::<Vec<_>>().join(", ")
                );
                (Table::Unmapped, source)
            }
        };
        let mut columns = header::columns(&headers, table);
        if matches!(table, Table::Unmapped | Table::StudentExtension) {
            // A qualifier naming the file's own (unknown) table is dropped too.
            for c in &mut columns {
                if let (Some(header::Qualifier::Other(q)), col) = header::split(&c.header)
                    && q.eq_ignore_ascii_case(&source_table)
                {
                    c.key = fold(col);
                    c.own = true;
                    c.ext_key = col.to_owned();
                }
            }
        }
        if !cfg.include_secrets {
            for c in &mut columns {
                c.secret = crate::secrets::is_secret(header::split(&c.header).1);
            }
        }
        tracing::info!(
            "{name}: table {source_table}, {} columns, delimiter {:?}, quoting {}, {}",
            columns.len(),
            dialect.delimiter,
            dialect.quoting,
            encoding
        );
        if let Some(list) = repeated_keys(&columns) {
            return Err(Error::config(format!(
                "{name}: the header names the same column of {source_table} more than once: {list}; \
                 a value could go to either, so remove the repeated column(s) and export again"
            )));
        }
        out.push(FileSpec { path, name, table, source_table, dialect, columns, encoding, decoding });
    }
    // Nothing to migrate is a mistake (a wrong folder, an export not yet
    // unpacked), not an empty committed run.
    if !out.iter().any(|f| f.table != Table::Unmapped) {
        let unmapped: Vec<&str> = out.iter().map(|f| f.name.as_str()).take(5).collect();
        let what = if found == 0 {
            "holds no export files (*.txt, *.csv, *.tsv, *.tab, *.dat)".to_owned()
        } else if out.is_empty() {
            format!("holds {found} export file(s), all of them empty")
        } else {
            format!(
                "holds {} export file(s), none of them a PowerSchool table Ferry recognizes ({}{})",
                out.len(),
                unmapped.join(", "),
                if out.len() > 5 { ", …" } else { "" }
            )
        };
        return Err(Error::config(format!(
            "directory {}: {what}; expected PowerSchool exports such as students.txt, schools.txt, cc.txt \
             (a table is recognized by its file name, its columns or its headers' table qualifier; \
             name a file's table in [files.\"name.txt\"] table = \"…\")",
            dir.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discover_one(name: &str, text: &str) -> Result<Vec<FileSpec>, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let cfg: SourceConfig =
            ferry_sdk::serde_json::from_value(ferry_sdk::serde_json::json!({ "directory": "." })).unwrap();
        discover(dir.path(), &cfg)
    }

    #[test]
    fn a_file_is_what_its_columns_say_when_its_name_says_otherwise() {
        // A contacts export: StudentContactAssoc and Person side by side, named contacts.txt.
        let f = discover_one(
            "contacts.txt",
            "StudentDCID\tPersonID\tFirstName\tLastName\tEmail\tIsCustodial\n77\t5\tAna\tRuiz\ta@x.org\t1\n",
        )
        .unwrap();
        assert_eq!(f[0].table, Table::ContactsExport);
        // Ferry's flat layout keeps its name.
        let f = discover_one(
            "contacts.txt",
            "Contact_ID\tStudent_Number\tFirst_Name\tLast_Name\tRelationship\n1\t000123\tAna\tRuiz\tMother\n",
        )
        .unwrap();
        assert_eq!(f[0].table, Table::Contacts);
        // Neither: a configuration error naming the missing columns.
        let e = discover_one("contacts.txt", "Name\tPhone\nAna\t555\n").unwrap_err();
        assert!(e.message.contains("lacks the column(s) contactid"), "{e}");
        // A table the connector does not map is kept, under its qualifier's name.
        let f = discover_one(
            "userfields.txt",
            "U_StudentsUserFields.StudentsDCID\tU_StudentsUserFields.Bus\n77\t4\n",
        )
        .unwrap();
        assert_eq!(
            (f[0].table, f[0].source_table.as_str()),
            (Table::StudentExtension, "U_StudentsUserFields")
        );
        assert!(f[0].has("studentsdcid"), "the own qualifier is dropped: {:?}", f[0].columns);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes_2024.txt"), "Log_Archive.ID\tLog_Archive.Note\n1\tx\n")
            .unwrap();
        std::fs::write(dir.path().join("students.txt"), "ID\tStudent_Number\tLast_Name\n1\t7\tKim\n")
            .unwrap();
        let cfg: SourceConfig =
            ferry_sdk::serde_json::from_value(ferry_sdk::serde_json::json!({ "directory": "." })).unwrap();
        let f = discover(dir.path(), &cfg).unwrap();
        assert_eq!((f[0].table, f[0].source_table.as_str()), (Table::Unmapped, "Log_Archive"));
    }

    #[test]
    fn a_folder_with_nothing_to_migrate_is_a_configuration_error() {
        let e = discover_one("notes.txt", "Log_Archive.ID\tLog_Archive.Note\n1\tx\n").unwrap_err();
        assert_eq!(e.kind, ferry_sdk::ErrorKind::Config);
        assert!(e.message.contains("none of them a PowerSchool table Ferry recognizes (notes.txt)"), "{e}");
        let e = discover_one("readme.md", "hello").unwrap_err();
        assert!(e.message.contains("holds no export files") && e.message.contains("students.txt"), "{e}");
        let e = discover_one("students.txt", "").unwrap_err();
        assert!(e.message.contains("all of them empty"), "{e}");
    }

    #[test]
    fn headers_naming_one_column_twice_are_a_configuration_error() {
        let e = discover_one("students.txt", "ID\tLast_Name\tGrade_Level\t[01]Last_Name\n1\tKim\t9\tKim\n")
            .unwrap_err();
        assert_eq!(e.kind, ferry_sdk::ErrorKind::Config);
        assert!(
            e.message.contains("students.txt")
                && e.message.contains("\"Last_Name\" (column 2) and \"[01]Last_Name\" (column 4)"),
            "{e}"
        );
        let e = discover_one("students.txt", "ID\tLast_Name\tLast_Name\n1\tKim\tKim\n").unwrap_err();
        assert!(e.message.contains("\"Last_Name\" (columns 2, 3)"), "{e}");
    }

    #[test]
    fn a_needed_column_of_another_table_does_not_count() {
        // Found by the powerschool_files fuzz target: the details' association
        // id qualified with StudentContactAssoc is a related column, so no
        // detail could be joined to its association.
        let e = discover_one(
            "studentcontactdetail.txt",
            "StudentContactAssoc.StudentContactAssocID\tStudentContactDetail.RelationshipTypeCodeSetID\tStudentContactDetail.IsActive\n1\t2\t1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("lacks the column(s) studentcontactassocid"), "{e}");
        assert!(e.message.contains("qualified with another table"), "{e}");
        // As the file's own column, it is read.
        let f = discover_one(
            "studentcontactdetail.txt",
            "StudentContactDetail.StudentContactAssocID\tStudentContactDetail.RelationshipTypeCodeSetID\n1\t2\n",
        )
        .unwrap();
        assert_eq!(f[0].table, Table::StudentContactDetail);
    }

    #[test]
    fn sniffs_delimiters_and_quoting() {
        assert_eq!(sniff(b"a\tb\tc\n1\t\"x\"\t3\n"), (Delimiter::TAB, false));
        assert_eq!(sniff(b"\"a\",\"b\"\r\n\"1\",\"2\"\r\n"), (Delimiter::COMMA, true));
        assert_eq!(sniff(b"a,b\n1,O\"Neil\n"), (Delimiter::COMMA, false));
        assert_eq!(sniff(b"a|b|c\n1|2|3\n"), (Delimiter::PIPE, false));
        assert_eq!(sniff(b"single\n1\n"), (Delimiter::TAB, false));
    }
}
