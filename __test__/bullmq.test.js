'use strict'
// native-pool/bullmq against a real redis-server (installed with apt-get when missing, started on a
// free loopback port): two worker processes share one queue, fed by a producer in this process.
// Every wait is on a BullMQ event, a job promise or a worker's IPC report, never on a timer.

const crypto = require('node:crypto')
const path = require('node:path')
const zlib = require('node:zlib')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const { Queue, QueueEvents } = require('bullmq')
const { Pool } = require('..')
const { createWorker, createProcessor, encodeValue, decodeValue, failureCode, isRetryable, UNRECOVERABLE_CODES } = require('../lib/bullmq.js')
const { startRedis } = require('./redis/server.js')
const { ROOT, runNode, settle } = require('./helpers.js')

const WORKER = path.join(__dirname, 'redis', 'worker-process.js')
const QUEUE = `native-pool-test-${process.pid}`

let redis
let queue
let events
const workers = []

/** A worker process with a log of its IPC reports and a way to wait for one. */
function startWorker() {
  const child = fork(WORKER, [], {
    env: { ...process.env, REDIS_PORT: String(redis.port), QUEUE },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  const w = { child, pid: child.pid, reports: [], waiters: [], stderr: '' }
  child.stderr.on('data', (d) => (w.stderr += d))
  child.stdout.resume()
  child.on('message', (m) => {
    w.reports.push(m)
    w.waiters = w.waiters.filter(({ test, resolve }) => (test(m) ? (resolve(m), false) : true))
  })
  w.exited = once(child, 'exit')
  w.waitFor = (test) => {
    const seen = w.reports.find(test)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => w.waiters.push({ test, resolve }))
  }
  return w
}

/** Resolves with the first worker process (and its report) that reports `event` for `jobId`. */
function firstReport(event, jobId) {
  return Promise.race(workers.map((w) => w.waitFor((m) => m.event === event && m.jobId === jobId).then((m) => ({ w, m }))))
}

/** The job's final state, read back from Redis after it finished (waitUntilFinished settled). */
async function finished(job) {
  const outcome = await settle(job.waitUntilFinished(events))
  const stored = await queue.getJob(job.id)
  return { outcome, stored, state: await stored.getState() }
}

function jsSum(iterations) {
  let total = 0
  for (let i = 0; i < iterations; i++) total += i
  return total
}

// The generous timeout covers the first run on a fresh machine, which installs redis-server first.
beforeAll(async () => {
  redis = await startRedis({ log: (line) => console.log(line) })
  queue = new Queue(QUEUE, { connection: redis.connection })
  // Every waitUntilFinished listens for the queue's 'closing': one test waits on some 30 jobs at once.
  queue.setMaxListeners(100)
  events = new QueueEvents(QUEUE, { connection: redis.connection })
  await events.waitUntilReady()
  workers.push(startWorker(), startWorker())
  await Promise.all(workers.map((w) => w.waitFor((m) => m.event === 'ready' || m.event === 'error')))
  for (const w of workers) {
    const ready = w.reports.find((m) => m.event === 'ready')
    if (ready === undefined) throw new Error(`worker process ${w.pid} did not start: ${JSON.stringify(w.reports)} ${w.stderr}`)
  }
}, 300000)

afterAll(async () => {
  for (const w of workers) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      if (w.child.connected) w.child.send({ close: true })
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 10000)
      await w.exited
      clearTimeout(timer)
    }
  }
  await events?.close()
  await queue?.close()
  await redis?.stop()
}, 30000)

