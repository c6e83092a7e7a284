//! The canonical entities, the [`Record`] trait and [`EntityKind`].
//!
//! Every entity is declared once with [`entity!`], which writes the struct, its
//! field table and by-name field access, so connectors never hand-write a
//! per-field mapping.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codes::*;
use crate::date::Date;
use crate::meta::Meta;
use crate::validate::Problem;
use crate::value::{FieldDef, FieldError, FieldValue, Value};

/// A canonical record of one entity.
pub trait Record:
    Clone + Default + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + 'static
{
    /// Which entity this is.
    const KIND: EntityKind;
    /// Identity, provenance and extensions.
    fn meta(&self) -> &Meta;
    /// Mutable access to identity, provenance and extensions.
    fn meta_mut(&mut self) -> &mut Meta;
    /// The entity's fields (not counting [`Meta`]).
    fn fields() -> &'static [FieldDef];
    /// A field by canonical name; `None` for an unknown name.
    fn get(&self, field: &str) -> Option<Value<'_>>;
    /// Sets a field by canonical name.
    fn set(&mut self, field: &str, value: Value<'_>) -> Result<(), FieldError>;
    /// Required fields that are missing, pushed to `problems`.
    fn check_required(&self, problems: &mut Vec<Problem>);
    /// Rules beyond required fields (date order…), pushed to `problems`.
    fn check(&self, problems: &mut Vec<Problem>);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __flag {
    (required, required) => {
        true
    };
    (pii, pii) => {
        true
    };
    ($want:ident, $other:ident) => {
        false
    };
}

macro_rules! entity {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident = $kind:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $ty:ty $([$($flag:ident),*])? ),* $(,)?
        }
        check($this:ident, $problems:ident) $check:block
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Identity, provenance and extensions.
            pub meta: Meta,
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
        }

        impl Record for $name {
            const KIND: EntityKind = EntityKind::$kind;
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut Meta {
                &mut self.meta
            }
            fn fields() -> &'static [FieldDef] {
                const FIELDS: &[FieldDef] = &[$(
                    FieldDef {
                        name: stringify!($field),
                        ty: <$ty as FieldValue>::TYPE,
                        required: false $($(|| $crate::__flag!(required, $flag))*)?,
                        pii: false $($(|| $crate::__flag!(pii, $flag))*)?,
                        doc: concat!($($fdoc),*),
                    },
                )*];
                FIELDS
            }
            fn get(&self, field: &str) -> Option<Value<'_>> {
                match field {
                    $( stringify!($field) => Some(FieldValue::get(&self.$field)), )*
                    _ => None,
                }
            }
            fn set(&mut self, field: &str, value: Value<'_>) -> Result<(), FieldError> {
                match field {
                    $( stringify!($field) => FieldValue::set(&mut self.$field, value), )*
                    _ => Err(FieldError::UnknownField),
                }
            }
            fn check_required(&self, problems: &mut Vec<Problem>) {
                $(
                    if (false $($(|| $crate::__flag!(required, $flag))*)?) && FieldValue::get(&self.$field).is_null() {
                        problems.push(Problem::new(stringify!($field), "required field is missing"));
                    }
                )*
            }
            #[allow(unused_variables, reason = "not every entity has extra rules")]
            fn check(&self, problems: &mut Vec<Problem>) {
                let $this = self;
                let $problems = problems;
                $check
            }
        }
    };
}

fn date_order(start: Option<Date>, end: Option<Date>, end_field: &'static str, problems: &mut Vec<Problem>) {
    if let (Some(s), Some(e)) = (start, end) {
        // An end one day before the start is a zero-day (no-show) enrollment,
        // which student systems record on purpose; earlier than that is an error.
        if e.to_day_number() < s.to_day_number() - 1 {
            problems.push(Problem::new(end_field, "ends before it starts"));
        }
    }
}

entity! {
    /// A district, school or other education organization.
    Org = Orgs {
        /// district, school, state, department or local.
        kind: Option<Code<OrgKind>> [required],
        /// The organization's name.
        name: String [required],
        /// The number people use for it (PowerSchool School_Number, NCES id…).
        identifier: Option<String>,
        /// Source id of the parent organization.
        parent_id: Option<String>,
        /// Lowest grade served.
        low_grade: Option<Code<GradeLevel>>,
        /// Highest grade served.
        high_grade: Option<Code<GradeLevel>>,
        /// Street address.
        address: Option<String>,
        /// City.
        city: Option<String>,
        /// State or province.
        region: Option<String>,
        /// Postal code.
        postal_code: Option<String>,
        /// Main phone number.
        phone: Option<String>,
    }
    check(r, p) {}
}

