//! OneRoster rows → canonical records.

use std::collections::HashMap;

use ferry_sdk::FieldIssue;
use ferry_sdk::model::{
    AcademicSession, Code, CodeSet, Contact, Course, Date, Demographics, GradeLevel, Meta, Operation, Org,
    OrgKind, Origin, Record, Relationship, Section, SectionEnrollment, SectionRole, SectionStaff,
    SessionKind, Sex, Staff, StaffAssignment, StaffRole, Student, StudentContact,
};
use ferry_sdk::text::{Dialect, ValueParser};

use super::{OrRow, Version, list, parse_bool, parse_date, parse_timestamp};

/// Extension keys this connector sets for OneRoster columns the model has no
/// field for; the sink reads them back into the same columns.
pub mod ext {
    /// courses.schoolYearSourcedId.
    pub const SCHOOL_YEAR: &str = "oneroster.schoolYearSourcedId";
    /// courses.subjects / classes.subjects, when a course has several.
    pub const SUBJECTS: &str = "oneroster.subjects";
    /// courses.subjectCodes / classes.subjectCodes, when several.
    pub const SUBJECT_CODES: &str = "oneroster.subjectCodes";
    /// classes.classType.
    pub const CLASS_TYPE: &str = "oneroster.classType";
    /// classes.grades.
    pub const GRADES: &str = "oneroster.grades";
    /// users.enabledUser of a student or contact.
    pub const ENABLED: &str = "oneroster.enabledUser";
    /// users.orgSourcedIds (1.1) or every org of the user's roles (1.2), when more than one.
    pub const ORGS: &str = "oneroster.orgSourcedIds";
    /// users.grades beyond the first.
    pub const USER_GRADES: &str = "oneroster.grades";
    /// users.pronouns.
    pub const PRONOUNS: &str = "oneroster.pronouns";
    /// users.preferredMiddleName, preferredFamilyName.
    pub const PREFERRED_MIDDLE: &str = "oneroster.preferredMiddleName";
    /// users.preferredFamilyName.
    pub const PREFERRED_FAMILY: &str = "oneroster.preferredFamilyName";
    /// users.sms of a student or staff member (contacts keep it as phone_mobile).
    pub const SMS: &str = "oneroster.sms";
    /// users.role / roles.role as given.
    pub const ROLE: &str = "oneroster.role";
    /// enrollments.primary as given.
    pub const PRIMARY: &str = "oneroster.primary";
    /// enrollments.schoolSourcedId.
    pub const SCHOOL: &str = "oneroster.schoolSourcedId";
    /// demographics.publicSchoolResidenceStatus.
    pub const RESIDENCE: &str = "oneroster.publicSchoolResidenceStatus";
    /// demographics.birthDate of a user who is not a student.
    pub const BIRTH_DATE: &str = "oneroster.birthDate";
    /// demographics.sex of a user who is not a student.
    pub const SEX: &str = "oneroster.sex";
}

/// `metadata.ferry.<field>`: a canonical field OneRoster has no column for
/// (written by the sink, read back into the field).
pub const FIELD_PREFIX: &str = "metadata.ferry.";
/// `metadata.ext.<key>`: an extension of the canonical record whose key is
/// not itself a `metadata.*` column.
pub const EXT_PREFIX: &str = "metadata.ext.";
/// `metadata.altid.<kind>`: an alternative id of a record that is not a user
/// (users carry theirs in userIds).
pub const ALT_PREFIX: &str = "metadata.altid.";

/// What every mapping needs: the source system and the package's version.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The source system stamped on records.
    pub system: String,
    /// The package's version.
    pub version: Version,
}

/// A record mapped from a row, with what could not be stored.
#[derive(Debug)]
pub struct Mapped<R> {
    /// The record (fields that could not be read are empty).
    pub record: R,
    /// Values that could not be stored, for `push_with`.
    pub issues: Vec<FieldIssue>,
    /// Deviations that lost nothing (`field`, reason): warnings about the record.
    pub warnings: Vec<(String, String)>,
}

/// The cell reader of one row.
pub(crate) struct Cells<'r> {
    pub(crate) row: &'r dyn OrRow,
    version: Version,
    issues: Vec<FieldIssue>,
    warnings: Vec<(String, String)>,
}

