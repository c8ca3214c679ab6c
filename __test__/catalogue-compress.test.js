'use strict'
// Compression against node:zlib both ways at every level it offers, and zstd against the zstd CLI
// (Node 20 has no zstd); corrupt, truncated and oversized inputs reject with their code.

const zlib = require('node:zlib')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { Pool } = require('..')
const { withProgress } = require('./helpers')

const pool = new Pool({ threads: 2 })
afterAll(() => pool.close())

/** Text-like data (compressible), random data (not), and the sizes that stress the edges. */
function inputs() {
  const words = 'the quick brown fox jumps over a lazy dog while zlib and brotli watch '.split(' ')
  const text = (n) => {
    let s = ''
    while (s.length < n) s += words[crypto.randomInt(words.length)] + ' '
    return Buffer.from(s.slice(0, n))
  }
  return [
    Buffer.alloc(0),
    Buffer.from('x'),
    text(1000),
    crypto.randomBytes(1000),
    text(70000),
    Buffer.concat([text(600000), crypto.randomBytes(600000)]),
  ]
}

const PAIRS = [
  ['gzip', 'gunzip', zlib.gzipSync, zlib.gunzipSync],
  ['deflate', 'inflate', zlib.deflateSync, zlib.inflateSync],
  ['deflateRaw', 'inflateRaw', zlib.deflateRawSync, zlib.inflateRawSync],
]
const LEVELS = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

