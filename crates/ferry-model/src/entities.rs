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
use crate::meta::Meta;
use crate::value::{FieldDef, FieldError, FieldValue, Value};
use crate::violation::Violation;

/// A canonical record of one entity: the owned row a source fills.
pub trait Record: Clone + Default + fmt::Debug + PartialEq + Send + 'static {
    /// Which entity this is.
    const KIND: EntityKind;
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

macro_rules! since_or {
    () => {
        (2, 0)
    };
    ($x:expr) => {
        $x
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
    meta.insert("ferry.model".to_owned(), format!("{}.{}", crate::MODEL_VERSION.0, crate::MODEL_VERSION.1));
    Arc::new(Schema::new_with_metadata(cols, meta))
}

macro_rules! entity {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident ($view:ident, $builder:ident) = $kind:ident {
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
                        since: since_or!($($since)?),
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
        /// The year the student is expected to graduate (class of).
        graduation_year: Option<i64> [] since (2, 1),
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
    }
    check(r, p) {}
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
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{AltId, Operation, Origin};
    use crate::{SOURCE_ID, TimeOfDay, Timestamp};

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
}
