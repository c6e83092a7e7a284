//! The Arrow side of the model: how each field type is laid out in a column,
//! appended by a builder, and read back in place by a reader.
//!
//! Every Rust field type of an entity implements [`Column`]. The `entity!`
//! macro uses it to derive, from the one entity definition, the Arrow schema,
//! a typed batch builder (sources push owned rows into it) and a typed,
//! zero-copy view (sinks read values in place, without allocating).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder, Int8Builder, Int64Builder,
    ListBuilder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::types::Int8Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, FixedSizeBinaryArray,
    Int64Array, ListArray, StringArray, StructArray, Time64MicrosecondArray, TimestampMicrosecondArray,
    UInt64Array,
};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, TimeUnit};

use crate::codes::{Code, CodeSet};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::instant::{TimeOfDay, Timestamp};
use crate::meta::{AltId, Extensions, Meta, Operation, Origin, SOURCE_ID, SOURCE_SYSTEM, SourceId};
use crate::value::{FieldType, FieldValue, ListRef, Value};

/// Day number (ferry_model::Date) of 1970-01-01, the Arrow `Date32` epoch.
pub(crate) const UNIX_EPOCH_DAY: i64 = 719_162;

/// Why a batch's column cannot be read as the model says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SchemaError {}

/// Builds a text (`Utf8`) column: a leaner twin of arrow's `StringBuilder`
/// for the hot path of sources (a value is one copy and two pushes; the
/// validity bitmap is packed once, at the end).
pub struct TextBuilder {
    values: Vec<u8>,
    offsets: Vec<i32>,
    /// Validity, one bit per value (least significant first), as Arrow lays it out.
    bits: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl TextBuilder {
    /// An empty builder for about `capacity` values of about `bytes` bytes in all.
    pub fn with_capacity(capacity: usize, bytes: usize) -> TextBuilder {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(0);
        TextBuilder {
            values: Vec::with_capacity(bytes),
            offsets,
            bits: Vec::with_capacity(capacity.div_ceil(8)),
            len: 0,
            nulls: 0,
        }
    }

    #[inline]
    fn end(&mut self, valid: bool) {
        // A batch holds far less than 2 GiB of text per column (a few
        // thousand rows); saturating keeps a bug from wrapping around.
        self.offsets.push(i32::try_from(self.values.len()).unwrap_or(i32::MAX));
        if self.len.is_multiple_of(8) {
            self.bits.push(0);
        }
        if valid {
            if let Some(last) = self.bits.last_mut() {
                *last |= 1 << (self.len % 8);
            }
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }

    /// Appends a value.
    #[inline]
    pub fn append_value(&mut self, v: &str) {
        self.values.extend_from_slice(v.as_bytes());
        self.end(true);
    }

    /// Appends a null.
    #[inline]
    pub fn append_null(&mut self) {
        self.end(false);
    }

    /// Appends a value or a null.
    #[inline]
    pub fn append_option(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.append_value(v),
            None => self.append_null(),
        }
    }

    /// Values appended so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none were appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The column built so far; the builder is empty afterwards (and keeps
    /// its capacity for the next batch).
    pub fn finish_array(&mut self) -> StringArray {
        let n = self.len;
        let bytes = self.values.len();
        let offsets = std::mem::replace(&mut self.offsets, Vec::with_capacity(n + 1));
        self.offsets.push(0);
        let values = std::mem::replace(&mut self.values, Vec::with_capacity(bytes));
        let bits = std::mem::replace(&mut self.bits, Vec::with_capacity(n.div_ceil(8)));
        let nulls = (self.nulls > 0).then(|| {
            let buffer = arrow_buffer::BooleanBuffer::new(arrow_buffer::Buffer::from_vec(bits), 0, n);
            #[allow(unsafe_code, reason = "the null count is counted as the bits are set")]
            // SAFETY: `nulls` counts exactly the bits left unset among the first `n`.
            unsafe {
                arrow_buffer::NullBuffer::new_unchecked(buffer, self.nulls)
            }
        });
        self.len = 0;
        self.nulls = 0;
        let offsets = OffsetBuffer::new(arrow_buffer::ScalarBuffer::from(offsets));
        let values = arrow_buffer::Buffer::from_vec(values);
        #[allow(unsafe_code, reason = "the offsets and text are valid by construction")]
        // SAFETY: every value appended was a `&str` (valid UTF-8) copied
        // whole, and every offset is the end of one: offsets start at 0,
        // never decrease, end at the values' length and fall on character
        // boundaries; `nulls` has one bit per value.
        unsafe {
            StringArray::new_unchecked(offsets, values, nulls)
        }
    }
}

impl ColumnBuilder for TextBuilder {
    fn with_capacity(capacity: usize) -> TextBuilder {
        TextBuilder::with_capacity(capacity, capacity * 8)
    }
    fn finish(&mut self) -> ArrayRef {
        Arc::new(self.finish_array())
    }
}

/// The Arrow type of a field type.
pub fn data_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::Text => DataType::Utf8,
        FieldType::Int => DataType::Int64,
        FieldType::Decimal => DataType::Decimal128(Decimal::PRECISION, Decimal::SCALE as i8),
        FieldType::Bool => DataType::Boolean,
        FieldType::Date => DataType::Date32,
        FieldType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
        FieldType::Time => DataType::Time64(TimeUnit::Microsecond),
        FieldType::Code(_) => DataType::Struct(code_fields()),
        FieldType::List => DataType::List(list_item()),
    }
}

