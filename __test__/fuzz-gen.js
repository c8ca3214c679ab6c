'use strict'
// Generators for the fuzz tests (fuzz*.test.js): arguments built from each task's own description in
// `Pool.tasks()`, mixing valid values with hostile ones (throwing, flipping and mutating getters,
// proxies, revoked proxies, detached and shared buffers, huge and deep values, every primitive), and
// an independent model of what each call must give: a reference value (node:crypto, node:zlib,
// bcryptjs, npm argon2, plain JS loops) or a rejection with a documented code and field.

const fc = require('fast-check')
const crypto = require('node:crypto')
const zlib = require('node:zlib')

/** Every documented `err.code`. */
const CODES = [
  'ERR_INVALID_ARG',
  'ERR_UNKNOWN_TASK',
  'ERR_POOL_CLOSED',
  'ERR_QUEUE_FULL',
  'ERR_TASK_FAILED',
  'ERR_TASK_PANICKED',
  'ERR_TASK_TIMEOUT',
  'ABORT_ERR',
]

/** A field's `type` string from `Pool.tasks()`, parsed: the documented forms only. */
function parseType(field) {
  const t = field.type
  let m
  if ((m = /^integer (-?\d+)\.\.=(-?\d+)$/.exec(t))) return { kind: 'integer', min: Number(m[1]), max: Number(m[2]) }
  if ((m = /^number (-?[\d.e+]+)\.\.=(-?[\d.e+]+)$/.exec(t))) return { kind: 'number', min: Number(m[1]), max: Number(m[2]) }
  if (Array.isArray(field.oneOf)) return { kind: 'enum', oneOf: field.oneOf }
  if (t === 'string') return { kind: 'string' }
  if (t === 'boolean') return { kind: 'boolean' }
  if (t === 'Buffer | TypedArray | DataView | ArrayBuffer') return { kind: 'bytes' }
  if (t === 'string | Buffer | TypedArray | DataView | ArrayBuffer') return { kind: 'bytesOrString' }
  if (t === 'any') return { kind: 'any' }
  throw new Error(`fuzz-gen: undocumented type "${t}" of field ${field.name}`)
}

function isBinary(v) {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer
}

/** The bytes a binary value stands for, as a Buffer copy (a detached buffer reads as empty). */
function bytesOf(v) {
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  try {
    if (v instanceof ArrayBuffer) return Buffer.from(v.slice(0))
    return Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
  } catch {
    return Buffer.alloc(0) // detached
  }
}

/** Whether `v` fits `ty`, from the documented meaning of each type (not from the pool's code). */
function fits(ty, v) {
  switch (ty.kind) {
    case 'any':
      return true
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && v >= ty.min && v <= ty.max
    case 'number':
      return typeof v === 'number' && !Number.isNaN(v) && v >= ty.min && v <= ty.max
    case 'enum':
      return typeof v === 'string' && ty.oneOf.includes(v)
    case 'string':
      return typeof v === 'string'
    case 'boolean':
      return typeof v === 'boolean'
    case 'bytes':
      return isBinary(v)
    case 'bytesOrString':
      return isBinary(v) || typeof v === 'string'
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/** Values the pool must survive anywhere: every primitive kind and its edges, functions, arrays. */
const primitives = fc.oneof(
  fc.constantFrom(undefined, null, true, false, -0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 64, 1.5, -1, 2 ** 31, -(2 ** 31) - 1, '', '\uD800', 'a\uDFFFb',
    '\u0000', 0n, -1n, 2n ** 64n, 2n ** 200n),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('\uD800', '\uDC00', 'x', '\u0000'), maxLength: 6 }),
  fc.constant(Symbol('fuzz')),
)

const other = fc.oneof(
  primitives,
  fc.constantFrom('function', 'array', 'emptyObject', 'date', 'map', 'regexp', 'boxedNumber', 'nullProto').map((k) => ({ hostile: k })),
)

function materialiseOther(v) {
  if (v === null || typeof v !== 'object' || !('hostile' in v)) return v
  switch (v.hostile) {
    case 'function':
      return function fuzz() {}
    case 'array':
      return [1, 2, 3]
    case 'emptyObject':
      return {}
    case 'date':
      return new Date(0)
    case 'map':
      return new Map([[1, 2]])
    case 'regexp':
      return /x/
    case 'boxedNumber':
      return Object(5)
    case 'nullProto':
      return Object.create(null)
  }
  return v
}

/**
 * Big values, built once: 1e6+ elements, nesting past 64, a cycle. (An object of 1e6+ keys costs the
 * pool seconds to list its keys on a loaded machine, so it has one test of its own, not a generator.)
 */