impl<'r> Cells<'r> {
    pub(crate) fn new(row: &'r dyn OrRow, version: Version) -> Cells<'r> {
        Cells { row, version, issues: Vec::new(), warnings: Vec::new() }
    }

    pub(crate) fn text(&self, col: &str) -> Option<String> {
        self.row.get(col).map(str::to_owned)
    }

    pub(crate) fn issue(&mut self, field: &str, col: &str, reason: impl AsRef<str>, value: &str) {
        self.issues.push(
            FieldIssue::new(field, format!("column {col:?} ({field}): {}", reason.as_ref())).value(value),
        );
    }

    pub(crate) fn warn(&mut self, field: &str, reason: String) {
        self.warnings.push((field.to_owned(), reason));
    }

    pub(crate) fn date(&mut self, col: &str, field: &str) -> Option<Date> {
        let v = self.row.get(col)?;
        match parse_date(v) {
            Ok(d) => {
                if v.len() != 10 {
                    self.warn(
                        field,
                        format!(
                            "column {col:?}: a timestamp where a date (YYYY-MM-DD) belongs; its date is kept"
                        ),
                    );
                }
                Some(d)
            }
            Err(e) => {
                self.issue(field, col, e, v);
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, col: &str, field: &str) -> Option<bool> {
        let v = self.row.get(col)?;
        match parse_bool(v) {
            Some((b, exact)) => {
                if !exact {
                    self.warn(
                        field,
                        format!("column {col:?}: boolean spelled other than true/false; read as {b}"),
                    );
                }
                Some(b)
            }
            None => {
                self.issue(field, col, "not a boolean (true or false)", v);
                None
            }
        }
    }

    pub(crate) fn int(&mut self, col: &str, field: &str) -> Option<i64> {
        let v = self.row.get(col)?;
        match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.issue(field, col, "not a whole number", v);
                None
            }
        }
    }

    /// An enumeration: `table` maps the specification's tokens (compared
    /// exactly, then ignoring case with a warning); in 1.2 an `ext:` token
    /// is kept as `Other`; anything else is a field issue.
    pub(crate) fn code<T: CodeSet>(
        &mut self,
        col: &str,
        field: &str,
        table: &[(&str, T)],
    ) -> Option<Code<T>> {
        let v = self.row.get(col)?;
        if let Some((_, c)) = table.iter().find(|(t, _)| *t == v) {
            return Some(Code::mapped(*c, v));
        }
        if let Some((t, c)) = table.iter().find(|(t, _)| t.eq_ignore_ascii_case(v)) {
            self.warn(field, format!("column {col:?}: {t:?} written in another case"));
            return Some(Code::mapped(*c, v));
        }
        if v.starts_with("ext:") {
            if self.version == Version::V1_1 {
                self.warn(
                    field,
                    format!("column {col:?}: an ext: token, which OneRoster 1.1 does not allow"),
                );
            }
            return Some(Code::mapped(T::OTHER, v));
        }
        let allowed: Vec<&str> = table.iter().map(|(t, _)| *t).collect();
        self.issue(field, col, format!("not a OneRoster value ({})", allowed.join(", ")), v);
        None
    }

    pub(crate) fn done<R>(self, record: R) -> Mapped<R> {
        Mapped { record, issues: self.issues, warnings: self.warnings }
    }
}

/// OneRoster org types.
pub const ORG_TYPES: &[(&str, OrgKind)] = &[
    ("district", OrgKind::District),
    ("school", OrgKind::School),
    ("state", OrgKind::State),
    ("department", OrgKind::Department),
    ("local", OrgKind::Local),
    ("national", OrgKind::Other),
];

/// OneRoster session types.
pub const SESSION_TYPES: &[(&str, SessionKind)] = &[
    ("schoolYear", SessionKind::SchoolYear),
    ("semester", SessionKind::Semester),
    ("term", SessionKind::Term),
    ("gradingPeriod", SessionKind::GradingPeriod),
];

/// OneRoster sexes: `other` is neither male nor female, `unspecified` not reported.
pub const SEXES: &[(&str, Sex)] = &[
    ("male", Sex::Male),
    ("female", Sex::Female),
    ("other", Sex::Unspecified),
    ("unspecified", Sex::NotReported),
];

/// What a user is, by a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Person {
    /// A student.
    Student,
    /// A staff member, with the canonical role.
    Staff(StaffRole),
    /// A contact (guardian, parent, relative), with the relationship.
    Contact(Relationship),
}

/// The person a OneRoster role (1.1 users.role or 1.2 roles.role) makes.
pub fn person_of(role: &str) -> Option<Person> {
    let folded = role.to_ascii_lowercase();
    Some(match folded.as_str() {
        "student" => Person::Student,
        "teacher" => Person::Staff(StaffRole::Teacher),
        "aide" => Person::Staff(StaffRole::Aide),
        "administrator"
        | "principal"
        | "siteadministrator"
        | "districtadministrator"
        | "systemadministrator" => Person::Staff(StaffRole::Administrator),
        "counselor" => Person::Staff(StaffRole::Counselor),
        "proctor" => Person::Staff(StaffRole::Proctor),
        "guardian" => Person::Contact(Relationship::Guardian),
        "parent" => Person::Contact(Relationship::Parent),
        "relative" => Person::Contact(Relationship::Relative),
        _ if folded.starts_with("ext:") => Person::Staff(StaffRole::Other),
        _ => return None,
    })
}

/// One role of a user: a 1.2 roles.csv row, or the 1.1 users.role with
/// each of its orgSourcedIds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRole {
    /// The role's sourcedId (1.2), or `<user>-<org>` (1.1).
    pub id: String,
    /// The role token as given.
    pub role: String,
    /// primary or secondary (1.2).
    pub role_type: Option<String>,
    /// The org.
    pub org: String,
    /// beginDate.
    pub begin: Option<Date>,
    /// endDate.
    pub end: Option<Date>,
    /// The roles.csv line (0 for 1.1).
    pub line: u64,
}

/// A roles.csv row (1.2): the user it belongs to and the role, or the reason
/// it cannot be read (a reject of the row).
pub fn role_row(row: &dyn OrRow) -> Result<(String, UserRole), String> {
    let need = |c: &str| {
        row.get(c).map(str::to_owned).ok_or_else(|| format!("column {c:?} is empty; it is required"))
    };
    let id = need("sourcedId")?;
    let user = need("userSourcedId")?;
    let role = need("role")?;
    let org = need("orgSourcedId")?;
    let date = |c: &str| row.get(c).map(parse_date).transpose().map_err(|e| format!("column {c:?}: {e}"));
    Ok((
        user,
        UserRole {
            id,
            role,
            role_type: row.get("roleType").map(str::to_owned),
            org,
            begin: date("beginDate")?,
            end: date("endDate")?,
            line: row.line(),
        },
    ))
}

/// A demographics.csv row kept for the join with users (birth date and sex
/// go on the student).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDemographics {
    /// birthDate as given.
    pub birth_date: Option<String>,
    /// sex as given.
    pub sex: Option<String>,
}

