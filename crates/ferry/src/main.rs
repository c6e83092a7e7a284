//! `ferry`: the command line. Parses arguments, sets up logging, and calls
//! `ferry-host`; no migration logic lives here.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command line prints its results")]

/// `println!` for results: a closed pipe (`ferry … | head -1`) ends the
/// process quietly instead of panicking.
macro_rules! outln {
    () => {
        $crate::write_out(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($t)*)))
    };
}

mod archive;
mod check;
mod cli;
mod freeze;
mod html;
mod inventory;
mod migrate;
mod new_plugin;
mod output;
mod plan;
mod plugins;
mod project;
mod staged;
mod validate;

use std::process::ExitCode;

use clap::Parser;

/// A mistake in what the user asked for (an unknown plugin, a bad
/// configuration, a folder given as a file): exit code 2, as for a usage
/// error on the command line, rather than 1 for a run that failed.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Writes results to standard output; see [`outln!`].
/// Set while a command must finish its work after its reader went away
/// (`ferry migrate` in a migration folder still journals its run).
pub(crate) static DEFER_BROKEN_PIPE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    use std::sync::atomic::Ordering;
    static GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            if DEFER_BROKEN_PIPE.load(Ordering::Relaxed) {
                // The rest of the output goes nowhere; the work completes.
                GONE.store(true, Ordering::Relaxed);
                return;
            }
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// Whether an error is the reader of our output going away (`| head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
            || c.downcast_ref::<csv::Error>()
                .is_some_and(|c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe))
    })
}

/// Exit code of a usage error.
const EXIT_USAGE: u8 = 2;

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    // Info-level messages never carry personal data; -vv (debug) may.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// `ferry init`.
fn init(folder: &std::path::Path, name: Option<String>) -> anyhow::Result<ExitCode> {
    let name = name.unwrap_or_else(|| {
        folder.file_name().map_or_else(|| "migration".into(), |n| n.to_string_lossy().into_owned())
    });
    let started_at = ferry_host::time::now();
    let p = project::Project::init(folder, &name)?;
    p.record(&project::Entry::ended(project::Step::Init, started_at, project::Outcome::Passed))?;
    outln!(
        "Migration folder {} created: {} (the Solution Document), snapshots/, reports/, {}.",
        p.root.display(),
        project::PLAN,
        project::JOURNAL
    );
    outln!("Run ferry commands from inside it; `ferry status` shows where the migration stands.");
    Ok(ExitCode::SUCCESS)
}

/// `ferry status`.
fn status(format: cli::Format) -> anyhow::Result<ExitCode> {
    let s = project::Project::here()?.status()?;
    match format {
        cli::Format::Json => outln!("{}", serde_json::to_string_pretty(&s)?),
        cli::Format::Text => project::print_status(&s),
    }
    Ok(ExitCode::SUCCESS)
}

/// `ferry plugin-runner` (hidden): the child of an isolated run.
#[cfg(unix)]
fn plugin_runner(
    manifest: std::path::PathBuf,
    memory_mb: Option<u64>,
    allow_unverified: bool,
) -> anyhow::Result<ExitCode> {
    use ferry_host::isolate::runner;
    Ok(ExitCode::from(runner::main(&runner::RunnerArgs { manifest, memory_mb, allow_unverified })))
}

#[cfg(not(unix))]
fn plugin_runner(_: std::path::PathBuf, _: Option<u64>, _: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("plugin isolation is built for Unix only")
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        cli::Command::Plugins(cmd) => plugins::run(cmd),
        cli::Command::Migrate(args) => migrate::run(*args, cli.quiet),
        cli::Command::PluginRunner { manifest, memory_mb, allow_unverified } => {
            plugin_runner(manifest, memory_mb, allow_unverified)
        }
        cli::Command::Archive(cmd) => archive::run(cmd),
        cli::Command::Validate(cmd) => validate::run(cmd),
        cli::Command::Init { folder, name } => init(&folder, name),
        cli::Command::Status { format } => status(format),
        cli::Command::Inventory { from, from_set, format } => inventory::inventory(&from, &from_set, format),
        cli::Command::Check { from, rules, from_set, format } => {
            check::check(from.as_deref(), &rules, &from_set, format)
        }
        cli::Command::Verify { to, plan, snapshot, format } => {
            freeze::verify_destination(&to, plan.as_deref(), snapshot.as_deref(), format)
        }
        cli::Command::Plan(cmd) => match cmd {
            cli::PlanCommand::Init { to, name, format } => plan::init(&to, &name, format),
            cli::PlanCommand::Check { to, format } => plan::check(to.as_deref(), format),
            cli::PlanCommand::Render { format } => plan::render(format),
        },
        cli::Command::Freeze(f) => match (f.command, f.from) {
            (Some(cli::FreezeCommand::Verify { snapshot, format }), _) => {
                freeze::verify(snapshot.as_deref(), format)
            }
            (None, Some(from)) => freeze::freeze(&from, &f.from_set, f.format),
            (None, None) => Err(anyhow::Error::new(UsageError(
                "give the source: ferry freeze --from PLUGIN[:LOCATION]".into(),
            ))),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<UsageError>().is_some());
            ExitCode::from(if usage { EXIT_USAGE } else { 1 })
        }
    }
}
