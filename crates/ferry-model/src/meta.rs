//! What every record carries besides its entity fields: its source identity,
//! alternative identifiers, where it came from (provenance) and its extensions.

use serde::{Deserialize, Serialize};

use crate::instant::Timestamp;

/// The path (and Arrow column) of the record's source id.
pub const SOURCE_ID: &str = "source_id";
/// The path (and Arrow column) of the record's source system.
pub const SOURCE_SYSTEM: &str = "source_system";

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
    /// The source table (`Students`, `CC`), when the source has tables.
    pub table: Option<String>,
    /// Where an API record came from (a URL or a page and index), when it did.
    pub locator: Option<String>,
    /// A content hash of the source row (see `ferry_sdk::row_hash`), for
    /// change detection between runs.
    pub row_hash: Option<[u8; 16]>,
    /// What the record means for the destination: upsert (the default) or delete.
    pub op: Operation,
    /// When the source last changed the record, where it says.
    pub modified_at: Option<Timestamp>,
}

/// What a record asks of the destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Create the record, or update it where it exists.
    #[default]
    Upsert,
    /// Delete the record (a delta's `tobedeleted`).
    Delete,
}

impl Operation {
    /// `upsert` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        }
    }
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
    /// The organisation that assigned it (a state, a district, a vendor), when known.
    pub assigner: Option<String>,
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

/// Source fields with no canonical slot, in source order. Keys are unique;
/// each entry says whether it is personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extensions(Vec<(String, String, bool)>);

impl Extensions {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v.as_str())
    }
    /// Whether `key` is flagged as personal data.
    pub fn is_pii(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _, p)| k == key && *p)
    }
    /// Sets `key` (not personal data), replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert_flagged(key, value, false);
    }
    /// Sets `key` flagged as personal data, replacing an earlier value.
    pub fn insert_pii(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert_flagged(key, value, true);
    }
    /// Sets `key` with an explicit personal-data flag.
    pub fn insert_flagged(&mut self, key: impl Into<String>, value: impl Into<String>, pii: bool) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _, _)| *k == key) {
            Some(slot) => {
                slot.1 = value;
                slot.2 = pii;
            }
            None => self.0.push((key, value, pii)),
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
                Some((key, value, pii)) => {
                    key.clear();
                    key.push_str(k);
                    value.clear();
                    value.push_str(v);
                    *pii = false;
                }
                None => self.0.push((k.to_owned(), v.to_owned(), false)),
            }
            n += 1;
        }
        self.0.truncate(n);
    }
    /// Removes every entry.
    pub fn clear(&mut self) {
        self.0.clear();
    }
    /// Iterates over `(key, value)` in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v, _)| (k.as_str(), v.as_str()))
    }
    /// Iterates over `(key, value, personal data)` in insertion order.
    pub fn iter_flagged(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.0.iter().map(|(k, v, p)| (k.as_str(), v.as_str(), *p))
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
    /// The value of the (first) alternative id of `kind`.
    pub fn alt_id(&self, kind: &str) -> Option<&str> {
        self.alt_ids.iter().find(|a| a.kind == kind).map(|a| a.value.as_str())
    }
    /// Every alternative id of `kind`, in order: a record may have several
    /// of one kind (a state id from two states, old ids), each with its
    /// assigner.
    pub fn alt_ids_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a AltId> + 'a {
        self.alt_ids.iter().filter(move |a| a.kind == kind)
    }
    /// Adds an alternative id, keeping those of the same kind already there.
    pub fn push_alt_id(&mut self, kind: &str, value: impl Into<String>, assigner: Option<&str>) {
        self.alt_ids.push(AltId {
            kind: kind.to_owned(),
            value: value.into(),
            assigner: assigner.map(str::to_owned),
        });
    }
    /// Sets the alternative id of `kind`, replacing the first one of that
    /// kind (and keeping its assigner); see [`Meta::push_alt_id`] to add one.
    pub fn set_alt_id(&mut self, kind: &str, value: impl Into<String>) {
        let value = value.into();
        match self.alt_ids.iter_mut().find(|a| a.kind == kind) {
            Some(a) => a.value = value,
            None => self.alt_ids.push(AltId { kind: kind.to_owned(), value, assigner: None }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_alt_ids_of_one_kind_are_kept_in_order() {
        let mut m = Meta::new("sis", "1");
        m.push_alt_id("state", "TX123", Some("TX"));
        m.set_alt_id("dcid", "77");
        m.push_alt_id("state", "OK456", Some("OK"));
        assert_eq!(m.alt_id("state"), Some("TX123"));
        let states: Vec<(&str, Option<&str>)> =
            m.alt_ids_of("state").map(|a| (a.value.as_str(), a.assigner.as_deref())).collect();
        assert_eq!(states, [("TX123", Some("TX")), ("OK456", Some("OK"))]);
        m.set_alt_id("state", "TX124");
        assert_eq!(m.alt_ids_of("state").count(), 2, "set replaces the first, never adds");
        assert_eq!(m.alt_ids[0].assigner.as_deref(), Some("TX"));
    }

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
