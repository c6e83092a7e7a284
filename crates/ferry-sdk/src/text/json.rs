//! Flat JSON, as connectors store extensions, alternative ids and lists in a
//! single cell or column: objects of text and arrays of text.
//!
//! Writing goes straight into a reused buffer (it runs for every record);
//! reading keeps the keys in stored order, which `serde_json`'s map does not.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes `{"k":"v",…}` into `out` (cleared first).
pub fn write_object<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    out.clear();
    push_object(out, pairs);
}

/// Appends `{"k":"v",…}` to `out`.
pub fn push_object<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push('{');
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        push_str(out, v);
    }
    out.push('}');
}

/// Writes `["a","b",…]` into `out` (cleared first).
pub fn write_array(out: &mut String, items: &[String]) {
    out.clear();
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, v);
    }
    out.push(']');
}

/// A JSON scalar as text: strings as they are, numbers and booleans as
/// written; `None` for null. Nested values come back as compact JSON.
fn scalar_text(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if let Some(v) = scalar_text(v) {
                        out.push((k, v));
                    }
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct Items(Vec<String>);

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
                while let Some(v) = seq.next_element::<serde_json::Value>()? {
                    out.extend(scalar_text(v));
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Reads a flat JSON object in stored key order. Null members are skipped;
/// numbers and booleans come back as their JSON text.
pub fn read_object(text: &str) -> Result<Vec<(String, String)>, String> {
    serde_json::from_str::<Pairs>(text).map(|p| p.0).map_err(|e| e.to_string())
}

/// Reads a JSON array of text (nulls skipped).
pub fn read_array(text: &str) -> Result<Vec<String>, String> {
    serde_json::from_str::<Items>(text).map(|p| p.0).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_and_reads_it_back_in_order() {
        let nasty = "Zoë \"quoted\" \\ back\nline\ttab\u{1}ctl ✓";
        let mut out = String::new();
        write_object(&mut out, [("z", "1"), ("a", nasty), ("", "")].into_iter());
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["a"], nasty);
        assert_eq!(
            read_object(&out).unwrap(),
            vec![("z".into(), "1".into()), ("a".into(), nasty.into()), (String::new(), String::new())]
        );
        let items = vec!["09".to_owned(), nasty.to_owned()];
        write_array(&mut out, &items);
        assert_eq!(read_array(&out).unwrap(), items);
    }

    #[test]
    fn reads_hand_edited_values_leniently() {
        assert_eq!(
            read_object(r#"{"n": 5, "b": true, "x": null, "o": {"k": 1}}"#).unwrap(),
            vec![("n".into(), "5".into()), ("b".into(), "true".into()), ("o".into(), r#"{"k":1}"#.into())]
        );
        assert!(read_object("[1]").is_err());
        assert!(read_array("{}").is_err());
    }
}
