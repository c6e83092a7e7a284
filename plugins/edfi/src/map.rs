//! The mapping from canonical records to Ed-Fi resources (Data Standard 5.2),
//! with no I/O: every record becomes a [`Doc`] (its resource, natural key,
//! JSON body, the descriptor values and references it uses) or a reject with
//! the reason. References are built from the canonical ids through an index
//! of the records already mapped, so a section's `courseOfferingReference`
//! carries its course's code, its school's id and its session's name.
//! Resources Ed-Fi needs that the model has no record for (course
//! offerings, grading periods, student academic records) are derived, once
//! per natural key, from the records that need them.

use std::collections::{BTreeMap, HashMap};

use ferry_sdk::Reject;
use ferry_sdk::model::{
    AcademicRecord, AcademicSession, AttendanceEvent, Code, CodeSet, Course, CourseAttemptResult, Date,
    Decimal, EntityKind, Grade, GradeKind, GradeLevel, Meta, Org, OrgKind, Record, SchoolEnrollment, Section,
    SectionEnrollment, SectionStaff, SessionKind, Staff, Student,
};
use ferry_sdk::serde_json::{Map, Value, json};

use crate::descriptors::{Codes, Descriptor};
use crate::settings::{PersonId, Settings};

/// A natural key: identity fields by their API names, flattened, in order.
pub type Key = Vec<(&'static str, Value)>;

/// `schoolId=1, sessionName=Fall Semester`.
pub fn key_text(key: &Key) -> String {
    key.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Ed-Fi resources written, in dependency order (the ODS/API's
/// documented load order; resources of one group have no reference between
/// them and load in parallel).
pub const ORDER: &[&str] = &[
    "localEducationAgencies",
    "schools",
    "sessions",
    "gradingPeriods",
    "courses",
    "students",
    "staffs",
    "courseOfferings",
    "sections",
    "studentSchoolAssociations",
    "studentSectionAssociations",
    "staffSectionAssociations",
    "studentSchoolAttendanceEvents",
    "studentSectionAttendanceEvents",
    "studentAcademicRecords",
    "grades",
    "courseTranscripts",
];

/// A reference of a payload to another resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    /// The payload's field (`studentReference`).
    pub field: &'static str,
    /// The resource referred to (`students`).
    pub resource: &'static str,
    /// Its natural key.
    pub key: Key,
}

impl Ref {
    fn new(field: &'static str, resource: &'static str, key: Key) -> Ref {
        Ref { field, resource, key }
    }

    /// The reference object of the payload.
    pub fn object(&self) -> Value {
        Value::Object(self.key.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    /// `students (studentUniqueId=1)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.resource, key_text(&self.key))
    }

    /// The key text of the resource referred to (an education organization
    /// reference names the school's or district's own id field).
    pub fn target_text(&self) -> String {
        key_text(&self.key_as_target())
    }

    /// The key under the field names of the resource referred to.
    pub fn key_as_target(&self) -> Key {
        let own = match self.resource {
            "schools" => "schoolId",
            "localEducationAgencies" => "localEducationAgencyId",
            _ => return self.key.clone(),
        };
        self.key
            .iter()
            .map(|(k, v)| (if *k == "educationOrganizationId" { own } else { *k }, v.clone()))
            .collect()
    }
}

/// Who a resource is written for.
#[derive(Clone, Debug)]
pub struct Owner {
    /// The entity.
    pub entity: EntityKind,
    /// The record's source id.
    pub source_id: String,
    /// A reject of the record, waiting for its reason.
    pub reject: Reject,
}

impl Owner {
    fn of(entity: EntityKind, meta: &Meta) -> Owner {
        Owner { entity, source_id: meta.source.id.clone(), reject: Reject::new(entity, "").of(meta) }
    }

    /// The record rejected for `reason`.
    pub fn rejected(&self, reason: impl Into<String>) -> Reject {
        let mut r = self.reject.clone();
        r.reason = reason.into();
        r
    }
}

/// One resource to write.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The resource (`students`).
    pub resource: &'static str,
    /// Its natural key.
    pub key: Key,
    /// The payload (without `id`: the API assigns it).
    pub body: Map<String, Value>,
    /// The descriptor values it uses.
    pub descriptors: Vec<Descriptor>,
    /// The resources it refers to.
    pub refs: Vec<Ref>,
    /// The record it is written for; `None` for a derived resource.
    pub owner: Option<Owner>,
    /// The records that need this derived resource (their rejects if it fails).
    pub needed_by: Vec<Owner>,
}

impl Doc {
    fn new(resource: &'static str, key: Key, owner: Option<Owner>) -> Doc {
        Doc {
            resource,
            key,
            body: Map::new(),
            descriptors: Vec::new(),
            refs: Vec::new(),
            owner,
            needed_by: Vec::new(),
        }
    }

    fn set(&mut self, field: &str, value: impl Into<Value>) {
        self.body.insert(field.to_owned(), value.into());
    }

    fn opt<V: Into<Value>>(&mut self, field: &str, value: Option<V>) {
        if let Some(v) = value {
            self.set(field, v);
        }
    }

    fn descriptor(&mut self, field: &str, d: Descriptor) {
        self.set(field, d.uri());
        self.descriptors.push(d);
    }

    fn reference(&mut self, r: Ref) {
        self.body.insert(r.field.to_owned(), r.object());
        self.refs.push(r);
    }

    /// The key as text.
    pub fn key_text(&self) -> String {
        key_text(&self.key)
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn date(d: Date) -> Value {
    Value::String(d.to_string())
}

fn decimal(d: Decimal) -> Value {
    ferry_sdk::serde_json::Number::from_f64(d.to_f64()).map_or(Value::Null, Value::Number)
}

/// A key string Ed-Fi accepts: trimmed (the API refuses leading and trailing
/// spaces in keys), not empty.
fn key_str(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// What the index knows of a school or district.
#[derive(Clone, Debug)]
struct EdOrg {
    id: i64,
    school: bool,
}

/// A session as Ed-Fi knows it.
#[derive(Clone, Debug)]
struct SessionInfo {
    school_id: i64,
    school_year: i64,
    name: String,
    code: Option<String>,
    kind: Option<SessionKind>,
    begin: Date,
    end: Date,
    /// Written as an Ed-Fi Session (not a grading period).
    is_session: bool,
    term: Descriptor,
}

#[derive(Clone, Debug)]
struct SectionInfo {
    key: Key,
    school_id: i64,
    session: String,
    begin: Date,
}

/// The records mapped so far, by source id, and the resources written.
pub struct Mapper<'a> {
    settings: &'a Settings,
    codes: Codes<'a>,
    orgs: HashMap<String, EdOrg>,
    districts: Vec<i64>,
    sessions: HashMap<String, SessionInfo>,
    courses: HashMap<String, (String, i64, String)>,
    students: HashMap<String, String>,
    staff: HashMap<String, String>,
    sections: HashMap<String, SectionInfo>,
    /// (student, section) → the begin dates of the student's section associations.
    enrollments: HashMap<(String, String), Vec<Date>>,
    /// Derived resources by resource and key text.
    derived: BTreeMap<(&'static str, String), Doc>,
    /// Resources of records, by resource and key text (a second record of one key is refused).
    docs: Vec<Doc>,
    keys: HashMap<(&'static str, String), usize>,
    /// Late warnings.
    pub warnings: Vec<Reject>,
}

/// The settings' unique id of a person.
fn person_id(choice: PersonId, number: Option<&str>, state: Option<&str>, meta: &Meta) -> Option<String> {
    match choice {
        PersonId::Number => key_str(number),
        PersonId::StateId => key_str(state),
        PersonId::SourceId => key_str(Some(&meta.source.id)),
    }
}

fn id_field(choice: PersonId, entity: &str) -> String {
    match choice {
        PersonId::Number if entity == "students" => "students.student_number".into(),
        PersonId::Number => "staff.staff_number".into(),
        PersonId::StateId => format!("{entity}.state_id"),
        PersonId::SourceId => format!("{entity}.source_id"),
    }
}

/// Mon–Fri days from `begin` to `end`, both included.
fn weekdays(begin: Date, end: Date) -> i64 {
    let (b, e) = (begin.to_day_number(), end.to_day_number());
    // Days since a known Monday, modulo 7: 0 to 4 are Monday to Friday.
    let monday = Date::new(2024, 9, 2).map_or(0, Date::to_day_number);
    (b..=e).filter(|n| (n - monday).rem_euclid(7) < 5).count() as i64
}

type Mapped = Result<Doc, String>;

impl<'a> Mapper<'a> {
    /// An empty mapper over `settings`.
    pub fn new(settings: &'a Settings) -> Mapper<'a> {
        Mapper {
            settings,
            codes: Codes::new(settings),
            orgs: HashMap::new(),
            districts: Vec::new(),
            sessions: HashMap::new(),
            courses: HashMap::new(),
            students: HashMap::new(),
            staff: HashMap::new(),
            sections: HashMap::new(),
            enrollments: HashMap::new(),
            derived: BTreeMap::new(),
            docs: Vec::new(),
            keys: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Every resource, records' and derived, in dependency order.
    pub fn finish(self) -> (Vec<Doc>, Vec<Reject>) {
        let mut all: Vec<Doc> = self.docs;
        all.extend(self.derived.into_values());
        all.sort_by_key(|d| ORDER.iter().position(|r| *r == d.resource).unwrap_or(ORDER.len()));
        (all, self.warnings)
    }

    /// Keeps a record's doc; a second record with the same natural key is refused.
    fn keep(&mut self, doc: Doc) -> Result<(), String> {
        let k = (doc.resource, doc.key_text());
        if let Some(i) = self.keys.get(&k) {
            let first =
                self.docs[i.to_owned()].owner.as_ref().map(|o| o.source_id.clone()).unwrap_or_default();
            return Err(format!(
                "another record ({first}) has the same Ed-Fi natural key ({}: {}); Ed-Fi would overwrite one with the other",
                doc.resource, k.1
            ));
        }
        // A derived resource of that key is now this record's.
        if let Some(d) = self.derived.remove(&k) {
            let mut doc = doc;
            doc.needed_by = d.needed_by;
            self.keys.insert(k, self.docs.len());
            self.docs.push(doc);
            return Ok(());
        }
        self.keys.insert(k, self.docs.len());
        self.docs.push(doc);
        Ok(())
    }

    fn derive(&mut self, doc: Doc, by: &Owner) {
        let k = (doc.resource, doc.key_text());
        if let Some(i) = self.keys.get(&k) {
            self.docs[*i].needed_by.push(by.clone());
            return;
        }
        self.derived.entry(k).or_insert(doc).needed_by.push(by.clone());
    }

    /// Maps one record; `Err` is the reason it is rejected. Records must come
    /// in the model's dependency order (the sink sorts them).
    pub fn add<R: Record + 'static>(&mut self, r: &R) -> Result<(), String> {
        let any: &dyn std::any::Any = r;
        let doc = if let Some(o) = any.downcast_ref::<Org>() {
            self.org(o)?
        } else if let Some(x) = any.downcast_ref::<AcademicSession>() {
            self.session(x)?
        } else if let Some(x) = any.downcast_ref::<Course>() {
            self.course(x)?
        } else if let Some(x) = any.downcast_ref::<Student>() {
            self.student(x)?
        } else if let Some(x) = any.downcast_ref::<Staff>() {
            self.staff_member(x)?
        } else if let Some(x) = any.downcast_ref::<Section>() {
            self.section(x)?
        } else if let Some(x) = any.downcast_ref::<SchoolEnrollment>() {
            self.school_enrollment(x)?
        } else if let Some(x) = any.downcast_ref::<SectionEnrollment>() {
            self.section_enrollment(x)?
        } else if let Some(x) = any.downcast_ref::<SectionStaff>() {
            self.section_staff(x)?
        } else if let Some(x) = any.downcast_ref::<AttendanceEvent>() {
            self.attendance(x)?
        } else if let Some(x) = any.downcast_ref::<AcademicRecord>() {
            self.academic_record(x)?
        } else if let Some(x) = any.downcast_ref::<Grade>() {
            self.grade(x)?
        } else {
            return Err(format!("the Ed-Fi connector does not write {}", R::KIND));
        };
        self.commit_doc(r, doc)
    }

    fn commit_doc<R: Record>(&mut self, r: &R, doc: Doc) -> Result<(), String> {
        // Index what later records refer to, under the record's source id.
        let id = r.meta().source.id.clone();
        let key = doc.key.clone();
        let resource = doc.resource;
        self.keep(doc)?;
        let get = |k: &str| key.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        match resource {
            "students" => {
                self.students.insert(
                    id,
                    get("studentUniqueId").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                );
            }
            "staffs" => {
                self.staff.insert(
                    id,
                    get("staffUniqueId").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn edorg_id(&self, o: &Org) -> Result<i64, String> {
        if let Some(id) = self.settings.education_organization_ids.get(&o.meta.source.id) {
            return Ok(*id);
        }
        o.identifier
            .as_deref()
            .and_then(|i| i.trim().parse::<i64>().ok())
            .or_else(|| o.meta.source.id.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                "Ed-Fi education organizations have integer ids, and neither orgs.identifier nor the source id is one; give it one in education_organization_ids".to_owned()
            })
    }

    fn org(&mut self, o: &Org) -> Mapped {
        let kind = o.kind.as_ref().map(|k| k.code);
        let id = self.edorg_id(o)?;
        let owner = Owner::of(EntityKind::Orgs, &o.meta);
        let doc = match kind {
            Some(OrgKind::District) => {
                let mut d = Doc::new(
                    "localEducationAgencies",
                    vec![("localEducationAgencyId", json!(id))],
                    Some(owner),
                );
                d.set("localEducationAgencyId", id);
                d.set("nameOfInstitution", o.name.trim());
                let cat = self.codes.of_key("LocalEducationAgencyCategoryDescriptor", "district");
                if let Some(c) = cat {
                    d.descriptor("localEducationAgencyCategoryDescriptor", c);
                }
                self.categories(&mut d, "district");
                self.districts.push(id);
                d
            }
            Some(OrgKind::School) => {
                let mut d = Doc::new("schools", vec![("schoolId", json!(id))], Some(owner));
                d.set("schoolId", id);
                d.set("nameOfInstitution", o.name.trim());
                self.categories(&mut d, "school");
                let levels = grade_span(o.low_grade.as_ref(), o.high_grade.as_ref());
                if levels.is_empty() {
                    return Err("Ed-Fi requires a school's grade levels, and orgs.low_grade / orgs.high_grade give none".into());
                }
                let mut items = Vec::new();
                for g in levels {
                    let desc = self.codes.of("GradeLevelDescriptor", &g);
                    items.push(json!({ "gradeLevelDescriptor": desc.uri() }));
                    d.descriptors.push(desc);
                }
                d.set("gradeLevels", Value::Array(items));
                if let Some(p) = o.parent_id.as_deref().and_then(|p| self.orgs.get(p)).filter(|p| !p.school) {
                    d.reference(Ref::new(
                        "localEducationAgencyReference",
                        "localEducationAgencies",
                        vec![("localEducationAgencyId", json!(p.id))],
                    ));
                }
                d
            }
            _ => {
                return Err("the Ed-Fi connector writes districts (local education agencies) and schools; this org is of another kind".into());
            }
        };
        self.orgs.insert(o.meta.source.id.clone(), EdOrg { id, school: kind == Some(OrgKind::School) });
        Ok(doc)
    }

    fn categories(&mut self, d: &mut Doc, key: &str) {
        if let Some(c) = self.codes.of_key("EducationOrganizationCategoryDescriptor", key) {
            d.set(
                "educationOrganizationCategories",
                json!([{ "educationOrganizationCategoryDescriptor": c.uri() }]),
            );
            d.descriptors.push(c);
        }
    }

    /// The Ed-Fi id of a school. A school not in the run may be in the ODS
    /// already (loaded by an earlier run or by the state): its id is taken
    /// from `education_organization_ids` or its source id when an integer,
    /// and the API says whether it exists (a dry run asks; a write gets a 409).
    fn school_of(&self, org: Option<&str>) -> Result<i64, &'static str> {
        match org.map(|o| (o, self.orgs.get(o))) {
            Some((_, Some(o))) if o.school => Ok(o.id),
            Some((_, Some(_))) => Err("not a school"),
            Some((o, None)) => self
                .settings
                .education_organization_ids
                .get(o)
                .copied()
                .or_else(|| o.trim().parse::<i64>().ok())
                .ok_or("not sent"),
            None => Err("not sent"),
        }
    }

    fn term_of(&self, x: &AcademicSession) -> Descriptor {
        let by_code = x.code.as_deref().and_then(|c| self.codes.of_key("TermDescriptor", c.trim()));
        by_code.unwrap_or_else(|| match &x.kind {
            Some(k) => self.codes.of("TermDescriptor", k),
            None => self.codes.raw("TermDescriptor", "Other"),
        })
    }

    fn session(&mut self, x: &AcademicSession) -> Mapped {
        let school = self.school_of(x.org_id.as_deref()).map_err(|why| match why {
            "not a school" => "Ed-Fi sessions belong to a school, and this session's org is not one (a district-wide session: send it per school)".to_owned(),
            _ => "its org (academic_sessions.org_id) was not sent or was rejected, and an Ed-Fi session belongs to a school".to_owned(),
        })?;
        let (Some(begin), Some(end)) = (x.start_date, x.end_date) else {
            return Err("Ed-Fi requires a session's begin and end dates".into());
        };
        let year = x.school_year.unwrap_or(i64::from(end.year()));
        let name = x.title.trim().to_owned();
        if name.is_empty() {
            return Err("Ed-Fi requires a session name (academic_sessions.title)".into());
        }
        let kind = x.kind.as_ref().map(|k| k.code);
        let owner = Owner::of(EntityKind::AcademicSessions, &x.meta);
        let term = self.term_of(x);
        let info = SessionInfo {
            school_id: school,
            school_year: year,
            name: name.clone(),
            code: x.code.clone(),
            kind,
            begin,
            end,
            is_session: kind != Some(SessionKind::GradingPeriod),
            term: term.clone(),
        };
        let doc = if info.is_session {
            let mut d = Doc::new(
                "sessions",
                vec![("schoolId", json!(school)), ("schoolYear", json!(year)), ("sessionName", s(&name))],
                Some(owner),
            );
            d.set("sessionName", name.as_str());
            d.reference(Ref::new("schoolReference", "schools", vec![("schoolId", json!(school))]));
            d.set("schoolYearTypeReference", json!({ "schoolYear": year }));
            d.set("beginDate", date(begin));
            d.set("endDate", date(end));
            d.descriptor("termDescriptor", term);
            d.set("totalInstructionalDays", weekdays(begin, end));
            d
        } else {
            self.grading_period_doc(&info, school, Some(owner))
        };
        self.sessions.insert(x.meta.source.id.clone(), info);
        Ok(doc)
    }

    fn grading_period_descriptor(&self, info: &SessionInfo) -> Descriptor {
        let code = info.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
        code.and_then(|c| self.codes.of_key("GradingPeriodDescriptor", c))
            .or_else(|| info.kind.and_then(|k| self.codes.of_key("GradingPeriodDescriptor", k.as_str())))
            .unwrap_or_else(|| self.codes.raw("GradingPeriodDescriptor", code.unwrap_or(info.name.as_str())))
    }

    fn grading_period_key(&self, info: &SessionInfo, school: i64) -> (Key, Descriptor) {
        let d = self.grading_period_descriptor(info);
        (
            vec![
                ("gradingPeriodDescriptor", s(&d.uri())),
                ("gradingPeriodName", s(&info.name)),
                ("schoolId", json!(school)),
                ("schoolYear", json!(info.school_year)),
            ],
            d,
        )
    }

    fn grading_period_doc(&self, info: &SessionInfo, school: i64, owner: Option<Owner>) -> Doc {
        let (key, desc) = self.grading_period_key(info, school);
        let mut d = Doc::new("gradingPeriods", key, owner);
        d.descriptor("gradingPeriodDescriptor", desc);
        d.set("gradingPeriodName", info.name.as_str());
        d.reference(Ref::new("schoolReference", "schools", vec![("schoolId", json!(school))]));
        d.set("schoolYearTypeReference", json!({ "schoolYear": info.school_year }));
        d.set("beginDate", date(info.begin));
        d.set("endDate", date(info.end));
        d.set("totalInstructionalDays", weekdays(info.begin, info.end));
        d
    }

    fn course(&mut self, c: &Course) -> Mapped {
        let code = key_str(c.course_number.as_deref())
            .ok_or("Ed-Fi requires a course code (courses.course_number)")?;
        let edorg = match c.org_id.as_deref() {
            Some(o) => self.orgs.get(o).map(|o| o.id).ok_or("its org (courses.org_id) was not sent or was rejected")?,
            None => match self.districts.as_slice() {
                [one] => *one,
                _ => return Err("Ed-Fi courses belong to an education organization: courses.org_id is empty and the run has not exactly one district to put it in".into()),
            },
        };
        let mut d = Doc::new(
            "courses",
            vec![("courseCode", s(&code)), ("educationOrganizationId", json!(edorg))],
            Some(Owner::of(EntityKind::Courses, &c.meta)),
        );
        d.set("courseCode", code.as_str());
        d.reference(Ref::new(
            "educationOrganizationReference",
            if self.districts.contains(&edorg) { "localEducationAgencies" } else { "schools" },
            vec![("educationOrganizationId", json!(edorg))],
        ));
        d.set("courseTitle", c.title.trim());
        d.set("numberOfParts", 1);
        if let Some(sys) = self.codes.of_key("CourseIdentificationSystemDescriptor", "course_number") {
            d.set(
                "identificationCodes",
                json!([{ "courseIdentificationSystemDescriptor": sys.uri(), "identificationCode": code }]),
            );
            d.descriptors.push(sys);
        }
        self.courses.insert(c.meta.source.id.clone(), (code, edorg, c.title.trim().to_owned()));
        Ok(d)
    }

    fn student(&mut self, x: &Student) -> Mapped {
        let choice = self.settings.student_unique_id;
        let id = person_id(choice, x.student_number.as_deref(), x.state_id.as_deref(), &x.meta).ok_or_else(
            || {
                format!(
                    "has no {} (its studentUniqueId; see student_unique_id)",
                    id_field(choice, "students")
                )
            },
        )?;
        if id.chars().count() > 32 {
            return Err(format!(
                "its studentUniqueId ({}) is longer than Ed-Fi's 32 characters",
                id_field(choice, "students")
            ));
        }
        let birth = x.birth_date.ok_or("Ed-Fi requires a student's birth date (students.birth_date)")?;
        let mut d = Doc::new(
            "students",
            vec![("studentUniqueId", s(&id))],
            Some(Owner::of(EntityKind::Students, &x.meta)),
        );
        d.set("studentUniqueId", id.as_str());
        d.set("firstName", x.first_name.trim());
        d.opt("middleName", key_str(x.middle_name.as_deref()));
        d.set("lastSurname", x.last_name.trim());
        d.set("birthDate", date(birth));
        if let Some(sex) = &x.sex {
            d.descriptor("birthSexDescriptor", self.codes.of("SexDescriptor", sex));
        }
        Ok(d)
    }

    /// Checks a student record on its own, before it is kept (the sink's early reject).
    pub fn check_student(settings: &Settings, x: &Student) -> Result<(), String> {
        let mut m = Mapper::new(settings);
        m.student(x).map(|_| ())
    }

    fn staff_member(&mut self, x: &Staff) -> Mapped {
        let choice = self.settings.staff_unique_id;
        let id = person_id(choice, x.staff_number.as_deref(), x.state_id.as_deref(), &x.meta).ok_or_else(
            || format!("has no {} (its staffUniqueId; see staff_unique_id)", id_field(choice, "staff")),
        )?;
        if id.chars().count() > 32 {
            return Err(format!(
                "its staffUniqueId ({}) is longer than Ed-Fi's 32 characters",
                id_field(choice, "staff")
            ));
        }
        let mut d =
            Doc::new("staffs", vec![("staffUniqueId", s(&id))], Some(Owner::of(EntityKind::Staff, &x.meta)));
        d.set("staffUniqueId", id.as_str());
        d.set("firstName", x.first_name.trim());
        d.opt("middleName", key_str(x.middle_name.as_deref()));
        d.set("lastSurname", x.last_name.trim());
        Ok(d)
    }

    /// Checks a staff record on its own.
    pub fn check_staff(settings: &Settings, x: &Staff) -> Result<(), String> {
        let mut m = Mapper::new(settings);
        m.staff_member(x).map(|_| ())
    }

    fn session_key(info: &SessionInfo) -> Key {
        vec![
            ("schoolId", json!(info.school_id)),
            ("schoolYear", json!(info.school_year)),
            ("sessionName", s(&info.name)),
        ]
    }

    fn section(&mut self, x: &Section) -> Mapped {
        let course_id = x.course_id.as_deref().unwrap_or_default();
        let (code, edorg, title) = self
            .courses
            .get(course_id)
            .cloned()
            .ok_or("its course (sections.course_id) was not sent or was rejected")?;
        let sessions: Vec<&SessionInfo> =
            x.session_ids.iter().filter_map(|i| self.sessions.get(i)).filter(|s| s.is_session).collect();
        let Some(session) = sessions.first().copied().cloned() else {
            return Err("none of its sessions (sections.session_ids) was written as an Ed-Fi session, and a section belongs to one".into());
        };
        let owner = Owner::of(EntityKind::Sections, &x.meta);
        if sessions.len() > 1 {
            self.warnings.push(owner.rejected(
                "Ed-Fi sections have one session: written under the first of its sessions (the others are not written)",
            ).warning_of());
        }
        let school = match x.school_id.as_deref() {
            Some(sc) => self.school_of(Some(sc)).map_err(
                |_| "its school (sections.school_id) was not sent, was rejected or is not a school",
            )?,
            None => session.school_id,
        };
        if school != session.school_id {
            return Err(
                "its school and its session's school differ, and Ed-Fi keys a section by one school".into()
            );
        }
        let offering_key: Key = vec![
            ("localCourseCode", s(&code)),
            ("schoolId", json!(school)),
            ("schoolYear", json!(session.school_year)),
            ("sessionName", s(&session.name)),
        ];
        let mut off = Doc::new("courseOfferings", offering_key.clone(), None);
        off.set("localCourseCode", code.as_str());
        off.set("localCourseTitle", title.as_str());
        off.reference(Ref::new(
            "courseReference",
            "courses",
            vec![("courseCode", s(&code)), ("educationOrganizationId", json!(edorg))],
        ));
        off.reference(Ref::new("schoolReference", "schools", vec![("schoolId", json!(school))]));
        off.reference(Ref::new("sessionReference", "sessions", Self::session_key(&session)));
        self.derive(off, &owner);
        let ident =
            key_str(Some(&x.meta.source.id)).ok_or("a section needs a source id (its sectionIdentifier)")?;
        let mut key = offering_key.clone();
        key.insert(3, ("sectionIdentifier", s(&ident)));
        let mut d = Doc::new("sections", key.clone(), Some(owner));
        d.set("sectionIdentifier", ident.as_str());
        d.reference(Ref::new("courseOfferingReference", "courseOfferings", offering_key));
        d.opt("sectionName", key_str(x.title.as_deref()).or_else(|| key_str(x.section_number.as_deref())));
        self.sections.insert(
            x.meta.source.id.clone(),
            SectionInfo {
                key,
                school_id: school,
                session: x.session_ids.first().cloned().unwrap_or_default(),
                begin: session.begin,
            },
        );
        Ok(d)
    }

    fn student_ref(&self, id: Option<&str>) -> Result<Ref, String> {
        let u = id.and_then(|i| self.students.get(i)).ok_or("its student was not sent or was rejected")?;
        Ok(Ref::new("studentReference", "students", vec![("studentUniqueId", s(u))]))
    }

    fn section_ref(&self, id: Option<&str>) -> Result<(Ref, SectionInfo), String> {
        let x = id.and_then(|i| self.sections.get(i)).ok_or("its section was not sent or was rejected")?;
        Ok((Ref::new("sectionReference", "sections", x.key.clone()), x.clone()))
    }

    fn school_enrollment(&mut self, x: &SchoolEnrollment) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let school = self
            .school_of(x.school_id.as_deref())
            .map_err(|_| "its school was not sent, was rejected or is not a school")?;
        let entry = x.entry_date.ok_or("Ed-Fi requires an entry date")?;
        let grade = x
            .grade_level
            .clone()
            .ok_or("Ed-Fi requires an entry grade level (school_enrollments.grade_level)")?;
        let mut key = vec![("entryDate", date(entry)), ("schoolId", json!(school))];
        key.extend(student.key.iter().cloned());
        let mut d = Doc::new(
            "studentSchoolAssociations",
            key,
            Some(Owner::of(EntityKind::SchoolEnrollments, &x.meta)),
        );
        d.reference(student);
        d.reference(Ref::new("schoolReference", "schools", vec![("schoolId", json!(school))]));
        d.set("entryDate", date(entry));
        d.descriptor("entryGradeLevelDescriptor", self.codes.of("GradeLevelDescriptor", &grade));
        if let Some(c) = &x.entry_code {
            d.descriptor("entryTypeDescriptor", self.codes.of("EntryTypeDescriptor", c));
        }
        if let Some(e) = x.exit_date {
            d.set("exitWithdrawDate", date(e));
        }
        if let Some(c) = &x.exit_code {
            d.descriptor("exitWithdrawTypeDescriptor", self.codes.of("ExitWithdrawTypeDescriptor", c));
        }
        d.opt("primarySchool", x.primary);
        Ok(d)
    }

    fn section_enrollment(&mut self, x: &SectionEnrollment) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let (section, info) = self.section_ref(x.section_id.as_deref())?;
        let begin = x.entry_date.unwrap_or(info.begin);
        let mut key = vec![("beginDate", date(begin))];
        key.extend(section.key.iter().cloned());
        key.extend(student.key.iter().cloned());
        let mut d = Doc::new(
            "studentSectionAssociations",
            key,
            Some(Owner::of(EntityKind::SectionEnrollments, &x.meta)),
        );
        d.set("beginDate", date(begin));
        d.opt("endDate", x.exit_date.map(date));
        d.reference(section);
        d.reference(student);
        self.enrollments
            .entry((x.student_id.clone().unwrap_or_default(), x.section_id.clone().unwrap_or_default()))
            .or_default()
            .push(begin);
        Ok(d)
    }

    fn section_staff(&mut self, x: &SectionStaff) -> Mapped {
        let u = x
            .staff_id
            .as_deref()
            .and_then(|i| self.staff.get(i))
            .ok_or("its staff member was not sent or was rejected")?;
        let staff = Ref::new("staffReference", "staffs", vec![("staffUniqueId", s(u))]);
        let (section, info) = self.section_ref(x.section_id.as_deref())?;
        let role = x.role.as_ref().ok_or("Ed-Fi requires a classroom position (section_staff.role)")?;
        let begin = x.start_date.unwrap_or(info.begin);
        let mut key = vec![("beginDate", date(begin))];
        key.extend(section.key.iter().cloned());
        key.extend(staff.key.iter().cloned());
        let mut d =
            Doc::new("staffSectionAssociations", key, Some(Owner::of(EntityKind::SectionStaff, &x.meta)));
        d.set("beginDate", date(begin));
        d.opt("endDate", x.end_date.map(date));
        d.descriptor("classroomPositionDescriptor", self.codes.of("ClassroomPositionDescriptor", role));
        d.reference(section);
        d.reference(staff);
        Ok(d)
    }

    fn attendance(&mut self, x: &AttendanceEvent) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let day = x.date.ok_or("Ed-Fi requires an event date")?;
        let category = x.category.as_ref().ok_or("Ed-Fi requires an attendance event category")?;
        let desc = self.codes.of("AttendanceEventCategoryDescriptor", category);
        let owner = Owner::of(EntityKind::Attendance, &x.meta);
        if x.section_id.is_some() {
            let (section, _) = self.section_ref(x.section_id.as_deref())?;
            let mut key =
                vec![("attendanceEventCategoryDescriptor", s(&desc.uri())), ("eventDate", date(day))];
            key.extend(section.key.iter().cloned());
            key.extend(student.key.iter().cloned());
            let mut d = Doc::new("studentSectionAttendanceEvents", key, Some(owner));
            d.descriptor("attendanceEventCategoryDescriptor", desc);
            d.set("eventDate", date(day));
            d.reference(section);
            d.reference(student);
            return Ok(d);
        }
        let school = self.school_of(x.school_id.as_deref()).map_err(|_| "its school (attendance.school_id) was not sent, was rejected or is not a school; Ed-Fi daily attendance belongs to one")?;
        let session = x
            .session_id
            .as_deref()
            .and_then(|i| self.sessions.get(i))
            .filter(|s| s.is_session && s.school_id == school && s.begin <= day && day <= s.end)
            .or_else(|| {
                // The longest session of the school that holds the day.
                self.sessions
                    .values()
                    .filter(|s| s.is_session && s.school_id == school && s.begin <= day && day <= s.end)
                    .max_by_key(|s| (s.end.to_day_number() - s.begin.to_day_number(), s.name.clone()))
            })
            .cloned()
            .ok_or("no session of its school written holds its date, and Ed-Fi daily attendance belongs to a session")?;
        let session_ref = Ref::new("sessionReference", "sessions", Self::session_key(&session));
        let mut key = vec![("attendanceEventCategoryDescriptor", s(&desc.uri())), ("eventDate", date(day))];
        key.extend(session_ref.key.iter().cloned());
        key.extend(student.key.iter().cloned());
        let mut d = Doc::new("studentSchoolAttendanceEvents", key, Some(owner));
        d.descriptor("attendanceEventCategoryDescriptor", desc);
        d.set("eventDate", date(day));
        d.reference(Ref::new("schoolReference", "schools", vec![("schoolId", json!(school))]));
        d.reference(session_ref);
        d.reference(student);
        Ok(d)
    }

    fn record_key(&self, edorg: i64, year: i64, student: &Ref, term: &Descriptor) -> Key {
        let mut key = vec![("educationOrganizationId", json!(edorg)), ("schoolYear", json!(year))];
        key.extend(student.key.iter().cloned());
        key.push(("termDescriptor", s(&term.uri())));
        key
    }

    fn record_doc(
        &self,
        edorg: i64,
        year: i64,
        student: &Ref,
        term: &Descriptor,
        owner: Option<Owner>,
    ) -> Doc {
        let mut d = Doc::new("studentAcademicRecords", self.record_key(edorg, year, student, term), owner);
        d.reference(Ref::new(
            "educationOrganizationReference",
            if self.districts.contains(&edorg) { "localEducationAgencies" } else { "schools" },
            vec![("educationOrganizationId", json!(edorg))],
        ));
        d.set("schoolYearTypeReference", json!({ "schoolYear": year }));
        d.reference(student.clone());
        d.descriptor("termDescriptor", term.clone());
        d
    }

    fn year_term(&self, year: Option<i64>, session: Option<&str>) -> Result<(i64, Descriptor), String> {
        let info = session.and_then(|i| self.sessions.get(i));
        let year = year
            .or(info.map(|i| i.school_year))
            .ok_or("Ed-Fi keys it by school year, and neither its school_year nor its session gives one")?;
        let term = match info {
            Some(i) => i.term.clone(),
            None => self
                .codes
                .of_key("TermDescriptor", "schoolYear")
                .unwrap_or_else(|| self.codes.raw("TermDescriptor", "Year Round")),
        };
        Ok((year, term))
    }

    fn academic_record(&mut self, x: &AcademicRecord) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let edorg = x.school_id.as_deref().and_then(|o| self.orgs.get(o)).map(|o| o.id).ok_or("its school (academic_records.school_id) was not sent or was rejected; Ed-Fi keys an academic record by education organization")?;
        let (year, term) = self.year_term(x.school_year, x.session_id.as_deref())?;
        let mut d = self.record_doc(
            edorg,
            year,
            &student,
            &term,
            Some(Owner::of(EntityKind::AcademicRecords, &x.meta)),
        );
        d.opt("sessionAttemptedCredits", x.credits_attempted.map(decimal));
        d.opt("sessionEarnedCredits", x.credits_earned.map(decimal));
        d.opt("cumulativeAttemptedCredits", x.cumulative_credits_attempted.map(decimal));
        d.opt("cumulativeEarnedCredits", x.cumulative_credits_earned.map(decimal));
        if let (Some(rank), Some(size)) = (x.class_rank, x.class_size) {
            let mut r = json!({ "classRank": rank, "totalNumberInClass": size });
            if let Some(day) = x.class_rank_date {
                r["classRankingDate"] = date(day);
            }
            d.set("classRanking", r);
        }
        Ok(d)
    }

    fn grade(&mut self, x: &Grade) -> Mapped {
        let kind = x.kind.as_ref().map(|k| k.code);
        match kind {
            Some(GradeKind::Transcript) => self.transcript(x),
            Some(GradeKind::Term | GradeKind::Final) if x.section_id.is_some() => self.section_grade(x, kind == Some(GradeKind::Final)),
            Some(GradeKind::Term | GradeKind::Final) => Err("a term or final grade without a section: Ed-Fi grades belong to a student's section association".into()),
            _ => Err("a grade of no kind the Ed-Fi connector writes (term, final, transcript)".into()),
        }
    }

    fn section_grade(&mut self, x: &Grade, is_final: bool) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let (section, info) = self.section_ref(x.section_id.as_deref())?;
        let begins = self
            .enrollments
            .get(&(x.student_id.clone().unwrap_or_default(), x.section_id.clone().unwrap_or_default()))
            .ok_or("its student's enrollment in its section was not sent or was rejected, and an Ed-Fi grade belongs to one")?;
        let begin = *begins.iter().min().ok_or("no enrollment")?;
        let session_id = x.session_id.as_deref().unwrap_or(info.session.as_str());
        let session = self
            .sessions
            .get(session_id)
            .cloned()
            .ok_or("its grading session (grades.session_id) was not sent or was rejected")?;
        let owner = Owner::of(EntityKind::Grades, &x.meta);
        // The grading period is at the section's school (Ed-Fi unifies schoolId across the references).
        let gp = self.grading_period_doc(&session, info.school_id, None);
        let gp_key = gp.key.clone();
        self.derive(gp, &owner);
        let ssa_key: Key = std::iter::once(("beginDate", date(begin)))
            .chain(section.key.iter().cloned())
            .chain(student.key.iter().cloned())
            .collect();
        let gtype = self
            .codes
            .of_key("GradeTypeDescriptor", if is_final { "final" } else { "term" })
            .unwrap_or_else(|| self.codes.raw("GradeTypeDescriptor", "Grading Period"));
        let field =
            |k: &str| gp_key.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
        let mut key = vec![
            ("gradeTypeDescriptor", s(&gtype.uri())),
            ("gradingPeriodDescriptor", field("gradingPeriodDescriptor")),
            ("gradingPeriodName", field("gradingPeriodName")),
            ("gradingPeriodSchoolYear", field("schoolYear")),
        ];
        key.extend(ssa_key.iter().cloned());
        let mut d = Doc::new("grades", key, Some(owner));
        d.descriptor("gradeTypeDescriptor", gtype);
        d.reference(Ref::new("studentSectionAssociationReference", "studentSectionAssociations", ssa_key));
        d.reference(Ref::new("gradingPeriodReference", "gradingPeriods", gp_key));
        d.opt("letterGradeEarned", key_str(x.letter_grade.as_deref()));
        d.opt("numericGradeEarned", x.percent.map(decimal));
        Ok(d)
    }

    fn transcript(&mut self, x: &Grade) -> Mapped {
        let student = self.student_ref(x.student_id.as_deref())?;
        let course = x.course_id.as_deref().and_then(|c| self.courses.get(c)).cloned();
        let (code, course_edorg, _) = course.ok_or("its course (grades.course_id) was not sent or was rejected; an Ed-Fi course transcript refers to a course of the ODS (transfer credit from a course not in the catalog is not written)")?;
        let result = x.attempt_result.as_ref().filter(|r| {
            r.code != CourseAttemptResult::InProgress
                || self.codes.lookup("CourseAttemptResultDescriptor", "inProgress").is_some()
        });
        let result = result.ok_or("Ed-Fi requires a course attempt result (grades.attempt_result: completed, failed, incomplete or withdrawn)")?;
        let edorg = x.school_id.as_deref().and_then(|o| self.orgs.get(o)).map_or(course_edorg, |o| o.id);
        let (year, term) = self.year_term(x.school_year, x.session_id.as_deref())?;
        let owner = Owner::of(EntityKind::Grades, &x.meta);
        let record = self.record_doc(edorg, year, &student, &term, None);
        let record_key = record.key.clone();
        self.derive(record, &owner);
        let desc = self.codes.of("CourseAttemptResultDescriptor", result);
        let course_ref = Ref::new(
            "courseReference",
            "courses",
            vec![("courseCode", s(&code)), ("educationOrganizationId", json!(course_edorg))],
        );
        let mut key = vec![("courseAttemptResultDescriptor", s(&desc.uri()))];
        key.extend(course_ref.key.iter().map(|(k, v)| {
            (if *k == "educationOrganizationId" { "courseEducationOrganizationId" } else { *k }, v.clone())
        }));
        key.extend(record_key.iter().cloned());
        let mut d = Doc::new("courseTranscripts", key, Some(owner));
        d.descriptor("courseAttemptResultDescriptor", desc);
        d.reference(course_ref);
        d.reference(Ref::new("studentAcademicRecordReference", "studentAcademicRecords", record_key));
        d.opt("attemptedCredits", x.credits_attempted.map(decimal));
        d.opt("earnedCredits", x.credits_earned.map(decimal));
        d.opt("finalLetterGradeEarned", key_str(x.letter_grade.as_deref()));
        d.opt("finalNumericGradeEarned", x.percent.map(decimal));
        Ok(d)
    }
}

/// The grade levels from `low` to `high` (one of them alone when the other is missing).
fn grade_span(low: Option<&Code<GradeLevel>>, high: Option<&Code<GradeLevel>>) -> Vec<Code<GradeLevel>> {
    let order: Vec<&str> = GradeLevel::VALUES.iter().copied().filter(|v| *v != "Other").collect();
    let pos = |c: &Code<GradeLevel>| order.iter().position(|v| *v == c.code.as_str());
    match (low, high) {
        (Some(l), Some(h)) => match (pos(l), pos(h)) {
            (Some(a), Some(b)) if a <= b && b <= order.iter().position(|v| *v == "13").unwrap_or(b) => order
                [a..=b]
                .iter()
                .map(|v| Code::mapped(GradeLevel::from_canonical(v).unwrap_or(GradeLevel::Other), *v))
                .collect(),
            _ => vec![l.clone(), h.clone()],
        },
        (Some(one), None) | (None, Some(one)) => vec![one.clone()],
        (None, None) => Vec::new(),
    }
}

trait WarningOf {
    fn warning_of(self) -> Reject;
}

impl WarningOf for Reject {
    fn warning_of(mut self) -> Reject {
        self.severity = ferry_sdk::model::Severity::Warning;
        self
    }
}

#[cfg(test)]
mod tests {
    use ferry_sdk::model::{AttendanceCategory, ExitKind, SectionRole, Sex};

    use super::*;

    fn settings() -> Settings {
        ferry_sdk::serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:1", "client_id": "k", "client_secret": "s",
            "education_organization_ids": { "0": 255901 },
        }))
        .unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    /// A small district: the district office (source id 0), one school, a
    /// year and a semester, a course, a section, a student with enrollments,
    /// a grade, attendance and a transcript.
    fn district(m: &mut Mapper<'_>) {
        let org = |id: &str, kind: OrgKind, parent: Option<&str>| Org {
            meta: Meta::new("t", id),
            kind: Some(Code::mapped(kind, "x")),
            name: format!("Org {id} "),
            identifier: Some(id.to_owned()),
            parent_id: parent.map(str::to_owned),
            low_grade: Some(Code::mapped(GradeLevel::Grade09, "9")),
            high_grade: Some(Code::mapped(GradeLevel::Grade12, "12")),
            ..Org::default()
        };
        m.add(&org("0", OrgKind::District, None)).unwrap();
        m.add(&org("255901001", OrgKind::School, Some("0"))).unwrap();
        let session = |id: &str, kind: SessionKind, code: &str, title: &str| AcademicSession {
            meta: Meta::new("t", id),
            kind: Some(Code::mapped(kind, "x")),
            title: title.into(),
            code: Some(code.into()),
            start_date: Some(d(2024, 8, 19)),
            end_date: Some(if code == "S1" { d(2024, 12, 20) } else { d(2025, 5, 30) }),
            school_year: Some(2025),
            org_id: Some("255901001".into()),
            ..AcademicSession::default()
        };
        m.add(&session("y", SessionKind::SchoolYear, "Y1", "2024-2025")).unwrap();
        m.add(&session("s1", SessionKind::Semester, "S1", "Fall 2024")).unwrap();
        m.add(&Course {
            meta: Meta::new("t", "c1"),
            course_number: Some(" ALG1 ".into()),
            title: "Algebra I".into(),
            org_id: Some("0".into()),
            ..Course::default()
        })
        .unwrap();
        m.add(&Student {
            meta: Meta::new("t", "st1"),
            student_number: Some("000123".into()),
            first_name: "Ana".into(),
            last_name: "Díaz".into(),
            birth_date: Some(d(2010, 2, 3)),
            sex: Some(Code::mapped(Sex::Female, "F")),
            ..Student::default()
        })
        .unwrap();
        m.add(&Staff {
            meta: Meta::new("t", "t1"),
            staff_number: Some("T9".into()),
            first_name: "B".into(),
            last_name: "C".into(),
            ..Staff::default()
        })
        .unwrap();
        m.add(&Section {
            meta: Meta::new("t", "sec1"),
            course_id: Some("c1".into()),
            school_id: Some("255901001".into()),
            session_ids: vec!["s1".into()],
            ..Section::default()
        })
        .unwrap();
        m.add(&SchoolEnrollment {
            meta: Meta::new("t", "e1"),
            student_id: Some("st1".into()),
            school_id: Some("255901001".into()),
            entry_date: Some(d(2024, 8, 19)),
            exit_date: Some(d(2025, 5, 30)),
            exit_code: Some(Code::mapped(ExitKind::EndOfYear, "EOY")),
            grade_level: Some(Code::mapped(GradeLevel::Grade09, "9")),
            ..SchoolEnrollment::default()
        })
        .unwrap();
        m.add(&SectionEnrollment {
            meta: Meta::new("t", "cc1"),
            student_id: Some("st1".into()),
            section_id: Some("sec1".into()),
            entry_date: Some(d(2024, 8, 20)),
            ..SectionEnrollment::default()
        })
        .unwrap();
        m.add(&SectionStaff {
            meta: Meta::new("t", "ss1"),
            section_id: Some("sec1".into()),
            staff_id: Some("t1".into()),
            role: Some(Code::mapped(SectionRole::Lead, "1")),
            ..SectionStaff::default()
        })
        .unwrap();
        m.add(&AttendanceEvent {
            meta: Meta::new("t", "a1"),
            student_id: Some("st1".into()),
            date: Some(d(2025, 1, 14)),
            category: Some(Code::mapped(AttendanceCategory::ExcusedAbsence, "E")),
            school_id: Some("255901001".into()),
            ..AttendanceEvent::default()
        })
        .unwrap();
        m.add(&Grade {
            meta: Meta::new("t", "g1"),
            student_id: Some("st1".into()),
            kind: Some(Code::mapped(GradeKind::Term, "S1")),
            section_id: Some("sec1".into()),
            session_id: Some("s1".into()),
            letter_grade: Some("A".into()),
            percent: Some(Decimal::parse("93.5").unwrap()),
            ..Grade::default()
        })
        .unwrap();
        m.add(&Grade {
            meta: Meta::new("t", "g2"),
            student_id: Some("st1".into()),
            kind: Some(Code::mapped(GradeKind::Transcript, "stored")),
            course_id: Some("c1".into()),
            school_id: Some("255901001".into()),
            school_year: Some(2025),
            attempt_result: Some(Code::mapped(CourseAttemptResult::Completed, "P")),
            credits_earned: Some(Decimal::parse("1").unwrap()),
            ..Grade::default()
        })
        .unwrap();
    }

    fn find<'d>(docs: &'d [Doc], resource: &str) -> Vec<&'d Doc> {
        docs.iter().filter(|d| d.resource == resource).collect()
    }

    #[test]
    fn a_district_maps_in_dependency_order_with_resolving_references() {
        let s = settings();
        let mut m = Mapper::new(&s);
        district(&mut m);
        let (docs, warnings) = m.finish();
        assert!(warnings.is_empty(), "{warnings:?}");
        let order: Vec<usize> =
            docs.iter().map(|d| ORDER.iter().position(|r| *r == d.resource).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "dependency order");
        // Every reference resolves to a resource of the run written before it.
        for (i, doc) in docs.iter().enumerate() {
            for r in &doc.refs {
                let target = docs[..i]
                    .iter()
                    .position(|t| t.resource == r.resource && t.key_text() == r.target_text());
                assert!(
                    target.is_some(),
                    "{} refers to {} which is not written before it",
                    doc.resource,
                    r.describe()
                );
            }
        }
        let counts: Vec<(&str, usize)> = ORDER.iter().map(|r| (*r, find(&docs, r).len())).collect();
        assert_eq!(
            counts,
            vec![
                ("localEducationAgencies", 1),
                ("schools", 1),
                ("sessions", 2),
                ("gradingPeriods", 1),
                ("courses", 1),
                ("students", 1),
                ("staffs", 1),
                ("courseOfferings", 1),
                ("sections", 1),
                ("studentSchoolAssociations", 1),
                ("studentSectionAssociations", 1),
                ("staffSectionAssociations", 1),
                ("studentSchoolAttendanceEvents", 1),
                ("studentSectionAttendanceEvents", 0),
                ("studentAcademicRecords", 1),
                ("grades", 1),
                ("courseTranscripts", 1),
            ]
        );
        // Derived resources belong to no record; the others to theirs.
        for d in &docs {
            let derived =
                matches!(d.resource, "courseOfferings" | "gradingPeriods" | "studentAcademicRecords");
            assert_eq!(d.owner.is_none(), derived, "{}", d.resource);
        }
    }

    #[test]
    fn natural_keys_descriptors_and_payloads() {
        let s = settings();
        let mut m = Mapper::new(&s);
        district(&mut m);
        let (docs, _) = m.finish();
        let lea = find(&docs, "localEducationAgencies")[0];
        assert_eq!(lea.key_text(), "localEducationAgencyId=255901", "the district's id from the settings");
        let school = find(&docs, "schools")[0];
        assert_eq!(school.body["gradeLevels"].as_array().unwrap().len(), 4, "09 to 12");
        assert_eq!(school.body["localEducationAgencyReference"], json!({ "localEducationAgencyId": 255901 }));
        assert_eq!(school.body["nameOfInstitution"], "Org 255901001", "trimmed");
        let sessions = find(&docs, "sessions");
        assert_eq!(sessions[1].key_text(), "schoolId=255901001, schoolYear=2025, sessionName=Fall 2024");
        assert_eq!(sessions[1].body["termDescriptor"], "uri://ed-fi.org/TermDescriptor#Fall Semester");
        assert_eq!(sessions[0].body["termDescriptor"], "uri://ed-fi.org/TermDescriptor#Year Round");
        let course = find(&docs, "courses")[0];
        assert_eq!(
            course.key_text(),
            "courseCode=ALG1, educationOrganizationId=255901",
            "key strings trimmed"
        );
        let section = find(&docs, "sections")[0];
        assert_eq!(
            section.key_text(),
            "localCourseCode=ALG1, schoolId=255901001, schoolYear=2025, sectionIdentifier=sec1, sessionName=Fall 2024"
        );
        assert!(!section.body.contains_key("id"), "ids are the API's");
        let student = find(&docs, "students")[0];
        assert_eq!(student.key_text(), "studentUniqueId=000123", "leading zeros kept");
        assert_eq!(student.body["birthSexDescriptor"], "uri://ed-fi.org/SexDescriptor#Female");
        assert_eq!(student.body["birthDate"], "2010-02-03");
        let ssa = find(&docs, "studentSchoolAssociations")[0];
        assert_eq!(ssa.body["entryGradeLevelDescriptor"], "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade");
        assert_eq!(
            ssa.body["exitWithdrawTypeDescriptor"],
            "uri://ed-fi.org/ExitWithdrawTypeDescriptor#End of school year"
        );
        let att = find(&docs, "studentSchoolAttendanceEvents")[0];
        assert_eq!(
            att.body["sessionReference"]["sessionName"], "2024-2025",
            "the longest session holding the day"
        );
        let grade = find(&docs, "grades")[0];
        assert_eq!(grade.body["studentSectionAssociationReference"]["beginDate"], "2024-08-20");
        assert_eq!(
            grade.body["gradingPeriodReference"]["gradingPeriodDescriptor"],
            "uri://ed-fi.org/GradingPeriodDescriptor#First Semester"
        );
        assert_eq!(grade.body["numericGradeEarned"], json!(93.5));
        let t = find(&docs, "courseTranscripts")[0];
        assert_eq!(
            t.body["courseAttemptResultDescriptor"],
            "uri://ed-fi.org/CourseAttemptResultDescriptor#Pass"
        );
        assert_eq!(
            t.body["studentAcademicRecordReference"]["termDescriptor"],
            "uri://ed-fi.org/TermDescriptor#Year Round"
        );
        let staff = find(&docs, "staffSectionAssociations")[0];
        assert_eq!(
            staff.body["classroomPositionDescriptor"],
            "uri://ed-fi.org/ClassroomPositionDescriptor#Teacher of Record"
        );
        // Every descriptor value in a payload is listed for the check.
        for doc in &docs {
            // (Descriptors inside a reference are the parent's, listed there.)
            let own: Map<String, Value> = doc
                .body
                .iter()
                .filter(|(k, _)| !k.ends_with("Reference"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let text = Value::Object(own).to_string();
            let listed: Vec<String> = doc.descriptors.iter().map(Descriptor::uri).collect();
            for part in text.split('"').filter(|p| p.starts_with("uri://")) {
                assert!(listed.iter().any(|l| l == part), "{} uses {part} unlisted", doc.resource);
            }
        }
    }

    #[test]
    fn what_ed_fi_cannot_hold_is_refused_with_a_reason() {
        let s = settings();
        let mut m = Mapper::new(&s);
        district(&mut m);
        let no_birth = Student {
            meta: Meta::new("t", "st2"),
            student_number: Some("9".into()),
            first_name: "X".into(),
            last_name: "Y".into(),
            ..Student::default()
        };
        assert!(m.add(&no_birth).unwrap_err().contains("birth date"));
        let no_number =
            Student { meta: Meta::new("t", "st3"), birth_date: Some(d(2010, 1, 1)), ..Student::default() };
        assert!(m.add(&no_number).unwrap_err().contains("students.student_number"));
        let district_session = AcademicSession {
            meta: Meta::new("t", "dy"),
            kind: Some(Code::mapped(SessionKind::SchoolYear, "Y")),
            title: "2024-2025".into(),
            start_date: Some(d(2024, 8, 1)),
            end_date: Some(d(2025, 6, 1)),
            org_id: Some("0".into()),
            ..AcademicSession::default()
        };
        assert!(m.add(&district_session).unwrap_err().contains("belong to a school"));
        let orphan = SectionEnrollment {
            meta: Meta::new("t", "cc9"),
            student_id: Some("nobody".into()),
            section_id: Some("sec1".into()),
            ..SectionEnrollment::default()
        };
        assert!(m.add(&orphan).unwrap_err().contains("its student was not sent"));
        let twice = SectionEnrollment {
            meta: Meta::new("t", "cc2"),
            student_id: Some("st1".into()),
            section_id: Some("sec1".into()),
            entry_date: Some(d(2024, 8, 20)),
            ..SectionEnrollment::default()
        };
        assert!(m.add(&twice).unwrap_err().contains("same Ed-Fi natural key"), "a second record of one key");
        let no_result = Grade {
            meta: Meta::new("t", "g9"),
            student_id: Some("st1".into()),
            kind: Some(Code::mapped(GradeKind::Transcript, "s")),
            course_id: Some("c1".into()),
            school_year: Some(2025),
            ..Grade::default()
        };
        assert!(m.add(&no_result).unwrap_err().contains("attempt result"));
    }

    #[test]
    fn weekdays_count_monday_to_friday() {
        // 2024-09-02 is a Monday; two full weeks.
        assert_eq!(weekdays(d(2024, 9, 2), d(2024, 9, 15)), 10);
        assert_eq!(weekdays(d(2024, 9, 7), d(2024, 9, 8)), 0, "a weekend");
    }
}
