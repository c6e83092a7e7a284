//! [`PowerSchoolSource`]: reads the folder in passes, one entity at a time
//! in dependency order. Small tables are read first into lookups (schools,
//! terms, codes, students, staff, courses, sections); CC, StoredGrades,
//! PGFinalGrades and Attendance are streamed row by row and never held.
//! What each pass over each table does is in `handlers` (see `pass`).
//!
//! Accounting: every file has exactly one *counted* pass, in which each
//! row becomes a record of the file's entity, a reject, or is *folded*
//! (used by a lookup, or merged into another row's record); other passes
//! over the same file (Students is read again for legacy contacts,
//! demographics and the current enrollment, Log for the discipline its
//! rows describe) produce further records and count nothing (records of the
//! file's own entity, a StudentTestScore row's further results, are
//! reported as [`FileStats::more`]). After the counted pass, rows =
//! records + rejects + folded is checked, and reported in
//! [`PowerSchoolSource::file_stats`].

mod handlers;
mod pass;
mod raw;

use std::collections::VecDeque;
use std::fs::File;

use ferry_sdk::model::EntityKind;
use ferry_sdk::text::{CellNote, Row, RowErrorKind, TextReader, ValueParser};
use ferry_sdk::{BatchBuilder, Error, FieldIssue, OpenContext, Reject, Source, tracing};

use crate::columns::ColumnMap;
use crate::config::{Settings, SourceConfig};
use crate::fields::Fields;
use crate::files::{self, FileSpec};
use crate::lookups::{Lookups, RejectedRow};
use crate::map::schools;
use crate::row::{Ctx, RowOutcome};
use crate::tables::Table;
use handlers::HANDLERS;
use pass::{Order, Pass, ReadState, RowJob};

/// Whether a column holds an id (`ID`, `DCID`, `StudentID`, `SchoolID`,
/// `Student_Number`, `Course_Number`…), in which a NUL byte rejects the row.
fn is_id_column(c: &crate::header::Column) -> bool {
    let name = c.key.rsplit('.').next().unwrap_or_default();
    name.ends_with("id")
        || matches!(
            name,
            "studentnumber" | "schoolnumber" | "teachernumber" | "coursenumber" | "sectionnumber" | "number"
        )
}

/// A header's column name without its table qualifier.
fn header_name(h: &str) -> &str {
    crate::header::split(h).1
}

/// One step of the read.
#[derive(Clone, Copy)]
enum Step {
    /// A pass over a file.
    File { file: usize, pass: &'static Pass },
    /// The logical schools the Schools export lacks.
    LogicalSchools,
    /// The sections' lead teachers (of the sections SectionTeacher has no
    /// row for).
    SectionStaff,
    /// A file read as its source table (see [`raw`]).
    Raw { file: usize },
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
    /// Further records of `entity` the file's other passes made from its
    /// rows (a StudentTestScore row's second and third results); not
    /// counted in `records`.
    pub more: u64,
}

/// The pass being read.
struct Current {
    reader: TextReader<File>,
    columns: ColumnMap,
    parser: ValueParser,
    file: usize,
    pass: &'static Pass,
    /// An uncounted pass making records of the file's counted entity.
    more: bool,
}

/// Buffers reused row after row: the record id and the field issues.
#[derive(Default)]
struct Scratch {
    id: String,
    issues: Vec<FieldIssue>,
}

/// The PowerSchool source.
pub struct PowerSchoolSource {
    settings: Settings,
    files: Vec<FileSpec>,
    steps: VecDeque<Step>,
    current: Option<Current>,
    lk: Lookups,
    stats: Vec<FileStats>,
    counted: Vec<bool>,
    entities: Vec<EntityKind>,
    state: ReadState,
    scratch: Scratch,
    /// The destination keeps source tables: every file is read once more as one.
    source_tables: bool,
    /// The source table being read.
    raw: Option<raw::RawRead>,
    /// Lines for the run summary, sent with the next batch.
    notices: Vec<String>,
    /// A row with its secrets blanked, for the raw line of a record.
    masked: Row,
    /// API mode: the state folder the API's pages are staged in, emptied
    /// once the read is over.
    staged: Option<std::path::PathBuf>,
}

impl PowerSchoolSource {
    /// Opens the folder named by the configuration, or, when `directory`
    /// is a URL, reads the API into the state folder and opens that (see
    /// [`crate::api`]).
    pub fn open(ctx: &OpenContext) -> Result<PowerSchoolSource, Error> {
        let cfg: SourceConfig = ctx.config()?;
        if crate::api::is_url(&cfg.directory) {
            let staged = crate::api::stage(ctx, &cfg)?;
            let mut src = PowerSchoolSource::open_folder(ctx, &staged.cfg, &staged.dir)?;
            src.notices.extend(staged.notices);
            src.staged = Some(staged.dir);
            return Ok(src);
        }
        PowerSchoolSource::open_folder(ctx, &cfg, &ctx.resolve(&cfg.directory))
    }

