//! The plugin manifest: what `ferry plugins list` reads without loading code.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A plugin's self-description. The SDK embeds it in the library; `ferry
/// plugins package` writes it beside the library as `ferry-plugin.toml`.
/// Unknown keys are ignored, so that manifests can grow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Unique id, used on the command line (`csv`, `powerschool`).
    pub id: String,
    /// The plugin's own version.
    pub version: String,
    /// One line on what it does.
    #[serde(default)]
    pub description: String,
    /// The plugin ABI version it was built against (ferry-plugin-abi's version).
    pub abi_version: String,
    /// The canonical model version it reads and writes, `"major.minor"`.
    pub model_version: String,
    /// The target triple the library was built for (`x86_64-unknown-linux-gnu`),
    /// from the library's embedded manifest; absent in older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Source, sink or both.
    pub capabilities: Vec<Capability>,
    /// Canonical entities it handles.
    pub entities: Vec<String>,
    /// Configuration keys.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigField>,
    /// The configuration key a bare location on the command line fills
    /// (`--from powerschool:export/` sets `directory`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// For sinks: whether commit and abort are all-or-nothing (a file written
    /// and renamed into place) or not (an API where each write lands at once).
    #[serde(default = "yes")]
    pub transactional: bool,
    /// For sinks: whether the sink supports dry runs (validate and plan,
    /// write nothing).
    #[serde(default)]
    pub dry_run: bool,
    /// For sinks: what the destination needs of the records it receives, so
    /// that `ferry plan check` finds gaps before anything runs.
    #[serde(default, skip_serializing_if = "DestinationRules::is_empty")]
    pub destination: DestinationRules,
    /// The library file beside the manifest (set when packaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// SHA-256 of the library (set when packaged; checked before loading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

fn yes() -> bool {
    true
}

/// What a destination requires and accepts, declared in a sink's manifest:
///
/// ```toml
/// [destination]
/// entities = ["orgs", "students"]   # when the sink writes fewer than `entities`
/// requires = ["students.student_number", "students.grade_level"]
/// [destination.accepts]
/// "students.grade_level" = ["PK", "KG", "01", "02"]
/// ```
///
/// A plugin that is also the source reading its destination back (for
/// `ferry verify`) but cannot return every field it was given (an API that
/// keeps less than the model) lists what it does return:
///
/// ```toml
/// [destination]
/// read_back = ["students.first_name", "students.birth_date", "school_enrollments.entry_date"]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationRules {
    /// The entities the sink writes, when fewer than the manifest's
    /// `entities` (which a plugin that is source and sink lists for both).
    #[serde(default)]
    pub entities: Vec<String>,
    /// Fields (`entity.field`) every record of the entity must have.
    #[serde(default)]
    pub requires: Vec<String>,
    /// For code fields (`entity.field`), the canonical values the
    /// destination can hold; a field not listed takes its whole code set.
    #[serde(default)]
    pub accepts: BTreeMap<String, Vec<String>>,
    /// The fields (`entity.field`) its source returns when it reads the
    /// destination back; empty: every field of every entity it writes.
    /// `ferry verify` then compares only these fields, and only these
    /// entities (added in ABI 0.2 as a key with a default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_back: Vec<String>,
}

impl DestinationRules {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.requires.is_empty()
            && self.accepts.is_empty()
            && self.read_back.is_empty()
    }

    /// The fields read back, by entity (empty when every field is).
    pub fn read_back_fields(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &self.read_back {
            if let Some((e, name)) = f.split_once('.') {
                out.entry(e.to_owned()).or_default().push(name.to_owned());
            }
        }
        out
    }
}

/// What a plugin can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Produces records.
    Source,
    /// Consumes records.
    Sink,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::Source => "source",
            Capability::Sink => "sink",
        })
    }
}

/// One configuration key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    /// Type name (string, integer, boolean, table, array).
    #[serde(rename = "type")]
    pub ty: String,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// Must be given.
    #[serde(default)]
    pub required: bool,
    /// A password or token: never logged or echoed.
    #[serde(default)]
    pub secret: bool,
}

/// Why a manifest is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError(pub String);

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ManifestError {}

fn parse_version(s: &str) -> Option<(u64, u64, u64)> {
    let mut parts = s.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.split(['-', '+']).next()?.parse().ok())?;
    Some((major, minor, patch))
}

