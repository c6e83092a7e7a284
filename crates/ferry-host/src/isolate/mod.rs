//! Crash isolation: a plugin run in a child process, `ferry plugin-runner`,
//! spoken to over pipes ([`frame`], [`proto`]), so that a plugin that aborts,
//! segfaults, runs out of memory or time fails the run cleanly instead of
//! taking the host down.
//!
//! The host side ([`load`]) spawns the runner with the plugin's manifest,
//! and wraps the conversation in the same `SourceBox` and `SinkBox` trait
//! objects an in-process plugin gives, so the pipeline and the connectors do
//! not change. Batches cross as Arrow IPC streams ([`ipc`]), decoded and
//! validated in full by the host like any batch from a plugin. The runner
//! ([`runner`]) verifies and loads the plugin exactly as the host would
//! (SHA-256 of a sealed copy before `dlopen`), trusting its parent for
//! nothing but its pipes.

pub mod frame;
pub(crate) mod host;
pub mod ipc;
pub mod proto;
pub mod runner;

pub use host::load;

use serde::Deserialize;

/// Which plugins of a run run in a runner process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolate {
    /// Both in the host's process (the default).
    #[default]
    None,
    /// The source only.
    Source,
    /// The sink only.
    Sink,
    /// Both.
    All,
}

impl Isolate {
    /// Whether the source is isolated.
    pub fn source(self) -> bool {
        matches!(self, Isolate::Source | Isolate::All)
    }
    /// Whether the sink is isolated.
    pub fn sink(self) -> bool {
        matches!(self, Isolate::Sink | Isolate::All)
    }
    /// Reads `none`, `source`, `sink` or `all`.
    pub fn parse(s: &str) -> Result<Isolate, String> {
        match s {
            "none" => Ok(Isolate::None),
            "source" => Ok(Isolate::Source),
            "sink" => Ok(Isolate::Sink),
            "all" => Ok(Isolate::All),
            other => Err(format!("isolate = \"{other}\": give \"source\", \"sink\", \"all\" or \"none\"")),
        }
    }
}

impl<'de> Deserialize<'de> for Isolate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Isolate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            Flag(bool),
            Which(String),
        }
        match Given::deserialize(d)? {
            Given::Flag(true) => Ok(Isolate::All),
            Given::Flag(false) => Ok(Isolate::None),
            Given::Which(s) => Isolate::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// The limits of an isolated plugin's runner (`[run.isolation]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The runner's address space, in MiB (`RLIMIT_AS`, set before the
    /// plugin is loaded): an allocation past it fails and the runner aborts.
    pub memory_mb: Option<u64>,
    /// Wall time from the runner's start, in seconds: past it the host kills
    /// the runner.
    pub timeout_s: Option<u64>,
}

impl Limits {
    /// Whether any limit is set.
    pub fn any(&self) -> bool {
        self.memory_mb.is_some() || self.timeout_s.is_some()
    }
}

/// The name of a signal that ends processes (`SIGSEGV`), or `signal N`.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn isolate_reads_names_and_booleans() {
        #[derive(Deserialize)]
        struct T {
            isolate: Isolate,
        }
        let read = |s: &str| toml::from_str::<T>(s).map(|t| t.isolate);
        assert_eq!(read("isolate = \"sink\"").unwrap(), Isolate::Sink);
        assert_eq!(read("isolate = true").unwrap(), Isolate::All);
        assert_eq!(read("isolate = false").unwrap(), Isolate::None);
        assert!(read("isolate = \"both\"").is_err());
        assert!(Isolate::All.source() && Isolate::All.sink() && !Isolate::Sink.source());
    }

    #[test]
    fn signals_have_their_names() {
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
        assert_eq!(signal_name(250), "signal 250");
    }
}
