//! Typed arguments: `TaskArgs` is a whole argument object (its schema and how it is read),
//! `ArgField` one field's Rust type (its default `FieldType` and how a validated value becomes that
//! type). `#[derive(TaskArgs)]` writes the first from a struct whose fields are the second.

use crate::engine::error::TaskError;
use crate::engine::schema::{ArgsSchema, FieldType};
use crate::engine::value::{Bytes, Value, MAX_SAFE_INTEGER};

/// A task's argument, read from the caller's value on the caller's thread, before anything is queued.
///
/// Derive it for a struct: each field becomes one argument field, named in camelCase
/// (`max_output_length` is `maxOutputLength`), described by the first paragraph of its doc comment,
/// validated by its Rust type (`ArgField`) and these `#[arg(...)]` keys:
///
/// | key | meaning |
/// |---|---|
/// | `min = EXPR`, `max = EXPR` | bounds of a number or integer (the type's own bounds otherwise) |
/// | `one_of = ["a", "b"]` or `one_of = CONST` | a string field takes only these values |
/// | `default = EXPR` | the field is optional, and this is its value when absent |
/// | `or_string` | a `Bytes` field also takes a string, as its UTF-8 bytes |
/// | `name = "js"` | the JS name, when camelCase is not it |
/// | `kind = FieldType::…` | the field's `FieldType` outright (for a `Value` field, say) |
///
/// An `Option<T>` field is optional and `None` when absent (or `undefined`). Validation rejects,
/// with an `ERR_INVALID_ARG` naming the field: a missing required field, an unknown field, a wrong
/// type, a number out of range, a string not among `one_of`.
///
/// ```
/// use native_pool::prelude::*;
///
/// #[derive(TaskArgs)]
/// struct BlurArgs {
///     /// RGBA pixels, row by row
///     pixels: Bytes,
///     /// the image width in pixels
///     #[arg(min = 1, max = 65535)]
///     width: u32,
///     /// blur radius in pixels; default 2
///     #[arg(max = 100, default = 2)]
///     radius: u32,
///     /// edge handling
///     #[arg(one_of = ["clamp", "wrap"])]
///     edges: Option<String>,
/// }
///
/// let ok = BlurArgs::from_value(Value::object([
///     ("pixels", Value::Bytes(vec![0; 8].into())),
///     ("width", Value::Number(2.0)),
/// ]))
/// .unwrap();
/// assert_eq!((ok.width, ok.radius, ok.edges), (2, 2, None));
///
/// let bad = BlurArgs::from_value(Value::object([
///     ("pixels", Value::Bytes(vec![0; 8].into())),
///     ("width", Value::Number(0.0)),
/// ]));
/// let Err(TaskError::InvalidArg { field, message }) = bad else { panic!() };
/// assert_eq!((field.as_str(), message.as_str()), ("width", "0 is out of range (expected 1 to 65535)"));
///
/// // The same declaration describes the task in `Pool.tasks()` and in TypeScript.
/// assert_eq!(
///     BlurArgs::schema().ts_type(),
///     "{ pixels: ArrayBufferView | ArrayBuffer; width: number; radius?: number; edges?: 'clamp' | 'wrap' }"
/// );
/// ```
///
/// `Value` is a `TaskArgs` too: any argument at all, unvalidated (`echo`).
pub trait TaskArgs: Sized + Send + 'static {
    /// The shape it accepts, for validation and `Pool.tasks()`.
    fn schema() -> ArgsSchema;
    /// Validates `args` against the schema and reads it.
    fn from_value(args: Value) -> Result<Self, TaskError>;
}

impl TaskArgs for Value {
    fn schema() -> ArgsSchema {
        ArgsSchema::Any
    }
    fn from_value(args: Value) -> Result<Value, TaskError> {
        Ok(args)
    }
}

/// The Rust type of one argument field: its `FieldType` unless `#[arg]` narrows it, and how a value
/// that passed validation becomes this type.
///
/// | Rust | accepts | by default |
/// |---|---|---|
/// | `u64`, `usize` | an integer number | 0 ..= 2^53 − 1 |
/// | `u32`, `u16`, `u8` / `i64` / `i32`, `i16`, `i8` | an integer number | the type's range (`i64`: ± 2^53 − 1) |
/// | `f64` | a number, not NaN | any |
/// | `bool` | a boolean | |
/// | `String` | a string | any string |
/// | `Bytes` | a Buffer, TypedArray, DataView or ArrayBuffer, read in place (`or_string`: a string too) | |
/// | `Vec<u8>` | the same, copied | |
/// | `Value` | anything | |
/// | `Option<T>` | what `T` accepts, or nothing | optional |
///
/// ```
/// use native_pool::{ArgField, FieldType};
///
/// assert_eq!(<u8 as ArgField>::KIND, FieldType::Integer { min: 0, max: 255 });
/// assert!(<Option<u8> as ArgField>::OPTIONAL);
/// assert_eq!(u8::from_arg("level", native_pool::Value::Number(9.0)).unwrap(), 9);
/// ```
pub trait ArgField: Sized {
    /// What the field accepts, before `#[arg]` narrows it.
    const KIND: FieldType;
    /// Whether the field may be absent (`Option`).
    const OPTIONAL: bool = false;
    /// Reads a value that passed validation (`Value::Undefined` when the field is absent).
    fn from_arg(field: &str, value: Value) -> Result<Self, TaskError>;
}

