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
    out.push_str("Every record also has `source_system` and `source_id` (its identity), `alt.<kind>` alternative ids, `ext.<name>` extensions and an origin (file, line, raw row).\n");
    for kind in EntityKind::ALL {
        let _ = writeln!(out, "\n## `{}`\n", kind.name());
        out.push_str("| field | type | required | personal data | meaning |\n|---|---|---|---|---|\n");
        for f in kind.fields() {
            let ty = match f.ty {
                FieldType::Code(values) => format!("code: {}", values.join(", ")),
                other => other.name().to_owned(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                f.name,
                ty,
                if f.required { "yes" } else { "" },
                if f.pii { "yes" } else { "" },
                f.doc.trim()
            );
        }
    }
    out
}
