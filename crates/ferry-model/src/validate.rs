//! Record validation: required fields and entity rules. A record that breaks
//! one is rejected by the source that produced it, with the violations as
//! reasons.

use crate::entities::Record;
use crate::meta::SOURCE_ID;
use crate::violation::Violation;

/// Every violation of `record`; empty when it is valid.
pub fn validate<R: Record>(record: &R) -> Vec<Violation> {
    let mut out = Vec::new();
    validate_into(record, &mut out);
    out
}

/// Like [`validate`], appending to `out` (no allocation when valid).
pub fn validate_into<R: Record>(record: &R, out: &mut Vec<Violation>) {
    if record.meta().source.id.is_empty() {
        out.push(Violation::new(SOURCE_ID, "missing source id"));
    }
    record.check_required(out);
    record.check(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Code, Date, Meta, SchoolEnrollment, Student, Violation};

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
        assert_eq!(validate(&s), vec![Violation::new("last_name", "required field is missing")]);
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
        assert_eq!(validate(&e), vec![Violation::new("exit_date", "ends before it starts")]);
        e.entry_date = None;
        assert!(validate(&e).contains(&Violation::new("entry_date", "required field is missing")));
    }
}
