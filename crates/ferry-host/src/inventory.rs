//! The inventory: a tap that profiles every batch reaching the sink, in
//! place on its Arrow columns (no second reader), for `ferry inventory`.
//!
//! Per entity: records, per school and school year; per field its fill rate;
//! for code fields every value with its frequency; for dates their range;
//! and the anomalies a migration trips on: repeated ids, references to
//! records the source does not have (orphans), and people who look like the
//! same person twice (same names and birth date, different ids).
//!
//! Personal fields (the model's `pii` flag) are profiled by fill rate only,
//! but for codes (sex, race), whose frequencies identify nobody: no name,
//! birth date or contact detail appears in the profile; anomalies name
//! records by id, file and line.

use std::collections::{BTreeMap, HashMap, HashSet};

use ferry_model::{EntityKind, FieldType, FieldsView, Value};
use serde::{Deserialize, Serialize};

use crate::stages::{StageBatch, Tap};

/// How many examples an anomaly lists.
const EXAMPLES: usize = 20;

/// Where a record was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Its id.
    pub id: String,
    /// Its file and line, when the source said.
    pub file: String,
    /// The line.
    pub line: u64,
}

/// One field's profile.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FieldProfile {
    /// The canonical field.
    pub field: String,
    /// Its type.
    pub ty: String,
    /// Records with a value.
    pub filled: u64,
    /// A personal field: no values are profiled.
    pub pii: bool,
    /// For a code field: each original value, its canonical code and count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<CodeCount>,
    /// For a date field: the earliest and latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// The latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

/// One code value and how often it occurs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// As the source gave it.
    pub original: String,
    /// The canonical code it maps to (`Other` when none).
    pub code: String,
    /// Records with it.
    pub count: u64,
}

/// A group of records that share what should be unique.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    /// What is wrong.
    pub kind: String,
    /// The field concerned, if one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
    /// How many records it concerns.
    pub count: u64,
    /// Some of them.
    pub examples: Vec<Place>,
}

/// One entity's profile.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EntityProfile {
    /// The entity.
    pub entity: String,
    /// Records that reached the destination's stage.
    pub records: u64,
    /// Records per school (`school_id`) and school year (`school_year`),
    /// where the entity has those fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_school_year: Vec<(String, String, u64)>,
    /// Per field.
    pub fields: Vec<FieldProfile>,
    /// Anomalies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
}

/// The whole inventory.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Profile {
    /// Per entity, in dependency order.
    pub entities: Vec<EntityProfile>,
    /// The school years present (from `school_year` fields).
    pub school_years: Vec<String>,
}

#[derive(Default)]
struct FieldAcc {
    filled: u64,
    codes: HashMap<(String, String), u64>,
    min: Option<ferry_model::Date>,
    max: Option<ferry_model::Date>,
}

#[derive(Default)]
struct EntityAcc {
    records: u64,
    fields: Vec<FieldAcc>,
    per_school_year: HashMap<(String, String), u64>,
    /// Every id seen, and the places of repeats.
    ids: HashSet<String>,
    repeats: Vec<Place>,
    repeat_count: u64,
    /// Per reference field: each value's first place and count.
    refs: BTreeMap<String, HashMap<String, (Place, u64)>>,
    /// Students: (first, last, birth date) hashed → the first id; look-alikes.
    people: HashMap<u64, String>,
    alike: Vec<Place>,
    alike_count: u64,
}

/// The inventory tap.
#[derive(Default)]
pub struct InventoryTap {
    entities: BTreeMap<EntityKind, EntityAcc>,
}

fn place(view: &FieldsView<'_>, row: usize) -> Place {
    let meta = view.meta();
    Place {
        id: meta.source_id(row).to_owned(),
        file: meta.source_file(row).unwrap_or_default().to_owned(),
        line: meta.source_line(row),
    }
}

fn text_of(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text("") => None,
        Value::Text(s) => Some((*s).to_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::Code { code, original } => {
            Some(if original.is_empty() { (*code).to_owned() } else { (*original).to_owned() })
        }
        Value::Date(d) => Some(d.to_string()),
        other => Some(format!("{other:?}")),
    }
}

