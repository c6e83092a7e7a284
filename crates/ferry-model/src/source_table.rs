//! Source tables: a source system's own tables, kept as they came beside the
//! canonical records, so that the backup of the old system can be queried
//! under the names its people know (`StoredGrades.Grade`).
//!
//! A source table travels as an Arrow batch: one column per source column,
//! in source order and under the source's name, plus [`LINE_COLUMN`], the
//! 1-based line (or row number) each row starts at in its file. A column is
//! typed only where its type is certain from every value it holds:
//! [`ColumnType::Integer`] (no leading zeros, so `000123` stays text),
//! [`ColumnType::Decimal`] (at most four decimal places, exact),
//! [`ColumnType::Date`] (the source says how it writes dates), and text
//! otherwise. The schema's metadata names the table ([`TABLE_META`]), the
//! file ([`FILE_META`]) and the columns the source left out
//! ([`OMITTED_META`], secrets such as passwords).
//!
//! Canonical records point at their source row through their provenance
//! (`source_table`, `source_file`, `source_line`), which matches the source
//! table's file and [`LINE_COLUMN`].

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::columns::{SchemaError, UNIX_EPOCH_DAY};
use crate::date::Date;
use crate::decimal::Decimal;

/// The column holding each row's line in its file.
pub const LINE_COLUMN: &str = "_line";
/// Schema metadata: the source table's name.
pub const TABLE_META: &str = "ferry.source_table";
/// Schema metadata: the file the rows were read from.
pub const FILE_META: &str = "ferry.file";
/// Schema metadata: the source columns left out, comma-separated.
pub const OMITTED_META: &str = "ferry.omitted";

/// The type of a source column, decided from every value it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// Whole numbers without leading zeros (Int64).
    Integer,
    /// Exact decimals with at most four places (Decimal128(18, 4)).
    Decimal,
    /// Dates (Date32).
    Date,
    /// Anything else, as it came (Utf8).
    Text,
}

impl ColumnType {
    /// `integer`, `decimal`, `date` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Date => "date",
            ColumnType::Text => "text",
        }
    }

    fn arrow(self) -> DataType {
        match self {
            ColumnType::Integer => DataType::Int64,
            ColumnType::Decimal => DataType::Decimal128(18, 4),
            ColumnType::Date => DataType::Date32,
            ColumnType::Text => DataType::Utf8,
        }
    }

    /// The type of an Arrow column of a source table.
    pub fn of(data_type: &DataType) -> Option<ColumnType> {
        match data_type {
            DataType::Int64 => Some(ColumnType::Integer),
            DataType::Decimal128(18, 4) => Some(ColumnType::Decimal),
            DataType::Date32 => Some(ColumnType::Date),
            DataType::Utf8 => Some(ColumnType::Text),
            _ => None,
        }
    }
}

/// What one value looks like, for [`TypeGuess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// Empty: fits every type.
    Empty,
    /// A whole number without leading zeros.
    Integer,
    /// A decimal number with at most four places.
    Decimal,
    /// A date in the source's date format.
    Date,
    /// Anything else.
    Text,
}

impl CellKind {
    /// The kind of a number-looking value: [`CellKind::Integer`] for `-12`,
    /// [`CellKind::Decimal`] for `3.25` or `4.0000`, [`CellKind::Text`] for
    /// `007`, `1e5`, `3.14159` (five places) or `12.`. Dates are the source's
    /// to recognize.
    pub fn of_number(s: &str) -> CellKind {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) || int.len() > 14 {
            return CellKind::Text;
        }
        match frac {
            None => CellKind::Integer,
            Some(f) if all_digits(f) && f.len() <= 4 => CellKind::Decimal,
            Some(_) => CellKind::Text,
        }
    }
}

/// Decides a column's type from its values: the narrowest type every value
/// fits (integers widen to decimals; anything mixed with dates is text;
/// a column with no values at all is text).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeGuess {
    state: Option<ColumnType>,
}

impl TypeGuess {
    /// Takes one value into account.
    pub fn observe(&mut self, kind: CellKind) {
        use ColumnType as T;
        let next = match (self.state, kind) {
            (_, CellKind::Empty) => return,
            (Some(T::Text), _) | (_, CellKind::Text) => T::Text,
            (None, CellKind::Integer) => T::Integer,
            (None | Some(T::Integer | T::Decimal), CellKind::Decimal)
            | (Some(T::Decimal), CellKind::Integer) => T::Decimal,
            (Some(T::Integer), CellKind::Integer) => T::Integer,
            (None | Some(T::Date), CellKind::Date) => T::Date,
            (Some(T::Date), _) | (Some(T::Integer | T::Decimal), CellKind::Date) => T::Text,
        };
        self.state = Some(next);
    }

