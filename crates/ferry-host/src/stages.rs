//! The stages between source and sink. A stage takes an Arrow batch of one
//! entity and returns one (or nothing): transforms may drop rows as rejects
//! or as skips by a rule of the plan, or change columns; taps only look.
//! Stages are host code on arrow's compute kernels, not plugins.
//!
//! The stages of a run, in order (see [`standard`]):
//! 1. [`FieldPolicy`]: what a warning about a bad value does (null, reject,
//!    keep as text), per entity and field;
//! 2. [`Cascade`]: children of a rejected parent are rejected, naming it;
//! 3. the plan's stages (`ferry migrate --plan`, see [`crate::plan`]):
//!    entities not needed and records outside its filters are skipped
//!    (with what hangs off them), field mappings and crosswalks change
//!    values, and new ids are given from a crosswalk file;
//! 4. [`EntityFilter`] (`--only`): entities the plan leaves out are skipped;
//! 5. [`EntityFilter`] (the sink): entities the sink does not take are skipped.

use std::collections::{BTreeMap, HashMap};

use arrow_array::{BooleanArray, RecordBatch};
use ferry_model::columns::add_extensions;
use ferry_model::{Diagnostic, EntityKind, FieldsView, Value};
use serde::Deserialize;

/// A batch between source and sink: records of one entity and the warnings
/// about them (each pointing at its row).
#[derive(Debug)]
pub struct StageBatch {
    /// The entity.
    pub entity: EntityKind,
    /// The records.
    pub records: RecordBatch,
    /// Warnings; `row` indexes `records`.
    pub warnings: Vec<Diagnostic>,
}

impl StageBatch {
    /// Rows.
    pub fn len(&self) -> usize {
        self.records.num_rows()
    }
    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the rows where `keep` is true (warnings follow their rows).
    pub fn retain(self, keep: &[bool]) -> Result<StageBatch, StageError> {
        if keep.iter().all(|k| *k) {
            return Ok(self);
        }
        let mask = BooleanArray::from(keep.to_vec());
        let records = arrow_select::filter::filter_record_batch(&self.records, &mask)
            .map_err(|e| StageError(format!("filtering a batch of {}: {e}", self.entity)))?;
        let mut new_index = vec![None; keep.len()];
        let mut n = 0u32;
        for (i, k) in keep.iter().enumerate() {
            if *k {
                new_index[i] = Some(n);
                n += 1;
            }
        }
        let warnings = self
            .warnings
            .into_iter()
            .filter_map(|mut w| {
                let row = usize::try_from(w.row?).ok()?;
                w.row = *new_index.get(row)?;
                w.row.map(|_| w)
            })
            .collect();
        Ok(StageBatch { entity: self.entity, records, warnings })
    }
}

/// A stage failed (a bug or a malformed batch, not a bad record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError(pub String);

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StageError {}

/// What a stage did besides passing the batch on.
#[derive(Debug, Default)]
pub struct Effects {
    /// Records it rejected.
    pub rejects: Vec<Diagnostic>,
    /// Records it skipped by a rule of the plan: `(entity, count, rule)`.
    pub skipped: Vec<(EntityKind, u64, String)>,
}

/// A transform between source and sink.
pub trait Stage: Send {
    /// A short name, for messages.
    fn name(&self) -> &'static str;
    /// Transforms `batch`; `None` when no row goes on.
    fn process(&mut self, batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError>;
    /// Learns of a record rejected anywhere in the run (source, stage, sink).
    fn rejected(&mut self, diagnostic: &Diagnostic) {
        let _ = diagnostic;
    }
}

/// An observer of the batches that reach the sink; it cannot change them.
pub trait Tap: Send {
    /// Looks at a batch.
    fn observe(&mut self, batch: &StageBatch);
}

// ---------------------------------------------------------------------------

/// What a bad value in a field does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAction {
    /// The field is left empty and the record is written with a warning.
    #[default]
    Null,
    /// The record is rejected.
    Reject,
    /// The field is left empty and the source text is kept in the record's
    /// extensions under the field's name, with a warning.
    KeepAsText,
}

