//! Canonical records → OneRoster rows.
//!
//! Each function gives the row of one file, or the reason the record cannot
//! be placed (a reject; reasons never hold values). What OneRoster has no
//! column for goes to `metadata.*` columns ([`leftovers`]).

use ferry_sdk::model::{
    AcademicSession, CodeSet, Contact, Course, Demographics, Org, OrgKind, Record, Relationship, Section,
    SectionEnrollment, SectionRole, SectionStaff, SessionKind, Sex, Staff, StaffRole, Student, Value,
};

use super::inbound::{ALT_PREFIX, EXT_PREFIX, FIELD_PREFIX, ext};
use super::{OutRow, Version, format_timestamp};

/// A field value as text (codes as the source gave them, lists joined with commas).
pub fn format_value(v: Value<'_>) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Text(t) => t.to_owned(),
        Value::Int(n) => n.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Timestamp(t) => format_timestamp(t),
        Value::Time(t) => t.to_string(),
        Value::Code { code, original } => if original.is_empty() { code } else { original }.to_owned(),
        Value::List(l) => {
            let items: Vec<&str> = l.iter().collect();
            if items.is_empty() {
                return None;
            }
            items.join(",")
        }
    })
}

/// The record's lifecycle columns (delta packages only) and what OneRoster
/// cannot hold: canonical fields not in `used` as `metadata.ferry.<field>`,
/// extensions (those this connector keeps for OneRoster columns excepted) as
/// their own `metadata.*` column or `metadata.ext.<key>`, alternative ids as
/// `metadata.altid.<kind>` unless `alt_ids_used` (users: userIds).
pub fn leftovers<R: Record>(r: &R, used: &[&str], alt_ids_used: bool, delta: bool, out: &mut OutRow) {
    let m = r.meta();
    if delta {
        let status = match m.op {
            ferry_sdk::model::Operation::Delete => "tobedeleted",
            ferry_sdk::model::Operation::Upsert => "active",
        };
        out.set("status", Some(status));
        // A record the source gave no time for was changed as of this run.
        out.set("dateLastModified", Some(format_timestamp(m.modified_at.unwrap_or_else(now))));
    }
    for f in R::fields() {
        if used.contains(&f.name) {
            continue;
        }
        if let Some(v) = r.get(f.name).and_then(format_value) {
            out.meta(format!("{FIELD_PREFIX}{}", f.name), v);
        }
    }
    for (k, v) in m.ext.iter() {
        if k.starts_with("oneroster.") {
            continue;
        }
        if k.starts_with("metadata.") {
            out.meta(k, v);
        } else {
            out.meta(format!("{EXT_PREFIX}{k}"), v);
        }
    }
    if !alt_ids_used {
        for a in &m.alt_ids {
            out.meta(format!("{ALT_PREFIX}{}", a.kind), a.value.as_str());
        }
    }
}

/// The current time.
pub fn now() -> ferry_sdk::model::Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    ferry_sdk::model::Timestamp::from_micros(micros)
}

fn ext_of<'a, R: Record>(r: &'a R, key: &str) -> Option<&'a str> {
    r.meta().ext.get(key)
}

