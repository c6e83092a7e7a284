//! The sink: keeps the records it is given, places them in a OneRoster
//! package once everything is known (`prepare`: a class needs its course,
//! a user an org, an enrollment its class and user; what cannot be placed is
//! a late reject with the reason), and writes the package through
//! `ferry_oneroster`'s writer on commit, atomically. A dry run places
//! everything and writes nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ferry_sdk::model::{
    AcademicSession, Contact, Course, Demographics, EntityKind, LineItem, LineItemCategory, LineItemResult,
    Meta, Operation, Org, OrgKind, Record, Section, SectionEnrollment, SectionStaff, Staff, StaffAssignment,
    Student, StudentContact,
};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::{
    Committed, EntityPlan, Error, OpenContext, Prepared, Reject, RunSummary, Sink, SinkBatch, Written,
    tracing,
};

use crate::map::inbound::{FIELD_PREFIX, ext};
use crate::map::outbound::{self, PersonRef, RoleOut};
use crate::map::{OutRow, Version, encode_id, valid_sourced_id};

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SinkConfig {
    path: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    zip: Option<bool>,
    #[serde(default)]
    delta: bool,
    /// A previous package the delta is written against.
    #[serde(default)]
    against: Option<String>,
}

/// The records given, by entity.
#[derive(Default)]
pub(crate) struct Store {
    orgs: Vec<Org>,
    sessions: Vec<AcademicSession>,
    students: Vec<Student>,
    staff: Vec<Staff>,
    contacts: Vec<Contact>,
    links: Vec<StudentContact>,
    demographics: Vec<Demographics>,
    courses: Vec<Course>,
    sections: Vec<Section>,
    section_staff: Vec<SectionStaff>,
    enrollments: Vec<SectionEnrollment>,
    assignments: Vec<StaffAssignment>,
    categories: Vec<LineItemCategory>,
    line_items: Vec<LineItem>,
    results: Vec<LineItemResult>,
}