impl Manifest {
    /// Whether a host speaking `host_abi` and `host_model` can load this
    /// plugin; `Err` says why not and what to do.
    ///
    /// ABI rule (cargo's): `0.y` versions must share `y`; `x.y` versions share
    /// `x`. Model rule: same major, and a minor no newer than the host's.
    pub fn check_compatible(&self, host_abi: &str, host_model: (u16, u16)) -> Result<(), ManifestError> {
        let bad = |m: String| Err(ManifestError(m));
        let (Some(p), Some(h)) = (parse_version(&self.abi_version), parse_version(host_abi)) else {
            return bad(format!(
                "plugin '{}' declares ABI version {:?}, which is not a version number; rebuild it with ferry-sdk {host_abi}",
                self.id, self.abi_version
            ));
        };
        let same = if h.0 == 0 { p.0 == 0 && p.1 == h.1 } else { p.0 == h.0 };
        if !same {
            return bad(format!(
                "plugin '{}' was built against ferry plugin ABI {}, this host speaks {host_abi}: rebuild the plugin against ferry-sdk {}.{}, or use a ferry release that speaks {}",
                self.id, self.abi_version, h.0, h.1, self.abi_version
            ));
        }
        let model = self
            .model_version
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)));
        match model {
            Some((maj, min)) if maj == host_model.0 && min <= host_model.1 => Ok(()),
            Some((maj, min)) => bad(format!(
                "plugin '{}' uses canonical model {maj}.{min}, this host knows model {}.{}: {}",
                self.id,
                host_model.0,
                host_model.1,
                if maj == host_model.0 {
                    format!(
                        "upgrade ferry to one that knows model {maj}.{min}, or rebuild the plugin against ferry-sdk {host_abi} (model {}.{})",
                        host_model.0, host_model.1
                    )
                } else {
                    format!(
                        "rebuild the plugin against the ferry-sdk of this ferry (plugin ABI {host_abi}, model {}.{}), or use a ferry release that knows model {maj}.x",
                        host_model.0, host_model.1
                    )
                }
            )),
            None => bad(format!(
                "plugin '{}' declares model version {:?}, expected \"major.minor\"",
                self.id, self.model_version
            )),
        }
    }

    /// Whether it can be a source.
    pub fn is_source(&self) -> bool {
        self.capabilities.contains(&Capability::Source)
    }

    /// Whether it can be a sink.
    pub fn is_sink(&self) -> bool {
        self.capabilities.contains(&Capability::Sink)
    }
}

/// Whether `id` is a valid plugin id: 1 to 64 characters, lowercase ASCII
/// letters, digits and `-`, starting with a letter and not ending with `-`.
pub fn check_plugin_id(id: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{id}' is not a valid plugin id: use 1 to 64 lowercase letters, digits and '-', starting with a letter (e.g. acme-roster)"
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plugin_ids() {
        for ok in ["csv", "acme-roster", "model-2-0", "a"] {
            assert!(check_plugin_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "acme_roster", "-x", "x-", "1x", "a b", "../x", &"a".repeat(65)] {
            let e = check_plugin_id(bad).unwrap_err();
            assert!(e.contains("not a valid plugin id"), "{bad}: {e}");
        }
    }

    use super::*;

    fn manifest(abi: &str, model: &str) -> Manifest {
        Manifest {
            id: "x".into(),
            version: "1.0.0".into(),
            description: String::new(),
            abi_version: abi.into(),
            model_version: model.into(),
            target: None,
            capabilities: vec![Capability::Source],
            entities: vec![],
            config: BTreeMap::new(),
            location: None,
            transactional: true,
            dry_run: false,
            destination: DestinationRules::default(),
            library: None,
            sha256: None,
        }
    }

    #[test]
    fn abi_rules_follow_cargo() {
        assert!(manifest("0.1.0", "1.0").check_compatible("0.1.3", (1, 0)).is_ok());
        let text = "id = \"x\"\nversion = \"1\"\nabi_version = \"0.2.0\"\nmodel_version = \"2.0\"\ncapabilities = [\"sink\"]\nentities = []\nfrom_the_future = 1\n";
        let m: Manifest = toml::from_str(text).expect("unknown keys are ignored");
        assert!(m.transactional && !m.dry_run && m.location.is_none());
        assert!(manifest("0.1.7", "1.0").check_compatible("0.1.3", (1, 0)).is_ok());
        let e = manifest("0.2.0", "1.0").check_compatible("0.1.3", (1, 0)).unwrap_err();
        assert!(e.0.contains("ABI 0.2.0") && e.0.contains("0.1.3") && e.0.contains("rebuild"), "{e}");
        assert!(manifest("1.4.0", "1.0").check_compatible("1.2.0", (1, 0)).is_ok());
        assert!(manifest("2.0.0", "1.0").check_compatible("1.2.0", (1, 0)).is_err());
        assert!(manifest("banana", "1.0").check_compatible("0.1.0", (1, 0)).is_err());
    }

    #[test]
    fn model_rules() {
        assert!(manifest("0.1.0", "1.0").check_compatible("0.1.0", (1, 2)).is_ok());
        assert!(
            manifest("0.1.0", "1.3")
                .check_compatible("0.1.0", (1, 2))
                .unwrap_err()
                .0
                .contains("upgrade ferry")
        );
        let e = manifest("0.1.0", "2.0").check_compatible("0.1.0", (1, 2)).unwrap_err().0;
        assert!(
            e.contains("model 2.0")
                && e.contains(
                    "rebuild the plugin against the ferry-sdk of this ferry (plugin ABI 0.1.0, model 1.2)"
                ),
            "{e}"
        );
        // The previous compatible minor loads.
        assert!(manifest("0.1.0", "1.1").check_compatible("0.1.0", (1, 2)).is_ok());
    }
}
