//! The conformance kit: checks, from `cargo test`, that a plugin keeps the
//! contract the host relies on, through the same adapters and Arrow C Data
//! Interface crossing as the host (see [`testkit`](crate::testkit)), with no
//! `dlopen`.
//!
//! ```ignore
//! #[test]
//! fn conformance() {
//!     let dir = tempfile::tempdir().unwrap();
//!     std::fs::write(dir.path().join("in.jsonl"), SAMPLE).unwrap();
//!     ferry_sdk::testing::Conformance::<MyPlugin>::new(dir.path())
//!         .source(serde_json::json!({ "file": "in.jsonl" }))
//!         .sink(|out| serde_json::json!({ "file": out.join("out.jsonl") }))
//!         .run()
//!         .assert_passed();
//! }
//! ```
//!
//! What it checks, each with its own failure message ([`Report`]):
//! - **manifest**: it parses; a valid id, a version, a description, at least
//!   one capability and one entity, known entities; every configuration key
//!   has a known type and a description; `location` names a key;
//! - **source batches**: every batch is valid Arrow in full (offsets, lengths,
//!   UTF-8) and has the model's layout for its entity (the host's own
//!   per-batch checks, `ferry_wire::check_layout`), holds no more rows than
//!   asked, and the same records come at batch sizes 1 and 1000;
//! - **entities**: every entity produced is declared by the manifest and by
//!   `Source::entities()`, which lists only manifest entities; every entity
//!   `Source::entities()` lists is produced by the sample (unless excused:
//!   [`Conformance::not_produced`]);
//! - **errors as values**: opening with a broken configuration returns an
//!   error (not a panic, not success) when the manifest has configuration keys;
//! - **panics**: no call panics during the checks, and a panic raised inside
//!   the plugin's source becomes an error of kind `Panic` naming the plugin,
//!   after which the instance refuses further calls;
//! - **sink accounting**: every record given is written or rejected (the host's check);
//! - **dry run**: for a sink whose manifest says `dry_run = true`, a dry run
//!   creates, changes or removes no file under the base folder and commits nothing;
//! - **receipts**: every receipt names an entity and a source id that were
//!   given, with a destination id; source ids and destination ids are unique
//!   per entity; an entity with receipts has one per written record;
//! - **cancellation**: a read cancelled after its first batch stops with an
//!   error of kind `Cancelled` and sends nothing more, and `close` still
//!   succeeds. Whether the source polls the flag *inside* one long call
//!   cannot be seen on a small sample: the kit notes it ([`Outcome::Note`])
//!   when one call read the whole sample without looking.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use abi_stable::std_types::{ROption, RResult};
use ferry_model::{EntityKind, MetaView};
use ferry_plugin_abi::{Batch, CancelFlag, Capability, ErrorKind, Manifest, OpenOptions, OpenRequest};

use crate::error::Error;
use crate::plugin::{Plugin, open_source};
use crate::testkit::{self, SourceOutput};

/// The configuration types a manifest may declare.
pub const CONFIG_TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "table"];

pub use ferry_plugin_abi::check_plugin_id;

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The check held.
    Passed,
    /// The check failed: what was wrong and what to do.
    Failed(String),
    /// The check did not apply (no source configured, no dry run declared…).
    Skipped(String),
    /// The check held as far as the kit can see, with a remark.
    Note(String),
}

/// One check and its outcome.
#[derive(Clone, Debug)]
pub struct Check {
    /// The check's name (`manifest`, `source batches`, `dry run`…).
    pub name: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
}

