//! `ferry freeze` and `ferry freeze verify`, in a migration folder.
//!
//! A freeze reads the source once, through its connector, into
//! `snapshots/<time>/`: a consolidated copy (a Ferry archive, with the
//! source's own tables as they came), a manifest (every source file with
//! its SHA-256, per-entity counts, the time taken) and `records.tsv`, the
//! content hash of every record by id. `freeze verify` re-reads the live
//! source the same way and names, per entity, the records added, changed or
//! removed since. Migrations then run from the snapshot
//! (`--from sqlite:snapshots/<time>/snapshot.sqlite`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::UsageError;
use crate::cli::Format;
use crate::project::{Entry, Input, Outcome, Project, Step};

/// Set in the `ferry migrate` a freeze runs, which the freeze journals itself.
pub const NO_JOURNAL: &str = "FERRY_NO_JOURNAL";

const MANIFEST: &str = "manifest.json";
const RECORDS: &str = "records.tsv";
const SNAPSHOT: &str = "snapshot.sqlite";

/// A snapshot's manifest.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// When it was taken.
    pub created_at: String,
    /// Seconds the read took.
    pub seconds: f64,
    /// The source, as given to `--from`.
    pub source: String,
    /// `--from-set` overrides.
    #[serde(default)]
    pub source_set: Vec<String>,
    /// Every file the source read, with its SHA-256.
    pub files: Vec<Input>,
    /// Per entity: read, written, rejected, skipped.
    pub entities: serde_json::Value,
    /// Records in `records.tsv`.
    pub records: u64,
}

/// Reads the source into an archive at `archive` with a child `ferry
/// migrate`; returns its JSON report.
pub(crate) fn read_source(
    source: &str,
    sets: &[String],
    archive: &Path,
    rejects: &Path,
    extra: &[&std::ffi::OsStr],
) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("cannot find the ferry binary")?;
    let mut cmd = Command::new(exe);
    // Its progress bar and warnings go to our stderr; its JSON report comes back.
    cmd.args(["migrate", "--from", source, "--allow-rejects", "--format", "json"]);
    cmd.arg("--to").arg(format!("sqlite:{}", archive.display()));
    cmd.arg("--rejects").arg(rejects);
    for s in sets {
        cmd.args(["--from-set", s]);
    }
    cmd.args(extra);
    cmd.env(NO_JOURNAL, "1").stdin(Stdio::null()).stderr(Stdio::inherit());
    let out = cmd.output().context("cannot run ferry migrate")?;
    if !out.status.success() {
        bail!("reading {source} failed ({}); its errors are above", out.status);
    }
    serde_json::from_slice(&out.stdout).context("ferry migrate printed no JSON report")
}

pub(crate) fn records_tsv(archive: &Path) -> anyhow::Result<(String, u64)> {
    records_tsv_over(archive, None)
}

/// [`records_tsv`] over only the fields `only` names per entity (see
/// [`ferry_archive::record_hashes_over`]); `None`: every field.
fn records_tsv_over(
    archive: &Path,
    only: Option<&BTreeMap<String, Vec<String>>>,
) -> anyhow::Result<(String, u64)> {
    let mut text = String::new();
    let hashes = match only {
        Some(only) => ferry_archive::record_hashes_over(archive, only)?,
        None => ferry_archive::record_hashes(archive)?,
    };
    for r in &hashes {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let _ = writeln!(text, "{}\t{}\t{}\t{:032x}", r.entity, clean(&r.system), clean(&r.id), r.hash);
    }
    Ok((text, hashes.len() as u64))
}

/// The first ids of a list for a terminal, saying how many more there are.
fn some_ids(ids: &[String]) -> String {
    const SHOWN: usize = 20;
    let shown: Vec<&str> = ids.iter().take(SHOWN).map(String::as_str).collect();
    match ids.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} (+{more} more; --format json lists all)", shown.join(", ")),
    }
}

