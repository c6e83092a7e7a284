//! The canonical entities, the [`Record`] trait and [`EntityKind`].
//!
//! Every entity is declared once with `entity!`, which writes the owned row
//! struct, its field table, by-name field access, its Arrow schema, a typed
//! batch builder and a typed zero-copy view, so connectors never hand-write a
//! per-field mapping and the Arrow layout cannot drift from the struct.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::codes::*;
use crate::columns::{self, Column, ColumnBuilder, MetaBuilder, MetaView, SchemaError};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::instant::{TimeOfDay, Timestamp};
use crate::meta::Meta;
use crate::value::{FieldDef, FieldError, FieldValue, Value};
use crate::violation::Violation;

/// A canonical record of one entity: the owned row a source fills.
pub trait Record: Clone + Default + fmt::Debug + PartialEq + Send + 'static {
    /// Which entity this is.
    const KIND: EntityKind;
    /// The model version that introduced the entity, `(major, minor)`.
    const SINCE: (u16, u16) = (2, 0);
    /// One line of documentation: what a record of the entity is.
    const DOC: &'static str = "";
    /// Builds Arrow batches of this entity.
    type Builder: RecordBuilder<Record = Self>;
    /// Reads Arrow batches of this entity in place.
    type View<'a>: RecordView<'a, Record = Self>;
    /// Identity, provenance and extensions.
    fn meta(&self) -> &Meta;
    /// Mutable access to identity, provenance and extensions.
    fn meta_mut(&mut self) -> &mut Meta;
    /// The entity's fields (not counting [`Meta`]).
    fn fields() -> &'static [FieldDef];
    /// The entity's Arrow schema: identity, fields, then meta columns.
    fn schema() -> SchemaRef;
    /// A field by canonical name; `None` for an unknown name.
    fn get(&self, field: &str) -> Option<Value<'_>>;
    /// Sets a field by canonical name.
    fn set(&mut self, field: &str, value: Value<'_>) -> Result<(), FieldError>;
    /// Required fields that are missing, pushed to `out`.
    fn check_required(&self, out: &mut Vec<Violation>);
    /// Rules beyond required fields (date order…), pushed to `out`.
    fn check(&self, out: &mut Vec<Violation>);
}

/// Builds one Arrow batch of records of one entity.
pub trait RecordBuilder: Send + 'static {
    /// The records it takes.
    type Record: Record;
    /// An empty builder for about `capacity` records.
    fn with_capacity(capacity: usize) -> Self;
    /// Appends a record.
    fn push(&mut self, record: &Self::Record);
    /// Records appended since the last [`RecordBuilder::finish`].
    fn len(&self) -> usize;
    /// Whether none were appended.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch built so far; the builder is empty afterwards.
    fn finish(&mut self) -> Result<RecordBatch, SchemaError>;
}

/// A typed, zero-copy view of an Arrow batch of one entity. Columns are found
/// by name: columns the view does not know are ignored, and a missing
/// optional column reads as null (a batch from an older model minor version).
pub trait RecordView<'a>: Sized {
    /// The records it reads.
    type Record: Record;
    /// A view of `batch`; fails when a known column has the wrong type.
    fn new(batch: &'a RecordBatch) -> Result<Self, SchemaError>;
    /// Number of rows.
    fn len(&self) -> usize;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The meta columns.
    fn meta(&self) -> &MetaView<'a>;
    /// An owned copy of row `i` (allocates: for sinks that keep records).
    fn record(&self, i: usize) -> Self::Record;
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
    (key, key) => {
        true
    };
    ($want:ident, $other:ident) => {
        false
    };
}

macro_rules! opt_or {
    () => {
        None
    };
    ($x:literal) => {
        Some($x)
    };
}

/// `since`: the one given, else the default.
macro_rules! since_or {
    ([$x:expr] [$d:expr]) => {
        $x
    };
    ([] [$d:expr]) => {
        $d
    };
}

/// Arrow metadata of a field column.
fn field_metadata(def: &FieldDef) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let mut flag = |k: &str, on: bool| {
        if on {
            m.insert(format!("ferry.{k}"), "true".to_owned());
        }
    };
    flag("required", def.required);
    flag("key", def.key);
    flag("pii", def.pii);
    m.insert("ferry.since".to_owned(), format!("{}.{}", def.since.0, def.since.1));
    if let Some(r) = def.refs {
        m.insert("ferry.refs".to_owned(), r.to_owned());
    }
    m
}

/// The schema of an entity from its field table.
fn build_schema(kind: EntityKind, fields: &[FieldDef], nullable: &[bool]) -> SchemaRef {
    let mut cols = columns::identity_fields();
    for (def, nullable) in fields.iter().zip(nullable) {
        // A required field is never null in a batch: sources validate records
        // before they push them.
        let nullable = *nullable && !def.required;
        cols.push(
            Field::new(def.name, columns::data_type(def.ty), nullable).with_metadata(field_metadata(def)),
        );
    }
    cols.extend(columns::trailing_meta_fields());
    let mut meta = HashMap::new();
    meta.insert("ferry.entity".to_owned(), kind.name().to_owned());
    meta.insert("ferry.since".to_owned(), format!("{}.{}", kind.since().0, kind.since().1));
    meta.insert("ferry.model".to_owned(), format!("{}.{}", crate::MODEL_VERSION.0, crate::MODEL_VERSION.1));
    Arc::new(Schema::new_with_metadata(cols, meta))
}