/// Every check the kit ran.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The plugin's id (or `<invalid manifest>`).
    pub plugin: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    fn push(&mut self, name: &'static str, outcome: Outcome) {
        self.checks.push(Check { name, outcome });
    }

    fn fail(&mut self, name: &'static str, message: impl Into<String>) {
        self.push(name, Outcome::Failed(message.into()));
    }

    /// The failed checks.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| matches!(c.outcome, Outcome::Failed(_))).collect()
    }

    /// Whether the check `name` ran and failed.
    pub fn failed(&self, name: &str) -> bool {
        self.checks.iter().any(|c| c.name == name && matches!(c.outcome, Outcome::Failed(_)))
    }

    /// Whether the check `name` ran and passed (or passed with a note).
    pub fn passed(&self, name: &str) -> bool {
        let mut of = self.checks.iter().filter(|c| c.name == name).peekable();
        of.peek().is_some() && of.all(|c| matches!(c.outcome, Outcome::Passed | Outcome::Note(_)))
    }

    /// Panics, listing every failure, unless every check passed or was skipped.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.failures().is_empty(), "plugin '{}' fails the conformance kit:\n{self}", self.plugin);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  ok      {}", c.name)?,
                Outcome::Failed(m) => writeln!(f, "  FAILED  {}: {m}", c.name)?,
                Outcome::Skipped(m) => writeln!(f, "  skipped {}: {m}", c.name)?,
                Outcome::Note(m) => writeln!(f, "  ok      {} (note: {m})", c.name)?,
            }
        }
        Ok(())
    }
}

type SinkConfig = Box<dyn Fn(&Path) -> serde_json::Value>;

/// The conformance run of plugin `P`: give it a source configuration that
/// reads a small sample and/or a sink configuration, then [`Conformance::run`].
pub struct Conformance<P: Plugin> {
    base_dir: PathBuf,
    source: Option<serde_json::Value>,
    sink: Option<SinkConfig>,
    sink_input: Option<SourceOutput>,
    bad_config: Option<serde_json::Value>,
    not_produced: Vec<EntityKind>,
    _plugin: PhantomData<P>,
}

impl<P: Plugin> Conformance<P> {
    /// A run whose relative paths resolve against `base_dir` (a temporary
    /// folder of the test's: the dry-run check watches every file under it).
    pub fn new(base_dir: impl Into<PathBuf>) -> Conformance<P> {
        Conformance {
            base_dir: base_dir.into(),
            source: None,
            sink: None,
            sink_input: None,
            bad_config: None,
            not_produced: Vec::new(),
            _plugin: PhantomData,
        }
    }

    /// The source's configuration, reading a sample that has records of
    /// every entity the plugin declares.
    #[must_use]
    pub fn source(mut self, config: serde_json::Value) -> Conformance<P> {
        self.source = Some(config);
        self
    }

    /// The sink's configuration, given a fresh, empty output folder for
    /// each run of the sink (under the base folder).
    #[must_use]
    pub fn sink(mut self, config: impl Fn(&Path) -> serde_json::Value + 'static) -> Conformance<P> {
        self.sink = Some(Box::new(config));
        self
    }

    /// What to write into the sink (default: what the plugin's own source
    /// read, when it has one and it was configured; else three
    /// [`testkit::sample_record`]s of every entity the sink declares).
    #[must_use]
    pub fn sink_input(mut self, input: SourceOutput) -> Conformance<P> {
        self.sink_input = Some(input);
        self
    }

    /// A configuration the plugin must refuse with an error (default: a
    /// JSON string where an object is expected).
    #[must_use]
    pub fn bad_config(mut self, config: serde_json::Value) -> Conformance<P> {
        self.bad_config = Some(config);
        self
    }

    /// Declared entities the sample is allowed not to produce.
    #[must_use]
    pub fn not_produced(mut self, entities: &[EntityKind]) -> Conformance<P> {
        self.not_produced.extend_from_slice(entities);
        self
    }