    /// Whether the column is text already (no later value can change it).
    pub fn is_text(&self) -> bool {
        self.state == Some(ColumnType::Text)
    }

    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        self.state.unwrap_or(ColumnType::Text)
    }
}

enum ColumnBuilder {
    Integer(Int64Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
    Text(StringBuilder),
}

/// Builds the batches of one source table read from one file.
pub struct SourceTableBuilder {
    schema: SchemaRef,
    lines: Int64Builder,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl SourceTableBuilder {
    /// A builder for `table` read from `file`, with `columns` (name and type,
    /// in source order) and the names of the columns left out.
    ///
    /// Fails when two columns share a name, or a column is named [`LINE_COLUMN`].
    pub fn new(
        table: &str,
        file: &str,
        columns: &[(String, ColumnType)],
        omitted: &[String],
    ) -> Result<SourceTableBuilder, SchemaError> {
        let mut fields = Vec::with_capacity(columns.len() + 1);
        fields.push(Field::new(LINE_COLUMN, DataType::Int64, false));
        let mut seen = HashMap::new();
        for (name, ty) in columns {
            if name == LINE_COLUMN || seen.insert(name.to_ascii_lowercase(), ()).is_some() {
                return Err(SchemaError(format!(
                    "source table {table}: the column name {name} is used twice"
                )));
            }
            fields.push(Field::new(name, ty.arrow(), true));
        }
        let mut meta = HashMap::new();
        meta.insert(TABLE_META.to_owned(), table.to_owned());
        meta.insert(FILE_META.to_owned(), file.to_owned());
        if !omitted.is_empty() {
            meta.insert(OMITTED_META.to_owned(), omitted.join(","));
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, meta));
        let columns = columns
            .iter()
            .map(|(_, ty)| match ty {
                ColumnType::Integer => ColumnBuilder::Integer(Int64Builder::new()),
                ColumnType::Decimal => ColumnBuilder::Decimal(
                    Decimal128Builder::new().with_data_type(DataType::Decimal128(18, 4)),
                ),
                ColumnType::Date => ColumnBuilder::Date(Date32Builder::new()),
                ColumnType::Text => ColumnBuilder::Text(StringBuilder::new()),
            })
            .collect();
        Ok(SourceTableBuilder { schema, lines: Int64Builder::new(), columns, rows: 0 })
    }

    /// The schema of the batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows added since the last [`SourceTableBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was added since the last finish.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Starts a row at `line`; then push exactly one value per column.
    pub fn start_row(&mut self, line: u64) {
        self.lines.append_value(i64::try_from(line).unwrap_or(i64::MAX));
        self.rows += 1;
    }

    /// Pushes column `c`'s value from its text: parsed by the column's type
    /// (dates by `date`); an empty value is null. A value that does not parse
    /// (impossible when the type was guessed from the same values) is null,
    /// and `false` is returned.
    pub fn push(&mut self, c: usize, text: &str, date: impl FnOnce(&str) -> Option<Date>) -> bool {
        let Some(col) = self.columns.get_mut(c) else { return false };
        if text.is_empty() {
            match col {
                ColumnBuilder::Integer(b) => b.append_null(),
                ColumnBuilder::Decimal(b) => b.append_null(),
                ColumnBuilder::Date(b) => b.append_null(),
                ColumnBuilder::Text(b) => b.append_null(),
            }
            return true;
        }
        match col {
            ColumnBuilder::Integer(b) => match text.parse::<i64>() {
                Ok(n) => b.append_value(n),
                Err(_) => {
                    b.append_null();
                    return false;
                }
            },
            ColumnBuilder::Decimal(b) => match Decimal::parse(text) {
                Ok(d) => b.append_value(i128::from(d.units())),
                Err(_) => {
                    b.append_null();
                    return false;
                }
            },
            ColumnBuilder::Date(b) => match date(text) {
                Some(d) => {
                    b.append_value(i32::try_from(d.to_day_number() - UNIX_EPOCH_DAY).unwrap_or(i32::MIN))
                }
                None => {
                    b.append_null();
                    return false;
                }
            },
            ColumnBuilder::Text(b) => b.append_value(text),
        }
        true
    }

    /// The rows so far as a batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> Result<RecordBatch, SchemaError> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 1);
        arrays.push(Arc::new(self.lines.finish()));
        for col in &mut self.columns {
            arrays.push(match col {
                ColumnBuilder::Integer(b) => Arc::new(b.finish()),
                ColumnBuilder::Decimal(b) => Arc::new(
                    b.finish().with_precision_and_scale(18, 4).map_err(|e| SchemaError(e.to_string()))?,
                ),
                ColumnBuilder::Date(b) => Arc::new(b.finish()),
                ColumnBuilder::Text(b) => Arc::new(b.finish()),
            });
        }
        self.rows = 0;
        RecordBatch::try_new(Arc::clone(&self.schema), arrays).map_err(|e| SchemaError(e.to_string()))
    }
}

