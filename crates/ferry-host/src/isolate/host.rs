//! The host's side of a runner: spawning it, the threads that read its
//! frames and its stderr and watch its limits, and the proxies that speak
//! for its source or sink as `SourceBox` / `SinkBox`.
//!
//! Never hang on a dead runner: its replies come through a reader thread
//! that ends at end of file (the runner died, or closed its pipe), so every
//! wait for a reply ends; the exit status is then collected with a bounded
//! wait, after which the runner is killed.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RString, RVec};
use ferry_plugin_abi::{
    ArrowBatch, Batch, CancelFlag, CommitReport, ErrorKind, FfiSink, FfiSink_TO, FfiSource, FfiSource_TO,
    Manifest, PluginError, PrepareReport, SinkBox, SourceBox, WriteReport,
};

use super::frame::{self, Frame, FrameError, Kind};
use super::proto::{LogMsg, Msg, OpenMsg, PROTOCOL_VERSION};
use super::{Limits, ipc, signal_name};
use crate::discovery::PluginEntry;
use crate::loader::{LoadError, OpenArgs, PluginCallError, Verification};

/// Lines of the runner's stderr kept to tell what killed it.
const TAIL_LINES: usize = 32;
/// How long a runner that closed its pipe may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);
/// How long a runner may take to stop after a cancel before it is killed.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// What the runner's threads share with its proxy.
struct Shared {
    plugin: String,
    child: Mutex<Child>,
    /// The runner was killed by the watchdog for its time limit.
    timed_out: AtomicBool,
    /// The runner broke the protocol (a malformed frame), as found by the reader.
    protocol: Mutex<Option<String>>,
    /// The last lines of its stderr.
    tail: Mutex<VecDeque<String>>,
    /// The runner was reaped (or is being): the watchdog stops.
    done: AtomicBool,
    /// The run's cancel flag, once the plugin is opened.
    cancel: Mutex<Option<CancelFlag>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One runner process and the conversation with it.
pub(crate) struct Runner {
    plugin: String,
    pid: u32,
    shared: Arc<Shared>,
    to_child: Arc<Mutex<BufWriter<ChildStdin>>>,
    replies: Receiver<Frame>,
    limits: Limits,
    /// Set once the runner is gone: the message every later call returns.
    failed: Option<String>,
    /// Where its sink writes, to remove what a dead runner left there.
    sweep: Vec<PathBuf>,
    run_id: String,
    committed: bool,
    closed: bool,
}

fn level_name(l: tracing::level_filters::LevelFilter) -> &'static str {
    use tracing::level_filters::LevelFilter;
    match l {
        LevelFilter::TRACE => "trace",
        LevelFilter::DEBUG => "debug",
        LevelFilter::INFO => "info",
        LevelFilter::WARN => "warn",
        _ => "error",
    }
}

fn forward_log(plugin: &str, log: &LogMsg) {
    let (target, message) = (log.target.as_str(), log.message.as_str());
    match log.level.as_str() {
        "error" => tracing::error!(target: "ferry::plugin", plugin = target, isolated = plugin, "{message}"),
        "warn" => tracing::warn!(target: "ferry::plugin", plugin = target, isolated = plugin, "{message}"),
        "info" => tracing::info!(target: "ferry::plugin", plugin = target, isolated = plugin, "{message}"),
        "debug" => tracing::debug!(target: "ferry::plugin", plugin = target, isolated = plugin, "{message}"),
        _ => tracing::trace!(target: "ferry::plugin", plugin = target, isolated = plugin, "{message}"),
    }
}

/// The binary to run as `ferry plugin-runner`: this one.
fn runner_exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the ferry binary to start a plugin runner: {e}"))
}