let bigValues = null
function big() {
  if (bigValues !== null) return bigValues
  const deep = {}
  let node = deep
  for (let i = 0; i < 100; i++) node = node.a = {}
  const deepArray = []
  let arr = deepArray
  for (let i = 0; i < 100; i++) arr.push((arr = []))
  const cyclic = { name: 'cycle' }
  cyclic.self = cyclic
  bigValues = {
    deep,
    deepArray,
    hugeArray: new Array(1_000_001).fill(1),
    sparseArray: new Array(2 ** 32 - 1),
    cyclic,
  }
  return bigValues
}

const bigValue = fc.constantFrom('deep', 'deepArray', 'hugeArray', 'sparseArray', 'cyclic')

/** An object of 1e6 + 1 keys (integer-like keys: built in a fraction of a second). */
function hugeObject() {
  const o = {}
  for (let i = 0; i <= 1_000_000; i++) o[i] = i
  return o
}

/** A binary view of `bytes`, in one of many shapes; some hostile (detached, shared). */
const VIEWS = ['buffer', 'uint8', 'offsetUint8', 'dataView', 'arrayBuffer', 'float64', 'uint16', 'sharedUint8', 'detachedBuffer', 'detachedView']

function view(kind, bytes) {
  const copy = () => {
    const ab = new ArrayBuffer(bytes.length)
    new Uint8Array(ab).set(bytes)
    return ab
  }
  switch (kind) {
    case 'buffer':
      return Buffer.from(bytes)
    case 'uint8':
      return new Uint8Array(copy())
    case 'offsetUint8': {
      const ab = new ArrayBuffer(bytes.length + 7)
      new Uint8Array(ab, 3, bytes.length).set(bytes)
      return new Uint8Array(ab, 3, bytes.length)
    }
    case 'dataView':
      return new DataView(copy())
    case 'arrayBuffer':
      return copy()
    case 'float64': {
      const ab = new ArrayBuffer(bytes.length - (bytes.length % 8))
      new Uint8Array(ab).set(bytes.subarray(0, ab.byteLength))
      return new Float64Array(ab)
    }
    case 'uint16': {
      const ab = new ArrayBuffer(bytes.length - (bytes.length % 2))
      new Uint8Array(ab).set(bytes.subarray(0, ab.byteLength))
      return new Uint16Array(ab)
    }
    case 'sharedUint8': {
      const sab = new SharedArrayBuffer(bytes.length)
      new Uint8Array(sab).set(bytes)
      return new Uint8Array(sab)
    }
    case 'detachedBuffer': {
      const ab = copy()
      structuredClone(ab, { transfer: [ab] })
      return ab
    }
    case 'detachedView': {
      const u = new Uint8Array(copy())
      structuredClone(u.buffer, { transfer: [u.buffer] })
      return u
    }
  }
  throw new Error(kind)
}

/** Views whose handling is the pool's choice (read as bytes, or refused as the field's bad value). */
const LENIENT_VIEWS = new Set(['sharedUint8', 'detachedBuffer', 'detachedView'])

// ---------------------------------------------------------------------------------------------
// Valid values, per task: the documented types, capped so a case runs in milliseconds, and the few
// constraints a task documents beyond its types (scrypt's power-of-two N, argon2's memory).

const smallBytes = fc.uint8Array({ maxLength: 96 })
const utf8ish = fc.string({ maxLength: 40 })

function bytesLike(kinds = VIEWS, source = smallBytes) {
  return fc.record({ view: fc.constantFrom(...kinds), bytes: source }).map(({ view: kind, bytes }) => ({ binary: kind, bytes }))
}

const bytesOrString = (source = smallBytes) => fc.oneof(utf8ish, bytesLike(VIEWS, source))

const compressed = {
  gunzip: (b) => zlib.gzipSync(b),
  inflate: (b) => zlib.deflateSync(b),
  inflateRaw: (b) => zlib.deflateRawSync(b),
  brotliDecompress: (b) => zlib.brotliCompressSync(b),
}

/** Streams for a decompressor: mostly valid, sometimes truncated, corrupted or random. */
function streamOf(task) {
  const make = compressed[task]
  return fc
    .record({ plain: smallBytes, how: fc.constantFrom('valid', 'valid', 'valid', 'truncated', 'flipped', 'random', 'trailing'), at: fc.nat() })
    .map(({ plain, how, at }) => {
      let b = make ? make(Buffer.from(plain)) : Buffer.from(plain)
      if (how === 'truncated' && b.length > 1) b = b.subarray(0, at % b.length)
      if (how === 'flipped' && b.length > 0) {
        b = Buffer.from(b)
        b[at % b.length] ^= 1 + (at % 255)
      }
      if (how === 'random') b = Buffer.from(plain)
      if (how === 'trailing') b = Buffer.concat([b, Buffer.from([at & 255, 1, 2])])
      return new Uint8Array(b)
    })
    .chain((bytes) => fc.constantFrom('buffer', 'uint8', 'dataView', 'arrayBuffer', 'sharedUint8').map((kind) => ({ binary: kind, bytes })))
}

