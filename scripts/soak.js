'use strict'
// `npm run soak [-- --tasks N]`: pushes N mixed tasks (default 1,000,000) through one pool, keeping a
// bounded number in flight: results checked against JS (echo, sum), sleeps, panics, failures,
// spinning tasks stopped by timeouts, by AbortSignals and by handle.cancel(), random priorities, bad
// arguments and already-aborted signals; and, every so often, a worker_threads Worker that submits
// tasks to the shared pool and to a pool of its own and is terminated mid-flight. It checks that every
// main-thread call settled exactly once with an outcome of the kinds its plan allows, samples RSS
// every --sample tasks, prints settled counts by outcome and the RSS table, and exits non-zero on a
// lost, duplicated or unexpected settlement, a Worker that did not stop, or RSS growth past
// --max-growth MB (default 64; see README "Fuzz and soak").
//
// Options: --tasks N, --in-flight N (default 512), --sample N (default tasks/20), --workers-every N
// (default 20000 tasks; 0: no Workers), --max-growth MB, --seed N, --counts FILE (writes
// {"passed":N,"failed":M}: one check each for exactly-once, outcome kinds, Workers and RSS).

const path = require('node:path')
const fs = require('node:fs')
const { Worker } = require('node:worker_threads')

// The test tasks (__panic, __fail, __spin) are registered only when the addon loads with this set.
process.env.NATIVE_POOL_TEST_TASKS = '1'
const root = path.join(__dirname, '..')
const { Pool } = require(root)

function parseArgs(argv) {
  const o = { tasks: 1_000_000, inFlight: 512, sample: 0, workersEvery: 20_000, maxGrowth: 64, seed: 1, counts: null }
  const names = { '--tasks': 'tasks', '--in-flight': 'inFlight', '--sample': 'sample', '--workers-every': 'workersEvery', '--max-growth': 'maxGrowth', '--seed': 'seed', '--counts': 'counts' }
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]]
    if (key === undefined || argv[i + 1] === undefined) throw new Error(`soak: unknown or incomplete option ${argv[i]} (see the top of scripts/soak.js)`)
    o[key] = key === 'counts' ? argv[i + 1] : Number(argv[i + 1])
  }
  if (!(o.tasks > 0) || !(o.inFlight > 0)) throw new Error('soak: --tasks and --in-flight must be positive')
  if (o.sample <= 0) o.sample = Math.max(1, Math.floor(o.tasks / 20))
  return o
}

const opts = parseArgs(process.argv.slice(2))