fn code_fields() -> Fields {
    Fields::from(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("original", DataType::Utf8, false),
    ])
}

fn list_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Utf8, false))
}

fn wrong(array: &dyn Array, want: &str) -> SchemaError {
    SchemaError(format!("expected a column of {want}, found {}", array.data_type()))
}

fn downcast<'a, A: 'static>(array: Option<&'a dyn Array>, want: &str) -> Result<Option<&'a A>, SchemaError> {
    match array {
        None => Ok(None),
        Some(a) => a.as_any().downcast_ref::<A>().map(Some).ok_or_else(|| wrong(a, want)),
    }
}

/// Like [`downcast`], for types whose parameters matter (a `Decimal128(10,
/// 2)` read as `Decimal128(18, 4)` would be a hundred times off; a timestamp
/// in another zone would be hours off).
fn downcast_exact<'a, A: 'static>(
    array: Option<&'a dyn Array>,
    ty: FieldType,
    want: &str,
) -> Result<Option<&'a A>, SchemaError> {
    if let Some(a) = array
        && a.data_type() != &data_type(ty)
    {
        return Err(wrong(a, want));
    }
    downcast(array, want)
}

/// A builder of one column.
pub trait ColumnBuilder: Send {
    /// An empty builder for about `capacity` rows.
    fn with_capacity(capacity: usize) -> Self;
    /// The column built so far; the builder is empty afterwards.
    fn finish(&mut self) -> ArrayRef;
}

/// A Rust type that is a canonical field, with its Arrow layout.
pub trait Column: FieldValue + Default + Sized {
    /// Builds the column.
    type Builder: ColumnBuilder;
    /// Reads the column of a batch in place (cheap to copy).
    type Reader<'a>: Copy;
    /// What one value reads as, borrowed from the batch.
    type Ref<'a>;
    /// Whether the column may hold nulls.
    const NULLABLE: bool = true;
    /// Appends this value.
    fn append(&self, b: &mut Self::Builder);
    /// A reader over `array`; `None` (the batch has no such column) reads as null.
    fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError>;
    /// The value at row `i`.
    fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a>;
    /// The value at row `i`, as a [`Value`].
    fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a>;
    /// An owned copy of a value.
    fn owned(v: Self::Ref<'_>) -> Self;
}

macro_rules! simple_builder {
    ($b:ty, $new:expr) => {
        impl ColumnBuilder for $b {
            fn with_capacity(capacity: usize) -> Self {
                #[allow(clippy::redundant_closure_call, reason = "the constructor is given as a closure")]
                ($new)(capacity)
            }
            fn finish(&mut self) -> ArrayRef {
                Arc::new(<$b>::finish(self))
            }
        }
    };
}

simple_builder!(Int64Builder, Int64Builder::with_capacity);
simple_builder!(BooleanBuilder, BooleanBuilder::with_capacity);
simple_builder!(Date32Builder, Date32Builder::with_capacity);
simple_builder!(UInt64Builder, UInt64Builder::with_capacity);
simple_builder!(Decimal128Builder, |n| Decimal128Builder::with_capacity(n)
    .with_data_type(data_type(FieldType::Decimal)));
simple_builder!(TimestampMicrosecondBuilder, |n| TimestampMicrosecondBuilder::with_capacity(n)
    .with_data_type(data_type(FieldType::Timestamp)));
simple_builder!(Time64MicrosecondBuilder, Time64MicrosecondBuilder::with_capacity);

/// Reads a text column.
#[derive(Clone, Copy, Debug)]
pub struct TextReader<'a>(Option<&'a StringArray>);

impl<'a> TextReader<'a> {
    /// A reader over `array` (`None`: every value is null).
    pub fn new(array: Option<&'a dyn Array>) -> Result<TextReader<'a>, SchemaError> {
        downcast(array, "text (Utf8)").map(TextReader)
    }
    /// The text at row `i`; `None` when null.
    #[inline]
    pub fn get(self, i: usize) -> Option<&'a str> {
        let a = self.0?;
        if a.is_null(i) { None } else { Some(a.value(i)) }
    }
}

impl Column for String {
    type Builder = TextBuilder;
    type Reader<'a> = TextReader<'a>;
    type Ref<'a> = &'a str;
    const NULLABLE: bool = false;
    #[inline]
    fn append(&self, b: &mut TextBuilder) {
        b.append_value(self);
    }
    fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError> {
        TextReader::new(array)
    }
    #[inline]
    fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a> {
        r.get(i).unwrap_or_default()
    }
    fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a> {
        r.get(i).filter(|s| !s.is_empty()).map_or(Value::Null, Value::Text)
    }
    fn owned(v: Self::Ref<'_>) -> Self {
        v.to_owned()
    }
}

impl Column for Option<String> {
    type Builder = TextBuilder;
    type Reader<'a> = TextReader<'a>;
    type Ref<'a> = Option<&'a str>;
    #[inline]
    fn append(&self, b: &mut TextBuilder) {
        b.append_option(self.as_deref());
    }
    fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError> {
        TextReader::new(array)
    }
    #[inline]
    fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a> {
        r.get(i)
    }
    fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a> {
        r.get(i).map_or(Value::Null, Value::Text)
    }
    fn owned(v: Self::Ref<'_>) -> Self {
        v.map(str::to_owned)
    }
}

