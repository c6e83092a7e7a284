//! Reading a OneRoster CSV package: a `.zip` or a folder, its manifest, and
//! each file as a stream of rows matched to the specification's columns.
//!
//! Lenient where real packages are sloppy (a BOM, CRLF and LF mixed, a
//! missing final newline, quoting where none is needed, the case of file and
//! column names, `manifest.version = 1`, blank manifest values, one enclosing
//! folder in a zip), and every deviation is a [`Problem`] with its file, line
//! and column. Nothing is held in memory but the current row: a file of a
//! million enrollments streams.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::problem::{Problem, Severity};
use crate::spec::{self, Column, FileSpec, Version};

/// Why a package cannot be opened at all (a usage error, not a problem of
/// the package's content).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path does not exist.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    /// A file that is not a zip archive.
    #[error("{path}: not a zip archive or a folder ({reason})")]
    NotAPackage {
        /// The path given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// Why a file of a package cannot be read on.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No such file in the package.
    #[error("{0}: not in the package")]
    NoSuchFile(String),
    /// The zip entry uses a compression other than stored or deflate, or is
    /// encrypted.
    #[error("{file}: {reason}")]
    Unsupported {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// An I/O or CSV syntax error that ends the file.
    #[error("{file}:{line}: {message}")]
    Broken {
        /// The file.
        file: String,
        /// The line reached.
        line: u64,
        /// What went wrong.
        message: String,
    },
}

/// Whether the package is a zip or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    /// A `.zip` file.
    Zip,
    /// A folder of CSV files.
    Folder,
}

#[derive(Debug, Clone)]
enum Location {
    Path(PathBuf),
    Zip { data_start: Option<u64>, index: usize, compressed_size: u64, deflated: bool, crc32: u32 },
}

/// A CSV file found in the package.
#[derive(Debug, Clone)]
pub struct PackageFile {
    /// Its name as found (`Users.csv`), without any enclosing folder.
    pub name: String,
    /// Its name without `.csv`, as found (`Users`).
    pub stem: String,
    /// Its uncompressed size in bytes.
    pub size: u64,
    location: Location,
}

/// How the manifest says a file is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// Not in the package.
    Absent,
    /// The complete set (status and dateLastModified empty).
    Bulk,
    /// Changes (status and dateLastModified filled).
    Delta,
}

impl FileMode {
    /// The manifest token.
    pub fn as_str(self) -> &'static str {
        match self {
            FileMode::Absent => "absent",
            FileMode::Bulk => "bulk",
            FileMode::Delta => "delta",
        }
    }
}

/// One row of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestProperty {
    /// `propertyName` as written.
    pub name: String,
    /// `value` as written (trimmed).
    pub value: String,
    /// Its line.
    pub line: u64,
}

/// `manifest.csv` as read.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// Every property, in file order.
    pub properties: Vec<ManifestProperty>,
}

impl Manifest {
    /// A property by name (exact case first, then ignoring case).
    pub fn get(&self, name: &str) -> Option<&ManifestProperty> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .or_else(|| self.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
    }

    /// `oneroster.version`, parsed.
    pub fn version(&self) -> Option<Version> {
        self.get("oneroster.version").and_then(|p| Version::parse(&p.value))
    }

    /// The `file.<name>` rows: name (as written, without `file.`), mode
    /// (`None` for a blank or unknown value) and line.
    pub fn files(&self) -> impl Iterator<Item = (&str, Option<FileMode>, &ManifestProperty)> {
        self.properties.iter().filter_map(|p| {
            let lower = p.name.to_ascii_lowercase();
            lower.strip_prefix("file.")?;
            let name = &p.name[5..];
            Some((name, parse_mode(&p.value), p))
        })
    }

    /// The mode of a data file (its name without `.csv`, any case).
    pub fn mode(&self, stem: &str) -> Option<FileMode> {
        self.files().find(|(n, _, _)| n.eq_ignore_ascii_case(stem)).and_then(|(_, m, _)| m)
    }
}

fn parse_mode(value: &str) -> Option<FileMode> {
    match value.trim().to_ascii_lowercase().as_str() {
        "absent" => Some(FileMode::Absent),
        "bulk" => Some(FileMode::Bulk),
        "delta" => Some(FileMode::Delta),
        _ => None,
    }
}

/// An opened package: its files, its manifest and the problems found opening
/// them. Files are read one at a time with [`Package::open_file`].
#[derive(Debug)]
pub struct Package {
    path: PathBuf,
    kind: PackageKind,
    files: Vec<PackageFile>,
    manifest: Option<Manifest>,
    problems: Vec<Problem>,
}

