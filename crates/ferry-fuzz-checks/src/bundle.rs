//! `bundle`: what `ferry plugins install` reads before it trusts anything:
//! the bundle (a zip: names, checksums, the bundle manifest, the signature)
//! and a library's embedded manifest section.
//!
//! Input: the bytes of a bundle file, of a library file, or of a manifest
//! section (the same bytes are tried as all three).
//!
//! Properties:
//! - nothing panics;
//! - a section that parses has its ABI and model versions;
//! - a bundle that opens holds a library for every target it lists, whose
//!   embedded manifest is the bundle's plugin; with an empty trust store it
//!   is never trusted (unsigned, untrusted, or refused).

use ferry_host::bundle::{self, Trust};
use ferry_host::signing::TrustStore;
use ferry_plugin_abi::embedded;

use crate::MAX_INPUT;

/// Checks one input (see the module's documentation).
pub fn check(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Ok(e) = embedded::parse(data) {
        assert!(
            !e.abi_version.is_empty() && !e.model_version.is_empty(),
            "a section parsed without its versions"
        );
    }
    let _ = ferry_host::library::manifest_of(data);
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("input.ferry-plugin");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(b) = bundle::open(&path) {
        for target in b.targets() {
            let (_, bytes) = b.library_for(target).expect("a listed target has its library");
            let m =
                ferry_host::library::manifest_of(bytes).expect("an opened bundle's library has a manifest");
            assert_eq!(m.id, b.manifest.plugin.id, "a bundle opened whose library is another plugin");
        }
        let trusted = matches!(b.trust(&TrustStore::default()), Ok(Trust::Trusted(_)));
        assert!(!trusted, "a bundle is trusted by an empty trust store");
    }
}
