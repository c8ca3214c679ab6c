//! Argon2 (RFC 9106) computed segment by segment, so that a long hash reports progress and stops when
//! cancelled: the `argon2` crate fills all of memory, every pass, in one call with no hook inside
//! it. BLAKE2b (H and H') comes from the `blake2` crate; the memory filling, its indexing and the
//! BlaMka compression are here. The compression runs four 64-bit lanes to a register on AVX2 CPUs
//! (detected at run time), two on other x86-64 CPUs (SSE2), and as plain arithmetic elsewhere.
//!
//! Checked against the RFC 9106 vectors, the `argon2` crate on many parameter sets (every variant,
//! both versions, one to many lanes, memory that is not a multiple of 4 × lanes, long outputs) and,
//! in the jest tests, the npm `argon2` package. `argon2_speed` compares the time with the crate's.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use blake2::digest::block_api::{UpdateCore, VariableOutputCore};
use blake2::digest::block_buffer::LazyBuffer;
use blake2::{Blake2b512, Blake2bVarCore, Digest};

use crate::engine::error::TaskError;

/// Blocks computed between two calls of the caller's `tick`: about a millisecond of work (a block
/// takes 0.5–1 µs on a 2020s x86-64 server, more when memory is large).
const BLOCKS_PER_TICK: usize = 1024;

/// 64-bit words in a 1 KiB block.
const WORDS: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    Argon2d = 0,
    Argon2i = 1,
    Argon2id = 2,
}

impl Variant {
    pub(crate) const ALL: [Variant; 3] = [Variant::Argon2d, Variant::Argon2i, Variant::Argon2id];

    /// The name in PHC strings and in the `type` option.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Variant::Argon2d => "argon2d",
            Variant::Argon2i => "argon2i",
            Variant::Argon2id => "argon2id",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// Argon2's versions: 0x10, the first, and 0x13 (`v=19`), which XORs a block's new value into its
/// old one from the second pass on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    V0x10 = 0x10,
    V0x13 = 0x13,
}

/// The lanes RFC 9106 allows: 1 to 2^24 − 1.
pub(crate) const MAX_LANES: u32 = (1 << 24) - 1;

/// Checked cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    pub variant: Variant,
    pub version: Version,
    /// Memory in KiB blocks: at least 8 × `lanes`, rounded down to a multiple of 4 × `lanes`.
    pub m_cost: u32,
    /// Passes over memory, at least 1.
    pub t_cost: u32,
    pub lanes: u32,
}

impl Params {
    /// Checks the parameters as RFC 9106 bounds them; the error names the rule broken.
    pub(crate) fn new(variant: Variant, version: Version, m_cost: u32, t_cost: u32, lanes: u32) -> Result<Params, String> {
        if lanes == 0 || lanes > MAX_LANES {
            return Err(format!("parallelism must be from 1 to {MAX_LANES}, not {lanes}"));
        }
        if t_cost == 0 {
            return Err("time cost must be at least 1".into());
        }
        if (m_cost as u64) < 8 * lanes as u64 {
            return Err(format!("memory cost must be at least 8 × parallelism ({}) KiB, not {m_cost}", 8 * lanes as u64));
        }
        Ok(Params { variant, version, m_cost, t_cost, lanes })
    }

    /// Blocks in each lane: memory rounded down to a multiple of 4 × lanes, over the lanes.
    fn lane_len(&self) -> usize {
        (self.m_cost / (4 * self.lanes)) as usize * 4
    }

    /// The units of work `hash` reports through `tick`: every block of memory, once per pass.
    pub(crate) fn blocks_to_compute(&self) -> u64 {
        self.t_cost as u64 * self.lanes as u64 * self.lane_len() as u64
    }
}

/// The inputs of one hash besides the parameters.
pub(crate) struct Inputs<'a> {
    pub password: &'a [u8],
    pub salt: &'a [u8],
    /// The secret key K (empty for none).
    pub secret: &'a [u8],
    /// The associated data X (empty for none).
    pub data: &'a [u8],
}

/// Computes the argon2 tag of `inputs` into `out` (4 bytes to 4 GiB long).
///
/// `tick(done)` is called with the blocks computed so far (out of `params.blocks_to_compute()`)
/// about once a millisecond and after the last one; an error it returns stops the hash and is
/// returned. Memory is allocated here and fails as `ERR_TASK_FAILED` when the system has none.
pub(crate) fn hash(
    params: &Params,
    inputs: &Inputs<'_>,
    out: &mut [u8],
    tick: impl FnMut(u64) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    hash_with(Compress::detect(), params, inputs, out, tick)
}

