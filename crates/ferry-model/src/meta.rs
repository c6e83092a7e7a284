//! What every record carries besides its entity fields: its source identity,
//! alternative identifiers, where it came from and its extensions.

use serde::{Deserialize, Serialize};

/// Identity, provenance and extensions shared by every record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The record's identity in the system it came from.
    pub source: SourceId,
    /// Other identifiers of the same record (state id, DCID, old/new id…).
    pub alt_ids: Vec<AltId>,
    /// Where in the source the record was read, when it came from a file.
    pub origin: Option<Origin>,
    /// Every source field the model has no slot for.
    pub ext: Extensions,
}

/// The identity of a record in its source system.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceId {
    /// The source system, e.g. `powerschool` or `csv`.
    pub system: String,
    /// The record's id in that system; unique per entity and system.
    pub id: String,
}

/// An alternative identifier: `kind` says which (`state`, `dcid`, `old`, `new`…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AltId {
    /// Which identifier this is.
    pub kind: String,
    /// Its value, exactly as given (leading zeros kept).
    pub value: String,
}

/// Where a record was read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The source file, relative to the source's root when possible.
    pub file: String,
    /// The 1-based line number of the record's first line.
    pub line: u64,
    /// The source row as decoded text, when the source keeps it.
    pub raw: Option<String>,
}

/// Source fields with no canonical slot, in source order. Keys are unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extensions(Vec<(String, String)>);

impl Extensions {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
    /// Replaces every entry with `pairs`, in order, reusing the strings
    /// already held: a source that refills one record per row makes no
    /// allocation once warmed up. The keys must be distinct (a file's
    /// column names); this is not checked.
    pub fn replace_with<'a>(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut n = 0;
        for (k, v) in pairs {
            match self.0.get_mut(n) {
                Some((key, value)) => {
                    key.clear();
                    key.push_str(k);
                    value.clear();
                    value.push_str(v);
                }
                None => self.0.push((k.to_owned(), v.to_owned())),
            }
            n += 1;
        }
        self.0.truncate(n);
    }
    /// Iterates over `(key, value)` in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Meta {
    /// A meta with the given source identity.
    pub fn new(system: impl Into<String>, id: impl Into<String>) -> Meta {
        Meta { source: SourceId { system: system.into(), id: id.into() }, ..Meta::default() }
    }
    /// The value of the alternative id of `kind`.
    pub fn alt_id(&self, kind: &str) -> Option<&str> {
        self.alt_ids.iter().find(|a| a.kind == kind).map(|a| a.value.as_str())
    }
    /// Sets the alternative id of `kind`, replacing an earlier one.
    pub fn set_alt_id(&mut self, kind: &str, value: impl Into<String>) {
        let value = value.into();
        match self.alt_ids.iter_mut().find(|a| a.kind == kind) {
            Some(a) => a.value = value,
            None => self.alt_ids.push(AltId { kind: kind.to_owned(), value }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_with_reuses_and_truncates() {
        let mut e = Extensions::default();
        e.insert("a", "1");
        e.replace_with([("x", "10"), ("y", "20"), ("z", "30")]);
        assert_eq!(e.iter().collect::<Vec<_>>(), [("x", "10"), ("y", "20"), ("z", "30")]);
        e.replace_with([("q", "")]);
        assert_eq!(e.iter().collect::<Vec<_>>(), [("q", "")]);
        e.replace_with(std::iter::empty());
        assert!(e.is_empty());
    }
}