impl Package {
    /// Opens a `.zip` or a folder. Problems of its layout and manifest are in
    /// [`Package::problems`]; only a path that is neither is an error.
    pub fn open(path: &Path) -> Result<Package, OpenError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OpenError::NotFound(path.to_owned()),
            _ => OpenError::Io { path: path.to_owned(), source: e },
        })?;
        let mut problems = Vec::new();
        let (kind, files) = if meta.is_dir() {
            (PackageKind::Folder, list_folder(path, &mut problems)?)
        } else {
            (PackageKind::Zip, list_zip(path, &mut problems)?)
        };
        let mut pkg = Package { path: path.to_owned(), kind, files, manifest: None, problems };
        pkg.read_manifest();
        Ok(pkg)
    }

    /// The path given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Zip or folder.
    pub fn kind(&self) -> PackageKind {
        self.kind
    }

    /// Every CSV file found (the manifest included), in archive or name order.
    pub fn files(&self) -> &[PackageFile] {
        &self.files
    }

    /// A file by its name (`users.csv` or `users`), exact case first, then
    /// ignoring case.
    pub fn file(&self, name: &str) -> Option<&PackageFile> {
        let stem = name.strip_suffix(".csv").unwrap_or(name);
        self.files
            .iter()
            .find(|f| f.stem == stem)
            .or_else(|| self.files.iter().find(|f| f.stem.eq_ignore_ascii_case(stem)))
    }

    /// The manifest, when there is one.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The version the manifest declares.
    pub fn declared_version(&self) -> Option<Version> {
        self.manifest.as_ref().and_then(Manifest::version)
    }

    /// Problems of the package's layout and manifest.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Opens a data file for reading, matched against the columns of
    /// `version` (when it is a file of that version).
    pub fn open_file(&self, name: &str, version: Version) -> Result<FileReader, ReadError> {
        let file = self.file(name).ok_or_else(|| ReadError::NoSuchFile(name.to_owned()))?;
        let reader = self.raw_reader(file)?;
        let spec = spec::file_ignore_case(version, &file.stem);
        FileReader::new(file.name.clone(), spec, reader)
    }

    fn raw_reader(&self, file: &PackageFile) -> Result<Box<dyn Read + Send>, ReadError> {
        let io_err =
            |e: io::Error| ReadError::Broken { file: file.name.clone(), line: 0, message: e.to_string() };
        match &file.location {
            Location::Path(p) => Ok(Box::new(File::open(p).map_err(io_err)?)),
            Location::Zip { data_start, index, compressed_size, deflated, crc32 } => {
                let Some(start) = *data_start else {
                    // The archive did not tell where the data starts: read the
                    // entry through the zip crate into memory (rare).
                    let f = File::open(&self.path).map_err(io_err)?;
                    let mut archive = zip::ZipArchive::new(BufReader::new(f))
                        .map_err(|e| io_err(io::Error::other(e.to_string())))?;
                    let mut entry =
                        archive.by_index(*index).map_err(|e| io_err(io::Error::other(e.to_string())))?;
                    let mut buf = Vec::new();
                    entry.read_to_end(&mut buf).map_err(io_err)?;
                    return Ok(Box::new(io::Cursor::new(buf)));
                };
                let mut f = File::open(&self.path).map_err(io_err)?;
                f.seek(SeekFrom::Start(start)).map_err(io_err)?;
                let raw = BufReader::new(f).take(*compressed_size);
                let inner: Box<dyn Read + Send> =
                    if *deflated { Box::new(flate2::read::DeflateDecoder::new(raw)) } else { Box::new(raw) };
                Ok(Box::new(CrcCheck {
                    inner,
                    hasher: crc32fast::Hasher::new(),
                    expected: *crc32,
                    done: false,
                }))
            }
        }
    }

    fn read_manifest(&mut self) {
        let Some(file) = self.file(spec::MANIFEST).cloned() else {
            self.problems.push(
                Problem::file(
                    spec::MANIFEST,
                    Severity::Error,
                    "manifest-missing",
                    "manifest.csv is missing: OneRoster 1.1 and 1.2 packages must have one (without it a package reads as OneRoster 1.0)",
                ),
            );
            return;
        };
        if file.name != spec::MANIFEST {
            self.problems.push(Problem::file(
                &file.name,
                Severity::Error,
                "file-name-case",
                format!("the manifest is named {}; the specification's name is manifest.csv", file.name),
            ));
        }
        let reader = match self.raw_reader(&file) {
            Ok(r) => r,
            Err(e) => {
                self.problems.push(Problem::file(
                    &file.name,
                    Severity::Error,
                    "file-unreadable",
                    e.to_string(),
                ));
                return;
            }
        };
        let mut csv = csv_reader(reader);
        let mut manifest = Manifest::default();
        let mut record = csv::ByteRecord::new();
        let mut first = true;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    self.problems.push(Problem::file(
                        &file.name,
                        Severity::Error,
                        "csv-syntax",
                        e.to_string(),
                    ));
                    break;
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            let fields: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).trim_start_matches('\u{feff}').to_owned())
                .collect();
            if first {
                first = false;
                let ok = fields.len() == 2 && fields[0] == "propertyName" && fields[1] == "value";
                if !ok {
                    let close = fields.len() == 2
                        && fields[0].eq_ignore_ascii_case("propertyName")
                        && fields[1].eq_ignore_ascii_case("value");
                    self.problems.push(
                        Problem::file(
                            &file.name,
                            Severity::Error,
                            "manifest-header",
                            format!(
                                "the manifest's header must be exactly propertyName,value; found {}",
                                fields.join(",")
                            ),
                        )
                        .at_line(line),
                    );
                    if !close {
                        // Perhaps there is no header: read this row as a property.
                        if fields.len() >= 2 && fields[0].contains('.') {
                            manifest.properties.push(ManifestProperty {
                                name: fields[0].trim().to_owned(),
                                value: fields[1].trim().to_owned(),
                                line,
                            });
                        }
                    }
                }
                continue;
            }
            if fields.iter().all(|f| f.trim().is_empty()) {
                self.problems.push(
                    Problem::file(&file.name, Severity::Warning, "blank-line", "a blank row in the manifest")
                        .at_line(line),
                );
                continue;
            }
            if fields.len() != 2 {
                self.problems.push(
                    Problem::file(
                        &file.name,
                        Severity::Error,
                        "row-width",
                        format!(
                            "a manifest row has {} fields; it must have 2 (propertyName,value)",
                            fields.len()
                        ),
                    )
                    .at_line(line),
                );
            }
            manifest.properties.push(ManifestProperty {
                name: fields[0].trim().to_owned(),
                value: fields.get(1).map(|v| v.trim().to_owned()).unwrap_or_default(),
                line,
            });
        }
        self.manifest = Some(manifest);
    }
}

