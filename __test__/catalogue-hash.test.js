'use strict'
// hash and hmac against node:crypto on random inputs of many sizes, and published BLAKE3 vectors.

const crypto = require('node:crypto')
const { Pool } = require('..')
const { withProgress } = require('./helpers')

const pool = new Pool({ threads: 2 })
afterAll(() => pool.close())

// Node's names for every algorithm `hash` shares with node:crypto.
const NODE_ALGORITHMS = [
  'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512-224', 'sha512-256',
  'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'blake2b512', 'blake2s256',
]
// 0, 1, every block and padding boundary of the MD/SHA-2 (64/128-byte) and SHA-3 (72..144-byte)
// families, then multi-chunk sizes around our 1 MiB chunking.
const SIZES = [0, 1, 55, 56, 57, 63, 64, 65, 71, 72, 103, 104, 111, 112, 127, 128, 129, 135, 136, 137, 143, 144, 1000, 4097]
const BIG = [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7]

const nodeHash = (algorithm, data, enc) => crypto.createHash(algorithm).update(data).digest(enc)

describe('hash', () => {
  test.each(NODE_ALGORITHMS)('%s equals node:crypto on every boundary size', async (algorithm) => {
    for (const size of SIZES) {
      const data = crypto.randomBytes(size)
      const ours = await pool.run('hash', { algorithm, data })
      expect([size, Buffer.from(ours).toString('hex')]).toEqual([size, nodeHash(algorithm, data, 'hex')])
    }
  })

  test.each(['md5', 'sha1', 'sha256', 'sha512', 'sha3-256', 'blake2b512'])('%s equals node:crypto on megabyte inputs', async (algorithm) => {
    for (const size of BIG) {
      const data = crypto.randomBytes(size)
      const ours = await pool.run('hash', { algorithm, data, encoding: 'hex' })
      expect([size, ours]).toEqual([size, nodeHash(algorithm, data, 'hex')])
    }
  })

  test('hex, base64 and base64url encodings are node:crypto\'s', async () => {
    const data = crypto.randomBytes(1000)
    for (const encoding of ['hex', 'base64', 'base64url']) {
      await expect(pool.run('hash', { algorithm: 'sha256', data, encoding })).resolves.toBe(nodeHash('sha256', data, encoding))
    }
    const buf = await pool.run('hash', { algorithm: 'sha256', data, encoding: 'buffer' })
    expect(Buffer.from(buf).equals(nodeHash('sha256', data))).toBe(true)
  })

  test('strings are hashed as UTF-8, like node:crypto', async () => {
    for (const s of ['', 'abc', 'héllo wörld ✓ 𝄞', 'x'.repeat(100000)]) {
      await expect(pool.run('hash', { algorithm: 'sha1', data: s, encoding: 'hex' })).resolves.toBe(nodeHash('sha1', s, 'hex'))
    }
  })

  test('every TypedArray, DataView and ArrayBuffer is hashed as its bytes', async () => {
    const backing = crypto.randomBytes(4096)
    const ab = backing.buffer.slice(backing.byteOffset, backing.byteOffset + backing.length)
    const views = [
      new Uint8Array(ab, 3, 1000),
      new Uint16Array(ab, 8, 100),
      new Float64Array(ab, 16, 50),
      new BigInt64Array(ab, 64, 10),
      new DataView(ab, 5, 777),
      ab,
      Buffer.from(ab, 1, 2000),
    ]
    for (const view of views) {
      const bytes = Buffer.from(ArrayBuffer.isView(view) ? view.buffer : view, view.byteOffset || 0, view.byteLength)
      await expect(pool.run('hash', { algorithm: 'sha256', data: view, encoding: 'hex' })).resolves.toBe(nodeHash('sha256', bytes, 'hex'))
    }
  })

  // BLAKE3's published test_vectors.json: the input is bytes 0, 1, …, 250, 0, 1, … of the given length.
  test('blake3 matches the official test vectors', async () => {
    const input = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251))
    const vectors = {
      0: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
      1: '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213',
      1023: '10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11',
      1024: '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7',
      1025: 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444',
    }
    for (const [n, want] of Object.entries(vectors)) {
      await expect(pool.run('hash', { algorithm: 'blake3', data: input(Number(n)), encoding: 'hex' })).resolves.toBe(want)
    }
  })

  test('large hashes post progress up to 1', async () => {
    const { result, progress: seen } = await withProgress(pool.spawn('hash', { algorithm: 'sha256', data: Buffer.alloc(8 << 20, 1) }))
    expect(result).toBeDefined()
    expect(seen.length).toBeGreaterThan(0)
    expect(seen[seen.length - 1]).toBe(1)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
  })

  test('a hash cancelled while it runs rejects with ABORT_ERR', async () => {
    // sha3-512 over 256 MiB: most of a second of work; its first progress message comes after 1%.
    const task = pool.spawn('hash', { algorithm: 'sha3-512', data: Buffer.alloc(256 << 20) })
    await new Promise((resolve) => task.once('message', resolve))
    task.cancel()
    await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
  })

  test.each([
    ['an unknown algorithm', { algorithm: 'sha257', data: 'x' }, 'algorithm'],
    ['an upper-case name', { algorithm: 'SHA256', data: 'x' }, 'algorithm'],
    ['a missing algorithm', { data: 'x' }, 'algorithm'],
    ['a number as data', { algorithm: 'sha256', data: 42 }, 'data'],
    ['an object as data', { algorithm: 'sha256', data: {} }, 'data'],
    ['missing data', { algorithm: 'sha256' }, 'data'],
    ['an unknown encoding', { algorithm: 'sha256', data: 'x', encoding: 'latin1' }, 'encoding'],
    ['an unknown field', { algorithm: 'sha256', data: 'x', salt: 'y' }, 'salt'],
  ])('%s rejects with ERR_INVALID_ARG naming the field', async (_, args, field) => {
    await expect(pool.run('hash', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })

  test('args that are not an object reject with ERR_INVALID_ARG', async () => {
    for (const args of [null, undefined, 'sha256', 42]) {
      await expect(pool.run('hash', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' })
    }
  })
})

describe('hmac', () => {
  const KEY_SIZES = [0, 1, 20, 63, 64, 65, 127, 128, 129, 136, 137, 200]

  test.each(NODE_ALGORITHMS)('%s equals crypto.createHmac for keys and data of every boundary size', async (algorithm) => {
    for (const keySize of KEY_SIZES) {
      for (const size of [0, 1, 55, 64, 65, 128, 137, 5000]) {
        const key = crypto.randomBytes(keySize)
        const data = crypto.randomBytes(size)
        const ours = await pool.run('hmac', { algorithm, key, data, encoding: 'hex' })
        const want = crypto.createHmac(algorithm, key).update(data).digest('hex')
        expect([keySize, size, ours]).toEqual([keySize, size, want])
      }
    }
  })

  test('megabyte inputs and string keys match crypto.createHmac', async () => {
    const data = crypto.randomBytes(3 * (1 << 20) + 5)
    for (const algorithm of ['sha256', 'sha512', 'sha3-256']) {
      const ours = await pool.run('hmac', { algorithm, key: 'clé secrète', data })
      expect(Buffer.from(ours).equals(crypto.createHmac(algorithm, 'clé secrète').update(data).digest())).toBe(true)
    }
  })

  test.each(['base64', 'base64url'])('%s output is node:crypto\'s', async (encoding) => {
    const ours = await pool.run('hmac', { algorithm: 'sha384', key: 'k', data: 'd', encoding })
    expect(ours).toBe(crypto.createHmac('sha384', 'k').update('d').digest(encoding))
  })

  test.each([
    ['blake3 (no HMAC in node:crypto)', { algorithm: 'blake3', key: 'k', data: 'x' }, 'algorithm'],
    ['an unknown algorithm', { algorithm: 'sha1024', key: 'k', data: 'x' }, 'algorithm'],
    ['a missing key', { algorithm: 'sha256', data: 'x' }, 'key'],
    ['a numeric key', { algorithm: 'sha256', key: 1, data: 'x' }, 'key'],
    ['a boolean as data', { algorithm: 'sha256', key: 'k', data: true }, 'data'],
  ])('%s rejects with ERR_INVALID_ARG', async (_, args, field) => {
    await expect(pool.run('hmac', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})

describe('1 GiB inputs', () => {
  // A 27-byte pattern: no 1 MiB chunk looks like another, so a chunk skipped, repeated or taken out
  // of order changes the digest. The last bytes differ from the pattern, so a short read does too.
  const GiB = 1 << 30
  let data
  beforeAll(() => {
    data = Buffer.alloc(GiB, 'native-pool hashes 1 GiB. ')
    data.writeUInt32LE(0xdeadbeef, GiB - 4)
  })
  afterAll(() => {
    data = null
  })

  test('sha256 of 1 GiB equals createHash', async () => {
    const ours = await pool.run('hash', { algorithm: 'sha256', data, encoding: 'hex' })
    expect(ours).toBe(nodeHash('sha256', data, 'hex'))
  })

  test('hmac-sha256 of 1 GiB equals createHmac', async () => {
    const ours = await pool.run('hmac', { algorithm: 'sha256', key: 'k', data, encoding: 'hex' })
    expect(ours).toBe(crypto.createHmac('sha256', 'k').update(data).digest('hex'))
  })
})
