//! The Solution Document (`plan.toml`) as a run reads it, the checks `ferry
//! plan check` makes on it, and the stages it puts between source and sink.
//!
//! ```toml
//! [source]
//! from = "powerschool:export/"          # as for `ferry migrate --from`
//!
//! [destinations.sandbox]                # destinations by name
//! to = "csv:sandbox/"                   # as for `--to` (or plugin + settings/config)
//!
//! [ids]
//! strategy = "keep"                     # keep | destination | crosswalk
//! file = "ids.csv"                      # crosswalk: entity,old_id,new_id
//! write = "reports/id-crosswalk.csv"    # the old ↔ new ids of the run
//!
//! [filters]
//! school_years = [2026]                 # the year a school year ends in
//! schools = ["101", "102"]
//! active_students_only = true
//!
//! [field_policy]
//! students = { birth_date = "reject" }
//!
//! [entities.discipline_incidents]
//! priority = "not_needed"               # required | nice_to_have | not_needed
//! reason = "the new system starts discipline afresh"
//!
//! [entities.students.fields.state_id]
//! to = "State_StudentNumber"            # the destination's name, for people
//! transforms = ["trim", "upper"]        # trim, upper, lower, collapse_spaces
//!
//! [crosswalks.students.grade_level]     # source value → canonical value
//! "9" = "09"
//! "TR" = "?"                            # an open question: blocks until answered
//! ```
//!
//! The host knows no file positions: [`Problem`]s name the plan's key path,
//! and the command line turns paths into line numbers.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, StructArray};
use ferry_model::{Diagnostic, EntityKind, FieldDef, FieldType, FieldsView, Value};
use serde::{Deserialize, Serialize};

use crate::stages::{Effects, FieldPolicyConfig, Stage, StageBatch, StageError};

/// The meta column of a record's id.
const SOURCE_ID: &str = "source_id";

/// The value of a crosswalk entry whose meaning nobody knows yet.
pub const OPEN: &str = "?";

/// The whole plan file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Name and notes (read by `ferry status`).
    #[serde(default)]
    pub migration: toml::Table,
    /// Freeze window, dates and owners (read by `ferry status`).
    #[serde(default)]
    pub timeline: toml::Table,
    /// Where the records come from.
    #[serde(default)]
    pub source: Option<SourcePlan>,
    /// Destinations by name.
    #[serde(default)]
    pub destinations: BTreeMap<String, DestinationPlan>,
    /// The id strategy.
    #[serde(default)]
    pub ids: IdPlan,
    /// Which records move.
    #[serde(default)]
    pub filters: Filters,
    /// What a bad value in a field does.
    #[serde(default)]
    pub field_policy: FieldPolicyConfig,
    /// Per entity: its priority and field mappings.
    #[serde(default)]
    pub entities: BTreeMap<String, EntityPlan>,
    /// Value crosswalks: entity → field → source value → value.
    #[serde(default)]
    pub crosswalks: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// Readiness check settings (read by `ferry check`).
    #[serde(default)]
    pub checks: Option<toml::Value>,
}

/// `[source]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePlan {
    /// As for `ferry migrate --from`.
    pub from: String,
    /// Source configuration overrides, `KEY=VALUE`.
    #[serde(default)]
    pub set: Vec<String>,
}

/// One `[destinations.NAME]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationPlan {
    /// As for `ferry migrate --to` (`csv:sandbox/`).
    #[serde(default)]
    pub to: Option<String>,
    /// Or: the plugin…
    #[serde(default)]
    pub plugin: Option<String>,
    /// …with a configuration file (relative to the plan)…
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// …or its settings inline.
    #[serde(default)]
    pub settings: Option<toml::Table>,
    /// Configuration overrides, `KEY=VALUE`.
    #[serde(default)]
    pub set: Vec<String>,
    /// What it is, for people.
    #[serde(default)]
    pub description: Option<String>,
}

impl DestinationPlan {
    /// The plugin id it names.
    pub fn plugin_id(&self) -> Option<&str> {
        match (&self.plugin, &self.to) {
            (Some(p), _) => Some(p),
            (None, Some(to)) => Some(to.split_once(':').map_or(to.as_str(), |(p, _)| p)),
            (None, None) => None,
        }
    }
}

/// How records are identified in the destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdStrategy {
    /// The destination keeps the source's ids.
    #[default]
    Keep,
    /// The destination assigns ids; its receipts give the crosswalk.
    Destination,
    /// New ids are read from a crosswalk file (`entity,old_id,new_id`).
    Crosswalk,
}

/// `[ids]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdPlan {
    /// The strategy.
    #[serde(default)]
    pub strategy: IdStrategy,
    /// The crosswalk file to read (strategy `crosswalk`).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Where the run writes the old ↔ new ids (relative to the plan).
    #[serde(default)]
    pub write: Option<PathBuf>,
}

/// `[filters]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only records of these school years (the year each ends in); records
    /// without one are kept.
    #[serde(default)]
    pub school_years: Option<Vec<i64>>,
    /// Only records of these schools (by school id); records without one,
    /// and the organizations themselves, are kept.
    #[serde(default)]
    pub schools: Option<Vec<String>>,
    /// Only students whose status is active (and what hangs off them).
    #[serde(default)]
    pub active_students_only: bool,
    /// The statuses that count as active (default: `active`).
    #[serde(default)]
    pub active_statuses: Option<Vec<String>>,
}

/// An entity's priority in the Solution Document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// It must arrive: a problem with it blocks.
    #[default]
    Required,
    /// Wanted; a problem with it is a warning.
    NiceToHave,
    /// Not moved: its records are skipped, with the reason.
    NotNeeded,
}

impl Priority {
    /// As written in the plan.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Required => "required",
            Priority::NiceToHave => "nice_to_have",
            Priority::NotNeeded => "not_needed",
        }
    }
}

/// One `[entities.NAME]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntityPlan {
    /// Its priority.
    #[serde(default)]
    pub priority: Priority,
    /// Why (required for `not_needed`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Field mappings by canonical field.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldMapping>,
}

/// One `[entities.E.fields.F]`: source field → canonical field (the key) →
/// destination field, and the transforms on the way.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The source's column (documentation; the connector reads it).
    #[serde(default)]
    pub from: Option<String>,
    /// The destination's field (documentation; the connector writes it).
    #[serde(default)]
    pub to: Option<String>,
    /// Build the value from other text fields of the record, in order,
    /// joined by `separator`; empty parts are left out.
    #[serde(default)]
    pub concat: Option<Vec<String>>,
    /// The separator of `concat` (default one space).
    #[serde(default)]
    pub separator: Option<String>,
    /// `trim`, `upper`, `lower`, `collapse_spaces`, in order.
    #[serde(default)]
    pub transforms: Vec<String>,
    /// A two-column CSV file (`from,to`, with a header) the value is looked
    /// up in; values not in it are kept.
    #[serde(default)]
    pub lookup: Option<PathBuf>,
    /// The value when the field is empty.
    #[serde(default)]
    pub default: Option<String>,
}

