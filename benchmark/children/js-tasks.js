'use strict'
// node js-tasks.js SYSTEM_FILE THREADS MODE: one repetition of the JS-task rows for one system
// (systems/SYSTEM_FILE.js), in this fresh process, in this order:
//
// 1. start-up: the system's package is loaded first (not timed) and the event loop idles for 50 ms
//    (as children/startup.js does, so work the loading left due runs before the timer); then the pool
//    is created and timed until every thread has answered a `whoami` task: rounds of THREADS
//    concurrent calls, 1 ms apart, until THREADS distinct worker thread ids have answered. (The
//    barrier task of the other sections needs a SharedArrayBuffer, which JS tasks do not take.)
// 2. RSS at rest: 200 ms later, this process's RSS above its RSS before the package was loaded.
// 3. each timed row, after its untimed warm-up of the same workload (workloads/js-tasks.js WARMUP):
//    empty-task throughput, one-at-a-time round trips, 1 MiB in + 1 MiB out, fib(30), and the
//    event-loop delay while fib(30) saturates the Workers.
//
// Every answer is checked as it arrives: echo gives back its input, fib(30) equals an iterative
// Fibonacci, each 1 MiB result has the complement of the input's byte in every 4 KiB block (what
// bytesOut writes), each start-up answer is a worker thread's id. A wrong answer fails the run.

const fs = require('node:fs')
const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { main } = require('./common')
const { now, msSince } = require('../lib/clock')
const { roundTrips, saturate } = require('../lib/drive')
const { latencySummary } = require('../lib/stats')
const { fibIter } = require('../workloads/data')
const W = require('../workloads/js-tasks')

const MiB = 1 << 20
const BLOCK = 4096

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Each system's package, so that loading it is not part of the start-up timed after it.
const PACKAGES = {
  'native-pool-js': () => require(path.join(__dirname, '..', '..')),
  postmessage: () => require('node:worker_threads'),
  piscina: () => require('piscina'),
  tinypool: () => import('tinypool'),
  workerpool: () => require('workerpool'),
  plain: () => require('node:worker_threads'),
}

/** Linux's split of RSS: anonymous (heaps, stacks) and file-backed (mapped code). */
function rssNow() {
  const m = { rss: process.memoryUsage().rss, anon: NaN, file: NaN }
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8')
    const kb = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [])[1]) * 1024
    m.anon = kb('RssAnon')
    m.file = kb('RssFile')
  } catch {}
  return m
}

/** Runs `count` tasks, at most `window` in flight, each answer checked and dropped; resolves with the ms taken. */
function pump(inst, task, count, window, argsOf, check) {
  return new Promise((resolve, reject) => {
    let issued = 0
    let done = 0
    let failed = false
    const t0 = now()
    const fail = (err) => {
      if (!failed) {
        failed = true
        reject(err)
      }
    }
    const issue = () => {
      const i = issued++
      inst.run(task, argsOf(i)).then((value) => {
        if (failed) return
        const wrong = check(value, i)
        if (wrong) return fail(new Error(`${task} #${i}: ${wrong}`))
        if (++done === count) resolve(msSince(t0))
        else if (issued < count) issue()
      }, fail)
    }
    for (let k = 0; k < Math.min(window, count); k++) issue()
  })
}

async function startup(sys, threads) {
  const t0 = now()
  const inst = await sys.create({ threads })
  const seen = new Set()
  let answers = 0
  for (let round = 0; seen.size < threads; round++) {
    if (round > 0) await sleep(1)
    if (msSince(t0) > 30_000) throw new Error(`start-up: only ${seen.size} of ${threads} threads answered in 30 s`)
    const ids = await Promise.all(Array.from({ length: threads }, () => inst.run('whoami', {})))
    for (const id of ids) {
      if (!Number.isInteger(id) || id <= 0) throw new Error(`whoami answered ${id}: not a worker thread`)
      seen.add(id)
    }
    answers += ids.length
  }
  const ms = msSince(t0)
  if (seen.size !== threads) throw new Error(`answers came from ${seen.size} threads, expected ${threads}`)
  return { inst, row: { value: ms, checked: answers } }
}

