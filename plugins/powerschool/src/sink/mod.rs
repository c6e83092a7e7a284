//! [`PowerSchoolSink`]: canonical records → the tab-delimited files
//! PowerSchool's import tools take (PowerSchool field names, MM/DD/YYYY
//! dates, exclusive exit dates), plus reference files for what cannot be
//! imported and an `IMPORT-GUIDE.md` saying what to import in which order.
//!
//! Rows refer to each other by the numbers PowerSchool matches on
//! (Student_Number, TeacherNumber, Course_Number + Section_Number + TermID,
//! School_Number), since PowerSchool assigns its own IDs on import.
//!
//! Lifecycle: `write` formats each record (or keeps it, for students,
//! school enrollments, contacts and sections, whose rows need records that
//! come later) and accounts for it; `prepare` writes what was kept, flushes
//! every file into a temporary folder and returns the late rejects (records
//! counted as written whose row could not be written after all) and the
//! plan; `commit` moves the files into place. A dry run does all of it but
//! writes no file and creates no folder.

mod activity;
mod contacts;
mod files;
mod guide;
mod output;
mod registry;
mod school;
mod sections;
mod students;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;

use ferry_sdk::files::{PrivateDir, create_private};
use ferry_sdk::model::EntityKind;
use ferry_sdk::text::{Delimiter, Encoding, LineEnding, QuoteStyle, WriteOptions};
use ferry_sdk::{
    Committed, EntityPlan, Error, OpenContext, Prepared, RunSummary, Sink, SinkBatch, Written, tracing,
};

use crate::config::SinkConfig;
use contacts::Contacts;
use files::ImportFile;
use guide::GUIDE;
use output::{Line, Outputs, Sheet};
use registry::Registry;
use sections::Sections;
use students::Students;

/// Records of one entity: written (or kept) and refused.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    written: u64,
    rejected: u64,
    late: u64,
}

/// The PowerSchool sink.
pub struct PowerSchoolSink {
    dir: PathBuf,
    /// The run's private temporary folder (removed with what is left in it
    /// when the sink is dropped); `None` in a dry run.
    tmp: Option<PrivateDir>,
    sheet: Sheet,
    registry: Registry,
    students: Students,
    contacts: Contacts,
    sections: Sections,
    tally: BTreeMap<EntityKind, Tally>,
    prepared: bool,
}

impl PowerSchoolSink {
    /// Opens the sink: checks the configuration and, unless this is a dry
    /// run, makes the folder and the run's temporary folder in it.
    pub fn open(ctx: &OpenContext) -> Result<PowerSchoolSink, Error> {
        let cfg: SinkConfig = ctx.config()?;
        let encoding = match cfg.encoding.as_deref() {
            None => Encoding::UTF_8,
            Some(l) => Encoding::for_label(l).map_err(|e| Error::config(format!("encoding: {e}")))?,
        };
        let line_ending = match cfg.line_ending.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("crlf") => LineEnding::Crlf,
            Some("lf") => LineEnding::Lf,
            Some(other) => return Err(Error::config(format!("line_ending: {other:?} is not crlf or lf"))),
        };
        let dir = ctx.resolve(&cfg.directory);
        let tmp = if ctx.dry_run {
            None
        } else {
            fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("directory {}: cannot create it: {e}", dir.display())))?;
            // Owner-only and exclusive: the import files hold students' records.
            Some(PrivateDir::create(&dir, "ferry-powerschool", &ctx.run_id)?)
        };
        let options = WriteOptions {
            delimiter: Delimiter::TAB,
            quoting: QuoteStyle::Never,
            line_ending,
            encoding,
            bom: false,
        };
        Ok(PowerSchoolSink {
            dir,
            sheet: Sheet {
                out: Outputs::new(tmp.as_ref().map(|d| d.path().to_owned()), options)?,
                line: Line::new()?,
            },
            tmp,
            registry: Registry::default(),
            students: Students::default(),
            contacts: Contacts::default(),
            sections: Sections::default(),
            tally: BTreeMap::new(),
            prepared: false,
        })
    }

    fn remove_tmp(&mut self) -> Result<(), Error> {
        self.tmp.take().map_or(Ok(()), PrivateDir::remove)
    }
}

