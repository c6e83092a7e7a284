//! `ferry migrate`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_host::discovery;
use ferry_host::job::{self, JobSpec, RunOptions};
use ferry_host::loader;
use ferry_host::pipeline::{self, Endpoint, Migration};

use crate::cli::{Format, MigrateArgs};
use crate::output::{RejectsFile, RunObserver, print_summary};

/// Exit code of a run that completed with rejected records.
pub const EXIT_REJECTS: u8 = 3;

fn job_from_args(args: &MigrateArgs) -> anyhow::Result<JobSpec> {
    let mut job = match (&args.job, &args.from) {
        (Some(path), _) => job::read_job(path)?,
        (None, Some(from)) => JobSpec {
            source: job::parse_endpoint(from)?,
            sink: match &args.to {
                Some(to) => job::parse_endpoint(to)?,
                None => job::default_sink(),
            },
            run: RunOptions::default(),
        },
        (None, None) => bail!("give --job FILE, or --from PLUGIN[:CONFIG.toml]"),
    };
    for s in &args.from_set {
        job::apply_override(&mut job.source.config, s)?;
    }
    for s in &args.to_set {
        job::apply_override(&mut job.sink.config, s)?;
    }
    if let Some(r) = &args.rejects {
        job.run.rejects = Some(r.clone());
    }
    job.run.allow_rejects |= args.allow_rejects;
    job.run.include_values |= args.include_values;
    if !args.only.is_empty() {
        job.run.only = Some(args.only.clone());
    }
    if let Some(b) = args.batch_size {
        job.run.batch_size = b;
    }
    if job.run.batch_size == 0 {
        bail!("the batch size must be at least 1");
    }
    Ok(job)
}

fn run_id() -> String {
    let t = ferry_host::time::now().replace([':', '-'], "");
    format!("run-{t}-{}", std::process::id())
}

pub fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let job = job_from_args(&args)?;
    let only = job.run.only_entities()?;
    let found = discovery::discover(&discovery::search_dirs());
    let load = |id: &str, role: &str| -> anyhow::Result<loader::LoadedPlugin> {
        let entry = found
            .find(id)
            .with_context(|| format!("no plugin '{id}' on the search path; see `ferry plugins list`"))?;
        let wanted = if role == "source" { entry.manifest.is_source() } else { entry.manifest.is_sink() };
        if !wanted {
            bail!("plugin '{id}' cannot be a {role} (it is: {:?})", entry.manifest.capabilities);
        }
        Ok(loader::load(entry)?)
    };
    let source = load(&job.source.plugin, "source")?;
    let sink = load(&job.sink.plugin, "sink")?;
    tracing::info!(source = %source.manifest.id, sink = %sink.manifest.id, "Plugins loaded.");

    let migration = Migration {
        config_sha256: job::config_hash(&job),
        source: Endpoint {
            plugin: source,
            config: job.source.config.clone(),
            base_dir: job.source.base_dir.clone(),
        },
        sink: Endpoint { plugin: sink, config: job.sink.config.clone(), base_dir: job.sink.base_dir.clone() },
        batch_size: job.run.batch_size,
        only,
        run_id: run_id(),
    };

    let rejects_path = job.run.rejects.clone().unwrap_or_else(|| PathBuf::from("ferry-rejects.jsonl"));
    let rejects = RejectsFile::create(&rejects_path, job.run.include_values)?;
    let show_progress = !quiet && args.format == Format::Text && std::io::stderr().is_terminal();
    // Ctrl-C stops the run between batches and rolls it back; a second one exits at once.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\nInterrupted: stopping after the current batch and rolling back (Ctrl-C again to quit at once)."
        );
    });
    let mut observer = RunObserver::new(rejects, show_progress, stop);
    let result = pipeline::run(&migration, &mut observer);
    observer.finish();
    let report = match result {
        Ok(r) => r,
        Err(pipeline::RunError::Interrupted) => {
            observer.rejects.flush_partial();
            eprintln!("Interrupted: nothing was committed; earlier outputs are intact.");
            return Ok(ExitCode::from(130));
        }
        Err(e) => {
            observer.rejects.flush_partial();
            let partial = observer.rejects.partial_path().display().to_string();
            return Err(anyhow::Error::new(e).context(format!(
                "the migration failed and was rolled back; earlier outputs are intact (rejects so far: {partial})"
            )));
        }
    };
    let (path, n) = observer.rejects.finish()?;
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["rejects_file"] = serde_json::json!(path);
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text => print_summary(&report, Some((&path, n))),
    }
    if report.rejected() > 0 && !job.run.allow_rejects {
        if args.format == Format::Text {
            eprintln!(
                "{} record(s) rejected: see {}. Fix the input, or pass --allow-rejects to accept them.",
                report.rejected(),
                path.display()
            );
        }
        return Ok(ExitCode::from(EXIT_REJECTS));
    }
    Ok(ExitCode::SUCCESS)
}
