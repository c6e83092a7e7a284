//! Reading an ODS back (`edfi` as a source), for `ferry verify`.
//!
//! The source GETs every resource the sink writes, page by page (the first
//! page asks `totalCount=true`; the others go out at most `concurrency` at
//! once), and maps each one back into the canonical record it was written
//! from: the fields the manifest lists under `[destination] read_back`,
//! the ones that survive the trip unchanged. Ids come from the receipts of
//! the runs that wrote the ODS (`receipts`): each receipt names the natural
//! key a record was written under, so a resource read back, and every
//! reference inside it, finds its source id by its natural key. A resource
//! no receipt names keeps its natural key as its id (`ferry verify` reports
//! it as unexpected). Derived resources (course offerings, grading periods
//! made for grades) are read to resolve references but are not records.

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

use ferry_sdk::model::{
    AcademicSession, Code, Course, Date, EntityKind, GradeLevel, Meta, Org, OrgKind, Record,
    SchoolEnrollment, Section, SectionEnrollment, SectionStaff, SessionKind, Sex, Staff, Student,
};
use ferry_sdk::serde_json::{Map, Value};
use ferry_sdk::{BatchBuilder, Error, FieldIssue, OpenContext, Source};

use crate::api::Api;
use crate::descriptors::Codes;
use crate::settings::{PersonId, Settings};

/// The natural key fields of each resource read, in the order the sink's
/// mapper writes them (`crate::map`): a receipt's key text is rebuilt from
/// them exactly.
const KEYS: &[(&str, &[&str])] = &[
    ("localEducationAgencies", &["localEducationAgencyId"]),
    ("schools", &["schoolId"]),
    ("sessions", &["schoolId", "schoolYear", "sessionName"]),
    ("gradingPeriods", &["gradingPeriodDescriptor", "gradingPeriodName", "schoolId", "schoolYear"]),
    ("courses", &["courseCode", "educationOrganizationId"]),
    ("students", &["studentUniqueId"]),
    ("staffs", &["staffUniqueId"]),
    ("courseOfferings", &["localCourseCode", "schoolId", "schoolYear", "sessionName"]),
    ("sections", &["localCourseCode", "schoolId", "schoolYear", "sectionIdentifier", "sessionName"]),
    ("studentSchoolAssociations", &["entryDate", "schoolId", "studentUniqueId"]),
    (
        "studentSectionAssociations",
        &[
            "beginDate",
            "localCourseCode",
            "schoolId",
            "schoolYear",
            "sectionIdentifier",
            "sessionName",
            "studentUniqueId",
        ],
    ),
    (
        "staffSectionAssociations",
        &[
            "beginDate",
            "localCourseCode",
            "schoolId",
            "schoolYear",
            "sectionIdentifier",
            "sessionName",
            "staffUniqueId",
        ],
    ),
];

/// What is read, entity by entity, in the model's order.
const PLAN: &[(EntityKind, &[&str])] = &[
    (EntityKind::Orgs, &["localEducationAgencies", "schools"]),
    (EntityKind::AcademicSessions, &["sessions", "gradingPeriods"]),
    (EntityKind::Courses, &["courses"]),
    (EntityKind::Students, &["students"]),
    (EntityKind::Staff, &["staffs"]),
    (EntityKind::Sections, &["courseOfferings", "sections"]),
    (EntityKind::SchoolEnrollments, &["studentSchoolAssociations"]),
    (EntityKind::SectionEnrollments, &["studentSectionAssociations"]),
    (EntityKind::SectionStaff, &["staffSectionAssociations"]),
];

/// The entities the source reads back, in order.
pub fn entities() -> Vec<EntityKind> {
    PLAN.iter().map(|(e, _)| *e).collect()
}

/// A value of a resource's natural key: the field itself, or the same field
/// inside one of its reference objects (`studentReference.studentUniqueId`).
fn field<'v>(doc: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    doc.get(name).or_else(|| {
        doc.iter()
            .filter(|(k, _)| k.ends_with("Reference"))
            .find_map(|(_, v)| v.as_object().and_then(|o| o.get(name)))
    })
}

