//! The default ("canonical") layout: the columns the sink writes for an
//! entity without a mapping, which the source reads back with
//! `layout = "canonical"`, and the text forms of its two compound columns.
//!
//! Columns, in order: `source_system`, `source_id`, `alt_ids`, every field of
//! the entity in model order (a code field as `<field>` with the canonical
//! code and `<field>_original` with the source's value), then `extensions`.
//!
//! - `alt_ids`: `kind=value` pairs joined by `;`; a `\`, `;` or `=` inside a
//!   kind or value is written `\\`, `\;`, `\=`. Several ids of one kind are
//!   several pairs. When an id has an assigning organisation, the cell is the
//!   archive's JSON object instead (`{"nces": {"value": "0612345",
//!   "assigner": "NCES"}}`, an array for several of one kind); the source
//!   reads both forms, so `ferry archive extract` output reads back as is.
//! - `extensions`: a JSON object of text values, in the record's order; a
//!   personal-data value is `{"value": "…", "pii": true}`, as in the archive.
//! - lists: items joined by `,` (`\,` inside an item); dates ISO; booleans
//!   `true`/`false`.

use ferry_sdk::model::{EntityKind, FieldType, Meta};
use ferry_sdk::serde_json;
use ferry_sdk::text::{CodeStyle, json};

use crate::paths::FieldPath;

/// Header of the source system column.
pub(crate) const SOURCE_SYSTEM: &str = "source_system";
/// Header of the source id column.
pub(crate) const SOURCE_ID: &str = "source_id";
/// Header of the alternative ids column.
pub(crate) const ALT_IDS: &str = "alt_ids";
/// Header of the extensions column.
pub(crate) const EXTENSIONS: &str = "extensions";
/// Suffix of a code field's original-value column.
pub(crate) const ORIGINAL_SUFFIX: &str = "_original";

/// What a column of the default layout holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Column {
    /// A path's value (codes on the given side).
    Path(FieldPath, CodeStyle),
    /// Every alternative id.
    AltIds,
    /// Every extension.
    Extensions,
}

/// The default layout of `kind`: `(header, column)` in order.
pub(crate) fn default_layout(kind: EntityKind) -> Vec<(String, Column)> {
    let mut cols = vec![
        (SOURCE_SYSTEM.to_owned(), Column::Path(FieldPath::SourceSystem, CodeStyle::Canonical)),
        (SOURCE_ID.to_owned(), Column::Path(FieldPath::SourceId, CodeStyle::Canonical)),
        (ALT_IDS.to_owned(), Column::AltIds),
    ];
    for f in kind.fields() {
        cols.push((f.name.to_owned(), Column::Path(FieldPath::Field(f), CodeStyle::Canonical)));
        if matches!(f.ty, FieldType::Code(_)) {
            cols.push((
                format!("{}{ORIGINAL_SUFFIX}", f.name),
                Column::Path(FieldPath::Field(f), CodeStyle::Original),
            ));
        }
    }
    cols.push((EXTENSIONS.to_owned(), Column::Extensions));
    cols
}