    /// Runs every check that applies.
    pub fn run(self) -> Report {
        let mut report = Report { plugin: "<invalid manifest>".into(), checks: Vec::new() };
        let manifest = match testkit::manifest::<P>() {
            Ok(m) => m,
            Err(e) => {
                report.fail("manifest", format!("{e}; fix Plugin::MANIFEST"));
                return report;
            }
        };
        report.plugin.clone_from(&manifest.id);
        check_manifest(&manifest, &mut report);
        let source = manifest.capabilities.contains(&Capability::Source);
        let sink = manifest.capabilities.contains(&Capability::Sink);
        self.check_bad_config(&manifest, source, sink, &mut report);

        let mut read = None;
        match (&self.source, source) {
            (Some(config), true) => read = self.check_source(&manifest, config, &mut report),
            (Some(_), false) => report.fail(
                "source batches",
                "a source configuration was given, but the manifest's capabilities do not include \"source\"",
            ),
            (None, true) => report.push(
                "source batches",
                Outcome::Skipped("no source configuration given (Conformance::source)".into()),
            ),
            (None, false) => {}
        }
        match (&self.sink, sink) {
            (Some(config), true) => {
                let input = match (self.sink_input.as_ref(), read.as_ref()) {
                    (Some(i), _) => SourceInput::Borrowed(i),
                    (None, Some(r)) if !r.batches.is_empty() => SourceInput::Borrowed(r),
                    _ => match samples(&manifest) {
                        Ok(s) => SourceInput::Owned(s),
                        Err(e) => {
                            report.fail(
                                "sink accounting",
                                format!("cannot make sample records: {}", e.message),
                            );
                            return report;
                        }
                    },
                };
                self.check_sink(&manifest, config, input.get(), &mut report);
            }
            (Some(_), false) => report.fail(
                "sink accounting",
                "a sink configuration was given, but the manifest's capabilities do not include \"sink\"",
            ),
            (None, true) => report.push(
                "sink accounting",
                Outcome::Skipped("no sink configuration given (Conformance::sink)".into()),
            ),
            (None, false) => {}
        }
        report
    }

    fn check_bad_config(&self, m: &Manifest, source: bool, sink: bool, report: &mut Report) {
        const NAME: &str = "errors as values";
        if m.config.is_empty() && self.bad_config.is_none() {
            report.push(NAME, Outcome::Skipped("the manifest declares no configuration keys".into()));
            return;
        }
        let bad = self.bad_config.clone().unwrap_or_else(|| "not a configuration".into());
        let mut check = |what: &str, r: Result<(), Error>| {
            match r {
            Ok(()) => report.fail(
                NAME,
                format!("the {what} opened with the broken configuration {bad}; it must return Error::config naming the key at fault"),
            ),
            Err(e) if e.kind == ErrorKind::Panic => report.fail(
                NAME,
                format!("the {what} panicked on a broken configuration instead of returning an error: {}", e.message),
            ),
            Err(e) if e.message.trim().is_empty() => {
                report.fail(NAME, format!("the {what} refused a broken configuration with an empty message"));
            }
            Err(_) => report.push(NAME, Outcome::Passed),
        }
        };
        if source {
            let r = open_source::<P>(&Ok(m.clone()), self.request(&bad, false, CancelFlag::never()));
            check("source", rresult(r).map(drop));
        }
        if sink {
            let r =
                crate::plugin::open_sink::<P>(&Ok(m.clone()), self.request(&bad, false, CancelFlag::never()));
            check("sink", rresult(r).map(drop));
        }
    }

    fn request(&self, config: &serde_json::Value, source_tables: bool, cancel: CancelFlag) -> OpenRequest {
        let options = OpenOptions { source_tables, ..OpenOptions::default() };
        OpenRequest {
            config_json: config.to_string().into(),
            base_dir: self.base_dir.to_string_lossy().into_owned().into(),
            run_id: format!("conformance-{}", std::process::id()).into(),
            options_json: serde_json::to_string(&options).unwrap_or_default().into(),
            cancel,
        }
    }

