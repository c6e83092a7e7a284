//! The JSON the archive stores in single columns: alternative ids,
//! extensions and list fields.
//!
//! - `alt_ids`: an object by kind, in order of first appearance. A kind with
//!   one id and no assigner maps to the value (`{"state": "0098765432"}`, so
//!   `json_extract(alt_ids, '$.state')` is the id); an id with its assigning
//!   organisation is `{"value": …, "assigner": …}`; several ids of one kind
//!   are an array of those.
//! - `extensions`: an object in source order; a value that is not personal
//!   data maps to its text (`{"U_Locker": "17"}`), one flagged as personal
//!   data is `{"value": …, "pii": true}`.
//! - lists: an array of text (`["03", "K"]`).
//!
//! Writing goes into a reused buffer (it runs for every record); reading keeps
//! the stored order and is lenient with hand edits (numbers and booleans read
//! as their JSON text, nulls are skipped).

use std::fmt;

use ferry_model::AltId;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes `["a","b",…]` into `out` (cleared first).
pub fn write_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.clear();
    out.push(b'[');
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, v);
    }
    out.push(b']');
}

fn push_alt_id(out: &mut Vec<u8>, value: &str, assigner: Option<&str>) {
    match assigner {
        None => push_str(out, value),
        Some(a) => {
            out.extend_from_slice(b"{\"value\":");
            push_str(out, value);
            out.extend_from_slice(b",\"assigner\":");
            push_str(out, a);
            out.push(b'}');
        }
    }
}

/// Writes the `alt_ids` object into `out` (cleared first). `ids` gives the
/// record's `(kind, value, assigner)` afresh on each call (it is walked once
/// per kind, to group the ids of one kind without allocating).
pub fn write_alt_ids<'a, I>(out: &mut Vec<u8>, ids: impl Fn() -> I)
where
    I: Iterator<Item = (&'a str, &'a str, Option<&'a str>)>,
{
    out.clear();
    out.push(b'{');
    let mut first = true;
    for (j, (kind, value, assigner)) in ids().enumerate() {
        if ids().take(j).any(|(k, _, _)| k == kind) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push_str(out, kind);
        out.push(b':');
        if ids().skip(j + 1).any(|(k, _, _)| k == kind) {
            out.push(b'[');
            for (i, (_, v, a)) in ids().skip(j).filter(|(k, _, _)| *k == kind).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_alt_id(out, v, a);
            }
            out.push(b']');
        } else {
            push_alt_id(out, value, assigner);
        }
    }
    out.push(b'}');
}

/// Writes the `extensions` object into `out` (cleared first).
pub fn write_extensions<'a>(out: &mut Vec<u8>, ext: impl Iterator<Item = (&'a str, &'a str, bool)>) {
    out.clear();
    out.push(b'{');
    for (i, (k, v, pii)) in ext.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, k);
        out.push(b':');
        if pii {
            out.extend_from_slice(b"{\"value\":");
            push_str(out, v);
            out.extend_from_slice(b",\"pii\":true}");
        } else {
            push_str(out, v);
        }
    }
    out.push(b'}');
}

