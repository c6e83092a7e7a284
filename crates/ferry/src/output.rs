//! What a run shows and writes: the progress bar, the rejects file and the
//! summary.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
            let mut v = serde_json::json!({ "entity": r.entity, "source_id": r.source_id, "destination_id": r.destination_id });
            if let Some(k) = &r.natural_key {
                v["natural_key"] = serde_json::json!(k);
            }
            if let Some(o) = &r.outcome {
                v["outcome"] = serde_json::json!(o);
            }
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

/// The old ↔ new id crosswalk of a run (`[ids] write` in the plan), CSV
/// with the columns entity,old_id,new_id: from the records that reached the
/// destination (strategies `keep` and `crosswalk`) or from its receipts
/// (`destination`), less what the destination rejected. Put in place with
/// the rejects file, just before the destination commits.
pub struct IdsFile {
    target: PathBuf,
    run_id: String,
    strategy: ferry_host::plan::IdStrategy,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    old: Option<HashMap<(String, String), String>>,
    rejected: HashSet<(String, String)>,
    file: Option<Staged>,
}

/// The tap that lists the records reaching the destination.
pub struct IdsTap(Arc<Mutex<Vec<(String, String)>>>);

impl ferry_host::stages::Tap for IdsTap {
    fn observe(&mut self, batch: &ferry_host::stages::StageBatch) {
        let Ok(view) = ferry_model::FieldsView::new(batch.entity, &batch.records) else { return };
        if let Ok(mut seen) = self.0.lock() {
            for row in 0..view.len() {
                seen.push((batch.entity.name().to_owned(), view.meta().source_id(row).to_owned()));
            }
        }
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

impl IdsFile {
    pub fn new(
        target: PathBuf,
        run_id: &str,
        strategy: ferry_host::plan::IdStrategy,
        old: Option<HashMap<(String, String), String>>,
    ) -> IdsFile {
        IdsFile {
            target,
            run_id: run_id.to_owned(),
            strategy,
            seen: Arc::default(),
            old,
            rejected: HashSet::new(),
            file: None,
        }
    }

    /// The tap feeding it.
    pub fn tap(&self) -> IdsTap {
        IdsTap(self.seen.clone())
    }

    fn install(&mut self, receipts: &[ferry_model::Receipt]) -> anyhow::Result<()> {
        use ferry_host::plan::IdStrategy;
        let mut file = Staged::create(&self.target, &self.run_id)?;
        file.line("entity,old_id,new_id");
        if self.strategy == IdStrategy::Destination {
            for r in receipts {
                file.line(&format!(
                    "{},{},{}",
                    r.entity,
                    csv_cell(&r.source_id),
                    csv_cell(&r.destination_id)
                ));
            }
        } else {
            let seen = self.seen.lock().map_err(|_| anyhow::anyhow!("the id tap panicked"))?;
            for (entity, id) in seen.iter() {
                if self.rejected.contains(&(entity.clone(), id.clone())) {
                    continue;
                }
                let old = self.old.as_ref().and_then(|m| m.get(&(entity.clone(), id.clone()))).unwrap_or(id);
                file.line(&format!("{entity},{},{}", csv_cell(old), csv_cell(id)));
            }
        }
        file.install()?;
        self.file = Some(file);
        Ok(())
    }

    /// The destination committed: the file stays.
    pub fn confirm(self) -> Option<PathBuf> {
        self.file.map(Staged::confirm)
    }
}

/// Progress bar, rejects file (none in a dry run that was not given one) and
/// receipts file (none in a dry run).
pub struct RunObserver {
    pub rejects: Option<RejectsFile>,
    pub receipts: Option<ReceiptsFile>,
    pub ids: Option<IdsFile>,
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
        // A plugin's progress lines (an API's pages) show until records flow.
        let shown = bar.clone();
        ferry_host::loader::set_progress_hook(Some(Box::new(move |text: &str| {
            shown.set_message(text.to_owned())
        })));
        RunObserver { rejects, receipts, ids: None, bar }
    }

    pub fn finish(&self) {
        ferry_host::loader::set_progress_hook(None);
        self.bar.finish_and_clear();
    }
}

impl Observer for RunObserver {
    fn before_commit(&mut self, receipts: &[ferry_model::Receipt]) -> Result<(), String> {
        let placed = self
            .rejects
            .as_mut()
            .map_or(Ok(()), RejectsFile::install)
            .and_then(|()| self.receipts.as_mut().map_or(Ok(()), |r| r.install(receipts)))
            .and_then(|()| self.ids.as_mut().map_or(Ok(()), |r| r.install(receipts)));
        placed.map_err(|e| format!("{e:#}; nothing was committed"))
    }

    fn diagnostic(&mut self, by: Reporter, diagnostic: &Diagnostic) {
        if let Some(ids) = &mut self.ids
            && by == Reporter::Sink
            && diagnostic.is_reject()
        {
            ids.rejected.insert((diagnostic.entity.clone(), diagnostic.record_id.clone()));
        }
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
        for (rule, n) in &t.skip_rules {
            outln!("    {n:>8} skipped: {rule}");
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
    for p in &report.plugins {
        let signer =
            if p.signed_by.is_empty() { String::new() } else { format!(", signed by key {}", p.signed_by) };
        outln!("Plugin ({}): {} {}, library sha256 {}{signer}", p.role, p.id, p.version, p.sha256);
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
