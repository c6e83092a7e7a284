//! What crosses the plugin boundary beside records, as Arrow batches too (so
//! both can grow columns without breaking anyone):
//!
//! - [`Diagnostic`]: a record that was rejected, or written with a repair
//!   (a warning), with its source location and reason;
//! - [`Receipt`]: the id a destination assigned to a record.

use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::columns::SchemaError;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The record is not written.
    Reject,
    /// The record is written, with a field nulled, repaired or kept as text.
    Warning,
    /// Not about a record: a line for the run summary (columns a source left
    /// out, say). Its entity is empty.
    Notice,
}

impl Severity {
    /// `reject` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        }
    }
    /// From its name; anything unknown reads as a reject (the safe side).
    pub fn from_name(s: &str) -> Severity {
        match s {
            "warning" => Severity::Warning,
            "notice" => Severity::Notice,
            _ => Severity::Reject,
        }
    }
}

/// A record that was rejected or repaired, and why. Data, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Reject or warning.
    pub severity: Severity,
    /// The entity the record belongs to.
    pub entity: String,
    /// The source file (or API locator), when there is one.
    pub file: String,
    /// The 1-based line in `file`; 0 when unknown.
    pub line: u64,
    /// The canonical field or source column at fault; empty for the whole record.
    pub field: String,
    /// Why, without the offending value (values may be personal data).
    pub reason: String,
    /// The record's source id, when known.
    pub record_id: String,
    /// The offending value, shown only when the user asks for values.
    pub value: Option<String>,
    /// For a warning: the row of the record in the batch it travels with.
    pub row: Option<u32>,
}

impl Diagnostic {
    /// A reject of a record of `entity`.
    pub fn reject(entity: &str, reason: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Reject,
            entity: entity.to_owned(),
            file: String::new(),
            line: 0,
            field: String::new(),
            reason: reason.into(),
            record_id: String::new(),
            value: None,
            row: None,
        }
    }

    /// A warning about row `row` of a batch of `entity`.
    pub fn warning(entity: &str, row: u32, reason: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, row: Some(row), ..Diagnostic::reject(entity, reason) }
    }

    /// A line for the run summary, about no record.
    pub fn notice(text: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Notice, ..Diagnostic::reject("", text) }
    }

    /// Whether the record is not written.
    pub fn is_reject(&self) -> bool {
        self.severity == Severity::Reject
    }

    /// Whether this is a notice for the run summary rather than about a record.
    pub fn is_notice(&self) -> bool {
        self.severity == Severity::Notice
    }
}

const DIAGNOSTIC_COLUMNS: [&str; 9] =
    ["severity", "entity", "file", "line", "field", "reason", "record_id", "value", "row"];

/// The Arrow schema of diagnostics.
pub fn diagnostics_schema() -> SchemaRef {
    let text = |n: &str, nullable| Field::new(n, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text(DIAGNOSTIC_COLUMNS[0], false),
        text(DIAGNOSTIC_COLUMNS[1], false),
        text(DIAGNOSTIC_COLUMNS[2], false),
        Field::new(DIAGNOSTIC_COLUMNS[3], DataType::UInt64, false),
        text(DIAGNOSTIC_COLUMNS[4], false),
        text(DIAGNOSTIC_COLUMNS[5], false),
        text(DIAGNOSTIC_COLUMNS[6], false),
        text(DIAGNOSTIC_COLUMNS[7], true),
        Field::new(DIAGNOSTIC_COLUMNS[8], DataType::UInt32, true),
    ]))
}

/// Diagnostics as one Arrow batch.
pub fn diagnostics_to_batch(diags: &[Diagnostic]) -> Result<RecordBatch, SchemaError> {
    let mut t: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
    let mut line = UInt64Builder::with_capacity(diags.len());
    let mut row = UInt32Builder::with_capacity(diags.len());
    for d in diags {
        t[0].append_value(d.severity.as_str());
        t[1].append_value(&d.entity);
        t[2].append_value(&d.file);
        line.append_value(d.line);
        t[3].append_value(&d.field);
        t[4].append_value(&d.reason);
        t[5].append_value(&d.record_id);
        t[6].append_option(d.value.as_deref());
        row.append_option(d.row);
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(9);
    let mut text = t.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut next = || text.next().unwrap_or_else(|| Arc::new(StringArray::from(Vec::<&str>::new())));
    cols.push(next());
    cols.push(next());
    cols.push(next());
    cols.push(Arc::new(line.finish()));
    cols.push(next());
    cols.push(next());
    cols.push(next());
    cols.push(next());
    cols.push(Arc::new(row.finish()));
    RecordBatch::try_new(diagnostics_schema(), cols).map_err(|e| SchemaError(format!("diagnostics: {e}")))
}

fn text_col<'a>(b: &'a RecordBatch, name: &str) -> Result<Option<&'a StringArray>, SchemaError> {
    match b.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_any()
            .downcast_ref::<StringArray>()
            .map(Some)
            .ok_or_else(|| SchemaError(format!("diagnostics: column `{name}` must be text"))),
    }
}

fn text_at(a: Option<&StringArray>, i: usize) -> Option<&str> {
    a.filter(|a| !a.is_null(i)).map(|a| a.value(i))
}

