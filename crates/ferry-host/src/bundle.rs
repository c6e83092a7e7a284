//! Plugin bundles: one file a vendor ships and a district installs.
//!
//! A bundle is a zip archive holding:
//! - `ferry-bundle.toml`: the bundle's format, the plugin's manifest (as its
//!   libraries embed it), and one entry per library: target triple, file and
//!   SHA-256;
//! - the libraries, `lib/<target>/<file>`, one per target;
//! - `README.md`;
//! - `SHA256SUMS`: the SHA-256 of every file above;
//! - `SIGNATURE` (optional): an ed25519 signature of `SHA256SUMS`, with the
//!   signer's public key.
//!
//! Reading a bundle checks everything that can be checked without a trust
//! decision: no file is missing, extra or changed, names are plain, and
//! each library's embedded manifest (read from its bytes, never by loading
//! it) agrees with the bundle's. Installing (`crate::install`) then checks
//! the signature against the trust store, the target and compatibility.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use ferry_plugin_abi::Manifest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::loader::image::hex;
use crate::signing::{BundleSignature, PublicKey, SecretKey, TrustStore, TrustedKey};

/// The bundle layout this build writes and reads.
pub const FORMAT: u32 = 1;
/// The bundle's own manifest.
pub const BUNDLE_MANIFEST: &str = "ferry-bundle.toml";
/// The checksums file.
pub const CHECKSUMS: &str = "SHA256SUMS";
/// The signature file.
pub const SIGNATURE: &str = "SIGNATURE";
/// The README.
pub const README: &str = "README.md";
/// The file-name extension bundles are given.
pub const EXTENSION: &str = "ferry-plugin";

/// Largest bundle read into memory (libraries included).
const MAX_BUNDLE_BYTES: u64 = 1 << 30;

/// Why a bundle cannot be made, read or trusted. Messages name the bundle
/// and say what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BundleError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, BundleError> {
    Err(BundleError(m.into()))
}

/// One library of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleLibrary {
    /// Its target triple.
    pub target: String,
    /// Its path in the bundle (`lib/<target>/<file>`).
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
}

/// `ferry-bundle.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    /// The layout version ([`FORMAT`]).
    pub format: u32,
    /// The plugin's manifest, without the per-library keys (`target`,
    /// `library`, `sha256`).
    pub plugin: Manifest,
    /// One per target.
    #[serde(rename = "library")]
    pub libraries: Vec<BundleLibrary>,
}

/// A bundle read and checked (checksums, names, embedded manifests), with
/// its files in memory.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle file.
    pub path: PathBuf,
    /// SHA-256 of the bundle file.
    pub sha256: String,
    /// Its manifest.
    pub manifest: BundleManifest,
    /// The signature, if it is signed.
    pub signature: Option<BundleSignature>,
    checksums: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
}

/// Who vouches for a bundle.
#[derive(Clone, Debug)]
pub enum Trust {
    /// Signed by a key of the trust store.
    Trusted(TrustedKey),
    /// Signed, correctly, by a key the trust store does not hold.
    Untrusted {
        /// The key's id.
        key_id: String,
        /// The key.
        key: String,
    },
    /// Not signed.
    Unsigned,
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && name.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
}

fn checksums_text(files: &BTreeMap<String, Vec<u8>>) -> String {
    files.iter().map(|(name, bytes)| format!("{}  {name}\n", sha256(bytes))).collect()
}

/// The README written when the author gives none: what the manifest says.
fn default_readme(m: &Manifest) -> String {
    let mut s = format!("# {} {}\n\n{}\n\n", m.id, m.version, m.description);
    s.push_str(&format!(
        "Kind: {}. Entities: {}.\n",
        m.capabilities.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "),
        m.entities.join(", ")
    ));
    if !m.config.is_empty() {
        s.push_str("\n## Configuration\n\n");
        for (k, f) in &m.config {
            let mut flags = Vec::new();
            if f.required {
                flags.push("required");
            }
            if f.secret {
                flags.push("secret: give it as { env = \"VAR\" } or { file = \"path\" }");
            }
            let flags = if flags.is_empty() { String::new() } else { format!(" ({})", flags.join(", ")) };
            s.push_str(&format!("- `{k}` ({}){flags}: {}\n", f.ty, f.description));
        }
    }
    s
}

