//! scrypt (RFC 7914) driven step by step, so that a high-cost derivation reports progress and stops
//! when cancelled: PBKDF2-HMAC-SHA256 from the `pbkdf2` crate around our own ROMix loop, which calls
//! back about once a millisecond. The `scrypt` crate, which runs the loop in one call, is the
//! reference in the tests and in `scrypt_speed`, which shows ours as fast.

use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;

use crate::engine::error::TaskError;

/// Salsa20/8 cores run between two calls of the caller's `tick`: under a millisecond of work (with
/// its share of memory traffic a core took about 90 ns at N = 2^17, r = 8 on a 2020s x86-64 server).
const CORES_PER_TICK: usize = 8 * 1024;

/// Derives `out.len()` bytes from `password` and `salt` with cost `n` (a power of two, at least 2),
/// block size `r` and parallelization `p`, which the caller has checked (as OpenSSL checks them).
///
/// The work is 2 × `n` × `p` ROMix steps of `2r` Salsa20/8 cores each. `tick(done)` is called with
/// the steps done so far about once a millisecond (at least once per step) and after the last step;
/// an error it returns stops the derivation and is returned.
pub(crate) fn scrypt(
    password: &[u8],
    salt: &[u8],
    n: usize,
    r: usize,
    p: usize,
    out: &mut [u8],
    mut tick: impl FnMut(u64) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    debug_assert!(n >= 2 && n.is_power_of_two() && r >= 1 && p >= 1);
    let blocks = 2 * r;
    let mut b = vec![0u8; p * blocks * 64];
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut b);

    let mut v: Vec<Block> = Vec::new();
    v.try_reserve_exact(n * blocks)
        .map_err(|_| TaskError::failed(format!("scrypt: cannot allocate {} bytes", n * blocks * 64)))?;
    let mut x = vec![Block::default(); blocks];
    let mut y = vec![Block::default(); blocks];
    let steps_per_tick = (CORES_PER_TICK / blocks).max(1);
    let mut done = 0u64;
    for chunk in b.chunks_exact_mut(blocks * 64) {
        for (block, bytes) in x.iter_mut().zip(chunk.chunks_exact(64)) {
            *block = Block::from_le_bytes(bytes);
        }
        ro_mix(&mut x, &mut y, &mut v, n, steps_per_tick, &mut done, &mut tick)?;
        for (block, bytes) in x.iter().zip(chunk.chunks_exact_mut(64)) {
            block.write_le_bytes(bytes);
        }
    }

    pbkdf2_hmac::<Sha256>(password, &b, 1, out);
    Ok(())
}

/// ROMix (RFC 7914 section 5) of `x` in place: `n` steps filling `v` with successive BlockMixes of
/// `x`, then `n` steps mixing `x` with the entries of `v` it selects. `y` is scratch of `x`'s size.
fn ro_mix(
    x: &mut [Block],
    y: &mut [Block],
    v: &mut Vec<Block>,
    n: usize,
    steps_per_tick: usize,
    done: &mut u64,
    tick: &mut impl FnMut(u64) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    let len = x.len();
    v.clear();
    let mut step = 0;
    while step < n {
        let end = n.min(step + steps_per_tick);
        for _ in step..end {
            // V grows by one entry per step: no zeroing pass over the (up to gigabytes of) memory.
            let at = v.len();
            v.extend_from_slice(x);
            block_mix(&v[at..], x);
        }
        *done += (end - step) as u64;
        step = end;
        tick(*done)?;
    }

    let mask = n - 1;
    let mut step = 0;
    while step < n {
        let end = n.min(step + steps_per_tick);
        for _ in step..end {
            let j = x[len - 1].integerify() & mask;
            for ((y, x), v) in y.iter_mut().zip(x.iter()).zip(&v[j * len..(j + 1) * len]) {
                *y = x.xor(v);
            }
            block_mix(y, x);
        }
        *done += (end - step) as u64;
        step = end;
        tick(*done)?;
    }
    Ok(())
}

