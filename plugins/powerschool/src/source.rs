//! [`PowerSchoolSource`]: reads the folder in passes, one entity at a time
//! in dependency order. Small tables are read first into lookups (schools,
//! terms, codes, students, staff, courses, sections); CC, StoredGrades,
//! PGFinalGrades and Attendance are streamed row by row and never held.
//!
//! Accounting: every file has exactly one *counted* pass, in which each
//! row becomes a record of the file's entity, a reject, or is *folded*
//! (used by a lookup, or merged into another row's record); other passes
//! over the same file (Students is read again for legacy contacts,
//! demographics and the current enrollment) produce further records and
//! count nothing. After the counted pass, rows = records + rejects + folded
//! is checked, and reported in [`PowerSchoolSource::file_stats`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;

use ferry_sdk::model::{AttendanceEvent, EntityKind, Grade, SectionEnrollment};
use ferry_sdk::text::{TextReader, ValueParser};
use ferry_sdk::{BatchBuilder, Error, OpenContext, Reject, Source, tracing};

use crate::config::{Settings, SourceConfig};
use crate::files::{self, FileSpec};
use crate::lookups::Lookups;
use crate::map_activity as act;
use crate::map_people::{self as people, PersonPart};
use crate::map_school::{self as school, LeadTeacher};
use crate::row::{Bad, Ctx, Fields, Mapped, Out, Prepared, Want, unmapped};
use crate::tables::Table;

/// One pass over one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Schools,
    TermsPrescan,
    Terms,
    Gen,
    Students,
    SchoolStaff,
    Users,
    TeachersPrescan,
    Teachers,
    TeachersIndex,
    PersonPart(PersonPart),
    Person,
    LegacyContacts,
    FlatContacts,
    ContactAssoc,
    LegacyStudentContacts,
    FlatStudentContacts,
    StudentRace,
    Demographics,
    Courses,
    Sections,
    CurrentEnrollments,
    ReEnrollments,
    Cc,
    StoredGrades,
    PgFinalGrades,
    AttendanceCode,
    Period,
    CalendarDay,
    Attendance,
}

impl Pass {
    /// The entity of the pass's records, or of its rejects for lookups.
    fn entity(self) -> EntityKind {
        match self {
            Pass::Schools => EntityKind::Orgs,
            Pass::TermsPrescan | Pass::Terms => EntityKind::AcademicSessions,
            Pass::Gen | Pass::CurrentEnrollments | Pass::ReEnrollments => EntityKind::SchoolEnrollments,
            Pass::Students => EntityKind::Students,
            Pass::SchoolStaff
            | Pass::Users
            | Pass::TeachersPrescan
            | Pass::Teachers
            | Pass::TeachersIndex => EntityKind::Staff,
            Pass::PersonPart(p) => people::person_part_entity(p),
            Pass::Person | Pass::LegacyContacts | Pass::FlatContacts => EntityKind::Contacts,
            Pass::ContactAssoc | Pass::LegacyStudentContacts | Pass::FlatStudentContacts => {
                EntityKind::StudentContacts
            }
            Pass::StudentRace | Pass::Demographics => EntityKind::Demographics,
            Pass::Courses => EntityKind::Courses,
            Pass::Sections => EntityKind::Sections,
            Pass::Cc => EntityKind::SectionEnrollments,
            Pass::StoredGrades | Pass::PgFinalGrades => EntityKind::Grades,
            Pass::AttendanceCode | Pass::Period | Pass::CalendarDay | Pass::Attendance => {
                EntityKind::Attendance
            }
        }
    }

    /// Whether the pass produces records (else it feeds a lookup).
    fn produces(self) -> bool {
        !matches!(
            self,
            Pass::TermsPrescan
                | Pass::Gen
                | Pass::SchoolStaff
                | Pass::TeachersPrescan
                | Pass::TeachersIndex
                | Pass::PersonPart(_)
                | Pass::StudentRace
                | Pass::AttendanceCode
                | Pass::Period
                | Pass::CalendarDay
        )
    }