/// Every file the source `--from SOURCE` reads: its location, and for a
/// configuration file the folder it sits in.
pub(crate) fn source_files(project: &Project, source: &str) -> anyhow::Result<Vec<Input>> {
    let path = source.split_once(':').map(|(_, p)| PathBuf::from(p));
    let mut paths: Vec<PathBuf> = path.into_iter().filter(|p| p.exists()).collect();
    // A configuration file names its data folder: its own folder is read.
    if let Some(p) = paths.first().cloned()
        && p.is_file()
        && let Some(dir) = p.parent()
    {
        paths.push(if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_owned() });
    }
    project.hash_inputs(&paths)
}

pub(crate) fn private_write(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// `ferry freeze --from SOURCE`.
pub fn freeze(source: &str, sets: &[String], format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let t0 = Instant::now();
    let stamp = started_at.replace([':', '-'], "");
    let rel = format!("snapshots/{stamp}");
    let dir = project.root.join(&rel);
    if dir.exists() {
        bail!(UsageError(format!("{} exists already; freeze again in a second", dir.display())));
    }
    let tmp = project.root.join(format!("snapshots/.{stamp}.partial"));
    let result = (|| {
        crate::project::private_dir(&tmp)?;
        let report = read_source(source, sets, &tmp.join(SNAPSHOT), &tmp.join("rejects.jsonl"), &[])?;
        let (records, n) = records_tsv(&tmp.join(SNAPSHOT))?;
        private_write(&tmp.join(RECORDS), &records)?;
        let files = source_files(&project, source)?;
        let manifest = Manifest {
            created_at: started_at.clone(),
            seconds: t0.elapsed().as_secs_f64(),
            source: source.to_owned(),
            source_set: sets.to_vec(),
            files,
            entities: entity_counts(&report),
            records: n,
        };
        private_write(&tmp.join(MANIFEST), &serde_json::to_string_pretty(&manifest)?)?;
        std::fs::rename(&tmp, &dir)
            .with_context(|| format!("cannot move the snapshot into {}", dir.display()))?;
        Ok::<_, anyhow::Error>(manifest)
    })();
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            journal(
                &project,
                Step::Freeze,
                None,
                started_at,
                Vec::new(),
                serde_json::Value::Null,
                Some(&e),
                None,
            )?;
            return Err(e);
        }
    };
    journal(
        &project,
        Step::Freeze,
        None,
        started_at,
        manifest.files.clone(),
        manifest.entities.clone(),
        None,
        Some(format!("{rel}/{MANIFEST}")),
    )?;
    match format {
        Format::Json => outln!("{}", serde_json::json!({ "snapshot": rel, "manifest": manifest })),
        Format::Text => {
            outln!(
                "Frozen: {} records of {} files in {:.1} s into {rel}/",
                manifest.records,
                manifest.files.len(),
                manifest.seconds
            );
            outln!("Migrate from the snapshot: ferry migrate --from sqlite:{rel}/{SNAPSHOT} …");
            outln!("Check the source did not change since: ferry freeze verify");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn entity_counts(report: &serde_json::Value) -> serde_json::Value {
    serde_json::Value::Array(
        report["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                serde_json::json!({
                    "entity": e["entity"], "read": e["read"], "written": e["written"],
                    "rejected": e["rejected"], "skipped": e["skipped"],
                })
            })
            .collect(),
    )
}

#[allow(clippy::too_many_arguments, reason = "one journal entry's fields")]
pub(crate) fn journal(
    project: &Project,
    step: Step,
    check: Option<&str>,
    started_at: String,
    inputs: Vec<Input>,
    counts: serde_json::Value,
    error: Option<&anyhow::Error>,
    report: Option<String>,
) -> anyhow::Result<()> {
    let outcome = if error.is_some() { Outcome::Failed } else { Outcome::Passed };
    project.record(&Entry {
        inputs,
        counts,
        error: error.map(|e| format!("{e:#}")),
        report,
        check: check.map(str::to_owned),
        ..Entry::ended(step, started_at, outcome)
    })
}