/// Starts a runner for the plugin `entry`: it verifies and loads the plugin
/// as [`crate::loader::load`] would, in its own process, under `limits`.
/// The plugin may then be opened once, as a source or a sink.
pub fn load(
    entry: &PluginEntry,
    verification: Verification,
    limits: Limits,
) -> Result<crate::loader::LoadedPlugin, LoadError> {
    let id = entry.manifest.id.clone();
    if let Err(why) = &entry.compatibility {
        return Err(LoadError(format!("{why} (manifest {})", entry.manifest_path.display())));
    }
    let exe = runner_exe().map_err(LoadError)?;
    let mut cmd = Command::new(&exe);
    cmd.arg("plugin-runner").arg("--manifest").arg(&entry.manifest_path);
    if let Some(mb) = limits.memory_mb {
        cmd.arg("--memory-mb").arg(mb.to_string());
    }
    if verification == Verification::AllowUnverified {
        cmd.arg("--allow-unverified");
    }
    // Its own process group: a Ctrl-C at the terminal reaches the host,
    // which stops the run through a cancel frame, not the runner directly.
    cmd.process_group(0).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        LoadError(format!("plugin '{id}': cannot start its isolated runner ({}): {e}", exe.display()))
    })?;
    let pid = child.id();
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(LoadError(format!("plugin '{id}': its isolated runner has no pipes")));
    };
    tracing::debug!(target: "ferry::isolate", plugin = %id, pid, "plugin runner started");
    let shared = Arc::new(Shared {
        plugin: id.clone(),
        child: Mutex::new(child),
        timed_out: AtomicBool::new(false),
        protocol: Mutex::new(None),
        tail: Mutex::new(VecDeque::new()),
        done: AtomicBool::new(false),
        cancel: Mutex::new(None),
    });
    let to_child = Arc::new(Mutex::new(BufWriter::with_capacity(1 << 16, stdin)));

    // Its stderr: forwarded as warnings naming the plugin, the tail kept.
    let s = shared.clone();
    std::thread::Builder::new()
        .name(format!("runner-{id}-stderr"))
        .spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                tracing::warn!(target: "ferry::plugin", plugin = %s.plugin, "{line}");
                let mut tail = lock(&s.tail);
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        })
        .map_err(|e| LoadError(format!("cannot start a thread: {e}")))?;

    // Its frames: logs forwarded as they come, the rest handed to the proxy.
    let (tx, replies) = mpsc::channel::<Frame>();
    let s = shared.clone();
    std::thread::Builder::new()
        .name(format!("runner-{id}-reader"))
        .spawn(move || {
            let mut r = BufReader::with_capacity(1 << 16, stdout);
            loop {
                match frame::read_frame(&mut r, frame::DEFAULT_MAX_FRAME) {
                    Ok(f) if f.kind == Kind::Log => match serde_json::from_slice::<LogMsg>(&f.body) {
                        Ok(log) => forward_log(&s.plugin, &log),
                        Err(e) => {
                            *lock(&s.protocol) = Some(format!("an unreadable log frame ({e})"));
                            let _ = lock(&s.child).kill();
                            break;
                        }
                    },
                    Ok(f) => {
                        if tx.send(f).is_err() {
                            break;
                        }
                    }
                    Err(FrameError::Closed) => break,
                    Err(e) => {
                        *lock(&s.protocol) = Some(e.to_string());
                        let _ = lock(&s.child).kill();
                        break;
                    }
                }
            }
        })
        .map_err(|e| LoadError(format!("cannot start a thread: {e}")))?;

    // The watchdog: the time limit, and the run's cancel request.
    let s = shared.clone();
    let w = to_child.clone();
    let started = Instant::now();
    let timeout = limits.timeout_s.map(Duration::from_secs);
    std::thread::Builder::new()
        .name(format!("runner-{id}-watchdog"))
        .spawn(move || {
            let mut cancelled_at: Option<Instant> = None;
            while !s.done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                if timeout.is_some_and(|t| started.elapsed() > t) {
                    s.timed_out.store(true, Ordering::SeqCst);
                    let _ = lock(&s.child).kill();
                    break;
                }
                let cancel = *lock(&s.cancel);
                if cancel.is_some_and(|c| c.is_cancelled()) {
                    match cancelled_at {
                        None => {
                            cancelled_at = Some(Instant::now());
                            // The proxy may be writing a batch: the frame goes after it.
                            let _ = frame::write_frame(&mut *lock(&w), Kind::Cancel, &[]);
                        }
                        Some(at) if at.elapsed() > CANCEL_GRACE => {
                            tracing::warn!(target: "ferry::isolate", plugin = %s.plugin, "the plugin did not stop within {} s of the cancel; killing its runner", CANCEL_GRACE.as_secs());
                            let _ = lock(&s.child).kill();
                            break;
                        }
                        Some(_) => {}
                    }
                }
            }
        })
        .map_err(|e| LoadError(format!("cannot start a thread: {e}")))?;

    let mut runner = Runner {
        plugin: id.clone(),
        pid,
        shared,
        to_child,
        replies,
        limits,
        failed: None,
        sweep: Vec::new(),
        run_id: String::new(),
        committed: false,
        closed: false,
    };
    let hello = Msg::Hello {
        protocol: PROTOCOL_VERSION,
        max_log_level: level_name(tracing::level_filters::LevelFilter::current()).to_owned(),
    };
    let ready = runner.call(&hello, None).map_err(|e| LoadError(runner.load_message(&e)))?;
    let (manifest, sha256) = match ready {
        Msg::Ready { protocol, manifest, sha256, pid: _ } if protocol == PROTOCOL_VERSION => {
            (manifest, sha256)
        }
        Msg::Ready { protocol, .. } => {
            runner.kill();
            return Err(LoadError(format!(
                "plugin '{id}': its runner speaks runner protocol {protocol}, this host speaks {PROTOCOL_VERSION}; the ferry binary changed during the run, run again"
            )));
        }
        Msg::Refused { message } => {
            runner.finish();
            return Err(LoadError(message));
        }
        other => {
            let e = runner.protocol_error("hello", &format!("answered {} to hello", other.name()));
            return Err(LoadError(runner.load_message(&e)));
        }
    };
    let manifest: Manifest = toml::from_str(&manifest).map_err(|e| {
        runner.kill();
        LoadError(format!("plugin '{id}': its runner sent an unreadable manifest: {e}"))
    })?;
    if let Err(e) = crate::loader::check_same_plugin(entry, &manifest) {
        runner.kill();
        return Err(e);
    }
    tracing::info!(plugin = %id, pid, "Plugin loaded in an isolated runner (pid {pid}).");
    Ok(crate::loader::LoadedPlugin::isolated(manifest, entry.library.clone(), sha256, runner))
}