const int = (min, max) => fc.integer({ min, max })

/** Capped valid generators for fields whose whole range would be slow, and task-specific shapes. */
const VALID = {
  sum: { iterations: int(0, 20000) },
  fib: { n: int(0, 22) },
  primes: { limit: int(0, 50000) },
  sleep: { ms: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2, noNaN: true })) },
  gunzip: { data: streamOf('gunzip'), maxOutputLength: int(1, 4096) },
  inflate: { data: streamOf('inflate'), maxOutputLength: int(1, 4096) },
  inflateRaw: { data: streamOf('inflateRaw'), maxOutputLength: int(1, 4096) },
  brotliDecompress: { data: streamOf('brotliDecompress'), maxOutputLength: int(1, 4096) },
  zstdDecompress: { data: streamOf('zstdDecompress'), maxOutputLength: int(1, 4096) },
  brotliCompress: { lgwin: int(10, 24) },
  zstdCompress: { level: int(-100, 19) },
  bcryptHash: {
    password: utf8ish,
    cost: int(4, 5),
    salt: fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ({ binary: 'buffer', bytes: b })),
      fc.constantFrom('$2b$04$', '$2a$05$', '$2b$05$').chain((p) => fc.string({ unit: fc.constantFrom(...'./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'), minLength: 22, maxLength: 22 }).map((s) => p + s.slice(0, 21) + '.')),
    ),
  },
  bcryptVerify: { password: utf8ish, hash: fc.record({ pw: utf8ish, same: fc.boolean() }).map(({ pw, same }) => ({ bcryptOf: pw, same })) },
  argon2Hash: {
    password: bytesOrString(),
    salt: fc.uint8Array({ minLength: 8, maxLength: 32 }).map((b) => ({ binary: 'buffer', bytes: b })),
    secret: fc.uint8Array({ maxLength: 16 }).map((b) => ({ binary: 'buffer', bytes: b })),
    timeCost: int(1, 2),
    memoryCost: int(8, 64),
    parallelism: int(1, 2),
    hashLength: int(4, 64),
  },
  argon2Verify: { password: utf8ish, hash: fc.record({ pw: utf8ish, same: fc.boolean() }).map(({ pw, same }) => ({ argon2Of: pw, same })), secret: fc.constant(undefined) },
  scrypt: {
    keylen: int(0, 64),
    N: fc.constantFrom(2, 4, 8, 16, 32, 64),
    cost: fc.constant(undefined),
    r: int(1, 4),
    blockSize: fc.constant(undefined),
    p: int(1, 2),
    parallelization: fc.constant(undefined),
    maxmem: fc.constant(undefined),
  },
}

/** The default valid generator of a documented type (large ranges keep their edges). */
function validOfType(ty) {
  switch (ty.kind) {
    case 'integer':
      return fc.oneof(fc.constantFrom(ty.min, ty.max), int(ty.min, ty.max))
    case 'number':
      return fc.double({ min: ty.min, max: ty.max, noNaN: true })
    case 'enum':
      return fc.constantFrom(...ty.oneOf)
    case 'string':
      return utf8ish
    case 'boolean':
      return fc.boolean()
    case 'bytes':
      return bytesLike(VIEWS.filter((v) => !LENIENT_VIEWS.has(v)))
    case 'bytesOrString':
      return bytesOrString()
    case 'any':
      return fc.anything()
  }
  throw new Error(ty.kind)
}

// ---------------------------------------------------------------------------------------------
// Argument plans: a description fast-check can print and shrink; `materialise` turns it into the
// real (possibly hostile) object, with a log of what its getters returned.

/** One field's plan: its key, how it is stored, and its value (or values). */
function fieldPlan(task, field, ty) {
  const valid = (VALID[task] && VALID[task][field.name]) || validOfType(ty)
  const invalid = fc.oneof(other, bigValue.map((b) => ({ big: b })))
  const value = fc.oneof({ weight: 6, arbitrary: valid }, { weight: 2, arbitrary: invalid }, {
    weight: 1,
    arbitrary: bytesLike([...LENIENT_VIEWS]),
  })
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ key: field.name, store: 'absent' }) },
    { weight: 8, arbitrary: value.map((v) => ({ key: field.name, store: 'data', v })) },
    { weight: 2, arbitrary: value.map((v) => ({ key: field.name, store: 'getter', v })) },
    { weight: 1, arbitrary: fc.constant({ key: field.name, store: 'throwingGetter' }) },
    { weight: 1, arbitrary: fc.tuple(valid, valid).map(([v, w]) => ({ key: field.name, store: 'flipGetter', v, w })) },
    { weight: 1, arbitrary: valid.map((v) => ({ key: field.name, store: 'deletingGetter', v })) },
    { weight: 1, arbitrary: valid.map((v) => ({ key: field.name, store: 'addingGetter', v })) },
  )
}

