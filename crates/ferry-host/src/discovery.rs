//! Finding plugins: search paths and manifests. Reads files only; loads no code.

use std::path::{Path, PathBuf};

use ferry_plugin_abi::{ABI_VERSION, MANIFEST_FILE, MODEL_VERSION, Manifest};

/// Where a search directory came from, for `ferry plugins list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrigin {
    /// `$FERRY_PLUGIN_PATH`.
    PluginPath,
    /// `$FERRY_HOME/plugins`, or the user's data directory.
    FerryHome,
    /// Next to the `ferry` binary.
    BesideBinary,
}

/// A directory searched for plugins.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SearchDir {
    /// The directory.
    pub path: PathBuf,
    /// Why it is searched.
    pub origin: SearchOrigin,
}

/// The plugin search path, in priority order: `$FERRY_PLUGIN_PATH` (a list of
/// directories), then `$FERRY_HOME/plugins` (default: the user's data
/// directory, e.g. `~/.local/share/ferry/plugins`), then the directory of the
/// running binary and its `plugins/` subdirectory.
pub fn search_dirs() -> Vec<SearchDir> {
    let mut dirs = Vec::new();
    if let Some(list) = std::env::var_os("FERRY_PLUGIN_PATH") {
        for p in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
            dirs.push(SearchDir { path: p, origin: SearchOrigin::PluginPath });
        }
    }
    if let Some(home) = ferry_home() {
        dirs.push(SearchDir { path: home.join("plugins"), origin: SearchOrigin::FerryHome });
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        dirs.push(SearchDir { path: exe_dir.join("plugins"), origin: SearchOrigin::BesideBinary });
        dirs.push(SearchDir { path: exe_dir, origin: SearchOrigin::BesideBinary });
    }
    dirs
}

/// `$FERRY_HOME`, or the platform's per-user data directory plus `ferry`.
pub fn ferry_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("FERRY_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        env("APPDATA").map(|d| d.join("ferry"))
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support/ferry"))
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share"))).map(|d| d.join("ferry"))
    }
}

/// A plugin found on the search path.
#[derive(Clone, Debug)]
pub struct PluginEntry {
    /// Its manifest, as read from disk.
    pub manifest: Manifest,
    /// The manifest file.
    pub manifest_path: PathBuf,
    /// The library file the manifest names.
    pub library: PathBuf,
    /// Whether this host can load it, and if not, why and what to do.
    pub compatibility: Result<(), String>,
}

/// A manifest that could not be used.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BadManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// Which plugin a job, a plan or the command line asks for:
/// `id`, `id@version`, or `id@version#sha256=HEX` (a prefix of at least 12
/// hex digits of the library's SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRef {
    /// The plugin id.
    pub id: String,
    /// A pinned version.
    pub version: Option<String>,
    /// A pinned library hash (or its prefix).
    pub sha256: Option<String>,
}

impl PluginRef {
    /// Reads `id[@version][#sha256=HEX]`.
    pub fn parse(spec: &str) -> Result<PluginRef, String> {
        let (rest, sha256) = match spec.split_once('#') {
            Some((r, h)) => {
                let h = h.strip_prefix("sha256=").ok_or_else(|| {
                    format!("plugin '{spec}': a pinned hash is written `#sha256=HEX` (see `ferry plugins list --format json`)")
                })?;
                if h.len() < 12 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(format!(
                        "plugin '{spec}': the pinned hash must be at least 12 hex digits of the library's SHA-256"
                    ));
                }
                (r, Some(h.to_ascii_lowercase()))
            }
            None => (spec, None),
        };
        let (id, version) = match rest.split_once('@') {
            Some((id, v)) if !v.is_empty() => (id, Some(v.to_owned())),
            Some(_) => return Err(format!("plugin '{spec}': nothing after `@`; write `id@version`")),
            None => (rest, None),
        };
        if id.is_empty() {
            return Err(format!("plugin '{spec}': no plugin id"));
        }
        if sha256.is_some() && version.is_none() {
            return Err(format!("plugin '{spec}': pin a version with the hash: `{id}@VERSION#sha256=…`"));
        }
        Ok(PluginRef { id: id.to_owned(), version, sha256 })
    }

    fn matches(&self, e: &PluginEntry) -> bool {
        e.manifest.id == self.id
            && self.version.as_deref().is_none_or(|v| same_version(v, &e.manifest.version))
            && self.sha256.as_deref().is_none_or(|h| {
                e.manifest.sha256.as_deref().is_some_and(|s| s.to_ascii_lowercase().starts_with(h))
            })
    }
}

impl std::fmt::Display for PluginRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        if let Some(h) = &self.sha256 {
            write!(f, "#sha256={h}")?;
        }
        Ok(())
    }
}

