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
    for f in R::fields() {
        if f.required && record.get(f.name).is_none_or(|v| v.is_null()) {
            problems.push(Problem::new(f.name, "required field is missing"));
        }
    }
    record.check(problems);
}
