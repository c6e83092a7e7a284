//! A migration folder (`ferry init`): the Solution Document (`plan.toml`),
//! `snapshots/`, `reports/` and the journal (`journal.jsonl`), where every
//! command run in the folder records what it did: its step, when, its inputs
//! and their hashes, its counts, its outcome and the report it wrote.
//! `ferry status` reads the journal back as the steps of a migration.
//!
//! Everything here is created owner-only: reports and the journal describe
//! student data, and snapshots will hold it.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ferry_host::loader::sha256_file;
use serde::{Deserialize, Serialize};

use crate::UsageError;

/// The journal's file name, which also marks a migration folder.
pub const JOURNAL: &str = "journal.jsonl";
/// The Solution Document.
pub const PLAN: &str = "plan.toml";

/// The steps of a migration, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// `ferry init`.
    Init,
    /// `ferry inventory`.
    Inventory,
    /// `ferry plan init` and `ferry plan check`.
    Plan,
    /// `ferry check` (finalize the previous year).
    Check,
    /// `ferry freeze`.
    Freeze,
    /// `ferry migrate --dry-run`.
    DryRun,
    /// `ferry migrate`.
    Migrate,
    /// `ferry verify`.
    Verify,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 8] = [
        Step::Init,
        Step::Inventory,
        Step::Plan,
        Step::Check,
        Step::Freeze,
        Step::DryRun,
        Step::Migrate,
        Step::Verify,
    ];

    /// Its name in the journal and in `status`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Init => "init",
            Step::Inventory => "inventory",
            Step::Plan => "plan",
            Step::Check => "check",
            Step::Freeze => "freeze",
            Step::DryRun => "dry-run",
            Step::Migrate => "migrate",
            Step::Verify => "verify",
        }
    }

    /// The command that runs it.
    pub fn command(self) -> &'static str {
        match self {
            Step::Init => "ferry init",
            Step::Inventory => "ferry inventory",
            Step::Plan => "ferry plan init / ferry plan check",
            Step::Check => "ferry check",
            Step::Freeze => "ferry freeze",
            Step::DryRun => "ferry migrate --dry-run",
            Step::Migrate => "ferry migrate",
            Step::Verify => "ferry verify",
        }
    }

    /// Whether this version of Ferry has the step's command.
    pub fn built(self) -> bool {
        matches!(
            self,
            Step::Init
                | Step::Inventory
                | Step::Plan
                | Step::Check
                | Step::Freeze
                | Step::DryRun
                | Step::Migrate
                | Step::Verify
        )
    }
}

/// One input of a step and its SHA-256 when the step ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The file, relative to the migration folder when inside it.
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
}

/// How a step's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It did what it should.
    Passed,
    /// It failed, or found something that blocks.
    Failed,
    /// It was stopped (Ctrl-C, SIGTERM, SIGHUP).
    Interrupted,
}

/// One line of the journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The step.
    pub step: Step,
    /// When it started and ended (RFC 3339, UTC).
    pub started_at: String,
    pub finished_at: String,
    /// The command line, with no values of secrets (they are never given on it).
    pub command: Vec<String>,
    /// What it read.
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// Its counts (per entity for a run: read, written, rejected, skipped).
    #[serde(default)]
    pub counts: serde_json::Value,
    /// How it ended.
    pub outcome: Outcome,
    /// What went wrong, when it failed (no record values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The report it wrote, relative to the migration folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The Ferry that ran it.
    pub ferry_version: String,
    /// Set when the entry checks the step's result rather than running the
    /// step (`verify` for `ferry freeze verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

impl Entry {
    /// An entry of `step` that started at `started_at` and ends now with
    /// `outcome`, for this command line and this Ferry; the rest empty, to
    /// fill in with struct update syntax.
    pub fn ended(step: Step, started_at: String, outcome: Outcome) -> Entry {
        Entry {
            step,
            started_at,
            finished_at: ferry_host::time::now(),
            command: std::env::args().collect(),
            inputs: Vec::new(),
            counts: serde_json::Value::Null,
            outcome,
            error: None,
            report: None,
            ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
            check: None,
        }
    }
}

