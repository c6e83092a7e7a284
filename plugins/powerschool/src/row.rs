//! Reading one row of a file for one mapping: the columns a mapping wants
//! (by key, with alternatives), which columns become extensions, and the
//! row context a mapper works in (its record id, origin, rejects).

use ferry_sdk::model::{AltId, Code, CodeSet, Date, EntityKind, Meta, Origin, Record, SourceId};
use ferry_sdk::text::{Delimiter, Row, ValueParser};
use ferry_sdk::{BatchBuilder, Error, Reject};

use crate::header::Column;

/// The source system stamped on every record.
pub const SYSTEM: &str = "powerschool";

/// Where an unmapped or partly mapped column's values go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// Stored in a canonical field or alternative id of the record.
    Yes,
    /// Read (to join or check) but stored nowhere: kept in extensions.
    No,
    /// A legacy contact field of Students: mapped when legacy contacts are
    /// read, else kept in the student's extensions.
    Legacy,
    /// A Students column about the current enrollment: kept in the
    /// enrollment's extensions, not the student's.
    Enrollment,
    /// A Students column about demographics: kept in the demographics
    /// record's extensions.
    Demographics,
}

/// A column a mapping reads: its keys (first match wins) and how it maps.
#[derive(Clone, Copy, Debug)]
pub struct Want {
    /// Column keys (see [`Column::key`]), in order of preference.
    pub keys: &'static [&'static str],
    /// How it maps.
    pub mapped: Mapped,
}

/// Declares a mapping's columns: a module with one index constant per
/// column and the `WANT` list.
macro_rules! columns {
    ($name:ident { $($c:ident = [$($k:literal),+] $m:ident),* $(,)? }) => {
        #[allow(dead_code, reason = "not every mapping reads every column it declares")]
        pub(crate) mod $name {
            use crate::row::{Mapped, Want};
            crate::row::column_indices!(0usize; $($c)*);
            pub const WANT: &[Want] = &[$(Want { keys: &[$($k),+], mapped: Mapped::$m }),*];
        }
    };
}
pub(crate) use columns;

/// Numbers the columns of [`columns!`].
macro_rules! column_indices {
    ($n:expr; $c:ident $($rest:ident)*) => {
        pub const $c: usize = $n;
        crate::row::column_indices!($n + 1usize; $($rest)*);
    };
    ($n:expr;) => {};
}
pub(crate) use column_indices;

/// A file's columns resolved for one mapping.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// Per wanted column, its index in the row.
    idx: Vec<Option<usize>>,
    /// Per wanted column, its header (for reject field names).
    headers: Vec<String>,
    /// Per wanted column, its extension key.
    ext_keys: Vec<String>,
    /// Columns kept as extensions: index and key.
    pub ext: Vec<(usize, String)>,
}

impl Prepared {
    /// Resolves `want` against a file's columns; `keep(m)` says whether a
    /// column mapped as `m` (`None` for columns the mapping does not know)
    /// goes to the record's extensions.
    pub fn new(columns: &[Column], want: &[Want], keep: impl Fn(Option<Mapped>) -> bool) -> Prepared {
        let mut p = Prepared::default();
        let mut claimed = vec![None; columns.len()];
        for w in want {
            let found = w.keys.iter().find_map(|k| columns.iter().position(|c| c.key == *k));
            if let Some(i) = found {
                if claimed[i].is_none() {
                    claimed[i] = Some(w.mapped);
                }
            }
            p.idx.push(found);
            p.headers.push(found.map_or_else(|| w.keys[0].to_owned(), |i| columns[i].header.clone()));
            p.ext_keys.push(found.map_or_else(|| w.keys[0].to_owned(), |i| columns[i].ext_key.clone()));
        }
        for (i, c) in columns.iter().enumerate() {
            if keep(claimed[i]) {
                // A header repeated in the file keeps both values.
                let mut key = c.ext_key.clone();
                let mut n = 1;
                while p.ext.iter().any(|(_, k)| *k == key) {
                    n += 1;
                    key = format!("{} ({n})", c.ext_key);
                }
                p.ext.push((i, key));
            }
        }
        p
    }

