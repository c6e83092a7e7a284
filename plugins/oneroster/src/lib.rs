//! The OneRoster 1.1 / 1.2 CSV connector: reads a package (zip or folder)
//! into the canonical model and writes one from it. The package format
//! itself (files, columns, reading, validating, writing) is the
//! `ferry-oneroster` crate's; this crate is the mapping and the connector.

pub mod map;