/// Diagnostics back from an Arrow batch. Unknown columns are ignored, missing
/// ones read as empty.
pub fn diagnostics_from_batch(b: &RecordBatch) -> Result<Vec<Diagnostic>, SchemaError> {
    let c: Vec<Option<&StringArray>> =
        ["severity", "entity", "file", "field", "reason", "record_id", "value"]
            .iter()
            .map(|n| text_col(b, n))
            .collect::<Result<_, _>>()?;
    let line = b.column_by_name("line").and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
    let row = b.column_by_name("row").and_then(|c| c.as_any().downcast_ref::<UInt32Array>());
    let s = |k: usize, i: usize| text_at(c[k], i).unwrap_or_default().to_owned();
    Ok((0..b.num_rows())
        .map(|i| Diagnostic {
            severity: Severity::from_name(text_at(c[0], i).unwrap_or_default()),
            entity: s(1, i),
            file: s(2, i),
            line: line.filter(|l| !l.is_null(i)).map_or(0, |l| l.value(i)),
            field: s(3, i),
            reason: s(4, i),
            record_id: s(5, i),
            value: text_at(c[6], i).map(str::to_owned),
            row: row.filter(|r| !r.is_null(i)).map(|r| r.value(i)),
        })
        .collect())
}

/// The id a destination assigned to a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The entity.
    pub entity: String,
    /// The record's source id.
    pub source_id: String,
    /// The id the destination gave it.
    pub destination_id: String,
    /// The key the destination knows it by, when that is not its id (an
    /// Ed-Fi natural key: `studentUniqueId=604821`), for `ferry verify`.
    /// Added in ABI 0.2 by name: a receipts batch without the column reads as none.
    pub natural_key: Option<String>,
    /// What the destination did: `created`, `updated` (when it says).
    pub outcome: Option<String>,
}

impl Receipt {
    /// A receipt of `source_id` under `destination_id`.
    pub fn new(
        entity: impl Into<String>,
        source_id: impl Into<String>,
        destination_id: impl Into<String>,
    ) -> Receipt {
        Receipt {
            entity: entity.into(),
            source_id: source_id.into(),
            destination_id: destination_id.into(),
            natural_key: None,
            outcome: None,
        }
    }
}

/// The Arrow schema of receipts.
pub fn receipts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("entity", DataType::Utf8, false),
        Field::new("source_id", DataType::Utf8, false),
        Field::new("destination_id", DataType::Utf8, false),
        Field::new("natural_key", DataType::Utf8, true),
        Field::new("outcome", DataType::Utf8, true),
    ]))
}

/// Receipts as one Arrow batch.
pub fn receipts_to_batch(receipts: &[Receipt]) -> Result<RecordBatch, SchemaError> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(receipts.iter().map(|r| Some(r.entity.as_str())).collect::<StringArray>()),
        Arc::new(receipts.iter().map(|r| Some(r.source_id.as_str())).collect::<StringArray>()),
        Arc::new(receipts.iter().map(|r| Some(r.destination_id.as_str())).collect::<StringArray>()),
        Arc::new(receipts.iter().map(|r| r.natural_key.as_deref()).collect::<StringArray>()),
        Arc::new(receipts.iter().map(|r| r.outcome.as_deref()).collect::<StringArray>()),
    ];
    RecordBatch::try_new(receipts_schema(), cols).map_err(|e| SchemaError(format!("receipts: {e}")))
}

/// Receipts back from an Arrow batch.
pub fn receipts_from_batch(b: &RecordBatch) -> Result<Vec<Receipt>, SchemaError> {
    let (e, s, d) = (text_col(b, "entity")?, text_col(b, "source_id")?, text_col(b, "destination_id")?);
    // Optional columns, read by name: older plugins send none.
    let (k, o) = (b.column_by_name("natural_key"), b.column_by_name("outcome"));
    let (k, o) = (
        k.and_then(|c| c.as_any().downcast_ref::<StringArray>()),
        o.and_then(|c| c.as_any().downcast_ref::<StringArray>()),
    );
    let at = |a: Option<&StringArray>, i| text_at(a, i).unwrap_or_default().to_owned();
    Ok((0..b.num_rows())
        .map(|i| Receipt {
            entity: at(e, i),
            source_id: at(s, i),
            destination_id: at(d, i),
            natural_key: text_at(k, i).map(str::to_owned),
            outcome: text_at(o, i).map(str::to_owned),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_and_receipts_round_trip() {
        let mut w = Diagnostic::warning("students", 7, "not a valid calendar date");
        w.field = "birth_date".into();
        w.value = Some("2011-02-30".into());
        let mut r = Diagnostic::reject("grades", "its student was rejected (students.csv line 3)");
        r.file = "grades.csv".into();
        r.line = 9;
        r.record_id = "g1".into();
        let d = vec![w, r];
        assert_eq!(diagnostics_from_batch(&diagnostics_to_batch(&d).unwrap()).unwrap(), d);
        assert!(diagnostics_from_batch(&diagnostics_to_batch(&[]).unwrap()).unwrap().is_empty());
        let mut keyed = Receipt::new("students", "2", "abc");
        keyed.natural_key = Some("studentUniqueId=2".into());
        keyed.outcome = Some("created".into());
        let rc = vec![Receipt::new("students", "1", "S-1"), keyed];
        assert_eq!(receipts_from_batch(&receipts_to_batch(&rc).unwrap()).unwrap(), rc);
    }

    #[test]
    fn unknown_severity_is_a_reject() {
        assert_eq!(Severity::from_name("catastrophe"), Severity::Reject);
    }
}
