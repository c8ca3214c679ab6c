'use strict'
// pool.run() results against independent references: the JS loop, the closed form, known Fibonacci
// numbers and known prime counts.

const { Pool } = require('..')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

function jsLoop(n) {
  let total = 0
  for (let i = 0; i < n; i++) total += i
  return total
}

describe('sum', () => {
  test.each([0, 1, 2, 3, 10, 99, 100, 101, 1000, 65537, 1e6])('sum of %d iterations equals the JS loop', async (n) => {
    await expect(pool.run('sum', { iterations: n })).resolves.toBe(jsLoop(n))
  })

  test('a sum still below MAX_SAFE_INTEGER is the exact number the closed form gives', async () => {
    const n = 2 ** 27
    const closed = (BigInt(n) * BigInt(n - 1)) / 2n
    expect(closed <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true)
    await expect(pool.run('sum', { iterations: n })).resolves.toBe(Number(closed))
  })

  test('a sum past MAX_SAFE_INTEGER is an exact BigInt', async () => {
    const n = 2 ** 27 + 1 // n(n-1)/2 = 2^53 + 2^26
    const closed = (BigInt(n) * BigInt(n - 1)) / 2n
    expect(closed > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true)
    const result = await pool.run('sum', { iterations: n })
    expect(typeof result).toBe('bigint')
    expect(result).toBe(closed)
  })
})

describe('fib', () => {
  const known = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [10, 55],
    [20, 6765],
    [25, 75025],
    [30, 832040],
    [32, 2178309],
  ]
  test.each(known)('fib(%d) is %d', async (n, f) => {
    await expect(pool.run('fib', { n })).resolves.toBe(f)
  })
})

describe('primes', () => {
  // primes({ limit }) counts the primes strictly below `limit`: π(limit - 1).
  const known = [
    [0, 0],
    [1, 0],
    [2, 0],
    [3, 1],
    [4, 2],
    [10, 4],
    [11, 4],
    [12, 5],
    [100, 25],
    [1000, 168],
    [1e4, 1229],
    [1e5, 9592],
    [1e6, 78498],
    [1e7, 664579],
    [1e8, 5761455],
  ]
  test.each(known)('there are as many primes below %d as the known count %d', async (limit, count) => {
    await expect(pool.run('primes', { limit })).resolves.toBe(count)
  })

  test('primes agrees with trial division for every limit up to 200', async () => {
    const isPrime = (n) => {
      if (n < 2) return false
      for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
      return true
    }
    const limits = Array.from({ length: 201 }, (_, i) => i)
    const got = await Promise.all(limits.map((limit) => pool.run('primes', { limit })))
    const want = limits.map((limit) => limits.filter((k) => k < limit && isPrime(k)).length)
    expect(got).toEqual(want)
  })
})

describe('echo', () => {
  test('an object comes back as the very same object', async () => {
    const obj = { a: 1, nested: { b: [1, 2, 3] } }
    await expect(pool.run('echo', obj)).resolves.toBe(obj)
  })

  test('arrays, functions, symbols, Maps and class instances come back identical', async () => {
    const values = [[1, 2], () => 1, Symbol('s'), new Map([[1, 2]]), new (class Foo {})(), new Date(0), /re/g]
    for (const v of values) {
      await expect(pool.run('echo', v)).resolves.toBe(v)
    }
  })

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['negative zero', -0],
    ['NaN', NaN],
    ['Infinity', -Infinity],
    ['a float', 3.14159],
    ['a big number', Number.MAX_VALUE],
    ['an empty string', ''],
    ['a unicode string', 'héllo wörld ✓ 𝄞'],
  ])('the primitive %s comes back equal', async (_, v) => {
    await expect(pool.run('echo', v)).resolves.toBe(v)
  })

  test.each([
    ['1n', 1n],
    ['0n', 0n],
    ['a 74-bit BigInt', 12345678901234567890123n],
    ['a negative 101-bit BigInt', -(2n ** 100n)],
  ])('the BigInt %s comes back equal', async (_, v) => {
    await expect(pool.run('echo', v)).resolves.toBe(v)
  })

  test('a Buffer comes back as the same Buffer with the same bytes', async () => {
    const buf = Buffer.from('hello buffer')
    const out = await pool.run('echo', buf)
    expect(out).toBe(buf)
    expect(out.toString()).toBe('hello buffer')
  })

  test('a typed array comes back as itself', async () => {
    const arr = new Float64Array([1.5, 2.5])
    await expect(pool.run('echo', arr)).resolves.toBe(arr)
  })
})

describe('sleep', () => {
  test('resolves with undefined', async () => {
    await expect(pool.run('sleep', { ms: 1 })).resolves.toBeUndefined()
    await expect(pool.run('sleep', { ms: 0 })).resolves.toBeUndefined()
    await expect(pool.run('sleep', { ms: 0.25 })).resolves.toBeUndefined()
  })

  test('keeps the event loop free while it waits', async () => {
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    await pool.run('sleep', { ms: 100 })
    clearInterval(timer)
    expect(ticks).toBeGreaterThan(0)
  })
})

test('spawn resolves its result like run', async () => {
  const handle = pool.spawn('sum', { iterations: 1000 })
  expect(handle.task).toBe('sum')
  expect(typeof handle.id).toBe('number')
  await expect(handle.result).resolves.toBe(jsLoop(1000))
})

test('every run returns a fresh promise, also with options', () => {
  const a = pool.run('echo', 1)
  const b = pool.run('echo', 1, {})
  expect(typeof a.then).toBe('function')
  expect(typeof b.then).toBe('function')
  expect(a).not.toBe(b)
  return Promise.all([a, b])
})
