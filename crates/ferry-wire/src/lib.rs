//! Moves Arrow record batches across the plugin boundary: arrow-rs batches
//! to and from the ABI's own C Data Interface structs ([`ArrowBatch`]), and
//! the model's diagnostics and receipts, which cross as Arrow batches too.
//!
//! Used by the SDK (inside every plugin) and by the host, each with the
//! arrow-rs version it was built with: only the C structs are shared, so a
//! plugin built with another arrow-rs, or in another language, interoperates.
//!
//! Export moves buffers, never copies them. Import trusts the pointers (they
//! come from a library the host loaded and never unloads) but, where asked,
//! validates everything else in full: offsets, lengths and UTF-8, once per
//! batch, so that a buggy or hostile plugin cannot hand a sink invalid text.
#![allow(unsafe_code, reason = "importing through the C Data Interface is unsafe by nature")]

use std::fmt;
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::{Array, RecordBatch, StructArray};
use ferry_model::diagnostics::{self, Diagnostic, Receipt};
use ferry_plugin_abi::{ArrowArray, ArrowBatch, ArrowSchema};

/// Why a batch could not cross.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

// The two declarations of each struct (the ABI's and arrow-rs's) are the same
// C struct; this is what makes the moves below sound.
const _: () = assert!(size_of::<FFI_ArrowArray>() == size_of::<ArrowArray>());
const _: () = assert!(size_of::<FFI_ArrowSchema>() == size_of::<ArrowSchema>());
const _: () = assert!(align_of::<FFI_ArrowArray>() == align_of::<ArrowArray>());
const _: () = assert!(align_of::<FFI_ArrowSchema>() == align_of::<ArrowSchema>());

/// Exports `batch` as a struct array and its schema. No buffer is copied.
pub fn export(batch: RecordBatch) -> Result<ArrowBatch, WireError> {
    let metadata = batch.schema_ref().metadata().clone();
    let data = StructArray::from(batch).into_data();
    let (array, schema) = if metadata.is_empty() {
        to_ffi(&data).map_err(|e| WireError(format!("cannot export a batch: {e}")))?
    } else {
        // The schema's metadata travels as the struct's own metadata.
        let field = arrow_schema::Field::new("", data.data_type().clone(), false).with_metadata(metadata);
        let schema = FFI_ArrowSchema::try_from(&field)
            .map_err(|e| WireError(format!("cannot export a batch: {e}")))?;
        (FFI_ArrowArray::new(&data), schema)
    };
    // SAFETY: both pairs of types are `#[repr(C)]` declarations of the same C
    // structs (sizes and alignments checked above); ownership moves whole, so
    // the release callback runs exactly once, from whoever drops the result.
    let (array, schema) = unsafe {
        (
            std::mem::transmute::<FFI_ArrowArray, ArrowArray>(array),
            std::mem::transmute::<FFI_ArrowSchema, ArrowSchema>(schema),
        )
    };
    Ok(ArrowBatch { schema, array })
}

/// Imports a batch; `None` when it is empty. With `validate`, offsets, lengths
/// and UTF-8 are checked in full.
pub fn import(mut batch: ArrowBatch, validate: bool) -> Result<Option<RecordBatch>, WireError> {
    if batch.is_empty() {
        return Ok(None);
    }
    let (schema, array) = batch.take();
    if schema.is_released() || array.is_released() {
        return Err(WireError("a batch arrived with its schema or its array already released".into()));
    }
    // A record batch is a struct array: check the shape before arrow-rs,
    // which asserts (panics) on some of these.
    // SAFETY: `format` is a NUL-terminated string the producer owns while the
    // schema is unreleased (the C Data Interface), or null.
    let format = unsafe { (!schema.format.is_null()).then(|| std::ffi::CStr::from_ptr(schema.format)) };
    if format.map(std::ffi::CStr::to_bytes) != Some(b"+s") {
        return Err(WireError("a batch must be a struct array (format \"+s\")".into()));
    }
    if schema.n_children != array.n_children || array.n_children < 0 || schema.n_children < 0 {
        return Err(WireError("a batch's schema and array have different numbers of columns".into()));
    }
    // SAFETY: as in `export`; the structs came from a producer that follows
    // the C Data Interface (the ABI's contract), and `from_ffi` takes the
    // array's ownership (its release runs when the imported data is dropped).
    let has_metadata = !schema.metadata.is_null();
    let (data, metadata) = unsafe {
        let schema = std::mem::transmute::<ArrowSchema, FFI_ArrowSchema>(schema);
        let array = std::mem::transmute::<ArrowArray, FFI_ArrowArray>(array);
        let metadata = if has_metadata { schema.metadata().ok() } else { None };
        (from_ffi(array, &schema), metadata)
    };
    let data = data.map_err(|e| WireError(format!("cannot import a batch: {e}")))?;
    if validate {
        validate_full(&data).map_err(|e| WireError(format!("the batch is not valid Arrow data: {e}")))?;
    }
    // Guard the conversions too: a malformed batch is an error, never a panic
    // of the host.
    std::panic::catch_unwind(move || {
        let array = StructArray::from(data);
        if array.null_count() > 0 {
            return Err(WireError("a record batch's struct array must have no null rows".into()));
        }
        let batch = RecordBatch::from(array);
        match metadata.filter(|m| !m.is_empty()) {
            None => Ok(Some(batch)),
            Some(m) => {
                let schema = Arc::new(batch.schema_ref().as_ref().clone().with_metadata(m));
                batch
                    .with_schema(schema)
                    .map(Some)
                    .map_err(|e| WireError(format!("cannot import a batch: {e}")))
            }
        }
    })
    .unwrap_or_else(|_| Err(WireError("the batch is not a well-formed record batch".into())))
}