macro_rules! entity {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident ($view:ident, $builder:ident) = $kind:ident $(since ($emaj:literal, $emin:literal))? {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty [$($flag:ident),*] $(refs $refs:literal)? $(since $since:expr)?
            ),* $(,)?
        }
        check($this:ident, $problems:ident) $check:block
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            /// Identity, provenance and extensions.
            pub meta: Meta,
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
        }

        #[doc = concat!("Builds Arrow batches of [`", stringify!($name), "`] records.")]
        pub struct $builder {
            meta: MetaBuilder,
            len: usize,
            $( $field: <$ty as Column>::Builder, )*
        }

        #[doc = concat!("A typed, zero-copy view of an Arrow batch of [`", stringify!($name), "`] records.")]
        #[derive(Clone, Copy, Debug)]
        pub struct $view<'a> {
            meta: MetaView<'a>,
            len: usize,
            $( $field: <$ty as Column>::Reader<'a>, )*
        }

        impl Record for $name {
            const KIND: EntityKind = EntityKind::$kind;
            const SINCE: (u16, u16) = since_or!([$(($emaj, $emin))?] [(2, 0)]);
            const DOC: &'static str = concat!($($sdoc),*);
            type Builder = $builder;
            type View<'a> = $view<'a>;
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
                        required: false $(|| $crate::__flag!(required, $flag))*,
                        key: false $(|| $crate::__flag!(key, $flag))*,
                        pii: false $(|| $crate::__flag!(pii, $flag))*,
                        since: since_or!([$($since)?] [<$name as Record>::SINCE]),
                        refs: opt_or!($($refs)?),
                        doc: concat!($($fdoc),*),
                    },
                )*];
                FIELDS
            }
            fn schema() -> SchemaRef {
                static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
                SCHEMA
                    .get_or_init(|| {
                        build_schema(EntityKind::$kind, Self::fields(), &[$(<$ty as Column>::NULLABLE),*])
                    })
                    .clone()
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
            fn check_required(&self, out: &mut Vec<Violation>) {
                $(
                    if (false $(|| $crate::__flag!(required, $flag))*) && FieldValue::get(&self.$field).is_null() {
                        out.push(Violation::new(stringify!($field), "required field is missing"));
                    }
                )*
            }
            #[allow(unused_variables, reason = "not every entity has extra rules")]
            fn check(&self, out: &mut Vec<Violation>) {
                let $this = self;
                let $problems = out;
                $check
            }
        }

        impl RecordBuilder for $builder {
            type Record = $name;
            fn with_capacity(capacity: usize) -> $builder {
                $builder {
                    meta: MetaBuilder::with_capacity(capacity),
                    len: 0,
                    $( $field: <<$ty as Column>::Builder as ColumnBuilder>::with_capacity(capacity), )*
                }
            }
            #[inline]
            fn push(&mut self, r: &$name) {
                self.meta.append(&r.meta);
                $( Column::append(&r.$field, &mut self.$field); )*
                self.len += 1;
            }
            fn len(&self) -> usize {
                self.len
            }
            fn finish(&mut self) -> Result<RecordBatch, SchemaError> {
                let [system, id] = self.meta.finish_identity();
                let mut cols: Vec<ArrayRef> = vec![system, id];
                $( cols.push(ColumnBuilder::finish(&mut self.$field)); )*
                cols.extend(self.meta.finish_trailing());
                self.len = 0;
                RecordBatch::try_new(<$name as Record>::schema(), cols)
                    .map_err(|e| SchemaError(format!("building a batch of {}: {e}", EntityKind::$kind)))
            }
        }

        impl<'a> $view<'a> {
            $(
                $(#[doc = $fdoc])*
                #[inline]
                pub fn $field(&self, i: usize) -> <$ty as Column>::Ref<'a> {
                    <$ty as Column>::read(self.$field, i)
                }
            )*
        }

        impl<'a> RecordView<'a> for $view<'a> {
            type Record = $name;
            fn new(batch: &'a RecordBatch) -> Result<$view<'a>, SchemaError> {
                Ok($view {
                    meta: MetaView::new(batch)?,
                    len: batch.num_rows(),
                    $(
                        $field: <$ty as Column>::reader(
                            batch.column_by_name(stringify!($field)).map(|c| c.as_ref() as &dyn arrow_array::Array),
                        )
                        .map_err(|e| SchemaError(format!("{}.{}: {e}", EntityKind::$kind, stringify!($field))))?,
                    )*
                })
            }
            fn len(&self) -> usize {
                self.len
            }
            fn meta(&self) -> &MetaView<'a> {
                &self.meta
            }
            fn record(&self, i: usize) -> $name {
                $name {
                    meta: self.meta.to_meta(i),
                    $( $field: <$ty as Column>::owned(<$ty as Column>::read(self.$field, i)), )*
                }
            }
        }
    };
}

fn date_order(start: Option<Date>, end: Option<Date>, end_field: &'static str, out: &mut Vec<Violation>) {
    if let (Some(s), Some(e)) = (start, end) {
        // An end one day before the start is a zero-day (no-show) enrollment,
        // which student systems record on purpose; earlier than that is an error.
        if e.to_day_number() < s.to_day_number() - 1 {
            out.push(Violation::new(end_field, "ends before it starts"));
        }
    }
}

/// Like `date_order`, without the one-day allowance: for plans, actions and
/// assignments, whose end can never precede their start.
fn strict_order(start: Option<Date>, end: Option<Date>, end_field: &'static str, out: &mut Vec<Violation>) {
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        out.push(Violation::new(end_field, "ends before it starts"));
    }
}

entity! {
    /// A district, school or other education organization.
    Org (OrgView, OrgBuilder) = Orgs {
        /// district, school, state, department or local.
        kind: Option<Code<OrgKind>> [required],
        /// The organization's name.
        name: String [required],
        /// The number people use for it (PowerSchool School_Number, NCES id…).
        identifier: Option<String> [],
        /// Source id of the parent organization.
        parent_id: Option<String> [],
        /// Lowest grade served.
        low_grade: Option<Code<GradeLevel>> [],
        /// Highest grade served.
        high_grade: Option<Code<GradeLevel>> [],
        /// Street address.
        address: Option<String> [],
        /// City.
        city: Option<String> [],
        /// State or province.
        region: Option<String> [],
        /// Postal code.
        postal_code: Option<String> [],
        /// Main phone number.
        phone: Option<String> [],
    }
    check(r, p) {}
}

