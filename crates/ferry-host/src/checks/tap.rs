//! The checks tap: what each batch reaching the sink says that the rules
//! need, kept small (ids, dates, a place per candidate record; attendance as
//! the set of school days it was recorded on), and the rules evaluated once
//! every batch was seen, whatever order the source sent its entities in.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ferry_model::{
    AcademicSessionView, AttendanceEventView, CalendarDayView, Date, EntityKind, FieldsView, GradeView,
    RecordView, SchoolEnrollmentView, SectionEnrollmentView, SectionView, Value,
};

use super::{EXAMPLES, Finding, Findings, Place, Rule, RuleConfig, RuleResult, Severity};
use crate::stages::{StageBatch, Tap};

/// A record's place, its file interned.
#[derive(Clone, Debug)]
struct Loc {
    id: String,
    file: u32,
    line: u64,
}

struct Enrollment {
    loc: Loc,
    student: String,
    school: String,
    year: Option<i64>,
    entry: Option<Date>,
    exit: Option<Date>,
    exit_code: bool,
}

/// A session's school year, first and last day.
type SessionSpan = (Option<i64>, Option<Date>, Option<Date>);
/// Per school and school year: its school days, with their calendar place.
type SchoolDays<'t> = BTreeMap<(String, i64), Vec<(Date, Option<&'t Loc>)>>;

struct SectionInfo {
    loc: Loc,
    course: Option<String>,
    school: Option<String>,
    sessions: Vec<String>,
}

struct SectionEnrollment {
    loc: Loc,
    student: String,
    section: String,
}

#[derive(Default)]
struct Required {
    count: u64,
    examples: Vec<Loc>,
}

/// The readiness checks' tap (see the module documentation of
/// [`crate::checks`]).
pub struct ChecksTap {
    config: RuleConfig,
    files: Vec<String>,
    file_index: HashMap<String, u32>,
    /// Sessions: id → (school year, start, end).
    sessions: HashMap<String, SessionSpan>,
    enrollments: Vec<Enrollment>,
    sections: HashMap<String, SectionInfo>,
    section_enrollments: Vec<SectionEnrollment>,
    section_enrollments_read: bool,
    /// Sections with a student not dropped.
    attended_sections: HashSet<String>,
    /// Stored grades: sections with one; (student, section); (student,
    /// course, year).
    graded_sections: HashSet<String>,
    graded: HashSet<(String, String)>,
    graded_course: HashSet<(String, String, Option<i64>)>,
    grades_read: u64,
    /// Attendance: (school, day); (section, day) for events with only a
    /// section; days of events with neither.
    attended: HashMap<(String, Date), u64>,
    attended_by_section: HashMap<(String, Date), u64>,
    attended_anywhere: HashSet<Date>,
    attendance_read: u64,
    /// In-session calendar days: (school, day, year, place).
    school_days: Vec<(String, Date, Option<i64>, Loc)>,
    calendar_schools: BTreeSet<String>,
    /// Required fields: (entity, field) → empties.
    required: BTreeMap<(String, String), Required>,
    /// Records seen per entity with a required field.
    required_seen: BTreeMap<String, u64>,
}

impl ChecksTap {
    /// A tap running `config`.
    pub fn new(config: RuleConfig) -> ChecksTap {
        let required = if config.enabled(Rule::RequiredFields).is_some() {
            config.required.iter().map(|k| (k.clone(), Required::default())).collect()
        } else {
            BTreeMap::new()
        };
        ChecksTap {
            config,
            files: Vec::new(),
            file_index: HashMap::new(),
            sessions: HashMap::new(),
            enrollments: Vec::new(),
            sections: HashMap::new(),
            section_enrollments: Vec::new(),
            section_enrollments_read: false,
            attended_sections: HashSet::new(),
            graded_sections: HashSet::new(),
            graded: HashSet::new(),
            graded_course: HashSet::new(),
            grades_read: 0,
            attended: HashMap::new(),
            attended_by_section: HashMap::new(),
            attended_anywhere: HashSet::new(),
            attendance_read: 0,
            school_days: Vec::new(),
            calendar_schools: BTreeSet::new(),
            required,
            required_seen: BTreeMap::new(),
        }
    }