/// Verifies an entry's CRC-32 when its data ends.
struct CrcCheck {
    inner: Box<dyn Read + Send>,
    hasher: crc32fast::Hasher,
    expected: u32,
    done: bool,
}

impl Read for CrcCheck {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.done {
            self.done = true;
            let got = self.hasher.clone().finalize();
            if got != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the zip entry is damaged (CRC-32 {got:08x}, expected {:08x})", self.expected),
                ));
            }
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn csv_reader(reader: Box<dyn Read + Send>) -> csv::Reader<Box<dyn Read + Send>> {
    // CRLF is read as LF, so that the CSV reader's line numbers are physical
    // lines whatever the mix of line ends (the specification allows no
    // carriage return inside a field).
    let reader: Box<dyn Read + Send> = Box::new(CrlfToLf { inner: reader, pending_cr: false });
    csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(64 * 1024).from_reader(reader)
}

/// Drops the `\r` of every `\r\n`.
struct CrlfToLf {
    inner: Box<dyn Read + Send>,
    pending_cr: bool,
}

impl Read for CrlfToLf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.len() < 2 {
            // The CSV reader reads through a large buffer; never reached.
            return Err(io::Error::other("CrlfToLf needs a buffer of at least 2 bytes"));
        }
        loop {
            let start = usize::from(self.pending_cr);
            if self.pending_cr {
                buf[0] = b'\r';
                self.pending_cr = false;
            }
            let n = self.inner.read(&mut buf[start..])?;
            if n == 0 {
                return Ok(start);
            }
            let end = start + n;
            let (mut w, mut i) = (0, 0);
            while i < end {
                let b = buf[i];
                if b == b'\r' {
                    if i + 1 == end {
                        // Decide with the next chunk.
                        self.pending_cr = true;
                        break;
                    }
                    if buf[i + 1] == b'\n' {
                        i += 1;
                        continue;
                    }
                }
                buf[w] = b;
                w += 1;
                i += 1;
            }
            if w > 0 {
                return Ok(w);
            }
        }
    }
}

