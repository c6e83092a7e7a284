//! The source: reads a OneRoster package (zip or folder, 1.1 or 1.2, bulk or
//! delta) through `ferry_oneroster::read`, in the model's dependency order.
//!
//! users.csv is read once to index who is what (students, staff, contacts)
//! and then once per entity it makes (students, staff, contacts, their
//! relationships, staff assignments); roles.csv (1.2) and demographics.csv
//! are read first into small lookups by user. Every row is a record, a
//! reject with its reason, or part of a notice; every problem the reader
//! finds is a notice with its file, line and column.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use ferry_oneroster::{FileReader, Package, Problem, Row, Version as OrVersion};
use ferry_sdk::model::{EntityKind, Record};
use ferry_sdk::serde::Deserialize;
use ferry_sdk::{BatchBuilder, Error, OpenContext, Reject, Source, tracing};

use crate::map::inbound::{self, Ctx, Enrollment, Mapped, Person, UserDemographics, UserIndex, UserRole};
use crate::map::{OrRow, Version};

#[derive(Deserialize)]
#[serde(crate = "ferry_sdk::serde", deny_unknown_fields)]
struct SourceConfig {
    path: String,
    #[serde(default = "default_system")]
    system: String,
    #[serde(default)]
    version: Option<String>,
}

fn default_system() -> String {
    "oneroster".to_owned()
}

impl OrRow for Row<'_> {
    fn file(&self) -> &str {
        Row::file(self)
    }
    fn line(&self) -> u64 {
        Row::line(self)
    }
    fn get(&self, column: &str) -> Option<&str> {
        Row::get(self, column).map(str::trim).filter(|v| !v.is_empty())
    }
    fn metadata(&self) -> Vec<(String, String)> {
        // Unknown columns are kept too, under their header name.
        Row::metadata(self)
            .chain(Row::unknown(self))
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(c, v)| (c.to_owned(), v.trim().to_owned()))
            .collect()
    }
}

/// What one step reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Orgs,
    Sessions,
    Students,
    Staff,
    Contacts,
    StudentContacts,
    Demographics,
    Courses,
    Classes,
    SectionStaff,
    SectionEnrollments,
    StaffAssignments,
    Categories,
    LineItems,
    Results,
}

impl Step {
    const ALL: [Step; 15] = [
        Step::Orgs,
        Step::Sessions,
        Step::Students,
        Step::Staff,
        Step::Contacts,
        Step::StudentContacts,
        Step::Demographics,
        Step::Courses,
        Step::Classes,
        Step::SectionStaff,
        Step::SectionEnrollments,
        Step::StaffAssignments,
        Step::Categories,
        Step::LineItems,
        Step::Results,
    ];

    fn entity(self) -> EntityKind {
        match self {
            Step::Orgs => EntityKind::Orgs,
            Step::Sessions => EntityKind::AcademicSessions,
            Step::Students => EntityKind::Students,
            Step::Staff => EntityKind::Staff,
            Step::Contacts => EntityKind::Contacts,
            Step::StudentContacts => EntityKind::StudentContacts,
            Step::Demographics => EntityKind::Demographics,
            Step::Courses => EntityKind::Courses,
            Step::Classes => EntityKind::Sections,
            Step::SectionStaff => EntityKind::SectionStaff,
            Step::SectionEnrollments => EntityKind::SectionEnrollments,
            Step::StaffAssignments => EntityKind::StaffAssignments,
            Step::Categories => EntityKind::LineItemCategories,
            Step::LineItems => EntityKind::LineItems,
            Step::Results => EntityKind::LineItemResults,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Step::Orgs => "orgs",
            Step::Sessions => "academicSessions",
            Step::Students
            | Step::Staff
            | Step::Contacts
            | Step::StudentContacts
            | Step::StaffAssignments => "users",
            Step::Demographics => "demographics",
            Step::Courses => "courses",
            Step::Classes => "classes",
            Step::SectionStaff | Step::SectionEnrollments => "enrollments",
            Step::Categories => "categories",
            Step::LineItems => "lineItems",
            Step::Results => "results",
        }
    }
}

/// Files of the package this connector does not read yet, with why.
const NOT_READ: &[(&str, &str)] = &[
    ("scoreScales", "score scales have no place in the model"),
    ("lineItemScoreScales", "score scales have no place in the model"),
    ("resultScoreScales", "score scales have no place in the model"),
    ("lineItemLearningObjectiveIds", "learning objectives have no place in the model"),
    ("resultLearningObjectiveIds", "learning objectives have no place in the model"),
    ("resources", "resources have no place in the model"),
    ("classResources", "resources have no place in the model"),
    ("courseResources", "resources have no place in the model"),
    ("userResources", "resources have no place in the model"),
    ("userProfiles", "user profiles hold credentials, which are never read"),
];