fn hash_with(
    compress: Compress,
    params: &Params,
    inputs: &Inputs<'_>,
    out: &mut [u8],
    mut tick: impl FnMut(u64) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    let out_len = length("hashLength", out)?;
    if out_len < 4 {
        return Err(TaskError::invalid_arg("hashLength", "must be at least 4 bytes"));
    }
    let mut h = Blake2b512::new();
    for word in [params.lanes, out_len, params.m_cost, params.t_cost, params.version as u32, params.variant as u32] {
        h.update(word.to_le_bytes());
    }
    for (name, field) in [("password", inputs.password), ("salt", inputs.salt), ("secret", inputs.secret), ("data", inputs.data)]
    {
        h.update(length(name, field)?.to_le_bytes());
        h.update(field);
    }
    let h0: [u8; 64] = h.finalize().into();

    let lanes = params.lanes as usize;
    let lane_len = params.lane_len();
    let mut memory = Memory::zeroed(lanes * lane_len)
        .ok_or_else(|| TaskError::failed(format!("argon2: cannot allocate {} KiB of memory", lanes * lane_len)))?;
    let mut bytes = [0u8; 1024];
    for lane in 0..lanes {
        for i in 0..2u32 {
            hash_long(&[&h0, &i.to_le_bytes(), &(lane as u32).to_le_bytes()], &mut bytes);
            memory[lane * lane_len + i as usize] = Block::from_le_bytes(&bytes);
        }
    }

    let mut done = 2 * lanes as u64;
    for pass in 0..params.t_cost {
        for slice in 0..4 {
            for lane in 0..lanes {
                let segment = Segment { pass, slice, lane };
                fill_segment(params, segment, &mut memory, compress, &mut done, &mut tick)?;
            }
        }
    }

    let mut last = memory[lane_len - 1];
    for lane in 1..lanes {
        last.xor_assign(&memory[lane * lane_len + lane_len - 1]);
    }
    hash_long(&[&last.to_le_bytes()], out);
    Ok(())
}

/// An input's length as the 32-bit field the hash encodes it in.
fn length(name: &str, bytes: &[u8]) -> Result<u32, TaskError> {
    u32::try_from(bytes.len()).map_err(|_| TaskError::invalid_arg(name, "must be shorter than 4 GiB"))
}

/// Which segment of memory `fill_segment` computes.
#[derive(Clone, Copy)]
struct Segment {
    pass: u32,
    /// 0 to 3: the quarter of every lane.
    slice: u32,
    lane: usize,
}

fn fill_segment(
    params: &Params,
    seg: Segment,
    memory: &mut [Block],
    compress: Compress,
    done: &mut u64,
    tick: &mut impl FnMut(u64) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    let lanes = params.lanes as u64;
    let lane_len = params.lane_len();
    let seg_len = lane_len / 4;
    let independent = match params.variant {
        Variant::Argon2i => true,
        Variant::Argon2d => false,
        Variant::Argon2id => seg.pass == 0 && seg.slice < 2,
    };
    let xor = seg.pass > 0 && params.version == Version::V0x13;
    let (first_pass, first_slice) = (seg.pass == 0, seg.pass == 0 && seg.slice == 0);

    // Data-independent indexing draws its pseudo-random words from address blocks: the compression
    // of a counter block (pass, lane, slice, blocks, passes, type, counter) twice over zero.
    let mut input = Block::ZERO;
    let mut addresses = Block::ZERO;
    if independent {
        input.0[..6].copy_from_slice(&[
            seg.pass as u64,
            seg.lane as u64,
            seg.slice as u64,
            lanes * lane_len as u64,
            params.t_cost as u64,
            params.variant as u64,
        ]);
    }
    let next_addresses = |input: &mut Block, addresses: &mut Block| {
        input.0[6] += 1;
        *addresses = *input;
        compress.compress_in_place(addresses);
        compress.compress_in_place(addresses);
    };

    // The first two blocks of each lane come from H0.
    let start = if first_slice { 2 } else { 0 };
    if independent && start != 0 {
        next_addresses(&mut input, &mut addresses);
    }
    let lane_base = seg.lane * lane_len;
    let slice_base = seg.slice as usize * seg_len;
    let mut i = start;
    while i < seg_len {
        let end = seg_len.min(i + BLOCKS_PER_TICK);
        for i in i..end {
            let cur = lane_base + slice_base + i;
            let prev = if slice_base + i == 0 { lane_base + lane_len - 1 } else { cur - 1 };
            if independent && i % WORDS == 0 {
                next_addresses(&mut input, &mut addresses);
            }
            let random = if independent { addresses.0[i % WORDS] } else { memory[prev].0[0] };

            // The reference block: a lane (this one while the first slice is filled), then a block
            // in it, among those already computed in this pass and the last, except the one just
            // before this block and any in the segments being computed now (other lanes' of this
            // slice), with a distribution biased to the most recent.
            let ref_lane = if first_slice { seg.lane as u64 } else { (random >> 32) % lanes };
            let same_lane = ref_lane == seg.lane as u64;
            let finished = if first_pass { slice_base } else { lane_len - seg_len } as u64;
            let area = if same_lane { finished + i as u64 - 1 } else { finished - (i == 0) as u64 };
            let j1 = random & 0xffff_ffff;
            let relative = area - 1 - ((area * ((j1 * j1) >> 32)) >> 32);
            let area_start = if first_pass || seg.slice == 3 { 0 } else { (seg.slice as u64 + 1) * seg_len as u64 };
            let reference = ref_lane as usize * lane_len + ((area_start + relative) % lane_len as u64) as usize;

            let r = memory[prev].xor(&memory[reference]);
            compress.fill(&r, &mut memory[cur], xor);
        }
        *done += (end - i) as u64;
        i = end;
        tick(*done)?;
    }
    Ok(())
}

