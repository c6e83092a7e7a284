//! The CSV source: reads one delimited file per configured entity, mapped
//! column by column or in the default layout, streaming.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use ferry_sdk::model::{EntityKind, FieldDef, FieldType, Origin, Record, Value, with_record_type};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::text::{Dialect, DialectOverride, Row, TextReader, ValueParser};
use ferry_sdk::{BatchBuilder, Error, FieldIssue, OpenContext, Reject, Source, row_hash, tracing};

use crate::layout::{self, ALT_IDS, EXTENSIONS, ORIGINAL_SUFFIX, SOURCE_ID, SOURCE_SYSTEM};
use crate::paths::{FieldPath, valid_paths};
use crate::{config_error, parse_section};

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SourceConfig {
    #[serde(default)]
    directory: Option<String>,
    #[serde(default = "default_system")]
    system: String,
    #[serde(default)]
    keep_raw_rows: bool,
    #[serde(default)]
    dialect: Option<ferry_sdk::serde_json::Value>,
    #[serde(default)]
    entities: ferry_sdk::serde_json::Map<String, ferry_sdk::serde_json::Value>,
}

fn default_system() -> String {
    "csv".to_owned()
}

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct EntityConfig {
    file: String,
    #[serde(default)]
    dialect: DialectOverride,
    #[serde(default)]
    columns: Option<BTreeMap<String, Targets>>,
    #[serde(default)]
    layout: Option<LayoutName>,
}

/// One path or several for a source column.
enum Targets {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: ferry_sdk::serde::Deserializer<'de>>(d: D) -> Result<Targets, D::Error> {
        struct V;
        impl<'de> ferry_sdk::serde::de::Visitor<'de> for V {
            type Value = Targets;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a canonical path (\"first_name\") or a list of paths ([\"source_id\", \"student_number\"])")
            }
            fn visit_str<E: ferry_sdk::serde::de::Error>(self, v: &str) -> Result<Targets, E> {
                Ok(Targets::One(v.to_owned()))
            }
            fn visit_seq<A: ferry_sdk::serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Targets, A::Error> {
                let mut paths = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    paths.push(p);
                }
                Ok(Targets::Many(paths))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(crate = "ferry_sdk::serde", rename_all = "lowercase")]
enum LayoutName {
    Canonical,
}

/// What to do with one cell.
#[derive(Debug)]
enum Action {
    SourceId,
    SourceSystem,
    Alt(String),
    Ext(String),
    Field(&'static FieldDef),
    /// A code field, normalized by the model once per distinct value.
    Code {
        field: &'static FieldDef,
        memo: CodeMemo,
    },
    /// A code from the default layout: the canonical code here, the
    /// original in column `original`.
    CanonicalCode {
        field: &'static FieldDef,
        values: &'static [&'static str],
        original: usize,
    },
    AltIds,
    Extensions,
}

/// The canonical codes of the values met so far in one code column. Code
/// columns hold few distinct values (grades, sexes, statuses), and the
/// model's normalization is costly next to a lookup.
#[derive(Debug, Default)]
struct CodeMemo(HashMap<String, &'static str>);

/// Distinct values remembered per column; beyond, values are normalized each time.
const CODE_MEMO_MAX: usize = 4096;

impl CodeMemo {
    /// The canonical code of `original` in `field` of `R`, as the model
    /// normalizes it.
    fn code<R: Record>(&mut self, field: &str, original: &str) -> Option<&'static str> {
        if let Some(code) = self.0.get(original) {
            return Some(code);
        }
        let mut probe = R::default();
        probe.set(field, Value::Text(original)).ok()?;
        let values = match R::fields().iter().find(|f| f.name == field)?.ty {
            FieldType::Code(values) => values,
            _ => return None,
        };
        let code = match probe.get(field)? {
            Value::Code { code, .. } => values.iter().find(|v| **v == code).copied()?,
            _ => return None,
        };
        if self.0.len() < CODE_MEMO_MAX {
            self.0.insert(original.to_owned(), code);
        }
        Some(code)
    }
}

#[derive(Debug)]
struct Target {
    col: usize,
    action: Action,
}

/// A cell that could not be stored in its field.
struct CellIssue {
    col: usize,
    field: String,
    reason: String,
}