impl Tap for InventoryTap {
    fn observe(&mut self, batch: &StageBatch) {
        let Ok(view) = FieldsView::new(batch.entity, &batch.records) else { return };
        let defs = batch.entity.fields();
        let acc = self.entities.entry(batch.entity).or_default();
        if acc.fields.is_empty() {
            acc.fields = defs.iter().map(|_| FieldAcc::default()).collect();
        }
        let index = |name: &str| view.index(name);
        let (school, year) = (index("school_id"), index("school_year"));
        let names = (index("first_name"), index("last_name"), index("birth_date"));
        let is_person = matches!(batch.entity, EntityKind::Students);
        for row in 0..view.len() {
            acc.records += 1;
            for (i, def) in defs.iter().enumerate() {
                let Some(col) = view.index(def.name) else { continue };
                let v = view.get(col, row);
                let f = &mut acc.fields[i];
                let filled = !matches!(v, Value::Null) && !matches!(v, Value::Text(s) if s.is_empty());
                if !filled {
                    continue;
                }
                f.filled += 1;
                // A code's frequencies identify nobody (sex, race, grade
                // level); a personal text or date field's values would.
                if def.pii && !matches!(def.ty, FieldType::Code(_)) {
                    continue;
                }
                match (&def.ty, &v) {
                    (FieldType::Code(_), Value::Code { code, original }) => {
                        *f.codes.entry(((*original).to_owned(), (*code).to_owned())).or_default() += 1;
                    }
                    (_, Value::Date(d)) => {
                        f.min = Some(f.min.map_or(*d, |m| m.min(*d)));
                        f.max = Some(f.max.map_or(*d, |m| m.max(*d)));
                    }
                    _ => {}
                }
                if let Some(target) = def.refs
                    && let Some(value) = text_of(&v)
                {
                    let entry = acc.refs.entry(format!("{}>{target}", def.name)).or_default();
                    entry.entry(value).and_modify(|(_, n)| *n += 1).or_insert_with(|| (place(&view, row), 1));
                }
            }
            if school.is_some() || year.is_some() {
                let s = school.and_then(|c| text_of(&view.get(c, row))).unwrap_or_default();
                let y = year.and_then(|c| text_of(&view.get(c, row))).unwrap_or_default();
                *acc.per_school_year.entry((s, y)).or_default() += 1;
            }
            let id = view.meta().source_id(row);
            if !acc.ids.insert(id.to_owned()) {
                acc.repeat_count += 1;
                if acc.repeats.len() < EXAMPLES {
                    acc.repeats.push(place(&view, row));
                }
            }
            if is_person && let (Some(a), Some(b), Some(c)) = names {
                let parts: Vec<Option<String>> =
                    [a, b, c].iter().map(|c| text_of(&view.get(*c, row)).map(|s| s.to_lowercase())).collect();
                if parts.iter().all(Option::is_some) {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    parts.hash(&mut h);
                    let key = h.finish();
                    match acc.people.get(&key) {
                        Some(first) if first != id => {
                            acc.alike_count += 1;
                            if acc.alike.len() < EXAMPLES {
                                acc.alike.push(place(&view, row));
                            }
                        }
                        Some(_) => {}
                        None => {
                            acc.people.insert(key, id.to_owned());
                        }
                    }
                }
            }
        }
    }
}

impl InventoryTap {
    /// The profile of everything observed.
    pub fn profile(&self) -> Profile {
        let known: HashMap<&str, &HashSet<String>> =
            self.entities.iter().map(|(k, a)| (k.name(), &a.ids)).collect();
        let mut years = HashSet::new();
        let mut out = Vec::new();
        for (kind, acc) in &self.entities {
            let defs = kind.fields();
            let fields = defs
                .iter()
                .zip(&acc.fields)
                .map(|(def, f)| {
                    let mut codes: Vec<CodeCount> = f
                        .codes
                        .iter()
                        .map(|((o, c), n)| CodeCount { original: o.clone(), code: c.clone(), count: *n })
                        .collect();
                    codes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.original.cmp(&b.original)));
                    FieldProfile {
                        field: def.name.to_owned(),
                        ty: match def.ty {
                            FieldType::Code(_) => "code".to_owned(),
                            t => format!("{t:?}").to_lowercase(),
                        },
                        filled: f.filled,
                        pii: def.pii,
                        codes,
                        min: f.min.map(|d| d.to_string()),
                        max: f.max.map(|d| d.to_string()),
                    }
                })
                .collect();
            let mut per: Vec<(String, String, u64)> =
                acc.per_school_year.iter().map(|((s, y), n)| (s.clone(), y.clone(), *n)).collect();
            per.sort();
            for (_, y, _) in &per {
                if !y.is_empty() {
                    years.insert(y.clone());
                }
            }
            let mut anomalies = Vec::new();
            if acc.repeat_count > 0 {
                anomalies.push(Anomaly {
                    kind: "repeated id".into(),
                    field: String::new(),
                    count: acc.repeat_count,
                    examples: acc.repeats.clone(),
                });
            }
            for (key, values) in &acc.refs {
                let (field, target) = key.split_once('>').unwrap_or((key, ""));
                // Only references to an entity the source sent at all.
                let Some(ids) = known.get(target) else { continue };
                let mut orphans: Vec<&(Place, u64)> =
                    values.iter().filter(|(v, _)| !ids.contains(*v)).map(|(_, p)| p).collect();
                if orphans.is_empty() {
                    continue;
                }
                orphans.sort_by(|a, b| (&a.0.file, a.0.line).cmp(&(&b.0.file, b.0.line)));
                anomalies.push(Anomaly {
                    kind: format!("orphan: no {target} with that id"),
                    field: field.to_owned(),
                    count: orphans.iter().map(|(_, n)| n).sum(),
                    examples: orphans.iter().take(EXAMPLES).map(|(p, _)| p.clone()).collect(),
                });
            }
            if acc.alike_count > 0 {
                anomalies.push(Anomaly {
                    kind: "possibly the same person twice (same names and birth date, different ids)".into(),
                    field: String::new(),
                    count: acc.alike_count,
                    examples: acc.alike.clone(),
                });
            }
            out.push(EntityProfile {
                entity: kind.name().to_owned(),
                records: acc.records,
                per_school_year: per,
                fields,
                anomalies,
            });
        }
        let mut school_years: Vec<String> = years.into_iter().collect();
        school_years.sort();
        Profile { entities: out, school_years }
    }
}
