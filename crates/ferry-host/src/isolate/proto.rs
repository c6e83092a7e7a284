//! The runner protocol's control messages (JSON in control frames).
//!
//! A conversation: the host sends `hello` with its protocol version; the
//! runner, having verified and loaded the plugin, answers `ready` (or
//! `refused`). Then one `open_source` or `open_sink`, the calls of that
//! source or sink, each answered by one reply, and `close`, after which the
//! runner exits. A reply announcing records, diagnostics or receipts is
//! followed by those frames, in that order. The host may send a cancel frame
//! at any time; a closed pipe from the host is an abort.

use serde::{Deserialize, Serialize};

/// The version of this protocol. The host and the runner are the same
/// binary, but a binary replaced during a run must not be spoken to in
/// another dialect: a hello with another version is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// What opening a source or sink needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenMsg {
    /// The configuration as JSON (secrets filled in).
    pub config_json: String,
    /// The folder relative paths are relative to.
    pub base_dir: String,
    /// The run's id.
    pub run_id: String,
    /// A dry run.
    pub dry_run: bool,
    /// For a source: send source tables.
    pub source_tables: bool,
    /// For a source: the entities the destination takes.
    pub entities: Option<Vec<String>>,
}

/// A control message, either way.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Msg {
    // Host → runner.
    /// The first frame: the host's protocol version and log level.
    Hello {
        /// [`PROTOCOL_VERSION`] of the host.
        protocol: u32,
        /// The most verbose level the host shows (`error` … `trace`).
        max_log_level: String,
    },
    /// Open the plugin's source.
    OpenSource(OpenMsg),
    /// Open the plugin's sink.
    OpenSink(OpenMsg),
    /// `entities()`.
    Entities,
    /// `next_batch(max_records)`.
    NextBatch {
        /// At most this many records.
        max_records: u32,
    },
    /// `write_batch`; a records frame follows when `records`.
    WriteBatch {
        /// The entity.
        entity: String,
        /// Model version of the batch.
        model_major: u16,
        /// See `model_major`.
        model_minor: u16,
        /// A records frame follows.
        records: bool,
    },
    /// `prepare(summary_json)`.
    Prepare {
        /// The run summary as JSON.
        summary_json: String,
    },
    /// `commit()`.
    Commit,
    /// `abort()`.
    Abort,
    /// `close()`, then exit.
    Close,

    // Runner → host.
    /// The plugin is verified and loaded.
    Ready {
        /// [`PROTOCOL_VERSION`] of the runner.
        protocol: u32,
        /// The runner's process id.
        pid: u32,
        /// The manifest embedded in the library (TOML).
        manifest: String,
        /// SHA-256 of the bytes loaded.
        sha256: String,
    },
    /// The runner will not serve: another protocol, or the plugin failed to load.
    Refused {
        /// Why, naming the file and what to do.
        message: String,
    },
    /// A call returned nothing (open, abort, close).
    Done,
    /// A call failed.
    Error {
        /// The plugin's error kind (a number, as in the ABI).
        kind: u32,
        /// Whether trying again may succeed.
        retryable: bool,
        /// The message.
        message: String,
    },
    /// The reply to `entities`.
    EntityList {
        /// The names.
        entities: Vec<String>,
    },
    /// The reply to `next_batch` with a batch; records and diagnostics
    /// frames follow as announced.
    Batch {
        /// The entity.
        entity: String,
        /// Model version of the batch.
        model_major: u16,
        /// See `model_major`.
        model_minor: u16,
        /// A records frame follows.
        records: bool,
        /// A diagnostics frame follows.
        diagnostics: bool,
    },
    /// The reply to `next_batch` at the end.
    End,
    /// The reply to `write_batch`; a diagnostics frame follows when `diagnostics`.
    Written {
        /// Records accepted.
        written: u64,
        /// A diagnostics frame follows (the refused records).
        diagnostics: bool,
    },
    /// The reply to `prepare`; diagnostics then receipts frames follow as announced.
    Prepared {
        /// [`ferry_plugin_abi::PrepareInfo`] as JSON.
        info_json: String,
        /// A diagnostics frame follows (late rejects).
        diagnostics: bool,
        /// A receipts frame follows.
        receipts: bool,
    },
    /// The reply to `commit`.
    Committed {
        /// [`ferry_plugin_abi::CommitInfo`] as JSON.
        info_json: String,
    },
}

impl Msg {
    /// The message's name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "hello",
            Msg::OpenSource(_) => "open_source",
            Msg::OpenSink(_) => "open_sink",
            Msg::Entities => "entities",
            Msg::NextBatch { .. } => "next_batch",
            Msg::WriteBatch { .. } => "write_batch",
            Msg::Prepare { .. } => "prepare",
            Msg::Commit => "commit",
            Msg::Abort => "abort",
            Msg::Close => "close",
            Msg::Ready { .. } => "ready",
            Msg::Refused { .. } => "refused",
            Msg::Done => "done",
            Msg::Error { .. } => "error",
            Msg::EntityList { .. } => "entity_list",
            Msg::Batch { .. } => "batch",
            Msg::End => "end",
            Msg::Written { .. } => "written",
            Msg::Prepared { .. } => "prepared",
            Msg::Committed { .. } => "committed",
        }
    }
}

/// A plugin's log event, in a log frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogMsg {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
    /// The plugin's log target.
    pub target: String,
    /// The message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let m = Msg::NextBatch { max_records: 10 };
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"op":"next_batch","max_records":10}"#);
        let back: Msg =
            serde_json::from_str(r#"{"op":"hello","protocol":1,"max_log_level":"warn"}"#).unwrap();
        assert!(matches!(back, Msg::Hello { protocol: 1, .. }));
        assert!(serde_json::from_str::<Msg>(r#"{"op":"format_disk"}"#).is_err());
    }
}