/// Opens `path` to write, owner-only whatever the umask.
fn private_file(path: &Path, append: bool) -> std::io::Result<fs::File> {
    let mut o = OpenOptions::new();
    if append {
        o.append(true).create(true);
    } else {
        o.write(true).create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)
}

pub fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(path)
}

/// A migration folder.
#[derive(Clone, Debug)]
pub struct Project {
    /// Its root.
    pub root: PathBuf,
}

impl Project {
    /// The migration folder `start` is in (it or a folder above it holds a
    /// journal and a plan), if any.
    pub fn find(start: &Path) -> Option<Project> {
        let start = start.canonicalize().ok()?;
        start
            .ancestors()
            .find(|d| d.join(JOURNAL).is_file() && d.join(PLAN).is_file())
            .map(|d| Project { root: d.to_owned() })
    }

    /// The migration folder of the current folder, or an error saying how to
    /// make one.
    pub fn here() -> anyhow::Result<Project> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        Project::find(&cwd).ok_or_else(|| {
            anyhow::Error::new(UsageError(format!(
                "{} is not in a migration folder (one with {PLAN} and {JOURNAL}); make one with `ferry init FOLDER`",
                cwd.display()
            )))
        })
    }

    /// Creates a migration folder at `dir` (which may exist, but must not
    /// hold a plan or a journal yet).
    pub fn init(dir: &Path, name: &str) -> anyhow::Result<Project> {
        for f in [PLAN, JOURNAL] {
            if dir.join(f).exists() {
                bail!(UsageError(format!(
                    "{} already holds {f}: it is a migration folder already (see `ferry status`)",
                    dir.display()
                )));
            }
        }
        private_dir(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
        for sub in ["snapshots", "reports"] {
            let p = dir.join(sub);
            private_dir(&p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        let plan = dir.join(PLAN);
        let mut f =
            private_file(&plan, false).with_context(|| format!("cannot create {}", plan.display()))?;
        f.write_all(plan_template(name).as_bytes())
            .with_context(|| format!("cannot write {}", plan.display()))?;
        let journal = dir.join(JOURNAL);
        private_file(&journal, false).with_context(|| format!("cannot create {}", journal.display()))?;
        let project = Project { root: dir.canonicalize().unwrap_or_else(|_| dir.to_owned()) };
        Ok(project)
    }

    /// Appends one entry to the journal, flushed to disk.
    pub fn record(&self, entry: &Entry) -> anyhow::Result<()> {
        let path = self.root.join(JOURNAL);
        let mut f = private_file(&path, true)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        let mut line = serde_json::to_string(entry)?;
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .with_context(|| format!("cannot write the journal {}", path.display()))
    }

    /// Every entry of the journal, oldest first.
    pub fn entries(&self) -> anyhow::Result<Vec<Entry>> {
        let path = self.root.join(JOURNAL);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read the journal {}", path.display()))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).with_context(|| {
                    format!(
                        "{} line {}: not a journal entry; was the file edited by hand?",
                        path.display(),
                        i + 1
                    )
                })
            })
            .collect()
    }

    /// Writes a report into `reports/`, owner-only; returns its path
    /// relative to the folder.
    /// A name already taken (two runs in one second) gets `-2`, `-3`… before
    /// its extension: a report is never overwritten.
    pub fn write_report(&self, name: &str, text: &str) -> anyhow::Result<String> {
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        for n in 1..1000 {
            let file = match (n, ext.is_empty()) {
                (1, _) => name.to_owned(),
                (_, true) => format!("{stem}-{n}"),
                (_, false) => format!("{stem}-{n}.{ext}"),
            };
            let rel = format!("reports/{file}");
            let path = self.root.join(&rel);
            let mut f = match private_file(&path, false) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
            };
            f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(rel);
        }
        bail!("cannot name a report {name} in {}: too many of that name", self.root.join("reports").display())
    }

    /// `path` relative to the folder when inside it, as given otherwise.
    pub fn relative(&self, path: &Path) -> String {
        let abs = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        abs.strip_prefix(&self.root).map_or_else(|_| abs.display().to_string(), |p| p.display().to_string())
    }

    /// The SHA-256 of every file under `paths` (a folder: every file in it,
    /// in name order), as journal inputs.
    pub fn hash_inputs(&self, paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
        let mut files = Vec::new();
        for p in paths {
            collect_files(p, &mut files).with_context(|| format!("cannot list {}", p.display()))?;
        }
        files.sort();
        files.dedup();
        files
            .iter()
            .map(|f| {
                Ok(Input {
                    path: self.relative(f),
                    sha256: sha256_file(f).with_context(|| format!("cannot read {}", f.display()))?,
                })
            })
            .collect()
    }
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = fs::metadata(p)?;
    if meta.is_file() {
        out.push(p.canonicalize()?);
    } else if meta.is_dir() {
        for e in fs::read_dir(p)? {
            let e = e?;
            let name = e.file_name();
            // Ferry's own files beside the data are not inputs.
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            collect_files(&e.path(), out)?;
        }
    }
    Ok(())
}

