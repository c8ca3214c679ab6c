'use strict'
// Jobs/s through BullMQ (Redis) with native-pool doing the work, against BullMQ's own sandboxed
// processors (child processes running the same job in JavaScript, benchmark/bullmq-processor.js) and
// an ordinary processor function on the main thread; and the per-job cost BullMQ adds, from an empty
// job through BullMQ against `pool.run` called directly. Every result is checked after timing.
// Uses REDIS_URL, or starts its own redis-server (as the tests do).
// Usage: node benchmark/bullmq.js [--threads 2] [--reps 3] [--small 500] [--heavy 60] [--empty 500]
//        [--only small,heavy,empty] [--no-progress] (native-pool's worker with progress: false)

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Queue, Worker } = require('bullmq')
const { Pool } = require('..')
const { createWorker } = require('../lib/bullmq.js')
const { startRedis } = require('../__test__/redis/server.js')
const sandboxed = require('./bullmq-processor.js')

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const THREADS = arg('threads', 2)
const REPS = arg('reps', 3)
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : null
const PROGRESS = !process.argv.includes('--no-progress')
const COUNTS = { small: arg('small', 500), heavy: arg('heavy', 60), empty: arg('empty', 500) }

const SUM_ITERATIONS = 1e7
const SUM_RESULT = (SUM_ITERATIONS * (SUM_ITERATIONS - 1)) / 2 // exact: below 2^53

// The same job for every system: its name, its data, and the check of its result.
function makeJobs(workload, n) {
  if (workload === 'small') {
    return Array.from({ length: n }, () => {
      const data = crypto.randomBytes(768).toString('base64') // 1 KiB of text
      return { name: 'hash', data: { algorithm: 'sha256', data, encoding: 'hex' }, expect: crypto.createHash('sha256').update(data).digest('hex') }
    })
  }
  if (workload === 'heavy') return Array.from({ length: n }, () => ({ name: 'sum', data: { iterations: SUM_ITERATIONS }, expect: SUM_RESULT }))
  return Array.from({ length: n }, (_, i) => ({ name: 'echo', data: { i }, expect: { i } }))
}

const WORKLOADS = [
  { key: 'small', label: 'sha256 of 1 KiB', concurrency: [THREADS, 4 * THREADS] },
  { key: 'heavy', label: `sum of 0..${SUM_ITERATIONS}-1`, concurrency: [THREADS, 4 * THREADS] },
  { key: 'empty', label: 'empty job (echo)', concurrency: [1, THREADS, 4 * THREADS] },
]

let queueSeq = 0

/** A worker of one system on a queue of its own, with a way to wait for n completed jobs. */
async function startSystem(system, connection, concurrency, pool, cpuRoots) {
  const name = `bench-${process.pid}-${queueSeq++}`
  const queue = new Queue(name, { connection })
  const opts = { connection, concurrency }
  let worker
  if (system === 'native-pool') worker = createWorker(name, { ...opts, pool, progress: PROGRESS })
  else if (system === 'sandboxed') worker = new Worker(name, path.join(__dirname, 'bullmq-processor.js'), opts)
  else worker = new Worker(name, sandboxed, opts) // the same JS function, on the main thread
  const s = { system, concurrency, queue, worker, waiting: null, results: new Map(), cpuRoots }
  worker.on('completed', (job, result) => {
    s.results.set(job.id, result)
    if (s.waiting !== null && s.results.size >= s.waiting.n) s.waiting.resolve()
  })
  worker.on('failed', (job, err) => {
    if (s.waiting !== null) s.waiting.reject(new Error(`${system}: job ${job && job.id} failed: ${err.message}`))
  })
  await worker.waitUntilReady()
  return s
}

