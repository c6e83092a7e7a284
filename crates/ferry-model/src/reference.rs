//! The field reference of the model as Markdown, so that the documentation is
//! generated from the code and cannot drift (a test compares it with
//! `docs/canonical-model-reference.md`).

use std::fmt::Write as _;

use crate::entities::EntityKind;
use crate::value::FieldType;

/// Renders every entity's fields as Markdown tables.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Canonical model {}.{}: field reference\n",
        crate::MODEL_VERSION.0,
        crate::MODEL_VERSION.1
    );
    out.push_str("Generated from `ferry-model` (`UPDATE_EXPECT=1 cargo test -p ferry-model` rewrites it); see `canonical-model.md` for the rules.\n\n");
    out.push_str("Every record also has `source_system` and `source_id` (its identity), `alt.<kind>` alternative ids, `ext.<name>` extensions and provenance; see the columns below.\n");
    out.push_str("\n## Columns of every entity\n\n");
    out.push_str("Each entity crosses the plugin boundary as an Arrow record batch: `source_system` and `source_id` first, then the entity's fields, then these columns.\n\n");
    out.push_str("| column | Arrow type | meaning |\n|---|---|---|\n");
    let schema = EntityKind::Orgs.schema();
    let docs = [
        ("source_system", "the system the record comes from"),
        ("source_id", "the record's id in that system, unique per entity"),
        ("alt_ids", "alternative ids: kind, value, and the organisation that assigned it"),
        (
            "extensions",
            "source fields the model has no slot for: key, value, and whether it is personal data",
        ),
        ("operation", "upsert or delete"),
        ("source_table", "the source table"),
        ("source_file", "the source file"),
        ("source_line", "the 1-based line of the record in the source file"),
        ("source_locator", "where an API record came from"),
        ("source_row_hash", "a content hash (XXH3-128) of the source row"),
        ("source_row", "the source row as decoded text, when the source keeps it"),
        ("source_modified_at", "when the source last changed the record"),
    ];
    for (name, doc) in docs {
        if let Ok(f) = schema.field_with_name(name) {
            let _ = writeln!(out, "| `{name}` | `{}` | {doc} |", f.data_type());
        }
    }
    for kind in EntityKind::ALL {
        let _ = writeln!(out, "\n## `{}`\n", kind.name());
        let _ = write!(out, "{}", kind.doc());
        if kind.since() != (2, 0) {
            let _ = write!(out, " New in {}.{}.", kind.since().0, kind.since().1);
        }
        out.push_str("\n\n");
        out.push_str("| field | type | required | key | personal data | refers to | since | meaning |\n|---|---|---|---|---|---|---|---|\n");
        for f in kind.fields() {
            let ty = match f.ty {
                FieldType::Code(values) => format!("code: {}", values.join(", ")),
                other => other.name().to_owned(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {}.{} | {} |",
                f.name,
                ty,
                if f.required { "yes" } else { "" },
                if f.key { "yes" } else { "" },
                if f.pii { "yes" } else { "" },
                f.refs.map(|r| format!("`{r}`")).unwrap_or_default(),
                f.since.0,
                f.since.1,
                f.doc.trim()
            );
        }
    }
    out
}
