//! The CSV sink: one delimited file per entity, in a mapped layout (another
//! system's import template) or the default layout; written to temporary
//! files and renamed into place on commit.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use ferry_sdk::files::TempFile;
use ferry_sdk::model::EntityKind;
use ferry_sdk::serde::{Deserialize, Deserializer};
use ferry_sdk::text::{
    CodeStyle, DateFormat, Delimiter, Encoding, LineEnding, QuoteStyle, Row, TextWriter, ValueFormatter,
    WriteOptions,
};
use ferry_sdk::{
    Committed, EntityPlan, Error, OpenContext, Prepared, Reject, RunSummary, Sink, SinkBatch, Written,
    tracing,
};

use crate::layout::{self, ALT_IDS, Column, EXTENSIONS, default_layout};
use crate::paths::{BoundPath, FieldPath, valid_paths};
use crate::{config_error, parse_section};

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SinkConfig {
    directory: String,
    #[serde(default)]
    dialect: Option<ferry_sdk::serde_json::Value>,
    #[serde(default)]
    entities: ferry_sdk::serde_json::Map<String, ferry_sdk::serde_json::Value>,
    #[serde(default)]
    all_entities: Option<bool>,
}

/// How files are written.
#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", default, deny_unknown_fields)]
struct WriteDialect {
    delimiter: Delimiter,
    quoting: QuoteStyle,
    header: bool,
    encoding: OutputEncoding,
    date_format: DateFormat,
    line_ending: LineEnding,
    true_value: String,
    false_value: String,
}

impl Default for WriteDialect {
    fn default() -> WriteDialect {
        WriteDialect {
            delimiter: Delimiter::COMMA,
            quoting: QuoteStyle::Necessary,
            header: true,
            encoding: OutputEncoding { encoding: Encoding::UTF_8, bom: false },
            date_format: DateFormat::iso(),
            line_ending: LineEnding::Lf,
            true_value: "true".to_owned(),
            false_value: "false".to_owned(),
        }
    }
}

/// `utf-8`, `utf-8-bom`, `windows-1252` or another encoding label.
#[derive(Clone, Copy)]
struct OutputEncoding {
    encoding: Encoding,
    bom: bool,
}

impl<'de> Deserialize<'de> for OutputEncoding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OutputEncoding, D::Error> {
        let s = String::deserialize(d)?;
        let l = s.trim().to_ascii_lowercase();
        if l == "auto" {
            return Err(ferry_sdk::serde::de::Error::custom(
                "encoding: \"auto\" is for reading; write \"utf-8\", \"utf-8-bom\" or \"windows-1252\"",
            ));
        }
        let bom = l == "utf-8-bom" || l == "utf-8-sig";
        let encoding = Encoding::for_label(&l)
            .map_err(|e| ferry_sdk::serde::de::Error::custom(format!("encoding: {e}")))?;
        Ok(OutputEncoding { encoding, bom })
    }
}

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct EntityConfig {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    columns: Option<Vec<ColumnConfig>>,
}

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct ColumnConfig {
    column: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    code: Option<CodeStyle>,
}

/// What an output column holds.
enum OutColumn {
    /// The same text on every row.
    Fixed(String),
    /// A path's value, with this column's own formatter when it has a format.
    Path { path: FieldPath, code: CodeStyle, formatter: Option<ValueFormatter> },
    /// Every alternative id (`kind=value;…`).
    AltIds,
    /// Every extension, as a JSON object.
    Extensions,
}

/// An output column bound to the columns of one batch.
enum BoundColumn<'a> {
    Fixed(&'a str),
    Path { path: BoundPath<'a>, code: CodeStyle, formatter: &'a ValueFormatter },
    AltIds,
    Extensions,
}

