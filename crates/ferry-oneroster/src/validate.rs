//! Validation of a package against the specification: file names, the
//! manifest against the files present, headers, required fields,
//! enumerations, id format, dates, booleans, references between files,
//! duplicate ids, bulk and delta rules, empty files.
//!
//! Files are read one at a time, in dependency order (orgs and sessions
//! before the files that reference them), so references are checked as rows
//! stream; memory holds the ids of each file (a set of strings), never rows.
//! Messages never print the value of a personal column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::problem::{Problem, Severity};
use crate::read::{ColumnKind, FileMode, OpenError, Package, PackageKind, ReadError};
use crate::spec::{self, Column, DataType, Enumeration, FileSpec, Required, Version};

/// What to validate against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The version to check against; by default the manifest's (1.2 when it
    /// says nothing readable).
    pub version: Option<Version>,
}

/// One file of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    /// Its name in the package.
    pub name: String,
    /// Its mode as the manifest gives it.
    pub mode: Option<FileMode>,
    /// Data rows read.
    pub rows: u64,
    /// Columns in its header.
    pub columns: usize,
    /// Errors found in it.
    pub errors: u64,
    /// Warnings found in it.
    pub warnings: u64,
}

/// The result of a validation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The package's path as given.
    pub package: String,
    /// Zip or folder.
    pub kind: PackageKind,
    /// The version checked against.
    pub version: Version,
    /// The version the manifest declares, if readable.
    pub declared_version: Option<Version>,
    /// Every CSV file read, the manifest first.
    pub files: Vec<FileReport>,
    /// Number of errors.
    pub errors: u64,
    /// Number of warnings.
    pub warnings: u64,
    /// Whether the package is valid (no errors; warnings allowed).
    pub valid: bool,
    /// Every problem, in the order found.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Problems grouped by code: errors first, then by code.
    pub fn by_code(&self) -> Vec<(&'static str, Severity, Vec<&Problem>)> {
        let mut groups: BTreeMap<(Severity, &'static str), Vec<&Problem>> = BTreeMap::new();
        for p in &self.problems {
            groups.entry((p.severity, p.code)).or_default().push(p);
        }
        groups.into_iter().map(|((s, c), ps)| (c, s, ps)).collect()
    }

    /// Problems of one code.
    pub fn with_code(&self, code: &str) -> Vec<&Problem> {
        self.problems.iter().filter(|p| p.code == code).collect()
    }
}

/// Opens and validates a package.
pub fn validate_path(path: &Path, options: &Options) -> Result<Report, OpenError> {
    let pkg = Package::open(path)?;
    Ok(validate(&pkg, options))
}

/// Validates an opened package.
pub fn validate(pkg: &Package, options: &Options) -> Report {
    let declared = pkg.declared_version();
    let version = options.version.or(declared).unwrap_or(Version::V1_2);
    let mut v = Validator { version, problems: pkg.problems().to_vec(), ids: HashMap::new() };
    let mut files = Vec::new();
    v.check_manifest(pkg, declared);
    if let Some(m) = pkg.file(spec::MANIFEST) {
        files.push(FileReport {
            name: m.name.clone(),
            mode: None,
            rows: pkg.manifest().map_or(0, |m| m.properties.len() as u64),
            columns: 2,
            errors: 0,
            warnings: 0,
        });
    }
    // Unknown files.
    for f in pkg.files() {
        if f.stem.eq_ignore_ascii_case("manifest") {
            continue;
        }
        match spec::file_ignore_case(version, &f.stem) {
            None => {
                let hint = match version {
                    Version::V1_1 if spec::file_ignore_case(Version::V1_2, &f.stem).is_some() => {
                        " (it is a OneRoster 1.2 file)"
                    }
                    _ => "",
                };
                v.problems.push(Problem::file(
                    &f.name,
                    Severity::Error,
                    "file-unknown",
                    format!("{} is not a file of OneRoster {version}{hint}: it is not checked", f.name),
                ));
            }
            Some(s) if s.name != f.stem => v.problems.push(Problem::file(
                &f.name,
                Severity::Error,
                "file-name-case",
                format!("the file is named {}; the specification's name is {}.csv", f.name, s.name),
            )),
            Some(_) => {}
        }
    }
    // Data files, in dependency order.
    let present: Vec<&'static FileSpec> =
        spec::dependency_order(version).into_iter().filter(|s| pkg.file(s.name).is_some()).collect();
    for s in &present {
        let before = v.problems.len();
        let mode = pkg.manifest().and_then(|m| m.mode(s.name));
        let (rows, columns) = v.check_file(pkg, s, mode, &present);
        let file_name = pkg.file(s.name).map(|f| f.name.clone()).unwrap_or_default();
        let errors = v.problems[before..].iter().filter(|p| p.is_error()).count() as u64;
        let warnings = (v.problems.len() - before) as u64 - errors;
        files.push(FileReport { name: file_name, mode, rows, columns, errors, warnings });
    }
    // Count manifest/package problems into the manifest's report line.
    let errors = v.problems.iter().filter(|p| p.is_error()).count() as u64;
    let warnings = v.problems.len() as u64 - errors;
    if let Some(m) = files.first_mut().filter(|f| f.name.eq_ignore_ascii_case(spec::MANIFEST)) {
        let ps =
            v.problems.iter().filter(|p| p.file.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(&m.name)));
        for p in ps {
            if p.is_error() {
                m.errors += 1;
            } else {
                m.warnings += 1;
            }
        }
    }
    Report {
        package: pkg.path().display().to_string(),
        kind: pkg.kind(),
        version,
        declared_version: declared,
        files,
        errors,
        warnings,
        valid: errors == 0,
        problems: v.problems,
    }
}