macro_rules! primitive_column {
    ($t:ty, $reader:ident, $array:ty, $builder:ty, $want:literal, |$x:ident| $to_arrow:expr, |$y:ident| $from_arrow:expr, $variant:ident) => {
        primitive_column!(
            $t,
            $reader,
            $array,
            $builder,
            $want,
            |$x| $to_arrow,
            |$y| $from_arrow,
            $variant,
            $variant
        );
    };
    ($t:ty, $reader:ident, $array:ty, $builder:ty, $want:literal, |$x:ident| $to_arrow:expr, |$y:ident| $from_arrow:expr, $variant:ident, $ft:ident) => {
        /// Reads a column of this type.
        #[derive(Clone, Copy, Debug)]
        pub struct $reader<'a>(Option<&'a $array>);

        impl<'a> $reader<'a> {
            /// A reader over `array` (`None`: every value is null).
            pub fn new(array: Option<&'a dyn Array>) -> Result<$reader<'a>, SchemaError> {
                downcast_exact(array, FieldType::$ft, $want).map($reader)
            }
            /// The value at row `i`; `None` when null.
            #[inline]
            pub fn get(self, i: usize) -> Option<$t> {
                let a = self.0?;
                if a.is_null(i) {
                    return None;
                }
                let $y = a.value(i);
                $from_arrow
            }
        }

        impl Column for Option<$t> {
            type Builder = $builder;
            type Reader<'a> = $reader<'a>;
            type Ref<'a> = Option<$t>;
            #[inline]
            fn append(&self, b: &mut $builder) {
                match self {
                    Some($x) => b.append_value($to_arrow),
                    None => b.append_null(),
                }
            }
            fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError> {
                $reader::new(array)
            }
            #[inline]
            fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a> {
                r.get(i)
            }
            fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a> {
                r.get(i).map_or(Value::Null, Value::$variant)
            }
            fn owned(v: Self::Ref<'_>) -> Self {
                v
            }
        }
    };
}

primitive_column!(i64, IntReader, Int64Array, Int64Builder, "integers (Int64)", |x| *x, |y| Some(y), Int);
primitive_column!(bool, BoolReader, BooleanArray, BooleanBuilder, "booleans", |x| *x, |y| Some(y), Bool);
primitive_column!(
    Decimal,
    DecimalReader,
    Decimal128Array,
    Decimal128Builder,
    "decimals (Decimal128(18, 4))",
    |x| i128::from(x.units()),
    |y| i64::try_from(y).ok().and_then(|u| Decimal::from_units(u).ok()),
    Decimal
);
primitive_column!(
    Date,
    DateReader,
    Date32Array,
    Date32Builder,
    "dates (Date32)",
    |x| i32::try_from(x.to_day_number() - UNIX_EPOCH_DAY).unwrap_or(i32::MIN),
    |y| Date::from_day_number(i64::from(y) + UNIX_EPOCH_DAY).ok(),
    Date
);
primitive_column!(
    Timestamp,
    TimestampReader,
    TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
    "timestamps (Timestamp(Microsecond, UTC))",
    |x| x.micros(),
    |y| Some(Timestamp::from_micros(y)),
    Timestamp
);
primitive_column!(
    TimeOfDay,
    TimeReader,
    Time64MicrosecondArray,
    Time64MicrosecondBuilder,
    "times of day (Time64(Microsecond))",
    |x| x.micros(),
    |y| TimeOfDay::from_micros(y).ok(),
    Time
);

/// A code read in place: the canonical spelling and the source's original.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRef<'a> {
    /// The canonical spelling (`Other` for values with no canonical equivalent).
    pub code: &'a str,
    /// The value exactly as the source gave it.
    pub original: &'a str,
}

impl CodeRef<'_> {
    /// The canonical value of code set `T` (`Other` for a spelling this build
    /// does not know, e.g. one added by a newer model minor version).
    pub fn value<T: CodeSet>(self) -> T {
        T::from_canonical(self.code).unwrap_or(T::OTHER)
    }
}

/// Builds a code column (`Struct<code, original>`).
pub struct CodeBuilder {
    code: TextBuilder,
    original: TextBuilder,
    nulls: NullBufferBuilder,
}

impl CodeBuilder {
    /// Appends a code, or a null.
    #[inline]
    pub fn append(&mut self, v: Option<(&str, &str)>) {
        match v {
            Some((code, original)) => {
                self.code.append_value(code);
                self.original.append_value(original);
                self.nulls.append_non_null();
            }
            None => {
                self.code.append_value("");
                self.original.append_value("");
                self.nulls.append_null();
            }
        }
    }
}

impl ColumnBuilder for CodeBuilder {
    fn with_capacity(capacity: usize) -> CodeBuilder {
        CodeBuilder {
            code: TextBuilder::with_capacity(capacity, capacity * 8),
            original: TextBuilder::with_capacity(capacity, capacity * 4),
            nulls: NullBufferBuilder::new(capacity),
        }
    }
    fn finish(&mut self) -> ArrayRef {
        let code: ArrayRef = Arc::new(self.code.finish_array());
        let original: ArrayRef = Arc::new(self.original.finish_array());
        Arc::new(StructArray::new(code_fields(), vec![code, original], self.nulls.finish()))
    }
}

/// Reads a code column.
#[derive(Clone, Copy, Debug)]
pub struct CodeReader<'a>(Option<(&'a StructArray, &'a StringArray, &'a StringArray)>);