/** Runs `jobs` on a system: queued while its worker is paused, then timed from resume to the last completion. */
async function runBatch(s, jobs) {
  s.results.clear()
  await s.worker.pause()
  const added = await s.queue.addBulk(jobs.map(({ name, data }) => ({ name, data, opts: { removeOnComplete: true } })))
  const done = new Promise((resolve, reject) => (s.waiting = { n: jobs.length, resolve, reject }))
  const cpuBefore = cpuMs(s.cpuRoots)
  const start = process.hrtime.bigint()
  s.worker.resume()
  await done
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const cpuPerJobUs = ((cpuMs(s.cpuRoots) - cpuBefore) * 1000) / jobs.length
  s.waiting = null
  added.forEach((job, i) => {
    const got = s.results.get(job.id)
    const want = jobs[i].expect
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${s.system}: wrong result for job ${job.id}: ${JSON.stringify(got)} (expected ${JSON.stringify(want)})`)
  })
  return { rate: jobs.length / seconds, cpu: cpuPerJobUs }
}

/** pool.run called directly on the same empty job: one at a time, and `inFlight` at a time. */
async function directRun(pool, n, inFlight) {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) {
        const out = await pool.run('echo', { i: next })
        if (out.i === undefined) throw new Error('echo lost its argument')
      }
    }),
  )
  return n / (Number(process.hrtime.bigint() - start) / 1e9)
}

// CPU time (user + system) of this process, its child processes (the sandboxed processors) and the
// redis-server: less disturbed by other load on a shared machine than wall-clock jobs/s.
const TICK_MS = 10 // USER_HZ is 100 on Linux
function processTable() {
  const table = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      table.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) })
    } catch {
      // The process exited while we read.
    }
  }
  return table
}
function cpuMs(roots) {
  const table = processTable()
  const mine = new Set(roots)
  for (let grew = true; grew; ) {
    grew = false
    for (const p of table) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = mine.add(p.pid) && true
  }
  return table.filter((p) => mine.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) * TICK_MS
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)}k` : x.toFixed(x >= 100 ? 0 : 1))
const spread = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`

async function main() {
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ')
  let redis = null
  let connection
  if (process.env.REDIS_URL) {
    const u = new URL(process.env.REDIS_URL)
    connection = { host: u.hostname, port: Number(u.port || 6379) }
  } else {
    redis = await startRedis({ log: (line) => console.error(line) })
    connection = redis.connection
  }
  // Not niced (the pool's default is +10): BullMQ's child processes and redis-server are not either.
  const pool = new Pool({ threads: THREADS, niceIncrement: 0 })
  const systems = ['native-pool', 'sandboxed', 'main-thread']
  const cpuRoots = redis !== null ? [process.pid, redis.pid] : [process.pid]
  const rows = []
  try {
    for (const w of WORKLOADS) {
      if (ONLY !== null && !ONLY.includes(w.key)) continue
      for (const concurrency of w.concurrency) {
        const started = []
        for (const system of systems) started.push(await startSystem(system, connection, concurrency, pool, cpuRoots))
        // Warm-up: child processes started, JIT and connections warm.
        for (const s of started) await runBatch(s, makeJobs(w.key, Math.max(20, 4 * concurrency)))
        const rates = new Map(systems.map((name) => [name, []]))
        const cpus = new Map(systems.map((name) => [name, []]))
        for (let rep = 0; rep < REPS; rep++) {
          // Interleaved, rotating the order: a change in the shared machine's load falls on all alike.
          for (let k = 0; k < started.length; k++) {
            const s = started[(rep + k) % started.length]
            const { rate, cpu } = await runBatch(s, makeJobs(w.key, COUNTS[w.key]))
            rates.get(s.system).push(rate)
            cpus.get(s.system).push(cpu)
          }
        }
        const row = { workload: w.label, concurrency, rates: Object.fromEntries(rates), cpus: Object.fromEntries(cpus) }
        rows.push(row)
        console.error(`${w.label}, concurrency ${concurrency}: ${systems.map((n) => `${n} ${fmt(median(rates.get(n)))}/s`).join(', ')}`)
        for (const s of started) {
          await s.worker.close()
          await s.queue.obliterate({ force: true })
          await s.queue.close()
        }
      }
    }
    const direct1 = []
    const directN = []
    await directRun(pool, 2000, 1)
    for (let rep = 0; rep < REPS; rep++) {
      direct1.push(await directRun(pool, COUNTS.empty * 10, 1))
      directN.push(await directRun(pool, COUNTS.empty * 10, 4 * THREADS))
    }

    const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ')
    const bullmqVersion = require('bullmq/package.json').version
    console.log(`BullMQ ${bullmqVersion}, redis-server on loopback, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model.trim()}), pool threads ${THREADS} (nice 0), native-pool progress ${PROGRESS ? 'on' : 'off'}`)
    console.log(`load average before ${loadBefore}, after ${loadAfter}; ${REPS} interleaved repetitions, median (min–max) jobs/s\n`)
    console.log('| job | concurrency | native-pool | sandboxed (child processes) | main-thread processor | native-pool ÷ sandboxed |')
    console.log('|---|---|---|---|---|---|')
    for (const r of rows) {
      const [np, sb, mt] = systems.map((n) => r.rates[n])
      console.log(`| ${r.workload} | ${r.concurrency} | ${fmt(median(np))}/s (${spread(np)}) | ${fmt(median(sb))}/s (${spread(sb)}) | ${fmt(median(mt))}/s (${spread(mt)}) | ${(median(np) / median(sb)).toFixed(2)}× |`)
    }
    console.log(`\nCPU time per job (µs, median; this process + its child processes${redis !== null ? ' + redis-server' : ''}, from /proc, 10 ms ticks):\n`)
    console.log('| job | concurrency | native-pool | sandboxed | main-thread processor |')
    console.log('|---|---|---|---|---|')
    for (const r of rows) console.log(`| ${r.workload} | ${r.concurrency} | ${systems.map((n) => median(r.cpus[n]).toFixed(0)).join(' | ')} |`)
    const empty1 = rows.find((r) => r.workload.startsWith('empty') && r.concurrency === 1)
    if (empty1 === undefined) return
    const us = (rate) => (1e6 / rate).toFixed(1)
    console.log(`\nPer-job cost of an empty job: pool.run direct ${us(median(direct1))} µs one at a time (${fmt(median(directN))}/s with ${4 * THREADS} in flight); ` +
      `through BullMQ with native-pool ${us(median(empty1.rates['native-pool']))} µs one at a time, so BullMQ adds about ${(1e6 / median(empty1.rates['native-pool']) - 1e6 / median(direct1)).toFixed(0)} µs per job ` +
      `(a main-thread processor: ${us(median(empty1.rates['main-thread']))} µs; sandboxed: ${us(median(empty1.rates.sandboxed))} µs).`)
  } finally {
    await pool.close()
    if (redis !== null) await redis.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
