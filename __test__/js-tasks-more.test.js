'use strict'
// JS tasks, continued: an async task posting between awaits, a Worker out of memory, every run option
// on a JS task, stats() and 'drain'. Results are compared with the same functions run inline; JS-task
// statistics with the same runs of native tasks.

const path = require('node:path')
const { once } = require('node:events')
const { Pool } = require('..')
const { settle } = require('./helpers.js')
const inline = require('./fixtures/js-tasks/tasks.js')
const more = require('./fixtures/js-tasks/more-tasks.js')

const FIXTURES = path.join(__dirname, 'fixtures', 'js-tasks')
const TASKS = path.join(FIXTURES, 'tasks.js')
const MORE = path.join(FIXTURES, 'more-tasks.js')

const pools = []
function pool(options) {
  const p = new Pool({ threads: 1, workers: 2, modules: [TASKS, MORE], ...options })
  pools.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()))
})

/** Resolves once a spawned task has posted its first message. */
const started = (handle) => once(handle, 'message')

/** Resolves with a handle's exit code (listening from now on: call it before the task can settle). */
const exitOf = (handle) => new Promise((resolve) => handle.once('exit', resolve))

/** `steps` run inline, with a ctx that records what it posts: the reference for the pool's run. */
async function stepsInline(n) {
  const posts = []
  const result = await more.steps({ n }, { post: (value) => posts.push(value) })
  return { result, posts }
}

describe('an async task that posts between awaits', () => {
  test('its messages arrive in order, every one before exit, on the handle and on the pool', async () => {
    const p = pool()
    const n = 12
    const expected = await stepsInline(n)
    const log = []
    p.on('message', (m) => log.push(['pool', m]))
    const handle = p.spawn('steps', { n })
    handle.on('message', (m) => log.push(['handle', m]))
    const exit = new Promise((resolve) => handle.on('exit', (code) => resolve(log.push(['exit', code]))))
    expect(await handle.result).toBe(expected.result)
    await exit
    expect(log.filter(([from]) => from === 'handle').map(([, m]) => m)).toEqual(expected.posts)
    expect(log.filter(([from]) => from === 'pool').map(([, m]) => m)).toEqual(
      expected.posts.map((data) => ({ id: handle.id, task: 'steps', data })),
    )
    expect(log).toHaveLength(2 * n + 1)
    expect(log[log.length - 1]).toEqual(['exit', 0])
  })

  test('run(): the pool gets every message, with one id, before the promise settles', async () => {
    const p = pool()
    const expected = await stepsInline(9)
    const seen = []
    p.on('message', (m) => seen.push(m))
    const value = await p.run('steps', { n: 9 })
    expect(value).toBe(expected.result)
    expect(seen.map((m) => m.data)).toEqual(expected.posts)
    expect(seen.every((m) => m.task === 'steps' && m.id === seen[0].id)).toBe(true)
  })

  test('several at once on two Workers: each handle gets its own messages, in order, none mixed', async () => {
    const p = pool({ workers: 2 })
    const ns = [3, 8, 5, 10, 1, 6]
    const poolMessages = []
    p.on('message', (m) => poolMessages.push(m))
    const runs = ns.map((n) => {
      const handle = p.spawn('steps', { n })
      const messages = []
      handle.on('message', (m) => messages.push(m))
      const exit = exitOf(handle)
      return { handle, messages, done: Promise.all([handle.result, exit]) }
    })
    const outcomes = await Promise.all(runs.map((r) => r.done))
    for (const [i, n] of ns.entries()) {
      const expected = await stepsInline(n)
      expect(outcomes[i]).toEqual([expected.result, 0])
      expect(runs[i].messages).toEqual(expected.posts)
      expect(poolMessages.filter((m) => m.id === runs[i].handle.id).map((m) => m.data)).toEqual(expected.posts)
    }
    expect(poolMessages).toHaveLength(ns.reduce((a, b) => a + b, 0))
  })
})

