//! JS values to `Value` and back, at the boundary. Binary data crosses without a copy: inputs borrow the
//! caller's memory (the JS object is kept alive by a reference until the job is settled), outputs hand
//! their `Vec` to a Buffer.

use napi::sys;

use super::js::{self, Env, NapiError, Val};
use crate::engine::error::TaskError;
use crate::engine::value::{Bytes, Value};

/// How deep nested arrays and objects may go (a cycle hits this limit too).
const MAX_DEPTH: usize = 64;

/// How many values one argument may hold in all: bounds the work and memory a conversion can take
/// (a sparse array of length 2^32 - 1, or a tree that shares subtrees, would otherwise take it all).
const MAX_VALUES: usize = 1_000_000;

/// Why a value was refused: the error to reject with and, when the caller's own code threw while we
/// read the value (a getter, a Proxy trap, a revoked Proxy), what it threw, for the error's `cause`.
pub(crate) struct Rejection {
    pub(crate) error: TaskError,
    pub(crate) cause: Option<Val>,
}

impl From<TaskError> for Rejection {
    fn from(error: TaskError) -> Rejection {
        Rejection { error, cause: None }
    }
}

/// JS objects a job keeps alive while it runs: the memory its `Bytes` borrow, and the values its
/// `Value::Handle`s stand for (`Handle(i)` is `kept[i]`). Deleted when the job is settled.
#[derive(Default)]
pub(crate) struct Kept(pub(crate) Vec<sys::napi_ref>);

impl Kept {
    fn keep(&mut self, env: Env, v: Val) -> Result<u32, Rejection> {
        let r = js::new_ref(env, v).map_err(|_| TaskError::failed("could not keep an argument alive"))?;
        self.0.push(r);
        Ok((self.0.len() - 1) as u32)
    }

    pub(crate) fn release(self, env: Env) {
        for r in self.0 {
            js::delete_ref(env, r);
        }
    }
}

/// How `from_js` reads objects.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// For a native task: objects are read as plain objects whatever their class; functions and
    /// symbols become handles (which the task's validation refuses unless it takes any value).
    Task,
    /// For a JS task, to another thread: only plain objects (their prototype is `Object.prototype`,
    /// of any realm, or null), arrays, binary data and primitives cross; anything else is an
    /// `ERR_INVALID_ARG` naming the field. With `copy_bytes`, binary data is copied (a result or a
    /// message leaving a Worker, whose memory may be collected once it returns); else it is
    /// borrowed and its object kept alive in `Kept`.
    Transport { copy_bytes: bool },
}

/// Converts the argument, result or message of a JS task (`Mode::Transport`), any top-level type.
pub(crate) fn transport_from_js(env: Env, v: Val, field: &str, copy_bytes: bool, kept: &mut Kept) -> Result<Value, Rejection> {
    let mut budget = MAX_VALUES;
    from_js(env, v, field, 0, &mut budget, kept, Mode::Transport { copy_bytes })
}

/// Whether an object's prototype is a root (`Object.prototype` of any realm, whose own prototype is
/// null) or null: a plain object, not a class instance, Map, Date, Promise, Error…
fn is_plain(env: Env, v: Val) -> js::JsResult<bool> {
    let proto = js::prototype(env, v)?;
    if js::type_of(env, proto)? == sys::ValueType::napi_null {
        return Ok(true);
    }
    let above = js::prototype(env, proto)?;
    Ok(js::type_of(env, above)? == sys::ValueType::napi_null)
}