fn is_ignored_entry(name: &str) -> bool {
    name.starts_with("__MACOSX/") || name.rsplit('/').next().is_some_and(|b| b == ".DS_Store" || b.is_empty())
}

fn list_zip(path: &Path, problems: &mut Vec<Problem>) -> Result<Vec<PackageFile>, OpenError> {
    let f = File::open(path).map_err(|e| OpenError::Io { path: path.to_owned(), source: e })?;
    let mut archive = zip::ZipArchive::new(BufReader::new(f))
        .map_err(|e| OpenError::NotAPackage { path: path.to_owned(), reason: e.to_string() })?;
    if path.extension().and_then(|e| e.to_str()).is_none_or(|e| !e.eq_ignore_ascii_case("zip")) {
        problems.push(Problem::package(
            Severity::Warning,
            "package-extension",
            "the package's file name should end in .zip",
        ));
    }
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| OpenError::NotAPackage { path: path.to_owned(), reason: e.to_string() })?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        if entry.is_dir() || is_ignored_entry(&name) {
            continue;
        }
        let deflated = match entry.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => {
                problems.push(Problem::file(
                    &name,
                    Severity::Error,
                    "zip-compression",
                    format!("compressed with {other:?}; OneRoster packages use deflate (RFC 1951): the file cannot be read"),
                ));
                continue;
            }
        };
        if entry.encrypted() {
            problems.push(Problem::file(
                &name,
                Severity::Error,
                "zip-encrypted",
                "encrypted: the file cannot be read",
            ));
            continue;
        }
        names.push((
            name,
            entry.size(),
            Location::Zip {
                data_start: entry.data_start(),
                index: i,
                compressed_size: entry.compressed_size(),
                deflated,
                crc32: entry.crc32(),
            },
        ));
    }
    // Files at the root, or all in one enclosing folder.
    let at_root = names.iter().any(|(n, _, _)| !n.contains('/'));
    let mut prefix = String::new();
    if !at_root {
        let firsts: Vec<&str> = names.iter().filter_map(|(n, _, _)| n.split('/').next()).collect();
        if let Some(first) = firsts.first()
            && firsts.iter().all(|f| f == first)
        {
            prefix = format!("{first}/");
            problems.push(Problem::package(
                Severity::Warning,
                "enclosing-folder",
                format!("the files are in a folder {first}/ inside the zip; the specification puts them at its root"),
            ));
        }
    }
    let mut files = Vec::new();
    for (name, size, location) in names {
        let Some(rest) = name.strip_prefix(&prefix) else {
            problems.push(Problem::file(
                &name,
                Severity::Warning,
                "unexpected-entry",
                "not at the package's root: ignored",
            ));
            continue;
        };
        if rest.contains('/') {
            problems.push(Problem::file(
                &name,
                Severity::Warning,
                "unexpected-entry",
                "in a sub-folder: ignored",
            ));
            continue;
        }
        push_file(&mut files, rest, size, location, problems);
    }
    Ok(files)
}

fn push_file(
    files: &mut Vec<PackageFile>,
    name: &str,
    size: u64,
    location: Location,
    problems: &mut Vec<Problem>,
) {
    let lower = name.to_ascii_lowercase();
    let Some(stem_len) = lower.strip_suffix(".csv").map(str::len) else {
        problems.push(Problem::file(name, Severity::Warning, "unexpected-file", "not a .csv file: ignored"));
        return;
    };
    if !name.ends_with(".csv") {
        problems.push(Problem::file(
            name,
            Severity::Error,
            "file-name-case",
            "the extension must be .csv in lower case",
        ));
    }
    if let Some(other) = files.iter().find(|f| f.stem.eq_ignore_ascii_case(&name[..stem_len])) {
        problems.push(Problem::file(
            name,
            Severity::Error,
            "file-duplicate",
            format!("the package also holds {}: each file may appear once; this one is ignored", other.name),
        ));
        return;
    }
    files.push(PackageFile { name: name.to_owned(), stem: name[..stem_len].to_owned(), size, location });
}

