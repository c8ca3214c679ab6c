'use strict'
// Property-based fuzzing (fast-check) of every task in `Pool.tasks()`, run options and task names,
// with arguments generated from each task's own description, valid and hostile (fuzz-gen.js). Every
// call must settle exactly once, never throw synchronously, and give either the reference value or a
// rejection with a documented code (ERR_INVALID_ARG with `field` naming what was wrong, and `cause`
// the exception our own getter or trap threw). Seeds are fixed so every run checks the same cases.

const { inspect } = require('node:util')
const { Pool } = require('..')
const gen = require('./fuzz-gen.js')
const { fc, CODES } = gen

/** A call that has not settled by then has hung: the property fails (generous for a loaded CI). */
const BOUND_MS = 20000

/** Per property: a few hundred millisecond-cases, but on 2 busy cores a reference can take a while. */
const PROPERTY_TIMEOUT_MS = 300000

/** Cases run, per property, printed at the end. */
const counts = new Map()
let pool

beforeAll(() => {
  pool = new Pool({ threads: 2 })
})

afterAll(async () => {
  await pool.close()
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  const lines = [...counts].map(([name, n]) => `  ${name}: ${n}`)
  console.log(`fuzz cases run: ${total}\n${lines.join('\n')}`)
})

function count(name) {
  counts.set(name, (counts.get(name) || 0) + 1)
}