/// Identity, provenance, lifecycle and extensions of the record of a row.
pub(crate) fn meta<R: Record>(
    ctx: &Ctx,
    row: &dyn OrRow,
    id: &str,
    record: &mut R,
    cells: &mut Cells<'_>,
    pii: bool,
) {
    let m = record.meta_mut();
    *m = Meta::new(ctx.system.as_str(), id);
    m.origin = Some(Origin { file: row.file().to_owned(), line: row.line(), raw: None });
    if let Some(status) = row.get("status") {
        match status {
            "active" => {}
            "tobedeleted" => m.op = Operation::Delete,
            s if s.eq_ignore_ascii_case("tobedeleted") => {
                m.op = Operation::Delete;
                cells.warn("status", "column \"status\": \"tobedeleted\" written in another case".to_owned());
            }
            s if s.eq_ignore_ascii_case("active") => {
                cells.warn("status", "column \"status\": \"active\" written in another case".to_owned());
            }
            s if s.eq_ignore_ascii_case("inactive") => cells.warn(
                "status",
                "column \"status\": \"inactive\" (OneRoster 1.0) is not a 1.1 or 1.2 status; read as active"
                    .to_owned(),
            ),
            _ => cells
                .warn("status", "column \"status\": not active or tobedeleted; read as active".to_owned()),
        }
    }
    if let Some(v) = row.get("dateLastModified") {
        match parse_timestamp(v) {
            Ok((t, full)) => {
                record.meta_mut().modified_at = Some(t);
                if !full {
                    cells.warn(
                        "dateLastModified",
                        "column \"dateLastModified\": a date without a time; read as midnight UTC".to_owned(),
                    );
                }
            }
            Err(e) => cells.warn("dateLastModified", format!("column \"dateLastModified\": {e}; left out")),
        }
    }
    let parser = ValueParser::new(&Dialect::default());
    let mut items = Vec::new();
    for (col, value) in row.metadata() {
        if let Some(field) = col.strip_prefix(FIELD_PREFIX)
            && let Some(def) = R::fields().iter().find(|f| f.name == field)
        {
            match parser.parse(def.ty, &value, &mut items) {
                Ok(v) => {
                    if let Err(e) = record.set(def.name, v) {
                        cells.issue(def.name, &col, e.to_string(), &value);
                    }
                }
                Err(e) => cells.issue(def.name, &col, e.0, &value),
            }
            continue;
        }
        let m = record.meta_mut();
        if let Some(kind) = col.strip_prefix(ALT_PREFIX) {
            m.push_alt_id(kind, value, None);
        } else if let Some(key) = col.strip_prefix(EXT_PREFIX) {
            m.ext.insert_flagged(key, value, pii);
        } else {
            m.ext.insert_flagged(col, value, pii);
        }
    }
}

/// The sourcedId, or the reason the row cannot be a record.
pub fn sourced_id(row: &dyn OrRow) -> Result<&str, String> {
    row.get("sourcedId").ok_or_else(|| "column \"sourcedId\" is empty; every row needs one".to_owned())
}