/// One configured entity being read.
struct EntityReader {
    kind: EntityKind,
    /// The file as shown in origins and rejects.
    label: String,
    reader: TextReader<File>,
    dialect: Dialect,
    parser: ValueParser,
    targets: Vec<Target>,
    columns: Vec<String>,
    system: String,
    keep_raw: bool,
    lists: Vec<String>,
    issues: Vec<CellIssue>,
    field_issues: Vec<FieldIssue>,
    /// The record filled row after row (of this entity's type).
    scratch: Option<Box<dyn std::any::Any + Send>>,
    records: u64,
    rejected: u64,
}

/// The source.
pub(crate) struct CsvSource {
    entities: Vec<EntityReader>,
    current: usize,
}

impl CsvSource {
    pub(crate) fn open(ctx: &OpenContext) -> Result<CsvSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        let base = cfg.directory.as_deref().map_or_else(|| ctx.base_dir.clone(), |d| ctx.resolve(d));
        let file_dialect: DialectOverride = match &cfg.dialect {
            Some(v) => parse_section(v, "dialect")?,
            None => DialectOverride::default(),
        };
        let defaults = Dialect::default().with(&file_dialect);
        let mut configured = cfg.entities.clone();
        if configured.is_empty() {
            // A bare folder (`--from csv:out/`): every `<entity>.csv` in it, in
            // the canonical layout the csv sink writes.
            if cfg.directory.is_some() {
                for kind in EntityKind::ALL {
                    let file = format!("{kind}.csv");
                    if base.join(&file).is_file() {
                        configured.insert(
                            kind.name().to_owned(),
                            ferry_sdk::serde_json::json!({ "file": file, "layout": "canonical" }),
                        );
                    }
                }
            }
            if configured.is_empty() {
                return Err(Error::config(format!(
                    "the csv source has no entities: add an [entities.<entity>] table per file, e.g. [entities.students] with file = \"students.csv\"{}",
                    if cfg.directory.is_some() {
                        format!(
                            ", or put files named <entity>.csv (students.csv, orgs.csv…) in the canonical layout in {}, which {}",
                            base.display(),
                            folder_contents(&base)
                        )
                    } else {
                        String::new()
                    }
                )));
            }
        }
        let mut entities = Vec::new();
        for (name, value) in &configured {
            let kind = EntityKind::from_name(name).ok_or_else(|| {
                let all: Vec<&str> = EntityKind::ALL.iter().map(|k| k.name()).collect();
                config_error(
                    format!("entities.{name}"),
                    format!("unknown entity; entities are: {}", all.join(", ")),
                )
            })?;
            let ec: EntityConfig = parse_section(value, &format!("entities.{name}"))?;
            entities.push(EntityReader::open(kind, ec, &base, &defaults, &cfg)?);
        }
        entities.sort_by_key(|e| e.kind);
        Ok(CsvSource { entities, current: 0 })
    }
}

/// What a folder holds, for saying why none of it was read: "is empty", or
/// the names of (up to five of) its files.
fn folder_contents(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return "cannot be read".to_owned();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    match names.len() {
        0 => "is empty".to_owned(),
        n => {
            let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
            let more = if n > 5 { format!(" and {} more", n - 5) } else { String::new() };
            format!("holds {n} file(s) named otherwise: {}{more}", shown.join(", "))
        }
    }
}