/** Races `promise` against a bound: rejects (failing the property) if it has not settled in time. */
function bounded(promise, what) {
  let timer
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${BOUND_MS} ms`)), BOUND_MS)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

const EXIT_OF = { ABORT_ERR: 2, ERR_POOL_CLOSED: 2, ERR_TASK_TIMEOUT: 3 }

/**
 * Calls `run` or `spawn` (never expecting a synchronous throw) and waits for the outcome; for a
 * spawned task also for its one 'exit' with the code matching the outcome.
 */
async function call(how, task, args, options, after) {
  let handle
  let promise
  let syncError = null
  try {
    if (how === 'spawn') {
      handle = pool.spawn(task, args, options)
      promise = handle.result
    } else {
      promise = options === undefined ? pool.run(task, args) : pool.run(task, args, options)
    }
  } catch (err) {
    syncError = err
  }
  if (syncError !== null) throw new Error(`${how} threw synchronously: ${syncError && syncError.stack}`)
  // Not events.once: it listens to 'error', which would make the handle emit it (and once reject).
  const exits = []
  let exited = null
  if (handle) exited = new Promise((resolve) => handle.on('exit', (code) => resolve(exits.push(code))))
  if (after) after()
  const outcome = await bounded(
    promise.then(
      (value) => ({ ok: true, value }),
      (error) => ({ ok: false, error }),
    ),
    `${how}(${String(typeof task === 'string' ? task : typeof task)})`,
  )
  if (handle) {
    await bounded(exited, 'exit event')
    await new Promise(setImmediate)
    if (exits.length !== 1) throw new Error(`'exit' emitted ${exits.length} times`)
    const want = outcome.ok ? 0 : EXIT_OF[outcome.error && outcome.error.code] ?? 1
    if (exits[0] !== want) throw new Error(`exit code ${exits[0]} for ${outcome.ok ? 'a result' : outcome.error.code}`)
  }
  return outcome
}

function describeOutcome(o) {
  if (o.ok) return `resolved ${inspect(o.value, { depth: 2, maxArrayLength: 8, maxStringLength: 80 })}`
  const e = o.error
  return `rejected ${e && e.code} field=${e && e.field} ${e && e.message}`
}

/** `field` names one of `names` or a value nested in it. Keys cross as UTF-8: a lone surrogate in a
 * key comes back as U+FFFD, which is as good a name for a human. */
function fieldMatches(field, names) {
  return names.some((name) => {
    const n = name.toWellFormed()
    return field === n || field.startsWith(`${n}.`)
  })
}

function isInvalid(o, names) {
  return (
    !o.ok &&
    o.error !== null &&
    typeof o.error === 'object' &&
    o.error.code === 'ERR_INVALID_ARG' &&
    typeof o.error.field === 'string' &&
    (names === null || fieldMatches(o.error.field, names))
  )
}

/** Checks the outcome against the model's expectation; throws with a description if it differs. */
async function check(o, exp, { timeout = false } = {}) {
  const fail = (why) => {
    throw new Error(`${why}: ${describeOutcome(o)}; expected ${JSON.stringify(exp, (k, v) => (typeof v === 'function' ? 'fn' : v))}`)
  }
  if (!o.ok) {
    const code = o.error !== null && typeof o.error === 'object' ? o.error.code : undefined
    if (!CODES.includes(code)) fail('a rejection without a documented code')
    if (code === 'ERR_INVALID_ARG' && typeof o.error.field !== 'string') fail('ERR_INVALID_ARG without a field')
    if (code === 'ERR_TASK_TIMEOUT' && timeout) return
  }
  if (exp.neverRead !== undefined) fail(`the pool accepted the arguments without reading ${exp.neverRead}`)
  if (exp.invalid !== undefined) {
    if (!isInvalid(o, exp.invalid)) fail('not the expected ERR_INVALID_ARG')
    if (exp.cause === TypeError) {
      if (!(o.error.cause && o.error.cause.name === 'TypeError')) fail('cause is not the TypeError of the revoked proxy')
    } else if (Array.isArray(exp.cause) && exp.cause.length > 0) {
      if (!exp.cause.includes(o.error.cause)) fail('cause is not the exception our getter or trap threw')
    }
    return
  }
  if (exp.rejects !== undefined) {
    if (o.ok || o.error.code !== exp.rejects) fail(`expected ${exp.rejects}`)
    return
  }
  if (exp.orInvalid && isInvalid(o, exp.orInvalid)) return
  if (exp.valueOrFailed) {
    if (o.ok ? !Buffer.isBuffer(o.value) : o.error.code !== 'ERR_TASK_FAILED') fail('expected a Buffer or ERR_TASK_FAILED')
    return
  }
  if (!o.ok) fail('expected a value')
  if (!(await exp.value(o.value))) fail('not the reference value')
  if (exp.roundTrip) {
    const back = await bounded(pool.run(exp.roundTrip.task, { data: o.value }), 'round trip')
    if (!Buffer.isBuffer(back) || !back.equals(exp.roundTrip.equals)) fail('the round trip did not give the input back')
  }
}

/** Runs per task, kept small where a valid case costs more than a millisecond or two. */
const RUNS = { argon2Hash: 15, argon2Verify: 15, bcryptHash: 20, bcryptVerify: 20, scrypt: 40, brotliCompress: 40 }
const DEFAULT_RUNS = 60

const tasks = Pool.tasks()

test('Pool.tasks() lists tasks whose field types all parse', () => {
  expect(tasks.length).toBeGreaterThan(20)
  for (const t of tasks) {
    if (t.args === 'any') continue
    for (const f of t.args) expect(() => gen.parseType(f)).not.toThrow()
  }
})

describe.each(tasks.filter((t) => Array.isArray(t.args)).map((t, i) => [t.name, t, i]))('%s', (name, task, i) => {
  test('each call settles once with the reference value or a documented code', async () => {
    const property = fc.asyncProperty(gen.argsPlan(task), fc.boolean(), async (plan, spawn) => {
      count(name)
      await gen.prepareHashes(plan)
      const built = gen.materialise(plan)
      let observed
      const outcome = await call(spawn ? 'spawn' : 'run', name, built.args, undefined, () => {
        observed = built.observe()
      })
      await check(outcome, await gen.expected(task, observed, built.thrown))
    })
    await fc.assert(property, { seed: 0x5eed + i, numRuns: RUNS[name] ?? DEFAULT_RUNS })
  }, PROPERTY_TIMEOUT_MS)
})

test('an argument object of 1e6 + 1 keys is refused as too large, naming its field', async () => {
  const huge = gen.hugeObject()
  for (const [how, task, args] of [['run', 'sum', { iterations: huge }], ['spawn', 'hash', { algorithm: 'sha256', data: huge }], ['run', 'sum', huge]]) {
    count('huge objects')
    const outcome = await call(how, task, args)
    await check(outcome, { invalid: [args === huge ? 'args' : Object.keys(args).find((k) => args[k] === huge)] })
  }
}, PROPERTY_TIMEOUT_MS)

describe('echo', () => {
  const thenResolves = Symbol('resolves')
  const echoValue = fc.oneof(
    gen.primitives.map((v) => ({ kind: 'primitive', v })),
    fc.object({ maxDepth: 3 }).map((v) => ({ kind: 'same', v })),
    fc.array(fc.anything(), { maxLength: 5 }).map((v) => ({ kind: 'same', v })),
    gen.bigValue.map((b) => ({ kind: 'big', b })),
    fc.constantFrom(...gen.VIEWS).map((view) => ({ kind: 'view', view })),
    fc.constantFrom('function', 'symbol', 'passProxy', 'thenable', 'throwingThen', 'throwGetProxy', 'revokedProxy', 'getterMutates', 'frozen').map((kind) => ({ kind })),
  )

  test('returns its argument (the very object), adopts thenables, and names a throwing `then` as args', async () => {
    const property = fc.asyncProperty(echoValue, fc.boolean(), async (plan, spawn) => {
      count('echo')
      const thrown = []
      const boom = () => {
        const e = new gen.FuzzError('fuzz: then')
        thrown.push(e)
        return e
      }
      let v
      let exp
      switch (plan.kind) {
        case 'primitive':
          v = plan.v
          exp = { value: (got) => Object.is(got, v) || knownEchoLoss(v, got) }
          // A BigInt crosses to a thread as 128 bits: a wider one is refused as the argument.
          if (typeof v === 'bigint' && BigInt.asIntN(128, v) !== v) exp.orInvalid = ['args']
          break
        case 'same':
        case 'big':
        case 'view':
        case 'function':
        case 'symbol':
        case 'passProxy':
        case 'getterMutates':
        case 'frozen':
          v = {
            same: () => plan.v,
            big: () => gen.big()[plan.b],
            view: () => gen.view(plan.view, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
            function: () => function fuzz() {},
            symbol: () => Symbol('fuzz'),
            passProxy: () => new Proxy({ a: 1 }, {}),
            getterMutates: () => {
              let n = 0
              return { get x() { return n++ } }
            },
            frozen: () => Object.freeze({ a: [1] }),
          }[plan.kind]()
          exp = { value: (got) => got === v }
          break
        case 'thenable':
          v = { then(resolve) { resolve(thenResolves) } }
          exp = { value: (got) => got === thenResolves }
          break
        case 'throwingThen':
          v = Object.defineProperty({}, 'then', { get: () => { throw boom() } })
          exp = { invalid: ['args'], cause: thrown }
          break
        case 'throwGetProxy':
          v = new Proxy({}, { get: () => { throw boom() } })
          exp = { invalid: ['args'], cause: thrown }
          break
        case 'revokedProxy': {
          const r = Proxy.revocable({}, {})
          r.revoke()
          v = r.proxy
          exp = { invalid: ['args'], cause: TypeError }
          break
        }
      }
      await check(await call(spawn ? 'spawn' : 'run', 'echo', v), exp)
    })
    await fc.assert(property, { seed: 0xec0, numRuns: 300 })

  }, PROPERTY_TIMEOUT_MS)

  // Found by this fuzzer: a string with a lone surrogate comes back from echo with U+FFFD in its
  // place (strings cross as UTF-8). The property above accepts exactly that loss (knownEchoLoss);
  // this test fails, and so tells, once echo returns such strings unchanged.
  test.failing('echo returns a string with a lone surrogate unchanged', async () => {
    expect(await pool.run('echo', 'a\uD800b')).toBe('a\uD800b')
  })
})

/** The known echo loss (see the failing test above): lone surrogates come back as U+FFFD. */
function knownEchoLoss(v, got) {
  return typeof v === 'string' && got === v.toWellFormed()
}

describe('run options', () => {
  test('hostile options reject with the option named, or run the task as given', async () => {
    const property = fc.asyncProperty(gen.optionsPlan, fc.integer({ min: 0, max: 500 }), fc.boolean(), async (plan, n, spawn) => {
      count('options')
      const { options, expect: exp } = gen.materialiseOptions(plan)
      const outcome = await call(spawn ? 'spawn' : 'run', 'sum', { iterations: n }, options)
      let s = 0
      for (let i = 0; i < n; i++) s += i
      const model = exp === null || exp.timeout ? { value: (got) => got === s } : exp
      await check(outcome, model, { timeout: exp !== null && exp.timeout === true })
    })
    await fc.assert(property, { seed: 0x0971, numRuns: 300 })

  }, PROPERTY_TIMEOUT_MS)
})

describe('task names', () => {
  const names = fc.oneof(
    fc.string({ maxLength: 12 }).filter((s) => !tasks.some((t) => t.name === s) && !s.startsWith('__')),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'SUM', 'sum ', '\uD800', ''),
    gen.primitives.filter((v) => typeof v !== 'string'),
    fc.constantFrom('object', 'throwingToString', 'throwingProxy', 'revokedProxy', 'boxedString', 'function').map((kind) => ({ kind })),
  )

  function realName(n) {
    if (n === null || typeof n !== 'object' || !('kind' in n)) return n
    switch (n.kind) {
      case 'object':
        return { name: 'sum' }
      case 'throwingToString':
        return { toString() { throw new gen.FuzzError('toString') }, [Symbol.toPrimitive]() { throw new gen.FuzzError('toPrimitive') } }
      case 'throwingProxy':
        return new Proxy({}, { get() { throw new gen.FuzzError('get') } })
      case 'revokedProxy': {
        const r = Proxy.revocable({}, {})
        r.revoke()
        return r.proxy
      }
      case 'boxedString':
        return Object('sum')
      case 'function':
        return function sum() {}
    }
  }

  test('a bad name rejects ERR_UNKNOWN_TASK (a string) or ERR_INVALID_ARG naming task', async () => {
    const how = fc.constantFrom('run', 'runWithOptions', 'spawn')
    const property = fc.asyncProperty(names, how, async (n, mode) => {
      count('task names')
      const task = realName(n)
      const outcome = await call(mode === 'spawn' ? 'spawn' : 'run', task, { iterations: 1 }, mode === 'runWithOptions' ? {} : undefined)
      const exp = typeof task === 'string' ? { rejects: 'ERR_UNKNOWN_TASK' } : { invalid: ['task'] }
      await check(outcome, exp)
    })
    await fc.assert(property, { seed: 0x7a5c, numRuns: 200 })

  }, PROPERTY_TIMEOUT_MS)
})
