'use strict'
// Validation of pool and run options: each bad option is named, TypeError for a wrong type,
// RangeError for a value out of range, both with code ERR_INVALID_ARG.

const { invalidArg, guarded, describe } = require('./errors.js')

const MAX_THREADS = 1024
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

function integer(field, value, min, max) {
  if (typeof value !== 'number') throw invalidArg(field, `expected an integer, got ${describe(value)}`)
  if (!Number.isInteger(value)) throw invalidArg(field, `expected an integer, got ${value}`, RangeError)
  if (value < min || value > max) {
    throw invalidArg(field, `${value} is out of range (expected ${min} to ${max})`, RangeError)
  }
  return value
}

function milliseconds(field, value, { allowZero }) {
  if (typeof value !== 'number') throw invalidArg(field, `expected a number of milliseconds, got ${describe(value)}`)
  if (Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidArg(field, `expected ${allowZero ? '>= 0' : '> 0'}, got ${value}`, RangeError)
  }
  return value
}

/**
 * A plain copy of the caller's options object, each of its own enumerable keys read once: the rest of
 * the validation works on the copy, so the caller's getters and Proxy traps run here only, and what
 * they throw becomes an ERR_INVALID_ARG naming the option (see `guarded`). Unknown keys are refused.
 */
function snapshot(field, value, known) {
  if (value === undefined) return {}
  const isArray = typeof value === 'object' && value !== null && guarded(field, () => Array.isArray(value))
  if (typeof value !== 'object' || value === null || isArray) {
    throw invalidArg(field, `expected an object, got ${describe(value)}`)
  }
  const keys = guarded(field, () => Object.keys(value))
  const copy = {}
  for (const key of keys) {
    if (!known.includes(key)) {
      throw invalidArg(`${field}.${key}`, `unknown option (expected one of: ${known.join(', ')})`)
    }
    copy[key] = guarded(`${field}.${key}`, () => value[key])
  }
  return copy
}

const POOL_OPTIONS = ['threads', 'minThreads', 'maxThreads', 'idleTimeout', 'maxQueue', 'niceIncrement', 'recordTiming']

/**
 * The pool's configuration from `new Pool(options)`; throws at once on a bad option.
 * - `threads`: a fixed number of threads (default: the number of CPUs).
 * - `minThreads` / `maxThreads`: a pool that grows on demand and shrinks when idle
 *   (defaults: 0 and the number of CPUs); not together with `threads`.
 * - `idleTimeout`: ms a thread above `minThreads` waits for work before it stops (default 10000).
 * - `maxQueue`: jobs that may wait for a thread (default Infinity).
 * - `niceIncrement`: how much lower the threads' CPU priority is than the process's (Linux, 0-19,
 *   default 5), so the event loop wins the CPU when the pool is saturated (README: the trade-off).
 * - `recordTiming`: keep run/wait-time histograms and utilization (default true).
 */
function poolConfig(options, cpus) {
  const o = snapshot('options', options, POOL_OPTIONS)
  const has = (k) => o[k] !== undefined
  if (has('threads') && (has('minThreads') || has('maxThreads'))) {
    throw invalidArg('options.threads', 'give either threads (a fixed size) or minThreads/maxThreads, not both')
  }
  let minThreads, maxThreads
  if (has('minThreads') || has('maxThreads')) {
    minThreads = has('minThreads') ? integer('options.minThreads', o.minThreads, 0, MAX_THREADS) : 0
    maxThreads = has('maxThreads')
      ? integer('options.maxThreads', o.maxThreads, 1, MAX_THREADS)
      : Math.max(minThreads, cpus, 1)
    if (minThreads > maxThreads) {
      throw invalidArg('options.minThreads', `${minThreads} is more than maxThreads (${maxThreads})`, RangeError)
    }
  } else {
    minThreads = maxThreads = has('threads') ? integer('options.threads', o.threads, 1, MAX_THREADS) : Math.max(cpus, 1)
  }
  const idleTimeout = has('idleTimeout') ? milliseconds('options.idleTimeout', o.idleTimeout, { allowZero: true }) : 10000
  let maxQueue = Infinity
  if (has('maxQueue') && o.maxQueue !== Infinity) maxQueue = integer('options.maxQueue', o.maxQueue, 0, Number.MAX_SAFE_INTEGER)
  const niceIncrement = has('niceIncrement') ? integer('options.niceIncrement', o.niceIncrement, 0, 19) : 5
  let recordTiming = true
  if (has('recordTiming')) {
    if (typeof o.recordTiming !== 'boolean') throw invalidArg('options.recordTiming', `expected a boolean, got ${describe(o.recordTiming)}`)
    recordTiming = o.recordTiming
  }
  return { minThreads, maxThreads, idleTimeout, maxQueue, niceIncrement, recordTiming }
}

const RUN_OPTIONS = ['signal', 'timeout', 'priority']

/** Whether `value` looks like an AbortSignal (duck-typed: jest's realm has its own class). */
function isAbortSignal(value) {
  if (typeof value !== 'object' || value === null) return false
  return guarded('options.signal', () => (
    typeof value.aborted === 'boolean' &&
    typeof value.addEventListener === 'function' &&
    typeof value.removeEventListener === 'function'
  ))
}

/** The options of one run; throws (the caller turns it into a rejection) on a bad option. */
function runOptions(options) {
  const o = snapshot('options', options, RUN_OPTIONS)
  const { signal, timeout, priority } = o
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw invalidArg('options.signal', `expected an AbortSignal, got ${describe(signal)}`)
  }
  return {
    signal,
    timeout: timeout === undefined || timeout === Infinity ? 0 : milliseconds('options.timeout', timeout, { allowZero: false }),
    priority: priority === undefined ? 0 : integer('options.priority', priority, INT32_MIN, INT32_MAX),
  }
}

module.exports = { poolConfig, runOptions }