    /// Whether wanted column `c` is in the file.
    pub fn has(&self, c: usize) -> bool {
        self.idx.get(c).is_some_and(Option::is_some)
    }
}

/// The usual extension rule: every column not stored in a canonical field.
pub fn unmapped(m: Option<Mapped>) -> bool {
    !matches!(m, Some(Mapped::Yes))
}

/// One row seen through a [`Prepared`] mapping.
#[derive(Clone, Copy)]
pub struct Fields<'r> {
    row: &'r Row,
    prep: &'r Prepared,
}

impl<'r> Fields<'r> {
    /// A view of `row`.
    pub fn new(row: &'r Row, prep: &'r Prepared) -> Fields<'r> {
        Fields { row, prep }
    }

    /// Column `c`'s value when it is there and not blank (untrimmed).
    pub fn get(&self, c: usize) -> Option<&'r str> {
        let i = (*self.prep.idx.get(c)?)?;
        let v = self.row.get(i)?;
        (!blank(v)).then_some(v)
    }

    /// Column `c`'s value, trimmed, when not blank.
    pub fn trimmed(&self, c: usize) -> Option<&'r str> {
        self.get(c).map(str::trim)
    }

    /// Column `c`'s header (or its key when the file lacks it).
    pub fn header(&self, c: usize) -> &'r str {
        self.prep.headers.get(c).map_or("", String::as_str)
    }

    /// Whether the file has column `c`.
    pub fn has(&self, c: usize) -> bool {
        self.prep.has(c)
    }

    /// Keeps column `c`'s value in `meta`'s extensions (for a mapped column
    /// whose value found no canonical home, such as an unknown school).
    pub fn keep(&self, c: usize, meta: &mut Meta) {
        if let (Some(v), Some(k)) = (self.get(c), self.prep.ext_keys.get(c)) {
            meta.ext.insert(k.as_str(), v);
        }
    }

    /// Copies the extension columns' non-blank values into `meta`.
    pub fn ext_into(&self, meta: &mut Meta) {
        for (i, key) in &self.prep.ext {
            if let Some(v) = self.row.get(*i) {
                if !v.trim().is_empty() {
                    meta.ext.insert(key.as_str(), v);
                }
            }
        }
    }

    /// Replaces `meta`'s extensions with the extension columns' non-blank
    /// values, reusing its strings (for records refilled row after row).
    pub fn ext_fill(&self, meta: &mut Meta) {
        let row = self.row;
        meta.ext.replace_with(self.prep.ext.iter().filter_map(|(i, key)| {
            let v = row.get(*i)?;
            (!blank(v)).then_some((key.as_str(), v))
        }));
    }

    /// The extension columns' keys.
    pub fn ext_keys(&self) -> impl Iterator<Item = &'r str> {
        self.prep.ext.iter().map(|(_, k)| k.as_str())
    }

    /// Every extension column's value (blank ones too), `\u{1f}`-separated,
    /// in the order of [`Fields::ext_keys`]: one allocation per row.
    pub fn ext_values_joined(&self) -> String {
        let mut out = String::new();
        for (n, (i, _)) in self.prep.ext.iter().enumerate() {
            if n > 0 {
                out.push('\u{1f}');
            }
            out.push_str(self.row.get(*i).unwrap_or_default());
        }
        out
    }

    /// Copies the extension columns' non-blank values under `prefix` + key.
    pub fn ext_pairs(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, key) in &self.prep.ext {
            if let Some(v) = self.row.get(*i) {
                if !v.trim().is_empty() {
                    out.push((format!("{prefix}{key}"), v.to_owned()));
                }
            }
        }
        out
    }
}

