'use strict'
// Validation of pool and run options: each bad option is named, TypeError for a wrong type,
// RangeError for a value out of range, both with code ERR_INVALID_ARG.

const path = require('node:path')
const { fileURLToPath } = require('node:url')
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

const POOL_OPTIONS = [
  'threads',
  'minThreads',
  'maxThreads',
  'idleTimeout',
  'maxQueue',
  'niceIncrement',
  'recordTiming',
  'modules',
  'workers',
  'minWorkers',
  'maxWorkers',
  'graceTime',
  'resourceLimits',
]

// worker_threads' resourceLimits, given to every JS-task Worker.
const RESOURCE_LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb']

const MODULE_OPTIONS = ['path', 'url', 'prefix', 'names']

/** Whether `value` is a URL object (of any realm). */
function isUrl(value) {
  return typeof value === 'object' && value !== null && typeof value.href === 'string' && typeof value.protocol === 'string'
}

/** A module location: a path (relative ones resolve against process.cwd()), or a file: URL. */
function location(field, value) {
  if (isUrl(value)) value = value.href
  if (typeof value !== 'string' || value === '') throw invalidArg(field, `expected a path or a file: URL, got ${describe(value)}`)
  if (value.startsWith('file:')) {
    try {
      return { path: fileURLToPath(value), url: value }
    } catch {
      throw invalidArg(field, `${value} is not a valid file: URL`)
    }
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) {
    throw invalidArg(field, `only paths and file: URLs can be loaded, got ${value}`)
  }
  return { path: path.resolve(value), url: undefined }
}

/** The pool's JS-task modules: `[{ path, url?, prefix?, names? }]`, each checked and resolved. */
function modulesOption(value) {
  const isArray = typeof value === 'object' && value !== null && guarded('options.modules', () => Array.isArray(value))
  if (!isArray) throw invalidArg('options.modules', `expected an array of module paths, got ${describe(value)}`)
  const list = guarded('options.modules', () => [...value])
  if (list.length === 0) throw invalidArg('options.modules', 'expected at least one module', RangeError)
  return list.map((entry, i) => {
    const field = `options.modules[${i}]`
    if (typeof entry === 'string' || isUrl(entry)) return location(field, entry)
    const o = snapshot(field, entry, MODULE_OPTIONS)
    if ((o.path === undefined) === (o.url === undefined)) throw invalidArg(field, 'give either path or url')
    const spec = location(`${field}.${o.path !== undefined ? 'path' : 'url'}`, o.path ?? o.url)
    if (o.prefix !== undefined) {
      if (typeof o.prefix !== 'string') throw invalidArg(`${field}.prefix`, `expected a string, got ${describe(o.prefix)}`)
      spec.prefix = o.prefix
    }
    if (o.names !== undefined) {
      if (typeof o.names !== 'object' || o.names === null || Array.isArray(o.names)) {
        throw invalidArg(`${field}.names`, `expected an object mapping export names to task names, got ${describe(o.names)}`)
      }
      const names = {}
      for (const key of guarded(`${field}.names`, () => Object.keys(o.names))) {
        const name = guarded(`${field}.names.${key}`, () => o.names[key])
        if (typeof name !== 'string' || name === '') {
          throw invalidArg(`${field}.names.${key}`, `expected a task name (string), got ${describe(name)}`)
        }
        names[key] = name
      }
      spec.names = names
    }
    return spec
  })
}