struct Validator {
    version: Version,
    problems: Vec<Problem>,
    /// The sourcedIds of each file read so far (by spec name).
    ids: HashMap<&'static str, HashSet<String>>,
}

/// A reference to check once its target file is read (self-references).
struct Pending {
    line: u64,
    column: &'static str,
    index: usize,
    id: String,
}

impl Validator {
    fn check_manifest(&mut self, pkg: &Package, declared: Option<Version>) {
        let Some(m) = pkg.manifest() else { return };
        let file = pkg.file(spec::MANIFEST).map_or_else(|| spec::MANIFEST.to_owned(), |f| f.name.clone());
        let err = |line: u64, code: &'static str, msg: String| {
            Problem::file(&file, Severity::Error, code, msg).at_line(line).at_column("value", 2)
        };
        let warn = |line: u64, code: &'static str, msg: String| {
            Problem::file(&file, Severity::Warning, code, msg).at_line(line).at_column("value", 2)
        };
        let mut seen: HashMap<String, u64> = HashMap::new();
        for p in &m.properties {
            if let Some(first) = seen.insert(p.name.to_ascii_lowercase(), p.line) {
                self.problems.push(
                    Problem::file(
                        &file,
                        Severity::Error,
                        "manifest-duplicate",
                        format!("{} appears twice (first at line {first})", p.name),
                    )
                    .at_line(p.line)
                    .at_column("propertyName", 1),
                );
            }
        }
        match m.get("manifest.version") {
            None => self.problems.push(Problem::file(
                &file,
                Severity::Error,
                "manifest-version",
                "the manifest has no manifest.version row (it must be 1.0)",
            )),
            Some(p) if p.value == spec::MANIFEST_VERSION => {}
            Some(p) if p.value == "1" || p.value == "1.00" => self.problems.push(warn(
                p.line,
                "manifest-version",
                format!("manifest.version is {}; the specification's value is 1.0 (read as 1.0)", p.value),
            )),
            Some(p) => self.problems.push(err(
                p.line,
                "manifest-version",
                format!("manifest.version is {:?}; it must be 1.0", p.value),
            )),
        }
        match m.get("oneroster.version") {
            None => self.problems.push(Problem::file(
                &file,
                Severity::Error,
                "oneroster-version",
                format!("the manifest has no oneroster.version row (checked as {})", self.version),
            )),
            Some(p) => match declared {
                None => self.problems.push(err(
                    p.line,
                    "oneroster-version",
                    format!(
                        "oneroster.version is {:?}; it must be 1.1 or 1.2 (checked as {})",
                        p.value, self.version
                    ),
                )),
                Some(d) if p.value != d.as_str() => self.problems.push(warn(
                    p.line,
                    "oneroster-version",
                    format!("oneroster.version is {}; the specification writes {}", p.value, d.as_str()),
                )),
                Some(d) if d != self.version => self.problems.push(warn(
                    p.line,
                    "oneroster-version",
                    format!(
                        "the manifest declares OneRoster {d}; the package is checked as {}",
                        self.version
                    ),
                )),
                Some(_) => {}
            },
        }
        for p in &m.properties {
            let lower = p.name.to_ascii_lowercase();
            let known_prefix =
                ["manifest.", "oneroster.", "file.", "source."].iter().any(|x| lower.starts_with(x));
            if !known_prefix {
                self.problems.push(
                    Problem::file(
                        &file,
                        Severity::Warning,
                        "manifest-property-unknown",
                        format!("{} is not a manifest property of the specification", p.name),
                    )
                    .at_line(p.line)
                    .at_column("propertyName", 1),
                );
            } else if ["manifest.version", "oneroster.version", "source.systemname", "source.systemcode"]
                .iter()
                .any(|k| lower == *k)
                && !["manifest.version", "oneroster.version", "source.systemName", "source.systemCode"]
                    .contains(&p.name.as_str())
            {
                self.problems.push(
                    Problem::file(
                        &file,
                        Severity::Error,
                        "manifest-property-case",
                        format!("{} is not spelled as the specification spells it (property names are case-sensitive)", p.name),
                    )
                    .at_line(p.line)
                    .at_column("propertyName", 1),
                );
            }
        }
        // file.* rows against the files present.
        for (name, mode, p) in m.files() {
            let Some(s) = spec::file_ignore_case(self.version, name) else {
                self.problems.push(
                    Problem::file(
                        &file,
                        Severity::Error,
                        "manifest-file-unknown",
                        format!("{} names no file of OneRoster {}", p.name, self.version),
                    )
                    .at_line(p.line)
                    .at_column("propertyName", 1),
                );
                continue;
            };
            if s.name != name {
                self.problems.push(
                    Problem::file(
                        &file,
                        Severity::Error,
                        "manifest-property-case",
                        format!("{} is spelled file.{} in the specification", p.name, s.name),
                    )
                    .at_line(p.line)
                    .at_column("propertyName", 1),
                );
            }
            let present = pkg.file(s.name).is_some();
            match mode {
                None if p.value.is_empty() => self.problems.push(warn(
                    p.line,
                    "manifest-blank-mode",
                    format!(
                        "{} has no value; it must be absent, bulk or delta (read as {})",
                        p.name,
                        if present { "bulk" } else { "absent" }
                    ),
                )),
                None => {
                    let hint = if ["absent", "bulk", "delta"].iter().any(|t| t.eq_ignore_ascii_case(&p.value))
                    {
                        " (tokens are lower case)"
                    } else {
                        ""
                    };
                    self.problems.push(err(
                        p.line,
                        "manifest-mode",
                        format!("{} is {:?}; it must be absent, bulk or delta{hint}", p.name, p.value),
                    ));
                }
                Some(FileMode::Absent) if present => self.problems.push(err(
                    p.line,
                    "manifest-file-unlisted",
                    format!("{} says absent, but {}.csv is in the package", p.name, s.name),
                )),
                Some(FileMode::Bulk | FileMode::Delta) if !present => self.problems.push(err(
                    p.line,
                    "manifest-file-missing",
                    format!("{} says {}, but {}.csv is not in the package", p.name, p.value, s.name),
                )),
                Some(_) => {}
            }
        }
        for s in spec::files(self.version) {
            let listed = m.files().any(|(n, _, _)| n.eq_ignore_ascii_case(s.name));
            if listed {
                continue;
            }
            if pkg.file(s.name).is_some() {
                self.problems.push(Problem::file(
                    &file,
                    Severity::Error,
                    "manifest-file-unlisted",
                    format!("{}.csv is in the package, but the manifest has no file.{} row", s.name, s.name),
                ));
            } else {
                self.problems.push(Problem::file(
                    &file,
                    Severity::Warning,
                    "manifest-row-missing",
                    format!("the manifest has no file.{} row (write file.{},absent)", s.name, s.name),
                ));
            }
        }
    }

    /// Checks one data file; returns (rows, columns).
    fn check_file(
        &mut self,
        pkg: &Package,
        spec: &'static FileSpec,
        mode: Option<FileMode>,
        present: &[&'static FileSpec],
    ) -> (u64, usize) {
        let mut reader = match pkg.open_file(spec.name, self.version) {
            Ok(r) => r,
            Err(e) => {
                let name = pkg.file(spec.name).map_or_else(|| spec.file_name(), |f| f.name.clone());
                self.problems.push(Problem::file(name, Severity::Error, "file-unreadable", e.to_string()));
                return (0, 0);
            }
        };
        let file = reader.file().to_owned();
        self.problems.extend(reader.take_problems());
        let columns = reader.header().columns.len();
        // Bulk unless the manifest says delta; the data file wins when its
        // rows disagree (reported).
        let mut delta = mode == Some(FileMode::Delta);
        // Columns whose target file is not in the package.
        let mut target_absent: Vec<(&'static str, &'static str)> = Vec::new();
        for c in spec.columns {
            if let Some(t) = c.data_type.target()
                && t != spec.name
                && !present.iter().any(|p| p.name == t)
                && reader.header().position(c.name).is_some()
                && spec::file(self.version, t).is_some()
            {
                target_absent.push((c.name, t));
            }
        }
        let mut absent_refs: HashMap<&'static str, (u64, u64, usize)> = HashMap::new();
        let mut ids: HashMap<String, u64> = HashMap::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut rows = 0u64;
        loop {
            let row = match reader.next_row() {
                None => break,
                Some(Ok(row)) => row,
                Some(Err(e)) => {
                    let line = match &e {
                        ReadError::Broken { line, .. } => Some(*line),
                        _ => None,
                    };
                    let mut p = Problem::file(&file, Severity::Error, "csv-syntax", e.to_string());
                    p.line = line;
                    self.problems.push(p);
                    break;
                }
            };
            rows += 1;
            let line = row.line();
            let mut out = Vec::new();
            if rows == 1 {
                // The data file wins over the manifest's mode (OR-CSV 1.2.1
                // Table 3.1 note): the first row says which it is.
                let filled = |c: &str| row.get(c).is_some_and(|v| !v.is_empty());
                let looks_delta = filled("status") && filled("dateLastModified");
                let looks_bulk = !filled("status") && !filled("dateLastModified");
                let said = mode.map_or("nothing", FileMode::as_str);
                if (looks_delta && !delta) || (looks_bulk && delta) {
                    let read_as = if looks_delta { "delta" } else { "bulk" };
                    out.push(
                        Problem::file(
                            &file,
                            Severity::Error,
                            "manifest-mode-mismatch",
                            format!(
                                "the manifest says {said} for this file, but its first row is a {read_as} row (status and dateLastModified {}): checked as {read_as}, since the data file wins",
                                if looks_delta { "filled" } else { "empty" }
                            ),
                        )
                        .at_line(line),
                    );
                    delta = looks_delta;
                }
            }
            // Duplicate ids.
            if let Some(id) = row.get("sourcedId")
                && !id.is_empty()
            {
                if let Some(first) = ids.get(id) {
                    let idx = row.header().position("sourcedId").map_or(0, |i| i + 1);
                    out.push(
                        Problem::file(
                            &file,
                            Severity::Error,
                            "duplicate-sourced-id",
                            format!("the sourcedId {id} is already used at line {first}"),
                        )
                        .at_line(line)
                        .at_column("sourcedId", idx),
                    );
                } else {
                    ids.insert(id.to_owned(), line);
                }
            }
            for h in &row.header().columns {
                let ColumnKind::Spec(col) = h.kind else { continue };
                let value = row.get_index(h.index - 1);
                let Some(value) = value else { continue };
                let at = |p: Problem| p.at_line(line).at_column(h.name.clone(), h.index);
                // Bulk and delta.
                if col.required == Required::Delta {
                    if !delta && !value.is_empty() {
                        out.push(at(Problem::file(
                            &file,
                            Severity::Error,
                            "bulk-field-filled",
                            format!("{} must be empty in a bulk file", col.name),
                        )));
                        continue;
                    }
                    if delta && value.is_empty() {
                        out.push(at(Problem::file(
                            &file,
                            Severity::Error,
                            "required-missing",
                            format!("{} is required in a delta file", col.name),
                        )));
                        continue;
                    }
                }
                if value.is_empty() {
                    if col.required == Required::Yes {
                        out.push(at(Problem::file(
                            &file,
                            Severity::Error,
                            "required-missing",
                            format!("{} is required and empty", col.name),
                        )));
                    }
                    continue;
                }
                if let Some(p) = check_value(self.version, col, value) {
                    out.push(at(Problem::file(&file, p.0, p.1, p.2)));
                }
                // References.
                if let Some(target) = col.data_type.target() {
                    let list = matches!(col.data_type, DataType::GuidRefList(_));
                    let items: Vec<&str> =
                        if list { value.split(',').map(str::trim).collect() } else { vec![value.trim()] };
                    for id in items.into_iter().filter(|i| !i.is_empty()) {
                        if target == spec.name && col.name != "sourcedId" {
                            pending.push(Pending {
                                line,
                                column: col.name,
                                index: h.index,
                                id: id.to_owned(),
                            });
                        } else if let Some(set) = self.ids.get(target) {
                            if !set.contains(id) {
                                out.push(at(Problem::file(
                                    &file,
                                    if delta { Severity::Warning } else { Severity::Error },
                                    "dangling-reference",
                                    format!("{} {id} is not a sourcedId in {target}.csv", col.name),
                                )));
                            }
                        } else if target_absent.iter().any(|(c, _)| *c == col.name) {
                            let e = absent_refs.entry(col.name).or_insert((line, 0, h.index));
                            e.1 += 1;
                        }
                    }
                }
            }
            self.problems.extend(out);
        }
        self.problems.extend(reader.take_problems());
        if rows == 0 {
            self.problems.push(
                Problem::file(
                    &file,
                    Severity::Error,
                    "file-empty",
                    "the file has no data rows; a file with nothing to send is left out and marked absent in the manifest",
                )
                .at_line(1),
            );
        }
        // Self-references, now that every id of the file is known.
        for p in pending {
            if !ids.contains_key(&p.id) {
                self.problems.push(
                    Problem::file(
                        &file,
                        if delta { Severity::Warning } else { Severity::Error },
                        "dangling-reference",
                        format!("{} {} is not a sourcedId in {}.csv", p.column, p.id, spec.name),
                    )
                    .at_line(p.line)
                    .at_column(p.column, p.index),
                );
            }
        }
        for (col, target) in target_absent {
            if let Some((line, count, index)) = absent_refs.get(col) {
                self.problems.push(
                    Problem::file(
                        &file,
                        if delta { Severity::Warning } else { Severity::Error },
                        "reference-file-absent",
                        format!(
                            "{count} value(s) of {col} reference {target}.csv, which is not in the package (a bulk package must hold every object it references); first at this line"
                        ),
                    )
                    .at_line(*line)
                    .at_column(col, *index),
                );
            }
        }
        // Kept only when another file may reference this one.
        let referenced = spec::files(self.version).iter().any(|f| {
            f.name != spec.name && f.columns.iter().any(|c| c.data_type.target() == Some(spec.name))
        });
        if referenced {
            self.ids.insert(spec.name, ids.into_keys().collect());
        }
        (rows, columns)
    }
}