/// Converts a task's argument. With `opaque_objects` (a task taking any value), objects, arrays,
/// functions and binary data are not read at all: they become handles and come back as
/// themselves. Otherwise the argument must be a plain object (checked before anything is read).
pub(crate) fn args_from_js(env: Env, v: Val, opaque_objects: bool, kept: &mut Kept) -> Result<Value, Rejection> {
    let ty = js::type_of(env, v).map_err(|e| unreadable("args", e))?;
    let mut budget = MAX_VALUES;
    if opaque_objects {
        return match ty {
            sys::ValueType::napi_object
            | sys::ValueType::napi_function
            | sys::ValueType::napi_symbol
            | sys::ValueType::napi_external => Ok(Value::Handle(kept.keep(env, v)?)),
            _ => from_js(env, v, "args", 0, &mut budget, kept, Mode::Task),
        };
    }
    let is_array = ty == sys::ValueType::napi_object && js::is_array(env, v).map_err(|e| unreadable("args", e))?;
    if ty != sys::ValueType::napi_object || is_array {
        let got = if is_array { "array" } else { js_type_name(ty) };
        return Err(TaskError::invalid_arg("args", format!("expected an object, got {got}")).into());
    }
    from_js(env, v, "args", 0, &mut budget, kept, Mode::Task)
}

fn js_type_name(ty: i32) -> &'static str {
    match ty {
        sys::ValueType::napi_undefined => "undefined",
        sys::ValueType::napi_null => "null",
        sys::ValueType::napi_boolean => "boolean",
        sys::ValueType::napi_number => "number",
        sys::ValueType::napi_string => "string",
        sys::ValueType::napi_symbol => "symbol",
        sys::ValueType::napi_function => "function",
        sys::ValueType::napi_bigint => "bigint",
        _ => "object",
    }
}

fn too_large(field: &str) -> TaskError {
    TaskError::invalid_arg(field, format!("holds more than {MAX_VALUES} values"))
}

/// A value whose reading failed. Every failure of a read on a caller's value lands here, with the
/// exception it threw (already taken by `napi_call!`) as the cause.
pub(crate) fn unreadable(field: &str, e: NapiError) -> Rejection {
    let (message, cause) = match e.thrown() {
        Some(thrown) => ("could not be read: reading it threw (see the error's cause)", Some(thrown)),
        None => ("could not be read", None),
    };
    Rejection { error: TaskError::invalid_arg(field, message), cause }
}