/// The Solution Document a new migration folder starts with.
pub(crate) fn plan_template(name: &str) -> String {
    let name = name.replace(['"', '\\'], "");
    format!(
        r#"# The Solution Document of this migration: what moves where, what is
# required, what is nice to have and what is not needed. Everyone involved
# reviews it before any data moves. Edit it by hand; keep it in version
# control beside the journal.
#
# `ferry plan init --to DESTINATION` drafts the rest from the inventory and
# the destination's manifest: the source, named destinations, the id
# strategy, filters, the field policy, each entity's priority and a crosswalk
# for every code found. It adds only what is missing: your edits and
# comments stay. `ferry plan check` then finds what blocks, line by line.
# The readiness checks of `ferry check` are tuned in its checks table (see the end).

[migration]
name = "{name}"

# The freeze window: both systems read-only (dates as YYYY-MM-DD), the
# sandbox test and go-live dates, and who owns each step (roles, not names):
# freeze_start = "2027-06-20"
# freeze_end = "2027-07-05"
# sandbox_test = "2027-06-25"
# go_live = "2027-07-06"
# owners = {{ inventory = "data manager", freeze = "SIS administrator", verify = "data manager" }}
[timeline]

# The readiness checks (`ferry check`): which rule sets run, as of when, and
# each rule on or off, blocking or a warning.
# [checks]
# rules = ["year-end", "state-reporting"]
# [checks.year-end]
# as_of = "2027-06-15"          # default: today; a school year is closed when all its sessions ended before
# closed_years = [2027]         # or say which (the year each ends in)
# stored_grade_kinds = ["transcript"]   # grades that count as stored; add "final" for gradebook finals
# min_daily_attendance = 5      # schools with fewer attendance records a day are not checked day by day
# [checks.year-end.rules.days_without_attendance]
# enabled = true
# blocking = false              # rules: open_enrollments, sections_without_final_grades,
#                               # completed_without_grades, days_without_attendance, no_exit_code
# [checks.state-reporting]
# required = ["students.state_id", "students.birth_date", "students.sex", "students.grade_level",
#             "students.school_id", "demographics.hispanic_or_latino", "demographics.races",
#             "school_enrollments.school_id", "school_enrollments.entry_date",
#             "school_enrollments.entry_code", "school_enrollments.grade_level"]
# [checks.state-reporting.rules.required_fields]
# blocking = true
"#
    )
}

/// The part of the plan `status` reads.
#[derive(Debug, Default, Deserialize)]
struct PlanHead {
    #[serde(default)]
    migration: MigrationHead,
    #[serde(default)]
    timeline: Timeline,
}

#[derive(Debug, Default, Deserialize)]
struct MigrationHead {
    #[serde(default)]
    name: Option<String>,
}