/// The value shown in a message: nothing for a personal column.
fn shown(col: &Column, value: &str) -> String {
    if col.personal {
        String::new()
    } else {
        let v: String = value.chars().take(60).collect();
        format!(" {v:?}")
    }
}

/// A problem of one value: severity, code, message (without the value of a
/// personal column).
pub type Finding = (Severity, &'static str, String);

/// Checks one non-empty value against its column's type.
pub fn check_value(version: Version, col: &Column, value: &str) -> Option<Finding> {
    let name = col.name;
    let err = |code: &'static str, msg: String| Some((Severity::Error, code, msg));
    match col.data_type {
        DataType::Guid | DataType::GuidRef(_) => guid_problem(name, value),
        DataType::GuidRefList(_) => {
            for item in value.split(',') {
                if item != item.trim() {
                    return Some((
                        Severity::Warning,
                        "list-spaces",
                        format!("{name}: a list item has spaces around it; lists are written without spaces"),
                    ));
                }
                if let Some(p) = guid_problem(name, item.trim()) {
                    return Some(p);
                }
            }
            None
        }
        DataType::UuidRef => {
            if is_uuid(value) {
                None
            } else {
                err("uuid-format", format!("{name}{} is not a UUID", shown(col, value)))
            }
        }
        DataType::Id | DataType::String | DataType::StringList => {
            if value.contains('\r') {
                err("carriage-return", format!("{name} holds a carriage return, which fields may not"))
            } else {
                None
            }
        }
        DataType::Enum(e) => enum_problem(version, col, e, value),
        DataType::EnumList(e) => value.split(',').find_map(|v| enum_problem(version, col, e, v.trim())),
        DataType::Date => {
            if is_date(value) {
                None
            } else {
                err("date-format", format!("{name}{} is not a date (YYYY-MM-DD)", shown(col, value)))
            }
        }
        DataType::DateTime => datetime_problem(col, value),
        DataType::Year => {
            if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                err("year-format", format!("{name}{} is not a year (YYYY)", shown(col, value)))
            }
        }
        DataType::Boolean => match value {
            "true" | "false" => None,
            _ => match spec::lenient_boolean(value) {
                Some(b) => err(
                    "boolean-format",
                    format!(
                        "{name}{} must be true or false in lower case (it reads as {b})",
                        shown(col, value)
                    ),
                ),
                None => err("boolean-format", format!("{name}{} is not true or false", shown(col, value))),
            },
        },
        DataType::Float => match value.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && value.trim() == value => None,
            _ => err("float-format", format!("{name}{} is not a number", shown(col, value))),
        },
        DataType::Integer => match value.parse::<i64>() {
            Ok(_) => None,
            Err(_) => err("integer-format", format!("{name}{} is not a whole number", shown(col, value))),
        },
        DataType::UserIds => {
            if braced_list(value) {
                None
            } else {
                err("userids-format", format!("{name} must be {{Type:Id}} items separated by commas"))
            }
        }
        DataType::ScoreScaleValue => {
            if braced_list(value) {
                None
            } else {
                err("score-scale-format", format!("{name} must be {{LHS:RHS}} items separated by commas"))
            }
        }
    }
}