impl<'a> BoundColumn<'a> {
    #[inline]
    fn write(&self, meta: &ferry_sdk::model::MetaView<'a>, i: usize, out: &mut String) {
        match self {
            BoundColumn::Fixed(v) => out.push_str(v),
            BoundColumn::Path { path, code, formatter } => formatter.write(&path.get(meta, i), *code, out),
            BoundColumn::AltIds => layout::write_alt_ids(|| meta.alt_ids(i), out),
            BoundColumn::Extensions => layout::write_extensions(|| meta.extensions(i), out),
        }
    }
}

impl OutColumn {
    fn bind<'a>(
        &'a self,
        view: &ferry_sdk::model::FieldsView<'a>,
        formatter: &'a ValueFormatter,
    ) -> BoundColumn<'a> {
        match self {
            OutColumn::Fixed(v) => BoundColumn::Fixed(v),
            OutColumn::Path { path, code, formatter: own } => BoundColumn::Path {
                path: path.bind(view),
                code: *code,
                formatter: own.as_ref().unwrap_or(formatter),
            },
            OutColumn::AltIds => BoundColumn::AltIds,
            OutColumn::Extensions => BoundColumn::Extensions,
        }
    }

    /// The canonical field a reject names.
    fn field(&self) -> String {
        match self {
            OutColumn::Fixed(_) => String::new(),
            OutColumn::Path { path, .. } => path.name(),
            OutColumn::AltIds => ALT_IDS.to_owned(),
            OutColumn::Extensions => EXTENSIONS.to_owned(),
        }
    }
}

/// One output file.
struct OutFile {
    kind: EntityKind,
    /// The file relative to the sink's directory, for messages.
    label: String,
    path: PathBuf,
    /// The run's private temporary file, once created.
    temp: Option<TempFile>,
    header: Row,
    columns: Vec<OutColumn>,
    writer: Option<TextWriter<File>>,
    /// Configured in `[entities]`: written even when no record comes.
    configured: bool,
    written: u64,
    rejected: u64,
}

impl OutFile {
    fn new(
        kind: EntityKind,
        label: String,
        dir: &Path,
        columns: Vec<(String, OutColumn)>,
        configured: bool,
    ) -> OutFile {
        let path = dir.join(&label);
        let mut header = Row::new();
        let mut cols = Vec::with_capacity(columns.len());
        for (name, col) in columns {
            header.push(&name);
            cols.push(col);
        }
        OutFile {
            kind,
            label,
            path,
            temp: None,
            header,
            columns: cols,
            writer: None,
            configured,
            written: 0,
            rejected: 0,
        }
    }

    /// Creates the run's temporary file: owner-only (it holds personal data),
    /// exclusively, under a name of this run.
    fn create(&mut self, run_id: &str, options: WriteOptions, header: bool) -> Result<(), Error> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create the folder {}: {e}", parent.display())))?;
        }
        let (temp, file) = TempFile::create(&self.path, run_id)?;
        self.temp = Some(temp);
        let mut writer = TextWriter::new(file, options).map_err(|e| e.context(&self.label))?;
        if header && let Err(refusal) = writer.write_row(&self.header).map_err(|e| e.context(&self.label))? {
            return Err(Error::config(format!("{}: the header cannot be written: {refusal}", self.label)));
        }
        self.writer = Some(writer);
        Ok(())
    }

    /// Formats every row of `batch` in place (no per-record allocation) and
    /// writes it; a dry run formats and checks without writing.
    fn write(
        &mut self,
        batch: SinkBatch<'_>,
        formatter: &ValueFormatter,
        row: &mut Row,
        probe: &mut TextWriter<std::io::Sink>,
    ) -> Result<Written, Error> {
        let mut done = Written::default();
        let view = batch.fields()?;
        let meta = *view.meta();
        let bound: Vec<BoundColumn<'_>> = self.columns.iter().map(|c| c.bind(&view, formatter)).collect();
        for i in 0..view.len() {
            row.clear();
            for c in &bound {
                row.push_with(|s| c.write(&meta, i, s));
            }
            let outcome = match self.writer.as_mut() {
                Some(w) => w.write_row(row).map_err(|e| e.context(&self.label))?,
                None => probe.check(row),
            };
            match outcome {
                Ok(()) => done.written += 1,
                Err(refusal) => {
                    let column = self.header.get(refusal.field).unwrap_or_default();
                    let field = self.columns.get(refusal.field).map(OutColumn::field).unwrap_or_default();
                    let mut r = Reject::new(
                        self.kind,
                        format!("column {column:?} of {}: {}", self.label, refusal.reason),
                    )
                    .record(meta.source_id(i))
                    .field(field)
                    .value(row.get(refusal.field).unwrap_or_default());
                    if let Some(f) = meta.source_file(i) {
                        r = r.at(f, meta.source_line(i));
                    }
                    done.rejects.push(r);
                }
            }
        }
        Ok(done)
    }

    /// Removes the temporary file, if any.
    fn discard(&mut self) -> Result<(), Error> {
        self.writer = None;
        self.temp.take().map_or(Ok(()), TempFile::discard)
    }
}