fn list_folder(path: &Path, problems: &mut Vec<Problem>) -> Result<Vec<PackageFile>, OpenError> {
    let io_err = |p: &Path, e: io::Error| OpenError::Io { path: p.to_owned(), source: e };
    let mut entries: Vec<(String, PathBuf, std::fs::Metadata)> = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| io_err(path, e))? {
        let entry = entry.map_err(|e| io_err(path, e))?;
        let meta = entry.metadata().map_err(|e| io_err(&entry.path(), e))?;
        entries.push((entry.file_name().to_string_lossy().into_owned(), entry.path(), meta));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let has_csv = entries.iter().any(|(n, _, m)| m.is_file() && n.to_ascii_lowercase().ends_with(".csv"));
    let dirs: Vec<_> = entries.iter().filter(|(n, _, m)| m.is_dir() && !n.starts_with('.')).collect();
    if !has_csv && dirs.len() == 1 {
        let (name, sub, _) = dirs[0];
        problems.push(Problem::package(
            Severity::Warning,
            "enclosing-folder",
            format!("the files are in a folder {name}/; the specification puts them at the package's root"),
        ));
        let sub = sub.clone();
        let mut inner = Vec::new();
        let files = list_folder(&sub, &mut inner)?;
        problems.extend(inner.into_iter().filter(|p| p.code != "enclosing-folder"));
        return Ok(files);
    }
    let mut files = Vec::new();
    for (name, p, meta) in entries {
        if name.starts_with('.') {
            continue;
        }
        if meta.is_dir() {
            problems.push(Problem::file(
                &name,
                Severity::Warning,
                "unexpected-entry",
                "a sub-folder: ignored",
            ));
            continue;
        }
        push_file(&mut files, &name, meta.len(), Location::Path(p), problems);
    }
    Ok(files)
}

/// What a header column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A column of the specification.
    Spec(&'static Column),
    /// A `metadata.*` extension column.
    Metadata,
    /// Anything else (kept, and reported).
    Unknown,
}

/// One column of a file's header.
#[derive(Debug, Clone)]
pub struct HeaderColumn {
    /// The name as the file writes it.
    pub name: String,
    /// 1-based position.
    pub index: usize,
    /// What it is.
    pub kind: ColumnKind,
}

/// A file's header matched to the specification.
#[derive(Debug, Clone)]
pub struct Header {
    /// The file's columns, in file order.
    pub columns: Vec<HeaderColumn>,
    by_spec_name: HashMap<&'static str, usize>,
}

