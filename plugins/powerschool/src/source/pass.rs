//! What one pass over the files of a table is ([`Pass`]): when it runs
//! ([`Order`], [`When`]), whether it counts the file's rows, the entity of
//! its records (or of its rejects, for a lookup), the columns it reads and
//! which go to extensions ([`ExtRule`]), the lookups it frees first, how it
//! maps a row ([`MapRow`], given a [`RowJob`]), and which keys of a row it
//! rejected the rows of other tables look their parent up by. A
//! [`Handler`] is a table with its passes.

use std::collections::{HashMap, HashSet, VecDeque};

use ferry_sdk::model::{AttendanceEvent, EntityKind, Grade, SectionEnrollment};
use ferry_sdk::{BatchBuilder, Error, Reject};

use crate::columns::{Mapped, Want, unmapped};
use crate::config::Settings;
use crate::fields::Fields;
use crate::lookups::{Lookups, RejectedRow};
use crate::map::courses::LeadTeacher;
use crate::row::{Bad, Ctx, RowOutcome};
use crate::tables::Table;

/// Where a pass comes in the read: passes run in this order, then in the
/// order of [`HANDLERS`](super::handlers::HANDLERS), then in file name order. Each table's rows are
/// read after the tables they refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Order {
    /// Schools.
    Schools,
    /// Gen (entry and exit codes).
    Gen,
    /// Terms, every (SchoolID, TermID) first.
    TermsPrescan,
    /// Terms.
    Terms,
    /// The code tables (Attendance_Code, RoleDef, Cycle_Day) → code values,
    /// with the lookups other tables resolve their codes with.
    Codes,
    /// Period, Bell_Schedule, Bell_Schedule_Items and Calendar_Day.
    Calendars,
    /// Students' extension tables, merged into the students (a lookup).
    StudentExtensionsLookup,
    /// Students.
    Students,
    /// Students' extension tables: each row's student checked.
    StudentExtensions,
    /// SchoolStaff (a lookup of Users).
    SchoolStaff,
    /// The Teachers view, each person's schools first.
    StaffPrescan,
    /// Users, or the Teachers view.
    Staff,
    /// The Teachers view's IDs, when Users was read.
    StaffIndex,
    /// SchoolStaff (or the Teachers view) → staff assignments.
    StaffAssignments,
    /// The Person model's lookups.
    PersonParts,
    /// Person.
    Person,
    /// Students' legacy contact fields → contacts.
    LegacyContacts,
    /// Ferry's flat contacts → contacts.
    FlatContacts,
    /// StudentContactAssoc.
    ContactAssoc,
    /// Students' legacy contact fields → student contacts.
    LegacyStudentContacts,
    /// Ferry's flat contacts → student contacts.
    FlatStudentContacts,
    /// StudentRace (a lookup of demographics).
    StudentRace,
    /// Students → demographics.
    Demographics,
    /// Courses.
    Courses,
    /// Sections.
    Sections,
    /// SectionTeacher → section staff (co-teachers too).
    SectionTeachers,
    /// Students → the current school enrollment.
    CurrentEnrollments,
    /// Enrollments, grades and attendance, with their lookups.
    Activity,
    /// ClassRank → academic records (the class rank).
    AcademicRecords,
    /// ClassRank → GPAs.
    Gpas,
    /// Gen `specprog` → programs (and `logtype`, `subtype` for log entries).
    Programs,
    /// SPEnrollments → program participations.
    ProgramParticipations,
    /// Log → log entries.
    LogEntries,
    /// Incident_LU_Code and Incident_Detail (lookups of the incidents).
    IncidentCodes,
    /// Incident, and Log's discipline rows → discipline incidents.
    Incidents,
    /// Incident_Person_Role, and Log's discipline rows → discipline participants.
    DisciplineParticipants,
    /// Incident_Action, and Log's discipline rows → discipline actions.
    DisciplineActions,
    /// Test → assessments; TestScore (a lookup of the scores' names).
    Assessments,
    /// StudentTest → student assessments.
    StudentAssessments,
    /// StudentTestScore → assessment scores (each row's first result).
    AssessmentScores,
    /// StudentTestScore → the NumScore of rows whose AlphaScore came first.
    NumScores,
    /// StudentTestScore → the PercentScore of rows with another result first.
    PercentScores,
}

/// When a pass runs at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Always.
    Always,
    /// When contacts come from the legacy Students fields.
    LegacyContacts,
    /// When a Users export is there.
    Users,
    /// When there is no Users export (staff come from the Teachers view).
    NoUsers,
}

impl When {
    /// Whether the pass runs, given the settings and the files.
    pub fn holds(self, legacy_contacts: bool, users: bool) -> bool {
        match self {
            When::Always => true,
            When::LegacyContacts => legacy_contacts,
            When::Users => users,
            When::NoUsers => !users,
        }
    }
}

/// Which columns of a row go to its record's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtRule {
    /// Every column not stored in a canonical field.
    Unmapped,
    /// A student's: unmapped columns, and the legacy contact fields when
    /// legacy contacts are not read.
    Student,
    /// None (the row's columns belong to another pass's record).
    Nothing,
    /// Only the columns mapped to this pass's record.
    Only(Mapped),
}