    fn check_source(
        &self,
        m: &Manifest,
        config: &serde_json::Value,
        report: &mut Report,
    ) -> Option<SourceOutput> {
        let declared: BTreeSet<String> = m.entities.iter().cloned().collect();
        let big = match self.read(m, config, 1000, report) {
            Ok(r) => r,
            Err(e) => {
                report.fail("source batches", format!("reading the sample failed: {e}"));
                return None;
            }
        };
        if report.failed("source batches") {
            return None;
        }
        report.push("source batches", Outcome::Passed);

        // Entities.
        const ENT: &str = "entities";
        let produced: BTreeSet<String> = big.out.batches.iter().map(|b| b.0.name().to_owned()).collect();
        let listed: BTreeSet<String> = big.listed.iter().map(|e| e.name().to_owned()).collect();
        let before = report.failures().len();
        for e in listed.difference(&declared) {
            report
                .fail(ENT, format!("Source::entities() lists {e}, which the manifest's `entities` does not"));
        }
        for e in produced.difference(&declared) {
            report.fail(
                ENT,
                format!("the source produced {e} records, but the manifest's `entities` does not list {e}"),
            );
        }
        for e in produced.difference(&listed) {
            report.fail(
                ENT,
                format!("the source produced {e} records, but Source::entities() does not list {e}"),
            );
        }
        let excused: BTreeSet<String> = self.not_produced.iter().map(|e| e.name().to_owned()).collect();
        // A configurable connector declares every entity it can read in its
        // manifest; what one opened source will produce is its entities().
        for e in listed.difference(&produced) {
            if !excused.contains(e) {
                report.fail(
                    ENT,
                    format!(
                        "Source::entities() lists {e}, but the sample produced none: give a sample with {e} records, or excuse it with Conformance::not_produced"
                    ),
                );
            }
        }
        if report.failures().len() == before {
            report.push(ENT, Outcome::Passed);
        }

        // The same records at another batch size.
        match self.read(m, config, 1, report) {
            Ok(small) => {
                let a = counts(&big.out);
                let b = counts(&small.out);
                if a == b {
                    report.push("batch sizes", Outcome::Passed);
                } else {
                    report.fail(
                        "batch sizes",
                        format!("read at batch size 1000 the source gave {a:?} (records, rejects) per entity, at batch size 1 {b:?}"),
                    );
                }
            }
            Err(e) => report.fail("batch sizes", format!("reading the sample at batch size 1 failed: {e}")),
        }
        self.check_panic(m, config, report);
        self.check_cancel(m, config, report);
        Some(big.out)
    }

    /// Reads the whole source, checking every batch as the host does.
    fn read(
        &self,
        m: &Manifest,
        config: &serde_json::Value,
        size: u32,
        report: &mut Report,
    ) -> Result<Read, String> {
        let mut src =
            rresult(open_source::<P>(&Ok(m.clone()), self.request(config, false, CancelFlag::never())))
                .map_err(|e| describe("opening the source", &e))?;
        let listed = match src.entities() {
            RResult::ROk(v) => v.iter().map(|n| entity(n)).collect::<Result<Vec<_>, _>>()?,
            RResult::RErr(e) => return Err(describe("Source::entities()", &e.into())),
        };
        let mut out = SourceOutput::default();
        for n in 0.. {
            let b = match src.next_batch(size) {
                RResult::ROk(ROption::RSome(b)) => b,
                RResult::ROk(ROption::RNone) => break,
                RResult::RErr(e) => {
                    let _ = src.close();
                    return Err(describe(&format!("next_batch (call {})", n + 1), &e.into()));
                }
            };
            if let Err(e) = take_batch(b, size, &mut out) {
                report.fail("source batches", format!("batch {} (batch size {size}): {e}", n + 1));
            }
        }
        rresult(src.close()).map_err(|e| describe("close", &e))?;
        Ok(Read { out, listed })
    }

