//! `ferry plugin-runner`: the child side. It takes the protocol's pipes
//! from its standard input and output (which then point at /dev/null and
//! stderr, so a plugin that prints cannot corrupt the protocol), sets its
//! memory limit, verifies and loads the plugin from its manifest exactly as
//! the host would, and serves one source or sink until `close`.
//!
//! It trusts its parent for nothing but the pipes: the plugin it loads is the
//! one the manifest on disk names and hashes, whatever the parent says.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};

use abi_stable::std_types::{ROption, RResult};
use ferry_plugin_abi::{ArrowBatch, Batch, CancelFlag, LogLevel, PluginError, SinkBox, SourceBox};

use super::frame::{self, Frame, FrameError, Kind};
use super::ipc;
use super::proto::{LogMsg, Msg, OpenMsg, PROTOCOL_VERSION};
use crate::loader::{self, LoadedPlugin, OpenArgs, Verification};

/// What `ferry plugin-runner` is given on its command line.
#[derive(Clone, Debug)]
pub struct RunnerArgs {
    /// The plugin's manifest (`ferry-plugin.toml`).
    pub manifest: PathBuf,
    /// The address-space limit in MiB.
    pub memory_mb: Option<u64>,
    /// Load a plugin whose manifest has no SHA-256.
    pub allow_unverified: bool,
}

/// The protocol's output: replies and log frames, from any thread.
static OUT: OnceLock<Mutex<BufWriter<File>>> = OnceLock::new();
/// The cancel flag the plugin polls, set by a cancel frame.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn send(kind: Kind, body: &[u8]) -> std::io::Result<()> {
    let Some(out) = OUT.get() else { return Err(std::io::Error::other("no protocol output")) };
    let mut w = out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    frame::write_frame(&mut *w, kind, body)
}

fn reply(msg: &Msg) -> std::io::Result<()> {
    send(Kind::Control, &serde_json::to_vec(msg).map_err(std::io::Error::other)?)
}

fn level_name(l: LogLevel) -> &'static str {
    match l {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    }
}