/// Whether a cell is empty or only spaces (fast for the usual cells).
pub fn blank(v: &str) -> bool {
    let b = v.as_bytes();
    match (b.first(), b.last()) {
        (None, _) => true,
        (Some(f), Some(l)) if !f.is_ascii_whitespace() && !l.is_ascii_whitespace() => false,
        _ => v.trim().is_empty(),
    }
}

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
pub enum Out {
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
            alt_ids: Vec::new(),
            origin: Some(Origin { file: self.file.to_owned(), line: self.line, raw }),
            ext: Default::default(),
        }
    }

    /// Refills a reused record's meta for this row, with the id set by
    /// [`Ctx::set_id`] (alternative ids: [`fill_id_alts`]).
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
    }

    /// A reject of this row.
    pub fn reject(&self, entity: EntityKind, bad: Bad) -> Reject {
        let mut r =
            Reject::new(entity, bad.reason).at(self.file, self.line).field(bad.field).record(self.id.clone());
        r.value = bad.value;
        r
    }

    /// Pushes `record`, or rejects the row for `bad`.
    pub fn emit<R: Record>(&self, out: &mut BatchBuilder, record: Result<R, Bad>) -> Result<Out, Error> {
        match record {
            Ok(r) => Ok(if out.push(&r)? { Out::Record } else { Out::Rejected }),
            Err(bad) => {
                out.reject(self.reject(R::KIND, bad));
                Ok(Out::Rejected)
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

    /// Column `c` as a decimal number.
    pub fn number(&self, f: &Fields<'_>, c: usize) -> Result<Option<f64>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => self.parser.parse_number(v).map(Some).map_err(|e| Bad::at(f, c, e.0)),
        }
    }

    /// Column `c` as a whole number.
    pub fn int(&self, f: &Fields<'_>, c: usize) -> Result<Option<i64>, Bad> {
        match f.get(c) {
            None => Ok(None),
            Some(v) => crate::values::int(v).map(Some).ok_or_else(|| Bad::at(f, c, "not a whole number")),
        }
    }
}

/// Adds an alternative id unless blank.
pub fn alt(meta: &mut Meta, kind: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        meta.alt_ids.push(AltId { kind: kind.to_owned(), value: v.to_owned() });
    }
}

/// [`dcid_or_id`] without allocating.
pub fn dcid_or_id_str<'r>(f: &Fields<'r>, dcid: usize, id: usize) -> Option<&'r str> {
    f.trimmed(dcid).or_else(|| f.trimmed(id))
}

/// The id rule for rows of PowerSchool core tables: `DCID` when the file
/// has it, else `ID`, else `fallback` (a natural key). Whichever of DCID and
/// ID is not the id becomes an alternative id.
pub fn dcid_or_id(f: &Fields<'_>, dcid: usize, id: usize) -> Option<String> {
    f.trimmed(dcid).or_else(|| f.trimmed(id)).map(str::to_owned)
}

/// Adds `alt.id` whenever the file has `ID` (even when the record id is
/// that same number), and `alt.dcid` when the record id is not the DCID.
pub fn id_alts(meta: &mut Meta, f: &Fields<'_>, dcid: usize, id: usize) {
    let dc = f.trimmed(dcid);
    if dc.is_some() && dc != Some(meta.source.id.as_str()) {
        alt(meta, "dcid", dc);
    }
    alt(meta, "id", f.trimmed(id));
}

/// [`id_alts`] for a reused record: refills its alternative ids in place.
pub fn fill_id_alts(meta: &mut Meta, f: &Fields<'_>, dcid: usize, id: usize) {
    let dc = f.trimmed(dcid).filter(|d| *d != meta.source.id);
    let alts = [("dcid", dc), ("id", f.trimmed(id))];
    let mut n = 0;
    for (kind, value) in alts {
        let Some(value) = value else { continue };
        match meta.alt_ids.get_mut(n) {
            Some(a) => {
                if a.kind != kind {
                    a.kind.clear();
                    a.kind.push_str(kind);
                }
                a.value.clear();
                a.value.push_str(value);
            }
            None => meta.alt_ids.push(AltId { kind: kind.to_owned(), value: value.to_owned() }),
        }
        n += 1;
    }
    meta.alt_ids.truncate(n);
}
