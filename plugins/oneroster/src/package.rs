//! Writing a placed package through `ferry_oneroster`'s writer.

use std::path::Path;

use ferry_sdk::Error;

use crate::map::Version;
use crate::sink::Placed;

/// Writes `placed` to `target` (a zip file or a folder), atomically.
pub(crate) fn write(
    placed: &Placed,
    version: Version,
    delta: bool,
    target: &Path,
    zip: bool,
    run_id: &str,
) -> Result<(), Error> {
    let _ = (placed, version, delta, target, zip, run_id);
    Err(Error::unsupported(
        "writing a OneRoster package is not built yet: the package writer of ferry-oneroster is not merged; run with --dry-run to place the records and see the rejects",
    ))
}