/** A small deterministic PRNG (mulberry32), so a run can be repeated with its --seed. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(opts.seed)
const pick = (n) => Math.floor(random() * n)

// Each plan: how to submit, and which outcomes it may end with ('ok' or an err.code).
// The weights keep the pool busy with cheap tasks; spinning ones hold a thread for 1-4 ms.
const KINDS = [
  { weight: 40, name: 'echo', allowed: ['ok'] },
  { weight: 20, name: 'sum', allowed: ['ok'] },
  { weight: 10, name: 'sleep', allowed: ['ok'] },
  { weight: 6, name: 'sleepAbort', allowed: ['ok', 'ABORT_ERR'] },
  { weight: 6, name: 'sleepCancel', allowed: ['ok', 'ABORT_ERR'] },
  { weight: 4, name: 'panic', allowed: ['ERR_TASK_PANICKED'] },
  { weight: 4, name: 'fail', allowed: ['ERR_TASK_FAILED'] },
  { weight: 1, name: 'spinTimeout', allowed: ['ERR_TASK_TIMEOUT'] },
  { weight: 1, name: 'spinAbort', allowed: ['ABORT_ERR', 'ERR_TASK_TIMEOUT'] },
  { weight: 1, name: 'spinCancel', allowed: ['ABORT_ERR', 'ERR_TASK_TIMEOUT'] },
  { weight: 3, name: 'invalid', allowed: ['ERR_INVALID_ARG'] },
  { weight: 2, name: 'preAborted', allowed: ['ABORT_ERR'] },
  { weight: 2, name: 'hash', allowed: ['ok'] },
]
const totalWeight = KINDS.reduce((a, k) => a + k.weight, 0)
function pickKind() {
  let r = random() * totalWeight
  for (const k of KINDS) if ((r -= k.weight) < 0) return k
  return KINDS[0]
}

const crypto = require('node:crypto')
const hashInput = Buffer.from('soak '.repeat(40))
const hashExpected = crypto.createHash('sha256').update(hashInput).digest('hex')

const pool = new Pool({ threads: 2 })
const byOutcome = new Map()
const byKind = new Map()
const problems = []
let submitted = 0
let settled = 0
let inFlight = 0
let duplicates = 0
let unexpected = 0
const pending = new Set()

function note(map, key) {
  map.set(key, (map.get(key) || 0) + 1)
}

/** Submits one task of a random kind; returns its settlement promise (never rejects). */
function submitOne(id) {
  const kind = pickKind()
  const priority = pick(5) - 2
  let promise
  let check = () => true
  let after = null
  let handle = null
  switch (kind.name) {
    case 'echo': {
      const v = { id }
      promise = pool.run('echo', v, { priority })
      check = (got) => got === v
      break
    }
    case 'sum': {
      const n = pick(2000)
      promise = pool.run('sum', { iterations: n }, { priority })
      check = (got) => got === (n * (n - 1)) / 2
      break
    }
    case 'sleep':
      promise = pool.run('sleep', { ms: random() }, { priority })
      check = (got) => got === undefined
      break
    case 'sleepAbort': {
      const c = new AbortController()
      promise = pool.run('sleep', { ms: random() * 2 }, { priority, signal: c.signal })
      after = () => c.abort()
      check = (got) => got === undefined
      break
    }
    case 'sleepCancel':
      handle = pool.spawn('sleep', { ms: random() * 2 }, { priority })
      promise = handle.result
      after = () => handle.cancel()
      check = (got) => got === undefined
      break
    case 'panic':
      promise = pool.run('__panic', { message: 'soak' }, { priority })
      break
    case 'fail':
      handle = pool.spawn('__fail', { message: 'soak' }, { priority })
      promise = handle.result
      break
    case 'spinTimeout':
      promise = pool.run('__spin', null, { priority, timeout: 1 + pick(3) })
      break
    case 'spinAbort': {
      const c = new AbortController()
      // The timeout is a backstop: an abort lost in flight would show up as a timeout here, and
      // in the kind counts, rather than as a hang.
      promise = pool.run('__spin', null, { priority, signal: c.signal, timeout: 2000 })
      after = () => setImmediate(() => c.abort())
      break
    }
    case 'spinCancel':
      handle = pool.spawn('__spin', null, { priority, timeout: 2000 })
      promise = handle.result
      after = () => setImmediate(() => handle.cancel())
      break
    case 'invalid':
      promise = pool.run('sum', { iterations: -1 - pick(10) }, { priority })
      break
    case 'preAborted':
      promise = pool.run('echo', 1, { signal: AbortSignal.abort() })
      break
    case 'hash':
      promise = pool.run('hash', { algorithm: 'sha256', data: hashInput, encoding: 'hex' }, { priority })
      check = (got) => got === hashExpected
      break
  }
  if (after !== null) after()
  let exits = 0
  if (handle !== null) handle.on('exit', () => exits++)
  let settledCount = 0
  const done = (outcome, value) => {
    settledCount++
    if (settledCount > 1) {
      duplicates++
      problems.push(`task ${id} (${kind.name}) settled twice`)
      return
    }
    note(byOutcome, outcome)
    note(byKind, `${kind.name} → ${outcome}`)
    if (!kind.allowed.includes(outcome) || (outcome === 'ok' && !check(value))) {
      unexpected++
      if (problems.length < 20) problems.push(`task ${id} (${kind.name}): unexpected ${outcome}`)
    }
  }
  return promise.then(
    (v) => done('ok', v),
    (e) => done(e !== null && typeof e === 'object' && typeof e.code === 'string' ? e.code : `uncoded: ${e}`),
  ).then(() => {
    if (handle === null) return
    // 'exit' follows the settlement in a promise reaction: count it on the next turn.
    return new Promise(setImmediate).then(() => {
      if (exits !== 1) {
        duplicates++
        problems.push(`task ${id} (${kind.name}) emitted 'exit' ${exits} times`)
      }
    })
  })
}

// --- Workers that submit tasks and are terminated mid-flight ------------------------------------

const workerCode = `
const { parentPort, workerData } = require('node:worker_threads')
const { Pool } = require(workerData.root)
const shared = Pool.shared()
const own = new Pool({ threads: 1 })
let n = 0
function more() {
  for (let i = 0; i < 64; i++) {
    const p = i % 2 ? shared : own
    p.run(i % 3 ? 'sleep' : '__spin', i % 3 ? { ms: 1 } : null, { timeout: 50 }).catch(() => {})
    p.run('sum', { iterations: 1000 }).catch(() => {})
    n += 2
  }
  if (n === 128) parentPort.postMessage('submitting')
  setImmediate(more)
}
more()
`
const workerStats = { started: 0, terminated: 0, failed: 0 }
let workerRun = null // the Worker round in progress: at most one at a time

