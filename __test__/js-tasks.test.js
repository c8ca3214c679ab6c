'use strict'
// JS tasks: functions of the user's modules run on the pool's Workers, fed by the native queue.
// Every result is compared with the same function called inline.

const path = require('node:path')
const { once } = require('node:events')
const { pathToFileURL } = require('node:url')
const { Pool } = require('..')
const { runNode, settle } = require('./helpers.js')
const inline = require('./fixtures/js-tasks/tasks.js')

const FIXTURES = path.join(__dirname, 'fixtures', 'js-tasks')
const TASKS = path.join(FIXTURES, 'tasks.js')
const ESM = path.join(FIXTURES, 'esm-tasks.mjs')

const pools = []
function pool(options) {
  const p = new Pool({ threads: 1, workers: 2, modules: [TASKS], ...options })
  pools.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()))
})

/** Resolves once a spawned task has posted its first message. */
const started = (handle) => once(handle, 'message')

describe('results', () => {
  test('equal the same functions run inline', async () => {
    const p = pool()
    expect(await p.run('performTask', 100000)).toBe(inline.performTask(100000))
    expect(await p.run('fibonacci', 20)).toBe(inline.fibonacci(20))
    const value = { a: [1, 'two', null, undefined, true], b: { c: 12345678901234567890n, d: -0.5 }, e: '' }
    expect(await p.run('passThrough', value)).toEqual(inline.passThrough(value))
    const data = Buffer.from([0, 1, 2, 254, 255])
    const out = await p.run('increment', { data })
    expect(Buffer.isBuffer(out)).toBe(true)
    expect(out.equals(inline.increment({ data }))).toBe(true)
    expect(data).toEqual(Buffer.from([0, 1, 2, 254, 255]))
  })

  test('typed arrays and large buffers cross in and out', async () => {
    const p = pool()
    const big = Buffer.alloc(1 << 20, 7)
    const out = await p.run('increment', { data: big })
    expect(out.length).toBe(big.length)
    expect(out.equals(Buffer.alloc(1 << 20, 8))).toBe(true)
    const u16 = new Uint16Array([1, 2, 3])
    expect(await p.run('keepInput', { data: u16 })).toBe(6) // its bytes, as a Buffer
  })

  test('an input a task kept is detached once the task is done', async () => {
    const p = pool({ workers: 1 })
    expect(await p.run('keepInput', { data: Buffer.alloc(100, 1) })).toBe(100)
    expect(await p.run('keptLength')).toBe(0)
  })

  test('ES modules, file: URLs and async functions', async () => {
    const p = pool({ modules: [pathToFileURL(TASKS), ESM] })
    expect(await p.run('square', 12)).toBe(144)
    expect(await p.run('greet', { name: 'pool' })).toBe('hello, pool')
    await expect(p.run('delayed', { ms: 5, value: 'later' })).resolves.toBe('later')
    await expect(p.run('notATask')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TASK' })
  })

  test('relative module paths resolve against the working directory', async () => {
    const p = pool({ modules: [path.relative(process.cwd(), TASKS)] })
    expect(await p.run('performTask', 10)).toBe(45)
  })

  test('several Workers run async tasks side by side', async () => {
    const p = pool({ workers: 2 })
    const values = Array.from({ length: 20 }, (_, i) => i)
    expect(await Promise.all(values.map((value) => p.run('delayed', { ms: 2, value })))).toEqual(values)
    // Two tasks that resolve only while both run at once: on two Workers, side by side.
    const met = await Promise.all([0, 1].map(() => p.run('rendezvous', { channel: `meet-${process.pid}`, parties: 2 })))
    expect(new Set(met).size).toBe(2)
    expect(met).not.toContain(require('node:worker_threads').threadId)
    expect(p.stats().workers).toBe(2)
  })

  test('ctx.id is the handle id', async () => {
    const p = pool()
    const handle = p.spawn('identity', [1, 2])
    expect(await handle.result).toEqual({ id: handle.id, args: [1, 2] })
  })

  test('values that cannot cross are refused, naming the field', async () => {
    const p = pool()
    await expect(p.run('passThrough', { f: () => 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'args.f' })
    await expect(p.run('passThrough', { m: new Map() })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'args.m' })
    await expect(p.run('passThrough', [1, new Date()])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'args[1]' })
    class Point {
      x = 1
    }
    await expect(p.run('passThrough', new Point())).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'args' })
    await expect(p.run('passThrough', Symbol('s'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'args' })
    // A plain object of null prototype crosses.
    expect(await p.run('passThrough', Object.assign(Object.create(null), { k: 1 }))).toEqual({ k: 1 })
  })

  test('a result that cannot cross fails the task', async () => {
    const p = pool({ modules: [TASKS, path.join(FIXTURES, 'bad-result.js')] })
    await expect(p.run('returnsAFunction')).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  })
})