    /// The pass's columns and which go to extensions.
    fn prepare(self, file: &FileSpec, legacy: bool) -> Prepared {
        use crate::map_activity::*;
        use crate::map_people::*;
        use crate::map_school::*;
        let cols = &file.columns;
        let student_ext = move |m: Option<Mapped>| match m {
            None | Some(Mapped::No) => true,
            Some(Mapped::Legacy) => !legacy,
            _ => false,
        };
        let plain = |want: &[Want]| Prepared::new(cols, want, unmapped);
        match self {
            Pass::Schools => plain(school_cols::WANT),
            Pass::TermsPrescan | Pass::Terms => plain(term_cols::WANT),
            Pass::Gen => plain(gen_cols::WANT),
            Pass::Students => Prepared::new(cols, student_cols::WANT, student_ext),
            Pass::LegacyContacts | Pass::LegacyStudentContacts => {
                Prepared::new(cols, student_cols::WANT, |_| false)
            }
            Pass::Demographics => {
                Prepared::new(cols, student_cols::WANT, |m| matches!(m, Some(Mapped::Demographics)))
            }
            Pass::CurrentEnrollments => {
                Prepared::new(cols, student_cols::WANT, |m| matches!(m, Some(Mapped::Enrollment)))
            }
            Pass::SchoolStaff => plain(schoolstaff_cols::WANT),
            Pass::Users => plain(users_cols::WANT),
            Pass::TeachersPrescan | Pass::Teachers | Pass::TeachersIndex => plain(users_cols::WANT),
            Pass::PersonPart(p) => {
                let want = match p {
                    PersonPart::CodeSet => codeset_cols::WANT,
                    PersonPart::Email => email_cols::WANT,
                    PersonPart::Phone => phone_cols::WANT,
                    PersonPart::Address => address_cols::WANT,
                    PersonPart::Detail => detail_cols::WANT,
                    PersonPart::PersonEmail | PersonPart::PersonPhone | PersonPart::PersonAddress => {
                        link_cols::WANT
                    }
                };
                plain(want)
            }
            Pass::Person => plain(person_cols::WANT),
            Pass::FlatContacts | Pass::FlatStudentContacts => plain(flat_cols::WANT),
            Pass::ContactAssoc => plain(assoc_cols::WANT),
            Pass::StudentRace => plain(race_cols::WANT),
            Pass::Courses => plain(course_cols::WANT),
            Pass::Sections => plain(section_cols::WANT),
            Pass::ReEnrollments => plain(reenroll_cols::WANT),
            Pass::Cc => plain(cc_cols::WANT),
            Pass::StoredGrades => plain(stored_cols::WANT),
            Pass::PgFinalGrades => plain(pg_cols::WANT),
            Pass::AttendanceCode => plain(attcode_cols::WANT),
            Pass::Period => plain(period_cols::WANT),
            Pass::CalendarDay => plain(calendar_cols::WANT),
            Pass::Attendance => plain(att_cols::WANT),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    File { file: usize, pass: Pass, counted: bool },
    LogicalSchools,
    SectionStaff,
}

/// What became of one file's rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStats {
    /// File name.
    pub file: String,
    /// The PowerSchool table.
    pub table: String,
    /// The encoding it was read with.
    pub encoding: String,
    /// The entity its records (or its rejects, for lookup tables) are of.
    pub entity: String,
    /// Data rows read.
    pub rows: u64,
    /// Records of `entity` made from rows.
    pub records: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rows used by a lookup or merged into another row's record.
    pub folded: u64,
}

struct Cur {
    reader: TextReader<File>,
    prep: Prepared,
    parser: ValueParser,
    file: usize,
    pass: Pass,
    counted: bool,
}

/// The PowerSchool source.
pub struct PowerSchoolSource {
    settings: Settings,
    files: Vec<FileSpec>,
    steps: VecDeque<Step>,
    cur: Option<Cur>,
    lk: Lookups,
    stats: Vec<FileStats>,
    counted: Vec<bool>,
    entities: Vec<EntityKind>,
    section_staff: VecDeque<(usize, LeadTeacher)>,
    terms_seen: HashSet<(i64, i64)>,
    flat_seen: HashMap<String, ()>,
    scratch: Scratch,
}

/// Records refilled row after row by the streamed tables, and the id buffer.
#[derive(Default)]
struct Scratch {
    enrollment: SectionEnrollment,
    grade: Grade,
    event: AttendanceEvent,
    id: String,
}

impl PowerSchoolSource {
    /// Opens the folder named by the configuration.
    pub fn open(ctx: &OpenContext) -> Result<PowerSchoolSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        let dir = ctx.resolve(&cfg.directory);
        let files = files::discover(&dir, &cfg)?;
        let has = |t: Table| files.iter().any(|f| f.table == t);
        let settings = Settings::new(&cfg, has(Table::Person))?;
        let mut src = PowerSchoolSource {
            stats: files
                .iter()
                .map(|f| FileStats {
                    file: f.name.clone(),
                    table: f.table.name().to_owned(),
                    encoding: f.encoding.name().to_owned(),
                    ..FileStats::default()
                })
                .collect(),
            counted: vec![false; files.len()],
            settings,
            steps: VecDeque::new(),
            cur: None,
            lk: Lookups::default(),
            entities: Vec::new(),
            section_staff: VecDeque::new(),
            terms_seen: HashSet::new(),
            flat_seen: HashMap::new(),
            scratch: Scratch::default(),
            files,
        };
        src.lk.keep_cc = src.files.iter().any(|f| f.table == Table::Attendance && f.has("ccid"));
        src.plan();
        Ok(src)
    }

