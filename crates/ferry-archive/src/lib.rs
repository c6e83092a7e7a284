//! The Ferry archive format: the one definition of the SQLite file the
//! `sqlite` connector writes and reads back, and that `ferry archive info |
//! query | extract` inspects.
//!
//! - [`schema`]: the schema version, table and column naming, generated from
//!   the canonical model's field tables; [`sql`] the DDL and statements;
//!   [`describe_markdown`] the table reference of `docs/archive.md`;
//! - [`encode`] and [`decode`]: how a record becomes a row (read in place from
//!   an Arrow batch) and back; [`json`] the JSON columns;
//! - [`format`]: recognising an archive and its schema version, with the
//!   messages every reader and writer gives; [`create_or_upgrade`] the
//!   schema of a new or existing archive;
//! - [`checksum`] and [`verify`]: the order-independent table checksums kept
//!   in `ferry_runs`, and their verification;
//! - [`Archive`]: the read-only opening for the command line.
//!
//! The crate depends on the model and SQLite only (never on the host or the
//! plugin ABI), so plugins and host tools can share it. Writing a run
//! (locking, the temporary copy, the transaction) is the connector's.
#![warn(missing_docs)]

pub mod checksum;
pub mod decode;
mod doc;
pub mod encode;
mod error;
pub mod format;
pub mod json;
mod layout;
mod reader;
pub mod schema;
pub mod source_tables;
pub mod sql;
mod verify;

// Layers, lowest first (a module uses only those before it): error, schema,
// sql, json, checksum, encode, source_tables, decode, format, layout, verify, doc, reader.

pub use doc::describe_markdown;
pub use error::{ArchiveError, ErrorKind, db_error};
pub use format::{ArchiveInfo, Probe, Purpose, open_archive, probe};
pub use layout::{TableState, create_or_upgrade};
pub use reader::{Archive, Info, QueryResult, text};
pub use schema::SCHEMA_VERSION;
pub use verify::{
    RecordHash, TableVerification, integrity_check, record_hashes, record_hashes_over, table_checksum, verify,
};
