//! Writing a valid package: every column of the specification in its exact
//! order, `metadata.*` extension columns appended to the right, quoting
//! where needed, the manifest (`file.*` rows for every file of the version:
//! bulk or delta when written, absent otherwise; a file without rows is left
//! out), zipped or as a folder.
//!
//! Atomic: everything goes to a private temporary file (or folder) beside the
//! target, created owner-only (rosters hold personal data), fsynced and
//! renamed over the target by [`PackageWriter::finish`]; dropping the writer
//! before that removes it, and the target is left as it was.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::read::FileMode;
use crate::spec::{self, FileSpec, Required, Version};

/// Zip or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A `.zip` with the files at its root (deflate).
    Zip,
    /// A folder of CSV files.
    Folder,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// 1.1 or 1.2.
    pub version: Version,
    /// Zip or folder.
    pub layout: Layout,
    /// Bulk (status and dateLastModified empty) or delta (both required).
    pub mode: FileMode,
    /// `source.systemName` in the manifest.
    pub source_system_name: Option<String>,
    /// `source.systemCode` in the manifest.
    pub source_system_code: Option<String>,
}

impl WriteOptions {
    /// A bulk 1.2 package in the layout the path suggests (`.zip` or folder).
    pub fn bulk(version: Version, path: &Path) -> WriteOptions {
        let zip = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        WriteOptions {
            version,
            layout: if zip { Layout::Zip } else { Layout::Folder },
            mode: FileMode::Bulk,
            source_system_name: None,
            source_system_code: None,
        }
    }
}

/// Why a package, a file or a row cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The zip library failed.
    #[error("{path}: {message}")]
    Zip {
        /// The zip file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Not a data file of the version.
    #[error("{file}.csv is not a file of OneRoster {version}")]
    UnknownFile {
        /// The name given.
        file: String,
        /// The version written.
        version: Version,
    },
    /// A file begun twice.
    #[error("{0}.csv is already written")]
    FileTwice(String),
    /// A row given with no file begun.
    #[error("no file is begun: call begin_file first")]
    NoFile,
    /// An extension column not named `metadata.*`.
    #[error("{file}.csv: the extension column {column} must be named metadata.*")]
    BadExtension {
        /// The file.
        file: String,
        /// The column.
        column: String,
    },
    /// A row names a column the file has not (neither the specification's
    /// nor a declared extension).
    #[error("{file}.csv row {row}: {column} is not a column of the file")]
    UnknownColumn {
        /// The file.
        file: String,
        /// The row's number (1-based data row).
        row: u64,
        /// The column.
        column: String,
    },
    /// A required value is empty (the row is not written).
    #[error("{file}.csv row {row}: {column} is required")]
    MissingRequired {
        /// The file.
        file: String,
        /// The row's number (1-based data row).
        row: u64,
        /// The column.
        column: String,
    },
    /// A value holds a carriage return, which the binding forbids in fields.
    #[error("{file}.csv row {row}: {column} holds a carriage return")]
    CarriageReturn {
        /// The file.
        file: String,
        /// The row's number.
        row: u64,
        /// The column.
        column: String,
    },
}

enum Out {
    Folder { dir: PathBuf, file: Option<(PathBuf, BufWriter<File>)> },
    Zip { zip: Option<Box<zip::ZipWriter<BufWriter<File>>>> },
}

struct Current {
    spec: &'static FileSpec,
    /// The file's columns: spec columns written (in order), then extensions.
    columns: Vec<&'static str>,
    extensions: Vec<String>,
    rows: u64,
    offered: u64,
}

/// A package being written, file by file and row by row (streaming: no row
/// is kept).
pub struct PackageWriter {
    target: PathBuf,
    temp: PathBuf,
    options: WriteOptions,
    out: Out,
    current: Option<Current>,
    written: BTreeMap<&'static str, u64>,
    finished: bool,
    line: Vec<u8>,
}

impl std::fmt::Debug for PackageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageWriter").field("target", &self.target).field("temp", &self.temp).finish()
    }
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_owned(), source }
}

fn create_private_file(path: &Path) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path)
}

