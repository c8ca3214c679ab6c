//! The raw Node-API calls the binding makes, each wrapped once so the rest of the binding reads as
//! plain Rust. Every function here must be called on the JS thread of `env`, with handles that belong
//! to the current handle scope: that is the one safety rule of this module.

use std::ffi::c_void;
use std::ptr;

use napi::sys;

use crate::engine::value::Bytes;

/// A failed Node-API call: its status, and the JS exception it left pending, if any.
///
/// Every call goes through `napi_call!`, which takes (clears) that exception at once: a getter or a
/// Proxy trap of the caller's that throws while we read a value must never stay pending and escape
/// to Node as an "uncaught N-API callback exception" (DEP0168; fatal under
/// `--force-node-api-uncaught-exceptions-policy=true`). Whoever handles the error decides what the
/// exception becomes: usually the `cause` of an `ERR_INVALID_ARG`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NapiError {
    #[allow(dead_code)]
    pub(crate) status: sys::napi_status,
    /// The exception taken from the environment, or null if the call left none.
    pub(crate) exception: Val,
}

impl NapiError {
    /// The exception the call threw, if it threw one.
    pub(crate) fn thrown(&self) -> Option<Val> {
        (!self.exception.is_null()).then_some(self.exception)
    }
}

pub(crate) type JsResult<T> = Result<T, NapiError>;

/// Makes a Node-API call on `env`; on failure, takes any exception it left pending (see `NapiError`).
macro_rules! napi_call {
    ($env:expr, $e:expr) => {{
        // SAFETY: see the module docs: called on the env's JS thread with live handles.
        let status = unsafe { $e };
        if status == sys::Status::napi_ok {
            Ok(())
        } else {
            Err($crate::binding::js::failure($env, status))
        }
    }};
}
pub(crate) use napi_call;

/// The error for a failed call: the one place where a pending exception is taken.
#[cold]
pub(crate) fn failure(env: Env, status: sys::napi_status) -> NapiError {
    NapiError { status, exception: take_pending(env).unwrap_or(ptr::null_mut()) }
}

pub(crate) type Env = sys::napi_env;
pub(crate) type Val = sys::napi_value;

pub(crate) fn type_of(env: Env, v: Val) -> JsResult<i32> {
    let mut t = 0;
    napi_call!(env, sys::napi_typeof(env, v, &mut t))?;
    Ok(t)
}

pub(crate) fn undefined(env: Env) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_get_undefined(env, &mut v))?;
    Ok(v)
}

pub(crate) fn null(env: Env) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_get_null(env, &mut v))?;
    Ok(v)
}

pub(crate) fn boolean(env: Env, b: bool) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_get_boolean(env, b, &mut v))?;
    Ok(v)
}

pub(crate) fn number(env: Env, n: f64) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_create_double(env, n, &mut v))?;
    Ok(v)
}

pub(crate) fn string(env: Env, s: &str) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v))?;
    Ok(v)
}

pub(crate) fn bigint(env: Env, n: i128) -> JsResult<Val> {
    let mag = n.unsigned_abs();
    let words = [mag as u64, (mag >> 64) as u64];
    let count = if words[1] == 0 { 1 } else { 2 };
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_create_bigint_words(env, (n < 0) as i32, count, words.as_ptr(), &mut v))?;
    Ok(v)
}

pub(crate) fn object(env: Env) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_create_object(env, &mut v))?;
    Ok(v)
}

pub(crate) fn array(env: Env, len: usize) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_create_array_with_length(env, len, &mut v))?;
    Ok(v)
}

pub(crate) fn set_element(env: Env, array: Val, i: u32, v: Val) -> JsResult<()> {
    napi_call!(env, sys::napi_set_element(env, array, i, v))
}

pub(crate) fn set_named(env: Env, obj: Val, key: &str, v: Val) -> JsResult<()> {
    let k = string(env, key)?;
    napi_call!(env, sys::napi_set_property(env, obj, k, v))
}

