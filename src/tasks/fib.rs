//! `fib`: the n-th Fibonacci number by naive recursion, the classic CPU benchmark.

use crate::engine::context::{Progress, TaskContext};
use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::{Args, ArgsSchema, Field, FieldType};
use crate::engine::value::Value;
use crate::tasks::Task;

/// fib(93) is the largest that fits in 64 bits.
const MAX_N: i64 = 93;
const FIELDS: &[Field] = &[Field::required("n", FieldType::Integer { min: 0, max: MAX_N }, "which Fibonacci number")];

/// Calls between two cancellation checks (a fraction of a millisecond).
const CHECK_EVERY: u64 = 1 << 16;

pub struct Fib;

impl Task for Fib {
    fn name(&self) -> &'static str {
        "fib"
    }
    fn description(&self) -> &'static str {
        "The n-th Fibonacci number by naive recursion; posts { progress } at every whole percent of its calls"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(FIELDS)
    }
    fn result(&self) -> &'static str {
        "number | bigint"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let n = Args::parse(&self.args(), args)?.u64("n")? as u32;
        Ok(Box::new(move |ctx| fib(n, ctx).map(|f| Value::exact_integer(f as u128))))
    }
}

struct Walk<'c, 'a> {
    ctx: &'c TaskContext<'a>,
    progress: Progress<'c, 'a>,
    calls: u64,
}

/// fib(n) the naive way, checking for cancellation every `CHECK_EVERY` calls.
pub fn fib(n: u32, ctx: &TaskContext) -> Result<u64, TaskError> {
    let mut walk = Walk { ctx, progress: ctx.progress(calls_for(n)), calls: 0 };
    let f = walk.fib(n)?;
    walk.progress.update(u64::MAX);
    Ok(f)
}

impl Walk<'_, '_> {
    fn fib(&mut self, n: u32) -> Result<u64, TaskError> {
        self.calls += 1;
        if self.calls % CHECK_EVERY == 0 {
            self.progress.update(self.calls);
            self.ctx.check()?;
        }
        if n < 2 {
            return Ok(n as u64);
        }
        Ok(self.fib(n - 1)? + self.fib(n - 2)?)
    }
}

/// How many calls the naive recursion makes: 2·fib(n+1) − 1 (saturating).
fn calls_for(n: u32) -> u64 {
    let (mut a, mut b) = (0u128, 1u128);
    for _ in 0..=n {
        (a, b) = (b, a + b);
    }
    u64::try_from(2 * a - 1).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn call_count_formula() {
        assert_eq!(super::calls_for(0), 1);
        assert_eq!(super::calls_for(1), 1);
        assert_eq!(super::calls_for(2), 3);
        assert_eq!(super::calls_for(5), 15);
    }
}
