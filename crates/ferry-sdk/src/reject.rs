//! [`Reject`]: a record that could not be read or written, with its reason,
//! as a connector author builds it. It crosses the boundary as a model
//! [`Diagnostic`] (with severity reject, or warning for [`Reject::warning`]).

use ferry_model::{Diagnostic, EntityKind, Meta, Severity};

/// A rejected record. Reasons never contain the offending value; the value
/// goes in [`Reject::value`], which the host shows only when asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The entity.
    pub entity: EntityKind,
    /// The source file.
    pub file: String,
    /// The 1-based line; 0 when unknown.
    pub line: u64,
    /// The field or column at fault.
    pub field: String,
    /// Why.
    pub reason: String,
    /// The record's source id.
    pub record_id: String,
    /// The offending value.
    pub value: Option<String>,
    /// Reject (the record is not written) or warning (written, repaired).
    pub severity: Severity,
    /// For a warning: the record's row in its batch.
    pub row: Option<u32>,
}

impl Reject {
    /// A reject of a record of `entity`, for `reason`.
    pub fn new(entity: EntityKind, reason: impl Into<String>) -> Reject {
        Reject {
            entity,
            file: String::new(),
            line: 0,
            field: String::new(),
            reason: reason.into(),
            record_id: String::new(),
            value: None,
            severity: Severity::Reject,
            row: None,
        }
    }
    /// A warning: the record is written, with `reason` saying what was repaired.
    pub fn warning(entity: EntityKind, reason: impl Into<String>) -> Reject {
        Reject { severity: Severity::Warning, ..Reject::new(entity, reason) }
    }
    /// Whether the record is not written.
    pub fn is_reject(&self) -> bool {
        self.severity == Severity::Reject
    }
    /// Where it was read.
    #[must_use]
    pub fn at(mut self, file: impl Into<String>, line: u64) -> Reject {
        self.file = file.into();
        self.line = line;
        self
    }
    /// The field at fault.
    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> Reject {
        self.field = field.into();
        self
    }
    /// The record's source id.
    #[must_use]
    pub fn record(mut self, id: impl Into<String>) -> Reject {
        self.record_id = id.into();
        self
    }
    /// The offending value (shown only on request: it may be personal data).
    #[must_use]
    pub fn value(mut self, value: impl Into<String>) -> Reject {
        self.value = Some(value.into());
        self
    }
    /// Location and id taken from a record's meta.
    #[must_use]
    pub fn of(mut self, meta: &Meta) -> Reject {
        if let Some(o) = &meta.origin {
            self.file.clone_from(&o.file);
            self.line = o.line;
        }
        self.record_id.clone_from(&meta.source.id);
        self
    }
}

impl From<Reject> for Diagnostic {
    fn from(r: Reject) -> Diagnostic {
        Diagnostic {
            severity: r.severity,
            entity: r.entity.name().to_owned(),
            file: r.file,
            line: r.line,
            field: r.field,
            reason: r.reason,
            record_id: r.record_id,
            value: r.value,
            row: r.row,
        }
    }
}

impl Reject {
    /// Back from the wire form; `None` for an entity this build does not know.
    pub fn from_diagnostic(d: &Diagnostic) -> Option<Reject> {
        Some(Reject {
            entity: EntityKind::from_name(&d.entity)?,
            file: d.file.clone(),
            line: d.line,
            field: d.field.clone(),
            reason: d.reason.clone(),
            record_id: d.record_id.clone(),
            value: d.value.clone(),
            severity: d.severity,
            row: d.row,
        })
    }
}