impl PackageWriter {
    /// Starts a package at `target` (written there by [`finish`](Self::finish)).
    pub fn create(target: &Path, options: WriteOptions) -> Result<PackageWriter, WriteError> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().map_or_else(|| "package".into(), |n| n.to_string_lossy().into_owned());
        let temp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        // A leftover of a killed run of this process id.
        let _ = fs::remove_dir_all(&temp);
        let _ = fs::remove_file(&temp);
        let out = match options.layout {
            Layout::Folder => {
                create_private_dir(&temp).map_err(io_at(&temp))?;
                Out::Folder { dir: temp.clone(), file: None }
            }
            Layout::Zip => {
                let f = create_private_file(&temp).map_err(io_at(&temp))?;
                Out::Zip { zip: Some(Box::new(zip::ZipWriter::new(BufWriter::new(f)))) }
            }
        };
        Ok(PackageWriter {
            target: target.to_owned(),
            temp,
            options,
            out,
            current: None,
            written: BTreeMap::new(),
            finished: false,
            line: Vec::new(),
        })
    }

    /// The options.
    pub fn options(&self) -> &WriteOptions {
        &self.options
    }

    /// Begins a data file (its name without `.csv`, e.g. `users`), with its
    /// extension columns (`metadata.*`, appended right in this order). The
    /// previous file ends. A file that gets no row is not written (and is
    /// `absent` in the manifest).
    pub fn begin_file(&mut self, name: &str, extensions: &[&str]) -> Result<(), WriteError> {
        self.end_file()?;
        let version = self.options.version;
        let spec = spec::file(version, name)
            .ok_or_else(|| WriteError::UnknownFile { file: name.to_owned(), version })?;
        if self.written.contains_key(spec.name) {
            return Err(WriteError::FileTwice(spec.name.to_owned()));
        }
        for e in extensions {
            if !e.starts_with("metadata.")
                || e.len() <= 9
                || extensions.iter().filter(|x| *x == e).count() > 1
            {
                return Err(WriteError::BadExtension { file: spec.name.to_owned(), column: (*e).to_owned() });
            }
        }
        let columns = spec.columns.iter().filter(|c| !c.may_be_absent).map(|c| c.name).collect();
        self.current = Some(Current {
            spec,
            columns,
            extensions: extensions.iter().map(|s| (*s).to_owned()).collect(),
            rows: 0,
            offered: 0,
        });
        self.written.insert(spec.name, 0);
        Ok(())
    }

    /// Writes one row of the current file from (column, value) pairs; missing
    /// columns are empty. In a bulk package status and dateLastModified are
    /// written empty whatever the row says; in a delta both are required.
    /// A row with an unknown column or an empty required value is refused
    /// (and not written); the file goes on.
    pub fn write_row<I, K, V>(&mut self, values: I) -> Result<(), WriteError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let delta = self.options.mode == FileMode::Delta;
        let cur = self.current.as_mut().ok_or(WriteError::NoFile)?;
        cur.offered += 1;
        let row_no = cur.offered;
        let file = cur.spec.name;
        let width = cur.columns.len() + cur.extensions.len();
        let mut fields: Vec<String> = vec![String::new(); width];
        for (k, v) in values {
            let (k, v) = (k.as_ref(), v.as_ref());
            let pos = cur
                .columns
                .iter()
                .position(|c| *c == k)
                .or_else(|| cur.extensions.iter().position(|c| c == k).map(|i| cur.columns.len() + i))
                .ok_or_else(|| WriteError::UnknownColumn {
                    file: file.to_owned(),
                    row: row_no,
                    column: k.to_owned(),
                })?;
            if v.contains('\r') {
                return Err(WriteError::CarriageReturn {
                    file: file.to_owned(),
                    row: row_no,
                    column: k.to_owned(),
                });
            }
            fields[pos] = v.to_owned();
        }
        for (i, name) in cur.columns.iter().enumerate() {
            let Some(col) = cur.spec.column(name) else { continue };
            match col.required {
                Required::Delta if !delta => fields[i].clear(),
                Required::Delta | Required::Yes if fields[i].is_empty() => {
                    return Err(WriteError::MissingRequired {
                        file: file.to_owned(),
                        row: row_no,
                        column: (*name).to_owned(),
                    });
                }
                _ => {}
            }
        }
        if cur.rows == 0 {
            let header: Vec<String> =
                cur.columns.iter().map(|s| (*s).to_owned()).chain(cur.extensions.iter().cloned()).collect();
            let name = cur.spec.file_name();
            self.start_entry(&name)?;
            self.put_line(&header)?;
        }
        self.put_line(&fields)?;
        if let Some(cur) = self.current.as_mut() {
            cur.rows += 1;
            self.written.insert(cur.spec.name, cur.rows);
        }
        Ok(())
    }

    fn start_entry(&mut self, name: &str) -> Result<(), WriteError> {
        match &mut self.out {
            Out::Folder { dir, file } => {
                let path = dir.join(name);
                let f = create_private_file(&path).map_err(io_at(&path))?;
                *file = Some((path, BufWriter::new(f)));
            }
            Out::Zip { zip } => {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .unix_permissions(0o600);
                if let Some(z) = zip.as_mut() {
                    z.start_file(name, opts)
                        .map_err(|e| WriteError::Zip { path: self.temp.clone(), message: e.to_string() })?;
                }
            }
        }
        Ok(())
    }

    fn put_line(&mut self, fields: &[String]) -> Result<(), WriteError> {
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            quote_into(&mut self.line, f);
        }
        self.line.extend_from_slice(b"\r\n");
        let temp = self.temp.clone();
        let r = match &mut self.out {
            Out::Folder { file: Some((_, w)), .. } => w.write_all(&self.line),
            Out::Folder { file: None, .. } => Ok(()),
            Out::Zip { zip } => match zip.as_mut() {
                Some(z) => z.write_all(&self.line),
                None => Ok(()),
            },
        };
        r.map_err(io_at(&temp))
    }

    fn end_file(&mut self) -> Result<(), WriteError> {
        self.current = None;
        if let Out::Folder { file, .. } = &mut self.out
            && let Some((path, mut w)) = file.take()
        {
            w.flush().map_err(io_at(&path))?;
            w.get_ref().sync_all().map_err(io_at(&path))?;
        }
        Ok(())
    }

    /// Rows written so far per file.
    pub fn written(&self) -> &BTreeMap<&'static str, u64> {
        &self.written
    }

    /// Writes the manifest and puts the package in place (an existing
    /// package at the target is replaced). Returns the rows per file.
    pub fn finish(mut self) -> Result<BTreeMap<&'static str, u64>, WriteError> {
        self.end_file()?;
        let mut manifest = vec![
            vec!["propertyName".to_owned(), "value".to_owned()],
            vec!["manifest.version".to_owned(), spec::MANIFEST_VERSION.to_owned()],
            vec!["oneroster.version".to_owned(), self.options.version.as_str().to_owned()],
        ];
        for f in spec::files(self.options.version) {
            let mode = match self.written.get(f.name) {
                Some(n) if *n > 0 => self.options.mode,
                _ => FileMode::Absent,
            };
            manifest.push(vec![format!("file.{}", f.name), mode.as_str().to_owned()]);
        }
        if let Some(n) = &self.options.source_system_name {
            manifest.push(vec!["source.systemName".to_owned(), n.clone()]);
        }
        if let Some(c) = &self.options.source_system_code {
            manifest.push(vec!["source.systemCode".to_owned(), c.clone()]);
        }
        self.start_entry(spec::MANIFEST)?;
        for line in &manifest {
            self.put_line(line)?;
        }
        self.end_file()?;
        match &mut self.out {
            Out::Zip { zip } => {
                if let Some(z) = zip.take() {
                    let w = z
                        .finish()
                        .map_err(|e| WriteError::Zip { path: self.temp.clone(), message: e.to_string() })?;
                    let f = w
                        .into_inner()
                        .map_err(|e| WriteError::Io { path: self.temp.clone(), source: e.into_error() })?;
                    f.sync_all().map_err(io_at(&self.temp))?;
                }
                fs::rename(&self.temp, &self.target).map_err(io_at(&self.target))?;
            }
            Out::Folder { .. } => {
                if self.target.is_dir() {
                    let aside = PathBuf::from(format!("{}.old", self.temp.display()));
                    let _ = fs::remove_dir_all(&aside);
                    fs::rename(&self.target, &aside).map_err(io_at(&self.target))?;
                    if let Err(e) = fs::rename(&self.temp, &self.target) {
                        let _ = fs::rename(&aside, &self.target);
                        return Err(WriteError::Io { path: self.target.clone(), source: e });
                    }
                    let _ = fs::remove_dir_all(&aside);
                } else {
                    fs::rename(&self.temp, &self.target).map_err(io_at(&self.target))?;
                }
            }
        }
        if let Some(parent) = self.target.parent()
            && let Ok(d) = File::open(if parent.as_os_str().is_empty() { Path::new(".") } else { parent })
        {
            let _ = d.sync_all();
        }
        self.finished = true;
        Ok(std::mem::take(&mut self.written))
    }
}