/**
 * The pool's configuration from `new Pool(options)`; throws at once on a bad option.
 * - `threads`: a fixed number of threads (default: the number of CPUs).
 * - `minThreads` / `maxThreads`: a pool that grows on demand and shrinks when idle
 *   (defaults: 0 and the number of CPUs); not together with `threads`.
 * - `idleTimeout`: ms a thread above `minThreads` waits for work before it stops (default 10000).
 * - `maxQueue`: jobs that may wait for a thread (default Infinity).
 * - `niceIncrement`: how much lower the threads' CPU priority is than the process's (Linux, 0-19,
 *   default 0): a higher value lets the event loop win a contested CPU sooner, and yields CPU to
 *   every other busy process of the same cgroup too (README "Thread priority": the trade-off).
 * - `recordTiming`: keep run/wait-time histograms and utilization (default true).
 * - `modules`: JS-task modules (paths, file: URLs, or `{ path | url, prefix?, names? }`).
 * - `workers`: the JS-task Workers, a fixed number (default: the number of CPUs; needs `modules`).
 * - `minWorkers` / `maxWorkers`: JS-task Workers that start on demand and stop after `idleTimeout`
 *   (defaults: 0 and the number of CPUs); not together with `workers`. One starts with the pool to
 *   load the modules.
 * - `graceTime`: ms a cancelled JS task may go on before its Worker is terminated (default 1000).
 * - `resourceLimits`: worker_threads' resource limits for every JS-task Worker (a Worker past its
 *   heap limit dies; its task rejects and the Worker is replaced).
 */
/** `options.resourceLimits`: positive numbers of MB, as worker_threads takes them; a fresh copy. */
function resourceLimitsOption(value) {
  const o = snapshot('options.resourceLimits', value, RESOURCE_LIMITS)
  const out = {}
  for (const key of RESOURCE_LIMITS) {
    if (o[key] === undefined) continue
    if (typeof o[key] !== 'number' || !Number.isFinite(o[key]) || o[key] <= 0) {
      throw invalidArg(`options.resourceLimits.${key}`, `expected a positive number of MB, got ${describe(o[key])}`, typeof o[key] === 'number' ? RangeError : TypeError)
    }
    out[key] = o[key]
  }
  return out
}

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
  const niceIncrement = has('niceIncrement') ? integer('options.niceIncrement', o.niceIncrement, 0, 19) : 0
  let recordTiming = true
  if (has('recordTiming')) {
    if (typeof o.recordTiming !== 'boolean') throw invalidArg('options.recordTiming', `expected a boolean, got ${describe(o.recordTiming)}`)
    recordTiming = o.recordTiming
  }
  const modules = has('modules') ? modulesOption(o.modules) : []
  if (modules.length === 0) {
    const jsOnly = ['workers', 'minWorkers', 'maxWorkers', 'graceTime', 'resourceLimits'].find(has)
    if (jsOnly !== undefined) throw invalidArg(`options.${jsOnly}`, 'only applies to a pool with modules (JS tasks)')
  }
  if (has('workers') && (has('minWorkers') || has('maxWorkers'))) {
    throw invalidArg('options.workers', 'give either workers (a fixed number) or minWorkers/maxWorkers, not both')
  }
  let minWorkers, maxWorkers
  if (modules.length === 0) {
    minWorkers = maxWorkers = 0
  } else if (has('minWorkers') || has('maxWorkers')) {
    minWorkers = has('minWorkers') ? integer('options.minWorkers', o.minWorkers, 0, MAX_THREADS) : 0
    maxWorkers = has('maxWorkers') ? integer('options.maxWorkers', o.maxWorkers, 1, MAX_THREADS) : Math.max(minWorkers, cpus, 1)
    if (minWorkers > maxWorkers) {
      throw invalidArg('options.minWorkers', `${minWorkers} is more than maxWorkers (${maxWorkers})`, RangeError)
    }
  } else {
    minWorkers = maxWorkers = has('workers') ? integer('options.workers', o.workers, 1, MAX_THREADS) : Math.max(cpus, 1)
  }
  const graceTime = has('graceTime') ? milliseconds('options.graceTime', o.graceTime, { allowZero: true }) : 1000
  const resourceLimits = has('resourceLimits') ? resourceLimitsOption(o.resourceLimits) : undefined
  return { minThreads, maxThreads, idleTimeout, maxQueue, niceIncrement, recordTiming, modules, minWorkers, maxWorkers, graceTime, resourceLimits }
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