    fn loc(&mut self, meta: &ferry_model::MetaView<'_>, row: usize) -> Loc {
        let file = meta.source_file(row).unwrap_or_default();
        let idx = match self.file_index.get(file) {
            Some(i) => *i,
            None => {
                let i = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
                self.files.push(file.to_owned());
                self.file_index.insert(file.to_owned(), i);
                i
            }
        };
        Loc { id: meta.source_id(row).to_owned(), file: idx, line: meta.source_line(row) }
    }

    fn place(&self, loc: &Loc) -> Place {
        Place {
            id: loc.id.clone(),
            file: self.files.get(loc.file as usize).cloned().unwrap_or_default(),
            line: loc.line,
        }
    }

    fn year_end_rules(&self) -> bool {
        self.config.rules.iter().any(|r| r.enabled && r.rule.set() == "year-end")
    }

    fn observe_required(&mut self, batch: &StageBatch) {
        let entity = batch.entity.name();
        if !self.required.keys().any(|(e, _)| e == entity) {
            return;
        }
        let Ok(view) = FieldsView::new(batch.entity, &batch.records) else { return };
        *self.required_seen.entry(entity.to_owned()).or_default() += view.len() as u64;
        let fields: Vec<(String, usize)> = self
            .required
            .keys()
            .filter(|(e, _)| e == entity)
            .filter_map(|(_, f)| view.index(f).map(|i| (f.clone(), i)))
            .collect();
        for row in 0..view.len() {
            for (field, col) in &fields {
                let empty = match view.get(*col, row) {
                    Value::Null => true,
                    Value::Text(s) => s.trim().is_empty(),
                    Value::Code { code, original } => code.is_empty() && original.is_empty(),
                    Value::List(l) => l.is_empty(),
                    _ => false,
                };
                if !empty {
                    continue;
                }
                let loc = (self.required[&(entity.to_owned(), field.clone())].examples.len() < EXAMPLES)
                    .then(|| self.loc(view.meta(), row));
                let r = self.required.get_mut(&(entity.to_owned(), field.clone())).expect("listed");
                r.count += 1;
                r.examples.extend(loc);
            }
        }
    }
}