    /// What became of each file's rows (complete once the source is read).
    pub fn file_stats(&self) -> &[FileStats] {
        &self.stats
    }

    fn plan(&mut self) {
        let mut steps = Vec::new();
        let of = |t: Table| -> Vec<usize> {
            (0..self.files.len()).filter(|i| self.files[*i].table == t).collect()
        };
        let mut add = |t: Table, pass: Pass, counted: bool| {
            for file in of(t) {
                steps.push(Step::File { file, pass, counted });
            }
        };
        add(Table::Schools, Pass::Schools, true);
        add(Table::Gen, Pass::Gen, true);
        add(Table::Terms, Pass::TermsPrescan, false);
        add(Table::Terms, Pass::Terms, true);
        add(Table::Students, Pass::Students, true);
        add(Table::SchoolStaff, Pass::SchoolStaff, true);
        if of(Table::Users).is_empty() {
            add(Table::Teachers, Pass::TeachersPrescan, false);
            add(Table::Teachers, Pass::Teachers, true);
        } else {
            add(Table::Users, Pass::Users, true);
            add(Table::Teachers, Pass::TeachersIndex, true);
        }
        for (t, p) in [
            (Table::CodeSet, PersonPart::CodeSet),
            (Table::EmailAddress, PersonPart::Email),
            (Table::PersonEmailAddressAssoc, PersonPart::PersonEmail),
            (Table::PhoneNumber, PersonPart::Phone),
            (Table::PersonPhoneNumberAssoc, PersonPart::PersonPhone),
            (Table::PersonAddress, PersonPart::Address),
            (Table::PersonAddressAssoc, PersonPart::PersonAddress),
            (Table::StudentContactDetail, PersonPart::Detail),
        ] {
            add(t, Pass::PersonPart(p), true);
        }
        add(Table::Person, Pass::Person, true);
        let legacy = self.settings.legacy_contacts;
        if legacy {
            add(Table::Students, Pass::LegacyContacts, false);
        }
        add(Table::Contacts, Pass::FlatContacts, false);
        add(Table::StudentContactAssoc, Pass::ContactAssoc, true);
        if legacy {
            add(Table::Students, Pass::LegacyStudentContacts, false);
        }
        add(Table::Contacts, Pass::FlatStudentContacts, true);
        add(Table::StudentRace, Pass::StudentRace, true);
        add(Table::Students, Pass::Demographics, false);
        add(Table::Courses, Pass::Courses, true);
        add(Table::Sections, Pass::Sections, true);
        add(Table::Students, Pass::CurrentEnrollments, false);
        add(Table::ReEnrollments, Pass::ReEnrollments, true);
        add(Table::Cc, Pass::Cc, true);
        add(Table::StoredGrades, Pass::StoredGrades, true);
        add(Table::PgFinalGrades, Pass::PgFinalGrades, true);
        add(Table::AttendanceCode, Pass::AttendanceCode, true);
        add(Table::Period, Pass::Period, true);
        add(Table::CalendarDay, Pass::CalendarDay, true);
        add(Table::Attendance, Pass::Attendance, true);
        // Logical schools right after the Schools files; section staff after the sections.
        let after_schools = steps
            .iter()
            .rposition(|s| matches!(s, Step::File { pass: Pass::Schools, .. }))
            .map_or(0, |i| i + 1);
        steps.insert(after_schools, Step::LogicalSchools);
        let after_sections = steps
            .iter()
            .rposition(|s| matches!(s, Step::File { pass: Pass::Sections, .. }))
            .map_or(steps.len(), |i| i + 1);
        steps.insert(after_sections, Step::SectionStaff);
        let mut entities = vec![EntityKind::Orgs];
        for s in &steps {
            let e = match s {
                Step::File { pass, .. } if pass.produces() => pass.entity(),
                Step::SectionStaff if of(Table::Sections).iter().any(|_| true) => EntityKind::SectionStaff,
                _ => continue,
            };
            if !entities.contains(&e) {
                entities.push(e);
            }
        }
        entities.sort();
        self.entities = entities;
        self.steps = steps.into();
    }

