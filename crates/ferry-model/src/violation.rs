//! [`Violation`]: one rule a record breaks (a required field missing, an end
//! before its start). The lowest layer of validation: entities report
//! violations, `validate` collects them.

/// One rule a record breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The canonical field at fault (`source_id` for the identity).
    pub field: &'static str,
    /// What is wrong, without the value (values may be personal data).
    pub reason: &'static str,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: &'static str, reason: &'static str) -> Violation {
        Violation { field, reason }
    }
}