/// The file's name for origins: as configured when relative, else relative
/// to the directory when inside it.
fn label_of(file: &str, path: &Path, base: &Path) -> String {
    if Path::new(file).is_relative() {
        return file.replace('\\', "/");
    }
    path.strip_prefix(base).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// The index of `name` among `columns`: exact, else the only match ignoring
/// case and surrounding spaces.
fn find_column(columns: &[String], name: &str) -> Option<usize> {
    if let Some(i) = columns.iter().position(|c| c == name) {
        return Some(i);
    }
    let mut found = columns.iter().enumerate().filter(|(_, c)| c.trim().eq_ignore_ascii_case(name.trim()));
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// Extension keys for unmapped columns: the column name; a repeated or
/// empty name gets its position.
fn ext_key(columns: &[String], i: usize) -> String {
    let name = &columns[i];
    if name.is_empty() {
        format!("column{}", i + 1)
    } else if columns[..i].contains(name) {
        format!("{name}#{}", i + 1)
    } else {
        name.clone()
    }
}

impl EntityReader {
    fn open(
        kind: EntityKind,
        ec: EntityConfig,
        base: &Path,
        defaults: &Dialect,
        cfg: &SourceConfig,
    ) -> Result<EntityReader, Error> {
        let key = format!("entities.{kind}");
        let dialect = defaults.clone().with(&ec.dialect);
        dialect.check().map_err(|e| config_error(format!("{key}.dialect"), e))?;
        let path: PathBuf =
            if Path::new(&ec.file).is_absolute() { PathBuf::from(&ec.file) } else { base.join(&ec.file) };
        let label = label_of(&ec.file, &path, base);
        let reader = TextReader::open(&path, &dialect).map_err(|e| e.context(format!("{key}.file")))?;
        let columns = reader.columns().to_vec();
        if columns.is_empty() {
            return Err(Error::data(format!(
                "{key}: {label} is empty; it has no header line, so its columns cannot be matched (export it again, or set dialect.header = false and dialect.columns)"
            )));
        }
        let targets = match (&ec.columns, ec.layout) {
            (Some(_), Some(_)) => {
                return Err(config_error(
                    key,
                    "give either columns (a mapping) or layout = \"canonical\", not both".to_owned(),
                ));
            }
            (None, None) => {
                return Err(config_error(
                    key,
                    "say how columns map: a [columns] table (\"Source Column\" = \"canonical.path\") or layout = \"canonical\" for files written by the csv sink's default layout".to_owned(),
                ));
            }
            (Some(map), None) => mapped_targets(kind, &key, map, &columns, &label)?,
            (None, Some(LayoutName::Canonical)) => canonical_targets(kind, &key, &columns, &label)?,
        };
        tracing::debug!(entity = %kind, file = %label, encoding = %reader.encoding(), columns = columns.len(), "Opened file.");
        Ok(EntityReader {
            kind,
            label,
            reader,
            parser: ValueParser::new(&dialect),
            dialect,
            targets,
            columns,
            system: cfg.system.clone(),
            keep_raw: cfg.keep_raw_rows,
            lists: Vec::new(),
            issues: Vec::new(),
            field_issues: Vec::new(),
            scratch: None,
            records: 0,
            rejected: 0,
        })
    }

    /// Reads rows into `out` until it is full, `budget` rejects were made,
    /// or the file ends (then returns `true`).
    fn fill<R: Record>(&mut self, out: &mut BatchBuilder, budget: &mut u32) -> Result<bool, Error> {
        while !out.is_full() && *budget > 0 {
            let row = match self.reader.next_row().map_err(|e| e.context(&self.label))? {
                None => return Ok(true),
                Some(Ok(row)) => row,
                Some(Err(bad)) => {
                    out.reject(
                        Reject::new(self.kind, bad.to_string()).at(&self.label, bad.line).value(bad.raw),
                    );
                    self.rejected += 1;
                    *budget -= 1;
                    continue;
                }
            };
            // A NUL byte in an id is a damaged row, never part of the id.
            if let Some(note) = row.notes().iter().find(|n| n.is_nul() && id_column(&self.targets, n.field)) {
                let column = &self.columns[note.field];
                out.reject(
                    Reject::new(
                        self.kind,
                        format!("{}; an id never holds one, so the row is not read", note.reason(column)),
                    )
                    .at(&self.label, row.line())
                    .field(column.clone())
                    .value(row.to_line(self.dialect.delimiter, self.dialect.quoting)),
                );
                self.rejected += 1;
                *budget -= 1;
                continue;
            }
            // One record, reused row after row: its strings keep their
            // buffers (every targeted field is set or cleared on each row).
            let record = self
                .scratch
                .get_or_insert_with(|| Box::new(R::default()))
                .downcast_mut::<R>()
                .ok_or_else(|| Error::internal("scratch record of the wrong type"))?;
            let meta = record.meta_mut();
            meta.source.id.clear();
            meta.source.system.clear();
            meta.alt_ids.clear();
            meta.ext.clear();
            build(record, row, &mut self.targets, &self.parser, &mut self.lists, &mut self.issues);
            let meta = record.meta_mut();
            if meta.source.system.is_empty() {
                meta.source.system.clone_from(&self.system);
            }
            let raw = self.keep_raw.then(|| row.to_line(self.dialect.delimiter, self.dialect.quoting));
            let origin = meta.origin.get_or_insert_with(Origin::default);
            origin.file.clone_from(&self.label);
            origin.line = row.line();
            origin.raw = raw;
            meta.row_hash = Some(row_hash(row.iter()));
            // A cell that cannot be stored leaves its field empty; the SDK
            // rejects the record when the field is a key or required, and
            // otherwise writes it with a warning naming the column.
            self.field_issues.clear();
            for p in &self.issues {
                let mut issue = FieldIssue::new(
                    &p.field,
                    format!("column {:?} ({}): {}", self.columns[p.col], p.field, p.reason),
                );
                issue.value = Some(row.get(p.col).unwrap_or_default().to_owned());
                self.field_issues.push(issue);
            }
            if out.push_with(&*record, &self.field_issues)? {
                self.records += 1;
                // Fields read in a fallback encoding, NULs removed: said, never silent.
                for note in row.notes() {
                    let field = note_field(&self.targets, &self.columns, note.field);
                    let reason = note.reason(self.columns.get(note.field).map_or("", String::as_str));
                    out.warn_last(Reject::warning(self.kind, reason).of(record.meta()).field(field))?;
                }
            } else {
                self.rejected += 1;
                *budget -= 1;
            }
        }
        Ok(false)
    }

    fn log_done(&self) {
        tracing::info!(
            entity = %self.kind,
            file = %self.label,
            encoding = %self.reader.encoding(),
            rows = self.reader.rows_read(),
            records = self.records,
            rejected = self.rejected,
            "Read file."
        );
    }
}

/// Whether column `col` holds an id: the source id or system, an
/// alternative id, or a key field.
fn id_column(targets: &[Target], col: usize) -> bool {
    targets.iter().filter(|t| t.col == col).any(|t| match &t.action {
        Action::SourceId | Action::SourceSystem | Action::Alt(_) | Action::AltIds => true,
        Action::Field(f) | Action::Code { field: f, .. } | Action::CanonicalCode { field: f, .. } => f.key,
        Action::Ext(_) | Action::Extensions => false,
    })
}

/// The field a warning about column `col` names, for the host's field
/// policy: the canonical field when the column fills one that may be left
/// as it is (not a key or required field, which the policy always rejects),
/// else the column's name.
fn note_field(targets: &[Target], columns: &[String], col: usize) -> String {
    let mut of_col = targets.iter().filter(|t| t.col == col);
    let only = match (of_col.next(), of_col.next()) {
        (Some(t), None) => match &t.action {
            Action::Field(f) | Action::Code { field: f, .. } | Action::CanonicalCode { field: f, .. } => {
                (!f.is_strict()).then_some(f.name)
            }
            _ => None,
        },
        _ => None,
    };
    only.map_or_else(|| columns.get(col).cloned().unwrap_or_default(), str::to_owned)
}

/// Fills `record` from `row`; cells that cannot be stored go to `issues`
/// (their fields stay empty).
fn build<R: Record>(
    record: &mut R,
    row: &Row,
    targets: &mut [Target],
    parser: &ValueParser,
    lists: &mut Vec<String>,
    issues: &mut Vec<CellIssue>,
) {
    issues.clear();
    for t in targets {
        let col = t.col;
        let cell = row.get(col).unwrap_or_default();
        let problem = |field: &str, reason: String| CellIssue { col, field: field.to_owned(), reason };
        match &mut t.action {
            Action::Field(def) => match parser.parse(def.ty, cell, lists) {
                Ok(Value::Null) => {
                    let _ = record.set(def.name, Value::Null);
                }
                Ok(v) => {
                    if let Err(e) = record.set(def.name, v) {
                        issues.push(problem(def.name, e.to_string()));
                    }
                }
                Err(e) => {
                    let _ = record.set(def.name, Value::Null);
                    issues.push(problem(def.name, e.0));
                }
            },
            Action::Code { field, memo } => {
                if let Some(text) = parser.text(cell) {
                    let value = match memo.code::<R>(field.name, text) {
                        Some(code) => Value::Code { code, original: text },
                        None => Value::Text(text),
                    };
                    if let Err(e) = record.set(field.name, value) {
                        issues.push(problem(field.name, e.to_string()));
                    }
                } else {
                    let _ = record.set(field.name, Value::Null);
                }
            }
            Action::SourceId => {
                if let Some(v) = parser.text(cell) {
                    v.clone_into(&mut record.meta_mut().source.id);
                }
            }
            Action::SourceSystem => {
                if let Some(v) = parser.text(cell) {
                    v.clone_into(&mut record.meta_mut().source.system);
                }
            }
            Action::Alt(kind) => {
                if let Some(v) = parser.text(cell) {
                    record.meta_mut().set_alt_id(kind, v);
                }
            }
            Action::Ext(key) => {
                if let Some(v) = parser.text(cell) {
                    record.meta_mut().ext.insert(key.as_str(), v);
                }
            }
            Action::CanonicalCode { field, values, original } => {
                let original = row.get(*original).unwrap_or_default();
                let values: &[&'static str] = values;
                let value = match parser.text(cell) {
                    Some(code) => {
                        let canonical =
                            values.iter().find(|v| **v == code).or_else(|| values.last()).copied();
                        canonical.map(|code| Value::Code { code, original })
                    }
                    None => parser.text(original).map(Value::Text),
                };
                match value {
                    Some(v) => {
                        if let Err(e) = record.set(field.name, v) {
                            issues.push(problem(field.name, e.to_string()));
                        }
                    }
                    None => {
                        let _ = record.set(field.name, Value::Null);
                    }
                }
            }
            Action::AltIds => {
                if parser.text(cell).is_some()
                    && let Err(e) = layout::read_alt_ids(cell, record.meta_mut())
                {
                    issues.push(problem(ALT_IDS, e.to_owned()));
                }
            }
            Action::Extensions => {
                if parser.text(cell).is_some()
                    && let Err(e) = layout::read_extensions(cell, record.meta_mut())
                {
                    issues.push(problem(EXTENSIONS, e.to_owned()));
                }
            }
        }
    }
}

fn path_action(path: FieldPath) -> Action {
    match path {
        FieldPath::SourceId => Action::SourceId,
        FieldPath::SourceSystem => Action::SourceSystem,
        FieldPath::Alt(k) => Action::Alt(k),
        FieldPath::Ext(k) => Action::Ext(k),
        FieldPath::Field(f) => field_action(f),
    }
}

fn field_action(f: &'static FieldDef) -> Action {
    match f.ty {
        FieldType::Code(_) => Action::Code { field: f, memo: CodeMemo::default() },
        _ => Action::Field(f),
    }
}

/// Targets of a `[columns]` mapping: mapped columns to their paths, every
/// other column to `ext.<column name>`.
fn mapped_targets(
    kind: EntityKind,
    key: &str,
    map: &BTreeMap<String, Targets>,
    columns: &[String],
    label: &str,
) -> Result<Vec<Target>, Error> {
    let mut targets: Vec<Target> = Vec::new();
    let mut mapped = vec![false; columns.len()];
    let mut seen: Vec<(FieldPath, &str)> = Vec::new();
    for (column, paths) in map {
        let col = find_column(columns, column).ok_or_else(|| {
            let have = columns.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
            config_error(
                format!("{key}.columns"),
                format!(
                    "the column {column:?} is not in {label} (its columns are {have}); check the spelling, and the dialect's delimiter, header and columns"
                ),
            )
        })?;
        mapped[col] = true;
        let paths: Vec<&String> = match paths {
            Targets::One(p) => vec![p],
            Targets::Many(ps) => ps.iter().collect(),
        };
        if paths.is_empty() {
            return Err(config_error(format!("{key}.columns.{column:?}"), "maps to no path".to_owned()));
        }
        for p in paths {
            let path = FieldPath::resolve(kind, p).ok_or_else(|| {
                config_error(
                    format!("{key}.columns.{column:?}"),
                    format!("{p:?} (for {label}) is not a canonical path; use {}", valid_paths(kind)),
                )
            })?;
            if let Some((_, other)) = seen.iter().find(|(q, _)| *q == path) {
                return Err(config_error(
                    format!("{key}.columns"),
                    format!("the columns {other:?} and {column:?} both map to {p:?}; map one of them"),
                ));
            }
            seen.push((path.clone(), column));
            targets.push(Target { col, action: path_action(path) });
        }
    }
    if !seen.iter().any(|(p, _)| *p == FieldPath::SourceId) {
        return Err(config_error(
            format!("{key}.columns"),
            "no column maps to source_id, which every record needs; map the column holding the record's id, e.g. \"ID\" = \"source_id\" (a column may map to several paths: \"Student_Number\" = [\"source_id\", \"student_number\"])".to_owned(),
        ));
    }
    for (col, _) in mapped.iter().enumerate().filter(|(_, m)| !**m) {
        targets.push(Target { col, action: Action::Ext(ext_key(columns, col)) });
    }
    targets.sort_by_key(|t| t.col);
    Ok(targets)
}

/// Targets of a file in the default layout, matched by header name;
/// columns the layout does not know go to `ext.<column name>`.
fn canonical_targets(
    kind: EntityKind,
    key: &str,
    columns: &[String],
    label: &str,
) -> Result<Vec<Target>, Error> {
    let mut targets = Vec::new();
    let code_field =
        |name: &str| kind.fields().iter().find(|f| f.name == name && matches!(f.ty, FieldType::Code(_)));
    for (col, name) in columns.iter().enumerate() {
        let action = match name.as_str() {
            SOURCE_ID => Action::SourceId,
            SOURCE_SYSTEM => Action::SourceSystem,
            ALT_IDS => Action::AltIds,
            EXTENSIONS => Action::Extensions,
            _ => {
                if let Some(field) = name.strip_suffix(ORIGINAL_SUFFIX).and_then(code_field) {
                    if columns.iter().any(|c| c == field.name) {
                        // Read together with the canonical column.
                        continue;
                    }
                    field_action(field)
                } else if let Some(path) = FieldPath::resolve(kind, name) {
                    match (path, columns.iter().position(|c| *c == format!("{name}{ORIGINAL_SUFFIX}"))) {
                        (FieldPath::Field(f), Some(original)) => match f.ty {
                            FieldType::Code(values) => Action::CanonicalCode { field: f, values, original },
                            _ => field_action(f),
                        },
                        (path, _) => path_action(path),
                    }
                } else {
                    Action::Ext(ext_key(columns, col))
                }
            }
        };
        targets.push(Target { col, action });
    }
    if !columns.iter().any(|c| c == SOURCE_ID) {
        return Err(config_error(
            key.to_owned(),
            format!(
                "{label} has no source_id column, so it is not in the canonical layout; map its columns with a [columns] table instead"
            ),
        ));
    }
    Ok(targets)
}

impl Source for CsvSource {
    fn entities(&self) -> Vec<EntityKind> {
        self.entities.iter().map(|e| e.kind).collect()
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        // Rejects are bounded per call like records, so that a file of bad
        // rows does not pile them up in memory.
        let mut budget = 10_000u32;
        while let Some(e) = self.entities.get_mut(self.current) {
            if !out.accepts(e.kind) {
                return Ok(true);
            }
            let finished = with_record_type!(e.kind, R => e.fill::<R>(out, &mut budget))?;
            if !finished {
                return Ok(true);
            }
            e.log_done();
            self.current += 1;
            if !out.is_empty() {
                // A batch holds one entity: hand this one over first.
                return Ok(self.current < self.entities.len());
            }
        }
        Ok(false)
    }
}

/// The encoding an entity's file is read with (for tests and logs).
#[cfg(test)]
impl CsvSource {
    fn encodings(&self) -> Vec<(EntityKind, ferry_sdk::text::Encoding)> {
        self.entities.iter().map(|e| (e.kind, e.reader.encoding())).collect()
    }
}

#[cfg(test)]
mod tests {
    use ferry_sdk::text::Encoding;

    use super::*;

    #[test]
    fn column_lookup_and_extension_keys() {
        let cols: Vec<String> =
            ["ID", "Phone", " phone ", "", "Phone"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(find_column(&cols, "ID"), Some(0));
        assert_eq!(find_column(&cols, "id"), Some(0));
        assert_eq!(find_column(&cols, "PHONE"), None, "ambiguous without an exact match");
        assert_eq!(ext_key(&cols, 3), "column4");
        assert_eq!(ext_key(&cols, 4), "Phone#5");
    }

    #[test]
    fn reports_the_encoding_of_each_file() {
        let dir = std::env::temp_dir().join(format!("ferry-csv-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.csv"), b"id\n1\n").unwrap();
        std::fs::write(dir.join("b.csv"), b"id,n\n1,Zo\xEB\n").unwrap();
        let ctx = OpenContext::new(
            ferry_sdk::serde_json::json!({ "entities": {
                "orgs": { "file": "a.csv", "columns": { "id": "source_id" } },
                "students": { "file": "b.csv", "columns": { "id": "source_id" } },
            }}),
            &dir,
        );
        let src = CsvSource::open(&ctx).unwrap();
        assert_eq!(
            src.encodings(),
            [(EntityKind::Orgs, Encoding::UTF_8), (EntityKind::Students, Encoding::WINDOWS_1252)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
