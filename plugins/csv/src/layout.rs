//! The default ("canonical") layout: the columns the sink writes for an
//! entity without a mapping, which the source reads back with
//! `layout = "canonical"`, and the text forms of its two compound columns.
//!
//! Columns, in order: `source_system`, `source_id`, `alt_ids`, every field of
//! the entity in model order (a code field as `<field>` with the canonical
//! code and `<field>_original` with the source's value), then `extensions`.
//!
//! - `alt_ids`: `kind=value` pairs joined by `;` (a kind may come more than
//!   once; the assigning organisation is not kept); a `\`, `;` or `=` inside
//!   a kind or value is written `\\`, `\;`, `\=`.
//! - `extensions`: a JSON object of text values, in the record's order.
//! - lists: items joined by `,` (`\,` inside an item); dates ISO; booleans
//!   `true`/`false`.

use ferry_sdk::model::{EntityKind, FieldType, Meta};
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

/// Writes alternative ids `(kind, value)` as `kind=value;kind=value`.
pub(crate) fn write_alt_ids<'a>(ids: impl Iterator<Item = (&'a str, &'a str)>, out: &mut String) {
    for (i, (kind, value)) in ids.enumerate() {
        if i > 0 {
            out.push(';');
        }
        push_escaped(kind, out);
        out.push('=');
        push_escaped(value, out);
    }
}

/// Reads an `alt_ids` cell into `meta`.
pub(crate) fn read_alt_ids(cell: &str, meta: &mut Meta) -> Result<(), &'static str> {
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
        // Several ids of one kind are all kept, in order.
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
pub(crate) fn write_extensions<'a>(ext: impl Iterator<Item = (&'a str, &'a str)>, out: &mut String) {
    let mut ext = ext.peekable();
    if ext.peek().is_none() {
        return;
    }
    json::push_object(out, ext);
}

/// Reads an `extensions` cell into `meta`.
pub(crate) fn read_extensions(cell: &str, meta: &mut Meta) -> Result<(), &'static str> {
    let entries = json::read_object(cell).map_err(|_| "not a flat JSON object")?;
    for (k, v) in entries {
        meta.ext.insert(k, v);
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
        write_alt_ids(m.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str())), &mut s);
        assert_eq!(s, "state=000123;we\\;ird\\=kind=a\\\\b\\;c\\=d;empty=");
        let mut back = Meta::default();
        read_alt_ids(&s, &mut back).unwrap();
        assert_eq!(back.alt_ids, m.alt_ids);
        assert!(read_alt_ids("justtext", &mut back).is_err());
        assert!(read_alt_ids("=x", &mut back).is_err());
        read_alt_ids("a=1;", &mut back).unwrap();
    }

    #[test]
    fn several_alt_ids_of_one_kind_are_all_read_back() {
        let mut m = Meta::default();
        m.push_alt_id("state", "0012", Some("TX"));
        m.push_alt_id("state", "77", Some("OK"));
        m.push_alt_id("old", "5", None);
        let mut s = String::new();
        write_alt_ids(m.alt_ids.iter().map(|a| (a.kind.as_str(), a.value.as_str())), &mut s);
        assert_eq!(s, "state=0012;state=77;old=5");
        let mut back = Meta::default();
        read_alt_ids(&s, &mut back).unwrap();
        let states: Vec<&str> = back.alt_ids_of("state").map(|a| a.value.as_str()).collect();
        assert_eq!(states, ["0012", "77"]);
        assert!(back.alt_ids.iter().all(|a| a.assigner.is_none()), "the layout keeps no assigner");
    }

    #[test]
    fn extensions_round_trip_in_order() {
        let mut m = Meta::default();
        m.ext.insert("Zeta", "1");
        m.ext.insert("Alpha \"q\"", "line\nbreak\t\u{1}é");
        m.ext.insert("Empty", "");
        let mut s = String::new();
        write_extensions(m.ext.iter(), &mut s);
        let mut back = Meta::default();
        read_extensions(&s, &mut back).unwrap();
        assert_eq!(back.ext, m.ext);
        assert!(read_extensions("[1]", &mut back).is_err());
        // A hand-edited number reads as its text.
        let mut lenient = Meta::default();
        read_extensions("{\"a\": 1}", &mut lenient).unwrap();
        assert_eq!(lenient.ext.get("a"), Some("1"));
        s.clear();
        write_extensions(Extensions::default().iter(), &mut s);
        assert!(s.is_empty());
    }
}
