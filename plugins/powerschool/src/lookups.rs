//! The join lookups built while reading: schools, terms, codes, students,
//! staff, contacts, courses, sections, CC rows, and the district tables'
//! (programs, log types, incident codes, tests, sittings). They grow with
//! students, staff, sections, CC rows, incidents and StudentTest rows (one
//! small entry each), never with grade, attendance, log or score rows.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use ferry_sdk::model::{AttendanceCategory, Date, EntryKind, ExitKind, SectionRole};

/// A fast hasher for integer ids (multiplicative; ids are not adversarial).
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl IdHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread the high bits down: hashbrown takes its bucket from the low bits.
        self.0 ^ (self.0 >> 29) ^ (self.0 >> 47)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        w[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
    }
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
    fn write_i64(&mut self, n: i64) {
        self.mix(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_i64(i64::from(n));
    }
}

/// A map keyed by integer ids.
pub type IdMap<V> = HashMap<i64, V, BuildHasherDefault<IdHasher>>;

/// A map with the fast hasher, for keys made of ids and short codes.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A set with the fast hasher.
pub type FastSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// A term of a school.
#[derive(Clone, Debug)]
pub struct TermInfo {
    /// Last day (inclusive).
    pub last: Option<Date>,
    /// YearID.
    pub yearid: i64,
}

/// A section, as joins need it.
#[derive(Clone, Debug)]
pub struct SectionInfo {
    /// Its source id.
    pub id: String,
    /// School_Number.
    pub school: i64,
    /// TermID.
    pub term: i64,
    /// Course_Number (the course's source id).
    pub course: String,
}

/// An attendance code of a school and year.
#[derive(Clone, Debug)]
pub struct AttCode {
    /// `Att_Code` (blank for present).
    pub code: String,
    /// Its category.
    pub category: AttendanceCategory,
}

/// A row of SchoolStaff (or of the Teachers view) for one school.
#[derive(Clone, Debug, Default)]
pub struct Affiliation {
    /// School_Number.
    pub school: Option<i64>,
    /// `Status` (1 active).
    pub status: Option<String>,
    /// `StaffStatus`.
    pub staff_status: Option<String>,
    /// Other columns, already keyed for the staff record's extensions.
    pub ext: Vec<(String, String)>,
}

/// A CodeSet row.
#[derive(Clone, Debug, Default)]
pub struct CodeSetRow {
    /// `Code`.
    pub code: String,
    /// `DisplayValue` (or the code).
    pub display: String,
}

/// A contact's email, phone or address link, with its order.
#[derive(Clone, Debug)]
pub struct Link {
    /// The linked row's id (EmailAddressID, PhoneNumberID, PersonAddressID).
    pub target: i64,
    /// The type code set id.
    pub kind: Option<i64>,
    /// Priority order (1 first).
    pub priority: i64,
    /// Marked primary or preferred.
    pub preferred: bool,
    /// The phone as entered, for phones.
    pub as_entered: Option<Box<str>>,
}

/// A PersonAddress row.
#[derive(Clone, Debug, Default)]
pub struct Address {
    /// Street, with line two and unit.
    pub street: Box<str>,
    /// City.
    pub city: Option<Box<str>>,
    /// StatesCodeSetID.
    pub state: Option<i64>,
    /// PostalCode.
    pub postal: Option<Box<str>>,
}

/// Many values per integer key, compactly: pairs sorted by key once loaded.
#[derive(Debug)]
pub struct Multi<T> {
    items: Vec<(i64, T)>,
    sealed: bool,
}

impl<T> Default for Multi<T> {
    fn default() -> Multi<T> {
        Multi { items: Vec::new(), sealed: true }
    }
}

impl<T> Multi<T> {
    /// Adds a value.
    pub fn push(&mut self, key: i64, value: T) {
        self.items.push((key, value));
        self.sealed = false;
    }

    /// Sorts by key (stable: values of a key keep their file order).
    pub fn seal(&mut self) {
        if !self.sealed {
            self.items.sort_by_key(|p| p.0);
            self.items.shrink_to_fit();
            self.sealed = true;
        }
    }

    /// The values of `key` (after [`Multi::seal`]).
    pub fn get(&self, key: i64) -> impl Iterator<Item = &T> {
        let lo = self.items.partition_point(|p| p.0 < key);
        let hi = lo + self.items[lo..].partition_point(|p| p.0 == key);
        self.items[lo..hi].iter().map(|p| &p.1)
    }

    /// Frees everything.
    pub fn clear(&mut self) {
        *self = Multi::default();
    }
}

