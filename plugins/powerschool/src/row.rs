//! The row a mapper works on: [`Ctx`] (file, line, the record id being
//! built, the field issues met), [`Bad`] (why a row is rejected),
//! [`RowOutcome`] (what became of it), and helpers refilling records that
//! are reused row after row.

use ferry_sdk::model::{
    Code, CodeSet, Date, Decimal, EntityKind, GradeLevel, Meta, Origin, Record, SourceId,
};
use ferry_sdk::text::{Delimiter, Row, ValueParser};
use ferry_sdk::{BatchBuilder, Error, FieldIssue, Reject};

use crate::fields::Fields;
use crate::ids::SYSTEM;
use crate::values;

/// Why a row did not become a record: the column at fault, the reason
/// (never the value) and the value (shown only on request).
#[derive(Clone, Debug)]
pub struct Bad {
    /// Header of the column at fault.
    pub field: String,
    /// Why.
    pub reason: String,
    /// The offending value.
    pub value: Option<String>,
}

impl Bad {
    /// A problem with column `c` of `f`.
    pub fn at(f: &Fields<'_>, c: usize, reason: impl Into<String>) -> Bad {
        Bad { field: f.header(c).to_owned(), reason: reason.into(), value: f.get(c).map(str::to_owned) }
    }

    /// A problem not tied to one column.
    pub fn row(reason: impl Into<String>) -> Bad {
        Bad { field: String::new(), reason: reason.into(), value: None }
    }
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    /// A record.
    Record,
    /// A reject.
    Rejected,
    /// Used by a lookup or merged into another row's record.
    Folded,
    /// Not this pass's business (a secondary pass over a row whose primary
    /// record was rejected or that has nothing for this entity).
    Skip,
}

/// What a mapper knows about the row it maps.
pub struct Ctx<'a> {
    /// File name.
    pub file: &'a str,
    /// The PowerSchool table of the file (`Students`, `CC`…).
    pub table: &'a str,
    /// Line of the row.
    pub line: u64,
    /// The row.
    pub row: &'a Row,
    /// How to render the row for `meta.origin.raw`; `None`: raw rows are
    /// not kept (or were already given to this row's first record).
    pub raw: Option<(Delimiter, bool)>,
    /// The file's value parser.
    pub parser: &'a ValueParser,
    /// The record id being built, for rejects (a buffer reused row to row).
    pub id: String,
    /// Values of optional fields that could not be stored: the fields are
    /// left empty and these become warnings (a buffer reused row to row,
    /// empty when a row starts).
    pub issues: Vec<FieldIssue>,
    /// The row's content hash, once computed.
    pub hash: Option<[u8; 16]>,
}

