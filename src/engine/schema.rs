//! Argument schemas: what a task accepts, declared once, used both to validate a call field by field
//! (on the caller's thread, before anything is queued) and to describe the task in `Pool.tasks()`.

use super::error::TaskError;
use super::value::{Value, MAX_SAFE_INTEGER};

/// The type of one argument field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// A JS number that is an integer in `[min, max]`.
    Integer { min: i64, max: i64 },
    /// A finite JS number in `[min, max]`.
    Number { min: f64, max: f64 },
    /// A string; when `one_of` is not empty, one of those.
    String { one_of: &'static [&'static str] },
    Bool,
    /// A Buffer, TypedArray, DataView or ArrayBuffer.
    Bytes,
    /// Bytes, or a string (taken as its UTF-8 bytes).
    BytesOrString,
    /// Anything.
    Any,
}

impl FieldType {
    /// An integer from 0 to `Number.MAX_SAFE_INTEGER`.
    pub const SAFE_UINT: FieldType = FieldType::Integer { min: 0, max: MAX_SAFE_INTEGER as i64 };

    /// The same type with its lower bound set (for an integer, rounded toward zero); what
    /// `#[arg(min = …)]` writes. Only numbers have bounds: on any other type it fails to compile.
    pub const fn with_min(self, min: f64) -> FieldType {
        match self {
            FieldType::Integer { max, .. } => FieldType::Integer { min: min as i64, max },
            FieldType::Number { max, .. } => FieldType::Number { min, max },
            _ => panic!("#[arg(min)] applies to number and integer fields only"),
        }
    }

    /// The same type with its upper bound set; what `#[arg(max = …)]` writes.
    pub const fn with_max(self, max: f64) -> FieldType {
        match self {
            FieldType::Integer { min, .. } => FieldType::Integer { min, max: max as i64 },
            FieldType::Number { min, .. } => FieldType::Number { min, max },
            _ => panic!("#[arg(max)] applies to number and integer fields only"),
        }
    }

    /// A string type that takes only these values; what `#[arg(one_of = …)]` writes.
    pub const fn with_one_of(self, one_of: &'static [&'static str]) -> FieldType {
        match self {
            FieldType::String { .. } => FieldType::String { one_of },
            _ => panic!("#[arg(one_of)] applies to string fields only"),
        }
    }

    /// Bytes that may also be given as a string (its UTF-8 bytes); what `#[arg(or_string)]` writes.
    pub const fn or_string(self) -> FieldType {
        match self {
            FieldType::Bytes | FieldType::BytesOrString => FieldType::BytesOrString,
            _ => panic!("#[arg(or_string)] applies to Bytes fields only"),
        }
    }

    /// The TypeScript type of a value this type accepts.
    pub fn ts_type(&self) -> String {
        match self {
            FieldType::Integer { .. } | FieldType::Number { .. } => "number".into(),
            FieldType::String { one_of: [] } => "string".into(),
            FieldType::String { .. } => self.describe(),
            FieldType::Bool => "boolean".into(),
            FieldType::Bytes => "ArrayBufferView | ArrayBuffer".into(),
            FieldType::BytesOrString => "string | ArrayBufferView | ArrayBuffer".into(),
            FieldType::Any => "unknown".into(),
        }
    }

    /// How the type reads in docs and `Pool.tasks()`, e.g. `integer 0..=100`.
    pub fn describe(&self) -> String {
        match self {
            FieldType::Integer { min, max } => format!("integer {min}..={max}"),
            FieldType::Number { min, max } if min.is_infinite() && max.is_infinite() => "number".into(),
            FieldType::Number { min, max } => format!("number {min}..={max}"),
            FieldType::String { one_of: [] } => "string".into(),
            FieldType::String { one_of } => {
                one_of.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" | ")
            }
            FieldType::Bool => "boolean".into(),
            FieldType::Bytes => "Buffer | TypedArray | DataView | ArrayBuffer".into(),
            FieldType::BytesOrString => "string | Buffer | TypedArray | DataView | ArrayBuffer".into(),
            FieldType::Any => "any".into(),
        }
    }

    fn check(&self, field: &str, value: &Value) -> Result<(), TaskError> {
        let wrong = || {
            TaskError::invalid_arg(field, format!("expected {}, got {}", self.describe(), value.type_name()))
        };
        match (self, value) {
            (FieldType::Any, _) => Ok(()),
            (FieldType::Integer { min, max }, Value::Number(n)) => {
                if !n.is_finite() || n.fract() != 0.0 {
                    return Err(TaskError::invalid_arg(field, format!("expected an integer, got {n}")));
                }
                if *n < *min as f64 || *n > *max as f64 {
                    return Err(TaskError::invalid_arg(
                        field,
                        format!("{n} is out of range (expected {min} to {max})"),
                    ));
                }
                Ok(())
            }
            (FieldType::Number { min, max }, Value::Number(n)) => {
                if n.is_nan() || *n < *min || *n > *max {
                    return Err(TaskError::invalid_arg(
                        field,
                        format!("{n} is out of range (expected {min} to {max})"),
                    ));
                }
                Ok(())
            }
            (FieldType::String { one_of }, Value::String(s)) => {
                if one_of.is_empty() || one_of.contains(&s.as_str()) {
                    Ok(())
                } else {
                    Err(TaskError::invalid_arg(field, format!("expected {}, got '{s}'", self.describe())))
                }
            }
            (FieldType::Bool, Value::Bool(_)) => Ok(()),
            (FieldType::Bytes | FieldType::BytesOrString, Value::Bytes(_)) => Ok(()),
            (FieldType::BytesOrString, Value::String(_)) => Ok(()),
            _ => Err(wrong()),
        }
    }
}