/// A StudentContactDetail row.
#[derive(Clone, Debug, Default)]
pub struct Detail {
    /// StudentContactDetailID.
    pub id: Option<i64>,
    /// RelationshipTypeCodeSetID.
    pub relationship: Option<i64>,
    /// IsActive.
    pub active: Option<bool>,
    /// IsCustodial.
    pub custodial: Option<bool>,
    /// IsEmergency.
    pub emergency: Option<bool>,
    /// LivesWithFlg.
    pub lives_with: Option<bool>,
    /// ReceivesMailFlg.
    pub receives_mail: Option<bool>,
    /// SchoolPickupFlg.
    pub school_pickup: Option<bool>,
    /// ConfidentialCommFlag.
    pub confidential: Option<bool>,
    /// StartDate.
    pub start: Option<Date>,
    /// EndDate.
    pub end: Option<Date>,
    /// Other columns' values, `\u{1f}`-separated, in the order of
    /// [`Lookups::detail_ext_keys`].
    pub ext: Box<str>,
}

/// One student's row of one extension file: the file (an index into
/// [`Lookups::student_ext_keys`]) and its values, `\u{1f}`-separated in the
/// order of that file's keys (one allocation per row).
pub type ExtValue = (u16, Box<str>);

/// An index of records by the ids rows refer to them with.
#[derive(Debug, Default)]
pub struct Index {
    /// Source ids, by position.
    pub ids: Vec<String>,
    /// By `ID` (or another integer key).
    pub by_id: IdMap<u32>,
    /// By `DCID`.
    pub by_dcid: IdMap<u32>,
    /// By a text key (Student_Number, TeacherNumber…).
    pub by_key: FastMap<String, u32>,
    /// Every source id, to refuse duplicates.
    pub seen: FastMap<String, u32>,
}

impl Index {
    /// Adds a record; `None` when its source id is already taken.
    pub fn add(&mut self, id: &str) -> Option<u32> {
        if self.seen.contains_key(id) {
            return None;
        }
        let n = u32::try_from(self.ids.len()).ok()?;
        self.ids.push(id.to_owned());
        self.seen.insert(id.to_owned(), n);
        Some(n)
    }

    /// The source id of record `n`.
    pub fn id(&self, n: u32) -> &str {
        self.ids.get(n as usize).map_or("", String::as_str)
    }
}

/// Why a row's student is missing, when it was not read at all.
pub const NO_STUDENT: &str = "the student is not among the students read";
/// Why a row's section is missing, when it was not read at all.
pub const NO_SECTION: &str = "the section is not among the sections read";
/// Why a row's school is missing, when it was not read at all.
pub const NO_SCHOOL: &str = "the school is not in the Schools export";
/// Why a row's teacher is missing, when it was not read at all.
pub const NO_TEACHER: &str = "the section's teacher is not among the staff read";

/// A Period row, as attendance and bell schedules need it.
#[derive(Clone, Debug)]
pub struct PeriodInfo {
    /// The class period's source id.
    pub id: String,
    /// Abbreviation (else number, else name): what attendance events show.
    pub label: String,
}

/// A RoleDef row.
#[derive(Clone, Debug)]
pub struct RoleInfo {
    /// The section role its name means.
    pub role: SectionRole,
    /// `Name`, the original.
    pub name: String,
}

/// A parent row's key, as the rows of other tables refer to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParentKey {
    /// Schools.School_Number.
    School(i64),
    /// Terms (SchoolID, TermID).
    Term(i64, i64),
    /// Students.ID.
    StudentId(i64),
    /// Students.DCID.
    StudentDcid(i64),
    /// Students.Student_Number.
    StudentNumber(String),
    /// A SchoolStaff (or Teachers view) ID.
    StaffId(i64),
    /// Users.DCID.
    StaffDcid(i64),
    /// TeacherNumber.
    StaffNumber(String),
    /// Person.ID.
    PersonId(i64),
    /// Contact_ID of the flat contacts layout.
    ContactId(String),
    /// Courses.Course_Number.
    Course(String),
    /// abs(Sections.ID).
    SectionId(i64),
    /// A section's `school|course|section|term` (see [`section_key`]).
    SectionKey(String),
    /// CC.ID.
    CcId(i64),
    /// Period.ID.
    PeriodId(i64),
    /// Bell_Schedule.ID.
    BellScheduleId(i64),
    /// Incident.Incident_ID.
    IncidentId(i64),
    /// StudentTest.ID.
    StudentTestId(i64),
}

/// Where a parent row that was read and rejected is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    /// File name.
    pub file: String,
    /// Line.
    pub line: u64,
    /// Whether the row could be split into the file's columns (else its
    /// keys are read from its leading fields, and may be wrong).
    pub readable: bool,
}

/// The keys of the parent rows rejected: only those, so that memory grows
/// with rejects, never with records.
#[derive(Debug, Default)]
pub struct RejectedParents(HashMap<ParentKey, RejectedRow>);