/// `students: studentUniqueId=604821`, as the sink's receipts say it.
pub fn key_text(resource: &str, doc: &Map<String, Value>) -> Option<String> {
    let names = KEYS.iter().find(|(r, _)| *r == resource)?.1;
    let mut parts = Vec::with_capacity(names.len());
    for n in names {
        let v = field(doc, n)?;
        parts.push(match v {
            Value::String(s) => format!("{n}={s}"),
            other => format!("{n}={other}"),
        });
    }
    Some(format!("{resource}: {}", parts.join(", ")))
}

/// Natural key → source id, from the receipts.
#[derive(Default)]
pub struct Receipts(HashMap<String, String>);

impl Receipts {
    /// Reads a receipts file (JSON Lines, as `ferry migrate` writes it).
    pub fn read(path: &std::path::Path) -> Result<Receipts, Error> {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::config(format!(
                "receipts: cannot read {} ({e}); give the ferry-receipts.jsonl of the run that wrote the ODS",
                path.display()
            ))
        })?;
        let mut map = HashMap::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = ferry_sdk::serde_json::from_str(&line)
                .map_err(|e| Error::config(format!("{}:{}: not a receipt ({e})", path.display(), i + 1)))?;
            let (Some(key), Some(id)) =
                (v.get("natural_key").and_then(Value::as_str), v.get("source_id").and_then(Value::as_str))
            else {
                continue;
            };
            map.insert(key.to_owned(), id.to_owned());
        }
        Ok(Receipts(map))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Records of one entity waiting to be sent, each with the values read
/// back that could not be stored.
type Q<R> = VecDeque<(R, Vec<FieldIssue>)>;

/// The records of the entity being sent.
enum Queue {
    Orgs(Q<Org>),
    Sessions(Q<AcademicSession>),
    Courses(Q<Course>),
    Students(Q<Student>),
    Staff(Q<Staff>),
    Sections(Q<Section>),
    SchoolEnrollments(Q<SchoolEnrollment>),
    SectionEnrollments(Q<SectionEnrollment>),
    SectionStaff(Q<SectionStaff>),
}

/// Sends records of `q` into `out` until it is full; whether `q` is empty.
fn drain<R: Record>(q: &mut Q<R>, out: &mut BatchBuilder) -> Result<bool, Error> {
    while out.accepts(R::KIND) {
        let Some((r, issues)) = q.pop_front() else { return Ok(true) };
        out.push_with(&r, &issues)?;
    }
    Ok(q.is_empty())
}

/// The Ed-Fi source.
pub struct EdFiSource {
    settings: Settings,
    api: Api,
    receipts: Receipts,
    system: String,
    /// Index of the next entity of [`PLAN`] to read.
    next: usize,
    queue: Option<Queue>,
    /// Course offering key → the key text of its course.
    offerings: HashMap<String, String>,
}

impl EdFiSource {
    pub(crate) fn open(ctx: &OpenContext) -> Result<EdFiSource, Error> {
        let settings = Settings::from_context(ctx)?;
        let receipts = match &settings.receipts {
            Some(p) => Receipts::read(&ctx.resolve(p))?,
            None => Receipts::default(),
        };
        let api = Api::new(&settings, ctx.cancel)?;
        let system = settings.system.clone().unwrap_or_else(|| "edfi".to_owned());
        Ok(EdFiSource { settings, api, receipts, system, next: 0, queue: None, offerings: HashMap::new() })
    }

    /// The id of a resource (or reference) of `resource`: its receipt's
    /// source id, else its natural key.
    fn id_of(&self, resource: &str, doc: &Map<String, Value>) -> Option<String> {
        let key = key_text(resource, doc)?;
        Some(self.receipts.get(&key).map_or(key.clone(), str::to_owned))
    }

    /// The source id a reference object names, trying each resource it may
    /// refer to (an education organization is a school or a district).
    fn ref_id(&self, doc: &Map<String, Value>, field: &str, resources: &[&str]) -> Option<String> {
        let r = doc.get(field)?.as_object()?;
        let mut first = None;
        for res in resources {
            let mut target = r.clone();
            if let Some(v) = target.remove("educationOrganizationId") {
                let own = if *res == "schools" { "schoolId" } else { "localEducationAgencyId" };
                target.insert(own.to_owned(), v);
            }
            let Some(key) = key_text(res, &target) else { continue };
            if let Some(id) = self.receipts.get(&key) {
                return Some(id.to_owned());
            }
            first.get_or_insert(key);
        }
        first
    }