/// A version as numbers, for ordering (`1.10.0` after `1.9.3`); a
/// pre-release (`1.0.0-rc.1`) sorts before its release.
fn version_key(v: &str) -> (Vec<u64>, bool, String) {
    let v = v.trim().trim_start_matches('v');
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((c, p)) => (c, p.to_owned()),
        None => (v, String::new()),
    };
    let nums = core.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect();
    (nums, pre.is_empty(), pre)
}

fn same_version(a: &str, b: &str) -> bool {
    a.trim().trim_start_matches('v') == b.trim().trim_start_matches('v')
}

/// Everything found on the search path.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Every plugin found, in search-path order.
    pub all: Vec<PluginEntry>,
    /// The plugin each id resolves to when nothing is pinned: its newest
    /// compatible version (or, when none is compatible, the first found).
    pub plugins: Vec<PluginEntry>,
    /// The others: older versions, and copies of the same version.
    pub shadowed: Vec<PluginEntry>,
    /// Ids that do not resolve without a pin, and why.
    pub ambiguous: Vec<(String, String)>,
    /// Manifests that could not be read.
    pub bad: Vec<BadManifest>,
}

/// What [`Discovery::resolve`] found.
#[derive(Debug)]
pub struct Resolved<'a> {
    /// The plugin to load.
    pub entry: &'a PluginEntry,
    /// Other plugins of the same id on the search path (not loaded).
    pub others: Vec<&'a PluginEntry>,
}

impl Discovery {
    /// The plugin `id` resolves to without a pin.
    pub fn find(&self, id: &str) -> Option<&PluginEntry> {
        self.plugins.iter().find(|p| p.manifest.id == id)
    }

    /// The plugins with `id` that [`Discovery::find`] does not return.
    pub fn shadowed_by<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a PluginEntry> + 'a {
        self.shadowed.iter().filter(move |p| p.manifest.id == id)
    }

    /// Resolves a reference: the pinned version (and hash) if any, else the
    /// newest compatible version. The same version found twice with
    /// different libraries does not resolve: nothing says which is meant.
    pub fn resolve(&self, r: &PluginRef) -> Result<Resolved<'_>, String> {
        let same_id: Vec<&PluginEntry> = self.all.iter().filter(|e| e.manifest.id == r.id).collect();
        if same_id.is_empty() {
            let known: Vec<&str> = self.plugins.iter().map(|p| p.manifest.id.as_str()).collect();
            return Err(format!(
                "no plugin '{}' on the search path (found: {}); see `ferry plugins list`, or install it with `ferry plugins install BUNDLE`",
                r.id,
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ));
        }
        let matching: Vec<&PluginEntry> = same_id.iter().copied().filter(|e| r.matches(e)).collect();
        if matching.is_empty() {
            let have: Vec<String> = same_id
                .iter()
                .map(|e| {
                    format!(
                        "{} ({}, sha256 {})",
                        e.manifest.version,
                        e.manifest_path.display(),
                        e.manifest.sha256.as_deref().map_or("none", |h| &h[..h.len().min(16)])
                    )
                })
                .collect();
            return Err(format!(
                "plugin '{r}' is not installed; found: {}. Install that version, or change the pin",
                have.join("; ")
            ));
        }
        let compatible: Vec<&PluginEntry> =
            matching.iter().copied().filter(|e| e.compatibility.is_ok()).collect();
        // Nothing compatible: the first match, whose load will say why.
        let pool = if compatible.is_empty() { &matching[..1] } else { &compatible[..] };
        let newest = pool
            .iter()
            .max_by(|a, b| version_key(&a.manifest.version).cmp(&version_key(&b.manifest.version)))
            .map(|e| e.manifest.version.clone())
            .unwrap_or_default();
        let top: Vec<&PluginEntry> =
            pool.iter().copied().filter(|e| same_version(&e.manifest.version, &newest)).collect();
        let first = top[0];
        if let Some(other) = top.iter().find(|e| e.manifest.sha256 != first.manifest.sha256) {
            let pin = |e: &PluginEntry| {
                e.manifest.sha256.as_deref().map_or_else(
                    || "(no sha256: remove it or package it)".to_owned(),
                    |h| format!("{}@{}#sha256={}", r.id, newest, &h[..h.len().min(16)]),
                )
            };
            return Err(format!(
                "plugin '{}' {newest} is ambiguous: two different libraries have that id and version, {} and {}; remove the one you do not want (`ferry plugins remove`), or pin one: `{}` or `{}`",
                r.id,
                first.manifest_path.display(),
                other.manifest_path.display(),
                pin(first),
                pin(other)
            ));
        }
        let others =
            same_id.iter().copied().filter(|e| e.manifest_path != first.manifest_path).collect::<Vec<_>>();
        Ok(Resolved { entry: first, others })
    }

    /// Resolves `spec` (`id[@version][#sha256=HEX]`), warning about the other
    /// plugins of that id it does not use: which of several is loaded is
    /// never silent (a plugin planted earlier on the search path is how a
    /// malicious library would be loaded).
    pub fn select(&self, spec: &str) -> Result<&PluginEntry, String> {
        let r = PluginRef::parse(spec)?;
        let found = self.resolve(&r)?;
        for hidden in &found.others {
            let why = if same_version(&hidden.manifest.version, &found.entry.manifest.version) {
                "the same version".to_owned()
            } else if hidden.compatibility.is_err() {
                "not compatible".to_owned()
            } else if r.version.is_some() {
                "not the pinned version".to_owned()
            } else {
                "older".to_owned()
            };
            tracing::warn!(
                "plugin '{}': using {} {} at {}, which shadows {} {} at {} ({why}); pin a version (`{}@VERSION`) or remove the one you do not want (see `ferry plugins list`)",
                r.id,
                found.entry.manifest.id,
                found.entry.manifest.version,
                found.entry.manifest_path.display(),
                hidden.manifest.id,
                hidden.manifest.version,
                hidden.manifest_path.display(),
                r.id
            );
        }
        Ok(found.entry)
    }
}