describe.each(PAIRS)('%s / %s', (compress, decompress, nodeCompress, nodeDecompress) => {
  test.each(LEVELS)('level %i: ours is read by node:zlib and node:zlib\'s by ours', async (level) => {
    for (const data of inputs()) {
      const ours = await pool.run(compress, { data, level })
      expect([data.length, same(nodeDecompress(ours), data)]).toEqual([data.length, true])
      const theirs = nodeCompress(data, { level })
      const back = await pool.run(decompress, { data: theirs })
      expect([data.length, same(back, data)]).toEqual([data.length, true])
    }
  })

  test('strings are compressed as UTF-8', async () => {
    const s = 'héllo ✓ '.repeat(1000)
    expect(nodeDecompress(await pool.run(compress, { data: s })).toString()).toBe(s)
  })

  test('truncated input rejects with ERR_TASK_FAILED', async () => {
    const packed = nodeCompress(crypto.randomBytes(5000))
    for (const cut of [0, 1, 2, Math.floor(packed.length / 2), packed.length - 1]) {
      await expect(pool.run(decompress, { data: packed.subarray(0, cut) })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    }
  })

  test('corrupt input rejects with ERR_TASK_FAILED, never crashes', async () => {
    const packed = nodeCompress(Buffer.from('hello '.repeat(1000)))
    await expect(pool.run(decompress, { data: Buffer.from('definitely not compressed data') })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    for (let i = 0; i < 50; i++) {
      const bad = Buffer.from(packed)
      bad[crypto.randomInt(bad.length)] ^= 1 << crypto.randomInt(8)
      let nodeResult
      try { nodeResult = nodeDecompress(bad) } catch { nodeResult = null }
      const p = pool.run(decompress, { data: bad })
      if (nodeResult === null) await expect(p).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
      else expect(same(await p, nodeResult)).toBe(true)
    }
  })

  test('maxOutputLength bounds a decompression bomb', async () => {
    const bomb = nodeCompress(Buffer.alloc(64 << 20), { level: 9 })
    await expect(pool.run(decompress, { data: bomb, maxOutputLength: 1 << 20 })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED', message: expect.stringContaining('maxOutputLength') })
    const exact = await pool.run(decompress, { data: nodeCompress(Buffer.alloc(1000, 7)), maxOutputLength: 1000 })
    expect(exact.length).toBe(1000)
    await expect(pool.run(decompress, { data: nodeCompress(Buffer.alloc(1000, 7)), maxOutputLength: 999 })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  })

  test.each([
    [{ data: 'x', level: 10 }, 'level'],
    [{ data: 'x', level: -2 }, 'level'],
    [{ data: 'x', level: 1.5 }, 'level'],
    [{ data: 'x', level: '6' }, 'level'],
    [{ level: 6 }, 'data'],
    [{ data: 7 }, 'data'],
  ])('compress %o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run(compress, args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })

  test.each([
    [{ data: Buffer.alloc(1), maxOutputLength: 0 }, 'maxOutputLength'],
    [{ data: Buffer.alloc(1), maxOutputLength: -1 }, 'maxOutputLength'],
    [{ data: Buffer.alloc(1), level: 1 }, 'level'],
    [{ data: null }, 'data'],
  ])('decompress %o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run(decompress, args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})

describe('gunzip reads what node:zlib reads', () => {
  test('concatenated gzip members decompress to the concatenation, like zlib.gunzipSync', async () => {
    const parts = [crypto.randomBytes(100), Buffer.from('second'), crypto.randomBytes(70000)]
    const file = Buffer.concat(parts.map((p) => zlib.gzipSync(p)))
    const ours = await pool.run('gunzip', { data: file })
    expect(same(ours, zlib.gunzipSync(file))).toBe(true)
    expect(same(ours, Buffer.concat(parts))).toBe(true)
  })

  test('NUL padding after the last member is ignored, other trailing bytes are an error', async () => {
    const gz = zlib.gzipSync(Buffer.from('padded'))
    const padded = Buffer.concat([gz, Buffer.alloc(512)])
    expect((await pool.run('gunzip', { data: padded })).toString()).toBe(zlib.gunzipSync(padded).toString())
    const junk = Buffer.concat([gz, Buffer.from('junk')])
    expect(() => zlib.gunzipSync(junk)).toThrow()
    await expect(pool.run('gunzip', { data: junk })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  })

  test('bytes after a zlib or raw deflate stream are ignored, as node:zlib ignores them', async () => {
    const data = Buffer.from('trailing')
    const z = Buffer.concat([zlib.deflateSync(data), Buffer.from('xyz')])
    expect((await pool.run('inflate', { data: z })).toString()).toBe(zlib.inflateSync(z).toString())
    const raw = Buffer.concat([zlib.deflateRawSync(data), Buffer.from('xyz')])
    expect((await pool.run('inflateRaw', { data: raw })).toString()).toBe(zlib.inflateRawSync(raw).toString())
  })

  test('a gzip file of many megabytes posts progress and round-trips', async () => {
    const data = crypto.randomBytes(6 << 20)
    const { result: packed, progress } = await withProgress(pool.spawn('gzip', { data, level: 1 }))
    expect(progress[progress.length - 1]).toBe(1)
    expect(same(zlib.gunzipSync(packed), data)).toBe(true)
  })
})

describe('cancellation', () => {
  test.each([
    ['gzip', { level: 9 }],
    ['brotliCompress', { quality: 9 }],
    ['zstdCompress', { level: 19 }],
  ])('%s cancelled while it runs rejects with ABORT_ERR', async (task, options) => {
    // 64 MiB of random bytes at a slow setting: seconds of work, progress after the first percent.
    const handle = pool.spawn(task, { data: crypto.randomBytes(64 << 20), ...options })
    await new Promise((resolve) => handle.once('message', resolve))
    handle.cancel()
    await expect(handle.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
  })
})

describe('brotliCompress / brotliDecompress', () => {
  const Q = zlib.constants.BROTLI_PARAM_QUALITY
  const W = zlib.constants.BROTLI_PARAM_LGWIN

  test.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])('quality %i: ours is read by node:zlib and node:zlib\'s by ours', async (quality) => {
    // Qualities 10 and 11 are slow by design: smaller inputs for them.
    const data = quality >= 10 ? inputs().slice(0, 5) : inputs()
    for (const d of data) {
      const ours = await pool.run('brotliCompress', { data: d, quality })
      expect([d.length, same(zlib.brotliDecompressSync(ours), d)]).toEqual([d.length, true])
      const theirs = zlib.brotliCompressSync(d, { params: { [Q]: quality } })
      expect([d.length, same(await pool.run('brotliDecompress', { data: theirs }), d)]).toEqual([d.length, true])
    }
  })

  test('lgwin is honoured both ways', async () => {
    const data = inputs()[4]
    for (const lgwin of [10, 16, 24]) {
      const ours = await pool.run('brotliCompress', { data, quality: 5, lgwin })
      expect(same(zlib.brotliDecompressSync(ours), data)).toBe(true)
      const theirs = zlib.brotliCompressSync(data, { params: { [Q]: 5, [W]: lgwin } })
      expect(same(await pool.run('brotliDecompress', { data: theirs }), data)).toBe(true)
    }
  })

  test('truncated, corrupt and oversized input rejects with ERR_TASK_FAILED', async () => {
    const packed = zlib.brotliCompressSync(crypto.randomBytes(5000))
    for (const cut of [0, 1, Math.floor(packed.length / 2), packed.length - 1]) {
      await expect(pool.run('brotliDecompress', { data: packed.subarray(0, cut) })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    }
    await expect(pool.run('brotliDecompress', { data: Buffer.from('\xff\xff\xff\xff not brotli', 'latin1') })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    const bomb = zlib.brotliCompressSync(Buffer.alloc(32 << 20))
    await expect(pool.run('brotliDecompress', { data: bomb, maxOutputLength: 1 << 20 })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  })

  test.each([
    [{ data: 'x', quality: 12 }, 'quality'],
    [{ data: 'x', quality: -1 }, 'quality'],
    [{ data: 'x', lgwin: 9 }, 'lgwin'],
    [{ data: 'x', lgwin: 25 }, 'lgwin'],
    [{ data: 'x', level: 5 }, 'level'],
  ])('%o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run('brotliCompress', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})

// Node 20 has no zstd; the reference is the zstd command-line tool when it is installed.
const zstdCli = spawnSync('zstd', ['--version']).status === 0
const cli = (args, input) => {
  const r = spawnSync('zstd', args, { input, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`zstd ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

;(zstdCli ? describe : describe.skip)('zstdCompress / zstdDecompress against the zstd CLI', () => {
  test.each([-5, 1, 3, 9, 19])('level %i: ours is read by zstd -d and zstd\'s by ours', async (level) => {
    for (const data of inputs()) {
      const ours = await pool.run('zstdCompress', { data, level })
      expect([data.length, same(cli(['-d', '-c', '-q'], ours), data)]).toEqual([data.length, true])
      const lv = level < 0 ? [`--fast=${-level}`] : [`-${level}`]
      const theirs = cli([...lv, '-c', '-q'], data)
      expect([data.length, same(await pool.run('zstdDecompress', { data: theirs }), data)]).toEqual([data.length, true])
    }
  })

  test('concatenated frames decompress to the concatenation, as zstd -d does', async () => {
    const a = cli(['-c', '-q'], Buffer.from('first '))
    const b = cli(['-c', '-q'], Buffer.from('second'))
    const both = Buffer.concat([a, b])
    expect(same(await pool.run('zstdDecompress', { data: both }), cli(['-d', '-c', '-q'], both))).toBe(true)
  })
})

describe('zstd errors', () => {
  test('truncated, corrupt and oversized input rejects with ERR_TASK_FAILED', async () => {
    const packed = await pool.run('zstdCompress', { data: crypto.randomBytes(5000) })
    for (const cut of [0, 1, 8, Math.floor(packed.length / 2), packed.length - 1]) {
      await expect(pool.run('zstdDecompress', { data: packed.subarray(0, cut) })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    }
    await expect(pool.run('zstdDecompress', { data: Buffer.from('not zstd at all') })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    const bomb = await pool.run('zstdCompress', { data: Buffer.alloc(32 << 20), level: 19 })
    await expect(pool.run('zstdDecompress', { data: bomb, maxOutputLength: 1 << 20 })).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  })

  test.each([
    [{ data: 'x', level: 23 }, 'level'],
    [{ data: 'x', level: 2.5 }, 'level'],
    [{ data: 'x', quality: 3 }, 'quality'],
  ])('%o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run('zstdCompress', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})