impl Runner {
    fn load_message(&self, e: &PluginError) -> String {
        format!("plugin '{}': {} while loading the plugin", self.plugin, e.message.as_str())
    }

    fn error(&self, message: String) -> PluginError {
        PluginError::new(ErrorKind::Internal, message)
    }

    /// Sends a control message (and a frame after it) and reads the reply.
    fn call(&mut self, msg: &Msg, then: Option<(Kind, &[u8])>) -> Result<Msg, PluginError> {
        if let Some(m) = &self.failed {
            return Err(self.error(m.clone()));
        }
        let op = msg.name();
        let body = serde_json::to_vec(msg).map_err(|e| self.error(format!("cannot encode {op}: {e}")))?;
        let sent = {
            let mut w = lock(&self.to_child);
            frame::write_frame(&mut *w, Kind::Control, &body)
                .and_then(|()| then.map_or(Ok(()), |(k, b)| frame::write_frame(&mut *w, k, b)))
        };
        if sent.is_err() {
            // A closed pipe: the runner is gone (its status says why).
            return Err(self.gone(op));
        }
        let reply = self.next_frame(op)?;
        if reply.kind != Kind::Control {
            return Err(self.protocol_error(op, &format!("answered {op} with a {:?} frame", reply.kind)));
        }
        match serde_json::from_slice::<Msg>(&reply.body) {
            Ok(Msg::Error { kind, retryable, message }) => {
                Err(PluginError { kind, retryable, message: message.into() })
            }
            Ok(m) => Ok(m),
            Err(e) => Err(self.protocol_error(op, &format!("an unreadable reply ({e})"))),
        }
    }

    fn next_frame(&mut self, op: &str) -> Result<Frame, PluginError> {
        match self.replies.recv() {
            Ok(f) => Ok(f),
            Err(_) => Err(self.gone(op)),
        }
    }

    /// The frame that must follow a reply.
    fn expect(&mut self, kind: Kind, op: &str) -> Result<Vec<u8>, PluginError> {
        let f = self.next_frame(op)?;
        if f.kind != kind {
            return Err(
                self.protocol_error(op, &format!("sent a {:?} frame where a {kind:?} frame was due", f.kind))
            );
        }
        Ok(f.body)
    }

    /// An Arrow batch of the reply, decoded (validated) and exported for the pipeline.
    fn arrow(&mut self, kind: Kind, op: &str) -> Result<ArrowBatch, PluginError> {
        let body = self.expect(kind, op)?;
        let batch = ipc::decode(body).map_err(|e| self.protocol_error(op, &e))?;
        ferry_wire::export(batch).map_err(|e| self.error(e.0))
    }

