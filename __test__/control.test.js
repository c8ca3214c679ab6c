'use strict'
// Control: AbortSignal, cancel(), timeouts counted from start, priorities, the queue limit, sizing.

const { getEventListeners } = require('node:events')
const { Pool } = require('..')
const { settle, noThrow } = require('./helpers')

/** A one-thread pool whose thread is held by a __spin task until `release()`. */
async function blockedPool(options = {}) {
  const pool = new Pool({ threads: 1, ...options })
  const blocker = pool.spawn('__spin', null)
  await new Promise((resolve) => blocker.once('message', resolve))
  return { pool, blocker, release: () => blocker.cancel() }
}

/** Resolves once `pool.stats()` satisfies `pred` (checked on each turn of the event loop). */
async function until(pool, pred) {
  while (!pred(pool.stats())) await new Promise((r) => setImmediate(r))
}

describe('AbortSignal', () => {
  test('an already aborted signal rejects at once with an AbortError carrying the reason', async () => {
    const pool = new Pool({ threads: 1 })
    const reason = new Error('no thanks')
    const signal = AbortSignal.abort(reason)
    const err = await noThrow(() => pool.run('sum', { iterations: 10 }, { signal })).catch((e) => e)
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
    expect(err.cause).toBe(reason)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    expect(pool.stats().completed).toBe(0)
    await pool.close()
  })

  test('aborting a queued task removes it from the queue at once', async () => {
    const { pool, release } = await blockedPool()
    const ac = new AbortController()
    const queued = pool.run('echo', 'never', { signal: ac.signal })
    const other = pool.run('echo', 'still runs')
    expect(pool.stats().queued).toBe(2)
    ac.abort('changed my mind')
    const err = await queued.catch((e) => e)
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'changed my mind' })
    // Rejected while the only thread is still held: it never waited for a thread.
    expect(pool.stats().queued).toBe(1)
    expect(pool.stats().running).toBe(1)
    release()
    await expect(other).resolves.toBe('still runs')
    await pool.close()
  })

  test('aborting a running task stops it and the thread serves the next task', async () => {
    const pool = new Pool({ threads: 1 })
    const ac = new AbortController()
    const handle = pool.spawn('__spin', null, { signal: ac.signal })
    await new Promise((resolve) => handle.once('message', resolve))
    const exit = new Promise((resolve) => handle.on('exit', resolve))
    ac.abort()
    await expect(handle.result).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
    await expect(exit).resolves.toBe(2)
    await expect(pool.run('fib', { n: 15 })).resolves.toBe(610)
    expect(pool.stats().threads).toBe(1)
    await pool.close()
  })

  test.each([
    ['sum', { iterations: Number.MAX_SAFE_INTEGER }],
    ['sleep', { ms: 1e9 }],
    ['fib', { n: 90 }],
    ['primes', { limit: 1e15 }],
  ])('a running %s stops when aborted', async (task, args) => {
    const pool = new Pool({ threads: 1 })
    const ac = new AbortController()
    const p = pool.run(task, args, { signal: ac.signal })
    await until(pool, (s) => s.running === 1)
    ac.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
    await expect(pool.run('echo', 1)).resolves.toBe(1)
    await pool.close()
  })

  test('no listener is left on a long-lived signal after its tasks end, however they end', async () => {
    const { pool, release } = await blockedPool()
    const ac = new AbortController()
    const signal = ac.signal
    const queued = [1, 2, 3].map((i) => pool.run('echo', i, { signal }))
    const failing = pool.run('__fail', {}, { signal })
    const timed = pool.run('sleep', { ms: 1e6 }, { signal, timeout: 20 })
    expect(getEventListeners(signal, 'abort')).toHaveLength(5)
    release()
    await Promise.allSettled([...queued, failing, timed])
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    // And after an abort of another controller's task.
    const ac2 = new AbortController()
    const spawned = pool.spawn('__spin', null, { signal: ac2.signal })
    await new Promise((resolve) => spawned.once('message', resolve))
    ac2.abort()
    await spawned.result.catch(() => {})
    expect(getEventListeners(ac2.signal, 'abort')).toHaveLength(0)
    await pool.close()
  })

  test('a user onabort handler is left untouched', async () => {
    const pool = new Pool({ threads: 1 })
    const ac = new AbortController()
    let called = 0
    ac.signal.onabort = () => called++
    await pool.run('echo', 1, { signal: ac.signal })
    const running = pool.spawn('__spin', null, { signal: ac.signal })
    await new Promise((resolve) => running.once('message', resolve))
    ac.abort()
    await running.result.catch(() => {})
    expect(called).toBe(1)
    expect(ac.signal.onabort).toEqual(expect.any(Function))
    await pool.close()
  })

  test('aborting after the task finished changes nothing', async () => {
    const pool = new Pool({ threads: 1 })
    const ac = new AbortController()
    await expect(pool.run('echo', 'done', { signal: ac.signal })).resolves.toBe('done')
    ac.abort()
    expect(pool.stats().cancelled).toBe(0)
    await pool.close()
  })
})