/// H' (RFC 9106 section 3.3): BLAKE2b stretched to any output length.
fn hash_long(inputs: &[&[u8]], out: &mut [u8]) {
    let len = (out.len() as u32).to_le_bytes();
    if out.len() <= 64 {
        let mut h = Blake2bN::new(out.len());
        h.update(&len);
        for input in inputs {
            h.update(input);
        }
        return h.finalize_into(out);
    }
    let mut h = Blake2b512::new();
    h.update(len);
    for input in inputs {
        h.update(input);
    }
    let mut v: [u8; 64] = h.finalize().into();
    // Each 64-byte hash gives its first half to the output and hashes on; the last one, of the
    // 33–64 bytes that remain, goes out whole.
    let mut rest = &mut out[..];
    while rest.len() > 64 {
        let (head, tail) = rest.split_at_mut(32);
        head.copy_from_slice(&v[..32]);
        rest = tail;
        if rest.len() > 64 {
            v = Blake2b512::digest(v).into();
        }
    }
    let mut h = Blake2bN::new(rest.len());
    h.update(&v);
    h.finalize_into(rest);
}

/// BLAKE2b with an output length chosen at run time (1 to 64 bytes; the length is part of the
/// hash, so a short one is not a truncated long one).
struct Blake2bN {
    core: Blake2bVarCore,
    buffer: LazyBuffer<<Blake2bVarCore as blake2::digest::block_api::BlockSizeUser>::BlockSize>,
    len: usize,
}

impl Blake2bN {
    fn new(len: usize) -> Blake2bN {
        debug_assert!((1..=64).contains(&len));
        let core = Blake2bVarCore::new(len).expect("BLAKE2b outputs 1 to 64 bytes");
        Blake2bN { core, buffer: LazyBuffer::default(), len }
    }

    fn update(&mut self, data: &[u8]) {
        let Blake2bN { core, buffer, .. } = self;
        buffer.digest_blocks(data, |blocks| core.update_blocks(blocks));
    }

    fn finalize_into(mut self, out: &mut [u8]) {
        let mut full = Default::default();
        self.core.finalize_variable_core(&mut self.buffer, &mut full);
        out.copy_from_slice(&full[..self.len]);
    }
}

/// A 1 KiB block of memory as 128 little-endian words, aligned to a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u64; WORDS]);

impl Block {
    const ZERO: Block = Block([0; WORDS]);

    fn from_le_bytes(bytes: &[u8; 1024]) -> Block {
        let mut block = Block::ZERO;
        for (word, chunk) in block.0.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        block
    }

    fn to_le_bytes(self) -> [u8; 1024] {
        let mut bytes = [0u8; 1024];
        for (word, chunk) in self.0.iter().zip(bytes.chunks_exact_mut(8)) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    #[inline(always)]
    fn xor(&self, other: &Block) -> Block {
        let mut out = *self;
        out.xor_assign(other);
        out
    }

    #[inline(always)]
    fn xor_assign(&mut self, other: &Block) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a ^= b;
        }
    }
}

/// All lanes' blocks, zeroed: fresh pages from the allocator cost no writing, where a `Vec` filled
/// with zero blocks would write every byte before the first pass writes it again. An allocation the
/// system refuses is an error, not an abort.
struct Memory {
    blocks: NonNull<Block>,
    len: usize,
}

