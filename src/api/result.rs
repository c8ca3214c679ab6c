//! Typed results: `IntoValue` turns what a task function returns into the `Value` its promise
//! resolves with, and names that value's TypeScript type for `Pool.tasks()` and the generated
//! declarations, so the two cannot disagree.

use crate::engine::value::{Bytes, Value, MAX_SAFE_INTEGER};

/// A Rust type a task can resolve with (or post), and its TypeScript type.
///
/// | Rust | JS | TypeScript |
/// |---|---|---|
/// | `()` | `undefined` | `undefined` |
/// | `bool` | boolean | `boolean` |
/// | `f64`, `f32`, `i8` … `i32`, `u8` … `u32` | number | `number` |
/// | `u64`, `u128`, `usize`, `i64`, `i128` | a number while exact (≤ 2^53 − 1 in size), else a BigInt | `number \| bigint` |
/// | `String`, `&'static str` | string | `string` |
/// | `Vec<u8>`, `Bytes` | a Buffer, without a copy | `Buffer` |
/// | `Vec<T>` | an array | `T[]` |
/// | `Option<T>` | `T` or `undefined` | `T \| undefined` |
/// | `Value` | as is | `unknown` |
/// | a struct with `#[derive(IntoValue)]` | an object with camelCase keys | `{ key: T; … }` |
///
/// ```
/// use native_pool::prelude::*;
///
/// #[derive(IntoValue)]
/// struct Histogram {
///     bucket_width: f64,
///     counts: Vec<u64>,
///     label: Option<String>,
/// }
///
/// let h = Histogram { bucket_width: 0.5, counts: vec![3, 1 << 60], label: None };
/// assert_eq!(
///     Histogram::ts_type(),
///     "{ bucketWidth: number; counts: (number | bigint)[]; label: string | undefined }"
/// );
/// assert_eq!(
///     h.into_value(),
///     Value::object([
///         ("bucketWidth", Value::Number(0.5)),
///         ("counts", Value::Array(vec![Value::Number(3.0), Value::BigInt(1 << 60)])),
///         ("label", Value::Undefined),
///     ])
/// );
/// assert_eq!(vec![1u8, 2].into_value(), Value::Bytes(vec![1, 2].into()));
/// ```
pub trait IntoValue {
    /// The value the promise resolves with.
    fn into_value(self) -> Value;

    /// The TypeScript type of that value.
    fn ts_type() -> String;

    /// How a `Vec` of this type converts: an array, except for `Vec<u8>`, which is a Buffer.
    #[doc(hidden)]
    fn vec_into_value(items: Vec<Self>) -> Value
    where
        Self: Sized,
    {
        Value::Array(items.into_iter().map(IntoValue::into_value).collect())
    }

    /// The TypeScript type of a `Vec` of this type.
    #[doc(hidden)]
    fn vec_ts_type() -> String {
        let item = Self::ts_type();
        if item.contains(' ') {
            format!("({item})[]")
        } else {
            format!("{item}[]")
        }
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
    fn ts_type() -> String {
        "unknown".into()
    }
}

impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Undefined
    }
    fn ts_type() -> String {
        "undefined".into()
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
    fn ts_type() -> String {
        "boolean".into()
    }
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Number(self as f64)
            }
            fn ts_type() -> String {
                "number".into()
            }
        }
    )*};
}
number!(f64, f32, i8, i16, i32, u16, u32);

// u8 is a number, but a Vec<u8> is a Buffer.
impl IntoValue for u8 {
    fn into_value(self) -> Value {
        Value::Number(self as f64)
    }
    fn ts_type() -> String {
        "number".into()
    }
    fn vec_into_value(items: Vec<u8>) -> Value {
        Value::Bytes(items.into())
    }
    fn vec_ts_type() -> String {
        "Buffer".into()
    }
}

/// An integer as JS sees it: a Number while it is exact, an exact BigInt beyond.
fn exact_signed(n: i128) -> Value {
    if n.unsigned_abs() <= MAX_SAFE_INTEGER as u128 {
        Value::Number(n as f64)
    } else {
        Value::BigInt(n)
    }
}

macro_rules! exact {
    ($($t:ty => $conv:expr),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                let conv: fn($t) -> Value = $conv;
                conv(self)
            }
            fn ts_type() -> String {
                "number | bigint".into()
            }
        }
    )*};
}
exact!(
    u64 => |n| Value::exact_integer(n as u128),
    usize => |n| Value::exact_integer(n as u128),
    // A BigInt holds 128 signed bits (`Value::BigInt`): the top half of u128 saturates there.
    u128 => |n| if n > i128::MAX as u128 { Value::BigInt(i128::MAX) } else { Value::exact_integer(n) },
    i64 => |n| exact_signed(n as i128),
    i128 => exact_signed
);

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
    fn ts_type() -> String {
        "string".into()
    }
}

impl IntoValue for &'static str {
    fn into_value(self) -> Value {
        Value::String(self.to_owned())
    }
    fn ts_type() -> String {
        "string".into()
    }
}

impl IntoValue for Bytes {
    fn into_value(self) -> Value {
        Value::Bytes(self)
    }
    fn ts_type() -> String {
        "Buffer".into()
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        T::vec_into_value(self)
    }
    fn ts_type() -> String {
        T::vec_ts_type()
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Undefined, IntoValue::into_value)
    }
    fn ts_type() -> String {
        format!("{} | undefined", T::ts_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_integers_are_exact() {
        assert_eq!(u64::MAX.into_value(), Value::BigInt(u64::MAX as i128));
        assert_eq!((-(1i64 << 53)).into_value(), Value::BigInt(-(1 << 53)));
        assert_eq!((-(1i64 << 52)).into_value(), Value::Number(-(2f64.powi(52))));
        assert_eq!(u128::MAX.into_value(), Value::BigInt(i128::MAX));
    }

    #[test]
    fn nested_vectors_name_their_types() {
        assert_eq!(<Vec<Vec<u8>>>::ts_type(), "Buffer[]");
        assert_eq!(<Vec<Option<u32>>>::ts_type(), "(number | undefined)[]");
        assert_eq!(<Vec<u8>>::ts_type(), "Buffer");
    }
}