impl Header {
    /// Matches a header against a file's columns (none for a file the
    /// specification does not know) and reports every deviation.
    pub fn match_spec(
        file: &str,
        names: &[String],
        spec: Option<&'static FileSpec>,
    ) -> (Header, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut columns = Vec::with_capacity(names.len());
        let mut by_spec_name = HashMap::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in names.iter().enumerate() {
            let index = i + 1;
            let name = raw.trim().to_owned();
            let at = |p: Problem| p.at_line(1).at_column(name.clone(), index);
            if name != *raw {
                problems.push(at(Problem::file(
                    file,
                    Severity::Error,
                    "header-whitespace",
                    format!("the header {name} has spaces around it"),
                )));
            }
            if let Some(first) = seen.get(&name.to_ascii_lowercase()) {
                problems.push(at(Problem::file(
                    file,
                    Severity::Error,
                    "header-duplicate",
                    format!("the column {name} appears twice (first at position {first}); the second is kept as an unknown column"),
                )));
                columns.push(HeaderColumn { name, index, kind: ColumnKind::Unknown });
                continue;
            }
            seen.insert(name.to_ascii_lowercase(), index);
            let kind = if name.starts_with("metadata.") && name.len() > 9 {
                ColumnKind::Metadata
            } else if let Some(spec) = spec {
                if let Some(c) = spec.column(&name) {
                    ColumnKind::Spec(c)
                } else if let Some(c) = spec.column_ignore_case(&name) {
                    problems.push(at(Problem::file(
                        file,
                        Severity::Error,
                        "header-case",
                        format!("the column {name} is spelled {} in the specification (header names are case-sensitive)", c.name),
                    )));
                    ColumnKind::Spec(c)
                } else if name.to_ascii_lowercase().starts_with("metadata.") {
                    problems.push(at(Problem::file(
                        file,
                        Severity::Error,
                        "header-case",
                        format!("the extension column {name} must start with metadata. in lower case"),
                    )));
                    ColumnKind::Metadata
                } else {
                    problems.push(at(Problem::file(
                        file,
                        Severity::Error,
                        "header-unknown",
                        format!(
                            "the column {name} is not a column of {}.csv; extension columns must be named metadata.* (it is kept)",
                            spec.name
                        ),
                    )));
                    ColumnKind::Unknown
                }
            } else {
                ColumnKind::Unknown
            };
            if let ColumnKind::Spec(c) = kind {
                by_spec_name.insert(c.name, i);
            }
            columns.push(HeaderColumn { name, index, kind });
        }
        if let Some(spec) = spec {
            // Missing columns.
            for c in spec.columns {
                if !by_spec_name.contains_key(c.name) && !c.may_be_absent {
                    let what = match c.required {
                        spec::Required::Yes => "a required column",
                        spec::Required::Delta => "a column required in delta files (empty in bulk files)",
                        spec::Required::No => "an optional column, but its header must be there",
                    };
                    problems.push(
                        Problem::file(
                            file,
                            Severity::Error,
                            "header-missing",
                            format!("the column {} is missing ({what})", c.name),
                        )
                        .at_line(1)
                        .at_column(c.name, 0),
                    );
                }
            }
            // Order: the spec columns present must come in the spec's order.
            let expected: Vec<&'static str> =
                spec.columns.iter().filter(|c| by_spec_name.contains_key(c.name)).map(|c| c.name).collect();
            let actual: Vec<(&HeaderColumn, &'static str)> = columns
                .iter()
                .filter_map(|h| match h.kind {
                    ColumnKind::Spec(c) if by_spec_name.get(c.name) == Some(&(h.index - 1)) => {
                        Some((h, c.name))
                    }
                    _ => None,
                })
                .collect();
            if let Some((k, (h, name))) = actual.iter().enumerate().find(|(k, (_, n))| expected[*k] != *n) {
                problems.push(
                    Problem::file(
                        file,
                        Severity::Error,
                        "header-order",
                        format!(
                            "the column {name} is at position {}, where the specification's order puts {} (expected order: {})",
                            h.index,
                            expected[k],
                            expected.join(",")
                        ),
                    )
                    .at_line(1)
                    .at_column(h.name.clone(), h.index),
                );
            }
            // metadata.* only to the right of every spec column.
            let last_spec =
                columns.iter().filter(|h| matches!(h.kind, ColumnKind::Spec(_))).map(|h| h.index).max();
            if let Some(last) = last_spec
                && let Some(m) = columns.iter().find(|h| h.kind == ColumnKind::Metadata && h.index < last)
            {
                problems.push(
                    Problem::file(
                        file,
                        Severity::Error,
                        "metadata-position",
                        format!(
                            "the extension column {} is at position {}, left of a specification column; metadata.* columns go to the right",
                            m.name, m.index
                        ),
                    )
                    .at_line(1)
                    .at_column(m.name.clone(), m.index),
                );
            }
        }
        (Header { columns, by_spec_name }, problems)
    }

    /// The 0-based index of a specification column in the file.
    pub fn position(&self, spec_name: &str) -> Option<usize> {
        self.by_spec_name.get(spec_name).copied()
    }

    /// The file's names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }
}

/// A data file being read, one row at a time.
pub struct FileReader {
    file: String,
    spec: Option<&'static FileSpec>,
    header: Header,
    csv: csv::Reader<Box<dyn Read + Send>>,
    record: csv::StringRecord,
    bytes: csv::ByteRecord,
    line: u64,
    rows: u64,
    problems: Vec<Problem>,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader").field("file", &self.file).field("line", &self.line).finish()
    }
}

impl FileReader {
    fn new(
        file: String,
        spec: Option<&'static FileSpec>,
        reader: Box<dyn Read + Send>,
    ) -> Result<Self, ReadError> {
        let mut csv = csv_reader(reader);
        let mut bytes = csv::ByteRecord::new();
        let mut problems = Vec::new();
        let has = csv.read_byte_record(&mut bytes).map_err(|e| ReadError::Broken {
            file: file.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        let names: Vec<String> = if has {
            bytes
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let s = String::from_utf8_lossy(f);
                    if i == 0 { s.trim_start_matches('\u{feff}').to_owned() } else { s.into_owned() }
                })
                .collect()
        } else {
            problems.push(
                Problem::file(
                    &file,
                    Severity::Error,
                    "header-missing",
                    "the file is empty: it has no header row",
                )
                .at_line(1),
            );
            Vec::new()
        };
        let (header, header_problems) = Header::match_spec(&file, &names, spec);
        problems.extend(header_problems);
        Ok(FileReader {
            file,
            spec,
            header,
            csv,
            record: csv::StringRecord::new(),
            bytes,
            line: 1,
            rows: 0,
            problems,
        })
    }