fn level_of(name: &str) -> LogLevel {
    match name {
        "trace" => LogLevel::Trace,
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warn" => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}

/// The plugin's log events, as log frames to the host.
fn forward(level: LogLevel, target: &str, message: &str) {
    let log = LogMsg {
        level: level_name(level).to_owned(),
        target: target.to_owned(),
        message: message.to_owned(),
    };
    if let Ok(body) = serde_json::to_vec(&log) {
        let _ = send(Kind::Log, &body);
    }
}

/// The protocol's pipes, taken from stdin and stdout, which are pointed
/// elsewhere for the plugin.
fn take_pipes() -> std::io::Result<(File, File)> {
    let input = File::from(rustix::io::dup(std::io::stdin())?);
    let output = File::from(rustix::io::dup(std::io::stdout())?);
    rustix::stdio::dup2_stdout(std::io::stderr())?;
    rustix::stdio::dup2_stdin(File::open("/dev/null")?)?;
    Ok((input, output))
}

fn set_memory_limit(mb: u64) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let bytes = mb.saturating_mul(1 << 20);
    setrlimit(Resource::As, Rlimit { current: Some(bytes), maximum: Some(bytes) })
        .map_err(|e| format!("cannot set the memory limit of {mb} MB (RLIMIT_AS): {e}"))
}

/// Runs the runner; returns the process's exit code.
pub fn main(args: &RunnerArgs) -> u8 {
    let (input, output) = match take_pipes() {
        Ok(p) => p,
        Err(e) => {
            eprintln_safe(&format!("ferry plugin-runner: cannot take the protocol's pipes: {e}"));
            return 2;
        }
    };
    let _ = OUT.set(Mutex::new(BufWriter::with_capacity(1 << 16, output)));
    let mut input = BufReader::with_capacity(1 << 16, input);
    // The limit holds before any plugin code runs (constructors run in dlopen).
    let limit = args.memory_mb.map(set_memory_limit).transpose();
    let hello = frame::read_frame(&mut input, 1 << 20);
    let level = match hello.as_ref().map(|f| (f.kind, serde_json::from_slice::<Msg>(&f.body))) {
        Ok((Kind::Control, Ok(Msg::Hello { protocol, max_log_level }))) if protocol == PROTOCOL_VERSION => {
            level_of(&max_log_level)
        }
        Ok((Kind::Control, Ok(Msg::Hello { protocol, .. }))) => {
            let _ = reply(&Msg::Refused {
                message: format!(
                    "the plugin runner speaks runner protocol {PROTOCOL_VERSION}, the host speaks {protocol}; run the host and the runner from the same ferry"
                ),
            });
            return 2;
        }
        _ => {
            eprintln_safe(
                "ferry plugin-runner: is started by ferry for an isolated plugin; it is not a command to run by hand",
            );
            return 2;
        }
    };
    if let Err(e) = limit {
        let _ = reply(&Msg::Refused { message: e });
        return 2;
    }
    loader::forward_logs(forward, level);
    let verification =
        if args.allow_unverified { Verification::AllowUnverified } else { Verification::Required };
    let plugin = match crate::discovery::read_manifest(&args.manifest)
        .map_err(loader::LoadError)
        .and_then(|entry| loader::load(&entry, verification))
    {
        Ok(p) => p,
        Err(e) => {
            let _ = reply(&Msg::Refused { message: e.0 });
            return 2;
        }
    };
    let manifest = toml::to_string(&plugin.manifest).unwrap_or_default();
    let ready = Msg::Ready {
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        manifest,
        sha256: plugin.sha256.clone(),
    };
    if reply(&ready).is_err() {
        return 2;
    }

    // Requests arrive on their own thread, so a cancel frame is seen while
    // the plugin is busy in a call.
    let (tx, rx) = mpsc::channel::<Frame>();
    let reader = std::thread::Builder::new().name("runner-requests".into()).spawn(move || {
        loop {
            match frame::read_frame(&mut input, frame::DEFAULT_MAX_FRAME) {
                Ok(f) if f.kind == Kind::Cancel => CANCEL.store(true, Ordering::SeqCst),
                Ok(f) => {
                    if tx.send(f).is_err() {
                        break;
                    }
                }
                Err(FrameError::Closed) => break,
                Err(e) => {
                    eprintln_safe(&format!("ferry plugin-runner: a bad frame from the host: {e}"));
                    break;
                }
            }
        }
    });
    if reader.is_err() {
        return 2;
    }
    match serve(&plugin, &rx) {
        Ok(()) => 0,
        Err(e) => {
            eprintln_safe(&format!("ferry plugin-runner: {e}"));
            2
        }
    }
}

/// `eprintln!` that cannot panic on a closed stderr.
fn eprintln_safe(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The next control message; `None` when the host closed its pipe.
fn next(rx: &Receiver<Frame>) -> Result<Option<Msg>, String> {
    let Ok(f) = rx.recv() else { return Ok(None) };
    if f.kind != Kind::Control {
        return Err(format!("expected a control frame, got a {:?} frame", f.kind));
    }
    serde_json::from_slice(&f.body).map(Some).map_err(|e| format!("an unreadable request: {e}"))
}

fn error_reply(e: &PluginError) -> Msg {
    Msg::Error { kind: e.kind, retryable: e.retryable, message: e.message.to_string() }
}

fn internal(message: String) -> Msg {
    Msg::Error { kind: ferry_plugin_abi::ErrorKind::Internal.code(), retryable: false, message }
}

fn open_args<'a>(o: &'a OpenMsg, base: &'a Path) -> OpenArgs<'a> {
    OpenArgs {
        base_dir: base,
        run_id: &o.run_id,
        dry_run: o.dry_run,
        source_tables: o.source_tables,
        entities: o.entities.clone(),
        cancel: CancelFlag::new(&CANCEL),
    }
}

fn serve(plugin: &LoadedPlugin, rx: &Receiver<Frame>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write to the host: {e}");
    match next(rx)? {
        None => Ok(()),
        Some(Msg::OpenSource(o)) => {
            let base = PathBuf::from(&o.base_dir);
            match plugin.open_source(&o.config_json, open_args(&o, &base)) {
                Ok(s) => {
                    reply(&Msg::Done).map_err(io)?;
                    serve_source(s, rx)
                }
                Err(e) => {
                    reply(&Msg::Error { kind: e.kind.code(), retryable: e.retryable, message: e.message })
                        .map_err(io)
                }
            }
        }
        Some(Msg::OpenSink(o)) => {
            let base = PathBuf::from(&o.base_dir);
            match plugin.open_sink(&o.config_json, open_args(&o, &base)) {
                Ok(s) => {
                    reply(&Msg::Done).map_err(io)?;
                    serve_sink(s, rx)
                }
                Err(e) => {
                    reply(&Msg::Error { kind: e.kind.code(), retryable: e.retryable, message: e.message })
                        .map_err(io)
                }
            }
        }
        Some(other) => Err(format!("expected open_source or open_sink, got {}", other.name())),
    }
}

/// An Arrow batch from the plugin, as IPC bytes (`None` when empty). Not
/// validated here: the host validates what it decodes.
fn encoded(batch: ArrowBatch) -> Result<Option<Vec<u8>>, String> {
    match ferry_wire::import(batch, false).map_err(|e| e.0)? {
        None => Ok(None),
        Some(b) => ipc::encode(&b).map(Some),
    }
}

fn serve_source(mut source: SourceBox, rx: &Receiver<Frame>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write to the host: {e}");
    loop {
        let Some(msg) = next(rx)? else {
            // The host is gone.
            let _ = source.close();
            return Ok(());
        };
        match msg {
            Msg::Entities => match source.entities() {
                RResult::ROk(list) => {
                    reply(&Msg::EntityList { entities: list.into_iter().map(|s| s.into_string()).collect() })
                        .map_err(io)?;
                }
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::NextBatch { max_records } => match source.next_batch(max_records) {
                RResult::ROk(ROption::RNone) => reply(&Msg::End).map_err(io)?,
                RResult::ROk(ROption::RSome(b)) => {
                    let Batch { entity, model_major, model_minor, records, diagnostics } = b;
                    match encoded(records).and_then(|r| encoded(diagnostics).map(|d| (r, d))) {
                        Ok((records, diagnostics)) => {
                            reply(&Msg::Batch {
                                entity: entity.into_string(),
                                model_major,
                                model_minor,
                                records: records.is_some(),
                                diagnostics: diagnostics.is_some(),
                            })
                            .map_err(io)?;
                            if let Some(r) = records {
                                send(Kind::Records, &r).map_err(io)?;
                            }
                            if let Some(d) = diagnostics {
                                send(Kind::Diagnostics, &d).map_err(io)?;
                            }
                        }
                        Err(e) => reply(&internal(format!("sent a batch the runner cannot encode: {e}")))
                            .map_err(io)?,
                    }
                }
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::Close => {
                let r = source.close();
                drop(source);
                return match r {
                    RResult::ROk(()) => reply(&Msg::Done).map_err(io),
                    RResult::RErr(e) => reply(&error_reply(&e)).map_err(io),
                };
            }
            other => reply(&internal(format!("a source cannot {}", other.name()))).map_err(io)?,
        }
    }
}

fn serve_sink(mut sink: SinkBox, rx: &Receiver<Frame>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write to the host: {e}");
    let mut committed = false;
    loop {
        let Some(msg) = next(rx)? else {
            // The host is gone: nothing it did not see committed stays.
            if !committed {
                let _ = sink.abort();
            }
            let _ = sink.close();
            return Ok(());
        };
        match msg {
            Msg::Entities => match sink.entities() {
                RResult::ROk(list) => {
                    reply(&Msg::EntityList { entities: list.into_iter().map(|s| s.into_string()).collect() })
                        .map_err(io)?;
                }
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::WriteBatch { entity, model_major, model_minor, records } => {
                let records = if records {
                    let Ok(f) = rx.recv() else { continue };
                    if f.kind != Kind::Records {
                        return Err(format!("expected a records frame, got a {:?} frame", f.kind));
                    }
                    let batch = ipc::decode(f.body)?;
                    ferry_wire::export(batch).map_err(|e| e.0)?
                } else {
                    ArrowBatch::empty()
                };
                let b = Batch {
                    entity: entity.into(),
                    model_major,
                    model_minor,
                    records,
                    diagnostics: ArrowBatch::empty(),
                };
                match sink.write_batch(b) {
                    RResult::ROk(report) => {
                        let d = encoded(report.diagnostics)?;
                        reply(&Msg::Written { written: report.written, diagnostics: d.is_some() })
                            .map_err(io)?;
                        if let Some(d) = d {
                            send(Kind::Diagnostics, &d).map_err(io)?;
                        }
                    }
                    RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
                }
            }
            Msg::Prepare { summary_json } => match sink.prepare(summary_json.into()) {
                RResult::ROk(p) => {
                    let d = encoded(p.diagnostics)?;
                    let r = encoded(p.receipts)?;
                    reply(&Msg::Prepared {
                        info_json: p.info_json.into_string(),
                        diagnostics: d.is_some(),
                        receipts: r.is_some(),
                    })
                    .map_err(io)?;
                    if let Some(d) = d {
                        send(Kind::Diagnostics, &d).map_err(io)?;
                    }
                    if let Some(r) = r {
                        send(Kind::Receipts, &r).map_err(io)?;
                    }
                }
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::Commit => match sink.commit() {
                RResult::ROk(c) => {
                    committed = true;
                    reply(&Msg::Committed { info_json: c.info_json.into_string() }).map_err(io)?;
                }
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::Abort => match sink.abort() {
                RResult::ROk(()) => reply(&Msg::Done).map_err(io)?,
                RResult::RErr(e) => reply(&error_reply(&e)).map_err(io)?,
            },
            Msg::Close => {
                let r = sink.close();
                drop(sink);
                return match r {
                    RResult::ROk(()) => reply(&Msg::Done).map_err(io),
                    RResult::RErr(e) => reply(&error_reply(&e)).map_err(io),
                };
            }
            other => reply(&internal(format!("a sink cannot {}", other.name()))).map_err(io)?,
        }
    }
}
