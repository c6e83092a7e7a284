//! Loading plugin libraries: integrity check, abi_stable's version and layout
//! checks, the log bridge, and the embedded manifest cross-check.
//!
//! Loading a library runs its code (its constructors run inside `dlopen`), so
//! the only check that protects anything happens before: the library is
//! copied once into a private image, hashed while copied, compared with the
//! manifest's SHA-256, and the image, not the file on disk, is what `dlopen`
//! maps ([`image`]). A manifest without a SHA-256 is refused unless the user
//! allows unverified plugins.
//!
//! Libraries are never unloaded (abi_stable leaks them on purpose: unloading
//! Rust code with thread-locals is unsound), and each file is loaded once per
//! process.

pub(crate) mod image;

use std::collections::HashMap;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use abi_stable::library::{LibraryError, lib_header_from_path};
use abi_stable::sabi_types::VersionNumber;
use abi_stable::std_types::{RResult, RStr};
use ferry_plugin_abi::{
    ABI_VERSION, CancelFlag, ErrorKind, HostLogger, LogLevel, Manifest, OpenOptions, OpenRequest,
    PluginModuleRef, SinkBox, SourceBox,
};
use sha2::{Digest, Sha256};

use crate::discovery::PluginEntry;

/// Why a plugin could not be loaded. Every message names the file and says
/// what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// A loaded plugin.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// Its manifest (as embedded in the library).
    pub manifest: Manifest,
    /// The library file.
    pub library: PathBuf,
    /// SHA-256 of the bytes loaded.
    pub sha256: String,
    /// The trusted key that signed the bundle it was installed from, if any.
    pub signed_by: Option<String>,
    backend: Backend,
}

/// Where a loaded plugin's code runs.
#[derive(Clone)]
enum Backend {
    /// In this process.
    InProcess(PluginModuleRef),
    /// In a runner process (`--isolate`), which serves one open.
    #[cfg(unix)]
    Isolated(Arc<Mutex<Option<crate::isolate::host::Runner>>>),
}

/// Whether a plugin whose manifest has no SHA-256 may be loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verification {
    /// Refuse it (the default): nothing says the library is the one packaged.
    #[default]
    Required,
    /// Load it with a warning (`--allow-unverified`).
    AllowUnverified,
}

/// An error from a plugin call, with the plugin named.
#[derive(Debug)]
pub struct PluginCallError {
    /// The plugin id.
    pub plugin: String,
    /// The plugin's error kind.
    pub kind: ErrorKind,
    /// Whether trying again may succeed.
    pub retryable: bool,
    /// The plugin's message.
    pub message: String,
}

impl std::fmt::Display for PluginCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SDK's panic messages already name the plugin.
        if self.message.starts_with(&format!("plugin '{}'", self.plugin)) {
            f.write_str(&self.message)
        } else {
            write!(f, "plugin '{}': {}", self.plugin, self.message)
        }
    }
}

impl std::error::Error for PluginCallError {}

/// What opening a source or sink needs besides the configuration.
#[derive(Clone, Debug)]
pub struct OpenArgs<'a> {
    /// The folder relative paths in the configuration are relative to.
    pub base_dir: &'a Path,
    /// The run's id.
    pub run_id: &'a str,
    /// Whether this is a dry run.
    pub dry_run: bool,
    /// For a source: send source tables (the destination keeps them).
    pub source_tables: bool,
    /// For a source: the entities the destination takes, when known.
    pub entities: Option<Vec<String>>,
    /// The run's cancel flag.
    pub cancel: CancelFlag,
}

impl LoadedPlugin {
    /// What the run's records keep of it.
    pub fn identity(&self, role: &str) -> ferry_plugin_abi::PluginIdentity {
        ferry_plugin_abi::PluginIdentity {
            role: role.to_owned(),
            id: self.manifest.id.clone(),
            version: self.manifest.version.clone(),
            sha256: self.sha256.clone(),
            signed_by: self.signed_by.clone().unwrap_or_default(),
        }
    }