fn guid_problem(name: &str, value: &str) -> Option<Finding> {
    if value.len() >= 256 {
        return Some((
            Severity::Error,
            "id-format",
            format!("{name} is {} characters long; ids have fewer than 256", value.len()),
        ));
    }
    if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || ".-_/@".contains(*c))) {
        let shown_id: String = value.chars().take(60).collect();
        return Some((
            Severity::Error,
            "id-format",
            format!("{name} {shown_id:?} holds {bad:?}; ids use only 0-9 a-z A-Z . - _ / @"),
        ));
    }
    None
}

fn enum_problem(version: Version, col: &Column, e: &Enumeration, value: &str) -> Option<Finding> {
    if e.is_token(version, value) {
        return None;
    }
    let name = col.name;
    let tokens = e.tokens(version).join(", ");
    let ext = if version == Version::V1_2 && e.extensible_1_2 { ", or ext:…" } else { "" };
    if let Some(t) = e.lenient(version, value) {
        if t.eq_ignore_ascii_case(value) {
            return Some((
                Severity::Error,
                "enum-case",
                format!(
                    "{name}{} differs from the token {t:?} only by case (tokens are case-sensitive)",
                    shown(col, value)
                ),
            ));
        }
        return Some((
            Severity::Error,
            "enum-unknown",
            format!(
                "{name}{} is not a token of {} (it reads as {t:?}; tokens: {tokens}{ext})",
                shown(col, value),
                e.name
            ),
        ));
    }
    let note = if version == Version::V1_1 && spec::is_ext_token(value) {
        " (ext: tokens are allowed from 1.2 on)"
    } else if version == Version::V1_1 && e.tokens_1_2.contains(&value) {
        " (it is a 1.2 token)"
    } else {
        ""
    };
    Some((
        Severity::Error,
        "enum-unknown",
        format!("{name}{} is not a token of {} (tokens: {tokens}{ext}){note}", shown(col, value), e.name),
    ))
}

