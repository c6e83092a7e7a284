//! Field-level access to records: [`Value`], [`FieldType`], [`FieldDef`] and
//! [`FieldValue`], which let generic connectors (CSV, SQLite) read and write any
//! canonical field by name without knowing the entity's Rust type.

use std::fmt;

use arrow_array::{Array, StringArray};

use crate::codes::{Code, CodeSet};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::instant::{TimeOfDay, Timestamp};

/// A borrowed view of one field's value, from an owned record or from a
/// column of an Arrow batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value.
    Null,
    /// Text, exactly as stored.
    Text(&'a str),
    /// A whole number.
    Int(i64),
    /// An exact decimal number.
    Decimal(Decimal),
    /// A flag.
    Bool(bool),
    /// A date.
    Date(Date),
    /// An instant (UTC).
    Timestamp(Timestamp),
    /// A time of day.
    Time(TimeOfDay),
    /// A coded value: the canonical code and the source's original value.
    Code {
        /// Canonical spelling.
        code: &'a str,
        /// Original value.
        original: &'a str,
    },
    /// A list of text values.
    List(ListRef<'a>),
}

impl Value<'_> {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A list of text values, borrowed from an owned record or an Arrow list column.
#[derive(Clone, Copy, Debug)]
pub enum ListRef<'a> {
    /// Items of an owned record.
    Slice(&'a [String]),
    /// Items `start..end` of an Arrow string array.
    Arrow {
        /// The list's values.
        values: &'a StringArray,
        /// First item.
        start: usize,
        /// One past the last item.
        end: usize,
    },
}

impl<'a> ListRef<'a> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ListRef::Slice(s) => s.len(),
            ListRef::Arrow { start, end, .. } => end - start,
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The items, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let this = *self;
        (0..this.len()).map(move |i| match this {
            ListRef::Slice(s) => s[i].as_str(),
            ListRef::Arrow { values, start, .. } => {
                if values.is_null(start + i) {
                    ""
                } else {
                    values.value(start + i)
                }
            }
        })
    }
    /// The items as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl PartialEq for ListRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// The type of a canonical field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Text (Arrow `Utf8`).
    Text,
    /// Whole number (`Int64`).
    Int,
    /// Exact decimal with four places (`Decimal128(18, 4)`).
    Decimal,
    /// Flag (`Boolean`).
    Bool,
    /// Date (`Date32`).
    Date,
    /// Instant (`Timestamp(Microsecond, "UTC")`).
    Timestamp,
    /// Time of day (`Time64(Microsecond)`).
    Time,
    /// A code from the listed canonical values; the original is kept
    /// (`Struct<code: Utf8, original: Utf8>`).
    Code(&'static [&'static str]),
    /// A list of text values (`List<Utf8>`).
    List,
}

impl FieldType {
    /// A short name for documentation and errors.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::Timestamp => "timestamp",
            FieldType::Time => "time",
            FieldType::Code(_) => "code",
            FieldType::List => "list",
        }
    }
}

/// The description of one canonical field.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// The field's canonical name, as used in mappings and as the Arrow column name.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// A record without it is rejected.
    pub required: bool,
    /// It identifies the record or what it links to: a bad value always
    /// rejects the record, whatever the field policy says.
    pub key: bool,
    /// It identifies or describes a person (name, birth date, contact detail):
    /// never logged at info level nor shown in reports unless asked for.
    pub pii: bool,
    /// The model version that introduced it, `(major, minor)`.
    pub since: (u16, u16),
    /// The entity whose `source_id` it holds, for reference fields.
    pub refs: Option<&'static str>,
    /// One line of documentation.
    pub doc: &'static str,
}

impl FieldDef {
    /// Whether a bad value must reject the record (keys and required fields).
    pub fn is_strict(&self) -> bool {
        self.key || self.required
    }
}

/// Why a value could not be stored in a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// The entity has no such field.
    UnknownField,
    /// The value's type does not fit the field.
    TypeMismatch {
        /// What the field holds.
        expected: &'static str,
    },
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::UnknownField => f.write_str("no such canonical field"),
            FieldError::TypeMismatch { expected } => write!(f, "expected a value of type {expected}"),
        }
    }
}