entity! {
    /// A school year, term, semester or grading period.
    AcademicSession = AcademicSessions {
        /// schoolYear, semester, term or gradingPeriod.
        kind: Option<Code<SessionKind>> [required],
        /// Display name ("2024-2025", "Semester 1").
        title: String [required],
        /// Short code ("S1", "Q2").
        code: Option<String>,
        /// First day.
        start_date: Option<Date> [required],
        /// Last day (inclusive).
        end_date: Option<Date> [required],
        /// The year the school year ends in (2025 for 2024-2025).
        school_year: Option<i64>,
        /// Source id of the enclosing session.
        parent_id: Option<String>,
        /// Source id of the organization the session belongs to.
        org_id: Option<String>,
    }
    check(r, p) {
        if let (Some(s), Some(e)) = (r.start_date, r.end_date) {
            if e < s {
                p.push(Problem::new("end_date", "ends before it starts"));
            }
        }
    }
}

entity! {
    /// A student.
    Student = Students {
        /// The district's student number (leading zeros kept).
        student_number: Option<String>,
        /// The state student id.
        state_id: Option<String>,
        /// Given name.
        first_name: String [required, pii],
        /// Middle name.
        middle_name: Option<String> [pii],
        /// Family name.
        last_name: String [required, pii],
        /// Preferred given name.
        preferred_name: Option<String> [pii],
        /// Date of birth.
        birth_date: Option<Date> [pii],
        /// Sex.
        sex: Option<Code<Sex>> [pii],
        /// Current grade level.
        grade_level: Option<Code<GradeLevel>>,
        /// Source id of the current school.
        school_id: Option<String>,
        /// Enrollment status as the source states it (active, inactive, graduated…).
        status: Option<String>,
        /// Email address.
        email: Option<String> [pii],
        /// Phone number.
        phone: Option<String> [pii],
        /// Street address.
        address: Option<String> [pii],
        /// City.
        city: Option<String> [pii],
        /// State or province.
        region: Option<String>,
        /// Postal code.
        postal_code: Option<String> [pii],
        /// Login name.
        username: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// A staff member (teacher, administrator, aide…).
    Staff = Staff {
        /// The district's staff / teacher number.
        staff_number: Option<String>,
        /// The state staff id.
        state_id: Option<String>,
        /// Given name.
        first_name: String [required, pii],
        /// Middle name.
        middle_name: Option<String> [pii],
        /// Family name.
        last_name: String [required, pii],
        /// Main role.
        role: Option<Code<StaffRole>>,
        /// Job title as the source states it.
        title: Option<String>,
        /// Source id of the home school.
        school_id: Option<String>,
        /// Whether the account is active.
        active: Option<bool>,
        /// Email address.
        email: Option<String> [pii],
        /// Phone number.
        phone: Option<String> [pii],
        /// Login name.
        username: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// A parent, guardian or emergency contact.
    Contact = Contacts {
        /// Given name.
        first_name: String [required, pii],
        /// Middle name.
        middle_name: Option<String> [pii],
        /// Family name.
        last_name: String [required, pii],
        /// Email address.
        email: Option<String> [pii],
        /// Home phone.
        phone_home: Option<String> [pii],
        /// Mobile phone.
        phone_mobile: Option<String> [pii],
        /// Work phone.
        phone_work: Option<String> [pii],
        /// Street address.
        address: Option<String> [pii],
        /// City.
        city: Option<String> [pii],
        /// State or province.
        region: Option<String>,
        /// Postal code.
        postal_code: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// How a contact relates to a student.
    StudentContact = StudentContacts {
        /// Source id of the student.
        student_id: Option<String> [required],
        /// Source id of the contact.
        contact_id: Option<String> [required],
        /// Relationship to the student.
        relationship: Option<Code<Relationship>>,
        /// Has legal custody.
        custodial: Option<bool>,
        /// May be called in an emergency.
        emergency: Option<bool>,
        /// Lives with the student.
        lives_with: Option<bool>,
        /// Receives mailings.
        receives_mail: Option<bool>,
        /// Order of contact, 1 first.
        priority: Option<i64>,
    }
    check(r, p) {}
}

entity! {
    /// A course in the catalog.
    Course = Courses {
        /// The course number (leading zeros kept).
        course_number: Option<String> [required],
        /// Course title.
        title: String [required],
        /// Source id of the owning organization.
        org_id: Option<String>,
        /// Credits a student earns on completion.
        credit_hours: Option<f64>,
        /// Subject as the source states it.
        subject: Option<String>,
        /// State or national subject code.
        subject_code: Option<String>,
        /// Grade levels the course is for.
        grade_levels: Vec<String>,
    }
    check(r, p) {}
}

entity! {
    /// A section (class) of a course in a term.
    Section = Sections {
        /// Section number within the course.
        section_number: Option<String>,
        /// Display title.
        title: Option<String>,
        /// Source id of the course.
        course_id: Option<String> [required],
        /// Source id of the school.
        school_id: Option<String>,
        /// Source ids of the sessions the section meets in.
        session_ids: Vec<String>,
        /// Period or meeting expression ("1(A)", "2-3(M-F)").
        period: Option<String>,
        /// Room.
        room: Option<String>,
        /// Maximum enrollment.
        max_enrollment: Option<i64>,
    }
    check(r, p) {}
}

entity! {
    /// A staff member's assignment to a section.
    SectionStaff = SectionStaff {
        /// Source id of the section.
        section_id: Option<String> [required],
        /// Source id of the staff member.
        staff_id: Option<String> [required],
        /// Role in the section.
        role: Option<Code<SectionRole>>,
        /// First day of the assignment.
        start_date: Option<Date>,
        /// Last day of the assignment (inclusive).
        end_date: Option<Date>,
    }
    check(r, p) {
        date_order(r.start_date, r.end_date, "end_date", p);
    }
}

entity! {
    /// A student's enrollment in a school for a span of dates.
    SchoolEnrollment = SchoolEnrollments {
        /// Source id of the student.
        student_id: Option<String> [required],
        /// Source id of the school.
        school_id: Option<String> [required],
        /// The year the school year ends in.
        school_year: Option<i64>,
        /// First day enrolled.
        entry_date: Option<Date> [required],
        /// Last day enrolled (inclusive).
        exit_date: Option<Date>,
        /// Entry code.
        entry_code: Option<Code<EntryKind>>,
        /// Exit code.
        exit_code: Option<Code<ExitKind>>,
        /// Exit comment.
        exit_comment: Option<String> [pii],
        /// Grade level during this enrollment.
        grade_level: Option<Code<GradeLevel>>,
        /// Whether this is the student's primary school.
        primary: Option<bool>,
    }
    check(r, p) {
        date_order(r.entry_date, r.exit_date, "exit_date", p);
    }
}

entity! {
    /// A student's enrollment in a section.
    SectionEnrollment = SectionEnrollments {
        /// Source id of the student.
        student_id: Option<String> [required],
        /// Source id of the section.
        section_id: Option<String> [required],
        /// First day in the section.
        entry_date: Option<Date>,
        /// Last day in the section (inclusive).
        exit_date: Option<Date>,
        /// Active, dropped or completed.
        status: Option<Code<SectionEnrollmentStatus>>,
    }
    check(r, p) {
        date_order(r.entry_date, r.exit_date, "exit_date", p);
    }
}

entity! {
    /// A grade: term, final or transcript (stored) mark.
    Grade = Grades {
        /// Source id of the student.
        student_id: Option<String> [required],
        /// term, final or transcript.
        kind: Option<Code<GradeKind>> [required],
        /// Source id of the section, when known.
        section_id: Option<String>,
        /// Source id of the course, when known.
        course_id: Option<String>,
        /// Course number as recorded with the grade (transcripts keep it).
        course_number: Option<String>,
        /// Course title as recorded with the grade.
        course_title: Option<String>,
        /// Source id of the school where the grade was earned.
        school_id: Option<String>,
        /// Name of the school where the grade was earned (transfer credit).
        school_name: Option<String>,
        /// Source id of the grading session.
        session_id: Option<String>,
        /// The year the school year ends in.
        school_year: Option<i64>,
        /// Store code / grading period code ("Q1", "S1", "Y1").
        store_code: Option<String>,
        /// Letter grade.
        letter_grade: Option<String>,
        /// Percent, 0 to 100.
        percent: Option<f64>,
        /// Credits attempted.
        credits_attempted: Option<f64>,
        /// Credits earned.
        credits_earned: Option<f64>,
        /// Grade points for GPA.
        gpa_points: Option<f64>,
        /// Grade level when earned.
        grade_level: Option<Code<GradeLevel>>,
        /// Excluded from GPA.
        exclude_from_gpa: Option<bool>,
        /// Teacher comment.
        comment: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// One attendance event: a student's status on a day, or in one section meeting.
    AttendanceEvent = Attendance {
        /// Source id of the student.
        student_id: Option<String> [required],
        /// The day.
        date: Option<Date> [required],
        /// Category; the source's attendance code is the original.
        category: Option<Code<AttendanceCategory>> [required],
        /// Source id of the school.
        school_id: Option<String>,
        /// Source id of the section, for meeting (period) attendance; empty for daily.
        section_id: Option<String>,
        /// Period, for meeting attendance.
        period: Option<String>,
        /// Minutes missed or present, when recorded.
        minutes: Option<i64>,
        /// Comment.
        comment: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// Race, ethnicity and birthplace of a person (student or staff).
    Demographics = Demographics {
        /// Source id of the person.
        person_id: Option<String> [required],
        /// Hispanic or Latino ethnicity.
        hispanic_or_latino: Option<bool> [pii],
        /// American Indian or Alaska Native.
        american_indian_or_alaska_native: Option<bool> [pii],
        /// Asian.
        asian: Option<bool> [pii],
        /// Black or African American.
        black_or_african_american: Option<bool> [pii],
        /// Native Hawaiian or other Pacific Islander.
        native_hawaiian_or_other_pacific_islander: Option<bool> [pii],
        /// White.
        white: Option<bool> [pii],
        /// Two or more races.
        two_or_more_races: Option<bool> [pii],
        /// Country of birth.
        birth_country: Option<String> [pii],
        /// State of birth.
        birth_state: Option<String> [pii],
        /// City of birth.
        birth_city: Option<String> [pii],
        /// Home language.
        home_language: Option<String>,
    }
    check(r, p) {}
}

macro_rules! entity_kinds {
    ($( $kind:ident => $ty:ident, $name:literal; )*) => {
        /// The canonical entities, in dependency order (a record only refers to
        /// entities listed before it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EntityKind {
            $( #[doc = concat!("`", $name, "`")] $kind, )*
        }

        impl EntityKind {
            /// Every entity, in dependency order.
            pub const ALL: &'static [EntityKind] = &[$(EntityKind::$kind,)*];

            /// The entity's name in configs, files and reports.
            pub fn name(self) -> &'static str {
                match self { $( EntityKind::$kind => $name, )* }
            }

            /// The entity called `name`.
            pub fn from_name(name: &str) -> Option<EntityKind> {
                match name { $( $name => Some(EntityKind::$kind), )* _ => None }
            }

            /// The entity's fields.
            pub fn fields(self) -> &'static [FieldDef] {
                match self { $( EntityKind::$kind => <$ty as Record>::fields(), )* }
            }
        }

        /// Runs `$body` with `$t` bound to the record type of `$kind`.
        #[macro_export]
        macro_rules! with_record_type {
            ($k:expr, $t:ident => $body:expr) => {
                match $k {
                    $( $crate::EntityKind::$kind => { type $t = $crate::$ty; $body } )*
                }
            };
        }
    };
}

entity_kinds! {
    Orgs => Org, "orgs";
    AcademicSessions => AcademicSession, "academic_sessions";
    Students => Student, "students";
    Staff => Staff, "staff";
    Contacts => Contact, "contacts";
    StudentContacts => StudentContact, "student_contacts";
    Demographics => Demographics, "demographics";
    Courses => Course, "courses";
    Sections => Section, "sections";
    SectionStaff => SectionStaff, "section_staff";
    SchoolEnrollments => SchoolEnrollment, "school_enrollments";
    SectionEnrollments => SectionEnrollment, "section_enrollments";
    Grades => Grade, "grades";
    Attendance => AttendanceEvent, "attendance";
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
