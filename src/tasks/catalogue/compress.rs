//! Compression that interoperates with `node:zlib` both ways: gzip, zlib ("deflate") and raw
//! deflate through zlib-rs (a zlib port, so its streams and error rules are zlib's), brotli, and
//! zstd. Input is fed in 1 MiB chunks with progress and cancellation in between; decompressors stop
//! with `ERR_TASK_FAILED` once the output passes `maxOutputLength`, so a bomb cannot exhaust memory.

use std::io::Write;
use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::CHUNK;
use crate::prelude::*;
use crate::tasks::TaskRegistry;

/// The default `maxOutputLength` of every decompressor: 1 GiB. Node's own default is the largest
/// Buffer; ours is lower so that a decompression bomb fails fast unless the caller opts in.
pub(crate) const DEFAULT_MAX_OUTPUT: u64 = 1 << 30;
/// The largest `maxOutputLength`: `buffer.constants.MAX_LENGTH` on 64-bit Node 20 (4 GiB).
const MAX_OUTPUT_LIMIT: i64 = 1 << 32;

/// Every compression task.
pub(crate) fn register(registry: &mut TaskRegistry) {
    registry.register(Arc::new(Gzip));
    registry.register(Arc::new(Gunzip));
    registry.register(Arc::new(Deflate));
    registry.register(Arc::new(Inflate));
    registry.register(Arc::new(DeflateRaw));
    registry.register(Arc::new(InflateRaw));
    registry.register(Arc::new(BrotliCompress));
    registry.register(Arc::new(BrotliDecompress));
    registry.register(Arc::new(ZstdCompress));
    registry.register(Arc::new(ZstdDecompress));
}

/// The container around a deflate stream, as `node:zlib` names its pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// RFC 1952 (`gzip` / `gunzip`).
    Gzip,
    /// RFC 1950 (`deflate` / `inflate`).
    Zlib,
    /// RFC 1951, no header (`deflateRaw` / `inflateRaw`).
    Raw,
}

#[derive(TaskArgs)]
pub struct ZlibCompressArgs {
    /// the input; a string is taken as UTF-8
    #[arg(or_string)]
    pub data: Bytes,
    /// 0 (store) to 9 (smallest); default -1, zlib's default (6)
    #[arg(min = -1, max = 9, default = -1)]
    pub level: i32,
}

impl ZlibCompressArgs {
    /// zlib's Z_DEFAULT_COMPRESSION (-1) means level 6.
    fn level(&self) -> u32 {
        if self.level < 0 {
            6
        } else {
            self.level as u32
        }
    }
}

#[derive(TaskArgs)]
pub struct BrotliCompressArgs {
    /// the input; a string is taken as UTF-8
    #[arg(or_string)]
    pub data: Bytes,
    /// 0 (fastest) to 11 (smallest); default 11, as node:zlib
    #[arg(max = 11, default = 11)]
    pub quality: u32,
    /// log2 of the window size; default 22, as node:zlib
    #[arg(min = 10, max = 24, default = 22)]
    pub lgwin: u32,
}

#[derive(TaskArgs)]
pub struct ZstdCompressArgs {
    /// the input; a string is taken as UTF-8
    #[arg(or_string)]
    pub data: Bytes,
    /// negative (fastest) to 22 (smallest); default 3
    #[arg(min = -131072, max = 22, default = 3)]
    pub level: i32,
}

#[derive(TaskArgs)]
pub struct DecompressArgs {
    /// the input; a string is taken as UTF-8
    #[arg(or_string)]
    pub data: Bytes,
    /// fail with ERR_TASK_FAILED once the output would pass this many bytes; default 1 GiB
    #[arg(min = 1, max = MAX_OUTPUT_LIMIT, default = DEFAULT_MAX_OUTPUT)]
    pub max_output_length: u64,
}

/// gzip (RFC 1952), readable by zlib.gunzip; progress on large inputs
#[task(name = "gzip")]
fn gzip(args: ZlibCompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_compress("gzip", &args.data, Format::Gzip, args.level(), ctx)
}

