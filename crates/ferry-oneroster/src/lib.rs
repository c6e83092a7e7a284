//! The OneRoster CSV binding (1.1 and 1.2), with no knowledge of Ferry's
//! canonical model or plugins, so that both the OneRoster connector and the
//! `ferry` binary can use it:
//!
//! - [`spec`]: the specification as data (files, columns in order, data
//!   types, required-ness, enumerations with their lenient aliases, the file
//!   dependencies of a bulk package);
//! - [`read`]: a streaming reader of a package, zipped or as a folder;
//! - [`validate`]: every check of a package against the specification;
//! - [`write`]: an atomic, owner-only writer of valid packages.
//!
//! Every deviation is a [`Problem`] naming its file, line and column.

pub mod problem;
pub mod read;
pub mod spec;
pub mod validate;
pub mod write;

pub use problem::{ColumnRef, Problem, Severity};
pub use read::{FileMode, FileReader, Header, Manifest, OpenError, OwnedRow, Package, ReadError, Row};
pub use spec::Version;
pub use validate::{Report, validate, validate_path};
pub use write::{FileRows, Layout, PackageWriter, WriteError, WriteOptions, write_package};