/// The manifest as the bundle keeps it: the per-library keys left out.
fn plugin_part(m: &Manifest) -> Manifest {
    let mut m = m.clone();
    m.target = None;
    m.library = None;
    m.sha256 = None;
    m
}

/// Makes a bundle of `libraries` (one per target, all of one plugin and
/// version) with `readme` (or one written from the manifest), signed with
/// `key` if given, at `out` (written to a temporary file and renamed, so a
/// failed run leaves no partial bundle). Returns the bundle as written.
pub fn create(
    libraries: &[PathBuf],
    readme: Option<&Path>,
    key: Option<&SecretKey>,
    out: &Path,
) -> Result<Bundle, BundleError> {
    if libraries.is_empty() {
        return err("give at least one plugin library");
    }
    let mut files = BTreeMap::new();
    let mut entries = Vec::new();
    let mut plugin: Option<Manifest> = None;
    for lib in libraries {
        let bytes =
            std::fs::read(lib).map_err(|e| BundleError(format!("cannot read {}: {e}", lib.display())))?;
        let m = crate::library::manifest_of(&bytes)
            .map_err(|e| BundleError(format!("{}: {e}", lib.display())))?;
        let Some(target) = m.target.clone() else {
            return err(format!(
                "{}: its embedded manifest names no target (built with an older ferry-sdk); rebuild it against the current ferry-sdk",
                lib.display()
            ));
        };
        let part = plugin_part(&m);
        match &plugin {
            None => plugin = Some(part),
            Some(first) if *first != part => {
                return err(format!(
                    "{} is not the same plugin as {} (id, version or manifest differ: {} {} and {} {}); a bundle holds one plugin version, built for several targets",
                    lib.display(),
                    libraries[0].display(),
                    first.id,
                    first.version,
                    part.id,
                    part.version
                ));
            }
            Some(_) => {}
        }
        if entries.iter().any(|e: &BundleLibrary| e.target == target) {
            return err(format!("two libraries for target {target}; give one per target"));
        }
        let name = lib.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let file = format!("lib/{target}/{name}");
        entries.push(BundleLibrary { target, file: file.clone(), sha256: sha256(&bytes) });
        files.insert(file, bytes);
    }
    let plugin = plugin.expect("one library at least");
    let readme = match readme {
        Some(p) => std::fs::read(p).map_err(|e| BundleError(format!("cannot read {}: {e}", p.display())))?,
        None => default_readme(&plugin).into_bytes(),
    };
    files.insert(README.to_owned(), readme);
    let manifest = BundleManifest { format: FORMAT, plugin, libraries: entries };
    let text = toml::to_string(&manifest)
        .map_err(|e| BundleError(format!("cannot write the bundle manifest: {e}")))?;
    files.insert(BUNDLE_MANIFEST.to_owned(), text.into_bytes());
    let checksums = checksums_text(&files).into_bytes();
    let signature = key.map(|k| {
        let public = k.public();
        BundleSignature {
            algorithm: "ed25519".into(),
            key: public.text(),
            key_id: public.id(),
            signed: CHECKSUMS.into(),
            signature: k.sign(&checksums),
        }
    });
    write_zip(out, &files, &checksums, signature.as_ref())?;
    open(out)
}

fn write_zip(
    out: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    checksums: &[u8],
    signature: Option<&BundleSignature>,
) -> Result<(), BundleError> {
    let io = |e: &dyn std::fmt::Display| BundleError(format!("cannot write {}: {e}", out.display()));
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(&e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".ferry-bundle-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io(&e))?;
    let mut zip = zip::ZipWriter::new(tmp.as_file());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut put = |name: &str, bytes: &[u8]| -> Result<(), BundleError> {
        zip.start_file(name, opts).map_err(|e| io(&e))?;
        zip.write_all(bytes).map_err(|e| io(&e))
    };
    // The bundle manifest first, so that a reader sees it before the libraries.
    put(BUNDLE_MANIFEST, &files[BUNDLE_MANIFEST])?;
    for (name, bytes) in files.iter().filter(|(n, _)| n.as_str() != BUNDLE_MANIFEST) {
        put(name, bytes)?;
    }
    put(CHECKSUMS, checksums)?;
    if let Some(sig) = signature {
        let text = toml::to_string(sig).map_err(|e| io(&e))?;
        put(SIGNATURE, text.as_bytes())?;
    }
    zip.finish().map_err(|e| io(&e))?;
    tmp.as_file().sync_all().map_err(|e| io(&e))?;
    // A bundle is for sharing: readable by others, like any download.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).map_err(|e| io(&e))?;
    }
    tmp.persist(out).map_err(|e| io(&e.error))?;
    Ok(())
}

