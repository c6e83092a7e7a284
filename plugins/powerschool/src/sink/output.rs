//! Where the sink's rows go: one writer per import file, created on first
//! use with its header line, in the run's temporary folder; in a dry run,
//! writers that write nothing (rows are still checked and counted). And
//! [`Line`], the row being formatted, with PowerSchool's value formats.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use ferry_sdk::model::{Code, CodeRef, CodeSet, Date, Decimal, EntityKind, GradeLevel, Meta, MetaView};
use ferry_sdk::text::{DateFormat, Row, TextWriter, WriteOptions, WriteRefusal};
use ferry_sdk::{Error, Reject, Written};

use super::files::ImportFile;
use crate::values::{grade_level_number, inclusive_end_to_exclusive, push_int};

type Output = TextWriter<Box<dyn Write + Send>>;

/// The writers of one run.
pub struct Outputs {
    /// The temporary folder files are written into; `None` in a dry run.
    tmp: Option<PathBuf>,
    options: WriteOptions,
    /// By [`ImportFile::index`].
    writers: Vec<Option<Output>>,
    /// Columns after the file's own, per file (students' custom fields).
    extra: Vec<Vec<String>>,
    checker: TextWriter<io::Sink>,
}

impl Outputs {
    /// Writers into `tmp`, or into nothing when `tmp` is `None` (dry run).
    pub fn new(tmp: Option<PathBuf>, options: WriteOptions) -> Result<Outputs, Error> {
        let n = ImportFile::all().count();
        Ok(Outputs {
            tmp,
            options,
            writers: (0..n).map(|_| None).collect(),
            extra: vec![Vec::new(); n],
            checker: TextWriter::new(io::sink(), options)?,
        })
    }

    /// Creates `file` with its header (its columns, then `extra`) unless it
    /// is already open.
    pub fn open(&mut self, file: ImportFile, extra: &[String]) -> Result<(), Error> {
        let i = file.index();
        if self.writers[i].is_some() {
            return Ok(());
        }
        let sink: Box<dyn Write + Send> = match &self.tmp {
            Some(dir) => {
                // Owner-only and exclusive: the import files hold students' records.
                let f = ferry_sdk::files::create_private(&dir.join(file.name()))?;
                Box::new(BufWriter::with_capacity(256 * 1024, f))
            }
            None => Box::new(io::sink()),
        };
        let mut writer = TextWriter::new(sink, self.options)?;
        let mut header = Row::new();
        for c in file.columns().iter().copied().chain(extra.iter().map(String::as_str)) {
            header.push(c);
        }
        if let Err(r) = writer.write_row(&header)? {
            return Err(Error::config(format!("{}: a column name cannot be written: {r}", file.name())));
        }
        self.extra[i] = extra.to_vec();
        self.writers[i] = Some(writer);
        Ok(())
    }

    /// Writes `row` into `file` (opened with no extra column if need be);
    /// `Ok(Err(_))` when the row cannot be written (nothing of it is).
    pub fn write(&mut self, file: ImportFile, row: &Row) -> Result<Result<(), WriteRefusal>, Error> {
        self.open(file, &[])?;
        match self.writers[file.index()].as_mut() {
            Some(w) => w.write_row(row),
            None => Err(Error::internal("an output vanished")),
        }
    }

    /// Whether `row` could be written, without writing it.
    pub fn check(&mut self, row: &Row) -> Result<(), WriteRefusal> {
        self.checker.check(row)
    }

    /// The name of column `i` of `file`.
    pub fn column(&self, file: ImportFile, i: usize) -> &str {
        let own = file.columns();
        match own.get(i) {
            Some(c) => c,
            None => self.extra[file.index()].get(i - own.len()).map_or("", String::as_str),
        }
    }

    /// Flushes every file; returns the data rows of each file written.
    pub fn finish(&mut self) -> Result<Vec<(ImportFile, u64)>, Error> {
        let mut counts = Vec::new();
        for (file, slot) in ImportFile::all().zip(self.writers.iter_mut()) {
            if let Some(w) = slot.take() {
                let rows = w.rows_written().saturating_sub(1);
                let mut out = w.finish().map_err(|e| e.context(file.name()))?;
                out.flush().map_err(|e| Error::io(format!("{}: cannot write: {e}", file.name())))?;
                counts.push((file, rows));
            }
        }
        Ok(counts)
    }

    /// Drops every writer (their files are removed with the folder).
    pub fn discard(&mut self) {
        for w in &mut self.writers {
            *w = None;
        }
    }
}

/// A row being formatted for an import file.
pub struct Line {
    /// The row.
    pub row: Row,
    dates: DateFormat,
}

impl Line {
    /// An empty line, dates as MM/DD/YYYY.
    pub fn new() -> Result<Line, Error> {
        Ok(Line { row: Row::new(), dates: DateFormat::new("%m/%d/%Y").map_err(Error::internal)? })
    }

    /// Starts a new row.
    pub fn start(&mut self) -> &mut Line {
        self.row.clear();
        self
    }

    /// A text field.
    pub fn text(&mut self, v: &str) -> &mut Line {
        self.row.push(v);
        self
    }

    /// An optional text field (empty when `None`).
    pub fn opt(&mut self, v: Option<&str>) -> &mut Line {
        self.row.push(v.unwrap_or_default());
        self
    }

    /// A date as MM/DD/YYYY.
    pub fn date(&mut self, d: Option<Date>) -> &mut Line {
        let dates = &self.dates;
        self.row.push_with(|s| {
            if let Some(d) = d {
                dates.write(d, s);
            }
        });
        self
    }

