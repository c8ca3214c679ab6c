//! `echo`: resolves with its argument unchanged. For tests, demos and measuring the pool's own cost.

use crate::prelude::*;

/// Resolves with its argument unchanged (objects come back as the very same object)
///
/// A `Value` argument is any value, unvalidated; `result` names its TypeScript type, which a `Value`
/// cannot.
#[task(name = "echo", result = "the argument")]
pub fn echo(args: Value, _ctx: &TaskContext) -> Result<Value, TaskError> {
    Ok(args)
}