/// Most notices sent for problems of one file (the rest are counted).
const MAX_NOTICES_PER_FILE: usize = 50;

/// The source.
pub(crate) struct OneRosterSource {
    pkg: Package,
    version: Version,
    or_version: OrVersion,
    ctx: Ctx,
    steps: Vec<Step>,
    current: usize,
    reader: Option<FileReader>,
    /// Notices to send first (package problems, files not read).
    notices: Vec<String>,
    /// Problems sent per file, and those beyond the cap.
    noticed: HashMap<String, (usize, usize)>,
    roles: HashMap<String, Vec<UserRole>>,
    role_rejects: Vec<Reject>,
    demographics: HashMap<String, UserDemographics>,
    users: UserIndex,
    class_school: HashMap<String, String>,
    pairs: HashSet<String>,
}

impl OneRosterSource {
    pub(crate) fn open(ctx: &OpenContext) -> Result<OneRosterSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        let path: PathBuf = ctx.resolve(&cfg.path);
        let pkg = Package::open(&path).map_err(|e| Error::config(format!("path: {e}")))?;
        let configured = match cfg.version.as_deref() {
            Some(v) => Some(OrVersion::parse(v).ok_or_else(|| {
                Error::config(format!("version: {v:?} is not a OneRoster version (1.1 or 1.2)"))
            })?),
            None => None,
        };
        let or_version = match (pkg.declared_version(), configured) {
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => {
                // No readable manifest version: a users.csv with a role column is 1.1.
                let v11 = pkg
                    .open_file("users", OrVersion::V1_1)
                    .is_ok_and(|r| r.header().columns.iter().any(|c| c.name == "role"));
                if v11 { OrVersion::V1_1 } else { OrVersion::V1_2 }
            }
        };
        let version: Version = or_version;
        let mut notices: Vec<String> = pkg.problems().iter().map(problem_text).collect();
        if pkg.declared_version().is_none() {
            notices
                .push(format!("the package declares no readable oneroster.version; read as {}", or_version));
        }
        for (stem, why) in NOT_READ {
            if let Some(f) = pkg.file(stem) {
                notices.push(format!("{}: not read: {why}", f.name));
            }
        }
        let steps = Step::ALL
            .iter()
            .copied()
            .filter(|s| ctx.wants(s.entity()) && pkg.file(s.file()).is_some())
            .collect();
        let mut src = OneRosterSource {
            pkg,
            version,
            or_version,
            ctx: Ctx { system: cfg.system, version },
            steps,
            current: 0,
            reader: None,
            notices,
            noticed: HashMap::new(),
            roles: HashMap::new(),
            role_rejects: Vec::new(),
            demographics: HashMap::new(),
            users: UserIndex::default(),
            class_school: HashMap::new(),
            pairs: HashSet::new(),
        };
        src.preload()?;
        tracing::info!(version = %or_version, files = src.pkg.files().len(), "Opened a OneRoster package.");
        Ok(src)
    }

    fn open_file(&mut self, stem: &str) -> Result<Option<FileReader>, Error> {
        if self.pkg.file(stem).is_none() {
            return Ok(None);
        }
        let mut r = self.pkg.open_file(stem, self.or_version).map_err(|e| Error::data(e.to_string()))?;
        let problems = r.take_problems();
        self.note_problems(r.file().to_owned(), problems);
        Ok(Some(r))
    }

    fn note_problems(&mut self, file: String, problems: Vec<Problem>) {
        let seen = self.noticed.entry(file).or_default();
        for p in problems {
            if seen.0 < MAX_NOTICES_PER_FILE {
                seen.0 += 1;
                self.notices.push(problem_text(&p));
            } else {
                seen.1 += 1;
            }
        }
    }

    /// roles.csv (1.2), demographics.csv and the index of users.
    fn preload(&mut self) -> Result<(), Error> {
        if self.version == Version::V1_2
            && let Some(mut r) = self.open_file("roles")?
        {
            while let Some(row) = r.next_row() {
                let row = row.map_err(|e| Error::data(e.to_string()))?;
                match inbound::role_row(&row) {
                    Ok((user, role)) => self.roles.entry(user).or_default().push(role),
                    Err(reason) => self.role_rejects.push(
                        Reject::new(EntityKind::StaffAssignments, format!("roles.csv: {reason}"))
                            .at(row.file(), row.line()),
                    ),
                }
            }
            let (file, problems) = (r.file().to_owned(), r.take_problems());
            self.note_problems(file, problems);
        }
        if let Some(mut r) = self.open_file("demographics")? {
            while let Some(row) = r.next_row() {
                let row = row.map_err(|e| Error::data(e.to_string()))?;
                if let Some(id) = OrRow::get(&row, "sourcedId") {
                    self.demographics.insert(id.to_owned(), inbound::user_demographics(&row));
                }
            }
        }
        if let Some(mut r) = self.open_file("users")? {
            while let Some(row) = r.next_row() {
                let row = row.map_err(|e| Error::data(e.to_string()))?;
                let Some(id) = OrRow::get(&row, "sourcedId") else { continue };
                let roles = inbound::user_roles(self.version, &row, self.roles.get(id).map(Vec::as_slice));
                let contact_role = roles
                    .iter()
                    .find(|x| matches!(inbound::person_of(&x.role), Some(Person::Contact(_))))
                    .map(|x| x.role.clone());
                self.users.users.insert(id.to_owned(), (inbound::people(&roles), contact_role));
            }
        }
        Ok(())
    }

    /// Reads rows of the current step into `out`; `true` when its file ended.
    fn fill(&mut self, step: Step, out: &mut BatchBuilder, budget: &mut u32) -> Result<bool, Error> {
        if self.reader.is_none() {
            self.reader = self.open_file(step.file())?;
            if step == Step::StaffAssignments {
                for r in std::mem::take(&mut self.role_rejects) {
                    out.reject(r);
                }
            }
        }
        let Some(mut reader) = self.reader.take() else { return Ok(true) };
        let kind = step.entity();
        let done = loop {
            if out.is_full() || *budget == 0 {
                break false;
            }
            let Some(row) = reader.next_row() else { break true };
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    out.reject(Reject::new(kind, e.to_string()));
                    *budget -= 1;
                    continue;
                }
            };
            self.row(step, &row, out, budget)?;
        };
        let (file, problems) = (reader.file().to_owned(), reader.take_problems());
        // Problems of a file are reported once, in the first step reading it.
        if matches!(step, Step::Students | Step::SectionStaff)
            || !matches!(step.file(), "users" | "enrollments")
        {
            self.note_problems(file, problems);
        }
        if !done {
            self.reader = Some(reader);
        }
        Ok(done)
    }

    fn push<R: Record>(&self, m: Mapped<R>, out: &mut BatchBuilder, budget: &mut u32) -> Result<(), Error> {
        if out.push_with(&m.record, &m.issues)? {
            for (field, reason) in m.warnings {
                out.warn_last(Reject::warning(R::KIND, reason).of(m.record.meta()).field(field))?;
            }
        } else {
            *budget = budget.saturating_sub(1);
        }
        Ok(())
    }

    fn reject(kind: EntityKind, row: &Row<'_>, reason: String, out: &mut BatchBuilder, budget: &mut u32) {
        let mut r = Reject::new(kind, reason).at(row.file(), row.line());
        if let Some(id) = OrRow::get(row, "sourcedId") {
            r = r.record(id);
        }
        out.reject(r);
        *budget = budget.saturating_sub(1);
    }

    fn row(
        &mut self,
        step: Step,
        row: &Row<'_>,
        out: &mut BatchBuilder,
        budget: &mut u32,
    ) -> Result<(), Error> {
        let kind = step.entity();
        let ctx = &self.ctx;
        match step {
            Step::Orgs => match inbound::org(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Sessions => match inbound::session(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Courses => match inbound::course(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Classes => match inbound::class(ctx, row) {
                Ok(m) => {
                    if let Some(s) = &m.record.school_id {
                        self.class_school.insert(m.record.meta.source.id.clone(), s.clone());
                    }
                    self.push(m, out, budget)?;
                }
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Categories => match crate::map::gradebook::category(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::LineItems => match crate::map::gradebook::line_item(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Results => match crate::map::gradebook::result(ctx, row) {
                Ok(m) => self.push(m, out, budget)?,
                Err(e) => Self::reject(kind, row, e, out, budget),
            },
            Step::Demographics => {
                let id = OrRow::get(row, "sourcedId").unwrap_or_default();
                let student = self.users.is_student(id);
                match inbound::demographics(ctx, row, student) {
                    Ok(m) => self.push(m, out, budget)?,
                    Err(e) => Self::reject(kind, row, e, out, budget),
                }
            }
            Step::SectionStaff | Step::SectionEnrollments => {
                let class = OrRow::get(row, "classSourcedId").unwrap_or_default();
                let school = self.class_school.get(class).map(String::as_str);
                match (inbound::enrollment(ctx, row, school), step) {
                    (Ok(Enrollment::Staff(m)), Step::SectionStaff) => self.push(m, out, budget)?,
                    (Ok(Enrollment::Student(m)), Step::SectionEnrollments) => self.push(m, out, budget)?,
                    (Err(e), Step::SectionStaff) => Self::reject(kind, row, e, out, budget),
                    _ => {}
                }
            }
            Step::Students
            | Step::Staff
            | Step::Contacts
            | Step::StaffAssignments
            | Step::StudentContacts => {
                self.user_row(step, row, out, budget)?;
            }
        }
        Ok(())
    }

    fn user_row(
        &mut self,
        step: Step,
        row: &Row<'_>,
        out: &mut BatchBuilder,
        budget: &mut u32,
    ) -> Result<(), Error> {
        let kind = step.entity();
        let id = OrRow::get(row, "sourcedId").unwrap_or_default().to_owned();
        let roles = inbound::user_roles(self.version, row, self.roles.get(&id).map(Vec::as_slice));
        let u = match inbound::user(&self.ctx, row, &roles, self.demographics.get(&id)) {
            Ok(u) => u,
            Err(e) => {
                if step == Step::Students {
                    Self::reject(kind, row, e, out, budget);
                }
                return Ok(());
            }
        };
        let nothing = u.student.is_none() && u.staff.is_none() && u.contact.is_none();
        match step {
            Step::Students => {
                if nothing {
                    let reason = if roles.is_empty() {
                        if self.version == Version::V1_2 {
                            "the user has no role in roles.csv, so it is neither a student, a staff member nor a contact".to_owned()
                        } else {
                            "columns \"role\" or \"orgSourcedIds\" are empty, so the user is neither a student, a staff member nor a contact".to_owned()
                        }
                    } else {
                        format!(
                            "role: not a OneRoster role ({} value(s) unknown); the user is neither a student, a staff member nor a contact",
                            u.unknown_roles.len()
                        )
                    };
                    Self::reject(kind, row, reason, out, budget);
                } else if let Some(m) = u.student {
                    self.push(m, out, budget)?;
                }
            }
            Step::Staff => {
                if let Some(m) = u.staff {
                    self.push(m, out, budget)?;
                }
            }
            Step::Contacts => {
                if let Some(m) = u.contact {
                    self.push(m, out, budget)?;
                }
            }
            Step::StaffAssignments => {
                for a in u.assignments {
                    if !out.push(&a)? {
                        *budget = budget.saturating_sub(1);
                    }
                }
            }
            Step::StudentContacts => {
                let me_student = u.student.is_some();
                for agent in &u.agents {
                    let pair = if me_student {
                        self.users
                            .contact(agent)
                            .map(|(rel, role)| (id.clone(), agent.clone(), rel, role.map(str::to_owned)))
                    } else if u.contact.is_some() && self.users.is_student(agent) {
                        Some((
                            agent.clone(),
                            id.clone(),
                            u.relationship.unwrap_or(ferry_sdk::model::Relationship::Other),
                            self.users.contact(&id).and_then(|(_, r)| r.map(str::to_owned)),
                        ))
                    } else {
                        None
                    };
                    let Some((student, contact, rel, role)) = pair else { continue };
                    if self.pairs.insert(format!("{student}\u{0}{contact}")) {
                        let r = inbound::student_contact(
                            &self.ctx,
                            row,
                            &student,
                            &contact,
                            Some(rel),
                            role.as_deref(),
                        );
                        if !out.push(&r)? {
                            *budget = budget.saturating_sub(1);
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A reader's problem as a notice: where, then what.
fn problem_text(p: &Problem) -> String {
    format!("{} {}: {} [{}]", p.severity, p.location(), p.message, p.code)
}

impl Source for OneRosterSource {
    fn entities(&self) -> Vec<EntityKind> {
        let mut out: Vec<EntityKind> = self.steps.iter().map(|s| s.entity()).collect();
        out.dedup();
        out
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        for n in std::mem::take(&mut self.notices) {
            out.notice(n);
        }
        let mut budget = 10_000u32;
        while let Some(step) = self.steps.get(self.current).copied() {
            if !out.accepts(step.entity()) {
                return Ok(true);
            }
            let finished = self.fill(step, out, &mut budget)?;
            for n in std::mem::take(&mut self.notices) {
                out.notice(n);
            }
            if !finished {
                return Ok(true);
            }
            self.reader = None;
            self.current += 1;
            if !out.is_empty() {
                return Ok(self.current < self.steps.len());
            }
        }
        for (file, (_, more)) in &self.noticed {
            if *more > 0 {
                out.notice(format!(
                    "{file}: {more} more problem(s) not listed (run ferry validate oneroster for all of them)"
                ));
            }
        }
        self.noticed.clear();
        Ok(false)
    }
}
