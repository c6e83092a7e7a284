//! PowerSchool's JSON quirks, brought down to the cells of a text-export
//! row: a one-item list arrives as an object, an empty one as `""` (or
//! `null`); numbers arrive as strings and strings as numbers, so every
//! value is kept as its text (an id is never parsed through a number, and a
//! string keeps its leading zeros); NULL is `""`.

use ferry_sdk::Error;
use ferry_sdk::serde_json::{Map, Value};

/// A list-ish node as a list: an array as it is, one object as a list of
/// one, `""`, `{}` and `null` (and a missing node) as nothing.
pub fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) if o.is_empty() => Vec::new(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// An object-ish node: an object, or nothing for `""`, `null` and a missing node.
pub fn object(v: Option<&Value>) -> Option<&Map<String, Value>> {
    match v {
        Some(Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// A column value as its text: a string as it is, a number as written
/// (`3` and `"3"` are the same cell), `null`, `""` and `{}` as empty. A
/// nested value where a column value belongs is `Err` with what it is.
pub fn cell(v: &Value) -> Result<std::borrow::Cow<'_, str>, &'static str> {
    use std::borrow::Cow;
    match v {
        Value::String(s) => Ok(Cow::Borrowed(s)),
        Value::Number(n) => Ok(Cow::Owned(n.to_string())),
        Value::Bool(b) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null => Ok(Cow::Borrowed("")),
        Value::Object(o) if o.is_empty() => Ok(Cow::Borrowed("")),
        Value::Object(_) => Err("an object"),
        Value::Array(a) if a.is_empty() => Ok(Cow::Borrowed("")),
        Value::Array(_) => Err("a list"),
    }
}

/// A count answer: `{"count": N}`, `{"resource": {"count": N}}`, with N a
/// number or a string.
pub fn count(v: &Value) -> Option<u64> {
    let n = v.get("count").or_else(|| v.get("resource").and_then(|r| r.get("count")))?;
    match n {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number that may be a string (`"100"` or `100`).
pub fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The cells of one schema-table or PowerQuery record, as `(column, text)`:
/// the columns of `table` (the record's `tables.{table}`) bare, those of
/// other tables in it qualified (`u_studentsuserfields.custom`), and a flat
/// record's keys (a flattened PowerQuery) bare, without `@…` and `_name`.
pub fn record_cells(
    rec: &Value,
    table: &str,
    at: &dyn Fn() -> String,
    out: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    out.clear();
    let Some(obj) = rec.as_object() else {
        return Err(Error::data(format!("{}: a record is not an object", at())));
    };
    let bad = |col: &str, what: &str| {
        Error::data(format!(
            "{}: column {col} holds {what} where a value belongs; list the table's columns in `tables` (a projection) without it",
            at()
        ))
    };
    match obj.get("tables") {
        Some(tables) => {
            let Some(tables) = object(Some(tables)) else { return Ok(()) };
            let own = tables
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(table))
                .or_else(|| if tables.len() == 1 { tables.iter().next() } else { None });
            let own_name = own.map(|(k, _)| k.as_str());
            if let Some((_, cols)) = own {
                for (k, v) in object(Some(cols)).into_iter().flatten() {
                    out.push((k.clone(), cell(v).map_err(|w| bad(k, w))?.into_owned()));
                }
            }
            for (t, cols) in tables {
                if Some(t.as_str()) == own_name {
                    continue;
                }
                for (k, v) in object(Some(cols)).into_iter().flatten() {
                    let name = format!("{t}.{k}");
                    let text = cell(v).map_err(|w| bad(&name, w))?.into_owned();
                    out.push((name, text));
                }
            }
        }
        None => {
            for (k, v) in obj {
                if k.starts_with('@') || k == "_name" {
                    continue;
                }
                out.push((k.clone(), cell(v).map_err(|w| bad(k, w))?.into_owned()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_sdk::serde_json::json;

    #[test]
    fn one_item_is_an_object_and_empty_is_a_string() {
        let one = json!({"record": {"id": 1}});
        assert_eq!(list(one.get("record")).len(), 1);
        let many = json!({"record": [{"id": 1}, {"id": 2}]});
        assert_eq!(list(many.get("record")).len(), 2);
        for empty in [json!({"record": ""}), json!({"record": null}), json!({"record": {}}), json!({})] {
            assert!(list(empty.get("record")).is_empty(), "{empty}");
        }
        assert!(object(Some(&json!(""))).is_none());
    }

    #[test]
    fn values_keep_their_text() {
        assert_eq!(cell(&json!("00123")).unwrap(), "00123", "leading zeros survive");
        assert_eq!(cell(&json!(123)).unwrap(), "123", "a number is its digits");
        assert_eq!(cell(&json!("123")).unwrap(), cell(&json!(123)).unwrap());
        assert_eq!(cell(&json!(98765432109876543u64)).unwrap(), "98765432109876543", "no float on the way");
        assert_eq!(cell(&json!(-4)).unwrap(), "-4");
        assert_eq!(cell(&json!(null)).unwrap(), "");
        assert_eq!(cell(&json!("")).unwrap(), "");
        assert_eq!(cell(&json!({})).unwrap(), "");
        assert!(cell(&json!({"a": 1})).is_err());
        assert!(cell(&json!([1])).is_err());
    }

    #[test]
    fn counts_in_both_shapes() {
        assert_eq!(count(&json!({"count": 12})), Some(12));
        assert_eq!(count(&json!({"count": "12"})), Some(12));
        assert_eq!(count(&json!({"resource": {"count": 7}})), Some(7));
        assert_eq!(count(&json!({"total": 7})), None);
        assert_eq!(number(Some(&json!("100"))), Some(100));
    }

    #[test]
    fn record_cells_of_tables_and_flat_records() {
        let at = || "students page 1".to_owned();
        let mut out = Vec::new();
        let rec = json!({"id": 5, "name": "students", "tables": {
            "students": {"dcid": 5, "student_number": "000123", "first_name": ""},
            "u_studentsuserfields": {"custom": 7}
        }});
        record_cells(&rec, "Students", &at, &mut out).unwrap();
        assert!(out.contains(&("dcid".into(), "5".into())));
        assert!(out.contains(&("student_number".into(), "000123".into())));
        assert!(out.contains(&("first_name".into(), String::new())));
        assert!(out.contains(&("u_studentsuserfields.custom".into(), "7".into())));
        let flat = json!({"_name": "q", "@extensions": "", "students.dcid": "5", "x": 1});
        record_cells(&flat, "students", &at, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let nested = json!({"tables": {"students": {"dcid": {"a": 1}}}});
        let e = record_cells(&nested, "students", &at, &mut out).unwrap_err();
        assert!(e.to_string().contains("students page 1") && e.to_string().contains("dcid"), "{e}");
        // `"tables": ""`: a record with no columns.
        record_cells(&json!({"tables": ""}), "students", &at, &mut out).unwrap();
        assert!(out.is_empty());
    }
}
