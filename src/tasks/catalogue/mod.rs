//! The task catalogue: the CPU-heavy jobs Node users offload, byte-compatible with `node:crypto`,
//! `node:zlib` and the popular npm password-hashing packages. One file per family; what they share
//! (chunked feeding with progress and cancellation, output encodings) lives here.

use std::sync::Arc;

use base64::Engine as _;

use crate::prelude::*;
use crate::tasks::TaskRegistry;

mod bcrypt;
mod compress;
mod hash;
mod hmac;
mod kdf;

pub(crate) fn register(registry: &mut TaskRegistry) {
    registry.register(Arc::new(hash::Hash));
    registry.register(Arc::new(hmac::Hmac));
    compress::register(registry);
    registry.register(Arc::new(kdf::Argon2Hash));
    registry.register(Arc::new(kdf::Argon2Verify));
    registry.register(Arc::new(kdf::Scrypt));
    registry.register(Arc::new(bcrypt::BcryptHash));
    registry.register(Arc::new(bcrypt::BcryptVerify));
}

/// Input bytes handled between two cancellation checks: about a millisecond of hashing, a few of
/// compressing, so a cancelled task stops within a few milliseconds.
pub(crate) const CHUNK: usize = 1 << 20;

/// Feeds `data` to `sink` in `CHUNK`-sized pieces, reporting progress and checking for cancellation
/// between pieces.
pub(crate) fn feed_chunks(data: &[u8], ctx: &TaskContext, mut sink: impl FnMut(&[u8])) -> Result<(), TaskError> {
    let mut progress = ctx.progress(data.len() as u64);
    let mut done = 0;
    for chunk in data.chunks(CHUNK) {
        ctx.check()?;
        sink(chunk);
        done += chunk.len();
        progress.update(done as u64);
    }
    Ok(())
}

/// The `encoding` option of digest-like tasks, named as `node:crypto` names them.
pub(crate) const ENCODINGS: &[&str] = &["buffer", "hex", "base64", "base64url"];

/// Turns a digest into what the caller asked for: a Buffer (the default) or a string.
pub(crate) fn encode(bytes: Vec<u8>, encoding: Option<&str>) -> Value {
    match encoding {
        Some("hex") => Value::String(hex(&bytes)),
        Some("base64") => Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        // `node:crypto`'s base64url has no padding.
        Some("base64url") => Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)),
        _ => Value::Bytes(bytes.into()),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs a task's work in-thread, the way a pool thread would, for unit tests.

    use crate::engine::context::{JobControl, TaskContext};
    use crate::engine::error::TaskError;
    use crate::engine::job::JobSink;
    use crate::engine::value::Value;
    use crate::tasks::TaskRegistry;

    struct Discard;
    impl JobSink for Discard {
        fn message(&self, _: u64, _: Value) {}
        fn complete(&self, _: u64, _: Result<Value, TaskError>) {}
    }

    /// Prepares and runs `task` with `args` on this thread.
    pub fn run(task: &str, args: Value) -> Result<Value, TaskError> {
        let work = TaskRegistry::builtin().prepare(task, args)?;
        let control = JobControl::new();
        let ctx = TaskContext::new(&control, &Discard, 0, false, None);
        work(&ctx)
    }

    /// Runs a task and returns its Buffer result.
    pub fn run_bytes(task: &str, args: Value) -> Vec<u8> {
        match run(task, args) {
            Ok(Value::Bytes(b)) => b.to_vec(),
            other => panic!("{task}: expected bytes, got {other:?}"),
        }
    }

    pub fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    pub fn b(v: &[u8]) -> Value {
        Value::Bytes(v.into())
    }

    pub fn n(v: f64) -> Value {
        Value::Number(v)
    }

    pub fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// The `code` of a failed run.
    pub fn code_of(r: Result<Value, TaskError>) -> &'static str {
        match r {
            Err(e) => e.code(),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }
}
