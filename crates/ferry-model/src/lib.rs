//! Ferry's canonical model: the one shape every connector reads into and writes
//! from.
//!
//! Architecture invariant: this crate does no I/O, has no async, and knows no
//! vendor format. Parsing a PowerSchool date or a CSV cell happens in a
//! connector; what a valid record is, is decided here.
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

pub mod access;
mod codes;
mod date;
mod entities;
mod meta;
mod reference;
mod validate;
mod value;

pub use codes::{
    AttendanceCategory, Code, CodeSet, EntryKind, ExitKind, GradeKind, GradeLevel, OrgKind, Relationship,
    SectionEnrollmentStatus, SectionRole, SessionKind, Sex, StaffRole,
};
pub use date::{Date, InvalidDate};
pub use entities::{
    AcademicSession, AttendanceEvent, Contact, Course, Demographics, EntityKind, Grade, Org, Record,
    SchoolEnrollment, Section, SectionEnrollment, SectionStaff, Staff, Student, StudentContact,
};
pub use meta::{AltId, Extensions, Meta, Origin, SourceId};
pub use reference::reference_markdown;
pub use validate::{Problem, validate, validate_into};
pub use value::{FieldDef, FieldError, FieldType, FieldValue, Value};

/// The version of the canonical model, `(major, minor)`.
///
/// Records cross the plugin boundary in a positional binary encoding, so
/// plugins must share the model's major version. A minor version only adds
/// entities and canonical code values; see `docs/canonical-model.md`.
pub const MODEL_VERSION: (u16, u16) = (1, 0);