/// BlockMix (RFC 7914 section 4) of `input` into `output`: the even-numbered outputs of Salsa20/8 go
/// to the first half, the odd-numbered ones to the second.
#[inline(always)]
fn block_mix(input: &[Block], output: &mut [Block]) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    // SAFETY: `sse2::block_mix` needs SSE2, which this build enables for the whole program (the
    // cfg above; it is part of the x86-64 baseline), so every CPU that runs this code has it.
    unsafe {
        sse2::block_mix(input, output)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    portable_block_mix(input, output)
}

/// `block_mix` in plain Rust, for every platform.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn portable_block_mix(input: &[Block], output: &mut [Block]) {
    let len = input.len();
    let r = len / 2;
    let mut x = input[len - 1];
    for (i, block) in input.iter().enumerate() {
        x = x.xor(block);
        x.salsa20_8();
        output[i / 2 + (i % 2) * r] = x;
    }
}

/// Where each word of a 64-byte Salsa20 block is kept: row `k / 4`, lane `k % 4` of a `Block` holds
/// word `DIAGONAL[k]`. In this order the four quarter-rounds of a column round, and after rotating
/// rows b, c and d by one, two and three lanes those of a row round, are the same operation on four
/// lanes at once: one instruction per row in `sse2`, four in the portable code.
const DIAGONAL: [usize; 16] = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

type Row = [u32; 4];

/// One 64-byte block of scrypt's state, as four rows of four words in `DIAGONAL` order. Aligned to
/// a cache line, so that reading one of V's entries never touches more lines than it must.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(align(64))]
struct Block([Row; 4]);

impl Block {
    fn from_le_bytes(bytes: &[u8]) -> Block {
        let mut block = Block::default();
        for (k, &word) in DIAGONAL.iter().enumerate() {
            let b = &bytes[word * 4..word * 4 + 4];
            block.0[k / 4][k % 4] = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        block
    }

    fn write_le_bytes(&self, bytes: &mut [u8]) {
        for (k, &word) in DIAGONAL.iter().enumerate() {
            bytes[word * 4..word * 4 + 4].copy_from_slice(&self.0[k / 4][k % 4].to_le_bytes());
        }
    }

    /// Integerify's value mod 2^32: word 0 of the block (`DIAGONAL` leaves word 0 in place).
    #[inline(always)]
    fn integerify(&self) -> usize {
        self.0[0][0] as usize
    }

    #[inline(always)]
    fn xor(&self, other: &Block) -> Block {
        let [a, b, c, d] = self.0;
        let [e, f, g, h] = other.0;
        Block([xor(a, e), xor(b, f), xor(c, g), xor(d, h)])
    }

    /// The Salsa20/8 core (RFC 7914 section 3) in place.
    #[inline(always)]
    fn salsa20_8(&mut self) {
        let [mut a, mut b, mut c, mut d] = self.0;
        for _ in 0..8 {
            b = xor(b, rotl(add(a, d), 7));
            c = xor(c, rotl(add(b, a), 9));
            d = xor(d, rotl(add(c, b), 13));
            a = xor(a, rotl(add(d, c), 18));
            // Column round to row round and back: the same rotation both ways.
            (b, c, d) = (lanes_left::<1>(d), lanes_left::<2>(c), lanes_left::<3>(b));
        }
        let [a0, b0, c0, d0] = self.0;
        self.0 = [add(a, a0), add(b, b0), add(c, c0), add(d, d0)];
    }
}

/// `block_mix` on SSE2, each row of a `Block` in one register, as the `scrypt` crate does on x86-64.
/// The compiler does not vectorize the portable code: it keeps the sixteen words in general-purpose
/// registers, spills some (x86-64 has sixteen in all), and made scrypt 1.34 times slower.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_or_si128, _mm_set_epi32, _mm_shuffle_epi32, _mm_slli_epi32,
        _mm_srli_epi32, _mm_xor_si128,
    };

    use super::{Block, Row};

    type Rows = [__m128i; 4];

    #[target_feature(enable = "sse2")]
    pub(super) fn block_mix(input: &[Block], output: &mut [Block]) {
        let len = input.len();
        let r = len / 2;
        let mut x = load(&input[len - 1]);
        for (i, block) in input.iter().enumerate() {
            x = salsa20_8(xor(x, load(block)));
            store(x, &mut output[i / 2 + (i % 2) * r]);
        }
    }

    /// `Block::salsa20_8`, a row per register.
    #[target_feature(enable = "sse2")]
    fn salsa20_8(x: Rows) -> Rows {
        let [mut a, mut b, mut c, mut d] = x;
        for _ in 0..8 {
            b = _mm_xor_si128(b, rotl::<7, 25>(_mm_add_epi32(a, d)));
            c = _mm_xor_si128(c, rotl::<9, 23>(_mm_add_epi32(b, a)));
            d = _mm_xor_si128(d, rotl::<13, 19>(_mm_add_epi32(c, b)));
            a = _mm_xor_si128(a, rotl::<18, 14>(_mm_add_epi32(d, c)));
            // Lanes left by 1, 2 and 3, as `lanes_left`.
            (b, c, d) = (_mm_shuffle_epi32::<0b00_11_10_01>(d), _mm_shuffle_epi32::<0b01_00_11_10>(c), _mm_shuffle_epi32::<0b10_01_00_11>(b));
        }
        [_mm_add_epi32(a, x[0]), _mm_add_epi32(b, x[1]), _mm_add_epi32(c, x[2]), _mm_add_epi32(d, x[3])]
    }

    /// Rotates each lane left by `L` bits (`R` = 32 - `L`: const generics cannot compute it).
    #[target_feature(enable = "sse2")]
    fn rotl<const L: i32, const R: i32>(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_slli_epi32::<L>(x), _mm_srli_epi32::<R>(x))
    }

    #[target_feature(enable = "sse2")]
    fn xor(x: Rows, y: Rows) -> Rows {
        [_mm_xor_si128(x[0], y[0]), _mm_xor_si128(x[1], y[1]), _mm_xor_si128(x[2], y[2]), _mm_xor_si128(x[3], y[3])]
    }

    #[target_feature(enable = "sse2")]
    fn load(block: &Block) -> Rows {
        block.0.map(|row: Row| _mm_set_epi32(row[3] as i32, row[2] as i32, row[1] as i32, row[0] as i32))
    }

    #[target_feature(enable = "sse2")]
    fn store(x: Rows, block: &mut Block) {
        for (row, x) in block.0.iter_mut().zip(x) {
            *row = [
                _mm_cvtsi128_si32(x) as u32,
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b01>(x)) as u32,
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b10>(x)) as u32,
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<0b11>(x)) as u32,
            ];
        }
    }
}

