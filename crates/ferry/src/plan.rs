//! `ferry plan init`, `ferry plan check` and `ferry plan render`: the
//! Solution Document (`plan.toml`) drafted from the inventory and the
//! destination's manifest, checked against both with every problem at its
//! line, and rendered for the people who review it.
//!
//! Drafting edits the file in place with a format-preserving TOML editor:
//! what the user wrote, comments and layout included, stays; only what is
//! missing is added (a code the new inventory found, a new entity).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_host::discovery;
use ferry_host::plan::{DestinationFacts, OPEN, PlanFile, Priority, Problem, SourceFacts};
use serde_json::Value;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::UsageError;
use crate::cli::Format;
use crate::freeze::journal;
use crate::project::{PLAN, Project, Step};

/// A plan as read from its file.
pub struct Loaded {
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its meaning.
    pub plan: PlanFile,
}

impl Loaded {
    /// Reads and parses a plan (a parse error is a usage error naming the
    /// line).
    pub fn read(path: &Path) -> anyhow::Result<Loaded> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the plan {}", path.display()))?;
        let plan = PlanFile::parse(&text)
            .map_err(|e| anyhow::Error::new(UsageError(format!("{}: {e}", path.display()))))?;
        Ok(Loaded { path: path.to_owned(), text, plan })
    }

    /// The folder relative paths in the plan start from.
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        }
    }

    /// The line (from 1) of the deepest key of `path` the file has; 0 when
    /// none is found.
    pub fn line_of(&self, path: &[String]) -> usize {
        let Ok(doc) = toml_edit::ImDocument::parse(self.text.as_str()) else { return 0 };
        let mut item: &Item = doc.as_item();
        let mut at = None;
        for seg in path {
            let Some(t) = item.as_table_like() else { break };
            let Some((k, v)) = t.get_key_value(seg) else { break };
            if let Some(s) = k.span().or_else(|| v.span()) {
                at = Some(s.start);
            }
            item = v;
        }
        at.map_or(0, |start| self.text[..start].matches('\n').count() + 1)
    }

    /// A `--from`/`--to` string of the plan with a relative location made
    /// relative to the plan's folder.
    pub fn endpoint(&self, spec: &str) -> String {
        match spec.split_once(':') {
            Some((id, loc))
                if !loc.is_empty() && Path::new(loc).is_relative() && self.dir() != Path::new(".") =>
            {
                let joined = self.dir().join(loc);
                let mut s = joined.display().to_string();
                if loc.ends_with('/') && !s.ends_with('/') {
                    s.push('/');
                }
                format!("{id}:{s}")
            }
            _ => spec.to_owned(),
        }
    }
}

/// The plan of the migration folder.
pub fn project_plan(project: &Project) -> anyhow::Result<Loaded> {
    Loaded::read(&project.root.join(PLAN))
}

/// The latest inventory of the folder, as its JSON report.
pub fn latest_inventory(project: &Project) -> anyhow::Result<Option<Value>> {
    let entries = project.entries()?;
    let Some(report) = entries
        .iter()
        .rev()
        .filter(|e| e.step == Step::Inventory && e.outcome == crate::project::Outcome::Passed)
        .find_map(|e| e.report.clone())
    else {
        return Ok(None);
    };
    let path = project.root.join(&report);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not an inventory report", path.display()))?,
    ))
}

/// What the destination `name` (or `PLUGIN[:LOCATION]`) takes, from its
/// plugin's manifest (read, not loaded).
fn destination_facts(loaded: &Loaded, name: &str) -> anyhow::Result<DestinationFacts> {
    let plugin = match loaded.plan.destinations.get(name) {
        Some(d) => d.plugin_id().unwrap_or_default().to_owned(),
        None => name.split_once(':').map_or(name, |(p, _)| p).to_owned(),
    };
    let found = discovery::discover(&discovery::search_dirs());
    let entry = found.select(&plugin).map_err(|e| UsageError(format!("destination '{name}': {e}")))?;
    if !entry.manifest.is_sink() {
        bail!(UsageError(format!("destination '{name}': plugin '{plugin}' cannot be a destination")));
    }
    Ok(DestinationFacts {
        name: name.to_owned(),
        plugin,
        entities: if entry.manifest.destination.entities.is_empty() {
            entry.manifest.entities.clone()
        } else {
            entry.manifest.destination.entities.clone()
        },
        rules: entry.manifest.destination.clone(),
    })
}

