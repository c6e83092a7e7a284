//! Field paths: canonical field names plus the pseudo-fields that reach into
//! [`Meta`](crate::Meta), so a mapping can name any part of a record:
//!
//! - `source_id`, `source_system`: the record's source identity;
//! - `alt.<kind>`: an alternative id (`alt.state`, `alt.dcid`);
//! - `ext.<name>`: an extension field.

use crate::entities::Record;
pub use crate::meta::{SOURCE_ID, SOURCE_SYSTEM};
use crate::value::{FieldError, Value};

/// Whether `path` names something on records of type `R`.
pub fn is_valid_path<R: Record>(path: &str) -> bool {
    path == SOURCE_ID
        || path == SOURCE_SYSTEM
        || path.strip_prefix("alt.").is_some_and(|k| !k.is_empty())
        || path.strip_prefix("ext.").is_some_and(|k| !k.is_empty())
        || R::fields().iter().any(|f| f.name == path)
}

/// Reads the value at `path`; `None` for an unknown path.
pub fn get<'r, R: Record>(record: &'r R, path: &str) -> Option<Value<'r>> {
    let meta = record.meta();
    let text = |s: &'r str| if s.is_empty() { Value::Null } else { Value::Text(s) };
    match path {
        SOURCE_ID => Some(text(&meta.source.id)),
        SOURCE_SYSTEM => Some(text(&meta.source.system)),
        _ => {
            if let Some(kind) = path.strip_prefix("alt.") {
                Some(meta.alt_id(kind).map_or(Value::Null, Value::Text))
            } else if let Some(key) = path.strip_prefix("ext.") {
                Some(meta.ext.get(key).map_or(Value::Null, Value::Text))
            } else {
                record.get(path)
            }
        }
    }
}

/// Writes the value at `path`. Meta paths take text.
pub fn set<R: Record>(record: &mut R, path: &str, value: Value<'_>) -> Result<(), FieldError> {
    let as_text = |v: &Value<'_>| -> Result<String, FieldError> {
        match v {
            Value::Null => Ok(String::new()),
            Value::Text(t) => Ok((*t).to_owned()),
            Value::Code { original, .. } => Ok((*original).to_owned()),
            _ => Err(FieldError::TypeMismatch { expected: "text" }),
        }
    };
    match path {
        SOURCE_ID => record.meta_mut().source.id = as_text(&value)?,
        SOURCE_SYSTEM => record.meta_mut().source.system = as_text(&value)?,
        _ => {
            if let Some(kind) = path.strip_prefix("alt.") {
                let v = as_text(&value)?;
                if !v.is_empty() {
                    record.meta_mut().set_alt_id(kind, v);
                }
            } else if let Some(key) = path.strip_prefix("ext.") {
                let v = as_text(&value)?;
                record.meta_mut().ext.insert(key, v);
            } else {
                return record.set(path, value);
            }
        }
    }
    Ok(())
}
