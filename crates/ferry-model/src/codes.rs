//! Canonical code sets, and [`Code`]: a canonical value that always keeps the
//! value the source system gave.
//!
//! Canonical values follow OneRoster 1.2 and CEDS where those exist, so that the
//! OneRoster and Ed-Fi connectors map onto them without loss. A source value
//! that maps to no canonical value becomes `Other` and is still kept verbatim.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What every canonical code set offers.
pub trait CodeSet: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// The canonical spelling of every value, `Other` last.
    const VALUES: &'static [&'static str];
    /// The value for source values with no canonical equivalent.
    const OTHER: Self;
    /// The canonical spelling of this value.
    fn as_str(self) -> &'static str;
    /// The value whose canonical spelling is exactly `s`.
    fn from_canonical(s: &str) -> Option<Self>;
    /// Best-effort normalization of a common spelling (case-insensitive, common
    /// aliases); `Other` when nothing matches.
    fn normalize(s: &str) -> Self;
}

/// A coded value: the canonical code plus the exact original value.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Code<T: CodeSet> {
    /// The canonical value.
    #[serde(bound(serialize = "", deserialize = ""), with = "code_serde")]
    pub code: T,
    /// The value exactly as the source system gave it.
    pub original: String,
}

impl<T: CodeSet> Code<T> {
    /// Normalizes `original` with the code set's generic rules.
    pub fn normalize(original: &str) -> Code<T> {
        Code { code: T::normalize(original), original: original.to_owned() }
    }
    /// A code mapped by a connector's own table.
    pub fn mapped(code: T, original: impl Into<String>) -> Code<T> {
        Code { code, original: original.into() }
    }
}

mod code_serde {
    use super::*;

    pub(super) fn serialize<T: CodeSet, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub(super) fn deserialize<'de, T: CodeSet, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T: CodeSet> serde::de::Visitor<'_> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a canonical code")
            }
            // A value this build does not know (written by a newer model minor
            // version) reads as `Other`; the original value is kept beside it.
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
                Ok(T::from_canonical(s).unwrap_or(T::OTHER))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The characters compared when normalizing: lower case, without blanks and
/// underscores. No allocation: codes are normalized once per source value.
fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    s.trim().chars().filter(|c| !matches!(c, ' ' | '_')).flat_map(char::to_lowercase)
}

fn folded_eq(a: &str, b: &str) -> bool {
    folded(a).eq(folded(b))
}