describe('events', () => {
  test('success: every message, then exit 0, on the handle and the pool', async () => {
    const p = pool()
    const poolMessages = []
    p.on('message', (m) => poolMessages.push(m))
    const handle = p.spawn('sumWithProgress', { iterations: 1000 })
    const seen = []
    handle.on('message', (m) => seen.push(['message', m.progress]))
    const exited = new Promise((resolve) => handle.on('exit', (code) => resolve(seen.push(['exit', code]))))
    expect(await handle.result).toBe(inline.performTask(1000))
    await exited
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, k) => ['message', (k + 1) / 10]), ['exit', 0]])
    expect(poolMessages.map((m) => [m.id, m.task])).toEqual(Array(10).fill([handle.id, 'sumWithProgress']))
  })

  test('failure: ERR_TASK_FAILED with the thrown error as cause, error before exit 1', async () => {
    const p = pool()
    const handle = p.spawn('fail', { message: 'out of range' })
    const seen = []
    handle.on('error', (e) => seen.push(['error', e.code]))
    handle.on('exit', (code) => seen.push(['exit', code]))
    const err = await handle.result.catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_TASK_FAILED', cause: { name: 'RangeError', message: 'out of range' } })
    expect(err.cause.stack).toContain('fail')
    expect(err.cause.stack).toContain('tasks.js')
    await new Promise(setImmediate)
    expect(seen).toEqual([['error', 'ERR_TASK_FAILED'], ['exit', 1]])
    await expect(p.run('reject', { message: 'async' })).rejects.toMatchObject({
      code: 'ERR_TASK_FAILED',
      cause: { name: 'TypeError', message: 'async' },
    })
  })

  test('cancel: ctx.signal aborts inside the task, AbortError, exit 2', async () => {
    const p = pool()
    const handle = p.spawn('waitForAbort')
    const exit = once(handle, 'exit')
    await started(handle)
    handle.cancel('enough')
    await expect(handle.result).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough' })
    expect(await exit).toEqual([2])
  })

  test('an AbortSignal stops a synchronous loop through ctx.aborted', async () => {
    const p = pool()
    const controller = new AbortController()
    const handle = p.spawn('spinUntilAborted', undefined, { signal: controller.signal })
    await started(handle)
    controller.abort()
    await expect(handle.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    expect(await p.run('performTask', 10)).toBe(45)
  })

  test('timeout: an infinite loop rejects with ERR_TASK_TIMEOUT, exit 3, and the pool recovers', async () => {
    const p = pool({ workers: 1, graceTime: 20 })
    const handle = p.spawn('infiniteLoop', undefined, { timeout: 30 })
    const exit = new Promise((resolve) => handle.on('exit', (code) => resolve([code])))
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
    expect(await exit).toEqual([3])
    expect(await p.run('performTask', 100)).toBe(inline.performTask(100))
    expect(p.stats().timedOut).toBe(1)
  })
})