describe('timeout', () => {
  test('is counted from the start: a short task queued behind a long one still succeeds', async () => {
    const pool = new Pool({ threads: 1 })
    // The blocker holds the only thread until its own 400 ms timeout; the echo waits longer than its
    // 200 ms timeout in the queue, which must not count.
    const blocker = pool.spawn('__spin', null, { timeout: 400 })
    const exit = new Promise((resolve) => blocker.on('exit', resolve))
    const quick = pool.run('echo', 'made it', { timeout: 200 })
    await expect(blocker.result).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
    await expect(exit).resolves.toBe(3)
    await expect(quick).resolves.toBe('made it')
    await pool.close()
  })

  test.each([
    ['sleep', { ms: 1e9 }],
    ['sum', { iterations: Number.MAX_SAFE_INTEGER }],
    ['__spin', null],
  ])('a long %s rejects with ERR_TASK_TIMEOUT and the thread keeps serving', async (task, args) => {
    const pool = new Pool({ threads: 1 })
    await expect(pool.run(task, args, { timeout: 30 })).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
    await expect(pool.run('echo', 2)).resolves.toBe(2)
    expect(pool.stats().timedOut).toBe(1)
    await pool.close()
  })

  test("a spawned task that times out emits 'error' with ERR_TASK_TIMEOUT when listened to", async () => {
    const pool = new Pool({ threads: 1 })
    const handle = pool.spawn('sleep', { ms: 1e9 }, { timeout: 20 })
    const errors = []
    handle.on('error', (e) => errors.push(e.code))
    const code = await new Promise((resolve) => handle.on('exit', resolve))
    expect(code).not.toBe(0)
    expect(errors).toEqual(['ERR_TASK_TIMEOUT'])
    await pool.close()
  })
})

describe('priority', () => {
  test('with one thread, higher priorities run first and equal ones in submission order', async () => {
    const { pool, release } = await blockedPool()
    const order = []
    const jobs = [
      ['a', 0],
      ['b', 5],
      ['c', -1],
      ['d', 5],
      ['e', 10],
      ['f', 0],
      ['g', -(2 ** 31)],
      ['h', 2 ** 31 - 1],
    ]
    const all = jobs.map(([name, priority]) => pool.run('echo', name, { priority }).then((v) => order.push(v)))
    // No priority means 0, after the earlier 0s. (Options given, so every promise takes the same
    // number of hops and completion order is observable through .then().)
    all.push(pool.run('echo', 'i', {}).then((v) => order.push(v)))
    release()
    await Promise.all(all)
    expect(order).toEqual(['h', 'e', 'b', 'd', 'a', 'f', 'i', 'c', 'g'])
    await pool.close()
  })
})

describe('maxQueue', () => {
  test('a full queue rejects with ERR_QUEUE_FULL (never throws), and accepts again once there is room', async () => {
    const { pool, release } = await blockedPool({ maxQueue: 2 })
    const a = pool.run('echo', 'a')
    const b = pool.run('echo', 'b', { priority: 1 })
    const full = noThrow(() => pool.run('echo', 'c'))
    await expect(full).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    await expect(pool.spawn('echo', 'd').result).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    expect(pool.queueSize).toBe(2)
    release()
    await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b'])
    await expect(pool.run('echo', 'e')).resolves.toBe('e')
    await pool.close()
  })

  test('maxQueue 0 accepts only as many tasks as there are threads', async () => {
    const { pool, release } = await blockedPool({ maxQueue: 0 })
    await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    release()
    await until(pool, (s) => s.running === 0)
    await expect(pool.run('echo', 2)).resolves.toBe(2)
    await pool.close()
  })

  test("'drain' fires when the queue empties, and needsDrain tells when it is full", async () => {
    const { pool, release } = await blockedPool({ maxQueue: 1 })
    try {
      const queued = pool.run('echo', 1)
      queued.catch(() => {})
      expect(pool.needsDrain).toBe(true)
      const drained = new Promise((resolve) => pool.once('drain', resolve))
      release()
      await queued
      await drained
      expect(pool.needsDrain).toBe(false)
    } finally {
      release()
      await pool.destroy()
    }
  })
})