/// A canonical code as a OneRoster token: the table's token, else (1.2) the
/// source's value as an `ext:` token; `None` in 1.1.
fn token<T: CodeSet>(
    code: &ferry_sdk::model::Code<T>,
    table: &[(&'static str, T)],
    version: Version,
) -> Option<String> {
    if let Some((t, _)) =
        table.iter().find(|(t, c)| *c == code.code && (code.code != T::OTHER || *t == code.original))
    {
        return Some((*t).to_owned());
    }
    if code.original.starts_with("ext:") {
        return (version == Version::V1_2).then(|| code.original.clone());
    }
    (version == Version::V1_2 && code.code == T::OTHER && !code.original.is_empty())
        .then(|| format!("ext:{}", code.original.replace(',', " ")))
}

/// An orgs.csv row.
pub fn org(r: &Org, v: Version, delta: bool) -> Result<OutRow, String> {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("name", Some(r.name.as_str()));
    let kind = r.kind.as_ref().ok_or("the org has no kind, which OneRoster requires (orgs.type)")?;
    let table: &[(&str, OrgKind)] = &[
        ("district", OrgKind::District),
        ("school", OrgKind::School),
        ("state", OrgKind::State),
        ("department", OrgKind::Department),
        ("local", OrgKind::Local),
        ("national", OrgKind::Other),
    ];
    let t = token(kind, table, v)
        .ok_or("the org's kind has no OneRoster 1.1 org type (1.2 would write it as an ext: type)")?;
    out.set("type", Some(t));
    out.set("identifier", r.identifier.as_deref());
    out.set("parentSourcedId", r.parent_id.as_deref());
    leftovers(r, &["kind", "name", "identifier", "parent_id"], false, delta, &mut out);
    Ok(out)
}

/// An academicSessions.csv row. A session without a school year gets the
/// year of its end date (the year a school year ends in).
pub fn session(r: &AcademicSession, v: Version, delta: bool) -> Result<OutRow, String> {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("title", Some(r.title.as_str()));
    let kind = r.kind.as_ref().ok_or("the session has no kind (academicSessions.type)")?;
    let table: &[(&str, SessionKind)] = &[
        ("schoolYear", SessionKind::SchoolYear),
        ("semester", SessionKind::Semester),
        ("term", SessionKind::Term),
        ("gradingPeriod", SessionKind::GradingPeriod),
    ];
    // A kind OneRoster 1.1 does not have is a term: every session is one.
    let t = token(kind, table, v).unwrap_or_else(|| "term".to_owned());
    out.set("type", Some(t));
    out.set("startDate", r.start_date.map(|d| d.to_string()));
    out.set("endDate", r.end_date.map(|d| d.to_string()));
    out.set("parentSourcedId", r.parent_id.as_deref());
    let year = r.school_year.or_else(|| r.end_date.map(|d| i64::from(d.year())));
    out.set("schoolYear", year.map(|y| y.to_string()));
    let mut used = vec!["kind", "title", "start_date", "end_date", "parent_id"];
    if r.school_year.is_some() {
        used.push("school_year");
    }
    leftovers(r, &used, false, delta, &mut out);
    Ok(out)
}

/// A courses.csv row.
pub fn course(r: &Course, delta: bool) -> Result<OutRow, String> {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("schoolYearSourcedId", ext_of(r, ext::SCHOOL_YEAR));
    out.set("title", Some(r.title.as_str()));
    if ext_of(r, "oneroster.courseCode").is_none() {
        out.set("courseCode", r.course_number.as_deref());
    }
    out.set("grades", Some(r.grade_levels.join(",")));
    out.set(
        "orgSourcedId",
        Some(
            r.org_id
                .as_deref()
                .ok_or("the course has no org, which OneRoster requires (courses.orgSourcedId)")?,
        ),
    );
    out.set("subjects", ext_of(r, ext::SUBJECTS).or(r.subject.as_deref()));
    out.set("subjectCodes", ext_of(r, ext::SUBJECT_CODES).or(r.subject_code.as_deref()));
    leftovers(
        r,
        &["course_number", "title", "org_id", "subject", "subject_code", "grade_levels"],
        false,
        delta,
        &mut out,
    );
    Ok(out)
}

/// A classes.csv row; `course_title` is the title of its course (a class
/// needs a title; a section without one takes its course's).
pub fn class(r: &Section, course_title: Option<&str>, delta: bool) -> Result<OutRow, String> {
    let mut out = OutRow::new(&r.meta.source.id);
    let title = r
        .title
        .as_deref()
        .or(course_title)
        .ok_or("the section has no title and its course none either (classes.title)")?;
    out.set("title", Some(title));
    out.set("grades", ext_of(r, ext::GRADES));
    out.set("courseSourcedId", r.course_id.as_deref());
    out.set("classCode", r.section_number.as_deref());
    out.set("classType", Some(ext_of(r, ext::CLASS_TYPE).unwrap_or("scheduled")));
    out.set("location", r.room.as_deref());
    let school = r
        .school_id
        .as_deref()
        .ok_or("the section has no school, which OneRoster requires (classes.schoolSourcedId)")?;
    out.set("schoolSourcedId", Some(school));
    if r.session_ids.is_empty() {
        return Err(
            "the section meets in no session, and OneRoster requires its terms (classes.termSourcedIds)"
                .to_owned(),
        );
    }
    out.set("termSourcedIds", Some(r.session_ids.join(",")));
    out.set("subjects", ext_of(r, ext::SUBJECTS));
    out.set("subjectCodes", ext_of(r, ext::SUBJECT_CODES));
    out.set("periods", r.period.as_deref());
    let mut used = vec!["section_number", "course_id", "school_id", "session_ids", "period", "room"];
    if r.title.is_some() {
        used.push("title");
    }
    leftovers(r, &used, false, delta, &mut out);
    Ok(out)
}

/// One role of a user, to be written (1.2 roles.csv; in 1.1 the user's role
/// and orgSourcedIds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleOut {
    /// The role's sourcedId.
    pub id: String,
    /// The role token.
    pub role: String,
    /// primary or secondary.
    pub role_type: &'static str,
    /// The org.
    pub org: String,
    /// beginDate.
    pub begin: Option<String>,
    /// endDate.
    pub end: Option<String>,
}

/// The OneRoster role of a staff member.
pub fn staff_role(role: Option<&ferry_sdk::model::Code<StaffRole>>, v: Version, district: bool) -> String {
    let Some(c) = role else { return "teacher".to_owned() };
    let v12 = v == Version::V1_2;
    // A 1.2 token the source gave (principal, siteAdministrator…) is kept.
    let given =
        ["principal", "siteAdministrator", "districtAdministrator", "systemAdministrator", "counselor"];
    if v12 && given.contains(&c.original.as_str()) {
        return c.original.clone();
    }
    match c.code {
        StaffRole::Teacher => "teacher",
        StaffRole::Aide => "aide",
        StaffRole::Proctor => "proctor",
        StaffRole::Counselor if v12 => "counselor",
        StaffRole::Administrator if v12 => {
            if district {
                "districtAdministrator"
            } else {
                "siteAdministrator"
            }
        }
        StaffRole::Administrator | StaffRole::Counselor => "administrator",
        _ if v12 && c.original.starts_with("ext:") => return c.original.clone(),
        _ if v12 => {
            return format!(
                "ext:{}",
                if c.original.is_empty() { "staff" } else { c.original.as_str() }.replace(',', " ")
            );
        }
        _ => "administrator",
    }
    .to_owned()
}

/// The OneRoster role of a contact from the relationship.
pub fn contact_role(rel: Option<Relationship>, given: Option<&str>) -> &'static str {
    if let Some(g) = given {
        for t in ["guardian", "parent", "relative"] {
            if g == t {
                return t;
            }
        }
    }
    match rel {
        Some(
            Relationship::Mother
            | Relationship::Father
            | Relationship::Parent
            | Relationship::StepMother
            | Relationship::StepFather
            | Relationship::FosterParent,
        ) => "parent",
        Some(Relationship::Grandparent | Relationship::Sibling | Relationship::Relative) => "relative",
        _ => "guardian",
    }
}

