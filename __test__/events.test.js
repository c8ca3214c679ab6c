'use strict'
// Worker-style events: a TaskHandle gives 'message'…, then 'error' (on failure), then 'exit' once;
// the pool gives 'message' for every task, 'online' / 'exit' per thread and 'close'.

const { Pool } = require('..')
const { runNode, settle } = require('./helpers')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

/** Records every event of a handle, in order, until 'exit'. */
function record(handle, { listenError = true } = {}) {
  const events = []
  handle.on('message', (m) => events.push(['message', m]))
  if (listenError) handle.on('error', (e) => events.push(['error', e]))
  const exited = new Promise((resolve) => {
    handle.on('exit', (code) => {
      events.push(['exit', code])
      resolve(events)
    })
  })
  return exited
}

describe('a task that succeeds', () => {
  test('posts exactly 100 progress messages k/100 in order, then exits with 0', async () => {
    const handle = pool.spawn('sum', { iterations: 100000 })
    const events = await record(handle)
    const expected = Array.from({ length: 100 }, (_, k) => ['message', { progress: (k + 1) / 100 }])
    expect(events).toEqual([...expected, ['exit', 0]])
    await expect(handle.result).resolves.toBe(4999950000)
  })

  test.each([100, 101, 199, 12345])('sum of %d iterations posts 100 messages', async (iterations) => {
    const events = await record(pool.spawn('sum', { iterations }))
    expect(events.filter(([e]) => e === 'message')).toHaveLength(100)
    expect(events.at(-1)).toEqual(['exit', 0])
  })

  test.each([0, 1, 50, 99])('sum of %d iterations (fewer than 100) posts no message', async (iterations) => {
    const events = await record(pool.spawn('sum', { iterations }))
    expect(events).toEqual([['exit', 0]])
  })

  test("'exit' fires exactly once", async () => {
    const handle = pool.spawn('echo', 'x')
    const codes = []
    handle.on('exit', (c) => codes.push(c))
    await expect(handle.result).resolves.toBe('x')
    await new Promise((r) => setImmediate(r))
    expect(codes).toEqual([0])
  })
})

describe('a task that fails', () => {
  test("gives 'message', then 'error', then 'exit' with 1", async () => {
    const handle = pool.spawn('__fail', { message: 'it broke' })
    const events = await record(handle)
    expect(events.map(([e]) => e)).toEqual(['message', 'error', 'exit'])
    expect(events[0][1]).toEqual({ before: 'failing' })
    expect(events[1][1]).toMatchObject({ code: 'ERR_TASK_FAILED', message: 'it broke' })
    expect(events[2]).toEqual(['exit', 1])
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_TASK_FAILED', message: 'it broke' })
  })

  test("with nobody listening to 'error', only result carries the failure (no crash)", async () => {
    const handle = pool.spawn('__fail', {})
    const events = await record(handle, { listenError: false })
    expect(events.map(([e]) => e)).toEqual(['message', 'exit'])
    expect(events.at(-1)).toEqual(['exit', 1])
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_TASK_FAILED', message: 'test failure' })
  })

  test("a failed spawn whose result is never awaited, with an 'error' listener, is no unhandled rejection", async () => {
    const out = await runNode(`
      process.on('unhandledRejection', (e) => { console.log('UNHANDLED', e && e.code); process.exitCode = 3 })
      const { Pool } = require('.')
      const pool = new Pool({ threads: 1 })
      const h = pool.spawn('__fail', {})
      h.on('error', (e) => console.log('error', e.code))
      h.on('exit', (c) => { console.log('exit', c); setTimeout(() => pool.close(), 20) })
    `)
    expect(out.stdout).toBe('error ERR_TASK_FAILED\nexit 1\n')
    expect(out.code).toBe(0)
  })

  test('a failed spawn with no listener at all and result never awaited does not crash the process', async () => {
    const out = await runNode(`
      process.on('unhandledRejection', (e) => { console.log('UNHANDLED', e && e.code); process.exitCode = 3 })
      const { Pool } = require('.')
      const pool = new Pool({ threads: 1 })
      pool.spawn('__fail', {})
      pool.spawn('__panic', {})
      pool.run('sleep', { ms: 50 }).then(() => { console.log('done'); return pool.close() })
    `)
    expect(out.stdout).toBe('done\n')
    expect(out.code).toBe(0)
  })
})

describe('a cancelled task', () => {
  test("exits with 2 and no 'error'; result rejects with an AbortError", async () => {
    const handle = pool.spawn('__spin', null)
    const recorded = record(handle)
    await new Promise((resolve) => handle.once('message', resolve))
    handle.cancel()
    const events = await recorded
    expect(events).toEqual([
      ['message', { spinning: true }],
      ['exit', 2],
    ])
    await expect(handle.result).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
  })

  test('cancel(reason) becomes the cause of the AbortError', async () => {
    const handle = pool.spawn('__spin', null)
    await new Promise((resolve) => handle.once('message', resolve))
    const reason = new Error('enough')
    handle.cancel(reason)
    const err = await handle.result.catch((e) => e)
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
    expect(err.cause).toBe(reason)
  })

  test('cancelling a finished task changes nothing', async () => {
    const handle = pool.spawn('echo', 5)
    await expect(handle.result).resolves.toBe(5)
    expect(() => handle.cancel()).not.toThrow()
    await expect(handle.result).resolves.toBe(5)
  })
})