impl std::error::Error for FieldError {}

/// A Rust type that can be a canonical field.
pub trait FieldValue {
    /// The field type it presents.
    const TYPE: FieldType;
    /// A view of the value.
    fn get(&self) -> Value<'_>;
    /// Stores a value; `Value::Null` clears it.
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError>;
}

fn mismatch<T>(expected: FieldType) -> Result<T, FieldError> {
    Err(FieldError::TypeMismatch { expected: expected.name() })
}

impl FieldValue for String {
    const TYPE: FieldType = FieldType::Text;
    fn get(&self) -> Value<'_> {
        if self.is_empty() { Value::Null } else { Value::Text(self) }
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        match v {
            Value::Null => self.clear(),
            Value::Text(t) | Value::Code { original: t, .. } => {
                self.clear();
                self.push_str(t);
            }
            _ => return mismatch(Self::TYPE),
        }
        Ok(())
    }
}

impl FieldValue for Option<String> {
    const TYPE: FieldType = FieldType::Text;
    fn get(&self) -> Value<'_> {
        self.as_deref().map_or(Value::Null, Value::Text)
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        match v {
            Value::Null => *self = None,
            Value::Text(t) | Value::Code { original: t, .. } => match self {
                Some(s) => {
                    s.clear();
                    s.push_str(t);
                }
                None => *self = Some(t.to_owned()),
            },
            _ => return mismatch(Self::TYPE),
        }
        Ok(())
    }
}

macro_rules! scalar_field {
    ($t:ty, $variant:ident, $ft:ident) => {
        impl FieldValue for Option<$t> {
            const TYPE: FieldType = FieldType::$ft;
            fn get(&self) -> Value<'_> {
                self.map_or(Value::Null, Value::$variant)
            }
            fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
                *self = match v {
                    Value::Null => None,
                    Value::$variant(x) => Some(x),
                    _ => return mismatch(Self::TYPE),
                };
                Ok(())
            }
        }
    };
}

scalar_field!(Date, Date, Date);
scalar_field!(bool, Bool, Bool);
scalar_field!(i64, Int, Int);
scalar_field!(Timestamp, Timestamp, Timestamp);
scalar_field!(TimeOfDay, Time, Time);

impl FieldValue for Option<Decimal> {
    const TYPE: FieldType = FieldType::Decimal;
    fn get(&self) -> Value<'_> {
        self.map_or(Value::Null, Value::Decimal)
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        *self = match v {
            Value::Null => None,
            Value::Decimal(x) => Some(x),
            Value::Int(x) => Some(Decimal::from_int(x).map_err(|_| FieldError::TypeMismatch {
                expected: "a decimal within ±99,999,999,999,999",
            })?),
            _ => return mismatch(Self::TYPE),
        };
        Ok(())
    }
}

impl<T: CodeSet> FieldValue for Option<Code<T>> {
    const TYPE: FieldType = FieldType::Code(T::VALUES);
    fn get(&self) -> Value<'_> {
        match self {
            None => Value::Null,
            Some(c) => Value::Code { code: c.code.as_str(), original: &c.original },
        }
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        *self = match v {
            Value::Null => None,
            Value::Text(t) => Some(Code::normalize(t)),
            Value::Code { code, original } => {
                let code = T::from_canonical(code).unwrap_or(T::OTHER);
                // Reuse the buffer of the value being replaced.
                if let Some(c) = self {
                    c.code = code;
                    c.original.clear();
                    c.original.push_str(original);
                    return Ok(());
                }
                Some(Code { code, original: original.to_owned() })
            }
            _ => return mismatch(Self::TYPE),
        };
        Ok(())
    }
}

impl FieldValue for Vec<String> {
    const TYPE: FieldType = FieldType::List;
    fn get(&self) -> Value<'_> {
        if self.is_empty() { Value::Null } else { Value::List(ListRef::Slice(self)) }
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        self.clear();
        match v {
            Value::Null => {}
            Value::List(items) => self.extend(items.iter().map(str::to_owned)),
            // A list in a single text cell is comma separated.
            Value::Text(t) => {
                self.extend(t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
            }
            _ => return mismatch(Self::TYPE),
        }
        Ok(())
    }
}