describe('a Worker out of memory (resourceLimits)', () => {
  test('the task rejects with a coded error, its handle exits 1, and the pool goes on serving', async () => {
    const p = pool({ workers: 2, resourceLimits: { maxOldGenerationSizeMb: 24 } })
    const poolErrors = []
    p.on('error', (e) => poolErrors.push(e))
    // One Worker held, so that the tasks queued below can only wait behind the allocating one.
    const blocker = p.spawn('holdUntilAborted')
    const blockerMessages = []
    blocker.on('message', (m) => blockerMessages.push(m))
    const blockerExit = exitOf(blocker)
    await started(blocker)
    // Submitted in one go: the free Worker takes the allocating task first (same priority, first
    // in), and the others can only wait behind it, the other Worker being held.
    const settledOrder = []
    const hog = p.spawn('allocateForever')
    const hogEvents = []
    hog.on('error', (e) => hogEvents.push(['error', e.code]))
    const hogExit = exitOf(hog)
    hog.result.catch(() => settledOrder.push('hog'))
    const inputs = Array.from({ length: 6 }, (_, i) => ({ values: [i, i * i, 7] }))
    const queued = inputs.map((args) => p.run('total', args).finally(() => settledOrder.push('total')))

    const err = await hog.result.then(() => null, (e) => e)
    expect(err).toMatchObject({ code: 'ERR_TASK_FAILED' })
    expect(err.message).toMatch(/Worker/)
    expect(await hogExit).toBe(1)
    expect(hogEvents).toEqual([['error', 'ERR_TASK_FAILED']])
    // The queued ones ran on the replacement Worker, after the allocating one had failed.
    expect(await Promise.all(queued)).toEqual(inputs.map((args) => more.total(args)))
    expect(settledOrder).toEqual(['hog', ...inputs.map(() => 'total')])

    // The task on the other Worker was never disturbed: it still sees its own abort.
    blocker.cancel()
    await expect(blocker.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    expect(await blockerExit).toBe(2)
    expect(blockerMessages).toEqual(['started', { sawAbort: 'AbortError' }])

    const after = await Promise.all([1000, 2000, 3000, 4000].map((n) => p.run('performTask', n)))
    expect(after).toEqual([1000, 2000, 3000, 4000].map((n) => inline.performTask(n)))
    expect(p.stats()).toMatchObject({ workers: 2, failed: 1, cancelled: 1, completed: inputs.length + 4 })
    expect(poolErrors).toEqual([])
  })

  test('on one Worker, each task that runs out of memory rejects only itself', async () => {
    const p = pool({ workers: 1, resourceLimits: { maxOldGenerationSizeMb: 16 } })
    const runs = [
      p.run('allocateForever'),
      p.run('total', { values: [1, 2] }),
      p.run('allocateForever'),
      p.run('fibonacci', 15),
    ]
    const outcomes = await Promise.all(runs.map(settle))
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'ERR_TASK_FAILED' } })
    expect(outcomes[1]).toEqual({ ok: true, value: more.total({ values: [1, 2] }) })
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'ERR_TASK_FAILED' } })
    expect(outcomes[3]).toEqual({ ok: true, value: inline.fibonacci(15) })
    expect(p.stats()).toMatchObject({ failed: 2, completed: 2 })
  })

  test('the limits reach the Workers as worker_threads gives them', async () => {
    const limits = { maxOldGenerationSizeMb: 48, stackSizeMb: 2 }
    const p = pool({ workers: 2, resourceLimits: limits })
    const seen = await Promise.all([p.run('workerResourceLimits'), p.run('workerResourceLimits')])
    for (const s of seen) expect(s).toMatchObject(limits)
    // A fresh copy was taken: the caller's object changing later changes nothing.
    limits.stackSizeMb = 8
    expect(p.options.resourceLimits).toEqual({ maxOldGenerationSizeMb: 48, stackSizeMb: 2 })
  })

  test('bad resourceLimits are ERR_INVALID_ARG naming the field', () => {
    const bad = (resourceLimits, field, name) => {
      let err
      try {
        new Pool({ modules: [TASKS], workers: 1, resourceLimits })
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', field, name })
      expect(err.message).toContain(field)
    }
    bad({ stackSizeMb: -1 }, 'options.resourceLimits.stackSizeMb', 'RangeError')
    bad({ stackSizeMb: 0 }, 'options.resourceLimits.stackSizeMb', 'RangeError')
    bad({ maxOldGenerationSizeMb: NaN }, 'options.resourceLimits.maxOldGenerationSizeMb', 'RangeError')
    bad({ maxOldGenerationSizeMb: Infinity }, 'options.resourceLimits.maxOldGenerationSizeMb', 'RangeError')
    bad({ maxYoungGenerationSizeMb: '16' }, 'options.resourceLimits.maxYoungGenerationSizeMb', 'TypeError')
    bad({ codeRangeSizeMb: null }, 'options.resourceLimits.codeRangeSizeMb', 'TypeError')
    bad({ heapSizeMb: 64 }, 'options.resourceLimits.heapSizeMb', 'TypeError')
    bad(32, 'options.resourceLimits', 'TypeError')
    bad(null, 'options.resourceLimits', 'TypeError')
    bad([16], 'options.resourceLimits', 'TypeError')
    bad('small', 'options.resourceLimits', 'TypeError')
    // A getter that throws: named, with what it threw as the cause.
    const boom = new Error('boom')
    let err
    try {
      new Pool({ modules: [TASKS], resourceLimits: { get stackSizeMb() { throw boom } } })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', field: 'options.resourceLimits.stackSizeMb', cause: boom })
    // Only a pool with modules has Workers to limit.
    expect(() => new Pool({ threads: 1, resourceLimits: { stackSizeMb: 4 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options.resourceLimits' }),
    )
  })
})

describe('run options on a JS task', () => {
  test('timeout counts from the start: a quick task that waited longer than its timeout succeeds', async () => {
    const TIMEOUT = 50
    const p = pool({ workers: 1 })
    const blocker = p.spawn('holdUntilAborted')
    await started(blocker)
    const queued = settle(p.run('total', { values: [1, 2, 3] }, { timeout: TIMEOUT }))
    // A native sleep, started after the JS task was queued, times out TIMEOUT ms after its own
    // start: by then the JS task has waited longer than its timeout.
    await expect(p.run('sleep', { ms: 60000 }, { timeout: TIMEOUT })).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
    expect(p.stats().queued).toBe(1)
    blocker.cancel()
    expect(await queued).toEqual({ ok: true, value: more.total({ values: [1, 2, 3] }) })
    expect(p.stats().waitTime.max).toBeGreaterThanOrEqual(TIMEOUT)
  })

  test('a timeout reaches the running task as its signal (a TimeoutError), exit 3, same Worker', async () => {
    // A task that did not see its abort would be terminated after the grace time: no 'sawAbort'
    // message, and a new Worker (another thread id).
    const p = pool({ workers: 1, graceTime: 10000 })
    const thread = await p.run('workerThreadId')
    const handle = p.spawn('holdUntilAborted', undefined, { timeout: 30 })
    const messages = []
    handle.on('message', (m) => messages.push(m))
    const exit = exitOf(handle)
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
    expect(await exit).toBe(3)
    expect(messages).toEqual(['started', { sawAbort: 'TimeoutError' }])
    expect(await p.run('workerThreadId')).toBe(thread)
    expect(p.stats().timedOut).toBe(1)
  })

  test('a signal already aborted rejects at once with its reason; the task never starts', async () => {
    const p = pool({ workers: 1 })
    await p.run('total', { values: [] })
    const messages = []
    p.on('message', (m) => messages.push(m))
    const completed = p.stats().completed
    const signal = AbortSignal.abort('too late')
    const handle = p.spawn('holdUntilAborted', undefined, { signal })
    const events = []
    handle.on('error', (e) => events.push(['error', e.code]))
    const exit = exitOf(handle)
    await expect(handle.result).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'too late' })
    expect(await exit).toBe(2)
    await expect(p.run('holdUntilAborted', undefined, { signal })).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'too late' })
    // The Worker is free (holdUntilAborted would hold it) and nothing was posted.
    expect(await p.run('total', { values: [4, 5] })).toBe(9)
    expect(messages.map((m) => m.data)).toEqual([])
    expect(events).toEqual([])
    expect(p.stats().completed).toBe(completed + 1)
  })

  test('a signal aborted before the modules have loaded rejects without running', async () => {
    const p = pool({ workers: 1 })
    const messages = []
    p.on('message', (m) => messages.push(m))
    const controller = new AbortController()
    // Run before the first Worker has reported its task names: the run waits for them.
    const run = p.run('holdUntilAborted', undefined, { signal: controller.signal })
    controller.abort('changed my mind')
    await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'changed my mind' })
    expect(await p.run('total', { values: [1] })).toBe(1)
    expect(messages).toEqual([])
  })

  test('a signal aborted while the task runs: the task sees it, AbortError with the reason, exit 2, no error event', async () => {
    const p = pool({ workers: 1, graceTime: 10000 })
    const thread = await p.run('workerThreadId')
    const controller = new AbortController()
    const handle = p.spawn('holdUntilAborted', undefined, { signal: controller.signal })
    const events = []
    handle.on('message', (m) => events.push(['message', m]))
    handle.on('error', (e) => events.push(['error', e.code]))
    const exit = new Promise((resolve) => handle.on('exit', (code) => resolve(events.push(['exit', code]))))
    await started(handle)
    controller.abort('stop now')
    const err = await handle.result.then(() => null, (e) => e)
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'stop now' })
    await exit
    expect(events).toEqual([['message', 'started'], ['message', { sawAbort: 'AbortError' }], ['exit', 2]])
    expect(await p.run('workerThreadId')).toBe(thread)
  })

  test('cancel() of a queued JS task takes it out of the queue: it never runs', async () => {
    const p = pool({ workers: 1 })
    const blocker = p.spawn('holdUntilAborted')
    await started(blocker)
    const queued = p.spawn('holdUntilAborted')
    const queuedMessages = []
    queued.on('message', (m) => queuedMessages.push(m))
    const exit = exitOf(queued)
    queued.cancel('not needed')
    await expect(queued.result).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'not needed' })
    expect(await exit).toBe(2)
    expect(p.stats().queued).toBe(0)
    blocker.cancel()
    await expect(blocker.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    // Had the cancelled one run, it would hold the only Worker and post 'started'.
    expect(await p.run('total', { values: [5] })).toBe(5)
    expect(queuedMessages).toEqual([])
  })

  test('priority: extremes and ties on one busy Worker (higher first, then in submission order)', async () => {
    const p = pool({ workers: 1 })
    const blocker = p.spawn('holdUntilAborted')
    await started(blocker)
    const priorities = [0, 2 ** 31 - 1, -(2 ** 31), 7, 0, 2 ** 31 - 1, -1, 7]
    const order = []
    const runs = priorities.map((priority, i) => p.run('total', { values: [i] }, { priority }).then((v) => order.push(v)))
    blocker.cancel()
    await Promise.all(runs)
    // The reference: a stable sort of the submission order by descending priority.
    const expected = priorities.map((priority, i) => ({ priority, i })).sort((a, b) => b.priority - a.priority).map((e) => e.i)
    expect(order).toEqual(expected)
  })

  test('bad run options reject with ERR_INVALID_ARG naming the option, before and after the modules load', async () => {
    const cases = [
      [{ priority: 1.5 }, 'options.priority', 'RangeError'],
      [{ priority: '1' }, 'options.priority', 'TypeError'],
      [{ priority: 2 ** 31 }, 'options.priority', 'RangeError'],
      [{ timeout: -1 }, 'options.timeout', 'RangeError'],
      [{ timeout: 0 }, 'options.timeout', 'RangeError'],
      [{ timeout: '5' }, 'options.timeout', 'TypeError'],
      [{ signal: {} }, 'options.signal', 'TypeError'],
      [{ retries: 1 }, 'options.retries', 'TypeError'],
      ['fast', 'options', 'TypeError'],
    ]
    const p = pool({ workers: 1 })
    const check = (errors) => {
      errors.forEach((err, i) => {
        const [, field, name] = cases[i]
        expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', field, name })
      })
    }
    // Before the first Worker has reported its task names, then after.
    check(await Promise.all(cases.map(([options]) => p.run('total', { values: [] }, options).then(() => null, (e) => e))))
    await p.tasks()
    check(await Promise.all(cases.map(([options]) => p.run('total', { values: [] }, options).then(() => null, (e) => e))))
    // A spawn with a bad option: its handle exits 1 with the same error.
    const handle = p.spawn('total', { values: [] }, { timeout: -1 })
    const exit = exitOf(handle)
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'options.timeout' })
    expect(await exit).toBe(1)
    expect(p.stats()).toMatchObject({ completed: 0, failed: 0 })
  })
})

