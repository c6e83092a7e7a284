//! The state of an API read, for resuming it: per table the pages already
//! written to its staged file, that file's length after them, its columns,
//! and the pages in flight when the state was saved. Kept as `state.json`
//! in the state folder, owner-only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ferry_sdk::serde::{Deserialize, Serialize};
use ferry_sdk::{Error, serde_json};

/// The state file's name in the state folder.
pub const STATE_FILE: &str = "state.json";

/// One table's (or PowerQuery's) progress.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(crate = "ferry_sdk::serde")]
pub struct TableState {
    /// Pages written to the staged file (1..=pages).
    pub pages: u64,
    /// Rows written.
    pub rows: u64,
    /// The staged file's length after those pages.
    pub bytes: u64,
    /// The staged file's columns, once its first record is seen.
    pub columns: Vec<String>,
    /// Every page is read.
    pub done: bool,
    /// Pages being read when the state was saved.
    pub inflight: Vec<u64>,
}

/// The whole read's progress.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(crate = "ferry_sdk::serde")]
pub struct State {
    /// The API read (a state is only resumed against the same server).
    pub base_url: String,
    /// The page size the pages were read with.
    pub page_size: u64,
    /// Per staged file stem.
    pub tables: BTreeMap<String, TableState>,
}

/// Creates `dir` (and its parents) owner-only.
pub fn private_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("state_dir {}: cannot create it: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("state_dir {}: cannot make it owner-only: {e}", dir.display())))?;
    }
    Ok(())
}

/// Opens `path` for writing, created owner-only.
pub fn private_file(path: &Path, append: bool) -> Result<std::fs::File, Error> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).write(true);
    if append {
        o.append(true);
    } else {
        o.truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| Error::io(format!("{}: cannot write: {e}", path.display())))
}

impl State {
    /// The state saved in `dir`, if any.
    pub fn load(dir: &Path) -> Result<Option<State>, Error> {
        let path = dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::data(format!(
                    "{}: not a state Ferry wrote ({e}); delete the state folder to start the read over",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("{}: cannot read: {e}", path.display()))),
        }
    }

    /// Saves the state in `dir` (written beside and renamed over, so a
    /// crash never leaves half a state).
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let tmp: PathBuf = dir.join(format!("{STATE_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::internal(e.to_string()))?;
        let mut f = private_file(&tmp, false)?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_data())
            .map_err(|e| Error::io(format!("{}: cannot write: {e}", tmp.display())))?;
        std::fs::rename(&tmp, dir.join(STATE_FILE))
            .map_err(|e| Error::io(format!("{}: cannot save: {e}", dir.join(STATE_FILE).display())))
    }
}