fn mistyped(field: &str, expected: &str, value: &Value) -> TaskError {
    if *value == Value::Undefined {
        TaskError::invalid_arg(field, "required field is missing")
    } else {
        TaskError::invalid_arg(field, format!("expected {expected}, got {}", value.type_name()))
    }
}

macro_rules! integer {
    ($($t:ty: $min:expr, $max:expr);* $(;)?) => {$(
        impl ArgField for $t {
            const KIND: FieldType = FieldType::Integer { min: $min as i64, max: $max as i64 };
            fn from_arg(field: &str, value: Value) -> Result<$t, TaskError> {
                match value {
                    Value::Number(n) if n.fract() == 0.0 && n >= $min as f64 && n <= $max as f64 => Ok(n as $t),
                    other => Err(mistyped(field, "an integer", &other)),
                }
            }
        }
    )*};
}
integer! {
    u64: 0, MAX_SAFE_INTEGER;
    usize: 0, MAX_SAFE_INTEGER;
    u32: 0, u32::MAX;
    u16: 0, u16::MAX;
    u8: 0, u8::MAX;
    i64: -(MAX_SAFE_INTEGER as i64), MAX_SAFE_INTEGER;
    i32: i32::MIN, i32::MAX;
    i16: i16::MIN, i16::MAX;
    i8: i8::MIN, i8::MAX;
}

impl ArgField for f64 {
    const KIND: FieldType = FieldType::Number { min: f64::NEG_INFINITY, max: f64::INFINITY };
    fn from_arg(field: &str, value: Value) -> Result<f64, TaskError> {
        match value {
            Value::Number(n) => Ok(n),
            other => Err(mistyped(field, "a number", &other)),
        }
    }
}

impl ArgField for bool {
    const KIND: FieldType = FieldType::Bool;
    fn from_arg(field: &str, value: Value) -> Result<bool, TaskError> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(mistyped(field, "a boolean", &other)),
        }
    }
}

impl ArgField for String {
    const KIND: FieldType = FieldType::String { one_of: &[] };
    fn from_arg(field: &str, value: Value) -> Result<String, TaskError> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(mistyped(field, "a string", &other)),
        }
    }
}

impl ArgField for Bytes {
    const KIND: FieldType = FieldType::Bytes;
    fn from_arg(field: &str, value: Value) -> Result<Bytes, TaskError> {
        match value {
            Value::Bytes(b) => Ok(b),
            // Only reachable with `or_string`: validation rejects strings otherwise.
            Value::String(s) => Ok(s.into_bytes().into()),
            other => Err(mistyped(field, "binary data", &other)),
        }
    }
}

impl ArgField for Vec<u8> {
    const KIND: FieldType = FieldType::Bytes;
    fn from_arg(field: &str, value: Value) -> Result<Vec<u8>, TaskError> {
        Bytes::from_arg(field, value).map(Bytes::into_vec)
    }
}

impl ArgField for Value {
    const KIND: FieldType = FieldType::Any;
    fn from_arg(_field: &str, value: Value) -> Result<Value, TaskError> {
        Ok(value)
    }
}

impl<T: ArgField> ArgField for Option<T> {
    const KIND: FieldType = T::KIND;
    const OPTIONAL: bool = true;
    fn from_arg(field: &str, value: Value) -> Result<Option<T>, TaskError> {
        match value {
            Value::Undefined => Ok(None),
            v => T::from_arg(field, v).map(Some),
        }
    }
}

/// Takes the fields of a validated argument object out one by one; what `#[derive(TaskArgs)]`
/// generates code against.
///
/// ```
/// use native_pool::{ArgsReader, ArgsSchema, Field, FieldType, Value};
///
/// const FIELDS: &[Field] = &[Field::optional("n", FieldType::Integer { min: 0, max: 9 }, "a digit")];
/// let mut r = ArgsReader::new(&ArgsSchema::Object(FIELDS), Value::object([("n", Value::Number(7.0))])).unwrap();
/// assert_eq!(r.take_or::<u8>("n", || 0).unwrap(), 7);
/// ```
pub struct ArgsReader {
    fields: Vec<(String, Value)>,
}

impl ArgsReader {
    /// Validates `args` against `schema` (every error names its field) and holds its fields.
    pub fn new(schema: &ArgsSchema, args: Value) -> Result<ArgsReader, TaskError> {
        schema.validate(&args)?;
        match args {
            Value::Object(fields) => Ok(ArgsReader { fields }),
            _ => Ok(ArgsReader { fields: Vec::new() }),
        }
    }

    fn take_value(&mut self, name: &str) -> Value {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => std::mem::replace(v, Value::Undefined),
            None => Value::Undefined,
        }
    }

    /// The field `name` as a `T` (`Value::Undefined` when absent, which only `Option` accepts).
    pub fn take<T: ArgField>(&mut self, name: &str) -> Result<T, TaskError> {
        let value = self.take_value(name);
        T::from_arg(name, value)
    }

    /// The field `name` as a `T`, or `default()` when it is absent or `undefined`.
    pub fn take_or<T: ArgField>(&mut self, name: &str, default: impl FnOnce() -> T) -> Result<T, TaskError> {
        match self.take_value(name) {
            Value::Undefined => Ok(default()),
            value => T::from_arg(name, value),
        }
    }
}