/// The plan's timeline.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Timeline {
    /// The freeze window.
    #[serde(default)]
    pub freeze_start: Option<String>,
    #[serde(default)]
    pub freeze_end: Option<String>,
    /// The sandbox test and go-live dates.
    #[serde(default)]
    pub sandbox_test: Option<String>,
    #[serde(default)]
    pub go_live: Option<String>,
    /// Who owns each step, by role.
    #[serde(default)]
    pub owners: BTreeMap<String, String>,
}

/// The state of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// No run recorded.
    NotStarted,
    /// The last run passed and its inputs are as they were.
    Passed,
    /// The last run failed or was stopped.
    Failed,
    /// The last run passed, but an input changed (or is gone) since.
    Stale,
    /// This version of Ferry has no command for the step.
    NotBuilt,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::Passed => "passed",
            State::Failed => "failed",
            State::Stale => "stale",
            State::NotBuilt => "not built yet",
        }
    }
}

/// One step in `status`.
#[derive(Clone, Debug, Serialize)]
pub struct StepStatus {
    pub step: Step,
    pub command: &'static str,
    pub state: State,
    /// When its last run finished.
    pub last_run: Option<String>,
    /// Runs recorded.
    pub runs: usize,
    /// The inputs that changed since its last run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// Its owner, from the plan's timeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The last check of its result (`ferry freeze verify`): when, and
    /// whether it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_check: Option<(String, Outcome)>,
}

/// What `ferry status` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub folder: String,
    pub name: Option<String>,
    pub steps: Vec<StepStatus>,
    pub timeline: Timeline,
    /// The first step, in order, that is built and not passed.
    pub next: Option<Step>,
}

impl Project {
    /// The migration's steps as the journal records them.
    pub fn status(&self) -> anyhow::Result<Status> {
        let plan_path = self.root.join(PLAN);
        let text =
            fs::read_to_string(&plan_path).with_context(|| format!("cannot read {}", plan_path.display()))?;
        let head: PlanHead = toml::from_str(&text)
            .map_err(|e| anyhow::Error::new(UsageError(format!("{}: {e}", plan_path.display()))))?;
        let entries = self.entries()?;
        let mut steps = Vec::new();
        for step in Step::ALL {
            let runs: Vec<&Entry> = entries.iter().filter(|e| e.step == step && e.check.is_none()).collect();
            let last_check = entries
                .iter()
                .rev()
                .find(|e| e.step == step && e.check.is_some())
                .map(|e| (e.finished_at.clone(), e.outcome));
            let last = runs.last();
            let mut changed = Vec::new();
            let state = match last {
                None if !step.built() => State::NotBuilt,
                None => State::NotStarted,
                Some(e) if e.outcome != Outcome::Passed => State::Failed,
                Some(e) => {
                    for input in &e.inputs {
                        let now = sha256_file(&self.root.join(&input.path)).ok();
                        if now.as_deref() != Some(input.sha256.as_str()) {
                            changed.push(input.path.clone());
                        }
                    }
                    if changed.is_empty() { State::Passed } else { State::Stale }
                }
            };
            steps.push(StepStatus {
                step,
                command: step.command(),
                state,
                last_run: last.map(|e| e.finished_at.clone()),
                runs: runs.len(),
                changed,
                owner: head.timeline.owners.get(step.name()).cloned(),
                last_check,
            });
        }
        let next = steps.iter().find(|s| s.step.built() && s.state != State::Passed).map(|s| s.step);
        Ok(Status {
            folder: self.root.display().to_string(),
            name: head.migration.name,
            steps,
            timeline: head.timeline,
            next,
        })
    }
}