/// The sink.
pub(crate) struct CsvSink {
    dir: PathBuf,
    options: WriteOptions,
    header: bool,
    formatter: ValueFormatter,
    files: Vec<OutFile>,
    all_entities: bool,
    /// Names this run's temporary files.
    run_id: String,
    row: Row,
    /// Validate and plan only: no file is created.
    dry_run: bool,
    /// Checks rows in a dry run, writing nothing.
    probe: TextWriter<std::io::Sink>,
    /// Committed or aborted: nothing left to clean up.
    finished: bool,
}

impl CsvSink {
    pub(crate) fn open(ctx: &OpenContext) -> Result<CsvSink, Error> {
        let cfg: SinkConfig = ctx.config()?;
        let dialect: WriteDialect = match &cfg.dialect {
            Some(v) => parse_section(v, "dialect")?,
            None => WriteDialect::default(),
        };
        if dialect.true_value == dialect.false_value {
            return Err(config_error("dialect", "true_value and false_value are the same".to_owned()));
        }
        let dir = ctx.resolve(&cfg.directory);
        if !ctx.dry_run {
            fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("directory: cannot create {}: {e}", dir.display())))?;
        }
        let options = WriteOptions {
            delimiter: dialect.delimiter,
            quoting: dialect.quoting,
            line_ending: dialect.line_ending,
            encoding: dialect.encoding.encoding,
            bom: dialect.encoding.bom,
        };
        let formatter = ValueFormatter::new(dialect.date_format, dialect.true_value, dialect.false_value);
        let mut files: Vec<OutFile> = Vec::new();
        for (name, value) in &cfg.entities {
            let key = format!("entities.{name}");
            let kind = EntityKind::from_name(name).ok_or_else(|| {
                let all: Vec<&str> = EntityKind::ALL.iter().map(|k| k.name()).collect();
                config_error(&key, format!("unknown entity; entities are: {}", all.join(", ")))
            })?;
            let ec: EntityConfig = parse_section(value, &key)?;
            let columns = match &ec.columns {
                None => default_columns(kind),
                Some(cols) if cols.is_empty() => {
                    return Err(config_error(
                        format!("{key}.columns"),
                        "is empty; list the columns to write, or leave columns out for the default layout"
                            .to_owned(),
                    ));
                }
                Some(cols) => cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| plan_column(kind, &format!("{key}.columns[{i}]"), c, &formatter))
                    .collect::<Result<Vec<_>, Error>>()?,
            };
            let file = ec.file.clone().unwrap_or_else(|| format!("{kind}.csv"));
            files.push(OutFile::new(kind, file, &dir, columns, true));
        }
        let all_entities = cfg.all_entities.unwrap_or(cfg.entities.is_empty());
        let sink = CsvSink {
            dir,
            options,
            header: dialect.header,
            formatter,
            files,
            all_entities,
            run_id: ctx.run_id.clone(),
            row: Row::new(),
            dry_run: ctx.dry_run,
            probe: TextWriter::new(std::io::sink(), options)?,
            finished: false,
        };
        sink.check_files()?;
        Ok(sink)
    }

    /// Two entities may not write one file, and every header must be writable.
    fn check_files(&self) -> Result<(), Error> {
        let mut paths: Vec<(PathBuf, EntityKind)> =
            self.files.iter().map(|f| (f.path.clone(), f.kind)).collect();
        if self.all_entities {
            for kind in EntityKind::ALL.iter().filter(|k| !self.files.iter().any(|f| f.kind == **k)) {
                paths.push((self.dir.join(format!("{kind}.csv")), *kind));
            }
        }
        for (i, (p, k)) in paths.iter().enumerate() {
            if let Some((_, other)) = paths[..i].iter().find(|(q, _)| q == p) {
                return Err(config_error(
                    format!("entities.{k}.file"),
                    format!("{} is also the file of {other}; give each entity its own file", p.display()),
                ));
            }
        }
        let mut probe = TextWriter::new(std::io::sink(), self.options)?;
        for f in &self.files {
            if let Err(refusal) = probe.check(&f.header) {
                let name = f.header.get(refusal.field).unwrap_or_default();
                return Err(config_error(
                    format!("entities.{}.columns", f.kind),
                    format!("the column name {name:?} cannot be written: {refusal}"),
                ));
            }
        }
        Ok(())
    }

    fn file_index(&mut self, kind: EntityKind) -> Result<usize, Error> {
        if let Some(i) = self.files.iter().position(|f| f.kind == kind) {
            return Ok(i);
        }
        if !self.all_entities {
            return Err(Error::unsupported(format!(
                "this csv sink is not configured for {kind}: add [entities.{kind}] or all_entities = true"
            )));
        }
        self.files.push(OutFile::new(kind, format!("{kind}.csv"), &self.dir, default_columns(kind), false));
        Ok(self.files.len() - 1)
    }

    fn discard_all(&mut self) -> Result<(), Error> {
        let mut first_error = None;
        for f in &mut self.files {
            if let Err(e) = f.discard() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn default_columns(kind: EntityKind) -> Vec<(String, OutColumn)> {
    default_layout(kind)
        .into_iter()
        .map(|(name, col)| {
            let col = match col {
                Column::Path(path, code) => OutColumn::Path { path, code, formatter: None },
                Column::AltIds => OutColumn::AltIds,
                Column::Extensions => OutColumn::Extensions,
            };
            (name, col)
        })
        .collect()
}

/// One `{ column = …, field = … }` of a mapped layout.
fn plan_column(
    kind: EntityKind,
    key: &str,
    c: &ColumnConfig,
    base: &ValueFormatter,
) -> Result<(String, OutColumn), Error> {
    let key = format!("{key} ({:?})", c.column);
    let col = match (&c.field, &c.value) {
        (None, Some(v)) => {
            if c.format.is_some() || c.code.is_some() {
                return Err(config_error(
                    key,
                    "format and code apply to a field, not to a fixed value".to_owned(),
                ));
            }
            OutColumn::Fixed(v.clone())
        }
        (Some(f), None) if f == ALT_IDS || f == EXTENSIONS => {
            if c.format.is_some() || c.code.is_some() {
                return Err(config_error(key, format!("format and code do not apply to {f}")));
            }
            if f == ALT_IDS { OutColumn::AltIds } else { OutColumn::Extensions }
        }
        (Some(f), None) => {
            let path = FieldPath::resolve(kind, f).ok_or_else(|| {
                config_error(
                    &key,
                    format!(
                        "{f:?} is not a canonical path; use {}, alt_ids or extensions",
                        valid_paths(kind)
                    ),
                )
            })?;
            let ty = path.ty();
            let code = match c.code {
                Some(_) if !matches!(ty, ferry_sdk::model::FieldType::Code(_)) => {
                    return Err(config_error(
                        key,
                        format!("code = … applies to code fields; {f} is a {} field", ty.name()),
                    ));
                }
                code => code.unwrap_or_default(),
            };
            let formatter = match (&c.format, ty) {
                (None, _) => None,
                (Some(spec), ferry_sdk::model::FieldType::Date) => {
                    let df = DateFormat::new(spec).map_err(|e| config_error(&key, e))?;
                    Some(base.clone().with_date_format(df))
                }
                (Some(spec), ferry_sdk::model::FieldType::Bool) => {
                    let (t, f) = spec.split_once('/').filter(|(t, f)| t != f).ok_or_else(|| {
                        config_error(
                            &key,
                            format!("a boolean format is \"<true>/<false>\", e.g. \"Y/N\"; got {spec:?}"),
                        )
                    })?;
                    Some(base.clone().with_bools(t, f))
                }
                (Some(_), ty) => {
                    return Err(config_error(
                        key,
                        format!("format applies to date and boolean fields; {f} is a {} field", ty.name()),
                    ));
                }
            };
            OutColumn::Path { path, code, formatter }
        }
        _ => {
            return Err(config_error(
                key,
                "give either field = \"<canonical path>\" or value = \"<fixed text>\"".to_owned(),
            ));
        }
    };
    Ok((c.column.clone(), col))
}

impl Sink for CsvSink {
    fn entities(&self) -> Vec<EntityKind> {
        if self.all_entities {
            EntityKind::ALL.to_vec()
        } else {
            let mut kinds: Vec<EntityKind> = self.files.iter().map(|f| f.kind).collect();
            kinds.sort();
            kinds
        }
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let i = self.file_index(batch.entity())?;
        let (options, header) = (self.options, self.header);
        let file = &mut self.files[i];
        if file.writer.is_none() && !self.dry_run {
            file.create(&self.run_id, options, header)?;
        }
        let (formatter, row, probe) = (&self.formatter, &mut self.row, &mut self.probe);
        let done = file.write(batch, formatter, row, probe)?;
        file.written += done.written;
        file.rejected += done.rejects.len() as u64;
        Ok(done)
    }

    fn prepare(&mut self, _summary: &RunSummary) -> Result<Prepared, Error> {
        // Every file replaces the one of the same name: its rows are all new.
        let plan = self
            .files
            .iter()
            .filter(|f| f.configured || f.written + f.rejected > 0)
            .map(|f| EntityPlan {
                entity: f.kind.name().to_owned(),
                create: f.written,
                reject: f.rejected,
                ..EntityPlan::default()
            })
            .collect();
        Ok(Prepared { plan, ..Prepared::default() })
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        if self.dry_run {
            return Err(Error::internal("a dry run is never committed"));
        }
        let (options, header) = (self.options, self.header);
        // Files configured but given no record still get their header.
        for f in self.files.iter_mut().filter(|f| f.configured && f.writer.is_none()) {
            f.create(&self.run_id, options, header)?;
        }
        // First make every file durable, then rename them all: a failure in
        // the first phase leaves every earlier output untouched.
        let mut ready = Vec::new();
        for f in &mut self.files {
            if let Some(w) = f.writer.take() {
                let file = w.finish().map_err(|e| e.context(&f.label))?;
                file.sync_all().map_err(|e| Error::io(format!("{}: cannot flush to disk: {e}", f.label)))?;
                ready.push(f);
            }
        }
        let mut notes = Vec::new();
        for f in ready {
            if let Some(temp) = f.temp.take() {
                temp.commit()?;
            }
            tracing::info!(entity = %f.kind, file = %f.label, rows = f.written, rejected = f.rejected, "Wrote file.");
            notes.push(format!("{}: {} rows", f.label, f.written));
        }
        self.finished = true;
        Ok(Committed { location: self.dir.display().to_string(), notes })
    }

    fn abort(&mut self) -> Result<(), Error> {
        self.finished = true;
        self.discard_all()
    }
}

impl Drop for CsvSink {
    fn drop(&mut self) {
        // Neither committed nor aborted (the host went away): leave nothing behind.
        if !self.finished {
            let _ = self.discard_all();
        }
    }
}
