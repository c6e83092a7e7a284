//! Writing a placed package through `ferry_oneroster`'s writer: into a
//! private temporary beside the target at prepare, put in place at commit.

use std::path::Path;

use ferry_oneroster::write::{Layout, PackageWriter, WriteOptions};
use ferry_oneroster::{FileMode, Version as OrVersion};
use ferry_sdk::Error;

use crate::map::Version;
use crate::sink::Placed;

/// Writes `placed` into a writer for `target` (a zip file or a folder);
/// nothing is visible until [`PackageWriter::finish`].
pub(crate) fn write(
    placed: &Placed,
    version: Version,
    delta: bool,
    target: &Path,
    zip: bool,
) -> Result<PackageWriter, Error> {
    let options = WriteOptions {
        version: match version {
            Version::V1_1 => OrVersion::V1_1,
            Version::V1_2 => OrVersion::V1_2,
        },
        layout: if zip { Layout::Zip } else { Layout::Folder },
        mode: if delta { FileMode::Delta } else { FileMode::Bulk },
        source_system_name: Some("Ferry".to_owned()),
        source_system_code: None,
    };
    let e = |err: ferry_oneroster::write::WriteError| Error::io(format!("{}: {err}", target.display()));
    let mut w = PackageWriter::create(target, options).map_err(e)?;
    for (stem, rows) in &placed.files {
        let mut ext: Vec<&str> =
            rows.iter().flat_map(|r| r.metadata.iter().map(|(c, _)| c.as_str())).collect();
        ext.sort_unstable();
        ext.dedup();
        w.begin_file(stem, &ext).map_err(e)?;
        for r in rows {
            let cells = r.cells.iter().map(|(c, v)| (*c, v.as_str()));
            let meta = r.metadata.iter().map(|(c, v)| (c.as_str(), v.as_str()));
            w.write_row(cells.chain(meta)).map_err(e)?;
        }
    }
    Ok(w)
}
