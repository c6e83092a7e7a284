//! The sink: keeps the records it is given (a student or staff member that
//! Ed-Fi cannot hold is rejected at once, so the host's cascade rejects what
//! hangs off it), then at `prepare`:
//!
//! 1. maps every record into its Ed-Fi resource ([`crate::map`]), deriving the
//!    course offerings, grading periods and academic records Ed-Fi needs;
//! 2. reads every descriptor the resources use from the ODS and rejects, before
//!    any write, each record whose descriptor value the ODS does not hold (the
//!    reason names the descriptor URI);
//! 3. in a dry run, asks the ODS with GETs which resources exist already
//!    (update) and whether every reference outside the run resolves, and
//!    writes nothing; otherwise POSTs the resources in dependency order, a
//!    group at a time with bounded concurrency. Each answer is recorded per
//!    record: created (201), updated (200), or rejected with the API's
//!    message; a 409 names the parent that does not resolve; a record whose
//!    parent was refused is not sent and is rejected naming that parent.
//!
//! The sink is not transactional: what the API accepted stays, whatever the
//! run does after (`commit` only reports; `abort` cannot undo).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ferry_sdk::model::{
    AcademicRecord, AcademicSession, AttendanceEvent, Course, EntityKind, Grade, Operation, Org, OrgKind,
    Receipt, Record, SchoolEnrollment, Section, SectionEnrollment, SectionStaff, Staff, Student,
};
use ferry_sdk::serde_json::Value;
use ferry_sdk::{
    CancelFlag, Committed, EntityPlan, Error, OpenContext, Prepared, Reject, RunSummary, Sink, SinkBatch,
    Written, tracing,
};

use crate::api::{Api, Outcome};
use crate::descriptors::Descriptor;
use crate::map::{Doc, Mapper, ORDER, Ref};
use crate::settings::Settings;

/// The entities the sink takes, in the order it maps them.
pub const ENTITIES: [EntityKind; 12] = [
    EntityKind::Orgs,
    EntityKind::AcademicSessions,
    EntityKind::Students,
    EntityKind::Staff,
    EntityKind::Courses,
    EntityKind::Sections,
    EntityKind::SectionStaff,
    EntityKind::SchoolEnrollments,
    EntityKind::SectionEnrollments,
    EntityKind::Grades,
    EntityKind::Attendance,
    EntityKind::AcademicRecords,
];

#[derive(Default)]
struct Store {
    orgs: Vec<Org>,
    sessions: Vec<AcademicSession>,
    students: Vec<Student>,
    staff: Vec<Staff>,
    courses: Vec<Course>,
    sections: Vec<Section>,
    section_staff: Vec<SectionStaff>,
    school_enrollments: Vec<SchoolEnrollment>,
    section_enrollments: Vec<SectionEnrollment>,
    grades: Vec<Grade>,
    attendance: Vec<AttendanceEvent>,
    academic_records: Vec<AcademicRecord>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    written: u64,
    create: u64,
    update: u64,
    reject: u64,
}

/// What landed, for the commit's notes.
#[derive(Default)]
struct Landed {
    created: u64,
    updated: u64,
    refused: u64,
    derived: BTreeMap<&'static str, (u64, u64)>,
    deletes_skipped: u64,
}

pub(crate) struct EdFiSink {
    settings: Settings,
    dry_run: bool,
    cancel: CancelFlag,
    store: Store,
    counts: HashMap<EntityKind, Counts>,
    landed: Option<Landed>,
    api: Option<Api>,
}

impl EdFiSink {
    pub(crate) fn open(ctx: &OpenContext) -> Result<EdFiSink, Error> {
        let settings = Settings::from_context(ctx)?;
        Ok(EdFiSink {
            settings,
            dry_run: ctx.dry_run,
            cancel: ctx.cancel,
            store: Store::default(),
            counts: HashMap::new(),
            landed: None,
            api: None,
        })
    }
}

fn keep<R: Record>(batch: &SinkBatch<'_>, into: &mut Vec<R>) -> Result<u64, Error> {
    let before = into.len();
    into.extend(batch.records::<R>()?);
    Ok((into.len() - before) as u64)
}