pub(crate) fn get_bool(env: Env, v: Val) -> JsResult<bool> {
    let mut b = false;
    napi_call!(env, sys::napi_get_value_bool(env, v, &mut b))?;
    Ok(b)
}

pub(crate) fn get_number(env: Env, v: Val) -> JsResult<f64> {
    let mut n = 0.0;
    napi_call!(env, sys::napi_get_value_double(env, v, &mut n))?;
    Ok(n)
}

/// A JS string as UTF-8 (lone surrogates become U+FFFD, as `Buffer.from(s)` does).
pub(crate) fn get_string(env: Env, v: Val) -> JsResult<String> {
    let mut len = 0;
    napi_call!(env, sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len))?;
    let mut buf = vec![0u8; len + 1];
    let mut written = 0;
    napi_call!(env, sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut written))?;
    buf.truncate(written);
    // Node-API writes valid UTF-8; a failure here would be Node's bug, not the caller's.
    Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A BigInt that fits in 128 bits, or `None`.
pub(crate) fn get_bigint(env: Env, v: Val) -> JsResult<Option<i128>> {
    // Asking for the word count alone needs both the sign and the words pointers null.
    let mut count = 0usize;
    napi_call!(env, sys::napi_get_value_bigint_words(env, v, ptr::null_mut(), &mut count, ptr::null_mut()))?;
    if count > 2 {
        return Ok(None);
    }
    let mut sign = 0;
    let mut words = [0u64; 2];
    count = 2;
    napi_call!(env, sys::napi_get_value_bigint_words(env, v, &mut sign, &mut count, words.as_mut_ptr()))?;
    let mag = (words[1] as u128) << 64 | words[0] as u128;
    Ok(match (sign != 0, i128::try_from(mag)) {
        (false, Ok(n)) => Some(n),
        (true, Ok(n)) => Some(-n),
        (true, Err(_)) if mag == 1u128 << 127 => Some(i128::MIN),
        _ => None,
    })
}

pub(crate) fn is_array(env: Env, v: Val) -> JsResult<bool> {
    let mut b = false;
    napi_call!(env, sys::napi_is_array(env, v, &mut b))?;
    Ok(b)
}

pub(crate) fn array_len(env: Env, v: Val) -> JsResult<u32> {
    let mut n = 0;
    napi_call!(env, sys::napi_get_array_length(env, v, &mut n))?;
    Ok(n)
}

pub(crate) fn get_element(env: Env, v: Val, i: u32) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_get_element(env, v, i, &mut out))?;
    Ok(out)
}

/// The object's own enumerable string keys, in order.
pub(crate) fn own_keys(env: Env, v: Val) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_get_all_property_names(
        env,
        v,
        sys::KeyCollectionMode::own_only,
        sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
        sys::KeyConversion::numbers_to_strings,
        &mut out
    ))?;
    Ok(out)
}

pub(crate) fn get_property(env: Env, obj: Val, key: Val) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_get_property(env, obj, key, &mut out))?;
    Ok(out)
}

/// The memory behind a Buffer, TypedArray, DataView or ArrayBuffer, or `None` for other values.
/// The pointer stays valid while the object is alive and its buffer is not detached.
pub(crate) fn byte_view(env: Env, v: Val) -> JsResult<Option<(*const u8, usize)>> {
    let mut is = false;
    napi_call!(env, sys::napi_is_typedarray(env, v, &mut is))?;
    if is {
        let (mut ty, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
        let (mut ab, mut offset) = (ptr::null_mut(), 0usize);
        napi_call!(env, sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut offset))?;
        return Ok(Some((data as *const u8, len * typed_array_element_size(ty))));
    }
    napi_call!(env, sys::napi_is_dataview(env, v, &mut is))?;
    if is {
        let (mut len, mut data, mut ab, mut offset) = (0usize, ptr::null_mut::<c_void>(), ptr::null_mut(), 0usize);
        napi_call!(env, sys::napi_get_dataview_info(env, v, &mut len, &mut data, &mut ab, &mut offset))?;
        return Ok(Some((data as *const u8, len)));
    }
    napi_call!(env, sys::napi_is_arraybuffer(env, v, &mut is))?;
    if is {
        let (mut data, mut len) = (ptr::null_mut::<c_void>(), 0usize);
        napi_call!(env, sys::napi_get_arraybuffer_info(env, v, &mut data, &mut len))?;
        return Ok(Some((data as *const u8, len)));
    }
    Ok(None)
}