const WRAPS = ['plain', 'plain', 'plain', 'plain', 'nullProto', 'passProxy', 'throwGetProxy', 'throwOwnKeysProxy', 'throwDescriptorProxy', 'revokedProxy', 'array', 'primitive', 'function', 'symbolKey']

/** One field of a valid plan: a valid value, read plainly or through a benign getter. */
function validFieldPlan(task, field, ty) {
  const valid = (VALID[task] && VALID[task][field.name]) || validOfType(ty)
  const stores = [
    valid.map((v) => ({ key: field.name, store: 'data', v })),
    valid.map((v) => ({ key: field.name, store: 'getter', v })),
    fc.tuple(valid, valid).map(([v, w]) => ({ key: field.name, store: 'flipGetter', v, w })),
  ]
  if (!field.required) stores.push(fc.constant({ key: field.name, store: 'absent' }))
  return fc.oneof({ weight: 4, arbitrary: stores[0] }, ...stores.slice(1))
}

const shuffled = (ps) => fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length })

/**
 * A whole argument plan for a task with an object schema: half of them valid throughout (so the
 * reference values are checked often), half with hostile fields, wrappers or extra keys.
 */
function argsPlan(task) {
  const fields = task.args.map((f) => ({ field: f, ty: parseType(f) }))
  const valid = fc.record({
    fields: fc.tuple(...fields.map(({ field, ty }) => validFieldPlan(task.name, field, ty))).chain(shuffled),
    extra: fc.constant(null),
    wrap: fc.constantFrom('plain', 'plain', 'nullProto', 'passProxy'),
    primitive: fc.constant(0),
  })
  const hostile = fc.record({
    fields: fc.tuple(...fields.map(({ field, ty }) => fieldPlan(task.name, field, ty))).chain(shuffled),
    extra: fc.option(fc.record({ key: fc.constantFrom('extra', 'ITERATIONS', '__proto__x', '\uD800'), v: other }), { freq: 8 }),
    wrap: fc.constantFrom(...WRAPS),
    primitive: primitives,
  })
  return fc.oneof(valid, hostile)
}

class FuzzError extends Error {}

/** The real value of a planned value. */
function real(v) {
  if (v !== null && typeof v === 'object') {
    if ('binary' in v) return view(v.binary, v.bytes)
    if ('big' in v) return big()[v.big]
    if ('hostile' in v) return materialiseOther(v)
    if ('bcryptOf' in v || 'argon2Of' in v) return v.resolved
  }
  return v
}

/**
 * Builds the argument object of `plan`. Returns { args, observe, thrown } where `observe()` (called
 * after the synchronous run/spawn) gives the plain object the pool must have read, or null when a
 * hostile wrapper makes it unreadable, and `thrown` lists the errors our own traps threw.
 */