    /// The file's name in the package.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The specification of the file, when the version knows it.
    pub fn spec(&self) -> Option<&'static FileSpec> {
        self.spec
    }

    /// The header, matched to the specification.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Data rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// The problems found since the last call (the header's first): reading
    /// problems of rows (width, encoding) come here as rows are read.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// The next data row, `None` at the end. Blank lines are skipped (and
    /// reported); a row with the wrong number of fields is reported and kept.
    #[allow(clippy::should_implement_trait)]
    pub fn next_row(&mut self) -> Option<Result<Row<'_>, ReadError>> {
        loop {
            match self.csv.read_byte_record(&mut self.bytes) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(self.line + 1, |p| p.line());
                    return Some(Err(ReadError::Broken {
                        file: self.file.clone(),
                        line,
                        message: e.to_string(),
                    }));
                }
            }
            self.line = self.bytes.position().map_or(self.line + 1, |p| p.line());
            if self.bytes.len() == 1 && self.bytes.get(0).is_some_and(|f| f.is_empty()) {
                self.problems.push(
                    Problem::file(&self.file, Severity::Warning, "blank-line", "a blank line (skipped)")
                        .at_line(self.line),
                );
                continue;
            }
            break;
        }
        let bytes = std::mem::take(&mut self.bytes);
        self.record = match csv::StringRecord::from_byte_record(bytes) {
            Ok(r) => r,
            Err(e) => {
                let field = e.utf8_error().field() + 1;
                let name = self
                    .header
                    .columns
                    .get(field - 1)
                    .map_or_else(|| format!("#{field}"), |c| c.name.clone());
                self.problems.push(
                    Problem::file(
                        &self.file,
                        Severity::Error,
                        "encoding",
                        "not valid UTF-8 (read with replacement characters)",
                    )
                    .at_line(self.line)
                    .at_column(name, field),
                );
                csv::StringRecord::from_byte_record_lossy(e.into_byte_record())
            }
        };
        let (got, want) = (self.record.len(), self.header.columns.len());
        if got != want {
            // The column is the first one past the shorter of the two.
            let index = got.min(want) + 1;
            let name = match self.header.columns.get(index - 1) {
                Some(c) => c.name.clone(),
                None => "beyond the header".to_owned(),
            };
            let what =
                if got > want { "extra fields past the last column" } else { "columns left without a field" };
            self.problems.push(
                Problem::file(
                    &self.file,
                    Severity::Error,
                    "row-width",
                    format!("the row has {got} fields; the header has {want} columns ({what})"),
                )
                .at_line(self.line)
                .at_column(name, index),
            );
        }
        self.rows += 1;
        Some(Ok(Row { file: &self.file, line: self.line, header: &self.header, record: &self.record }))
    }
}

/// One data row: a header → value accessor that knows its file and line.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    file: &'a str,
    line: u64,
    header: &'a Header,
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// The file's name.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// The physical line where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The header.
    pub fn header(&self) -> &'a Header {
        self.header
    }

    /// The value of a specification column by its spec name (`None` when the
    /// file lacks the column or the row is short; `Some("")` when empty).
    pub fn get(&self, spec_name: &str) -> Option<&'a str> {
        self.header.position(spec_name).and_then(|i| self.record.get(i))
    }

    /// The value at a 0-based position.
    pub fn get_index(&self, index: usize) -> Option<&'a str> {
        self.record.get(index)
    }

    /// Every (header column, value), in file order; fields beyond the header
    /// are left out.
    pub fn iter(&self) -> impl Iterator<Item = (&'a HeaderColumn, &'a str)> + 'a {
        self.header.columns.iter().zip(self.record.iter())
    }

    /// The `metadata.*` columns with their values.
    pub fn metadata(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.iter().filter(|(h, _)| h.kind == ColumnKind::Metadata).map(|(h, v)| (h.name.as_str(), v))
    }

    /// Columns the specification does not know (nor metadata.*), with values.
    pub fn unknown(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.iter().filter(|(h, _)| h.kind == ColumnKind::Unknown).map(|(h, v)| (h.name.as_str(), v))
    }

    /// Number of fields in the row.
    pub fn len(&self) -> usize {
        self.record.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.record.is_empty()
    }

    /// An owned copy (header name → value), for a caller that keeps rows.
    pub fn to_owned_row(&self) -> OwnedRow {
        OwnedRow {
            file: self.file.to_owned(),
            line: self.line,
            values: self.iter().map(|(h, v)| (h.name.clone(), v.to_owned())).collect(),
        }
    }
}

/// A row kept beyond the reader's next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRow {
    /// The file's name.
    pub file: String,
    /// Its line.
    pub line: u64,
    /// (header name, value) in file order.
    pub values: Vec<(String, String)>,
}

impl OwnedRow {
    /// A value by header name (exact case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const MANIFEST: &str =
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\n";