    fn meta(&self, id: String, resource: &str, doc: &Map<String, Value>) -> Meta {
        let mut m = Meta::new(self.system.clone(), id);
        m.table = Some(resource.to_owned());
        if let Some(guid) = doc.get("id").and_then(Value::as_str) {
            m.locator = Some(format!("{resource}/{guid}"));
        }
        m
    }

    /// Whether a resource was written by the runs the receipts are of (a
    /// resource with no receipt is still read, under its natural key, unless
    /// it is one the sink derives).
    fn written(&self, resource: &str, doc: &Map<String, Value>) -> bool {
        key_text(resource, doc).is_some_and(|k| self.receipts.get(&k).is_some())
    }

    fn read(&self, resource: &str) -> Result<Vec<Map<String, Value>>, Error> {
        let (docs, total) = self.api.get_pages(resource)?;
        if let Some(total) = total
            && total != docs.len() as u64
        {
            return Err(Error::io(format!(
                "{resource}: the API counted {total} resources and {} were read; was the ODS written to during the read? Run ferry verify again",
                docs.len()
            ))
            .retryable());
        }
        Ok(docs.into_iter().filter_map(|v| if let Value::Object(o) = v { Some(o) } else { None }).collect())
    }

    /// Every resource of `resource` read and mapped by `map` (given the
    /// record's meta, the resource, and the issues to fill), into `q`.
    fn each<R>(
        &self,
        resource: &str,
        q: &mut Q<R>,
        mut map: impl FnMut(&Self, Meta, &Map<String, Value>, &mut Vec<FieldIssue>) -> R,
    ) -> Result<(), Error> {
        for d in self.read(resource)? {
            let Some(id) = self.id_of(resource, &d) else { continue };
            let mut issues = Vec::new();
            let r = map(self, self.meta(id, resource, &d), &d, &mut issues);
            q.push_back((r, issues));
        }
        Ok(())
    }

