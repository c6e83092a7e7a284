//! Installing, removing and verifying plugins from bundles.
//!
//! Installed plugins live in the install folder (`$FERRY_HOME/plugins`), one
//! folder per version: `<root>/<id>/<version>/` with the library, its
//! manifest (with the library's SHA-256, checked before every load),
//! the README and `ferry-install.toml` (where it came from, who signed it,
//! the SHA-256 of every file, for `ferry plugins verify`).
//!
//! An install is atomic: the files are written and synced in a hidden
//! staging folder beside the version folders, then renamed into place. An
//! interrupted install leaves only the staging folder, which discovery
//! ignores and the next install of that plugin removes; the versions
//! installed before keep working.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferry_plugin_abi::{ABI_VERSION, MANIFEST_FILE, MODEL_VERSION};
use serde::{Deserialize, Serialize};

use crate::bundle::{self, BundleError, Trust};
use crate::library::HOST_TARGET;
use crate::loader::image::hex;
use crate::signing::TrustStore;

/// The record beside an installed plugin.
pub const INSTALL_RECORD: &str = "ferry-install.toml";

/// Where an installed plugin came from (`ferry-install.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    /// SHA-256 of the bundle file installed.
    pub bundle_sha256: String,
    /// When it was installed.
    pub installed_at: String,
    /// The id of the trusted key that signed it (none: installed with
    /// `--allow-unsigned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// The trust store's name for that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_name: Option<String>,
    /// Why it was installed without a trusted signature, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_unsigned: Option<String>,
    /// SHA-256 of every file installed.
    pub files: BTreeMap<String, String>,
}

impl InstallRecord {
    /// Reads the record in an installed plugin's folder, if there is one.
    pub fn read(dir: &Path) -> Option<InstallRecord> {
        toml::from_str(&std::fs::read_to_string(dir.join(INSTALL_RECORD)).ok()?).ok()
    }
}

/// What [`install`] did.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The plugin id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// The folder it is installed in.
    pub dir: PathBuf,
    /// Who signed it.
    pub trust: Trust,
    /// It was installed already, identical: nothing was written.
    pub unchanged: bool,
}

/// The default install folder: `$FERRY_HOME/plugins`.
pub fn default_root() -> Result<PathBuf, BundleError> {
    crate::discovery::ferry_home().map(|h| h.join("plugins")).ok_or_else(|| {
        BundleError("no $FERRY_HOME and no home directory: set FERRY_HOME, or pass --dir".into())
    })
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |e| BundleError(format!("cannot write {}: {e}", what.display()))
}