describe('two worker processes on one queue', () => {
  test('each worker takes as many jobs at once as its pool has threads, so jobs run on both processes', async () => {
    for (const w of workers) {
      const ready = w.reports.find((m) => m.event === 'ready')
      expect(ready).toMatchObject({ concurrency: 2, threads: 2 })
    }
    // Three jobs at once on workers that take two each: one of them must run on the other process.
    const jobs = await queue.addBulk([1, 2, 3].map(() => ({ name: 'sleep', data: { ms: 1500 } })))
    const results = await Promise.all(jobs.map((job) => finished(job)))
    for (const { outcome, state } of results) {
      expect(outcome.ok).toBe(true)
      expect(state).toBe('completed')
    }
    const by = new Set(results.map(({ stored }) => stored.processedBy))
    expect(by).toEqual(new Set(workers.map((w) => `worker-${w.pid}`)))
  }, 30000)

  test('results equal node:crypto, node:zlib and the JS loop; Buffers and BigInts decode back', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => crypto.randomBytes(1000 + i * 517))
    const sizes = [0, 1, 99, 100, 12345, 1e6]
    const text = Buffer.from('native-pool on BullMQ '.repeat(5000))
    const [hashJobs, hexJobs, sumJobs, [bigJob, gzipJob, echoJob]] = await Promise.all([
      // A raw Buffer in job data is stored as Node's { type: 'Buffer', data: [...] }.
      queue.addBulk(inputs.map((data) => ({ name: 'hash', data: { algorithm: 'sha256', data } }))),
      queue.addBulk(inputs.map((data) => ({ name: 'hash', data: encodeValue({ algorithm: 'sha512', data, encoding: 'hex' }) }))),
      queue.addBulk(sizes.map((iterations) => ({ name: 'sum', data: { iterations } }))),
      queue.addBulk([
        { name: 'sum', data: { iterations: 2e8 } },
        { name: 'gzip', data: encodeValue({ data: text }) },
        { name: 'echo', data: encodeValue({ big: 2n ** 70n, bytes: Buffer.from([0, 1, 255]), list: [1, 'two', null] }) },
      ]),
    ])
    const value = async (job) => decodeValue(await job.waitUntilFinished(events))

    const digests = await Promise.all(hashJobs.map(value))
    digests.forEach((digest, i) => {
      expect(Buffer.isBuffer(digest)).toBe(true)
      expect(digest.equals(crypto.createHash('sha256').update(inputs[i]).digest())).toBe(true)
    })
    const hex = await Promise.all(hexJobs.map(value))
    hex.forEach((digest, i) => expect(digest).toBe(crypto.createHash('sha512').update(inputs[i]).digest('hex')))
    const sums = await Promise.all(sumJobs.map(value))
    sums.forEach((total, i) => expect(total).toBe(jsSum(sizes[i])))
    // Past 2^53 the JS loop is inexact: the reference is the closed form n(n-1)/2 in BigInt.
    expect(await value(bigJob)).toBe((200000000n * 199999999n) / 2n)
    const gz = await value(gzipJob)
    expect(Buffer.isBuffer(gz)).toBe(true)
    expect(zlib.gunzipSync(gz).equals(text)).toBe(true)
    const echoed = await value(echoJob)
    expect(echoed).toEqual({ big: 2n ** 70n, bytes: Buffer.from([0, 1, 255]), list: [1, 'two', null] })
    // What BullMQ stored is plain JSON: the encoded forms.
    const stored = await queue.getJob(gzipJob.id)
    expect(stored.returnvalue).toEqual({ type: 'Buffer', base64: gz.toString('base64') })
  }, 30000)

  test('the producer sees progress (QueueEvents), rising, ending at 100 before completed', async () => {
    const seen = []
    const id = 'progress-1'
    const onProgress = ({ jobId, data }) => jobId === id && seen.push(data)
    const onCompleted = ({ jobId }) => jobId === id && seen.push('completed')
    events.on('progress', onProgress)
    events.on('completed', onCompleted)
    try {
      // Long enough (3e8 iterations) to outlast the worker's 50 ms progressInterval anywhere.
      const job = await queue.add('sum', { iterations: 3e8 }, { jobId: id })
      expect(decodeValue(await job.waitUntilFinished(events))).toBe((300000000n * 299999999n) / 2n)
      // QueueEvents delivers in stream order; 'completed' was read from the same stream as the progress.
      const completedAt = seen.indexOf('completed')
      expect(completedAt).toBeGreaterThan(0)
      const progress = seen.slice(0, completedAt)
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.at(-1)).toBe(100)
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1])
      for (const p of progress) expect(Number.isInteger(p) && p >= 1 && p <= 100).toBe(true)
      expect((await queue.getJob(job.id)).progress).toBe(100)
    } finally {
      events.off('progress', onProgress)
      events.off('completed', onCompleted)
    }
  }, 30000)

  test('a cancelled job stops mid-run and fails with ABORT_ERR, not retried', async () => {
    // About 4e9 iterations: many seconds of work, posting progress at each percent.
    const id = 'cancel-1'
    const firstProgress = new Promise((resolve) => {
      const onProgress = ({ jobId, data }) => {
        if (jobId !== id) return
        events.off('progress', onProgress)
        resolve(data)
      }
      events.on('progress', onProgress)
    })
    const job = await queue.add('sum', { iterations: 4e9 }, { attempts: 3, jobId: id })
    const { w } = await firstReport('active', job.id)
    expect(await firstProgress).toBeLessThan(100)
    w.child.send({ cancel: job.id, reason: 'the user asked' })
    expect(await w.waitFor((m) => m.event === 'cancel' && m.jobId === job.id)).toMatchObject({ found: true })
    const { outcome, stored, state } = await finished(job)
    expect(outcome.ok).toBe(false)
    expect(failureCode(outcome.error)).toBe('ABORT_ERR')
    expect(stored.failedReason).toMatch(/^ABORT_ERR: .*the user asked/)
    expect(state).toBe('failed')
    expect(stored.attemptsMade).toBe(1)
    expect(stored.returnvalue).toBeNull()
    expect(stored.progress).toBeLessThan(100)
    expect(await w.waitFor((m) => m.event === 'failed' && m.jobId === job.id)).toMatchObject({ code: 'ABORT_ERR', name: 'UnrecoverableError' })
  }, 30000)

  test('a job over its timeout is stopped with ERR_TASK_TIMEOUT, and retried while attempts remain', async () => {
    // 'slow-sum' runs sum under a 300 ms timeout (worker-process.js); 4e9 iterations take far longer.
    const job = await queue.add('slow-sum', { iterations: 4e9 }, { attempts: 2 })
    const { outcome, stored, state } = await finished(job)
    expect(outcome.ok).toBe(false)
    expect(failureCode(outcome.error)).toBe('ERR_TASK_TIMEOUT')
    expect(failureCode(stored)).toBe('ERR_TASK_TIMEOUT')
    expect(state).toBe('failed')
    expect(stored.attemptsMade).toBe(2)
    expect(stored.progress).toBeLessThan(100)
  }, 30000)

  test('bad arguments and unlisted job names fail at once; a task failure is retried', async () => {
    const [bad, unknown, corrupt] = await Promise.all([
      queue.add('sum', { iterations: -1 }, { attempts: 3 }),
      queue.add('fib', { n: 10 }, { attempts: 3 }), // a real task, but not in the worker's allow-list
      queue.add('gunzip', encodeValue({ data: Buffer.from('not gzip at all') }), { attempts: 2 }),
    ])
    const b = await finished(bad)
    expect(failureCode(b.outcome.error)).toBe('ERR_INVALID_ARG')
    expect(b.stored.failedReason).toMatch(/^ERR_INVALID_ARG: .*iterations/)
    expect(b.stored.attemptsMade).toBe(1)
    const u = await finished(unknown)
    expect(failureCode(u.stored.failedReason)).toBe('ERR_UNKNOWN_TASK')
    expect(u.stored.attemptsMade).toBe(1)
    const c = await finished(corrupt)
    expect(failureCode(c.stored)).toBe('ERR_TASK_FAILED')
    expect(c.state).toBe('failed')
    expect(c.stored.attemptsMade).toBe(2)
  }, 30000)

  // Last: it kills one of the two processes.
  test("a killed worker process's job is found stalled and run to completion by the other", async () => {
    const id = 'crash-1'
    const stalled = new Promise((resolve) => {
      const onStalled = ({ jobId }) => {
        if (jobId !== id) return
        events.off('stalled', onStalled)
        resolve(jobId)
      }
      events.on('stalled', onStalled)
    })
    const job = await queue.add('sleep', { ms: 2000 }, { jobId: id })
    const { w: victim } = await firstReport('active', job.id)
    const survivor = workers.find((w) => w !== victim)
    victim.child.kill('SIGKILL')
    const [, signal] = await victim.exited
    expect(signal).toBe('SIGKILL')
    await stalled
    await survivor.waitFor((m) => m.event === 'completed' && m.jobId === job.id)
    const { outcome, stored, state } = await finished(job)
    expect(outcome.ok).toBe(true)
    expect(state).toBe('completed')
    expect(stored.processedBy).toBe(`worker-${survivor.pid}`)
    expect(stored.attemptsStarted).toBe(2)
    expect(victim.reports.some((m) => m.event === 'completed' && m.jobId === job.id)).toBe(false)
  }, 40000)
})