/// The elements of a Float64Array (pointer, count), or `None` for any other value. The pointer
/// stays valid while the array is alive and its buffer is not detached.
pub(crate) fn float64_view(env: Env, v: Val) -> JsResult<Option<(*mut f64, usize)>> {
    let mut is = false;
    napi_call!(env, sys::napi_is_typedarray(env, v, &mut is))?;
    if !is {
        return Ok(None);
    }
    let (mut ty, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
    let (mut ab, mut offset) = (ptr::null_mut(), 0usize);
    napi_call!(env, sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut offset))?;
    if ty != sys::TypedarrayType::float64_array || data.is_null() {
        return Ok(None);
    }
    Ok(Some((data.cast(), len)))
}

#[allow(non_upper_case_globals)]
fn typed_array_element_size(ty: sys::napi_typedarray_type) -> usize {
    use sys::TypedarrayType::*;
    match ty {
        int8_array | uint8_array | uint8_clamped_array => 1,
        int16_array | uint16_array => 2,
        int32_array | uint32_array | float32_array => 4,
        _ => 8, // float64, bigint64, biguint64
    }
}

/// A Buffer that takes ownership of `bytes` without copying them.
pub(crate) fn buffer_from_vec(env: Env, bytes: Vec<u8>) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    if bytes.is_empty() {
        let mut data = ptr::null_mut();
        napi_call!(env, sys::napi_create_buffer(env, 0, &mut data, &mut out))?;
        return Ok(out);
    }
    let boxed = Box::new(bytes);
    let (data, len) = (boxed.as_ptr() as *mut c_void, boxed.len());
    let hint = Box::into_raw(boxed);
    unsafe extern "C" fn free_vec(_env: Env, _data: *mut c_void, hint: *mut c_void) {
        // SAFETY: `hint` is the `Box<Vec<u8>>` leaked below, handed back exactly once by Node.
        drop(unsafe { Box::from_raw(hint as *mut Vec<u8>) });
    }
    let created = napi_call!(env, sys::napi_create_external_buffer(env, len, data, Some(free_vec), hint.cast(), &mut out));
    if created.is_err() {
        // SAFETY: Node did not take the buffer, so the box is still ours to free.
        drop(unsafe { Box::from_raw(hint) });
    }
    if created.is_ok() && len >= YOUNG_GC_HINT_FROM {
        young_gc_hint(env);
    }
    created.map(|()| out)
}

/// Results of this size and more are followed by `young_gc_hint`.
const YOUNG_GC_HINT_FROM: usize = 256 * 1024;

/// Lets V8 weigh the large external Buffers just made against its young generation.
///
/// V8 looks at the young generation's external bytes when it allocates a backing store itself (a
/// Buffer made in JS, or by `napi_create_buffer`): past a few semispaces' worth it runs a scavenge,
/// which frees the dead young Buffers cheaply. A Buffer over memory V8 did not allocate (ours, from
/// `buffer_from_vec`) only counts toward the external-memory limit, and crossing that starts a full
/// mark-compact: a caller receiving 1 MiB results and dropping them paid one every ~70 results
/// (`node --trace-gc`), and the marking was a seventh of the CPU of 1 MiB JS tasks. Making a
/// one-byte Buffer the ordinary way after each large result gives V8 that look: the same runs then
/// showed scavenges only, 4.16k -> 4.89k tasks/s on 1 MiB in + out JS tasks, 1.98k -> 2.39k/s on
/// native `gunzip` of 1 MiB, and a lower peak RSS (234 -> 182 MB, 162 -> 118 MB). V8 still decides
/// whether to collect; the Buffer itself is garbage at once.
fn young_gc_hint(env: Env) {
    let (mut data, mut buffer) = (ptr::null_mut(), ptr::null_mut());
    let _ = napi_call!(env, sys::napi_create_buffer(env, 1, &mut data, &mut buffer));
}

