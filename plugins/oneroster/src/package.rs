//! Writing a placed package through `ferry_oneroster`'s writer: into a
//! private temporary beside the target at prepare, put in place at commit.

use std::path::Path;

use ferry_oneroster::FileMode;
use ferry_oneroster::write::{Layout, PackageWriter, WriteOptions};
use ferry_sdk::Error;

use ferry_oneroster::spec::DataType;

use crate::map::{Version, encode_id};
use crate::sink::Placed;

/// The standard cells of `row` as the writer writes them (ids encoded),
/// leaving out the columns `skip`.
pub(crate) fn encoded_cells(
    spec: &ferry_oneroster::spec::FileSpec,
    row: &crate::map::OutRow,
    skip: &[&str],
) -> Vec<(&'static str, String)> {
    let kind = |col: &str| spec.column(col).map(|c| c.data_type);
    row.cells
        .iter()
        .filter(|(c, v)| !skip.contains(c) && !v.is_empty())
        .map(|(c, v)| (*c, encode_cell(kind(c), v)))
        .collect()
}

fn encode_cell(kind: Option<DataType>, v: &str) -> String {
    match kind {
        Some(DataType::Guid | DataType::GuidRef(_)) => encode_id(v).into_owned(),
        Some(DataType::GuidRefList(_)) => {
            crate::map::list(v).iter().map(|x| encode_id(x).into_owned()).collect::<Vec<_>>().join(",")
        }
        _ => v.to_owned(),
    }
}

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
        version,
        layout: if zip { Layout::Zip } else { Layout::Folder },
        mode: if delta { FileMode::Delta } else { FileMode::Bulk },
        source_system_name: Some("Ferry".to_owned()),
        source_system_code: None,
    };
    let e = |err: ferry_oneroster::write::WriteError| Error::io(format!("{}: {err}", target.display()));
    let mut w = PackageWriter::create(target, options).map_err(e)?;
    let v = version;
    for (stem, rows) in &placed.files {
        let spec = ferry_oneroster::spec::file(v, stem);
        let kind = |col: &str| spec.and_then(|s| s.column(col)).map(|c| c.data_type);
        let mut ext: Vec<&str> =
            rows.iter().flat_map(|r| r.metadata.iter().map(|(c, _)| c.as_str())).collect();
        ext.sort_unstable();
        ext.dedup();
        // Readers match headers ignoring case: columns that differ only in
        // case (a student's LastFirst, a teacher's LASTFIRST) get a number.
        let mut names: Vec<String> = Vec::with_capacity(ext.len());
        for c in &ext {
            let mut name = (*c).to_owned();
            let mut n = 1;
            while names.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
                n += 1;
                name = format!("{c}#{n}");
            }
            names.push(name);
        }
        let column = |c: &str| ext.binary_search(&c).map_or_else(|_| c.to_owned(), |i| names[i].clone());
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        w.begin_file(stem, &names_ref).map_err(e)?;
        for r in rows {
            let cells = r.cells.iter().map(|(c, v)| ((*c).to_owned(), encode_cell(kind(c), v)));
            let meta = r.metadata.iter().map(|(c, v)| (column(c), v.clone()));
            w.write_row(cells.chain(meta)).map_err(e)?;
        }
    }
    Ok(w)
}