function materialise(plan) {
  const thrown = []
  const boom = (what) => {
    const err = new FuzzError(`fuzz: ${what}`)
    thrown.push(err)
    return err
  }
  const target = plan.wrap === 'nullProto' ? Object.create(null) : {}
  const lastRead = new Map()
  const addedKeys = new Set()
  const keys = plan.fields.filter((f) => f.store !== 'absent').map((f) => f.key)
  // Fields holding a shared or detached buffer: the pool may read them as bytes or refuse them.
  const isLenient = (v) => v !== null && typeof v === 'object' && LENIENT_VIEWS.has(v.binary)
  const lenient = plan.fields.filter((f) => isLenient(f.v) || isLenient(f.w)).map((f) => f.key)
  for (const f of plan.fields) {
    const { key } = f
    switch (f.store) {
      case 'absent':
        break
      case 'data':
        target[key] = real(f.v)
        break
      case 'getter': {
        const v = real(f.v)
        Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => (lastRead.set(key, v), v) })
        break
      }
      case 'throwingGetter':
        Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => { throw boom(`getter ${key}`) } })
        break
      case 'flipGetter': {
        const vs = [real(f.v), real(f.w)]
        let n = 0
        Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => { const v = vs[n++ % 2]; lastRead.set(key, v); return v } })
        break
      }
      case 'deletingGetter': {
        // Deletes the next field in key order before the pool gets to it.
        const v = real(f.v)
        const next = keys[keys.indexOf(key) + 1]
        Object.defineProperty(target, key, { enumerable: true, configurable: true, get() { if (next !== undefined) delete target[next]; lastRead.set(key, v); return v } })
        break
      }
      case 'addingGetter': {
        const v = real(f.v)
        Object.defineProperty(target, key, { enumerable: true, configurable: true, get() { target.addedByGetter = 1; addedKeys.add('addedByGetter'); lastRead.set(key, v); return v } })
        break
      }
    }
  }
  if (plan.extra) target[plan.extra.key] = materialiseOther(plan.extra.v)
  if (plan.wrap === 'symbolKey') target[Symbol('fuzz')] = 1

  let args = target
  let unreadable = null // the field a wrapper makes fail, if it does
  switch (plan.wrap) {
    case 'passProxy':
      args = new Proxy(target, {})
      break
    case 'throwGetProxy':
      args = new Proxy(target, { get(t, k) { if (typeof k === 'string' && k !== 'then') throw boom(`get ${k}`); return Reflect.get(t, k) } })
      unreadable = keys.length + (plan.extra ? 1 : 0) > 0 ? 'anyKey' : null
      break
    case 'throwOwnKeysProxy':
      args = new Proxy(target, { ownKeys() { throw boom('ownKeys') } })
      unreadable = 'args'
      break
    case 'throwDescriptorProxy':
      args = new Proxy(target, { getOwnPropertyDescriptor(t, k) { throw boom(`descriptor ${String(k)}`) } })
      unreadable = keys.length + (plan.extra ? 1 : 0) > 0 ? 'argsOrKey' : null
      break
    case 'revokedProxy': {
      const r = Proxy.revocable(target, {})
      r.revoke()
      args = r.proxy
      unreadable = 'revoked'
      break
    }
    case 'array':
      args = [target]
      break
    case 'primitive':
      args = plan.primitive
      break
    case 'function':
      args = function fuzzArgs() {}
      break
  }

  const observe = () => {
    if (unreadable !== null) return { unreadable, keys: [...keys, ...(plan.extra ? [plan.extra.key] : [])] }
    if (plan.wrap === 'array' || plan.wrap === 'primitive' || plan.wrap === 'function') return { notObject: true }
    // What the pool read: data fields as they are now (a deleting getter ran before the pool reached
    // the next field), getters as they last returned; keys a getter added after the keys were listed
    // may or may not have been seen.
    const seen = {}
    const unread = []
    for (const key of keys) {
      const d = Object.getOwnPropertyDescriptor(target, key)
      if (d === undefined) {
        seen[key] = undefined
        continue
      }
      if (d.get) {
        const f = plan.fields.find((p) => p.key === key)
        if (f.store === 'throwingGetter') seen[key] = THROWS
        else if (lastRead.has(key)) seen[key] = lastRead.get(key)
        else {
          // Never read: the pool stopped at an earlier bad field (the model must find one), or it
          // skipped a field, which the model reports when it finds none.
          seen[key] = real(f.v)
          unread.push(key)
        }
      } else {
        seen[key] = d.value
      }
    }
    if (plan.extra) seen[plan.extra.key] = target[plan.extra.key]
    return { seen, added: [...addedKeys], lenient, unread }
  }
  return { args, observe, thrown }
}

const THROWS = Symbol('the getter threw')

// ---------------------------------------------------------------------------------------------
// The model: what a call with a given observed argument object must give.

/**
 * The expected outcome for a task with an object schema, from what the pool read:
 * - { invalid: fields, cause? }: rejects ERR_INVALID_ARG with `field` one of `fields` (or nested
 *   under one), with `cause` the thrown value when our own trap threw;
 * - { value: check } / { rejects: code }: the reference outcome.
 * `lenient` names fields whose hostile binary value the pool may read or refuse.
 */
async function expected(task, observed, thrown) {
  const lenient = observed.lenient || []
  if (observed.notObject) return { invalid: ['args'] }
  if (observed.unreadable) {
    const fields = observed.unreadable === 'args' || observed.unreadable === 'revoked' ? ['args'] : observed.unreadable === 'argsOrKey' ? ['args', ...observed.keys] : observed.keys
    return { invalid: fields, cause: observed.unreadable === 'revoked' ? TypeError : thrown }
  }
  const { seen } = observed
  const schema = new Map(task.args.map((f) => [f.name, { field: f, ty: parseType(f) }]))
  const bad = []
  let cause
  for (const [key, v] of Object.entries(seen)) {
    const s = schema.get(key)
    if (s === undefined) bad.push(key)
    else if (v === THROWS) {
      bad.push(key)
      cause = thrown
    } else if (v === undefined) {
      if (s.field.required) bad.push(key)
    } else if (!fits(s.ty, v)) bad.push(key)
  }
  for (const f of task.args) if (f.required && (!(f.name in seen) || seen[f.name] === undefined)) bad.push(f.name)
  if (bad.length > 0) return { invalid: [...new Set(bad)], cause }
  if (observed.unread.length > 0) return { neverRead: observed.unread }
  const plain = {}
  for (const [k, v] of Object.entries(seen)) if (v !== undefined) plain[k] = v
  const ref = await reference(task.name, plain)
  // A key a getter added after the keys were listed may be seen (and refused as unknown) or not.
  const orInvalid = [...(ref.orInvalid || []), ...lenient.filter((k) => k in plain), ...(observed.added || [])]
  return orInvalid.length > 0 ? { ...ref, orInvalid } : ref
}