    fn request(config_json: &str, args: OpenArgs<'_>) -> OpenRequest {
        let options =
            OpenOptions { dry_run: args.dry_run, source_tables: args.source_tables, entities: args.entities };
        OpenRequest {
            config_json: config_json.into(),
            base_dir: args.base_dir.to_string_lossy().into_owned().into(),
            run_id: args.run_id.into(),
            options_json: serde_json::to_string(&options).unwrap_or_default().into(),
            cancel: args.cancel,
        }
    }

    /// A plugin loaded in a runner process.
    #[cfg(unix)]
    pub(crate) fn isolated(
        manifest: Manifest,
        library: PathBuf,
        sha256: String,
        runner: crate::isolate::host::Runner,
    ) -> LoadedPlugin {
        let signed_by =
            library.parent().and_then(crate::install::InstallRecord::read).and_then(|r| r.signed_by);
        LoadedPlugin {
            manifest,
            library,
            signed_by,
            sha256,
            backend: Backend::Isolated(Arc::new(Mutex::new(Some(runner)))),
        }
    }

    /// Whether the plugin runs in a runner process.
    pub fn is_isolated(&self) -> bool {
        !matches!(self.backend, Backend::InProcess(_))
    }

    /// The runner of an isolated plugin, which serves one open.
    #[cfg(unix)]
    fn take_runner(
        &self,
        runner: &Mutex<Option<crate::isolate::host::Runner>>,
    ) -> Result<crate::isolate::host::Runner, PluginCallError> {
        runner.lock().ok().and_then(|mut r| r.take()).ok_or_else(|| {
            self.host_error(
                ErrorKind::Internal,
                "an isolated plugin's runner serves one source or sink; load it again",
            )
        })
    }

    /// Opens the plugin's source.
    pub fn open_source(&self, config_json: &str, args: OpenArgs<'_>) -> Result<SourceBox, PluginCallError> {
        match &self.backend {
            Backend::InProcess(module) => match (module.open_source())(Self::request(config_json, args)) {
                RResult::ROk(s) => Ok(s),
                RResult::RErr(e) => Err(self.call_error(e)),
            },
            #[cfg(unix)]
            Backend::Isolated(r) => {
                crate::isolate::host::open_source(self.take_runner(r)?, &self.manifest, config_json, args)
            }
        }
    }

    /// Opens the plugin's sink.
    pub fn open_sink(&self, config_json: &str, args: OpenArgs<'_>) -> Result<SinkBox, PluginCallError> {
        match &self.backend {
            Backend::InProcess(module) => match (module.open_sink())(Self::request(config_json, args)) {
                RResult::ROk(s) => Ok(s),
                RResult::RErr(e) => Err(self.call_error(e)),
            },
            #[cfg(unix)]
            Backend::Isolated(r) => {
                crate::isolate::host::open_sink(self.take_runner(r)?, &self.manifest, config_json, args)
            }
        }
    }

    /// Wraps an error the plugin returned.
    pub fn call_error(&self, e: ferry_plugin_abi::PluginError) -> PluginCallError {
        PluginCallError {
            plugin: self.manifest.id.clone(),
            kind: e.error_kind(),
            retryable: e.retryable,
            message: e.message.into_string(),
        }
    }

    /// An error of this plugin found by the host (a malformed batch, say).
    pub fn host_error(&self, kind: ErrorKind, message: impl Into<String>) -> PluginCallError {
        PluginCallError { plugin: self.manifest.id.clone(), kind, retryable: false, message: message.into() }
    }
}

/// Where plugin logs go instead of this process's tracing: a runner sends
/// them to its host.
type LogForward = fn(LogLevel, &str, &str);
static FORWARD: OnceLock<(LogForward, LogLevel)> = OnceLock::new();

/// Sends the logs of plugins loaded from now on to `forward`, up to `max`
/// (the runner's log frames).
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn forward_logs(forward: LogForward, max: LogLevel) {
    let _ = FORWARD.set((forward, max));
}

/// What shows a plugin's progress lines (the command line's progress bar).
type ProgressHook = Box<dyn Fn(&str) + Send + Sync>;
static PROGRESS: Mutex<Option<ProgressHook>> = Mutex::new(None);