fn plain(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// Installs a bundle into `root`: checks its files (checksums), its signer
/// (the trust store, unless `allow_unsigned`), its target and its ABI and
/// model versions, then puts it into place atomically.
pub fn install(bundle_path: &Path, root: &Path, allow_unsigned: bool) -> Result<Installed, BundleError> {
    let b = bundle::open(bundle_path)?;
    let name = bundle_path.display();
    let m = &b.manifest.plugin;
    let trust = b.trust(&TrustStore::load().map_err(|e| BundleError(e.0))?)?;
    let allowed_unsigned = match (&trust, allow_unsigned) {
        (Trust::Trusted(_), _) => None,
        (Trust::Unsigned, false) => {
            return Err(BundleError(format!(
                "bundle {name} is not signed, so nothing says who built {} {}; ask its publisher for a signed bundle, or pass --allow-unsigned if you built it yourself",
                m.id, m.version
            )));
        }
        (Trust::Untrusted { key_id, .. }, false) => {
            return Err(BundleError(format!(
                "bundle {name} is signed by key {key_id}, which you do not trust; check that key with its publisher, then `ferry plugins trust add KEY.pub --name NAME`, or pass --allow-unsigned"
            )));
        }
        (Trust::Unsigned, true) => Some("not signed; installed with --allow-unsigned".to_owned()),
        (Trust::Untrusted { key_id, .. }, true) => {
            Some(format!("signed by untrusted key {key_id}; installed with --allow-unsigned"))
        }
    };
    let Some((lib, bytes)) = b.library_for(HOST_TARGET) else {
        return Err(BundleError(format!(
            "bundle {name} holds {} {} for {}, and this ferry runs on {HOST_TARGET}; get a bundle built for {HOST_TARGET}",
            m.id,
            m.version,
            b.targets().join(", ")
        )));
    };
    m.check_compatible(ABI_VERSION, MODEL_VERSION).map_err(|e| BundleError(format!("bundle {name}: {e}")))?;
    if !plain(&m.id) || !plain(&m.version) {
        return Err(BundleError(format!(
            "bundle {name}: plugin id {:?} or version {:?} cannot name a folder",
            m.id, m.version
        )));
    }

    let plugin_dir = root.join(&m.id);
    let dir = plugin_dir.join(&m.version);
    std::fs::create_dir_all(&plugin_dir).map_err(io(&plugin_dir))?;
    remove_stale_staging(&plugin_dir);
    let file_name = Path::new(&lib.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| BundleError(format!("bundle {name}: library {} has no file name", lib.file)))?;
    if dir.exists() {
        // The same build: the library installed under this name has this hash.
        let same = InstallRecord::read(&dir).is_some_and(|r| r.files.get(&file_name) == Some(&lib.sha256));
        if same {
            return Ok(Installed {
                id: m.id.clone(),
                version: m.version.clone(),
                dir,
                trust,
                unchanged: true,
            });
        }
        return Err(BundleError(format!(
            "{} {} is installed already at {}, from another build; remove it first (`ferry plugins remove {}@{}`), or install another version",
            m.id,
            m.version,
            dir.display(),
            m.id,
            m.version
        )));
    }

    let mut manifest = m.clone();
    manifest.target = Some(lib.target.clone());
    manifest.library = Some(file_name.clone());
    manifest.sha256 = Some(lib.sha256.clone());
    let manifest_text =
        toml::to_string(&manifest).map_err(|e| BundleError(format!("cannot write the manifest: {e}")))?;
    let readme = b.readme().unwrap_or_default();
    let mut files = BTreeMap::new();
    let sha = |bytes: &[u8]| hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes));
    files.insert(file_name.clone(), sha(bytes));
    files.insert(MANIFEST_FILE.to_owned(), sha(manifest_text.as_bytes()));
    files.insert(bundle::README.to_owned(), sha(readme));
    let (signed_by, signer_name) = match &trust {
        Trust::Trusted(k) => (Some(k.id.clone()), Some(k.name.clone())),
        _ => (None, None),
    };
    let record = InstallRecord {
        bundle_sha256: b.sha256.clone(),
        installed_at: crate::time::now(),
        signed_by,
        signer_name,
        allowed_unsigned,
        files,
    };
    let record_text =
        toml::to_string(&record).map_err(|e| BundleError(format!("cannot write the record: {e}")))?;

    let staging = plugin_dir.join(format!(".installing-{}-{}", m.version, std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        for (f, data) in [
            (file_name.as_str(), bytes),
            (MANIFEST_FILE, manifest_text.as_bytes()),
            (bundle::README, readme),
            (INSTALL_RECORD, record_text.as_bytes()),
        ] {
            let p = staging.join(f);
            write_synced(&p, data).map_err(io(&p))?;
        }
        crate::fsutil::sync_dir(&staging).map_err(io(&staging))?;
        failpoint("install-before-rename");
        std::fs::rename(&staging, &dir).map_err(io(&dir))?;
        crate::fsutil::sync_dir(&plugin_dir).map_err(io(&plugin_dir))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    Ok(Installed { id: m.id.clone(), version: m.version.clone(), dir, trust, unchanged: false })
}

fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// For the end-to-end tests of interrupted installs: `FERRY_FAILPOINT=NAME`
/// aborts the process at that point, as a crash or a power cut would.
#[allow(clippy::print_stderr, reason = "the process aborts next: the last word is for the test's log")]
fn failpoint(name: &str) {
    if std::env::var("FERRY_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("FERRY_FAILPOINT={name}: aborting here");
        std::process::abort();
    }
}

/// Removes staging folders left by installs that did not finish: those of
/// processes no longer running (or, where that cannot be told, over an hour
/// old).
fn remove_stale_staging(plugin_dir: &Path) {
    let Ok(rd) = std::fs::read_dir(plugin_dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let n = e.file_name().to_string_lossy().into_owned();
        if !n.starts_with(".installing-") && !n.starts_with(".removing-") {
            continue;
        }
        let pid = n.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = match pid {
            Some(p) if p == std::process::id() => false,
            Some(p) if Path::new("/proc/self").exists() => Path::new(&format!("/proc/{p}")).exists(),
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() < 3600),
        };
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// An installed plugin version.
#[derive(Clone, Debug)]
pub struct InstalledVersion {
    /// The plugin id.
    pub id: String,
    /// The version.
    pub version: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Its install record (none: put there by hand or by `ferry plugins package`).
    pub record: Option<InstallRecord>,
}

/// The plugins installed in `root`, by id then version folder.
pub fn installed(root: &Path) -> Vec<InstalledVersion> {
    let mut out = Vec::new();
    let sorted = crate::fsutil::visible_subdirs;
    for id_dir in sorted(root) {
        for v in sorted(&id_dir) {
            if v.join(MANIFEST_FILE).is_file() {
                out.push(InstalledVersion {
                    id: id_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    version: v.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    record: InstallRecord::read(&v),
                    dir: v,
                });
            }
        }
    }
    out
}

/// Removes the installed versions of `id` (all of them, or `version`).
/// Returns what was removed.
pub fn remove(root: &Path, id: &str, version: Option<&str>) -> Result<Vec<InstalledVersion>, BundleError> {
    let all: Vec<InstalledVersion> = installed(root).into_iter().filter(|i| i.id == id).collect();
    if all.is_empty() {
        return Err(BundleError(format!(
            "no plugin '{id}' is installed in {}; `ferry plugins list` shows where each plugin is (plugins outside the install folder are not removed by ferry)",
            root.display()
        )));
    }
    let chosen: Vec<InstalledVersion> =
        all.iter().filter(|i| version.is_none_or(|v| i.version == v)).cloned().collect();
    if chosen.is_empty() {
        let have: Vec<&str> = all.iter().map(|i| i.version.as_str()).collect();
        return Err(BundleError(format!(
            "plugin '{id}' {} is not installed (installed: {})",
            version.unwrap_or_default(),
            have.join(", ")
        )));
    }
    for i in &chosen {
        // Renamed away first, so that no half-removed folder is ever found.
        let parent = i.dir.parent().unwrap_or(root);
        let gone = parent.join(format!(".removing-{}-{}", i.version, std::process::id()));
        std::fs::rename(&i.dir, &gone)
            .map_err(|e| BundleError(format!("cannot remove {}: {e}", i.dir.display())))?;
        let _ = crate::fsutil::sync_dir(parent);
        std::fs::remove_dir_all(&gone)
            .map_err(|e| BundleError(format!("cannot remove {}: {e}", gone.display())))?;
    }
    let id_dir = root.join(id);
    if std::fs::read_dir(&id_dir).is_ok_and(|mut rd| rd.next().is_none()) {
        let _ = std::fs::remove_dir(&id_dir);
    }
    Ok(chosen)
}

/// What `ferry plugins verify` found for one installed version.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// The plugin id.
    pub id: String,
    /// The version.
    pub version: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Files whose contents changed since the install.
    pub changed: Vec<String>,
    /// Files missing.
    pub missing: Vec<String>,
    /// Files added since.
    pub added: Vec<String>,
    /// Whether it has an install record (no: nothing to compare but the
    /// library against its manifest).
    pub recorded: bool,
}

impl Verified {
    /// Whether nothing changed.
    pub fn ok(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.added.is_empty()
    }
}

/// Re-hashes every installed file and compares it with its install record
/// (and every library with its manifest's SHA-256).
pub fn verify(root: &Path) -> Vec<Verified> {
    installed(root)
        .into_iter()
        .map(|i| {
            let mut v = Verified {
                id: i.id.clone(),
                version: i.version.clone(),
                dir: i.dir.clone(),
                changed: Vec::new(),
                missing: Vec::new(),
                added: Vec::new(),
                recorded: i.record.is_some(),
            };
            let mut expected: BTreeMap<String, String> = i.record.map(|r| r.files).unwrap_or_default();
            if let Ok(entry) = crate::discovery::read_manifest(&i.dir.join(MANIFEST_FILE))
                && let (Some(lib), Some(h)) = (&entry.manifest.library, &entry.manifest.sha256)
            {
                expected.entry(lib.clone()).or_insert_with(|| h.clone());
            }
            for (file, hash) in &expected {
                match crate::loader::sha256_file(&i.dir.join(file)) {
                    Ok(actual) if actual.eq_ignore_ascii_case(hash) => {}
                    Ok(_) => v.changed.push(file.clone()),
                    Err(_) => v.missing.push(file.clone()),
                }
            }
            if v.recorded
                && let Ok(rd) = std::fs::read_dir(&i.dir)
            {
                for e in rd.filter_map(Result::ok) {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if n != INSTALL_RECORD && !expected.contains_key(&n) {
                        v.added.push(n);
                    }
                }
                v.added.sort();
            }
            v
        })
        .collect()
}