/// The package placed: rows per file (stem), in the order written, each
/// with the record it came from (as a reject, should the row be refused).
#[derive(Debug, Default)]
pub(crate) struct Placed {
    pub(crate) files: Vec<(&'static str, Vec<OutRow>)>,
    owners: Vec<(&'static str, Vec<Reject>)>,
}

impl Placed {
    fn push(&mut self, stem: &'static str, row: OutRow, kind: EntityKind, meta: &Meta) {
        self.file(stem).push(row);
        let owner = Reject::new(kind, "").of(meta);
        if let Some(i) = self.owners.iter().position(|(s, _)| *s == stem) {
            self.owners[i].1.push(owner);
        } else {
            self.owners.push((stem, vec![owner]));
        }
    }

    /// (After [`place`], which has paired rows with their records.)
    /// Makes this (delta) package the changes since `previous`: rows the
    /// previous package holds as they are now are left out, and each row of
    /// it whose record is gone is added as `tobedeleted` (with its previous
    /// values and this run's time). Only files this run writes are compared:
    /// a file it sends nothing for deletes nothing. Returns (unchanged,
    /// deleted) rows.
    fn against(&mut self, previous: &Path, v: Version) -> Result<(u64, u64), Error> {
        let pkg = ferry_oneroster::Package::open(previous)
            .map_err(|e| Error::config(format!("against: {}: {e}", previous.display())))?;
        let prev_version = pkg.declared_version().unwrap_or(v);
        let stamp = crate::map::format_timestamp(outbound::now());
        let (mut unchanged, mut deleted) = (0, 0);
        for (stem, rows) in &mut self.files {
            let Some(spec) = ferry_oneroster::spec::file(v, stem) else { continue };
            let Ok(mut reader) = pkg.open_file(stem, prev_version) else { continue };
            // The previous rows by sourcedId: their standard values (of this
            // version's columns) and their metadata.* columns.
            let mut before: HashMap<String, PreviousRow> = HashMap::new();
            while let Some(row) = reader.next_row() {
                let row = row.map_err(|e| Error::data(format!("against: {}: {e}", previous.display())))?;
                let Some(id) = row.get("sourcedId").map(str::to_owned) else { continue };
                let cells = spec
                    .columns
                    .iter()
                    .filter(|c| !matches!(c.name, "status" | "dateLastModified"))
                    .filter_map(|c| row.get(c.name).filter(|x| !x.is_empty()).map(|x| (c.name, x.to_owned())))
                    .collect();
                let mut meta: Vec<(String, String)> = row
                    .metadata()
                    .filter(|(_, x)| !x.is_empty())
                    .map(|(c, x)| (c.to_owned(), x.to_owned()))
                    .collect();
                meta.sort();
                before.insert(id, (cells, meta));
            }
            let mut keep = Vec::with_capacity(rows.len());
            for row in rows.iter() {
                let now = crate::package::encoded_cells(spec, row, &["status", "dateLastModified"]);
                let mut meta = row.metadata.clone();
                meta.sort();
                let id = encode_id(&row.id).into_owned();
                let same = before.remove(&id).is_some_and(|(mut cells, m)| {
                    cells.sort();
                    let mut now = now.clone();
                    now.sort();
                    cells == now && m == meta
                });
                keep.push(!same);
                unchanged += u64::from(same);
            }
            let mut i = 0;
            rows.retain(|_| {
                i += 1;
                keep[i - 1]
            });
            let mut gone: Vec<_> = before.into_iter().collect();
            gone.sort();
            for (id, (cells, meta)) in gone {
                let mut row = OutRow::new(&id);
                for (c, x) in cells.into_iter().filter(|(c, _)| *c != "sourcedId") {
                    row.set(c, Some(x));
                }
                row.set("status", Some("tobedeleted"));
                row.set("dateLastModified", Some(stamp.as_str()));
                row.metadata = meta;
                rows.push(row);
                deleted += 1;
            }
        }
        // A file left with no row is left out (OneRoster forbids empty files).
        let empty: Vec<&'static str> =
            self.files.iter().filter(|(_, r)| r.is_empty()).map(|(s, _)| *s).collect();
        self.files.retain(|(s, _)| !empty.contains(s));
        Ok((unchanged, deleted))
    }

    fn file(&mut self, stem: &'static str) -> &mut Vec<OutRow> {
        if let Some(i) = self.files.iter().position(|(s, _)| *s == stem) {
            return &mut self.files[i].1;
        }
        self.files.push((stem, Vec::new()));
        &mut self.files.last_mut().expect("just pushed").1
    }
}

/// A row of the previous package: its standard values and its `metadata.*`.
type PreviousRow = (Vec<(&'static str, String)>, Vec<(String, String)>);

/// The sink.
pub(crate) struct OneRosterSink {
    target: PathBuf,
    zip: bool,
    version: Version,
    delta: bool,
    dry_run: bool,
    store: Store,
    placed: Option<Placed>,
    /// The package written at prepare, put in place at commit.
    writer: Option<ferry_oneroster::PackageWriter>,
    /// The previous package a delta is written against.
    against: Option<PathBuf>,
    /// Rows left out as unchanged, and written as deleted, against it.
    changes: Option<(u64, u64)>,
    /// Records written per entity and rejected late, for the plan.
    counts: HashMap<EntityKind, (u64, u64)>,
}

const ENTITIES: [EntityKind; 15] = [
    EntityKind::Orgs,
    EntityKind::AcademicSessions,
    EntityKind::Students,
    EntityKind::Staff,
    EntityKind::Contacts,
    EntityKind::StudentContacts,
    EntityKind::Demographics,
    EntityKind::Courses,
    EntityKind::Sections,
    EntityKind::SectionStaff,
    EntityKind::SectionEnrollments,
    EntityKind::StaffAssignments,
    EntityKind::LineItemCategories,
    EntityKind::LineItems,
    EntityKind::LineItemResults,
];

impl OneRosterSink {
    pub(crate) fn open(ctx: &OpenContext) -> Result<OneRosterSink, Error> {
        let cfg: SinkConfig = ctx.config()?;
        let version = match cfg.version.as_deref() {
            None | Some("1.2") => Version::V1_2,
            Some("1.1") => Version::V1_1,
            Some(v) => {
                return Err(Error::config(format!(
                    "version: {v:?} is not a version the sink writes; use \"1.2\" or \"1.1\""
                )));
            }
        };
        let target = ctx.resolve(&cfg.path);
        let zip =
            cfg.zip.unwrap_or_else(|| target.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")));
        if !zip && target.is_file() {
            return Err(Error::config(format!(
                "path: {} is a file; a folder package needs a folder (or set zip = true)",
                target.display()
            )));
        }
        if zip && target.is_dir() {
            return Err(Error::config(format!(
                "path: {} is a folder; a zip package needs a file path",
                target.display()
            )));
        }
        let against = cfg.against.as_deref().map(|p| ctx.resolve(p));
        if let Some(p) = &against
            && !p.exists()
        {
            return Err(Error::config(format!(
                "against: {} does not exist; give the previous package (zip or folder) the delta is written against",
                p.display()
            )));
        }
        Ok(OneRosterSink {
            target,
            zip,
            version,
            // A package against a previous one is a delta.
            delta: cfg.delta || against.is_some(),
            against,
            changes: None,
            dry_run: ctx.dry_run,
            store: Store::default(),
            placed: None,
            writer: None,
            counts: HashMap::new(),
        })
    }
}

fn keep<R: Record>(
    batch: &SinkBatch<'_>,
    into: &mut Vec<R>,
    rejects: &mut Vec<Reject>,
) -> Result<u64, Error> {
    let mut n = 0;
    for r in batch.records::<R>()? {
        let id = &r.meta().source.id;
        if id.is_empty() || encode_id(id).len() >= 256 {
            rejects.push(
                Reject::new(R::KIND, "the source id is too long for a OneRoster sourcedId (255 characters at most, once characters other than 0-9 a-z A-Z . - _ / are encoded)")
                    .of(r.meta())
                    .field("source_id"),
            );
            continue;
        }
        into.push(r);
        n += 1;
    }
    Ok(n)
}

impl Sink for OneRosterSink {
    fn entities(&self) -> Vec<EntityKind> {
        ENTITIES.to_vec()
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let s = &mut self.store;
        let mut rejects = Vec::new();
        let written = match batch.entity() {
            EntityKind::Orgs => keep(&batch, &mut s.orgs, &mut rejects)?,
            EntityKind::AcademicSessions => keep(&batch, &mut s.sessions, &mut rejects)?,
            EntityKind::Students => keep(&batch, &mut s.students, &mut rejects)?,
            EntityKind::Staff => keep(&batch, &mut s.staff, &mut rejects)?,
            EntityKind::Contacts => keep(&batch, &mut s.contacts, &mut rejects)?,
            // Relationships and demographics have no sourcedId of their own
            // in a package (agents; demographics take the user's).
            EntityKind::StudentContacts => {
                s.links.extend(batch.records::<StudentContact>()?);
                batch.len() as u64
            }
            EntityKind::Demographics => {
                s.demographics.extend(batch.records::<Demographics>()?);
                batch.len() as u64
            }
            EntityKind::Courses => keep(&batch, &mut s.courses, &mut rejects)?,
            EntityKind::Sections => keep(&batch, &mut s.sections, &mut rejects)?,
            EntityKind::SectionStaff => keep(&batch, &mut s.section_staff, &mut rejects)?,
            EntityKind::SectionEnrollments => keep(&batch, &mut s.enrollments, &mut rejects)?,
            EntityKind::StaffAssignments => {
                s.assignments.extend(batch.records::<StaffAssignment>()?);
                batch.len() as u64
            }
            EntityKind::LineItemCategories => keep(&batch, &mut s.categories, &mut rejects)?,
            EntityKind::LineItems => keep(&batch, &mut s.line_items, &mut rejects)?,
            EntityKind::LineItemResults => keep(&batch, &mut s.results, &mut rejects)?,
            other => {
                return Err(Error::internal(format!(
                    "the oneroster sink was given {other}, which it does not take"
                )));
            }
        };
        self.counts.entry(batch.entity()).or_default().0 += written;
        Ok(Written { written, rejects })
    }

    fn prepare(&mut self, _summary: &RunSummary) -> Result<Prepared, Error> {
        let store = std::mem::take(&mut self.store);
        let (mut placed, rejects) = place(&store, self.version, self.delta);
        if let Some(prev) = &self.against {
            self.changes = Some(placed.against(prev, self.version)?);
        }
        for r in rejects.iter().filter(|r| r.is_reject()) {
            self.counts.entry(r.entity).or_default().1 += 1;
        }
        let plan = ENTITIES
            .iter()
            .filter_map(|k| self.counts.get(k).map(|c| (k, c)))
            .map(|(k, (written, rejected))| EntityPlan {
                entity: k.name().to_owned(),
                create: written - rejected,
                reject: *rejected,
                ..EntityPlan::default()
            })
            .collect();
        if !self.dry_run {
            self.writer =
                Some(crate::package::write(&placed, self.version, self.delta, &self.target, self.zip)?);
        }
        self.placed = Some(placed);
        Ok(Prepared { rejects, plan, ..Prepared::default() })
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        if self.dry_run {
            return Err(Error::internal("a dry run is never committed"));
        }
        let placed = self.placed.take().ok_or_else(|| Error::internal("commit before prepare"))?;
        let writer = self.writer.take().ok_or_else(|| Error::internal("commit before prepare"))?;
        let rows: usize = placed.files.iter().map(|(_, r)| r.len()).sum();
        writer.finish().map_err(|e| Error::io(format!("{}: {e}", self.target.display())))?;
        tracing::info!(
            files = placed.files.len(),
            rows,
            version = self.version.as_str(),
            "Wrote a OneRoster package."
        );
        let mut notes = vec![format!(
            "OneRoster {} {} package, {} file(s)",
            self.version.as_str(),
            if self.delta { "delta" } else { "bulk" },
            placed.files.len() + 1
        )];
        if let (Some(prev), Some((unchanged, deleted))) = (&self.against, self.changes) {
            notes.push(format!(
                "against {}: {unchanged} row(s) unchanged and left out, {deleted} row(s) written as tobedeleted",
                prev.display()
            ));
        }
        Ok(Committed { location: self.target.display().to_string(), notes })
    }

    fn abort(&mut self) -> Result<(), Error> {
        self.placed = None;
        // Dropping the writer removes its temporary; the target stays as it was.
        self.writer = None;
        Ok(())
    }
}

fn late(kind: EntityKind, meta: &Meta, reason: &str) -> Reject {
    Reject::new(kind, reason).of(meta)
}

/// The user kinds, for ids shared between them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Student,
    Staff,
    Contact,
}

/// Places every record: the rows of each file and the records that cannot
/// be placed (late rejects) or were placed with a repair (late warnings).
pub(crate) fn place(s: &Store, v: Version, delta: bool) -> (Placed, Vec<Reject>) {
    let mut p = Placed::default();
    let mut rejects = Vec::new();
    // In a bulk package, records to delete are left out.
    let live = |m: &Meta| delta || m.op != Operation::Delete;

    // orgs
    let org_ids: HashSet<&str> =
        s.orgs.iter().filter(|o| live(&o.meta)).map(|o| o.meta.source.id.as_str()).collect();
    let district: HashSet<&str> = s
        .orgs
        .iter()
        .filter(|o| o.kind.as_ref().is_some_and(|k| k.code == OrgKind::District))
        .map(|o| o.meta.source.id.as_str())
        .collect();
    let mut orgs_placed: HashSet<String> = HashSet::new();
    for o in s.orgs.iter().filter(|o| live(&o.meta)) {
        match outbound::org(o, v, delta) {
            Ok(mut row) => {
                if let Some(parent) = &o.parent_id
                    && !org_ids.contains(parent.as_str())
                {
                    row.cells.retain(|(c, _)| *c != "parentSourcedId");
                    row.meta(format!("{FIELD_PREFIX}parent_id"), parent.as_str());
                    rejects.push(
                        Reject::warning(EntityKind::Orgs, "its parent org was not sent: written without parentSourcedId (kept as metadata.ferry.parent_id)")
                            .of(&o.meta)
                            .field("parent_id"),
                    );
                }
                orgs_placed.insert(o.meta.source.id.clone());
                p.push("orgs", row, EntityKind::Orgs, &o.meta);
            }
            Err(e) => rejects.push(late(EntityKind::Orgs, &o.meta, &e)),
        }
    }

    // academicSessions
    let session_ids: HashSet<&str> =
        s.sessions.iter().filter(|x| live(&x.meta)).map(|x| x.meta.source.id.as_str()).collect();
    let mut sessions_placed: HashSet<String> = HashSet::new();
    for x in s.sessions.iter().filter(|x| live(&x.meta)) {
        match outbound::session(x, v, delta) {
            Ok(mut row) => {
                if let Some(parent) = &x.parent_id
                    && !session_ids.contains(parent.as_str())
                {
                    row.cells.retain(|(c, _)| *c != "parentSourcedId");
                    row.meta(format!("{FIELD_PREFIX}parent_id"), parent.as_str());
                    rejects.push(
                        Reject::warning(EntityKind::AcademicSessions, "its parent session was not sent: written without parentSourcedId (kept as metadata.ferry.parent_id)")
                            .of(&x.meta)
                            .field("parent_id"),
                    );
                }
                sessions_placed.insert(x.meta.source.id.clone());
                p.push("academicSessions", row, EntityKind::AcademicSessions, &x.meta);
            }
            Err(e) => rejects.push(late(EntityKind::AcademicSessions, &x.meta, &e)),
        }
    }

    // courses
    let mut courses: HashMap<&str, &Course> = HashMap::new();
    for c in s.courses.iter().filter(|c| live(&c.meta)) {
        if let Some(org) = &c.org_id
            && !orgs_placed.contains(org)
        {
            rejects.push(late(
                EntityKind::Courses,
                &c.meta,
                "its org was not sent (or was rejected), and a course needs one (courses.orgSourcedId)",
            ));
            continue;
        }
        match outbound::course(c, delta) {
            Ok(mut row) => {
                if let Some(y) = row.get("schoolYearSourcedId").map(str::to_owned)
                    && !sessions_placed.contains(&y)
                {
                    row.cells.retain(|(c, _)| *c != "schoolYearSourcedId");
                    row.meta("metadata.ferry.school_year_id", y);
                }
                courses.insert(c.meta.source.id.as_str(), c);
                p.push("courses", row, EntityKind::Courses, &c.meta);
            }
            Err(e) => rejects.push(late(EntityKind::Courses, &c.meta, &e)),
        }
    }

    // classes
    let mut sections: HashMap<String, String> = HashMap::new(); // section → school
    let mut class_sessions: HashMap<String, Vec<String>> = HashMap::new();
    for x in s.sections.iter().filter(|x| live(&x.meta)) {
        let Some(course) = x.course_id.as_deref().and_then(|c| courses.get(c)) else {
            rejects.push(late(
                EntityKind::Sections,
                &x.meta,
                "its course was not sent (or was rejected), and a class needs one (classes.courseSourcedId)",
            ));
            continue;
        };
        let mut x2;
        let mut x = x;
        let known: Vec<String> =
            x.session_ids.iter().filter(|t| sessions_placed.contains(*t)).cloned().collect();
        if known.len() != x.session_ids.len() {
            if known.is_empty() {
                rejects.push(late(EntityKind::Sections, &x.meta, "none of its sessions was sent (or all were rejected), and a class needs its terms (classes.termSourcedIds)"));
                continue;
            }
            x2 = x.clone();
            x2.session_ids = known;
            x2.meta.ext.insert("metadata.ferry.session_ids", x.session_ids.join(","));
            x = &x2;
        }
        if x.school_id.is_none() && course.org_id.as_deref().is_some_and(|o| !district.contains(o)) {
            x2 = x.clone();
            x2.school_id.clone_from(&course.org_id);
            x = &x2;
        }
        if let Some(school) = &x.school_id
            && !orgs_placed.contains(school)
        {
            rejects.push(late(
                EntityKind::Sections,
                &x.meta,
                "its school was not sent (or was rejected), and a class needs one (classes.schoolSourcedId)",
            ));
            continue;
        }
        match outbound::class(x, Some(course.title.as_str()), delta) {
            Ok(row) => {
                let school = row.get("schoolSourcedId").unwrap_or_default().to_owned();
                class_sessions.insert(x.meta.source.id.clone(), x.session_ids.clone());
                p.push("classes", row, EntityKind::Sections, &x.meta);
                sections.insert(x.meta.source.id.clone(), school);
            }
            Err(e) => rejects.push(late(EntityKind::Sections, &x.meta, &e)),
        }
    }

    // users: ids per kind (a staff member or contact whose id a different
    // person already has is written under a prefixed id), roles, agents.
    let mut user_id: HashMap<(Kind, &str), String> = HashMap::new();
    let mut taken: HashMap<String, (Kind, String, String)> = HashMap::new(); // id → kind, names
    let mut assign = |kind: Kind, meta: &Meta, first: &str, last: &str| {
        let id = meta.source.id.clone();
        let names = (first.to_owned(), last.to_owned());
        let chosen = match taken.get(&id) {
            Some((k, f, l)) if *k != kind && (f, l) != (&names.0, &names.1) => {
                let prefix = match kind {
                    Kind::Student => "student",
                    Kind::Staff => "staff",
                    Kind::Contact => "contact",
                };
                format!("{prefix}-{id}")
            }
            _ => id.clone(),
        };
        taken.entry(chosen.clone()).or_insert((kind, names.0, names.1));
        chosen
    };
    let mut pending: Vec<(Kind, usize, String)> = Vec::new();
    for (i, r) in s.students.iter().enumerate().filter(|(_, r)| live(&r.meta)) {
        let id = assign(Kind::Student, &r.meta, &r.first_name, &r.last_name);
        user_id.insert((Kind::Student, r.meta.source.id.as_str()), id.clone());
        pending.push((Kind::Student, i, id));
    }
    for (i, r) in s.staff.iter().enumerate().filter(|(_, r)| live(&r.meta)) {
        let id = assign(Kind::Staff, &r.meta, &r.first_name, &r.last_name);
        user_id.insert((Kind::Staff, r.meta.source.id.as_str()), id.clone());
        pending.push((Kind::Staff, i, id));
    }
    for (i, r) in s.contacts.iter().enumerate().filter(|(_, r)| live(&r.meta)) {
        let id = assign(Kind::Contact, &r.meta, &r.first_name, &r.last_name);
        user_id.insert((Kind::Contact, r.meta.source.id.as_str()), id.clone());
        pending.push((Kind::Contact, i, id));
    }
    // Agents and contacts' orgs from the relationships.
    let students_by_id: HashMap<&str, &Student> =
        s.students.iter().map(|r| (r.meta.source.id.as_str(), r)).collect();
    let mut agents: HashMap<String, Vec<String>> = HashMap::new();
    let mut contact_orgs: HashMap<String, Vec<String>> = HashMap::new();
    let mut contact_rel: HashMap<String, ferry_sdk::model::Relationship> = HashMap::new();
    let mut relationships: HashMap<String, Vec<String>> = HashMap::new();
    for l in s.links.iter().filter(|l| live(&l.meta)) {
        let (Some(st), Some(ct)) = (l.student_id.as_deref(), l.contact_id.as_deref()) else { continue };
        let (Some(su), Some(cu)) = (user_id.get(&(Kind::Student, st)), user_id.get(&(Kind::Contact, ct)))
        else {
            rejects.push(late(EntityKind::StudentContacts, &l.meta, "its student or contact was not sent (or was rejected): OneRoster keeps a relationship only as the agents of both"));
            continue;
        };
        let (su, cu) = (su.clone(), cu.clone());
        push_unique(agents.entry(su.clone()).or_default(), &cu);
        push_unique(agents.entry(cu.clone()).or_default(), &su);
        if let Some(school) = students_by_id.get(st).and_then(|x| x.school_id.clone()) {
            push_unique(contact_orgs.entry(cu.clone()).or_default(), &school);
        }
        if let Some(rel) = &l.relationship {
            contact_rel.entry(cu.clone()).or_insert(rel.code);
        }
        // What OneRoster cannot hold of the relationship, on the contact's row.
        let mut parts = vec![format!("student={su}")];
        for f in StudentContact::fields().iter().filter(|f| !matches!(f.name, "student_id" | "contact_id")) {
            if let Some(v) = l.get(f.name).and_then(outbound::format_value) {
                parts.push(format!("{}={}", f.name, v.replace(['|', ';'], " ")));
            }
        }
        relationships.entry(cu).or_default().push(parts.join(";"));
    }
    let mut assignments: HashMap<&str, Vec<&StaffAssignment>> = HashMap::new();
    for a in s.assignments.iter().filter(|a| live(&a.meta)) {
        if let Some(st) = a.staff_id.as_deref() {
            assignments.entry(st).or_default().push(a);
        }
    }
    let mut placed_users: HashSet<(Kind, String)> = HashSet::new();
    let mut demo_students: Vec<&Student> = Vec::new();
    for (kind, i, id) in &pending {
        let (person, meta, roles): (PersonRef<'_>, &Meta, Vec<RoleOut>) = match kind {
            Kind::Student => {
                let r = &s.students[*i];
                let mut roles = Vec::new();
                let mut orgs: Vec<String> = r.school_id.iter().cloned().collect();
                if let Some(all) = r.meta.ext.get(ext::ORGS) {
                    for o in crate::map::list(all) {
                        push_unique(&mut orgs, &o);
                    }
                }
                for o in orgs.iter().filter(|o| orgs_placed.contains(*o)) {
                    roles.push(RoleOut {
                        id: format!("{id}-student-{o}"),
                        role: "student".into(),
                        role_type: "primary",
                        org: o.clone(),
                        begin: None,
                        end: None,
                    });
                }
                (PersonRef::Student(r), &r.meta, roles)
            }
            Kind::Staff => {
                let r = &s.staff[*i];
                let mut roles: Vec<RoleOut> = Vec::new();
                let is_district = |o: &str| district.contains(o);
                if let Some(list) = assignments.get(r.meta.source.id.as_str()) {
                    for a in list {
                        let Some(o) = a.school_id.as_deref().filter(|o| orgs_placed.contains(*o)) else {
                            continue;
                        };
                        let role =
                            outbound::staff_role(a.role.as_ref().or(r.role.as_ref()), v, is_district(o));
                        let rid = if valid_sourced_id(&a.meta.source.id) && a.meta.source.id != *id {
                            a.meta.source.id.clone()
                        } else {
                            format!("{id}-{role}-{o}")
                        };
                        let rid = rid.replace(':', "-");
                        if roles.iter().any(|x| x.org == o && x.role == role) {
                            continue;
                        }
                        roles.push(RoleOut {
                            id: rid,
                            role,
                            role_type: "secondary",
                            org: o.to_owned(),
                            begin: a.start_date.map(|d| d.to_string()),
                            end: a.end_date.map(|d| d.to_string()),
                        });
                    }
                }
                if let Some(o) = r.school_id.as_deref().filter(|o| orgs_placed.contains(*o))
                    && !roles.iter().any(|x| x.org == o)
                {
                    let role = outbound::staff_role(r.role.as_ref(), v, is_district(o));
                    roles.insert(
                        0,
                        RoleOut {
                            id: format!("{id}-{role}-{o}"),
                            role,
                            role_type: "primary",
                            org: o.to_owned(),
                            begin: None,
                            end: None,
                        },
                    );
                }
                // One primary role per org: the first.
                let mut seen: HashSet<String> = HashSet::new();
                for x in &mut roles {
                    x.role_type = if seen.insert(x.org.clone()) { "primary" } else { "secondary" };
                }
                (PersonRef::Staff(r), &r.meta, roles)
            }
            Kind::Contact => {
                let r = &s.contacts[*i];
                let role = outbound::contact_role(contact_rel.get(id).copied(), r.meta.ext.get(ext::ROLE));
                let mut orgs: Vec<String> = contact_orgs.get(id).cloned().unwrap_or_default();
                if let Some(all) = r.meta.ext.get(ext::ORGS) {
                    for o in crate::map::list(all) {
                        push_unique(&mut orgs, &o);
                    }
                }
                let roles = orgs
                    .iter()
                    .filter(|o| orgs_placed.contains(*o))
                    .map(|o| RoleOut {
                        id: format!("{id}-{role}-{o}"),
                        role: role.to_owned(),
                        role_type: "primary",
                        org: o.clone(),
                        begin: None,
                        end: None,
                    })
                    .collect();
                (PersonRef::Contact(r), &r.meta, roles)
            }
        };
        let entity = match kind {
            Kind::Student => EntityKind::Students,
            Kind::Staff => EntityKind::Staff,
            Kind::Contact => EntityKind::Contacts,
        };
        let agent_list = agents.get(id).cloned().unwrap_or_default();
        match outbound::user(&person, &roles, &agent_list, v, delta) {
            Ok(mut row) => {
                if *kind == Kind::Contact
                    && let Some(r) = relationships.get(id)
                {
                    row.meta(format!("{FIELD_PREFIX}relationships"), r.join("|"));
                }
                if row.id != *id {
                    row.cells.retain(|(c, _)| *c != "sourcedId");
                    row.cells.insert(0, ("sourcedId", id.clone()));
                    row.id.clone_from(id);
                    row.meta(format!("{FIELD_PREFIX}source_id"), meta.source.id.as_str());
                    rejects.push(
                        Reject::warning(entity, "another person of the package has its id: written under a prefixed sourcedId (the source id in metadata.ferry.source_id)")
                            .of(meta)
                            .field("source_id"),
                    );
                }
                // A user already written (one person with several roles).
                let existing = p.file("users").iter().position(|u| u.id == *id);
                match existing {
                    Some(j) if v == Version::V1_2 => merge_user(&mut p.file("users")[j], row),
                    Some(_) => {
                        rejects.push(late(entity, meta, "OneRoster 1.1 gives a user one role, and another record of the package has this id"));
                        continue;
                    }
                    None => p.push("users", row, entity, meta),
                }
                if v == Version::V1_2 {
                    for r in &roles {
                        let row = outbound::role(id, r, delta, meta.op == Operation::Delete);
                        if !p.file("roles").iter().any(|x| x.id == row.id) {
                            p.push("roles", row, entity, meta);
                        }
                    }
                }
                placed_users.insert((*kind, meta.source.id.clone()));
                if let PersonRef::Student(r) = person {
                    demo_students.push(r);
                }
            }
            Err(e) => rejects.push(late(entity, meta, &e)),
        }
    }
    for a in s.assignments.iter().filter(|a| live(&a.meta)) {
        if !a.staff_id.as_ref().is_some_and(|st| placed_users.contains(&(Kind::Staff, st.clone()))) {
            rejects.push(late(EntityKind::StaffAssignments, &a.meta, "its staff member was not written"));
        } else if !a.school_id.as_ref().is_some_and(|o| orgs_placed.contains(o)) {
            rejects.push(late(
                EntityKind::StaffAssignments,
                &a.meta,
                "its school was not sent (or was rejected), and a role needs its org",
            ));
        }
    }

    // enrollments
    for e in s.enrollments.iter().filter(|e| live(&e.meta)) {
        let (Some(sec), Some(st)) = (e.section_id.as_deref(), e.student_id.as_deref()) else { continue };
        let Some(school) = sections.get(sec) else {
            rejects.push(late(
                EntityKind::SectionEnrollments,
                &e.meta,
                "its section was not written, and an enrollment needs its class",
            ));
            continue;
        };
        let Some(user) = user_id
            .get(&(Kind::Student, st))
            .filter(|_| placed_users.contains(&(Kind::Student, st.to_owned())))
        else {
            rejects.push(late(
                EntityKind::SectionEnrollments,
                &e.meta,
                "its student was not written, and an enrollment needs its user",
            ));
            continue;
        };
        let mut row = outbound::student_enrollment(e, school, delta);
        set_cell(&mut row, "userSourcedId", user);
        p.push("enrollments", row, EntityKind::SectionEnrollments, &e.meta);
    }
    for e in s.section_staff.iter().filter(|e| live(&e.meta)) {
        let (Some(sec), Some(st)) = (e.section_id.as_deref(), e.staff_id.as_deref()) else { continue };
        let Some(school) = sections.get(sec) else {
            rejects.push(late(
                EntityKind::SectionStaff,
                &e.meta,
                "its section was not written, and an enrollment needs its class",
            ));
            continue;
        };
        let Some(user) =
            user_id.get(&(Kind::Staff, st)).filter(|_| placed_users.contains(&(Kind::Staff, st.to_owned())))
        else {
            rejects.push(late(
                EntityKind::SectionStaff,
                &e.meta,
                "its staff member was not written, and an enrollment needs its user",
            ));
            continue;
        };
        let mut row = outbound::staff_enrollment(e, school, v, delta);
        set_cell(&mut row, "userSourcedId", user);
        p.push("enrollments", row, EntityKind::SectionStaff, &e.meta);
    }

    // gradebook
    let mut categories: HashSet<&str> = HashSet::new();
    for c in s.categories.iter().filter(|c| live(&c.meta)) {
        p.push(
            "categories",
            crate::map::gradebook::category_out(c, v, delta),
            EntityKind::LineItemCategories,
            &c.meta,
        );
        categories.insert(c.meta.source.id.as_str());
    }
    let mut items: HashMap<&str, String> = HashMap::new(); // line item → its class
    for li in s.line_items.iter().filter(|x| live(&x.meta)) {
        let Some(sec) = li.section_id.as_deref().filter(|x| sections.contains_key(*x)) else {
            rejects.push(late(
                EntityKind::LineItems,
                &li.meta,
                "its section was not written, and a line item needs its class",
            ));
            continue;
        };
        if !li.category_id.as_deref().is_some_and(|c| categories.contains(c)) {
            rejects.push(late(EntityKind::LineItems, &li.meta, "its category was not sent (or was rejected), and OneRoster requires one (lineItems.categorySourcedId)"));
            continue;
        }
        let session = class_sessions.get(sec).and_then(|t| t.first()).map(String::as_str);
        let row = crate::map::gradebook::line_item_out(li, &sections[sec], session, v, delta);
        if let Some(t) = li.session_id.as_deref()
            && !sessions_placed.contains(t)
        {
            rejects.push(late(
                EntityKind::LineItems,
                &li.meta,
                "its session was not written, and a line item needs its grading period",
            ));
            continue;
        }
        p.push("lineItems", row, EntityKind::LineItems, &li.meta);
        items.insert(li.meta.source.id.as_str(), sec.to_owned());
    }
    for r in s.results.iter().filter(|x| live(&x.meta)) {
        let Some(class) = r.line_item_id.as_deref().and_then(|li| items.get(li)) else {
            rejects.push(late(
                EntityKind::LineItemResults,
                &r.meta,
                "its line item was not written, and a result needs one",
            ));
            continue;
        };
        let Some(user) =
            r.student_id.as_deref().and_then(|st| user_id.get(&(Kind::Student, st))).filter(|_| {
                r.student_id.as_ref().is_some_and(|st| placed_users.contains(&(Kind::Student, st.clone())))
            })
        else {
            rejects.push(late(
                EntityKind::LineItemResults,
                &r.meta,
                "its student was not written, and a result needs its user",
            ));
            continue;
        };
        match crate::map::gradebook::result_out(r, Some(class), v, delta) {
            Ok(mut row) => {
                set_cell(&mut row, "studentSourcedId", user);
                p.push("results", row, EntityKind::LineItemResults, &r.meta);
            }
            Err(e) => rejects.push(late(EntityKind::LineItemResults, &r.meta, &e)),
        }
    }

    // demographics: one row per user, from the demographics record and the student's birth date and sex.
    let mut demo: HashMap<&str, &Demographics> = HashMap::new();
    for d in s.demographics.iter().filter(|d| live(&d.meta)) {
        let person = d.person_id.as_deref().unwrap_or(d.meta.source.id.as_str());
        let known = [Kind::Student, Kind::Staff, Kind::Contact]
            .iter()
            .any(|k| placed_users.contains(&(*k, person.to_owned())));
        if known {
            demo.insert(person, d);
        } else {
            rejects.push(late(
                EntityKind::Demographics,
                &d.meta,
                "its person was not written, and demographics belong to a user (demographics.sourcedId)",
            ));
        }
    }
    let mut done: HashSet<&str> = HashSet::new();
    for st in demo_students {
        let id = st.meta.source.id.as_str();
        let d = demo.get(id).copied();
        if d.is_none() && st.birth_date.is_none() && st.sex.is_none() {
            continue;
        }
        let uid = user_id.get(&(Kind::Student, id)).cloned().unwrap_or_else(|| id.to_owned());
        let row = outbound::demographics(&uid, d, Some(st), v, delta);
        p.push("demographics", row, EntityKind::Demographics, d.map_or(&st.meta, |d| &d.meta));
        done.insert(id);
    }
    for (person, d) in &demo {
        if done.contains(person) {
            continue;
        }
        let uid = [Kind::Staff, Kind::Contact, Kind::Student]
            .iter()
            .find_map(|k| user_id.get(&(*k, *person)).cloned())
            .unwrap_or_else(|| (*person).to_owned());
        p.push(
            "demographics",
            outbound::demographics(&uid, Some(d), None, v, delta),
            EntityKind::Demographics,
            &d.meta,
        );
    }
    let order =
        ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments", "demographics"];
    let files = std::mem::take(&mut p.files);
    let mut owners = std::mem::take(&mut p.owners);
    let mut paired: Vec<(&'static str, Vec<(OutRow, Reject)>)> = files
        .into_iter()
        .map(|(stem, rows)| {
            let o = owners
                .iter_mut()
                .find(|(s, _)| *s == stem)
                .map(|(_, o)| std::mem::take(o))
                .unwrap_or_default();
            (stem, rows.into_iter().zip(o).collect())
        })
        .collect();
    paired.sort_by_key(|(stem, _)| order.iter().position(|o| o == stem));
    for (stem, rows) in &mut paired {
        if *stem == "demographics" || *stem == "users" {
            rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        }
        // What the package writer would refuse: a required column empty, a
        // carriage return in a value.
        rows.retain(|(row, owner)| match refused(v, delta, stem, row) {
            Some(reason) => {
                let mut r = owner.clone();
                r.reason = reason;
                rejects.push(r);
                false
            }
            None => true,
        });
    }
    paired.retain(|(_, rows)| !rows.is_empty());
    p.files =
        paired.into_iter().map(|(stem, rows)| (stem, rows.into_iter().map(|(r, _)| r).collect())).collect();
    (p, rejects)
}

/// Why the package writer would refuse `row` of file `stem`, if it would.
fn refused(v: Version, delta: bool, stem: &str, row: &OutRow) -> Option<String> {
    let spec = ferry_oneroster::spec::file(v, stem)?;
    for c in spec.columns.iter().filter(|c| !c.may_be_absent) {
        let required = match c.required {
            ferry_oneroster::spec::Required::Yes => true,
            ferry_oneroster::spec::Required::Delta => delta,
            ferry_oneroster::spec::Required::No => false,
        };
        if required && row.get(c.name).is_none_or(str::is_empty) {
            return Some(format!(
                "{stem}.{}: OneRoster requires a value, and the record has none for it",
                c.name
            ));
        }
    }
    let cr = row
        .cells
        .iter()
        .map(|(c, v)| (*c, v.as_str()))
        .chain(row.metadata.iter().map(|(c, v)| (c.as_str(), v.as_str())))
        .find(|(_, v)| v.contains('\r'));
    cr.map(|(c, _)| format!("{stem}.{c}: a carriage return in the value, which OneRoster CSV does not allow"))
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn set_cell(row: &mut OutRow, col: &'static str, value: &str) {
    for (c, v) in &mut row.cells {
        if *c == col {
            value.clone_into(v);
        }
    }
}

/// One person with several roles (a teacher who is also a parent): the row
/// already written keeps its values; the other's fill what it lacks.
fn merge_user(into: &mut OutRow, other: OutRow) {
    for (c, v) in other.cells {
        if c == "agentSourcedIds" {
            let mut all = crate::map::list(into.get(c).unwrap_or_default());
            for a in crate::map::list(&v) {
                push_unique(&mut all, &a);
            }
            set_or_add(into, c, all.join(","));
        } else if into.get(c).is_none() {
            into.cells.push((c, v));
        }
    }
    for (c, v) in other.metadata {
        into.meta(c, v);
    }
}

fn set_or_add(row: &mut OutRow, col: &'static str, value: String) {
    if row.get(col).is_some() {
        set_cell(row, col, &value);
    } else {
        row.cells.push((col, value));
    }
}