/** Bytes of a bytes-or-string field. */
const b = (v) => bytesOf(v)

function encode(buf, encoding) {
  return encoding === undefined || encoding === 'buffer' ? buf : buf.toString(encoding)
}

function sameBytes(expectedBuf) {
  return (got) => Buffer.isBuffer(got) && got.equals(expectedBuf)
}

function sameEncoded(expectedBuf, encoding) {
  if (encoding === undefined || encoding === 'buffer') return sameBytes(expectedBuf)
  const s = expectedBuf.toString(encoding)
  return (got) => got === s
}

/** The reference outcome of a schema-valid call. */
async function reference(task, a) {
  switch (task) {
    case 'sum': {
      let s = 0
      for (let i = 0; i < a.iterations; i++) s += i
      return { value: (got) => got === s }
    }
    case 'fib': {
      let [x, y] = [0, 1]
      for (let i = 0; i < a.n; i++) [x, y] = [y, x + y]
      return { value: (got) => got === x }
    }
    case 'primes': {
      const sieve = new Uint8Array(Math.max(a.limit, 2))
      let count = 0
      for (let i = 2; i < a.limit; i++) {
        if (sieve[i]) continue
        count++
        for (let j = i * i; j < a.limit; j += i) sieve[j] = 1
      }
      return { value: (got) => got === count }
    }
    case 'sleep':
      return { value: (got) => got === undefined }
    case 'hash': {
      if (a.algorithm === 'blake3') {
        // node:crypto has no BLAKE3: only the digest's form is checked here (its vectors are checked
        // in catalogue-hash.test.js and the Rust tests).
        return { value: (got) => (a.encoding === undefined || a.encoding === 'buffer' ? Buffer.isBuffer(got) && got.length === 32 : typeof got === 'string') }
      }
      return { value: sameEncoded(crypto.createHash(a.algorithm).update(b(a.data)).digest(), a.encoding) }
    }
    case 'hmac':
      return { value: sameEncoded(crypto.createHmac(a.algorithm, b(a.key)).update(b(a.data)).digest(), a.encoding) }
    case 'gzip':
      return { value: (got) => Buffer.isBuffer(got) && zlib.gunzipSync(got).equals(b(a.data)) }
    case 'deflate':
      return { value: (got) => Buffer.isBuffer(got) && zlib.inflateSync(got).equals(b(a.data)) }
    case 'deflateRaw':
      return { value: (got) => Buffer.isBuffer(got) && zlib.inflateRawSync(got).equals(b(a.data)) }
    case 'brotliCompress':
      return { value: (got) => Buffer.isBuffer(got) && zlib.brotliDecompressSync(got).equals(b(a.data)) }
    case 'gunzip':
    case 'inflate':
    case 'inflateRaw':
    case 'brotliDecompress': {
      const fn = { gunzip: zlib.gunzipSync, inflate: zlib.inflateSync, inflateRaw: zlib.inflateRawSync, brotliDecompress: zlib.brotliDecompressSync }[task]
      let out
      try {
        out = fn(b(a.data), a.maxOutputLength === undefined ? {} : { maxOutputLength: a.maxOutputLength })
      } catch {
        return { rejects: 'ERR_TASK_FAILED' }
      }
      return { value: sameBytes(out) }
    }
    case 'zstdCompress':
      // Node 20 has no zstd: the frame's magic is checked here, the round trip by the caller.
      return { value: (got) => Buffer.isBuffer(got) && got.readUInt32LE(0) === 0xfd2fb528, roundTrip: { task: 'zstdDecompress', equals: b(a.data) } }
    case 'zstdDecompress':
      // Random bytes are no zstd frame (the magic is 4 bytes): they must fail; frames come from the
      // round-trip check of zstdCompress.
      if (b(a.data).length < 4 || b(a.data).readUInt32LE(0) !== 0xfd2fb528) return { rejects: 'ERR_TASK_FAILED' }
      return { valueOrFailed: true }
    case 'bcryptHash':
      return bcryptReference(a)
    case 'bcryptVerify': {
      if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(a.hash)) return { invalid: ['hash'] }
      if (typeof a.password !== 'string') return { value: (got) => typeof got === 'boolean' }
      const ok = require('bcryptjs').compareSync(a.password, a.hash)
      return { value: (got) => got === ok }
    }
    case 'argon2Hash':
      return argon2Reference(a)
    case 'argon2Verify': {
      let ok
      try {
        ok = await require('argon2').verify(a.hash, b(a.password), a.secret === undefined ? {} : { secret: b(a.secret) })
      } catch {
        return { invalid: ['hash'] }
      }
      return { value: (got) => got === ok }
    }
    case 'scrypt': {
      // node:crypto refuses an option given with its alias; so may we, or take either.
      const pairs = [['N', 'cost'], ['r', 'blockSize'], ['p', 'parallelization']]
      const both = pairs.filter(([x, y]) => a[x] !== undefined && a[y] !== undefined).flat()
      const opts = {}
      for (const [x, y] of pairs) if (a[x] !== undefined || a[y] !== undefined) opts[x] = a[x] ?? a[y]
      if (a.maxmem !== undefined) opts.maxmem = a.maxmem
      let key
      try {
        key = crypto.scryptSync(b(a.password), b(a.salt), a.keylen, opts)
      } catch {
        return { invalid: null }
      }
      return { value: sameEncoded(key, a.encoding), orInvalid: both.length > 0 ? both : undefined }
    }
  }
  throw new Error(`fuzz-gen: no reference for ${task}`)
}

