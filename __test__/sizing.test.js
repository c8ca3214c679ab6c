// Sizing: fixed pools start every thread at once; growing pools start threads on demand up to
// maxThreads and stop those above minThreads after idleTimeout, with 'online' / 'exit' for each.
const { once } = require('node:events')
const { Pool } = require('..')

/** Resolves when `emitter` has emitted `event` `n` times (counting from now). */
function times(emitter, event, n) {
  return new Promise((resolve) => {
    const seen = []
    emitter.on(event, function listener(...args) {
      seen.push(args)
      if (seen.length === n) {
        emitter.off(event, listener)
        resolve(seen)
      }
    })
  })
}

test('a fixed pool starts every thread when it is created and stops each on close', async () => {
  const pool = new Pool({ threads: 3 })
  const online = await times(pool, 'online', 3)
  expect(online.map(([id]) => id).sort()).toEqual([0, 1, 2])
  expect(pool.threads).toBe(3)
  const exits = times(pool, 'exit', 3)
  await pool.close()
  expect((await exits).map(([id, code]) => [id, code]).sort()).toEqual([[0, 0], [1, 0], [2, 0]])
})

test('a growing pool starts threads on demand, retires idle ones, and starts them again', async () => {
  const pool = new Pool({ minThreads: 0, maxThreads: 2, idleTimeout: 20 })
  expect(pool.threads).toBe(0)
  const online = times(pool, 'online', 2)
  const exited = times(pool, 'exit', 2)
  // Two tasks that run until cancelled: the second is queued while the first holds its thread, so
  // the pool must start a second thread (short tasks could finish in between on a loaded machine,
  // and the first thread would take both).
  const spinners = [pool.spawn('__spin'), pool.spawn('__spin')]
  await Promise.all(spinners.map((t) => once(t, 'message'))) // both run at once
  expect((await online).length).toBe(2)
  for (const t of spinners) t.cancel()
  await Promise.all(spinners.map((t) => once(t, 'exit')))
  await exited // both idle for idleTimeout
  expect(pool.threads).toBe(0)
  const again = once(pool, 'online')
  await expect(pool.run('sum', { iterations: 1000 })).resolves.toBe(499500)
  await again
  await pool.close()
})

test('minThreads stay when idle; threads above them retire', async () => {
  const pool = new Pool({ minThreads: 1, maxThreads: 3, idleTimeout: 10 })
  await once(pool, 'online')
  expect(pool.threads).toBe(1)
  const extra = times(pool, 'exit', 2)
  const spinners = [pool.spawn('__spin'), pool.spawn('__spin'), pool.spawn('__spin')]
  await Promise.all(spinners.map((t) => once(t, 'message'))) // all three run at once
  expect(pool.threads).toBe(3)
  for (const t of spinners) t.cancel()
  await Promise.all(spinners.map((t) => once(t, 'exit')))
  await extra
  expect(pool.threads).toBe(1)
  await pool.close()
})

test('the options getter reports what the pool runs with', () => {
  const fixed = new Pool({ threads: 2 })
  expect(fixed.options).toMatchObject({ minThreads: 2, maxThreads: 2, maxQueue: Infinity, idleTimeout: 10000 })
  const growing = new Pool({ maxThreads: 4 })
  expect(growing.options).toMatchObject({ minThreads: 0, maxThreads: 4 })
  return Promise.all([fixed.close(), growing.close()])
})
