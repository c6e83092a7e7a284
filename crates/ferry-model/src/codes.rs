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
    }
}
