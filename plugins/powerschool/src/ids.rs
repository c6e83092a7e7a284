//! PowerSchool's id rules: the record id of a core table's row (DCID, else
//! ID) and the alternative ids kept beside it.

use ferry_sdk::model::{AltId, Meta};

use crate::fields::Fields;

/// The source system stamped on every record.
pub const SYSTEM: &str = "powerschool";

/// Adds an alternative id unless blank.
pub fn alt(meta: &mut Meta, kind: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        meta.alt_ids.push(AltId { kind: kind.to_owned(), value: v.to_owned(), assigner: None });
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
            None => {
                meta.alt_ids.push(AltId { kind: kind.to_owned(), value: value.to_owned(), assigner: None })
            }
        }
        n += 1;
    }
    meta.alt_ids.truncate(n);
}