    /// Waits, boundedly, for the runner to exit; kills it after the grace.
    fn reap(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + EXIT_GRACE;
        let status = loop {
            match lock(&self.shared.child).try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < deadline => {}
                Ok(None) => {
                    let mut c = lock(&self.shared.child);
                    let _ = c.kill();
                    break c.wait().ok();
                }
                Err(_) => break None,
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.shared.done.store(true, Ordering::SeqCst);
        status
    }

    fn kill(&mut self) {
        let _ = lock(&self.shared.child).kill();
        let _ = self.reap();
        self.failed.get_or_insert_with(|| "its isolated runner was stopped".to_owned());
    }

    /// The runner is gone: why, from its exit status, its limits and its
    /// protocol state. Later calls return the same error.
    fn gone(&mut self, op: &str) -> PluginError {
        let status = self.reap();
        let pid = self.pid;
        let tail: Vec<String> = lock(&self.shared.tail).iter().cloned().collect();
        let out_of_memory = tail.iter().any(|l| l.contains("memory allocation of") && l.contains("failed"));
        let message = if self.shared.timed_out.load(Ordering::SeqCst) {
            format!(
                "its isolated runner (pid {pid}) exceeded its time limit of {} s (timeout_s) during {op} and was killed (SIGKILL)",
                self.limits.timeout_s.unwrap_or_default()
            )
        } else if let Some(p) = lock(&self.shared.protocol).clone() {
            format!(
                "its isolated runner (pid {pid}) broke the runner protocol during {op} ({p}) and was killed"
            )
        } else {
            match status {
                Some(s)
                    if s.signal() == Some(libc::SIGABRT)
                        && out_of_memory
                        && self.limits.memory_mb.is_some() =>
                {
                    format!(
                        "its isolated runner (pid {pid}) exceeded its memory limit of {} MB (memory_mb) during {op}: an allocation failed and it aborted (SIGABRT)",
                        self.limits.memory_mb.unwrap_or_default()
                    )
                }
                Some(s) if out_of_memory && s.signal() == Some(libc::SIGABRT) => format!(
                    "its isolated runner (pid {pid}) ran out of memory during {op}: an allocation failed and it aborted (SIGABRT)"
                ),
                Some(s) => match (s.signal(), s.code()) {
                    (Some(sig), _) => format!(
                        "its isolated runner (pid {pid}) was killed by signal {sig} ({}) during {op}{}",
                        signal_name(sig),
                        if s.core_dumped() { ", core dumped" } else { "" }
                    ),
                    (None, Some(code)) => {
                        format!("its isolated runner (pid {pid}) exited with status {code} during {op}")
                    }
                    (None, None) => format!("its isolated runner (pid {pid}) ended during {op}"),
                },
                None => format!("its isolated runner (pid {pid}) ended during {op} with an unknown status"),
            }
        };
        tracing::debug!(target: "ferry::isolate", plugin = %self.plugin, "{message}");
        self.failed = Some(message.clone());
        self.error(message)
    }

    /// The runner sent something the protocol does not allow: it is killed.
    fn protocol_error(&mut self, op: &str, what: &str) -> PluginError {
        {
            let mut p = lock(&self.shared.protocol);
            if p.is_none() {
                *p = Some(what.to_owned());
            }
        }
        let _ = lock(&self.shared.child).kill();
        self.gone(op)
    }

    /// After `close`: the runner exits by itself.
    fn finish(&mut self) {
        self.closed = true;
        let _ = self.reap();
    }

    /// Removes the temporary files a dead runner's sink left in its output
    /// location: names holding this run's id and the temporary marks of the
    /// SDK (`.NAME.<run>-<pid>.ferry-tmp`, `.PREFIX-<run>-<pid>.tmp`) and of
    /// the archive (`NAME.ferry-tmp-<run>`). Earlier outputs are never touched.
    fn sweep(&self) {
        if self.run_id.is_empty() {
            return;
        }
        for dir in &self.sweep {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let temporary =
                    name.contains("ferry-tmp") || (name.starts_with('.') && name.ends_with(".tmp"));
                if !temporary || !name.contains(&self.run_id) {
                    continue;
                }
                let path = e.path();
                let removed =
                    if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                match removed {
                    Ok(()) => {
                        tracing::info!(target: "ferry::isolate", plugin = %self.plugin, "removed {} left by the dead runner", path.display())
                    }
                    Err(e) => {
                        tracing::warn!(target: "ferry::isolate", plugin = %self.plugin, "cannot remove {} left by the dead runner: {e}", path.display())
                    }
                }
            }
        }
    }

