// Lifecycle: close() finishes what was accepted, destroy() rejects what waits and cancels what runs,
// Symbol.asyncDispose closes, and every call after closing rejects with ERR_POOL_CLOSED.
const { once } = require('node:events')
const { Pool } = require('..')

test('close() runs every accepted task, then resolves after every thread exit, then emits close', async () => {
  const pool = new Pool({ threads: 1 })
  const events = []
  pool.on('exit', () => events.push('exit'))
  pool.on('close', () => events.push('close'))
  const running = pool.run('sleep', { ms: 20 })
  const queued = [pool.run('sum', { iterations: 100 }), pool.run('fib', { n: 20 })]
  const closing = pool.close()
  expect(pool.close()).toBe(closing)
  await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  await expect(Promise.all([running, ...queued])).resolves.toEqual([undefined, 4950, 6765])
  await closing
  events.push('resolved')
  expect(events).toEqual(['exit', 'close', 'resolved'])
})

test('destroy() rejects queued tasks, cancels the running one, and stops the threads', async () => {
  const pool = new Pool({ threads: 1 })
  const running = pool.spawn('__spin')
  await once(running, 'message')
  const queued = pool.spawn('sleep', { ms: 1 })
  const queuedRun = pool.run('sum', { iterations: 10 })
  const exits = [once(running, 'exit'), once(queued, 'exit')]
  const outcomes = [running.result, queued.result, queuedRun].map((p) => expect(p).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' }))
  await pool.destroy()
  await Promise.all(outcomes)
  expect((await Promise.all(exits)).map(([code]) => code)).toEqual([2, 2])
  expect(pool.threads).toBe(0)
  await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  await expect(pool.spawn('echo', 1).result).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
})

test('Symbol.asyncDispose closes the pool', async () => {
  const pool = new Pool({ threads: 1 })
  const closed = once(pool, 'close')
  await expect(pool.run('echo', 'x')).resolves.toBe('x')
  await pool[Symbol.asyncDispose]()
  await closed
  expect(pool.closed).toBe(true)
  await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
})

test('a closed handle on the shared pool stops nothing shared', async () => {
  const a = Pool.shared()
  expect(Pool.shared()).toBe(a)
  const pending = a.run('sleep', { ms: 5 })
  await a.close()
  await expect(pending).resolves.toBeUndefined()
  await expect(a.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' })
  const b = Pool.shared()
  expect(b).not.toBe(a)
  await expect(b.run('echo', 2)).resolves.toBe(2)
  await b.close()
})