impl Tap for ChecksTap {
    fn observe(&mut self, batch: &StageBatch) {
        self.observe_required(batch);
        if !self.year_end_rules() {
            return;
        }
        let records = &batch.records;
        match batch.entity {
            EntityKind::AcademicSessions => {
                let Ok(v) = AcademicSessionView::new(records) else { return };
                for i in 0..v.len() {
                    let year = v.school_year(i).or_else(|| {
                        // A school year session without its year: the year it ends in.
                        let whole = v.kind(i).is_some_and(|k| k.code == "schoolYear");
                        whole.then(|| v.end_date(i).map(|d| i64::from(d.year()))).flatten()
                    });
                    self.sessions
                        .insert(v.meta().source_id(i).to_owned(), (year, v.start_date(i), v.end_date(i)));
                }
            }
            EntityKind::SchoolEnrollments => {
                let Ok(v) = SchoolEnrollmentView::new(records) else { return };
                for i in 0..v.len() {
                    let loc = self.loc(v.meta(), i);
                    self.enrollments.push(Enrollment {
                        loc,
                        student: v.student_id(i).unwrap_or_default().to_owned(),
                        school: v.school_id(i).unwrap_or_default().to_owned(),
                        year: v.school_year(i),
                        entry: v.entry_date(i),
                        exit: v.exit_date(i),
                        exit_code: v
                            .exit_code(i)
                            .is_some_and(|c| !c.code.is_empty() || !c.original.is_empty()),
                    });
                }
            }
            EntityKind::Sections => {
                let Ok(v) = SectionView::new(records) else { return };
                for i in 0..v.len() {
                    let loc = self.loc(v.meta(), i);
                    self.sections.insert(
                        loc.id.clone(),
                        SectionInfo {
                            loc,
                            course: v.course_id(i).map(str::to_owned),
                            school: v.school_id(i).map(str::to_owned),
                            sessions: v.session_ids(i).to_vec(),
                        },
                    );
                }
            }
            EntityKind::SectionEnrollments => {
                let Ok(v) = SectionEnrollmentView::new(records) else { return };
                self.section_enrollments_read = true;
                for i in 0..v.len() {
                    let status = v.status(i).map_or("", |s| s.code);
                    if status == "dropped" {
                        continue;
                    }
                    let Some(section) = v.section_id(i) else { continue };
                    self.attended_sections.insert(section.to_owned());
                    let loc = self.loc(v.meta(), i);
                    self.section_enrollments.push(SectionEnrollment {
                        loc,
                        student: v.student_id(i).unwrap_or_default().to_owned(),
                        section: section.to_owned(),
                    });
                }
            }
            EntityKind::Grades => {
                let Ok(v) = GradeView::new(records) else { return };
                for i in 0..v.len() {
                    self.grades_read += 1;
                    let kind = v.kind(i).map_or("", |k| k.code);
                    if !self.config.stored_grade_kinds.iter().any(|k| k == kind) {
                        continue;
                    }
                    let student = v.student_id(i).unwrap_or_default();
                    if let Some(s) = v.section_id(i).filter(|s| !s.is_empty()) {
                        self.graded_sections.insert(s.to_owned());
                        self.graded.insert((student.to_owned(), s.to_owned()));
                    }
                    if let Some(c) = v.course_id(i).or(v.course_number(i)).filter(|c| !c.is_empty()) {
                        self.graded_course.insert((student.to_owned(), c.to_owned(), v.school_year(i)));
                    }
                }
            }
            EntityKind::Attendance => {
                let Ok(v) = AttendanceEventView::new(records) else { return };
                for i in 0..v.len() {
                    let Some(day) = v.date(i) else { continue };
                    self.attendance_read += 1;
                    let school = v.school_id(i).filter(|s| !s.is_empty()).map(str::to_owned).or_else(|| {
                        v.section_id(i).and_then(|s| self.sections.get(s)).and_then(|s| s.school.clone())
                    });
                    match (school, v.section_id(i).filter(|s| !s.is_empty())) {
                        (Some(school), _) => {
                            *self.attended.entry((school, day)).or_default() += 1;
                        }
                        (None, Some(section)) => {
                            *self.attended_by_section.entry((section.to_owned(), day)).or_default() += 1;
                        }
                        (None, None) => {
                            self.attended_anywhere.insert(day);
                        }
                    }
                }
            }
            EntityKind::CalendarDays => {
                let Ok(v) = CalendarDayView::new(records) else { return };
                for i in 0..v.len() {
                    let (Some(school), Some(day)) = (v.school_id(i), v.date(i)) else { continue };
                    self.calendar_schools.insert(school.to_owned());
                    let in_session = v
                        .in_session(i)
                        .unwrap_or_else(|| v.membership_value(i).is_some_and(|m| m.units() > 0));
                    if in_session {
                        let loc = self.loc(v.meta(), i);
                        self.school_days.push((school.to_owned(), day, v.school_year(i), loc));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Collects a finding's count and first examples.
struct Hits<'t> {
    tap: &'t ChecksTap,
    count: u64,
    examples: Vec<Place>,
}

impl Hits<'_> {
    fn add(&mut self, loc: &Loc) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(self.tap.place(loc));
        }
    }
}

impl ChecksTap {
    fn hits(&self) -> Hits<'_> {
        Hits { tap: self, count: 0, examples: Vec::new() }
    }

    /// Per school year (the year it ends in): the first and last day of its
    /// sessions.
    fn year_spans(&self) -> BTreeMap<i64, (Date, Date)> {
        let mut spans: BTreeMap<i64, (Date, Date)> = BTreeMap::new();
        for (year, start, end) in self.sessions.values() {
            let (Some(y), Some(s), Some(e)) = (year, start, end) else { continue };
            let span = spans.entry(*y).or_insert((*s, *e));
            span.0 = span.0.min(*s);
            span.1 = span.1.max(*e);
        }
        spans
    }

    /// The school year of a day: the year whose sessions hold it, else July
    /// to June.
    fn year_of(spans: &BTreeMap<i64, (Date, Date)>, d: Date) -> i64 {
        spans
            .iter()
            .find(|(_, (s, e))| *s <= d && d <= *e)
            .map_or_else(|| i64::from(d.year()) + i64::from(d.month() >= 7), |(y, _)| *y)
    }

    /// The last day of a school year: its sessions' last, else June 30.
    fn year_end(spans: &BTreeMap<i64, (Date, Date)>, y: i64) -> Date {
        spans.get(&y).map(|s| s.1).unwrap_or_else(|| {
            Date::new(i32::try_from(y).unwrap_or(i32::MAX), 6, 30)
                .unwrap_or(Date::new(9999, 12, 31).expect("a date"))
        })
    }

    /// The section's school year: its sessions' latest year.
    fn section_year(&self, s: &SectionInfo) -> Option<i64> {
        s.sessions.iter().filter_map(|id| self.sessions.get(id).and_then(|x| x.0)).max()
    }

    /// The findings of every enabled rule.
    pub fn findings(&self) -> Findings {
        let cfg = &self.config;
        let spans = self.year_spans();
        let mut notes = Vec::new();
        // Every school year the records name.
        let mut years: BTreeSet<i64> = spans.keys().copied().collect();
        let enrollment_year = |e: &Enrollment| e.year.or_else(|| e.entry.map(|d| Self::year_of(&spans, d)));
        years.extend(self.enrollments.iter().filter_map(enrollment_year));
        years.extend(self.sections.values().filter_map(|s| self.section_year(s)));
        let closed: BTreeSet<i64> = match &cfg.closed_years {
            Some(list) => list.iter().copied().collect(),
            None => years.iter().copied().filter(|y| Self::year_end(&spans, *y) < cfg.as_of).collect(),
        };
        if cfg.closed_years.is_none() && self.year_end_rules() {
            notes.push(format!(
                "closed school years: those whose sessions all ended before {} (set [checks.year-end] as_of or closed_years to change it)",
                cfg.as_of
            ));
        }
        let mut results = Vec::new();
        let mut findings = Vec::new();
        for state in &cfg.rules {
            let rule = state.rule;
            let mut count = 0;
            if state.enabled {
                let mut found: Vec<(Option<String>, Hits<'_>)> = Vec::new();
                match rule {
                    Rule::OpenEnrollments => {
                        let mut h = self.hits();
                        for e in &self.enrollments {
                            let Some(y) = enrollment_year(e) else { continue };
                            if closed.contains(&y) && e.exit.is_none_or(|x| x > Self::year_end(&spans, y)) {
                                h.add(&e.loc);
                            }
                        }
                        found.push((None, h));
                    }
                    Rule::NoExitCode => {
                        // Each student's last enrollment of each closed year.
                        let mut last: HashMap<(&str, i64), &Enrollment> = HashMap::new();
                        for e in &self.enrollments {
                            let Some(y) = enrollment_year(e) else { continue };
                            if !closed.contains(&y) {
                                continue;
                            }
                            let key = |e: &Enrollment| (e.exit.is_none(), e.exit, e.entry);
                            last.entry((&e.student, y))
                                .and_modify(|l| {
                                    if key(e) > key(l) {
                                        *l = e;
                                    }
                                })
                                .or_insert(e);
                        }
                        let mut missing: Vec<&Enrollment> =
                            last.into_values().filter(|e| !e.exit_code).collect();
                        missing.sort_by_key(|e| (e.loc.file, e.loc.line));
                        let mut h = self.hits();
                        for e in missing {
                            h.add(&e.loc);
                        }
                        found.push((None, h));
                    }
                    Rule::SectionsWithoutFinalGrades => {
                        if !self.section_enrollments_read {
                            notes.push(
                                "no section enrollments were read: every section of a closed year is taken to have students".into(),
                            );
                        }
                        let mut sections: Vec<&SectionInfo> = self
                            .sections
                            .values()
                            .filter(|s| self.section_year(s).is_some_and(|y| closed.contains(&y)))
                            .filter(|s| {
                                !self.section_enrollments_read || self.attended_sections.contains(&s.loc.id)
                            })
                            .filter(|s| !self.graded_sections.contains(&s.loc.id))
                            .collect();
                        sections.sort_by_key(|s| (s.loc.file, s.loc.line));
                        let mut h = self.hits();
                        for s in sections {
                            h.add(&s.loc);
                        }
                        found.push((None, h));
                    }
                    Rule::CompletedWithoutGrades => {
                        let mut h = self.hits();
                        for e in &self.section_enrollments {
                            let Some(s) = self.sections.get(&e.section) else { continue };
                            let Some(y) = self.section_year(s) else { continue };
                            if !closed.contains(&y) {
                                continue;
                            }
                            // Completed, or active after its year closed (it ran to the end).
                            let by_section = self.graded.contains(&(e.student.clone(), e.section.clone()));
                            let by_course = s.course.as_ref().is_some_and(|c| {
                                self.graded_course.contains(&(e.student.clone(), c.clone(), Some(y)))
                                    || self.graded_course.contains(&(e.student.clone(), c.clone(), None))
                            });
                            if !by_section && !by_course {
                                h.add(&e.loc);
                            }
                        }
                        found.push((None, h));
                    }
                    Rule::DaysWithoutAttendance => {
                        found.push((None, self.days_without_attendance(&spans, &closed, &mut notes)));
                    }
                    Rule::RequiredFields => {
                        let unread: BTreeSet<&str> = self
                            .required
                            .keys()
                            .map(|(e, _)| e.as_str())
                            .filter(|e| !self.required_seen.contains_key(*e))
                            .collect();
                        if !unread.is_empty() {
                            notes.push(format!(
                                "no record of {} was read, so their required fields were not checked: does the source export them?",
                                unread.into_iter().collect::<Vec<_>>().join(", ")
                            ));
                        }
                        for ((entity, field), r) in &self.required {
                            let mut h = self.hits();
                            h.count = r.count;
                            h.examples = r.examples.iter().map(|l| self.place(l)).collect();
                            found.push((Some(format!("{entity}.{field}")), h));
                        }
                    }
                }
                if matches!(rule, Rule::SectionsWithoutFinalGrades | Rule::CompletedWithoutGrades)
                    && self.grades_read == 0
                    && found.iter().any(|(_, h)| h.count > 0)
                    && !notes.iter().any(|n| n.starts_with("no grades"))
                {
                    notes.push("no grades were read at all: was the stored grades table (PowerSchool StoredGrades) exported?".into());
                }
                for (field, h) in found {
                    count += h.count;
                    if h.count == 0 {
                        continue;
                    }
                    let entity = match &field {
                        Some(f) => f.split_once('.').map_or("", |(e, _)| e).to_owned(),
                        None => rule.entity().to_owned(),
                    };
                    findings.push(Finding {
                        rule: rule.id(),
                        entity,
                        explanation: match &field {
                            Some(f) => format!("{f}: {}", rule.explanation()),
                            None => rule.explanation().to_owned(),
                        },
                        field,
                        severity: if state.blocking { Severity::Blocking } else { Severity::Warning },
                        action: rule.action().to_owned(),
                        count: h.count,
                        examples: h.examples,
                    });
                }
            }
            results.push(RuleResult {
                rule: rule.id(),
                set: rule.set().to_owned(),
                enabled: state.enabled,
                blocking: state.blocking,
                count,
            });
        }
        Findings {
            as_of: cfg.as_of,
            closed_years: closed.into_iter().collect(),
            rules: results,
            findings,
            notes,
        }
    }

    fn days_without_attendance(
        &self,
        spans: &BTreeMap<i64, (Date, Date)>,
        closed: &BTreeSet<i64>,
        notes: &mut Vec<String>,
    ) -> Hits<'_> {
        let mut attended = self.attended.clone();
        for ((section, day), n) in &self.attended_by_section {
            if let Some(school) = self.sections.get(section).and_then(|s| s.school.clone()) {
                *attended.entry((school, *day)).or_default() += n;
            }
        }
        let as_of = self.config.as_of;
        let min = self.config.min_daily_attendance;
        let taken = |school: &str, day: Date| {
            attended.contains_key(&(school.to_owned(), day)) || self.attended_anywhere.contains(&day)
        };
        // Per school and closed year: its school days (with their place, when
        // a calendar says them) and the attendance events recorded on them.
        let mut days: SchoolDays<'_> = BTreeMap::new();
        if !self.calendar_schools.is_empty() {
            notes.push(format!(
                "school days: the in-session days of the calendars read (calendar_days) of {} school(s), up to {as_of}",
                self.calendar_schools.len()
            ));
            for (school, d, y, loc) in &self.school_days {
                let y = y.unwrap_or_else(|| Self::year_of(spans, *d));
                if *d < as_of && closed.contains(&y) {
                    days.entry((school.clone(), y)).or_default().push((*d, Some(loc)));
                }
            }
        } else {
            // No calendar: the days school was in session per the data are the
            // days some school recorded attendance; each school that recorded
            // any that year is checked on them.
            notes.push(
                "school days: no calendar was read (calendar_days), so the days school was in session are taken from the data: the days any school recorded attendance; each school is checked on the days of the years it recorded any"
                    .into(),
            );
            let mut district_days: BTreeSet<Date> = attended.keys().map(|(_, d)| *d).collect();
            district_days.extend(self.attended_anywhere.iter().copied());
            let schools: BTreeSet<(String, i64)> =
                attended.keys().map(|(s, d)| (s.clone(), Self::year_of(spans, *d))).collect();
            for (school, y) in schools {
                if !closed.contains(&y) {
                    continue;
                }
                let list: Vec<(Date, Option<&Loc>)> = district_days
                    .iter()
                    .filter(|d| **d < as_of && Self::year_of(spans, **d) == y)
                    .map(|d| (*d, None))
                    .collect();
                days.insert((school, y), list);
            }
        }
        // A school without students in a year (its calendar made ahead, say)
        // takes no attendance.
        let with_students: HashSet<(&str, i64)> = self
            .enrollments
            .iter()
            .filter_map(|e| {
                let y = e.year.or_else(|| e.entry.map(|d| Self::year_of(spans, d)))?;
                Some((e.school.as_str(), y))
            })
            .collect();
        if !self.enrollments.is_empty() {
            days.retain(|(school, y), _| with_students.contains(&(school.as_str(), *y)));
        }
        let mut h = self.hits();
        let mut too_few = Vec::new();
        for ((school, y), list) in &mut days {
            list.sort_by_key(|(d, _)| *d);
            let events: u64 = list.iter().filter_map(|(d, _)| attended.get(&(school.clone(), *d))).sum();
            // Only absences may be recorded (no record is present): a school
            // with few records a day has days without any by chance. A school
            // with none all year is checked every day.
            #[allow(clippy::cast_precision_loss, reason = "an average for a threshold")]
            let per_day = events as f64 / list.len().max(1) as f64;
            if events > 0 && per_day < min {
                too_few.push(format!("{school} ({y}: {per_day:.1} a day)"));
                continue;
            }
            for (d, loc) in list.iter() {
                if taken(school, *d) {
                    continue;
                }
                match loc {
                    Some(loc) => h.add(loc),
                    None => {
                        h.count += 1;
                        if h.examples.len() < EXAMPLES {
                            h.examples.push(Place {
                                id: format!("{school}:{d}"),
                                file: String::new(),
                                line: 0,
                            });
                        }
                    }
                }
            }
        }
        if !too_few.is_empty() {
            const SHOWN: usize = 10;
            let more = too_few.len().saturating_sub(SHOWN);
            too_few.truncate(SHOWN);
            if more > 0 {
                too_few.push(format!("and {more} more"));
            }
            notes.push(format!(
                "school days not checked one by one where a school records fewer than {min} attendance events a day on average (a day without any may be a day without absences; [checks.year-end] min_daily_attendance): {}",
                too_few.join(", ")
            ));
        }
        if self.attendance_read == 0 {
            notes.push("no attendance was read at all: was the attendance table exported?".into());
        }
        h
    }
}