    fn check_panic(&self, m: &Manifest, config: &serde_json::Value, report: &mut Report) {
        const NAME: &str = "panics";
        let inner = match P::open_source(&self.context(config, CancelFlag::never())) {
            Ok(s) => s,
            Err(e) => {
                report.fail(NAME, format!("opening the source a second time failed: {}", e.message));
                return;
            }
        };
        let mut adapter = crate::guard::SourceAdapter {
            plugin: m.id.clone(),
            inner: Some(Box::new(Panicking(inner))),
            builder: crate::source::BatchBuilder::new(1),
            done: false,
            poisoned: Default::default(),
        };
        use ferry_plugin_abi::FfiSource as _;
        quiet_deliberate_panics();
        let first = adapter.next_batch(100);
        let again = adapter.next_batch(100);
        let _ = adapter.close();
        match (first, again) {
            (RResult::RErr(e), RResult::RErr(e2))
                if e.error_kind() == ErrorKind::Panic
                    && e.message.contains(&format!("'{}'", m.id))
                    && e2.error_kind() == ErrorKind::Panic =>
            {
                report.push(NAME, Outcome::Passed);
            }
            (first, _) => report.fail(
                NAME,
                format!(
                    "a panic inside the source did not become an error of kind Panic naming plugin '{}' (got {})",
                    m.id,
                    match first {
                        RResult::ROk(_) => "a batch".to_owned(),
                        RResult::RErr(e) => format!("{:?}: {}", e.error_kind(), e.message),
                    }
                ),
            ),
        }
    }

    fn context(&self, config: &serde_json::Value, cancel: CancelFlag) -> crate::OpenContext {
        let mut ctx = crate::OpenContext::new(config.clone(), &self.base_dir);
        ctx.cancel = cancel;
        ctx
    }