describe('the queue and the statistics', () => {
  test("'drain' each time a full queue of JS tasks has room again; a refused run never runs", async () => {
    const p = pool({ threads: 1, workers: 1, maxQueue: 1 })
    let drains = 0
    p.on('drain', () => drains++)
    const messages = []
    p.on('message', (m) => messages.push(m))
    for (let round = 1; round <= 2; round++) {
      const blocker = p.spawn('holdUntilAborted')
      await started(blocker)
      // The Worker is busy; room for a native thread's worth and one queue place: two fit.
      const accepted = [p.run('total', { values: [round] }), p.run('total', { values: [round, 10] })]
      expect(p.needsDrain).toBe(true)
      const refused = p.spawn('holdUntilAborted')
      const refusedExit = exitOf(refused)
      await expect(refused.result).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
      expect(await refusedExit).toBe(1)
      const drained = once(p, 'drain')
      blocker.cancel()
      expect(await Promise.all(accepted)).toEqual([more.total({ values: [round] }), more.total({ values: [round, 10] })])
      await drained
      expect(p.needsDrain).toBe(false)
      expect(drains).toBe(round)
    }
    // Only the two blockers ever started (each posted 'started' and its abort), never a refused one.
    expect(messages.filter((m) => m.data === 'started')).toHaveLength(2)
  })

  test('stats() counts JS tasks as it counts the same runs of native tasks', async () => {
    const kinds = {
      native: { ok: 'sum', okArgs: { iterations: 10 }, fail: '__fail', failArgs: { message: 'no' }, hold: '__spin' },
      js: { ok: 'total', okArgs: { values: [1, 2] }, fail: 'fail', failArgs: { message: 'no' }, hold: 'holdUntilAborted' },
    }
    const outcomes = {}
    for (const [kind, t] of Object.entries(kinds)) {
      const p = pool({ threads: 1, workers: 1 })
      await p.tasks()
      const tally = { completed: 0, failed: 0, cancelled: 0, timedOut: 0 }
      const count = (outcome) => {
        if (outcome.ok) tally.completed++
        else if (outcome.error.code === 'ERR_TASK_TIMEOUT') tally.timedOut++
        else if (outcome.error.code === 'ABORT_ERR') tally.cancelled++
        else if (outcome.error.code === 'ERR_TASK_FAILED') tally.failed++
        else throw outcome.error
      }
      ;(await Promise.all([1, 2, 3].map(() => settle(p.run(t.ok, t.okArgs))))).forEach(count)
      ;(await Promise.all([1, 2].map(() => settle(p.run(t.fail, t.failArgs))))).forEach(count)
      // One cancelled while it runs, one cancelled while it waits behind it.
      const running = p.spawn(t.hold)
      await started(running)
      const controller = new AbortController()
      const waiting = settle(p.run(t.ok, t.okArgs, { signal: controller.signal }))
      const busy = p.stats()
      controller.abort()
      count(await waiting)
      running.cancel()
      count(await settle(running.result))
      count(await settle(p.run(t.hold, undefined, { timeout: 20 })))
      // Refused before it was queued: counted nowhere.
      await expect(p.run(t.ok, t.okArgs, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' })
      const after = p.stats()
      expect(tally).toEqual({ completed: 3, failed: 2, cancelled: 2, timedOut: 1 })
      expect(after).toMatchObject(tally)
      expect(busy).toMatchObject({ running: 1, queued: 1 })
      expect(after).toMatchObject({ running: 0, queued: 0 })
      outcomes[kind] = { busy, after }
    }
    const counters = ({ running, queued, completed, failed, cancelled, timedOut, runTime, waitTime }) => (
      { running, queued, completed, failed, cancelled, timedOut, ran: runTime.count, waited: waitTime.count }
    )
    expect(counters(outcomes.js.after)).toEqual(counters(outcomes.native.after))
    expect(counters(outcomes.js.busy)).toEqual(counters(outcomes.native.busy))
  })
})

describe('strings that cross', () => {
  test('well-formed strings cross unchanged; a lone surrogate arrives as U+FFFD, as Buffer.from writes it', async () => {
    const p = pool()
    const wellFormed = ['', 'plain', 'é ü ß', '日本語', '😀 a pair: \ud83d\ude00', '\u0000nul']
    for (const s of wellFormed) expect(await p.run('passThrough', { s })).toEqual(inline.passThrough({ s }))
    // The reference for the documented loss is Node's own UTF-8 encoder, not our code.
    for (const s of ['a\ud800b', '\udfff', 'x\ud83d']) {
      const viaUtf8 = Buffer.from(s).toString('utf8')
      expect(viaUtf8).not.toBe(s)
      expect(await p.run('passThrough', s)).toBe(viaUtf8)
    }
  })
})