    /// An inclusive end date written as PowerSchool's exclusive one.
    pub fn exclusive(&mut self, d: Option<Date>) -> &mut Line {
        self.date(d.and_then(inclusive_end_to_exclusive))
    }

    /// A whole number.
    pub fn int(&mut self, n: i64) -> &mut Line {
        self.row.push_with(|s| push_int(s, n));
        self
    }

    /// An optional whole number.
    pub fn opt_int(&mut self, n: Option<i64>) -> &mut Line {
        self.row.push_with(|s| {
            if let Some(n) = n {
                push_int(s, n);
            }
        });
        self
    }

    /// A decimal: its exact shortest form, whole numbers as `1.0`.
    pub fn decimal(&mut self, d: Option<Decimal>) -> &mut Line {
        self.row.push_with(|s| {
            if let Some(d) = d {
                let _ = write!(s, "{d}");
                if d.units() % 10_000 == 0 {
                    s.push_str(".0");
                }
            }
        });
        self
    }

    /// A grade level as PowerSchool's number.
    pub fn grade(&mut self, g: Option<CodeRef<'_>>) -> &mut Line {
        self.row.push(g.map_or("", |g| grade_level_number(g.value::<GradeLevel>(), g.original)));
        self
    }

    /// A code's original value.
    pub fn original(&mut self, c: Option<CodeRef<'_>>) -> &mut Line {
        self.row.push(c.map_or("", |c| c.original));
        self
    }

    /// A flag as 1 or 0.
    pub fn flag(&mut self, v: Option<bool>) -> &mut Line {
        self.row.push(match v {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        });
        self
    }

    /// Field `i` of the row, for a reject's value.
    pub fn value(&self, i: usize) -> String {
        self.row.get(i).unwrap_or_default().to_owned()
    }
}

/// A record as rejects cite it: id, file and line.
#[derive(Clone, Copy, Debug)]
pub struct Cited<'a> {
    /// Source id.
    pub id: &'a str,
    /// Source file, if any.
    pub file: Option<&'a str>,
    /// Source line (0 when unknown).
    pub line: u64,
}

impl<'a> Cited<'a> {
    /// Row `i` of a batch.
    pub fn row(meta: &MetaView<'a>, i: usize) -> Cited<'a> {
        Cited { id: meta.source_id(i), file: meta.source_file(i), line: meta.source_line(i) }
    }

    /// A kept record.
    pub fn of(meta: &'a Meta) -> Cited<'a> {
        let (file, line) = meta.origin.as_ref().map_or((None, 0), |o| (Some(o.file.as_str()), o.line));
        Cited { id: &meta.source.id, file, line }
    }

    /// A reject of this record.
    pub fn reject(self, entity: EntityKind, reason: impl Into<String>) -> Reject {
        Reject::new(entity, reason).at(self.file.unwrap_or_default(), self.line).record(self.id)
    }
}

/// The outputs and the line being formatted.
pub struct Sheet {
    /// The files.
    pub out: Outputs,
    /// The row being formatted.
    pub line: Line,
}

impl Sheet {
    /// Writes the line into `file`: `None`, or a reject of `who` (of
    /// `entity`) naming the column that cannot be written.
    pub fn emit(
        &mut self,
        file: ImportFile,
        entity: EntityKind,
        who: Cited<'_>,
    ) -> Result<Option<Reject>, Error> {
        Ok(match self.out.write(file, &self.line.row)? {
            Ok(()) => None,
            Err(refusal) => {
                let column = self.out.column(file, refusal.field).to_owned();
                Some(self.refusal(file, entity, who, &refusal, &column))
            }
        })
    }

    /// Checks the line without writing it: `None`, or a reject of `who`;
    /// `column(i)` names field `i`.
    pub fn probe<'c>(
        &mut self,
        file: ImportFile,
        entity: EntityKind,
        who: Cited<'_>,
        column: impl Fn(usize) -> &'c str,
    ) -> Option<Reject> {
        match self.out.check(&self.line.row) {
            Ok(()) => None,
            Err(refusal) => Some(self.refusal(file, entity, who, &refusal, column(refusal.field))),
        }
    }

    /// Writes the line into `file`, whose values were all written or
    /// checked before: a refusal is a bug.
    pub fn write_checked(&mut self, file: ImportFile) -> Result<(), Error> {
        match self.out.write(file, &self.line.row)? {
            Ok(()) => Ok(()),
            Err(refusal) => Err(Error::internal(format!(
                "{}: a row of values already checked cannot be written: {}",
                file.name(),
                refusal.reason
            ))),
        }
    }

    fn refusal(
        &self,
        file: ImportFile,
        entity: EntityKind,
        who: Cited<'_>,
        refusal: &WriteRefusal,
        column: &str,
    ) -> Reject {
        who.reject(entity, format!("{}: {}", file.name(), refusal.reason))
            .field(column)
            .value(self.line.value(refusal.field))
    }
}

/// An owned code seen as a view's code.
pub fn code_ref<T: CodeSet>(c: &Code<T>) -> CodeRef<'_> {
    CodeRef { code: c.code.as_str(), original: &c.original }
}

/// Counts a record written (`None`) or refused.
pub fn account(w: &mut Written, reject: Option<Reject>) {
    match reject {
        None => w.written += 1,
        Some(r) => w.rejects.push(r),
    }
}