/// The transforms a field mapping knows.
pub const TRANSFORMS: &[&str] = &["trim", "upper", "lower", "collapse_spaces"];

/// A problem found in a plan, at a key path of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The key path, e.g. `["crosswalks", "students", "grade_level", "9"]`.
    pub path: Vec<String>,
    /// What is wrong and what to do.
    pub message: String,
    /// Whether it blocks a run.
    pub blocking: bool,
    /// The kind: `unknown`, `unmapped_code`, `open_question`,
    /// `required_without_source`, `filter_matches_nothing`, `not_accepted`,
    /// `destination`, `ids`.
    pub kind: &'static str,
}

fn problem(kind: &'static str, path: &[&str], blocking: bool, message: String) -> Problem {
    Problem { path: path.iter().map(|s| (*s).to_owned()).collect(), message, blocking, kind }
}

/// A code value the inventory found: `(original, canonical, count)`.
pub type CodeSeen = (String, String, u64);

/// New ids per entity (old → new), and the file they came from.
type NewIdMap = Arc<(String, HashMap<EntityKind, HashMap<String, String>>)>;

/// What the source holds, as the inventory found it.
#[derive(Clone, Debug, Default)]
pub struct SourceFacts {
    /// Entities the source produced, with their record counts.
    pub records: BTreeMap<String, u64>,
    /// Per `(entity, field)`: records with a value.
    pub filled: BTreeMap<(String, String), u64>,
    /// Per `(entity, field)` of codes: `(original, canonical, count)`.
    pub codes: BTreeMap<(String, String), Vec<CodeSeen>>,
    /// School years present.
    pub school_years: Vec<i64>,
    /// School ids present.
    pub schools: Vec<String>,
}

impl SourceFacts {
    /// Reads what it needs from an inventory profile (the JSON `ferry
    /// inventory` writes).
    pub fn from_inventory(profile: &serde_json::Value) -> SourceFacts {
        let mut f = SourceFacts::default();
        let mut schools = std::collections::BTreeSet::new();
        for e in profile["entities"].as_array().into_iter().flatten() {
            let Some(name) = e["entity"].as_str() else { continue };
            f.records.insert(name.to_owned(), e["records"].as_u64().unwrap_or(0));
            for fd in e["fields"].as_array().into_iter().flatten() {
                let Some(field) = fd["field"].as_str() else { continue };
                let key = (name.to_owned(), field.to_owned());
                f.filled.insert(key.clone(), fd["filled"].as_u64().unwrap_or(0));
                if let Some(codes) = fd["codes"].as_array() {
                    let list = codes
                        .iter()
                        .map(|c| {
                            (
                                c["original"].as_str().unwrap_or_default().to_owned(),
                                c["code"].as_str().unwrap_or_default().to_owned(),
                                c["count"].as_u64().unwrap_or(0),
                            )
                        })
                        .collect();
                    f.codes.insert(key, list);
                }
            }
            for p in e["per_school_year"].as_array().into_iter().flatten() {
                if let Some(s) = p[0].as_str().filter(|s| !s.is_empty()) {
                    schools.insert(s.to_owned());
                }
            }
        }
        for y in profile["school_years"].as_array().into_iter().flatten() {
            let year = y.as_i64().or_else(|| y.as_str().and_then(year_of));
            if let Some(y) = year
                && !f.school_years.contains(&y)
            {
                f.school_years.push(y);
            }
        }
        f.schools = schools.into_iter().collect();
        f
    }
}

/// The year a school year ends in, from `2026` or `2025-2026`.
fn year_of(s: &str) -> Option<i64> {
    s.rsplit(['-', '/']).next()?.trim().parse().ok()
}

/// What a destination takes, from its plugin's manifest.
#[derive(Clone, Debug, Default)]
pub struct DestinationFacts {
    /// The destination's name in the plan.
    pub name: String,
    /// Its plugin id.
    pub plugin: String,
    /// Entities it takes.
    pub entities: Vec<String>,
    /// What it requires and accepts.
    pub rules: ferry_plugin_abi::DestinationRules,
}

/// The field `entity.field` of the model, if any.
pub fn field_def(entity: &str, field: &str) -> Option<(EntityKind, &'static FieldDef)> {
    let kind = EntityKind::from_name(entity)?;
    kind.fields().iter().find(|d| d.name == field).map(|d| (kind, d))
}

fn entity_names() -> String {
    EntityKind::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
}

fn field_names(kind: EntityKind) -> String {
    kind.fields().iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
}

impl PlanFile {
    /// Parses a plan; the error names the line and key.
    pub fn parse(text: &str) -> Result<PlanFile, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The priority of an entity (required when the plan says nothing).
    pub fn priority(&self, entity: &str) -> Priority {
        self.entities.get(entity).map_or(Priority::Required, |e| e.priority)
    }

