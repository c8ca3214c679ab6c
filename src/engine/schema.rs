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

    /// How the type reads in docs and `Pool.tasks()`, e.g. `integer 0..=100`.
    pub fn describe(&self) -> String {
        match self {
            FieldType::Integer { min, max } => format!("integer {min}..={max}"),
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

/// The shape of a task's argument.
#[derive(Debug, Clone, Copy)]
pub enum ArgsSchema {
    /// Any value at all (`echo`).
    Any,
    /// An object with these fields and no others.
    Object(&'static [Field]),
}

impl ArgsSchema {
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

/// Typed reads of an argument object that `ArgsSchema::validate` accepted. A read that does not fit
/// (which validation should have excluded) is an `ERR_INVALID_ARG`, never a panic.
pub struct Args(Value);

impl Args {
    /// Validates `args` against `schema` and wraps it for typed reads.
    pub fn parse(schema: &ArgsSchema, args: Value) -> Result<Args, TaskError> {
        schema.validate(&args)?;
        Ok(Args(args))
    }

    fn present(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| **v != Value::Undefined)
    }

    pub fn u64(&self, name: &str) -> Result<u64, TaskError> {
        self.opt_u64(name)?.ok_or_else(|| TaskError::invalid_arg(name, "required field is missing"))
    }

    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, TaskError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_SAFE_INTEGER as f64 => {
                Ok(Some(*n as u64))
            }
            Some(v) => Err(TaskError::invalid_arg(name, format!("expected an integer, got {}", v.type_name()))),
        }
    }

    /// An optional integer that may be negative (a compression level).
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, TaskError> {
        match self.present(name) {
            Some(Value::Number(n)) if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 => Ok(Some(*n as i64)),
            None => Ok(None),
            Some(v) => Err(TaskError::invalid_arg(name, format!("expected an integer, got {}", v.type_name()))),
        }
    }

    /// The raw value of an optional field, for fields that accept more than one shape.
    pub fn opt_value(&self, name: &str) -> Option<&Value> {
        self.present(name)
    }

    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, TaskError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(*n)),
            Some(v) => Err(TaskError::invalid_arg(name, format!("expected a number, got {}", v.type_name()))),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, TaskError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(TaskError::invalid_arg(name, format!("expected a boolean, got {}", v.type_name()))),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, TaskError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(TaskError::invalid_arg(name, format!("expected a string, got {}", v.type_name()))),
        }
    }

    /// Takes a bytes-or-string field out (strings become their UTF-8 bytes).
    pub fn take_bytes(&mut self, name: &str) -> Result<Option<super::value::Bytes>, TaskError> {
        let Value::Object(fields) = &mut self.0 else { return Ok(None) };
        let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == name) else { return Ok(None) };
        match std::mem::replace(v, Value::Undefined) {
            Value::Undefined => Ok(None),
            Value::Bytes(b) => Ok(Some(b)),
            Value::String(s) => Ok(Some(s.into_bytes().into())),
            other => Err(TaskError::invalid_arg(name, format!("expected binary data, got {}", other.type_name()))),
        }
    }

    /// The whole argument value.
    pub fn into_value(self) -> Value {
        self.0
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
    fn valid_args_read_back_typed() {
        let a = Args::parse(&SCHEMA, Value::object([("n", Value::Number(3.0)), ("mode", Value::Undefined)])).unwrap();
        assert_eq!(a.u64("n").unwrap(), 3);
        assert_eq!(a.opt_str("mode").unwrap(), None);
    }
}
