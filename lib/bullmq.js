'use strict'
// native-pool/bullmq: a BullMQ Worker whose processor runs each job on a native-pool Pool. The job's
// name picks the task and its data are the task's arguments; progress messages become
// job.updateProgress calls; BullMQ's cancellation and our timeout stop the task; results and
// failures are written in a form that survives BullMQ's JSON storage (README "Scaling out with
// BullMQ").

const { Pool } = require('./pool.js')
const { codes, makeError, invalidArg, describe } = require('./errors.js')

let bullmq
try {
  // Resolved from the application's own node_modules: bullmq is an optional peer dependency.
  bullmq = require('bullmq')
} catch (err) {
  if (err === null || typeof err !== 'object' || err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'bullmq'")) throw err
  const missing = new Error('native-pool/bullmq needs the bullmq package (an optional peer dependency): npm install bullmq', { cause: err })
  missing.code = 'MODULE_NOT_FOUND'
  throw missing
}
const { Worker, UnrecoverableError } = bullmq

/**
 * Codes whose jobs fail at once, whatever their `attempts`: running the same job again gives the
 * same error (bad arguments, a name no task has) or the caller asked it to stop (a cancellation).
 * Every other failure is an ordinary BullMQ failure, retried while attempts remain.
 */
const UNRECOVERABLE_CODES = Object.freeze([codes.ERR_INVALID_ARG, codes.ERR_UNKNOWN_TASK, codes.ABORT_ERR])
const unrecoverable = new Set(UNRECOVERABLE_CODES)
const knownCodes = new Set(Object.values(codes))

/** The default retry rule: false for UNRECOVERABLE_CODES, true for every other error. */
function isRetryable(err) {
  return !(err !== null && typeof err === 'object' && unrecoverable.has(err.code))
}

const PROCESSOR_OPTIONS = ['pool', 'tasks', 'timeout', 'progress', 'progressInterval', 'retryable']
const DEFAULT_PROGRESS_INTERVAL = 100

/**
 * The processor function `(job, token, signal) => Promise` for a BullMQ Worker of your own.
 * `createWorker` uses it; options as there (without BullMQ's).
 */
function createProcessor(options = {}) {
  const config = processorConfig(options, 'options')
  // Three declared parameters: BullMQ passes an AbortSignal only to processors whose length is >= 3.
  const processor = (job, token, signal) => processJob(config, job, signal)
  return processor
}

/**
 * A BullMQ `Worker` on `queueName` whose jobs run on a native-pool Pool. `options` holds our options
 * (`pool`, `tasks`, `timeout`, `progress`, `progressInterval`, `retryable`) beside any BullMQ
 * WorkerOptions (`connection`, `concurrency`, `lockDuration`, …). `concurrency` defaults to the
 * pool's thread count (its `maxThreads`), so the pool's queue stays empty and BullMQ holds the backlog.
 */
function createWorker(queueName, options) {
  if (typeof queueName !== 'string' || queueName === '') throw invalidArg('queueName', `expected a non-empty string, got ${describe(queueName)}`)
  if (options === null || typeof options !== 'object') throw invalidArg('options', `expected an object with at least { connection }, got ${describe(options)}`)
  const ours = {}
  const workerOptions = {}
  for (const [key, value] of Object.entries(options)) {
    if (PROCESSOR_OPTIONS.includes(key)) ours[key] = value
    else workerOptions[key] = value
  }
  const config = processorConfig(ours, 'options')
  if (workerOptions.concurrency === undefined) workerOptions.concurrency = config.pool.options.maxThreads
  const processor = (job, token, signal) => processJob(config, job, signal)
  return new Worker(queueName, processor, workerOptions)
}

function processorConfig(options, field) {
  if (options === null || typeof options !== 'object') throw invalidArg(field, `expected an object, got ${describe(options)}`)
  for (const key of Object.keys(options)) {
    if (!PROCESSOR_OPTIONS.includes(key)) throw invalidArg(`${field}.${key}`, `unknown option (expected one of: ${PROCESSOR_OPTIONS.join(', ')})`)
  }
  const { pool = Pool.shared(), tasks, timeout, progress = true, progressInterval = DEFAULT_PROGRESS_INTERVAL, retryable = isRetryable } = options
  if (pool === null || typeof pool !== 'object' || typeof pool.spawn !== 'function' || typeof pool.run !== 'function') {
    throw invalidArg(`${field}.pool`, `expected a native-pool Pool, got ${describe(pool)}`)
  }
  if (tasks !== undefined && typeof tasks !== 'function' && (tasks === null || typeof tasks !== 'object' || Array.isArray(tasks))) {
    throw invalidArg(`${field}.tasks`, `expected an object mapping job names to task names, or a function (job) => task name, got ${describe(tasks)}`)
  }
  if (tasks !== undefined && typeof tasks === 'object') {
    for (const [name, task] of Object.entries(tasks)) {
      if (typeof task !== 'string') throw invalidArg(`${field}.tasks.${name}`, `expected a task name (string), got ${describe(task)}`)
    }
  }
  if (timeout !== undefined && typeof timeout !== 'function' && typeof timeout !== 'number') {
    throw invalidArg(`${field}.timeout`, `expected milliseconds or a function (job) => milliseconds, got ${describe(timeout)}`)
  }
  if (typeof timeout === 'number' && !(timeout > 0)) throw invalidArg(`${field}.timeout`, `expected > 0, got ${timeout}`, RangeError)
  if (typeof progress !== 'boolean' && typeof progress !== 'function') {
    throw invalidArg(`${field}.progress`, `expected a boolean or a function (message) => progress, got ${describe(progress)}`)
  }
  if (typeof progressInterval !== 'number' || !(progressInterval >= 0)) {
    throw invalidArg(`${field}.progressInterval`, `expected milliseconds >= 0, got ${describe(progressInterval)}`, typeof progressInterval === 'number' ? RangeError : TypeError)
  }
  if (typeof retryable !== 'function') throw invalidArg(`${field}.retryable`, `expected a function (err, job) => boolean, got ${describe(retryable)}`)
  return {
    pool,
    taskOf: taskResolver(tasks),
    timeoutOf: typeof timeout === 'function' ? timeout : () => timeout,
    toProgress: progress === true ? defaultProgress : progress === false ? null : progress,
    progressInterval,
    retryable,
  }
}

function taskResolver(tasks) {
  if (tasks === undefined) return (job) => job.name
  if (typeof tasks === 'function') return tasks
  // A map is an allow-list: a job name it does not list runs nothing (ERR_UNKNOWN_TASK).
  const map = new Map(Object.entries(tasks))
  return (job) => map.get(job.name)
}

/** Runs one job on the pool; resolves with its encoded result or rejects with a BullMQ failure. */
async function processJob(config, job, signal) {
  const { pool, toProgress } = config
  let task
  let timeout
  try {
    task = config.taskOf(job)
    timeout = config.timeoutOf(job)
  } catch (err) {
    throw jobError(err, job, config)
  }
  if (typeof task !== 'string') {
    throw jobError(makeError(codes.ERR_UNKNOWN_TASK, `no task for job name "${job.name}"`, true), job, config)
  }
  const args = decodeValue(job.data)
  const options = { signal, timeout }
  if (toProgress === null) {
    try {
      return encodeValue(await pool.run(task, args, options))
    } catch (err) {
      throw jobError(err, job, config)
    }
  }

  const handle = pool.spawn(task, args, options)
  const reporter = new ProgressReporter(job, config.progressInterval)
  // A progress mapper that throws is a bug in the caller's code: the job fails with its error.
  let mapperError
  handle.on('message', (message) => {
    if (mapperError !== undefined) return
    let value
    try {
      value = toProgress(message)
    } catch (err) {
      mapperError = err
      handle.cancel(err)
      return
    }
    if (value !== undefined) reporter.push(value)
  })
  // 'exit' comes after every 'message' (the TaskHandle contract): once it fired, nothing more is pushed.
  const exited = new Promise((resolve) => handle.once('exit', resolve))
  let result
  try {
    result = await handle.result
  } catch (err) {
    await exited
    await reporter.abandon()
    throw jobError(mapperError ?? err, job, config)
  }
  await exited
  if (mapperError !== undefined) {
    await reporter.abandon()
    throw jobError(mapperError, job, config)
  }
  // The last progress reaches Redis before BullMQ marks the job completed, so a producer sees it first.
  await reporter.flush()
  return encodeValue(result)
}

/**
 * The error BullMQ records for a failed task: our code first in the message (`failedReason` is all
 * BullMQ keeps of an error, and `failureCode` reads the code back from it), `code`, `field` and
 * `cause` on the object for the worker's own 'failed' listeners, and an UnrecoverableError when the
 * job must not be retried.
 */
function jobError(err, job, config) {
  const code = err !== null && typeof err === 'object' && typeof err.code === 'string' ? err.code : undefined
  let message = err !== null && typeof err === 'object' && 'message' in err ? String(err.message) : String(err)
  if (code === codes.ABORT_ERR && err.cause !== undefined) message += `: ${reasonText(err.cause)}`
  if (code !== undefined && knownCodes.has(code)) message = `${code}: ${message}`
  let retry
  try {
    retry = config.retryable(err, job) !== false
  } catch {
    retry = true
  }
  const out = retry ? new Error(message) : new UnrecoverableError(message)
  if (code !== undefined) out.code = code
  if (err !== null && typeof err === 'object' && err.field !== undefined) out.field = err.field
  out.cause = err
  return out
}

function reasonText(reason) {
  if (reason !== null && typeof reason === 'object' && typeof reason.message === 'string') return reason.message
  return String(reason)
}

const FAILURE_PREFIX = /^([A-Z][A-Z0-9_]*): /

/**
 * The native-pool code of a failed job: from a `failedReason` string, an Error (what
 * `job.waitUntilFinished` rejects with), or a Job. `undefined` when it failed for another reason.
 */
function failureCode(failure) {
  let text = failure
  if (failure !== null && typeof failure === 'object') {
    if (typeof failure.code === 'string' && knownCodes.has(failure.code)) return failure.code
    text = typeof failure.failedReason === 'string' ? failure.failedReason : failure.message
  }
  if (typeof text !== 'string') return undefined
  const m = FAILURE_PREFIX.exec(text)
  return m !== null && knownCodes.has(m[1]) ? m[1] : undefined
}

/** `{ progress: fraction }` (what the built-in tasks post) → a percentage, 0 to 100, as BullMQ UIs show. */
function defaultProgress(message) {
  if (message !== null && typeof message === 'object' && typeof message.progress === 'number') {
    return Math.round(message.progress * 10000) / 100
  }
  if (typeof message === 'number') return message
  if (message !== null && typeof message === 'object') return encodeValue(message)
  return undefined
}

/**
 * Forwards progress to `job.updateProgress`, one call at a time so values reach Redis in the order
 * they were posted, and at most one call per `interval` ms: values that arrive meanwhile are
 * coalesced into the latest. The first call waits until the task has run for `interval` ms, so a
 * short job costs no Redis round trip for progress (its completion says it all); once one was sent,
 * the last value is flushed before the job completes. Progress is best-effort: a failed update is
 * dropped (the job's own result or failure is what BullMQ records).
 */
class ProgressReporter {
  #job
  #interval
  #latest
  #hasLatest = false
  #inflight = null
  #timer = null
  #lastSent
  #sentAny = false
  #done = false

  constructor(job, interval) {
    this.#job = job
    this.#interval = interval
    this.#lastSent = Date.now()
  }

  push(value) {
    if (this.#done) return
    this.#latest = value
    this.#hasLatest = true
    this.#schedule()
  }

  #schedule() {
    if (this.#inflight !== null || this.#timer !== null || !this.#hasLatest) return
    const wait = this.#lastSent + this.#interval - Date.now()
    if (wait <= 0) this.#send()
    else this.#timer = setTimeout(() => {
      this.#timer = null
      this.#send()
    }, wait)
  }

  #send() {
    const value = this.#latest
    this.#hasLatest = false
    this.#latest = undefined
    this.#lastSent = Date.now()
    this.#sentAny = true
    this.#inflight = Promise.resolve()
      .then(() => this.#job.updateProgress(value))
      .catch(() => {})
      .then(() => {
        this.#inflight = null
        if (!this.#done) this.#schedule()
      })
  }

  /**
   * If any progress was sent, sends the latest value now (after the one in flight) and resolves when
   * Redis has it; a job that sent none sends none.
   */
  async flush() {
    this.#done = true
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    if (this.#inflight !== null) await this.#inflight
    if (this.#hasLatest && this.#sentAny) {
      this.#send()
      await this.#inflight
    }
  }

  /** Drops what was not sent yet and waits for the update in flight. */
  async abandon() {
    this.#done = true
    this.#hasLatest = false
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    if (this.#inflight !== null) await this.#inflight
  }
}

/**
 * Makes a value storable as JSON by BullMQ without losing what JSON cannot hold: a Buffer (or any
 * TypedArray, DataView, ArrayBuffer) becomes `{ type: 'Buffer', base64 }`, a BigInt
 * `{ type: 'BigInt', value: '<decimal>' }`, inside arrays and plain objects too. Other values are
 * returned as they are. `decodeValue` reverses it.
 */
function encodeValue(value) {
  if (typeof value === 'bigint') return { type: 'BigInt', value: value.toString() }
  if (value === null || typeof value !== 'object') return value
  if (ArrayBuffer.isView(value)) return { type: 'Buffer', base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  if (value instanceof ArrayBuffer) return { type: 'Buffer', base64: Buffer.from(value).toString('base64') }
  if (Array.isArray(value)) return value.map(encodeValue)
  if (!isPlainObject(value)) return value
  const out = {}
  for (const key of Object.keys(value)) out[key] = encodeValue(value[key])
  return out
}

/**
 * The inverse of `encodeValue`, for a job's `returnvalue` (and what the worker applies to `job.data`
 * before running the task): `{ type: 'Buffer', base64 }` and Node's own `Buffer.toJSON()` form
 * `{ type: 'Buffer', data: [bytes] }` become Buffers, `{ type: 'BigInt', value }` a BigInt, inside
 * arrays and plain objects too.
 */
function decodeValue(value) {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(decodeValue)
  if (!isPlainObject(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 2 && typeof value.type === 'string') {
    if (value.type === 'Buffer' && typeof value.base64 === 'string') return Buffer.from(value.base64, 'base64')
    if (value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data)
    if (value.type === 'BigInt' && typeof value.value === 'string' && /^-?\d+$/.test(value.value)) return BigInt(value.value)
  }
  const out = {}
  for (const key of keys) out[key] = decodeValue(value[key])
  return out
}

function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

module.exports = {
  createWorker,
  createProcessor,
  encodeValue,
  decodeValue,
  failureCode,
  isRetryable,
  UNRECOVERABLE_CODES,
}