impl Memory {
    fn zeroed(len: usize) -> Option<Memory> {
        let layout = Layout::array::<Block>(len).ok().filter(|l| l.size() > 0)?;
        // SAFETY: the layout has a non-zero size, as `alloc_zeroed` requires.
        let blocks = NonNull::new(unsafe { alloc_zeroed(layout) }.cast::<Block>())?;
        Some(Memory { blocks, len })
    }
}

impl Deref for Memory {
    type Target = [Block];
    fn deref(&self) -> &[Block] {
        // SAFETY: `blocks` points to `len` zero-initialised blocks (all-zero words are valid) that
        // this value owns until it is dropped.
        unsafe { std::slice::from_raw_parts(self.blocks.as_ptr(), self.len) }
    }
}

impl DerefMut for Memory {
    fn deref_mut(&mut self) -> &mut [Block] {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow the only one.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len) }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let layout = Layout::array::<Block>(self.len).expect("the layout allocated with");
        // SAFETY: allocated in `zeroed` with this very layout.
        unsafe { dealloc(self.blocks.as_ptr().cast(), layout) }
    }
}

/// The compression G (RFC 9106 section 3.5), in one of its implementations, chosen once per hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compress {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Sse2,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Compress {
    fn detect() -> Compress {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                return Compress::Avx2;
            }
            if cfg!(target_feature = "sse2") {
                return Compress::Sse2;
            }
        }
        Compress::Portable
    }

    /// Every implementation this CPU can run, for the tests.
    #[cfg(test)]
    fn available() -> Vec<Compress> {
        let mut all = vec![Compress::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if cfg!(target_feature = "sse2") {
                all.push(Compress::Sse2);
            }
            if std::is_x86_feature_detected!("avx2") {
                all.push(Compress::Avx2);
            }
        }
        all
    }

    /// `dst` = P(`r`) ⊕ `r`, or with `xor`, `dst` ⊕= P(`r`) ⊕ `r`, where `r` is X ⊕ Y.
    #[inline(always)]
    fn fill(self, r: &Block, dst: &mut Block, xor: bool) {
        match self {
            Compress::Portable => portable::fill(r, dst, xor),
            // SAFETY: `Sse2` is chosen only where the target has SSE2 (all of x86-64).
            #[cfg(target_arch = "x86_64")]
            Compress::Sse2 => unsafe { sse2::fill(r, dst, xor) },
            // SAFETY: `Avx2` is chosen (by `detect` and `available`) only where the CPU reports AVX2.
            #[cfg(target_arch = "x86_64")]
            Compress::Avx2 => {
                debug_assert!(std::is_x86_feature_detected!("avx2"));
                unsafe { avx2::fill(r, dst, xor) }
            }
        }
    }

    /// `block` = P(`block`) ⊕ `block`: G with X = 0.
    fn compress_in_place(self, block: &mut Block) {
        let r = *block;
        self.fill(&r, block, false);
    }
}

/// The permutation P as plain 64-bit arithmetic, for CPUs without the SSE2 path.
mod portable {
    use super::Block;

    /// BLAKE2b's G with its additions replaced by BlaMka's a + b + 2 × lo(a) × lo(b).
    #[inline(always)]
    fn gb(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize) {
        let mul = |x: u64, y: u64| 2u64.wrapping_mul((x & 0xffff_ffff) * (y & 0xffff_ffff));
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(mul(v[a], v[b]));
        v[d] = (v[d] ^ v[a]).rotate_right(32);
        v[c] = v[c].wrapping_add(v[d]).wrapping_add(mul(v[c], v[d]));
        v[b] = (v[b] ^ v[c]).rotate_right(24);
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(mul(v[a], v[b]));
        v[d] = (v[d] ^ v[a]).rotate_right(16);
        v[c] = v[c].wrapping_add(v[d]).wrapping_add(mul(v[c], v[d]));
        v[b] = (v[b] ^ v[c]).rotate_right(63);
    }

    /// P on sixteen words: one BLAKE2b round without its message, columns then diagonals.
    #[inline(always)]
    fn round(v: &mut [u64; 16]) {
        gb(v, 0, 4, 8, 12);
        gb(v, 1, 5, 9, 13);
        gb(v, 2, 6, 10, 14);
        gb(v, 3, 7, 11, 15);
        gb(v, 0, 5, 10, 15);
        gb(v, 1, 6, 11, 12);
        gb(v, 2, 7, 8, 13);
        gb(v, 3, 4, 9, 14);
    }