/// A JSON object's members in stored order (`serde_json`'s map sorts them).
struct Members(Vec<(String, Json)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct Items(Vec<Json>);

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Items, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(v) = seq.next_element::<Json>()? {
                    out.push(v);
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A JSON scalar as text: strings as they are, numbers and booleans as
/// written; `None` for null. Nested values come back as compact JSON.
fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn members(text: &str) -> Result<Vec<(String, Json)>, String> {
    serde_json::from_str::<Members>(text).map(|m| m.0).map_err(|e| e.to_string())
}

/// Reads an `alt_ids` object back, in stored order.
pub fn read_alt_ids(text: &str) -> Result<Vec<AltId>, String> {
    fn one(kind: &str, v: &Json, out: &mut Vec<AltId>) {
        match v {
            Json::Object(o) => {
                if let Some(value) = o.get("value").and_then(scalar_text) {
                    let assigner = o.get("assigner").and_then(scalar_text);
                    out.push(AltId { kind: kind.to_owned(), value, assigner });
                }
            }
            other => {
                if let Some(value) = scalar_text(other) {
                    out.push(AltId { kind: kind.to_owned(), value, assigner: None });
                }
            }
        }
    }
    let mut out = Vec::new();
    for (kind, v) in members(text)? {
        match &v {
            Json::Array(items) => items.iter().for_each(|item| one(&kind, item, &mut out)),
            other => one(&kind, other, &mut out),
        }
    }
    Ok(out)
}

/// Reads an `extensions` object back: `(key, value, personal data)` in
/// stored order.
pub fn read_extensions(text: &str) -> Result<Vec<(String, String, bool)>, String> {
    let mut out = Vec::new();
    for (k, v) in members(text)? {
        match &v {
            Json::Object(o) if o.contains_key("value") => {
                if let Some(value) = o.get("value").and_then(scalar_text) {
                    let pii = o.get("pii").and_then(Json::as_bool).unwrap_or(false);
                    out.push((k, value, pii));
                }
            }
            other => {
                if let Some(value) = scalar_text(other) {
                    out.push((k, value, false));
                }
            }
        }
    }
    Ok(out)
}

/// Reads a list back (nulls skipped).
pub fn read_list(text: &str) -> Result<Vec<String>, String> {
    let items = serde_json::from_str::<Items>(text).map_err(|e| e.to_string())?;
    Ok(items.0.iter().filter_map(scalar_text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn lists_and_extensions_round_trip_in_order() {
        let nasty = "Zoë \"quoted\" \\ back\nline\ttab\u{1}ctl ✓";
        let mut out = Vec::new();
        write_extensions(
            &mut out,
            [("z", "1", false), ("a", nasty, false), ("nick", "Jo", true)].into_iter(),
        );
        let parsed: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["a"], nasty);
        assert_eq!(parsed["z"], "1", "non-personal values keep the flat shape");
        assert_eq!(parsed["nick"], serde_json::json!({"value": "Jo", "pii": true}));
        assert_eq!(
            read_extensions(text(&out)).unwrap(),
            vec![
                ("z".into(), "1".into(), false),
                ("a".into(), nasty.into(), false),
                ("nick".into(), "Jo".into(), true)
            ]
        );
        write_list(&mut out, ["09", nasty].into_iter());
        assert_eq!(read_list(text(&out)).unwrap(), ["09", nasty]);
    }

    #[test]
    fn alt_ids_group_by_kind_and_keep_assigners() {
        let ids = [("state", "0098", None), ("dcid", "77", None), ("state", "0099", Some("TX"))];
        let mut out = Vec::new();
        write_alt_ids(&mut out, || ids.iter().copied());
        assert_eq!(text(&out), r#"{"state":["0098",{"value":"0099","assigner":"TX"}],"dcid":"77"}"#);
        let back = read_alt_ids(text(&out)).unwrap();
        let flat: Vec<(&str, &str, Option<&str>)> =
            back.iter().map(|a| (a.kind.as_str(), a.value.as_str(), a.assigner.as_deref())).collect();
        assert_eq!(flat, [("state", "0098", None), ("state", "0099", Some("TX")), ("dcid", "77", None)]);
        let single = [("dcid", "77", None)];
        write_alt_ids(&mut out, || single.iter().copied());
        assert_eq!(text(&out), r#"{"dcid":"77"}"#);
    }

    #[test]
    fn reads_hand_edited_values_leniently() {
        assert_eq!(
            read_extensions(r#"{"n": 5, "b": true, "x": null, "o": {"k": 1}}"#).unwrap(),
            vec![
                ("n".into(), "5".into(), false),
                ("b".into(), "true".into(), false),
                ("o".into(), r#"{"k":1}"#.into(), false)
            ]
        );
        assert_eq!(read_alt_ids(r#"{"dcid": 77}"#).unwrap()[0].value, "77");
        assert!(read_extensions("[1]").is_err());
        assert!(read_list("{}").is_err());
    }
}
