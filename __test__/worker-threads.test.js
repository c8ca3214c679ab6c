'use strict'
// worker_threads: several Workers share Pool.shared() (one set of native threads per process), and
// terminating a Worker with work in flight never crashes the process: its queued jobs are skipped.

const fs = require('node:fs')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { Pool } = require('..')
const { ROOT, runNode } = require('./helpers')

const SHARED_WORKER = path.join(__dirname, 'fixtures', 'shared-worker.js')
const FLOOD_WORKER = path.join(__dirname, 'fixtures', 'flood-worker.js')

/** Names of this process's threads (Linux), e.g. 'native-pool-sh' for the shared pool's threads. */
function threadNames() {
  return fs.readdirSync('/proc/self/task').map((t) => {
    try {
      return fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()
    } catch {
      return ''
    }
  })
}

function runWorker(file, workerData) {
  const worker = new Worker(file, { workerData: { root: ROOT, ...workerData } })
  const message = new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return { worker, message }
}

const jsSum = (n) => {
  let t = 0
  for (let i = 0; i < n; i++) t += i
  return t
}

test('several Workers using Pool.shared() all compute correct results on the same native threads', async () => {
  const before = Pool.shared().stats().completed
  const workers = [0, 1, 2, 3].map((index) => runWorker(SHARED_WORKER, { index }))
  const results = await Promise.all(workers.map((w) => w.message))
  const fibs = [6765, 10946, 17711, 28657]
  const pis = [25, 168, 1229, 9592]
  results.forEach((r, k) => {
    expect(r.error).toBeUndefined()
    expect(r.sums).toEqual(Array.from({ length: 20 }, (_, i) => jsSum(1000 * k + i)))
    expect(r.fib).toBe(fibs[k])
    expect(r.primes).toBe(pis[k])
    expect(r.same).toBe(true)
    // Every Worker sees the same process-wide pool: one thread per CPU, not per Worker.
    expect(r.stats.threads).toBe(r.maxThreads)
  })
  // The main thread's handle counts the Workers' jobs too: it is the same pool.
  expect(Pool.shared().stats().completed - before).toBeGreaterThanOrEqual(4 * 23)
  const shared = threadNames().filter((n) => n.startsWith('native-pool-sh'))
  expect(shared).toHaveLength(results[0].maxThreads)
  await Promise.all(workers.map((w) => w.worker.terminate()))
  await expect(Pool.shared().run('echo', 'main')).resolves.toBe('main')
})

test('terminating a Worker with many queued jobs is prompt, skips them, and the shared pool keeps serving', async () => {
  const pool = Pool.shared()
  const threads = pool.options.maxThreads
  const before = pool.stats()
  // Every shared thread spins, and 100,000 sleeps of 5 ms wait behind them: minutes of work if run.
  const { worker, message } = runWorker(FLOOD_WORKER, { spins: threads, sleeps: 100000, ms: 5 })
  const { queued } = await message
  expect(queued).toBeGreaterThanOrEqual(100000)
  await worker.terminate()
  // The main thread is served right away: the orphaned jobs are skipped, not run.
  await expect(pool.run('fib', { n: 20 })).resolves.toBe(6765)
  await expect(pool.run('sum', { iterations: 100 }, { priority: -5 })).resolves.toBe(4950)
  const after = pool.stats()
  expect(after.completed - before.completed).toBeLessThan(100)
  expect(after.queued).toBe(0)
})

test('a Worker terminated while its tasks run, then a new Worker, still get correct results', async () => {
  for (let round = 0; round < 3; round++) {
    const { worker, message } = runWorker(FLOOD_WORKER, { spins: 1, sleeps: 1000, ms: 1 })
    await message
    await worker.terminate()
  }
  const { worker, message } = runWorker(SHARED_WORKER, { index: 1 })
  const r = await message
  expect(r.fib).toBe(10946)
  await worker.terminate()
})

test('a Worker that exits on its own with tasks queued does not crash the process', async () => {
  const out = await runNode(`
    const { Worker } = require('node:worker_threads')
    const { Pool } = require('.')
    const w = new Worker(\`
      const { Pool } = require(${JSON.stringify(ROOT)})
      const pool = new Pool({ threads: 1 })
      const spin = pool.spawn('__spin', null)
      for (let i = 0; i < 10000; i++) pool.run('sleep', { ms: 10 }).catch(() => {})
      spin.once('message', () => process.exit(0))
    \`, { eval: true })
    w.on('exit', async (code) => {
      console.log('worker exit', code)
      console.log('main', await Pool.shared().run('echo', 'ok'))
    })
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'worker exit 0\nmain ok\n' })
})