    #[test]
    fn reads_a_folder_with_bom_crlf_and_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "manifest.csv", MANIFEST);
        write(
            dir.path(),
            "orgs.csv",
            "\u{feff}sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.city\r\no1,,,\"North, High\",school,,,Lyon\no2,,,District,district,,,",
        );
        let pkg = Package::open(dir.path()).unwrap();
        assert!(pkg.problems().is_empty(), "{:?}", pkg.problems());
        assert_eq!(pkg.declared_version(), Some(Version::V1_1));
        assert_eq!(pkg.manifest().unwrap().mode("orgs"), Some(FileMode::Bulk));
        let mut r = pkg.open_file("orgs.csv", Version::V1_1).unwrap();
        assert!(r.take_problems().is_empty());
        let row = r.next_row().unwrap().unwrap();
        assert_eq!((row.line(), row.get("name"), row.get("sourcedId")), (2, Some("North, High"), Some("o1")));
        assert_eq!(row.metadata().collect::<Vec<_>>(), [("metadata.city", "Lyon")]);
        let row = r.next_row().unwrap().unwrap();
        assert_eq!((row.line(), row.get("type")), (3, Some("district")));
        assert!(r.next_row().is_none());
        assert!(r.take_problems().is_empty());
    }

    #[test]
    fn header_deviations_name_their_position() {
        let spec = spec::file(Version::V1_1, "orgs");
        let names: Vec<String> = [
            "sourcedId",
            "status",
            "dateLastModified",
            "metadata.x",
            "Type",
            "name",
            "identifier",
            "parentSourcedId",
            "extra",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (h, problems) = Header::match_spec("orgs.csv", &names, spec);
        let codes: Vec<_> = problems.iter().map(|p| (p.code, p.column.as_ref().unwrap().index)).collect();
        assert!(codes.contains(&("header-case", 5)), "{codes:?}");
        assert!(codes.contains(&("header-unknown", 9)), "{codes:?}");
        assert!(codes.contains(&("header-order", 5)), "{codes:?}");
        assert!(codes.contains(&("metadata-position", 4)), "{codes:?}");
        assert_eq!(h.position("type"), Some(4));
    }

    #[test]
    fn reads_a_zip_in_one_enclosing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.zip");
        let mut z = zip::ZipWriter::new(File::create(&path).unwrap());
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("pkg/manifest.csv", opts).unwrap();
        io::Write::write_all(&mut z, MANIFEST.as_bytes()).unwrap();
        z.start_file("pkg/Orgs.csv", opts).unwrap();
        io::Write::write_all(
            &mut z,
            b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,A,school,,\n",
        )
        .unwrap();
        z.finish().unwrap();
        let pkg = Package::open(&path).unwrap();
        let codes: Vec<_> = pkg.problems().iter().map(|p| p.code).collect();
        assert_eq!(codes, ["enclosing-folder"]);
        let mut r = pkg.open_file("orgs", Version::V1_1).unwrap();
        assert_eq!(r.file(), "Orgs.csv");
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(row.get("name"), Some("A"));
        assert!(r.next_row().is_none());
    }

    #[test]
    fn a_missing_manifest_and_a_short_row_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "orgs.csv",
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,A\n\n",
        );
        let pkg = Package::open(dir.path()).unwrap();
        assert_eq!(pkg.problems()[0].code, "manifest-missing");
        let mut r = pkg.open_file("orgs", Version::V1_1).unwrap();
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(row.get("type"), None);
        assert!(r.next_row().is_none());
        let codes: Vec<_> = r.take_problems().iter().map(|p| (p.code, p.line)).collect();
        assert_eq!(codes, [("row-width", Some(2))]);
    }

    #[test]
    fn crlf_is_read_as_lf_across_chunks() {
        struct Chunks(Vec<&'static [u8]>);
        impl Read for Chunks {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let c = self.0.remove(0);
                buf[..c.len()].copy_from_slice(c);
                Ok(c.len())
            }
        }
        let mut r =
            CrlfToLf { inner: Box::new(Chunks(vec![b"a\r", b"\nb\r", b"c\r\n", b"\r"])), pending_cr: false };
        let mut out = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"a\nb\rc\n\r");
    }

    #[test]
    fn not_a_package_is_an_open_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "x.zip", "not a zip");
        assert!(matches!(Package::open(&dir.path().join("x.zip")), Err(OpenError::NotAPackage { .. })));
        assert!(matches!(Package::open(&dir.path().join("nope")), Err(OpenError::NotFound(_))));
    }
}
