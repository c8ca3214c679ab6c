'use strict'
// The entry module of a pool's JS-task Workers. It knows nothing of the pool's options: it loads the
// modules it is given, reports their task names (or why they could not load), attaches to the
// pool's script queue in the addon, and then runs one task at a time as the addon hands them over.
// Protocol: src/binding/SCRIPTS.md.

const { workerData, parentPort, threadId } = require('node:worker_threads')
const { pathToFileURL } = require('node:url')
// The pool's own addon: this package's, or the user's addon the pool was made from (`withAddon`).
const { native, taskIndex } = workerData.addon === undefined
  ? require('./native.js')
  : require('./native.js').loadAddon(() => require(workerData.addon))

// `deliver(flags)` bits (src/binding/script.rs).
const DELIVER_READY = 1
const DELIVER_ABORT = 2

// `scriptCancelReason()` values.
const NOT_CANCELLED = 0
const TIMED_OUT = 2
const DESTROYED = 3

/** Every function of the modules, in task-table order. */
const functions = []
/**
 * `[function, id]` of the job `takeScript` / `completeScript` just returned (its argument): the
 * addon writes them here rather than building an array per job. Function -1: no job was taken.
 */
const meta = new Float64Array([-1, 0])
/** The context of the task running now, or null. */
let current = null
/** A task returned a promise that has not settled: no other task starts meanwhile. */
let waiting = false
/** Armed while this Worker of a growing pool is idle: it retires when it fires. */
let idleTimer = null

/** Loads one module: `import()` for ESM (`.mjs`, `file:` URLs, a `.js` in a "type": "module" package), `require` otherwise. */
async function load(spec) {
  if (spec.url !== undefined) return import(spec.url)
  if (spec.path.endsWith('.mjs')) return import(pathToFileURL(spec.path).href)
  try {
    return require(spec.path)
  } catch (err) {
    if (err !== null && typeof err === 'object' && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
      return import(pathToFileURL(spec.path).href)
    }
    throw err
  }
}

/**
 * The task names of a loaded module: each exported function under its name, renamed by `names`
 * (export → task name), else prefixed with `prefix`.
 */
function tasksOf(spec, exports) {
  const found = []
  if (typeof exports === 'function') {
    found.push(['default', exports])
  } else if (exports !== null && typeof exports === 'object') {
    for (const key of Object.keys(exports)) {
      const value = exports[key]
      if (typeof value === 'function') found.push([key, value])
    }
  }
  return found.map(([key, fn]) => {
    const renamed = spec.names !== undefined && Object.hasOwn(spec.names, key) ? spec.names[key] : undefined
    return { name: renamed !== undefined ? renamed : `${spec.prefix ?? ''}${key}`, fn }
  })
}

function describeError(err) {
  if (err !== null && typeof err === 'object') {
    return { name: String(err.name), message: String(err.message), stack: String(err.stack), code: err.code }
  }
  return { name: 'Error', message: String(err), stack: undefined, code: undefined }
}

async function start() {
  const names = []
  const owners = new Map()
  for (const spec of workerData.modules) {
    const where = spec.url ?? spec.path
    let exports
    try {
      exports = await load(spec)
    } catch (err) {
      return { kind: 'load', module: where, cause: describeError(err) }
    }
    const tasks = tasksOf(spec, exports)
    if (tasks.length === 0) return { kind: 'empty', module: where }
    for (const { name, fn } of tasks) {
      if (taskIndex.has(name)) return { kind: 'clash', name, module: where, other: 'the native task' }
      const other = owners.get(name)
      if (other !== undefined) return { kind: 'clash', name, module: where, other: `module ${other}` }
      owners.set(name, where)
      names.push(name)
      functions.push(fn)
    }
  }
  return { kind: 'ready', names }
}

/** What a task function sees as its second argument. */
class TaskContext {
  #controller = null

  constructor(id) {
    /** The task's id: `handle.id` on the caller's side. */
    this.id = id
  }

  /** An AbortSignal that aborts when the task is cancelled, times out, or its pool is destroyed. */
  get signal() {
    if (this.#controller === null) {
      this.#controller = new AbortController()
      if (current === this) this.noticeAbort()
      else this.#controller.abort(abortReason(DESTROYED))
    }
    return this.#controller.signal
  }

  /** Whether the task should stop: a live read of the pool's cancel flag, for synchronous loops. */
  get aborted() {
    return current === this && native.scriptCancelReason() !== NOT_CANCELLED
  }

  /** Throws the abort reason if the task should stop. */
  throwIfAborted() {
    if (current !== this) return
    const reason = native.scriptCancelReason()
    if (reason !== NOT_CANCELLED) throw abortReason(reason)
  }

  /** Sends `value` as a 'message' to the task's handle and the pool (before its 'exit'). */
  post(value) {
    if (current === this) native.postScript(value)
  }

  /** Aborts the signal if the task was cancelled (called when the addon says so). */
  noticeAbort() {
    if (this.#controller === null || this.#controller.signal.aborted) return
    const reason = native.scriptCancelReason()
    if (reason !== NOT_CANCELLED) this.#controller.abort(abortReason(reason))
  }
}

function abortReason(reason) {
  if (reason === TIMED_OUT) return new DOMException('The task timed out', 'TimeoutError')
  if (reason === DESTROYED) return new DOMException('The pool was destroyed', 'AbortError')
  return new DOMException('The task was aborted', 'AbortError')
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

/** Reports the running task's outcome; gives the next job, if one waits. */
function finish(ok, value) {
  current = null
  return native.completeScript(ok, value)
}

/**
 * Runs the job just taken (`args`, and `meta`) and the jobs after it until none waits or one
 * returns a promise; then returns to the event loop. A busy Worker makes one call into the addon
 * per task (complete-and-take).
 */
function run(args) {
  if (meta[0] >= 0) busy()
  while (meta[0] >= 0) {
    const ctx = new TaskContext(meta[1])
    current = ctx
    let result
    try {
      result = functions[meta[0]](args, ctx)
      if (!isThenable(result)) {
        args = finish(true, result)
        continue
      }
    } catch (err) {
      args = finish(false, err)
      continue
    }
    waiting = true
    Promise.resolve(result).then(
      (value) => settled(true, value),
      (err) => settled(false, err),
    )
    return
  }
  idle()
}

/** No job waits: a Worker above the minimum of a growing pool retires after the idle timeout. */
function idle() {
  if (workerData.idleTimeout < 0 || idleTimer !== null) return
  idleTimer = setTimeout(() => {
    idleTimer = null
    // The addon decides under the pool's lock: idle, nothing queued, more Workers than the minimum.
    // If so it asks the pool to end this Worker; if not (a job came, or the others retired first),
    // this Worker stays, and arms again the next time it runs out of work.
    if (current === null && !waiting) native.retireScript(threadId)
  }, workerData.idleTimeout)
  idleTimer.unref()
}

function busy() {
  if (idleTimer === null) return
  clearTimeout(idleTimer)
  idleTimer = null
}

function pump() {
  if (!waiting && current === null) run(native.takeScript())
}

function settled(ok, value) {
  waiting = false
  run(finish(ok, value))
}

function deliver(flags) {
  if ((flags & DELIVER_ABORT) !== 0 && current !== null) current.noticeAbort()
  if ((flags & DELIVER_READY) !== 0) pump()
}

start().then((report) => {
  parentPort.postMessage(report)
  if (report.kind !== 'ready') return
  if (!native.attachScripts(workerData.key, workerData.slot, deliver, meta)) return
  pump()
})