fn datetime_problem(col: &Column, value: &str) -> Option<Finding> {
    let name = col.name;
    let b = value.as_bytes();
    let strict = b.len() == 24
        && is_date(&value[..10])
        && b[10] == b'T'
        && is_time(&value[11..19])
        && b[19] == b'.'
        && b[20..23].iter().all(u8::is_ascii_digit)
        && b[23] == b'Z';
    if strict {
        return None;
    }
    // Readable, but not the specification's form: date only, no
    // milliseconds, no Z, a space for the T.
    let readable = (b.len() == 10 && is_date(value))
        || (b.len() >= 19
            && is_date(&value[..10])
            && (b[10] == b'T' || b[10] == b' ')
            && value.get(11..19).is_some_and(is_time));
    let msg = if readable {
        format!(
            "{name}{} is not in the specification's form YYYY-MM-DDTHH:MM:SS.sssZ (UTC, milliseconds, Z)",
            shown(col, value)
        )
    } else {
        format!("{name}{} is not a datetime (YYYY-MM-DDTHH:MM:SS.sssZ)", shown(col, value))
    };
    Some((Severity::Error, "datetime-format", msg))
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = &s[r];
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let num = |i: usize| -> Option<u32> {
        let t = &s[i..i + 2];
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    matches!((num(0), num(3), num(6)), (Some(h), Some(m), Some(sec)) if h < 24 && m < 60 && sec < 61)
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// `{A:B}` items separated by commas (a `}` ends an item; commas inside
/// braces are allowed).
fn braced_list(s: &str) -> bool {
    let mut rest = s.trim();
    loop {
        let Some(r) = rest.strip_prefix('{') else { return false };
        let Some(end) = r.find('}') else { return false };
        let item = &r[..end];
        match item.split_once(':') {
            Some((l, rr)) if !l.is_empty() && !rr.is_empty() => {}
            _ => return false,
        }
        rest = r[end + 1..].trim_start();
        if rest.is_empty() {
            return true;
        }
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (n, t) in files {
            std::fs::write(dir.path().join(n), t).unwrap();
        }
        dir
    }

    const MANIFEST: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.academicSessions,absent\nfile.categories,absent\nfile.classes,absent\nfile.classResources,absent\nfile.courses,absent\nfile.courseResources,absent\nfile.demographics,absent\nfile.enrollments,absent\nfile.lineItems,absent\nfile.orgs,bulk\nfile.resources,absent\nfile.results,absent\nfile.users,absent\n";
    const ORGS_HEADER: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n";

    fn codes(r: &Report) -> Vec<(&'static str, Option<u64>, Option<usize>)> {
        r.problems.iter().map(|p| (p.code, p.line, p.column.as_ref().map(|c| c.index))).collect()
    }

    #[test]
    fn a_clean_package_is_valid() {
        let d = pkg(&[
            ("manifest.csv", MANIFEST),
            ("orgs.csv", &format!("{ORGS_HEADER}d1,,,D,district,,\ns1,,,S,school,,d1\n")),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        assert!(r.valid && r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.files[1].rows, 2);
    }

    #[test]
    fn values_are_checked_with_their_position() {
        let d = pkg(&[
            ("manifest.csv", MANIFEST),
            (
                "orgs.csv",
                &format!("{ORGS_HEADER}d1,,,D,District,,\ns 1,active,,S,school,,zz\nd1,,,E,nation,,\n"),
            ),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        let c = codes(&r);
        assert!(c.contains(&("enum-case", Some(2), Some(5))), "{c:?}");
        assert!(c.contains(&("id-format", Some(3), Some(1))), "{c:?}");
        assert!(c.contains(&("bulk-field-filled", Some(3), Some(2))), "{c:?}");
        assert!(c.contains(&("enum-unknown", Some(4), Some(5))), "{c:?}");
        assert!(c.contains(&("duplicate-sourced-id", Some(4), Some(1))), "{c:?}");
        assert!(c.contains(&("dangling-reference", Some(3), Some(7))), "{c:?}");
        assert!(!r.valid);
    }

    #[test]
    fn personal_values_are_never_printed() {
        let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\nu1,,,TRUE,o1,student,jdoe,{x},Jane,Doe,,,,,,,,\n";
        let demo = "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus\nu1,,,2009-02-30,Femme,,,,,,,,,,,\n";
        let manifest = MANIFEST
            .replace("file.users,absent", "file.users,bulk")
            .replace("file.demographics,absent", "file.demographics,bulk");
        let d = pkg(&[
            ("manifest.csv", &manifest),
            ("orgs.csv", &format!("{ORGS_HEADER}o1,,,D,district,,\n")),
            ("users.csv", users),
            ("demographics.csv", demo),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        let c = codes(&r);
        assert!(c.contains(&("boolean-format", Some(2), Some(4))), "{c:?}");
        assert!(c.contains(&("userids-format", Some(2), Some(8))), "{c:?}");
        assert!(c.contains(&("date-format", Some(2), Some(4))), "{c:?}");
        assert!(c.contains(&("enum-unknown", Some(2), Some(5))), "{c:?}");
        for p in &r.problems {
            for v in ["2009-02-30", "Femme", "Jane", "jdoe"] {
                assert!(!p.message.contains(v), "{p}");
            }
        }
    }

    #[test]
    fn manifest_against_files() {
        let m = MANIFEST
            .replace("file.users,absent", "file.users,bulk")
            .replace("manifest.version,1.0", "manifest.version,1");
        let d = pkg(&[
            ("manifest.csv", &m),
            ("orgs.csv", &format!("{ORGS_HEADER}o1,,,D,district,,\n")),
            ("courses.csv", "x\n"),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        let c = codes(&r);
        assert!(c.contains(&("manifest-file-missing", Some(16), Some(2))), "{c:?}");
        assert!(c.contains(&("manifest-file-unlisted", Some(8), Some(2))), "{c:?}");
        assert!(c.contains(&("manifest-version", Some(2), Some(2))), "{c:?}");
        assert!(c.contains(&("file-empty", Some(1), None)), "{c:?}");
    }

    const MANIFEST_12: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,delta\nfile.users,delta\nfile.roles,delta\n";
    const USERS_120: &str = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n";
    const ROLES: &str = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n";
    const DLM: &str = "2024-01-02T03:04:05.000Z";

    #[test]
    fn a_delta_1_2_package_with_the_1_2_0_users_layout() {
        let d = pkg(&[
            ("manifest.csv", MANIFEST_12),
            ("orgs.csv", &format!("{ORGS_HEADER}o1,active,{DLM},D,district,,\n")),
            (
                "users.csv",
                &format!(
                    "{USERS_120}u1,active,{DLM},true,jd,\"{{LDAP:1}},{{LTI:2}}\",J,D,,,,,,\"u2,u9\",,,,,,,,o1,\nu2,inactive,2024-01-02,true,p,,P,Q,,,,,,,,,,,,,,,\n"
                ),
            ),
            (
                "roles.csv",
                &format!(
                    "{ROLES}r1,active,{DLM},u1,primary,administrator,,,o1,\nr2,active,{DLM},u1,secondary,ext:coach,,,o2,\n"
                ),
            ),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        assert_eq!(r.version, Version::V1_2);
        let c = codes(&r);
        // Self-reference in a delta: a warning; the status alias inactive; a
        // date-only dateLastModified; 1.2 has no plain administrator; ext: ok.
        assert!(c.contains(&("dangling-reference", Some(2), Some(14))), "{c:?}");
        assert!(c.contains(&("enum-unknown", Some(3), Some(2))), "{c:?}");
        assert!(c.contains(&("datetime-format", Some(3), Some(3))), "{c:?}");
        assert!(c.contains(&("enum-unknown", Some(2), Some(6))), "{c:?}");
        assert!(c.contains(&("dangling-reference", Some(3), Some(9))), "{c:?}");
        assert!(!c.iter().any(|(code, ..)| code.starts_with("header")), "{c:?}");
        // Every file.* row of 1.2 that is missing is a warning.
        assert_eq!(r.with_code("manifest-row-missing").len(), 18);
        assert!(r.with_code("dangling-reference").iter().all(|p| p.severity == Severity::Warning));
    }

    #[test]
    fn the_data_file_wins_over_the_manifest_mode() {
        let d = pkg(&[
            ("manifest.csv", MANIFEST),
            (
                "orgs.csv",
                &format!("{ORGS_HEADER}d1,active,{DLM},D,district,,\nd2,active,{DLM},E,district,,\n"),
            ),
        ]);
        let r = validate_path(d.path(), &Options::default()).unwrap();
        assert_eq!(codes(&r), [("manifest-mode-mismatch", Some(2), None)]);
    }

    #[test]
    fn value_formats() {
        assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("1/05/2023"));
        let dlm = spec::file(Version::V1_2, "orgs").unwrap().column("dateLastModified").unwrap();
        assert!(datetime_problem(dlm, "2012-04-23T18:25:43.511Z").is_none());
        assert!(datetime_problem(dlm, "2017-09-21 07:11:54").is_some());
        assert!(braced_list("{LDAP:a},{LTI:b}") && !braced_list("LDAP:a") && !braced_list("{a}"));
        assert!(is_uuid("6F4283DC-F831-4437-A9A3-E030C7AF0493"));
    }
}