    pub(super) fn fill(r: &Block, dst: &mut Block, xor: bool) {
        let mut q = *r;
        // The block as an 8 × 8 matrix of 16-byte registers: P on each row, then on each column.
        for row in q.0.chunks_exact_mut(16) {
            let mut v: [u64; 16] = row.try_into().expect("16 words");
            round(&mut v);
            row.copy_from_slice(&v);
        }
        for col in 0..8 {
            let mut v = [0u64; 16];
            for k in 0..8 {
                v[2 * k] = q.0[2 * col + 16 * k];
                v[2 * k + 1] = q.0[2 * col + 16 * k + 1];
            }
            round(&mut v);
            for k in 0..8 {
                q.0[2 * col + 16 * k] = v[2 * k];
                q.0[2 * col + 16 * k + 1] = v[2 * k + 1];
            }
        }
        for ((d, q), r) in dst.0.iter_mut().zip(q.0.iter()).zip(r.0.iter()) {
            *d = if xor { *d ^ q ^ r } else { q ^ r };
        }
    }
}

/// P with two words to an SSE2 register: each of P's four G steps works on two columns at once.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    use super::Block;

    /// a + b + 2 × lo(a) × lo(b) in each 64-bit lane.
    #[inline(always)]
    unsafe fn blamka(a: __m128i, b: __m128i) -> __m128i {
        let product = _mm_mul_epu32(a, b);
        _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(product, product))
    }

    #[inline(always)]
    unsafe fn rotr32(x: __m128i) -> __m128i {
        _mm_shuffle_epi32::<0b10_11_00_01>(x)
    }

    #[inline(always)]
    unsafe fn rotr24(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_srli_epi64::<24>(x), _mm_slli_epi64::<40>(x))
    }

    #[inline(always)]
    unsafe fn rotr16(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_srli_epi64::<16>(x), _mm_slli_epi64::<48>(x))
    }

    #[inline(always)]
    unsafe fn rotr63(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_srli_epi64::<63>(x), _mm_add_epi64(x, x))
    }

    /// (a₁, b₀): the high word of `a` and the low word of `b`.
    #[inline(always)]
    unsafe fn straddle(a: __m128i, b: __m128i) -> __m128i {
        _mm_castpd_si128(_mm_shuffle_pd::<0b01>(_mm_castsi128_pd(a), _mm_castsi128_pd(b)))
    }

    /// The four G steps on (a, b, c, d), each a pair of registers holding two of P's columns.
    #[inline(always)]
    unsafe fn g(a: &mut [__m128i; 2], b: &mut [__m128i; 2], c: &mut [__m128i; 2], d: &mut [__m128i; 2]) {
        for k in 0..2 {
            a[k] = blamka(a[k], b[k]);
            d[k] = rotr32(_mm_xor_si128(d[k], a[k]));
            c[k] = blamka(c[k], d[k]);
            b[k] = rotr24(_mm_xor_si128(b[k], c[k]));
            a[k] = blamka(a[k], b[k]);
            d[k] = rotr16(_mm_xor_si128(d[k], a[k]));
            c[k] = blamka(c[k], d[k]);
            b[k] = rotr63(_mm_xor_si128(b[k], c[k]));
        }
    }

    /// P on the sixteen words in registers `at[0..8]` of `q` (two words each, in order).
    #[inline(always)]
    unsafe fn round(q: &mut [__m128i; 64], at: [usize; 8]) {
        let mut a = [q[at[0]], q[at[1]]];
        let mut b = [q[at[2]], q[at[3]]];
        let mut c = [q[at[4]], q[at[5]]];
        let mut d = [q[at[6]], q[at[7]]];
        g(&mut a, &mut b, &mut c, &mut d);
        // Diagonals: with a = (v0 v1)(v2 v3), line up (v5 v6)(v7 v4), (v10 v11)(v8 v9) and
        // (v15 v12)(v13 v14) beneath it, run G, and put them back.
        let mut b2 = [straddle(b[0], b[1]), straddle(b[1], b[0])];
        let mut c2 = [c[1], c[0]];
        let mut d2 = [straddle(d[1], d[0]), straddle(d[0], d[1])];
        g(&mut a, &mut b2, &mut c2, &mut d2);
        b = [straddle(b2[1], b2[0]), straddle(b2[0], b2[1])];
        c = [c2[1], c2[0]];
        d = [straddle(d2[0], d2[1]), straddle(d2[1], d2[0])];
        for (k, v) in [a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1]].into_iter().enumerate() {
            q[at[k]] = v;
        }
    }

    /// See `Compress::fill`.
    ///
    /// # Safety
    /// The CPU must have SSE2 (every x86-64 CPU does).
    #[inline(always)]
    pub(super) unsafe fn fill(r: &Block, dst: &mut Block, xor: bool) {
        let src = r.0.as_ptr().cast::<__m128i>();
        let mut rr = [_mm_setzero_si128(); 64];
        for (k, reg) in rr.iter_mut().enumerate() {
            *reg = _mm_load_si128(src.add(k));
        }
        let mut q = rr;
        for row in 0..8 {
            let at = 8 * row;
            round(&mut q, [at, at + 1, at + 2, at + 3, at + 4, at + 5, at + 6, at + 7]);
        }
        for col in 0..8 {
            round(&mut q, [col, col + 8, col + 16, col + 24, col + 32, col + 40, col + 48, col + 56]);
        }
        let out = dst.0.as_mut_ptr().cast::<__m128i>();
        for k in 0..64 {
            let mut v = _mm_xor_si128(q[k], rr[k]);
            if xor {
                v = _mm_xor_si128(v, _mm_load_si128(out.add(k)));
            }
            _mm_store_si128(out.add(k), v);
        }
    }
}