/// Reads one manifest file.
pub fn read_manifest(path: &Path) -> Result<PluginEntry, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| format!("invalid manifest: {e}"))?;
    let Some(lib) = manifest.library.clone() else {
        return Err(
            "the manifest names no `library`; package the plugin with `ferry plugins package <library>`"
                .into(),
        );
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let library = dir.join(lib);
    let compatibility = manifest.check_compatible(ABI_VERSION, MODEL_VERSION).map_err(|e| e.0);
    Ok(PluginEntry { manifest, manifest_path: path.to_owned(), library, compatibility })
}

fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    // `dir/ferry-plugin.toml`, `dir/<id>/ferry-plugin.toml` (a plugin folder)
    // and `dir/<id>/<version>/ferry-plugin.toml` (as `ferry plugins install`
    // lays them out). Hidden folders (an install in progress) are skipped.
    use crate::fsutil::visible_subdirs as subdirs;
    let mut found = Vec::new();
    let direct = dir.join(MANIFEST_FILE);
    if direct.is_file() {
        found.push(direct);
    }
    for d in subdirs(dir) {
        let m = d.join(MANIFEST_FILE);
        if m.is_file() {
            found.push(m);
        }
        for v in subdirs(&d) {
            let m = v.join(MANIFEST_FILE);
            if m.is_file() {
                found.push(m);
            }
        }
    }
    found
}

/// Whether a manifest found two folders down, `<root>/<a>/<b>/`, is an
/// installed plugin (`a` its id, `b` its version) and not, say, a plugin
/// folder inside a folder of plugin folders beside the binary.
fn installed_layout(root: &Path, entry: &PluginEntry) -> bool {
    let Ok(rel) = entry.manifest_path.strip_prefix(root) else { return false };
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [_] | [_, _] => true,
        [id, version, _] => *id == entry.manifest.id && *version == entry.manifest.version,
        _ => false,
    }
}