/// Sends the progress lines of plugins (`ferry_sdk::progress`) to `hook`
/// from now on, in place of any earlier one; `None`: they are dropped.
pub fn set_progress_hook(hook: Option<ProgressHook>) {
    if let Ok(mut h) = PROGRESS.lock() {
        *h = hook;
    }
}

extern "C" fn host_log(level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
    // A panic must not unwind into the plugin.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let (target, message) = (target.as_str(), message.as_str());
        if target == ferry_plugin_abi::PROGRESS_LOG_TARGET {
            if let Ok(h) = PROGRESS.lock()
                && let Some(h) = h.as_ref()
            {
                h(message);
            }
            return;
        }
        if let Some((forward, _)) = FORWARD.get() {
            forward(level, target, message);
            return;
        }
        match level {
            LogLevel::Error => tracing::error!(target: "ferry::plugin", plugin = target, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "ferry::plugin", plugin = target, "{message}"),
            LogLevel::Info => tracing::info!(target: "ferry::plugin", plugin = target, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "ferry::plugin", plugin = target, "{message}"),
            LogLevel::Trace => tracing::trace!(target: "ferry::plugin", plugin = target, "{message}"),
        }
    }));
}

fn host_max_level() -> LogLevel {
    use tracing::level_filters::LevelFilter;
    if let Some((_, max)) = FORWARD.get() {
        return *max;
    }
    match LevelFilter::current() {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(image::hex(&h.finalize()))
}

fn describe(e: &LibraryError, path: &Path, id: &str, lib_abi: Option<&str>) -> String {
    let file = path.display();
    let sdk = ABI_VERSION.rsplit_once('.').map_or(ABI_VERSION, |(mm, _)| mm);
    match e {
        LibraryError::OpenError { err, .. } => format!(
            "cannot open plugin library {file}: {err}; check that the file exists and was built for this platform"
        ),
        LibraryError::GetSymbolError { .. } => format!(
            "{file} is a shared library but not a Ferry plugin: it exports no Ferry root module; build it with ferry_sdk::export_plugin!"
        ),
        LibraryError::IncompatibleVersionNumber { expected_version, actual_version, .. } => format!(
            "plugin '{id}' ({file}) was built against ferry plugin ABI {actual_version}, this host speaks {expected_version}: rebuild the plugin against ferry-sdk {sdk}, or use a ferry release that speaks ABI {actual_version}"
        ),
        LibraryError::ParseVersionError(v) => {
            format!(
                "plugin '{id}' ({file}) declares an unreadable ABI version ({v}); rebuild it against ferry-sdk {sdk}"
            )
        }
        LibraryError::AbiInstability(details) => {
            tracing::debug!(target: "ferry::loader", "layout mismatch for {file}: {details}");
            let declared = lib_abi.unwrap_or("unknown");
            format!(
                "plugin '{id}' ({file}) was built against ferry plugin ABI {declared} and its interface types do not match this host's (ABI {ABI_VERSION}): rebuild the plugin against ferry-sdk {sdk} (run with -vv for the layout difference)"
            )
        }
        LibraryError::InvalidAbiHeader(h) => format!(
            "plugin '{id}' ({file}) was built with an incompatible abi_stable (header {h:?}); rebuild it against ferry-sdk {sdk}"
        ),
        LibraryError::InvalidCAbi { .. } => {
            format!(
                "plugin '{id}' ({file}) was built by a compiler with a different C ABI; rebuild it with this toolchain"
            )
        }
        LibraryError::RootModule { err, .. } => {
            format!(
                "plugin '{id}' ({file}) failed while initializing ({err}); report this to the plugin's author"
            )
        }
        LibraryError::Many(list) => {
            list.iter().map(|e| describe(e, path, id, lib_abi)).collect::<Vec<_>>().join("; ")
        }
    }
}

/// A library loaded in this process.
#[derive(Clone)]
struct Module {
    module: PluginModuleRef,
    /// SHA-256 of the bytes mapped.
    sha256: String,
}

/// Every library loaded, by canonical path, with the images that must stay
/// open (see [`image`]).
#[derive(Default)]
struct Cache {
    modules: HashMap<PathBuf, Module>,
    images: Vec<image::Image>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Loads a library once per process and runs abi_stable's checks; the
/// library stays loaded for the life of the process. `check` is given the
/// SHA-256 of the bytes about to be loaded (or loaded before, for a library
/// already in this process) and decides, before any of its code runs,
/// whether they may be.
fn load_module(
    path: &Path,
    id: &str,
    check: impl FnOnce(&str) -> Result<(), LoadError>,
) -> Result<Module, LoadError> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut cache = cache().lock().map_err(|_| LoadError("plugin cache poisoned".into()))?;
    if let Some(m) = cache.modules.get(&key) {
        check(&m.sha256)?;
        return Ok(m.clone());
    }
    let image = image::Image::of(&key)
        .map_err(|e| LoadError(format!("cannot read plugin library {}: {e}", path.display())))?;
    check(&image.sha256)?;
    tracing::debug!(
        target: "ferry::loader",
        library = %path.display(),
        image = %image.path.display(),
        sha256 = %image.sha256,
        "loading the private copy of a plugin library"
    );
    let header = lib_header_from_path(&image.path).map_err(|e| LoadError(describe(&e, path, id, None)))?;
    let sha256 = image.sha256.clone();
    if let Some(keep) = image.loaded() {
        cache.images.push(keep);
    }
    let lib_abi = VersionNumber::new(header.version_strings()).ok().map(|v| v.to_string());
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|e| LoadError(describe(&e, path, id, lib_abi.as_deref())))?;
    (module.set_logger())(HostLogger { log: host_log, max_level: host_max_level() });
    let m = Module { module, sha256 };
    cache.modules.insert(key, m.clone());
    Ok(m)
}

