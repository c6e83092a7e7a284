//! The log bridge: a plugin's `tracing` events go to the host's output.
//!
//! A cdylib links its own copy of `tracing`, with its own global dispatcher,
//! so events would vanish. The host hands over a [`HostLogger`]; this module
//! installs a small subscriber that formats each event and calls it.

use std::fmt::Write as _;

use abi_stable::std_types::RStr;
use ferry_plugin_abi::{HostLogger, LogLevel};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

struct Bridge {
    logger: HostLogger,
}

fn level_of(l: &Level) -> LogLevel {
    match *l {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Bridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_of(metadata.level()) <= self.logger.max_level
            || metadata.target() == ferry_plugin_abi::PROGRESS_LOG_TARGET
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let meta = event.metadata();
        (self.logger.log)(level_of(meta.level()), RStr::from_str(meta.target()), RStr::from_str(&fields.0));
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

/// Installs the bridge and a panic hook that reports panics through it.
/// Later calls are ignored.
pub(crate) fn install(logger: HostLogger, plugin: &str) {
    if tracing::dispatcher::set_global_default(tracing::Dispatch::new(Bridge { logger })).is_err() {
        return;
    }
    let plugin = plugin.to_owned();
    std::panic::set_hook(Box::new(move |info| {
        let msg = crate::guard::panic_message(info.payload());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let text = format!("plugin '{plugin}' panicked{at}: {msg}");
        (logger.log)(LogLevel::Debug, RStr::from_str("ferry_sdk::panic"), RStr::from_str(&text));
    }));
}

/// Tells the host how far a long step has got (`"PowerSchool API: CC page 12
/// of 340"`): shown in its progress bar on a terminal, whatever the log
/// level, and nowhere else. Say where, never what: no record values.
pub fn progress(text: &str) {
    tracing::info!(target: "ferry::progress", "{text}");
}