/// Decompresses gzip, including multi-member files, as zlib.gunzip; bounded by maxOutputLength
#[task(name = "gunzip")]
fn gunzip(args: DecompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_decompress("gunzip", &args.data, Format::Gzip, args.max_output_length as usize, ctx)
}

/// zlib-wrapped deflate (RFC 1950), readable by zlib.inflate
#[task(name = "deflate")]
fn deflate(args: ZlibCompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_compress("deflate", &args.data, Format::Zlib, args.level(), ctx)
}

/// Decompresses zlib-wrapped deflate, as zlib.inflate; bounded by maxOutputLength
#[task(name = "inflate")]
fn inflate(args: DecompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_decompress("inflate", &args.data, Format::Zlib, args.max_output_length as usize, ctx)
}

/// Raw deflate (RFC 1951), readable by zlib.inflateRaw
#[task(name = "deflateRaw")]
fn deflate_raw(args: ZlibCompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_compress("deflateRaw", &args.data, Format::Raw, args.level(), ctx)
}

/// Decompresses raw deflate, as zlib.inflateRaw; bounded by maxOutputLength
#[task(name = "inflateRaw")]
fn inflate_raw(args: DecompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zlib_decompress("inflateRaw", &args.data, Format::Raw, args.max_output_length as usize, ctx)
}

/// Brotli (RFC 7932), readable by zlib.brotliDecompress
#[task(name = "brotliCompress")]
fn brotli_compress(args: BrotliCompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    brotli_compress_bytes(&args.data, args.quality as i32, args.lgwin as i32, ctx)
}

/// Decompresses brotli, as zlib.brotliDecompress; bounded by maxOutputLength
#[task(name = "brotliDecompress")]
fn brotli_decompress(args: DecompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    brotli_decompress_bytes("brotliDecompress", &args.data, args.max_output_length as usize, ctx)
}

/// Zstandard (RFC 8878) frame, readable by the zstd CLI
#[task(name = "zstdCompress")]
fn zstd_compress(args: ZstdCompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zstd_compress_bytes("zstdCompress", &args.data, args.level, ctx)
}

/// Decompresses Zstandard frames (one or more); bounded by maxOutputLength
#[task(name = "zstdDecompress")]
fn zstd_decompress(args: DecompressArgs, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    zstd_decompress_bytes("zstdDecompress", &args.data, args.max_output_length as usize, ctx)
}

/// Hands back unused capacity when it is worth it: the Vec becomes a Buffer as is.
fn trimmed(mut out: Vec<u8>) -> Vec<u8> {
    if out.capacity() - out.len() > 64 * 1024 {
        out.shrink_to_fit();
    }
    out
}

/// Makes sure `out` can take `room` more bytes, growing geometrically but never reserving more
/// than `cap` bytes in total (the output limit plus one byte, to see it being passed).
fn reserve_output(out: &mut Vec<u8>, room: usize, cap: usize) {
    if out.capacity() - out.len() >= room {
        return;
    }
    let target = (out.capacity() * 2).max(out.len() + room).min(cap.max(out.len() + room));
    out.reserve_exact(target - out.len());
}

fn too_large(name: &str, limit: usize) -> TaskError {
    TaskError::failed(format!("{name}: the output is larger than maxOutputLength ({limit} bytes)"))
}

fn truncated(name: &str) -> TaskError {
    TaskError::failed(format!("{name}: unexpected end of input (the compressed data is truncated)"))
}