impl<'a> CodeReader<'a> {
    /// A reader over `array` (`None`: every value is null).
    pub fn new(array: Option<&'a dyn Array>) -> Result<CodeReader<'a>, SchemaError> {
        let Some(s) = downcast::<StructArray>(array, "codes (Struct<code, original>)")? else {
            return Ok(CodeReader(None));
        };
        let child = |name: &str| {
            s.column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| SchemaError(format!("a code column needs a text child `{name}`")))
        };
        Ok(CodeReader(Some((s, child("code")?, child("original")?))))
    }
    /// The code at row `i`; `None` when null.
    #[inline]
    pub fn get(self, i: usize) -> Option<CodeRef<'a>> {
        let (s, code, original) = self.0?;
        if s.is_null(i) {
            return None;
        }
        Some(CodeRef { code: code.value(i), original: original.value(i) })
    }
}

impl<T: CodeSet> Column for Option<Code<T>> {
    type Builder = CodeBuilder;
    type Reader<'a> = CodeReader<'a>;
    type Ref<'a> = Option<CodeRef<'a>>;
    #[inline]
    fn append(&self, b: &mut CodeBuilder) {
        b.append(self.as_ref().map(|c| (c.code.as_str(), c.original.as_str())));
    }
    fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError> {
        CodeReader::new(array)
    }
    #[inline]
    fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a> {
        r.get(i)
    }
    fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a> {
        r.get(i).map_or(Value::Null, |c| Value::Code { code: c.code, original: c.original })
    }
    fn owned(v: Self::Ref<'_>) -> Self {
        v.map(|c| Code { code: c.value::<T>(), original: c.original.to_owned() })
    }
}

/// Builds a text list column.
pub struct TextListBuilder(ListBuilder<StringBuilder>);

impl ColumnBuilder for TextListBuilder {
    fn with_capacity(capacity: usize) -> TextListBuilder {
        TextListBuilder(
            ListBuilder::with_capacity(StringBuilder::with_capacity(capacity, capacity * 4), capacity)
                .with_field(list_item()),
        )
    }
    fn finish(&mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// Reads a text list column.
#[derive(Clone, Copy, Debug)]
pub struct ListReader<'a>(Option<(&'a ListArray, &'a StringArray)>);

impl<'a> ListReader<'a> {
    /// A reader over `array` (`None`: every list is empty).
    pub fn new(array: Option<&'a dyn Array>) -> Result<ListReader<'a>, SchemaError> {
        let Some(l) = downcast::<ListArray>(array, "lists of text (List<Utf8>)")? else {
            return Ok(ListReader(None));
        };
        let values = l
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| SchemaError("a list column must hold text".into()))?;
        Ok(ListReader(Some((l, values))))
    }
    /// The list at row `i` (empty when null).
    #[inline]
    pub fn get(self, i: usize) -> ListRef<'a> {
        static EMPTY: [String; 0] = [];
        match self.0 {
            Some((l, values)) if !l.is_null(i) => {
                let offsets = l.value_offsets();
                #[allow(clippy::cast_sign_loss, reason = "Arrow offsets are never negative")]
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                ListRef::Arrow { values, start, end }
            }
            _ => ListRef::Slice(&EMPTY),
        }
    }
}

impl Column for Vec<String> {
    type Builder = TextListBuilder;
    type Reader<'a> = ListReader<'a>;
    type Ref<'a> = ListRef<'a>;
    #[inline]
    fn append(&self, b: &mut TextListBuilder) {
        for s in self {
            b.0.values().append_value(s);
        }
        b.0.append(true);
    }
    fn reader(array: Option<&dyn Array>) -> Result<Self::Reader<'_>, SchemaError> {
        ListReader::new(array)
    }
    #[inline]
    fn read<'a>(r: Self::Reader<'a>, i: usize) -> Self::Ref<'a> {
        r.get(i)
    }
    fn value<'a>(r: Self::Reader<'a>, i: usize) -> Value<'a> {
        let l = r.get(i);
        if l.is_empty() { Value::Null } else { Value::List(l) }
    }
    fn owned(v: Self::Ref<'_>) -> Self {
        v.to_vec()
    }
}

