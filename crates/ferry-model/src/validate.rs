//! Record validation: required fields and entity rules. A record with problems
//! is rejected by the source that produced it, with the problems as reasons.

use crate::access;
use crate::entities::Record;

/// One thing wrong with a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The canonical field at fault (`source_id` for the identity).
    pub field: &'static str,
    /// What is wrong, without the value (values may be personal data).
    pub reason: &'static str,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: &'static str, reason: &'static str) -> Problem {
        Problem { field, reason }
    }
}

/// Every problem of `record`; empty when it is valid.
pub fn validate<R: Record>(record: &R) -> Vec<Problem> {
    let mut problems = Vec::new();
    validate_into(record, &mut problems);
    problems
}

/// Like [`validate`], appending to `problems` (no allocation when valid).
pub fn validate_into<R: Record>(record: &R, problems: &mut Vec<Problem>) {
    if record.meta().source.id.is_empty() {
        problems.push(Problem::new(access::SOURCE_ID, "missing source id"));
    }
    record.check_required(problems);
    record.check(problems);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, Date, Meta, SchoolEnrollment, Student};

    #[test]
    fn required_fields_and_date_order() {
        let mut s = Student {
            meta: Meta::new("x", "1"),
            first_name: "A".into(),
            last_name: "B".into(),
            ..Student::default()
        };
        assert!(validate(&s).is_empty());
        s.last_name.clear();
        assert_eq!(validate(&s), vec![Problem::new("last_name", "required field is missing")]);
        s.meta.source.id.clear();
        assert_eq!(validate(&s).len(), 2);

        let d = |m, d| Some(Date::new(2024, m, d).unwrap());
        let mut e = SchoolEnrollment {
            meta: Meta::new("x", "e1"),
            student_id: Some("1".into()),
            school_id: Some("S".into()),
            entry_date: d(9, 1),
            exit_date: d(8, 31),
            entry_code: Some(Code::normalize("new")),
            ..SchoolEnrollment::default()
        };
        assert!(validate(&e).is_empty(), "a no-show (exit the day before entry) is valid");
        e.exit_date = d(8, 30);
        assert_eq!(validate(&e), vec![Problem::new("exit_date", "ends before it starts")]);
        e.entry_date = None;
        assert!(validate(&e).contains(&Problem::new("entry_date", "required field is missing")));
    }
}