impl Sink for EdFiSink {
    fn entities(&self) -> Vec<EntityKind> {
        ENTITIES.to_vec()
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let s = &mut self.store;
        let mut rejects = Vec::new();
        let written = match batch.entity() {
            EntityKind::Orgs => keep(&batch, &mut s.orgs)?,
            EntityKind::AcademicSessions => keep(&batch, &mut s.sessions)?,
            EntityKind::Students => {
                let mut n = 0;
                for r in batch.records::<Student>()? {
                    match Mapper::check_student(&self.settings, &r) {
                        Ok(()) => {
                            s.students.push(r);
                            n += 1;
                        }
                        Err(why) => rejects.push(Reject::new(EntityKind::Students, why).of(&r.meta)),
                    }
                }
                n
            }
            EntityKind::Staff => {
                let mut n = 0;
                for r in batch.records::<Staff>()? {
                    match Mapper::check_staff(&self.settings, &r) {
                        Ok(()) => {
                            s.staff.push(r);
                            n += 1;
                        }
                        Err(why) => rejects.push(Reject::new(EntityKind::Staff, why).of(&r.meta)),
                    }
                }
                n
            }
            EntityKind::Courses => keep(&batch, &mut s.courses)?,
            EntityKind::Sections => keep(&batch, &mut s.sections)?,
            EntityKind::SectionStaff => keep(&batch, &mut s.section_staff)?,
            EntityKind::SchoolEnrollments => keep(&batch, &mut s.school_enrollments)?,
            EntityKind::SectionEnrollments => keep(&batch, &mut s.section_enrollments)?,
            EntityKind::Grades => keep(&batch, &mut s.grades)?,
            EntityKind::Attendance => keep(&batch, &mut s.attendance)?,
            EntityKind::AcademicRecords => keep(&batch, &mut s.academic_records)?,
            other => {
                return Err(Error::internal(format!(
                    "the edfi sink was given {other}, which it does not take"
                )));
            }
        };
        self.counts.entry(batch.entity()).or_default().written += written;
        Ok(Written { written, rejects })
    }