/// Reads a bundle and checks its integrity (not its signer: see
/// [`Bundle::trust`]).
pub fn open(path: &Path) -> Result<Bundle, BundleError> {
    let name = path.display();
    let bad = |what: String| BundleError(format!("bundle {name}: {what}"));
    let meta = std::fs::metadata(path).map_err(|e| BundleError(format!("cannot read bundle {name}: {e}")))?;
    if meta.len() > MAX_BUNDLE_BYTES {
        return Err(bad(format!("{} bytes is more than a plugin bundle may hold (1 GiB)", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| BundleError(format!("cannot read bundle {name}: {e}")))?;
    let bundle_sha = sha256(&bytes);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
        .map_err(|e| bad(format!("not a plugin bundle (not a readable zip archive: {e}); bundles are made with `ferry plugins bundle`")))?;
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| bad(format!("entry {i} is unreadable: {e}")))?;
        let entry = f
            .name()
            .map_err(|e| bad(format!("entry {i} has an unreadable name ({e}); refusing it")))?
            .into_owned();
        if f.is_dir() {
            continue;
        }
        if !plain_name(&entry) {
            return Err(bad(format!(
                "it holds a file named {entry:?}, which is not a plain relative name; refusing it"
            )));
        }
        total += f.size();
        if total > MAX_BUNDLE_BYTES {
            return Err(bad("its files unpack to more than 1 GiB; refusing it".into()));
        }
        let mut data = Vec::with_capacity(usize::try_from(f.size()).unwrap_or(0));
        f.read_to_end(&mut data).map_err(|e| {
            bad(format!(
                "{entry} cannot be read ({e}): the bundle is damaged; get it again from its publisher"
            ))
        })?;
        if files.insert(entry.clone(), data).is_some() {
            return Err(bad(format!("it holds {entry} twice; refusing it")));
        }
    }
    let checksums = files
        .remove(CHECKSUMS)
        .ok_or_else(|| bad(format!("it has no {CHECKSUMS}: not a plugin bundle, or damaged")))?;
    let signature = match files.remove(SIGNATURE) {
        Some(b) => {
            let text = String::from_utf8(b).map_err(|_| bad(format!("its {SIGNATURE} is not text")))?;
            Some(
                toml::from_str::<BundleSignature>(&text)
                    .map_err(|e| bad(format!("its {SIGNATURE} is unreadable: {e}")))?,
            )
        }
        None => None,
    };
    // Every file listed, with its hash; no file unlisted.
    let listed = std::str::from_utf8(&checksums).map_err(|_| bad(format!("its {CHECKSUMS} is not text")))?;
    let mut expected = BTreeMap::new();
    for (n, line) in listed.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (h, file) = line
            .split_once("  ")
            .ok_or_else(|| bad(format!("{CHECKSUMS} line {} is not `SHA256  FILE`", n + 1)))?;
        expected.insert(file.to_owned(), h.to_owned());
    }
    for (file, data) in &files {
        match expected.get(file) {
            None => {
                return Err(bad(format!(
                    "{file} is not listed in {CHECKSUMS}: something was added to the bundle after it was made; refusing it"
                )));
            }
            Some(h) if *h != sha256(data) => {
                return Err(bad(format!(
                    "{file} does not match its checksum in {CHECKSUMS}: the bundle was changed or damaged after it was made; refusing it (get it again from its publisher)"
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(file) = expected.keys().find(|f| !files.contains_key(*f)) {
        return Err(bad(format!("{file} is listed in {CHECKSUMS} but missing from the bundle; refusing it")));
    }
    let text = files
        .get(BUNDLE_MANIFEST)
        .ok_or_else(|| bad(format!("it has no {BUNDLE_MANIFEST}: not a plugin bundle")))?;
    let text = std::str::from_utf8(text).map_err(|_| bad(format!("its {BUNDLE_MANIFEST} is not text")))?;
    let format: u32 = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("format").and_then(toml::Value::as_integer))
        .and_then(|f| u32::try_from(f).ok())
        .ok_or_else(|| bad(format!("its {BUNDLE_MANIFEST} has no `format`")))?;
    if format != FORMAT {
        return Err(bad(format!(
            "it is bundle format {format}; this ferry reads format {FORMAT}: use a ferry release that reads it"
        )));
    }
    let manifest: BundleManifest =
        toml::from_str(text).map_err(|e| bad(format!("its {BUNDLE_MANIFEST} is invalid: {e}")))?;
    if manifest.libraries.is_empty() {
        return Err(bad("it holds no library".into()));
    }
    for lib in &manifest.libraries {
        let data = files
            .get(&lib.file)
            .ok_or_else(|| bad(format!("its manifest names {}, which it does not hold", lib.file)))?;
        if sha256(data) != lib.sha256 {
            return Err(bad(format!(
                "{} does not match the SHA-256 its manifest gives; refusing it",
                lib.file
            )));
        }
        // What the library itself says, read from its bytes.
        let embedded = crate::library::manifest_of(data).map_err(|e| bad(format!("{}: {e}", lib.file)))?;
        if plugin_part(&embedded) != manifest.plugin
            || embedded.target.as_deref() != Some(lib.target.as_str())
        {
            return Err(bad(format!(
                "{} says it is {} {} for {}, which is not what the bundle's manifest says ({} {} for {}); refusing it",
                lib.file,
                embedded.id,
                embedded.version,
                embedded.target.as_deref().unwrap_or("no target"),
                manifest.plugin.id,
                manifest.plugin.version,
                lib.target
            )));
        }
    }
    Ok(Bundle { path: path.to_owned(), sha256: bundle_sha, manifest, signature, checksums, files })
}

impl Bundle {
    /// Who signed it. A signature that does not verify is an error (the
    /// bundle was changed after it was signed), whoever the signer is.
    pub fn trust(&self, store: &TrustStore) -> Result<Trust, BundleError> {
        let Some(sig) = &self.signature else { return Ok(Trust::Unsigned) };
        let bad = |what: String| BundleError(format!("bundle {}: {what}", self.path.display()));
        if sig.algorithm != "ed25519" || sig.signed != CHECKSUMS {
            return Err(bad(format!(
                "its signature is {} over {}, which this ferry does not check (ed25519 over {CHECKSUMS})",
                sig.algorithm, sig.signed
            )));
        }
        let key =
            PublicKey::parse(&sig.key).map_err(|e| bad(format!("its signing key is unreadable: {e}")))?;
        if key.id() != sig.key_id {
            return Err(bad("its signature names a key id that is not its key's; refusing it".into()));
        }
        if !key.verify(&self.checksums, &sig.signature) {
            return Err(bad(format!(
                "its signature does not match its contents: the bundle was changed after key {} signed it; refusing it (get it again from its publisher)",
                sig.key_id
            )));
        }
        Ok(match store.find(&key) {
            Some(k) => Trust::Trusted(k.clone()),
            None => Trust::Untrusted { key_id: key.id(), key: key.text() },
        })
    }

    /// The library built for `target`.
    pub fn library_for(&self, target: &str) -> Option<(&BundleLibrary, &[u8])> {
        let lib = self.manifest.libraries.iter().find(|l| l.target == target)?;
        Some((lib, self.files.get(&lib.file)?.as_slice()))
    }

    /// The README.
    pub fn readme(&self) -> Option<&[u8]> {
        self.files.get(README).map(Vec::as_slice)
    }

    /// The targets it holds libraries for.
    pub fn targets(&self) -> Vec<&str> {
        self.manifest.libraries.iter().map(|l| l.target.as_str()).collect()
    }

    /// The file name a bundle of this plugin is given:
    /// `<id>-<version>.ferry-plugin`.
    pub fn file_name(m: &Manifest) -> String {
        format!("{}-{}.{EXTENSION}", m.id, m.version)
    }
}