fn embedded_manifest(module: PluginModuleRef, path: &Path) -> Result<Manifest, LoadError> {
    let text = (module.manifest())().into_string();
    if let Some(err) = text.strip_prefix("error: ") {
        return Err(LoadError(format!(
            "the plugin {} has an invalid embedded manifest: {err}",
            path.display()
        )));
    }
    toml::from_str(&text).map_err(|e| {
        LoadError(format!("the plugin {} has an unreadable embedded manifest: {e}", path.display()))
    })
}

/// That the library (its embedded manifest, as it reports it once loaded)
/// is the plugin its manifest on disk says, in process or in a runner.
pub(crate) fn check_same_plugin(entry: &PluginEntry, embedded: &Manifest) -> Result<(), LoadError> {
    if embedded.id == entry.manifest.id && embedded.version == entry.manifest.version {
        return Ok(());
    }
    Err(LoadError(format!(
        "{} says it is plugin '{}' {}, but its library is '{}' {}; re-package it with `ferry plugins package`",
        entry.manifest_path.display(),
        entry.manifest.id,
        entry.manifest.version,
        embedded.id,
        embedded.version
    )))
}

/// Loads the library of a plugin found on the search path: checks that the
/// manifest says it is compatible and that the bytes about to be loaded are
/// the ones packaged (SHA-256; a manifest without one is refused unless
/// `verification` allows it), runs abi_stable's checks, installs the log
/// bridge and checks that the library's embedded manifest matches the one
/// beside it.
pub fn load(entry: &PluginEntry, verification: Verification) -> Result<LoadedPlugin, LoadError> {
    let id = &entry.manifest.id;
    if let Err(why) = &entry.compatibility {
        return Err(LoadError(format!("{why} (manifest {})", entry.manifest_path.display())));
    }
    let expected = entry.manifest.sha256.as_deref();
    match (expected, verification) {
        (Some(_), _) => {}
        (None, Verification::Required) => {
            return Err(LoadError(format!(
                "plugin '{id}': its manifest {} has no `sha256`, so nothing says {} is the library that was packaged, and loading it would run its code; package it with `ferry plugins package <library>`, or pass --allow-unverified to load it anyway",
                entry.manifest_path.display(),
                entry.library.display()
            )));
        }
        (None, Verification::AllowUnverified) => tracing::warn!(
            "plugin '{id}': loading {} UNVERIFIED (its manifest {} has no `sha256`; --allow-unverified)",
            entry.library.display(),
            entry.manifest_path.display()
        ),
    }
    let loaded = load_module(&entry.library, id, |actual| match expected {
        Some(expected) if !actual.eq_ignore_ascii_case(expected) => Err(LoadError(format!(
            "plugin '{id}': {} is not the file that was packaged (SHA-256 differs from its manifest {}); re-package it with `ferry plugins package`",
            entry.library.display(),
            entry.manifest_path.display()
        ))),
        _ => Ok(()),
    })?;
    let manifest = embedded_manifest(loaded.module, &entry.library)?;
    check_same_plugin(entry, &manifest)?;
    tracing::info!(
        plugin = %id,
        version = %manifest.version,
        library = %entry.library.display(),
        sha256 = if expected.is_some() { "verified" } else { "UNVERIFIED" },
        "Plugin loaded from {}.",
        entry.library.display()
    );
    let signed_by =
        entry.manifest_path.parent().and_then(crate::install::InstallRecord::read).and_then(|r| r.signed_by);
    Ok(LoadedPlugin {
        manifest,
        library: entry.library.clone(),
        sha256: loaded.sha256,
        signed_by,
        backend: Backend::InProcess(loaded.module),
    })
}

