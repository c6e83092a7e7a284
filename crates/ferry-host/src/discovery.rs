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

/// Everything found on the search path.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Usable plugins, first occurrence of each id.
    pub plugins: Vec<PluginEntry>,
    /// Plugins hidden by an earlier one with the same id.
    pub shadowed: Vec<PluginEntry>,
    /// Manifests that could not be read.
    pub bad: Vec<BadManifest>,
}

impl Discovery {
    /// The plugin with `id`.
    pub fn find(&self, id: &str) -> Option<&PluginEntry> {
        self.plugins.iter().find(|p| p.manifest.id == id)
    }

    /// The plugins with `id` hidden by the one [`Discovery::find`] returns
    /// (later on the search path).
    pub fn shadowed_by<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a PluginEntry> + 'a {
        self.shadowed.iter().filter(move |p| p.manifest.id == id)
    }

    /// The plugin with `id`, warning about every plugin of that id it hides:
    /// a plugin earlier on the search path silently replacing the one the
    /// user installed is how a planted library would be loaded.
    pub fn find_warning_shadowed(&self, id: &str) -> Option<&PluginEntry> {
        let found = self.find(id)?;
        for hidden in self.shadowed_by(id) {
            tracing::warn!(
                "plugin '{id}': using {} (earlier on the search path), which shadows {} {} at {}; remove the one you do not want (see `ferry plugins list`)",
                found.manifest_path.display(),
                hidden.manifest.id,
                hidden.manifest.version,
                hidden.manifest_path.display()
            );
        }
        Some(found)
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
    let mut found = Vec::new();
    let direct = dir.join(MANIFEST_FILE);
    if direct.is_file() {
        found.push(direct);
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subdirs: Vec<PathBuf> =
            rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subdirs.sort();
        for d in subdirs {
            let m = d.join(MANIFEST_FILE);
            if m.is_file() {
                found.push(m);
            }
        }
    }
    found
}

/// Scans `dirs` (each holding plugin folders, or being one).
pub fn discover(dirs: &[SearchDir]) -> Discovery {
    let mut out = Discovery::default();
    for d in dirs {
        for m in manifests_in(&d.path) {
            match read_manifest(&m) {
                Ok(entry) => {
                    if out.find(&entry.manifest.id).is_some() {
                        if !out
                            .shadowed
                            .iter()
                            .chain(&out.plugins)
                            .any(|p| p.manifest_path == entry.manifest_path)
                        {
                            out.shadowed.push(entry);
                        }
                    } else {
                        out.plugins.push(entry);
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
    out
}
