//! Field-level access to records: [`Value`], [`FieldType`], [`FieldDef`] and
//! [`FieldValue`], which let generic connectors (CSV, SQLite) read and write any
//! canonical field by name without knowing the entity's Rust type.

use std::fmt;

use crate::codes::{Code, CodeSet};
use crate::date::Date;

/// A borrowed view of one field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value.
    Null,
    /// Text, exactly as stored.
    Text(&'a str),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Number(f64),
    /// A flag.
    Bool(bool),
    /// A date.
    Date(Date),
    /// A coded value: the canonical code and the source's original value.
    Code {
        /// Canonical spelling.
        code: &'static str,
        /// Original value.
        original: &'a str,
    },
    /// A list of text values.
    List(&'a [String]),
}

impl Value<'_> {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// The type of a canonical field, for connectors that map text onto it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    Text,
    /// Whole number.
    Int,
    /// Decimal number.
    Number,
    /// Flag.
    Bool,
    /// Date.
    Date,
    /// A code from the listed canonical values; the original is kept.
    Code(&'static [&'static str]),
    /// A list of text values.
    List,
}

impl FieldType {
    /// A short name for documentation and errors.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "integer",
            FieldType::Number => "number",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::Code(_) => "code",
            FieldType::List => "list",
        }
    }
}

/// The description of one canonical field.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// The field's canonical name, as used in mappings.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// A record without it is rejected.
    pub required: bool,
    /// It identifies or describes a person (name, birth date, contact detail):
    /// never logged at info level nor shown in reports unless asked for.
    pub pii: bool,
    /// One line of documentation.
    pub doc: &'static str,
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
            Value::Text(t) => {
                self.clear();
                self.push_str(t);
            }
            Value::Code { original, .. } => {
                self.clear();
                self.push_str(original);
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
        *self = match v {
            Value::Null => None,
            Value::Text(t) => Some(t.to_owned()),
            Value::Code { original, .. } => Some(original.to_owned()),
            _ => return mismatch(Self::TYPE),
        };
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

impl FieldValue for Option<f64> {
    const TYPE: FieldType = FieldType::Number;
    fn get(&self) -> Value<'_> {
        self.map_or(Value::Null, Value::Number)
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        *self = match v {
            Value::Null => None,
            Value::Number(x) => Some(x),
            #[allow(clippy::cast_precision_loss, reason = "grade and credit values are small")]
            Value::Int(x) => Some(x as f64),
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
            Value::Code { code, original } => Some(Code {
                code: T::from_canonical(code).unwrap_or(T::OTHER),
                original: original.to_owned(),
            }),
            _ => return mismatch(Self::TYPE),
        };
        Ok(())
    }
}

impl FieldValue for Vec<String> {
    const TYPE: FieldType = FieldType::List;
    fn get(&self) -> Value<'_> {
        if self.is_empty() { Value::Null } else { Value::List(self) }
    }
    fn set(&mut self, v: Value<'_>) -> Result<(), FieldError> {
        self.clear();
        match v {
            Value::Null => {}
            Value::List(items) => self.extend(items.iter().cloned()),
            // A list in a single text cell is comma separated.
            Value::Text(t) => {
                self.extend(t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
            }
            _ => return mismatch(Self::TYPE),
        }
        Ok(())
    }
}