/// The person a users.csv row is written for.
pub enum PersonRef<'a> {
    /// A student.
    Student(&'a Student),
    /// A staff member.
    Staff(&'a Staff),
    /// A contact.
    Contact(&'a Contact),
}

/// A users.csv row of `person` with its roles (1.1: the first role's token
/// and every org) and agents.
pub fn user(
    person: &PersonRef<'_>,
    roles: &[RoleOut],
    agents: &[String],
    v: Version,
    delta: bool,
) -> Result<OutRow, String> {
    let meta = match person {
        PersonRef::Student(r) => &r.meta,
        PersonRef::Staff(r) => &r.meta,
        PersonRef::Contact(r) => &r.meta,
    };
    let id = meta.source.id.as_str();
    let mut out = OutRow::new(id);
    if roles.is_empty() {
        return Err(
            "the person belongs to no org, and OneRoster needs an org for every user's role".to_owned()
        );
    }
    let enabled = |ext: Option<&str>| if ext == Some("false") { "false" } else { "true" };
    let (given, family, middle, username, email, phone, sms, identifier, preferred, enabled_v) = match person
    {
        PersonRef::Student(r) => (
            &r.first_name,
            &r.last_name,
            r.middle_name.as_deref(),
            r.username.as_deref(),
            r.email.as_deref(),
            r.phone.as_deref(),
            r.meta.ext.get(ext::SMS),
            r.student_number.as_deref(),
            r.preferred_name.as_deref(),
            enabled(r.meta.ext.get(ext::ENABLED)),
        ),
        PersonRef::Staff(r) => (
            &r.first_name,
            &r.last_name,
            r.middle_name.as_deref(),
            r.username.as_deref(),
            r.email.as_deref(),
            r.phone.as_deref(),
            r.meta.ext.get(ext::SMS),
            r.staff_number.as_deref(),
            r.meta.ext.get("oneroster.preferredGivenName"),
            if r.active == Some(false) { "false" } else { "true" },
        ),
        PersonRef::Contact(r) => (
            &r.first_name,
            &r.last_name,
            r.middle_name.as_deref(),
            r.meta.ext.get("oneroster.username"),
            r.email.as_deref(),
            r.phone_home.as_deref(),
            r.phone_mobile.as_deref(),
            r.meta.ext.get("oneroster.identifier"),
            r.meta.ext.get("oneroster.preferredGivenName"),
            enabled(r.meta.ext.get(ext::ENABLED)),
        ),
    };
    out.set("enabledUser", Some(enabled_v));
    if v == Version::V1_1 {
        let mut orgs: Vec<&str> = Vec::new();
        for r in roles {
            if !orgs.contains(&r.org.as_str()) {
                orgs.push(&r.org);
            }
        }
        out.set("orgSourcedIds", Some(orgs.join(",")));
        out.set("role", Some(roles[0].role.as_str()));
    }
    // username is required: the login name, else the email, else the id.
    out.set("username", Some(username.or(email).unwrap_or(id)));
    let mut ids: Vec<String> = Vec::new();
    for a in &meta.alt_ids {
        if a.kind == "userMasterIdentifier" {
            continue;
        }
        ids.push(format!(
            "{{{}:{}}}",
            a.kind.replace([',', ':', '{', '}'], " "),
            a.value.replace([',', '{', '}'], " ")
        ));
    }
    let state = match person {
        PersonRef::Student(r) => r.state_id.as_deref(),
        PersonRef::Staff(r) => r.state_id.as_deref(),
        PersonRef::Contact(_) => None,
    };
    if let Some(s) = state
        && !meta.alt_ids.iter().any(|a| super::inbound::is_state_kind(&a.kind) && a.value == s)
    {
        ids.push(format!("{{state:{}}}", s.replace([',', '{', '}'], " ")));
    }
    out.set("userIds", Some(ids.join(",")));
    out.set("givenName", Some(given.as_str()));
    out.set("familyName", Some(family.as_str()));
    out.set("middleName", middle);
    out.set("identifier", identifier);
    out.set("email", email);
    out.set("sms", sms);
    out.set("phone", phone);
    out.set("agentSourcedIds", Some(agents.join(",")));
    if let PersonRef::Student(r) = person {
        let grades = r.meta.ext.get(ext::USER_GRADES).map(str::to_owned).or_else(|| {
            r.grade_level.as_ref().map(|g| {
                if g.code == ferry_sdk::model::GradeLevel::Other {
                    g.original.clone()
                } else {
                    g.code.as_str().to_owned()
                }
            })
        });
        out.set("grades", grades);
    }
    if v == Version::V1_2 {
        out.set("userMasterIdentifier", meta.alt_id("userMasterIdentifier"));
        out.set("preferredGivenName", preferred);
        out.set("preferredMiddleName", meta.ext.get(ext::PREFERRED_MIDDLE));
        out.set("preferredFamilyName", meta.ext.get(ext::PREFERRED_FAMILY));
        let primary = match person {
            PersonRef::Student(r) => r.school_id.as_deref(),
            PersonRef::Staff(r) => r.school_id.as_deref(),
            PersonRef::Contact(_) => None,
        };
        out.set("primaryOrgSourcedId", primary);
        out.set("pronouns", meta.ext.get(ext::PRONOUNS));
    }
    let mut ext_v12: Vec<(&str, &str)> = Vec::new();
    if v == Version::V1_1 {
        // 1.1 has no column for these: metadata, read back into the same place.
        for (key, val) in [
            (ext::PREFERRED_MIDDLE, meta.ext.get(ext::PREFERRED_MIDDLE)),
            (ext::PREFERRED_FAMILY, meta.ext.get(ext::PREFERRED_FAMILY)),
            (ext::PRONOUNS, meta.ext.get(ext::PRONOUNS)),
        ] {
            if let Some(val) = val {
                ext_v12.push((key, val));
            }
        }
    }
    match person {
        PersonRef::Student(r) => {
            let mut used = vec![
                "first_name",
                "last_name",
                "middle_name",
                "username",
                "email",
                "phone",
                "student_number",
                "grade_level",
                "state_id",
                "school_id",
                "birth_date",
                "sex",
            ];
            if v == Version::V1_2 {
                used.push("preferred_name");
            }
            if r.username.is_none() && r.email.is_some() {
                // The email stood in for the username: keep that it did not.
                out.meta(format!("{FIELD_PREFIX}username"), "");
            }
            leftovers(*r, &used, true, delta, &mut out);
        }
        PersonRef::Staff(r) => {
            let used = [
                "first_name",
                "last_name",
                "middle_name",
                "username",
                "email",
                "phone",
                "staff_number",
                "state_id",
                "school_id",
                "active",
                "role",
            ];
            leftovers(*r, &used, true, delta, &mut out);
        }
        PersonRef::Contact(r) => {
            let used = ["first_name", "last_name", "middle_name", "email", "phone_home", "phone_mobile"];
            leftovers(*r, &used, true, delta, &mut out);
        }
    }
    for (k, val) in ext_v12 {
        out.meta(format!("{EXT_PREFIX}{k}"), val);
    }
    Ok(out)
}

/// A roles.csv row (1.2).
pub fn role(user: &str, r: &RoleOut, delta: bool, op_delete: bool) -> OutRow {
    let mut out = OutRow::new(&r.id);
    if delta {
        out.set("status", Some(if op_delete { "tobedeleted" } else { "active" }));
        out.set("dateLastModified", Some(format_timestamp(now())));
    }
    out.set("userSourcedId", Some(user));
    out.set("roleType", Some(r.role_type));
    out.set("role", Some(r.role.as_str()));
    out.set("beginDate", r.begin.as_deref());
    out.set("endDate", r.end.as_deref());
    out.set("orgSourcedId", Some(r.org.as_str()));
    out
}

/// An enrollments.csv row of a student.
pub fn student_enrollment(r: &SectionEnrollment, school: &str, delta: bool) -> OutRow {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("classSourcedId", r.section_id.as_deref());
    out.set("schoolSourcedId", Some(r.meta.ext.get(ext::SCHOOL).unwrap_or(school)));
    out.set("userSourcedId", r.student_id.as_deref());
    out.set("role", Some("student"));
    out.set("beginDate", r.entry_date.map(|d| d.to_string()));
    out.set("endDate", r.exit_date.map(|d| d.to_string()));
    leftovers(r, &["student_id", "section_id", "entry_date", "exit_date"], false, delta, &mut out);
    out
}

/// An enrollments.csv row of a staff member in a section.
pub fn staff_enrollment(r: &SectionStaff, school: &str, v: Version, delta: bool) -> OutRow {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("classSourcedId", r.section_id.as_deref());
    out.set("schoolSourcedId", Some(r.meta.ext.get(ext::SCHOOL).unwrap_or(school)));
    out.set("userSourcedId", r.staff_id.as_deref());
    let (role, primary) = match r.role.as_ref() {
        Some(c) if ["administrator", "proctor"].contains(&c.original.as_str()) => (c.original.clone(), None),
        Some(c) if c.code == SectionRole::Lead => ("teacher".to_owned(), Some("true")),
        Some(c) if c.code == SectionRole::CoTeacher => ("teacher".to_owned(), Some("false")),
        Some(c) if c.code == SectionRole::Aide && v == Version::V1_2 => ("ext:aide".to_owned(), None),
        Some(c) if c.original.starts_with("ext:") && v == Version::V1_2 => (c.original.clone(), None),
        None => ("teacher".to_owned(), Some("true")),
        _ => ("teacher".to_owned(), Some("false")),
    };
    out.set("role", Some(role));
    let primary = r.meta.ext.get(ext::PRIMARY).or(primary);
    out.set("primary", primary);
    out.set("beginDate", r.start_date.map(|d| d.to_string()));
    out.set("endDate", r.end_date.map(|d| d.to_string()));
    let mut used = vec!["staff_id", "section_id", "start_date", "end_date"];
    if r.role.as_ref().is_none_or(|c| {
        matches!(c.code, SectionRole::Lead | SectionRole::CoTeacher)
            || ["administrator", "proctor", "teacher"].contains(&c.original.as_str())
    }) {
        used.push("role");
    }
    leftovers(r, &used, false, delta, &mut out);
    out
}

/// A demographics.csv row: the person's demographics record and, for a
/// student, the birth date and sex of the student record.
pub fn demographics(
    id: &str,
    d: Option<&Demographics>,
    student: Option<&Student>,
    v: Version,
    delta: bool,
) -> OutRow {
    let mut out = OutRow::new(id);
    let b = |x: Option<bool>| x.map(|b| b.to_string());
    if let Some(s) = student {
        out.set("birthDate", s.birth_date.map(|d| d.to_string()));
        if let Some(sex) = &s.sex {
            let t = match sex.code {
                Sex::Male => Some("male"),
                Sex::Female => Some("female"),
                Sex::Unspecified if v == Version::V1_2 => Some("other"),
                Sex::NotReported if v == Version::V1_2 => Some("unspecified"),
                _ => None,
            };
            match t {
                Some(t) => out.set("sex", Some(t)),
                None => out.meta(format!("{FIELD_PREFIX}sex"), sex.original.as_str()),
            }
        }
    }
    if let Some(d) = d {
        if student.is_none() {
            out.set("birthDate", d.meta.ext.get(ext::BIRTH_DATE));
            out.set("sex", d.meta.ext.get(ext::SEX));
        }
        let race = |flag: Option<bool>, code: &str| {
            flag.or_else(|| d.races.iter().any(|r| r == code).then_some(true))
        };
        out.set(
            "americanIndianOrAlaskaNative",
            b(race(d.american_indian_or_alaska_native, "americanIndianOrAlaskaNative")),
        );
        out.set("asian", b(race(d.asian, "asian")));
        out.set("blackOrAfricanAmerican", b(race(d.black_or_african_american, "blackOrAfricanAmerican")));
        out.set(
            "nativeHawaiianOrOtherPacificIslander",
            b(race(d.native_hawaiian_or_other_pacific_islander, "nativeHawaiianOrOtherPacificIslander")),
        );
        out.set("white", b(race(d.white, "white")));
        out.set("demographicRaceTwoOrMoreRaces", b(d.two_or_more_races));
        out.set("hispanicOrLatinoEthnicity", b(d.hispanic_or_latino));
        out.set("countryOfBirthCode", d.birth_country.as_deref());
        out.set("stateOfBirthAbbreviation", d.birth_state.as_deref());
        out.set("cityOfBirth", d.birth_city.as_deref());
        out.set("publicSchoolResidenceStatus", d.meta.ext.get(ext::RESIDENCE));
        let used = [
            "person_id",
            "hispanic_or_latino",
            "american_indian_or_alaska_native",
            "asian",
            "black_or_african_american",
            "native_hawaiian_or_other_pacific_islander",
            "white",
            "two_or_more_races",
            "birth_country",
            "birth_state",
            "birth_city",
            "races",
        ];
        leftovers(d, &used, false, delta, &mut out);
        // Races without a OneRoster column (middleEasternOrNorthAfrican, a source's own).
        let extra: Vec<&str> = d
            .races
            .iter()
            .map(String::as_str)
            .filter(|r| !super::inbound::RACES.iter().any(|(_, c)| c == r))
            .collect();
        if !extra.is_empty() {
            out.meta(format!("{FIELD_PREFIX}races"), d.races.join(","));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ferry_sdk::model::{Code, Date, Meta};

    use super::*;

    #[test]
    fn orgs_sessions_classes() {
        let mut o = Org {
            meta: Meta::new("x", "s1"),
            name: "High".into(),
            kind: Some(Code::normalize("school")),
            city: Some("Bend".into()),
            ..Org::default()
        };
        o.meta.ext.insert("U_Code", "7");
        let row = org(&o, Version::V1_2, false).unwrap();
        assert_eq!(row.get("type"), Some("school"));
        assert_eq!(
            row.metadata,
            [
                ("metadata.ferry.city".to_owned(), "Bend".to_owned()),
                ("metadata.ext.U_Code".to_owned(), "7".to_owned())
            ]
        );
        o.kind = Some(Code::normalize("campus"));
        assert_eq!(org(&o, Version::V1_2, false).unwrap().get("type"), Some("ext:campus"));
        assert!(org(&o, Version::V1_1, false).is_err());
        let s = AcademicSession {
            meta: Meta::new("x", "t"),
            kind: Some(Code::normalize("Semester")),
            title: "S1".into(),
            start_date: Date::new(2024, 8, 1).ok(),
            end_date: Date::new(2025, 1, 10).ok(),
            ..AcademicSession::default()
        };
        let row = session(&s, Version::V1_2, false).unwrap();
        assert_eq!(row.get("type"), Some("semester"));
        assert_eq!(row.get("schoolYear"), Some("2025"));
        let c = Section {
            meta: Meta::new("x", "c"),
            course_id: Some("k".into()),
            school_id: Some("s1".into()),
            ..Section::default()
        };
        assert!(class(&c, Some("Algebra"), false).unwrap_err().contains("session"));
    }
}