/// P with four words to an AVX2 register: a row of the block is four registers, on which each G
/// step runs four of P's columns at once, and the diagonals are lane rotations. A column of the
/// block is gathered from eight 16-byte halves.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Block;

    /// a + b + 2 × lo(a) × lo(b) in each 64-bit lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn blamka(a: __m256i, b: __m256i) -> __m256i {
        let product = _mm256_mul_epu32(a, b);
        _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(product, product))
    }

    /// The byte shuffle that rotates each 64-bit lane right by `bytes` whole bytes (`vpshufb`
    /// indexes within each 16-byte half).
    const fn rotation(bytes: usize) -> [u8; 32] {
        let mut mask = [0u8; 32];
        let mut k = 0;
        while k < 32 {
            mask[k] = ((k & 8) + (k + bytes) % 8) as u8;
            k += 1;
        }
        mask
    }
    const ROTR24: [u8; 32] = rotation(3);
    const ROTR16: [u8; 32] = rotation(2);

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rotr_bytes(x: __m256i, mask: &[u8; 32]) -> __m256i {
        // SAFETY: reads the 32 bytes of `mask`.
        _mm256_shuffle_epi8(x, unsafe { _mm256_loadu_si256(mask.as_ptr().cast()) })
    }

    /// The four G steps on four columns (or diagonals) at once.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn g(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
        *a = blamka(*a, *b);
        *d = _mm256_shuffle_epi32::<0b10_11_00_01>(_mm256_xor_si256(*d, *a));
        *c = blamka(*c, *d);
        *b = rotr_bytes(_mm256_xor_si256(*b, *c), &ROTR24);
        *a = blamka(*a, *b);
        *d = rotr_bytes(_mm256_xor_si256(*d, *a), &ROTR16);
        *c = blamka(*c, *d);
        let x = _mm256_xor_si256(*b, *c);
        *b = _mm256_or_si256(_mm256_srli_epi64::<63>(x), _mm256_add_epi64(x, x));
    }

    /// P on sixteen words, a = v0..v3, b = v4..v7, c = v8..v11, d = v12..v15: the columns, then
    /// the diagonals, lined up by rotating b, c and d by one, two and three words.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn round(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
        g(a, b, c, d);
        *b = _mm256_permute4x64_epi64::<0b00_11_10_01>(*b);
        *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
        *d = _mm256_permute4x64_epi64::<0b10_01_00_11>(*d);
        g(a, b, c, d);
        *b = _mm256_permute4x64_epi64::<0b10_01_00_11>(*b);
        *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
        *d = _mm256_permute4x64_epi64::<0b00_11_10_01>(*d);
    }

    /// See `Compress::fill`.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill(r: &Block, dst: &mut Block, xor: bool) {
        let mut q = *r;
        let words = q.0.as_mut_ptr();
        // SAFETY (all pointer accesses below): offsets stay within the 128 words of `q`, `r` and
        // `dst`, and `Block`'s 64-byte alignment makes every 32-byte offset aligned.
        for row in 0..8 {
            let v = words.add(16 * row).cast::<__m256i>();
            let (mut a, mut b, mut c, mut d) =
                (_mm256_load_si256(v), _mm256_load_si256(v.add(1)), _mm256_load_si256(v.add(2)), _mm256_load_si256(v.add(3)));
            round(&mut a, &mut b, &mut c, &mut d);
            _mm256_store_si256(v, a);
            _mm256_store_si256(v.add(1), b);
            _mm256_store_si256(v.add(2), c);
            _mm256_store_si256(v.add(3), d);
        }
        for col in 0..8 {
            // The column's words 2k and 2k + 1 sit in row k.
            let half = |k: usize| words.add(2 * col + 16 * k).cast::<__m128i>();
            let pair = |k: usize| _mm256_loadu2_m128i(half(k + 1), half(k));
            let (mut a, mut b, mut c, mut d) = (pair(0), pair(2), pair(4), pair(6));
            round(&mut a, &mut b, &mut c, &mut d);
            for (k, v) in [a, b, c, d].into_iter().enumerate() {
                _mm256_storeu2_m128i(half(2 * k + 1), half(2 * k), v);
            }
        }
        let (q, r, out) = (words.cast::<__m256i>(), r.0.as_ptr().cast::<__m256i>(), dst.0.as_mut_ptr().cast::<__m256i>());
        for k in 0..32 {
            let mut v = _mm256_xor_si256(_mm256_load_si256(q.add(k)), _mm256_load_si256(r.add(k)));
            if xor {
                v = _mm256_xor_si256(v, _mm256_load_si256(out.add(k)));
            }
            _mm256_store_si256(out.add(k), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::engine::error::CancelReason;
    use crate::tasks::catalogue::testing::unhex;

    fn ours(compress: Compress, params: &Params, inputs: &Inputs<'_>, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        hash_with(compress, params, inputs, &mut out, |_| Ok(())).unwrap();
        out
    }

    /// The `argon2` crate's hash of the same inputs.
    fn reference(params: &Params, inputs: &Inputs<'_>, len: usize) -> Vec<u8> {
        let algorithm = match params.variant {
            Variant::Argon2d => ::argon2::Algorithm::Argon2d,
            Variant::Argon2i => ::argon2::Algorithm::Argon2i,
            Variant::Argon2id => ::argon2::Algorithm::Argon2id,
        };
        let version = match params.version {
            Version::V0x10 => ::argon2::Version::V0x10,
            Version::V0x13 => ::argon2::Version::V0x13,
        };
        let mut builder = ::argon2::ParamsBuilder::new();
        builder.m_cost(params.m_cost).t_cost(params.t_cost).p_cost(params.lanes).output_len(len);
        if !inputs.data.is_empty() {
            builder.data(::argon2::AssociatedData::new(inputs.data).unwrap());
        }
        let built = builder.build().unwrap();
        let hasher = if inputs.secret.is_empty() {
            ::argon2::Argon2::new(algorithm, version, built)
        } else {
            ::argon2::Argon2::new_with_secret(inputs.secret, algorithm, version, built).unwrap()
        };
        let mut out = vec![0u8; len];
        hasher.hash_password_into(inputs.password, inputs.salt, &mut out).unwrap();
        out
    }

    // RFC 9106 section 5: password 32 × 0x01, salt 16 × 0x02, secret 8 × 0x03, associated data
    // 12 × 0x04, m = 32, t = 3, p = 4, tag length 32, version 0x13.
    #[test]
    fn rfc_9106_vectors() {
        let inputs = Inputs { password: &[1; 32], salt: &[2; 16], secret: &[3; 8], data: &[4; 12] };
        let cases = [
            (Variant::Argon2d, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"),
            (Variant::Argon2i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"),
            (Variant::Argon2id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"),
        ];
        for compress in Compress::available() {
            for (variant, want) in cases {
                let params = Params::new(variant, Version::V0x13, 32, 3, 4).unwrap();
                assert_eq!(ours(compress, &params, &inputs, 32), unhex(want), "{variant:?} {compress:?}");
            }
        }
    }

    // Every variant and version, against the `argon2` crate: one lane and many; memory just above
    // the minimum and not a multiple of 4 × lanes; segments longer than one address block (128
    // blocks), so that the counter of data-independent addressing moves on; outputs of 4 bytes,
    // of 64, of just over 64 (where H' chains) and of 1 KiB; empty and long inputs.
    #[test]
    fn matches_the_argon2_crate() {
        let long = vec![0xa5u8; 1000];
        let shapes: [(u32, u32, u32, usize); 8] = [
            (8, 1, 1, 4),
            (9, 2, 1, 32),
            (31, 2, 3, 64),
            (100, 3, 2, 65),
            (600, 1, 1, 100),
            (1100, 2, 2, 1024),
            (256, 2, 8, 32),
            (1031, 4, 1, 33),
        ];
        let inputs = [
            Inputs { password: b"password", salt: b"somesalt", secret: &[], data: &[] },
            Inputs { password: &[], salt: &[0; 8], secret: &[7; 32], data: &[9; 5] },
            Inputs { password: &long, salt: &long[..64], secret: &[], data: &long[..3] },
        ];
        let compressors = Compress::available();
        let mut checked = 0;
        for (k, &(m, t, p, len)) in shapes.iter().enumerate() {
            for variant in Variant::ALL {
                for version in [Version::V0x10, Version::V0x13] {
                    let params = Params::new(variant, version, m, t, p).unwrap();
                    let inputs = &inputs[k % inputs.len()];
                    let want = reference(&params, inputs, len);
                    for &compress in &compressors {
                        assert_eq!(ours(compress, &params, inputs, len), want, "{params:?} len {len} {compress:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, shapes.len() * 3 * 2 * compressors.len());
    }

    #[test]
    fn detect_picks_the_fastest_available() {
        assert_eq!(Compress::detect(), *Compress::available().last().unwrap());
    }

    #[test]
    fn ticks_count_every_block_and_an_error_stops_the_hash() {
        let inputs = Inputs { password: b"pw", salt: b"saltsalt", secret: &[], data: &[] };
        // 4 lanes of 2048 blocks, 2 passes: 4 × 4 × 2 segments of 512 blocks, a tick each.
        let params = Params::new(Variant::Argon2id, Version::V0x13, 8192, 2, 4).unwrap();
        assert_eq!(params.blocks_to_compute(), 16384);
        let mut seen = Vec::new();
        let mut out = [0u8; 32];
        hash(&params, &inputs, &mut out, |done| {
            seen.push(done);
            Ok(())
        })
        .unwrap();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert_eq!(seen.len(), 32);
        assert_eq!(seen.last(), Some(&16384));
        assert_eq!(out.to_vec(), reference(&params, &inputs, 32));

        // A long segment ticks within itself: 1 lane of 16384 blocks, 4 segments of 4 ticks.
        let params = Params::new(Variant::Argon2d, Version::V0x13, 16384, 1, 1).unwrap();
        let mut ticks = 0;
        hash(&params, &inputs, &mut out, |_| {
            ticks += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(ticks, 16);

        let mut ticks = 0;
        let err = hash(&params, &inputs, &mut out, |_| {
            ticks += 1;
            Err(TaskError::Cancelled(CancelReason::Aborted))
        })
        .unwrap_err();
        assert_eq!(err.code(), "ABORT_ERR");
        assert_eq!(ticks, 1);
    }

    #[test]
    fn parameters_are_checked() {
        let new = |m, t, p| Params::new(Variant::Argon2id, Version::V0x13, m, t, p);
        assert!(new(8, 1, 1).is_ok());
        assert!(new(7, 1, 1).unwrap_err().contains("memory cost"));
        assert!(new(31, 1, 4).unwrap_err().contains("memory cost"));
        assert!(new(8, 0, 1).unwrap_err().contains("time cost"));
        assert!(new(8, 1, 0).unwrap_err().contains("parallelism"));
        assert!(new(u32::MAX, 1, MAX_LANES + 1).unwrap_err().contains("parallelism"));
        let params = new(8, 1, 1).unwrap();
        let inputs = Inputs { password: b"pw", salt: b"saltsalt", secret: &[], data: &[] };
        let err = hash(&params, &inputs, &mut [0u8; 3], |_| Ok(())).unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG");
    }

    /// Meaningful only optimized: `cargo test --release --no-default-features --lib argon2_speed --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn argon2_speed() {
        let inputs = Inputs { password: b"password", salt: b"somesalt", secret: &[], data: &[] };
        for (m, t, p) in [(65536, 3, 4), (262144, 1, 1)] {
            let params = Params::new(Variant::Argon2id, Version::V0x13, m, t, p).unwrap();
            let mut best = vec![f64::MAX; 1 + Compress::available().len()];
            for _ in 0..5 {
                let start = Instant::now();
                let want = reference(&params, &inputs, 32);
                best[0] = best[0].min(start.elapsed().as_secs_f64());
                for (k, compress) in Compress::available().into_iter().enumerate() {
                    let start = Instant::now();
                    assert_eq!(ours(compress, &params, &inputs, 32), want);
                    best[k + 1] = best[k + 1].min(start.elapsed().as_secs_f64());
                }
            }
            let mut line = format!("argon2id m={m} t={t} p={p}, best of 5: argon2 crate {:.1} ms", best[0] * 1e3);
            for (k, compress) in Compress::available().into_iter().enumerate() {
                line += &format!(", ours {compress:?} {:.1} ms ({:.2}x)", best[k + 1] * 1e3, best[k + 1] / best[0]);
            }
            println!("{line}");
        }
    }
}
