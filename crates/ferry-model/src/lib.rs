//! Ferry's canonical model: the one shape every connector reads into and writes
//! from.
//!
//! Architecture invariant: this crate does no I/O, has no async, and knows no
//! vendor format. Parsing a PowerSchool date or a CSV cell happens in a
//! connector; what a valid record is, and how it is laid out in an Arrow
//! batch, is decided here. Every entity is defined once (`entity!`), and its
//! Arrow schema, batch builder and zero-copy view are derived from that
//! definition.
//!
//! ```
//! use ferry_model::{access, validate, CodeSet, Date, Meta, Student, Value};
//!
//! let mut s = Student { meta: Meta::new("sis", "1001"), ..Student::default() };
//! access::set(&mut s, "first_name", Value::Text("José")).unwrap();
//! access::set(&mut s, "last_name", Value::Text("Núñez")).unwrap();
//! access::set(&mut s, "student_number", Value::Text("000123")).unwrap();
//! access::set(&mut s, "birth_date", Value::Date(Date::new(2011, 2, 3).unwrap())).unwrap();
//! access::set(&mut s, "grade_level", Value::Text("K")).unwrap();
//! access::set(&mut s, "ext.U_Locker", Value::Text("17")).unwrap();
//! assert!(validate(&s).is_empty());
//! assert_eq!(s.grade_level.as_ref().unwrap().code.as_str(), "KG");
//! assert_eq!(s.grade_level.as_ref().unwrap().original, "K");
//! ```
#![warn(missing_docs)]

// Layers, lowest first (a module uses only those above it in this list):
// violation, date, decimal, instant, codes, value, meta, columns, entities,
// fields_view, diagnostics, validate, access, reference, source_table.
pub mod access;
mod codes;
pub mod columns;
mod date;
mod decimal;
pub mod diagnostics;
mod entities;
mod fields_view;
mod instant;
mod meta;
mod reference;
pub mod source_table;
mod validate;
mod value;
mod violation;

pub use arrow_array::RecordBatch;
pub use codes::{
    AttendanceCategory, Code, CodeSet, CourseAttemptResult, DayType, DiplomaKind, DisciplineActionKind,
    DurationUnit, EntryKind, ExitKind, GradeKind, GradeLevel, IncidentRole, OrgKind, ParticipationStatus,
    ProgramKind, Race, Relationship, ReportingMethod, ScoreStatus, SectionEnrollmentStatus, SectionRole,
    SessionKind, Sex, StaffRole,
};
pub use columns::{CodeRef, MetaView, SchemaError};
pub use date::{Date, InvalidDate};
pub use decimal::{Decimal, InvalidDecimal};
pub use diagnostics::{Diagnostic, Receipt, Severity};
pub use entities::*;
pub use fields_view::FieldsView;
pub use instant::{InvalidTime, TimeOfDay, Timestamp};
pub use meta::{AltId, Extensions, Meta, Operation, Origin, SOURCE_ID, SOURCE_SYSTEM, SourceId};
pub use reference::reference_markdown;
pub use validate::{validate, validate_into};
pub use value::{FieldDef, FieldError, FieldType, FieldValue, ListRef, Value};
pub use violation::Violation;

/// The version of the canonical model, `(major, minor)`.
///
/// Records cross the plugin boundary as Arrow batches whose columns are found
/// by name, so a minor version may add optional fields and entities: a batch
/// from an older minor simply lacks the new columns, which read as null, and
/// a sink ignores columns it does not know. See `docs/canonical-model.md`.
///
/// 2.0: Arrow batches, exact decimals, timestamps, times of day, provenance
/// columns. 2.1: `students.graduation_year`. 2.2: the whole district:
/// academic records, programs, discipline, assessments, calendars and codes,
/// staff assignments and the gradebook, and new fields on students, contacts,
/// demographics, grades and attendance.
pub const MODEL_VERSION: (u16, u16) = (2, 2);
