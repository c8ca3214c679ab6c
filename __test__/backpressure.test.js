// Backpressure: maxQueue, ERR_QUEUE_FULL, 'drain', needsDrain, and the bound on a chatty task's messages.
const { once } = require('node:events')
const { Pool } = require('..')

describe('a full queue', () => {
  test('rejects with ERR_QUEUE_FULL, reports needsDrain, then emits drain when no task waits', async () => {
    const pool = new Pool({ threads: 1, maxQueue: 2 })
    const spinner = pool.spawn('__spin')
    await once(spinner, 'message') // the only thread is busy now
    const queued = [pool.run('sleep', { ms: 1 }), pool.run('sleep', { ms: 1 })]
    expect(pool.needsDrain).toBe(true)
    await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    const drained = once(pool, 'drain')
    spinner.cancel()
    await expect(spinner.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    await drained
    expect(pool.needsDrain).toBe(false)
    await expect(Promise.all(queued)).resolves.toEqual([undefined, undefined])
    await expect(pool.run('echo', 7)).resolves.toBe(7)
    await pool.close()
  })

  test('maxQueue 0 accepts only as many tasks as there are threads', async () => {
    const pool = new Pool({ threads: 2, maxQueue: 0 })
    const a = pool.run('sleep', { ms: 20 })
    const b = pool.run('sleep', { ms: 20 })
    await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    await Promise.all([a, b])
    await expect(pool.run('echo', 2)).resolves.toBe(2)
    await pool.close()
  })
})

describe('a task that posts a flood of messages', () => {
  test('delivers every message in order while never more than 1024 wait undelivered', async () => {
    const pool = new Pool({ threads: 1 })
    const count = 200_000
    const task = pool.spawn('__flood', { count })
    let next = 0
    let outOfOrder = 0
    let largestBacklog = 0
    task.on('message', ({ i, backlog }) => {
      if (i !== next) outOfOrder++
      next = i + 1
      largestBacklog = Math.max(largestBacklog, backlog)
    })
    await expect(task.result).resolves.toBe(count)
    expect(next).toBe(count)
    expect(outOfOrder).toBe(0)
    // The task outruns JS (it posts millions a second), so it reaches the bound and waits there.
    expect(largestBacklog).toBeLessThanOrEqual(1024)
    expect(largestBacklog).toBeGreaterThan(512)
    await pool.close()
  })

  test('stops waiting for JS when it is cancelled', async () => {
    const pool = new Pool({ threads: 1 })
    const task = pool.spawn('__flood', { count: 1e12 })
    await once(task, 'message')
    task.cancel()
    await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
    await expect(pool.run('echo', 'still serving')).resolves.toBe('still serving')
    await pool.close()
  })
})