describe('a task that panics', () => {
  test('rejects with ERR_TASK_PANICKED carrying the panic message, and exits with 1', async () => {
    const handle = pool.spawn('__panic', { message: 'kaboom' })
    const events = await record(handle)
    expect(events.map(([e]) => e)).toEqual(['error', 'exit'])
    expect(events[0][1].code).toBe('ERR_TASK_PANICKED')
    expect(events[0][1].message).toContain('kaboom')
    expect(events[1]).toEqual(['exit', 1])
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_TASK_PANICKED' })
  })

  test('a one-thread pool keeps serving after many panics', async () => {
    const one = new Pool({ threads: 1 })
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => settle(one.run('__panic', {}))))
    for (const o of outcomes) expect(o.error).toMatchObject({ code: 'ERR_TASK_PANICKED', message: expect.stringContaining('test panic') })
    await expect(one.run('sum', { iterations: 10 })).resolves.toBe(45)
    await expect(one.run('fib', { n: 20 })).resolves.toBe(6765)
    expect(one.stats().threads).toBe(1)
    await one.close()
  })

  test('prints nothing to stderr', async () => {
    const out = await runNode(`
      const { Pool } = require('.')
      const pool = new Pool({ threads: 1 })
      pool.run('__panic', { message: 'quiet please' }).catch((e) => console.log(e.code)).then(() => pool.close())
    `)
    expect(out.stdout).toBe('ERR_TASK_PANICKED\n')
    expect(out.stderr).toBe('')
    expect(out.code).toBe(0)
  })
})

describe("the pool's 'message' event", () => {
  test('carries { id, task, data } for every message of a run() task', async () => {
    const p = new Pool({ threads: 1 })
    const seen = []
    p.on('message', (m) => seen.push(m))
    await p.run('sum', { iterations: 1000 })
    expect(seen).toHaveLength(100)
    const ids = new Set(seen.map((m) => m.id))
    expect(ids.size).toBe(1)
    expect(seen.every((m) => m.task === 'sum')).toBe(true)
    expect(seen.map((m) => m.data.progress)).toEqual(Array.from({ length: 100 }, (_, k) => (k + 1) / 100))
    await p.close()
  })

  test("has the same id and task as the spawned handle's messages", async () => {
    const p = new Pool({ threads: 1 })
    const seen = []
    p.on('message', (m) => seen.push(m))
    const handle = p.spawn('__fail', {})
    const own = []
    handle.on('message', (m) => own.push(m))
    await handle.result.catch(() => {})
    expect(own).toEqual([{ before: 'failing' }])
    expect(seen).toEqual([{ id: handle.id, task: '__fail', data: { before: 'failing' } }])
    await p.close()
  })

  test("a listener that throws does not lose other tasks' results or messages", async () => {
    const out = await runNode(`
      const { Pool } = require('.')
      let uncaught = 0
      process.on('uncaughtException', () => uncaught++)
      const pool = new Pool({ threads: 2 })
      let messages = 0
      pool.on('message', () => { messages++; throw new Error('listener bug') })
      Promise.all([
        pool.run('sum', { iterations: 1000 }),
        ...Array.from({ length: 100 }, (_, i) => pool.run('echo', i)),
      ]).then(async (r) => {
        console.log(JSON.stringify({ first: r[0], echoes: r.slice(1).every((v, i) => v === i), messages, uncaught }))
        await pool.close()
      })
    `)
    expect(out.code).toBe(0)
    const r = JSON.parse(out.stdout)
    expect(r).toMatchObject({ first: 499500, echoes: true, messages: 100 })
    expect(r.uncaught).toBe(100)
  })
})

describe("the pool's thread events", () => {
  test("'online' fires once per thread at creation, with distinct thread ids", async () => {
    const p = new Pool({ threads: 3 })
    const online = []
    await new Promise((resolve) => {
      p.on('online', (t) => {
        online.push(t)
        if (online.length === 3) resolve()
      })
    })
    expect(new Set(online).size).toBe(3)
    await p.close()
  })

  test("'close' fires once, after close() was called and before its promise resolves", async () => {
    const p = new Pool({ threads: 1 })
    const order = []
    p.on('close', () => order.push('close'))
    await p.run('echo', 1)
    const closing = p.close()
    order.push('called')
    await closing
    order.push('resolved')
    await p.close()
    expect(order).toEqual(['called', 'close', 'resolved'])
  })

  // A regression test: thread events landing in the same batch as the pool's "joined" event used to be
  // dropped (fixed on main in 44b04af).
  test("'online' and 'exit' are never lost, over 200 pools closed right after use", async () => {
    const lost = []
    for (let i = 0; i < 200; i++) {
      const p = new Pool({ threads: 2 })
      const online = []
      const exits = []
      p.on('online', (t) => online.push(t))
      p.on('exit', (t) => exits.push(t))
      await p.run('echo', i)
      await p.close()
      if (online.length !== 2 || exits.length !== 2) lost.push({ i, online, exits })
      else expect(exits.sort()).toEqual(online.sort())
    }
    expect(lost).toEqual([])
  })
})
