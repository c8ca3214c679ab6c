'use strict'
// Values whose getters or Proxy traps throw, read by the pool: each such throw rejects with
// ERR_INVALID_ARG naming the field being read, with what was thrown as the error's `cause`; nothing
// escapes to Node as an uncaught Node-API callback exception (DEP0168), and nothing throws
// synchronously. (`npm test` runs jest with --force-node-api-uncaught-exceptions-policy=true, under
// which such an escape would kill the process.)

const { Pool } = require('..')
const { runNode, noThrow, settle } = require('./helpers')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

/** A fresh error per call, so `cause` can be checked by identity. */
function thrower() {
  const error = new Error('thrown by the caller')
  return { error, fn: () => { throw error } }
}

/** Asserts the promise rejects with ERR_INVALID_ARG naming `field`, with `cause` as its cause. */
async function rejectsUnreadable(call, field, cause) {
  const outcome = await settle(noThrow(call))
  expect(outcome.ok).toBe(false)
  expect(outcome.error).toMatchObject({ code: 'ERR_INVALID_ARG', name: 'TypeError', field })
  expect(outcome.error.message).toContain(`"${field}"`)
  if (cause !== undefined) expect(outcome.error.cause).toBe(cause)
  return outcome.error
}

/** The three entry points a task can be started through: run without options (the fast path),
 * run with options, spawn. */
const starts = [
  ['run', (task, args) => pool.run(task, args)],
  ['run with options', (task, args) => pool.run(task, args, { priority: 1 })],
  ['spawn', (task, args) => pool.spawn(task, args).result],
]

describe.each(starts)('arguments read through %s', (_, start) => {
  test('a Proxy whose get trap throws, as echo\'s argument', async () => {
    const { error, fn } = thrower()
    await rejectsUnreadable(() => start('echo', new Proxy({}, { get: fn })), 'args', error)
  })

  test('a revoked Proxy, as echo\'s and as sum\'s argument', async () => {
    const { proxy, revoke } = Proxy.revocable({ iterations: 1 }, {})
    revoke()
    const a = await rejectsUnreadable(() => start('echo', proxy), 'args')
    const b = await rejectsUnreadable(() => start('sum', proxy), 'args')
    for (const err of [a, b]) {
      expect(err.cause).toMatchObject({ name: 'TypeError' })
      expect(String(err.cause.message)).toContain('revoked')
    }
  })

  test('an object whose then getter throws, as echo\'s argument', async () => {
    const { error, fn } = thrower()
    const args = Object.defineProperty({}, 'then', { get: fn, enumerable: true })
    await rejectsUnreadable(() => start('echo', args), 'args', error)
  })

  test('a throwing getter on a field names the field', async () => {
    const { error, fn } = thrower()
    const args = Object.defineProperty({}, 'iterations', { get: fn, enumerable: true })
    await rejectsUnreadable(() => start('sum', args), 'iterations', error)
  })

  test('a throwing ownKeys trap on the argument names "args"', async () => {
    const { error, fn } = thrower()
    await rejectsUnreadable(() => start('sum', new Proxy({}, { ownKeys: fn })), 'args', error)
  })

  test('a Proxy inside a field names the field', async () => {
    const { error, fn } = thrower()
    await rejectsUnreadable(() => start('sum', { iterations: new Proxy({}, { ownKeys: fn }) }), 'iterations', error)
  })

  test('an array element whose getter throws names the field that holds the array', async () => {
    const { error, fn } = thrower()
    const list = Object.defineProperty([1, 2], 1, { get: fn })
    await rejectsUnreadable(() => start('sum', { iterations: list }), 'iterations', error)
  })

  test('a thrown non-Error value is kept as the cause', async () => {
    const thrown = { not: 'an error' }
    const args = new Proxy({}, { get() { throw thrown } })
    await rejectsUnreadable(() => start('echo', args), 'args', thrown)
  })
})

describe('what is not a failure', () => {
  test('a thenable given to echo is adopted, as any promise would', async () => {
    await expect(pool.run('echo', { then: (resolve) => resolve(42) })).resolves.toBe(42)
  })

  test('a getter is read once and its value used', async () => {
    let reads = 0
    const args = { get iterations() { reads += 1; return 10 + reads } }
    await expect(pool.run('sum', args)).resolves.toBe((11 * 10) / 2)
    expect(reads).toBe(1)
  })
})