/// A reader of any field type, chosen at run time: what generic sinks (CSV,
/// SQLite) use to read a field by name.
#[derive(Clone, Copy, Debug)]
pub enum AnyReader<'a> {
    /// Text.
    Text(TextReader<'a>),
    /// Integers.
    Int(IntReader<'a>),
    /// Decimals.
    Decimal(DecimalReader<'a>),
    /// Booleans.
    Bool(BoolReader<'a>),
    /// Dates.
    Date(DateReader<'a>),
    /// Timestamps.
    Timestamp(TimestampReader<'a>),
    /// Times of day.
    Time(TimeReader<'a>),
    /// Codes.
    Code(CodeReader<'a>),
    /// Text lists.
    List(ListReader<'a>),
}

impl<'a> AnyReader<'a> {
    /// A reader of a column of type `ty` (`None`: the batch has no such column).
    pub fn new(ty: FieldType, array: Option<&'a dyn Array>) -> Result<AnyReader<'a>, SchemaError> {
        Ok(match ty {
            FieldType::Text => AnyReader::Text(TextReader::new(array)?),
            FieldType::Int => AnyReader::Int(IntReader::new(array)?),
            FieldType::Decimal => AnyReader::Decimal(DecimalReader::new(array)?),
            FieldType::Bool => AnyReader::Bool(BoolReader::new(array)?),
            FieldType::Date => AnyReader::Date(DateReader::new(array)?),
            FieldType::Timestamp => AnyReader::Timestamp(TimestampReader::new(array)?),
            FieldType::Time => AnyReader::Time(TimeReader::new(array)?),
            FieldType::Code(_) => AnyReader::Code(CodeReader::new(array)?),
            FieldType::List => AnyReader::List(ListReader::new(array)?),
        })
    }

    /// The value at row `i`.
    #[inline]
    pub fn get(self, i: usize) -> Value<'a> {
        match self {
            AnyReader::Text(r) => r.get(i).map_or(Value::Null, Value::Text),
            AnyReader::Int(r) => r.get(i).map_or(Value::Null, Value::Int),
            AnyReader::Decimal(r) => r.get(i).map_or(Value::Null, Value::Decimal),
            AnyReader::Bool(r) => r.get(i).map_or(Value::Null, Value::Bool),
            AnyReader::Date(r) => r.get(i).map_or(Value::Null, Value::Date),
            AnyReader::Timestamp(r) => r.get(i).map_or(Value::Null, Value::Timestamp),
            AnyReader::Time(r) => r.get(i).map_or(Value::Null, Value::Time),
            AnyReader::Code(r) => {
                r.get(i).map_or(Value::Null, |c| Value::Code { code: c.code, original: c.original })
            }
            AnyReader::List(r) => {
                let l = r.get(i);
                if l.is_empty() { Value::Null } else { Value::List(l) }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Meta columns: identity, alternative ids, extensions and provenance.

/// Names of the columns every entity has besides its fields, in schema order
/// (`source_system` and `source_id` come first, the rest after the fields).
pub mod meta_columns {
    /// Alternative ids: `List<Struct<kind, value, assigner>>`.
    pub const ALT_IDS: &str = "alt_ids";
    /// Extensions: `List<Struct<key, value, pii>>`.
    pub const EXTENSIONS: &str = "extensions";
    /// `upsert` or `delete`: `Dictionary<Int8, Utf8>`.
    pub const OPERATION: &str = "operation";
    /// The source table.
    pub const SOURCE_TABLE: &str = "source_table";
    /// The source file.
    pub const SOURCE_FILE: &str = "source_file";
    /// The 1-based line in the source file (`UInt64`).
    pub const SOURCE_LINE: &str = "source_line";
    /// Where an API record came from.
    pub const SOURCE_LOCATOR: &str = "source_locator";
    /// A content hash of the source row (`FixedSizeBinary(16)`).
    pub const SOURCE_ROW_HASH: &str = "source_row_hash";
    /// The source row as decoded text.
    pub const SOURCE_ROW: &str = "source_row";
    /// When the source last changed the record (`Timestamp(Microsecond, UTC)`).
    pub const SOURCE_MODIFIED_AT: &str = "source_modified_at";
}

use meta_columns as mc;

fn alt_id_fields() -> Fields {
    Fields::from(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("assigner", DataType::Utf8, true),
    ])
}

fn extension_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("pii", DataType::Boolean, false),
    ])
}

fn struct_list(fields: Fields) -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Struct(fields), false)))
}

fn operation_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
}

/// The identity columns, which lead every entity's schema.
pub(crate) fn identity_fields() -> Vec<Field> {
    vec![Field::new(SOURCE_SYSTEM, DataType::Utf8, false), Field::new(SOURCE_ID, DataType::Utf8, false)]
}

/// The columns after the entity's fields.
pub(crate) fn trailing_meta_fields() -> Vec<Field> {
    vec![
        Field::new(mc::ALT_IDS, struct_list(alt_id_fields()), false),
        Field::new(mc::EXTENSIONS, struct_list(extension_fields()), false),
        Field::new(mc::OPERATION, operation_type(), false),
        Field::new(mc::SOURCE_TABLE, DataType::Utf8, true),
        Field::new(mc::SOURCE_FILE, DataType::Utf8, true),
        Field::new(mc::SOURCE_LINE, DataType::UInt64, true),
        Field::new(mc::SOURCE_LOCATOR, DataType::Utf8, true),
        Field::new(mc::SOURCE_ROW_HASH, DataType::FixedSizeBinary(16), true),
        Field::new(mc::SOURCE_ROW, DataType::Utf8, true),
        Field::new(mc::SOURCE_MODIFIED_AT, data_type(FieldType::Timestamp), true),
    ]
}

/// Builds a list of structs of text (and one boolean) children by hand: faster
/// than arrow's dynamic `StructBuilder` and exact about nullability.
struct PairListBuilder {
    offsets: Vec<i32>,
    a: TextBuilder,
    b: TextBuilder,
    c_text: TextBuilder,
    c_flag: BooleanBuilder,
    flag: bool,
}

impl PairListBuilder {
    fn new(capacity: usize, flag: bool) -> PairListBuilder {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(0);
        PairListBuilder {
            offsets,
            a: TextBuilder::with_capacity(0, 0),
            b: TextBuilder::with_capacity(0, 0),
            c_text: TextBuilder::with_capacity(0, 0),
            c_flag: BooleanBuilder::new(),
            flag,
        }
    }

    #[inline]
    fn end_row(&mut self) {
        let n = i32::try_from(self.a.len()).unwrap_or(i32::MAX);
        self.offsets.push(n);
    }

    fn finish(&mut self) -> ArrayRef {
        let n = self.offsets.len();
        let offsets = std::mem::replace(&mut self.offsets, Vec::with_capacity(n));
        self.offsets.push(0);
        let (fields, third): (Fields, ArrayRef) = if self.flag {
            (extension_fields(), Arc::new(self.c_flag.finish()))
        } else {
            (alt_id_fields(), Arc::new(self.c_text.finish_array()))
        };
        let a: ArrayRef = Arc::new(self.a.finish_array());
        let b: ArrayRef = Arc::new(self.b.finish_array());
        let values = StructArray::new(fields.clone(), vec![a, b, third], None);
        let item = Arc::new(Field::new("item", DataType::Struct(fields), false));
        Arc::new(ListArray::new(item, OffsetBuffer::new(offsets.into()), Arc::new(values), None))
    }
}

/// Builds the meta columns of a batch.
pub struct MetaBuilder {
    system: TextBuilder,
    id: TextBuilder,
    alt_ids: PairListBuilder,
    ext: PairListBuilder,
    op: Int8Builder,
    table: TextBuilder,
    file: TextBuilder,
    line: UInt64Builder,
    locator: TextBuilder,
    hash: FixedSizeBinaryBuilder,
    raw: TextBuilder,
    modified: TimestampMicrosecondBuilder,
}

impl MetaBuilder {
    /// An empty builder for about `capacity` rows.
    pub fn with_capacity(capacity: usize) -> MetaBuilder {
        MetaBuilder {
            system: TextBuilder::with_capacity(capacity, capacity * 8),
            id: TextBuilder::with_capacity(capacity, capacity * 8),
            alt_ids: PairListBuilder::new(capacity, false),
            ext: PairListBuilder::new(capacity, true),
            op: Int8Builder::with_capacity(capacity),
            table: TextBuilder::with_capacity(capacity, 0),
            file: TextBuilder::with_capacity(capacity, 0),
            line: UInt64Builder::with_capacity(capacity),
            locator: TextBuilder::with_capacity(capacity, 0),
            hash: FixedSizeBinaryBuilder::with_capacity(capacity, 16),
            raw: TextBuilder::with_capacity(capacity, 0),
            modified: ColumnBuilder::with_capacity(capacity),
        }
    }

    /// Appends the meta of one record.
    #[inline]
    pub fn append(&mut self, m: &Meta) {
        self.system.append_value(&m.source.system);
        self.id.append_value(&m.source.id);
        for a in &m.alt_ids {
            self.alt_ids.a.append_value(&a.kind);
            self.alt_ids.b.append_value(&a.value);
            self.alt_ids.c_text.append_option(a.assigner.as_deref());
        }
        self.alt_ids.end_row();
        for (k, v, pii) in m.ext.iter_flagged() {
            self.ext.a.append_value(k);
            self.ext.b.append_value(v);
            self.ext.c_flag.append_value(pii);
        }
        self.ext.end_row();
        self.op.append_value(match m.op {
            Operation::Upsert => 0,
            Operation::Delete => 1,
        });
        self.table.append_option(m.table.as_deref());
        match &m.origin {
            Some(o) => {
                self.file.append_value(&o.file);
                self.line.append_value(o.line);
                self.raw.append_option(o.raw.as_deref());
            }
            None => {
                self.file.append_null();
                self.line.append_null();
                self.raw.append_null();
            }
        }
        self.locator.append_option(m.locator.as_deref());
        match &m.row_hash {
            Some(h) => {
                // 16 bytes into a 16-byte column cannot fail.
                let _ = self.hash.append_value(h);
            }
            None => self.hash.append_null(),
        }
        self.modified.append_option(m.modified_at.map(Timestamp::micros));
    }

    /// The identity columns built so far.
    pub fn finish_identity(&mut self) -> [ArrayRef; 2] {
        [Arc::new(self.system.finish_array()), Arc::new(self.id.finish_array())]
    }

    /// The trailing meta columns built so far, in schema order.
    pub fn finish_trailing(&mut self) -> Vec<ArrayRef> {
        let keys = self.op.finish();
        let dict: ArrayRef = Arc::new(StringArray::from(vec!["upsert", "delete"]));
        let op = DictionaryArray::<Int8Type>::try_new(keys, dict)
            .map_or_else(|_| arrow_array::new_null_array(&operation_type(), 0), |d| Arc::new(d) as ArrayRef);
        vec![
            self.alt_ids.finish(),
            self.ext.finish(),
            op,
            Arc::new(self.table.finish_array()),
            Arc::new(self.file.finish_array()),
            Arc::new(self.line.finish()),
            Arc::new(self.locator.finish_array()),
            Arc::new(self.hash.finish()),
            Arc::new(self.raw.finish_array()),
            Arc::new(self.modified.finish()),
        ]
    }
}

/// Reads a list-of-struct meta column (alt ids, extensions).
#[derive(Clone, Copy, Debug)]
struct PairListReader<'a> {
    list: Option<&'a ListArray>,
    a: Option<&'a StringArray>,
    b: Option<&'a StringArray>,
    c_text: Option<&'a StringArray>,
    c_flag: Option<&'a BooleanArray>,
}

impl<'a> PairListReader<'a> {
    fn new(array: Option<&'a dyn Array>, names: [&str; 3]) -> Result<PairListReader<'a>, SchemaError> {
        let none = PairListReader { list: None, a: None, b: None, c_text: None, c_flag: None };
        let Some(list) = downcast::<ListArray>(array, "a list of structs")? else {
            return Ok(none);
        };
        let s = list
            .values()
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| SchemaError("alt_ids and extensions hold structs".into()))?;
        let text = |n: &str| s.column_by_name(n).and_then(|c| c.as_any().downcast_ref::<StringArray>());
        Ok(PairListReader {
            list: Some(list),
            a: text(names[0]),
            b: text(names[1]),
            c_text: text(names[2]),
            c_flag: s.column_by_name(names[2]).and_then(|c| c.as_any().downcast_ref::<BooleanArray>()),
        })
    }

    fn range(&self, i: usize) -> std::ops::Range<usize> {
        match self.list {
            Some(l) if !l.is_null(i) => {
                let o = l.value_offsets();
                #[allow(clippy::cast_sign_loss, reason = "Arrow offsets are never negative")]
                let r = o[i] as usize..o[i + 1] as usize;
                r
            }
            _ => 0..0,
        }
    }

    fn text(a: Option<&'a StringArray>, j: usize) -> &'a str {
        a.filter(|a| !a.is_null(j)).map_or("", |a| a.value(j))
    }
}

/// Reads the meta columns of a batch in place.
#[derive(Clone, Copy, Debug)]
pub struct MetaView<'a> {
    system: TextReader<'a>,
    id: TextReader<'a>,
    alt_ids: PairListReader<'a>,
    ext: PairListReader<'a>,
    op: Option<(&'a DictionaryArray<Int8Type>, &'a StringArray)>,
    table: TextReader<'a>,
    file: TextReader<'a>,
    line: Option<&'a UInt64Array>,
    locator: TextReader<'a>,
    hash: Option<&'a FixedSizeBinaryArray>,
    raw: TextReader<'a>,
    modified: TimestampReader<'a>,
}

impl<'a> MetaView<'a> {
    /// Reads the meta columns of `batch` (missing ones read as null).
    pub fn new(batch: &'a arrow_array::RecordBatch) -> Result<MetaView<'a>, SchemaError> {
        let col = |name: &str| batch.column_by_name(name).map(|c| c.as_ref() as &dyn Array);
        let ctx = |name: &'static str| move |e: SchemaError| SchemaError(format!("column `{name}`: {e}"));
        let op = match col(mc::OPERATION) {
            None => None,
            Some(a) => {
                let d = a.as_any().downcast_ref::<DictionaryArray<Int8Type>>().ok_or_else(|| {
                    SchemaError(format!("column `operation`: {}", wrong(a, "Dictionary<Int8, Utf8>")))
                })?;
                let values =
                    d.values().as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                        SchemaError("column `operation`: the dictionary must hold text".into())
                    })?;
                Some((d, values))
            }
        };
        Ok(MetaView {
            system: TextReader::new(col(SOURCE_SYSTEM)).map_err(ctx(SOURCE_SYSTEM))?,
            id: TextReader::new(col(SOURCE_ID)).map_err(ctx(SOURCE_ID))?,
            alt_ids: PairListReader::new(col(mc::ALT_IDS), ["kind", "value", "assigner"])
                .map_err(ctx(mc::ALT_IDS))?,
            ext: PairListReader::new(col(mc::EXTENSIONS), ["key", "value", "pii"])
                .map_err(ctx(mc::EXTENSIONS))?,
            op,
            table: TextReader::new(col(mc::SOURCE_TABLE)).map_err(ctx(mc::SOURCE_TABLE))?,
            file: TextReader::new(col(mc::SOURCE_FILE)).map_err(ctx(mc::SOURCE_FILE))?,
            line: downcast(col(mc::SOURCE_LINE), "UInt64").map_err(ctx(mc::SOURCE_LINE))?,
            locator: TextReader::new(col(mc::SOURCE_LOCATOR)).map_err(ctx(mc::SOURCE_LOCATOR))?,
            hash: downcast(col(mc::SOURCE_ROW_HASH), "FixedSizeBinary(16)")
                .map_err(ctx(mc::SOURCE_ROW_HASH))?,
            raw: TextReader::new(col(mc::SOURCE_ROW)).map_err(ctx(mc::SOURCE_ROW))?,
            modified: TimestampReader::new(col(mc::SOURCE_MODIFIED_AT))
                .map_err(ctx(mc::SOURCE_MODIFIED_AT))?,
        })
    }

    /// The source system of row `i`.
    #[inline]
    pub fn source_system(&self, i: usize) -> &'a str {
        self.system.get(i).unwrap_or_default()
    }
    /// The source id of row `i`.
    #[inline]
    pub fn source_id(&self, i: usize) -> &'a str {
        self.id.get(i).unwrap_or_default()
    }
    /// The alternative ids of row `i`: `(kind, value, assigner)`.
    pub fn alt_ids(&self, i: usize) -> impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)> + 'a {
        let r = self.alt_ids;
        r.range(i).map(move |j| {
            let assigner = r.c_text.filter(|a| !a.is_null(j)).map(|a| a.value(j));
            (PairListReader::text(r.a, j), PairListReader::text(r.b, j), assigner)
        })
    }
    /// The (first) alternative id of `kind` of row `i`.
    pub fn alt_id(&self, i: usize, kind: &str) -> Option<&'a str> {
        self.alt_ids(i).find(|(k, _, _)| *k == kind).map(|(_, v, _)| v)
    }
    /// Every alternative id of `kind` of row `i`, in order: `(value, assigner)`.
    pub fn alt_ids_of<'k>(
        &self,
        i: usize,
        kind: &'k str,
    ) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
        self.alt_ids(i).filter(move |(k, _, _)| *k == kind).map(|(_, v, a)| (v, a))
    }
    /// The number of alternative ids of row `i`.
    pub fn alt_id_count(&self, i: usize) -> usize {
        self.alt_ids.range(i).len()
    }
    /// The extensions of row `i`: `(key, value, personal data)`.
    pub fn extensions(&self, i: usize) -> impl Iterator<Item = (&'a str, &'a str, bool)> + 'a {
        let r = self.ext;
        r.range(i).map(move |j| {
            let pii = r.c_flag.is_some_and(|f| !f.is_null(j) && f.value(j));
            (PairListReader::text(r.a, j), PairListReader::text(r.b, j), pii)
        })
    }
    /// The extension `key` of row `i`.
    pub fn extension(&self, i: usize, key: &str) -> Option<&'a str> {
        self.extensions(i).find(|(k, _, _)| *k == key).map(|(_, v, _)| v)
    }
    /// The number of extensions of row `i`.
    pub fn extension_count(&self, i: usize) -> usize {
        self.ext.range(i).len()
    }
    /// What row `i` asks of the destination.
    pub fn operation(&self, i: usize) -> Operation {
        match self.op {
            Some((d, values)) if !d.is_null(i) => {
                let k = d.keys().value(i);
                match usize::try_from(k).ok().filter(|k| *k < values.len()).map(|k| values.value(k)) {
                    Some("delete") => Operation::Delete,
                    _ => Operation::Upsert,
                }
            }
            _ => Operation::Upsert,
        }
    }
    /// The source table of row `i`.
    pub fn source_table(&self, i: usize) -> Option<&'a str> {
        self.table.get(i)
    }
    /// The source file of row `i`.
    pub fn source_file(&self, i: usize) -> Option<&'a str> {
        self.file.get(i)
    }
    /// The source line of row `i` (0 when unknown).
    pub fn source_line(&self, i: usize) -> u64 {
        self.line.filter(|l| !l.is_null(i)).map_or(0, |l| l.value(i))
    }
    /// The API locator of row `i`.
    pub fn source_locator(&self, i: usize) -> Option<&'a str> {
        self.locator.get(i)
    }
    /// The content hash of the source row of row `i`.
    pub fn source_row_hash(&self, i: usize) -> Option<[u8; 16]> {
        let h = self.hash.filter(|h| !h.is_null(i))?;
        h.value(i).try_into().ok()
    }
    /// The raw source row of row `i`, when the source kept it.
    pub fn source_row(&self, i: usize) -> Option<&'a str> {
        self.raw.get(i)
    }
    /// When the source last changed row `i`.
    pub fn source_modified_at(&self, i: usize) -> Option<Timestamp> {
        self.modified.get(i)
    }

    /// An owned copy of the meta of row `i`.
    pub fn to_meta(&self, i: usize) -> Meta {
        let mut ext = Extensions::default();
        for (k, v, pii) in self.extensions(i) {
            ext.insert_flagged(k, v, pii);
        }
        Meta {
            source: SourceId { system: self.source_system(i).to_owned(), id: self.source_id(i).to_owned() },
            alt_ids: self
                .alt_ids(i)
                .map(|(kind, value, assigner)| AltId {
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                    assigner: assigner.map(str::to_owned),
                })
                .collect(),
            origin: self.source_file(i).map(|file| Origin {
                file: file.to_owned(),
                line: self.source_line(i),
                raw: self.source_row(i).map(str::to_owned),
            }),
            ext,
            table: self.source_table(i).map(str::to_owned),
            locator: self.source_locator(i).map(str::to_owned),
            row_hash: self.source_row_hash(i),
            op: self.operation(i),
            modified_at: self.source_modified_at(i),
        }
    }
}