/// Prints a status for people.
pub fn print_status(s: &Status) {
    outln!("Migration {} ({})", s.name.as_deref().unwrap_or("(unnamed)"), s.folder);
    let t = &s.timeline;
    match (&t.freeze_start, &t.freeze_end) {
        (Some(a), Some(b)) => outln!("Freeze window: {a} to {b}"),
        (Some(a), None) => outln!("Freeze window: from {a}"),
        _ => outln!("Freeze window: not set ([timeline] in plan.toml)"),
    }
    if let Some(d) = &t.sandbox_test {
        outln!("Sandbox test: {d}");
    }
    if let Some(d) = &t.go_live {
        outln!("Go-live: {d}");
    }
    outln!();
    outln!("{:<10} {:<14} {:<22} {:>5}  {}", "STEP", "STATE", "LAST RUN", "RUNS", "COMMAND");
    for st in &s.steps {
        outln!(
            "{:<10} {:<14} {:<22} {:>5}  {}{}",
            st.step.name(),
            st.state.label(),
            st.last_run.as_deref().unwrap_or("-"),
            st.runs,
            st.command,
            st.owner.as_ref().map(|o| format!("  (owner: {o})")).unwrap_or_default()
        );
        for c in &st.changed {
            outln!("{:<10} changed since: {c}", "");
        }
        if let Some((at, outcome)) = &st.last_check {
            let said = if *outcome == Outcome::Passed { "unchanged" } else { "CHANGED" };
            outln!("{:<10} last checked {at}: {said}", "");
        }
    }
    outln!();
    match s.next {
        Some(step) => outln!("Next: {} ({})", step.name(), step.command()),
        None => outln!("Next: nothing; every step this version of Ferry has passed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(step: Step, outcome: Outcome, inputs: Vec<Input>) -> Entry {
        Entry {
            step,
            started_at: "2026-12-02T00:00:00Z".into(),
            finished_at: "2026-12-02T00:00:01Z".into(),
            command: vec!["ferry".into()],
            inputs,
            counts: serde_json::Value::Null,
            outcome,
            error: None,
            report: None,
            ferry_version: "test".into(),
            check: None,
        }
    }

    #[test]
    fn status_follows_the_journal_and_the_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let p = Project::init(&dir.path().join("m"), "test").unwrap();
        assert!(Project::init(&p.root, "again").is_err(), "a folder is made once");
        let data = p.root.join("data.csv");
        fs::write(&data, "a\n").unwrap();
        let s = p.status().unwrap();
        assert_eq!(s.steps.iter().find(|s| s.step == Step::Migrate).unwrap().state, State::NotStarted);
        assert_eq!(s.steps.iter().find(|s| s.step == Step::Check).unwrap().state, State::NotStarted);
        assert_eq!(s.steps.iter().find(|s| s.step == Step::Plan).unwrap().state, State::NotStarted);
        assert!(s.steps.iter().all(|s| s.state != State::NotBuilt), "every step has its command");

        let inputs = p.hash_inputs(std::slice::from_ref(&data)).unwrap();
        assert_eq!(inputs[0].path, "data.csv");
        p.record(&entry(Step::DryRun, Outcome::Passed, inputs.clone())).unwrap();
        p.record(&entry(Step::Migrate, Outcome::Failed, inputs.clone())).unwrap();
        let s = p.status().unwrap();
        let state = |s: &Status, step| s.steps.iter().find(|x| x.step == step).unwrap().state;
        assert_eq!(state(&s, Step::DryRun), State::Passed);
        assert_eq!(state(&s, Step::Migrate), State::Failed);
        assert_eq!(s.next, Some(Step::Init), "init was never recorded in this test");

        p.record(&entry(Step::Migrate, Outcome::Passed, inputs)).unwrap();
        fs::write(&data, "b\n").unwrap();
        let s = p.status().unwrap();
        assert_eq!(state(&s, Step::Migrate), State::Stale);
        assert_eq!(s.steps.iter().find(|x| x.step == Step::Migrate).unwrap().changed, ["data.csv"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_folder_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = Project::init(&dir.path().join("m"), "test").unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p.root.join(JOURNAL)), 0o600);
        assert_eq!(mode(&p.root.join(PLAN)), 0o600);
        assert_eq!(mode(&p.root.join("snapshots")), 0o700);
        assert_eq!(mode(&p.root.join("reports")), 0o700);
    }
}
