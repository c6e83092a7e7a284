//! Test fixture: a plugin that brings its whole process down where its
//! config says, to prove an isolated run survives it (`ferry migrate
//! --isolate`): `crash = "abort"` (`std::process::abort`, SIGABRT),
//! `"segfault"` (a write through a null pointer, SIGSEGV), `"oom"` (allocates
//! and touches memory without bound until an allocation fails), `"sleep"`
//! (sleeps for an hour, polling nothing: only a time limit or a kill ends
//! it), `"cancel"` (sleeps in a call but polls the cancel flag), or `"none"`.
//!
//! `at` is the call that crashes: the source's Nth `next_batch`, the sink's
//! Nth `write`, or `"prepare"` / `"commit"` for the sink. The source sends
//! `batches` batches of one org each, `delay_ms` apart. With `pid_file`,
//! the plugin writes its process id there when it is opened (the test that
//! kills the runner reads it). The sink writes `orgs.csv` in `directory`
//! through a private temporary file, renamed at commit, like a real sink.
#![allow(unsafe_code, reason = "this fixture segfaults on purpose")]

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use ferry_sdk::files::TempFile;
use ferry_sdk::model::{Code, EntityKind, Meta, Org, OrgKind};
use ferry_sdk::{
    BatchBuilder, Committed, Error, OpenContext, Plugin, Prepared, RunSummary, Sink, SinkBatch, Source,
    Written,
};

struct Crashy;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "none")]
    crash: String,
    /// A number (`--from-set at=2` reads as one) or a step name.
    #[serde(default = "second")]
    at: ferry_sdk::serde_json::Value,
    #[serde(default = "five")]
    batches: u32,
    #[serde(default)]
    delay_ms: u64,
    pid_file: Option<PathBuf>,
    directory: Option<PathBuf>,
}

fn none() -> String {
    "none".into()
}
fn second() -> ferry_sdk::serde_json::Value {
    2.into()
}
fn five() -> u32 {
    5
}

impl Config {
    fn at_call(&self, n: u32) -> bool {
        let n = u64::from(n);
        self.at.as_u64() == Some(n) || self.at.as_str().and_then(|s| s.parse().ok()) == Some(n)
    }
    fn at_step(&self, step: &str) -> bool {
        self.at.as_str() == Some(step)
    }
}

/// Brings the process down (or sleeps) as configured.
fn crash(how: &str, ctx_cancel: &dyn Fn() -> bool) -> Result<(), Error> {
    match how {
        "abort" => std::process::abort(),
        "segfault" => {
            let p: *mut u64 = std::ptr::null_mut();
            // SAFETY: none; this is the bug under test. A volatile write is
            // not optimised out, and address 0 is never mapped: SIGSEGV.
            unsafe { std::ptr::write_volatile(p, 1) };
            Ok(())
        }
        "oom" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // 16 MiB at a time, touched so it is really used.
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "sleep" => {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(())
        }
        "cancel" => {
            for _ in 0..36_000 {
                if ctx_cancel() {
                    return Err(Error::cancelled());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn write_pid(c: &Config) -> Result<(), Error> {
    if let Some(p) = &c.pid_file {
        std::fs::write(p, std::process::id().to_string())
            .map_err(|e| Error::io(format!("cannot write {}: {e}", p.display())))?;
    }
    Ok(())
}

impl Plugin for Crashy {
    const MANIFEST: &'static str = r#"
        id = "crashy"
        description = "Test fixture that crashes its process on purpose"
        capabilities = ["source", "sink"]
        entities = ["orgs"]
        location = "directory"
        [config.crash]
        type = "string"
        description = "abort, segfault, oom, sleep, cancel or none"
        [config.at]
        type = "string"
        description = "the call that crashes: a number (the Nth batch), prepare or commit"
        [config.batches]
        type = "integer"
        description = "batches the source sends (5)"
        [config.delay_ms]
        type = "integer"
        description = "pause before each batch, in milliseconds"
        [config.pid_file]
        type = "path"
        description = "where to write the plugin's process id when opened"
        [config.directory]
        type = "path"
        description = "the sink's output folder (orgs.csv)"
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let c: Config = ctx.config()?;
        write_pid(&c)?;
        Ok(Box::new(CrashySource { c, calls: 0, ctx: ctx.clone() }))
    }

    fn open_sink(ctx: &OpenContext) -> Result<Box<dyn Sink>, Error> {
        let c: Config = ctx.config()?;
        write_pid(&c)?;
        let out = c.directory.as_ref().map(|d| ctx.resolve(d).join("orgs.csv"));
        Ok(Box::new(CrashySink {
            c,
            calls: 0,
            run_id: ctx.run_id.clone(),
            out,
            temp: None,
            ctx: ctx.clone(),
        }))
    }
}

struct CrashySource {
    c: Config,
    calls: u32,
    ctx: OpenContext,
}

impl Source for CrashySource {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Orgs]
    }
    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        self.calls += 1;
        if self.c.delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.c.delay_ms));
        }
        if self.c.at_call(self.calls) {
            let ctx = &self.ctx;
            crash(&self.c.crash, &|| ctx.is_cancelled())?;
        }
        let org = Org {
            meta: Meta::new("crashy", self.calls.to_string()),
            kind: Some(Code::mapped(OrgKind::School, "school")),
            name: format!("School {}", self.calls),
            ..Org::default()
        };
        out.push(&org)?;
        Ok(self.calls < self.c.batches)
    }
}

struct CrashySink {
    c: Config,
    calls: u32,
    run_id: String,
    out: Option<PathBuf>,
    temp: Option<(TempFile, std::fs::File)>,
    ctx: OpenContext,
}

impl CrashySink {
    fn maybe_crash(&self) -> Result<(), Error> {
        let ctx = &self.ctx;
        crash(&self.c.crash, &|| ctx.is_cancelled())
    }
}

impl Sink for CrashySink {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Orgs]
    }
    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        self.calls += 1;
        if let (None, Some(out)) = (&self.temp, &self.out) {
            let (temp, mut file) = TempFile::create(out, &self.run_id)?;
            file.write_all(b"source_id\n").map_err(|e| Error::io(e.to_string()))?;
            self.temp = Some((temp, file));
        }
        if let Some((_, f)) = &mut self.temp {
            for _ in 0..batch.len() {
                f.write_all(b"org\n").map_err(|e| Error::io(e.to_string()))?;
            }
            f.flush().map_err(|e| Error::io(e.to_string()))?;
        }
        if self.c.at_call(self.calls) {
            self.maybe_crash()?;
        }
        Ok(Written { written: batch.len() as u64, rejects: vec![] })
    }
    fn prepare(&mut self, _summary: &RunSummary) -> Result<Prepared, Error> {
        if self.c.at_step("prepare") {
            self.maybe_crash()?;
        }
        Ok(Prepared::default())
    }
    fn commit(&mut self) -> Result<Committed, Error> {
        if self.c.at_step("commit") {
            self.maybe_crash()?;
        }
        if let Some((temp, file)) = self.temp.take() {
            file.sync_all().map_err(|e| Error::io(e.to_string()))?;
            temp.commit()?;
        }
        Ok(Committed::default())
    }
    fn abort(&mut self) -> Result<(), Error> {
        if let Some((temp, _)) = self.temp.take() {
            temp.discard()?;
        }
        Ok(())
    }
}

ferry_sdk::export_plugin!(Crashy);