/// `batch` with extensions added to some rows (`(row, key, value, personal
/// data)`, rows in any order), replacing an existing key of the same name:
/// what the host's field policy uses to keep a bad value as text.
pub fn add_extensions(
    batch: &arrow_array::RecordBatch,
    additions: &[(usize, &str, &str, bool)],
) -> Result<arrow_array::RecordBatch, SchemaError> {
    let Ok(idx) = batch.schema().index_of(mc::EXTENSIONS) else {
        return Err(SchemaError("the batch has no extensions column".into()));
    };
    let meta = MetaView::new(batch)?;
    let mut b = PairListBuilder::new(batch.num_rows(), true);
    for i in 0..batch.num_rows() {
        let added: Vec<&(usize, &str, &str, bool)> = additions.iter().filter(|a| a.0 == i).collect();
        for (k, v, pii) in meta.extensions(i) {
            if !added.iter().any(|a| a.1 == k) {
                b.a.append_value(k);
                b.b.append_value(v);
                b.c_flag.append_value(pii);
            }
        }
        for a in added {
            b.a.append_value(a.1);
            b.b.append_value(a.2);
            b.c_flag.append_value(a.3);
        }
        b.end_row();
    }
    let mut cols = batch.columns().to_vec();
    cols[idx] = b.finish();
    arrow_array::RecordBatch::try_new(batch.schema(), cols).map_err(|e| SchemaError(e.to_string()))
}
