//! `ferry archive info | query | extract`.

use std::io::Write;
use std::process::ExitCode;

use ferry_archive::{Archive, QueryResult, text};

use crate::cli::{ArchiveCommand, TableFormat};

pub fn run(cmd: ArchiveCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ArchiveCommand::Info { file, format } => {
            let info = Archive::open(&file)?.info()?;
            if format == TableFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&info)?);
                return Ok(ExitCode::SUCCESS);
            }
            outln!("{}", info.path.display());
            for (k, v) in &info.meta {
                outln!("  {k}: {v}");
            }
            outln!("\nentities:");
            for (e, n) in &info.entities {
                outln!("  {e:<22} {n:>12}");
            }
            if !info.source_tables.is_empty() {
                outln!("\nsource tables (as they came):");
                for (name, source, n) in &info.source_tables {
                    outln!("  {name:<30} {n:>12}   ({source})");
                }
            }
            outln!("\nruns:");
            print_table(&info.runs, TableFormat::Table)?;
        }
        ArchiveCommand::Query { file, sql, format } => {
            print_table(&Archive::open(&file)?.query(&sql)?, format)?;
        }
        ArchiveCommand::Verify { file, format } => return verify(&file, format),
        ArchiveCommand::Extract { file, entity, condition, format } => {
            print_table(&Archive::open(&file)?.extract(&entity, condition.as_deref())?, format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(file: &std::path::Path, format: TableFormat) -> anyhow::Result<ExitCode> {
    let problems = ferry_archive::integrity_check(file)?;
    let tables = ferry_archive::verify(file)?;
    let changed: Vec<&ferry_archive::TableVerification> = tables.iter().filter(|t| !t.ok()).collect();
    let sound = problems.is_empty() && changed.is_empty();
    if format == TableFormat::Json {
        let v = serde_json::json!({
            "archive": file.display().to_string(),
            "ok": sound,
            "integrity_problems": problems,
            "tables": tables.iter().map(|t| serde_json::json!({
                "table": t.table,
                "rows": t.rows,
                "ok": t.ok(),
                "recorded_rows": t.recorded.as_ref().map(|r| r.0),
                "recorded_by_run": t.recorded.as_ref().map(|r| r.2),
            })).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for p in &problems {
            outln!("integrity: {p}");
        }
        for t in &changed {
            match &t.recorded {
                Some((rows, _, seq)) => outln!(
                    "changed: {} has {} rows that do not match what run {seq} recorded ({rows} rows)",
                    t.table,
                    t.rows
                ),
                None => outln!("changed: {} has {} rows no run recorded", t.table, t.rows),
            }
        }
        if sound {
            outln!("{}: sound; {} tables match what their last run recorded", file.display(), tables.len());
        } else {
            outln!(
                "{}: NOT sound ({} integrity problems, {} changed tables)",
                file.display(),
                problems.len(),
                changed.len()
            );
        }
    }
    Ok(if sound { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_table(t: &QueryResult, format: TableFormat) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        TableFormat::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> =
                t.rows.iter().map(|r| t.columns.iter().cloned().zip(r.iter().cloned()).collect()).collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&t.columns)?;
            for r in &t.rows {
                w.write_record(r.iter().map(text))?;
            }
            w.flush()?;
        }
        TableFormat::Table => {
            const MAX: usize = 40;
            let cell = |s: String| -> String {
                let s = s.replace(['\n', '\r', '\t'], " ");
                if s.chars().count() > MAX {
                    format!("{}…", s.chars().take(MAX - 1).collect::<String>())
                } else {
                    s
                }
            };
            let cells: Vec<Vec<String>> =
                t.rows.iter().map(|r| r.iter().map(|v| cell(text(v))).collect()).collect();
            let mut widths: Vec<usize> = t.columns.iter().map(|c| c.chars().count()).collect();
            for r in &cells {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |vals: &[String], out: &mut dyn Write| -> std::io::Result<()> {
                let parts: Vec<String> = vals
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count())))
                    .collect();
                writeln!(out, "{}", parts.join("  ").trim_end())
            };
            line(&t.columns, &mut out)?;
            line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(), &mut out)?;
            for r in &cells {
                line(r, &mut out)?;
            }
            writeln!(out, "({} row{})", t.rows.len(), if t.rows.len() == 1 { "" } else { "s" })?;
        }
    }
    Ok(())
}