/// Scans `dirs` (each holding plugin folders, or being one).
pub fn discover(dirs: &[SearchDir]) -> Discovery {
    let mut out = Discovery::default();
    for d in dirs {
        for m in manifests_in(&d.path) {
            match read_manifest(&m) {
                Ok(entry) if !installed_layout(&d.path, &entry) => {}
                Ok(entry) => {
                    if !out.all.iter().any(|p| p.manifest_path == entry.manifest_path) {
                        out.all.push(entry);
                    }
                }
                Err(reason) => {
                    if !out.bad.iter().any(|b| b.path == m) {
                        out.bad.push(BadManifest { path: m, reason });
                    }
                }
            }
        }
    }
    let mut ids: Vec<String> = Vec::new();
    for e in &out.all {
        if !ids.contains(&e.manifest.id) {
            ids.push(e.manifest.id.clone());
        }
    }
    for id in ids {
        let r = PluginRef { id: id.clone(), version: None, sha256: None };
        match out.resolve(&r).map(|f| f.entry.manifest_path.clone()) {
            Ok(active) => {
                for e in out.all.iter().filter(|e| e.manifest.id == id) {
                    if e.manifest_path == active {
                        out.plugins.push(e.clone());
                    } else {
                        out.shadowed.push(e.clone());
                    }
                }
            }
            Err(why) => {
                out.shadowed.extend(out.all.iter().filter(|e| e.manifest.id == id).cloned());
                out.ambiguous.push((id, why));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_refuse_what_they_cannot_mean() {
        assert_eq!(
            PluginRef::parse("csv").unwrap(),
            PluginRef { id: "csv".into(), version: None, sha256: None }
        );
        let r = PluginRef::parse("csv@1.2.0#sha256=ABCDEF012345").unwrap();
        assert_eq!(r.version.as_deref(), Some("1.2.0"));
        assert_eq!(r.sha256.as_deref(), Some("abcdef012345"));
        assert_eq!(r.to_string(), "csv@1.2.0#sha256=abcdef012345");
        assert!(PluginRef::parse("csv@").is_err());
        assert!(PluginRef::parse("@1.0").is_err());
        assert!(PluginRef::parse("csv@1.0#abc").is_err());
        assert!(PluginRef::parse("csv@1.0#sha256=abc").is_err());
        assert!(PluginRef::parse("csv#sha256=abcdef012345").is_err());
    }

    #[test]
    fn versions_order_as_numbers_with_prereleases_first() {
        assert!(version_key("1.10.0") > version_key("1.9.3"));
        assert!(version_key("1.0.0") > version_key("1.0.0-rc.1"));
        assert!(version_key("2.0") > version_key("1.99.99"));
    }

    fn entry(version: &str, sha: &str, path: &str, compatible: bool) -> PluginEntry {
        let text = format!(
            "id = \"p\"\nversion = \"{version}\"\nabi_version = \"{ABI_VERSION}\"\nmodel_version = \"2.0\"\ncapabilities = [\"source\"]\nentities = []\nsha256 = \"{sha}\"\n"
        );
        PluginEntry {
            manifest: toml::from_str(&text).unwrap(),
            manifest_path: PathBuf::from(path),
            library: PathBuf::from(path),
            compatibility: if compatible { Ok(()) } else { Err("no".into()) },
        }
    }

    fn discovery(all: Vec<PluginEntry>) -> Discovery {
        Discovery { all, ..Discovery::default() }
    }

    #[test]
    fn the_newest_compatible_version_is_used_unless_one_is_pinned() {
        let d = discovery(vec![
            entry("1.2.0", "aaaaaaaaaaaaaaaa", "/a/p/1.2.0", true),
            entry("1.10.0", "bbbbbbbbbbbbbbbb", "/a/p/1.10.0", true),
            entry("2.0.0", "cccccccccccccccc", "/a/p/2.0.0", false),
        ]);
        let newest = d.resolve(&PluginRef::parse("p").unwrap()).unwrap();
        assert_eq!(newest.entry.manifest.version, "1.10.0");
        assert_eq!(newest.others.len(), 2);
        let pinned = d.resolve(&PluginRef::parse("p@1.2.0").unwrap()).unwrap();
        assert_eq!(pinned.entry.manifest.version, "1.2.0");
        let by_hash = d.resolve(&PluginRef::parse("p@1.2.0#sha256=aaaaaaaaaaaa").unwrap()).unwrap();
        assert_eq!(by_hash.entry.manifest_path, PathBuf::from("/a/p/1.2.0"));
        let wrong_hash = d.resolve(&PluginRef::parse("p@1.2.0#sha256=bbbbbbbbbbbb").unwrap()).unwrap_err();
        assert!(wrong_hash.contains("not installed") && wrong_hash.contains("1.2.0"), "{wrong_hash}");
        let missing = d.resolve(&PluginRef::parse("p@3.0.0").unwrap()).unwrap_err();
        assert!(missing.contains("found: "), "{missing}");
        assert!(d.resolve(&PluginRef::parse("q").unwrap()).unwrap_err().contains("no plugin 'q'"));
    }

    #[test]
    fn the_same_version_twice_is_ambiguous_unless_it_is_the_same_library() {
        let same = discovery(vec![
            entry("1.0.0", "aaaaaaaaaaaaaaaa", "/first/p", true),
            entry("1.0.0", "aaaaaaaaaaaaaaaa", "/second/p", true),
        ]);
        let r = same.resolve(&PluginRef::parse("p").unwrap()).unwrap();
        assert_eq!(r.entry.manifest_path, PathBuf::from("/first/p"));
        assert_eq!(r.others.len(), 1);

        let two = discovery(vec![
            entry("1.0.0", "aaaaaaaaaaaaaaaa", "/first/p", true),
            entry("1.0.0", "bbbbbbbbbbbbbbbb", "/second/p", true),
        ]);
        let err = two.resolve(&PluginRef::parse("p").unwrap()).unwrap_err();
        assert!(err.contains("ambiguous") && err.contains("/first/p") && err.contains("/second/p"), "{err}");
        assert!(err.contains("p@1.0.0#sha256=bbbbbbbbbbbbbbbb"), "says how to pin: {err}");
        let pinned = two.resolve(&PluginRef::parse("p@1.0.0#sha256=bbbbbbbbbbbb").unwrap()).unwrap();
        assert_eq!(pinned.entry.manifest_path, PathBuf::from("/second/p"));
    }
}