/// The entities the sink writes import files for. Those of model 2.2
/// (calendars, programs, discipline, assessments, gradebook…) are not mapped
/// yet: the host skips them by plan rule.
const ENTITIES: &[EntityKind] = &[
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
    EntityKind::SchoolEnrollments,
    EntityKind::SectionEnrollments,
    EntityKind::Grades,
    EntityKind::Attendance,
];

impl Sink for PowerSchoolSink {
    fn entities(&self) -> Vec<EntityKind> {
        ENTITIES.to_vec()
    }

    fn write(&mut self, batch: SinkBatch<'_>) -> Result<Written, Error> {
        let entity = batch.entity();
        let (sheet, reg) = (&mut self.sheet, &mut self.registry);
        let w = match entity {
            EntityKind::Orgs => school::orgs(sheet, reg, batch)?,
            EntityKind::AcademicSessions => school::sessions(sheet, reg, batch)?,
            EntityKind::Students => self.students.students(sheet, reg, batch)?,
            EntityKind::Staff => school::staff(sheet, reg, batch)?,
            EntityKind::Contacts => self.contacts.contacts(sheet, reg, batch)?,
            EntityKind::StudentContacts => self.contacts.student_contacts(sheet, reg, batch)?,
            EntityKind::Demographics => self.students.demographics(sheet, reg, batch)?,
            EntityKind::Courses => school::courses(sheet, reg, batch)?,
            EntityKind::Sections => self.sections.sections(sheet, reg, batch)?,
            EntityKind::SectionStaff => self.sections.section_staff(reg, batch)?,
            EntityKind::SchoolEnrollments => self.students.enrollments(sheet, reg, batch)?,
            EntityKind::SectionEnrollments => activity::section_enrollments(sheet, reg, batch)?,
            EntityKind::Grades => activity::grades(sheet, reg, batch)?,
            EntityKind::Attendance => activity::attendance(sheet, reg, batch)?,
            other => {
                return Err(Error::unsupported(format!(
                    "the PowerSchool sink does not take {other} (it is not among its entities)"
                )));
            }
        };
        let t = self.tally.entry(entity).or_default();
        t.written += w.written;
        t.rejected += w.rejects.len() as u64;
        Ok(w)
    }

    fn prepare(&mut self, summary: &RunSummary) -> Result<Prepared, Error> {
        let sheet = &mut self.sheet;
        let mut late = self.sections.finish(sheet)?;
        late.extend(self.students.finish(sheet, &self.registry)?);
        self.registry.write_code_files(sheet)?;
        late.extend(self.contacts.unlinked());
        let counts = sheet.out.finish()?;
        if let Some(tmp) = &self.tmp {
            let guide = guide::render(&counts, summary);
            let path = tmp.path().join(GUIDE);
            let mut file = create_private(&path)?;
            file.write_all(guide.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(format!("{}: cannot write: {e}", path.display())))?;
        }
        for r in &late {
            self.tally.entry(r.entity).or_default().late += 1;
        }
        let plan = self
            .tally
            .iter()
            .map(|(e, t)| EntityPlan {
                entity: e.name().to_owned(),
                create: t.written.saturating_sub(t.late),
                reject: t.rejected + t.late,
                ..EntityPlan::default()
            })
            .collect();
        self.prepared = true;
        Ok(Prepared { rejects: late, plan, ..Prepared::default() })
    }

    fn commit(&mut self) -> Result<Committed, Error> {
        let Some(tmp) = self.tmp.as_ref().map(|d| d.path().to_owned()) else {
            return Err(Error::internal("a dry run is never committed"));
        };
        if !self.prepared {
            return Err(Error::internal("commit before prepare"));
        }
        let mut moved = 0;
        for name in ImportFile::all().map(ImportFile::name).chain(std::iter::once(GUIDE)) {
            let from = tmp.join(name);
            if from.exists() {
                let to = self.dir.join(name);
                fs::rename(&from, &to)
                    .map_err(|e| Error::io(format!("{}: cannot move into place: {e}", to.display())))?;
                moved += 1;
            }
        }
        if let Err(e) = self.remove_tmp() {
            tracing::warn!("{e}");
        }
        tracing::info!("wrote {moved} PowerSchool files into {}", self.dir.display());
        Ok(Committed {
            location: self.dir.display().to_string(),
            notes: vec![format!("import order and instructions: {}", self.dir.join(GUIDE).display())],
        })
    }

    fn abort(&mut self) -> Result<(), Error> {
        self.sheet.out.discard();
        self.remove_tmp()
    }
}