/// The platform's file name for a library called `name` (`libname.so`).
pub fn library_file_name(name: &str) -> String {
    format!("{}{name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// Packages a library into a plugin folder for local use (a build of your
/// own, unsigned): writes `<out>/<id>/` with a copy of the library and its
/// manifest (the embedded manifest + library file name + SHA-256). The
/// manifest is read from the library file, never by loading it. Returns the
/// plugin folder. Plugins from others come as bundles (`crate::bundle`).
pub fn package(library: &Path, out: &Path) -> Result<PathBuf, LoadError> {
    let io = |e: std::io::Error, what: &Path| LoadError(format!("cannot write {}: {e}", what.display()));
    // One read: the bytes hashed, inspected and copied are the same.
    let bytes =
        std::fs::read(library).map_err(|e| LoadError(format!("cannot read {}: {e}", library.display())))?;
    let mut manifest =
        crate::library::manifest_of(&bytes).map_err(|e| LoadError(format!("{}: {e}", library.display())))?;
    manifest
        .check_compatible(ABI_VERSION, ferry_plugin_abi::MODEL_VERSION)
        .map_err(|e| LoadError(format!("{e} ({})", library.display())))?;
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let dir = out.join(&manifest.id);
    std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
    let file_name =
        library.file_name().ok_or_else(|| LoadError(format!("{} is not a file", library.display())))?;
    let target = dir.join(file_name);
    // Write to a temporary name and rename, so a loaded copy is never overwritten in place.
    let tmp = dir.join(format!(".{}.tmp", file_name.to_string_lossy()));
    std::fs::write(&tmp, &bytes).map_err(|e| io(e, &tmp))?;
    std::fs::rename(&tmp, &target).map_err(|e| io(e, &target))?;
    manifest.library = Some(file_name.to_string_lossy().into_owned());
    manifest.sha256 = Some(sha256);
    let text = toml::to_string(&manifest).map_err(|e| LoadError(format!("cannot write manifest: {e}")))?;
    let mpath = dir.join(ferry_plugin_abi::MANIFEST_FILE);
    std::fs::write(&mpath, text).map_err(|e| io(e, &mpath))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_of_plugins_go_to_the_hook_and_nowhere_else() {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let into = Arc::clone(&seen);
        set_progress_hook(Some(Box::new(move |t: &str| into.lock().unwrap().push(t.to_owned()))));
        host_log(
            LogLevel::Info,
            RStr::from_str(ferry_plugin_abi::PROGRESS_LOG_TARGET),
            RStr::from_str("CC page 3 of 9"),
        );
        host_log(
            LogLevel::Info,
            RStr::from_str("ferry_plugin_powerschool::api"),
            RStr::from_str("a log line"),
        );
        set_progress_hook(None);
        host_log(
            LogLevel::Info,
            RStr::from_str(ferry_plugin_abi::PROGRESS_LOG_TARGET),
            RStr::from_str("dropped"),
        );
        assert_eq!(*seen.lock().unwrap(), vec!["CC page 3 of 9".to_owned()]);
    }
}
