'use strict'
// Every bad input rejects with a stable code and never throws synchronously; nothing a caller passes
// crashes the process. `new Pool(bad options)` throws at once, naming the option.

const { Pool, codes } = require('..')
const { runNode, noThrow, settle } = require('./helpers')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

/** Runs and asserts: no synchronous throw, and a rejection matching `shape`. */
async function rejectsWith(call, shape) {
  const promise = noThrow(call)
  const outcome = await settle(promise)
  expect(outcome.ok).toBe(false)
  expect(outcome.error).toMatchObject(shape)
  expect(outcome.error).toEqual(expect.any(Object))
  expect(typeof outcome.error.message).toBe('string')
  return outcome.error
}

test('the codes export lists every stable code', () => {
  expect(Object.values(codes).sort()).toEqual(
    [
      'ABORT_ERR',
      'ERR_INVALID_ARG',
      'ERR_POOL_CLOSED',
      'ERR_QUEUE_FULL',
      'ERR_TASK_FAILED',
      'ERR_TASK_PANICKED',
      'ERR_TASK_TIMEOUT',
      'ERR_UNKNOWN_TASK',
    ].sort(),
  )
})

describe('the task name', () => {
  test('an unknown task rejects with ERR_UNKNOWN_TASK naming it', async () => {
    const err = await rejectsWith(() => pool.run('nope', {}), { code: 'ERR_UNKNOWN_TASK' })
    expect(err.message).toContain('nope')
    await rejectsWith(() => pool.run('nope', {}, {}), { code: 'ERR_UNKNOWN_TASK' })
    await rejectsWith(() => pool.spawn('nope', {}).result, { code: 'ERR_UNKNOWN_TASK' })
  })

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['an object', { name: 'sum' }],
    ['a String object', new String('sum')],
    ['a symbol', Symbol('sum')],
  ])('%s as the task name rejects with ERR_INVALID_ARG', async (_, task) => {
    await rejectsWith(() => pool.run(task, { iterations: 1 }), { code: 'ERR_INVALID_ARG', name: 'TypeError' })
    await rejectsWith(() => pool.run(task, { iterations: 1 }, { priority: 1 }), { code: 'ERR_INVALID_ARG' })
  })

  test('a spawn of an unknown task gives an exit code and a rejected result', async () => {
    const handle = noThrow(() => pool.spawn('nope', {}))
    const exit = new Promise((resolve) => handle.on('exit', resolve))
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TASK' })
    await expect(exit).resolves.not.toBe(0)
  })

  test('names inherited from Object.prototype are not tasks', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await rejectsWith(() => pool.run(name, {}), { code: 'ERR_UNKNOWN_TASK' })
    }
  })
})

