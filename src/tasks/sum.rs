//! `sum`: the seeds' heavy job, the sum of `0 … iterations-1`, computed by actually looping.

use std::hint::black_box;

use crate::engine::context::TaskContext;
use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::{Args, ArgsSchema, Field, FieldType};
use crate::engine::value::Value;
use crate::tasks::Task;

const FIELDS: &[Field] = &[Field::required("iterations", FieldType::SAFE_UINT, "how many numbers to add, from 0 up")];

/// Iterations between two cancellation checks: about a millisecond of work.
const CHUNK: u64 = 1 << 20;

pub struct Sum;

impl Task for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn description(&self) -> &'static str {
        "Sum of 0 … iterations-1 by looping; posts { progress } at every whole percent"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(FIELDS)
    }
    fn result(&self) -> &'static str {
        "number | bigint"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let iterations = Args::parse(&self.args(), args)?.u64("iterations")?;
        Ok(Box::new(move |ctx| sum(iterations, ctx).map(Value::exact_integer)))
    }
}

/// The loop the seeds run in JS (`for (let i = 0; i < n; i++) total += i`), exact in 128 bits.
/// `black_box` keeps the compiler from replacing the loop with n(n-1)/2: the point is the work.
pub fn sum(iterations: u64, ctx: &TaskContext) -> Result<u128, TaskError> {
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