entity! {
    /// A school year, term, semester or grading period.
    AcademicSession (AcademicSessionView, AcademicSessionBuilder) = AcademicSessions {
        /// schoolYear, semester, term or gradingPeriod.
        kind: Option<Code<SessionKind>> [required],
        /// Display name ("2024-2025", "Semester 1").
        title: String [required],
        /// Short code ("S1", "Q2").
        code: Option<String> [],
        /// First day.
        start_date: Option<Date> [required],
        /// Last day (inclusive).
        end_date: Option<Date> [required],
        /// The year the school year ends in (2025 for 2024-2025).
        school_year: Option<i64> [],
        /// Source id of the enclosing session.
        parent_id: Option<String> [],
        /// Source id of the organization the session belongs to.
        org_id: Option<String> [] refs "orgs",
    }
    check(r, p) {
        if let (Some(s), Some(e)) = (r.start_date, r.end_date)
            && e < s {
                p.push(Violation::new("end_date", "ends before it starts"));
            }
    }
}

entity! {
    /// A student.
    Student (StudentView, StudentBuilder) = Students {
        /// The district's student number (leading zeros kept).
        student_number: Option<String> [],
        /// The state student id.
        state_id: Option<String> [],
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
        grade_level: Option<Code<GradeLevel>> [],
        /// Source id of the current school.
        school_id: Option<String> [] refs "orgs",
        /// Enrollment status as the source states it (active, inactive, graduated…).
        status: Option<String> [],
        /// Email address.
        email: Option<String> [pii],
        /// Phone number.
        phone: Option<String> [pii],
        /// Street address.
        address: Option<String> [pii],
        /// City.
        city: Option<String> [pii],
        /// State or province.
        region: Option<String> [],
        /// Postal code.
        postal_code: Option<String> [pii],
        /// Login name.
        username: Option<String> [pii],
        /// The class-of year: the year the student is expected to graduate.
        graduation_year: Option<i64> [] since (2, 1),
        /// Source id of the school the student goes to next (next year's school).
        next_school_id: Option<String> [] refs "orgs" since (2, 2),
        /// The grade level the student goes to next year.
        next_grade_level: Option<Code<GradeLevel>> [] since (2, 2),
        /// The source's household (family) identifier: students who share it live together.
        household_id: Option<String> [] since (2, 2),
    }
    check(r, p) {}
}