#[allow(non_upper_case_globals)]
fn from_js(
    env: Env,
    v: Val,
    field: &str,
    depth: usize,
    budget: &mut usize,
    kept: &mut Kept,
    mode: Mode,
) -> Result<Value, Rejection> {
    use sys::ValueType::*;
    if depth > MAX_DEPTH {
        return Err(TaskError::invalid_arg(field, format!("nested more than {MAX_DEPTH} levels deep (or circular)")).into());
    }
    *budget = budget.checked_sub(1).ok_or_else(|| too_large(field))?;
    let bad = |e| unreadable(field, e);
    Ok(match js::type_of(env, v).map_err(bad)? {
        napi_undefined => Value::Undefined,
        napi_null => Value::Null,
        napi_boolean => Value::Bool(js::get_bool(env, v).map_err(bad)?),
        napi_number => Value::Number(js::get_number(env, v).map_err(bad)?),
        napi_string => Value::String(js::get_string(env, v).map_err(bad)?),
        napi_bigint => match js::get_bigint(env, v).map_err(bad)? {
            Some(n) => Value::BigInt(n),
            None => return Err(TaskError::invalid_arg(field, "BigInt does not fit in 128 bits").into()),
        },
        napi_object => {
            if let Some((ptr, len)) = js::byte_view(env, v).map_err(bad)? {
                if mode == (Mode::Transport { copy_bytes: true }) {
                    let bytes = if len == 0 {
                        Bytes::from(Vec::new())
                    } else {
                        // SAFETY: `v` is alive in this handle scope and nothing runs JS while we copy.
                        Bytes::from(unsafe { std::slice::from_raw_parts(ptr, len) })
                    };
                    return Ok(Value::Bytes(bytes));
                }
                kept.keep(env, v)?;
                // SAFETY: the reference just taken keeps the object, and so its backing store, alive
                // until the job is settled, after the task has dropped every `Bytes`; the caller agrees
                // not to write to it meanwhile (documented in the README).
                Value::Bytes(unsafe { Bytes::borrowed(ptr, len) })
            } else if js::is_array(env, v).map_err(bad)? {
                let n = js::array_len(env, v).map_err(bad)?;
                if n as usize > *budget {
                    return Err(too_large(field).into());
                }
                let mut items = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let item = js::get_element(env, v, i).map_err(bad)?;
                    let item_field = if mode == Mode::Task { field.to_owned() } else { format!("{field}[{i}]") };
                    items.push(from_js(env, item, &item_field, depth + 1, budget, kept, mode)?);
                }
                Value::Array(items)
            } else {
                if mode != Mode::Task && !is_plain(env, v).map_err(bad)? {
                    return Err(TaskError::invalid_arg(
                        field,
                        "is not a plain object, array or binary data (a class instance, Map, Set, Date, RegExp, Promise or Error cannot cross to a JS task)",
                    )
                    .into());
                }
                let keys = js::own_keys(env, v).map_err(bad)?;
                let n = js::array_len(env, keys).map_err(bad)?;
                if n as usize > *budget {
                    return Err(too_large(field).into());
                }
                let mut fields = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let key = js::get_element(env, keys, i).map_err(bad)?;
                    let name = js::get_string(env, key).map_err(bad)?;
                    let child_field = if depth == 0 && mode == Mode::Task { name.clone() } else { format!("{field}.{name}") };
                    let value = js::get_property(env, v, key).map_err(|e| unreadable(&child_field, e))?;
                    let value = from_js(env, value, &child_field, depth + 1, budget, kept, mode)?;
                    fields.push((name, value));
                }
                Value::Object(fields)
            }
        }
        ty if mode != Mode::Task => {
            let what = match ty {
                napi_function => "a function",
                napi_symbol => "a symbol",
                _ => "an external",
            };
            return Err(TaskError::invalid_arg(field, format!("is {what}, which cannot cross to a JS task")).into());
        }
        // Functions, symbols and externals cannot cross to a thread; a task that takes `any`
        // gets them as handles, every other task rejects them in validation.
        _ => Value::Handle(kept.keep(env, v)?),
    })
}

/// Converts a result or message back to JS.
pub(crate) fn to_js(env: Env, value: Value, kept: &Kept) -> js::JsResult<Val> {
    to_js_with(env, value, kept, &mut |b| js::buffer_from_vec(env, b.into_vec()))
}

/// `to_js`, making each binary value with `bytes` (a JS task's input: a Buffer over the caller's
/// memory, without a copy).
pub(crate) fn to_js_with(env: Env, value: Value, kept: &Kept, bytes: &mut dyn FnMut(Bytes) -> js::JsResult<Val>) -> js::JsResult<Val> {
    match value {
        Value::Undefined => js::undefined(env),
        Value::Null => js::null(env),
        Value::Bool(b) => js::boolean(env, b),
        Value::Number(n) => js::number(env, n),
        Value::BigInt(n) => js::bigint(env, n),
        Value::String(s) => js::string(env, &s),
        Value::Bytes(b) => bytes(b),
        Value::Array(items) => {
            let arr = js::array(env, items.len())?;
            for (i, item) in items.into_iter().enumerate() {
                let v = to_js_with(env, item, kept, bytes)?;
                js::set_element(env, arr, i as u32, v)?;
            }
            Ok(arr)
        }
        Value::Object(fields) => {
            let obj = js::object(env)?;
            for (k, v) in fields {
                let v = to_js_with(env, v, kept, bytes)?;
                js::set_named(env, obj, &k, v)?;
            }
            Ok(obj)
        }
        Value::Handle(i) => match kept.0.get(i as usize) {
            Some(r) => js::ref_value(env, *r),
            None => js::undefined(env),
        },
    }
}