/// A Buffer over the memory of `bytes`, without a copy: the Buffer owns a clone of `bytes` (dropped
/// by its finalizer), so owned bytes stay alive as long as the Buffer. Borrowed bytes must be made
/// unreachable before their owner frees them: see `detach`.
pub(crate) fn buffer_over(env: Env, bytes: Bytes) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    if bytes.is_empty() {
        let mut data = ptr::null_mut();
        napi_call!(env, sys::napi_create_buffer(env, 0, &mut data, &mut out))?;
        return Ok(out);
    }
    let (data, len) = (bytes.as_ptr() as *mut c_void, bytes.len());
    let hint = Box::into_raw(Box::new(bytes));
    unsafe extern "C" fn free_bytes(_env: Env, _data: *mut c_void, hint: *mut c_void) {
        // SAFETY: `hint` is the `Box<Bytes>` leaked below, handed back exactly once by Node.
        drop(unsafe { Box::from_raw(hint as *mut Bytes) });
    }
    // The memory is only read through the Buffer by contract (inputs are not to be modified); the
    // cast to `*mut` is what Node-API's signature asks for.
    let created = napi_call!(env, sys::napi_create_external_buffer(env, len, data, Some(free_bytes), hint.cast(), &mut out));
    if created.is_err() {
        // SAFETY: Node did not take the buffer, so the box is still ours to free.
        drop(unsafe { Box::from_raw(hint) });
    }
    created.map(|()| out)
}

/// Detaches the ArrayBuffer behind a Buffer made by `buffer_over`: from then on it reads as empty,
/// so nothing a task kept can reach memory its caller is about to free.
pub(crate) fn detach(env: Env, buffer: Val) -> JsResult<()> {
    let (mut ty, mut len, mut data, mut ab, mut offset) = (0, 0usize, ptr::null_mut::<c_void>(), ptr::null_mut(), 0usize);
    napi_call!(env, sys::napi_get_typedarray_info(env, buffer, &mut ty, &mut len, &mut data, &mut ab, &mut offset))?;
    napi_call!(env, sys::napi_detach_arraybuffer(env, ab))
}

/// The prototype of an object (a Proxy's trap may throw).
pub(crate) fn prototype(env: Env, v: Val) -> JsResult<Val> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_get_prototype(env, v, &mut out))?;
    Ok(out)
}

/// `String(v)` for a primitive (a Symbol throws, and `Err` carries it).
pub(crate) fn coerce_to_string(env: Env, v: Val) -> JsResult<String> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_coerce_to_string(env, v, &mut out))?;
    get_string(env, out)
}

/// Calls `f` with `args` and `this` = undefined. A JS exception is returned as `Err` (and cleared),
/// never left pending; `Err(undefined)` if the call failed without one.
pub(crate) fn call(env: Env, f: Val, args: &[Val]) -> Result<Val, Val> {
    let mut out = ptr::null_mut();
    let this = undefined(env).map_err(|_| ptr::null_mut())?;
    match napi_call!(env, sys::napi_call_function(env, this, f, args.len(), args.as_ptr(), &mut out)) {
        Ok(()) => Ok(out),
        Err(e) => Err(e.thrown().unwrap_or_else(|| undefined(env).unwrap_or(ptr::null_mut()))),
    }
}

