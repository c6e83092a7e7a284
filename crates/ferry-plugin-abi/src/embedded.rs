//! The manifest a plugin library carries in a section of its own, so that
//! packaging and installing read it from the file without running the
//! library's code (loading a library runs its constructors).
//!
//! The SDK's `export_plugin!` writes the section at compile time: a header of
//! `key=value` lines with what the build knew (ABI and model versions, the
//! crate's version, the target triple), a blank line, then the plugin's own
//! manifest TOML as written. The same bytes are what the library's
//! `manifest()` function parses at run time, so the two cannot disagree.

/// The section's name in an ELF library (Linux, the BSDs).
pub const SECTION_ELF: &str = ".ferry_manifest";
/// The section's name in a Mach-O library (macOS), in segment `__DATA`.
pub const SECTION_MACHO: &str = "__ferry_manifest";
/// The section's name in a PE library (Windows; at most 8 bytes).
pub const SECTION_PE: &str = ".ferrymf";

/// The first line of the section; the number is the layout's version.
pub const MAGIC: &str = "FERRY-MANIFEST/1\n";

/// What the section holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedManifest {
    /// `ferry-plugin-abi`'s version the library was built against.
    pub abi_version: String,
    /// The canonical model version, `major.minor`.
    pub model_version: String,
    /// The plugin crate's version (the manifest's `version` when it gives none).
    pub crate_version: String,
    /// The target triple the library was built for.
    pub target: String,
    /// The plugin's manifest TOML, as the author wrote it.
    pub text: String,
}

/// The section's length for these parts (for the SDK's `static`).
pub const fn section_len(parts: &[&str]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// The section's bytes: the parts one after the other. `N` must be
/// [`section_len`] of the same parts (a mismatch fails the build).
pub const fn section_bytes<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut k = 0;
    let mut i = 0;
    while i < parts.len() {
        let b = parts[i].as_bytes();
        let mut j = 0;
        while j < b.len() {
            out[k] = b[j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(k == N, "section length mismatch");
    out
}

/// Reads a section's bytes. Trailing NUL padding (some linkers align
/// sections) is ignored.
pub fn parse(bytes: &[u8]) -> Result<EmbeddedManifest, String> {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let text =
        std::str::from_utf8(&bytes[..end]).map_err(|_| "the embedded manifest is not UTF-8".to_owned())?;
    let Some(rest) = text.strip_prefix(MAGIC) else {
        return Err(format!(
            "the embedded manifest does not start with {:?}: built by an unknown SDK",
            MAGIC.trim_end()
        ));
    };
    let (header, manifest) = rest.split_once("\n\n").ok_or("the embedded manifest has no header end")?;
    let mut out = EmbeddedManifest {
        abi_version: String::new(),
        model_version: String::new(),
        crate_version: String::new(),
        target: String::new(),
        text: manifest.to_owned(),
    };
    for line in header.lines() {
        let (k, v) =
            line.split_once('=').ok_or_else(|| format!("bad embedded manifest header line {line:?}"))?;
        let slot = match k {
            "abi_version" => &mut out.abi_version,
            "model_version" => &mut out.model_version,
            "crate_version" => &mut out.crate_version,
            "target" => &mut out.target,
            _ => continue, // a later SDK's key: ignored
        };
        v.trim().clone_into(slot);
    }
    for (k, v) in [("abi_version", &out.abi_version), ("model_version", &out.model_version)] {
        if v.is_empty() {
            return Err(format!("the embedded manifest's header has no {k}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTS: &[&str] = &[
        MAGIC,
        "abi_version=0.2.0\nmodel_version=2.2\n",
        "crate_version=1.0.0\ntarget=x\n\n",
        "id = \"a\"\n",
    ];
    static SECTION: [u8; section_len(PARTS)] = section_bytes(PARTS);

    #[test]
    fn round_trips_through_const_bytes() {
        let mut padded = SECTION.to_vec();
        padded.extend([0, 0, 0]);
        let m = parse(&padded).unwrap();
        assert_eq!(m.abi_version, "0.2.0");
        assert_eq!(m.model_version, "2.2");
        assert_eq!(m.crate_version, "1.0.0");
        assert_eq!(m.target, "x");
        assert_eq!(m.text, "id = \"a\"\n");
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert!(parse(b"something else").unwrap_err().contains("unknown SDK"));
        assert!(parse(MAGIC.as_bytes()).unwrap_err().contains("header end"));
        let no_abi = format!("{MAGIC}model_version=2.2\n\nid = 1");
        assert!(parse(no_abi.as_bytes()).unwrap_err().contains("abi_version"));
    }
}