    fn check_cancel(&self, m: &Manifest, config: &serde_json::Value, report: &mut Report) {
        const NAME: &str = "cancellation";
        let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let mut src = match rresult(open_source::<P>(
            &Ok(m.clone()),
            self.request(config, false, CancelFlag::new(flag)),
        )) {
            Ok(s) => s,
            Err(e) => {
                report.fail(NAME, describe("opening the source", &e));
                return;
            }
        };
        let first = src.next_batch(1);
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        let second = src.next_batch(1);
        let closed = src.close();
        let before = report.failures().len();
        match (first, second) {
            (RResult::ROk(ROption::RNone), _) => {
                report.push(NAME, Outcome::Skipped("the sample is empty".into()));
                return;
            }
            (RResult::RErr(e), _) => report.fail(NAME, describe("the first next_batch", &e.into())),
            (_, RResult::RErr(e)) if e.error_kind() == ErrorKind::Cancelled => {}
            (_, RResult::RErr(e)) => report.fail(
                NAME,
                format!(
                    "a cancelled read failed with {:?} instead of Cancelled: {}",
                    e.error_kind(),
                    e.message
                ),
            ),
            (_, RResult::ROk(_)) => {
                report.fail(NAME, "a read cancelled after its first batch went on sending batches; return Error::cancelled()");
            }
        }
        if let RResult::RErr(e) = closed {
            report.fail(NAME, describe("close after a cancelled read", &e.into()));
        }
        if report.failures().len() > before {
            return;
        }
        // Inside one call: the plugin's own code, with the flag set already.
        let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(true)));
        match P::open_source(&self.context(config, CancelFlag::new(flag))) {
            Err(e) if e.kind == ErrorKind::Cancelled => report.push(NAME, Outcome::Passed),
            Err(e) => report.fail(
                NAME,
                format!(
                    "opening a source of a cancelled run failed with {:?} instead of Cancelled: {}",
                    e.kind, e.message
                ),
            ),
            Ok(mut inner) => {
                let mut builder = crate::source::BatchBuilder::new(100_000);
                builder.cancel = CancelFlag::new(flag);
                match inner.next_batch(&mut builder) {
                    Err(e) if e.kind == ErrorKind::Cancelled => report.push(NAME, Outcome::Passed),
                    Err(e) => report.fail(
                        NAME,
                        format!("next_batch of a cancelled run failed with {:?} instead of Cancelled: {}", e.kind, e.message),
                    ),
                    Ok(_) => report.push(
                        NAME,
                        Outcome::Note(format!(
                            "one next_batch call read {} records with the cancel flag set without returning Error::cancelled(); the SDK checks the flag between calls, but a long call (a big file, an HTTP request) should check BatchBuilder::cancelled() itself",
                            builder.len()
                        )),
                    ),
                }
                let _ = inner.close();
            }
        }
    }

    fn check_sink(&self, m: &Manifest, config: &SinkConfig, input: &SourceOutput, report: &mut Report) {
        let mut runs = 0;
        let mut fresh = || {
            runs += 1;
            let dir = self.base_dir.join(format!(".conformance-sink-{}-{runs}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map(|()| dir)
        };
        let Ok(out_dir) = fresh() else {
            report.fail(
                "sink accounting",
                format!("cannot create an output folder under {}", self.base_dir.display()),
            );
            return;
        };
        let ids = source_ids(input);
        match testkit::run_sink_with::<P>(&config(&out_dir), &self.base_dir, input, false) {
            Ok(o) => {
                if o.written == 0 && !input.batches.is_empty() {
                    report.fail(
                        "sink accounting",
                        format!(
                            "the sink wrote none of the {} records given; every one was rejected: {}",
                            input.batches.iter().map(|b| b.1.num_rows()).sum::<usize>(),
                            o.rejects.first().map_or("", |r| r.reason.as_str())
                        ),
                    );
                } else {
                    report.push("sink accounting", Outcome::Passed);
                }
                check_receipts(input, &ids, &o, report);
            }
            Err(e) => report.fail("sink accounting", describe("the sink run", &e)),
        }
        const DRY: &str = "dry run";
        if !m.dry_run {
            report.push(DRY, Outcome::Skipped("the manifest does not declare dry_run = true".into()));
            return;
        }
        let Ok(dry_dir) = fresh() else {
            report.fail(DRY, "cannot create an output folder");
            return;
        };
        let before = snapshot(&self.base_dir);
        match testkit::run_sink_with::<P>(&config(&dry_dir), &self.base_dir, input, true) {
            Ok(o) => {
                let after = snapshot(&self.base_dir);
                let changed: Vec<String> = before
                    .iter()
                    .filter(|(p, v)| after.get(*p) != Some(v))
                    .map(|(p, _)| format!("{} changed or went away", p.display()))
                    .chain(
                        after
                            .keys()
                            .filter(|p| !before.contains_key(*p))
                            .map(|p| format!("{} was created", p.display())),
                    )
                    .collect();
                if !changed.is_empty() {
                    report.fail(DRY, format!("a dry run must write nothing, but {}", changed.join(", ")));
                } else if o.committed.is_some() {
                    report.fail(DRY, "a dry run committed");
                } else {
                    report.push(DRY, Outcome::Passed);
                }
            }
            Err(e) => report.fail(DRY, describe("the dry run", &e)),
        }
    }
}

enum SourceInput<'a> {
    Borrowed(&'a SourceOutput),
    Owned(SourceOutput),
}

impl SourceInput<'_> {
    fn get(&self) -> &SourceOutput {
        match self {
            SourceInput::Borrowed(s) => s,
            SourceInput::Owned(s) => s,
        }
    }
}

struct Read {
    out: SourceOutput,
    listed: Vec<EntityKind>,
}

const DELIBERATE: &str = "the conformance kit's deliberate panic";

/// Keeps the kit's own panic out of the test output (other panics are
/// reported by the hook there was before).
fn quiet_deliberate_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&DELIBERATE) {
                previous(info);
            }
        }));
    });
}

/// A source whose `next_batch` panics, to check the SDK's guard with the plugin's id.
struct Panicking(Box<dyn crate::Source>);