/// Clears and returns the pending JS exception, if there is one. Raw calls only: `napi_call!` calls
/// this itself on every failure.
fn take_pending(env: Env) -> Option<Val> {
    let mut pending = false;
    let mut e = ptr::null_mut();
    // SAFETY: see the module docs. Neither call can itself leave an exception pending.
    let checked = unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if checked != sys::Status::napi_ok || !pending {
        return None;
    }
    // SAFETY: as above.
    let cleared = unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
    (cleared == sys::Status::napi_ok && !e.is_null()).then_some(e)
}

/// The property `key` of `obj` (a getter or Proxy trap may throw: `Err` carries the exception).
pub(crate) fn get_named(env: Env, obj: Val, key: &str) -> JsResult<Val> {
    let k = string(env, key)?;
    get_property(env, obj, k)
}

/// Hands `e` to Node as an uncaught exception ('uncaughtException', or the process's default
/// handler), the Node-API way to report an error from a callback that no JS caller can catch.
pub(crate) fn fatal_exception(env: Env, e: Val) {
    let _ = napi_call!(env, sys::napi_fatal_exception(env, e));
}

/// A strong reference: keeps `v` alive across calls until `delete_ref`.
pub(crate) fn new_ref(env: Env, v: Val) -> JsResult<sys::napi_ref> {
    let mut r = ptr::null_mut();
    napi_call!(env, sys::napi_create_reference(env, v, 1, &mut r))?;
    Ok(r)
}

pub(crate) fn ref_value(env: Env, r: sys::napi_ref) -> JsResult<Val> {
    let mut v = ptr::null_mut();
    napi_call!(env, sys::napi_get_reference_value(env, r, &mut v))?;
    Ok(v)
}

/// Makes a reference strong (count 1: keeps its value alive) or weak (count 0: its value may be
/// collected, and then `ref_value` gives null). References here only ever move between 0 and 1.
pub(crate) fn set_strong(env: Env, r: sys::napi_ref, strong: bool) {
    let mut count = 0;
    let _ = if strong {
        napi_call!(env, sys::napi_reference_ref(env, r, &mut count))
    } else {
        napi_call!(env, sys::napi_reference_unref(env, r, &mut count))
    };
}

pub(crate) fn delete_ref(env: Env, r: sys::napi_ref) {
    let _ = napi_call!(env, sys::napi_delete_reference(env, r));
}

/// A new promise and the deferred that settles it.
pub(crate) fn promise(env: Env) -> JsResult<(sys::napi_deferred, Val)> {
    let (mut d, mut p) = (ptr::null_mut(), ptr::null_mut());
    napi_call!(env, sys::napi_create_promise(env, &mut d, &mut p))?;
    Ok((d, p))
}

pub(crate) fn resolve(env: Env, d: sys::napi_deferred, v: Val) -> JsResult<()> {
    napi_call!(env, sys::napi_resolve_deferred(env, d, v))
}

pub(crate) fn reject(env: Env, d: sys::napi_deferred, v: Val) -> JsResult<()> {
    napi_call!(env, sys::napi_reject_deferred(env, d, v))
}

/// A plain `Error` with `message` and no code.
pub(crate) fn error(env: Env, message: &str) -> JsResult<Val> {
    let m = string(env, message)?;
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_create_error(env, ptr::null_mut(), m, &mut out))?;
    Ok(out)
}

/// A plain `Error` (or `TypeError`) with `code` set: the last resort when the JS error factory is
/// unavailable.
pub(crate) fn plain_error(env: Env, code: &str, message: &str, type_error: bool) -> Val {
    let mut out = ptr::null_mut();
    let (c, m) = (string(env, code).unwrap_or(ptr::null_mut()), string(env, message).unwrap_or(ptr::null_mut()));
    let _ = if type_error {
        napi_call!(env, sys::napi_create_type_error(env, c, m, &mut out))
    } else {
        napi_call!(env, sys::napi_create_error(env, c, m, &mut out))
    };
    out
}