describe('task arguments', () => {
  const cases = [
    ['sum', {}, 'iterations'],
    ['sum', { iterations: undefined }, 'iterations'],
    ['sum', { iterations: null }, 'iterations'],
    ['sum', { iterations: '10' }, 'iterations'],
    ['sum', { iterations: true }, 'iterations'],
    ['sum', { iterations: [10] }, 'iterations'],
    ['sum', { iterations: { valueOf: () => 10 } }, 'iterations'],
    ['sum', { iterations: -1 }, 'iterations'],
    ['sum', { iterations: 1.5 }, 'iterations'],
    ['sum', { iterations: NaN }, 'iterations'],
    ['sum', { iterations: Infinity }, 'iterations'],
    ['sum', { iterations: -Infinity }, 'iterations'],
    ['sum', { iterations: Number.MAX_SAFE_INTEGER + 2 }, 'iterations'],
    ['sum', { iterations: 1e300 }, 'iterations'],
    ['sum', { iterations: 10n }, 'iterations'],
    ['sum', { iterations: 2n ** 200n }, 'iterations'],
    ['sum', { iterations: 10, extra: 1 }, 'extra'],
    ['sum', { iterations: 10, Iterations: 10 }, 'Iterations'],
    ['fib', { n: 94 }, 'n'],
    ['fib', { n: -1 }, 'n'],
    ['fib', { m: 3 }, 'm'],
    ['primes', { limit: -5 }, 'limit'],
    ['primes', { limit: 'many' }, 'limit'],
    ['sleep', { ms: -1 }, 'ms'],
    ['sleep', { ms: NaN }, 'ms'],
    ['sleep', { ms: Infinity }, 'ms'],
    ['sleep', {}, 'ms'],
    ['__panic', { message: 5 }, 'message'],
  ]
  test.each(cases)('%s(%p) rejects with ERR_INVALID_ARG naming %s', async (task, args, field) => {
    const err = await rejectsWith(() => pool.run(task, args), { code: 'ERR_INVALID_ARG', field })
    expect(err.name).toBe('TypeError')
    expect(err.message).toContain(field)
  })

  test.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 5],
    ['a string', 'iterations'],
    ['an array', [1]],
    ['a boolean', true],
    ['a function', () => {}],
    ['a symbol', Symbol('x')],
    ['a Buffer', Buffer.from('x')],
  ])('%s as args of sum rejects with ERR_INVALID_ARG naming args', async (_, args) => {
    await rejectsWith(() => pool.run('sum', args), { code: 'ERR_INVALID_ARG', field: 'args' })
    await rejectsWith(() => pool.spawn('sum', args).result, { code: 'ERR_INVALID_ARG' })
  })

  test('the field is named for a spawned task too, and the handle exits with 1', async () => {
    const handle = pool.spawn('fib', { n: 'x' })
    const exit = new Promise((resolve) => handle.on('exit', resolve))
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'n' })
    await expect(exit).resolves.toBe(1)
  })

  test('an optional field given as undefined counts as absent', async () => {
    await expect(pool.run('__panic', { message: undefined })).rejects.toMatchObject({ code: 'ERR_TASK_PANICKED' })
  })

  test('a throwing getter rejects instead of throwing', async () => {
    const args = {
      get iterations() {
        throw new Error('getter exploded')
      },
    }
    await rejectsWith(() => pool.run('sum', args), { code: 'ERR_INVALID_ARG' })
    await rejectsWith(() => pool.run('sum', args, { priority: 1 }), { code: 'ERR_INVALID_ARG' })
  })

  test('Proxies whose traps throw reject instead of throwing', async () => {
    const boom = () => {
      throw new Error('trap exploded')
    }
    const proxies = [
      new Proxy({}, { ownKeys: boom }),
      new Proxy({ iterations: 1 }, { get: boom }),
      new Proxy({ iterations: 1 }, { getOwnPropertyDescriptor: boom }),
      new Proxy([], { get: boom }),
      new Proxy({}, { getPrototypeOf: boom }),
    ]
    for (const args of proxies) {
      await rejectsWith(() => pool.run('sum', args), { code: 'ERR_INVALID_ARG' })
    }
  })

  test('a revoked Proxy rejects instead of throwing', async () => {
    const { proxy, revoke } = Proxy.revocable({ iterations: 1 }, {})
    revoke()
    await rejectsWith(() => pool.run('sum', proxy), { code: 'ERR_INVALID_ARG' })
  })

  test('a well-behaved Proxy is read like an object', async () => {
    const args = new Proxy({}, {
      ownKeys: () => ['iterations'],
      getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true, value: 10 }),
      get: (_, k) => (k === 'iterations' ? 10 : undefined),
    })
    await expect(pool.run('sum', args)).resolves.toBe(45)
  })

  test('circular args reject with ERR_INVALID_ARG', async () => {
    const a = { iterations: 1 }
    a.self = a
    await rejectsWith(() => pool.run('sum', a), { code: 'ERR_INVALID_ARG' })
    const b = { iterations: [] }
    b.iterations.push(b.iterations)
    await rejectsWith(() => pool.run('sum', b), { code: 'ERR_INVALID_ARG', field: 'iterations' })
  })

  test('deeply nested args reject with ERR_INVALID_ARG', async () => {
    let deep = 1
    for (let i = 0; i < 10000; i++) deep = { d: deep }
    await rejectsWith(() => pool.run('sum', { iterations: 1, deep }), { code: 'ERR_INVALID_ARG' })
    let arr = 1
    for (let i = 0; i < 10000; i++) arr = [arr]
    await rejectsWith(() => pool.run('sum', arr), { code: 'ERR_INVALID_ARG' })
  })

  test('echo gives circular and deeply nested objects back untouched', async () => {
    const a = {}
    a.self = a
    await expect(pool.run('echo', a)).resolves.toBe(a)
  })

  test('a BigInt too big for 128 bits rejects with ERR_INVALID_ARG', async () => {
    await rejectsWith(() => pool.run('sum', { iterations: 2n ** 128n }), { code: 'ERR_INVALID_ARG' })
    await rejectsWith(() => pool.run('echo', 2n ** 1000n), { code: 'ERR_INVALID_ARG' })
  })

  test('a Proxy that reports a new object at every depth is stopped by the depth limit', async () => {
    const endless = new Proxy({}, {
      ownKeys: () => ['x'],
      getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
      get: () => endless,
    })
    await rejectsWith(() => pool.run('sum', endless), { code: 'ERR_INVALID_ARG' })
  })

  // A sparse array of length 2^32-1 must be refused before anything is built from it: run in a child
  // with a 1.5 GB address-space limit so that a regression fails quickly instead of eating the machine.
  test('a huge sparse array as args rejects instead of exhausting memory', async () => {
    const out = await runNode(
      `
      const { Pool } = require('.')
      const pool = new Pool({ threads: 1 })
      pool.run('sum', new Array(2 ** 32 - 1))
        .then(() => console.log('resolved'), (e) => console.log(e.code))
        .then(() => pool.close())
    `,
      { shell: 'ulimit -v 1500000', timeout: 30000 },
    )
    expect(out).toMatchObject({ code: 0, signal: null, killed: false })
    expect(out.stdout).toBe('ERR_INVALID_ARG\n')
  })

  test('a huge sparse array inside a field rejects, naming the field', async () => {
    const out = await runNode(
      `
      const { Pool } = require('.')
      const pool = new Pool({ threads: 1 })
      pool.run('sum', { iterations: new Array(2 ** 32 - 1) })
        .then(() => console.log('resolved'), (e) => console.log(e.code, e.field))
        .then(() => pool.close())
    `,
      { shell: 'ulimit -v 1500000', timeout: 30000 },
    )
    expect(out).toMatchObject({ code: 0, signal: null, killed: false })
    expect(out.stdout).toBe('ERR_INVALID_ARG iterations\n')
  })

  test('a tree that shares its subtrees 2^30 times over rejects instead of walking them all', async () => {
    let shared = { leaf: 1 }
    for (let i = 0; i < 30; i++) shared = { a: shared, b: shared }
    await expect(pool.run('sum', { iterations: shared })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      field: expect.stringMatching(/^iterations\./),
      message: expect.stringContaining('more than 1000000 values'),
    })
  })
})