/// Renders `row` as a line into `out` (fields joined by the delimiter,
/// quoted where needed when the file quotes).
pub fn render_line(row: &Row, delimiter: Delimiter, quoting: bool, out: &mut String) {
    let d = delimiter.as_char();
    out.clear();
    for (i, f) in row.iter().enumerate() {
        if i > 0 {
            out.push(d);
        }
        if quoting && f.contains([d, '"', '\r', '\n']) {
            out.push('"');
            for ch in f.chars() {
                if ch == '"' {
                    out.push('"');
                }
                out.push(ch);
            }
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
}

/// Sets an optional text field, reusing its string.
pub fn put(slot: &mut Option<String>, v: Option<&str>) {
    match (slot.as_mut(), v) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (None, Some(v)) => *slot = Some(v.to_owned()),
        (_, None) => *slot = None,
    }
}

/// Sets an optional code field, reusing its original's string.
pub fn put_code<T: CodeSet>(slot: &mut Option<Code<T>>, code: T, original: &str) {
    match slot.as_mut() {
        Some(c) => {
            c.code = code;
            c.original.clear();
            c.original.push_str(original);
        }
        None => *slot = Some(Code::mapped(code, original)),
    }
}

impl Ctx<'_> {
    /// The content hash of the row's cells (computed once per row).
    pub fn row_hash(&mut self) -> [u8; 16] {
        let row = self.row;
        *self.hash.get_or_insert_with(|| ferry_sdk::row_hash(row.iter()))
    }

    /// Sets the record id being built.
    pub fn set_id(&mut self, id: &str) {
        self.id.clear();
        self.id.push_str(id);
    }

    /// A meta for a record with source id `id`, from this row.
    pub fn meta(&mut self, id: String) -> Meta {
        self.id.clone_from(&id);
        let raw = self.raw.take().map(|(d, q)| {
            let mut s = String::new();
            render_line(self.row, d, q, &mut s);
            s
        });
        Meta {
            source: SourceId { system: SYSTEM.to_owned(), id },
            origin: Some(Origin { file: self.file.to_owned(), line: self.line, raw }),
            table: Some(self.table.to_owned()),
            row_hash: Some(self.row_hash()),
            ..Meta::default()
        }
    }

    /// Refills a reused record's meta for this row, with the id set by
    /// [`Ctx::set_id`] (alternative ids: [`crate::ids::fill_id_alts`]).
    pub fn fill_meta(&mut self, meta: &mut Meta) {
        if meta.source.system.is_empty() {
            meta.source.system.push_str(SYSTEM);
        }
        meta.source.id.clear();
        meta.source.id.push_str(&self.id);
        let origin = meta.origin.get_or_insert_with(Origin::default);
        if origin.file != self.file {
            origin.file.clear();
            origin.file.push_str(self.file);
        }
        origin.line = self.line;
        match self.raw.take() {
            Some((d, q)) => render_line(self.row, d, q, origin.raw.get_or_insert_with(String::new)),
            None => origin.raw = None,
        }
        put(&mut meta.table, Some(self.table));
        meta.row_hash = Some(self.row_hash());
    }

    /// A reject of this row.
    pub fn reject(&self, entity: EntityKind, bad: Bad) -> Reject {
        let mut r =
            Reject::new(entity, bad.reason).at(self.file, self.line).field(bad.field).record(self.id.clone());
        r.value = bad.value;
        r
    }

    /// Pushes `record` (with the row's field issues), or rejects the row for `bad`.
    pub fn emit<R: Record>(
        &self,
        out: &mut BatchBuilder,
        record: Result<R, Bad>,
    ) -> Result<RowOutcome, Error> {
        match record {
            Ok(r) => {
                Ok(if out.push_with(&r, &self.issues)? { RowOutcome::Record } else { RowOutcome::Rejected })
            }
            Err(bad) => {
                out.reject(self.reject(R::KIND, bad));
                Ok(RowOutcome::Rejected)
            }
        }
    }

    /// Column `c` as a whole number that must be there (`what` names it).
    pub fn need(&self, f: &Fields<'_>, c: usize, what: &str) -> Result<i64, Bad> {
        self.int(f, c)?.ok_or_else(|| Bad::at(f, c, format!("{what} is missing")))
    }

    /// Pushes a record refilled for this row (with the row's field issues),
    /// or rejects the row for the `Bad` that stopped the refill.
    pub fn push_refilled<R: Record>(
        &self,
        out: &mut BatchBuilder,
        rec: &R,
        filled: Result<(), Bad>,
    ) -> Result<RowOutcome, Error> {
        match filled {
            Ok(()) => {
                Ok(if out.push_with(rec, &self.issues)? { RowOutcome::Record } else { RowOutcome::Rejected })
            }
            Err(bad) => {
                out.reject(self.reject(R::KIND, bad));
                Ok(RowOutcome::Rejected)
            }
        }
    }

    /// Column `c` as a date (`None` when blank).
    pub fn date(&self, f: &Fields<'_>, c: usize) -> Result<Option<Date>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => self.parser.parse_date(v).map(Some).map_err(|e| Bad::at(f, c, e.0)),
        }
    }

    /// Column `c` as a flag (1/0, true/false, Y/N, yes/no).
    pub fn flag(&self, f: &Fields<'_>, c: usize) -> Result<Option<bool>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => self.parser.parse_bool(v).map(Some).map_err(|e| Bad::at(f, c, e.0)),
        }
    }

    /// Column `c` as an exact decimal (at most four places).
    pub fn decimal(&self, f: &Fields<'_>, c: usize) -> Result<Option<Decimal>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => self.parser.parse_decimal(v).map(Some).map_err(|e| Bad::at(f, c, e.0)),
        }
    }

    /// Column `c` as a whole number.
    pub fn int(&self, f: &Fields<'_>, c: usize) -> Result<Option<i64>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => values::int(v).map(Some).ok_or_else(|| Bad::at(f, c, "not a whole number")),
        }
    }

    /// The value of an optional field read by `read`: when column `c`'s
    /// value cannot be read, the field `field` is left empty and the
    /// problem becomes a field issue (a warning when the record is pushed).
    pub fn optional<T>(
        &mut self,
        f: &Fields<'_>,
        c: usize,
        field: &str,
        read: impl FnOnce(&Self, &Fields<'_>, usize) -> Result<Option<T>, Bad>,
    ) -> Option<T> {
        match read(self, f, c) {
            Ok(v) => v,
            Err(bad) => {
                let mut issue = FieldIssue::new(field, format!("{}: {}", bad.field, bad.reason));
                issue.value = bad.value;
                self.issues.push(issue);
                None
            }
        }
    }

    /// An optional date field (see [`Ctx::optional`]).
    pub fn opt_date(&mut self, f: &Fields<'_>, c: usize, field: &str) -> Option<Date> {
        self.optional(f, c, field, Ctx::date)
    }

    /// An optional flag field (see [`Ctx::optional`]).
    pub fn opt_flag(&mut self, f: &Fields<'_>, c: usize, field: &str) -> Option<bool> {
        self.optional(f, c, field, Ctx::flag)
    }

    /// An optional decimal field (see [`Ctx::optional`]).
    pub fn opt_decimal(&mut self, f: &Fields<'_>, c: usize, field: &str) -> Option<Decimal> {
        self.optional(f, c, field, Ctx::decimal)
    }

    /// An optional whole-number field (see [`Ctx::optional`]).
    pub fn opt_int(&mut self, f: &Fields<'_>, c: usize, field: &str) -> Option<i64> {
        self.optional(f, c, field, Ctx::int)
    }

    /// Records a field issue of `field` for column `c` (a value that was
    /// read but cannot be stored, such as an exit date with no day before it).
    pub fn issue(&mut self, f: &Fields<'_>, c: usize, field: &str, reason: &str) {
        let bad = Bad::at(f, c, reason);
        let mut issue = FieldIssue::new(field, format!("{}: {}", bad.field, bad.reason));
        issue.value = bad.value;
        self.issues.push(issue);
    }
}

/// Takes source id `id` among `seen` (the ids of one entity), refusing one
/// another row of `table` already has.
pub fn unique(seen: &mut std::collections::HashSet<String>, id: &str, table: &str) -> Result<(), Bad> {
    if seen.contains(id) {
        return Err(Bad::row(format!("another {table} row has this id")));
    }
    seen.insert(id.to_owned());
    Ok(())
}

/// Sets a grade level code in place.
pub fn put_grade_level(slot: &mut Option<Code<GradeLevel>>, v: Option<&str>) {
    match v.map(str::trim) {
        Some(v) => put_code(slot, values::grade_level_code(v), v),
        None => *slot = None,
    }
}

/// Sets an optional text field to a number, reusing its string.
pub fn put_int(slot: &mut Option<String>, n: i64) {
    let s = slot.get_or_insert_with(String::new);
    s.clear();
    values::push_int(s, n);
}

/// Sets an optional text field to `school:term`, reusing its string.
pub fn put_pair(slot: &mut Option<String>, a: i64, b: i64) {
    let s = slot.get_or_insert_with(String::new);
    s.clear();
    values::push_int(s, a);
    s.push(':');
    values::push_int(s, b);
}
