//! The values that travel between JavaScript and a task: arguments in, messages and results out.
//! Plain Rust, so tasks and the engine can be written and tested without Node; the binding
//! converts to and from JS at the boundary.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A value a task receives or produces. The shapes map one to one onto JavaScript values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    /// A JS BigInt. 128 bits hold every result our tasks produce (`sum` tops out near 2^105).
    BigInt(i128),
    String(String),
    /// Binary data: a Buffer, TypedArray, DataView or ArrayBuffer on the way in, a Buffer on the way out.
    Bytes(Bytes),
    Array(Vec<Value>),
    /// A plain object, its keys in insertion order.
    Object(Vec<(String, Value)>),
    /// A JS value that stays on the JS side (an object, a function, a symbol...), passed through a task
    /// untouched by index. `echo` uses it to resolve with the very object it was given.
    Handle(u32),
}

impl Value {
    /// The JS name of this value's type, for error messages ("expected an integer, got string").
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::BigInt(_) => "bigint",
            Value::String(_) => "string",
            Value::Bytes(_) => "binary data",
            Value::Array(_) => "array",
            Value::Object(_) | Value::Handle(_) => "object",
        }
    }

    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The field `key` of an object, if this is one and it has that field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// An unsigned integer as JS sees it: a Number while it is exactly representable
    /// (`<= Number.MAX_SAFE_INTEGER`), an exact BigInt beyond.
    pub fn exact_integer(n: u128) -> Value {
        if n <= MAX_SAFE_INTEGER as u128 {
            Value::Number(n as f64)
        } else {
            Value::BigInt(n as i128)
        }
    }
}

/// `Number.MAX_SAFE_INTEGER`: the largest integer a JS number holds exactly, 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Bytes a task reads or returns, without a copy where the binding can avoid one.
///
/// Input bytes usually borrow the memory of the caller's Buffer or TypedArray: the binding keeps the
/// JS object alive until the task has finished, and the contract (README) is that JS does not write to
/// it meanwhile. Output bytes are owned and become a Buffer without a copy.
#[derive(Clone)]
pub struct Bytes(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Arc<Vec<u8>>),
    Borrowed(BorrowedBytes),
}

/// A view of memory owned by someone else, who promises it stays valid and unchanged while any
/// `Bytes` made from it is alive.
#[derive(Clone, Copy)]
struct BorrowedBytes {
    ptr: *const u8,
    len: usize,
}

// SAFETY: a `BorrowedBytes` is only made by `Bytes::borrowed`, whose caller guarantees the memory is
// valid and not written for as long as the value lives, on whatever thread; reading it from any thread
// is then sound.
unsafe impl Send for BorrowedBytes {}
// SAFETY: as above; only shared reads are ever made through it.
unsafe impl Sync for BorrowedBytes {}

impl Bytes {
    /// Wraps memory owned elsewhere without copying it.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or be anything when `len` is 0) that stay valid and
    /// unwritten until every clone of the returned value has been dropped.
    pub unsafe fn borrowed(ptr: *const u8, len: usize) -> Bytes {
        Bytes(Repr::Borrowed(BorrowedBytes { ptr, len }))
    }

    /// Takes the bytes out as an owned vector, copying only if they were borrowed or shared.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Owned(v) => Arc::try_unwrap(v).unwrap_or_else(|shared| shared.as_ref().clone()),
            Repr::Borrowed(_) => self.as_ref().to_vec(),
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes(Repr::Owned(Arc::new(v)))
    }
}

impl From<&[u8]> for Bytes {
    /// An owned copy (streamed past the cache when large: `engine::copy`).
    fn from(v: &[u8]) -> Bytes {
        Bytes::from(super::copy::to_vec(v))
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Borrowed(b) if b.len == 0 => &[],
            // SAFETY: guaranteed by the caller of `Bytes::borrowed`.
            Repr::Borrowed(b) => unsafe { std::slice::from_raw_parts(b.ptr, b.len) },
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_integer_switches_to_bigint_past_max_safe() {
        assert_eq!(Value::exact_integer(MAX_SAFE_INTEGER as u128), Value::Number(9007199254740991.0));
        assert_eq!(
            Value::exact_integer(MAX_SAFE_INTEGER as u128 + 1),
            Value::BigInt(9007199254740992)
        );
    }

    #[test]
    fn borrowed_bytes_read_the_callers_memory() {
        let backing = [1u8, 2, 3];
        // SAFETY: `backing` outlives `b` and is not written while `b` lives.
        let b = unsafe { Bytes::borrowed(backing.as_ptr(), backing.len()) };
        assert_eq!(&*b, &[1, 2, 3]);
        assert_eq!(b.into_vec(), vec![1, 2, 3]);
    }
}