    fn load(&mut self, entity: EntityKind) -> Result<Queue, Error> {
        let codes = Codes::new(&self.settings);
        Ok(match entity {
            EntityKind::Orgs => {
                let mut q = VecDeque::new();
                for (resource, kind) in
                    [("localEducationAgencies", OrgKind::District), ("schools", OrgKind::School)]
                {
                    for d in self.read(resource)? {
                        let Some(id) = self.id_of(resource, &d) else { continue };
                        let own = if kind == OrgKind::School { "schoolId" } else { "localEducationAgencyId" };
                        let mut o = Org {
                            meta: self.meta(id, resource, &d),
                            kind: Some(Code::mapped(kind, resource)),
                            name: text(&d, "nameOfInstitution").unwrap_or_default(),
                            identifier: d.get(own).map(scalar),
                            ..Org::default()
                        };
                        o.parent_id =
                            self.ref_id(&d, "localEducationAgencyReference", &["localEducationAgencies"]);
                        let levels: Vec<Code<GradeLevel>> = d
                            .get("gradeLevels")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|g| g.get("gradeLevelDescriptor").and_then(Value::as_str))
                            .map(|u| codes.back("GradeLevelDescriptor", u))
                            .collect();
                        o.low_grade = levels.first().cloned();
                        o.high_grade = levels.last().cloned();
                        q.push_back((o, Vec::new()));
                    }
                }
                Queue::Orgs(q)
            }
            EntityKind::AcademicSessions => {
                let mut q = VecDeque::new();
                for resource in ["sessions", "gradingPeriods"] {
                    for d in self.read(resource)? {
                        // A grading period the sink made for grades is no record of its own.
                        if resource == "gradingPeriods" && !self.written(resource, &d) {
                            continue;
                        }
                        let Some(id) = self.id_of(resource, &d) else { continue };
                        let mut issues = Vec::new();
                        let kind = if resource == "gradingPeriods" {
                            Code::mapped(SessionKind::GradingPeriod, "gradingPeriod")
                        } else {
                            let term = text(&d, "termDescriptor").unwrap_or_default();
                            codes.back::<SessionKind>("TermDescriptor", &term)
                        };
                        let title = text(
                            &d,
                            if resource == "sessions" { "sessionName" } else { "gradingPeriodName" },
                        );
                        let x = AcademicSession {
                            meta: self.meta(id, resource, &d),
                            kind: Some(kind),
                            title: title.unwrap_or_default(),
                            code: None,
                            start_date: date(&d, "beginDate", &mut issues, "start_date"),
                            end_date: date(&d, "endDate", &mut issues, "end_date"),
                            school_year: field(&d, "schoolYear").and_then(|v| scalar(v).parse().ok()),
                            parent_id: None,
                            org_id: self.ref_id(&d, "schoolReference", &["schools"]),
                        };
                        q.push_back((x, issues));
                    }
                }
                Queue::Sessions(q)
            }
            EntityKind::Courses => {
                let mut q = VecDeque::new();
                self.each("courses", &mut q, |me, meta, d, _| Course {
                    meta,
                    course_number: text(d, "courseCode"),
                    title: text(d, "courseTitle").unwrap_or_default(),
                    org_id: me.ref_id(
                        d,
                        "educationOrganizationReference",
                        &["schools", "localEducationAgencies"],
                    ),
                    ..Course::default()
                })?;
                Queue::Courses(q)
            }
            EntityKind::Students => {
                let mut q = VecDeque::new();
                let choice = self.settings.student_unique_id;
                self.each("students", &mut q, |_, meta, d, issues| {
                    let mut x = Student {
                        meta,
                        first_name: text(d, "firstName").unwrap_or_default(),
                        middle_name: text(d, "middleName"),
                        last_name: text(d, "lastSurname").unwrap_or_default(),
                        birth_date: date(d, "birthDate", issues, "birth_date"),
                        sex: text(d, "birthSexDescriptor").map(|u| codes.back::<Sex>("SexDescriptor", &u)),
                        ..Student::default()
                    };
                    unique_id(choice, text(d, "studentUniqueId"), &mut x.student_number, &mut x.state_id);
                    x
                })?;
                Queue::Students(q)
            }
            EntityKind::Staff => {
                let mut q = VecDeque::new();
                let choice = self.settings.staff_unique_id;
                self.each("staffs", &mut q, |_, meta, d, _| {
                    let mut x = Staff {
                        meta,
                        first_name: text(d, "firstName").unwrap_or_default(),
                        middle_name: text(d, "middleName"),
                        last_name: text(d, "lastSurname").unwrap_or_default(),
                        ..Staff::default()
                    };
                    unique_id(choice, text(d, "staffUniqueId"), &mut x.staff_number, &mut x.state_id);
                    x
                })?;
                Queue::Staff(q)
            }
            EntityKind::Sections => {
                for d in self.read("courseOfferings")? {
                    let (Some(k), Some(c)) = (
                        key_text("courseOfferings", &d),
                        d.get("courseReference")
                            .and_then(Value::as_object)
                            .and_then(|r| key_text("courses", r)),
                    ) else {
                        continue;
                    };
                    self.offerings.insert(k, c);
                }
                let mut q = VecDeque::new();
                for d in self.read("sections")? {
                    let Some(id) = self.id_of("sections", &d) else { continue };
                    let course = d
                        .get("courseOfferingReference")
                        .and_then(Value::as_object)
                        .and_then(|r| key_text("courseOfferings", r))
                        .and_then(|k| self.offerings.get(&k))
                        .map(|c| self.receipts.get(c).map_or(c.clone(), str::to_owned));
                    let session = d
                        .get("courseOfferingReference")
                        .and_then(Value::as_object)
                        .and_then(|r| key_text("sessions", r))
                        .map(|k| self.receipts.get(&k).map_or(k.clone(), str::to_owned));
                    let school = field(&d, "schoolId").map(|v| {
                        let k = format!("schools: schoolId={}", scalar(v));
                        self.receipts.get(&k).map_or(k.clone(), str::to_owned)
                    });
                    let x = Section {
                        meta: self.meta(id, "sections", &d),
                        title: text(&d, "sectionName"),
                        course_id: course,
                        school_id: school,
                        session_ids: session.into_iter().collect(),
                        ..Section::default()
                    };
                    q.push_back((x, Vec::new()));
                }
                Queue::Sections(q)
            }
            EntityKind::SchoolEnrollments => {
                let mut q = VecDeque::new();
                self.each("studentSchoolAssociations", &mut q, |me, meta, d, issues| SchoolEnrollment {
                    meta,
                    student_id: me.ref_id(d, "studentReference", &["students"]),
                    school_id: me.ref_id(d, "schoolReference", &["schools"]),
                    entry_date: date(d, "entryDate", issues, "entry_date"),
                    exit_date: date(d, "exitWithdrawDate", issues, "exit_date"),
                    grade_level: text(d, "entryGradeLevelDescriptor")
                        .map(|u| codes.back::<GradeLevel>("GradeLevelDescriptor", &u)),
                    primary: d.get("primarySchool").and_then(Value::as_bool),
                    ..SchoolEnrollment::default()
                })?;
                Queue::SchoolEnrollments(q)
            }
            EntityKind::SectionEnrollments => {
                let mut q = VecDeque::new();
                self.each("studentSectionAssociations", &mut q, |me, meta, d, issues| SectionEnrollment {
                    meta,
                    student_id: me.ref_id(d, "studentReference", &["students"]),
                    section_id: me.ref_id(d, "sectionReference", &["sections"]),
                    entry_date: date(d, "beginDate", issues, "entry_date"),
                    exit_date: date(d, "endDate", issues, "exit_date"),
                    status: None,
                })?;
                Queue::SectionEnrollments(q)
            }
            EntityKind::SectionStaff => {
                let mut q = VecDeque::new();
                self.each("staffSectionAssociations", &mut q, |me, meta, d, issues| SectionStaff {
                    meta,
                    section_id: me.ref_id(d, "sectionReference", &["sections"]),
                    staff_id: me.ref_id(d, "staffReference", &["staffs"]),
                    role: None,
                    start_date: date(d, "beginDate", issues, "start_date"),
                    end_date: date(d, "endDate", issues, "end_date"),
                })?;
                Queue::SectionStaff(q)
            }
            other => return Err(Error::internal(format!("the Ed-Fi source does not read {other}"))),
        })
    }
}