    /// The problems the plan has on its own: unknown entities and fields,
    /// crosswalk targets outside the code set, open questions, bad
    /// transforms, an id strategy without its file.
    pub fn check_static(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (entity, ep) in &self.entities {
            let Some(kind) = EntityKind::from_name(entity) else {
                out.push(problem(
                    "unknown",
                    &["entities", entity],
                    true,
                    format!("unknown entity '{entity}'; known entities: {}", entity_names()),
                ));
                continue;
            };
            if ep.priority == Priority::NotNeeded && ep.reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                out.push(problem(
                    "reason",
                    &["entities", entity, "priority"],
                    false,
                    format!("{entity} is not needed, but the plan gives no reason; add `reason = \"…\"` so the Solution Document says why it is dropped"),
                ));
            }
            for (field, m) in &ep.fields {
                let Some(def) = kind.fields().iter().find(|d| d.name == field) else {
                    out.push(problem(
                        "unknown",
                        &["entities", entity, "fields", field],
                        true,
                        format!("{entity} has no field '{field}'; its fields: {}", field_names(kind)),
                    ));
                    continue;
                };
                let changes = m.concat.is_some()
                    || !m.transforms.is_empty()
                    || m.lookup.is_some()
                    || m.default.is_some();
                if changes && def.ty != FieldType::Text {
                    out.push(problem(
                        "transform",
                        &["entities", entity, "fields", field],
                        true,
                        format!("{entity}.{field} is a {} field: concat, transforms, lookup and default apply to text fields only (codes take a crosswalk)", def.ty.name()),
                    ));
                }
                if changes && def.key {
                    out.push(problem(
                        "transform",
                        &["entities", entity, "fields", field],
                        true,
                        format!("{entity}.{field} identifies a record or its parent; change ids with the id strategy ([ids]), not a transform"),
                    ));
                }
                for t in &m.transforms {
                    if !TRANSFORMS.contains(&t.as_str()) {
                        out.push(problem(
                            "unknown",
                            &["entities", entity, "fields", field, "transforms"],
                            true,
                            format!("unknown transform '{t}'; known: {}", TRANSFORMS.join(", ")),
                        ));
                    }
                }
                for part in m.concat.iter().flatten() {
                    match kind.fields().iter().find(|d| d.name == part) {
                        Some(d) if d.ty == FieldType::Text => {}
                        Some(d) => out.push(problem(
                            "transform",
                            &["entities", entity, "fields", field, "concat"],
                            true,
                            format!("concat takes text fields; {entity}.{part} is a {} field", d.ty.name()),
                        )),
                        None => out.push(problem(
                            "unknown",
                            &["entities", entity, "fields", field, "concat"],
                            true,
                            format!(
                                "{entity} has no field '{part}' to concatenate; its fields: {}",
                                field_names(kind)
                            ),
                        )),
                    }
                }
            }
        }
        for (entity, fields) in &self.crosswalks {
            let Some(kind) = EntityKind::from_name(entity) else {
                out.push(problem(
                    "unknown",
                    &["crosswalks", entity],
                    true,
                    format!("unknown entity '{entity}'; known entities: {}", entity_names()),
                ));
                continue;
            };
            for (field, map) in fields {
                let Some(def) = kind.fields().iter().find(|d| d.name == field) else {
                    out.push(problem(
                        "unknown",
                        &["crosswalks", entity, field],
                        true,
                        format!("{entity} has no field '{field}'; its fields: {}", field_names(kind)),
                    ));
                    continue;
                };
                if def.key {
                    out.push(problem(
                        "ids",
                        &["crosswalks", entity, field],
                        true,
                        format!("{entity}.{field} identifies a record or its parent; new ids come from the id strategy ([ids]), not a crosswalk"),
                    ));
                    continue;
                }
                for (from, to) in map {
                    if to == OPEN {
                        out.push(problem(
                            "open_question",
                            &["crosswalks", entity, field, from],
                            true,
                            format!("open question: what does {entity}.{field} '{from}' mean? Replace \"?\" with the value it becomes"),
                        ));
                        continue;
                    }
                    match def.ty {
                        FieldType::Code(values) if !values.contains(&to.as_str()) => out.push(problem(
                            "not_accepted",
                            &["crosswalks", entity, field, from],
                            true,
                            format!(
                                "'{to}' is not a value of {entity}.{field}; its values: {}",
                                values.join(", ")
                            ),
                        )),
                        FieldType::Code(_) | FieldType::Text => {}
                        other => out.push(problem(
                            "transform",
                            &["crosswalks", entity, field],
                            true,
                            format!(
                                "{entity}.{field} is a {} field: crosswalks apply to codes and text",
                                other.name()
                            ),
                        )),
                    }
                }
            }
        }
        for (entity, fields) in &self.field_policy.entities {
            if let Some(kind) = EntityKind::from_name(entity) {
                for f in fields.keys().filter(|f| *f != "*") {
                    if !kind.fields().iter().any(|d| d.name == f) {
                        out.push(problem(
                            "unknown",
                            &["field_policy", entity, f],
                            true,
                            format!("{entity} has no field '{f}'; its fields: {}", field_names(kind)),
                        ));
                    }
                }
            } else {
                out.push(problem(
                    "unknown",
                    &["field_policy", entity],
                    true,
                    format!("unknown entity '{entity}'; known entities: {}", entity_names()),
                ));
            }
        }
        match (self.ids.strategy, &self.ids.file) {
            (IdStrategy::Crosswalk, None) => out.push(problem(
                "ids",
                &["ids", "strategy"],
                true,
                "the id strategy `crosswalk` reads new ids from a file: add `file = \"ids.csv\"` (columns entity,old_id,new_id)".into(),
            )),
            (IdStrategy::Keep | IdStrategy::Destination, Some(_)) => out.push(problem(
                "ids",
                &["ids", "file"],
                false,
                "`file` is read only with `strategy = \"crosswalk\"`; it is ignored".into(),
            )),
            _ => {}
        }
        for (name, d) in &self.destinations {
            if d.plugin_id().is_none() {
                out.push(problem(
                    "destination",
                    &["destinations", name],
                    true,
                    format!("destination '{name}' names no connector: give `to = \"PLUGIN:LOCATION\"` or `plugin = \"…\"`"),
                ));
            }
        }
        out
    }

    /// The problems of the plan against what the source holds and what a
    /// destination takes.
    pub fn check_against(
        &self,
        source: Option<&SourceFacts>,
        dest: Option<&DestinationFacts>,
    ) -> Vec<Problem> {
        let mut out = self.check_static();
        if let Some(src) = source {
            // Every code the inventory found has a meaning.
            for ((entity, field), codes) in &src.codes {
                if self.priority(entity) == Priority::NotNeeded {
                    continue;
                }
                let walk = self.crosswalks.get(entity).and_then(|f| f.get(field));
                let blocking = self.priority(entity) == Priority::Required;
                for (original, canonical, count) in codes {
                    let mapped = walk.and_then(|w| w.get(original));
                    if mapped.is_none() && canonical == "Other" {
                        out.push(problem(
                            "unmapped_code",
                            &["crosswalks", entity, field],
                            blocking,
                            format!("{entity}.{field} '{original}' ({count} records) has no canonical meaning and no crosswalk entry; add `\"{original}\" = \"…\"`"),
                        ));
                    }
                }
            }
            if let Some(years) = &self.filters.school_years {
                for y in years {
                    if !src.school_years.contains(y) {
                        out.push(problem(
                            "filter_matches_nothing",
                            &["filters", "school_years"],
                            true,
                            format!(
                                "no record of school year {y} in the source (it has: {})",
                                src.school_years.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
            }
            if let Some(schools) = &self.filters.schools {
                for s in schools {
                    if !src.schools.contains(s) {
                        out.push(problem(
                            "filter_matches_nothing",
                            &["filters", "schools"],
                            true,
                            format!(
                                "no record of school '{s}' in the source (it has: {})",
                                src.schools.join(", ")
                            ),
                        ));
                    }
                }
            }
            if self.filters.active_students_only && src.records.get("students").copied().unwrap_or(0) == 0 {
                out.push(problem(
                    "filter_matches_nothing",
                    &["filters", "active_students_only"],
                    false,
                    "the source has no students for this filter to keep".into(),
                ));
            }
        }
        if let Some(d) = dest {
            for (entity, n) in source.map(|s| s.records.clone()).unwrap_or_default() {
                let p = self.priority(&entity);
                if n == 0 || p == Priority::NotNeeded || d.entities.contains(&entity) {
                    continue;
                }
                out.push(problem(
                    "destination",
                    &["entities", &entity],
                    p == Priority::Required,
                    format!("{entity} ({n} records, {}) is not taken by destination '{}' ({}): mark it not_needed with a reason, or choose a destination that takes it", p.name(), d.name, d.plugin),
                ));
            }
            for req in &d.rules.requires {
                let Some((entity, field)) = req.split_once('.') else { continue };
                if self.priority(entity) == Priority::NotNeeded {
                    continue;
                }
                let mapping = self.entities.get(entity).and_then(|e| e.fields.get(field));
                let made = mapping.is_some_and(|m| m.concat.is_some() || m.default.is_some());
                let filled = source
                    .map(|s| s.filled.get(&(entity.to_owned(), field.to_owned())).copied().unwrap_or(0));
                let records = source.and_then(|s| s.records.get(entity).copied()).unwrap_or(0);
                if !made && records > 0 && filled == Some(0) {
                    out.push(problem(
                        "required_without_source",
                        &["entities", entity, "fields", field],
                        self.priority(entity) == Priority::Required,
                        format!("destination '{}' requires {req}, and no source record has it: map it (`concat`, `default`) or fill it in the source", d.name),
                    ));
                }
            }
            for (key, accepted) in &d.rules.accepts {
                let Some((entity, field)) = key.split_once('.') else { continue };
                for (from, to) in self.crosswalks.get(entity).and_then(|f| f.get(field)).into_iter().flatten()
                {
                    if to != OPEN && !accepted.contains(to) {
                        out.push(problem(
                            "not_accepted",
                            &["crosswalks", entity, field, from],
                            true,
                            format!(
                                "destination '{}' does not accept {key} '{to}'; it takes: {}",
                                d.name,
                                accepted.join(", ")
                            ),
                        ));
                    }
                }
                // Codes the source has that no crosswalk moves to an accepted value.
                if let Some(codes) = source.and_then(|s| s.codes.get(&(entity.to_owned(), field.to_owned())))
                {
                    let walk = self.crosswalks.get(entity).and_then(|f| f.get(field));
                    for (original, canonical, count) in codes {
                        let target = walk.and_then(|w| w.get(original)).unwrap_or(canonical);
                        if target != OPEN && target != "Other" && !accepted.contains(target) {
                            out.push(problem(
                                "not_accepted",
                                &["crosswalks", entity, field],
                                self.priority(entity) == Priority::Required,
                                format!("{entity}.{field} '{original}' ({count} records) becomes '{target}', which destination '{}' does not accept; add a crosswalk entry to one of: {}", d.name, accepted.join(", ")),
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    /// The stages this plan puts in a run, reading the files it names
    /// (relative to `base`).
    pub fn compile(&self, base: &Path) -> Result<RunPlan, String> {
        let blocking: Vec<String> = self
            .check_static()
            .into_iter()
            .filter(|p| p.blocking)
            .map(|p| format!("{}: {}", p.path.join("."), p.message))
            .collect();
        if !blocking.is_empty() {
            return Err(format!(
                "the plan has problems that block a run (`ferry plan check` shows them with their lines):\n  {}",
                blocking.join("\n  ")
            ));
        }
        let mut not_needed = HashMap::new();
        for (entity, ep) in &self.entities {
            if ep.priority == Priority::NotNeeded
                && let Some(kind) = EntityKind::from_name(entity)
            {
                let why = ep.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                not_needed.insert(kind, format!("the plan marks {entity} not needed{why}"));
            }
        }
        let mut values: HashMap<EntityKind, Vec<FieldOps>> = HashMap::new();
        for (entity, ep) in &self.entities {
            let Some(kind) = EntityKind::from_name(entity) else { continue };
            for (field, m) in &ep.fields {
                let changes = m.concat.is_some()
                    || !m.transforms.is_empty()
                    || m.lookup.is_some()
                    || m.default.is_some();
                if !changes {
                    continue;
                }
                let lookup = match &m.lookup {
                    Some(p) => Some(read_pairs(&base.join(p), &["from", "to"])?.into_iter().collect()),
                    None => None,
                };
                values.entry(kind).or_default().push(FieldOps {
                    field: field.clone(),
                    concat: m.concat.clone(),
                    separator: m.separator.clone().unwrap_or_else(|| " ".into()),
                    transforms: m.transforms.clone(),
                    lookup,
                    default: m.default.clone(),
                    crosswalk: None,
                });
            }
        }
        for (entity, fields) in &self.crosswalks {
            let Some(kind) = EntityKind::from_name(entity) else { continue };
            for (field, map) in fields {
                let map: HashMap<String, String> =
                    map.iter().filter(|(_, v)| *v != OPEN).map(|(k, v)| (k.clone(), v.clone())).collect();
                let ops = values.entry(kind).or_default();
                match ops.iter_mut().find(|o| &o.field == field) {
                    Some(o) => o.crosswalk = Some(map),
                    None => ops.push(FieldOps {
                        field: field.clone(),
                        crosswalk: Some(map),
                        ..FieldOps::default()
                    }),
                }
            }
        }
        let ids = match (self.ids.strategy, &self.ids.file) {
            (IdStrategy::Crosswalk, Some(file)) => {
                let path = base.join(file);
                let mut map: HashMap<EntityKind, HashMap<String, String>> = HashMap::new();
                for (n, row) in read_rows(&path, &["entity", "old_id", "new_id"])?.into_iter().enumerate() {
                    let kind = EntityKind::from_name(&row[0]).ok_or_else(|| {
                        format!(
                            "{} line {}: unknown entity '{}' in the column entity",
                            path.display(),
                            n + 2,
                            row[0]
                        )
                    })?;
                    map.entry(kind).or_default().insert(row[1].clone(), row[2].clone());
                }
                Some((path.display().to_string(), map))
            }
            _ => None,
        };
        Ok(RunPlan {
            not_needed,
            filters: self.filters.clone(),
            values: Arc::new(values),
            ids: ids.map(|(file, map)| Arc::new((file, map))),
        })
    }
}

/// Reads a CSV file with a header, keeping the named columns.
fn read_rows(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(format!("{} is empty; it needs a header: {}", path.display(), columns.join(",")));
    };
    let names: Vec<String> =
        header.split(',').map(|s| s.trim().trim_start_matches('\u{feff}').to_lowercase()).collect();
    let at: Vec<usize> = columns
        .iter()
        .map(|c| {
            names.iter().position(|n| n == c).ok_or_else(|| {
                format!(
                    "{} line 1: no column '{c}'; the header must name {}",
                    path.display(),
                    columns.join(",")
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let row: Option<Vec<String>> = at.iter().map(|&k| cells.get(k).map(|s| (*s).to_owned())).collect();
        match row {
            Some(r) if r.iter().all(|c| !c.is_empty()) => out.push(r),
            _ => {
                return Err(format!(
                    "{} line {}: expected the columns {} filled in",
                    path.display(),
                    i + 1,
                    columns.join(",")
                ));
            }
        }
    }
    Ok(out)
}

fn read_pairs(path: &Path, columns: &[&str; 2]) -> Result<Vec<(String, String)>, String> {
    Ok(read_rows(path, columns)?.into_iter().map(|mut r| (r.remove(0), r.remove(0))).collect())
}

/// A plan, compiled for a run.
#[derive(Clone, Debug, Default)]
pub struct RunPlan {
    not_needed: HashMap<EntityKind, String>,
    filters: Filters,
    values: Arc<HashMap<EntityKind, Vec<FieldOps>>>,
    ids: Option<NewIdMap>,
}

impl RunPlan {
    /// The old id of a record the crosswalk file gave `new` (strategy
    /// `crosswalk`); `None` under other strategies.
    pub fn old_ids(&self) -> Option<HashMap<(String, String), String>> {
        let (_, maps) = &**self.ids.as_ref()?;
        Some(
            maps.iter()
                .flat_map(|(k, m)| {
                    m.iter().map(move |(old, new)| ((k.name().to_owned(), new.clone()), old.clone()))
                })
                .collect(),
        )
    }

    /// Its stages, in order: skips (priorities, filters, and what hangs off
    /// a skipped record), value changes (mappings, crosswalks), new ids.
    pub fn stages(&self) -> Vec<Box<dyn Stage>> {
        let mut out: Vec<Box<dyn Stage>> = vec![Box::new(PlanSkips {
            not_needed: self.not_needed.clone(),
            filters: self.filters.clone(),
            skipped: HashMap::new(),
        })];
        if !self.values.is_empty() {
            out.push(Box::new(PlanValues { ops: self.values.clone() }));
        }
        if let Some(ids) = &self.ids {
            out.push(Box::new(NewIds { map: ids.clone() }));
        }
        out
    }
}

// ---------------------------------------------------------------------------

/// Skips what the plan leaves out, naming the rule; and the records that
/// hang off a skipped one (a skipped student's grades), naming it.
struct PlanSkips {
    not_needed: HashMap<EntityKind, String>,
    filters: Filters,
    /// Skipped ids per entity, with the rule.
    skipped: HashMap<EntityKind, HashMap<String, Arc<str>>>,
}

impl Stage for PlanSkips {
    fn name(&self) -> &'static str {
        "plan skips"
    }

    fn process(&mut self, batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError> {
        let kind = batch.entity;
        if let Some(rule) = self.not_needed.get(&kind) {
            fx.skipped.push((kind, batch.len() as u64, rule.clone()));
            let view = FieldsView::new(kind, &batch.records).map_err(|e| StageError(e.0))?;
            let rule: Arc<str> = Arc::from(rule.as_str());
            let ids = self.skipped.entry(kind).or_default();
            for row in 0..view.len() {
                ids.insert(view.meta().source_id(row).to_owned(), rule.clone());
            }
            return Ok(None);
        }
        let view = FieldsView::new(kind, &batch.records).map_err(|e| StageError(e.0))?;
        let year = view.index("school_year");
        let school = view.index("school_id").filter(|_| kind != EntityKind::Orgs);
        let status = view.index("status").filter(|_| kind == EntityKind::Students);
        let parents: Vec<(usize, EntityKind)> = kind
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, d)| d.key)
            .filter_map(|(i, d)| Some((i, EntityKind::from_name(d.refs?)?)))
            .filter(|(_, p)| self.skipped.get(p).is_some_and(|m| !m.is_empty()))
            .collect();
        let active: Vec<String> = self
            .filters
            .active_statuses
            .clone()
            .unwrap_or_else(|| vec!["active".into()])
            .iter()
            .map(|s| s.to_lowercase())
            .collect();
        let mut keep = vec![true; batch.len()];
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut newly: Vec<(String, Arc<str>)> = Vec::new();
        for (row, k) in keep.iter_mut().enumerate() {
            let mut rule: Option<String> = None;
            if let (Some(years), Some(i)) = (&self.filters.school_years, year)
                && let Value::Int(y) = view.get(i, row)
                && !years.contains(&y)
            {
                rule = Some("[filters] school_years".into());
            }
            if rule.is_none()
                && let (Some(schools), Some(i)) = (&self.filters.schools, school)
                && let Value::Text(s) = view.get(i, row)
                && !schools.iter().any(|x| x == s)
            {
                rule = Some("[filters] schools".into());
            }
            if rule.is_none()
                && self.filters.active_students_only
                && let Some(i) = status
                && let Value::Text(s) = view.get(i, row)
                && !active.contains(&s.to_lowercase())
            {
                rule = Some("[filters] active_students_only".into());
            }
            if rule.is_none() {
                for (field, parent) in &parents {
                    if let Value::Text(id) = view.get(*field, row)
                        && let Some(r) = self.skipped.get(parent).and_then(|m| m.get(id))
                    {
                        rule =
                            Some(format!("its {} was skipped ({r})", crate::stages::singular(parent.name())));
                        break;
                    }
                }
            }
            if let Some(r) = rule {
                *k = false;
                *counts.entry(r.clone()).or_default() += 1;
                newly.push((view.meta().source_id(row).to_owned(), Arc::from(r.as_str())));
            }
        }
        drop(view);
        if newly.is_empty() {
            return Ok(Some(batch));
        }
        let ids = self.skipped.entry(kind).or_default();
        for (id, r) in newly {
            ids.insert(id, r);
        }
        for (rule, n) in counts {
            fx.skipped.push((kind, n, rule));
        }
        let batch = batch.retain(&keep)?;
        Ok((!batch.is_empty()).then_some(batch))
    }
}

// ---------------------------------------------------------------------------

/// The value changes of one field.
#[derive(Clone, Debug, Default)]
struct FieldOps {
    field: String,
    concat: Option<Vec<String>>,
    separator: String,
    transforms: Vec<String>,
    lookup: Option<HashMap<String, String>>,
    default: Option<String>,
    crosswalk: Option<HashMap<String, String>>,
}

fn text_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<Option<&'a StringArray>, StageError> {
    let Ok(i) = batch.schema().index_of(name) else { return Ok(None) };
    batch
        .column(i)
        .as_any()
        .downcast_ref::<StringArray>()
        .map(Some)
        .ok_or_else(|| StageError(format!("column {name} is not text")))
}

fn replace_column(batch: &RecordBatch, name: &str, array: ArrayRef) -> Result<RecordBatch, StageError> {
    let i = batch.schema().index_of(name).map_err(|e| StageError(e.to_string()))?;
    let mut cols = batch.columns().to_vec();
    cols[i] = array;
    RecordBatch::try_new(batch.schema(), cols).map_err(|e| StageError(e.to_string()))
}

fn transform(mut v: String, transforms: &[String]) -> String {
    for t in transforms {
        v = match t.as_str() {
            "trim" => v.trim().to_owned(),
            "upper" => v.to_uppercase(),
            "lower" => v.to_lowercase(),
            "collapse_spaces" => v.split_whitespace().collect::<Vec<_>>().join(" "),
            _ => v,
        };
    }
    v
}

/// Field mappings and crosswalks: changes values, never rows.
struct PlanValues {
    ops: Arc<HashMap<EntityKind, Vec<FieldOps>>>,
}

impl PlanValues {
    fn apply_text(batch: &RecordBatch, op: &FieldOps) -> Result<Option<ArrayRef>, StageError> {
        let Some(col) = text_column(batch, &op.field)? else { return Ok(None) };
        let parts: Vec<&StringArray> = match &op.concat {
            Some(names) => names
                .iter()
                .map(|n| {
                    text_column(batch, n)?.ok_or_else(|| StageError(format!("no column {n} to concatenate")))
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let out: StringArray = (0..batch.num_rows())
            .map(|row| {
                let mut v: Option<String> = if op.concat.is_some() {
                    let joined: Vec<&str> = parts
                        .iter()
                        .filter(|p| p.is_valid(row))
                        .map(|p| p.value(row))
                        .filter(|s| !s.trim().is_empty())
                        .collect();
                    (!joined.is_empty()).then(|| joined.join(&op.separator))
                } else {
                    col.is_valid(row).then(|| col.value(row).to_owned())
                };
                v = v.map(|s| transform(s, &op.transforms));
                if let (Some(s), Some(l)) = (&v, &op.lookup)
                    && let Some(to) = l.get(s)
                {
                    v = Some(to.clone());
                }
                if let (Some(s), Some(w)) = (&v, &op.crosswalk)
                    && let Some(to) = w.get(s)
                {
                    v = Some(to.clone());
                }
                if v.as_deref().is_none_or(|s| s.is_empty()) && op.default.is_some() {
                    v.clone_from(&op.default);
                }
                v
            })
            .collect();
        Ok(Some(Arc::new(out)))
    }

    fn apply_code(
        batch: &RecordBatch,
        op: &FieldOps,
        map: &HashMap<String, String>,
    ) -> Result<Option<ArrayRef>, StageError> {
        let Ok(i) = batch.schema().index_of(&op.field) else { return Ok(None) };
        let s = batch
            .column(i)
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| StageError(format!("column {} is not a code", op.field)))?;
        let child = |n: &str| -> Result<&StringArray, StageError> {
            s.column_by_name(n)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| StageError(format!("column {} has no text {n}", op.field)))
        };
        let (code, original) = (child("code")?, child("original")?);
        let new_code: StringArray = (0..s.len())
            .map(|row| {
                if !code.is_valid(row) {
                    return None;
                }
                let orig = if original.is_valid(row) { original.value(row) } else { "" };
                Some(map.get(orig).map_or_else(|| code.value(row).to_owned(), Clone::clone))
            })
            .collect();
        let mut children: Vec<ArrayRef> = s.columns().to_vec();
        let at = s
            .fields()
            .iter()
            .position(|f| f.name() == "code")
            .ok_or_else(|| StageError("no code child".into()))?;
        children[at] = Arc::new(new_code);
        let out = StructArray::try_new(s.fields().clone(), children, s.nulls().cloned())
            .map_err(|e| StageError(e.to_string()))?;
        Ok(Some(Arc::new(out)))
    }
}

impl Stage for PlanValues {
    fn name(&self) -> &'static str {
        "plan values"
    }

    fn process(
        &mut self,
        mut batch: StageBatch,
        _fx: &mut Effects,
    ) -> Result<Option<StageBatch>, StageError> {
        let Some(ops) = self.ops.get(&batch.entity) else { return Ok(Some(batch)) };
        for op in ops {
            let Some((_, def)) = field_def(batch.entity.name(), &op.field) else { continue };
            let new = match (def.ty, &op.crosswalk) {
                (FieldType::Code(_), Some(map)) => Self::apply_code(&batch.records, op, map)?,
                (FieldType::Text, _) => Self::apply_text(&batch.records, op)?,
                _ => None,
            };
            if let Some(array) = new {
                batch.records = replace_column(&batch.records, &op.field, array)?;
            }
        }
        Ok(Some(batch))
    }
}

// ---------------------------------------------------------------------------

/// New ids from the plan's crosswalk file: a record of an entity the file
/// covers takes its new id, and references to it follow; a record (or a
/// key reference) the file has no new id for is rejected, naming the file.
struct NewIds {
    map: NewIdMap,
}

impl Stage for NewIds {
    fn name(&self) -> &'static str {
        "new ids"
    }

    fn process(&mut self, batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError> {
        let (file, maps) = &*self.map;
        let kind = batch.entity;
        let own = maps.get(&kind);
        let refs: Vec<(&'static FieldDef, &HashMap<String, String>)> = kind
            .fields()
            .iter()
            .filter_map(|d| Some((d, maps.get(&EntityKind::from_name(d.refs?)?)?)))
            .filter(|(d, _)| d.ty == FieldType::Text)
            .collect();
        if own.is_none() && refs.is_empty() {
            return Ok(Some(batch));
        }
        let mut keep = vec![true; batch.len()];
        {
            let view = FieldsView::new(kind, &batch.records).map_err(|e| StageError(e.0))?;
            for (row, k) in keep.iter_mut().enumerate() {
                let mut why = None;
                if let Some(m) = own
                    && !m.contains_key(view.meta().source_id(row))
                {
                    why = Some((String::new(), format!("no new id for this record in {file}")));
                }
                for (d, m) in &refs {
                    if why.is_some() || !d.key {
                        continue;
                    }
                    let i = view.index(d.name).unwrap_or(usize::MAX);
                    if let Value::Text(id) = view.get(i, row)
                        && !m.contains_key(id)
                    {
                        why = Some((
                            d.name.to_owned(),
                            format!(
                                "its {} '{id}' has no new id in {file}",
                                d.refs.map(crate::stages::singular).unwrap_or_default()
                            ),
                        ));
                    }
                }
                if let Some((field, reason)) = why {
                    *k = false;
                    let mut d = Diagnostic::reject(kind.name(), reason);
                    d.field = field;
                    d.record_id = view.meta().source_id(row).to_owned();
                    if let Some(f) = view.meta().source_file(row) {
                        f.clone_into(&mut d.file);
                        d.line = view.meta().source_line(row);
                    }
                    fx.rejects.push(d);
                }
            }
        }
        let mut batch = batch.retain(&keep)?;
        if batch.is_empty() {
            return Ok(None);
        }
        let remap = |col: &StringArray, m: &HashMap<String, String>| -> StringArray {
            (0..col.len())
                .map(|i| {
                    col.is_valid(i)
                        .then(|| m.get(col.value(i)).map_or_else(|| col.value(i).to_owned(), Clone::clone))
                })
                .collect()
        };
        if let Some(m) = own {
            let col =
                text_column(&batch.records, SOURCE_ID)?.ok_or_else(|| StageError("no source_id".into()))?;
            let new = remap(col, m);
            batch.records = replace_column(&batch.records, SOURCE_ID, Arc::new(new))?;
        }
        for (d, m) in &refs {
            if let Some(col) = text_column(&batch.records, d.name)? {
                let new = remap(col, m);
                batch.records = replace_column(&batch.records, d.name, Arc::new(new))?;
            }
        }
        Ok(Some(batch))
    }
}

#[cfg(test)]
mod tests {
    use ferry_model::{Code, Grade, GradeKind, GradeLevel, Meta, Origin, Record, RecordBuilder, Student};

    use super::*;

    fn plan(text: &str) -> PlanFile {
        PlanFile::parse(text).unwrap()
    }

    fn kinds(problems: &[Problem]) -> Vec<(&'static str, String, bool)> {
        problems.iter().map(|p| (p.kind, p.path.join("."), p.blocking)).collect()
    }

    fn students(rows: &[(&str, &str, &str)]) -> RecordBatch {
        let mut b = <Student as Record>::Builder::with_capacity(rows.len());
        for (i, (id, grade, status)) in rows.iter().enumerate() {
            let mut meta = Meta::new("t", *id);
            meta.origin = Some(Origin { file: "students.csv".into(), line: i as u64 + 2, raw: None });
            b.push(&Student {
                meta,
                first_name: "A".into(),
                last_name: "B".into(),
                grade_level: Some(Code::normalize(grade)),
                status: (!status.is_empty()).then(|| (*status).to_owned()),
                state_id: Some(format!("  st{id} ")),
                ..Student::default()
            });
        }
        b.finish().unwrap()
    }

    fn grades(rows: &[(&str, &str, i64)]) -> RecordBatch {
        let mut b = <Grade as Record>::Builder::with_capacity(rows.len());
        for (id, student, year) in rows {
            b.push(&Grade {
                meta: Meta::new("t", *id),
                student_id: Some((*student).into()),
                kind: Some(Code::mapped(GradeKind::Final, "F")),
                school_year: Some(*year),
                ..Grade::default()
            });
        }
        b.finish().unwrap()
    }

    fn run(
        stages: &mut [Box<dyn Stage>],
        entity: EntityKind,
        records: RecordBatch,
    ) -> (Option<StageBatch>, Effects) {
        let mut fx = Effects::default();
        let out =
            crate::stages::run_stages(stages, StageBatch { entity, records, warnings: vec![] }, &mut fx)
                .unwrap();
        (out, fx)
    }

    fn ids(b: &StageBatch) -> Vec<String> {
        let v = FieldsView::new(b.entity, &b.records).unwrap();
        (0..v.len()).map(|r| v.meta().source_id(r).to_owned()).collect()
    }

    #[test]
    fn the_plan_alone_names_unknown_fields_bad_targets_and_open_questions() {
        let p = plan(
            r#"
[ids]
strategy = "crosswalk"
[entities.studentz]
priority = "required"
[entities.students.fields.state_idd]
transforms = ["trim"]
[entities.students.fields.state_id]
transforms = ["shout"]
[entities.students.fields.birth_date]
transforms = ["trim"]
[entities.grades]
priority = "not_needed"
[crosswalks.students.grade_level]
"9" = "09"
"13" = "Grade9"
"99" = "?"
[crosswalks.grades.student_id]
"1" = "2"
[field_policy]
students = { birthdate = "reject" }
"#,
        );
        let k = kinds(&p.check_static());
        for want in [
            ("unknown", "entities.studentz", true),
            ("unknown", "entities.students.fields.state_idd", true),
            ("unknown", "entities.students.fields.state_id.transforms", true),
            ("transform", "entities.students.fields.birth_date", true),
            ("reason", "entities.grades.priority", false),
            ("not_accepted", "crosswalks.students.grade_level.13", true),
            ("open_question", "crosswalks.students.grade_level.99", true),
            ("ids", "crosswalks.grades.student_id", true),
            ("unknown", "field_policy.students.birthdate", true),
            ("ids", "ids.strategy", true),
        ] {
            assert!(
                k.iter().any(|x| (x.0, x.1.as_str(), x.2) == (want.0, want.1, want.2)),
                "{want:?} not in {k:#?}"
            );
        }
        assert!(!k.iter().any(|x| x.1 == "crosswalks.students.grade_level.9"), "a good entry is no problem");
        assert!(p.compile(Path::new(".")).unwrap_err().contains("open question"));
        assert!(
            PlanFile::parse("[entities.students]\npriority = \"maybe\"\n").unwrap_err().contains("line 2")
        );
    }

    #[test]
    fn the_plan_against_the_source_and_destination() {
        let p = plan(
            r#"
[filters]
school_years = [2026, 1999]
schools = ["101", "777"]
[crosswalks.students.grade_level]
"9" = "09"
"#,
        );
        let mut src = SourceFacts::default();
        src.records.insert("students".into(), 10);
        src.records.insert("grades".into(), 5);
        src.filled.insert(("students".into(), "state_id".into()), 0);
        src.codes.insert(
            ("students".into(), "grade_level".into()),
            vec![
                ("9".into(), "09".into(), 6),
                ("X".into(), "Other".into(), 3),
                ("KG".into(), "KG".into(), 1),
            ],
        );
        src.school_years = vec![2025, 2026];
        src.schools = vec!["101".into()];
        let dest = DestinationFacts {
            name: "sandbox".into(),
            plugin: "ps".into(),
            entities: vec!["students".into()],
            rules: ferry_plugin_abi::DestinationRules {
                requires: vec!["students.state_id".into()],
                accepts: [("students.grade_level".to_owned(), vec!["09".to_owned(), "10".to_owned()])].into(),
                ..Default::default()
            },
        };
        let all = p.check_against(Some(&src), Some(&dest));
        let msg =
            |kind: &str| all.iter().filter(|x| x.kind == kind).map(|x| x.message.clone()).collect::<Vec<_>>();
        assert!(msg("unmapped_code").iter().any(|m| m.contains("'X' (3 records)")), "{all:#?}");
        let nothing = msg("filter_matches_nothing");
        assert!(
            nothing.iter().any(|m| m.contains("1999")) && nothing.iter().any(|m| m.contains("'777'")),
            "{nothing:?}"
        );
        assert_eq!(nothing.len(), 2, "{nothing:?}");
        assert!(msg("required_without_source").iter().any(|m| m.contains("students.state_id")), "{all:#?}");
        assert!(msg("not_accepted").iter().any(|m| m.contains("'KG' (1 records) becomes 'KG'")), "{all:#?}");
        assert!(msg("destination").iter().any(|m| m.starts_with("grades (5 records, required)")), "{all:#?}");
    }

    #[test]
    fn skips_name_their_rule_and_follow_a_skipped_parent() {
        let p = plan(
            r#"
[filters]
school_years = [2026]
active_students_only = true
[entities.attendance]
priority = "not_needed"
reason = "kept in the archive"
"#,
        );
        let mut stages = p.compile(Path::new(".")).unwrap().stages();
        let (out, fx) = run(
            &mut stages,
            EntityKind::Students,
            students(&[("1", "9", "active"), ("2", "9", "inactive"), ("3", "9", "")]),
        );
        assert_eq!(ids(&out.unwrap()), ["1", "3"], "a student with no status is kept");
        assert_eq!(fx.skipped, [(EntityKind::Students, 1, "[filters] active_students_only".to_owned())]);
        let (out, fx) = run(
            &mut stages,
            EntityKind::Grades,
            grades(&[("g1", "1", 2026), ("g2", "2", 2026), ("g3", "1", 2025)]),
        );
        assert_eq!(ids(&out.unwrap()), ["g1"]);
        let mut rules: Vec<String> = fx.skipped.iter().map(|s| s.2.clone()).collect();
        rules.sort();
        assert_eq!(
            rules,
            ["[filters] school_years", "its student was skipped ([filters] active_students_only)"]
        );
        let mut fx = Effects::default();
        let b = StageBatch {
            entity: EntityKind::Attendance,
            records: RecordBatch::new_empty(EntityKind::Attendance.schema()),
            warnings: vec![],
        };
        let _ = crate::stages::run_stages(&mut stages, b, &mut fx).unwrap();
        assert!(fx.skipped[0].2.contains("not needed: kept in the archive"), "{:?}", fx.skipped);
    }

    #[test]
    fn crosswalks_change_the_canonical_code_and_keep_the_original_and_mappings_change_text() {
        let p = plan(
            r#"
[crosswalks.students.grade_level]
"99" = "12"
[entities.students.fields.state_id]
transforms = ["trim", "upper"]
[entities.students.fields.middle_name]
default = "NMN"
[entities.students.fields.preferred_name]
concat = ["first_name", "last_name"]
separator = "-"
"#,
        );
        let mut stages = p.compile(Path::new(".")).unwrap().stages();
        let (out, _) = run(&mut stages, EntityKind::Students, students(&[("1", "99", ""), ("2", "9", "")]));
        let out = out.unwrap();
        let v = FieldsView::new(EntityKind::Students, &out.records).unwrap();
        let get = |f: &str, r| v.get(v.index(f).unwrap(), r);
        assert_eq!(get("grade_level", 0), Value::Code { code: "12", original: "99" });
        assert_eq!(
            get("grade_level", 1),
            Value::Code { code: "09", original: "9" },
            "values not in the crosswalk keep the connector's mapping"
        );
        assert_eq!(get("state_id", 0), Value::Text("ST1"));
        assert_eq!(get("middle_name", 1), Value::Text("NMN"));
        assert_eq!(get("preferred_name", 0), Value::Text("A-B"));
        let _ = GradeLevel::Grade12;
    }

    #[test]
    fn new_ids_come_from_the_crosswalk_file_and_references_follow() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ids.csv"),
            "entity,old_id,new_id\nstudents,1,S-100\nstudents,2,S-200\n",
        )
        .unwrap();
        let p = plan("[ids]\nstrategy = \"crosswalk\"\nfile = \"ids.csv\"\n");
        let compiled = p.compile(dir.path()).unwrap();
        let mut stages = compiled.stages();
        let (out, fx) = run(&mut stages, EntityKind::Students, students(&[("1", "9", ""), ("3", "9", "")]));
        assert_eq!(ids(&out.unwrap()), ["S-100"]);
        assert_eq!(fx.rejects.len(), 1);
        assert_eq!(fx.rejects[0].record_id, "3");
        assert!(fx.rejects[0].reason.contains("no new id for this record in"), "{}", fx.rejects[0].reason);
        assert_eq!(fx.rejects[0].line, 3);
        let (out, fx) = run(&mut stages, EntityKind::Grades, grades(&[("g1", "2", 2026), ("g2", "9", 2026)]));
        let out = out.unwrap();
        let v = FieldsView::new(EntityKind::Grades, &out.records).unwrap();
        assert_eq!(v.get(v.index("student_id").unwrap(), 0), Value::Text("S-200"));
        assert!(fx.rejects[0].reason.contains("its student '9' has no new id"), "{:?}", fx.rejects);
        assert_eq!(compiled.old_ids().unwrap()[&("students".to_owned(), "S-100".to_owned())], "1");
        std::fs::write(dir.path().join("ids.csv"), "entity,old,new\n").unwrap();
        assert!(p.compile(dir.path()).unwrap_err().contains("line 1: no column 'old_id'"));
    }
}
