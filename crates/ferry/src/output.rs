//! What a run shows and writes: the progress bar, the rejects file and the
//! summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use ferry_host::pipeline::{Observer, Reporter, RunReport, Totals};
use ferry_model::Diagnostic;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Writes rejects and warnings as JSON Lines into a temporary file that
/// replaces the target only when the run completes, so a failed run leaves
/// the previous rejects file intact.
pub struct RejectsFile {
    target: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
    include_values: bool,
    count: u64,
    error: Option<std::io::Error>,
}

impl RejectsFile {
    pub fn create(target: &Path, include_values: bool) -> anyhow::Result<RejectsFile> {
        let name = target.file_name().map_or_else(|| "rejects".into(), |n| n.to_string_lossy().into_owned());
        let tmp = target.with_file_name(format!(".{name}.partial"));
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let f =
            File::create(&tmp).with_context(|| format!("cannot create rejects file {}", tmp.display()))?;
        Ok(RejectsFile {
            target: target.to_owned(),
            tmp,
            out: BufWriter::new(f),
            include_values,
            count: 0,
            error: None,
        })
    }

    fn write(&mut self, by: Reporter, d: &Diagnostic) {
        let mut v = serde_json::json!({
            "severity": d.severity.as_str(),
            "entity": d.entity.as_str(),
            "stage": by,
            "file": d.file.as_str(),
            "line": d.line,
            "field": d.field.as_str(),
            "reason": d.reason.as_str(),
            "record_id": d.record_id.as_str(),
        });
        if self.include_values
            && let Some(val) = &d.value
        {
            v["value"] = serde_json::Value::String(val.clone());
        }
        if d.is_reject() {
            self.count += 1;
        }
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{v}")
        {
            self.error = Some(e);
        }
    }

    /// Moves the file into place.
    pub fn finish(mut self) -> anyhow::Result<(PathBuf, u64)> {
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("cannot write rejects file {}", self.tmp.display()));
        }
        self.out.flush().with_context(|| format!("cannot write rejects file {}", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.target)
            .with_context(|| format!("cannot move rejects file into {}", self.target.display()))?;
        Ok((self.target, self.count))
    }

    /// Where the partial file is (kept after a failed run, for diagnosis).
    pub fn partial_path(&self) -> &Path {
        &self.tmp
    }

    pub fn flush_partial(&mut self) {
        let _ = self.out.flush();
    }
}

/// Progress bar plus rejects file (none in a dry run that was not given one).
pub struct RunObserver {
    pub rejects: Option<RejectsFile>,
    bar: ProgressBar,
}

impl RunObserver {
    pub fn new(rejects: Option<RejectsFile>, show_progress: bool) -> RunObserver {
        let target = if show_progress { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        RunObserver { rejects, bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunObserver {
    fn diagnostic(&mut self, by: Reporter, diagnostic: &Diagnostic) {
        if let Some(r) = &mut self.rejects {
            r.write(by, diagnostic);
        }
    }

    fn progress(&mut self, totals: &Totals) {
        let secs = self.bar.elapsed().as_secs_f64().max(1e-3);
        let read = totals.read();
        #[allow(clippy::cast_precision_loss, reason = "a rate for display")]
        let rate = read as f64 / secs;
        let current = totals.entities.keys().next_back().map_or("", |e| e.name());
        self.bar.set_message(format!(
            "{read} read, {} written, {} rejected, {} skipped ({rate:.0}/s) — {current}",
            totals.written(),
            totals.rejected(),
            totals.skipped()
        ));
    }
}

/// Prints the run summary for people.
pub fn print_summary(report: &RunReport, rejects: Option<(&Path, u64)>) {
    if report.dry_run {
        println!(
            "Dry run {} → {} in {:.2} s (run {}): nothing was written",
            report.source, report.sink, report.seconds, report.run_id
        );
    } else {
        println!(
            "Migrated {} → {} in {:.2} s (run {})",
            report.source, report.sink, report.seconds, report.run_id
        );
    }
    let written = if report.dry_run { "WOULD WRITE" } else { "WRITTEN" };
    println!(
        "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "ENTITY", "READ", written, "REJECTED", "SKIPPED", "WARNINGS"
    );
    for line in &report.entities {
        let t = &line.totals;
        // The host fails any run whose counts do not add up; a report always balances.
        println!(
            "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
            line.entity, t.read, t.written, t.rejected, t.skipped, t.warned
        );
        for (reason, n) in &t.top_reasons {
            println!("    {n:>8} × {reason}");
        }
    }
    let (read, written, rejected, skipped, warned) = report.entities.iter().fold((0, 0, 0, 0, 0), |a, l| {
        let t = &l.totals;
        (a.0 + t.read, a.1 + t.written, a.2 + t.rejected, a.3 + t.skipped, a.4 + t.warned)
    });
    println!("{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}", "total", read, written, rejected, skipped, warned);
    if !report.source_tables.is_empty() {
        println!();
        println!(
            "{:<30} {:>12} {:>12}",
            "SOURCE TABLE (as it came)",
            "READ",
            if report.dry_run { "WOULD WRITE" } else { "WRITTEN" }
        );
        let (mut read, mut written) = (0, 0);
        for t in &report.source_tables {
            println!("{:<30} {:>12} {:>12}", t.table, t.totals.read, t.totals.written);
            read += t.totals.read;
            written += t.totals.written;
        }
        println!("{:<30} {:>12} {:>12}", "total", read, written);
    }
    for n in &report.notices {
        println!("Note: {n}");
    }
    if !report.plan.is_empty() {
        println!();
        println!(
            "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
            if report.dry_run { "WOULD" } else { "DESTINATION" },
            "CREATE",
            "UPDATE",
            "UNCHANGED",
            "DELETE",
            "REJECT"
        );
        for p in &report.plan {
            println!(
                "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
                p.entity, p.create, p.update, p.unchanged, p.delete, p.reject
            );
        }
    }
    if report.late_rejects > 0 {
        println!(
            "{} record(s) were refused by the destination after they were staged (late rejects).",
            report.late_rejects
        );
    }
    for (entity, n) in &report.receipt_counts {
        println!("Receipts: {n} {entity} id(s) assigned by the destination");
    }
    if !report.location.is_empty() {
        println!("Output: {}", report.location);
    }
    for n in &report.notes {
        println!("  {n}");
    }
    if let Some((path, n)) = rejects {
        println!("Rejects: {} ({n} record{})", path.display(), if n == 1 { "" } else { "s" });
    }
}

/// Writes receipts as JSON Lines (temporary file renamed into place).
pub fn write_receipts(path: &Path, receipts: &[ferry_model::Receipt]) -> anyhow::Result<PathBuf> {
    let name = path.file_name().map_or_else(|| "receipts".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let mut out =
        BufWriter::new(File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?);
    for r in receipts {
        let v = serde_json::json!({ "entity": r.entity, "source_id": r.source_id, "destination_id": r.destination_id });
        writeln!(out, "{v}").with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    out.flush().with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(out);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move the receipts into {}", path.display()))?;
    Ok(path.to_owned())
}
