//! `ferry plugins new`: a connector crate of one's own, outside Ferry's
//! workspace, from the template in `crates/ferry/templates/plugin`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The template's files: (path in the new crate, text).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/plugin/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/plugin/lib.rs.tmpl")),
    ("tests/conformance.rs", include_str!("../templates/plugin/conformance.rs.tmpl")),
    ("sample/students.jsonl", include_str!("../templates/plugin/students.jsonl.tmpl")),
    ("README.md", include_str!("../templates/plugin/README.md.tmpl")),
    (".gitignore", include_str!("../templates/plugin/gitignore.tmpl")),
];

/// The lock file of the workspace this binary was built from: the versions
/// in its registry cache.
const WORKSPACE_LOCK: &str = include_str!("../../../Cargo.lock");

/// The ferry-sdk of the checkout this binary was built from.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-sdk")
}

/// What `new` made.
pub struct Created {
    pub dir: PathBuf,
    pub sdk: PathBuf,
    pub files: Vec<&'static str>,
}

/// `Acme` from `acme`, `AcmeRoster` from `acme-roster`, `Plugin2x` from `2x`.
fn type_name(id: &str) -> String {
    let mut out: String = id
        .split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "Plugin");
    }
    out
}

/// Creates the crate of plugin `id` in `dir` (default `./ID`), depending on
/// the ferry-sdk at `sdk` (default: this checkout's).
pub fn create(id: &str, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<Created> {
    ferry_sdk_id_check(id)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(id));
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .with_context(|| format!("{} exists and cannot be read", dir.display()))?
            .next()
            .is_none();
        if !empty {
            bail!("{} exists and is not empty: give another --path, or remove it first", dir.display());
        }
    }
    let sdk = sdk.unwrap_or_else(default_sdk);
    let sdk = std::fs::canonicalize(&sdk).with_context(|| {
        format!(
            "ferry-sdk is not at {} (ferry was built from another checkout, or it moved): pass --sdk-path PATH/TO/ferry/crates/ferry-sdk",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() || !sdk.join("src/testing.rs").is_file() {
        bail!(
            "{} is not ferry-sdk's folder (no Cargo.toml and src/testing.rs): pass --sdk-path PATH/TO/ferry/crates/ferry-sdk",
            sdk.display()
        );
    }
    // The lock of the SDK's own workspace when there is one; this build's otherwise.
    let lock = sdk
        .parent()
        .and_then(Path::parent)
        .map(|w| w.join("Cargo.lock"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| WORKSPACE_LOCK.to_owned());
    let sdk_text = sdk.to_str().context("the ferry-sdk path is not valid UTF-8")?.replace('\\', "/");
    let vars = [
        ("{{id}}", id.to_owned()),
        ("{{crate_ident}}", id.replace('-', "_")),
        ("{{type_name}}", type_name(id)),
        ("{{sdk_path}}", sdk_text),
    ];
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files = Vec::new();
    for (path, text) in FILES {
        let mut text = (*text).to_owned();
        for (k, v) in &vars {
            text = text.replace(k, v);
        }
        write(&dir.join(path), &text)?;
        files.push(*path);
    }
    write(&dir.join("Cargo.lock"), &lock)?;
    files.push("Cargo.lock");
    Ok(Created { dir, sdk, files })
}

fn ferry_sdk_id_check(id: &str) -> anyhow::Result<()> {
    ferry_plugin_abi::check_plugin_id(id).map_err(anyhow::Error::msg)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(type_name("acme"), "Acme");
        assert_eq!(type_name("acme-roster"), "AcmeRoster");
        assert_eq!(type_name("sis-2"), "Sis2");
    }

    #[test]
    fn refuses_bad_names_and_full_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let e = create("Acme_Roster", Some(tmp.path().join("x")), None).err().unwrap().to_string();
        assert!(e.contains("not a valid plugin id"), "{e}");
        std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
        let e = create("acme", Some(tmp.path().to_owned()), None).err().unwrap().to_string();
        assert!(e.contains("is not empty"), "{e}");
        assert_eq!(std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(), "mine");
    }

    #[test]
    fn fills_in_every_placeholder() {
        let tmp = tempfile::tempdir().unwrap();
        let c = create("acme-grades", Some(tmp.path().join("acme")), None).unwrap();
        for f in &c.files {
            let text = std::fs::read_to_string(c.dir.join(f)).unwrap();
            assert!(!text.contains("{{"), "{f} still has a placeholder");
        }
        let toml = std::fs::read_to_string(c.dir.join("Cargo.toml")).unwrap();
        assert!(toml.contains("name = \"acme-grades\""), "{toml}");
        assert!(toml.contains(&format!("path = \"{}\"", c.sdk.display())), "{toml}");
        let lib = std::fs::read_to_string(c.dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct AcmeGrades;") && lib.contains("id = \"acme-grades\""));
        assert!(std::fs::read_to_string(c.dir.join("Cargo.lock")).unwrap().contains("name = \"ferry-sdk\""));
    }
}