fn push_escaped(s: &str, out: &mut String) {
    if !s.contains(['\\', ';', '=']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if matches!(c, '\\' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Writes alternative ids `(kind, value, assigner)` as `kind=value;kind=value`,
/// or as the archive's JSON object when one has an assigner.
pub(crate) fn write_alt_ids<'a, I>(ids: impl Fn() -> I, out: &mut String)
where
    I: Iterator<Item = (&'a str, &'a str, Option<&'a str>)>,
{
    if ids().any(|(_, _, a)| a.is_some()) {
        // Kinds in order of first appearance, several of one kind as an array.
        let mut obj: Vec<(&str, serde_json::Value)> = Vec::new();
        for (kind, value, assigner) in ids() {
            let v = match assigner {
                Some(a) => serde_json::json!({ "value": value, "assigner": a }),
                None => serde_json::Value::from(value),
            };
            match obj.iter_mut().find(|(k, _)| *k == kind) {
                None => obj.push((kind, v)),
                Some((_, serde_json::Value::Array(list))) => list.push(v),
                Some((_, first)) => {
                    let one = first.take();
                    *first = serde_json::Value::Array(vec![one, v]);
                }
            }
        }
        out.push('{');
        for (i, (k, v)) in obj.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(out, k);
            out.push(':');
            out.push_str(&v.to_string());
        }
        out.push('}');
        return;
    }
    for (i, (kind, value, _)) in ids().enumerate() {
        if i > 0 {
            out.push(';');
        }
        push_escaped(kind, out);
        out.push('=');
        push_escaped(value, out);
    }
}

/// Reads the archive's JSON form of alternative ids.
fn read_alt_ids_json(cell: &str, meta: &mut Meta) -> Result<(), &'static str> {
    const BAD: &str =
        "not the archive's alt_ids object ({\"kind\": \"value\" | {\"value\": …, \"assigner\": …} | [...]})";
    let obj = ordered_object(cell).map_err(|()| BAD)?;
    let one = |meta: &mut Meta, kind: &str, v: &serde_json::Value| -> Result<(), &'static str> {
        match v {
            serde_json::Value::String(s) => meta.push_alt_id(kind, s.as_str(), None),
            serde_json::Value::Object(o) => {
                let value = o.get("value").and_then(serde_json::Value::as_str).ok_or(BAD)?;
                let assigner = o.get("assigner").and_then(serde_json::Value::as_str);
                meta.push_alt_id(kind, value, assigner);
            }
            _ => return Err(BAD),
        }
        Ok(())
    };
    for (kind, v) in &obj {
        let kind = kind.as_str();
        if kind.is_empty() {
            return Err("an alternative id has an empty kind");
        }
        match v {
            serde_json::Value::Array(items) => {
                for item in items {
                    one(meta, kind, item)?;
                }
            }
            v => one(meta, kind, v)?,
        }
    }
    Ok(())
}

/// Reads an `alt_ids` cell into `meta`: `kind=value;…` or the archive's JSON object.
pub(crate) fn read_alt_ids(cell: &str, meta: &mut Meta) -> Result<(), &'static str> {
    if cell.trim_start().starts_with('{') {
        return read_alt_ids_json(cell, meta);
    }
    let (mut kind, mut value) = (String::new(), String::new());
    let mut in_value = false;
    let mut chars = cell.chars();
    let mut finish = |kind: &mut String, value: &mut String, in_value: bool| -> Result<(), &'static str> {
        if !in_value {
            return if kind.is_empty() {
                Ok(())
            } else {
                Err("an entry has no '=' (expected kind=value;kind=value)")
            };
        }
        if kind.is_empty() {
            return Err("an entry has an empty kind (expected kind=value;kind=value)");
        }
        meta.push_alt_id(kind, std::mem::take(value), None);
        kind.clear();
        Ok(())
    };
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => chars.next().unwrap_or('\\'),
            ';' => {
                finish(&mut kind, &mut value, in_value)?;
                in_value = false;
                continue;
            }
            '=' if !in_value => {
                in_value = true;
                continue;
            }
            c => c,
        };
        if in_value { value.push(c) } else { kind.push(c) }
    }
    finish(&mut kind, &mut value, in_value)
}

/// Writes extensions `(key, value)` as a JSON object, in order; nothing when
/// there are none. (The personal-data flag of an extension is not kept in
/// the CSV layout; the archive keeps it.)
pub(crate) fn write_extensions<'a, I>(ext: impl Fn() -> I, out: &mut String)
where
    I: Iterator<Item = (&'a str, &'a str, bool)>,
{
    if ext().next().is_none() {
        return;
    }
    if !ext().any(|(_, _, pii)| pii) {
        json::push_object(out, ext().map(|(k, v, _)| (k, v)));
        return;
    }
    out.push('{');
    for (i, (k, v, pii)) in ext().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, k);
        out.push(':');
        if pii {
            out.push_str("{\"value\":");
            push_json_str(out, v);
            out.push_str(",\"pii\":true}");
        } else {
            push_json_str(out, v);
        }
    }
    out.push('}');
}

fn push_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// A JSON object's entries in the order they are written.
fn ordered_object(text: &str) -> Result<Vec<(String, serde_json::Value)>, ()> {
    use ferry_sdk::serde::de::{Deserializer as _, MapAccess, Visitor};
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = (&mut de).deserialize_map(Entries).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    Ok(entries)
}