impl crate::Source for Panicking {
    fn entities(&self) -> Vec<EntityKind> {
        self.0.entities()
    }
    fn next_batch(&mut self, _: &mut crate::source::BatchBuilder) -> Result<bool, Error> {
        std::panic::panic_any(DELIBERATE)
    }
    fn close(&mut self) -> Result<(), Error> {
        self.0.close()
    }
}

fn rresult<T>(r: RResult<T, ferry_plugin_abi::PluginError>) -> Result<T, Error> {
    match r {
        RResult::ROk(v) => Ok(v),
        RResult::RErr(e) => Err(e.into()),
    }
}

fn describe(what: &str, e: &Error) -> String {
    if e.kind == ErrorKind::Panic {
        format!("{what} panicked: {}", e.message)
    } else {
        format!("{what} returned an error ({:?}): {}", e.kind, e.message)
    }
}

fn entity(name: &str) -> Result<EntityKind, String> {
    EntityKind::from_name(name)
        .ok_or_else(|| format!("Source::entities() lists '{name}', which is not an entity"))
}

/// Checks one batch as the host does, and keeps it.
fn take_batch(b: Batch, size: u32, out: &mut SourceOutput) -> Result<(), String> {
    let Batch { entity: name, records, diagnostics, model_major, .. } = b;
    if model_major != ferry_model::MODEL_VERSION.0 {
        return Err(format!(
            "the batch says model {model_major}.x; this SDK is {}.x",
            ferry_model::MODEL_VERSION.0
        ));
    }
    let diagnostics =
        ferry_wire::import_diagnostics(diagnostics).map_err(|e| format!("unreadable diagnostics: {e}"))?;
    for d in diagnostics.iter().filter(|d| !d.is_notice()) {
        if d.reason.trim().is_empty() {
            return Err(format!("a reject or warning of {} has no reason", d.entity));
        }
    }
    out.rejects.extend(
        diagnostics.iter().filter_map(crate::Reject::from_diagnostic).filter(crate::Reject::is_reject),
    );
    let records = ferry_wire::import(records, true).map_err(|e| format!("not valid Arrow data: {e}"))?;
    if ferry_plugin_abi::source_table_name(&name).is_some() {
        return Err(format!("a batch of source table {name} though no source tables were asked for"));
    }
    let Some(records) = records else { return Ok(()) };
    let kind =
        EntityKind::from_name(&name).ok_or_else(|| format!("records of an unknown entity '{name}'"))?;
    ferry_wire::check_layout(kind, &records)
        .map_err(|e| format!("a batch of {kind} does not follow the model: {e}"))?;
    if records.num_rows() > size as usize {
        return Err(format!("{} rows in a batch, asked for at most {size}", records.num_rows()));
    }
    if records.num_rows() > 0 {
        out.batches.push((kind, records));
    }
    Ok(())
}

fn counts(o: &SourceOutput) -> BTreeMap<String, (u64, usize)> {
    let mut m: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for (e, b) in &o.batches {
        m.entry(e.name().to_owned()).or_default().0 += b.num_rows() as u64;
    }
    for r in &o.rejects {
        m.entry(r.entity.name().to_owned()).or_default().1 += 1;
    }
    m
}

fn samples(m: &Manifest) -> Result<SourceOutput, Error> {
    let mut out = SourceOutput::default();
    for name in &m.entities {
        let Some(kind) = EntityKind::from_name(name) else { continue };
        ferry_model::with_record_type!(kind, R => {
            let records: Vec<R> = (1..=3).map(|n| testkit::sample_record::<R>(&format!("s{n}"), n, true)).collect();
            out.push(&records)?;
        });
    }
    Ok(out)
}

fn source_ids(input: &SourceOutput) -> HashSet<(String, String)> {
    let mut ids = HashSet::new();
    for (e, b) in &input.batches {
        if let Ok(v) = MetaView::new(b) {
            for i in 0..b.num_rows() {
                ids.insert((e.name().to_owned(), v.source_id(i).to_owned()));
            }
        }
    }
    ids
}