/// The newest snapshot of the folder.
fn latest(project: &Project) -> anyhow::Result<PathBuf> {
    let dir = project.root.join("snapshots");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        anyhow::Error::new(UsageError("no snapshot yet: run `ferry freeze --from SOURCE` first".into()))
    })
}

/// What changed in one entity since the freeze.
#[derive(Debug, Default, Serialize)]
struct EntityChange {
    entity: String,
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
}

fn parse_records(text: &str) -> BTreeMap<(String, String, String), String> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            let (e, s, i, h) = (it.next()?, it.next()?, it.next()?, it.next()?);
            Some(((e.to_owned(), s.to_owned(), i.to_owned()), h.to_owned()))
        })
        .collect()
}

/// `ferry freeze verify`: exit 0 when the source is as frozen, 1 when any
/// record was added, changed or removed since.
pub fn verify(snapshot: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let snap = match snapshot {
        Some(s) => s.to_owned(),
        None => latest(&project)?,
    };
    let mpath = snap.join(MANIFEST);
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(&mpath).with_context(|| format!("cannot read {}", mpath.display()))?,
    )
    .with_context(|| format!("{} is not a snapshot manifest", mpath.display()))?;
    // Files first: when every file is as it was, nothing needs reading.
    let now = source_files(&project, &manifest.source)?;
    let before: BTreeMap<&str, &str> =
        manifest.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let after: BTreeMap<&str, &str> = now.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let files_changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| (*k).to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut changes: Vec<EntityChange> = Vec::new();
    if !files_changed.is_empty() {
        let tmp = project.root.join(format!("snapshots/.verify-{}.partial", std::process::id()));
        let read = (|| {
            crate::project::private_dir(&tmp)?;
            read_source(
                &manifest.source,
                &manifest.source_set,
                &tmp.join(SNAPSHOT),
                &tmp.join("rejects.jsonl"),
                &[],
            )?;
            records_tsv(&tmp.join(SNAPSHOT))
        })();
        let _ = std::fs::remove_dir_all(&tmp);
        let (live, _) = read?;
        let frozen_text = std::fs::read_to_string(snap.join(RECORDS))
            .with_context(|| format!("cannot read {}", snap.join(RECORDS).display()))?;
        let (frozen, live) = (parse_records(&frozen_text), parse_records(&live));
        let mut by_entity: BTreeMap<String, EntityChange> = BTreeMap::new();
        fn at<'m>(m: &'m mut BTreeMap<String, EntityChange>, e: &str) -> &'m mut EntityChange {
            m.entry(e.to_owned())
                .or_insert_with(|| EntityChange { entity: e.to_owned(), ..Default::default() })
        }
        for (k, h) in &live {
            match frozen.get(k) {
                None => at(&mut by_entity, &k.0).added.push(k.2.clone()),
                Some(f) if f != h => at(&mut by_entity, &k.0).changed.push(k.2.clone()),
                Some(_) => {}
            }
        }
        for k in frozen.keys().filter(|k| !live.contains_key(*k)) {
            at(&mut by_entity, &k.0).removed.push(k.2.clone());
        }
        changes = by_entity.into_values().collect();
    }
    let changed = !changes.is_empty();
    let counts =
        serde_json::json!({ "files_changed": files_changed.len(), "entities_changed": changes.len() });
    let err = changed.then(|| anyhow::anyhow!("the source changed since the freeze"));
    journal(&project, Step::Freeze, Some("verify"), started_at, now, counts, err.as_ref(), None)?;
    match format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({
                "snapshot": project.relative(&snap),
                "unchanged": !changed,
                "files_changed": files_changed,
                "entities": changes,
            })
        ),
        Format::Text => {
            if files_changed.is_empty() {
                outln!("Unchanged since the freeze of {}: every file is as it was.", manifest.created_at);
            } else if !changed {
                outln!(
                    "{} file(s) differ from the freeze of {}, but every record reads the same.",
                    files_changed.len(),
                    manifest.created_at
                );
            } else {
                outln!("CHANGED since the freeze of {}:", manifest.created_at);
            }
            for f in &files_changed {
                outln!("  file: {f}");
            }
            for c in &changes {
                outln!(
                    "  {}: {} added, {} changed, {} removed",
                    c.entity,
                    c.added.len(),
                    c.changed.len(),
                    c.removed.len()
                );
                for (what, ids) in [("added", &c.added), ("changed", &c.changed), ("removed", &c.removed)] {
                    if !ids.is_empty() {
                        outln!("    {what}: {}", some_ids(ids));
                    }
                }
            }
        }
    }
    Ok(if changed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// One entity's reconciliation.
#[derive(Debug, Default, Serialize)]
struct Reconciled {
    entity: String,
    snapshot: u64,
    destination: u64,
    /// In the snapshot, not in the destination, and not explained by a reject
    /// of the last migration.
    missing: Vec<String>,
    /// Rejected by the last migration (so rightly missing).
    rejected: u64,
    /// In the destination, not in the snapshot.
    unexpected: Vec<String>,
    /// In both, but saying something else.
    differing: Vec<String>,
}

/// The records the last migration in the folder rejected, by entity and id.
fn last_rejects(project: &Project) -> anyhow::Result<std::collections::BTreeSet<(String, String)>> {
    let mut out = std::collections::BTreeSet::new();
    let last = project.entries()?.into_iter().rev().find(|e| e.step == Step::Migrate && e.check.is_none());
    let Some(report) = last.and_then(|e| e.report) else { return Ok(out) };
    let text = std::fs::read_to_string(project.root.join(&report)).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let Some(rejects) = v["rejects_file"].as_str() else { return Ok(out) };
    let path = project.root.join(rejects);
    for line in std::fs::read_to_string(&path).unwrap_or_default().lines() {
        let Ok(d) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if d["severity"] == "reject"
            && let (Some(e), Some(id)) = (d["entity"].as_str(), d["record_id"].as_str())
        {
            out.insert((e.to_owned(), id.to_owned()));
        }
    }
    Ok(out)
}

/// The reconciliation as a standalone HTML page: the verdict, the totals,
/// the counts per entity, and every mismatch by id.
fn reconciliation_page(
    to: &str,
    snapshot: &str,
    when: &str,
    entities: &[Reconciled],
    files: &[(&str, &str)],
) -> String {
    let bad: Vec<&Reconciled> = entities
        .iter()
        .filter(|r| !r.missing.is_empty() || !r.unexpected.is_empty() || !r.differing.is_empty())
        .collect();
    let sum = |f: &dyn Fn(&Reconciled) -> u64| entities.iter().map(f).sum::<u64>();
    let mut page = crate::html::Page::new(&format!("Reconciliation of {to} with {snapshot}"));
    page.meta(&[("Destination", to), ("Snapshot", snapshot), ("Verified", when)]);
    if bad.is_empty() {
        page.verdict(
            "reconciled",
            true,
            "Reconciled: every record of the snapshot is in the destination as it was (or was rejected by the last migration).",
        );
    } else {
        page.verdict(
            "reconciled",
            false,
            &format!(
                "NOT reconciled: {} of {} entities differ from the snapshot.",
                bad.len(),
                entities.len()
            ),
        );
    }
    page.figures(&[
        ("entities", "Entities", entities.len() as u64),
        ("snapshot", "Records in the snapshot", sum(&|r| r.snapshot)),
        ("destination", "Records in the destination", sum(&|r| r.destination)),
        ("rejected", "Rejected by the last migration", sum(&|r| r.rejected)),
        ("missing", "Missing", sum(&|r| r.missing.len() as u64)),
        ("unexpected", "Unexpected", sum(&|r| r.unexpected.len() as u64)),
        ("differing", "Differing", sum(&|r| r.differing.len() as u64)),
    ]);
    page.links("The same reconciliation as data", files);
    page.note(
        "Records are joined by entity and id and compared by content hash. Missing: in the snapshot, not in the destination, and not rejected by the last migration. Unexpected: in the destination only. Differing: in both, saying something else.",
    );
    page.heading("Counts per entity");
    let rows: Vec<Vec<String>> = entities
        .iter()
        .map(|r| {
            vec![
                r.entity.clone(),
                r.snapshot.to_string(),
                r.destination.to_string(),
                r.rejected.to_string(),
                r.missing.len().to_string(),
                r.unexpected.len().to_string(),
                r.differing.len().to_string(),
            ]
        })
        .collect();
    page.table(
        &["entity", "snapshot", "destination", "rejected", "missing", "unexpected", "differing"],
        &rows,
    );
    let bars: Vec<(&str, u64)> = entities.iter().map(|r| (r.entity.as_str(), r.snapshot)).collect();
    page.bar_chart("Records in the snapshot per entity", &bars);
    page.heading("Mismatches by id");
    if bad.is_empty() {
        page.para("None.");
    }
    for r in bad {
        page.subheading(&r.entity);
        for (what, ids) in
            [("Missing", &r.missing), ("Unexpected", &r.unexpected), ("Differing", &r.differing)]
        {
            if !ids.is_empty() {
                page.ids(what, ids);
            }
        }
    }
    page.finish()
}

/// `ferry verify --to DESTINATION`: reads the destination back through its
/// connector and reconciles it with the snapshot, per entity, by id: counts
/// and every record's content hash. Exit 1 on any unexplained difference.
pub fn verify_destination(
    to: &str,
    plan: Option<&Path>,
    snapshot: Option<&Path>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let snap = match snapshot {
        Some(s) => s.to_owned(),
        None => latest(&project)?,
    };
    let tmp = project.root.join(format!("snapshots/.reconcile-{}.partial", std::process::id()));
    let mut inputs = Vec::new();
    let (read_back, mut taken) = match plan {
        Some(p) => {
            let loaded = crate::plan::Loaded::read(p)?;
            inputs.push(p.to_owned());
            let back = match loaded.plan.destinations.get(to) {
                Some(d) => match (&d.to, &d.plugin, &d.config) {
                    (Some(t), _, _) => loaded.endpoint(t),
                    (None, Some(plugin), Some(c)) => format!("{plugin}:{}", loaded.dir().join(c).display()),
                    _ => bail!(UsageError(format!(
                        "destination '{to}' gives its settings inline; `ferry verify` reads a destination back through `to = \"PLUGIN:LOCATION\"` or `config = \"FILE\"`"
                    ))),
                },
                None => to.to_owned(),
            };
            let plugin = back.split_once(':').map_or(back.as_str(), |(p, _)| p).to_owned();
            let found = ferry_host::discovery::discover(&ferry_host::discovery::search_dirs());
            // What the destination's sink writes (its manifest's `[destination]`
            // list when the plugin writes fewer entities than it reads).
            let entities = found.select(&plugin).ok().map(|e| {
                let d = &e.manifest.destination.entities;
                if d.is_empty() { e.manifest.entities.clone() } else { d.clone() }
            });
            (back, entities)
        }
        None => (to.to_owned(), None),
    };
    // A destination that keeps less than the model (an API) says in its
    // manifest which fields its source returns: only those are compared,
    // and only for the entities it reads back.
    let back_plugin = read_back.split_once(':').map_or(read_back.as_str(), |(p, _)| p).to_owned();
    let fields: BTreeMap<String, Vec<String>> =
        ferry_host::discovery::discover(&ferry_host::discovery::search_dirs())
            .select(&back_plugin)
            .map(|e| e.manifest.destination.read_back_fields())
            .unwrap_or_default();
    let only = (!fields.is_empty()).then_some(&fields);
    if let Some(only) = only {
        let read: Vec<String> = only.keys().cloned().collect();
        taken = Some(match taken {
            Some(t) => t.into_iter().filter(|e| read.contains(e)).collect(),
            None => read,
        });
    }
    let read = (|| {
        crate::project::private_dir(&tmp)?;
        let expected = match plan {
            // The snapshot through the plan: its filters, mappings, crosswalks and ids.
            Some(p) => {
                let snapshot_source = format!("sqlite:{}", snap.join(SNAPSHOT).display());
                let extra: Vec<&std::ffi::OsStr> =
                    vec!["--plan".as_ref(), p.as_os_str(), "--no-id-crosswalk".as_ref()];
                read_source(
                    &snapshot_source,
                    &[],
                    &tmp.join("expected.sqlite"),
                    &tmp.join("expected-rejects.jsonl"),
                    &extra,
                )?;
                tmp.join("expected.sqlite")
            }
            None => snap.join(SNAPSHOT),
        };
        let (expected, all) = match (plan, only) {
            (None, None) => {
                let text = std::fs::read_to_string(snap.join(RECORDS))
                    .with_context(|| format!("cannot read {}", snap.join(RECORDS).display()))?;
                (text, None)
            }
            (Some(_), None) => (records_tsv(&expected)?.0, None),
            // Partly read back: what is not compared is still counted.
            (_, Some(_)) => (records_tsv_over(&expected, only)?.0, Some(records_tsv(&expected)?.0)),
        };
        read_source(&read_back, &[], &tmp.join(SNAPSHOT), &tmp.join("rejects.jsonl"), &[])?;
        Ok::<_, anyhow::Error>((expected, all, records_tsv_over(&tmp.join(SNAPSHOT), only)?))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let (frozen_text, all_text, (live_text, _)) = read?;
    let to = read_back.as_str();
    // Joined by entity and id: a destination read back names its own source system.
    let by_id = |text: &str| -> BTreeMap<(String, String), String> {
        parse_records(text).into_iter().map(|((e, _, id), h)| ((e, id), h)).collect()
    };
    let (mut frozen, live) = (by_id(&frozen_text), by_id(&live_text));
    let mut not_taken: BTreeMap<String, u64> = BTreeMap::new();
    if let (Some(all), Some(only)) = (&all_text, only) {
        for ((e, _, _), _) in parse_records(all) {
            if !only.contains_key(&e) {
                *not_taken.entry(e).or_default() += 1;
            }
        }
    }
    if let Some(taken) = &taken {
        frozen.retain(|(e, _), _| {
            let keep = taken.contains(e);
            if !keep {
                *not_taken.entry(e.clone()).or_default() += 1;
            }
            keep
        });
    }
    let rejected = last_rejects(&project)?;
    let mut out: BTreeMap<String, Reconciled> = BTreeMap::new();
    fn at<'m>(m: &'m mut BTreeMap<String, Reconciled>, e: &str) -> &'m mut Reconciled {
        m.entry(e.to_owned()).or_insert_with(|| Reconciled { entity: e.to_owned(), ..Default::default() })
    }
    for (k, h) in &frozen {
        let r = at(&mut out, &k.0);
        r.snapshot += 1;
        match live.get(k) {
            None if rejected.contains(k) => r.rejected += 1,
            None => r.missing.push(k.1.clone()),
            Some(l) if l != h => r.differing.push(k.1.clone()),
            Some(_) => {}
        }
    }
    for k in live.keys() {
        let r = at(&mut out, &k.0);
        r.destination += 1;
        if !frozen.contains_key(k) {
            r.unexpected.push(k.1.clone());
        }
    }
    let entities: Vec<Reconciled> = out.into_values().collect();
    let bad = entities
        .iter()
        .filter(|r| !r.missing.is_empty() || !r.unexpected.is_empty() || !r.differing.is_empty())
        .count();
    let json = serde_json::json!({
        "snapshot": project.relative(&snap),
        "destination": to,
        "reconciled": bad == 0,
        "plan": plan.map(|p| project.relative(p)),
        "entities": entities,
        "not_taken_by_the_destination": not_taken,
        "compared_fields": only,
    });
    let stamp = started_at.replace([':', '-'], "");
    let report =
        project.write_report(&format!("verify-{stamp}.json"), &serde_json::to_string_pretty(&json)?)?;
    let mut md = format!("# Reconciliation of {to} with {}\n\n", project.relative(&snap));
    let compared =
        only.map(|o| o.iter().map(|(e, f)| format!("{e} ({})", f.join(", "))).collect::<Vec<_>>().join("; "));
    if let Some(c) = &compared {
        let _ = writeln!(md, "Compared over the fields {to} reads back: {c}.\n");
    }
    md.push_str("| entity | snapshot | destination | rejected | missing | unexpected | differing |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &entities {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.entity,
            r.snapshot,
            r.destination,
            r.rejected,
            r.missing.len(),
            r.unexpected.len(),
            r.differing.len()
        );
    }
    for r in entities
        .iter()
        .filter(|r| !r.missing.is_empty() || !r.unexpected.is_empty() || !r.differing.is_empty())
    {
        let _ = writeln!(md, "\n## {}\n", r.entity);
        for (what, ids) in
            [("Missing", &r.missing), ("Unexpected", &r.unexpected), ("Differing", &r.differing)]
        {
            if !ids.is_empty() {
                let _ = writeln!(md, "- {what} ({}): {}", ids.len(), ids.join(", "));
            }
        }
    }
    let md_report = project.write_report(&format!("verify-{stamp}.md"), &md)?;
    let page = reconciliation_page(
        to,
        &project.relative(&snap),
        &started_at,
        &entities,
        &[("JSON", crate::html::file_name(&report)), ("Markdown", crate::html::file_name(&md_report))],
    );
    let html_report = project.write_report(&format!("verify-{stamp}.html"), &page)?;
    let counts = serde_json::json!({ "entities": entities.len(), "entities_differing": bad });
    let err = (bad > 0).then(|| anyhow::anyhow!("{bad} entities differ from the snapshot"));
    journal(
        &project,
        Step::Verify,
        None,
        started_at,
        project.hash_inputs(&inputs)?,
        counts,
        err.as_ref(),
        Some(report.clone()),
    )?;
    match format {
        Format::Json => {
            let mut json = json;
            json["reports"] = serde_json::json!([report, md_report, html_report]);
            outln!("{json}");
        }
        Format::Text => {
            outln!(
                "{:<22} {:>10} {:>12} {:>9} {:>8} {:>11} {:>10}",
                "ENTITY",
                "SNAPSHOT",
                "DESTINATION",
                "REJECTED",
                "MISSING",
                "UNEXPECTED",
                "DIFFERING"
            );
            for r in &entities {
                outln!(
                    "{:<22} {:>10} {:>12} {:>9} {:>8} {:>11} {:>10}",
                    r.entity,
                    r.snapshot,
                    r.destination,
                    r.rejected,
                    r.missing.len(),
                    r.unexpected.len(),
                    r.differing.len()
                );
            }
            for r in &entities {
                for (what, ids) in
                    [("missing", &r.missing), ("unexpected", &r.unexpected), ("differing", &r.differing)]
                {
                    if !ids.is_empty() {
                        outln!("  {} {what}: {}", r.entity, some_ids(ids));
                    }
                }
            }
            if let Some(c) = &compared {
                outln!("Compared over the fields the destination reads back: {c}");
            }
            if !not_taken.is_empty() {
                let n: Vec<String> = not_taken.iter().map(|(e, n)| format!("{e} ({n})")).collect();
                outln!("Not compared (the destination does not take or read back): {}", n.join(", "));
            }
            outln!("Reports: {report}, {md_report}");
            outln!("Open in a browser: {html_report}");
            if bad == 0 {
                outln!(
                    "Reconciled: every record of the snapshot is in the destination as it was (or was rejected)."
                );
            } else {
                outln!("NOT reconciled: {bad} entities differ from the snapshot.");
            }
        }
    }
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