function bcryptReference(a) {
  const bcryptjs = require('bcryptjs')
  const isString = typeof a.password === 'string'
  if (typeof a.salt === 'string') {
    if (!/^\$2[ab]\$\d\d\$[./A-Za-z0-9]{22}$/.test(a.salt)) return { invalid: ['salt'] }
    const exact = isString ? bcryptjs.hashSync(a.password, a.salt) : null
    // The salt string sets cost and version: a cost or version given beside it may be refused.
    const conflict = a.cost !== undefined || a.version !== undefined ? ['salt', 'cost', 'version'] : undefined
    return {
      value: (got) => typeof got === 'string' && (exact === null ? got.slice(7, 29) === a.salt.slice(7, 29) : got.slice(3) === exact.slice(3) && (conflict !== undefined || got === exact)),
      orInvalid: conflict,
    }
  }
  if (a.salt !== undefined && bytesOf(a.salt).length !== 16) return { invalid: ['salt'] }
  const prefix = `$${a.version ?? '2b'}$${String(a.cost ?? 10).padStart(2, '0')}$`
  // A binary password cannot be given to bcryptjs (it takes strings): its hash's form is checked.
  return { value: (got) => typeof got === 'string' && got.length === 60 && got.startsWith(prefix) && (!isString || bcryptjs.compareSync(a.password, got)) }
}

async function argon2Reference(a) {
  const argon2 = require('argon2')
  const options = { raw: false }
  for (const k of ['timeCost', 'memoryCost', 'parallelism', 'hashLength']) if (a[k] !== undefined) options[k] = a[k]
  if (a.salt !== undefined) options.salt = b(a.salt)
  if (a.secret !== undefined) options.secret = b(a.secret)
  if (a.type !== undefined) options.type = { argon2d: argon2.argon2d, argon2i: argon2.argon2i, argon2id: argon2.argon2id }[a.type]
  const p = a.parallelism ?? 4
  const m = a.memoryCost ?? 65536
  if (m < 8 * p) return { invalid: ['memoryCost', 'parallelism'] }
  if (a.salt !== undefined && b(a.salt).length < 8) return { invalid: ['salt'] }
  let expectedHash
  try {
    expectedHash = await argon2.hash(b(a.password), options)
  } catch {
    return { invalid: null }
  }
  if (a.salt !== undefined) return { value: (got) => got === expectedHash }
  // A random salt: same parameters, and npm argon2 verifies it.
  const params = expectedHash.split('$').slice(0, 4).join('$')
  return { value: async (got) => typeof got === 'string' && got.startsWith(params) && (await argon2.verify(got, b(a.password), a.secret === undefined ? {} : { secret: b(a.secret) })) }
}

/** Resolves the `{ bcryptOf }` / `{ argon2Of }` plans of verify tasks to real hashes (async, once per case). */
async function prepareHashes(plan) {
  const pwPlan = plan.fields.find((f) => f.key === 'password')
  const password = pwPlan && typeof pwPlan.v === 'string' ? pwPlan.v : undefined
  for (const f of plan.fields) {
    for (const v of [f.v, f.w]) {
      if (v === null || typeof v !== 'object') continue
      const pw = v.same && typeof password === 'string' ? password : v.bcryptOf ?? v.argon2Of
      if ('bcryptOf' in v) v.resolved = require('bcryptjs').hashSync(pw, 4)
      if ('argon2Of' in v) v.resolved = await require('argon2').hash(pw, { timeCost: 1, memoryCost: 8, parallelism: 1 })
    }
  }
}