describe('in one process', () => {
  function fakeJob(name, data) {
    const updates = []
    return { job: { id: '1', name, data, attemptsMade: 0, updateProgress: async (v) => void updates.push(v) }, updates }
  }

  test('progress is throttled: none for a short job, one update at a time, the latest flushed before the result', async () => {
    const pool = new Pool({ threads: 1 })
    try {
      // A job shorter than the interval sends no progress at all: its completion says it.
      const slow = createProcessor({ pool, progressInterval: 1e9 })
      const a = fakeJob('sum', { iterations: 1e7 })
      expect(await slow(a.job, 'token', undefined)).toBe(jsSum(1e7))
      expect(a.updates).toEqual([])

      // One update at a time: while the first is in flight every later message is coalesced, and the
      // latest (100) follows once it is done. The first update is held until the task posted all 100.
      const gated = createProcessor({ pool, progressInterval: 0 })
      const g = fakeJob('sum', { iterations: 1e7 })
      let posted = 0
      let release
      const allPosted = new Promise((resolve) => (release = resolve))
      const count = () => ++posted === 100 && release()
      pool.on('message', count)
      g.job.updateProgress = async (v) => {
        g.updates.push(v)
        await allPosted
      }
      expect(await gated(g.job, 'token', undefined)).toBe(jsSum(1e7))
      pool.off('message', count)
      expect(g.updates).toEqual([1, 100])

      const every = createProcessor({ pool, progressInterval: 0 })
      const b = fakeJob('sum', { iterations: 1e7 })
      await every(b.job, 'token', undefined)
      expect(b.updates.at(-1)).toBe(100)
      for (let i = 1; i < b.updates.length; i++) expect(b.updates[i]).toBeGreaterThan(b.updates[i - 1])

      const none = createProcessor({ pool, progress: false })
      const c = fakeJob('sum', { iterations: 1e6 })
      await none(c.job, 'token', undefined)
      expect(c.updates).toEqual([])

      const raw = createProcessor({ pool, progress: (m) => m, progressInterval: 0 })
      const d = fakeJob('sum', { iterations: 1e6 })
      await raw(d.job, 'token', undefined)
      expect(d.updates.at(-1)).toEqual({ progress: 1 })
    } finally {
      await pool.close()
    }
  })

  test('a throwing progress mapper fails the job with its error and stops the task', async () => {
    const pool = new Pool({ threads: 1 })
    try {
      const boom = new Error('mapper bug')
      const processor = createProcessor({ pool, progress: () => { throw boom } })
      const { job, updates } = fakeJob('sum', { iterations: 4e9 })
      const err = await processor(job, 'token', undefined).then(() => null, (e) => e)
      expect(err).toMatchObject({ message: 'mapper bug' })
      expect(err.cause).toBe(boom)
      expect(updates).toEqual([])
      expect(pool.stats().cancelled).toBe(1)
    } finally {
      await pool.close()
    }
  })

  test('the signal BullMQ passes cancels the task: an AbortSignal of our own does the same', async () => {
    const pool = new Pool({ threads: 1 })
    try {
      const processor = createProcessor({ pool, progressInterval: 0 })
      const controller = new AbortController()
      const { job, updates } = fakeJob('sum', { iterations: 4e9 })
      job.updateProgress = async (v) => {
        updates.push(v)
        controller.abort('stop now')
      }
      const err = await processor(job, 'token', controller.signal).then(() => null, (e) => e)
      expect(err).toMatchObject({ name: 'UnrecoverableError', code: 'ABORT_ERR' })
      expect(err.message).toBe('ABORT_ERR: The operation was aborted: stop now')
      expect(updates.length).toBeGreaterThan(0)
      expect(updates.at(-1)).toBeLessThan(100)
    } finally {
      await pool.close()
    }
  })

  test('retry rule: unrecoverable codes, and a custom retryable', async () => {
    expect([...UNRECOVERABLE_CODES].sort()).toEqual(['ABORT_ERR', 'ERR_INVALID_ARG', 'ERR_UNKNOWN_TASK'])
    expect(isRetryable({ code: 'ERR_TASK_TIMEOUT' })).toBe(true)
    expect(isRetryable(new Error('no code'))).toBe(true)
    expect(isRetryable({ code: 'ERR_INVALID_ARG' })).toBe(false)
    const pool = new Pool({ threads: 1 })
    try {
      const never = createProcessor({ pool, retryable: () => false })
      const { job } = fakeJob('gunzip', { data: 'not gzip' })
      const err = await never(job, 'token', undefined).then(() => null, (e) => e)
      expect(err).toMatchObject({ name: 'UnrecoverableError', code: 'ERR_TASK_FAILED' })
      const always = createProcessor({ pool, retryable: () => true })
      const bad = fakeJob('sum', { iterations: 'many' })
      const err2 = await always(bad.job, 'token', undefined).then(() => null, (e) => e)
      expect(err2).toMatchObject({ name: 'Error', code: 'ERR_INVALID_ARG', field: 'iterations' })
    } finally {
      await pool.close()
    }
  })

  test('encodeValue / decodeValue round-trip Buffers, binary views and BigInts through JSON', () => {
    const bytes = crypto.randomBytes(257)
    const value = {
      buf: bytes,
      view: new Uint16Array([1, 65535]),
      ab: new Uint8Array([9, 8, 7]).buffer,
      n: -(2n ** 64n),
      nested: [{ deep: Buffer.alloc(0) }, 3, 'x', null, true],
    }
    const json = JSON.parse(JSON.stringify(encodeValue(value)))
    expect(json.buf).toEqual({ type: 'Buffer', base64: bytes.toString('base64') })
    expect(json.n).toEqual({ type: 'BigInt', value: '-18446744073709551616' })
    const back = decodeValue(json)
    expect(back.buf.equals(bytes)).toBe(true)
    expect(back.view.equals(Buffer.from(new Uint16Array([1, 65535]).buffer))).toBe(true)
    expect([...back.ab]).toEqual([9, 8, 7])
    expect(back.n).toBe(-(2n ** 64n))
    expect(back.nested[0].deep.length).toBe(0)
    expect(back.nested.slice(1)).toEqual([3, 'x', null, true])
    // Node's own Buffer JSON form, as a raw Buffer in job data becomes.
    expect(decodeValue(JSON.parse(JSON.stringify({ d: bytes }))).d.equals(bytes)).toBe(true)
    // Objects that merely look alike keep their shape.
    expect(decodeValue({ type: 'Buffer', base64: 'AA==', extra: 1 })).toEqual({ type: 'Buffer', base64: 'AA==', extra: 1 })
    expect(decodeValue({ type: 'BigInt', value: '1.5' })).toEqual({ type: 'BigInt', value: '1.5' })
  })

  test('failureCode reads our code from a failedReason, an Error or a job, and nothing else', () => {
    expect(failureCode('ERR_TASK_TIMEOUT: task timed out')).toBe('ERR_TASK_TIMEOUT')
    expect(failureCode(new Error('ABORT_ERR: The operation was aborted'))).toBe('ABORT_ERR')
    expect(failureCode({ failedReason: 'ERR_QUEUE_FULL: full' })).toBe('ERR_QUEUE_FULL')
    expect(failureCode('ENOENT: no such file')).toBeUndefined()
    expect(failureCode('job stalled more than allowable limit')).toBeUndefined()
    expect(failureCode(undefined)).toBeUndefined()
  })

  test('bad options throw at once with ERR_INVALID_ARG naming the option', () => {
    const connection = { host: '127.0.0.1', port: 1 }
    expect(() => createWorker('q', { connection, timeout: -5 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.timeout', name: 'RangeError' }))
    expect(() => createWorker('q', { connection, pool: {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.pool' }))
    expect(() => createWorker('q', { connection, tasks: { a: 1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.tasks.a' }))
    expect(() => createWorker('q', { connection, progress: 'yes' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.progress' }))
    expect(() => createWorker('', { connection })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'queueName' }))
    expect(() => createProcessor({ pol: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.pol' }))
    expect(() => createProcessor({ retryable: true })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.retryable' }))
  })

  test('the processor declares three parameters, so BullMQ hands it an AbortSignal', () => {
    expect(createProcessor().length).toBe(3)
  })

  test("'native-pool/bullmq' resolves through package.json exports, from CommonJS and ESM", async () => {
    const esm = await runNode(
      "import('native-pool/bullmq').then((m) => console.log([typeof m.createWorker, typeof m.decodeValue, typeof m.failureCode].join()))",
    )
    expect(esm.stdout.trim()).toBe('function,function,function')
    const cjs = await runNode("console.log(require.resolve('native-pool/bullmq'))")
    expect(cjs.stdout.trim()).toBe(path.join(ROOT, 'lib', 'bullmq.js'))
  })
})