    fn open_step(&mut self, file: usize, pass: Pass, counted: bool) -> Result<(), Error> {
        let spec = &self.files[file];
        let reader = spec.open()?;
        let prep = pass.prepare(spec, self.settings.legacy_contacts);
        let parser = ValueParser::new(&spec.dialect);
        self.lk.seal();
        match pass {
            Pass::Attendance => self.lk.seal_cc(),
            Pass::LegacyContacts | Pass::FlatContacts | Pass::ContactAssoc => self.lk.release_person_parts(),
            Pass::Courses | Pass::Sections | Pass::CurrentEnrollments | Pass::ReEnrollments | Pass::Cc => {
                self.lk.release_people();
            }
            _ => {}
        }
        if counted {
            self.counted[file] = true;
            self.stats[file].entity = pass.entity().name().to_owned();
        }
        tracing::debug!("{}: {:?} pass", spec.name, pass);
        self.cur = Some(Cur { reader, prep, parser, file, pass, counted });
        Ok(())
    }

    fn close_step(&mut self) -> Result<(), Error> {
        let Some(cur) = self.cur.take() else { return Ok(()) };
        if cur.counted {
            let s = &self.stats[cur.file];
            tracing::info!(
                "{} ({}): {} rows: {} {} records, {} rejected, {} used by lookups or merged",
                s.file,
                s.table,
                s.rows,
                s.records,
                s.entity,
                s.rejected,
                s.folded
            );
            if s.rows != s.records + s.rejected + s.folded {
                return Err(Error::internal(format!(
                    "{}: {} rows but {} records, {} rejects and {} folded rows; a row was lost",
                    s.file, s.rows, s.records, s.rejected, s.folded
                )));
            }
        }
        Ok(())
    }