    fn open(
        &mut self,
        sink: bool,
        manifest: &Manifest,
        config_json: &str,
        args: OpenArgs<'_>,
    ) -> Result<(), PluginError> {
        *lock(&self.shared.cancel) = Some(args.cancel);
        self.run_id = args.run_id.to_owned();
        if sink {
            self.sweep = sweep_dirs(manifest, config_json, args.base_dir);
        }
        let open = OpenMsg {
            config_json: config_json.to_owned(),
            base_dir: args.base_dir.to_string_lossy().into_owned(),
            run_id: args.run_id.to_owned(),
            dry_run: args.dry_run,
            source_tables: args.source_tables,
            entities: args.entities,
        };
        let msg = if sink { Msg::OpenSink(open) } else { Msg::OpenSource(open) };
        match self.call(&msg, None)? {
            Msg::Done => Ok(()),
            other => Err(self.protocol_error(msg.name(), &format!("answered {}", other.name()))),
        }
    }

    fn entities(&mut self) -> Result<RVec<RString>, PluginError> {
        match self.call(&Msg::Entities, None)? {
            Msg::EntityList { entities } => Ok(entities.into_iter().map(RString::from).collect()),
            other => Err(self.protocol_error("entities", &format!("answered {}", other.name()))),
        }
    }

    fn close(&mut self) -> Result<(), PluginError> {
        if self.closed {
            return Ok(());
        }
        if self.failed.is_some() {
            // Nothing to close in a dead runner; what it left is removed.
            if !self.committed {
                self.sweep();
            }
            self.closed = true;
            return Ok(());
        }
        let r = self.call(&Msg::Close, None);
        match r {
            Ok(Msg::Done) => {
                self.finish();
                Ok(())
            }
            Ok(other) => Err(self.protocol_error("close", &format!("answered {}", other.name()))),
            Err(e) => {
                if self.failed.is_some() && !self.committed {
                    self.sweep();
                }
                self.finish();
                Err(e)
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.shared.done.load(Ordering::SeqCst) {
            // Not closed (a failed open, a panic): the runner must not outlive its run.
            let _ = lock(&self.shared.child).kill();
            let _ = self.reap();
        }
    }
}

/// The folders a sink writes its temporary files in: its location (the
/// configuration key its manifest names) if it is a folder, and the folder
/// it is in.
fn sweep_dirs(manifest: &Manifest, config_json: &str, base_dir: &Path) -> Vec<PathBuf> {
    let Ok(config) = serde_json::from_str::<serde_json::Value>(config_json) else { return Vec::new() };
    let keys = manifest.location.iter().map(String::as_str).chain(["directory", "path"]);
    let mut out = Vec::new();
    for key in keys {
        if let Some(p) = config.get(key).and_then(|v| v.as_str()) {
            let p = base_dir.join(p);
            if p.is_dir() {
                out.push(p.clone());
            }
            if let Some(parent) = p.parent() {
                out.push(if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_owned() });
            }
            break;
        }
    }
    out
}

fn result<T>(r: Result<T, PluginError>) -> RResult<T, PluginError> {
    match r {
        Ok(v) => RResult::ROk(v),
        Err(e) => RResult::RErr(e),
    }
}

/// An isolated source, as the pipeline sees any source.
struct SourceProxy(Mutex<Runner>);

impl FfiSource for SourceProxy {
    fn entities(&self) -> RResult<RVec<RString>, PluginError> {
        result(lock(&self.0).entities())
    }

    fn next_batch(&mut self, max_records: u32) -> RResult<ROption<Batch>, PluginError> {
        let r = &mut *lock(&self.0);
        let op = "next_batch";
        result((|| match r.call(&Msg::NextBatch { max_records }, None)? {
            Msg::End => Ok(ROption::RNone),
            Msg::Batch { entity, model_major, model_minor, records, diagnostics } => {
                let records = if records { r.arrow(Kind::Records, op)? } else { ArrowBatch::empty() };
                let diagnostics =
                    if diagnostics { r.arrow(Kind::Diagnostics, op)? } else { ArrowBatch::empty() };
                Ok(ROption::RSome(Batch {
                    entity: entity.into(),
                    model_major,
                    model_minor,
                    records,
                    diagnostics,
                }))
            }
            other => Err(r.protocol_error(op, &format!("answered {}", other.name()))),
        })())
    }

