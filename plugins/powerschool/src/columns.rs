//! The columns a mapping reads: each by its keys (alternatives, first match
//! wins) and how it maps ([`Mapped`]), declared with [`columns!`]; and
//! [`ColumnMap`], a file's columns resolved for one mapping, with the
//! columns that go to the record's extensions.

use crate::header::Column;

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
            use crate::columns::{Mapped, Want};
            crate::columns::column_indices!(0usize; $($c)*);
            pub const WANT: &[Want] = &[$(Want { keys: &[$($k),+], mapped: Mapped::$m }),*];
        }
    };
}
pub(crate) use columns;

/// Numbers the columns of [`columns!`].
macro_rules! column_indices {
    ($n:expr; $c:ident $($rest:ident)*) => {
        pub const $c: usize = $n;
        crate::columns::column_indices!($n + 1usize; $($rest)*);
    };
    ($n:expr;) => {};
}
pub(crate) use column_indices;

/// A file's columns resolved for one mapping.
#[derive(Clone, Debug, Default)]
pub struct ColumnMap {
    /// Per wanted column, its index in the row.
    idx: Vec<Option<usize>>,
    /// Per wanted column, its header (for reject field names).
    headers: Vec<String>,
    /// Per wanted column, its extension key.
    ext_keys: Vec<String>,
    /// Columns kept as extensions: index, key, and whether the values are
    /// personal data (the legacy contact fields: names, phones, emails).
    pub ext: Vec<(usize, String, bool)>,
}

impl ColumnMap {
    /// Resolves `want` against a file's columns; `keep(m)` says whether a
    /// column mapped as `m` (`None` for columns the mapping does not know)
    /// goes to the record's extensions.
    pub fn new(columns: &[Column], want: &[Want], keep: impl Fn(Option<Mapped>) -> bool) -> ColumnMap {
        let mut p = ColumnMap::default();
        let mut claimed = vec![None; columns.len()];
        for w in want {
            let found = w.keys.iter().find_map(|k| columns.iter().position(|c| c.key == *k));
            if let Some(i) = found
                && claimed[i].is_none()
            {
                claimed[i] = Some(w.mapped);
            }
            p.idx.push(found);
            p.headers.push(found.map_or_else(|| w.keys[0].to_owned(), |i| columns[i].header.clone()));
            p.ext_keys.push(found.map_or_else(|| w.keys[0].to_owned(), |i| columns[i].ext_key.clone()));
        }
        for (i, c) in columns.iter().enumerate() {
            if keep(claimed[i]) && !c.secret {
                // A header repeated in the file keeps both values.
                let mut key = c.ext_key.clone();
                let mut n = 1;
                while p.ext.iter().any(|(_, k, _)| *k == key) {
                    n += 1;
                    key = format!("{} ({n})", c.ext_key);
                }
                p.ext.push((i, key, claimed[i] == Some(Mapped::Legacy)));
            }
        }
        p
    }

    /// Whether wanted column `c` is in the file.
    pub fn has(&self, c: usize) -> bool {
        self.idx.get(c).is_some_and(Option::is_some)
    }

    /// The row index of wanted column `c`, when the file has it.
    pub fn index(&self, c: usize) -> Option<usize> {
        self.idx.get(c).copied().flatten()
    }

    /// The header of wanted column `c` (its first key when the file lacks it).
    pub fn header(&self, c: usize) -> &str {
        self.headers.get(c).map_or("", String::as_str)
    }

    /// The extension key of wanted column `c`.
    pub fn ext_key(&self, c: usize) -> Option<&str> {
        self.ext_keys.get(c).map(String::as_str)
    }
}

/// The usual extension rule: every column not stored in a canonical field.
pub fn unmapped(m: Option<Mapped>) -> bool {
    !matches!(m, Some(Mapped::Yes))
}