/// What `ArrayData::validate_full` checks, with text checked faster: one
/// UTF-8 pass over a string array's whole values buffer and a char-boundary
/// test at each offset, instead of one UTF-8 check per string (same result,
/// several times cheaper on short strings).
fn validate_full(data: &arrow_data::ArrayData) -> Result<(), String> {
    use arrow_schema::DataType;
    data.validate().map_err(|e| e.to_string())?;
    data.validate_nulls().map_err(|e| e.to_string())?;
    match data.data_type() {
        DataType::Utf8 => validate_utf8(data)?,
        _ => data.validate_values().map_err(|e| e.to_string())?,
    }
    for (i, child) in data.child_data().iter().enumerate() {
        validate_full(child).map_err(|e| format!("{} child #{i}: {e}", data.data_type()))?;
    }
    Ok(())
}

/// Offsets in bounds and non-decreasing, values valid UTF-8, every offset on
/// a character boundary.
fn validate_utf8(data: &arrow_data::ArrayData) -> Result<(), String> {
    let len = data.len();
    let (Some(offsets), Some(values)) = (data.buffers().first(), data.buffers().get(1)) else {
        return if len == 0 { Ok(()) } else { Err("a string array without its buffers".into()) };
    };
    let offsets: &[i32] = offsets.typed_data::<i32>();
    let offsets = offsets
        .get(data.offset()..data.offset() + len + 1)
        .ok_or_else(|| "a string array's offsets buffer is too short".to_owned())?;
    let values = values.as_slice();
    let (first, last) = (offsets[0], offsets[len]);
    if first < 0 || last < first || usize::try_from(last).map_or(true, |l| l > values.len()) {
        return Err("a string array's offsets are out of bounds".into());
    }
    #[allow(clippy::cast_sign_loss, reason = "checked non-negative above")]
    let (first, last) = (first as usize, last as usize);
    let text = std::str::from_utf8(&values[first..last])
        .map_err(|e| format!("invalid UTF-8 in a string array: {e}"))?;
    let mut prev = first;
    for &o in &offsets[1..] {
        #[allow(clippy::cast_sign_loss, reason = "compared with the previous, non-negative offset")]
        let o = o as usize;
        if (o as isize) < (prev as isize) {
            return Err("a string array's offsets decrease".into());
        }
        if !text.is_char_boundary(o - first) {
            return Err("a string array's offset splits a character".into());
        }
        prev = o;
    }
    Ok(())
}

/// Exports diagnostics (an empty batch when there are none).
pub fn export_diagnostics(diags: &[Diagnostic]) -> Result<ArrowBatch, WireError> {
    if diags.is_empty() {
        return Ok(ArrowBatch::empty());
    }
    export(diagnostics::diagnostics_to_batch(diags).map_err(|e| WireError(e.0))?)
}

/// Imports diagnostics (validated in full).
pub fn import_diagnostics(batch: ArrowBatch) -> Result<Vec<Diagnostic>, WireError> {
    match import(batch, true)? {
        None => Ok(Vec::new()),
        Some(b) => diagnostics::diagnostics_from_batch(&b).map_err(|e| WireError(e.0)),
    }
}

/// Exports receipts (an empty batch when there are none).
pub fn export_receipts(receipts: &[Receipt]) -> Result<ArrowBatch, WireError> {
    if receipts.is_empty() {
        return Ok(ArrowBatch::empty());
    }
    export(diagnostics::receipts_to_batch(receipts).map_err(|e| WireError(e.0))?)
}

/// Imports receipts (validated in full).
pub fn import_receipts(batch: ArrowBatch) -> Result<Vec<Receipt>, WireError> {
    match import(batch, true)? {
        None => Ok(Vec::new()),
        Some(b) => diagnostics::receipts_from_batch(&b).map_err(|e| WireError(e.0)),
    }
}

// The host's per-batch checks, shared with the SDK's conformance kit
// (`ferry_sdk::testing`), so a plugin that passes there passes in the host.

