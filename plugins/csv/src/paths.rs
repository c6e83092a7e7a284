//! Canonical field paths, resolved once per column: `source_id`,
//! `source_system`, `alt.<kind>`, `ext.<name>` or a field of the entity (the
//! paths of `ferry_model::access`).

use ferry_sdk::model::columns::AnyReader;
use ferry_sdk::model::{EntityKind, FieldDef, FieldType, FieldsView, MetaView, Value};
#[cfg(test)]
use ferry_sdk::model::{Meta, Record};

/// A resolved path.
#[derive(Clone, Debug)]
pub(crate) enum FieldPath {
    /// The record's id in its source system.
    SourceId,
    /// The source system's name.
    SourceSystem,
    /// An alternative id of this kind.
    Alt(String),
    /// An extension field.
    Ext(String),
    /// A canonical field.
    Field(&'static FieldDef),
}

impl PartialEq for FieldPath {
    fn eq(&self, other: &FieldPath) -> bool {
        match (self, other) {
            (FieldPath::SourceId, FieldPath::SourceId)
            | (FieldPath::SourceSystem, FieldPath::SourceSystem) => true,
            (FieldPath::Alt(a), FieldPath::Alt(b)) | (FieldPath::Ext(a), FieldPath::Ext(b)) => a == b,
            (FieldPath::Field(a), FieldPath::Field(b)) => a.name == b.name,
            _ => false,
        }
    }
}

impl FieldPath {
    /// Resolves `path` for records of `kind`; `None` when it names nothing.
    pub(crate) fn resolve(kind: EntityKind, path: &str) -> Option<FieldPath> {
        let path = path.trim();
        match path {
            "source_id" => Some(FieldPath::SourceId),
            "source_system" => Some(FieldPath::SourceSystem),
            _ => {
                if let Some(k) = path.strip_prefix("alt.") {
                    (!k.is_empty()).then(|| FieldPath::Alt(k.to_owned()))
                } else if let Some(k) = path.strip_prefix("ext.") {
                    (!k.is_empty()).then(|| FieldPath::Ext(k.to_owned()))
                } else {
                    kind.fields().iter().find(|f| f.name == path).map(FieldPath::Field)
                }
            }
        }
    }

    /// The type of the values at this path (meta paths are text).
    pub(crate) fn ty(&self) -> FieldType {
        match self {
            FieldPath::Field(f) => f.ty,
            _ => FieldType::Text,
        }
    }

    /// The path as written in configurations.
    pub(crate) fn name(&self) -> String {
        match self {
            FieldPath::SourceId => "source_id".to_owned(),
            FieldPath::SourceSystem => "source_system".to_owned(),
            FieldPath::Alt(k) => format!("alt.{k}"),
            FieldPath::Ext(k) => format!("ext.{k}"),
            FieldPath::Field(f) => f.name.to_owned(),
        }
    }

    /// The value at this path of `record`.
    #[cfg(test)]
    pub(crate) fn get<'r, R: Record>(&self, record: &'r R) -> Value<'r> {
        let meta: &'r Meta = record.meta();
        let text = |s: &'r str| if s.is_empty() { Value::Null } else { Value::Text(s) };
        match self {
            FieldPath::SourceId => text(&meta.source.id),
            FieldPath::SourceSystem => text(&meta.source.system),
            FieldPath::Alt(k) => meta.alt_id(k).map_or(Value::Null, Value::Text),
            FieldPath::Ext(k) => meta.ext.get(k).map_or(Value::Null, Value::Text),
            FieldPath::Field(f) => record.get(f.name).unwrap_or(Value::Null),
        }
    }
}

/// A path bound to the columns of one batch: resolved once per batch, read per row.
#[derive(Clone, Copy)]
pub(crate) enum BoundPath<'a> {
    /// The record's id.
    SourceId,
    /// The source system.
    SourceSystem,
    /// An alternative id of this kind.
    Alt(&'a str),
    /// An extension.
    Ext(&'a str),
    /// A field's column.
    Field(AnyReader<'a>),
    /// A field the batch does not have (an older model minor): always null.
    Missing,
}

impl FieldPath {
    /// This path over the columns of `view`.
    pub(crate) fn bind<'a>(&'a self, view: &FieldsView<'a>) -> BoundPath<'a> {
        match self {
            FieldPath::SourceId => BoundPath::SourceId,
            FieldPath::SourceSystem => BoundPath::SourceSystem,
            FieldPath::Alt(k) => BoundPath::Alt(k),
            FieldPath::Ext(k) => BoundPath::Ext(k),
            FieldPath::Field(f) => {
                view.index(f.name).and_then(|i| view.reader(i)).map_or(BoundPath::Missing, BoundPath::Field)
            }
        }
    }
}

impl<'a> BoundPath<'a> {
    /// The value at row `i`.
    #[inline]
    pub(crate) fn get(&self, meta: &MetaView<'a>, i: usize) -> Value<'a> {
        let text = |s: &'a str| if s.is_empty() { Value::Null } else { Value::Text(s) };
        match self {
            BoundPath::SourceId => text(meta.source_id(i)),
            BoundPath::SourceSystem => text(meta.source_system(i)),
            BoundPath::Alt(k) => meta.alt_id(i, k).map_or(Value::Null, Value::Text),
            BoundPath::Ext(k) => meta.extension(i, k).map_or(Value::Null, Value::Text),
            BoundPath::Field(r) => r.get(i),
            BoundPath::Missing => Value::Null,
        }
    }
}

/// What a user may write as a path for `kind`, for error messages.
pub(crate) fn valid_paths(kind: EntityKind) -> String {
    let fields: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
    format!("source_id, source_system, alt.<kind>, ext.<name>, or a field of {kind}: {}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use ferry_sdk::model::{Code, GradeLevel, Student};

    use super::*;

    #[test]
    fn resolves_and_reads_paths() {
        let k = EntityKind::Students;
        assert_eq!(FieldPath::resolve(k, "source_id"), Some(FieldPath::SourceId));
        assert_eq!(FieldPath::resolve(k, "alt.state"), Some(FieldPath::Alt("state".into())));
        assert_eq!(FieldPath::resolve(k, "ext.U_Locker"), Some(FieldPath::Ext("U_Locker".into())));
        assert!(FieldPath::resolve(k, "ext.").is_none());
        assert!(FieldPath::resolve(k, "birthdate").is_none());
        let g = FieldPath::resolve(k, "grade_level").unwrap();
        assert!(matches!(g.ty(), FieldType::Code(_)));
        let mut s = Student { meta: Meta::new("sis", "1"), ..Student::default() };
        s.grade_level = Some(Code::mapped(GradeLevel::Kindergarten, "K"));
        s.meta.set_alt_id("state", "S-9");
        assert_eq!(g.get(&s), Value::Code { code: "KG", original: "K" });
        assert_eq!(FieldPath::Alt("state".into()).get(&s), Value::Text("S-9"));
        assert_eq!(FieldPath::Ext("x".into()).get(&s), Value::Null);
        assert_eq!(FieldPath::SourceSystem.get(&s), Value::Text("sis"));
        assert!(valid_paths(k).contains("student_number"));
    }
}
