'use strict'
// One system's side of the JS-task section (workloads/js-tasks.js), for systems/SYSTEM_FILE.js:
//
//   node js-tasks.js SYSTEM_FILE THREADS MODE cold
//     In this fresh process: load the system's package (not timed) and let the event loop idle for
//     50 ms (as children/startup.js does, so work the loading left due runs before the timer); then
//     create the pool and time it until every thread has answered a `whoami` task (rounds of THREADS
//     concurrent calls, 1 ms apart, until THREADS distinct worker thread ids have answered: the
//     barrier task of the other sections needs a SharedArrayBuffer, which JS tasks do not take).
//     200 ms later, RSS above this process's RSS before the package was loaded. Prints one JSON line.
//
//   fork(js-tasks.js, [SYSTEM_FILE, THREADS, MODE, 'serve'])
//     Creates the pool, sends { ready }, then answers each { id, row } message with { id, sample }
//     (or { id, error }): that row's untimed warm-up, then the timed row, on the same pool. The
//     parent interleaves the systems' processes row by row, so a change in the shared machine's load
//     falls on each of them alike; { close } closes the pool and ends the process.
//
// Every answer is checked as it arrives: echo gives back its input, fib(30) equals an iterative
// Fibonacci, each 1 MiB result has the complement of the input's byte in every 4 KiB block (what
// bytesOut writes), each start-up answer is a worker thread's id. A wrong answer fails the row.

const fs = require('node:fs')
const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { main } = require('./common')
const { now, msSince } = require('../lib/clock')
const { pump, roundTrips, saturate } = require('../lib/drive')
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

/** RSS, and Linux's split of it: anonymous (heaps, stacks) and file-backed (mapped code). */
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

/** Creates the pool; resolves once every thread has answered, with the ms taken and the answers checked. */
async function start(sys, threads) {
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
  return { inst, ms, answers }
}

const echoCheck = (v, i) => (v === i ? null : `echo(${i}) answered ${v}`)
const identity = (i) => i
const fibRef = fibIter(W.FIB_N)
const fibCheck = (v) => (v === fibRef ? null : `fib(${W.FIB_N}) answered ${v}, expected ${fibRef}`)
const fibArgs = () => ({ n: W.FIB_N })

// A 1 MiB input whose 4 KiB blocks differ, and the check of bytesOut's answer (written apart from it).
const bytesIn = Buffer.allocUnsafe(MiB)
for (let b = 0; b < MiB / BLOCK; b++) bytesIn.fill((b * 37 + 11) & 0xff, b * BLOCK, (b + 1) * BLOCK)
const bytesArgs = () => ({ data: bytesIn })
function bytesCheck(out) {
  if (!(out instanceof Uint8Array)) return `answered ${Object.prototype.toString.call(out)}, not bytes`
  if (out.length !== MiB) return `answered ${out.length} bytes, expected ${MiB}`
  for (let b = 0; b < MiB / BLOCK; b++) {
    const want = 0xff - ((b * 37 + 11) & 0xff)
    if (out[b * BLOCK] !== want || out[(b + 1) * BLOCK - 1] !== want) return `block ${b} holds ${out[b * BLOCK]}, expected ${want}`
  }
  return null
}

/** p99 and max of the main thread's event-loop delay while fib tasks saturate the Workers for `ms`. */
async function loopDelay(inst, threads, ms) {
  const load = saturate(inst, 'fib', { n: W.FIB_N }, { inFlight: W.LOOP_IN_FLIGHT_PER_THREAD * threads, check: (v) => v === fibRef })
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await sleep(ms) // the measurement window itself, not an ordering device
  h.disable()
  const s = await load.stop()
  if (s.wrong) throw new Error(`${s.wrong} wrong fib(${W.FIB_N}) answers`)
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, completed: s.completed }
}

// Each timed row: its warm-up (`warm`), then the timed run (`size`), on the same pool.
const ROWS = {
  async empty(inst, threads, size, warm) {
    await pump(inst, 'echo', warm.empty, W.EMPTY_WINDOW, identity, echoCheck)
    const ms = await pump(inst, 'echo', size.empty, W.EMPTY_WINDOW, identity, echoCheck)
    return { value: size.empty / (ms / 1000), checked: warm.empty + size.empty }
  },
  async roundtrip(inst, threads, size, warm) {
    await roundTrips(inst, warm.trips)
    const trips = latencySummary(await roundTrips(inst, size.trips))
    return { value: trips.p50, p99: trips.p99, checked: warm.trips + size.trips }
  },
  async bytes(inst, threads, size, warm) {
    const window = W.BYTES_WINDOW_PER_THREAD * threads
    await pump(inst, 'bytesOut', warm.bytes, window, bytesArgs, bytesCheck)
    const ms = await pump(inst, 'bytesOut', size.bytes, window, bytesArgs, bytesCheck)
    return { value: size.bytes / (ms / 1000), checked: warm.bytes + size.bytes }
  },
  async fib(inst, threads, size, warm) {
    await pump(inst, 'fib', warm.fib, Infinity, fibArgs, fibCheck)
    const ms = await pump(inst, 'fib', size.fib, Infinity, fibArgs, fibCheck)
    return { value: size.fib / (ms / 1000), checked: warm.fib + size.fib }
  },
  async loop(inst, threads, size, warm) {
    const w = await loopDelay(inst, threads, warm.loopMs)
    const r = await loopDelay(inst, threads, size.loopMs)
    return { value: r.p99, max: r.max, tasks: r.completed, checked: w.completed + r.completed }
  },
}

async function cold(file, sys, threads) {
  const before = rssNow()
  await PACKAGES[file]()
  await sleep(50)
  const { inst, ms, answers } = await start(sys, threads)
  try {
    await sleep(200)
    const rest = rssNow()
    return {
      startup: { value: ms, checked: answers },
      rss: { value: (rest.rss - before.rss) / 1e6, anonMB: (rest.anon - before.anon) / 1e6, fileMB: (rest.file - before.file) / 1e6, checked: 0 },
    }
  } finally {
    await inst.close()
  }
}

async function serve(sys, threads, size, warm) {
  let inst
  try {
    inst = (await start(sys, threads)).inst
  } catch (err) {
    process.send({ error: String((err && err.stack) || err) })
    return
  }
  process.send({ ready: true })
  // One request at a time: the parent waits for each answer before it sends the next.
  process.on('message', async (msg) => {
    if (msg.close) {
      await inst.close()
      process.disconnect()
      return
    }
    try {
      process.send({ id: msg.id, sample: await ROWS[msg.row](inst, threads, size, warm) })
    } catch (err) {
      process.send({ id: msg.id, error: String((err && err.message) || err) })
    }
  })
}

const [file, threadsArg, mode, role] = process.argv.slice(2)
const threads = Number(threadsArg)
const size = W.SIZES[mode]
const warm = W.WARMUP[mode]
if (!size || !PACKAGES[file] || !(role === 'cold' || role === 'serve')) {
  throw new Error(`usage: js-tasks.js ${Object.keys(PACKAGES).join('|')} THREADS quick|full cold|serve`)
}
const sys = require(path.join(__dirname, '..', 'systems', file))
if (role === 'cold') main(() => cold(file, sys, threads))
else {
  // The parent gone (or done): nothing more will be asked.
  process.on('disconnect', () => process.exit(0))
  serve(sys, threads, size, warm)
}
