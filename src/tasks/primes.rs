//! `primes`: how many primes are below `limit`, by a segmented sieve of Eratosthenes over odd numbers.

use crate::prelude::*;

#[derive(TaskArgs)]
pub struct PrimesArgs {
    /// count the primes below this number
    pub limit: u64,
}

/// Odd numbers per segment: 256 KiB of flags, about a millisecond of sieving, fits in L2.
const SEGMENT: u64 = 1 << 18;

/// How many primes are below `limit` (segmented sieve); posts { progress } at every whole percent
///
/// The count is below 2^53, so it resolves as a plain number.
#[task(name = "primes")]
pub fn primes(args: PrimesArgs, ctx: &TaskContext) -> Result<f64, TaskError> {
    count_primes_below(args.limit, ctx).map(|n| n as f64)
}

/// π(limit − 1): the number of primes p < limit.
pub fn count_primes_below(limit: u64, ctx: &TaskContext) -> Result<u64, TaskError> {
    if limit <= 2 {
        return Ok(0);
    }
    // Odd number 2j+1 is index j; odd numbers below `limit` are j in 1..end.
    let end = limit / 2;
    let base = odd_primes_up_to(isqrt(limit - 1), ctx)?;
    let mut count = 1; // the prime 2
    let mut flags = vec![false; SEGMENT as usize];
    let mut progress = ctx.progress(end);
    let mut lo = 1;
    while lo < end {
        let hi = end.min(lo + SEGMENT);
        let seg = &mut flags[..(hi - lo) as usize];
        seg.fill(true);
        for &p in &base {
            let first = (p * p - 1) / 2; // index of p², the first multiple not crossed by a smaller prime
            if first >= hi {
                break;
            }
            let start = if first >= lo { first } else { lo + (p - (lo - first) % p) % p };
            let mut j = start;
            while j < hi {
                seg[(j - lo) as usize] = false;
                j += p;
            }
        }
        count += seg.iter().filter(|&&f| f).count() as u64;
        lo = hi;
        progress.update(lo);
        ctx.check()?;
    }
    Ok(count)
}

/// The odd primes up to and including `n`, by a plain sieve (n is at most about 10^8 here). It checks
/// for cancellation after each prime's crossing-off: near 10^8 this sieve alone takes seconds on a
/// busy machine, longer than a cancelled task may keep running.
fn odd_primes_up_to(n: u64, ctx: &TaskContext) -> Result<Vec<u64>, TaskError> {
    let n = n as usize;
    let mut composite = vec![false; n + 1];
    let mut primes = Vec::new();
    let mut i = 3;
    while i <= n {
        if !composite[i] {
            primes.push(i as u64);
            let mut k = i * i;
            while k <= n {
                composite[k] = true;
                k += 2 * i;
            }
            ctx.check()?;
        }
        i += 2;
    }
    Ok(primes)
}

/// The integer square root, exact for every u64.
fn isqrt(n: u64) -> u64 {
    let mut r = (n as f64).sqrt() as u64;
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn isqrt_is_exact_around_squares() {
        for r in [1u64, 2, 3, 1000, 94_906_265] {
            assert_eq!(super::isqrt(r * r), r);
            assert_eq!(super::isqrt(r * r - 1), r - 1);
            assert_eq!(super::isqrt(r * r + 1), r);
        }
    }
}
