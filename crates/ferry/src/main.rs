//! `ferry`: the command line. Parses arguments, sets up logging, and calls
//! `ferry-host`; no migration logic lives here.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command line prints its results")]

mod archive;
mod cli;
mod migrate;
mod output;
mod plugins;

use std::process::ExitCode;

use clap::Parser;

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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        cli::Command::Plugins(cmd) => plugins::run(cmd),
        cli::Command::Migrate(args) => migrate::run(*args, cli.quiet),
        cli::Command::Archive(cmd) => archive::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