entity! {
    /// A staff member (teacher, administrator, aide…).
    Staff (StaffView, StaffBuilder) = Staff {
        /// The district's staff / teacher number.
        staff_number: Option<String> [],
        /// The state staff id.
        state_id: Option<String> [],
        /// Given name.
        first_name: String [required, pii],
        /// Middle name.
        middle_name: Option<String> [pii],
        /// Family name.
        last_name: String [required, pii],
        /// Main role.
        role: Option<Code<StaffRole>> [],
        /// Job title as the source states it.
        title: Option<String> [],
        /// Source id of the home school.
        school_id: Option<String> [] refs "orgs",
        /// Whether the account is active.
        active: Option<bool> [],
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
    Contact (ContactView, ContactBuilder) = Contacts {
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
        region: Option<String> [],
        /// Postal code.
        postal_code: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// How a contact relates to a student.
    StudentContact (StudentContactView, StudentContactBuilder) = StudentContacts {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the contact.
        contact_id: Option<String> [required, key] refs "contacts",
        /// Relationship to the student.
        relationship: Option<Code<Relationship>> [],
        /// Has legal custody.
        custodial: Option<bool> [],
        /// May be called in an emergency.
        emergency: Option<bool> [],
        /// Lives with the student.
        lives_with: Option<bool> [],
        /// Receives mailings.
        receives_mail: Option<bool> [],
        /// Order of contact, 1 first.
        priority: Option<i64> [],
        /// May pick the student up from school.
        school_pickup: Option<bool> [] since (2, 2),
        /// Contact with the student is restricted (no contact, a restraining or court order).
        restricted: Option<bool> [] since (2, 2),
        /// What the restriction is, as recorded.
        restriction_note: Option<String> [pii] since (2, 2),
        /// Communications to this contact are confidential (not shared with other contacts).
        confidential_communication: Option<bool> [] since (2, 2),
        /// First day of the relationship as recorded (one record per period).
        start_date: Option<Date> [] since (2, 2),
        /// Last day of the relationship as recorded (inclusive).
        end_date: Option<Date> [] since (2, 2),
    }
    check(r, p) {
        date_order(r.start_date, r.end_date, "end_date", p);
    }
}

entity! {
    /// A course in the catalog.
    Course (CourseView, CourseBuilder) = Courses {
        /// The course number (leading zeros kept).
        course_number: Option<String> [required],
        /// Course title.
        title: String [required],
        /// Source id of the owning organization.
        org_id: Option<String> [] refs "orgs",
        /// Credits a student earns on completion.
        credit_hours: Option<Decimal> [],
        /// Subject as the source states it.
        subject: Option<String> [],
        /// State or national subject code.
        subject_code: Option<String> [],
        /// Grade levels the course is for.
        grade_levels: Vec<String> [],
    }
    check(r, p) {}
}

entity! {
    /// A section (class) of a course in a term.
    Section (SectionView, SectionBuilder) = Sections {
        /// Section number within the course.
        section_number: Option<String> [],
        /// Display title.
        title: Option<String> [],
        /// Source id of the course.
        course_id: Option<String> [required, key] refs "courses",
        /// Source id of the school.
        school_id: Option<String> [] refs "orgs",
        /// Source ids of the sessions the section meets in.
        session_ids: Vec<String> [],
        /// Period or meeting expression ("1(A)", "2-3(M-F)").
        period: Option<String> [],
        /// Room.
        room: Option<String> [],
        /// Maximum enrollment.
        max_enrollment: Option<i64> [],
    }
    check(r, p) {}
}

entity! {
    /// A staff member's assignment to a section.
    SectionStaff (SectionStaffView, SectionStaffBuilder) = SectionStaff {
        /// Source id of the section.
        section_id: Option<String> [required, key] refs "sections",
        /// Source id of the staff member.
        staff_id: Option<String> [required, key] refs "staff",
        /// Role in the section.
        role: Option<Code<SectionRole>> [],
        /// First day of the assignment.
        start_date: Option<Date> [],
        /// Last day of the assignment (inclusive).
        end_date: Option<Date> [],
    }
    check(r, p) {
        date_order(r.start_date, r.end_date, "end_date", p);
    }
}

entity! {
    /// A student's enrollment in a school for a span of dates.
    SchoolEnrollment (SchoolEnrollmentView, SchoolEnrollmentBuilder) = SchoolEnrollments {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the school.
        school_id: Option<String> [required, key] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// First day enrolled.
        entry_date: Option<Date> [required],
        /// Last day enrolled (inclusive).
        exit_date: Option<Date> [],
        /// Entry code.
        entry_code: Option<Code<EntryKind>> [],
        /// Exit code.
        exit_code: Option<Code<ExitKind>> [],
        /// Exit comment.
        exit_comment: Option<String> [pii],
        /// Grade level during this enrollment.
        grade_level: Option<Code<GradeLevel>> [],
        /// Whether this is the student's primary school.
        primary: Option<bool> [],
    }
    check(r, p) {
        date_order(r.entry_date, r.exit_date, "exit_date", p);
    }
}

entity! {
    /// A student's enrollment in a section.
    SectionEnrollment (SectionEnrollmentView, SectionEnrollmentBuilder) = SectionEnrollments {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the section.
        section_id: Option<String> [required, key] refs "sections",
        /// First day in the section.
        entry_date: Option<Date> [],
        /// Last day in the section (inclusive).
        exit_date: Option<Date> [],
        /// Active, dropped or completed.
        status: Option<Code<SectionEnrollmentStatus>> [],
    }
    check(r, p) {
        date_order(r.entry_date, r.exit_date, "exit_date", p);
    }
}

entity! {
    /// A grade: term, final or transcript (stored) mark.
    Grade (GradeView, GradeBuilder) = Grades {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// term, final or transcript.
        kind: Option<Code<GradeKind>> [required],
        /// Source id of the section, when known.
        section_id: Option<String> [] refs "sections",
        /// Source id of the course, when known.
        course_id: Option<String> [] refs "courses",
        /// Course number as recorded with the grade (transcripts keep it).
        course_number: Option<String> [],
        /// Course title as recorded with the grade.
        course_title: Option<String> [],
        /// Source id of the school where the grade was earned.
        school_id: Option<String> [] refs "orgs",
        /// Name of the school where the grade was earned (transfer credit).
        school_name: Option<String> [],
        /// Source id of the grading session.
        session_id: Option<String> [] refs "academic_sessions",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Store code / grading period code ("Q1", "S1", "Y1").
        store_code: Option<String> [],
        /// Letter grade.
        letter_grade: Option<String> [],
        /// Percent, 0 to 100.
        percent: Option<Decimal> [],
        /// Credits attempted.
        credits_attempted: Option<Decimal> [],
        /// Credits earned.
        credits_earned: Option<Decimal> [],
        /// Grade points for GPA.
        gpa_points: Option<Decimal> [],
        /// Grade level when earned.
        grade_level: Option<Code<GradeLevel>> [],
        /// Excluded from GPA.
        exclude_from_gpa: Option<bool> [],
        /// Excluded from class rank.
        exclude_from_class_rank: Option<bool> [] since (2, 2),
        /// Excluded from honor roll.
        exclude_from_honor_roll: Option<bool> [] since (2, 2),
        /// Left off the transcript.
        exclude_from_transcript: Option<bool> [] since (2, 2),
        /// Credit type as the source states it (the graduation requirement it counts toward: "ENG", "MATH", "Elective").
        credit_type: Option<String> [] since (2, 2),
        /// How the attempt ended; the source's value is the original.
        attempt_result: Option<Code<CourseAttemptResult>> [] since (2, 2),
        /// Teacher comment.
        comment: Option<String> [pii],
    }
    check(r, p) {}
}

entity! {
    /// One attendance event: a student's status on a day, or in one section meeting.
    AttendanceEvent (AttendanceEventView, AttendanceEventBuilder) = Attendance {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// The day.
        date: Option<Date> [required],
        /// Category; the source's attendance code is the original.
        category: Option<Code<AttendanceCategory>> [required],
        /// Source id of the school.
        school_id: Option<String> [] refs "orgs",
        /// Source id of the section, for meeting (period) attendance; empty for daily.
        section_id: Option<String> [] refs "sections",
        /// Period, for meeting attendance.
        period: Option<String> [],
        /// Minutes missed or present, when recorded.
        minutes: Option<i64> [],
        /// Comment.
        comment: Option<String> [pii],
        /// Source id of the term or grading period of the event.
        session_id: Option<String> [] refs "academic_sessions" since (2, 2),
    }
    check(r, p) {}
}

entity! {
    /// Race, ethnicity and birthplace of a person (student or staff).
    Demographics (DemographicsView, DemographicsBuilder) = Demographics {
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
        home_language: Option<String> [],
        /// Races as canonical codes (`Race`: americanIndianOrAlaskaNative, asian, blackOrAfricanAmerican, nativeHawaiianOrOtherPacificIslander, middleEasternOrNorthAfrican, white); a value with no canonical code as the source gave it.
        races: Vec<String> [pii] since (2, 2),
    }
    check(r, p) {}
}

// The entities new in 2.2, one module per domain (they use the macros and
// helpers above).
mod academic;
mod assessment;
mod calendar;
mod discipline;
mod gradebook;
mod programs;
mod staffing;

pub use academic::*;
pub use assessment::*;
pub use calendar::*;
pub use discipline::*;
pub use gradebook::*;
pub use programs::*;
pub use staffing::*;

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

            /// The model version that introduced the entity, `(major, minor)`.
            pub fn since(self) -> (u16, u16) {
                match self { $( EntityKind::$kind => <$ty as Record>::SINCE, )* }
            }

            /// One line of documentation: what a record of the entity is.
            pub fn doc(self) -> &'static str {
                match self { $( EntityKind::$kind => <$ty as Record>::DOC.trim(), )* }
            }

            /// The entity's fields.
            pub fn fields(self) -> &'static [FieldDef] {
                match self { $( EntityKind::$kind => <$ty as Record>::fields(), )* }
            }

            /// The entity's Arrow schema.
            pub fn schema(self) -> SchemaRef {
                match self { $( EntityKind::$kind => <$ty as Record>::schema(), )* }
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
    CodeValues => CodeValue, "code_values";
    ClassPeriods => ClassPeriod, "class_periods";
    BellSchedules => BellSchedule, "bell_schedules";
    BellSchedulePeriods => BellSchedulePeriod, "bell_schedule_periods";
    CalendarDays => CalendarDay, "calendar_days";
    StaffAssignments => StaffAssignment, "staff_assignments";
    AcademicRecords => AcademicRecord, "academic_records";
    Gpas => Gpa, "gpas";
    Diplomas => Diploma, "diplomas";
    Programs => Program, "programs";
    ProgramParticipations => ProgramParticipation, "program_participations";
    SpecialEducationPlans => SpecialEducationPlan, "special_education_plans";
    DisciplineIncidents => DisciplineIncident, "discipline_incidents";
    DisciplineParticipants => DisciplineParticipant, "discipline_participants";
    DisciplineActions => DisciplineAction, "discipline_actions";
    LogEntries => LogEntry, "log_entries";
    Assessments => Assessment, "assessments";
    StudentAssessments => StudentAssessment, "student_assessments";
    AssessmentScores => AssessmentScore, "assessment_scores";
    LineItemCategories => LineItemCategory, "line_item_categories";
    LineItems => LineItem, "line_items";
    LineItemResults => LineItemResult, "line_item_results";
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields_view::FieldsView;
    use crate::meta::{AltId, Operation, Origin};
    use crate::value::FieldType;
    use crate::{SOURCE_ID, validate};

    fn student(i: u64) -> Student {
        let mut meta = Meta::new("sis", format!("{i}"));
        meta.alt_ids.push(AltId {
            kind: "state".into(),
            value: format!("S{i:06}"),
            assigner: Some("TX".into()),
        });
        meta.ext.insert("U_Locker", "17");
        meta.ext.insert_pii("U_Nickname", "Jo");
        meta.origin = Some(Origin { file: "students.csv".into(), line: i + 1, raw: Some("a,b".into()) });
        meta.table = Some("Students".into());
        meta.row_hash = Some([7; 16]);
        meta.modified_at = Some(Timestamp::from_date_time(
            Date::new(2025, 3, 1).unwrap(),
            TimeOfDay::from_hms(8, 0, 0).unwrap(),
        ));
        if i % 2 == 1 {
            meta.op = Operation::Delete;
        }
        Student {
            meta,
            student_number: Some(format!("{i:06}")),
            first_name: "José".into(),
            last_name: "Núñez".into(),
            birth_date: (!i.is_multiple_of(3)).then(|| Date::new(2011, 2, 3).unwrap()),
            grade_level: Some(Code::normalize("K")),
            graduation_year: Some(2036),
            ..Student::default()
        }
    }

    #[test]
    fn records_round_trip_through_a_batch() {
        let mut b = <Student as Record>::Builder::with_capacity(4);
        let input: Vec<Student> = (0..5).map(student).collect();
        for s in &input {
            b.push(s);
        }
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 5);
        assert_eq!(batch.schema(), Student::schema());
        let v = StudentView::new(&batch).unwrap();
        assert_eq!(v.first_name(2), "José");
        assert_eq!(v.student_number(3), Some("000003"));
        assert_eq!(v.grade_level(0).unwrap().code, "KG");
        assert_eq!(v.grade_level(0).unwrap().original, "K");
        assert_eq!(v.birth_date(0), None);
        assert_eq!(v.meta().alt_id(4, "state"), Some("S000004"));
        let back: Vec<Student> = (0..v.len()).map(|i| v.record(i)).collect();
        assert_eq!(back, input);
        assert!(b.finish().unwrap().num_rows() == 0, "finish empties the builder");
    }

    #[test]
    fn a_batch_without_a_newer_column_reads_it_as_null_and_extra_columns_are_ignored() {
        let mut b = StudentBuilder::with_capacity(1);
        b.push(&student(1));
        let batch = b.finish().unwrap();
        let idx = batch.schema().index_of("graduation_year").unwrap();
        let mut cols = batch.columns().to_vec();
        let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
        cols.remove(idx);
        fields.remove(idx);
        // A column from the future.
        cols.push(Arc::new(arrow_array::StringArray::from(vec!["x"])));
        fields.push(Arc::new(Field::new("from_the_future", arrow_schema::DataType::Utf8, true)));
        let older = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        let v = StudentView::new(&older).unwrap();
        assert_eq!(v.graduation_year(0), None);
        assert_eq!(v.first_name(0), "José");
    }

    #[test]
    fn a_decimal_of_another_scale_is_refused_not_misread() {
        let mut b = CourseBuilder::with_capacity(1);
        b.push(&Course {
            meta: Meta::new("t", "c"),
            course_number: Some("1".into()),
            title: "T".into(),
            credit_hours: Some(Decimal::parse("3.5").unwrap()),
            ..Course::default()
        });
        let batch = b.finish().unwrap();
        let idx = batch.schema().index_of("credit_hours").unwrap();
        let mut cols = batch.columns().to_vec();
        let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
        // 3.50 at scale 2: read at the model's scale 4 it would be 0.035.
        let other =
            arrow_array::Decimal128Array::from(vec![350_i128]).with_precision_and_scale(10, 2).unwrap();
        fields[idx] =
            Arc::new(Field::new("credit_hours", arrow_array::Array::data_type(&other).clone(), true));
        cols[idx] = Arc::new(other);
        let b2 = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        let e = CourseView::new(&b2).unwrap_err();
        assert!(e.0.contains("credit_hours") && e.0.contains("Decimal128(18, 4)"), "{e}");
    }

    #[test]
    fn schemas_carry_the_field_flags() {
        let s = EntityKind::SchoolEnrollments.schema();
        assert_eq!(s.field(0).name(), "source_system");
        assert_eq!(s.field(1).name(), SOURCE_ID);
        let f = s.field_with_name("student_id").unwrap();
        assert_eq!(f.metadata().get("ferry.key").map(String::as_str), Some("true"));
        assert_eq!(f.metadata().get("ferry.refs").map(String::as_str), Some("students"));
        assert!(!f.is_nullable());
        let g = Student::schema();
        let gy = g.field_with_name("graduation_year").unwrap();
        assert_eq!(gy.metadata().get("ferry.since").map(String::as_str), Some("2.1"));
        assert_eq!(
            g.field_with_name("birth_date").unwrap().metadata().get("ferry.pii").map(String::as_str),
            Some("true")
        );
        assert_eq!(g.metadata().get("ferry.entity").map(String::as_str), Some("students"));
        let credit = Course::schema();
        assert_eq!(
            credit.field_with_name("credit_hours").unwrap().data_type(),
            &arrow_schema::DataType::Decimal128(18, 4)
        );
    }

    /// A value of the field's type, different for each `n`.
    fn sample(def: &FieldDef, n: i64) -> Value<'static> {
        let day = Date::new(2024, 9, 1).unwrap().add_days(n).unwrap();
        match def.ty {
            // Leaked so the value may borrow it; a test, a few bytes.
            FieldType::Text => Value::Text(Box::leak(format!("{}-{n}", def.name).into_boxed_str())),
            FieldType::Int => Value::Int(n + 1),
            FieldType::Decimal => Value::Decimal(Decimal::from_units(35_000 + n).unwrap()),
            FieldType::Bool => Value::Bool(n % 2 == 0),
            FieldType::Date => Value::Date(day),
            FieldType::Timestamp => {
                Value::Timestamp(Timestamp::from_date_time(day, TimeOfDay::from_hms(8, 30, 0).unwrap()))
            }
            FieldType::Time => Value::Time(TimeOfDay::from_hms(9, 15, 0).unwrap()),
            FieldType::Code(values) => {
                let code = values[usize::try_from(n).unwrap() % values.len()];
                Value::Code { code, original: Box::leak(format!("src-{code}").into_boxed_str()) }
            }
            FieldType::List => Value::Text("a, b,c"),
        }
    }

    /// A record of `R` with every field set (`all`) or only the required ones.
    fn filled<R: Record>(id: &str, n: i64, all: bool) -> R {
        let mut r = R::default();
        let m = r.meta_mut();
        *m = Meta::new("sis", id);
        m.push_alt_id("state", format!("S{n}"), Some("TX"));
        m.push_alt_id("state", format!("O{n}"), Some("OK"));
        m.set_alt_id("dcid", format!("{n}"));
        m.ext.insert_pii("U_Note", "x");
        for f in R::fields().iter().filter(|f| all || f.required) {
            r.set(f.name, sample(f, n)).unwrap_or_else(|e| panic!("{}.{}: {e}", R::KIND, f.name));
        }
        r
    }

    fn round_trip<R: Record>() {
        let input = [filled::<R>("1", 0, true), filled::<R>("2", 1, false), filled::<R>("3", 2, true)];
        for r in [&input[0], &input[2]] {
            assert_eq!(validate(r), [], "{}: a filled record is valid", R::KIND);
        }
        let mut b = R::Builder::with_capacity(2);
        for r in &input {
            b.push(r);
        }
        let batch = b.finish().unwrap_or_else(|e| panic!("{}: {e}", R::KIND));
        assert_eq!(batch.schema(), R::schema());
        assert_eq!(batch.schema(), R::KIND.schema());
        let v = R::View::new(&batch).unwrap();
        assert_eq!(v.len(), 3);
        for (i, r) in input.iter().enumerate() {
            assert_eq!(&v.record(i), r, "{} row {i}", R::KIND);
        }
        let states: Vec<_> = v.meta().alt_ids_of(2, "state").collect();
        assert_eq!(states, [("S2", Some("TX")), ("O2", Some("OK"))], "{}", R::KIND);
        let by_name = FieldsView::new(R::KIND, &batch).unwrap();
        for (i, r) in input.iter().enumerate() {
            for (j, f) in R::fields().iter().enumerate() {
                assert_eq!(by_name.get(j, i), r.get(f.name).unwrap(), "{}.{} row {i}", R::KIND, f.name);
            }
        }
    }

    #[test]
    fn every_entity_round_trips_through_a_batch() {
        for kind in EntityKind::ALL {
            with_record_type!(*kind, R => round_trip::<R>());
        }
    }

    #[test]
    fn entities_refer_only_to_entities_listed_before_them() {
        for (i, kind) in EntityKind::ALL.iter().enumerate() {
            assert_eq!(EntityKind::from_name(kind.name()), Some(*kind));
            for f in kind.fields() {
                let Some(r) = f.refs else { continue };
                let parent =
                    EntityKind::from_name(r).unwrap_or_else(|| panic!("{kind}.{}: no entity {r}", f.name));
                let j = EntityKind::ALL.iter().position(|k| *k == parent).unwrap();
                assert!(j < i, "{kind}.{} refers to {parent}, listed after it", f.name);
                assert!(f.since >= kind.since(), "{kind}.{}", f.name);
            }
            assert!(!kind.doc().is_empty(), "{kind} has a doc line");
        }
    }

    #[test]
    fn entities_and_fields_new_in_2_2_say_so() {
        let new_entities = EntityKind::ALL.iter().filter(|k| k.since() == (2, 2)).count();
        assert_eq!(new_entities, 22);
        assert_eq!(EntityKind::Attendance.since(), (2, 0));
        for kind in EntityKind::ALL.iter().filter(|k| k.since() == (2, 2)) {
            assert!(kind.fields().iter().all(|f| f.since == (2, 2)), "{kind}");
            assert_eq!(kind.schema().metadata().get("ferry.since").map(String::as_str), Some("2.2"));
        }
        let since = |k: EntityKind, f: &str| k.fields().iter().find(|d| d.name == f).unwrap().since;
        for (k, f) in [
            (EntityKind::Students, "next_school_id"),
            (EntityKind::Students, "next_grade_level"),
            (EntityKind::Students, "household_id"),
            (EntityKind::StudentContacts, "school_pickup"),
            (EntityKind::StudentContacts, "restricted"),
            (EntityKind::StudentContacts, "restriction_note"),
            (EntityKind::StudentContacts, "confidential_communication"),
            (EntityKind::StudentContacts, "start_date"),
            (EntityKind::StudentContacts, "end_date"),
            (EntityKind::Demographics, "races"),
            (EntityKind::Grades, "credit_type"),
            (EntityKind::Grades, "attempt_result"),
            (EntityKind::Grades, "exclude_from_class_rank"),
            (EntityKind::Grades, "exclude_from_honor_roll"),
            (EntityKind::Grades, "exclude_from_transcript"),
            (EntityKind::Attendance, "session_id"),
        ] {
            assert_eq!(since(k, f), (2, 2), "{k}.{f}");
        }
        assert_eq!(since(EntityKind::Students, "graduation_year"), (2, 1));
        assert_eq!(since(EntityKind::Grades, "exclude_from_gpa"), (2, 0));
        for f in ["percent", "credits_attempted", "credits_earned", "gpa_points"] {
            assert_eq!(
                EntityKind::Grades.fields().iter().find(|d| d.name == f).unwrap().ty,
                FieldType::Decimal
            );
        }
    }

    #[test]
    fn new_schemas_carry_personal_data_refs_and_exact_types() {
        let flag = |k: EntityKind, f: &str, flag: &str| {
            k.schema().field_with_name(f).unwrap().metadata().get(&format!("ferry.{flag}")).cloned()
        };
        let yes = Some("true".to_owned());
        for f in ["subject", "text", "author"] {
            assert_eq!(flag(EntityKind::LogEntries, f, "pii"), yes, "log_entries.{f}");
        }
        assert_eq!(flag(EntityKind::LogEntries, "date", "pii"), None);
        assert_eq!(flag(EntityKind::DisciplineIncidents, "description", "pii"), yes);
        assert_eq!(flag(EntityKind::LineItemResults, "comment", "pii"), yes);
        assert_eq!(flag(EntityKind::SpecialEducationPlans, "primary_disability", "pii"), yes);
        assert_eq!(flag(EntityKind::StudentContacts, "restriction_note", "pii"), yes);
        assert_eq!(flag(EntityKind::Demographics, "races", "pii"), yes);
        for (k, f, parent) in [
            (EntityKind::AssessmentScores, "student_assessment_id", "student_assessments"),
            (EntityKind::StudentAssessments, "assessment_id", "assessments"),
            (EntityKind::DisciplineParticipants, "incident_id", "discipline_incidents"),
            (EntityKind::DisciplineActions, "incident_id", "discipline_incidents"),
            (EntityKind::ProgramParticipations, "program_id", "programs"),
            (EntityKind::BellSchedulePeriods, "period_id", "class_periods"),
            (EntityKind::LineItemResults, "line_item_id", "line_items"),
            (EntityKind::LineItems, "category_id", "line_item_categories"),
            (EntityKind::Gpas, "academic_record_id", "academic_records"),
        ] {
            assert_eq!(flag(k, f, "refs").as_deref(), Some(parent), "{k}.{f}");
            assert_eq!(flag(k, f, "key"), yes, "{k}.{f}");
        }
        assert_eq!(flag(EntityKind::Attendance, "session_id", "refs").as_deref(), Some("academic_sessions"));
        assert_eq!(flag(EntityKind::Attendance, "session_id", "key"), None, "context, not a parent");
        let s = EntityKind::AssessmentScores.schema();
        assert!(!s.field_with_name("student_assessment_id").unwrap().is_nullable());
        assert!(!s.field_with_name("result").unwrap().is_nullable());
        assert_eq!(
            s.field_with_name("value").unwrap().data_type(),
            &arrow_schema::DataType::Decimal128(18, 4)
        );
        let t = EntityKind::BellSchedulePeriods.schema();
        assert_eq!(
            t.field_with_name("start_time").unwrap().data_type(),
            &arrow_schema::DataType::Time64(arrow_schema::TimeUnit::Microsecond)
        );
        let FieldType::Code(statuses) =
            EntityKind::LineItemResults.fields().iter().find(|f| f.name == "status").unwrap().ty
        else {
            panic!("status is a code")
        };
        assert_eq!(
            statuses,
            ["exempt", "fully graded", "not submitted", "partially graded", "submitted", "Other"]
        );
    }

    #[test]
    fn spans_and_plans_must_not_end_before_they_start() {
        let d = |m, day| Some(Date::new(2024, m, day).unwrap());
        let ends_early =
            |v: Vec<Violation>, field: &'static str| v == [Violation::new(field, "ends before it starts")];

        // Spans of membership allow the zero-day span, like enrollments.
        let mut a = StaffAssignment {
            meta: Meta::new("x", "a1"),
            staff_id: Some("T1".into()),
            school_id: Some("S".into()),
            start_date: d(9, 1),
            end_date: d(8, 31),
            ..StaffAssignment::default()
        };
        assert!(validate(&a).is_empty());
        a.end_date = d(8, 30);
        assert!(ends_early(validate(&a), "end_date"));
        let mut part = ProgramParticipation {
            meta: Meta::new("x", "p1"),
            student_id: Some("1".into()),
            program_id: Some("SPED".into()),
            begin_date: d(9, 1),
            end_date: d(8, 1),
            ..ProgramParticipation::default()
        };
        assert!(ends_early(validate(&part), "end_date"));
        part.end_date = None;
        assert!(validate(&part).is_empty(), "an open participation");
        let link = StudentContact {
            meta: Meta::new("x", "l1"),
            student_id: Some("1".into()),
            contact_id: Some("C".into()),
            start_date: d(9, 1),
            end_date: d(6, 1),
            ..StudentContact::default()
        };
        assert!(ends_early(validate(&link), "end_date"));

        // Plans, actions and assignments: no allowance at all.
        let plan = SpecialEducationPlan {
            meta: Meta::new("x", "iep1"),
            student_id: Some("1".into()),
            begin_date: d(9, 1),
            end_date: d(8, 31),
            ..SpecialEducationPlan::default()
        };
        assert!(ends_early(validate(&plan), "end_date"));
        let action = DisciplineAction {
            meta: Meta::new("x", "da1"),
            student_id: Some("1".into()),
            action: Some(Code::normalize("ISS")),
            start_date: d(3, 5),
            end_date: d(3, 4),
            ..DisciplineAction::default()
        };
        assert!(ends_early(validate(&action), "end_date"));
        assert_eq!(action.action.as_ref().unwrap().code, DisciplineActionKind::InSchoolSuspension);
        let item = LineItem {
            meta: Meta::new("x", "li1"),
            section_id: Some("SEC".into()),
            title: "Essay".into(),
            assign_date: d(10, 2),
            due_date: d(10, 1),
            ..LineItem::default()
        };
        assert!(ends_early(validate(&item), "due_date"));
        let t = |h, m| Some(TimeOfDay::from_hms(h, m, 0).unwrap());
        let mut period = BellSchedulePeriod {
            meta: Meta::new("x", "bp1"),
            bell_schedule_id: Some("B".into()),
            period_id: Some("P1".into()),
            start_time: t(8, 50),
            end_time: t(8, 0),
            ..BellSchedulePeriod::default()
        };
        assert!(ends_early(validate(&period), "end_time"));
        period.end_time = t(9, 40);
        assert!(validate(&period).is_empty());
    }

    #[test]
    fn required_fields_of_new_entities_reject_and_a_participant_names_someone() {
        let mut p = DisciplineParticipant {
            meta: Meta::new("x", "dp1"),
            incident_id: Some("I1".into()),
            role: Some(Code::normalize("Witness")),
            ..DisciplineParticipant::default()
        };
        assert_eq!(
            validate(&p),
            [Violation::new("student_id", "names no student, staff member or other person")]
        );
        p.name = Some("A visitor".into());
        assert!(validate(&p).is_empty());
        assert_eq!(p.role.as_ref().unwrap().code, IncidentRole::Witness);
        let score = AssessmentScore { meta: Meta::new("x", "sc1"), ..AssessmentScore::default() };
        let v = validate(&score);
        assert!(v.contains(&Violation::new("student_assessment_id", "required field is missing")), "{v:?}");
        assert!(v.contains(&Violation::new("result", "required field is missing")), "{v:?}");
        let day = CalendarDay {
            meta: Meta::new("x", "cd1"),
            school_id: Some("S".into()),
            ..CalendarDay::default()
        };
        assert_eq!(validate(&day), [Violation::new("date", "required field is missing")]);
    }

    #[test]
    fn several_alt_ids_of_one_kind_survive_a_batch_with_their_assigners() {
        let mut s = student(2);
        s.meta.push_alt_id("state", "OK-77", Some("OK"));
        s.meta.push_alt_id("old", "0017", None);
        s.meta.push_alt_id("old", "17", Some("district"));
        let mut b = StudentBuilder::with_capacity(1);
        b.push(&s);
        let batch = b.finish().unwrap();
        let v = StudentView::new(&batch).unwrap();
        assert_eq!(v.meta().alt_id_count(0), 4);
        assert_eq!(v.meta().alt_id(0, "state"), Some("S000002"), "the first of the kind");
        let states: Vec<_> = v.meta().alt_ids_of(0, "state").collect();
        assert_eq!(states, [("S000002", Some("TX")), ("OK-77", Some("OK"))]);
        let old: Vec<_> = v.meta().alt_ids_of(0, "old").collect();
        assert_eq!(old, [("0017", None), ("17", Some("district"))]);
        assert_eq!(v.meta().alt_ids_of(0, "dcid").count(), 0);
        let back = v.record(0);
        assert_eq!(back.meta.alt_ids, s.meta.alt_ids);
        let owned: Vec<_> = back.meta.alt_ids_of("old").map(|a| a.value.as_str()).collect();
        assert_eq!(owned, ["0017", "17"]);
    }
}