/// Reads an `extensions` cell into `meta`.
pub(crate) fn read_extensions(cell: &str, meta: &mut Meta) -> Result<(), &'static str> {
    // The usual cell, flat text values: the fast reader, no JSON tree.
    if !cell.contains("\"pii\"")
        && let Ok(entries) = json::read_object(cell)
    {
        for (k, v) in entries {
            meta.ext.insert(k, v);
        }
        return Ok(());
    }
    // Values flagged as personal data: {"key": {"value": "…", "pii": true}}.
    const BAD: &str = "not a JSON object of text values (or {\"value\": …, \"pii\": true} objects)";
    for (k, v) in ordered_object(cell).map_err(|()| BAD)? {
        match v {
            serde_json::Value::String(s) => meta.ext.insert(k, s),
            serde_json::Value::Object(o) => {
                let value = o.get("value").and_then(serde_json::Value::as_str).ok_or(BAD)?;
                let pii = o.get("pii").and_then(serde_json::Value::as_bool).unwrap_or(false);
                meta.ext.insert_flagged(k, value, pii);
            }
            // A hand-edited number or boolean reads as its text.
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => meta.ext.insert(k, v.to_string()),
            _ => return Err(BAD),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferry_sdk::model::Extensions;

    use super::*;

    #[test]
    fn layout_of_students() {
        let names: Vec<String> = default_layout(EntityKind::Students).into_iter().map(|c| c.0).collect();
        assert_eq!(&names[..4], ["source_system", "source_id", "alt_ids", "student_number"]);
        assert!(names.windows(2).any(|w| w == ["grade_level", "grade_level_original"]));
        assert_eq!(names.last().map(String::as_str), Some("extensions"));
    }

    #[test]
    fn alt_ids_round_trip_with_escapes() {
        let mut m = Meta::default();
        m.set_alt_id("state", "000123");
        m.set_alt_id("we;ird=kind", "a\\b;c=d");
        m.set_alt_id("empty", "");
        let mut s = String::new();
        write_alt_ids(
            || m.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str(), a.assigner.as_deref())),
            &mut s,
        );
        assert_eq!(s, "state=000123;we\\;ird\\=kind=a\\\\b\\;c\\=d;empty=");
        let mut back = Meta::default();
        read_alt_ids(&s, &mut back).unwrap();
        assert_eq!(back.alt_ids, m.alt_ids);
        assert!(read_alt_ids("justtext", &mut back).is_err());
        assert!(read_alt_ids("=x", &mut back).is_err());
        read_alt_ids("a=1;", &mut back).unwrap();
    }

    #[test]
    fn alt_ids_with_assigners_and_several_of_a_kind_round_trip_as_the_archive_writes_them() {
        let mut m = Meta::default();
        m.push_alt_id("old", "17", None);
        m.push_alt_id("old", "0017", Some("district"));
        m.push_alt_id("nces", "0612345", Some("NCES"));
        let mut s = String::new();
        write_alt_ids(
            || m.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str(), a.assigner.as_deref())),
            &mut s,
        );
        assert!(s.starts_with('{'), "{s}");
        let mut back = Meta::default();
        read_alt_ids(&s, &mut back).unwrap();
        assert_eq!(back.alt_ids, m.alt_ids);
        // The archive's own text, as `ferry archive extract` writes it.
        let mut back = Meta::default();
        read_alt_ids(
            r#"{"id":"1","dcid":"77","old":["17",{"value":"0017","assigner":"district"}]}"#,
            &mut back,
        )
        .unwrap();
        assert_eq!(back.alt_ids.len(), 4);
        assert_eq!(back.alt_id("dcid"), Some("77"));
        // Several of one kind in the text form are all kept.
        let mut back = Meta::default();
        read_alt_ids("old=1;old=2", &mut back).unwrap();
        assert_eq!(back.alt_ids.len(), 2);
        assert!(read_alt_ids("{\"x\": 3}", &mut back).is_err());
    }

    #[test]
    fn personal_data_extensions_read_back() {
        let mut m = Meta::default();
        read_extensions(r#"{"U_Locker":"17","U_Nickname":{"value":"Jo","pii":true}}"#, &mut m).unwrap();
        assert_eq!(m.ext.get("U_Nickname"), Some("Jo"));
        assert!(m.ext.is_pii("U_Nickname") && !m.ext.is_pii("U_Locker"));
    }

    #[test]
    fn several_alt_ids_of_one_kind_are_all_read_back() {
        let mut m = Meta::default();
        m.push_alt_id("state", "0012", Some("TX"));
        m.push_alt_id("state", "77", Some("OK"));
        m.push_alt_id("old", "5", None);
        let mut s = String::new();
        write_alt_ids(
            || m.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str(), a.assigner.as_deref())),
            &mut s,
        );
        assert_eq!(
            s,
            r#"{"state":[{"assigner":"TX","value":"0012"},{"assigner":"OK","value":"77"}],"old":"5"}"#
        );
        let mut back = Meta::default();
        read_alt_ids(&s, &mut back).unwrap();
        let states: Vec<&str> = back.alt_ids_of("state").map(|a| a.value.as_str()).collect();
        assert_eq!(states, ["0012", "77"]);
        assert_eq!(back.alt_ids, m.alt_ids, "assigners survive in the archive's form");
    }

    #[test]
    fn extensions_round_trip_in_order() {
        let mut m = Meta::default();
        m.ext.insert("Zeta", "1");
        m.ext.insert("Alpha \"q\"", "line\nbreak\t\u{1}é");
        m.ext.insert("Empty", "");
        let mut s = String::new();
        write_extensions(|| m.ext.iter_flagged(), &mut s);
        let mut back = Meta::default();
        read_extensions(&s, &mut back).unwrap();
        assert_eq!(back.ext, m.ext);
        assert!(read_extensions("[1]", &mut back).is_err());
        // A hand-edited number reads as its text.
        let mut lenient = Meta::default();
        read_extensions("{\"a\": 1}", &mut lenient).unwrap();
        assert_eq!(lenient.ext.get("a"), Some("1"));
        s.clear();
        let none = Extensions::default();
        write_extensions(|| none.iter_flagged(), &mut s);
        assert!(s.is_empty());
    }
}
