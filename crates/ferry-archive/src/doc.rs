//! The generated part of `docs/archive.md`: every entity table with its
//! columns and indexes.

use std::fmt::Write as _;

use crate::schema::tables;

/// The table reference of `docs/archive.md`, in Markdown.
pub fn describe_markdown() -> String {
    let mut s = String::new();
    for t in tables() {
        let _ = writeln!(s, "#### `{}`\n\n| column | type | content |\n| --- | --- | --- |", t.name());
        for c in &t.columns {
            let ty = format!("{}{}", c.sql_type, if c.not_null { " NOT NULL" } else { "" });
            let _ = writeln!(s, "| `{}` | {ty} | {} |", c.name, c.doc().replace('|', "\\|"));
        }
        let idx: Vec<String> = t
            .indexes
            .iter()
            .map(|i| {
                let kind = if i.unique {
                    " (unique)"
                } else if i.skip_nulls {
                    " (where set)"
                } else {
                    ""
                };
                format!("`{}`{kind}", i.columns.join(", "))
            })
            .collect();
        let _ = writeln!(s, "\nIndexes: {}.\n", idx.join("; "));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn doc_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/archive.md")
    }

    #[test]
    fn the_schema_in_the_documentation_matches_the_model() {
        const BEGIN: &str =
            "<!-- BEGIN GENERATED SCHEMA (cargo test -p ferry-archive; FERRY_UPDATE_DOCS=1 rewrites) -->\n";
        const END: &str = "<!-- END GENERATED SCHEMA -->";
        let doc = std::fs::read_to_string(doc_path()).unwrap();
        let (head, rest) = doc.split_once(BEGIN).expect("docs/archive.md lacks the generated-schema markers");
        let (old, tail) = rest.split_once(END).expect("docs/archive.md lacks the end marker");
        let now = describe_markdown();
        if old != now {
            if std::env::var_os("FERRY_UPDATE_DOCS").is_some() {
                std::fs::write(doc_path(), format!("{head}{BEGIN}{now}{END}{tail}")).unwrap();
            } else {
                panic!(
                    "docs/archive.md describes another schema; run with FERRY_UPDATE_DOCS=1 to regenerate it"
                );
            }
        }
    }
}
