//! What a run shows and writes: the progress bar, the rejects file and the
//! summary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_host::pipeline::{Observer, Reporter, RunReport, Totals};
use ferry_model::Diagnostic;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::staged::Staged;

/// Writes rejects and warnings as JSON Lines into this run's private
/// partial file, put in place just before the destination commits (see
/// [`Staged`]), so a failed run leaves the previous rejects file intact.
pub struct RejectsFile {
    file: Staged,
    run_id: String,
    include_values: bool,
    count: u64,
}

impl RejectsFile {
    pub fn create(target: &Path, run_id: &str, include_values: bool) -> anyhow::Result<RejectsFile> {
        Ok(RejectsFile {
            file: Staged::create(target, run_id)?,
            run_id: run_id.to_owned(),
            include_values,
            count: 0,
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
            "run_id": self.run_id,
        });
        if self.include_values
            && let Some(val) = &d.value
        {
            v["value"] = serde_json::Value::String(val.clone());
        }
        if d.is_reject() {
            self.count += 1;
        }
        self.file.line(&v.to_string());
    }

    /// Puts the file in place (before the destination commits).
    pub fn install(&mut self) -> anyhow::Result<()> {
        self.file.install()
    }

    /// The destination committed: the file stays. Its path and reject count.
    pub fn confirm(self) -> (PathBuf, u64) {
        (self.file.confirm(), self.count)
    }
}

/// The receipts file, written only when the destination issued receipts,
/// and put in place with the rejects file before the destination commits.
pub struct ReceiptsFile {
    target: PathBuf,
    run_id: String,
    file: Option<Staged>,
}

impl ReceiptsFile {
    pub fn new(target: PathBuf, run_id: &str) -> ReceiptsFile {
        ReceiptsFile { target, run_id: run_id.to_owned(), file: None }
    }

    /// Writes the receipts and puts the file in place; with none, it leaves
    /// any earlier receipts file alone.
    fn install(&mut self, receipts: &[ferry_model::Receipt]) -> anyhow::Result<()> {
        if receipts.is_empty() {
            return Ok(());
        }
        let mut file = Staged::create(&self.target, &self.run_id)?;
        for r in receipts {
            let v = serde_json::json!({ "entity": r.entity, "source_id": r.source_id, "destination_id": r.destination_id });
            file.line(&v.to_string());
        }
        file.install()?;
        self.file = Some(file);
        Ok(())
    }

    /// The destination committed: the file, if receipts were written.
    pub fn confirm(self) -> Option<PathBuf> {
        self.file.map(Staged::confirm)
    }
}

/// Progress bar, rejects file (none in a dry run that was not given one) and
/// receipts file (none in a dry run).
pub struct RunObserver {
    pub rejects: Option<RejectsFile>,
    pub receipts: Option<ReceiptsFile>,
    bar: ProgressBar,
}

impl RunObserver {
    pub fn new(
        rejects: Option<RejectsFile>,
        receipts: Option<ReceiptsFile>,
        show_progress: bool,
    ) -> RunObserver {
        let target = if show_progress { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        RunObserver { rejects, receipts, bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunObserver {
    fn before_commit(&mut self, receipts: &[ferry_model::Receipt]) -> Result<(), String> {
        let placed = self
            .rejects
            .as_mut()
            .map_or(Ok(()), RejectsFile::install)
            .and_then(|()| self.receipts.as_mut().map_or(Ok(()), |r| r.install(receipts)));
        placed.map_err(|e| format!("{e:#}; nothing was committed"))
    }

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
        outln!(
            "Dry run {} → {} in {:.2} s (run {}): nothing was written",
            report.source,
            report.sink,
            report.seconds,
            report.run_id
        );
    } else {
        outln!(
            "Migrated {} → {} in {:.2} s (run {})",
            report.source,
            report.sink,
            report.seconds,
            report.run_id
        );
    }
    let written = if report.dry_run { "WOULD WRITE" } else { "WRITTEN" };
    outln!(
        "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "ENTITY",
        "READ",
        written,
        "REJECTED",
        "SKIPPED",
        "WARNINGS"
    );
    for line in &report.entities {
        let t = &line.totals;
        // The host fails any run whose counts do not add up; a report always balances.
        outln!(
            "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
            line.entity,
            t.read,
            t.written,
            t.rejected,
            t.skipped,
            t.warned
        );
        for (reason, n) in &t.top_reasons {
            outln!("    {n:>8} × {reason}");
        }
    }
    let (read, written, rejected, skipped, warned) = report.entities.iter().fold((0, 0, 0, 0, 0), |a, l| {
        let t = &l.totals;
        (a.0 + t.read, a.1 + t.written, a.2 + t.rejected, a.3 + t.skipped, a.4 + t.warned)
    });
    outln!("{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}", "total", read, written, rejected, skipped, warned);
    if !report.source_tables.is_empty() {
        outln!();
        outln!(
            "{:<30} {:>12} {:>12}",
            "SOURCE TABLE (as it came)",
            "READ",
            if report.dry_run { "WOULD WRITE" } else { "WRITTEN" }
        );
        let (mut read, mut written) = (0, 0);
        for t in &report.source_tables {
            outln!("{:<30} {:>12} {:>12}", t.table, t.totals.read, t.totals.written);
            read += t.totals.read;
            written += t.totals.written;
        }
        outln!("{:<30} {:>12} {:>12}", "total", read, written);
    }
    for n in &report.notices {
        outln!("Note: {n}");
    }
    if !report.plan.is_empty() {
        outln!();
        outln!(
            "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
            if report.dry_run { "WOULD" } else { "DESTINATION" },
            "CREATE",
            "UPDATE",
            "UNCHANGED",
            "DELETE",
            "REJECT"
        );
        for p in &report.plan {
            outln!(
                "{:<22} {:>12} {:>12} {:>10} {:>10} {:>10}",
                p.entity,
                p.create,
                p.update,
                p.unchanged,
                p.delete,
                p.reject
            );
        }
    }
    if report.late_rejects > 0 {
        outln!(
            "{} record(s) were refused by the destination after they were staged (late rejects).",
            report.late_rejects
        );
    }
    for (entity, n) in &report.receipt_counts {
        outln!("Receipts: {n} {entity} id(s) assigned by the destination");
    }
    if !report.location.is_empty() {
        outln!("Output: {}", report.location);
    }
    for n in &report.notes {
        outln!("  {n}");
    }
    if let Some((path, n)) = rejects {
        outln!("Rejects: {} ({n} record{})", path.display(), if n == 1 { "" } else { "s" });
    }
}