/// One named field of an argument object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// What it means and its default, for `Pool.tasks()` and the README.
    pub doc: &'static str,
}

impl Field {
    pub const fn required(name: &'static str, ty: FieldType, doc: &'static str) -> Field {
        Field { name, ty, required: true, doc }
    }
    pub const fn optional(name: &'static str, ty: FieldType, doc: &'static str) -> Field {
        Field { name, ty, required: false, doc }
    }
}

/// The shape of a task's argument. `#[derive(TaskArgs)]` writes one from a struct.
///
/// ```
/// use native_pool::{ArgsSchema, Field, FieldType, Value};
///
/// const FIELDS: &[Field] = &[Field::required("n", FieldType::Integer { min: 0, max: 9 }, "a digit")];
/// let schema = ArgsSchema::Object(FIELDS);
/// assert!(schema.validate(&Value::object([("n", Value::Number(3.0))])).is_ok());
/// assert!(schema.validate(&Value::object([("n", Value::Number(10.0))])).is_err());
/// assert_eq!(schema.ts_type(), "{ n: number }");
/// assert_eq!(FieldType::Integer { min: 0, max: 9 }.with_max(5.0).describe(), "integer 0..=5");
/// ```
#[derive(Debug, Clone, Copy)]
pub enum ArgsSchema {
    /// Any value at all (`echo`).
    Any,
    /// An object with these fields and no others.
    Object(&'static [Field]),
}

impl ArgsSchema {
    /// The TypeScript type of an argument this schema accepts, e.g. `{ n: number; mode?: 'a' | 'b' }`.
    pub fn ts_type(&self) -> String {
        match self {
            ArgsSchema::Any => "unknown".into(),
            ArgsSchema::Object([]) => "Record<string, never>".into(),
            ArgsSchema::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}{}: {}", f.name, if f.required { "" } else { "?" }, f.ty.ts_type()))
                    .collect();
                format!("{{ {} }}", fields.join("; "))
            }
        }
    }

    /// Checks `args` field by field: missing, unknown, mistyped and out-of-range fields are each an
    /// `ERR_INVALID_ARG` naming the field.
    pub fn validate(&self, args: &Value) -> Result<(), TaskError> {
        let ArgsSchema::Object(fields) = self else { return Ok(()) };
        let Value::Object(given) = args else {
            return Err(TaskError::invalid_arg(
                "args",
                format!("expected an object, got {}", args.type_name()),
            ));
        };
        for (key, value) in given {
            let Some(field) = fields.iter().find(|f| f.name == key) else {
                let known: Vec<_> = fields.iter().map(|f| f.name).collect();
                return Err(TaskError::invalid_arg(
                    key.as_str(),
                    format!("unknown field (expected one of: {})", known.join(", ")),
                ));
            };
            // An optional field given as `undefined` counts as absent, as in most JS APIs.
            if !field.required && *value == Value::Undefined {
                continue;
            }
            field.ty.check(field.name, value)?;
        }
        for field in fields.iter().filter(|f| f.required) {
            if matches!(args.get(field.name), None | Some(Value::Undefined)) {
                return Err(TaskError::invalid_arg(field.name, "required field is missing"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[Field] = &[
        Field::required("n", FieldType::Integer { min: 0, max: 10 }, "a count"),
        Field::optional("mode", FieldType::String { one_of: &["a", "b"] }, "a mode"),
    ];
    const SCHEMA: ArgsSchema = ArgsSchema::Object(FIELDS);

    fn field_of(v: Value) -> String {
        match SCHEMA.validate(&v) {
            Err(TaskError::InvalidArg { field, .. }) => field,
            other => panic!("expected InvalidArg, got {other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(Value::Number(1.0)), "args");
        assert_eq!(field_of(Value::object::<&str>([])), "n");
        assert_eq!(field_of(Value::object([("n", Value::Number(11.0))])), "n");
        assert_eq!(field_of(Value::object([("n", Value::Number(1.5))])), "n");
        assert_eq!(field_of(Value::object([("n", Value::String("1".into()))])), "n");
        assert_eq!(field_of(Value::object([("n", Value::Number(1.0)), ("mode", Value::String("c".into()))])), "mode");
        assert_eq!(field_of(Value::object([("n", Value::Number(1.0)), ("nn", Value::Null)])), "nn");
    }

    #[test]
    fn an_optional_field_given_as_undefined_is_absent() {
        assert!(SCHEMA.validate(&Value::object([("n", Value::Number(3.0)), ("mode", Value::Undefined)])).is_ok());
    }

    #[test]
    fn the_typescript_type_follows_the_fields() {
        assert_eq!(SCHEMA.ts_type(), "{ n: number; mode?: 'a' | 'b' }");
        assert_eq!(ArgsSchema::Any.ts_type(), "unknown");
    }
}