/** Hostile run options: bad types, throwing getters, proxies, a fake signal whose listener throws. */
const optionsPlan = fc.oneof(
  fc.constant({ kind: 'none' }),
  fc.constant({ kind: 'empty' }),
  fc.record({ kind: fc.constant('priority'), v: fc.oneof(fc.integer(), other) }),
  fc.record({ kind: fc.constant('timeout'), v: fc.oneof(fc.constantFrom(1e9, Infinity, 0, -1, 0.5), other) }),
  fc.record({ kind: fc.constant('signal'), v: fc.constantFrom('live', 'aborted', 'fakeThrowingAdd', 'fakeNoRemove', 'throwingAbortedGetter', 'notSignal') }),
  fc.record({ kind: fc.constant('getter'), key: fc.constantFrom('signal', 'timeout', 'priority') }),
  fc.constantFrom({ kind: 'throwOwnKeys' }, { kind: 'revoked' }, { kind: 'array' }, { kind: 'primitive' }, { kind: 'unknownKey' }, { kind: 'throwGet' }),
)

/** The real run options of a plan, and the model's expectation: null (valid), or the invalid fields. */
function materialiseOptions(plan) {
  const thrown = []
  const boom = (what) => {
    const err = new FuzzError(`fuzz: ${what}`)
    thrown.push(err)
    return err
  }
  switch (plan.kind) {
    case 'none':
      return { options: undefined, expect: null }
    case 'empty':
      return { options: {}, expect: null }
    case 'priority': {
      const v = materialiseOther(plan.v)
      const ok = v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1)
      return { options: { priority: v }, expect: ok ? null : { invalid: ['options.priority'] } }
    }
    case 'timeout': {
      const v = materialiseOther(plan.v)
      const ok = v === undefined || (typeof v === 'number' && v > 0)
      return { options: { timeout: v }, expect: ok ? { timeout: true } : { invalid: ['options.timeout'] } }
    }
    case 'signal': {
      const c = new AbortController()
      switch (plan.v) {
        case 'live':
          return { options: { signal: c.signal }, expect: null }
        case 'aborted':
          c.abort(new FuzzError('reason'))
          return { options: { signal: c.signal }, expect: { rejects: 'ABORT_ERR' } }
        case 'fakeThrowingAdd':
          return {
            options: { signal: { aborted: false, reason: undefined, addEventListener() { throw boom('addEventListener') }, removeEventListener() {} } },
            expect: { invalid: ['options.signal', 'options'], cause: thrown },
          }
        case 'fakeNoRemove':
          return { options: { signal: { aborted: false, addEventListener() {} } }, expect: { invalid: ['options.signal'] } }
        case 'throwingAbortedGetter':
          return {
            options: { signal: { get aborted() { throw boom('aborted') }, addEventListener() {}, removeEventListener() {} } },
            expect: { invalid: ['options.signal', 'options.signal.aborted'], cause: thrown },
          }
        case 'notSignal':
          return { options: { signal: { aborted: 'no' } }, expect: { invalid: ['options.signal'] } }
      }
      break
    }
    case 'getter': {
      const options = {}
      Object.defineProperty(options, plan.key, { enumerable: true, get: () => { throw boom(`options.${plan.key}`) } })
      return { options, expect: { invalid: [`options.${plan.key}`], cause: thrown } }
    }
    case 'throwOwnKeys':
      return { options: new Proxy({}, { ownKeys() { throw boom('ownKeys') } }), expect: { invalid: ['options'], cause: thrown } }
    case 'throwGet':
      return { options: new Proxy({ timeout: 5 }, { get() { throw boom('get') } }), expect: { invalid: ['options', 'options.timeout', 'options.signal', 'options.priority'], cause: thrown } }
    case 'revoked': {
      const r = Proxy.revocable({}, {})
      r.revoke()
      return { options: r.proxy, expect: { invalid: ['options'], cause: TypeError } }
    }
    case 'array':
      return { options: [1], expect: { invalid: ['options'] } }
    case 'primitive':
      return { options: 5, expect: { invalid: ['options'] } }
    case 'unknownKey':
      return { options: { priorty: 1 }, expect: { invalid: ['options.priorty'] } }
  }
  throw new Error(plan.kind)
}

module.exports = {
  fc,
  CODES,
  parseType,
  fits,
  primitives,
  other,
  materialiseOther,
  big,
  bigValue,
  hugeObject,
  VIEWS,
  LENIENT_VIEWS,
  view,
  argsPlan,
  materialise,
  expected,
  prepareHashes,
  optionsPlan,
  materialiseOptions,
  FuzzError,
}
