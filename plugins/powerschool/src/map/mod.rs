//! The mappers: one module per concern, each turning rows of some
//! PowerSchool tables into canonical records or lookup entries. They share
//! the row context ([`crate::row`]) and the lookups ([`crate::lookups`]);
//! [`joins`] resolves the students and sections activity rows name.

pub mod assessments;
pub mod assignments;
pub mod attendance;
pub mod calendar;
pub mod codes;
pub mod contacts;
pub mod coteachers;
pub mod courses;
pub mod discipline;
pub mod enrollments;
pub mod grades;
pub mod joins;
pub mod person;
pub mod programs;
pub mod ranks;
pub mod schools;
pub mod staff;
pub mod students;
