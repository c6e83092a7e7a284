//! Fault injection: `kill -9` and SIGTERM at seeded random moments of a run
//! of a generated PowerSchool district into an existing archive.
//!
//! After every kill: `PRAGMA integrity_check` and the archive's own
//! checksums (`ferry_archive::verify`, what the run records say each table
//! holds) pass; the archive holds either the previous content (and is then
//! the previous file byte for byte) or the content of the same run fully
//! committed (from a reference run into a copy), and the rejects file is the
//! one of the same run; a SIGTERM exits 143, or 0 if it came after the commit;
//! nothing is left in the folder, except after a `kill -9` what a killed
//! process cannot remove (its temporary copy, its partial rejects file, the
//! lock file's journal); and a clean re-run succeeds, gives the new content
//! and leaves nothing behind.
//!
//! Kill moments are stratified over the reference run's measured duration
//! (and a tenth more, for runs slower than the reference): per signal, one
//! moment drawn uniformly in each of `n` equal slices, so start-up, reading,
//! writing, the prepare (index builds, pruning, the transaction's commit,
//! fsync) and the end of the run are all reached. The seed comes
//! from `FERRY_FAULT_SEED` (or the clock), the number of points from
//! `FERRY_FAULT_POINTS` (default 24: 12 of each signal); both are printed
//! first (past the test harness's capture) and in every failure. A replay
//! draws the same moments; where in the run each one falls still depends on
//! the machine's speed.
//!
//! "The same content" means every table's rows, and the schema (tables and
//! indexes), are equal, leaving out only what differs between two runs of the
//! same inputs: which run wrote a row (`run_id`: ids of the runs already in
//! the previous archive are kept and compared, any other reads as "the new
//! run"); in the rows the new run wrote, its sequence number and timestamps
//! (`ferry_runs`) and its source files' row ids (`ferry_source_files.id`,
//! which a source row's `_row` holds: compared as the file's name and the
//! line); `ferry_meta.last_written_at`; and SQLite's planner statistics
//! (`sqlite_stat*`). A re-run after a committed kill records a second,
//! identical run: the new runs are compared as a set and counted apart.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferry_gen::{PsGenOptions, SOURCE_CONFIG_FILE, TextEncoding};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use crate::support::*;

const ARCHIVE: &str = "ferry-archive.sqlite";
const REJECTS: &str = "ferry-rejects.jsonl";
/// Files a folder holds between runs: the archive, its lock file (kept by
/// design) and the rejects file.
const KEPT: [&str; 3] = [ARCHIVE, "ferry-archive.sqlite.ferry-lock", REJECTS];
/// How long a stopped run may take to exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Prints to the test process's stderr directly, past the test harness's
/// capture: the seed and the kill points belong in the CI log even when the
/// test passes.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "faults: {line}");
}

/// SplitMix64: a small, well-known seeded generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={v} is not a number ({e})")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Kill,
    Term,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Kill => "SIGKILL",
            Signal::Term => "SIGTERM",
        }
    }
}

/// What the previous archive holds that a later run may legitimately change.
#[derive(Default)]
struct Baseline {
    /// Ids of the runs recorded in the previous archive.
    run_ids: BTreeSet<String>,
    /// Its `ferry_meta.last_written_at`.
    last_written_at: Option<String>,
}

impl Baseline {
    fn of(path: &Path) -> Baseline {
        let conn = open(path).unwrap();
        let run_ids = conn
            .prepare("SELECT run_id FROM ferry_runs")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let last_written_at = conn
            .query_row("SELECT value FROM ferry_meta WHERE key = 'last_written_at'", [], |r| r.get(0))
            .ok();
        Baseline { run_ids, last_written_at }
    }
}

/// An archive's content: per table (and `(schema)`), its row count and a
/// digest of its sorted normalised row hashes; and the number of runs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Content {
    tables: BTreeMap<String, (u64, u128)>,
    runs: u64,
}

impl Content {
    /// The tables that differ from `other`, with both row counts (never values).
    fn diff(&self, other: &Content) -> Vec<String> {
        let names: BTreeSet<&String> = self.tables.keys().chain(other.tables.keys()).collect();
        names
            .into_iter()
            .filter(|n| self.tables.get(*n) != other.tables.get(*n))
            .map(|n| {
                let rows = |c: &Content| {
                    c.tables.get(n).map_or_else(|| "absent".into(), |t| format!("{} rows", t.0))
                };
                format!("{n} ({} here, {} there)", rows(self), rows(other))
            })
            .collect()
    }
}