/// The source string recorded by the latest inventory.
fn inventory_source(inv: &Value) -> Option<String> {
    inv["source"].as_str().map(str::to_owned)
}

fn table_mut<'d>(doc: &'d mut DocumentMut, key: &str, prefix: &str) -> &'d mut Table {
    let item = doc.entry(key).or_insert_with(|| {
        let mut t = Table::new();
        t.decor_mut().set_prefix(prefix);
        Item::Table(t)
    });
    if !item.is_table() {
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("a table")
}

fn sub_table<'t>(t: &'t mut Table, key: &str, implicit: bool, prefix: &str) -> &'t mut Table {
    let item = t.entry(key).or_insert_with(|| {
        let mut n = Table::new();
        n.set_implicit(implicit);
        n.decor_mut().set_prefix(prefix);
        Item::Table(n)
    });
    if !item.is_table() {
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("a table")
}

/// A code field with more distinct values than this is not drafted value by
/// value (its values are ids or free text, not a code list).
const MAX_DRAFTED_CODES: usize = 60;

/// What `plan init` added, for the terminal.
#[derive(Default, serde::Serialize)]
struct Drafted {
    entities: usize,
    crosswalk_entries: usize,
    flagged: usize,
    destination: Option<String>,
}

/// `ferry plan init --to DEST [--name NAME]`.
pub fn init(to: &str, name: &str, format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let loaded = project_plan(&project)?;
    let Some(inv) = latest_inventory(&project)? else {
        bail!(UsageError(
            "no inventory yet: run `ferry inventory --from SOURCE` first; the plan is drafted from what it finds".into()
        ));
    };
    let facts = SourceFacts::from_inventory(&inv);
    let dest_name = if loaded.plan.destinations.contains_key(to) { to.to_owned() } else { name.to_owned() };
    let dest = {
        let mut l =
            Loaded { path: loaded.path.clone(), text: loaded.text.clone(), plan: loaded.plan.clone() };
        if !l.plan.destinations.contains_key(&dest_name) {
            l.plan.destinations.insert(
                dest_name.clone(),
                ferry_host::plan::DestinationPlan { to: Some(to.to_owned()), ..Default::default() },
            );
        }
        destination_facts(&l, &dest_name)?
    };
    let mut doc: DocumentMut =
        loaded.text.parse().map_err(|e| UsageError(format!("{}: {e}", loaded.path.display())))?;
    let mut drafted = Drafted::default();

    if !doc.contains_key("source")
        && let Some(src) = inventory_source(&inv)
    {
        let t = table_mut(
            &mut doc,
            "source",
            "\n# Where the records come from, as for `ferry migrate --from` (the inventory's source).\n# Migrations run from the newest snapshot once `ferry freeze` has taken one.\n",
        );
        t.insert("from", value(src));
    }
    {
        let d = table_mut(&mut doc, "destinations", "");
        d.set_implicit(true);
        if !d.contains_key(&dest_name) {
            let prefix = if d.is_empty() {
                "\n# Destinations by name: `ferry migrate --plan plan.toml --to NAME`. Another one, say:\n# [destinations.staging]\n# to = \"powerschool:/mnt/import/\"   # or plugin = \"…\" with config = \"FILE\" or settings = { … }\n"
            } else {
                "\n"
            };
            let t = sub_table(d, &dest_name, false, prefix);
            t.insert("to", value(to));
            drafted.destination = Some(dest_name.clone());
        }
    }
    if !doc.contains_key("ids") {
        let t = table_mut(
            &mut doc,
            "ids",
            "\n# The id strategy: keep (the destination keeps the source's ids), destination (it\n# assigns new ones; its receipts give the crosswalk) or crosswalk (new ids read from\n# `file`, columns entity,old_id,new_id). `write` is where a run writes old ↔ new ids.\n",
        );
        t.insert("strategy", value("keep"));
        t.insert("write", value("reports/id-crosswalk.csv"));
    }
    if !doc.contains_key("filters") {
        let years: Vec<String> = facts.school_years.iter().map(i64::to_string).collect();
        let t = table_mut(
            &mut doc,
            "filters",
            &format!(
                "\n# Which records move (records without a school year or school are kept).\n# The source has the school years {} and the schools {}.\n# school_years = [{}]\n# schools = [{}]\n# active_students_only = true\n",
                if years.is_empty() { "(none)".into() } else { years.join(", ") },
                if facts.schools.is_empty() { "(none)".into() } else { facts.schools.join(", ") },
                years.last().cloned().unwrap_or_default(),
                facts.schools.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
            ),
        );
        t.set_implicit(false);
    }
    if !doc.contains_key("field_policy") {
        let t = table_mut(
            &mut doc,
            "field_policy",
            "\n# What a bad value in a field does: null (left empty, with a warning), reject, or\n# keep_as_text. Keys and required fields always reject.\n# students = { birth_date = \"reject\" }\n",
        );
        t.insert("default", value("null"));
    }

    // Entities, with their priority: required where the destination takes them.
    {
        let ents = table_mut(
            &mut doc,
            "entities",
            "\n# Each entity's priority: required, nice_to_have, or not_needed (skipped, with the reason).\n",
        );
        ents.set_implicit(true);
        for (entity, records) in &facts.records {
            if *records == 0 || ents.contains_key(entity) {
                continue;
            }
            let takes = dest.entities.contains(entity);
            let t = sub_table(ents, entity, false, &format!("\n# {records} records in the source.\n"));
            if takes {
                t.insert("priority", value("required"));
            } else {
                t.insert("priority", value("not_needed"));
                t.insert(
                    "reason",
                    value(format!("destination '{}' ({}) does not take {entity}", dest.name, dest.plugin)),
                );
            }
            let required: Vec<String> = dest
                .rules
                .requires
                .iter()
                .filter_map(|r| r.strip_prefix(&format!("{entity}.")))
                .map(|f| {
                    let filled = facts.filled.get(&(entity.clone(), f.to_owned())).copied().unwrap_or(0);
                    format!("{f} (filled in {filled} of {records})")
                })
                .collect();
            if !required.is_empty() {
                t.decor_mut().set_suffix(format!("\n# The destination requires: {}.", required.join(", ")));
            }
            drafted.entities += 1;
        }
    }
    // A crosswalk for every code the inventory found.
    {
        let cw = table_mut(
            &mut doc,
            "crosswalks",
            "\n# Value crosswalks: the source's value → the canonical value the destination receives.\n# \"?\" is an open question: it blocks `ferry plan check` until someone answers it.\n",
        );
        cw.set_implicit(true);
        for ((entity, field), codes) in &facts.codes {
            if codes.is_empty() || facts.records.get(entity).copied().unwrap_or(0) == 0 {
                continue;
            }
            let accepted = dest.rules.accepts.get(&format!("{entity}.{field}"));
            if codes.len() > MAX_DRAFTED_CODES {
                // Not a code list a person reviews: say so instead of drafting it.
                let e = sub_table(cw, entity, true, "");
                if !e.contains_key(field) {
                    let f = sub_table(
                        e,
                        field,
                        false,
                        &format!(
                            "\n# {entity}.{field} has {} distinct values in the source: too many to draft one by one.\n# The connector's own mapping applies; add entries here only for values to change.\n",
                            codes.len()
                        ),
                    );
                    f.set_implicit(false);
                }
                continue;
            }
            let e = sub_table(cw, entity, true, "");
            let f = sub_table(e, field, false, "\n");
            for (original, canonical, count) in codes {
                if f.contains_key(original) {
                    continue;
                }
                let known = canonical != "Other" && accepted.is_none_or(|a| a.contains(canonical));
                let mut v = value(if known { canonical.as_str() } else { OPEN });
                let note = if known {
                    format!(" # {count} records")
                } else if canonical == "Other" {
                    drafted.flagged += 1;
                    format!(" # FLAG: {count} records; meaning unknown")
                } else {
                    drafted.flagged += 1;
                    format!(" # FLAG: {count} records; '{canonical}' is not accepted by {}", dest.name)
                };
                if let Some(v) = v.as_value_mut() {
                    v.decor_mut().set_suffix(note);
                }
                f.insert(original, v);
                drafted.crosswalk_entries += 1;
            }
        }
    }
    let text = doc.to_string();
    crate::staged::replace_private(&loaded.path, &text)?;
    let inputs = project.hash_inputs(std::slice::from_ref(&loaded.path))?;
    journal(&project, Step::Plan, None, started_at, inputs, serde_json::to_value(&drafted)?, None, None)?;
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&drafted)?),
        Format::Text => {
            outln!(
                "Drafted {PLAN}: {} entities, {} crosswalk entries ({} flagged \"?\": open questions), destination {}.",
                drafted.entities,
                drafted.crosswalk_entries,
                drafted.flagged,
                drafted.destination.as_deref().unwrap_or("(already in the plan)")
            );
            outln!("Edit it, then run `ferry plan check`; what you wrote stays when `plan init` runs again.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A problem with its line.
#[derive(serde::Serialize)]
struct Located {
    line: usize,
    key: String,
    #[serde(flatten)]
    problem: Problem,
}

fn locate(loaded: &Loaded, problems: Vec<Problem>) -> Vec<Located> {
    let mut out: Vec<Located> = problems
        .into_iter()
        .map(|p| Located { line: loaded.line_of(&p.path), key: p.path.join("."), problem: p })
        .collect();
    out.sort_by_key(|p| (!p.problem.blocking, p.line));
    out
}

/// Every problem of the plan against the latest inventory and its
/// destinations (`to`, or all the plan names).
fn problems(
    project: &Project,
    loaded: &Loaded,
    to: Option<&str>,
) -> anyhow::Result<(Vec<Located>, Vec<String>)> {
    let facts = latest_inventory(project)?.map(|v| SourceFacts::from_inventory(&v));
    let mut notes = Vec::new();
    if facts.is_none() {
        notes.push("no inventory yet: codes, filters and required fields were not checked against the source (run `ferry inventory`)".to_owned());
    }
    let names: Vec<String> = match to {
        Some(t) => vec![t.to_owned()],
        None => loaded.plan.destinations.keys().cloned().collect(),
    };
    if names.is_empty() {
        notes.push(
            "the plan names no destination: nothing was checked against one ([destinations.NAME])".to_owned(),
        );
    }
    let mut all = Vec::new();
    if names.is_empty() {
        all.extend(loaded.plan.check_against(facts.as_ref(), None));
    }
    for n in &names {
        let dest = destination_facts(loaded, n)?;
        for p in loaded.plan.check_against(facts.as_ref(), Some(&dest)) {
            if !all.contains(&p) {
                all.push(p);
            }
        }
    }
    Ok((locate(loaded, all), notes))
}

/// `ferry plan check [--to NAME]`: exit 1 when anything blocks.
pub fn check(to: Option<&str>, format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let plan_path = project.root.join(PLAN);
    let loaded = match Loaded::read(&plan_path) {
        Ok(l) => l,
        Err(e) => {
            let inputs = project.hash_inputs(&[plan_path])?;
            journal(&project, Step::Plan, None, started_at, inputs, Value::Null, Some(&e), None)?;
            return Err(e);
        }
    };
    let (found, notes) = problems(&project, &loaded, to)?;
    let blocking = found.iter().filter(|p| p.problem.blocking).count();
    let json = serde_json::json!({
        "plan": project.relative(&loaded.path),
        "blocking": blocking,
        "warnings": found.len() - blocking,
        "problems": found,
        "notes": notes,
    });
    let stamp = started_at.replace([':', '-'], "");
    let report =
        project.write_report(&format!("plan-check-{stamp}.json"), &serde_json::to_string_pretty(&json)?)?;
    let mut inputs = vec![loaded.path.clone()];
    if let Some(inv) =
        project.entries()?.iter().rev().find(|e| e.step == Step::Inventory).and_then(|e| e.report.clone())
    {
        inputs.push(project.root.join(inv));
    }
    let inputs = project.hash_inputs(&inputs)?;
    let err = (blocking > 0).then(|| anyhow::anyhow!("{blocking} problem(s) in the plan block a run"));
    journal(
        &project,
        Step::Plan,
        None,
        started_at,
        inputs,
        serde_json::json!({ "blocking": blocking, "warnings": found.len() - blocking }),
        err.as_ref(),
        Some(report.clone()),
    )?;
    match format {
        Format::Json => outln!("{json}"),
        Format::Text => {
            for p in &found {
                outln!(
                    "{}:{}: {}: {} [{}]",
                    PLAN,
                    p.line,
                    if p.problem.blocking { "error" } else { "warning" },
                    p.problem.message,
                    p.key
                );
            }
            for n in &notes {
                outln!("Note: {n}");
            }
            if blocking == 0 {
                outln!(
                    "The plan is ready: no problem blocks a run ({} warning(s)). Report: {report}",
                    found.len()
                );
            } else {
                outln!("{blocking} problem(s) block a run; fix them and check again. Report: {report}");
            }
        }
    }
    Ok(if blocking == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The counts of the latest dry run in the folder, per entity.
fn latest_dry_run(project: &Project) -> anyhow::Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    let entries = project.entries()?;
    let Some(report) = entries.iter().rev().filter(|e| e.step == Step::DryRun).find_map(|e| e.report.clone())
    else {
        return Ok(out);
    };
    let text = std::fs::read_to_string(project.root.join(report)).unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    for e in v["entities"].as_array().into_iter().flatten() {
        if let Some(name) = e["entity"].as_str() {
            out.insert(name.to_owned(), e.clone());
        }
    }
    Ok(out)
}

/// One crosswalk entry: source value, what it becomes, whether it is open.
pub type CrosswalkEntry = (String, String, bool);

/// The Solution Document, as data for Markdown and HTML.
#[derive(serde::Serialize)]
pub struct Document {
    pub name: String,
    pub source: Option<String>,
    pub destinations: Vec<(String, String)>,
    /// entity, priority, source records, expected written/rejected/skipped (dry run), note
    pub entities: Vec<EntityRow>,
    pub dropped: Vec<(String, String)>,
    pub filters: Vec<String>,
    pub mappings: Vec<(String, String, String, String, String)>,
    pub crosswalks: Vec<(String, Vec<CrosswalkEntry>)>,
    pub ids: String,
    pub timeline: Vec<(String, String)>,
    pub owners: Vec<(String, String)>,
    pub open_questions: Vec<(usize, String)>,
}

#[derive(serde::Serialize)]
pub struct EntityRow {
    pub entity: String,
    pub priority: String,
    pub records: Option<u64>,
    pub expected: Option<(u64, u64, u64)>,
}

fn document(project: &Project, loaded: &Loaded) -> anyhow::Result<Document> {
    let plan = &loaded.plan;
    let facts = latest_inventory(project)?.map(|v| SourceFacts::from_inventory(&v));
    let dry = latest_dry_run(project)?;
    let mut names: Vec<String> =
        facts.as_ref().map(|f| f.records.keys().cloned().collect()).unwrap_or_default();
    for e in plan.entities.keys() {
        if !names.contains(e) {
            names.push(e.clone());
        }
    }
    let entities = names
        .iter()
        .map(|e| EntityRow {
            entity: e.clone(),
            priority: plan.priority(e).name().to_owned(),
            records: facts.as_ref().and_then(|f| f.records.get(e).copied()),
            expected: dry.get(e).map(|d| {
                (
                    d["written"].as_u64().unwrap_or(0),
                    d["rejected"].as_u64().unwrap_or(0),
                    d["skipped"].as_u64().unwrap_or(0),
                )
            }),
        })
        .collect();
    let dropped = plan
        .entities
        .iter()
        .filter(|(_, e)| e.priority == Priority::NotNeeded)
        .map(|(n, e)| (n.clone(), e.reason.clone().unwrap_or_else(|| "(no reason given)".into())))
        .collect();
    let f = &plan.filters;
    let mut filters = Vec::new();
    if let Some(y) = &f.school_years {
        filters.push(format!(
            "only the school years {}",
            y.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(s) = &f.schools {
        filters.push(format!("only the schools {}", s.join(", ")));
    }
    if f.active_students_only {
        filters.push("only active students, and what belongs to them".into());
    }
    let mut mappings = Vec::new();
    for (e, ep) in &plan.entities {
        for (field, m) in &ep.fields {
            let mut how = m.transforms.join(", ");
            if let Some(c) = &m.concat {
                how = format!(
                    "concat({}){}",
                    c.join(", "),
                    if how.is_empty() { String::new() } else { format!(", {how}") }
                );
            }
            if let Some(l) = &m.lookup {
                let _ = write!(how, "{}lookup {}", if how.is_empty() { "" } else { ", " }, l.display());
            }
            if let Some(d) = &m.default {
                let _ = write!(how, "{}default '{d}'", if how.is_empty() { "" } else { ", " });
            }
            mappings.push((
                m.from.clone().unwrap_or_else(|| "(as the connector reads it)".into()),
                format!("{e}.{field}"),
                m.to.clone().unwrap_or_else(|| "(as the connector writes it)".into()),
                how,
                String::new(),
            ));
        }
    }
    let crosswalks = plan
        .crosswalks
        .iter()
        .flat_map(|(e, fields)| {
            fields.iter().filter(|(_, m)| !m.is_empty()).map(move |(f, m)| {
                (format!("{e}.{f}"), m.iter().map(|(a, b)| (a.clone(), b.clone(), b == OPEN)).collect())
            })
        })
        .collect();
    let ids = match plan.ids.strategy {
        ferry_host::plan::IdStrategy::Keep => "the destination keeps the source's ids".to_owned(),
        ferry_host::plan::IdStrategy::Destination => {
            "the destination assigns new ids; its receipts give the crosswalk".to_owned()
        }
        ferry_host::plan::IdStrategy::Crosswalk => format!(
            "new ids come from {}",
            plan.ids.file.as_ref().map_or_else(|| "(no file named)".into(), |p| p.display().to_string())
        ),
    } + &plan
        .ids
        .write
        .as_ref()
        .map(|w| format!("; the old ↔ new ids are written to {}", w.display()))
        .unwrap_or_default();
    let mut timeline = Vec::new();
    let mut owners = Vec::new();
    for (k, v) in &plan.timeline {
        match v {
            toml::Value::Table(t) if k == "owners" => {
                owners.extend(t.iter().map(|(s, r)| (s.clone(), r.as_str().unwrap_or_default().to_owned())));
            }
            v => {
                timeline.push((k.replace('_', " "), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            }
        }
    }
    let (found, _) = problems(project, loaded, None)?;
    let open_questions =
        found.iter().filter(|p| p.problem.blocking).map(|p| (p.line, p.problem.message.clone())).collect();
    Ok(Document {
        name: plan.migration.get("name").and_then(|n| n.as_str()).unwrap_or("(unnamed)").to_owned(),
        source: plan.source.as_ref().map(|s| s.from.clone()),
        destinations: plan
            .destinations
            .iter()
            .map(|(n, d)| (n.clone(), d.to.clone().or_else(|| d.plugin.clone()).unwrap_or_default()))
            .collect(),
        entities,
        dropped,
        filters,
        mappings,
        crosswalks,
        ids,
        timeline,
        owners,
        open_questions,
    })
}

fn markdown(d: &Document) -> String {
    let mut md = format!("# Solution Document: {}\n\n", md_escape(&d.name));
    let _ =
        writeln!(md, "Source: {}\n", d.source.as_deref().map_or("(not set in [source])".into(), md_escape));
    for (n, to) in &d.destinations {
        let _ = writeln!(md, "- Destination **{}**: {}", md_escape(n), md_escape(to));
    }
    md.push_str("\n## What moves where\n\n| entity | priority | records in the source | expected written | rejected | skipped |\n|---|---|---:|---:|---:|---:|\n");
    for e in &d.entities {
        let (w, r, s) = e.expected.map_or(("-".into(), "-".into(), "-".into()), |(w, r, s)| {
            (w.to_string(), r.to_string(), s.to_string())
        });
        let _ = writeln!(
            md,
            "| {} | {} | {} | {w} | {r} | {s} |",
            e.entity,
            e.priority.replace('_', " "),
            e.records.map_or("-".into(), |n| n.to_string())
        );
    }
    md.push_str("\nExpected counts come from the latest dry run in this folder (none: `-`).\n\n## What is dropped, and why\n\n");
    if d.dropped.is_empty() && d.filters.is_empty() {
        md.push_str("Nothing: every entity moves, with no filter.\n");
    }
    for (e, why) in &d.dropped {
        let _ = writeln!(md, "- **{e}**: {}", md_escape(why));
    }
    for f in &d.filters {
        let _ = writeln!(
            md,
            "- Filter: {f}; the records of other years, schools or students are skipped, with what belongs to them."
        );
    }
    if !d.mappings.is_empty() {
        md.push_str("\n## Field mappings\n\n| source field | canonical field | destination field | transforms |\n|---|---|---|---|\n");
        for (from, canon, to, how, _) in &d.mappings {
            let _ =
                writeln!(md, "| {} | {canon} | {} | {} |", md_escape(from), md_escape(to), md_escape(how));
        }
    }
    md.push_str("\n## Crosswalks\n");
    for (field, entries) in &d.crosswalks {
        let _ = writeln!(md, "\n### {field}\n\n| source value | becomes |\n|---|---|");
        for (a, b, open) in entries {
            let _ = writeln!(
                md,
                "| `{}` | {} |",
                md_escape(a),
                if *open { "**open question**".into() } else { format!("`{}`", md_escape(b)) }
            );
        }
    }
    let _ = writeln!(md, "\n## Ids\n\n{}.", md_escape(&d.ids));
    md.push_str("\n## Timeline\n\n");
    if d.timeline.is_empty() {
        md.push_str("No dates set ([timeline] in plan.toml).\n");
    }
    for (k, v) in &d.timeline {
        let _ = writeln!(md, "- {k}: {}", md_escape(v));
    }
    for (step, role) in &d.owners {
        let _ = writeln!(md, "- {step} is owned by: {}", md_escape(role));
    }
    md.push_str("\n## Open questions\n\n");
    if d.open_questions.is_empty() {
        md.push_str("None: `ferry plan check` finds nothing that blocks.\n");
    }
    for (line, q) in &d.open_questions {
        let _ = writeln!(md, "- plan.toml line {line}: {}", md_escape(q));
    }
    md
}

/// The Solution Document as a standalone page, for a meeting (it prints).
fn html(d: &Document, markdown_file: &str) -> String {
    let mut page = crate::html::Page::new(&format!("Solution Document: {}", d.name));
    let dests: Vec<String> = d.destinations.iter().map(|(n, to)| format!("{n} ({to})")).collect();
    page.meta(&[
        ("Source", d.source.as_deref().unwrap_or("(not set in [source])")),
        ("Destinations", &dests.join(", ")),
        ("Ids", &d.ids),
    ]);
    let moving = d.entities.iter().filter(|e| e.priority != Priority::NotNeeded.name()).count() as u64;
    page.verdict(
        "open-questions",
        d.open_questions.is_empty(),
        if d.open_questions.is_empty() {
            "No open question: the plan is ready to run."
        } else {
            "Open questions remain: the plan does not run until they are answered."
        },
    );
    page.figures(&[
        ("entities", "Entities that move", moving),
        ("dropped", "Entities dropped", d.dropped.len() as u64),
        ("crosswalk-entries", "Crosswalk entries", d.crosswalks.iter().map(|(_, e)| e.len() as u64).sum()),
        ("open-questions", "Open questions", d.open_questions.len() as u64),
    ]);
    page.links("The same document as text", &[("Markdown", markdown_file)]);
    page.heading("What moves where");
    let dash = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let rows: Vec<Vec<String>> = d
        .entities
        .iter()
        .map(|e| {
            vec![
                e.entity.clone(),
                e.priority.replace('_', " "),
                dash(e.records),
                dash(e.expected.map(|x| x.0)),
                dash(e.expected.map(|x| x.1)),
                dash(e.expected.map(|x| x.2)),
            ]
        })
        .collect();
    page.table(
        &["entity", "priority", "records in the source", "expected written", "rejected", "skipped"],
        &rows,
    );
    let bars: Vec<(String, u64)> =
        d.entities.iter().filter_map(|e| Some((e.entity.clone(), e.records?))).collect();
    if !bars.is_empty() {
        page.bar_chart("Records in the source, per entity", &bars);
    }
    page.note("Expected counts come from the latest dry run in this folder (none: -).");
    page.heading("What is dropped, and why");
    let mut dropped: Vec<String> = d.dropped.iter().map(|(e, why)| format!("{e}: {why}")).collect();
    dropped.extend(
        d.filters
            .iter()
            .map(|f| format!("Filter: {f}; the other records are skipped, with what belongs to them.")),
    );
    if dropped.is_empty() {
        page.para("Nothing: every entity moves, with no filter.");
    } else {
        page.list(&dropped);
    }
    if !d.mappings.is_empty() {
        page.heading("Field mappings");
        let rows: Vec<Vec<String>> = d
            .mappings
            .iter()
            .map(|(a, b, c, how, _)| vec![a.clone(), b.clone(), c.clone(), how.clone()])
            .collect();
        page.table(&["source field", "canonical field", "destination field", "transforms"], &rows);
    }
    page.heading("Crosswalks");
    for (field, entries) in &d.crosswalks {
        page.subheading(field);
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|(a, b, open)| vec![a.clone(), if *open { "OPEN QUESTION".to_owned() } else { b.clone() }])
            .collect();
        page.table(&["source value", "becomes"], &rows);
    }
    page.heading("Timeline");
    let mut when: Vec<String> = d.timeline.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    when.extend(d.owners.iter().map(|(s, r)| format!("{s} is owned by: {r}")));
    if when.is_empty() {
        page.para("No dates set ([timeline] in plan.toml).");
    } else {
        page.list(&when);
    }
    page.heading("Open questions");
    if d.open_questions.is_empty() {
        page.para("None: ferry plan check finds nothing that blocks.");
    } else {
        let qs: Vec<String> =
            d.open_questions.iter().map(|(l, q)| format!("plan.toml line {l}: {q}")).collect();
        page.list(&qs);
    }
    page.finish()
}

/// `ferry plan render`: the Solution Document as Markdown and a standalone
/// HTML page in reports/.
pub fn render(format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let loaded = project_plan(&project)?;
    let doc = document(&project, &loaded)?;
    let stamp = ferry_host::time::now().replace([':', '-'], "");
    let md = project.write_report(&format!("solution-document-{stamp}.md"), &markdown(&doc))?;
    let page = project
        .write_report(&format!("solution-document-{stamp}.html"), &html(&doc, crate::html::file_name(&md)))?;
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&doc)?;
            v["reports"] = serde_json::json!([md, page]);
            outln!("{v}");
        }
        Format::Text => {
            outln!("Solution Document: {md} and {page} ({} open question(s))", doc.open_questions.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
