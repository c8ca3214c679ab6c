'use strict'
// The workloads written in plain JavaScript: what a JS worker pool (piscina, tinypool, workerpool, the
// plain worker_threads pool) runs on its worker threads, and what the inline system runs on the main
// thread. Each takes one argument object and returns (or resolves with) its result. Piscina and
// tinypool call these by name; workerpool and the plain pool through their own worker entry files.

const crypto = require('node:crypto')
const zlib = require('node:zlib')
const { threadId } = require('node:worker_threads')

function echo(value) {
  return value
}

// The seeds' heavy job, exactly as the tutorial writes it.
function sum({ iterations }) {
  let total = 0
  for (let i = 0; i < iterations; i++) total += i
  return total
}

function fibRec(n) {
  return n < 2 ? n : fibRec(n - 1) + fibRec(n - 2)
}

function fib({ n }) {
  return fibRec(n)
}

// `data` arrives as a copy (structured clone) in a worker: JS pools pay that copy.
function sha256({ data }) {
  return crypto.createHash('sha256').update(data).digest('hex')
}

function gzip({ data, level }) {
  return zlib.gzipSync(data, level === undefined ? {} : { level })
}

// Synchronous on purpose: the work runs on the pool's thread, not on libuv's.
function scrypt({ password, salt, keylen, N, r, p }) {
  return crypto.scryptSync(password, salt, keylen, { N, r, p, maxmem: 256 * N * r * 2 }).toString('hex')
}

let bcryptjs = null
function bcryptHash({ password, cost }) {
  bcryptjs ??= require('bcryptjs')
  return bcryptjs.hashSync(password, cost)
}

// A 1 MiB Buffer in, a new 1 MiB Buffer out (its bytes complemented): the transport both ways.
function bytesOut({ data }) {
  const out = Buffer.allocUnsafe(data.length)
  for (let i = 0; i < data.length; i += 4096) out.fill(~data[i] & 0xff, i, Math.min(i + 4096, data.length))
  return out
}

// Start-up probe: every thread blocks here until `parties` threads have arrived, so the answers of
// one batch of `parties` calls necessarily come from `parties` different threads.
function barrier({ sab, parties }) {
  const counter = new Int32Array(sab)
  Atomics.add(counter, 0, 1)
  Atomics.notify(counter, 0)
  const deadline = Date.now() + 10_000
  for (;;) {
    const seen = Atomics.load(counter, 0)
    if (seen >= parties) break
    if (Date.now() > deadline) throw new Error(`barrier: only ${seen} of ${parties} threads arrived`)
    Atomics.wait(counter, 0, seen, 100)
  }
  return threadId
}

// Which thread answered: the JS-task section's start-up probe (a first answer from every thread), for
// pools that take no SharedArrayBuffer (native-pool's JS tasks) as for the others.
function whoami() {
  return threadId
}

// The kernel's id of the thread running it (Linux): benchmark/js-task-cost.js reads each Worker's
// CPU time by it.
function threadTid() {
  return Number(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0])
}

module.exports = { echo, sum, fib, sha256, gzip, scrypt, bcryptHash, bytesOut, barrier, whoami, threadTid }