fn zlib_compress(name: &str, data: &[u8], format: Format, level: u32, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let level = Compression::new(level);
    let mut z = match format {
        Format::Gzip => Compress::new_gzip(level, 15),
        Format::Zlib => Compress::new(level, true),
        Format::Raw => Compress::new(level, false),
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let mut progress = ctx.progress(data.len() as u64);
    let mut pos = 0;
    loop {
        ctx.check()?;
        let end = data.len().min(pos + CHUNK);
        let flush = if end == data.len() { FlushCompress::Finish } else { FlushCompress::None };
        reserve_output(&mut out, 64 * 1024, usize::MAX);
        let before = z.total_in();
        let status = z
            .compress_vec(&data[pos..end], &mut out, flush)
            .map_err(|e| TaskError::failed(format!("{name}: {e}")))?;
        pos += (z.total_in() - before) as usize;
        progress.update(pos as u64);
        if status == Status::StreamEnd {
            return Ok(trimmed(out));
        }
    }
}

fn zlib_decompress(name: &str, data: &[u8], format: Format, limit: usize, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let start = || match format {
        Format::Gzip => Decompress::new_gzip(15),
        Format::Zlib => Decompress::new(true),
        Format::Raw => Decompress::new(false),
    };
    let mut z = start();
    let mut out = Vec::new();
    let mut progress = ctx.progress(data.len() as u64);
    let mut pos = 0;
    loop {
        ctx.check()?;
        let room = CHUNK.min(limit + 1 - out.len());
        reserve_output(&mut out, room, limit + 1);
        let end = data.len().min(pos + CHUNK);
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress_vec(&data[pos..end], &mut out, FlushDecompress::None)
            .map_err(|e| TaskError::failed(format!("{name}: invalid compressed data: {e}")))?;
        let consumed = (z.total_in() - in_before) as usize;
        let produced = z.total_out() - out_before;
        pos += consumed;
        progress.update(pos as u64);
        if out.len() > limit {
            return Err(too_large(name, limit));
        }
        match status {
            // Like node:zlib, bytes after a gzip member start another member, except that NUL
            // padding ends the file; after a zlib or raw stream, trailing bytes are ignored.
            Status::StreamEnd if format == Format::Gzip && pos < data.len() && data[pos] != 0 => z = start(),
            Status::StreamEnd => return Ok(trimmed(out)),
            Status::Ok | Status::BufError if consumed == 0 && produced == 0 => {
                // No progress although there was room for output: the input ran out mid-stream.
                return Err(truncated(name));
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

fn brotli_compress_bytes(data: &[u8], quality: i32, lgwin: i32, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin, ..Default::default() };
    let mut writer = brotli::CompressorWriter::with_params(Vec::with_capacity(data.len() / 4 + 1024), 64 * 1024, &params);
    let mut progress = ctx.progress(data.len() as u64);
    let mut done = 0;
    for chunk in data.chunks(CHUNK) {
        ctx.check()?;
        writer.write_all(chunk).map_err(|e| TaskError::failed(format!("brotliCompress: {e}")))?;
        done += chunk.len();
        progress.update(done as u64);
    }
    Ok(trimmed(writer.into_inner()))
}

fn brotli_decompress_bytes(name: &str, data: &[u8], limit: usize, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    use brotli::enc::StandardAlloc;
    use brotli::{BrotliDecompressStream, BrotliResult, BrotliState};

    let mut state = BrotliState::new(StandardAlloc::default(), StandardAlloc::default(), StandardAlloc::default());
    let mut out = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut progress = ctx.progress(data.len() as u64);
    let mut pos = 0;
    let mut total_out = 0;
    loop {
        ctx.check()?;
        let end = data.len().min(pos + CHUNK);
        let mut avail_in = end - pos;
        let mut in_offset = pos;
        let mut avail_out = buf.len();
        let mut out_offset = 0;
        let result = BrotliDecompressStream(
            &mut avail_in,
            &mut in_offset,
            &data[..end],
            &mut avail_out,
            &mut out_offset,
            &mut buf,
            &mut total_out,
            &mut state,
        );
        pos = in_offset;
        progress.update(pos as u64);
        if out.len() + out_offset > limit {
            return Err(too_large(name, limit));
        }
        out.extend_from_slice(&buf[..out_offset]);
        match result {
            // Like node:zlib, bytes after the end of the stream are ignored.
            BrotliResult::ResultSuccess => return Ok(trimmed(out)),
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::NeedsMoreInput if pos < data.len() => {}
            BrotliResult::NeedsMoreInput => return Err(truncated(name)),
            BrotliResult::ResultFailure => {
                return Err(TaskError::failed(format!("{name}: invalid compressed data")));
            }
        }
    }
}

fn zstd_compress_bytes(name: &str, data: &[u8], level: i32, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    let failed = |e: std::io::Error| TaskError::failed(format!("{name}: {e}"));
    let mut encoder = zstd::stream::write::Encoder::new(Vec::with_capacity(data.len() / 4 + 1024), level).map_err(failed)?;
    // The frame records the content size, as the zstd CLI and Node's zstdCompress do for one-shot input.
    encoder.set_pledged_src_size(Some(data.len() as u64)).map_err(failed)?;
    let mut progress = ctx.progress(data.len() as u64);
    let mut done = 0;
    for chunk in data.chunks(CHUNK) {
        ctx.check()?;
        encoder.write_all(chunk).map_err(failed)?;
        done += chunk.len();
        progress.update(done as u64);
    }
    Ok(trimmed(encoder.finish().map_err(failed)?))
}

fn zstd_decompress_bytes(name: &str, data: &[u8], limit: usize, ctx: &TaskContext) -> Result<Vec<u8>, TaskError> {
    use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

    let invalid = |e: std::io::Error| TaskError::failed(format!("{name}: invalid compressed data: {e}"));
    let mut decoder = Decoder::new().map_err(invalid)?;
    let mut out: Vec<u8> = Vec::new();
    let mut progress = ctx.progress(data.len() as u64);
    let mut pos = 0;
    // zstd's hint of how many more input bytes the current frame needs; 0 once a frame is complete.
    let mut frame_open = true;
    loop {
        ctx.check()?;
        if pos == data.len() && !frame_open {
            return Ok(trimmed(out));
        }
        let room = CHUNK.min(limit + 1 - out.len());
        reserve_output(&mut out, room, limit + 1);
        let end = data.len().min(pos + CHUNK);
        let mut input = InBuffer::around(&data[pos..end]);
        let written_before = out.len();
        let hint = {
            let mut output = OutBuffer::around_pos(&mut out, written_before);
            decoder.run(&mut input, &mut output).map_err(invalid)?
        };
        let consumed = input.pos();
        let produced = out.len() - written_before;
        pos += consumed;
        progress.update(pos as u64);
        if out.len() > limit {
            return Err(too_large(name, limit));
        }
        frame_open = hint != 0;
        if frame_open && consumed == 0 && produced == 0 && pos == data.len() {
            return Err(truncated(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{b, code_of, n, run, run_bytes, s, unhex};
    use crate::engine::value::Value;

    fn call(task: &str, data: &[u8], extra: &[(&str, Value)]) -> Vec<u8> {
        let mut fields = vec![("data", b(data))];
        fields.extend(extra.iter().cloned());
        run_bytes(task, Value::object(fields))
    }

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: a cheap LCG over a small alphabet.
        let mut x: u32 = 12345;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                b"abcdefgh \n"[(x >> 16) as usize % 10]
            })
            .collect()
    }

    #[test]
    fn every_pair_round_trips_at_every_level() {
        for len in [0, 1, 100, 70_000] {
            let data = sample(len);
            for (c, d) in [("gzip", "gunzip"), ("deflate", "inflate"), ("deflateRaw", "inflateRaw")] {
                for level in [-1, 0, 1, 6, 9] {
                    let packed = call(c, &data, &[("level", n(level as f64))]);
                    assert_eq!(call(d, &packed, &[]), data, "{c} level {level}, {len} bytes");
                }
            }
            for quality in [0, 5, 11] {
                let packed = call("brotliCompress", &data, &[("quality", n(quality as f64))]);
                assert_eq!(call("brotliDecompress", &packed, &[]), data, "brotli q{quality}, {len} bytes");
            }
            for level in [-5, 1, 3, 19] {
                let packed = call("zstdCompress", &data, &[("level", n(level as f64))]);
                assert_eq!(call("zstdDecompress", &packed, &[]), data, "zstd {level}, {len} bytes");
            }
        }
    }

    #[test]
    fn inputs_of_several_chunks_round_trip() {
        let data = sample(3 * super::CHUNK + 5);
        for (c, d) in [
            ("gzip", "gunzip"),
            ("deflateRaw", "inflateRaw"),
            ("brotliCompress", "brotliDecompress"),
            ("zstdCompress", "zstdDecompress"),
        ] {
            let level = if c == "brotliCompress" { ("quality", n(4.0)) } else { ("level", n(1.0)) };
            let packed = call(c, &data, &[level]);
            assert_eq!(call(d, &packed, &[]), data, "{c}");
        }
    }

    // Streams made by reference tools: `printf 'hello\n' | gzip -n` (GNU gzip), Python's
    // zlib.compress(b'hello\n'), `printf 'hello\n' | zstd` (zstd 1.5.4 CLI), and brotli's own
    // test vector for the empty input (a single byte 0x06).
    #[test]
    fn reference_streams_decode() {
        let gz = unhex("1f8b08000000000000 03cb48cdc9c9e70200 20303a3606000000");
        assert_eq!(call("gunzip", &gz, &[]), b"hello\n");
        let zl = unhex("789ccb48cdc9c9e70200 08 4b 02 1f");
        assert_eq!(call("inflate", &zl, &[]), b"hello\n");
        let zst = unhex("28b52ffd04583100 0068656c6c6f0a 5388bd91");
        assert_eq!(call("zstdDecompress", &zst, &[]), b"hello\n");
        assert_eq!(call("brotliDecompress", &[0x06], &[]), b"");
    }

    #[test]
    fn gzip_members_concatenate_and_nul_padding_ends_the_file() {
        let one = call("gzip", b"one ", &[]);
        let two = call("gzip", b"two", &[]);
        let mut both = [one.clone(), two].concat();
        assert_eq!(call("gunzip", &both, &[]), b"one two");
        both.extend_from_slice(&[0, 0, 0]);
        assert_eq!(call("gunzip", &both, &[]), b"one two");
        let garbage = [one, b"xyz".to_vec()].concat();
        assert_eq!(code_of(run("gunzip", Value::object([("data", b(&garbage))]))), "ERR_TASK_FAILED");
    }

    #[test]
    fn corrupt_truncated_and_oversized_inputs_fail() {
        let data = sample(200_000);
        for (c, d) in [
            ("gzip", "gunzip"),
            ("deflate", "inflate"),
            ("deflateRaw", "inflateRaw"),
            ("brotliCompress", "brotliDecompress"),
            ("zstdCompress", "zstdDecompress"),
        ] {
            let packed = call(c, &data, &[]);
            let cut = &packed[..packed.len() / 2];
            assert_eq!(code_of(run(d, Value::object([("data", b(cut))]))), "ERR_TASK_FAILED", "{d} truncated");
            assert_eq!(code_of(run(d, Value::object([("data", b(&[]))]))), "ERR_TASK_FAILED", "{d} empty");
            let limited = Value::object([("data", b(&packed)), ("maxOutputLength", n(199_999.0))]);
            assert_eq!(code_of(run(d, limited)), "ERR_TASK_FAILED", "{d} over maxOutputLength");
            let exact = Value::object([("data", b(&packed)), ("maxOutputLength", n(200_000.0))]);
            assert!(run(d, exact).is_ok(), "{d} at exactly maxOutputLength");
            let junk = Value::object([("data", s("this is not compressed data at all, not even close"))]);
            assert_eq!(code_of(run(d, junk)), "ERR_TASK_FAILED", "{d} junk");
        }
    }

    #[test]
    fn bad_options_are_invalid_arg() {
        let bad = [
            ("gzip", Value::object([("data", s("x")), ("level", n(10.0))])),
            ("gzip", Value::object([("data", s("x")), ("level", n(-2.0))])),
            ("gzip", Value::object([("data", s("x")), ("quality", n(1.0))])),
            ("brotliCompress", Value::object([("data", s("x")), ("quality", n(12.0))])),
            ("zstdCompress", Value::object([("data", s("x")), ("level", n(23.0))])),
            ("gunzip", Value::object([("data", s("x")), ("maxOutputLength", n(0.0))])),
            ("inflate", Value::object([("data", n(1.0))])),
        ];
        for (task, args) in bad {
            assert_eq!(code_of(run(task, args.clone())), "ERR_INVALID_ARG", "{task} {args:?}");
        }
    }
}