describe('run options', () => {
  test('an options object whose ownKeys trap throws names "options"', async () => {
    const { error, fn } = thrower()
    const options = new Proxy({}, { ownKeys: fn })
    await rejectsUnreadable(() => pool.run('echo', 1, options), 'options', error)
    await rejectsUnreadable(() => pool.spawn('echo', 1, options).result, 'options', error)
  })

  test('a revoked Proxy as options names "options"', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    await rejectsUnreadable(() => pool.run('echo', 1, proxy), 'options')
  })

  test.each(['timeout', 'priority', 'signal'])('a throwing %s getter names the option', async (key) => {
    const { error, fn } = thrower()
    const options = Object.defineProperty({}, key, { get: fn, enumerable: true })
    await rejectsUnreadable(() => pool.run('echo', 1, options), `options.${key}`, error)
  })

  test.each([
    ['aborted', (fn) => ({ get aborted() { return fn() }, addEventListener() {}, removeEventListener() {} })],
    ['addEventListener', (fn) => ({ aborted: false, addEventListener: fn, removeEventListener() {} })],
  ])('a signal whose %s throws names options.signal, and nothing runs', async (_, make) => {
    const own = new Pool({ threads: 1 })
    const { error, fn } = thrower()
    await rejectsUnreadable(() => own.run('echo', 1, { signal: make(fn) }), 'options.signal', error)
    const { completed, failed, cancelled } = own.stats()
    expect({ completed, failed, cancelled }).toEqual({ completed: 0, failed: 0, cancelled: 0 })
    await own.close()
  })

  test('a signal whose removeEventListener throws does not disturb the result', async () => {
    const signal = { aborted: false, addEventListener() {}, removeEventListener() { throw new Error('no') } }
    await expect(pool.run('echo', 7, { signal })).resolves.toBe(7)
  })
})

describe('the task name', () => {
  test('a revoked Proxy as the task name rejects, for run and spawn', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    await expect(noThrow(() => pool.run(proxy, {}))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'task' })
    const handle = noThrow(() => pool.spawn(proxy, {}))
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'task' })
    expect(handle.task).toBe('object')
  })

  test('an object whose toString throws, as the task name of a spawn', async () => {
    const task = { toString() { throw new Error('no name') } }
    const handle = noThrow(() => pool.spawn(task, {}))
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'task' })
  })
})

describe('new Pool(options)', () => {
  test('a throwing getter throws ERR_INVALID_ARG naming the option, with the cause', () => {
    const { error, fn } = thrower()
    const options = Object.defineProperty({}, 'threads', { get: fn, enumerable: true })
    let thrown
    try {
      new Pool(options)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG', field: 'options.threads', name: 'TypeError' })
    expect(thrown.cause).toBe(error)
  })

  test('a revoked Proxy as options throws ERR_INVALID_ARG naming "options"', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(() => new Pool(proxy)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'options' }))
  })
})

test('under the strict uncaught-exception policy, every hostile value settles and the process lives', async () => {
  // The issue's own reproductions, in a process of their own run with the policy Node is moving to:
  // there an exception escaping a Node-API callback is fatal, and DEP0168 would be printed without it.
  const code = `
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 })
    const revoked = Proxy.revocable({}, {}); revoked.revoke()
    const boom = () => { throw new Error('boom') }
    const calls = [
      () => pool.run('echo', new Proxy({}, { get: boom })),
      () => pool.run('echo', revoked.proxy),
      () => pool.run('echo', 1, new Proxy({}, { ownKeys: boom })),
      () => pool.run('sum', { get iterations() { return boom() } }),
      () => pool.spawn('echo', Object.defineProperty({}, 'then', { get: boom, enumerable: true })).result,
    ]
    Promise.allSettled(calls.map((c) => c())).then(async (outcomes) => {
      console.log(JSON.stringify(outcomes.map((o) => o.status === 'rejected' ? o.reason.code : 'resolved')))
      await pool.close()
    })
  `
  const r = await runNode(code, { args: ['--force-node-api-uncaught-exceptions-policy=true'] })
  expect(r.stderr).not.toContain('DEP0168')
  expect(r).toMatchObject({ code: 0, killed: false })
  expect(JSON.parse(r.stdout)).toEqual(Array(5).fill('ERR_INVALID_ARG'))
})
