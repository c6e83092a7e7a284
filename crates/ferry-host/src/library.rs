//! A plugin library's embedded manifest, read from the file: packaging and
//! installing never load the library (loading runs its code).

use std::path::Path;

use ferry_plugin_abi::{ABI_VERSION, Manifest, embedded};
use object::{Object, ObjectSection};

/// The target triple this `ferry` is built for.
pub const HOST_TARGET: &str = env!("FERRY_HOST_TARGET");

/// The manifest embedded in the library file at `path`, completed as the
/// SDK completes it (version, ABI and model versions, target).
pub fn read_manifest(path: &Path) -> Result<Manifest, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    manifest_of(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The manifest embedded in a library's bytes.
pub fn manifest_of(bytes: &[u8]) -> Result<Manifest, String> {
    let section = section(bytes)?;
    let e = embedded::parse(section)?;
    complete(&e)
}

fn section(bytes: &[u8]) -> Result<&[u8], String> {
    let file = object::File::parse(bytes).map_err(|e| {
        format!("not a shared library this ferry can read ({e}); give the plugin's built library (`.so`, `.dylib`, `.dll`)")
    })?;
    let names = [embedded::SECTION_ELF, embedded::SECTION_MACHO, embedded::SECTION_PE];
    let found = file.sections().find(|s| s.name().is_ok_and(|n| names.contains(&n)));
    let Some(s) = found else {
        return Err(format!(
            "the library has no embedded manifest (section {}): it is not a Ferry plugin, or it was built with a ferry-sdk older than the one for ABI {ABI_VERSION}; rebuild it against the current ferry-sdk (a plugin folder packaged before, with its ferry-plugin.toml, still loads as it is)",
            embedded::SECTION_ELF
        ));
    };
    s.data().map_err(|e| format!("cannot read its manifest section: {e}"))
}

/// What the SDK's `manifest()` computes from the same bytes.
fn complete(e: &embedded::EmbeddedManifest) -> Result<Manifest, String> {
    let mut table: toml::Table =
        e.text.parse().map_err(|err| format!("its embedded manifest is not valid TOML: {err}"))?;
    table.entry("version").or_insert_with(|| e.crate_version.clone().into());
    table.insert("abi_version".into(), e.abi_version.clone().into());
    table.insert("model_version".into(), e.model_version.clone().into());
    if !e.target.is_empty() {
        table.insert("target".into(), e.target.clone().into());
    }
    toml::Value::Table(table).try_into().map_err(|err| format!("its embedded manifest is invalid: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_library_is_named_as_such() {
        let err = manifest_of(b"#!/bin/sh\necho hi\n").unwrap_err();
        assert!(err.contains("not a shared library"), "{err}");
    }

    #[test]
    fn a_library_without_the_section_says_what_to_do() {
        // This test binary is an object file with no manifest section.
        let exe = std::env::current_exe().unwrap();
        let err = read_manifest(&exe).unwrap_err();
        assert!(err.contains("no embedded manifest") && err.contains("rebuild"), "{err}");
    }
}