describe('Workers that die', () => {
  test('forced termination after the grace period loses no other task', async () => {
    const p = pool({ workers: 2, graceTime: 30 })
    const stuck = p.spawn('infiniteLoop')
    await started(stuck)
    // Others queued and running on the other Worker, and queued behind the stuck one.
    const others = Array.from({ length: 30 }, (_, i) => p.run('delayed', { ms: 1, value: i }))
    stuck.cancel()
    await expect(stuck.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    expect(await Promise.all(others)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(await p.run('fibonacci', 15)).toBe(inline.fibonacci(15))
  })

  test('process.exit in a task rejects it with ERR_TASK_FAILED; the Worker is replaced', async () => {
    const p = pool({ workers: 1 })
    await expect(p.run('exitProcess')).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    expect(await p.run('performTask', 1000)).toBe(inline.performTask(1000))
  })

  test('an uncaught exception in a Worker rejects its task; the pool goes on', async () => {
    const p = pool({ workers: 1 })
    await expect(p.run('throwLater')).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
    expect(await p.run('fibonacci', 10)).toBe(55)
  })
})

describe('modules and names', () => {
  test('a module that throws at load: every run rejects with the load error as cause, and error once', async () => {
    const p = pool({ modules: [path.join(FIXTURES, 'throws-at-load.js')] })
    const errors = []
    p.on('error', (e) => errors.push(e))
    const runs = await Promise.all([settle(p.run('anything')), settle(p.run('other', 1, { priority: 1 }))])
    for (const r of runs) {
      expect(r.ok).toBe(false)
      expect(r.error).toMatchObject({ code: 'ERR_TASK_FAILED', cause: { name: 'SyntaxError', message: 'this module cannot be loaded' } })
    }
    expect(errors).toHaveLength(1)
    // Native tasks still run.
    expect(await p.run('sum', { iterations: 10 })).toBe(45)
  })

  test('a module with no function is an ERR_INVALID_ARG', async () => {
    const p = pool({ modules: [path.join(FIXTURES, 'no-functions.js')] })
    await expect(p.run('answer')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' })
  })

  test('a clash with a native task names both; a prefix or a name map resolves it', async () => {
    const clash = path.join(FIXTURES, 'sum-clash.js')
    const p = pool({ modules: [clash] })
    const err = await p.run('sum', { iterations: 3 }).then(() => null, (e) => e)
    // `sum` is the native task: it still runs; the clash rejects the JS tasks.
    expect(err).toBe(null)
    const js = await p.run('anything').catch((e) => e)
    expect(js).toMatchObject({ code: 'ERR_INVALID_ARG' })
    expect(js.message).toContain('"sum"')
    expect(js.message).toContain('native task')
    expect(js.message).toContain('sum-clash.js')
    const prefixed = pool({ modules: [{ path: clash, prefix: 'js_' }] })
    expect(await prefixed.run('js_sum', 5)).toBe(5)
    const mapped = pool({ modules: [{ path: clash, names: { sum: 'jsSum' } }] })
    expect(await mapped.run('jsSum', 6)).toBe(6)
  })

  test('a clash between two modules names both', async () => {
    const p = pool({ modules: [TASKS, { path: path.join(FIXTURES, 'esm-tasks.mjs'), names: { square: 'fibonacci' } }] })
    const err = await p.run('fibonacci', 3).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG' })
    expect(err.message).toContain('tasks.js')
    expect(err.message).toContain('esm-tasks.mjs')
  })

  test('bad module options throw at construction', () => {
    expect(() => new Pool({ modules: 'tasks.js' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.modules' }))
    expect(() => new Pool({ modules: [] })).toThrow(RangeError)
    expect(() => new Pool({ modules: [42] })).toThrow(expect.objectContaining({ field: 'options.modules[0]' }))
    expect(() => new Pool({ modules: ['https://example.com/x.js'] })).toThrow(expect.objectContaining({ field: 'options.modules[0]' }))
    expect(() => new Pool({ modules: [{ path: TASKS, prefix: 1 }] })).toThrow(expect.objectContaining({ field: 'options.modules[0].prefix' }))
    expect(() => new Pool({ modules: [{ path: TASKS, other: 1 }] })).toThrow(expect.objectContaining({ field: 'options.modules[0].other' }))
    expect(() => new Pool({ workers: 2 })).toThrow(expect.objectContaining({ field: 'options.workers' }))
    expect(() => new Pool({ modules: [TASKS], workers: 0 })).toThrow(RangeError)
    expect(() => new Pool({ modules: [TASKS], graceTime: -1 })).toThrow(RangeError)
  })

  test('pool.tasks() lists the JS tasks with their kind', async () => {
    const p = pool()
    const list = await p.tasks()
    const js = list.filter((t) => t.kind === 'js').map((t) => t.name)
    expect(js).toEqual(Object.keys(inline).filter((k) => typeof inline[k] === 'function'))
    expect(list.find((t) => t.name === 'sum').kind).toBe('native')
    expect(Pool.tasks().every((t) => t.kind === 'native')).toBe(true)
  })
})

describe('run options and the queue', () => {
  test('priority: higher first on one busy Worker', async () => {
    const p = pool({ workers: 1 })
    const blocker = p.spawn('waitForAbort')
    await started(blocker)
    const order = []
    const runs = [0, 5, -1, 5, 1].map((priority, i) => p.run('identity', i, { priority }).then(() => order.push(i)))
    blocker.cancel()
    await Promise.all(runs)
    expect(order).toEqual([1, 3, 4, 0, 2])
  })

  test('maxQueue: ERR_QUEUE_FULL past the limit, then drain', async () => {
    const p = pool({ threads: 1, workers: 1, maxQueue: 1 })
    const blocker = p.spawn('waitForAbort')
    await started(blocker)
    // One Worker busy, one native thread's worth of room, one queue place: two more fit.
    const accepted = [p.run('identity', 1), p.run('identity', 2)]
    await expect(p.run('identity', 3)).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    expect(p.needsDrain).toBe(true)
    const drained = once(p, 'drain')
    blocker.cancel()
    await Promise.all(accepted)
    await drained
  })

  test('a signal aborted while queued rejects at once without running', async () => {
    const p = pool({ workers: 1 })
    const blocker = p.spawn('waitForAbort')
    await started(blocker)
    const controller = new AbortController()
    const queued = p.run('identity', 1, { signal: controller.signal })
    controller.abort()
    await expect(queued).rejects.toMatchObject({ code: 'ABORT_ERR' })
    blocker.cancel()
    const s = p.stats()
    expect(s.cancelled).toBeGreaterThanOrEqual(1)
  })

  test('thousands of mixed JS and native tasks settle exactly once', async () => {
    const p = pool({ threads: 2, workers: 2 })
    const n = 3000
    const settled = new Array(n).fill(0)
    const runs = []
    for (let i = 0; i < n; i++) {
      const run = i % 2 === 0 ? p.run('passThrough', i) : p.run('performTask', i % 50)
      runs.push(run.then((v) => {
        settled[i]++
        return v
      }))
    }
    const values = await Promise.all(runs)
    values.forEach((v, i) => expect(v).toBe(i % 2 === 0 ? i : inline.performTask(i % 50)))
    expect(settled.every((c) => c === 1)).toBe(true)
    expect(p.stats().completed).toBe(n)
  })
})

/** Resolves once `condition()` holds, checking every few milliseconds (jest's timeout bounds it). */
async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('a growing set of Workers', () => {
  test('starts Workers on demand up to maxWorkers, retires them after idleTimeout, starts them again', async () => {
    const p = pool({ workers: undefined, minWorkers: 0, maxWorkers: 3, idleTimeout: 50 })
    expect(p.options).toMatchObject({ minWorkers: 0, maxWorkers: 3 })
    await p.tasks() // one Worker started with the pool, to load the modules
    // Three tasks that resolve only while all three run at once: the pool grew to three Workers.
    const met = await Promise.all([0, 1, 2].map(() => p.run('rendezvous', { channel: `grow-${process.pid}`, parties: 3 })))
    expect(new Set(met).size).toBe(3)
    expect(p.stats().workers).toBe(3)
    await until(() => p.stats().workers === 0) // all idle past idleTimeout, none kept
    expect(await p.run('performTask', 1000)).toBe(inline.performTask(1000))
    const again = await Promise.all([0, 1].map(() => p.run('rendezvous', { channel: `again-${process.pid}`, parties: 2 })))
    expect(new Set(again).size).toBe(2)
    expect(again.some((id) => met.includes(id))).toBe(false) // new Workers, not the retired ones
  })

  test('twenty rounds of growing to maxWorkers and retiring to none strand no task', async () => {
    // Workers retire at about the same moment each round: a task submitted then must get a Worker
    // (the races behind a hang this loop found once in about 15 rounds).
    const p = pool({ workers: undefined, minWorkers: 0, maxWorkers: 3, idleTimeout: 20 })
    for (let round = 0; round < 20; round++) {
      const met = await Promise.all([0, 1, 2].map(() => p.run('rendezvous', { channel: `round-${process.pid}-${round}`, parties: 3 })))
      expect(new Set(met).size).toBe(3)
      await until(() => p.stats().workers === 0)
      expect(await p.run('performTask', round)).toBe(inline.performTask(round))
    }
  })

  test('never runs more than maxWorkers, and keeps minWorkers when idle', async () => {
    const p = pool({ workers: undefined, minWorkers: 1, maxWorkers: 2, idleTimeout: 20 })
    const seen = await Promise.all(Array.from({ length: 40 }, (_, i) => p.run('delayed', { ms: 1, value: i }).then(() => p.run('rendezvous', { channel: `one-${i}`, parties: 1 }))))
    expect(new Set(seen).size).toBeLessThanOrEqual(2)
    await until(() => p.stats().workers === 1)
    expect(await p.run('fibonacci', 20)).toBe(inline.fibonacci(20))
    expect(p.stats().workers).toBeGreaterThanOrEqual(1)
  })

  test('Workers retiring as soon as they are idle lose no task', async () => {
    const p = pool({ workers: undefined, minWorkers: 0, maxWorkers: 2, idleTimeout: 0 })
    const expected = []
    const results = []
    for (let round = 0; round < 15; round++) {
      // One task alone (its Worker may have just retired), then a burst.
      results.push(await p.run('performTask', round))
      expected.push(inline.performTask(round))
      const burst = Array.from({ length: 5 }, (_, i) => round * 10 + i)
      results.push(...(await Promise.all(burst.map((n) => p.run('performTask', n)))))
      expected.push(...burst.map((n) => inline.performTask(n)))
    }
    expect(results).toEqual(expected)
  })

  test('sizing options are checked', () => {
    const bad = [
      [{ modules: [TASKS], workers: 2, maxWorkers: 3 }, 'options.workers'],
      [{ modules: [TASKS], minWorkers: 3, maxWorkers: 2 }, 'options.minWorkers'],
      [{ modules: [TASKS], maxWorkers: 0 }, 'options.maxWorkers'],
      [{ modules: [TASKS], minWorkers: -1 }, 'options.minWorkers'],
      [{ modules: [TASKS], minWorkers: 1.5 }, 'options.minWorkers'],
      [{ minWorkers: 1 }, 'options.minWorkers'],
      [{ maxWorkers: 1 }, 'options.maxWorkers'],
    ]
    for (const [options, field] of bad) {
      expect(() => new Pool(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field }))
    }
    const growing = new Pool({ modules: [TASKS], maxWorkers: 2 })
    expect(growing.options).toMatchObject({ minWorkers: 0, maxWorkers: 2 })
    const fixed = new Pool({ modules: [TASKS], workers: 2 })
    expect(fixed.options).toMatchObject({ minWorkers: 2, maxWorkers: 2 })
    return Promise.all([growing.close(), fixed.close()])
  })
})

describe('lifecycle', () => {
  test('close() waits for accepted JS tasks, then stops the Workers', async () => {
    const p = pool()
    const runs = [p.run('delayed', { ms: 20, value: 1 }), p.run('delayed', { ms: 20, value: 2 })]
    const closed = p.close()
    await expect(p.run('passThrough', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
    expect(await Promise.all(runs)).toEqual([1, 2])
    await closed
    expect(p.stats().workers).toBe(0)
  })

  test('destroy() rejects queued JS tasks and cancels running ones', async () => {
    const p = pool({ workers: 1 })
    const running = p.spawn('waitForAbort')
    await started(running)
    const queued = settle(p.run('identity', 1))
    await p.destroy()
    expect(await queued).toMatchObject({ ok: false, error: { code: 'ERR_POOL_CLOSED' } })
    await expect(running.result).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  })

  test('idle Workers do not keep the process alive', async () => {
    const code = `
      const { Pool } = require('.')
      const pool = new Pool({ workers: 2, modules: [${JSON.stringify(TASKS)}] })
      pool.run('performTask', 1000).then((v) => console.log('result', v))
    `
    const r = await runNode(code)
    expect(r.killed).toBe(false)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`result ${inline.performTask(1000)}`)
  })

  test('a JS-task pool inside a worker_threads Worker terminated mid-flight', async () => {
    const code = `
      const { Worker } = require('node:worker_threads')
      const w = new Worker(${JSON.stringify(path.join(__dirname, 'fixtures', 'js-tasks', 'nested-worker.js'))}, { workerData: ${JSON.stringify(TASKS)} })
      w.on('message', async (m) => {
        if (m !== 'running') return
        await w.terminate()
        console.log('terminated')
      })
    `
    const r = await runNode(code)
    expect(r.killed).toBe(false)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('terminated')
  })
})