    /// Opens the export folder `dir`.
    fn open_folder(
        ctx: &OpenContext,
        cfg: &SourceConfig,
        dir: &std::path::Path,
    ) -> Result<PowerSchoolSource, Error> {
        let cfg = cfg.clone();
        let files = files::discover(dir, &cfg)?;
        let has = |t: Table| files.iter().any(|f| f.table == t);
        let mut settings = Settings::new(&cfg, has(Table::Person))?;
        // The source tables hold every row as it came: no record repeats it.
        if ctx.source_tables {
            settings.keep_raw = false;
        }
        let mut notices = Vec::new();
        let secrets: Vec<String> = files
            .iter()
            .flat_map(|f| {
                f.secrets().into_iter().map(move |c| format!("{}.{}", f.source_table, header_name(&c)))
            })
            .collect();
        if !secrets.is_empty() {
            notices.push(format!(
                "left out {} secret column(s): {} (set include_secrets = true in the source configuration to bring them in)",
                secrets.len(),
                secrets.join(", ")
            ));
        }
        if !ctx.source_tables {
            let unmapped: Vec<&str> = files
                .iter()
                .filter(|f| f.table == Table::Unmapped || handlers::SOURCE_ONLY.contains(&f.table))
                .map(|f| f.name.as_str())
                .collect();
            if !unmapped.is_empty() {
                notices.push(format!(
                    "{} file(s) hold tables Ferry does not map to canonical records and the destination keeps no source tables, so their rows are not migrated: {} (archive them with --to sqlite:FILE, or list them in `ignore`)",
                    unmapped.len(),
                    unmapped.join(", ")
                ));
            }
        }
        let mut src = PowerSchoolSource {
            stats: files
                .iter()
                .map(|f| FileStats {
                    file: f.name.clone(),
                    table: f.source_table.clone(),
                    encoding: f.encoding.name().to_owned(),
                    ..FileStats::default()
                })
                .collect(),
            counted: vec![false; files.len()],
            settings,
            steps: VecDeque::new(),
            current: None,
            lk: Lookups::default(),
            entities: Vec::new(),
            state: ReadState::default(),
            scratch: Scratch::default(),
            source_tables: ctx.source_tables,
            raw: None,
            notices,
            masked: Row::new(),
            staged: None,
            files,
        };
        src.lk.keep_cc = src.files.iter().any(|f| f.table == Table::Attendance && f.has("ccid"));
        src.lk.section_teacher_export = src.files.iter().any(|f| f.table == Table::SectionTeacher);
        // A destination that takes no canonical records (a backup of the
        // source tables alone) needs no mapping at all.
        let records = ctx.wanted.as_ref().is_none_or(|w| !w.is_empty());
        if records {
            src.plan();
        }
        if src.source_tables {
            src.steps.extend((0..src.files.len()).map(|file| Step::Raw { file }));
        }
        Ok(src)
    }

    /// What became of each file's rows (complete once the source is read).
    pub fn file_stats(&self) -> &[FileStats] {
        &self.stats
    }