impl RejectedParents {
    /// Remembers that the row with `key` was rejected at `row` (the first
    /// such row wins).
    pub fn note(&mut self, key: ParentKey, row: &RejectedRow) {
        self.0.entry(key).or_insert_with(|| row.clone());
    }

    /// The reason a child row whose parent (`what`, such as "student") is
    /// missing under `key` is rejected: the parent's reject when it was
    /// read and rejected, else `otherwise`.
    pub fn why(&self, key: &ParentKey, what: &str, otherwise: &str) -> String {
        match self.0.get(key) {
            Some(r) if r.readable => format!("its {what} was rejected ({} line {})", r.file, r.line),
            Some(r) => {
                format!("its {what} may be the row of {} line {}, which could not be read", r.file, r.line)
            }
            None => otherwise.to_owned(),
        }
    }
}

/// Every lookup.
#[derive(Debug, Default)]
pub struct Lookups {
    /// Parent rows read and rejected, for their children's reasons.
    pub rejected: RejectedParents,
    /// Students' extension tables (`U_StudentsUserFields`…): per StudentsDCID,
    /// `(key, value)` pairs merged into the student's extensions.
    /// (one entry per extension file of the student: the file's index in
    /// [`Lookups::student_ext_keys`] and its values, `\u{1f}`-separated).
    pub student_ext: FastMap<i64, Vec<ExtValue>>,
    /// Per extension file (by name), the keys of its values (`<table>.<column>`).
    pub student_ext_keys: Vec<(String, Vec<String>)>,
    /// School_Number → name.
    pub schools: IdMap<String>,
    /// (School_Number, TermID) → term.
    pub terms: FastMap<(i64, i64), TermInfo>,
    /// The latest YearID with terms: the export's current school year.
    pub current_yearid: Option<i64>,
    /// Entry code → kind (Gen descriptions and configuration).
    pub entry_codes: HashMap<String, EntryKind>,
    /// Exit code → kind.
    pub exit_codes: HashMap<String, ExitKind>,
    /// Students by ID, DCID and Student_Number.
    pub students: Index,
    /// Student_Number values that more than one student has, with how many
    /// students have each (a summary notice; the joins by number take the
    /// last student read).
    pub shared_numbers: HashMap<String, u32>,
    /// Staff by SchoolStaff/Teachers ID (`by_id`), Users DCID (`by_dcid`)
    /// and TeacherNumber (`by_key`).
    pub staff: Index,
    /// SchoolStaff rows by Users_DCID.
    pub affiliations: IdMap<Vec<(i64, Affiliation)>>,
    /// Teachers view rows by person key (Users_DCID or TeacherNumber).
    pub teacher_rows: HashMap<String, Vec<(i64, Affiliation)>>,
    /// Contacts by Person.ID (`by_id`) and Contact_ID of the flat layout (`by_key`).
    pub contacts: Index,
    /// Courses by Course_Number.
    pub courses: FastMap<String, ()>,
    /// Sections.
    pub sections: Vec<SectionInfo>,
    /// Sections by ID.
    pub section_by_id: IdMap<u32>,
    /// Sections by `school|course|section|term`.
    pub section_by_key: HashMap<String, u32>,
    /// Every section source id, to refuse duplicates.
    pub section_ids: HashMap<String, ()>,
    /// (CC.ID, section), for meeting attendance, for ids that fit 32 bits;
    /// sorted before attendance is read.
    pub cc_small: Vec<(u32, u32)>,
    /// CC.ID → section for larger ids.
    pub cc_big: IdMap<u32>,
    /// Whether CC rows must be remembered (an attendance file refers to CCID).
    pub keep_cc: bool,
    /// Attendance codes.
    pub att_codes: Vec<AttCode>,
    /// (SchoolID, YearID, ID) → code.
    pub att_by_key: FastMap<(i64, i64, i64), u32>,
    /// ID → code, when the ID is unique across schools and years.
    pub att_by_id: IdMap<Option<u32>>,
    /// (SchoolID, YearID, Att_Code) → code.
    pub att_by_code: FastMap<(i64, i64, String), u32>,
    /// Period.ID → class period.
    pub periods: IdMap<PeriodInfo>,
    /// Calendar_Day.ID → date.
    pub calendar: IdMap<Date>,
    /// Cycle_Day.ID → letter.
    pub cycle_days: IdMap<String>,
    /// Bell_Schedule.ID → the bell schedule's source id.
    pub bell_schedules: IdMap<String>,
    /// Gen `dailymembtypes`: Name → Value (the day types Calendar_Day.Type names).
    pub day_types: HashMap<String, String>,
    /// RoleDef.ID → role.
    pub roles: IdMap<RoleInfo>,
    /// Staff titles (Users.Title), by staff index, for staff assignments' roles.
    pub staff_titles: Vec<Option<String>>,
    /// Whether a SectionTeacher export is read (then it is the source of
    /// section staff, and Sections.Teacher only speaks for sections it lacks).
    pub section_teacher_export: bool,
    /// Sections (by index) a SectionTeacher row named.
    pub taught: FastSet<u32>,
    /// (section, staff) pairs SectionTeacher made section staff of.
    pub section_staff_pairs: FastSet<(u32, u32)>,
    /// (student, SchoolID, YearID) of the academic records made from ClassRank.
    pub ranked: FastSet<(u32, i64, i64)>,
    /// StudentRace: Students.ID → race codes.
    pub races: Multi<Box<str>>,
    /// CodeSet by CodeSetID.
    pub codesets: IdMap<CodeSetRow>,
    /// EmailAddress by EmailAddressID.
    pub emails: IdMap<Box<str>>,
    /// PersonEmailAddressAssoc by PersonID.
    pub person_emails: Multi<Link>,
    /// PhoneNumber by PhoneNumberID: (number, extension).
    pub phones: IdMap<(Box<str>, Option<Box<str>>)>,
    /// PersonPhoneNumberAssoc by PersonID.
    pub person_phones: Multi<Link>,
    /// PersonAddress by PersonAddressID.
    pub addresses: IdMap<Address>,
    /// PersonAddressAssoc by PersonID.
    pub person_addresses: Multi<Link>,
    /// StudentContactDetail by StudentContactAssocID.
    pub details: Multi<Detail>,
    /// Extension keys of StudentContactDetail's unmapped columns.
    pub detail_ext_keys: Vec<String>,
    /// Programs (Gen `specprog`) and log types (Gen `logtype`, `subtype`).
    pub programs: crate::map::programs::ProgramLookups,
    /// Incident Management codes, details, incidents and offenders; Log rows rejected.
    pub discipline: crate::map::discipline::DisciplineLookups,
    /// Tests, their scores and the sittings read.
    pub tests: crate::map::assessments::AssessmentLookups,
}