impl Drop for PackageWriter {
    fn drop(&mut self) {
        if !self.finished {
            if let Out::Zip { zip } = &mut self.out {
                drop(zip.take());
            }
            let _ = fs::remove_dir_all(&self.temp);
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Appends a field, quoted when it holds a comma, a quote, a line end or
/// spaces at its ends (a quote doubled inside).
fn quote_into(out: &mut Vec<u8>, field: &str) {
    let needs = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(' ')
        || field.ends_with(' ')
        || field.starts_with('\u{feff}');
    if !needs {
        out.extend_from_slice(field.as_bytes());
        return;
    }
    out.push(b'"');
    for b in field.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The rows of one file, for [`write_package`].
#[derive(Debug, Clone, Default)]
pub struct FileRows {
    /// The file's name without `.csv`.
    pub name: String,
    /// Its rows: column → value (spec columns and `metadata.*`).
    pub rows: Vec<BTreeMap<String, String>>,
}

/// Writes a whole package at once; the extension columns of each file are
/// the `metadata.*` keys its rows use, in sorted order.
pub fn write_package(
    target: &Path,
    options: WriteOptions,
    files: &[FileRows],
) -> Result<BTreeMap<&'static str, u64>, WriteError> {
    let mut w = PackageWriter::create(target, options)?;
    for f in files {
        let mut ext: Vec<&str> = f
            .rows
            .iter()
            .flat_map(|r| r.keys())
            .filter(|k| k.starts_with("metadata."))
            .map(String::as_str)
            .collect();
        ext.sort_unstable();
        ext.dedup();
        w.begin_file(&f.name, &ext)?;
        for r in &f.rows {
            w.write_row(r.iter())?;
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Options, validate_path};

    fn row(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn sample() -> Vec<FileRows> {
        vec![
            FileRows {
                name: "orgs".into(),
                rows: vec![
                    row(&[("sourcedId", "d1"), ("name", "North, \"the\" District"), ("type", "district")]),
                    row(&[
                        ("sourcedId", "s1"),
                        ("name", "High"),
                        ("type", "school"),
                        ("parentSourcedId", "d1"),
                        ("metadata.city", "Lyon"),
                    ]),
                ],
            },
            FileRows { name: "courses".into(), rows: vec![] },
        ]
    }

    #[test]
    fn a_written_package_validates_zip_and_folder() {
        let dir = tempfile::tempdir().unwrap();
        for (name, v) in [("p.zip", Version::V1_2), ("p", Version::V1_1)] {
            let target = dir.path().join(name);
            let counts = write_package(&target, WriteOptions::bulk(v, &target), &sample()).unwrap();
            assert_eq!(counts.get("orgs"), Some(&2));
            let r = validate_path(&target, &Options::default()).unwrap();
            assert!(r.valid && r.problems.is_empty(), "{name}: {:?}", r.problems);
            assert_eq!(r.version, v);
            // No file for courses (no rows): absent in the manifest.
            assert_eq!(r.files.len(), 2);
        }
        let text = fs::read_to_string(dir.path().join("p/orgs.csv")).unwrap();
        assert_eq!(
            text,
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.city\r\nd1,,,\"North, \"\"the\"\" District\",district,,,\r\ns1,,,High,school,,d1,Lyon\r\n"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(dir.path().join("p.zip")).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(
                fs::metadata(dir.path().join("p/orgs.csv")).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn bad_rows_are_refused_and_a_dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.zip");
        let mut w = PackageWriter::create(&target, WriteOptions::bulk(Version::V1_2, &target)).unwrap();
        assert!(matches!(w.begin_file("nope", &[]), Err(WriteError::UnknownFile { .. })));
        w.begin_file("orgs", &[]).unwrap();
        assert!(matches!(
            w.write_row([("sourcedId", "a"), ("type", "school")]),
            Err(WriteError::MissingRequired { row: 1, .. })
        ));
        assert!(matches!(w.write_row([("bogus", "a")]), Err(WriteError::UnknownColumn { row: 2, .. })));
        drop(w);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn delta_rows_need_status_and_date() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("d");
        let mut o = WriteOptions::bulk(Version::V1_2, &target);
        o.mode = FileMode::Delta;
        let mut w = PackageWriter::create(&target, o).unwrap();
        w.begin_file("orgs", &[]).unwrap();
        assert!(w.write_row([("sourcedId", "a"), ("name", "A"), ("type", "school")]).is_err());
        w.write_row([
            ("sourcedId", "a"),
            ("status", "tobedeleted"),
            ("dateLastModified", "2024-01-02T03:04:05.000Z"),
            ("name", "A"),
            ("type", "school"),
        ])
        .unwrap();
        w.finish().unwrap();
        let r = validate_path(&target, &Options::default()).unwrap();
        assert!(r.valid && r.problems.is_empty(), "{:?}", r.problems);
    }
}