    /// The steps: every pass that runs over every file of its table, in
    /// read order (see [`Order`]), with the logical schools right after the
    /// Schools files and the section staff after the sections.
    fn plan(&mut self) {
        let users = self.files.iter().any(|f| f.table == Table::Users);
        let legacy = self.settings.legacy_contacts;
        let mut passes: Vec<(Order, usize, usize, &'static Pass)> = Vec::new();
        for (h, handler) in HANDLERS.iter().enumerate() {
            for pass in handler.passes.iter().filter(|p| p.when.holds(legacy, users)) {
                for (file, _) in self.files.iter().enumerate().filter(|(_, f)| f.table == handler.table) {
                    passes.push((pass.order, h, file, pass));
                }
            }
        }
        passes.sort_by_key(|(order, h, file, _)| (*order, *h, *file));
        let mut steps: Vec<Step> =
            passes.into_iter().map(|(_, _, file, pass)| Step::File { file, pass }).collect();
        let last = |steps: &[Step], order: Order| {
            steps.iter().rposition(|s| matches!(s, Step::File { pass, .. } if pass.order == order))
        };
        let after_schools = last(&steps, Order::Schools).map_or(0, |i| i + 1);
        steps.insert(after_schools, Step::LogicalSchools);
        // After SectionTeacher too, which decides which leads are made.
        let after_sections = last(&steps, Order::SectionTeachers)
            .or_else(|| last(&steps, Order::Sections))
            .map_or(steps.len(), |i| i + 1);
        steps.insert(after_sections, Step::SectionStaff);
        let sections = self.files.iter().any(|f| f.table == Table::Sections);
        let mut entities = vec![EntityKind::Orgs];
        for s in &steps {
            let e = match s {
                Step::File { pass, .. } if pass.produces => pass.entity,
                Step::SectionStaff if sections => EntityKind::SectionStaff,
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

    /// Reads the next batch of the source table of `file`; returns whether
    /// the file ended.
    fn raw_step(&mut self, file: usize, out: &mut BatchBuilder) -> Result<bool, Error> {
        if self.raw.is_none() {
            let spec = &self.files[file];
            let keep: Vec<bool> = spec.columns.iter().map(|c| !c.secret).collect();
            let plan = raw::plan(spec, &spec.source_table, &keep)?;
            let omitted: Vec<String> = spec.secrets().iter().map(|h| header_name(h).to_owned()).collect();
            self.raw = Some(raw::RawRead::open(spec, plan, &omitted)?);
        }
        let Some(r) = self.raw.as_mut() else { return Ok(true) };
        let ended = r.fill(out)?;
        if ended {
            tracing::debug!("{}: source table {} read", self.files[file].name, r.table());
            self.raw = None;
        }
        Ok(ended)
    }

    fn open_step(&mut self, file: usize, pass: &'static Pass) -> Result<(), Error> {
        let spec = &self.files[file];
        let reader = spec.open()?;
        let legacy = self.settings.legacy_contacts;
        // With source tables kept, a record's unmapped columns are in its
        // source row already: extensions would repeat them.
        let ext = !self.source_tables;
        let columns = ColumnMap::new(&spec.columns, pass.columns, |m| ext && pass.ext.keeps(m, legacy));
        let parser = ValueParser::new(&spec.dialect);
        self.lk.seal();
        if let Some(before) = pass.before {
            before(&mut self.lk);
        }
        if pass.counted {
            self.counted[file] = true;
            self.stats[file].entity = pass.entity.name().to_owned();
        }
        tracing::debug!("{}: {:?} pass", spec.name, pass.order);
        let more = !pass.counted && pass.produces && self.stats[file].entity == pass.entity.name();
        self.current = Some(Current { reader, columns, parser, file, pass, more });
        Ok(())
    }

    fn close_step(&mut self) -> Result<(), Error> {
        let Some(cur) = self.current.take() else { return Ok(()) };
        if cur.pass.counted {
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
            if cur.pass.entity == EntityKind::Students && !self.lk.shared_numbers.is_empty() {
                let students: u32 = self.lk.shared_numbers.values().sum();
                let notice = format!(
                    "{} Student_Number value(s) are each used by more than one student ({students} students in all, different DCIDs): \
                     rows that name a student by Student_Number alone join to one of them; give each student its own number in PowerSchool",
                    self.lk.shared_numbers.len()
                );
                if !self.notices.contains(&notice) {
                    self.notices.push(notice);
                }
            }
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
        let PowerSchoolSource { current, lk, settings, files, stats, state, scratch, masked, .. } = self;
        let Some(cur) = current.as_mut() else { return Ok(true) };
        let spec = &files[cur.file];
        let pass = cur.pass;
        let keep_raw = settings.keep_raw && pass.counted && pass.produces;
        let secret: Vec<bool> = spec.columns.iter().map(|c| c.secret).collect();
        let mask = keep_raw && secret.contains(&true);
        loop {
            if pass.produces && out.is_full() {
                return Ok(false);
            }
            let Some(row) = cur.reader.next_row()? else { return Ok(true) };
            let st = &mut stats[cur.file];
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    if pass.counted {
                        if let Some(note) = pass.rejected.filter(|_| !spec.dialect.quoting) {
                            // Its keys, as far as its leading fields tell.
                            let mut cells = Row::new();
                            for cell in e.raw.split(spec.dialect.delimiter.as_char()) {
                                cells.push(cell);
                            }
                            let readable = !matches!(e.kind, RowErrorKind::FieldCount { .. });
                            let at = RejectedRow { file: spec.name.clone(), line: e.line, readable };
                            note(&Fields::new(&cells, &cur.columns), lk, &at);
                        }
                        st.rows += 1;
                        st.rejected += 1;
                        let mut r = Reject::new(pass.entity, e.to_string()).at(&spec.name, e.line);
                        r.value = Some(e.raw);
                        out.reject(r);
                    }
                    continue;
                }
            };
            // A NUL byte in an id is a damaged row: it never becomes another
            // record (a second student, with children re-pointed to it).
            if let Some(note) =
                row.notes().iter().find(|n| n.is_nul() && spec.columns.get(n.field).is_some_and(is_id_column))
            {
                if pass.counted {
                    let header = spec.columns.get(note.field).map_or("", |c| c.header.as_str());
                    if let Some(note) = pass.rejected {
                        let at = RejectedRow { file: spec.name.clone(), line: row.line(), readable: false };
                        note(&Fields::new(row, &cur.columns), lk, &at);
                    }
                    st.rows += 1;
                    st.rejected += 1;
                    let r = Reject::new(
                        pass.entity,
                        format!("{}; an id never holds one, so the row is not read", note.reason(header)),
                    )
                    .at(&spec.name, row.line())
                    .field(header)
                    .value(row.to_line(spec.dialect.delimiter, spec.dialect.quoting));
                    out.reject(r);
                }
                continue;
            }
            // What the reader noticed (a field read in a fallback encoding,
            // NULs removed) is said once, in the counted pass.
            let notes: Vec<CellNote> = if pass.counted { row.notes().to_vec() } else { Vec::new() };
            let row = if mask {
                // The raw line of the record must not carry the secrets.
                masked.clear();
                for (i, cell) in row.iter().enumerate() {
                    masked.push(if secret.get(i).copied().unwrap_or(false) { "" } else { cell });
                }
                masked.set_line(row.line());
                &*masked
            } else {
                row
            };
            let f = Fields::new(row, &cur.columns);
            let mut issues = std::mem::take(&mut scratch.issues);
            issues.clear();
            let ctx = Ctx {
                file: &spec.name,
                table: &spec.source_table,
                line: row.line(),
                row,
                raw: keep_raw.then_some((spec.dialect.delimiter, spec.dialect.quoting)),
                parser: &cur.parser,
                // Empty until the mapper names the row's record: a reject of
                // a lookup row must not carry the previous row's id (the
                // host would reject that record's children).
                id: {
                    let mut id = std::mem::take(&mut scratch.id);
                    id.clear();
                    id
                },
                issues,
                hash: None,
            };
            let mut job = RowJob {
                ctx,
                f,
                lk: &mut *lk,
                settings,
                out: &mut *out,
                state: &mut *state,
                file: cur.file,
                entity: pass.entity,
            };
            let outcome = (pass.map)(&mut job)?;
            let Ctx { line, id, issues, .. } = job.ctx;
            scratch.id = id;
            scratch.issues = issues;
            if outcome == RowOutcome::Rejected
                && let Some(note) = pass.rejected
            {
                let at = RejectedRow { file: spec.name.clone(), line, readable: true };
                note(&f, lk, &at);
            }
            for n in &notes {
                let header = spec.columns.get(n.field).map_or("", |c| c.header.as_str());
                let w = Reject::warning(pass.entity, n.reason(header)).at(&spec.name, line).field(header);
                if outcome == RowOutcome::Record && out.entity() == Some(pass.entity) && !out.is_empty() {
                    out.warn_last(w.record(scratch.id.as_str()))?;
                } else if outcome != RowOutcome::Rejected {
                    // A row folded into a lookup: the warning is about no record.
                    out.reject(w);
                }
            }
            if cur.more && outcome == RowOutcome::Record {
                st.more += 1;
            }
            if pass.counted {
                st.rows += 1;
                match outcome {
                    RowOutcome::Record => st.records += 1,
                    RowOutcome::Rejected => st.rejected += 1,
                    RowOutcome::Folded => st.folded += 1,
                    RowOutcome::Skip => {
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
        for n in self.notices.drain(..) {
            out.notice(n);
        }
        loop {
            if self.current.is_some() {
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
                for n in self.notices.drain(..) {
                    out.notice(n);
                }
                for (i, s) in self.stats.iter().enumerate() {
                    let table = self.files[i].table;
                    if !self.counted[i] && table != Table::Unmapped && !handlers::SOURCE_ONLY.contains(&table)
                    {
                        tracing::warn!(
                            "{}: table {} was read but is not used by this connector",
                            s.file,
                            s.table
                        );
                    }
                }
                if let Some(dir) = self.staged.take() {
                    crate::api::finish(&dir);
                }
                return Ok(false);
            };
            if let Step::Raw { file } = step {
                // A source table travels alone in its batch.
                if !out.is_empty() {
                    return Ok(true);
                }
                if self.raw_step(file, out)? {
                    self.steps.pop_front();
                }
                if out.is_full() {
                    return Ok(true);
                }
                continue;
            }
            let entity = match step {
                Step::File { pass, .. } if pass.produces => Some(pass.entity),
                Step::File { .. } => None,
                Step::LogicalSchools => Some(EntityKind::Orgs),
                Step::SectionStaff => Some(EntityKind::SectionStaff),
                Step::Raw { .. } => None,
            };
            if let (Some(e), Some(have)) = (entity, out.entity())
                && e != have
            {
                return Ok(true);
            }
            match step {
                Step::File { file, pass } => {
                    self.steps.pop_front();
                    self.open_step(file, pass)?;
                }
                Step::LogicalSchools => {
                    self.steps.pop_front();
                    schools::missing_logical_schools(&mut self.lk, out)?;
                }
                Step::SectionStaff => {
                    // A section SectionTeacher named takes its staff from it alone.
                    while !out.is_full() {
                        let Some((file, t)) = self.state.section_staff.pop_front() else { break };
                        if !self.lk.taught.contains(&t.section) {
                            out.push(&t.record(&self.files[file].name, &self.lk))?;
                        }
                    }
                    for (section, r) in self.state.lead_misses.drain(..) {
                        if !self.lk.taught.contains(&section) {
                            out.reject(r);
                        }
                    }
                    if self.state.section_staff.is_empty() {
                        self.steps.pop_front();
                    } else {
                        return Ok(true);
                    }
                }
                Step::Raw { .. } => {}
            }
        }
    }
}