    fn prepare(&mut self, _summary: &RunSummary) -> Result<Prepared, Error> {
        let store = std::mem::take(&mut self.store);
        let mut late: Vec<Reject> = Vec::new();
        let mut landed = Landed::default();
        let (docs, warnings) = {
            let mut m = Mapper::new(&self.settings);
            map_all(&mut m, &store, &mut late, &mut landed);
            m.finish()
        };
        drop(store);
        let api = Api::new(&self.settings, self.cancel)?;
        let mut run =
            Run { docs, late, failed: HashMap::new(), rejected: vec![false; 0], receipts: Vec::new() };
        run.rejected = vec![false; run.docs.len()];
        // 1. Descriptors, before any write.
        let missing = check_descriptors(&api, &run.docs)?;
        if !missing.is_empty() {
            tracing::warn!(
                count = missing.len(),
                "Descriptor values the run needs are not in the ODS; the records using them are rejected before any write: {}",
                missing.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        for i in 0..run.docs.len() {
            let lacking: Vec<String> =
                run.docs[i].descriptors.iter().map(Descriptor::uri).filter(|u| missing.contains(u)).collect();
            if let Some(first) = lacking.first() {
                let why = format!(
                    "descriptor value {first} is not in the ODS{}: add it to the ODS, or map the code to one it holds (descriptor_codes, descriptor_namespaces)",
                    if lacking.len() > 1 {
                        format!(" (and {} more)", lacking.len() - 1)
                    } else {
                        String::new()
                    }
                );
                run.refuse(i, &why);
            }
        }
        if self.dry_run {
            run.plan_dry(&api, &mut self.counts)?;
        } else {
            run.post(&api, &mut self.counts, &mut landed, &self.cancel)?;
        }
        for r in run.late.iter().filter(|r| r.is_reject()) {
            self.counts.entry(r.entity).or_default().reject += 1;
        }
        for d in run.docs.iter().filter(|d| d.owner.is_none()) {
            let e = landed.derived.entry(d.resource).or_default();
            if run.failed.contains_key(&(d.resource, d.key_text())) {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
        let plan = ENTITIES
            .iter()
            .filter_map(|k| self.counts.get(k).map(|c| (k, *c)))
            .map(|(k, c)| EntityPlan {
                entity: k.name().to_owned(),
                create: c.create,
                update: c.update,
                reject: c.reject,
                ..EntityPlan::default()
            })
            .collect();
        let mut rejects = run.late;
        rejects.extend(warnings);
        landed.refused = rejects.iter().filter(|r| r.is_reject()).count() as u64;
        tracing::info!(
            created = landed.created,
            updated = landed.updated,
            refused = landed.refused,
            "Ed-Fi resources"
        );
        self.landed = Some(landed);
        self.api = Some(api);
        Ok(Prepared { rejects, receipts: run.receipts, plan })
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        let landed = self.landed.take().ok_or_else(|| Error::internal("commit before prepare"))?;
        let mut notes = vec![format!(
            "Ed-Fi API (Data Standard {}): {} resource(s) created, {} updated, {} record(s) refused; written as each request was answered (not transactional)",
            self.settings.data_standard, landed.created, landed.updated, landed.refused
        )];
        for (r, (ok, failed)) in &landed.derived {
            notes.push(format!("derived {r}: {ok} written, {failed} refused"));
        }
        if landed.deletes_skipped > 0 {
            notes.push(format!(
                "{} record(s) marked for deletion were not sent: the connector does not delete from the ODS",
                landed.deletes_skipped
            ));
        }
        if let Some(api) = &self.api {
            let s = api.stats();
            notes.push(format!(
                "requests: {} sent, {} retried ({} after a 429), {} token(s) fetched, {} sent again after a 401",
                s.attempts, s.retries, s.throttled, s.tokens_fetched, s.unauthorized_refreshes
            ));
        }
        Ok(Committed { location: self.settings.base_url.clone(), notes })
    }

    fn abort(&mut self) -> Result<(), Error> {
        if let Some(l) = &self.landed
            && !self.dry_run
            && l.created + l.updated > 0
        {
            tracing::warn!(
                created = l.created,
                updated = l.updated,
                "The run was aborted after the Ed-Fi API accepted resources; they stay in the ODS (the API is not transactional). A new run upserts them again by natural key."
            );
        }
        self.landed = None;
        Ok(())
    }
}

/// Feeds every record to the mapper in dependency order; what it refuses is a late reject.
fn map_all(m: &mut Mapper<'_>, s: &Store, late: &mut Vec<Reject>, landed: &mut Landed) {
    fn feed<R: Record + 'static>(m: &mut Mapper<'_>, rs: &[R], late: &mut Vec<Reject>, landed: &mut Landed) {
        for r in rs {
            if r.meta().op == Operation::Delete {
                late.push(
                    Reject::new(
                        R::KIND,
                        "marked for deletion: the Ed-Fi connector does not delete from the ODS (not sent)",
                    )
                    .of(r.meta()),
                );
                landed.deletes_skipped += 1;
                continue;
            }
            if let Err(why) = m.add(r) {
                late.push(Reject::new(R::KIND, why).of(r.meta()));
            }
        }
    }
    // Districts before schools: a school refers to its district.
    let (districts, others): (Vec<Org>, Vec<Org>) =
        s.orgs.iter().cloned().partition(|o| o.kind.as_ref().is_some_and(|k| k.code == OrgKind::District));
    feed(m, &districts, late, landed);
    feed(m, &others, late, landed);
    feed(m, &s.sessions, late, landed);
    feed(m, &s.courses, late, landed);
    feed(m, &s.students, late, landed);
    feed(m, &s.staff, late, landed);
    feed(m, &s.sections, late, landed);
    feed(m, &s.school_enrollments, late, landed);
    feed(m, &s.section_enrollments, late, landed);
    feed(m, &s.section_staff, late, landed);
    feed(m, &s.attendance, late, landed);
    feed(m, &s.academic_records, late, landed);
    feed(m, &s.grades, late, landed);
}

/// Reads every descriptor the docs use; returns the URIs the ODS does not hold.
fn check_descriptors(api: &Api, docs: &[Doc]) -> Result<BTreeSet<String>, Error> {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in docs {
        for x in &d.descriptors {
            wanted.entry(x.resource()).or_default().insert(x.uri());
        }
    }
    let mut missing = BTreeSet::new();
    for (resource, uris) in wanted {
        let held: HashSet<String> = api
            .get_all(&resource, &[])
            .map_err(|e| e.context(format!("reading {resource} from the ODS")))?
            .iter()
            .filter_map(|v| {
                let ns = v.get("namespace")?.as_str()?;
                let code = v.get("codeValue")?.as_str()?;
                let name = Descriptor::parse(uris.first()?).map(|(_, n, _)| n)?;
                Some(format!("{ns}/{name}#{code}"))
            })
            .collect();
        missing.extend(uris.into_iter().filter(|u| !held.contains(u)));
    }
    Ok(missing)
}

struct Run {
    docs: Vec<Doc>,
    late: Vec<Reject>,
    /// Resources refused or not sent, by (resource, key text): why.
    failed: HashMap<(&'static str, String), String>,
    rejected: Vec<bool>,
    receipts: Vec<Receipt>,
}

impl Run {
    /// Doc `i` is refused for `why`: its record is rejected (once), and what refers to it will be.
    fn refuse(&mut self, i: usize, why: &str) {
        let d = &self.docs[i];
        self.failed.entry((d.resource, d.key_text())).or_insert_with(|| why.to_owned());
        if self.rejected[i] {
            return;
        }
        self.rejected[i] = true;
        if let Some(o) = &d.owner {
            self.late.push(o.rejected(why));
        }
    }

    /// The parent of doc `i` that was refused, if any.
    fn failed_parent(&self, i: usize) -> Option<String> {
        self.docs[i].refs.iter().find_map(|r| {
            self.failed.get(&(r.resource, r.target_text())).map(|why| {
                let short: String = why.chars().take(160).collect();
                format!("its parent {} was refused ({short}); not sent", r.describe())
            })
        })
    }

    fn plan_dry(&mut self, api: &Api, counts: &mut HashMap<EntityKind, Counts>) -> Result<(), Error> {
        let in_run: HashSet<(&'static str, String)> =
            self.docs.iter().map(|d| (d.resource, d.key_text())).collect();
        for resource in ORDER {
            let idx: Vec<usize> =
                (0..self.docs.len()).filter(|i| self.docs[*i].resource == *resource).collect();
            for &i in &idx {
                if let Some(why) = self.failed_parent(i) {
                    self.refuse(i, &why);
                }
            }
            let live: Vec<usize> = idx.into_iter().filter(|i| !self.rejected[*i]).collect();
            // Does each exist already (an update), and does every parent outside the run resolve?
            let mut queries: Vec<(&str, Vec<(String, String)>)> = Vec::new();
            let mut asks: Vec<(usize, Option<Ref>)> = Vec::new();
            for &i in &live {
                let d = &self.docs[i];
                queries.push((d.resource, query_of(&d.key)));
                asks.push((i, None));
                for r in d.refs.iter().filter(|r| !in_run.contains(&(r.resource, r.target_text()))) {
                    queries.push((r.resource, query_of(&r.key_as_target())));
                    asks.push((i, Some(r.clone())));
                }
            }
            let answers = api.find_all(queries);
            let mut exists: HashMap<usize, bool> = HashMap::new();
            for ((i, r), a) in asks.into_iter().zip(answers) {
                let found = a?.is_some();
                match r {
                    None => {
                        exists.insert(i, found);
                    }
                    Some(r) if !found => {
                        let why = format!(
                            "its parent {} does not exist in the ODS and is not in the run (the API would answer 409)",
                            r.describe()
                        );
                        self.refuse(i, &why);
                    }
                    Some(_) => {}
                }
            }
            for &i in &live {
                if self.rejected[i] {
                    continue;
                }
                if let Some(o) = &self.docs[i].owner {
                    let c = counts.entry(o.entity).or_default();
                    if exists.get(&i).copied().unwrap_or(false) {
                        c.update += 1;
                    } else {
                        c.create += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn post(
        &mut self,
        api: &Api,
        counts: &mut HashMap<EntityKind, Counts>,
        landed: &mut Landed,
        cancel: &CancelFlag,
    ) -> Result<(), Error> {
        const CHUNK: usize = 512;
        for resource in ORDER {
            let idx: Vec<usize> =
                (0..self.docs.len()).filter(|i| self.docs[*i].resource == *resource).collect();
            for &i in &idx {
                if !self.rejected[i]
                    && let Some(why) = self.failed_parent(i)
                {
                    self.refuse(i, &why);
                }
            }
            let live: Vec<usize> = idx.into_iter().filter(|i| !self.rejected[*i]).collect();
            for chunk in live.chunks(CHUNK) {
                if cancel.is_cancelled() {
                    return Err(Error::cancelled());
                }
                let items: Vec<(&str, Value)> = chunk
                    .iter()
                    .map(|i| (self.docs[*i].resource, Value::Object(self.docs[*i].body.clone())))
                    .collect();
                let answers = api.post_all(items);
                for (&i, a) in chunk.iter().zip(answers) {
                    let outcome = a.map_err(|e| {
                        e.context(format!(
                            "writing {resource} to the Ed-Fi API ({} resource(s) were already written and stay: the API is not transactional; a new run upserts them again by natural key)",
                            landed.created + landed.updated
                        ))
                    })?;
                    self.answer(i, outcome, counts, landed);
                }
            }
        }
        Ok(())
    }

    fn answer(
        &mut self,
        i: usize,
        outcome: Outcome,
        counts: &mut HashMap<EntityKind, Counts>,
        landed: &mut Landed,
    ) {
        let (id, how) = match outcome {
            Outcome::Created(id) => {
                landed.created += 1;
                (id, "created")
            }
            Outcome::Updated(id) => {
                landed.updated += 1;
                (id, "updated")
            }
            Outcome::Refused(409, msg) => {
                let why = conflict(&self.docs[i], &msg);
                self.refuse(i, &why);
                return;
            }
            Outcome::Refused(status, msg) => {
                self.refuse(i, &format!("the Ed-Fi API refused it (HTTP {status}): {msg}"));
                return;
            }
        };
        let d = &self.docs[i];
        if let Some(o) = &d.owner {
            let c = counts.entry(o.entity).or_default();
            if how == "created" {
                c.create += 1;
            } else {
                c.update += 1;
            }
            let mut r = Receipt::new(o.entity.name(), o.source_id.clone(), id.unwrap_or_default());
            r.natural_key = Some(format!("{}: {}", d.resource, d.key_text()));
            r.outcome = Some(how.to_owned());
            self.receipts.push(r);
        }
    }
}

/// A 409's reject: the parent the API's message names ("The referenced
/// 'Student' resource does not exist") among the doc's references, with its
/// natural key; a parent named that the doc has no reference object for (a
/// `SchoolYearType`) by the API's name; without a name, every reference.
fn conflict(d: &Doc, msg: &str) -> String {
    let named = msg
        .split_once("referenced '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(name, _)| name.to_ascii_lowercase());
    let parents: Vec<String> = match &named {
        Some(n) => {
            let hits: Vec<String> = d
                .refs
                .iter()
                .filter(|r| {
                    let base = r.field.trim_end_matches("Reference").to_ascii_lowercase();
                    base == *n
                        || (base == "educationorganization"
                            && matches!(n.as_str(), "school" | "localeducationagency"))
                })
                .map(Ref::describe)
                .collect();
            if hits.is_empty() { vec![msg.split('\'').nth(1).unwrap_or(n).to_owned()] } else { hits }
        }
        None => d.refs.iter().map(Ref::describe).collect(),
    };
    format!(
        "the Ed-Fi API refused it (HTTP 409, unresolved reference): its parent {} does not exist in the ODS ({msg})",
        parents.join(" or ")
    )
}

fn query_of(key: &crate::map::Key) -> Vec<(String, String)> {
    key.iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            )
        })
        .collect()
}