/// Checks that `batch` has the model's layout for `kind`: known columns of
/// the right type, identity and required fields present and never null.
pub fn check_layout(kind: ferry_model::EntityKind, batch: &RecordBatch) -> Result<(), String> {
    ferry_model::FieldsView::new(kind, batch).map_err(|e| e.0)?;
    ferry_model::MetaView::new(batch).map_err(|e| e.0)?;
    let required = [ferry_model::SOURCE_SYSTEM, ferry_model::SOURCE_ID]
        .into_iter()
        .chain(kind.fields().iter().filter(|f| f.required).map(|f| f.name));
    for name in required {
        match batch.column_by_name(name) {
            None => return Err(format!("the required column `{name}` is missing")),
            Some(c) if c.null_count() > 0 => return Err(format!("the required column `{name}` has nulls")),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks a source table's batch: a struct of named columns with the line column.
pub fn check_table(batch: &RecordBatch) -> Result<(), String> {
    use ferry_model::source_table::{ColumnType, LINE_COLUMN};
    let schema = batch.schema_ref();
    match schema.fields().first() {
        Some(f) if f.name() == LINE_COLUMN && ColumnType::of(f.data_type()) == Some(ColumnType::Integer) => {}
        _ => return Err(format!("its first column must be `{LINE_COLUMN}`, the rows' lines (Int64)")),
    }
    for f in schema.fields().iter().skip(1) {
        if ColumnType::of(f.data_type()).is_none() {
            return Err(format!(
                "column `{}` is {}; source tables hold Int64, Decimal128(18, 4), Date32 or Utf8 columns",
                f.name(),
                f.data_type()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferry_model::{Record, RecordBuilder, RecordView, Student, StudentView};

    use super::*;

    #[test]
    fn batches_cross_and_come_back_equal() {
        let mut b = <Student as Record>::Builder::with_capacity(2);
        let mut s = Student { first_name: "Zoë".into(), last_name: "Ng".into(), ..Student::default() };
        s.meta = ferry_model::Meta::new("sis", "1");
        b.push(&s);
        let batch = b.finish().unwrap();
        let back = import(export(batch.clone()).unwrap(), true).unwrap().unwrap();
        assert_eq!(back.num_rows(), 1);
        assert_eq!(back.columns(), batch.columns());
        let v = StudentView::new(&back).unwrap();
        assert_eq!(v.record(0), s);
        assert!(import(ArrowBatch::empty(), true).unwrap().is_none());
    }

    #[test]
    fn invalid_utf8_is_refused_when_validating() {
        use std::sync::Arc;

        use arrow_array::StringArray;
        use arrow_data::ArrayDataBuilder;
        let good = StringArray::from(vec!["ok"]);
        let mut bytes = arrow_array::builder::BufferBuilder::<u8>::new(2);
        bytes.append_slice(&[0xC3, 0x28]);
        // SAFETY: deliberately invalid UTF-8 in a string array, to see it refused.
        let bad = unsafe {
            ArrayDataBuilder::new(arrow_schema::DataType::Utf8)
                .len(1)
                .add_buffer(good.offsets().inner().inner().clone())
                .add_buffer(bytes.finish())
                .build_unchecked()
        };
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "s",
            arrow_schema::DataType::Utf8,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![arrow_array::make_array(bad)]).unwrap();
        let e = import(export(batch).unwrap(), true).unwrap_err();
        assert!(e.0.contains("not valid"), "{e}");
    }

    #[test]
    fn offsets_must_be_ordered_and_on_character_boundaries() {
        use arrow_data::ArrayDataBuilder;
        let data = |offsets: &[i32], bytes: &[u8], len: usize| {
            let mut o = arrow_array::builder::BufferBuilder::<i32>::new(offsets.len());
            o.append_slice(offsets);
            let mut v = arrow_array::builder::BufferBuilder::<u8>::new(bytes.len());
            v.append_slice(bytes);
            // SAFETY: deliberately malformed string arrays, to see them refused.
            unsafe {
                ArrayDataBuilder::new(arrow_schema::DataType::Utf8)
                    .len(len)
                    .add_buffer(o.finish())
                    .add_buffer(v.finish())
                    .build_unchecked()
            }
        };
        assert!(validate_full(&data(&[0, 2, 3], "éa".as_bytes(), 2)).is_ok());
        assert!(
            validate_full(&data(&[0, 1, 3], "éa".as_bytes(), 2)).unwrap_err().contains("splits a character")
        );
        assert!(validate_full(&data(&[0, 3, 2], "éa".as_bytes(), 2)).is_err());
        assert!(validate_full(&data(&[0, 2, 9], "éa".as_bytes(), 2)).is_err());
    }

    #[test]
    fn an_array_that_is_not_a_struct_is_an_error_not_a_panic() {
        let data = arrow_array::StringArray::from(vec!["x"]).into_data();
        let (array, schema) = to_ffi(&data).unwrap();
        // SAFETY: as in `export`.
        let batch = unsafe {
            ArrowBatch {
                schema: std::mem::transmute::<FFI_ArrowSchema, ArrowSchema>(schema),
                array: std::mem::transmute::<FFI_ArrowArray, ArrowArray>(array),
            }
        };
        assert!(import(batch, true).unwrap_err().0.contains("struct array"));
    }

    #[test]
    fn diagnostics_cross() {
        let d = vec![Diagnostic::reject("students", "bad")];
        assert_eq!(import_diagnostics(export_diagnostics(&d).unwrap()).unwrap(), d);
        assert!(import_diagnostics(export_diagnostics(&[]).unwrap()).unwrap().is_empty());
    }
}
