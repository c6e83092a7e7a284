//! Ed25519 signing keys, signatures over plugin bundles, and the trust store
//! (`ferry plugins trust`).
//!
//! Keys are text, one line each:
//! - a public key: `ferry-ed25519:<64 hex digits>`;
//! - a secret key: `ferry-ed25519-secret:<64 hex digits>` (the 32-byte seed),
//!   in a file only its owner can read.
//!
//! A key's id is the first 16 hex digits of the SHA-256 of its public bytes.
//! The trust store is `$FERRY_HOME/trusted-keys.toml`, written atomically and
//! owner-only.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::loader::image::hex;

const PUBLIC_PREFIX: &str = "ferry-ed25519:";
const SECRET_PREFIX: &str = "ferry-ed25519-secret:";

/// Why a key, a signature or the trust store cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SigningError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, SigningError> {
    Err(SigningError(m.into()))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// A public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads `ferry-ed25519:<hex>` (surrounding space and `#` comment lines
    /// ignored, so a `.pub` file's whole text can be given).
    pub fn parse(text: &str) -> Result<PublicKey, SigningError> {
        let line =
            text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
        if line.starts_with(SECRET_PREFIX) {
            return err(
                "this is a SECRET key: give the public key (the `.pub` file), and keep the secret one private",
            );
        }
        let Some(h) = line.strip_prefix(PUBLIC_PREFIX) else {
            return err(format!(
                "not a Ferry public key: expected `{PUBLIC_PREFIX}` followed by 64 hex digits"
            ));
        };
        let bytes: [u8; 32] = unhex(h).and_then(|b| b.try_into().ok()).ok_or_else(|| {
            SigningError(format!("not a Ferry public key: expected 64 hex digits after `{PUBLIC_PREFIX}`"))
        })?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| SigningError("not a valid ed25519 public key".into()))
    }

    /// The key as text.
    pub fn text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", hex(self.0.as_bytes()))
    }

    /// Its id: 16 hex digits.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// Whether `signature` (hex) is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Some(bytes) = unhex(signature_hex).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
            return false;
        };
        self.0.verify(message, &Signature::from_bytes(&bytes)).is_ok()
    }
}

/// A secret signing key.
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        write!(f, "SecretKey(public id {})", self.public().id())
    }
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SecretKey, SigningError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SigningError(format!("no random source: {e}")))?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads a secret key file.
    pub fn read(path: &Path) -> Result<SecretKey, SigningError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SigningError(format!("cannot read the signing key {}: {e}", path.display())))?;
        let line =
            text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
        if line.starts_with(PUBLIC_PREFIX) {
            return err(format!(
                "{} is a public key; signing needs the secret key (`ferry plugins keygen` writes both)",
                path.display()
            ));
        }
        let seed: [u8; 32] =
            line.strip_prefix(SECRET_PREFIX).and_then(unhex).and_then(|b| b.try_into().ok()).ok_or_else(
                || {
                    SigningError(format!(
                        "{} is not a Ferry secret key (`{SECRET_PREFIX}` and 64 hex digits)",
                        path.display()
                    ))
                },
            )?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The signature of `message`, in hex.
    pub fn sign(&self, message: &[u8]) -> String {
        hex(&self.0.sign(message).to_bytes())
    }

    /// Writes the key pair: `path` (secret, owner-only, refused if it
    /// exists) and `path.pub`. Returns the public key's path.
    pub fn write(&self, path: &Path, name: &str) -> Result<PathBuf, SigningError> {
        let public = path.with_file_name(format!(
            "{}.pub",
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        for p in [path, public.as_path()] {
            if p.exists() {
                return err(format!(
                    "{} exists; choose another name (a key is never overwritten)",
                    p.display()
                ));
            }
        }
        let secret = format!(
            "# Ferry plugin signing key '{name}' (SECRET: sign bundles with it, never share it)\n{SECRET_PREFIX}{}\n",
            hex(self.0.as_bytes())
        );
        crate::fsutil::write_new_private(path, secret.as_bytes())
            .map_err(|e| SigningError(format!("cannot write {}: {e}", path.display())))?;
        let text = format!(
            "# Ferry plugin signing key '{name}', id {} (public: give it to those who install your bundles)\n{}\n",
            self.public().id(),
            self.public().text()
        );
        std::fs::write(&public, text)
            .map_err(|e| SigningError(format!("cannot write {}: {e}", public.display())))?;
        Ok(public)
    }
}

/// A signature as a bundle carries it (`SIGNATURE`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The signer's public key.
    pub key: String,
    /// Its id.
    pub key_id: String,
    /// The file signed (`SHA256SUMS`, which lists every other file's hash).
    pub signed: String,
    /// The signature, hex.
    pub signature: String,
}

/// One trusted key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustedKey {
    /// The key's id.
    pub id: String,
    /// A name for people (`acme`).
    pub name: String,
    /// The public key.
    pub key: String,
    /// When it was trusted.
    pub added_at: String,
}

