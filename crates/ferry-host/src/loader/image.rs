//! A private, unchangeable copy of a plugin library: the bytes hashed are the
//! bytes loaded.
//!
//! Hashing a file by its path and then handing the same path to `dlopen`
//! leaves a window in which the file can be replaced. Instead the library is
//! read once, hashed while it is copied into a file only this process can
//! reach, and that copy is what `dlopen` maps:
//! - on Linux, an anonymous memory file (`memfd_create`), sealed against any
//!   further write, grow or shrink once the copy is complete, and opened as
//!   `/proc/self/fd/N`;
//! - elsewhere (or when memory files or `/proc` are unavailable), a file
//!   created exclusively (0600) in a private (0700) temporary folder, removed
//!   with the folder once the library is mapped.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A private copy of a library, and the SHA-256 of exactly its bytes.
pub(crate) struct Image {
    /// The path to give `dlopen`.
    pub path: PathBuf,
    /// SHA-256 of the copy, lower-case hex.
    pub sha256: String,
    /// What keeps the copy alive.
    holder: Holder,
}

enum Holder {
    /// The sealed memory file. It must stay open for the life of the process:
    /// the dynamic loader remembers a library by the name it was opened with,
    /// and a closed descriptor's number (so its `/proc/self/fd/N` name) would
    /// be reused for the next plugin, which the loader would then take for
    /// the one already loaded.
    #[cfg(target_os = "linux")]
    Memory(#[allow(dead_code, reason = "held open, never read")] File),
    /// The private folder; dropping it removes the copy.
    Folder(tempfile::TempDir),
}

impl Image {
    /// Copies `library` into a private image, hashing the bytes copied.
    pub(crate) fn of(library: &Path) -> std::io::Result<Image> {
        let mut source = File::open(library)?;
        #[cfg(target_os = "linux")]
        {
            match memory_image(&mut source, library) {
                Ok(image) => return Ok(image),
                Err(e) => {
                    tracing::debug!(target: "ferry::loader", error = %e, "no sealed memory file; using a private temporary copy");
                    use std::io::Seek as _;
                    source.rewind()?;
                }
            }
        }
        folder_image(&mut source, library)
    }

    /// Whether the copy is sealed in memory (Linux) rather than a private file.
    #[cfg(test)]
    fn in_memory(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            matches!(self.holder, Holder::Memory(_))
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// Called once the library is mapped: removes a private file copy (the
    /// mapping stays valid); a memory file is kept open, see [`Holder`].
    pub(crate) fn loaded(self) -> Option<Image> {
        match self.holder {
            #[cfg(target_os = "linux")]
            Holder::Memory(_) => Some(self),
            Holder::Folder(dir) => {
                if let Err(e) = dir.close() {
                    tracing::debug!(target: "ferry::loader", error = %e, "cannot remove the private copy of a plugin library");
                }
                None
            }
        }
    }
}

/// Copies `from` into `to` and returns the SHA-256 of the bytes copied.
fn copy_hashing(from: &mut File, to: &mut File) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    to.flush()?;
    Ok(hex(&h.finalize()))
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(target_os = "linux")]
fn memory_image(source: &mut File, library: &Path) -> std::io::Result<Image> {
    use std::os::fd::AsRawFd as _;

    use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, memfd_create};

    if !Path::new("/proc/self/fd").is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "/proc is not mounted"));
    }
    let name = library.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let fd = memfd_create(format!("ferry-plugin:{name}"), MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = File::from(fd);
    let sha256 = copy_hashing(source, &mut file)?;
    // From here on nobody, this process included, can change these bytes.
    fcntl_add_seals(&file, SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL)?;
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    Ok(Image { path, sha256, holder: Holder::Memory(file) })
}

fn folder_image(source: &mut File, library: &Path) -> std::io::Result<Image> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("ferry-plugin-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let dir = builder.tempdir()?;
    let name = library.file_name().map_or_else(|| "plugin".into(), |n| n.to_os_string());
    let path = dir.path().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    let sha256 = copy_hashing(source, &mut file)?;
    file.sync_all()?;
    Ok(Image { path, sha256, holder: Holder::Folder(dir) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn sha256_of(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[test]
    fn the_image_keeps_the_bytes_hashed_whatever_happens_to_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("libx.so");
        let original = b"the packaged library".repeat(10_000);
        std::fs::write(&lib, &original).unwrap();
        let image = Image::of(&lib).unwrap();
        assert_eq!(image.sha256, sha256_of(&original));
        assert_ne!(image.path, lib, "the image is a copy, not the library's path");

        // The library is swapped (in place, then by rename) after hashing.
        std::fs::write(&lib, b"evil").unwrap();
        std::fs::write(tmp.path().join("evil.so"), b"more evil").unwrap();
        std::fs::rename(tmp.path().join("evil.so"), &lib).unwrap();
        assert_eq!(std::fs::read(&image.path).unwrap(), original, "the image still holds what was hashed");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_memory_image_is_sealed_against_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("liby.so");
        std::fs::write(&lib, b"bytes").unwrap();
        let image = Image::of(&lib).unwrap();
        assert!(image.in_memory());
        // Reopening it for writing is refused, or the write and the truncation are.
        if let Ok(mut reopened) = std::fs::OpenOptions::new().write(true).open(&image.path) {
            assert!(reopened.write_all(b"changed").is_err(), "a sealed image refuses writes");
            assert!(reopened.set_len(1).is_err(), "and shrinking");
        }
        assert_eq!(std::fs::read(&image.path).unwrap(), b"bytes");
    }

    #[test]
    fn a_private_file_image_is_owner_only_and_removed_once_loaded() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("libz.so");
        std::fs::write(&lib, b"zzz").unwrap();
        let mut source = File::open(&lib).unwrap();
        let image = folder_image(&mut source, &lib).unwrap();
        assert_eq!(image.sha256, sha256_of(b"zzz"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&image.path), 0o600);
            assert_eq!(mode(image.path.parent().unwrap()), 0o700);
        }
        let path = image.path.clone();
        assert!(image.loaded().is_none());
        assert!(!path.exists() && !path.parent().unwrap().exists());
    }
}
