//! `sum`: the seeds' heavy job, the sum of `0 … iterations-1`, computed by actually looping.
//!
//! A complete task on the crate API, the one to copy: the argument struct is the schema (a bad
//! `iterations` is an `ERR_INVALID_ARG` naming it, and `Pool.tasks()` shows its doc comment), the
//! function's doc comment is the description, its return type the result (a number, or an exact
//! BigInt past `Number.MAX_SAFE_INTEGER`), and `ctx` posts progress and notices cancellation.

use std::hint::black_box;

use crate::prelude::*;

#[derive(TaskArgs)]
pub struct SumArgs {
    /// how many numbers to add, from 0 up
    pub iterations: u64,
}

/// Iterations between two cancellation checks: about a millisecond of work.
const CHUNK: u64 = 1 << 20;

/// Sum of 0 … iterations-1 by looping; posts { progress } at every whole percent
///
/// The loop the seeds run in JS (`for (let i = 0; i < n; i++) total += i`), exact in 128 bits.
/// `black_box` keeps the compiler from replacing the loop with n(n-1)/2: the point is the work.
#[task(name = "sum")]
pub fn sum(args: SumArgs, ctx: &TaskContext) -> Result<u128, TaskError> {
    let iterations = args.iterations;
    let mut total: u128 = 0;
    let mut progress = ctx.progress(iterations);
    let mut i = 0;
    while i < iterations {
        let end = iterations.min(i.saturating_add(CHUNK)).min(progress.next_due().max(i + 1));
        for k in i..end {
            total += black_box(k) as u128;
        }
        i = end;
        progress.update(i);
        ctx.check()?;
    }
    Ok(total)
}
