'use strict'
// Many tasks in flight at once: each settles exactly once, with its own value.

const { Pool } = require('..')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

test('10,000 echoes of distinct values each settle once with their own value', async () => {
  const n = 10000
  const settled = new Array(n).fill(0)
  const values = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { i } : i % 3 === 1 ? `s${i}` : i))
  const results = await Promise.all(
    values.map((v, i) =>
      pool.run('echo', v).then((r) => {
        settled[i]++
        return r
      }),
    ),
  )
  results.forEach((r, i) => expect(r).toBe(values[i]))
  expect(settled.every((c) => c === 1)).toBe(true)
})

test('a mixed batch of sum, fib, primes, echo and failures all settle with the right outcome', async () => {
  const jsSum = (n) => {
    let t = 0
    for (let i = 0; i < n; i++) t += i
    return t
  }
  const fibs = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765]
  const pi = { 10: 4, 100: 25, 1000: 168, 10000: 1229 }
  const jobs = []
  for (let i = 0; i < 300; i++) {
    switch (i % 6) {
      case 0:
        jobs.push([pool.run('sum', { iterations: i * 10 }), { value: jsSum(i * 10) }])
        break
      case 1:
        jobs.push([pool.run('fib', { n: i % 21 }), { value: fibs[i % 21] }])
        break
      case 2: {
        const limit = [10, 100, 1000, 10000][i % 4]
        jobs.push([pool.run('primes', { limit }), { value: pi[limit] }])
        break
      }
      case 3:
        jobs.push([pool.spawn('echo', i).result, { value: i }])
        break
      case 4:
        jobs.push([pool.run('__fail', { message: `f${i}` }), { code: 'ERR_TASK_FAILED', message: `f${i}` }])
        break
      default:
        jobs.push([pool.run('sleep', { ms: 0 }, { priority: i }), { value: undefined }])
    }
  }
  const outcomes = await Promise.allSettled(jobs.map(([p]) => p))
  outcomes.forEach((o, i) => {
    const want = jobs[i][1]
    if ('code' in want) {
      expect(o.status).toBe('rejected')
      expect(o.reason).toMatchObject(want)
    } else {
      expect(o).toEqual({ status: 'fulfilled', value: want.value })
    }
  })
})

test('several pools work side by side', async () => {
  const pools = [new Pool({ threads: 1 }), new Pool({ threads: 1 }), new Pool({ minThreads: 0, maxThreads: 2 })]
  const results = await Promise.all(pools.flatMap((p, k) => Array.from({ length: 50 }, (_, i) => p.run('echo', k * 100 + i))))
  expect(results).toEqual(pools.flatMap((_, k) => Array.from({ length: 50 }, (_, i) => k * 100 + i)))
  await Promise.all(pools.map((p) => p.close()))
})

test('a flood of messages is delivered in full and in order, and the task finishes', async () => {
  const count = 200000
  const handle = pool.spawn('__flood', { count })
  let expected = 0
  let outOfOrder = 0
  handle.on('message', (m) => {
    if (m.i !== expected) outOfOrder++
    expected++
  })
  await expect(handle.result).resolves.toBe(count)
  expect(outOfOrder).toBe(0)
  expect(expected).toBe(count)
})