    /// Reads rows of the current file until the batch is full (record
    /// passes) or the file ends; returns whether the file ended.
    fn pump(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        let PowerSchoolSource {
            cur,
            lk,
            settings,
            files,
            stats,
            section_staff,
            terms_seen,
            flat_seen,
            scratch,
            ..
        } = self;
        let Some(cur) = cur.as_mut() else { return Ok(true) };
        let spec = &files[cur.file];
        let (pass, counted) = (cur.pass, cur.counted);
        let entity = pass.entity();
        let keep_raw = settings.keep_raw && counted && pass.produces();
        loop {
            if pass.produces() && out.is_full() {
                return Ok(false);
            }
            let Some(row) = cur.reader.next_row()? else { return Ok(true) };
            let st = &mut stats[cur.file];
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    if counted {
                        st.rows += 1;
                        st.rejected += 1;
                        let mut r = Reject::new(entity, e.to_string()).at(&spec.name, e.line);
                        r.value = Some(e.raw);
                        out.reject(r);
                    }
                    continue;
                }
            };
            let f = Fields::new(row, &cur.prep);
            let raw = keep_raw.then_some((spec.dialect.delimiter, spec.dialect.quoting));
            let id = std::mem::take(&mut scratch.id);
            let mut ctx = Ctx { file: &spec.name, line: row.line(), row, raw, parser: &cur.parser, id };
            let lookup = |r: Result<(), Bad>, ctx: &Ctx<'_>, out: &mut BatchBuilder| match r {
                Ok(()) => Out::Folded,
                Err(bad) => {
                    out.reject(ctx.reject(entity, bad));
                    Out::Rejected
                }
            };
            let o = match pass {
                Pass::Schools => school::school(&mut ctx, &f, lk, out)?,
                Pass::TermsPrescan => {
                    school::term_prescan(&ctx, &f, lk);
                    Out::Skip
                }
                Pass::Terms => school::term(&mut ctx, &f, lk, terms_seen, out)?,
                Pass::Gen => school::gen_row(&f, lk, settings),
                Pass::Students => people::student(&mut ctx, &f, lk, out)?,
                Pass::SchoolStaff => lookup(people::schoolstaff_row(&ctx, &f, lk), &ctx, out),
                Pass::Users => people::staff(&mut ctx, &f, lk, false, out)?,
                Pass::TeachersPrescan => {
                    people::teacher_prescan(&ctx, &f, lk);
                    Out::Skip
                }
                Pass::Teachers => people::staff(&mut ctx, &f, lk, true, out)?,
                Pass::TeachersIndex => lookup(people::teacher_index_row(&f, lk), &ctx, out),
                Pass::PersonPart(p) => lookup(people::person_part(&ctx, &f, lk, p), &ctx, out),
                Pass::Person => people::person(&mut ctx, &f, lk, out)?,
                Pass::LegacyContacts => people::legacy_contacts(&mut ctx, &f, lk, true, out)?,
                Pass::LegacyStudentContacts => people::legacy_contacts(&mut ctx, &f, lk, false, out)?,
                Pass::FlatContacts => people::flat_contact(&mut ctx, &f, lk, true, flat_seen, out)?,
                Pass::FlatStudentContacts => people::flat_contact(&mut ctx, &f, lk, false, flat_seen, out)?,
                Pass::ContactAssoc => people::contact_assoc(&mut ctx, &f, lk, out)?,
                Pass::StudentRace => lookup(act::race_row(&ctx, &f, lk), &ctx, out),
                Pass::Demographics => people::demographics(&mut ctx, &f, lk, settings, out)?,
                Pass::Courses => school::course(&mut ctx, &f, lk, out)?,
                Pass::Sections => {
                    let mut staff = Vec::new();
                    let o = school::section(&mut ctx, &f, lk, &mut staff, out)?;
                    section_staff.extend(staff.into_iter().map(|t| (cur.file, t)));
                    o
                }
                Pass::CurrentEnrollments => act::current_enrollment(&mut ctx, &f, lk, settings, out)?,
                Pass::ReEnrollments => act::reenrollment(&mut ctx, &f, lk, settings, out)?,
                Pass::Cc => act::cc(&mut ctx, &f, lk, &mut scratch.enrollment, out)?,
                Pass::StoredGrades => act::stored_grade(&mut ctx, &f, lk, &mut scratch.grade, out)?,
                Pass::PgFinalGrades => act::pg_grade(&mut ctx, &f, lk, &mut scratch.grade, out)?,
                Pass::AttendanceCode => lookup(act::att_code_row(&ctx, &f, lk, settings), &ctx, out),
                Pass::Period => lookup(act::period_row(&ctx, &f, lk), &ctx, out),
                Pass::CalendarDay => lookup(act::calendar_row(&ctx, &f, lk), &ctx, out),
                Pass::Attendance => act::attendance(&mut ctx, &f, lk, settings, &mut scratch.event, out)?,
            };
            scratch.id = ctx.id;
            if counted {
                st.rows += 1;
                match o {
                    Out::Record => st.records += 1,
                    Out::Rejected => st.rejected += 1,
                    Out::Folded => st.folded += 1,
                    Out::Skip => {
                        return Err(Error::internal(format!(
                            "{}: line {} was skipped in its counted pass",
                            spec.name,
                            row.line()
                        )));
                    }
                }
            }
        }
    }
}

impl Source for PowerSchoolSource {
    fn entities(&self) -> Vec<EntityKind> {
        self.entities.clone()
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        loop {
            if self.cur.is_some() {
                let ended = self.pump(out)?;
                if ended {
                    self.close_step()?;
                }
                if out.is_full() {
                    return Ok(true);
                }
                continue;
            }
            let Some(step) = self.steps.front().copied() else {
                for (i, s) in self.stats.iter().enumerate() {
                    if !self.counted[i] {
                        tracing::warn!(
                            "{}: table {} was read but is not used by this connector",
                            s.file,
                            s.table
                        );
                    }
                }
                return Ok(false);
            };
            let entity = match step {
                Step::File { pass, .. } if pass.produces() => Some(pass.entity()),
                Step::File { .. } => None,
                Step::LogicalSchools => Some(EntityKind::Orgs),
                Step::SectionStaff => Some(EntityKind::SectionStaff),
            };
            if let (Some(e), Some(have)) = (entity, out.entity()) {
                if e != have {
                    return Ok(true);
                }
            }
            match step {
                Step::File { file, pass, counted } => {
                    self.steps.pop_front();
                    self.open_step(file, pass, counted)?;
                }
                Step::LogicalSchools => {
                    self.steps.pop_front();
                    school::missing_logical_schools(&mut self.lk, out)?;
                }
                Step::SectionStaff => {
                    while !out.is_full() {
                        let Some((file, t)) = self.section_staff.pop_front() else { break };
                        out.push(&t.record(&self.files[file].name, &self.lk))?;
                    }
                    if self.section_staff.is_empty() {
                        self.steps.pop_front();
                    } else {
                        return Ok(true);
                    }
                }
            }
        }
    }
}
