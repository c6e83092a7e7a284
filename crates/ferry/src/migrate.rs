//! `ferry migrate`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use ferry_host::checks::{ChecksTap, RuleConfig};
use ferry_host::control::{RunControl, StopReason};
use ferry_host::discovery;
use ferry_host::inventory::InventoryTap;
use ferry_host::job::{self, JobSpec, RunOptions};
use ferry_host::loader;
use ferry_host::pipeline::{self, Endpoint, Migration};
use ferry_host::stages::Tap;
use ferry_plugin_abi::ErrorKind;

use crate::UsageError;
use crate::cli::{Format, MigrateArgs};
use crate::output::{IdsFile, ReceiptsFile, RejectsFile, RunObserver, print_summary};
use crate::project::{Entry, Outcome, Project, Step};

/// Exit code of a run that completed with rejected records.
pub const EXIT_REJECTS: u8 = 3;

/// What `--plan` adds to a run.
pub(crate) struct PlanRun {
    /// The plan's stages.
    pub stages: ferry_host::plan::RunPlan,
    /// The id strategy.
    pub strategy: ferry_host::plan::IdStrategy,
    /// Where the old ↔ new ids go.
    pub ids_out: Option<PathBuf>,
    /// Source and destination overrides the plan gives.
    pub from_set: Vec<String>,
    pub to_set: Vec<String>,
    /// Where the source came from, for the terminal.
    pub source_note: String,
}

/// The newest snapshot of the migration folder `dir` is in, as a source.
fn newest_snapshot(dir: &std::path::Path) -> Option<String> {
    let project = Project::find(dir)?;
    let snaps = project.root.join("snapshots");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.json").is_file() && p.join("snapshot.sqlite").is_file())
        .collect();
    found.sort();
    found.pop().map(|p| format!("sqlite:{}", p.join("snapshot.sqlite").display()))
}