/// A person's `*UniqueId` back into the id it was written from (`choice`).
fn unique_id(
    choice: PersonId,
    unique: Option<String>,
    number: &mut Option<String>,
    state: &mut Option<String>,
) {
    match choice {
        PersonId::Number => *number = unique,
        PersonId::StateId => *state = unique,
        PersonId::SourceId => {}
    }
}

/// A text field, trimmed; `None` when missing or empty.
fn text(d: &Map<String, Value>, name: &str) -> Option<String> {
    d.get(name).map(scalar).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A scalar as text (a number as the API wrote it).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A date field (`2024-08-20`, or with a time the API may add); a value
/// that is no date is left empty with an issue naming the field.
fn date(d: &Map<String, Value>, name: &str, issues: &mut Vec<FieldIssue>, canonical: &str) -> Option<Date> {
    let t = text(d, name)?;
    let day = t.split('T').next().unwrap_or_default();
    match Date::parse_iso(day) {
        Ok(x) => Some(x),
        Err(_) => {
            issues.push(FieldIssue::new(canonical, format!("{name} is not a date (YYYY-MM-DD)")).value(t));
            None
        }
    }
}

impl Source for EdFiSource {
    fn entities(&self) -> Vec<EntityKind> {
        entities()
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        loop {
            if out.cancelled() {
                return Err(Error::cancelled());
            }
            let done = match &mut self.queue {
                Some(Queue::Orgs(q)) => drain(q, out)?,
                Some(Queue::Sessions(q)) => drain(q, out)?,
                Some(Queue::Courses(q)) => drain(q, out)?,
                Some(Queue::Students(q)) => drain(q, out)?,
                Some(Queue::Staff(q)) => drain(q, out)?,
                Some(Queue::Sections(q)) => drain(q, out)?,
                Some(Queue::SchoolEnrollments(q)) => drain(q, out)?,
                Some(Queue::SectionEnrollments(q)) => drain(q, out)?,
                Some(Queue::SectionStaff(q)) => drain(q, out)?,
                None => true,
            };
            if !done || out.is_full() {
                return Ok(true);
            }
            self.queue = None;
            if !out.is_empty() {
                // One entity per batch: the next entity starts a new one.
                return Ok(true);
            }
            let Some((entity, _)) = PLAN.get(self.next) else { return Ok(false) };
            self.next += 1;
            self.queue = Some(self.load(*entity)?);
        }
    }
}
