//! `ferry validate oneroster`: a OneRoster CSV package checked against the
//! specification (`ferry-oneroster`), summarised for people or as JSON.

use std::process::ExitCode;

use ferry_oneroster::validate::{self, Options, Report};
use ferry_oneroster::{OpenError, Version};

use crate::UsageError;
use crate::cli::{Format, OneRosterVersion, ValidateCommand};

/// Problems shown per code on the terminal.
const PER_CODE: usize = 10;
/// Problems shown in all on the terminal.
const TOTAL: usize = 100;

/// Runs `ferry validate …`.
pub fn run(cmd: ValidateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ValidateCommand::Oneroster { package, format, version } => {
            let options = Options {
                version: version.map(|v| match v {
                    OneRosterVersion::V1_1 => Version::V1_1,
                    OneRosterVersion::V1_2 => Version::V1_2,
                }),
            };
            let report = validate::validate_path(&package, &options).map_err(|e| match e {
                OpenError::NotFound(_) | OpenError::NotAPackage { .. } => anyhow::Error::new(UsageError(
                    format!("{e}: give a OneRoster package, a .zip or a folder"),
                )),
                OpenError::Io { .. } => anyhow::Error::new(e),
            })?;
            match format {
                Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => print_text(&report, version.is_some()),
            }
            Ok(if report.valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn print_text(r: &Report, forced: bool) {
    let how = match (r.declared_version, forced) {
        (_, true) => "as asked".to_owned(),
        (Some(_), false) => "as its manifest declares".to_owned(),
        (None, false) => "the manifest declares no readable version".to_owned(),
    };
    let kind = match r.kind {
        ferry_oneroster::read::PackageKind::Zip => "zip",
        ferry_oneroster::read::PackageKind::Folder => "folder",
    };
    outln!("OneRoster {} package {} ({kind}), checked as {} ({how})", r.version, r.package, r.version);
    outln!();
    let width = r.files.iter().map(|f| f.name.len()).max().unwrap_or(0).max(4);
    outln!("  {:<width$}  {:>8}  {:<6}  {:>6}  {:>8}", "file", "rows", "mode", "errors", "warnings");
    for f in &r.files {
        let mode = f.mode.map_or("", |m| m.as_str());
        outln!("  {:<width$}  {:>8}  {:<6}  {:>6}  {:>8}", f.name, f.rows, mode, f.errors, f.warnings);
    }
    outln!();
    let mut shown = 0usize;
    let mut hidden = 0usize;
    for (code, severity, problems) in r.by_code() {
        outln!("{severity} {code} ({}):", problems.len());
        let mut printed = 0usize;
        for p in problems.iter().take(PER_CODE) {
            if shown >= TOTAL {
                break;
            }
            shown += 1;
            printed += 1;
            outln!("  {}  {}", p.location(), p.message);
        }
        if problems.len() > printed {
            hidden += problems.len() - printed;
            outln!("  … and {} more", problems.len() - printed);
        }
    }
    if hidden > 0 {
        outln!();
        outln!("{hidden} problem(s) not shown: --format json lists all.");
    }
    if !r.problems.is_empty() {
        outln!();
    }
    if r.valid {
        if r.warnings == 0 {
            outln!("Valid: no problems.");
        } else {
            outln!("Valid, with {} warning(s).", r.warnings);
        }
    } else {
        outln!("Not valid: {} error(s), {} warning(s).", r.errors, r.warnings);
    }
}