fn open(path: &Path) -> Result<Connection, String> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// Columns left out of a row written by a run that is not in the baseline.
fn volatile(table: &str, column: &str) -> bool {
    match table {
        "ferry_runs" => matches!(column, "seq" | "started_at" | "finished_at" | "committed_at"),
        "ferry_source_files" => column == "id",
        _ => false,
    }
}

fn push_value(buf: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => buf.push(0),
        ValueRef::Integer(i) => {
            buf.push(1);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            buf.push(2);
            buf.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            buf.push(if matches!(v, ValueRef::Text(_)) { 3 } else { 4 });
            buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
            buf.extend_from_slice(b);
        }
    }
}

fn content(path: &Path, base: &Baseline) -> Result<Content, String> {
    let conn = open(path)?;
    let err = |e: rusqlite::Error| format!("cannot read {}: {e}", path.display());
    let mut tables = BTreeMap::new();
    // A source row's `_row` is its file's id (a number each run draws anew)
    // times a stride, plus its line: compared as the file's name and the line.
    let files: BTreeMap<i64, String> = conn
        .prepare(&format!("SELECT id, file FROM {}", ferry_archive::source_tables::FILES))
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(err)?;
    let digest = |mut hashes: Vec<u128>| {
        hashes.sort_unstable();
        let mut h = Xxh3::new();
        for x in &hashes {
            h.update(&x.to_le_bytes());
        }
        (hashes.len() as u64, h.digest128())
    };

    // The schema: tables and indexes, as created.
    let mut schema = Vec::new();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut names = Vec::new();
    while let Some(r) = rows.next().map_err(err)? {
        let mut buf = Vec::new();
        for i in 0..4 {
            push_value(&mut buf, r.get_ref(i).map_err(err)?);
        }
        schema.push(xxh3_128(&buf));
        if r.get_ref(0).map_err(err)?.as_str().ok() == Some("table") {
            names.push(r.get::<_, String>(1).map_err(err)?);
        }
    }
    drop(rows);
    drop(stmt);
    tables.insert("(schema)".to_owned(), digest(schema));

    for table in names {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).map_err(err)?;
        let cols: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let run_col = cols.iter().position(|c| c == "run_id");
        let row_col = table
            .starts_with(ferry_archive::source_tables::PREFIX)
            .then(|| cols.iter().position(|c| c == ferry_archive::source_tables::ROW_COLUMN))
            .flatten();
        let (mut hashes, mut new_runs) = (Vec::new(), BTreeSet::new());
        let mut rows = stmt.query([]).map_err(err)?;
        let mut buf = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let new_run = match run_col {
                Some(i) => match r.get_ref(i).map_err(err)? {
                    ValueRef::Text(id) => !base.run_ids.contains(String::from_utf8_lossy(id).as_ref()),
                    _ => true,
                },
                None => false,
            };
            let meta_key = (table == "ferry_meta").then(|| r.get::<_, String>(0).unwrap_or_default());
            buf.clear();
            for (i, col) in cols.iter().enumerate() {
                if new_run && volatile(&table, col) {
                    continue;
                }
                buf.extend_from_slice(&(i as u32).to_le_bytes());
                let v = r.get_ref(i).map_err(err)?;
                if Some(i) == row_col
                    && let ValueRef::Integer(row) = v
                {
                    let stride = ferry_archive::source_tables::ROW_STRIDE;
                    let file = files.get(&(row / stride)).map_or("<no such file>", String::as_str);
                    push_value(&mut buf, ValueRef::Text(file.as_bytes()));
                    push_value(&mut buf, ValueRef::Integer(row % stride));
                } else if (new_run && Some(i) == run_col)
                    || (meta_key.as_deref() == Some("last_written_at")
                        && col == "value"
                        && v.as_str().ok() != base.last_written_at.as_deref())
                {
                    push_value(&mut buf, ValueRef::Text(b"<the new run>"));
                } else {
                    push_value(&mut buf, v);
                }
            }
            let h = xxh3_128(&buf);
            // A run recorded twice (finished before the kill, then run again)
            // is one new run; so are the plugins it records.
            if new_run && (table == "ferry_runs" || table == "ferry_run_plugins") {
                new_runs.insert(h);
            } else {
                hashes.push(h);
            }
        }
        hashes.extend(new_runs);
        tables.insert(table, digest(hashes));
    }
    let runs = conn.query_row("SELECT count(*) FROM ferry_runs", [], |r| r.get(0)).map_err(err)?;
    Ok(Content { tables, runs })
}