/// The job a plan describes: its source (the newest snapshot unless
/// `--from`), the destination `--to` names, its field policy and stages.
fn plan_job(args: &MigrateArgs, path: &std::path::Path) -> anyhow::Result<(JobSpec, PlanRun)> {
    let loaded = crate::plan::Loaded::read(path)?;
    let plan = &loaded.plan;
    let dir = loaded.dir();
    let mut from_set = Vec::new();
    let (from, source_note) = match (&args.from, newest_snapshot(&dir), &plan.source) {
        (Some(f), _, _) => (f.clone(), format!("--from {f}")),
        (None, Some(snap), _) => (snap.clone(), format!("the newest snapshot ({snap})")),
        (None, None, Some(src)) => {
            from_set.clone_from(&src.set);
            (loaded.endpoint(&src.from), format!("the plan's [source] ({})", src.from))
        }
        (None, None, None) => bail!(UsageError(format!(
            "{}: no source: take a snapshot (`ferry freeze`), give [source] from = \"PLUGIN:LOCATION\" in the plan, or --from",
            path.display()
        ))),
    };
    let names: Vec<&String> = plan.destinations.keys().collect();
    let to = match (&args.to, names.as_slice()) {
        (Some(t), _) => t.clone(),
        (None, [one]) => (*one).clone(),
        (None, _) => bail!(UsageError(format!(
            "give --to NAME: the plan names the destinations {}",
            if names.is_empty() {
                "(none)".into()
            } else {
                names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        ))),
    };
    let mut to_set = Vec::new();
    let sink = match plan.destinations.get(&to) {
        Some(d) => {
            to_set.clone_from(&d.set);
            match (&d.to, &d.plugin, &d.config, &d.settings) {
                (Some(t), _, _, _) => job::parse_endpoint(&loaded.endpoint(t))?,
                (None, Some(p), Some(c), _) => {
                    let (config, base_dir) = job::read_config_file(&dir.join(c))?;
                    job::EndpointSpec { plugin: p.clone(), config, base_dir, location: None }
                }
                (None, Some(p), None, settings) => job::EndpointSpec {
                    plugin: p.clone(),
                    config: serde_json::to_value(settings.clone().unwrap_or_default())?,
                    base_dir: dir.clone(),
                    location: None,
                },
                (None, None, _, _) => bail!(UsageError(format!(
                    "{}: destination '{to}' names no connector (`to` or `plugin`)",
                    path.display()
                ))),
            }
        }
        None => job::parse_endpoint(&to)?,
    };
    let stages = plan.compile(&dir).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    let run = RunOptions { field_policy: plan.field_policy.clone(), ..RunOptions::default() };
    run.field_policy.check().map_err(|e| UsageError(format!("{}: [field_policy] {e}", path.display())))?;
    let job = JobSpec { source: job::parse_endpoint(&from)?, sink, run };
    let ids_out = if args.no_id_crosswalk { None } else { plan.ids.write.as_ref().map(|w| dir.join(w)) };
    Ok((job, PlanRun { stages, strategy: plan.ids.strategy, ids_out, from_set, to_set, source_note }))
}

fn job_from_args(args: &MigrateArgs) -> anyhow::Result<(JobSpec, Option<PlanRun>)> {
    let mut plan_run = None;
    let mut job = match (&args.job, &args.from) {
        (Some(path), _) => job::read_job(path)?,
        (None, _) if args.plan.is_some() => {
            let (job, p) = plan_job(args, args.plan.as_deref().unwrap_or(std::path::Path::new("plan.toml")))?;
            plan_run = Some(p);
            job
        }
        (None, Some(from)) => JobSpec {
            source: job::parse_endpoint(from)?,
            sink: match &args.to {
                Some(to) => job::parse_endpoint(to)?,
                None => job::default_sink(),
            },
            run: RunOptions::default(),
        },
        (None, None) => bail!("give --job FILE, or --from PLUGIN[:CONFIG.toml|:LOCATION]"),
    };
    if let Some(r) = &args.rejects {
        job.run.rejects = Some(r.clone());
    }
    if let Some(r) = &args.receipts {
        job.run.receipts = Some(r.clone());
    }
    job.run.allow_rejects |= args.allow_rejects;
    job.run.include_values |= args.include_values;
    if !args.only.is_empty() {
        job.run.only = Some(args.only.clone());
    }
    if let Some(b) = args.batch_size {
        job.run.batch_size = b;
    }
    for rule in &args.field_policy {
        job.run.field_policy.apply(rule).map_err(anyhow::Error::msg)?;
    }
    if job.run.batch_size == 0 {
        bail!("the batch size must be at least 1");
    }
    Ok((job, plan_run))
}

/// A mistake in what was asked (exit 2), keeping its message.
fn usage(e: impl Into<anyhow::Error>) -> anyhow::Error {
    let e = e.into();
    anyhow::Error::new(UsageError(format!("{e:#}")))
}

fn run_id() -> String {
    let t = ferry_host::time::now().replace([':', '-'], "");
    format!("run-{t}-{}", std::process::id())
}

/// Stops the run on Ctrl-C, SIGTERM and SIGHUP (rolled back, exit 130, 143
/// or 129); a second signal exits at once.
fn install_stop_handler(control: Arc<RunControl>) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
        // A file-size limit (`ulimit -f`) makes a write fail with an error the
        // run rolls back on, instead of killing the process mid-write.
        if let Err(e) =
            signal_hook::flag::register(SIGXFSZ, Arc::new(std::sync::atomic::AtomicBool::new(false)))
        {
            tracing::warn!("cannot handle SIGXFSZ: {e}");
        }
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            tracing::warn!("cannot install the signal handler; an interruption will not roll back cleanly");
            return;
        };
        std::thread::spawn(move || {
            for sig in signals.forever() {
                let reason = match sig {
                    SIGTERM => StopReason::Terminate,
                    SIGHUP => StopReason::Hangup,
                    _ => StopReason::Interrupt,
                };
                if control.is_cancelled() {
                    std::process::exit(i32::from(reason.exit_code()));
                }
                if control.cancel(reason) {
                    eprintln!(
                        "\nInterrupted: stopping and rolling back; nothing will be committed (interrupt again to quit at once)."
                    );
                } else {
                    eprintln!("\nInterrupted while committing: the commit completes first.");
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = ctrlc::set_handler(move || {
            if control.is_cancelled() {
                std::process::exit(130);
            }
            control.cancel(StopReason::Interrupt);
            eprintln!("\nInterrupted: stopping and rolling back (Ctrl-C again to quit at once).");
        });
    }
}

/// A tap shared with this function, which reads what it collected after the
/// run (the inventory's profile, the checks' findings).
struct SharedTap<T>(Arc<std::sync::Mutex<T>>);

impl<T: Tap> Tap for SharedTap<T> {
    fn observe(&mut self, batch: &ferry_host::stages::StageBatch) {
        if let Ok(mut t) = self.0.lock() {
            t.observe(batch);
        }
    }
}

/// What a run in a migration folder records in its journal.
#[derive(Default)]
struct Notes {
    /// The files and folders the source reads.
    inputs: Vec<PathBuf>,
    /// The run report, as JSON.
    report: Option<serde_json::Value>,
    /// It was stopped.
    interrupted: bool,
}

/// The files and folders a source reads: its job or configuration file,
/// and what its configuration's `directory`, `path` and `file` keys name.
fn source_inputs(args: &MigrateArgs, job: &JobSpec) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(j) = &args.job {
        out.push(j.clone());
    }
    if let Some(p) = &args.plan {
        out.push(p.clone());
    }
    if let Some((_, rest)) = args.from.as_deref().and_then(|f| f.split_once(':')) {
        let p = PathBuf::from(rest);
        if p.exists() {
            out.push(p);
        }
    }
    for key in ["directory", "path", "file"] {
        if let Some(v) = job.source.config.get(key).and_then(|v| v.as_str()) {
            let p = job.source.base_dir.join(v);
            if p.exists() {
                out.push(p);
            }
        }
    }
    out
}

/// `ferry migrate`; in a migration folder, the run is recorded in its
/// journal (step `dry-run` or `migrate`) with its report in `reports/`.
pub fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let project = if std::env::var_os(crate::freeze::NO_JOURNAL).is_some() {
        None
    } else {
        std::env::current_dir().ok().and_then(|d| Project::find(&d))
    };
    let started_at = ferry_host::time::now();
    let command: Vec<String> = std::env::args().collect();
    let step = if args.dry_run { Step::DryRun } else { Step::Migrate };
    if project.is_some() {
        // A reader that goes away must not keep a committed run out of the journal.
        crate::DEFER_BROKEN_PIPE.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let text_output = args.format == Format::Text;
    let mut notes = Notes::default();
    let result = run_inner(args, quiet, &mut notes);
    let Some(project) = project else { return result };
    let report = match &notes.report {
        Some(r) => {
            let id = r["run_id"].as_str().unwrap_or("run").replace(['/', '\\', ':'], "_");
            let json = project
                .write_report(&format!("{}-{id}.json", step.name()), &serde_json::to_string_pretty(r)?)?;
            let page = run_page(r, &[("JSON", crate::html::file_name(&json))]);
            let html = project.write_report(&format!("{}-{id}.html", step.name()), &page)?;
            if text_output {
                outln!("Report: {json}; open in a browser: {html}");
            }
            Some(json)
        }
        None => None,
    };
    let counts = notes.report.as_ref().map_or(serde_json::Value::Null, crate::freeze::entity_counts);
    let passed = matches!(&result, Ok(c) if *c == ExitCode::SUCCESS);
    let outcome = if notes.interrupted {
        Outcome::Interrupted
    } else if passed {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    let error = match &result {
        Err(e) => Some(format!("{e:#}")),
        Ok(c) if *c == ExitCode::from(EXIT_REJECTS) => {
            Some("records were rejected (see the rejects file)".into())
        }
        _ => None,
    };
    let inputs = project.hash_inputs(&notes.inputs)?;
    project.record(&Entry {
        command,
        inputs,
        counts,
        error,
        report,
        ..Entry::ended(step, started_at, outcome)
    })?;
    result
}

/// A run report (JSON, as `--format json` prints it) as a standalone HTML
/// page: per entity, what was read and what the destination did (or, in a
/// dry run, would do) with it: created, updated, unchanged, deleted,
/// skipped by a rule of the plan, rejected; then the reject reasons.
fn run_page(r: &serde_json::Value, files: &[(&str, &str)]) -> String {
    use serde_json::Value;
    let dry = r["dry_run"] == true;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let entities = r["entities"].as_array().cloned().unwrap_or_default();
    let plans = r["plan"].as_array().cloned().unwrap_or_default();
    let plan_of = |e: &str| plans.iter().find(|p| p["entity"] == e);
    let total = |k: &str| entities.iter().map(|e| n(&e[k])).sum::<u64>();
    let plan_total = |k: &str| plans.iter().map(|p| n(&p[k])).sum::<u64>();
    let (source, sink) = (s(&r["source"]), s(&r["sink"]));
    let title =
        if dry { format!("Dry run: {source} → {sink}") } else { format!("Migration: {source} → {sink}") };
    let mut page = crate::html::Page::new(&title);
    let seconds = format!("{:.1} s", r["seconds"].as_f64().unwrap_or(0.0));
    let rejects = r["rejects_file"].as_str().unwrap_or("none written");
    let (run, started, location) = (s(&r["run_id"]), s(&r["started_at"]), s(&r["location"]));
    page.meta(&[
        ("Run", run.as_str()),
        ("Started", started.as_str()),
        ("Took", seconds.as_str()),
        ("Destination", location.as_str()),
        ("Rejects file", rejects),
    ]);
    if dry {
        page.note("A dry run: everything was read, validated and planned, and nothing was written.");
    }
    let mut figures = vec![("read", "Records read", total("read"))];
    if dry {
        figures.push(("written", "Would be accepted", total("written")));
    } else {
        figures.push(("written", "Written", total("written")));
    }
    if !plans.is_empty() {
        let verb = |would: &'static str, did: &'static str| if dry { would } else { did };
        figures.push(("create", verb("Would be created", "Created"), plan_total("create")));
        figures.push(("update", verb("Would be updated", "Updated"), plan_total("update")));
        figures.push(("unchanged", "Unchanged", plan_total("unchanged")));
        if plan_total("delete") > 0 {
            figures.push(("delete", verb("Would be deleted", "Deleted"), plan_total("delete")));
        }
    }
    figures.push(("skipped", "Skipped by a rule of the plan", total("skipped")));
    figures.push(("rejected", "Rejected", total("rejected")));
    page.figures(&figures);
    page.links("The same report as data", files);
    page.note("Every record read is accepted, skipped by a rule of the plan, or rejected with a reason: read = accepted + skipped + rejected, per entity.");

    page.heading("Per entity");
    let mut headers = vec!["entity", "read", if dry { "would accept" } else { "written" }];
    if !plans.is_empty() {
        headers.extend(if dry {
            ["would create", "would update", "unchanged", "would delete"]
        } else {
            ["created", "updated", "unchanged", "deleted"]
        });
    }
    headers.extend(["skipped", "rejected", "warned"]);
    let rows: Vec<Vec<String>> = entities
        .iter()
        .map(|e| {
            let name = s(&e["entity"]);
            let mut row = vec![name.clone(), n(&e["read"]).to_string(), n(&e["written"]).to_string()];
            if !plans.is_empty() {
                let p = plan_of(&name);
                for k in ["create", "update", "unchanged", "delete"] {
                    row.push(p.map_or_else(|| "-".to_owned(), |p| n(&p[k]).to_string()));
                }
            }
            for k in ["skipped", "rejected", "warned"] {
                row.push(n(&e[k]).to_string());
            }
            row
        })
        .collect();
    page.table(&headers, &rows);
    let read: Vec<(String, u64)> = entities.iter().map(|e| (s(&e["entity"]), n(&e["read"]))).collect();
    page.bar_chart("Records read per entity", &read);
    let rejected: Vec<(String, u64)> = entities
        .iter()
        .filter(|e| n(&e["rejected"]) > 0)
        .map(|e| (s(&e["entity"]), n(&e["rejected"])))
        .collect();
    if !rejected.is_empty() {
        page.bar_chart("Records rejected per entity", &rejected);
    }

    page.heading("Reject reasons");
    let reasons: Vec<Vec<String>> = entities
        .iter()
        .flat_map(|e| {
            let name = s(&e["entity"]);
            e["top_reasons"].as_array().cloned().unwrap_or_default().into_iter().map(move |x| {
                vec![
                    name.clone(),
                    x[0].as_str().unwrap_or("").to_owned(),
                    x[1].as_u64().unwrap_or(0).to_string(),
                ]
            })
        })
        .collect();
    if reasons.is_empty() {
        page.para("Nothing was rejected.");
    } else {
        page.note(if r["rejects_file"].is_string() {
            "The most frequent reasons per entity; every rejected record, with its file, line and reason, is in the rejects file."
        } else {
            "The most frequent reasons per entity. A dry run writes no rejects file; give it --rejects FILE to list every rejected record with its file, line and reason."
        });
        page.table(&["entity", "reason", "records"], &reasons);
    }
    let tables: Vec<Vec<String>> = r["source_tables"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| vec![s(&t["table"]), n(&t["read"]).to_string(), n(&t["written"]).to_string()])
        .collect();
    if !tables.is_empty() {
        page.heading("Source tables kept as they came");
        page.table(&["table", "rows read", "rows written"], &tables);
    }
    let lines: Vec<String> = ["notices", "notes"]
        .iter()
        .flat_map(|k| r[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if !lines.is_empty() {
        page.heading("Notes");
        page.list(&lines);
    }
    page.finish()
}

/// Which plugins run isolated, and their limits: the command line over the job.
#[cfg(unix)]
fn isolation(
    args: &MigrateArgs,
    job: &JobSpec,
) -> anyhow::Result<(ferry_host::isolate::Isolate, ferry_host::isolate::Limits)> {
    use crate::cli::IsolateArg;
    use ferry_host::isolate::Isolate;
    let isolate = match args.isolate {
        None => job.run.isolate,
        Some(IsolateArg::None) => Isolate::None,
        Some(IsolateArg::Source) => Isolate::Source,
        Some(IsolateArg::Sink) => Isolate::Sink,
        Some(IsolateArg::All) => Isolate::All,
    };
    let mut limits = job.run.isolation;
    if args.memory_mb.is_some() {
        limits.memory_mb = args.memory_mb;
    }
    if args.timeout_s.is_some() {
        limits.timeout_s = args.timeout_s;
    }
    if limits.any() && isolate == Isolate::None {
        bail!(
            "a memory or time limit (--memory-mb, --timeout-s, [run.isolation]) holds only for isolated plugins; add --isolate (or isolate = \"all\" under [run])"
        );
    }
    if limits.memory_mb == Some(0) || limits.timeout_s == Some(0) {
        bail!("a memory or time limit must be at least 1");
    }
    Ok((isolate, limits))
}

#[cfg(not(unix))]
fn isolation(args: &MigrateArgs, _: &JobSpec) -> anyhow::Result<((), ())> {
    if args.isolate.is_some_and(|i| i != crate::cli::IsolateArg::None) {
        bail!("plugin isolation (--isolate) is built for Unix only");
    }
    Ok(((), ()))
}

#[cfg(unix)]
fn isolate_role(role: &str, isolate: ferry_host::isolate::Isolate) -> bool {
    if role == "source" { isolate.source() } else { isolate.sink() }
}

#[cfg(not(unix))]
fn isolate_role(_: &str, _: ()) -> bool {
    false
}

fn run_inner(args: MigrateArgs, quiet: bool, notes: &mut Notes) -> anyhow::Result<ExitCode> {
    // First of all: a stop while plugins load must roll back too, not kill.
    let control = Arc::new(RunControl::new());
    install_stop_handler(control.clone());
    let (mut job, plan_run) = job_from_args(&args).map_err(usage)?;
    if let Some(p) = &plan_run
        && !quiet
        && std::env::var_os(crate::freeze::NO_JOURNAL).is_none()
    {
        eprintln!("Running the plan from {}.", p.source_note);
    }
    let only = job.run.only_entities().map_err(usage)?;
    let (isolate, limits) = isolation(&args, &job).map_err(usage)?;
    let found = discovery::discover(&discovery::search_dirs());
    let load = |id: &str, role: &str| -> anyhow::Result<loader::LoadedPlugin> {
        let entry = found.select(id).map_err(UsageError)?;
        let wanted = if role == "source" { entry.manifest.is_source() } else { entry.manifest.is_sink() };
        if !wanted {
            bail!(UsageError(format!(
                "plugin '{id}' cannot be a {role} (it is: {:?})",
                entry.manifest.capabilities
            )));
        }
        if isolate_role(role, isolate) {
            #[cfg(unix)]
            return Ok(ferry_host::isolate::load(entry, args.verification(), limits)?);
        }
        Ok(loader::load(entry, args.verification())?)
    };
    let source = load(&job.source.plugin, "source")?;
    let sink = load(&job.sink.plugin, "sink")?;
    tracing::info!(source = %source.manifest.id, sink = %sink.manifest.id, "Plugins loaded.");

    // The configuration as the user gave it: a bare location, then overrides.
    job::apply_location(&mut job.source, &source.manifest).map_err(usage)?;
    notes.inputs = source_inputs(&args, &job);
    job::apply_location(&mut job.sink, &sink.manifest).map_err(usage)?;
    let (plan_from, plan_to) =
        plan_run.as_ref().map(|p| (p.from_set.clone(), p.to_set.clone())).unwrap_or_default();
    for s in plan_from.iter().chain(&args.from_set) {
        job::apply_override(&mut job.source.config, s).map_err(usage)?;
    }
    for s in plan_to.iter().chain(&args.to_set) {
        job::apply_override(&mut job.sink.config, s).map_err(usage)?;
    }
    if args.dry_run && !sink.manifest.dry_run {
        bail!(UsageError(format!(
            "plugin '{}' does not support dry runs; run without --dry-run against a sandbox instead",
            sink.manifest.id
        )));
    }
    let config_sha256 =
        job::config_hash(&job, &job::secret_keys(&source.manifest), &job::secret_keys(&sink.manifest));
    job::resolve_secrets(&mut job.source.config, &source.manifest, &job.source.base_dir).map_err(usage)?;
    job::resolve_secrets(&mut job.sink.config, &sink.manifest, &job.sink.base_dir).map_err(usage)?;
    if !sink.manifest.transactional && !args.dry_run && args.format == Format::Text && !quiet {
        eprintln!(
            "Note: plugin '{}' is not transactional: records land in the destination as they are written, so a failed or interrupted run stops writing but cannot undo what was already written. Try --dry-run first.",
            sink.manifest.id
        );
    }

    let migration = Migration {
        config_sha256,
        source: Endpoint {
            plugin: source,
            config: job.source.config.clone(),
            base_dir: job.source.base_dir.clone(),
        },
        sink: Endpoint { plugin: sink, config: job.sink.config.clone(), base_dir: job.sink.base_dir.clone() },
        batch_size: job.run.batch_size,
        only,
        run_id: run_id(),
        dry_run: args.dry_run,
        field_policy: job.run.field_policy.clone(),
        plan: plan_run.as_ref().map(|p| p.stages.clone()),
    };

    // A dry run writes nothing, not even a rejects file, unless one is asked for.
    let keep_rejects = !args.dry_run || job.run.rejects.is_some();
    let rejects_path = job.run.rejects.clone().unwrap_or_else(|| PathBuf::from("ferry-rejects.jsonl"));
    let rejects = if keep_rejects {
        Some(RejectsFile::create(&rejects_path, &migration.run_id, job.run.include_values)?)
    } else {
        None
    };
    let receipts = (!args.dry_run).then(|| {
        let path =
            job.run.receipts.clone().unwrap_or_else(|| rejects_path.with_file_name("ferry-receipts.jsonl"));
        ReceiptsFile::new(path, &migration.run_id)
    });
    // A run under `ferry freeze`/`inventory`/`verify` reports JSON to its
    // parent and shows its progress on the terminal they share.
    let under_workflow = std::env::var_os(crate::freeze::NO_JOURNAL).is_some();
    let show_progress =
        !quiet && (args.format == Format::Text || under_workflow) && std::io::stderr().is_terminal();
    let mut observer = RunObserver::new(rejects, receipts, show_progress);
    let tap = args.inventory.as_ref().map(|_| Arc::new(std::sync::Mutex::new(InventoryTap::default())));
    let checks = match &args.checks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read the rules {}: {e}", path.display()))?;
            let config: RuleConfig = serde_json::from_str(&text)
                .map_err(|e| usage(anyhow::anyhow!("{}: not a rules file: {e}", path.display())))?;
            Some(Arc::new(std::sync::Mutex::new(ChecksTap::new(config))))
        }
        None => None,
    };
    let mut taps: Vec<Box<dyn Tap>> =
        tap.iter().map(|t| Box::new(SharedTap(t.clone())) as Box<dyn Tap>).collect();
    taps.extend(checks.iter().map(|t| Box::new(SharedTap(t.clone())) as Box<dyn Tap>));
    if let Some(p) = &plan_run
        && let Some(out) = &p.ids_out
        && !args.dry_run
    {
        let ids = IdsFile::new(out.clone(), &migration.run_id, p.strategy, p.stages.old_ids());
        taps.push(Box::new(ids.tap()));
        observer.ids = Some(ids);
    }
    let result = pipeline::run_with_taps(&migration, &mut observer, &control, &mut taps);
    if let (Ok(_), Some(path), Some(tap)) = (&result, &args.inventory, &tap) {
        let profile = tap.lock().map_err(|_| anyhow::anyhow!("the inventory tap panicked"))?.profile();
        crate::freeze::private_write(path, &serde_json::to_string(&profile)?)?;
    }
    if let (Ok(_), Some(path), Some(tap)) = (&result, &args.checks_out, &checks) {
        let findings = tap.lock().map_err(|_| anyhow::anyhow!("the checks tap panicked"))?.findings();
        crate::freeze::private_write(path, &serde_json::to_string(&findings)?)?;
    }
    observer.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            // Dropping the observer removes this run's partial files and puts
            // back any output it had already put in place.
            drop(observer);
            let what = if args.dry_run { "the dry run" } else { "the migration" };
            return match e {
                pipeline::RunError::Interrupted => {
                    notes.interrupted = true;
                    eprintln!(
                        "Interrupted: {what} stopped; nothing was committed; earlier outputs are intact."
                    );
                    Ok(ExitCode::from(control.reason().map_or(130, StopReason::exit_code)))
                }
                pipeline::RunError::Plugin(p) if p.kind == ErrorKind::Config => {
                    Err(anyhow::Error::new(UsageError(format!("{p}")))
                        .context(format!("{what} did not start")))
                }
                e => Err(anyhow::Error::new(e)
                    .context(format!("{what} failed and was rolled back; earlier outputs are intact"))),
            };
        }
    };
    // Committed: the outputs already in place stay.
    let rejects_file = observer.rejects.take().map(RejectsFile::confirm);
    let receipts_file = observer.receipts.take().and_then(ReceiptsFile::confirm);
    let ids_file = observer.ids.take().and_then(IdsFile::confirm);
    let mut v = serde_json::to_value(&report)?;
    v["rejects_file"] = serde_json::json!(rejects_file.as_ref().map(|r| &r.0));
    v["receipts_file"] = serde_json::json!(receipts_file);
    if let Some(p) = &ids_file {
        v["id_crosswalk_file"] = serde_json::json!(p);
    }
    notes.report = Some(v.clone());
    match args.format {
        Format::Json => {
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text => {
            print_summary(&report, rejects_file.as_ref().map(|(p, n)| (p.as_path(), *n)));
            if let Some(p) = &receipts_file {
                outln!("Receipts: {}", p.display());
            }
            if let Some(p) = &ids_file {
                outln!("Id crosswalk (old ↔ new): {}", p.display());
            }
        }
    }
    if report.rejected() > 0 && !job.run.allow_rejects && !args.dry_run {
        if args.format == Format::Text {
            let path = rejects_file.as_ref().map_or_else(String::new, |r| r.0.display().to_string());
            eprintln!(
                "{} record(s) rejected: see {path}. Fix the input, or pass --allow-rejects to accept them.",
                report.rejected(),
            );
        }
        return Ok(ExitCode::from(EXIT_REJECTS));
    }
    Ok(ExitCode::SUCCESS)
}