impl ExtRule {
    /// Whether a column mapped as `m` (`None`: not read) goes to extensions.
    pub fn keeps(self, m: Option<Mapped>, legacy_contacts: bool) -> bool {
        match self {
            ExtRule::Unmapped => unmapped(m),
            ExtRule::Student => match m {
                None | Some(Mapped::No) => true,
                Some(Mapped::Legacy) => !legacy_contacts,
                _ => false,
            },
            ExtRule::Nothing => false,
            ExtRule::Only(kind) => m == Some(kind),
        }
    }
}

/// What the read keeps besides the lookups: records refilled row after row
/// by the streamed tables, and what some passes remember between rows.
#[derive(Default)]
pub struct ReadState {
    /// The section enrollment CC rows refill.
    pub enrollment: SectionEnrollment,
    /// The grade StoredGrades and PGFinalGrades rows refill.
    pub grade: Grade,
    /// The event Attendance rows refill.
    pub event: AttendanceEvent,
    /// (SchoolID, TermID) of the Terms rows read.
    pub terms_seen: HashSet<(i64, i64)>,
    /// Contact_IDs of the flat layout already made contacts.
    pub flat_seen: HashMap<String, ()>,
    /// Lead teachers of the sections read, by file, for after the sections.
    pub section_staff: VecDeque<(usize, LeadTeacher)>,
    /// With a SectionTeacher export: the rejects of Sections.Teacher values
    /// naming no staff member, by section, made after SectionTeacher is
    /// read (only for sections it has no row for).
    pub lead_misses: VecDeque<(u32, Reject)>,
    /// Source ids already given, per entity, for the small tables whose
    /// duplicates are rejects (code values, calendars, staff assignments).
    pub ids: HashMap<EntityKind, HashSet<String>>,
}

impl ReadState {
    /// The source ids already given to records of `entity`.
    pub fn ids(&mut self, entity: EntityKind) -> &mut HashSet<String> {
        self.ids.entry(entity).or_default()
    }
}

/// One row being mapped by a pass.
pub struct RowJob<'r> {
    /// The row's context.
    pub ctx: Ctx<'r>,
    /// The row's columns.
    pub f: Fields<'r>,
    /// The lookups.
    pub lk: &'r mut Lookups,
    /// The source's settings.
    pub settings: &'r Settings,
    /// The batch being filled.
    pub out: &'r mut BatchBuilder,
    /// The read's state.
    pub state: &'r mut ReadState,
    /// The file's index.
    pub file: usize,
    /// The pass's entity.
    pub entity: EntityKind,
}

impl RowJob<'_> {
    /// The outcome of a lookup row: folded, or rejected under the pass's entity.
    pub fn lookup(&mut self, row: Result<(), Bad>) -> RowOutcome {
        match row {
            Ok(()) => RowOutcome::Folded,
            Err(bad) => {
                self.out.reject(self.ctx.reject(self.entity, bad));
                RowOutcome::Rejected
            }
        }
    }
}

/// Maps one row.
pub type MapRow = fn(&mut RowJob<'_>) -> Result<RowOutcome, Error>;

/// Notes the keys of a row the pass rejected, for its children's reasons.
pub type NoteRejected = fn(&Fields<'_>, &mut Lookups, &RejectedRow);

/// One pass over the files of a table.
pub struct Pass {
    /// Where it comes in the read.
    pub order: Order,
    /// Whether it runs.
    pub when: When,
    /// Whether it counts the file's rows (each file has one counted pass).
    pub counted: bool,
    /// The entity of its records, or of its rejects for a lookup.
    pub entity: EntityKind,
    /// Whether it makes records (else it feeds lookups).
    pub produces: bool,
    /// The columns it reads.
    pub columns: &'static [Want],
    /// Which columns go to extensions.
    pub ext: ExtRule,
    /// Lookups sealed or freed before it runs (they are no longer needed,
    /// or now complete).
    pub before: Option<fn(&mut Lookups)>,
    /// How it maps a row.
    pub map: MapRow,
    /// The keys its rejected rows are looked up by, for parents.
    pub rejected: Option<NoteRejected>,
}

/// A PowerSchool table and its passes.
pub struct Handler {
    /// The table.
    pub table: Table,
    /// Its passes, in the order they run.
    pub passes: &'static [Pass],
}

impl Pass {
    /// A counted pass that makes records of `entity` from every row.
    pub const fn records(order: Order, entity: EntityKind, columns: &'static [Want], map: MapRow) -> Pass {
        Pass {
            order,
            when: When::Always,
            counted: true,
            entity,
            produces: true,
            columns,
            ext: ExtRule::Unmapped,
            before: None,
            map,
            rejected: None,
        }
    }

    /// A counted pass that feeds a lookup; rejects are filed under `entity`.
    pub const fn lookup(order: Order, entity: EntityKind, columns: &'static [Want], map: MapRow) -> Pass {
        Pass { produces: false, ..Pass::records(order, entity, columns, map) }
    }

    pub const fn when(self, when: When) -> Pass {
        Pass { when, ..self }
    }

    pub const fn uncounted(self) -> Pass {
        Pass { counted: false, ..self }
    }

    pub const fn ext(self, ext: ExtRule) -> Pass {
        Pass { ext, ..self }
    }

    pub const fn before(self, before: fn(&mut Lookups)) -> Pass {
        Pass { before: Some(before), ..self }
    }

    pub const fn parent(self, rejected: NoteRejected) -> Pass {
        Pass { rejected: Some(rejected), ..self }
    }
}