async function workerRound() {
  workerStats.started++
  try {
    const w = new Worker(workerCode, { eval: true, workerData: { root }, env: process.env })
    const exited = new Promise((resolve) => w.once('exit', resolve))
    await new Promise((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
    })
    const stopped = await Promise.race([w.terminate().then(() => exited), timeout(20000)])
    if (stopped === 'timeout') throw new Error('a terminated Worker did not stop within 20 s')
    workerStats.terminated++
  } catch (err) {
    workerStats.failed++
    problems.push(`worker round ${workerStats.started}: ${err && err.message}`)
  } finally {
    workerRun = null
  }
}

function timeout(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms, 'timeout').unref())
}

// --- RSS -----------------------------------------------------------------------------------------

const samples = []
const t0 = process.hrtime.bigint()
function sample() {
  const m = process.memoryUsage()
  samples.push({ settled, rss: m.rss, heap: m.heapUsed, external: m.external, seconds: Number(process.hrtime.bigint() - t0) / 1e9 })
}

// --- The run -------------------------------------------------------------------------------------

async function main() {
  sample()
  let lastProgress = Date.now()
  let nextSample = opts.sample
  let nextWorker = opts.workersEvery > 0 ? opts.workersEvery : Infinity
  await new Promise((resolve) => {
    const pump = () => {
      while (inFlight < opts.inFlight && submitted < opts.tasks) {
        const id = submitted++
        inFlight++
        const p = submitOne(id).then(() => {
          pending.delete(p)
          inFlight--
          settled++
          lastProgress = Date.now()
          if (settled >= nextSample) {
            sample()
            nextSample += opts.sample
          }
          if (settled >= nextWorker && workerRun === null) {
            nextWorker += opts.workersEvery
            workerRun = workerRound()
          }
          if (settled === opts.tasks) resolve()
          else pump()
        })
        pending.add(p)
      }
    }
    pump()
    // A watchdog, not an ordering: if nothing settles for 60 s, what is pending is reported as lost.
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > 60000) {
        clearInterval(watchdog)
        resolve()
      }
    }, 1000)
    watchdog.unref()
  })
  if (workerRun !== null) await workerRun
  const lost = opts.tasks - settled
  // With calls lost, close() would wait for them forever: destroy instead, then report.
  await (lost === 0 ? pool.close() : pool.destroy())
  sample()

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const mb = (b) => (b / 1048576).toFixed(1)
  console.log(`soak: ${opts.tasks} tasks, ${opts.inFlight} in flight, seed ${opts.seed}, ${seconds.toFixed(1)} s (${Math.round(settled / seconds)} tasks/s)`)
  console.log(`settled: ${settled}, lost: ${lost}, duplicated: ${duplicates}, unexpected outcome: ${unexpected}`)
  console.log('by outcome: ' + [...byOutcome].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '))
  console.log('by kind:')
  for (const [k, n] of [...byKind].sort()) console.log(`  ${k}: ${n}`)
  console.log(`workers: ${workerStats.started} started, ${workerStats.terminated} terminated mid-flight, ${workerStats.failed} failed`)
  console.log('\n| settled | seconds | RSS MB | heap MB | external MB |\n|---|---|---|---|---|')
  for (const s of samples) console.log(`| ${s.settled} | ${s.seconds.toFixed(1)} | ${mb(s.rss)} | ${mb(s.heap)} | ${mb(s.external)} |`)
  // Growth is measured from the sample after the first tenth (warm-up: JIT, pool threads, the
  // allocator's arenas) to the highest later sample.
  const warm = samples[Math.min(samples.length - 1, Math.max(1, Math.floor(samples.length / 10)))]
  const later = samples.filter((s) => s.settled >= warm.settled)
  const peak = Math.max(...later.map((s) => s.rss))
  const growth = (peak - warm.rss) / 1048576
  console.log(`\nRSS: ${mb(samples[0].rss)} MB at start, ${mb(warm.rss)} MB after warm-up, peak ${mb(peak)} MB: max growth ${growth.toFixed(1)} MB (bound ${opts.maxGrowth} MB)`)
  for (const p of problems.slice(0, 20)) console.log(`problem: ${p}`)

  const checks = [
    ['every call settled exactly once', lost === 0 && duplicates === 0],
    ['every outcome of an allowed kind', unexpected === 0],
    ['every Worker terminated mid-flight stopped', workerStats.failed === 0],
    [`RSS growth within ${opts.maxGrowth} MB`, growth <= opts.maxGrowth],
  ]
  for (const [name, ok] of checks) console.log(`${ok ? 'ok' : 'FAILED'}: ${name}`)
  const failed = checks.filter(([, ok]) => !ok).length
  if (opts.counts) {
    fs.mkdirSync(path.dirname(opts.counts), { recursive: true })
    fs.writeFileSync(opts.counts, JSON.stringify({ passed: checks.length - failed, failed }) + '\n')
  }
  process.exit(failed === 0 ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  if (opts.counts) fs.writeFileSync(opts.counts, JSON.stringify({ passed: 0, failed: 1 }) + '\n')
  process.exit(1)
})