    fn close(&mut self) -> RResult<(), PluginError> {
        result(lock(&self.0).close())
    }
}

/// An isolated sink, as the pipeline sees any sink.
struct SinkProxy(Mutex<Runner>);

impl FfiSink for SinkProxy {
    fn entities(&self) -> RResult<RVec<RString>, PluginError> {
        result(lock(&self.0).entities())
    }

    fn write_batch(&mut self, batch: Batch) -> RResult<WriteReport, PluginError> {
        let r = &mut *lock(&self.0);
        let op = "write_batch";
        result((|| {
            let Batch { entity, model_major, model_minor, records, diagnostics: _ } = batch;
            // The host made this batch: it was validated when it came in.
            let records = ferry_wire::import(records, false).map_err(|e| r.error(e.0))?;
            let body = records.as_ref().map(ipc::encode).transpose().map_err(|e| r.error(e))?;
            let msg = Msg::WriteBatch {
                entity: entity.into_string(),
                model_major,
                model_minor,
                records: body.is_some(),
            };
            match r.call(&msg, body.as_deref().map(|b| (Kind::Records, b)))? {
                Msg::Written { written, diagnostics } => {
                    let diagnostics =
                        if diagnostics { r.arrow(Kind::Diagnostics, op)? } else { ArrowBatch::empty() };
                    Ok(WriteReport { written, diagnostics })
                }
                other => Err(r.protocol_error(op, &format!("answered {}", other.name()))),
            }
        })())
    }

    fn prepare(&mut self, summary_json: RString) -> RResult<PrepareReport, PluginError> {
        let r = &mut *lock(&self.0);
        let op = "prepare";
        result((|| match r.call(&Msg::Prepare { summary_json: summary_json.into_string() }, None)? {
            Msg::Prepared { info_json, diagnostics, receipts } => {
                let diagnostics =
                    if diagnostics { r.arrow(Kind::Diagnostics, op)? } else { ArrowBatch::empty() };
                let receipts = if receipts { r.arrow(Kind::Receipts, op)? } else { ArrowBatch::empty() };
                Ok(PrepareReport { diagnostics, receipts, info_json: info_json.into() })
            }
            other => Err(r.protocol_error(op, &format!("answered {}", other.name()))),
        })())
    }

    fn commit(&mut self) -> RResult<CommitReport, PluginError> {
        let r = &mut *lock(&self.0);
        result((|| match r.call(&Msg::Commit, None)? {
            Msg::Committed { info_json } => {
                r.committed = true;
                Ok(CommitReport { info_json: info_json.into() })
            }
            other => Err(r.protocol_error("commit", &format!("answered {}", other.name()))),
        })())
    }

    fn abort(&mut self) -> RResult<(), PluginError> {
        let r = &mut *lock(&self.0);
        if r.failed.is_some() {
            // The runner is dead: what its sink left in place is removed here.
            r.sweep();
            return RResult::ROk(());
        }
        match r.call(&Msg::Abort, None) {
            Ok(Msg::Done) => RResult::ROk(()),
            Ok(other) => RResult::RErr(r.protocol_error("abort", &format!("answered {}", other.name()))),
            Err(e) => {
                if r.failed.is_some() {
                    r.sweep();
                }
                RResult::RErr(e)
            }
        }
    }

    fn close(&mut self) -> RResult<(), PluginError> {
        result(lock(&self.0).close())
    }
}

/// Opens the runner's source.
pub(crate) fn open_source(
    mut runner: Runner,
    manifest: &Manifest,
    config_json: &str,
    args: OpenArgs<'_>,
) -> Result<SourceBox, PluginCallError> {
    runner.open(false, manifest, config_json, args).map_err(|e| call_error(&manifest.id, e))?;
    Ok(FfiSource_TO::from_value(SourceProxy(Mutex::new(runner)), TD_Opaque))
}

/// Opens the runner's sink.
pub(crate) fn open_sink(
    mut runner: Runner,
    manifest: &Manifest,
    config_json: &str,
    args: OpenArgs<'_>,
) -> Result<SinkBox, PluginCallError> {
    runner.open(true, manifest, config_json, args).map_err(|e| call_error(&manifest.id, e))?;
    Ok(FfiSink_TO::from_value(SinkProxy(Mutex::new(runner)), TD_Opaque))
}

fn call_error(plugin: &str, e: PluginError) -> PluginCallError {
    PluginCallError {
        plugin: plugin.to_owned(),
        kind: e.error_kind(),
        retryable: e.retryable,
        message: e.message.into_string(),
    }
}