#[inline(always)]
fn add(x: Row, y: Row) -> Row {
    [x[0].wrapping_add(y[0]), x[1].wrapping_add(y[1]), x[2].wrapping_add(y[2]), x[3].wrapping_add(y[3])]
}

#[inline(always)]
fn xor(x: Row, y: Row) -> Row {
    [x[0] ^ y[0], x[1] ^ y[1], x[2] ^ y[2], x[3] ^ y[3]]
}

#[inline(always)]
fn rotl(x: Row, n: u32) -> Row {
    [x[0].rotate_left(n), x[1].rotate_left(n), x[2].rotate_left(n), x[3].rotate_left(n)]
}

#[inline(always)]
fn lanes_left<const N: usize>(x: Row) -> Row {
    [x[N % 4], x[(N + 1) % 4], x[(N + 2) % 4], x[(N + 3) % 4]]
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use salsa20::cipher::{typenum::U4, StreamCipherCore};

    use super::*;

    fn reference(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        ::scrypt::scrypt(password, salt, &::scrypt::Params::new(log_n, r, p).unwrap(), &mut out).unwrap();
        out
    }

    fn ours(password: &[u8], salt: &[u8], log_n: u8, r: usize, p: usize, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        scrypt(password, salt, 1 << log_n, r, p, &mut out, |_| Ok(())).unwrap();
        out
    }

    /// The `salsa20` crate's Salsa20/8 core as the reference for ours, on a chain of inputs.
    #[test]
    fn salsa20_8_matches_the_salsa20_crate() {
        let mut words: [u32; 16] = std::array::from_fn(|i| (i as u32).wrapping_mul(0x9e37_79b9));
        for _ in 0..100 {
            let mut bytes = [0u8; 64];
            for (w, b) in words.iter().zip(bytes.chunks_exact_mut(4)) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            let mut want = [0u8; 64];
            salsa20::SalsaCore::<U4>::from_raw_state(words).write_keystream_block((&mut want).into());

            let mut block = Block::from_le_bytes(&bytes);
            block.salsa20_8();
            let mut got = [0u8; 64];
            block.write_le_bytes(&mut got);
            assert_eq!(got, want);
            assert_eq!(Block::from_le_bytes(&got).integerify() as u32, u32::from_le_bytes(want[..4].try_into().unwrap()));
            for (w, b) in words.iter_mut().zip(want.chunks_exact(4)) {
                *w = u32::from_le_bytes(b.try_into().unwrap());
            }
        }
    }

    /// The portable BlockMix as the reference for the one this platform uses (SSE2 on x86-64), and
    /// the other way round.
    #[test]
    fn block_mix_matches_the_portable_code() {
        for r in 1..4 {
            let mut input: Vec<Block> = (0..2 * r)
                .map(|i| Block::from_le_bytes(&std::array::from_fn::<u8, 64, _>(|k| (i * 64 + k * 7) as u8)))
                .collect();
            for _ in 0..10 {
                let mut want = vec![Block::default(); 2 * r];
                let mut got = vec![Block::default(); 2 * r];
                portable_block_mix(&input, &mut want);
                block_mix(&input, &mut got);
                assert_eq!(got, want, "r = {r}");
                input = got;
            }
        }
    }

    /// The `scrypt` crate as the reference for the whole derivation, across parameters and lengths.
    #[test]
    fn matches_the_scrypt_crate() {
        for (log_n, r, p) in [(1, 1, 1), (4, 1, 1), (4, 2, 3), (6, 3, 2), (10, 8, 1), (3, 16, 1), (5, 1, 7)] {
            for len in [1, 31, 32, 33, 64, 100] {
                let password = vec![log_n; len % 13];
                let salt = vec![r as u8; len % 7 + 3];
                assert_eq!(ours(&password, &salt, log_n, r, p, len), reference(&password, &salt, log_n, r as u32, p as u32, len), "{log_n} {r} {p} {len}");
            }
        }
    }

    #[test]
    fn ticks_count_every_step_up_to_two_n_p() {
        for (log_n, r, p) in [(1, 1, 1), (10, 1, 3), (14, 1, 1), (4, 3000, 1)] {
            let mut ticks = Vec::new();
            let mut out = [0u8; 16];
            scrypt(b"pw", b"salt", 1 << log_n, r, p, &mut out, |done| {
                ticks.push(done);
                Ok(())
            })
            .unwrap();
            let total = 2 * (1u64 << log_n) * p as u64;
            assert_eq!(ticks.last(), Some(&total), "{log_n} {r} {p}");
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{ticks:?}");
        }
    }

    #[test]
    fn an_error_from_tick_stops_the_derivation() {
        let mut calls = 0;
        let mut out = [0u8; 16];
        let result = scrypt(b"pw", b"salt", 1 << 16, 8, 1, &mut out, |_| {
            calls += 1;
            Err(TaskError::failed("stop"))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    /// Not a test: the speed of ours against the `scrypt` crate at N = 2^17, r = 8, p = 1 (128 MiB),
    /// best of 7 runs each, taken in turns so that load from elsewhere on the machine hits both alike.
    /// Meaningful only optimized: `cargo test --release --no-default-features --lib scrypt_speed --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn scrypt_speed() {
        let (mut crate_best, mut ours_best) = (f64::MAX, f64::MAX);
        for _ in 0..7 {
            let start = Instant::now();
            let want = reference(b"password", b"salt", 17, 8, 1, 64);
            crate_best = crate_best.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            let got = ours(b"password", b"salt", 17, 8, 1, 64);
            ours_best = ours_best.min(start.elapsed().as_secs_f64());
            assert_eq!(got, want);
        }
        println!(
            "scrypt N=2^17 r=8 p=1, best of 7: scrypt crate {:.1} ms, ours {:.1} ms ({:.2}x)",
            crate_best * 1e3,
            ours_best * 1e3,
            ours_best / crate_best
        );
    }
}
