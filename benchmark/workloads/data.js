'use strict'
// Inputs for the workloads and their references, computed independently of every system under test.

const crypto = require('node:crypto')

/** Deterministic pseudo-random bytes (xorshift32), so runs hash and compress the same data. */
function randomBytes(size, seed) {
  const out = Buffer.allocUnsafe(size)
  let x = seed | 0 || 1
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.writeInt32LE(x, Math.min(i, size - 4))
  }
  return out
}

const WORDS = (
  'the pool runs native tasks off the event loop while javascript waits for a promise that settles ' +
  'when a thread finishes its work and reports progress messages at every whole percent of iterations'
).split(' ')

/** Text-like, compressible data (JSON lines of words and numbers), about 4-6x under gzip. */
function textBytes(size, seed) {
  let x = seed | 0 || 1
  const rnd = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
  const parts = []
  let len = 0
  while (len < size) {
    const line =
      JSON.stringify({
        id: rnd() % 100000,
        user: WORDS[rnd() % WORDS.length] + '_' + (rnd() % 1000),
        text: Array.from({ length: 6 + (rnd() % 8) }, () => WORDS[rnd() % WORDS.length]).join(' '),
        score: (rnd() % 10000) / 100,
      }) + '\n'
    parts.push(line)
    len += line.length
  }
  return Buffer.from(parts.join(''), 'utf8').subarray(0, size)
}

/** The seeds' loop, in JS: the reference `sum` must equal wherever the loop is exact. */
function sumLoop(n) {
  let total = 0
  for (let i = 0; i < n; i++) total += i
  return total
}

/** Fibonacci by iteration: a different algorithm from the recursive one under test. */
function fibIter(n) {
  let a = 0
  let b = 1
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

const sha256Hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

/** A result that should be bytes, as a Buffer, whether it came back as Buffer, Uint8Array or hex. */
function asBuffer(v) {
  if (Buffer.isBuffer(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (v instanceof ArrayBuffer) return Buffer.from(v)
  if (typeof v === 'string' && /^[0-9a-f]*$/i.test(v)) return Buffer.from(v, 'hex')
  return null
}

module.exports = { randomBytes, textBytes, sumLoop, fibIter, sha256Hex, asBuffer }