describe('sizing', () => {
  test("threads start on demand up to maxThreads and stop after idleTimeout, with 'online' / 'exit'", async () => {
    const pool = new Pool({ minThreads: 0, maxThreads: 2, idleTimeout: 30 })
    const online = []
    const exits = []
    pool.on('online', (t) => online.push(t))
    let onExit = () => {}
    pool.on('exit', (t, code) => {
      exits.push([t, code])
      onExit()
    })
    expect(pool.threads).toBe(0)
    const spins = [pool.spawn('__spin', null), pool.spawn('__spin', null), pool.spawn('__spin', null)]
    await Promise.all(spins.slice(0, 2).map((h) => new Promise((resolve) => h.once('message', resolve))))
    expect(pool.threads).toBe(2)
    expect(pool.queueSize).toBe(1)
    const retired = new Promise((resolve) => (onExit = () => exits.length === 2 && resolve()))
    spins.forEach((h) => h.cancel())
    await Promise.allSettled(spins.map((h) => h.result))
    await retired
    expect(online).toHaveLength(2)
    expect(exits.map(([t]) => t).sort()).toEqual([...online].sort())
    expect(exits.every(([, code]) => code === 0)).toBe(true)
    expect(pool.threads).toBe(0)
    // Work again: a thread starts again.
    await expect(pool.run('echo', 'again')).resolves.toBe('again')
    expect(online).toHaveLength(3)
    await pool.close()
  })

  test('minThreads stay alive when idle', async () => {
    const pool = new Pool({ minThreads: 1, maxThreads: 2, idleTimeout: 10 })
    const exited = new Promise((resolve) => pool.once('exit', resolve))
    const spins = [pool.spawn('__spin', null), pool.spawn('__spin', null)]
    await Promise.all(spins.map((h) => new Promise((resolve) => h.once('message', resolve))))
    spins.forEach((h) => h.cancel())
    await Promise.allSettled(spins.map((h) => h.result))
    await exited
    expect(pool.threads).toBe(1)
    await pool.close()
  })
})

describe('stats', () => {
  test('counts add up after a mixed batch of successes, failures, cancellations and timeouts', async () => {
    const { pool, blocker } = await blockedPool()
    const ac = new AbortController()
    const jobs = [
      pool.run('echo', 1),
      pool.run('sum', { iterations: 100 }),
      pool.run('fib', { n: 10 }),
      pool.run('__fail', {}),
      pool.run('__fail', {}),
      pool.run('__panic', {}),
      pool.run('echo', 'withdrawn', { signal: ac.signal }),
      pool.run('sleep', { ms: 1e9 }, { timeout: 10 }),
    ]
    ac.abort()
    blocker.cancel()
    await Promise.allSettled([...jobs, blocker.result])
    const s = pool.stats()
    expect(s).toMatchObject({
      threads: 1,
      running: 0,
      queued: 0,
      completed: 3,
      failed: 3,
      cancelled: 2,
      timedOut: 1,
    })
    expect(s.runTime.count).toBe(8) // everything but the withdrawn echo ran
    expect(s.waitTime.count).toBe(8)
    for (const h of [s.runTime, s.waitTime]) {
      expect(h.min).toBeLessThanOrEqual(h.p50)
      expect(h.p50).toBeLessThanOrEqual(h.p90)
      expect(h.p90).toBeLessThanOrEqual(h.p99)
      expect(h.p99).toBeLessThanOrEqual(h.max)
      expect(h.mean).toBeGreaterThanOrEqual(h.min)
      expect(h.mean).toBeLessThanOrEqual(h.max)
    }
    expect(s.utilization).toBeGreaterThanOrEqual(0)
    expect(s.utilization).toBeLessThanOrEqual(1)
    expect(pool.completed).toBe(3)
    expect(pool.queueSize).toBe(0)
    expect(pool.threads).toBe(1)
    await pool.close()
  })

  test('a fresh pool has zero counts and empty histograms', async () => {
    const pool = new Pool({ threads: 2 })
    const s = pool.stats()
    expect(s).toMatchObject({ completed: 0, failed: 0, cancelled: 0, timedOut: 0, queued: 0, running: 0 })
    expect(s.runTime.count).toBe(0)
    await pool.close()
  })
})

test('settle() helper sanity: a task outcome is observed once', async () => {
  const pool = new Pool({ threads: 1 })
  await expect(settle(pool.run('echo', 1))).resolves.toEqual({ ok: true, value: 1 })
  await pool.close()
})