fn check_receipts(
    input: &SourceOutput,
    ids: &HashSet<(String, String)>,
    o: &testkit::SinkOutcome,
    report: &mut Report,
) {
    const NAME: &str = "receipts";
    if o.receipts.is_empty() {
        report.push(NAME, Outcome::Skipped("the sink returns no receipts".into()));
        return;
    }
    let before = report.failures().len();
    let mut by_source = HashSet::new();
    let mut by_dest = HashSet::new();
    let mut per_entity: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &o.receipts {
        let key = (r.entity.clone(), r.source_id.clone());
        if !ids.contains(&key) {
            report.fail(
                NAME,
                format!("a receipt of {} names source id '{}', which was not given", r.entity, r.source_id),
            );
        }
        if r.destination_id.is_empty() {
            report.fail(NAME, format!("the receipt of {} '{}' has no destination id", r.entity, r.source_id));
        }
        if !by_source.insert(key) {
            report.fail(NAME, format!("two receipts of {} source id '{}'", r.entity, r.source_id));
        }
        if !r.destination_id.is_empty() && !by_dest.insert((r.entity.clone(), r.destination_id.clone())) {
            report.fail(NAME, format!("two {} records got destination id '{}'", r.entity, r.destination_id));
        }
        *per_entity.entry(r.entity.as_str()).or_default() += 1;
    }
    for (entity, n) in per_entity {
        let given: u64 =
            input.batches.iter().filter(|b| b.0.name() == entity).map(|b| b.1.num_rows() as u64).sum();
        let rejected = o.rejects.iter().filter(|r| r.entity.name() == entity).count() as u64;
        let written = given.saturating_sub(rejected);
        if n != written {
            report.fail(
                NAME,
                format!(
                    "{n} receipts of {entity} for {written} records written: give one per written record"
                ),
            );
        }
    }
    if report.failures().len() == before {
        report.push(NAME, Outcome::Passed);
    }
}

/// Every file under `dir` with its length and modification time (the sink's
/// temporary output folders included).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<std::time::SystemTime>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                out.insert(p.clone(), (0, None));
                stack.push(p);
            } else {
                out.insert(p, (meta.len(), meta.modified().ok()));
            }
        }
    }
    out
}

fn check_manifest(m: &Manifest, report: &mut Report) {
    const NAME: &str = "manifest";
    let before = report.failures().len();
    if let Err(e) = check_plugin_id(&m.id) {
        report.fail(NAME, e);
    }
    if m.version.trim().is_empty() {
        report.fail(NAME, "the manifest's version is empty");
    }
    if m.description.trim().is_empty() {
        report.fail(
            NAME,
            "the manifest has no description: say in a few words what the plugin reads or writes",
        );
    }
    if m.capabilities.is_empty() {
        report.fail(NAME, "the manifest's capabilities are empty: give [\"source\"], [\"sink\"] or both");
    }
    if m.entities.is_empty() {
        report.fail(NAME, "the manifest's entities are empty: list the entities the plugin reads or writes");
    }
    for (key, f) in &m.config {
        if !CONFIG_TYPES.contains(&f.ty.as_str()) {
            report.fail(
                NAME,
                format!(
                    "configuration key `{key}` has type \"{}\"; use one of {}",
                    f.ty,
                    CONFIG_TYPES.join(", ")
                ),
            );
        }
        if f.description.trim().is_empty() {
            report.fail(
                NAME,
                format!("configuration key `{key}` has no description (`ferry plugins info` shows it)"),
            );
        }
    }
    if let Some(l) = m.location.as_ref().filter(|l| !m.config.contains_key(*l)) {
        report.fail(NAME, format!("`location = \"{l}\"` names no [config.{l}] key"));
    }
    if report.failures().len() == before {
        report.push(NAME, Outcome::Passed);
    }
}