/// `PRAGMA integrity_check` and the archive's own table checksums.
fn integrity(path: &Path) -> Result<(), String> {
    let conn = open(path)?;
    let report: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("PRAGMA integrity_check could not run: {e}"))?;
    if report != ["ok"] {
        let more = report.len().saturating_sub(5);
        return Err(format!(
            "PRAGMA integrity_check: {} (and {more} more)",
            report[..report.len() - more].join("; ")
        ));
    }
    let bad: Vec<String> = ferry_archive::verify(path)
        .map_err(|e| format!("verify: {e}"))?
        .into_iter()
        .filter(|t| !t.ok())
        .map(|t| t.table)
        .collect();
    if bad.is_empty() { Ok(()) } else { Err(format!("checksums differ from the run records in {bad:?}")) }
}

/// The lines of a folder's rejects file, sorted, without the run id each
/// line names (`None` when there is none).
fn rejects(dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(REJECTS)).ok()?;
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
            Ok(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    o.remove("run_id");
                }
                v.to_string()
            }
            Err(_) => l.to_owned(),
        })
        .collect();
    lines.sort_unstable();
    Some(lines)
}

/// Files in `dir` besides those kept between runs.
fn stray(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !KEPT.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

/// Leftovers only a process that died cannot remove (its temporary copy, its
/// partial rejects file, the previous rejects file it had set aside to put
/// back if the commit failed): allowed after a `kill -9`, until the next run.
fn left_by_a_killed_run(name: &str) -> bool {
    name.contains(".ferry-tmp-")
        || name.ends_with(".partial")
        || (name.starts_with(&format!(".{REJECTS}.run-")) && name.ends_with(".previous"))
        || name == format!("{ARCHIVE}.ferry-lock-journal")
        || name == format!(".{REJECTS}.lock")
}

/// The migration under test, in `dir`.
struct Job {
    from: String,
    home: PathBuf,
    logs: PathBuf,
}

impl Job {
    fn spawn(&self, dir: &Path, log: &str) -> Child {
        let stderr = std::fs::File::create(self.logs.join(log)).unwrap();
        Command::new(ferry_bin())
            .current_dir(dir)
            .env("FERRY_PLUGIN_PATH", plugins_dir())
            .env("FERRY_HOME", &self.home)
            .env_remove("FERRY_LOG")
            .args(["migrate", "--allow-rejects", "--from", &self.from])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap()
    }

    /// Runs to the end; the duration and the exit status.
    fn run(&self, dir: &Path, log: &str) -> (Duration, ExitStatus) {
        let started = Instant::now();
        let status = self.spawn(dir, log).wait().unwrap();
        (started.elapsed(), status)
    }

    fn log_tail(&self, log: &str) -> String {
        let text = std::fs::read_to_string(self.logs.join(log)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(6)..].join("\n    ")
    }
}

fn wait_with_timeout(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn send(child: &mut Child, sig: Signal) {
    match sig {
        Signal::Kill => {
            let _ = child.kill();
        }
        Signal::Term => {
            let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
            // A child that exited already (a zombie until waited for) still takes the signal.
            assert!(status.success(), "kill -TERM {} failed", child.id());
        }
    }
}

fn generate(dir: &Path, students: u32, seed: u64, encoding: TextEncoding) -> String {
    let opts = PsGenOptions { students, seed, quirks: true, encoding, ..PsGenOptions::default() };
    ferry_gen::powerschool(&opts, dir).unwrap();
    format!("powerschool:{}", dir.join(SOURCE_CONFIG_FILE).display())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Previous,
    New,
}

#[test]
fn kills_at_random_points_leave_the_previous_or_the_new_archive() {
    let seed = env_u64("FERRY_FAULT_SEED").unwrap_or_else(|| {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        t.as_secs() ^ u64::from(t.subsec_nanos()).rotate_left(32)
    });
    let points = env_u64("FERRY_FAULT_POINTS").unwrap_or(24);
    assert!(points >= 2, "FERRY_FAULT_POINTS must be at least 2 (one of each signal)");
    let replay = format!("FERRY_FAULT_SEED={seed} FERRY_FAULT_POINTS={points}");
    say(&format!("{replay} (set these to replay the same kill moments)"));
    let started = Instant::now();

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let home = root.join("home");
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // The previous state: a smaller district of another seed; then the new input.
    let old = Job {
        from: generate(&root.join("old"), 150, 41, TextEncoding::Cp1252),
        home: home.clone(),
        logs: logs.clone(),
    };
    let job = Job { from: generate(&root.join("new"), 300, 42, TextEncoding::Utf8), home, logs };

    let base = root.join("base");
    std::fs::create_dir_all(&base).unwrap();
    let (_, status) = old.run(&base, "base.log");
    assert!(status.success(), "the previous run failed: {status}\n    {}", old.log_tail("base.log"));
    let previous_file = base.join(ARCHIVE);
    let previous_bytes = std::fs::read(&previous_file).unwrap();
    let baseline = Baseline::of(&previous_file);
    let previous = content(&previous_file, &baseline).unwrap();
    integrity(&previous_file).unwrap();
    let previous_rejects = rejects(&base);

    // The reference: the same run into a copy, to the end.
    let fresh = |name: &str| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&previous_file, dir.join(ARCHIVE)).unwrap();
        std::fs::copy(base.join(REJECTS), dir.join(REJECTS)).unwrap();
        dir
    };
    let reference = fresh("reference");
    let (took, status) = job.run(&reference, "reference.log");
    assert!(status.success(), "the reference run failed: {status}\n    {}", job.log_tail("reference.log"));
    let new = content(&reference.join(ARCHIVE), &baseline).unwrap();
    integrity(&reference.join(ARCHIVE)).unwrap();
    assert_eq!(new.runs, previous.runs + 1);
    let changed = previous.diff(&new);
    assert!(changed.len() > 3, "the previous and the new archive hardly differ: {changed:?}");
    // The rejects file belongs with its archive: the previous run's beside the previous one.
    let new_rejects = rejects(&reference);
    assert!(
        new_rejects.is_some() && new_rejects != previous_rejects,
        "both runs must have rejects files, and different ones"
    );
    std::fs::remove_dir_all(&reference).unwrap();
    say(&format!(
        "reference run: {} ms; previous archive {} runs, new archive changes {} tables",
        took.as_millis(),
        previous.runs,
        changed.len()
    ));

    // The kill moments: per signal, one uniform draw in each equal slice of
    // the reference run's duration and a tenth more, so that the end of the
    // run (the commit, the rename, the report) is reached even when a run is
    // a little slower than the reference; a run that finished first must
    // then be the new one.
    let span = took.mul_f64(1.1);
    let mut rng = Rng(seed);
    let per_signal = [(Signal::Kill, points.div_ceil(2)), (Signal::Term, points / 2)];
    let mut plan = Vec::new();
    for (sig, n) in per_signal {
        for k in 0..n {
            let at = span.mul_f64((k as f64 + rng.unit()) / n as f64);
            plan.push((sig, at));
        }
    }
    // Interleave the signals, in a seeded order.
    for i in (1..plan.len()).rev() {
        plan.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }

    let mut failures = Vec::new();
    let mut outcomes: BTreeMap<String, u32> = BTreeMap::new();
    for (i, (sig, at)) in plan.into_iter().enumerate() {
        let point = format!(
            "[{replay}, point {i}: {} at {} ms of {} ms]",
            sig.name(),
            at.as_millis(),
            took.as_millis()
        );
        let mut fail = |what: String| failures.push(format!("{point} {what}"));
        let dir = fresh(&format!("point-{i}"));
        let log = format!("point-{i}.log");
        let mut child = job.spawn(&dir, &log);
        std::thread::sleep(at);
        let finished_first = child.try_wait().unwrap().is_some();
        if !finished_first {
            send(&mut child, sig);
        }
        let Some(status) = wait_with_timeout(&mut child) else {
            fail(format!("did not exit within {} s of the signal", STOP_TIMEOUT.as_secs()));
            continue;
        };
        // What the exit status allows.
        let allowed: &[State] = match (sig, status.code(), status.signal()) {
            (_, Some(0), _) => &[State::New],
            (Signal::Kill, None, Some(9)) => &[State::Previous, State::New],
            (Signal::Term, Some(143), _) => &[State::Previous],
            // Before the stop handler is installed (the first milliseconds
            // of start-up) SIGTERM's default action ends the process: nothing
            // was opened yet.
            (Signal::Term, None, Some(15)) => &[State::Previous],
            _ => {
                fail(format!("unexpected exit {status}\n    {}", job.log_tail(&log)));
                &[State::Previous, State::New]
            }
        };

        let left = stray(&dir);
        let unexpected: Vec<&String> =
            left.iter().filter(|n| sig == Signal::Term || !left_by_a_killed_run(n)).collect();
        if !unexpected.is_empty() {
            fail(format!("stray files after {status}: {unexpected:?}"));
        }
        let archive = dir.join(ARCHIVE);
        if let Err(e) = integrity(&archive) {
            fail(format!("after {status}: {e}"));
        }
        let state = match content(&archive, &baseline) {
            Ok(c) if c == previous => {
                if std::fs::read(&archive).unwrap() != previous_bytes {
                    fail(
                        "the archive holds the previous content but is not the previous file byte for byte"
                            .into(),
                    );
                }
                Some(State::Previous)
            }
            Ok(c) if c == new => Some(State::New),
            Ok(c) => {
                fail(format!(
                    "a third state after {status}: {} runs; differs from the previous archive in {:?} and from \
                     the new one in {:?}",
                    c.runs,
                    c.diff(&previous),
                    c.diff(&new)
                ));
                None
            }
            Err(e) => {
                fail(e);
                None
            }
        };
        if let Some(s) = state
            && !allowed.contains(&s)
        {
            fail(format!("exit {status} but the archive is the {s:?} one"));
        }
        let rejects_now = rejects(&dir);
        let rejects_state = if rejects_now == previous_rejects {
            Some(State::Previous)
        } else if rejects_now == new_rejects {
            Some(State::New)
        } else {
            None
        };
        // The rejects file goes in place just before the archive commits: a
        // kill -9 between the two leaves the new run's rejects beside the
        // previous archive (never the reverse).
        let between_the_renames =
            sig == Signal::Kill && state == Some(State::Previous) && rejects_state == Some(State::New);
        if state.is_some() && rejects_state != state && !between_the_renames {
            fail(format!(
                "after {status} the archive is the {state:?} one but the rejects file {}",
                match rejects_state {
                    Some(r) => format!("is the {r:?} run's"),
                    None if rejects_now.is_none() => "is missing".to_owned(),
                    None => "is neither run's".to_owned(),
                }
            ));
        }

        // A clean re-run finishes the job and cleans up.
        let rerun_log = format!("point-{i}-rerun.log");
        let (_, rerun) = job.run(&dir, &rerun_log);
        if !rerun.success() {
            fail(format!("the re-run failed: {rerun}\n    {}", job.log_tail(&rerun_log)));
        } else {
            if let Err(e) = integrity(&archive) {
                fail(format!("after the re-run: {e}"));
            }
            let runs = previous.runs + 1 + u64::from(state == Some(State::New));
            match content(&archive, &baseline) {
                Ok(c) if c.tables == new.tables && c.runs == runs => {}
                Ok(c) => fail(format!(
                    "the re-run did not give the new archive: {} runs (expected {runs}); differs in {:?}",
                    c.runs,
                    c.diff(&new)
                )),
                Err(e) => fail(format!("after the re-run: {e}")),
            }
            let left = stray(&dir);
            if !left.is_empty() {
                fail(format!("stray files after the re-run: {left:?}"));
            }
            if rejects(&dir) != new_rejects {
                fail("the rejects file after the re-run is not the new run's".into());
            }
        }
        let outcome =
            format!("{} -> {}", sig.name(), state.map_or_else(|| "failed".to_owned(), |s| format!("{s:?}")));
        say(&format!(
            "point {i}: {} at {} ms ({:.0}%): {}{}",
            sig.name(),
            at.as_millis(),
            100.0 * at.as_secs_f64() / took.as_secs_f64(),
            if finished_first { "finished before the signal, " } else { "" },
            outcome
        ));
        *outcomes.entry(outcome).or_default() += 1;
        std::fs::remove_dir_all(&dir).unwrap();
    }
    say(&format!("{points} kill points in {} s: {outcomes:?}", started.elapsed().as_secs()));
    assert!(
        failures.is_empty(),
        "{} failure(s) at {points} kill points (replay with {replay}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