/// An orgs.csv row.
pub fn org(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<Org>, String> {
    let id = sourced_id(row)?;
    let mut c = Cells::new(row, ctx.version);
    let mut r = Org::default();
    meta(ctx, row, id, &mut r, &mut c, false);
    r.name = c.text("name").unwrap_or_default();
    r.kind = c.code("type", "kind", ORG_TYPES);
    r.identifier = c.text("identifier");
    r.parent_id = c.text("parentSourcedId");
    Ok(c.done(r))
}

/// An academicSessions.csv row.
pub fn session(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<AcademicSession>, String> {
    let id = sourced_id(row)?;
    let mut c = Cells::new(row, ctx.version);
    let mut r = AcademicSession::default();
    meta(ctx, row, id, &mut r, &mut c, false);
    r.title = c.text("title").unwrap_or_default();
    r.kind = c.code("type", "kind", SESSION_TYPES);
    r.start_date = c.date("startDate", "start_date");
    r.end_date = c.date("endDate", "end_date");
    r.parent_id = c.text("parentSourcedId");
    r.school_year = c.int("schoolYear", "school_year");
    Ok(c.done(r))
}

/// A course or class's subjects: one goes to the field, several stay in an
/// extension as given (the field gets the first).
fn subjects(
    c: &Cells<'_>,
    col: &str,
    key: &'static str,
    ext: &mut ferry_sdk::model::Extensions,
) -> Option<String> {
    let v = c.row.get(col)?;
    let items = list(v);
    if items.len() > 1 {
        ext.insert(key, v);
    }
    items.into_iter().next()
}

/// A courses.csv row.
pub fn course(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<Course>, String> {
    let id = sourced_id(row)?;
    let mut c = Cells::new(row, ctx.version);
    let mut r = Course::default();
    meta(ctx, row, id, &mut r, &mut c, false);
    r.title = c.text("title").unwrap_or_default();
    r.course_number = c.text("courseCode");
    if r.course_number.is_none() {
        // The model requires a course number; OneRoster's courseCode is optional.
        r.course_number = Some(id.to_owned());
        c.warn(
            "course_number",
            "column \"courseCode\" is empty; the course number is its sourcedId".to_owned(),
        );
        r.meta.ext.insert("oneroster.courseCode", "");
    }
    if let Some(v) = c.text("schoolYearSourcedId") {
        r.meta.ext.insert(ext::SCHOOL_YEAR, v);
    }
    r.grade_levels = row.get("grades").map(list).unwrap_or_default();
    r.org_id = c.text("orgSourcedId");
    let mut e = std::mem::take(&mut r.meta.ext);
    r.subject = subjects(&c, "subjects", ext::SUBJECTS, &mut e);
    r.subject_code = subjects(&c, "subjectCodes", ext::SUBJECT_CODES, &mut e);
    r.meta.ext = e;
    Ok(c.done(r))
}

/// A classes.csv row.
pub fn class(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<Section>, String> {
    let id = sourced_id(row)?;
    let mut c = Cells::new(row, ctx.version);
    let mut r = Section::default();
    meta(ctx, row, id, &mut r, &mut c, false);
    r.title = c.text("title");
    r.course_id = c.text("courseSourcedId");
    r.section_number = c.text("classCode");
    if let Some(t) = row.get("classType") {
        let known = ["homeroom", "scheduled"];
        if !known.contains(&t) {
            if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(t)) {
                c.warn("classType", format!("column \"classType\": {k:?} written in another case"));
            } else if !t.starts_with("ext:") {
                c.warn(
                    "classType",
                    "column \"classType\": not homeroom or scheduled; kept as given".to_owned(),
                );
            }
        }
        r.meta.ext.insert(ext::CLASS_TYPE, t);
    }
    if let Some(g) = row.get("grades") {
        r.meta.ext.insert(ext::GRADES, g);
    }
    r.room = c.text("location");
    r.school_id = c.text("schoolSourcedId");
    r.session_ids = row.get("termSourcedIds").map(list).unwrap_or_default();
    if let Some(v) = row.get("subjects") {
        r.meta.ext.insert(ext::SUBJECTS, v);
    }
    if let Some(v) = row.get("subjectCodes") {
        r.meta.ext.insert(ext::SUBJECT_CODES, v);
    }
    r.period = c.text("periods");
    Ok(c.done(r))
}

/// The roles of a users.csv row: 1.2 from roles.csv (`roles`), 1.1 from
/// its own role and orgSourcedIds.
pub fn user_roles(version: Version, row: &dyn OrRow, roles: Option<&[UserRole]>) -> Vec<UserRole> {
    if version == Version::V1_2 || row.get("role").is_none() {
        return roles.map(<[UserRole]>::to_vec).unwrap_or_default();
    }
    let id = row.get("sourcedId").unwrap_or_default();
    let role = row.get("role").unwrap_or_default();
    let orgs = row.get("orgSourcedIds").map(list).unwrap_or_default();
    orgs.iter()
        .map(|o| UserRole {
            id: format!("{id}-{o}"),
            role: role.to_owned(),
            role_type: None,
            org: o.clone(),
            begin: None,
            end: None,
            line: 0,
        })
        .collect()
}

/// What a users.csv row becomes.
#[derive(Debug, Default)]
pub struct MappedUser {
    /// The student, when a role is student.
    pub student: Option<Mapped<Student>>,
    /// The staff member, when a role is a staff role.
    pub staff: Option<Mapped<Staff>>,
    /// The contact, when a role is guardian, parent or relative.
    pub contact: Option<Mapped<Contact>>,
    /// One assignment per staff role and org.
    pub assignments: Vec<StaffAssignment>,
    /// agentSourcedIds.
    pub agents: Vec<String>,
    /// The relationship, when a contact.
    pub relationship: Option<Relationship>,
    /// Roles that name nothing known.
    pub unknown_roles: Vec<String>,
}

/// The people of a role list, in order.
pub fn people(roles: &[UserRole]) -> Vec<Person> {
    let mut out: Vec<Person> = Vec::new();
    for r in roles {
        if let Some(p) = person_of(&r.role) {
            let same = out.iter().any(|q| {
                matches!(
                    (q, p),
                    (Person::Student, Person::Student)
                        | (Person::Staff(_), Person::Staff(_))
                        | (Person::Contact(_), Person::Contact(_))
                )
            });
            if !same {
                out.push(p);
            }
        }
    }
    out
}

/// A users.csv row with its roles and the user's demographics row, if any.
pub fn user(
    ctx: &Ctx,
    row: &dyn OrRow,
    roles: &[UserRole],
    demographics: Option<&UserDemographics>,
) -> Result<MappedUser, String> {
    let id = sourced_id(row)?.to_owned();
    let mut out = MappedUser {
        agents: row.get("agentSourcedIds").map(list).unwrap_or_default(),
        ..MappedUser::default()
    };
    out.unknown_roles =
        roles.iter().filter(|r| person_of(&r.role).is_none()).map(|r| r.role.clone()).collect();
    let primary_org = row
        .get("primaryOrgSourcedId")
        .map(str::to_owned)
        .or_else(|| roles.iter().find(|r| r.role_type.as_deref() == Some("primary")).map(|r| r.org.clone()))
        .or_else(|| roles.first().map(|r| r.org.clone()));
    let mut orgs: Vec<&str> = Vec::new();
    for r in roles {
        if !orgs.contains(&r.org.as_str()) {
            orgs.push(&r.org);
        }
    }
    let user_ids: Vec<(String, String)> = row
        .get("userIds")
        .map(|v| {
            list_braced(v)
                .into_iter()
                .filter_map(|item| {
                    item.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    for person in people(roles) {
        let mut c = Cells::new(row, ctx.version);
        let enabled = c.boolean("enabledUser", "enabledUser");
        let given = c.text("givenName").unwrap_or_default();
        let family = c.text("familyName").unwrap_or_default();
        let middle = c.text("middleName");
        let common = |m: &mut Meta, c: &mut Cells<'_>| {
            for (k, v) in &user_ids {
                m.push_alt_id(k, v.clone(), None);
            }
            if let Some(v) = c.text("userMasterIdentifier") {
                m.push_alt_id("userMasterIdentifier", v, None);
            }
            if let Some(v) = c.text("pronouns") {
                m.ext.insert_pii(ext::PRONOUNS, v);
            }
            if let Some(v) = c.text("preferredMiddleName") {
                m.ext.insert_pii(ext::PREFERRED_MIDDLE, v);
            }
            if let Some(v) = c.text("preferredFamilyName") {
                m.ext.insert_pii(ext::PREFERRED_FAMILY, v);
            }
            if orgs.len() > 1 {
                m.ext.insert(ext::ORGS, orgs.join(","));
            }
            if c.row.get("password").is_some() {
                c.warn("password", "column \"password\" holds a value; passwords are not read".to_owned());
            }
        };
        match person {
            Person::Student => {
                let mut r = Student::default();
                meta(ctx, row, &id, &mut r, &mut c, true);
                common(&mut r.meta, &mut c);
                r.first_name.clone_from(&given);
                r.last_name.clone_from(&family);
                r.middle_name.clone_from(&middle);
                r.preferred_name = c.text("preferredGivenName");
                r.student_number = c.text("identifier");
                r.username = c.text("username");
                r.email = c.text("email");
                r.phone = c.text("phone");
                if let Some(v) = c.text("sms") {
                    r.meta.ext.insert_pii(ext::SMS, v);
                }
                if let Some(state) = r.meta.alt_ids.iter().find(|a| is_state_kind(&a.kind)) {
                    r.state_id = Some(state.value.clone());
                }
                if let Some(g) = row.get("grades") {
                    let items = list(g);
                    if let Some(first) = items.first() {
                        r.grade_level = Some(Code::normalize(first));
                        if GradeLevel::normalize(first) == GradeLevel::Other {
                            c.warn(
                                "grade_level",
                                "column \"grades\": not a CEDS grade level; kept as given".to_owned(),
                            );
                        }
                    }
                    if items.len() > 1 {
                        r.meta.ext.insert(ext::USER_GRADES, g);
                    }
                }
                r.school_id.clone_from(&primary_org);
                if enabled == Some(false) {
                    r.meta.ext.insert(ext::ENABLED, "false");
                }
                if let Some(d) = demographics {
                    if let Some(b) = &d.birth_date {
                        match parse_date(b) {
                            Ok(v) => r.birth_date = Some(v),
                            Err(e) => c.issue("birth_date", "birthDate", format!("demographics.csv: {e}"), b),
                        }
                    }
                    if let Some(s) = &d.sex {
                        let mut sc = Cells::new(row, ctx.version);
                        // The sex comes from demographics.csv; read it with the same rules.
                        r.sex = sex_code(s, &mut sc, ctx.version);
                        c.issues.append(&mut sc.issues);
                        c.warnings.append(&mut sc.warnings);
                    }
                }
                out.student = Some(c.done(r));
            }
            Person::Staff(role) => {
                let mut r = Staff::default();
                meta(ctx, row, &id, &mut r, &mut c, true);
                common(&mut r.meta, &mut c);
                r.first_name.clone_from(&given);
                r.last_name.clone_from(&family);
                r.middle_name.clone_from(&middle);
                r.staff_number = c.text("identifier");
                r.username = c.text("username");
                r.email = c.text("email");
                r.phone = c.text("phone");
                if let Some(v) = c.text("sms") {
                    r.meta.ext.insert_pii(ext::SMS, v);
                }
                if let Some(v) = c.text("preferredGivenName") {
                    r.meta.ext.insert_pii("oneroster.preferredGivenName", v);
                }
                if let Some(state) = r.meta.alt_ids.iter().find(|a| is_state_kind(&a.kind)) {
                    r.state_id = Some(state.value.clone());
                }
                r.active = enabled;
                let staff_roles: Vec<&UserRole> =
                    roles.iter().filter(|x| matches!(person_of(&x.role), Some(Person::Staff(_)))).collect();
                let main = staff_roles
                    .iter()
                    .find(|x| x.role_type.as_deref() == Some("primary"))
                    .or(staff_roles.first())
                    .map_or("", |x| x.role.as_str());
                r.role = Some(Code::mapped(role, main));
                r.school_id = primary_org
                    .clone()
                    .filter(|o| staff_roles.iter().any(|x| x.org == *o))
                    .or_else(|| staff_roles.first().map(|x| x.org.clone()));
                for x in staff_roles {
                    let Some(Person::Staff(k)) = person_of(&x.role) else { continue };
                    let mut a = StaffAssignment {
                        meta: Meta::new(ctx.system.as_str(), x.id.as_str()),
                        staff_id: Some(id.clone()),
                        school_id: Some(x.org.clone()),
                        role: Some(Code::mapped(k, x.role.as_str())),
                        start_date: x.begin,
                        end_date: x.end,
                        ..StaffAssignment::default()
                    };
                    a.meta.op = r.meta.op;
                    a.meta.modified_at = r.meta.modified_at;
                    let (file, line) =
                        if x.line > 0 { ("roles.csv", x.line) } else { (row.file(), row.line()) };
                    a.meta.origin = Some(Origin { file: file.to_owned(), line, raw: None });
                    if let Some(t) = &x.role_type {
                        a.meta.ext.insert("oneroster.roleType", t.as_str());
                    }
                    out.assignments.push(a);
                }
                out.staff = Some(c.done(r));
            }
            Person::Contact(rel) => {
                let mut r = Contact::default();
                meta(ctx, row, &id, &mut r, &mut c, true);
                common(&mut r.meta, &mut c);
                r.first_name.clone_from(&given);
                r.last_name.clone_from(&family);
                r.middle_name.clone_from(&middle);
                r.email = c.text("email");
                r.phone_home = c.text("phone");
                r.phone_mobile = c.text("sms");
                for (col, key) in [
                    ("identifier", "oneroster.identifier"),
                    ("username", "oneroster.username"),
                    ("preferredGivenName", "oneroster.preferredGivenName"),
                ] {
                    if let Some(v) = c.text(col) {
                        r.meta.ext.insert_pii(key, v);
                    }
                }
                if enabled == Some(false) {
                    r.meta.ext.insert(ext::ENABLED, "false");
                }
                let given_role =
                    roles.iter().find(|x| matches!(person_of(&x.role), Some(Person::Contact(_))));
                if let Some(x) = given_role {
                    r.meta.ext.insert(ext::ROLE, x.role.as_str());
                }
                out.relationship = Some(rel);
                out.contact = Some(c.done(r));
            }
        }
    }
    Ok(out)
}

/// Whether an userIds type names a state id.
pub fn is_state_kind(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("state") || kind.eq_ignore_ascii_case("stateid")
}

/// The items of a userIds value: `{Type:Id},{Type:Id}` (braces optional).
pub fn list_braced(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0u32;
    let mut cur = String::new();
    for ch in v.chars() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(std::mem::take(&mut cur).trim().to_owned());
                }
            }
            ',' if depth == 0 => {
                if !cur.trim().is_empty() {
                    out.push(std::mem::take(&mut cur).trim().to_owned());
                }
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out.retain(|s| !s.is_empty());
    out
}

fn sex_code(v: &str, c: &mut Cells<'_>, version: Version) -> Option<Code<Sex>> {
    let code = SEXES.iter().find(|(t, _)| t.eq_ignore_ascii_case(v)).map(|(t, s)| (*t, *s));
    match code {
        Some((t, s)) => {
            if t != v {
                c.warn("sex", format!("demographics.csv column \"sex\": {t:?} written in another case"));
            }
            if version == Version::V1_1 && matches!(s, Sex::Unspecified | Sex::NotReported) {
                c.warn("sex", format!("demographics.csv column \"sex\": {t:?} is a OneRoster 1.2 value"));
            }
            Some(Code::mapped(s, v))
        }
        None if v.starts_with("ext:") => Some(Code::mapped(Sex::Other, v)),
        None => {
            c.issue(
                "sex",
                "sex",
                "demographics.csv: not a OneRoster value (male, female, other, unspecified)",
                v,
            );
            None
        }
    }
}

/// A student–contact pair from agentSourcedIds.
pub fn student_contact(
    ctx: &Ctx,
    row: &dyn OrRow,
    student: &str,
    contact: &str,
    rel: Option<Relationship>,
    contact_role: Option<&str>,
) -> StudentContact {
    let mut r = StudentContact {
        meta: Meta::new(ctx.system.as_str(), format!("{student}-{contact}")),
        student_id: Some(student.to_owned()),
        contact_id: Some(contact.to_owned()),
        relationship: rel.map(|r| Code::mapped(r, contact_role.unwrap_or(""))),
        ..StudentContact::default()
    };
    r.meta.origin = Some(Origin { file: row.file().to_owned(), line: row.line(), raw: None });
    if row.get("status") == Some("tobedeleted") {
        r.meta.op = Operation::Delete;
    }
    r
}

/// What an enrollments.csv row becomes.
#[derive(Debug)]
pub enum Enrollment {
    /// A student's enrollment.
    Student(Mapped<SectionEnrollment>),
    /// A teacher's (or another staff member's) assignment.
    Staff(Mapped<SectionStaff>),
}

/// An enrollments.csv row; `class_school` is the school of its class, when
/// known (the enrollment's schoolSourcedId is kept only when it differs).
pub fn enrollment(ctx: &Ctx, row: &dyn OrRow, class_school: Option<&str>) -> Result<Enrollment, String> {
    let id = sourced_id(row)?;
    let role = row.get("role").ok_or("column \"role\" is empty; it is required")?;
    let mut c = Cells::new(row, ctx.version);
    let folded = role.to_ascii_lowercase();
    let school = row.get("schoolSourcedId");
    let keep_school = |e: &mut ferry_sdk::model::Extensions| {
        if let Some(s) = school
            && Some(s) != class_school
        {
            e.insert(ext::SCHOOL, s);
        }
    };
    if folded == "student" {
        if role != "student" {
            c.warn("role", "column \"role\": \"student\" written in another case".to_owned());
        }
        let mut r = SectionEnrollment::default();
        meta(ctx, row, id, &mut r, &mut c, false);
        r.student_id = c.text("userSourcedId");
        r.section_id = c.text("classSourcedId");
        r.entry_date = c.date("beginDate", "entry_date");
        r.exit_date = c.date("endDate", "exit_date");
        keep_school(&mut r.meta.ext);
        return Ok(Enrollment::Student(c.done(r)));
    }
    let known = ["teacher", "administrator", "proctor", "aide"];
    if !known.contains(&folded.as_str()) && !folded.starts_with("ext:") {
        return Err(
            "column \"role\": not a OneRoster enrollment role (administrator, proctor, student, teacher)"
                .to_owned(),
        );
    }
    let mut r = SectionStaff::default();
    meta(ctx, row, id, &mut r, &mut c, false);
    r.staff_id = c.text("userSourcedId");
    r.section_id = c.text("classSourcedId");
    r.start_date = c.date("beginDate", "start_date");
    r.end_date = c.date("endDate", "end_date");
    let primary = c.boolean("primary", "primary");
    if let Some(p) = row.get("primary") {
        r.meta.ext.insert(ext::PRIMARY, p);
    }
    let code = match (folded.as_str(), primary) {
        ("teacher", Some(false)) => SectionRole::CoTeacher,
        ("teacher", _) => SectionRole::Lead,
        ("aide", _) => SectionRole::Aide,
        _ => SectionRole::Other,
    };
    r.role = Some(Code::mapped(code, role));
    keep_school(&mut r.meta.ext);
    Ok(Enrollment::Staff(c.done(r)))
}

/// A demographics.csv row kept for the join (birth date and sex).
pub fn user_demographics(row: &dyn OrRow) -> UserDemographics {
    UserDemographics {
        birth_date: row.get("birthDate").map(str::to_owned),
        sex: row.get("sex").map(str::to_owned),
    }
}

/// The race columns of demographics.csv and the canonical race codes.
pub const RACES: &[(&str, &str)] = &[
    ("americanIndianOrAlaskaNative", "americanIndianOrAlaskaNative"),
    ("asian", "asian"),
    ("blackOrAfricanAmerican", "blackOrAfricanAmerican"),
    ("nativeHawaiianOrOtherPacificIslander", "nativeHawaiianOrOtherPacificIslander"),
    ("white", "white"),
];

/// A demographics.csv row; `student` says whether the user is a student
/// (whose birth date and sex went on the student record); for anyone else
/// they are kept here as extensions.
pub fn demographics(ctx: &Ctx, row: &dyn OrRow, student: bool) -> Result<Mapped<Demographics>, String> {
    let id = sourced_id(row)?;
    let mut c = Cells::new(row, ctx.version);
    let mut r = Demographics::default();
    meta(ctx, row, id, &mut r, &mut c, true);
    r.person_id = Some(id.to_owned());
    r.american_indian_or_alaska_native =
        c.boolean("americanIndianOrAlaskaNative", "american_indian_or_alaska_native");
    r.asian = c.boolean("asian", "asian");
    r.black_or_african_american = c.boolean("blackOrAfricanAmerican", "black_or_african_american");
    r.native_hawaiian_or_other_pacific_islander =
        c.boolean("nativeHawaiianOrOtherPacificIslander", "native_hawaiian_or_other_pacific_islander");
    r.white = c.boolean("white", "white");
    r.two_or_more_races = c.boolean("demographicRaceTwoOrMoreRaces", "two_or_more_races");
    r.hispanic_or_latino = c.boolean("hispanicOrLatinoEthnicity", "hispanic_or_latino");
    for (col, code) in RACES {
        if row.get(col).and_then(parse_bool).is_some_and(|(b, _)| b) {
            r.races.push((*code).to_owned());
        }
    }
    r.birth_country = c.text("countryOfBirthCode");
    r.birth_state = c.text("stateOfBirthAbbreviation");
    r.birth_city = c.text("cityOfBirth");
    if let Some(v) = c.text("publicSchoolResidenceStatus") {
        r.meta.ext.insert(ext::RESIDENCE, v);
    }
    if !student {
        if let Some(v) = c.text("birthDate") {
            r.meta.ext.insert_pii(ext::BIRTH_DATE, v);
        }
        if let Some(v) = c.text("sex") {
            r.meta.ext.insert_pii(ext::SEX, v);
        }
    }
    Ok(c.done(r))
}

/// Sets a field from text through the model's own rules (tests).
#[cfg(test)]
pub(crate) fn set_text<R: Record>(r: &mut R, field: &str, v: &str) {
    r.set(field, ferry_sdk::model::Value::Text(v)).unwrap();
}

/// The users of a package by id: what each one is (for agents and
/// demographics, which need to know who is a student or a contact).
#[derive(Debug, Default)]
pub struct UserIndex {
    /// Per user: the people it makes and the contact role as given.
    pub users: HashMap<String, (Vec<Person>, Option<String>)>,
}

impl UserIndex {
    /// Whether `id` is a student.
    pub fn is_student(&self, id: &str) -> bool {
        self.users.get(id).is_some_and(|(p, _)| p.contains(&Person::Student))
    }
    /// The relationship and role token of `id` when it is a contact.
    pub fn contact(&self, id: &str) -> Option<(Relationship, Option<&str>)> {
        let (people, role) = self.users.get(id)?;
        people.iter().find_map(|p| match p {
            Person::Contact(r) => Some((*r, role.as_deref())),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemRow;
    use super::*;

    fn ctx(version: Version) -> Ctx {
        Ctx { system: "oneroster".into(), version }
    }

    #[test]
    fn orgs_and_sessions() {
        let row = MemRow::new(
            "orgs.csv",
            3,
            &[
                ("sourcedId", "s1"),
                ("name", "High"),
                ("type", "School"),
                ("parentSourcedId", "d1"),
                ("metadata.city", "Bend"),
                ("metadata.ferry.postal_code", "97701"),
            ],
        );
        let m = org(&ctx(Version::V1_1), &row).unwrap();
        assert_eq!(m.record.kind.as_ref().unwrap().code, OrgKind::School);
        assert_eq!(m.record.parent_id.as_deref(), Some("d1"));
        assert_eq!(m.record.postal_code.as_deref(), Some("97701"));
        assert_eq!(m.record.meta.ext.get("metadata.city"), Some("Bend"));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        let bad = MemRow::new("orgs.csv", 4, &[("sourcedId", "x"), ("name", "X"), ("type", "campus")]);
        let m = org(&ctx(Version::V1_2), &bad).unwrap();
        assert_eq!(m.issues.len(), 1);
        assert_eq!(m.issues[0].field, "kind");
        let s = MemRow::new(
            "academicSessions.csv",
            2,
            &[
                ("sourcedId", "t1"),
                ("status", "tobedeleted"),
                ("dateLastModified", "2021-01-02T03:04:05.000Z"),
                ("title", "Fall"),
                ("type", "semester"),
                ("startDate", "2020-08-17"),
                ("endDate", "2020-12-18"),
                ("parentSourcedId", "y"),
                ("schoolYear", "2021"),
            ],
        );
        let m = session(&ctx(Version::V1_2), &s).unwrap();
        assert_eq!(m.record.meta.op, Operation::Delete);
        assert!(m.record.meta.modified_at.is_some());
        assert_eq!(m.record.school_year, Some(2021));
        assert!(m.issues.is_empty() && m.warnings.is_empty());
    }

    #[test]
    fn users_of_1_1_and_1_2() {
        let row = MemRow::new(
            "users.csv",
            2,
            &[
                ("sourcedId", "u1"),
                ("enabledUser", "TRUE"),
                ("orgSourcedIds", "s1"),
                ("role", "student"),
                ("username", "ines"),
                ("userIds", "{Local:863},{state:TX9}"),
                ("givenName", "Ines"),
                ("familyName", "Varga"),
                ("grades", "09"),
                ("agentSourcedIds", "p1"),
            ],
        );
        let roles = user_roles(Version::V1_1, &row, None);
        let demo = UserDemographics { birth_date: Some("2008-05-30".into()), sex: Some("female".into()) };
        let u = user(&ctx(Version::V1_1), &row, &roles, Some(&demo)).unwrap();
        let s = u.student.unwrap();
        assert_eq!(s.record.school_id.as_deref(), Some("s1"));
        assert_eq!(s.record.state_id.as_deref(), Some("TX9"));
        assert_eq!(s.record.meta.alt_id("Local"), Some("863"));
        assert_eq!(s.record.grade_level.as_ref().unwrap().code, GradeLevel::Grade09);
        assert_eq!(s.record.sex.as_ref().unwrap().code, Sex::Female);
        assert_eq!(s.warnings.len(), 1, "TRUE: {:?}", s.warnings);
        assert_eq!(u.agents, ["p1"]);

        let t = MemRow::new(
            "users.csv",
            3,
            &[
                ("sourcedId", "t1"),
                ("enabledUser", "true"),
                ("username", "t"),
                ("givenName", "T"),
                ("familyName", "Q"),
            ],
        );
        let roles = vec![
            UserRole {
                id: "r1".into(),
                role: "teacher".into(),
                role_type: Some("primary".into()),
                org: "s1".into(),
                begin: None,
                end: None,
                line: 2,
            },
            UserRole {
                id: "r2".into(),
                role: "principal".into(),
                role_type: Some("secondary".into()),
                org: "s2".into(),
                begin: Date::new(2024, 8, 1).ok(),
                end: None,
                line: 3,
            },
            UserRole {
                id: "r3".into(),
                role: "parent".into(),
                role_type: Some("primary".into()),
                org: "s1".into(),
                begin: None,
                end: None,
                line: 4,
            },
        ];
        let u = user(&ctx(Version::V1_2), &t, &roles, None).unwrap();
        let staff = u.staff.unwrap().record;
        assert_eq!(staff.role.as_ref().unwrap().code, StaffRole::Teacher);
        assert_eq!(staff.school_id.as_deref(), Some("s1"));
        assert_eq!(u.assignments.len(), 2);
        assert_eq!(u.assignments[1].role.as_ref().unwrap().code, StaffRole::Administrator);
        assert_eq!(u.assignments[1].start_date, Date::new(2024, 8, 1).ok());
        assert!(u.contact.is_some());
        assert_eq!(u.relationship, Some(Relationship::Parent));
    }

    #[test]
    fn enrollments_by_role() {
        let row = MemRow::new(
            "enrollments.csv",
            2,
            &[
                ("sourcedId", "e1"),
                ("classSourcedId", "c1"),
                ("schoolSourcedId", "s1"),
                ("userSourcedId", "t1"),
                ("role", "teacher"),
                ("primary", "false"),
            ],
        );
        let Enrollment::Staff(m) = enrollment(&ctx(Version::V1_1), &row, Some("s1")).unwrap() else {
            panic!()
        };
        assert_eq!(m.record.role.as_ref().unwrap().code, SectionRole::CoTeacher);
        assert_eq!(m.record.meta.ext.get(ext::SCHOOL), None);
        let row = MemRow::new(
            "enrollments.csv",
            3,
            &[
                ("sourcedId", "e2"),
                ("classSourcedId", "c1"),
                ("userSourcedId", "u1"),
                ("role", "student"),
                ("beginDate", "2020-08-17"),
            ],
        );
        let Enrollment::Student(m) = enrollment(&ctx(Version::V1_1), &row, None).unwrap() else { panic!() };
        assert_eq!(m.record.entry_date, Date::new(2020, 8, 17).ok());
        let row = MemRow::new("enrollments.csv", 4, &[("sourcedId", "e3"), ("role", "janitor")]);
        assert!(enrollment(&ctx(Version::V1_1), &row, None).is_err());
    }

    #[test]
    fn user_ids_and_demographics() {
        assert_eq!(list_braced("{LDAP:a},{LTI:b,c}"), ["LDAP:a", "LTI:b,c"]);
        assert_eq!(list_braced("Local:1"), ["Local:1"]);
        let row = MemRow::new(
            "demographics.csv",
            2,
            &[
                ("sourcedId", "u1"),
                ("birthDate", "2008-01-01"),
                ("asian", "true"),
                ("white", "false"),
                ("hispanicOrLatinoEthnicity", "true"),
            ],
        );
        let m = demographics(&ctx(Version::V1_1), &row, true).unwrap();
        assert_eq!(m.record.races, ["asian"]);
        assert_eq!(m.record.hispanic_or_latino, Some(true));
        assert_eq!(m.record.meta.ext.get(ext::BIRTH_DATE), None);
        let mut s = Student::default();
        set_text(&mut s, "first_name", "x");
    }
}
