'use strict'
// Lifecycle: close() finishes what was accepted, destroy() rejects what waits and cancels what runs,
// Symbol.asyncDispose, Pool.shared() handles, and Pool.tasks().

const { Pool } = require('..')

test('close() runs every accepted task, then resolves and emits close', async () => {
  const pool = new Pool({ threads: 1 })
  const running = pool.run('sleep', { ms: 50 })
  const queued = [1, 2, 3].map((i) => pool.run('echo', i))
  let closed = 0
  pool.on('close', () => closed++)
  await pool.close()
  await expect(running).resolves.toBeUndefined()
  await expect(Promise.all(queued)).resolves.toEqual([1, 2, 3])
  expect(closed).toBe(1)
  expect(pool.closed).toBe(true)
  expect(pool.close()).toBe(pool.close())
})

test('destroy() rejects queued tasks with ERR_POOL_CLOSED, cancels running ones, and resolves', async () => {
  const pool = new Pool({ threads: 1 })
  const running = pool.spawn('__spin', null)
  await new Promise((resolve) => running.once('message', resolve))
  const exit = new Promise((resolve) => running.on('exit', resolve))
  const queued = [1, 2, 3].map((i) => pool.run('echo', i))
  const spawnedQueued = pool.spawn('echo', 4)
  const outcomes = Promise.allSettled([...queued, spawnedQueued.result, running.result])
  await pool.destroy()
  for (const o of await outcomes) {
    expect(o.status).toBe('rejected')
    expect(o.reason).toMatchObject({ code: 'ERR_POOL_CLOSED' })
  }
  await expect(exit).resolves.toBe(2)
  const s = pool.stats()
  expect(s).toMatchObject({ threads: 0, running: 0, queued: 0, cancelled: 5 })
})

test('destroy() while close() is waiting for a running task cancels it and both resolve', async () => {
  const pool = new Pool({ threads: 1 })
  const running = pool.spawn('__spin', null)
  await new Promise((resolve) => running.once('message', resolve))
  const closing = pool.close()
  const destroying = pool.destroy()
  await Promise.all([closing, destroying])
  await expect(running.result).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
})

test('Symbol.asyncDispose closes the pool', async () => {
  const pool = new Pool({ threads: 1 })
  const pending = pool.run('sleep', { ms: 20 })
  await pool[Symbol.asyncDispose]()
  expect(pool.closed).toBe(true)
  await expect(pending).resolves.toBeUndefined()
  await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
})

test('Pool.shared() returns one handle; closing it stops nothing shared and a new handle works', async () => {
  const a = Pool.shared()
  expect(Pool.shared()).toBe(a)
  await expect(a.run('echo', 'a')).resolves.toBe('a')
  const threads = a.stats().threads
  await a.close()
  await expect(a.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  const b = Pool.shared()
  expect(b).not.toBe(a)
  await expect(b.run('echo', 'b')).resolves.toBe('b')
  expect(b.stats().threads).toBe(threads)
})

test('Pool.tasks() lists the seed tasks with descriptions and argument shapes, and hides test tasks', () => {
  const tasks = Pool.tasks()
  const names = tasks.map((t) => t.name)
  expect(names).toEqual(expect.arrayContaining(['echo', 'fib', 'primes', 'sleep', 'sum']))
  expect(names.filter((n) => n.startsWith('__'))).toEqual([])
  for (const t of tasks) {
    expect(typeof t.description).toBe('string')
    expect(t.description.length).toBeGreaterThan(0)
    expect(typeof t.result).toBe('string')
  }
  const sum = tasks.find((t) => t.name === 'sum')
  expect(sum.args).toEqual([expect.objectContaining({ name: 'iterations', required: true, type: expect.any(String) })])
  expect(tasks.find((t) => t.name === 'fib').args.map((f) => f.name)).toEqual(['n'])
  expect(tasks.find((t) => t.name === 'primes').args.map((f) => f.name)).toEqual(['limit'])
  expect(tasks.find((t) => t.name === 'sleep').args.map((f) => f.name)).toEqual(['ms'])
  expect(tasks.find((t) => t.name === 'echo').args).toBe('any')
})

test('the test-only tasks exist here (NATIVE_POOL_TEST_TASKS took effect under jest)', async () => {
  const pool = new Pool({ threads: 1 })
  await expect(pool.run('__fail', {})).rejects.toMatchObject({ code: 'ERR_TASK_FAILED' })
  await pool.close()
})