macro_rules! code_set {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $var:ident = $canon:literal $(, $alias:literal)* ; )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $var, )*
            /// A value with no canonical equivalent; see the original.
            Other,
        }

        impl CodeSet for $name {
            const VALUES: &'static [&'static str] = &[$($canon,)* "Other"];
            const OTHER: Self = $name::Other;
            fn as_str(self) -> &'static str {
                match self { $( $name::$var => $canon, )* $name::Other => "Other" }
            }
            fn from_canonical(s: &str) -> Option<Self> {
                match s { $( $canon => Some($name::$var), )* "Other" => Some($name::Other), _ => None }
            }
            fn normalize(s: &str) -> Self {
                if let Some(v) = Self::from_canonical(s.trim()) {
                    return v;
                }
                $(
                    if folded_eq(s, $canon) $(|| folded_eq(s, $alias))* {
                        return $name::$var;
                    }
                )*
                $name::Other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_set! {
    /// Grade level (CEDS / OneRoster 1.2 values).
    GradeLevel {
        /// Infant/toddler.
        InfantToddler = "IT";
        /// Preschool.
        Preschool = "PR", "preschool", "PS3";
        /// Prekindergarten.
        PreKindergarten = "PK", "prek", "pre-k", "prekindergarten", "pre-kindergarten";
        /// Transitional kindergarten.
        TransitionalKindergarten = "TK", "transitionalkindergarten";
        /// Kindergarten.
        Kindergarten = "KG", "K", "kindergarten", "0", "00";
        /// First grade.
        Grade01 = "01", "1", "first";
        /// Second grade.
        Grade02 = "02", "2";
        /// Third grade.
        Grade03 = "03", "3";
        /// Fourth grade.
        Grade04 = "04", "4";
        /// Fifth grade.
        Grade05 = "05", "5";
        /// Sixth grade.
        Grade06 = "06", "6";
        /// Seventh grade.
        Grade07 = "07", "7";
        /// Eighth grade.
        Grade08 = "08", "8";
        /// Ninth grade.
        Grade09 = "09", "9";
        /// Tenth grade.
        Grade10 = "10";
        /// Eleventh grade.
        Grade11 = "11";
        /// Twelfth grade.
        Grade12 = "12";
        /// Grade 13 (post-secondary programmes in secondary schools).
        Grade13 = "13";
        /// Postsecondary.
        PostSecondary = "PS", "postsecondary";
        /// Ungraded.
        Ungraded = "UG", "ungraded";
    }
}

code_set! {
    /// Sex (OneRoster 1.2 values).
    Sex {
        /// Male.
        Male = "male", "m";
        /// Female.
        Female = "female", "f";
        /// Neither male nor female (non-binary, X).
        Unspecified = "unspecified", "x", "nonbinary", "u";
        /// Not reported or withheld.
        NotReported = "notReported", "notselected", "n", "notspecified";
    }
}

code_set! {
    /// Kind of organization.
    OrgKind {
        /// A school district / local education agency.
        District = "district", "lea";
        /// A school.
        School = "school";
        /// A state education agency.
        State = "state", "sea";
        /// A department within a school.
        Department = "department";
        /// A regional service agency.
        Local = "local";
    }
}

code_set! {
    /// Kind of academic session (OneRoster values).
    SessionKind {
        /// A whole school year.
        SchoolYear = "schoolYear", "year", "fullyear";
        /// A semester.
        Semester = "semester", "sem";
        /// A term (trimester, quarter or other).
        Term = "term", "trimester", "quarter";
        /// A grading period (marking period).
        GradingPeriod = "gradingPeriod", "markingperiod";
    }
}

code_set! {
    /// Category of an attendance event (Ed-Fi AttendanceEventCategory, plus Present).
    AttendanceCategory {
        /// Present; most systems record only non-present events.
        Present = "present", "inattendance";
        /// Absent, excused.
        ExcusedAbsence = "excusedAbsence", "excused";
        /// Absent, unexcused.
        UnexcusedAbsence = "unexcusedAbsence", "unexcused";
        /// Absent, reason not classified.
        Absent = "absent", "a";
        /// Tardy (late arrival).
        Tardy = "tardy", "t", "late";
        /// Early departure.
        EarlyDeparture = "earlyDeparture", "leftearly";
    }
}

code_set! {
    /// Why a student entered a school (a canonical category; the code stays in `original`).
    EntryKind {
        /// First enrollment in this district.
        NewToDistrict = "newToDistrict", "new";
        /// Transfer from another school in the district.
        TransferInDistrict = "transferInDistrict";
        /// Transfer from outside the district.
        TransferIn = "transferIn", "transfer";
        /// Re-entry after a withdrawal.
        ReEntry = "reEntry", "reenter", "reentry";
        /// Continuing from the previous school year (rollover, promotion).
        Continuing = "continuing", "promoted", "rollover";
    }
}

code_set! {
    /// Why a student left a school (a canonical category; the code stays in `original`).
    ExitKind {
        /// Graduated with a diploma.
        Graduated = "graduated", "graduate", "grad";
        /// Completed the school year, continuing next year.
        EndOfYear = "endOfYear", "promoted", "completed";
        /// Transferred to another school in the district.
        TransferInDistrict = "transferInDistrict";
        /// Transferred out of the district.
        TransferOut = "transferOut", "transfer", "transferred";
        /// Dropped out.
        Dropout = "dropout", "droppedout";
        /// Died.
        Deceased = "deceased", "death";
        /// Expelled.
        Expelled = "expelled";
    }
}

code_set! {
    /// Staff role (OneRoster roles for staff, plus a few SIS roles).
    StaffRole {
        /// Teacher.
        Teacher = "teacher";
        /// School or district administrator.
        Administrator = "administrator", "admin";
        /// Aide or paraprofessional.
        Aide = "aide", "paraprofessional";
        /// Counselor.
        Counselor = "counselor";
        /// Proctor.
        Proctor = "proctor";
        /// Other staff.
        Staff = "staff";
    }
}

code_set! {
    /// A staff member's role in a section.
    SectionRole {
        /// Lead / teacher of record.
        Lead = "lead", "primary", "teacherofrecord";
        /// Co-teacher.
        CoTeacher = "coTeacher", "co", "secondary";
        /// Aide.
        Aide = "aide";
        /// Substitute.
        Substitute = "substitute", "sub";
    }
}

code_set! {
    /// Status of a student's enrollment in a section.
    SectionEnrollmentStatus {
        /// Enrolled.
        Active = "active", "enrolled";
        /// Dropped before the section ended.
        Dropped = "dropped", "withdrawn";
        /// Completed the section.
        Completed = "completed";
    }
}

code_set! {
    /// A contact's relationship to a student (Ed-Fi RelationDescriptor subset).
    Relationship {
        /// Mother.
        Mother = "mother", "mom";
        /// Father.
        Father = "father", "dad";
        /// Parent (unspecified).
        Parent = "parent";
        /// Legal guardian.
        Guardian = "guardian", "legalguardian";
        /// Stepmother.
        StepMother = "stepMother";
        /// Stepfather.
        StepFather = "stepFather";
        /// Grandparent.
        Grandparent = "grandparent", "grandmother", "grandfather";
        /// Sibling.
        Sibling = "sibling", "brother", "sister";
        /// Other relative.
        Relative = "relative", "aunt", "uncle";
        /// Foster parent.
        FosterParent = "fosterParent";
        /// Emergency contact without family relation.
        Friend = "friend", "neighbor";
    }
}

code_set! {
    /// Kind of a grade record.
    GradeKind {
        /// A progress or term grade from the current gradebook.
        Term = "term", "progress";
        /// A final grade for a section (end of course).
        Final = "final";
        /// A stored historical grade, as it appears on the transcript.
        Transcript = "transcript", "stored", "historical";
    }
}

code_set! {
    /// Race, as a canonical code for `demographics.races` (the OMB categories
    /// OneRoster and Ed-Fi use, in OneRoster's spelling). Hispanic or Latino is
    /// an ethnicity, a flag of its own.
    Race {
        /// American Indian or Alaska Native.
        AmericanIndianOrAlaskaNative = "americanIndianOrAlaskaNative", "americanindian", "nativeamerican", "alaskanative";
        /// Asian.
        Asian = "asian";
        /// Black or African American.
        BlackOrAfricanAmerican = "blackOrAfricanAmerican", "black", "africanamerican";
        /// Native Hawaiian or other Pacific Islander.
        NativeHawaiianOrOtherPacificIslander = "nativeHawaiianOrOtherPacificIslander", "nativehawaiian", "pacificislander", "nativehawaiianorpacificislander";
        /// Middle Eastern or North African.
        MiddleEasternOrNorthAfrican = "middleEasternOrNorthAfrican", "middleeastern", "northafrican", "mena";
        /// White.
        White = "white", "caucasian";
    }
}

code_set! {
    /// How a course attempt ended (Ed-Fi CourseAttemptResult, plus in progress).
    CourseAttemptResult {
        /// Completed with credit (passed).
        Completed = "completed", "pass", "passed", "complete";
        /// Failed.
        Failed = "failed", "fail";
        /// Incomplete: the work is not finished yet or was never finished.
        Incomplete = "incomplete", "inc";
        /// Withdrawn from the course before it ended.
        Withdrawn = "withdrawn", "withdrew", "withdrawal", "wd";
        /// Still in progress (a current-term grade).
        InProgress = "inProgress", "ip", "current";
    }
}

code_set! {
    /// Kind of diploma or credential.
    DiplomaKind {
        /// The standard high school diploma.
        Regular = "regular", "standard", "diploma", "regulardiploma";
        /// An advanced, honors or endorsed diploma.
        Advanced = "advanced", "honors", "endorsed", "distinguished";
        /// A career and technical (vocational) diploma or certificate.
        CareerTechnical = "careerTechnical", "cte", "vocational";
        /// International Baccalaureate diploma.
        InternationalBaccalaureate = "internationalBaccalaureate", "ib";
        /// A diploma on an individualized (special education) plan.
        Individualized = "individualized", "iep", "specialeducation";
        /// A certificate of completion (requirements met in part).
        CertificateOfCompletion = "certificateOfCompletion", "completion";
        /// A certificate of attendance.
        CertificateOfAttendance = "certificateOfAttendance", "attendance";
        /// A high school equivalency credential (GED, HiSET).
        Equivalency = "equivalency", "ged", "hiset", "hse";
    }
}

code_set! {
    /// Kind of program a student can take part in (Ed-Fi ProgramType, grouped).
    ProgramKind {
        /// Special education (an IEP).
        SpecialEducation = "specialEducation", "sped", "specialed", "iep", "idea";
        /// A Section 504 plan.
        Section504 = "section504", "504", "504plan";
        /// English learner services (ESL, bilingual, LEP).
        EnglishLearner = "englishLearner", "ell", "el", "esl", "lep", "englishlanguagelearner", "bilingual";
        /// Gifted and talented.
        Gifted = "gifted", "gt", "gate", "giftedandtalented", "giftedtalented";
        /// Title I.
        TitleI = "titleI", "title1", "titleipartA";
        /// Homeless (McKinney-Vento).
        Homeless = "homeless", "mckinneyvento", "mckinney-vento";
        /// Free and reduced-price meals.
        FreeReducedMeals = "freeReducedMeals", "frl", "frpl", "freeandreducedmeals", "freeandreducedlunch", "freereducedlunch", "lunch", "meals", "nslp";
        /// Migrant education.
        Migrant = "migrant", "migranteducation";
        /// Foster care.
        Foster = "foster", "fostercare";
    }
}

code_set! {
    /// A student's status in a program.
    ParticipationStatus {
        /// Taking part (served).
        Active = "active", "participating", "served", "enrolled";
        /// Found eligible, not (yet) served.
        Eligible = "eligible", "identified", "referred";
        /// Eligible, but the family declined the services.
        Declined = "declined", "refused", "waived";
        /// No longer taking part.
        Exited = "exited", "inactive", "exit", "ended";
    }
}

code_set! {
    /// A person's part in a discipline incident (Ed-Fi DisciplineIncidentParticipationCode).
    IncidentRole {
        /// Committed the behavior (perpetrator).
        Offender = "offender", "perpetrator", "aggressor";
        /// Was harmed by it.
        Victim = "victim", "target";
        /// Saw it.
        Witness = "witness";
        /// Reported it.
        Reporter = "reporter", "reportedby";
    }
}

code_set! {
    /// What was done about a behavior (Ed-Fi Discipline descriptor, grouped).
    DisciplineActionKind {
        /// A warning or conference.
        Warning = "warning", "conference", "verbalwarning";
        /// Detention.
        Detention = "detention";
        /// Removal from class for the rest of a period or day.
        ClassRemoval = "classRemoval", "removal", "removalfromclass";
        /// Loss of privileges (bus, extracurricular).
        LossOfPrivileges = "lossOfPrivileges", "busSuspension", "privileges";
        /// In-school suspension.
        InSchoolSuspension = "inSchoolSuspension", "iss";
        /// Out-of-school suspension.
        OutOfSchoolSuspension = "outOfSchoolSuspension", "oss", "suspension";
        /// Placement in an alternative setting.
        AlternativePlacement = "alternativePlacement", "daep", "iaes";
        /// Expulsion.
        Expulsion = "expulsion", "expelled";
        /// Referral to law enforcement.
        LawEnforcementReferral = "lawEnforcementReferral", "police", "arrest";
    }
}

code_set! {
    /// The unit of a length of time.
    DurationUnit {
        /// School days.
        SchoolDays = "schoolDays", "sd";
        /// Calendar days.
        Days = "days", "day", "d", "calendardays";
        /// Class periods.
        Periods = "periods", "period", "classperiods";
        /// Hours.
        Hours = "hours", "hour", "h", "hrs";
        /// Minutes.
        Minutes = "minutes", "minute", "min", "mins";
    }
}

code_set! {
    /// How an assessment score is reported (Ed-Fi AssessmentReportingMethod, common values).
    ReportingMethod {
        /// Scale score.
        ScaleScore = "scaleScore", "scale", "ss";
        /// Raw score (points or number correct).
        RawScore = "rawScore", "raw", "rs", "numbercorrect", "points";
        /// Percent correct.
        PercentCorrect = "percentCorrect", "percent", "pct", "percentscore";
        /// Percentile rank.
        Percentile = "percentile", "percentilerank", "pr", "nationalpercentile", "npr";
        /// Proficiency or performance level.
        ProficiencyLevel = "proficiencyLevel", "proficiency", "performancelevel", "achievementlevel", "level";
        /// Grade equivalent.
        GradeEquivalent = "gradeEquivalent", "ge";
        /// Normal curve equivalent.
        NormalCurveEquivalent = "normalCurveEquivalent", "nce";
        /// Stanine.
        Stanine = "stanine";
        /// Lexile measure.
        Lexile = "lexile", "lexilemeasure";
        /// Quantile measure.
        Quantile = "quantile", "quantilemeasure";
        /// Pass or fail.
        PassFail = "passFail", "pass/fail", "pass-fail";
        /// A composite of other scores.
        Composite = "composite", "compositescore";
    }
}

code_set! {
    /// What kind of day a calendar day is (Ed-Fi CalendarEvent, grouped).
    DayType {
        /// A regular instructional day.
        Instructional = "instructional", "instructionalday", "schoolday", "regular";
        /// A day with late arrival or early dismissal.
        ShortenedDay = "shortenedDay", "earlydismissal", "latearrival", "halfday", "minimumday";
        /// A make-up day.
        MakeUp = "makeUp", "makeupday";
        /// A holiday.
        Holiday = "holiday", "vacation", "break";
        /// A teacher work day without students (in-service, professional development).
        TeacherOnly = "teacherOnly", "teacherday", "inservice", "professionaldevelopment", "pd", "workday";
        /// Closed for weather or an emergency.
        Emergency = "emergency", "weather", "weatherday", "snowday", "emergencyday";
        /// Any other day without school (weekend, strike).
        NonInstructional = "nonInstructional", "noschool", "weekend", "strike";
    }
}

code_set! {
    /// Status of a gradebook result (OneRoster 1.2 scoreStatus, its spelling with spaces).
    ScoreStatus {
        /// Excused from the line item.
        Exempt = "exempt", "excused";
        /// Graded in full.
        FullyGraded = "fully graded", "graded";
        /// Not turned in.
        NotSubmitted = "not submitted", "missing";
        /// Graded in part.
        PartiallyGraded = "partially graded";
        /// Turned in, not graded yet.
        Submitted = "submitted", "turnedin";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_spellings_and_keeps_originals() {
        assert_eq!(GradeLevel::normalize("K"), GradeLevel::Kindergarten);
        assert_eq!(GradeLevel::normalize("9"), GradeLevel::Grade09);
        assert_eq!(GradeLevel::normalize(" 09 "), GradeLevel::Grade09);
        assert_eq!(GradeLevel::normalize("Pre-K"), GradeLevel::PreKindergarten);
        assert_eq!(GradeLevel::normalize("-1"), GradeLevel::Other);
        assert_eq!(Sex::normalize("F"), Sex::Female);
        let c: Code<Sex> = Code::normalize("Woman");
        assert_eq!(c.code, Sex::Other);
        assert_eq!(c.original, "Woman");
    }

    #[test]
    fn unknown_canonical_value_reads_as_other() {
        let json = r#"{"code":"grade99","original":"G99"}"#;
        let c: Code<GradeLevel> = serde_json::from_str(json).unwrap();
        assert_eq!(c.code, GradeLevel::Other);
        assert_eq!(c.original, "G99");
        let back = serde_json::to_string(&Code::<GradeLevel>::mapped(GradeLevel::Grade10, "10")).unwrap();
        assert_eq!(back, r#"{"code":"10","original":"10"}"#);
    }

    #[test]
    fn every_value_round_trips_its_spelling() {
        for v in GradeLevel::VALUES {
            assert_eq!(GradeLevel::from_canonical(v).unwrap().as_str(), *v);
        }
        for v in AttendanceCategory::VALUES {
            assert_eq!(AttendanceCategory::normalize(v).as_str(), *v);
        }
        fn check<T: CodeSet>() {
            for v in T::VALUES {
                assert_eq!(T::from_canonical(v).map(T::as_str), Some(*v));
                assert_eq!(T::normalize(v).as_str(), *v);
            }
        }
        check::<Race>();
        check::<CourseAttemptResult>();
        check::<DiplomaKind>();
        check::<ProgramKind>();
        check::<ParticipationStatus>();
        check::<IncidentRole>();
        check::<DisciplineActionKind>();
        check::<DurationUnit>();
        check::<ReportingMethod>();
        check::<DayType>();
        check::<ScoreStatus>();
    }

    #[test]
    fn new_vocabularies_normalize_common_source_spellings() {
        assert_eq!(ProgramKind::normalize("504"), ProgramKind::Section504);
        assert_eq!(ProgramKind::normalize("Title I"), ProgramKind::TitleI);
        assert_eq!(ProgramKind::normalize("ELL"), ProgramKind::EnglishLearner);
        assert_eq!(ProgramKind::normalize("Special Education"), ProgramKind::SpecialEducation);
        assert_eq!(ProgramKind::normalize("Free and Reduced Meals"), ProgramKind::FreeReducedMeals);
        assert_eq!(ProgramKind::normalize("Chess club"), ProgramKind::Other);
        assert_eq!(ScoreStatus::normalize("Fully Graded"), ScoreStatus::FullyGraded);
        assert_eq!(ScoreStatus::normalize("not_submitted"), ScoreStatus::NotSubmitted);
        assert_eq!(ScoreStatus::FullyGraded.as_str(), "fully graded", "OneRoster's token, with its space");
        assert_eq!(ReportingMethod::normalize("Scale Score"), ReportingMethod::ScaleScore);
        assert_eq!(ReportingMethod::normalize("NCE"), ReportingMethod::NormalCurveEquivalent);
        assert_eq!(Race::normalize("Black or African American"), Race::BlackOrAfricanAmerican);
        assert_eq!(Race::normalize("Asian"), Race::Asian);
        assert_eq!(DayType::normalize("Teacher Only"), DayType::TeacherOnly);
        assert_eq!(CourseAttemptResult::normalize("Pass"), CourseAttemptResult::Completed);
        assert_eq!(IncidentRole::normalize("Perpetrator"), IncidentRole::Offender);
        assert_eq!(DurationUnit::normalize("School Days"), DurationUnit::SchoolDays);
        assert_eq!(DiplomaKind::normalize("GED"), DiplomaKind::Equivalency);
    }
}