describe('run options', () => {
  test.each([
    ['an unknown option', { retries: 1 }, 'options.retries'],
    ['timeout -1', { timeout: -1 }, 'options.timeout'],
    ['timeout 0', { timeout: 0 }, 'options.timeout'],
    ["timeout 'x'", { timeout: 'x' }, 'options.timeout'],
    ['timeout NaN', { timeout: NaN }, 'options.timeout'],
    ['timeout null', { timeout: null }, 'options.timeout'],
    ['priority 1.5', { priority: 1.5 }, 'options.priority'],
    ["priority '1'", { priority: '1' }, 'options.priority'],
    ['priority NaN', { priority: NaN }, 'options.priority'],
    ['priority 2^31', { priority: 2 ** 31 }, 'options.priority'],
    ['priority Infinity', { priority: Infinity }, 'options.priority'],
    ['signal: an object', { signal: {} }, 'options.signal'],
    ['signal: true', { signal: true }, 'options.signal'],
    ['signal: an AbortController', { signal: new AbortController() }, 'options.signal'],
  ])('%s rejects with ERR_INVALID_ARG naming %s', async (_, options, field) => {
    await rejectsWith(() => pool.run('echo', 1, options), { code: 'ERR_INVALID_ARG', field })
    await rejectsWith(() => pool.spawn('echo', 1, options).result, { code: 'ERR_INVALID_ARG', field })
  })

  test.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'fast'],
    ['an array', []],
  ])('%s as options rejects with ERR_INVALID_ARG', async (_, options) => {
    await rejectsWith(() => pool.run('echo', 1, options), { code: 'ERR_INVALID_ARG', field: 'options' })
  })

  test('valid options are accepted', async () => {
    await expect(pool.run('echo', 1, {})).resolves.toBe(1)
    await expect(pool.run('echo', 1, { timeout: Infinity, priority: -5 })).resolves.toBe(1)
    await expect(pool.run('echo', 1, { signal: new AbortController().signal, timeout: 1000 })).resolves.toBe(1)
    await expect(pool.run('echo', 1, { signal: undefined, timeout: undefined, priority: undefined })).resolves.toBe(1)
  })
})