/// A source table's name from a batch's schema metadata.
pub fn table_of(batch: &RecordBatch) -> Option<&str> {
    batch.schema_ref().metadata().get(TABLE_META).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, Date32Array, Decimal128Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn numbers_are_typed_only_when_certain() {
        assert_eq!(CellKind::of_number("0"), CellKind::Integer);
        assert_eq!(CellKind::of_number("-12"), CellKind::Integer);
        assert_eq!(CellKind::of_number("007"), CellKind::Text, "leading zeros are an identifier");
        assert_eq!(CellKind::of_number("3.25"), CellKind::Decimal);
        assert_eq!(CellKind::of_number("0.5"), CellKind::Decimal);
        assert_eq!(CellKind::of_number("4.0000"), CellKind::Decimal);
        assert_eq!(CellKind::of_number("3.14159"), CellKind::Text, "five places do not fit exactly");
        assert_eq!(CellKind::of_number("12."), CellKind::Text);
        assert_eq!(CellKind::of_number("1e5"), CellKind::Text);
        assert_eq!(CellKind::of_number(""), CellKind::Text);
        assert_eq!(CellKind::of_number("123456789012345"), CellKind::Text, "too long for an exact decimal");
    }

    #[test]
    fn guesses_widen_and_mix_to_text() {
        let guess = |kinds: &[CellKind]| {
            let mut g = TypeGuess::default();
            for k in kinds {
                g.observe(*k);
            }
            g.column_type()
        };
        use CellKind as K;
        assert_eq!(guess(&[K::Integer, K::Empty, K::Integer]), ColumnType::Integer);
        assert_eq!(guess(&[K::Integer, K::Decimal]), ColumnType::Decimal);
        assert_eq!(guess(&[K::Decimal, K::Integer]), ColumnType::Decimal);
        assert_eq!(guess(&[K::Date, K::Empty, K::Date]), ColumnType::Date);
        assert_eq!(guess(&[K::Date, K::Integer]), ColumnType::Text);
        assert_eq!(guess(&[K::Integer, K::Date]), ColumnType::Text);
        assert_eq!(guess(&[K::Integer, K::Text, K::Integer]), ColumnType::Text);
        assert_eq!(guess(&[K::Empty]), ColumnType::Text);
        assert_eq!(guess(&[]), ColumnType::Text);
    }

    #[test]
    fn builds_typed_batches_with_their_names() {
        let cols = vec![
            ("ID".to_owned(), ColumnType::Integer),
            ("Grade".to_owned(), ColumnType::Text),
            ("GPA_Points".to_owned(), ColumnType::Decimal),
            ("DateStored".to_owned(), ColumnType::Date),
        ];
        let mut b =
            SourceTableBuilder::new("StoredGrades", "storedgrades.txt", &cols, &["SSN".into()]).unwrap();
        let date = |s: &str| (s == "06/05/2024").then(|| Date::new(2024, 6, 5).unwrap());
        b.start_row(2);
        assert!(b.push(0, "17", date));
        assert!(b.push(1, "A-", date));
        assert!(b.push(2, "3.6667", date));
        assert!(b.push(3, "06/05/2024", date));
        b.start_row(3);
        for c in 0..4 {
            assert!(b.push(c, "", date));
        }
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(table_of(&batch), Some("StoredGrades"));
        assert_eq!(batch.schema().metadata().get(OMITTED_META).map(String::as_str), Some("SSN"));
        let lines = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(lines.values(), &[2, 3]);
        assert_eq!(batch.column(1).as_any().downcast_ref::<Int64Array>().unwrap().value(0), 17);
        assert_eq!(batch.column(2).as_any().downcast_ref::<StringArray>().unwrap().value(0), "A-");
        let gpa = batch.column(3).as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(gpa.value(0), 36_667);
        assert!(gpa.is_null(1));
        let d = batch.column(4).as_any().downcast_ref::<Date32Array>().unwrap();
        assert_eq!(i64::from(d.value(0)), Date::new(2024, 6, 5).unwrap().to_day_number() - UNIX_EPOCH_DAY);
        assert!(b.is_empty());
    }

    #[test]
    fn repeated_column_names_are_refused() {
        let cols = vec![("ID".to_owned(), ColumnType::Integer), ("id".to_owned(), ColumnType::Text)];
        assert!(SourceTableBuilder::new("T", "t.txt", &cols, &[]).is_err());
        let cols = vec![(LINE_COLUMN.to_owned(), ColumnType::Integer)];
        assert!(SourceTableBuilder::new("T", "t.txt", &cols, &[]).is_err());
    }
}