/// The field policy: a default and overrides per entity and field (`"*"` for
/// every field of an entity). Keys and required fields always reject.
// No `deny_unknown_fields`: serde does not support it beside `flatten` (it
// refused every per-entity table); `check` names unknown entities and fields.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct FieldPolicyConfig {
    /// The action for fields with no override.
    #[serde(default)]
    pub default: FieldAction,
    /// Per entity, per field (or `"*"`).
    #[serde(default, flatten)]
    pub entities: BTreeMap<String, BTreeMap<String, FieldAction>>,
}

impl FieldPolicyConfig {
    /// Checks entity and field names; the error names the bad one.
    pub fn check(&self) -> Result<(), String> {
        for (entity, fields) in &self.entities {
            let kind = EntityKind::from_name(entity)
                .ok_or_else(|| format!("field_policy: unknown entity '{entity}'"))?;
            for f in fields.keys() {
                if f != "*" && !kind.fields().iter().any(|d| d.name == f) {
                    let known: Vec<&str> = kind.fields().iter().map(|d| d.name).collect();
                    return Err(format!(
                        "field_policy.{entity}: unknown field '{f}'; fields of {entity}: {}",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sets `entity.field=action` or `default=action` (the command line's form).
    pub fn apply(&mut self, assignment: &str) -> Result<(), String> {
        let (key, value) = assignment.split_once('=').ok_or_else(|| {
            format!("--field-policy '{assignment}': write ENTITY.FIELD=ACTION or default=ACTION")
        })?;
        let action: FieldAction = serde_json::from_value(serde_json::Value::String(value.trim().to_owned()))
            .map_err(|_| {
                format!("--field-policy '{assignment}': the action is null, reject or keep_as_text")
            })?;
        match key.trim().split_once('.') {
            None if key.trim() == "default" => self.default = action,
            Some((e, f)) => {
                self.entities.entry(e.to_owned()).or_default().insert(f.to_owned(), action);
            }
            None => {
                return Err(format!(
                    "--field-policy '{assignment}': write ENTITY.FIELD=ACTION or default=ACTION"
                ));
            }
        }
        self.check()
    }

    fn action(&self, entity: EntityKind, field: &str) -> FieldAction {
        let Some(m) = self.entities.get(entity.name()) else { return self.default };
        m.get(field).or_else(|| m.get("*")).copied().unwrap_or(self.default)
    }
}

/// Applies the field policy to warnings about bad values.
pub struct FieldPolicy {
    config: FieldPolicyConfig,
}

impl FieldPolicy {
    /// The stage for `config`.
    pub fn new(config: FieldPolicyConfig) -> FieldPolicy {
        FieldPolicy { config }
    }
}

impl Stage for FieldPolicy {
    fn name(&self) -> &'static str {
        "field policy"
    }

    fn process(&mut self, mut batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError> {
        if batch.warnings.is_empty() {
            return Ok(Some(batch));
        }
        let kind = batch.entity;
        let mut keep = vec![true; batch.len()];
        let mut texts: Vec<(usize, String, String, bool)> = Vec::new();
        let mut warnings = Vec::with_capacity(batch.warnings.len());
        for mut w in std::mem::take(&mut batch.warnings) {
            let Some(row) = w.row.and_then(|r| usize::try_from(r).ok()).filter(|r| *r < keep.len()) else {
                // A warning about no row of this batch: keep it as information.
                w.row = None;
                fx.rejects.push(Diagnostic { severity: ferry_model::Severity::Warning, ..w });
                continue;
            };
            let def = kind.fields().iter().find(|d| d.name == w.field);
            // A plugin may not downgrade a bad key or required value to a warning.
            let action = if def.is_some_and(|d| d.is_strict()) {
                FieldAction::Reject
            } else {
                self.config.action(kind, &w.field)
            };
            match action {
                FieldAction::Null => warnings.push(w),
                FieldAction::Reject => {
                    if keep[row] {
                        keep[row] = false;
                        w.severity = ferry_model::Severity::Reject;
                        w.row = None;
                        w.reason = w.reason.replace(" (the field is left empty)", "");
                        w.reason.push_str(" (rejected by the field policy)");
                        fx.rejects.push(w);
                    }
                }
                FieldAction::KeepAsText => {
                    if let Some(v) = &w.value {
                        texts.push((row, w.field.clone(), v.clone(), def.is_some_and(|d| d.pii)));
                        w.reason = w
                            .reason
                            .replace("(the field is left empty)", "(the source text is kept in extensions)");
                    }
                    warnings.push(w);
                }
            }
        }
        if !texts.is_empty() {
            let adds: Vec<(usize, &str, &str, bool)> =
                texts.iter().map(|(r, k, v, p)| (*r, k.as_str(), v.as_str(), *p)).collect();
            batch.records = add_extensions(&batch.records, &adds).map_err(|e| StageError(e.0))?;
        }
        // Warnings on rows rejected for another field go with the reject.
        batch.warnings = warnings.into_iter().filter(|w| w.row.is_some_and(|r| keep[r as usize])).collect();
        let batch = batch.retain(&keep)?;
        Ok((!batch.is_empty()).then_some(batch))
    }
}

// ---------------------------------------------------------------------------

/// Rejects children of rejected parents: a record whose key reference (a
/// grade's student, an enrollment's section) names a record rejected earlier
/// in the run is rejected too, with a reason naming the parent's reject.
/// Only rejected ids are kept in memory.
#[derive(Default)]
pub struct Cascade {
    rejected: HashMap<EntityKind, HashMap<String, (String, u64)>>,
}

impl Cascade {
    /// An empty cascade.
    pub fn new() -> Cascade {
        Cascade::default()
    }
}

pub(crate) fn singular(entity: &str) -> String {
    match entity {
        "staff" => "staff member".to_owned(),
        "academic_sessions" => "academic session".to_owned(),
        e => match e.strip_suffix("ies") {
            Some(stem) => format!("{stem}y").replace('_', " "),
            None => e.strip_suffix('s').unwrap_or(e).replace('_', " "),
        },
    }
}

impl Stage for Cascade {
    fn name(&self) -> &'static str {
        "cascade"
    }

    fn rejected(&mut self, d: &Diagnostic) {
        if d.is_reject()
            && !d.record_id.is_empty()
            && let Some(kind) = EntityKind::from_name(&d.entity)
        {
            self.rejected
                .entry(kind)
                .or_default()
                .entry(d.record_id.clone())
                .or_insert((d.file.clone(), d.line));
        }
    }

    fn process(&mut self, batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError> {
        if self.rejected.is_empty() {
            return Ok(Some(batch));
        }
        let kind = batch.entity;
        let refs: Vec<(usize, EntityKind)> = kind
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, d)| d.key)
            .filter_map(|(i, d)| Some((i, EntityKind::from_name(d.refs?)?)))
            .filter(|(_, parent)| self.rejected.get(parent).is_some_and(|m| !m.is_empty()))
            .collect();
        if refs.is_empty() {
            return Ok(Some(batch));
        }
        let view = FieldsView::new(kind, &batch.records).map_err(|e| StageError(e.0))?;
        let mut keep = vec![true; batch.len()];
        let mut new_rejects = Vec::new();
        for (row, k) in keep.iter_mut().enumerate() {
            for (field, parent) in &refs {
                let Value::Text(id) = view.get(*field, row) else { continue };
                let Some((file, line)) = self.rejected.get(parent).and_then(|m| m.get(id)) else { continue };
                *k = false;
                let at = if file.is_empty() { String::new() } else { format!(" ({file} line {line})") };
                let mut d = Diagnostic::reject(
                    kind.name(),
                    format!("its {} was rejected{at}", singular(parent.name())),
                );
                d.field = kind.fields()[*field].name.to_owned();
                d.record_id = view.meta().source_id(row).to_owned();
                if let Some(f) = view.meta().source_file(row) {
                    f.clone_into(&mut d.file);
                    d.line = view.meta().source_line(row);
                }
                new_rejects.push(d);
                break;
            }
        }
        drop(view);
        for d in &new_rejects {
            self.rejected(d);
        }
        fx.rejects.extend(new_rejects);
        let batch = batch.retain(&keep)?;
        Ok((!batch.is_empty()).then_some(batch))
    }
}

// ---------------------------------------------------------------------------

/// Skips whole batches of entities outside a list, as a rule of the plan.
pub struct EntityFilter {
    keep: Vec<EntityKind>,
    rule: String,
}

impl EntityFilter {
    /// Keeps `keep`; the others are skipped under `rule` (e.g. "--only").
    pub fn new(keep: Vec<EntityKind>, rule: impl Into<String>) -> EntityFilter {
        EntityFilter { keep, rule: rule.into() }
    }
}

impl Stage for EntityFilter {
    fn name(&self) -> &'static str {
        "entity filter"
    }
    fn process(&mut self, batch: StageBatch, fx: &mut Effects) -> Result<Option<StageBatch>, StageError> {
        if self.keep.contains(&batch.entity) {
            Ok(Some(batch))
        } else {
            fx.skipped.push((batch.entity, batch.len() as u64, self.rule.clone()));
            Ok(None)
        }
    }
}

/// The standard stages of a run, in order.
pub fn standard(
    policy: FieldPolicyConfig,
    only: Option<Vec<EntityKind>>,
    sink_entities: Vec<EntityKind>,
    plan: Option<&crate::plan::RunPlan>,
) -> Vec<Box<dyn Stage>> {
    let mut stages: Vec<Box<dyn Stage>> = vec![Box::new(FieldPolicy::new(policy)), Box::new(Cascade::new())];
    if let Some(plan) = plan {
        stages.extend(plan.stages());
    }
    if let Some(only) = only {
        stages.push(Box::new(EntityFilter::new(only, "left out by --only")));
    }
    stages.push(Box::new(EntityFilter::new(sink_entities, "not taken by the sink")));
    stages
}

/// Runs `batch` through `stages`, collecting effects.
pub fn run_stages(
    stages: &mut [Box<dyn Stage>],
    batch: StageBatch,
    fx: &mut Effects,
) -> Result<Option<StageBatch>, StageError> {
    let mut current = Some(batch);
    for i in 0..stages.len() {
        let Some(b) = current.take() else { break };
        let before = fx.rejects.len();
        let s = &mut stages[i];
        current = s.process(b, fx).map_err(|e| StageError(format!("stage '{}': {e}", s.name())))?;
        for d in fx.rejects[before..].iter().filter(|d| d.is_reject()) {
            for t in stages.iter_mut() {
                t.rejected(d);
            }
        }
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use ferry_model::{
        Code, Date, Grade, GradeKind, Meta, Origin, Record, RecordBuilder, RecordView, Student, StudentView,
    };

    use super::*;

    #[test]
    fn parents_are_named_in_the_singular() {
        for (entity, name) in [
            ("students", "student"),
            ("staff", "staff member"),
            ("academic_sessions", "academic session"),
            ("discipline_incidents", "discipline incident"),
            ("line_item_categories", "line item category"),
            ("student_assessments", "student assessment"),
        ] {
            assert_eq!(singular(entity), name);
        }
        for kind in EntityKind::ALL {
            assert!(!singular(kind.name()).contains('_'), "{kind}");
        }
    }

    fn students(n: usize) -> RecordBatch {
        let mut b = <Student as Record>::Builder::with_capacity(n);
        for i in 0..n {
            let mut meta = Meta::new("t", format!("{i}"));
            meta.origin = Some(Origin { file: "students.csv".into(), line: i as u64 + 2, raw: None });
            b.push(&Student {
                meta,
                first_name: "A".into(),
                last_name: "B".into(),
                birth_date: Some(Date::new(2010, 1, 1).unwrap()),
                ..Student::default()
            });
        }
        b.finish().unwrap()
    }

    fn warning(row: u32, field: &str) -> Diagnostic {
        let mut w =
            Diagnostic::warning("students", row, "not a valid calendar date (the field is left empty)");
        w.field = field.into();
        w.value = Some("2011-02-30".into());
        w.record_id = row.to_string();
        w
    }

    #[test]
    fn the_default_policy_keeps_the_record_with_its_warning() {
        let mut p = FieldPolicy::new(FieldPolicyConfig::default());
        let mut fx = Effects::default();
        let b = StageBatch {
            entity: EntityKind::Students,
            records: students(3),
            warnings: vec![warning(1, "birth_date")],
        };
        let out = p.process(b, &mut fx).unwrap().unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out.warnings.len(), 1);
        assert!(fx.rejects.is_empty());
    }

    #[test]
    fn reject_and_keep_as_text_per_field() {
        let mut cfg = FieldPolicyConfig::default();
        cfg.apply("students.birth_date=reject").unwrap();
        cfg.apply("students.email=keep_as_text").unwrap();
        assert!(cfg.apply("students.birthdate=reject").unwrap_err().contains("unknown field 'birthdate'"));
        let mut p = FieldPolicy::new(cfg);
        let mut fx = Effects::default();
        let b = StageBatch {
            entity: EntityKind::Students,
            records: students(3),
            warnings: vec![warning(1, "birth_date"), warning(2, "email")],
        };
        let out = p.process(b, &mut fx).unwrap().unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(fx.rejects.len(), 1);
        assert_eq!(fx.rejects[0].record_id, "1");
        assert!(fx.rejects[0].reason.contains("field policy"), "{}", fx.rejects[0].reason);
        // Row 2 became row 1, and kept its text.
        assert_eq!(out.warnings[0].row, Some(1));
        let v = StudentView::new(&out.records).unwrap();
        assert_eq!(v.meta().extension(1, "email"), Some("2011-02-30"));
        assert_eq!(v.meta().source_id(1), "2");
    }

    #[test]
    fn a_warning_on_a_required_field_always_rejects() {
        let mut p = FieldPolicy::new(FieldPolicyConfig::default());
        let mut fx = Effects::default();
        let b = StageBatch {
            entity: EntityKind::Students,
            records: students(2),
            warnings: vec![warning(0, "last_name")],
        };
        assert_eq!(p.process(b, &mut fx).unwrap().unwrap().len(), 1);
        assert_eq!(fx.rejects.len(), 1);
    }

    #[test]
    fn children_of_a_rejected_parent_are_rejected_naming_it() {
        let mut c = Cascade::new();
        let mut parent = Diagnostic::reject("students", "last_name: required field is missing");
        parent.record_id = "7".into();
        parent.file = "students.csv".into();
        parent.line = 9;
        c.rejected(&parent);
        let mut b = <Grade as Record>::Builder::with_capacity(2);
        for (id, student) in [("g1", "7"), ("g2", "8")] {
            b.push(&Grade {
                meta: Meta::new("t", id),
                student_id: Some(student.into()),
                kind: Some(Code::mapped(GradeKind::Final, "F")),
                ..Grade::default()
            });
        }
        let mut fx = Effects::default();
        let out = c
            .process(
                StageBatch { entity: EntityKind::Grades, records: b.finish().unwrap(), warnings: vec![] },
                &mut fx,
            )
            .unwrap()
            .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(fx.rejects.len(), 1);
        assert_eq!(fx.rejects[0].entity, "grades");
        assert_eq!(fx.rejects[0].record_id, "g1");
        assert_eq!(fx.rejects[0].reason, "its student was rejected (students.csv line 9)");
    }

    #[test]
    fn the_entity_filter_skips_by_rule() {
        let mut f = EntityFilter::new(vec![EntityKind::Orgs], "left out by --only");
        let mut fx = Effects::default();
        let b = StageBatch { entity: EntityKind::Students, records: students(4), warnings: vec![] };
        assert!(f.process(b, &mut fx).unwrap().is_none());
        assert_eq!(fx.skipped, vec![(EntityKind::Students, 4, "left out by --only".to_owned())]);
    }
}