describe('a closed pool', () => {
  test('run and spawn after close() reject with ERR_POOL_CLOSED', async () => {
    const p = new Pool({ threads: 1 })
    const closing = p.close()
    await rejectsWith(() => p.run('echo', 1), { code: 'ERR_POOL_CLOSED' })
    await closing
    expect(p.closed).toBe(true)
    await rejectsWith(() => p.run('echo', 1), { code: 'ERR_POOL_CLOSED' })
    await rejectsWith(() => p.run('sum', { iterations: 1 }, { priority: 1 }), { code: 'ERR_POOL_CLOSED' })
    await rejectsWith(() => p.spawn('echo', 1).result, { code: 'ERR_POOL_CLOSED' })
  })

  test('run after destroy() rejects with ERR_POOL_CLOSED', async () => {
    const p = new Pool({ threads: 1 })
    await p.destroy()
    await rejectsWith(() => p.run('echo', 1), { code: 'ERR_POOL_CLOSED' })
  })
})

describe('new Pool(options)', () => {
  test.each([
    ['threads 0', { threads: 0 }, RangeError, 'threads'],
    ['threads -1', { threads: -1 }, RangeError, 'threads'],
    ['threads 1.5', { threads: 1.5 }, RangeError, 'threads'],
    ['threads NaN', { threads: NaN }, RangeError, 'threads'],
    ['threads Infinity', { threads: Infinity }, RangeError, 'threads'],
    ['threads 1e9', { threads: 1e9 }, RangeError, 'threads'],
    ["threads '2'", { threads: '2' }, TypeError, 'threads'],
    ['threads null', { threads: null }, TypeError, 'threads'],
    ['an unknown option', { thread: 2 }, TypeError, 'thread'],
    ['minThreads > maxThreads', { minThreads: 3, maxThreads: 2 }, RangeError, 'minThreads'],
    ['minThreads -1', { minThreads: -1 }, RangeError, 'minThreads'],
    ['maxThreads 0', { maxThreads: 0 }, RangeError, 'maxThreads'],
    ["maxThreads '4'", { maxThreads: '4' }, TypeError, 'maxThreads'],
    ['threads with maxThreads', { threads: 2, maxThreads: 2 }, TypeError, 'threads'],
    ['threads with minThreads', { threads: 2, minThreads: 1 }, TypeError, 'threads'],
    ['idleTimeout -1', { idleTimeout: -1 }, RangeError, 'idleTimeout'],
    ["idleTimeout 'x'", { idleTimeout: 'x' }, TypeError, 'idleTimeout'],
    ['idleTimeout NaN', { idleTimeout: NaN }, RangeError, 'idleTimeout'],
    ['maxQueue -1', { maxQueue: -1 }, RangeError, 'maxQueue'],
    ['maxQueue 1.5', { maxQueue: 1.5 }, RangeError, 'maxQueue'],
    ["maxQueue '5'", { maxQueue: '5' }, TypeError, 'maxQueue'],
  ])('%s throws a %p naming %s', (_, options, Ctor, name) => {
    let err
    try {
      new Pool(options)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Ctor)
    expect(err.message).toContain(name)
    expect(err.code).toBe('ERR_INVALID_ARG')
  })

  test.each([
    ['null', null],
    ['a number', 4],
    ['a string', 'big'],
    ['an array', [2]],
  ])('%s as options throws a TypeError', (_, options) => {
    expect(() => new Pool(options)).toThrow(TypeError)
  })

  test('valid options give the configuration with defaults filled in', async () => {
    const pools = [
      [new Pool(), (o) => expect(o.minThreads).toBe(o.maxThreads)],
      [new Pool({}), (o) => expect(o.maxThreads).toBeGreaterThanOrEqual(1)],
      [new Pool({ threads: 3 }), (o) => expect(o).toMatchObject({ minThreads: 3, maxThreads: 3 })],
      [new Pool({ minThreads: 0, maxThreads: 2, idleTimeout: 0, maxQueue: 0 }), (o) => expect(o).toMatchObject({ minThreads: 0, maxThreads: 2, idleTimeout: 0, maxQueue: 0 })],
      [new Pool({ maxQueue: Infinity, threads: undefined }), (o) => expect(o.maxQueue).toBe(Infinity)],
    ]
    for (const [p, check] of pools) {
      check(p.options)
      await p.close()
    }
  })
})