/** A 1 MiB input whose 4 KiB blocks differ, and the check of bytesOut's answer (written apart from it). */
function bytesWorkload() {
  const data = Buffer.allocUnsafe(MiB)
  for (let b = 0; b < MiB / BLOCK; b++) data.fill((b * 37 + 11) & 0xff, b * BLOCK, (b + 1) * BLOCK)
  const check = (out) => {
    if (!(out instanceof Uint8Array)) return `answered ${Object.prototype.toString.call(out)}, not bytes`
    if (out.length !== MiB) return `answered ${out.length} bytes, expected ${MiB}`
    for (let b = 0; b < MiB / BLOCK; b++) {
      const want = 0xff - ((b * 37 + 11) & 0xff)
      if (out[b * BLOCK] !== want || out[(b + 1) * BLOCK - 1] !== want) return `block ${b} holds ${out[b * BLOCK]}, expected ${want}`
    }
    return null
  }
  return { args: { data }, check }
}

async function loopDelay(inst, threads, ms, fibRef) {
  const load = saturate(inst, 'fib', { n: W.FIB_N }, { inFlight: W.LOOP_IN_FLIGHT_PER_THREAD * threads, check: (v) => v === fibRef })
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await sleep(ms) // the measurement window itself, not an ordering device
  h.disable()
  const s = await load.stop()
  if (s.wrong) throw new Error(`${s.wrong} wrong fib(${W.FIB_N}) answers`)
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, completed: s.completed }
}

main(async () => {
  const [file, threadsArg, mode] = process.argv.slice(2)
  const threads = Number(threadsArg)
  const size = W.SIZES[mode]
  const warm = W.WARMUP[mode]
  if (!size || !PACKAGES[file]) throw new Error(`usage: js-tasks.js ${Object.keys(PACKAGES).join('|')} THREADS quick|full`)
  const sys = require(path.join(__dirname, '..', 'systems', file))
  const rows = {}

  const before = rssNow()
  await PACKAGES[file]()
  await sleep(50)
  const { inst, row } = await startup(sys, threads)
  rows.startup = row
  try {
    await sleep(200)
    const rest = rssNow()
    rows.rss = { value: (rest.rss - before.rss) / 1e6, anonMB: (rest.anon - before.anon) / 1e6, fileMB: (rest.file - before.file) / 1e6, checked: 0 }

    const echoCheck = (v, i) => (v === i ? null : `echo(${i}) answered ${v}`)
    const identity = (i) => i
    await pump(inst, 'echo', warm.empty, W.EMPTY_WINDOW, identity, echoCheck)
    const emptyMs = await pump(inst, 'echo', size.empty, W.EMPTY_WINDOW, identity, echoCheck)
    rows.empty = { value: size.empty / (emptyMs / 1000), checked: warm.empty + size.empty }

    await roundTrips(inst, warm.trips)
    const trips = latencySummary(await roundTrips(inst, size.trips))
    rows.roundtrip = { value: trips.p50, p99: trips.p99, checked: warm.trips + size.trips }

    const bytes = bytesWorkload()
    const bytesWindow = W.BYTES_WINDOW_PER_THREAD * threads
    const bytesArgs = () => bytes.args
    await pump(inst, 'bytesOut', warm.bytes, bytesWindow, bytesArgs, bytes.check)
    const bytesMs = await pump(inst, 'bytesOut', size.bytes, bytesWindow, bytesArgs, bytes.check)
    rows.bytes = { value: size.bytes / (bytesMs / 1000), checked: warm.bytes + size.bytes }

    const fibRef = fibIter(W.FIB_N)
    const fibCheck = (v) => (v === fibRef ? null : `fib(${W.FIB_N}) answered ${v}, expected ${fibRef}`)
    const fibArgs = () => ({ n: W.FIB_N })
    await pump(inst, 'fib', warm.fib, Infinity, fibArgs, fibCheck)
    const fibMs = await pump(inst, 'fib', size.fib, Infinity, fibArgs, fibCheck)
    rows.fib = { value: size.fib / (fibMs / 1000), checked: warm.fib + size.fib }

    const warmLoop = await loopDelay(inst, threads, warm.loopMs, fibRef)
    const loop = await loopDelay(inst, threads, size.loopMs, fibRef)
    rows.loop = { value: loop.p99, max: loop.max, tasks: loop.completed, checked: warmLoop.completed + loop.completed }
  } finally {
    await inst.close()
  }
  return { rows }
})