/// The keys whose bundles may be installed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrustStore {
    /// The keys.
    #[serde(default, rename = "key")]
    pub keys: Vec<TrustedKey>,
}

impl TrustStore {
    /// Where the store is: `$FERRY_HOME/trusted-keys.toml`.
    pub fn path() -> Result<PathBuf, SigningError> {
        crate::discovery::ferry_home()
            .map(|h| h.join("trusted-keys.toml"))
            .ok_or_else(|| SigningError("no $FERRY_HOME and no home directory: set FERRY_HOME".into()))
    }

    /// Reads the store (empty when there is none).
    pub fn load() -> Result<TrustStore, SigningError> {
        let path = Self::path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                SigningError(format!("the trust store {} is damaged: {e}; fix or remove it", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TrustStore::default()),
            Err(e) => err(format!("cannot read the trust store {}: {e}", path.display())),
        }
    }

    /// Writes the store atomically, owner-only.
    pub fn save(&self) -> Result<(), SigningError> {
        let path = Self::path()?;
        let text =
            toml::to_string(self).map_err(|e| SigningError(format!("cannot write the trust store: {e}")))?;
        crate::fsutil::replace_private(&path, text.as_bytes())
            .map_err(|e| SigningError(format!("cannot write the trust store {}: {e}", path.display())))
    }

    /// The trusted key with this public key.
    pub fn find(&self, key: &PublicKey) -> Option<&TrustedKey> {
        let text = key.text();
        self.keys.iter().find(|k| k.key == text)
    }

    /// Adds a key (an error if it is there already, under any name).
    pub fn add(&mut self, key: &PublicKey, name: &str) -> Result<&TrustedKey, SigningError> {
        if let Some(k) = self.find(key) {
            return err(format!("key {} is trusted already, as '{}'", k.id, k.name));
        }
        if self.keys.iter().any(|k| k.name == name) {
            return err(format!("a trusted key is named '{name}' already; choose another --name"));
        }
        self.keys.push(TrustedKey {
            id: key.id(),
            name: name.to_owned(),
            key: key.text(),
            added_at: crate::time::now(),
        });
        Ok(self.keys.last().expect("just pushed"))
    }

    /// Removes the key with this id, name or public key text.
    pub fn remove(&mut self, which: &str) -> Result<TrustedKey, SigningError> {
        let which = which.trim();
        match self.keys.iter().position(|k| k.id == which || k.name == which || k.key == which) {
            Some(i) => Ok(self.keys.remove(i)),
            None => err(format!("no trusted key '{which}'; see `ferry plugins trust list`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_a_change() {
        let k = SecretKey::generate().unwrap();
        let sig = k.sign(b"checksums");
        let public = PublicKey::parse(&k.public().text()).unwrap();
        assert!(public.verify(b"checksums", &sig));
        assert!(!public.verify(b"checksumz", &sig));
        assert!(!public.verify(b"checksums", "00"));
        let other = SecretKey::generate().unwrap().public();
        assert!(!other.verify(b"checksums", &sig));
        assert_eq!(public.id().len(), 16);
    }

    #[test]
    fn key_files_round_trip_and_secret_is_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let k = SecretKey::generate().unwrap();
        let public = k.write(&tmp.path().join("acme"), "acme").unwrap();
        let read = SecretKey::read(&tmp.path().join("acme")).unwrap();
        assert_eq!(read.public(), k.public());
        let text = std::fs::read_to_string(&public).unwrap();
        assert_eq!(PublicKey::parse(&text).unwrap(), k.public());
        assert!(k.write(&tmp.path().join("acme"), "acme").unwrap_err().0.contains("never overwritten"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(tmp.path().join("acme")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A secret key is not accepted where a public one is meant, and vice versa.
        let secret_text = std::fs::read_to_string(tmp.path().join("acme")).unwrap();
        assert!(PublicKey::parse(&secret_text).unwrap_err().0.contains("SECRET"));
        assert!(SecretKey::read(&public).unwrap_err().0.contains("public key"));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(PublicKey::parse("ssh-ed25519 AAAA").is_err());
        assert!(PublicKey::parse("ferry-ed25519:abcd").is_err());
        assert!(PublicKey::parse(&format!("ferry-ed25519:{}", "zz".repeat(32))).is_err());
    }

    #[test]
    fn the_store_adds_finds_and_removes() {
        let mut s = TrustStore::default();
        let a = SecretKey::generate().unwrap().public();
        s.add(&a, "acme").unwrap();
        assert!(s.add(&a, "again").is_err());
        let b = SecretKey::generate().unwrap().public();
        assert!(s.add(&b, "acme").is_err());
        assert!(s.find(&a).is_some() && s.find(&b).is_none());
        let text = toml::to_string(&s).unwrap();
        let back: TrustStore = toml::from_str(&text).unwrap();
        assert_eq!(back.keys.len(), 1);
        assert_eq!(s.remove("acme").unwrap().id, a.id());
        assert!(s.remove(&a.id()).is_err());
    }
}
