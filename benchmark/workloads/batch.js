'use strict'
// The batch workloads: N tasks of one kind pushed through a system, timed from the first submission
// to the last answer, every answer checked against a reference computed apart from the system.
//
// Each workload: id, title, task (generic name, see systems/), count and reps per mode, window (tasks in
// flight at most), prepare(mode) -> state, input(state, i), check(state, i, result) -> null or a reason.

const zlib = require('node:zlib')
const crypto = require('node:crypto')
const { randomBytes, textBytes, sumLoop, fibIter, sha256Hex, asBuffer } = require('./data')

const MiB = 1024 * 1024
// The smoke run hashes at a lower cost: it checks the plumbing, not the speed.
const BCRYPT_COST = { quick: 8, full: 10 }

const sameInteger = (v, ref) =>
  typeof v === 'bigint' ? v === BigInt(ref) : typeof v === 'number' && v === ref

module.exports = [
  {
    id: 'empty',
    title: 'empty task (echo), at most 1,024 in flight',
    task: 'echo',
    count: { quick: 10_000, full: 50_000 },
    reps: { quick: 2, full: 5 },
    window: 1024,
    note: 'pool overhead only: a number goes in and comes back',
    prepare: () => null,
    input: (_, i) => i,
    check: (_, i, v) => (v === i ? null : `echo(${i}) answered ${v}`),
  },
  {
    id: 'sum',
    title: 'sum of 0..1e7-1',
    task: 'sum',
    count: { quick: 8, full: 64 },
    reps: { quick: 2, full: 5 },
    prepare: () => ({ iterations: 1e7, ref: sumLoop(1e7) }),
    input: (s) => ({ iterations: s.iterations }),
    check: (s, _, v) => (sameInteger(v, s.ref) ? null : `sum answered ${v}, the JS loop gives ${s.ref}`),
  },
  {
    id: 'fib',
    title: 'fib(30), naive recursion',
    task: 'fib',
    count: { quick: 8, full: 64 },
    reps: { quick: 2, full: 5 },
    prepare: () => ({ n: 30, ref: fibIter(30) }),
    input: (s) => ({ n: s.n }),
    check: (s, _, v) => (sameInteger(v, s.ref) ? null : `fib(30) answered ${v}, expected ${s.ref}`),
  },
  {
    id: 'sha256',
    title: 'SHA-256 of 1 MiB',
    task: 'sha256',
    count: { quick: 50, full: 2000 },
    reps: { quick: 2, full: 3 },
    note: 'JS pools copy each 1 MiB input into the worker (structured clone); native-pool reads the caller\'s Buffer without a copy',
    prepare: () => {
      const inputs = Array.from({ length: 8 }, (_, k) => randomBytes(MiB, 0x5eed + k))
      return { inputs, refs: inputs.map(sha256Hex) }
    },
    input: (s, i) => ({ data: s.inputs[i % s.inputs.length] }),
    check: (s, i, v) => {
      const got = asBuffer(v)
      const ref = s.refs[i % s.refs.length]
      return got && got.toString('hex') === ref ? null : `digest ${String(v).slice(0, 16)}… differs from node:crypto's ${ref.slice(0, 16)}…`
    },
  },
  {
    id: 'gzip',
    title: 'gzip of 1 MiB of text (level 6)',
    task: 'gzip',
    count: { quick: 2, full: 32 },
    reps: { quick: 2, full: 3 },
    note: 'checked by zlib.gunzipSync round trip; JS pools copy the input in and the output back',
    prepare: (mode) => ({ inputs: Array.from({ length: mode === 'quick' ? 1 : 4 }, (_, k) => textBytes(MiB, 0x91 + k)) }),
    input: (s, i) => ({ data: s.inputs[i % s.inputs.length], level: 6 }),
    check: (s, i, v) => {
      const got = asBuffer(v)
      if (!got) return `gzip answered a ${typeof v}`
      try {
        return zlib.gunzipSync(got).equals(s.inputs[i % s.inputs.length]) ? null : 'gunzip round trip differs from the input'
      } catch (err) {
        return `gunzip failed: ${err.message}`
      }
    },
    extra: (s, results) => ({
      compressedRatio: results.reduce((a, r) => a + asBuffer(r).length, 0) / (results.length * MiB),
    }),
  },
  {
    id: 'scrypt',
    title: 'scrypt (N=16384, r=8, p=1, 64-byte key)',
    task: 'scrypt',
    count: { quick: 2, full: 16 },
    reps: { quick: 1, full: 3 },
    note: 'JS pools and inline run crypto.scryptSync on their own thread; checked against crypto.scryptSync on the main thread',
    prepare: (mode) => {
      const params = Array.from({ length: mode === 'quick' ? 1 : 4 }, (_, k) => ({
        password: 'correct horse battery staple',
        salt: `salt-${k}-0123456789`,
        keylen: 64,
        N: 16384,
        r: 8,
        p: 1,
      }))
      const refs = params.map((a) => crypto.scryptSync(a.password, a.salt, a.keylen, { N: a.N, r: a.r, p: a.p, maxmem: 64 * MiB }).toString('hex'))
      return { params, refs }
    },
    input: (s, i) => s.params[i % s.params.length],
    check: (s, i, v) => {
      const got = asBuffer(v)
      const ref = s.refs[i % s.refs.length]
      return got && got.toString('hex') === ref ? null : `scrypt key differs from crypto.scryptSync's`
    },
  },
  {
    id: 'bcrypt',
    title: (mode) => `bcrypt hash (cost ${BCRYPT_COST[mode]})`,
    task: 'bcryptHash',
    count: { quick: 2, full: 8 },
    reps: { quick: 1, full: 3 },
    note: 'JS pools and inline run bcryptjs.hashSync; every hash is verified with the npm bcrypt package (native, a third implementation) after timing',
    prepare: (mode) => ({ cost: BCRYPT_COST[mode] }),
    input: (s, i) => ({ password: `password-${i % 4}`, cost: s.cost }),
    check: (s, i, v) => {
      const format = new RegExp(`^\\$2[aby]\\$${String(s.cost).padStart(2, '0')}\\$[./A-Za-z0-9]{53}$`)
      if (typeof v !== 'string' || !format.test(v)) return `not a cost-${s.cost} bcrypt hash: ${v}`
      return require('bcrypt').compareSync(`password-${i % 4}`, v) ? null : `hash does not verify for password-${i % 4}`
    },
  },
]
