//! [`Fields`]: one row of a file seen through a [`ColumnMap`]: the values
//! of the columns a mapping wants, and of those kept as extensions.

use ferry_sdk::model::Meta;
use ferry_sdk::text::Row;

use crate::columns::ColumnMap;

/// One row seen through a [`ColumnMap`] mapping.
#[derive(Clone, Copy)]
pub struct Fields<'r> {
    row: &'r Row,
    prep: &'r ColumnMap,
}

impl<'r> Fields<'r> {
    /// A view of `row`.
    pub fn new(row: &'r Row, prep: &'r ColumnMap) -> Fields<'r> {
        Fields { row, prep }
    }

    /// Column `c`'s value when it is there and not blank (untrimmed).
    pub fn get(&self, c: usize) -> Option<&'r str> {
        let i = self.prep.index(c)?;
        let v = self.row.get(i)?;
        (!blank(v)).then_some(v)
    }

    /// Column `c`'s value, trimmed, when not blank.
    pub fn trimmed(&self, c: usize) -> Option<&'r str> {
        self.get(c).map(str::trim)
    }

    /// Column `c`'s header (or its key when the file lacks it).
    pub fn header(&self, c: usize) -> &'r str {
        self.prep.header(c)
    }

    /// Whether the file has column `c`.
    pub fn has(&self, c: usize) -> bool {
        self.prep.has(c)
    }

    /// Keeps column `c`'s value in `meta`'s extensions (for a mapped column
    /// whose value found no canonical home, such as an unknown school).
    pub fn keep(&self, c: usize, meta: &mut Meta) {
        if let (Some(v), Some(k)) = (self.get(c), self.prep.ext_key(c)) {
            meta.ext.insert(k, v);
        }
    }

    /// [`Fields::keep`], flagging the value as personal data (a comment, a
    /// program code that tells a disability).
    pub fn keep_pii(&self, c: usize, meta: &mut Meta) {
        if let (Some(v), Some(k)) = (self.get(c), self.prep.ext_key(c)) {
            meta.ext.insert_pii(k, v);
        }
    }

    /// Copies the extension columns' non-blank values into `meta`.
    pub fn ext_into(&self, meta: &mut Meta) {
        for (i, key, pii) in &self.prep.ext {
            if let Some(v) = self.row.get(*i)
                && !v.trim().is_empty()
            {
                meta.ext.insert_flagged(key.as_str(), v, *pii);
            }
        }
    }

    /// Replaces `meta`'s extensions with the extension columns' non-blank
    /// values, reusing its strings (for records refilled row after row, of
    /// tables with no personal-data extension column).
    pub fn ext_fill(&self, meta: &mut Meta) {
        let row = self.row;
        meta.ext.replace_with(self.prep.ext.iter().filter_map(|(i, key, _)| {
            let v = row.get(*i)?;
            (!blank(v)).then_some((key.as_str(), v))
        }));
    }

    /// The extension columns' keys.
    pub fn ext_keys(&self) -> impl Iterator<Item = &'r str> {
        self.prep.ext.iter().map(|(_, k, _)| k.as_str())
    }

    /// Every extension column's value (blank ones too), `\u{1f}`-separated,
    /// in the order of [`Fields::ext_keys`]: one allocation per row.
    pub fn ext_values_joined(&self) -> String {
        let mut out = String::new();
        for (n, (i, _, _)) in self.prep.ext.iter().enumerate() {
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
        for (i, key, _) in &self.prep.ext {
            if let Some(v) = self.row.get(*i)
                && !v.trim().is_empty()
            {
                out.push((format!("{prefix}{key}"), v.to_owned()));
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
