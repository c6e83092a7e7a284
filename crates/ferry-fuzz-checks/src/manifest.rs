//! `manifest`: the plugin manifest, as the host reads `ferry-plugin.toml`
//! from disk (`discovery::read_manifest`) and as the SDK builds a plugin's
//! embedded manifest (`build_manifest`), and the compatibility check.
//!
//! Input: the manifest's text (TOML).
//!
//! Properties:
//! - nothing panics;
//! - a manifest that parses writes out (as the SDK sends its embedded
//!   manifest, `toml::to_string`) and reads back equal: the host compares
//!   the embedded manifest with the one on disk this way;
//! - the host's verdict on a manifest it reads is `check_compatible`'s;
//! - a compatible manifest declares the host's model major and no newer
//!   minor; the same manifest declaring the host's own ABI and model is
//!   always compatible; a refusal names the plugin;
//! - a manifest the SDK builds is compatible with a host of the same
//!   version, names only known entities, and survives the embedded round trip.

use ferry_host::discovery::read_manifest;
use ferry_plugin_abi::{ABI_VERSION, MANIFEST_FILE, MODEL_VERSION, Manifest};
use ferry_sdk::model::EntityKind;

use crate::MAX_INPUT;

/// Checks one input (see the module's documentation).
pub fn check(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    check_host(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = toml::from_str::<Manifest>(text) {
        round_trip(&m);
        check_compatibility(&m);
    }
    if let Ok(m) = ferry_sdk::build_manifest(text, "0.1.0") {
        round_trip(&m);
        assert!(
            m.check_compatible(ABI_VERSION, MODEL_VERSION).is_ok(),
            "a manifest the SDK builds is refused by a host of the same version"
        );
        assert!(
            m.entities.iter().all(|e| EntityKind::from_name(e).is_some()),
            "the SDK built a manifest naming an unknown entity"
        );
    }
}

/// The host reading the manifest from a plugin folder.
fn check_host(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join(MANIFEST_FILE);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(entry) = read_manifest(&path) {
        assert!(entry.manifest.library.is_some(), "the host accepted a manifest that names no library");
        assert_eq!(
            entry.compatibility,
            entry.manifest.check_compatible(ABI_VERSION, MODEL_VERSION).map_err(|e| e.0),
            "the host's verdict is not the compatibility check's"
        );
    }
}

/// Written as the SDK writes an embedded manifest, read back as the host does.
fn round_trip(m: &Manifest) {
    let text = match toml::to_string(m) {
        Ok(t) => t,
        Err(e) => panic!("a parsed manifest cannot be written back: {e}"),
    };
    match toml::from_str::<Manifest>(&text) {
        Ok(back) => assert!(back == *m, "a manifest written and read back differs"),
        Err(e) => panic!("a manifest written back does not parse: {e}"),
    }
}

fn check_compatibility(m: &Manifest) {
    match m.check_compatible(ABI_VERSION, MODEL_VERSION) {
        Ok(()) => {
            let model = m
                .model_version
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)));
            assert!(
                model.is_some_and(|(major, minor)| major == MODEL_VERSION.0 && minor <= MODEL_VERSION.1),
                "a manifest of another model major, or a newer minor, is accepted"
            );
        }
        Err(e) => {
            assert!(e.0.contains(&format!("'{}'", m.id)), "a refusal does not name the plugin: {}", e.0)
        }
    }
    let mut own = m.clone();
    own.abi_version = ABI_VERSION.to_owned();
    own.model_version = format!("{}.{}", MODEL_VERSION.0, MODEL_VERSION.1);
    assert!(
        own.check_compatible(ABI_VERSION, MODEL_VERSION).is_ok(),
        "a manifest declaring the host's own ABI and model is refused"
    );
}
