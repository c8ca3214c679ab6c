//! `fib`: the n-th Fibonacci number by naive recursion, the classic CPU benchmark.

use crate::engine::context::Progress;
use crate::prelude::*;

/// fib(93) is the largest that fits in 64 bits.
const MAX_N: u32 = 93;

#[derive(TaskArgs)]
pub struct FibArgs {
    /// which Fibonacci number
    #[arg(max = MAX_N)]
    pub n: u32,
}

/// Subtrees below this n are computed by plain recursion, between two cancellation checks: fib(24)
/// is 75,025 calls, a fraction of a millisecond. Above it, each call also counts and checks, which
/// would otherwise cost three times the arithmetic.
const PLAIN_BELOW: u32 = 25;

/// `CALLS[n]`: the calls the naive recursion makes for fib(n), n < PLAIN_BELOW.
const CALLS: [u64; PLAIN_BELOW as usize] = {
    let mut calls = [1u64; PLAIN_BELOW as usize];
    let mut n = 2;
    while n < PLAIN_BELOW as usize {
        calls[n] = 1 + calls[n - 1] + calls[n - 2];
        n += 1;
    }
    calls
};

struct Walk<'c, 'a> {
    ctx: &'c TaskContext<'a>,
    progress: Progress<'c, 'a>,
    calls: u64,
}

/// The n-th Fibonacci number by naive recursion; posts { progress } at every whole percent of its calls
///
/// It checks for cancellation between subtrees of `PLAIN_BELOW`.
#[task(name = "fib")]
pub fn fib(args: FibArgs, ctx: &TaskContext) -> Result<u64, TaskError> {
    let n = args.n;
    let mut walk = Walk { ctx, progress: ctx.progress(calls_for(n)), calls: 0 };
    let f = walk.fib(n)?;
    walk.progress.update(u64::MAX);
    Ok(f)
}

impl Walk<'_, '_> {
    fn fib(&mut self, n: u32) -> Result<u64, TaskError> {
        if n < PLAIN_BELOW {
            let f = plain(n);
            self.calls += CALLS[n as usize];
            self.progress.update(self.calls);
            self.ctx.check()?;
            return Ok(f);
        }
        self.calls += 1;
        Ok(self.fib(n - 1)? + self.fib(n - 2)?)
    }
}

/// The naive recursion itself.
fn plain(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        plain(n - 1) + plain(n - 2)
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
    fn call_table_matches_the_formula() {
        for n in 0..super::PLAIN_BELOW {
            assert_eq!(super::CALLS[n as usize], super::calls_for(n));
        }
    }

    #[test]
    fn call_count_formula() {
        assert_eq!(super::calls_for(0), 1);
        assert_eq!(super::calls_for(1), 1);
        assert_eq!(super::calls_for(2), 3);
        assert_eq!(super::calls_for(5), 15);
    }
}