impl Lookups {
    /// Sorts the multi-valued lookups, once they are loaded.
    pub fn seal(&mut self) {
        self.person_emails.seal();
        self.person_phones.seal();
        self.person_addresses.seal();
        self.details.seal();
        self.races.seal();
    }

    /// Frees the Person-model lookups once contacts are read.
    pub fn release_person_parts(&mut self) {
        self.emails = IdMap::default();
        self.person_emails.clear();
        self.phones = IdMap::default();
        self.person_phones.clear();
        self.addresses = IdMap::default();
        self.person_addresses.clear();
    }

    /// Frees the lookups only student contacts, demographics and staff use.
    pub fn release_people(&mut self) {
        self.release_person_parts();
        self.student_ext = FastMap::default();
        self.student_ext_keys = Vec::new();
        self.details.clear();
        self.races.clear();
        self.affiliations = IdMap::default();
        self.teacher_rows = HashMap::new();
    }

    /// Frees the ClassRank keys once the academic records are made.
    pub fn release_ranked(&mut self) {
        self.ranked = FastSet::default();
    }

    /// Remembers a CC row's section.
    pub fn add_cc(&mut self, id: i64, section: u32) {
        match u32::try_from(id) {
            Ok(small) => self.cc_small.push((small, section)),
            Err(_) => {
                self.cc_big.insert(id, section);
            }
        }
    }

    /// Sorts the CC rows for lookups (cheap when already in order).
    pub fn seal_cc(&mut self) {
        self.cc_small.sort_unstable_by_key(|p| p.0);
        self.cc_small.shrink_to_fit();
    }

    /// The section of CC row `id`.
    pub fn cc_section(&self, id: i64) -> Option<u32> {
        match u32::try_from(id) {
            Ok(small) => self.cc_small.binary_search_by_key(&small, |p| p.0).ok().map(|i| self.cc_small[i].1),
            Err(_) => self.cc_big.get(&id).copied(),
        }
    }
}

/// The key of a section by its natural columns.
pub fn section_key(school: i64, course: &str, section: &str, term: i64) -> String {
    format!("{school}|{}|{}|{term}", course.trim(), section.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_refuses_duplicates() {
        let mut i = Index::default();
        assert_eq!(i.add("a"), Some(0));
        assert_eq!(i.add("b"), Some(1));
        assert_eq!(i.add("a"), None);
        assert_eq!(i.id(1), "b");
        let mut m: IdMap<u32> = IdMap::default();
        for n in 0..1000 {
            m.insert(n * 7, n as u32);
        }
        assert_eq!(m.get(&700), Some(&100));
    }
}
