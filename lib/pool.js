'use strict'
// The public `Pool` and `TaskHandle`: option validation, the EventEmitter surface, abort handling.
// The work and the promises themselves live in the addon (src/binding).

const { EventEmitter } = require('node:events')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { codes, makeError, invalidArg, unreadable, abortError, describe } = require('./errors.js')
const { poolConfig, runOptions } = require('./options.js')
const { createWaiter } = require('./wait.js')

// The Pool and TaskHandle classes of one addon (`native`, and `taskIndex`: task name → index): this
// package's own, or a user's (`withAddon`).
function definePool({ native, taskIndex, addonPath }) {

  // Event kinds in a dispatched batch (src/binding/env.rs).
  const EVENT_MESSAGE = 1
  const EVENT_ONLINE = 2
  const EVENT_EXIT = 3
  const EVENT_DRAIN = 4
  const EVENT_TERMINATE = 5
  const EVENT_RETIRED = 6
  const EVENT_WANT_WORKERS = 7

  // A message's task index with this bit set names a JS task (src/binding/script.rs).
  const SCRIPT_TASK = 2 ** 31

  // Keeps this environment's event loop turning briefly while results are due (lib/wait.js).
  const waiter = createWaiter({ waitState: native.waitState })

  // The entry module of JS-task Workers.
  const WORKER_ENTRY = path.join(__dirname, 'worker.js')

  // Job flags for the addon.
  const WANTS_MESSAGES = 1
  const CANCELLABLE = 2

  // Exit codes of a TaskHandle.
  const EXIT_OK = 0
  const EXIT_FAILED = 1
  const EXIT_CANCELLED = 2
  const EXIT_TIMED_OUT = 3

  let nextJobId = 1
  let sharedPool = null

  function rejected(err) {
    return Promise.reject(err)
  }

  /** Rethrows a listener's exception outside the dispatch loop, as an uncaught exception. */
  function rethrowLater(err) {
    process.nextTick(() => {
      throw err
    })
  }

  class Pool extends EventEmitter {
    #id
    #config
    // The addon holds this only weakly while the pool is idle (src/binding/env.rs, `hold`): the pool
    // keeps it alive as long as the pool itself lives.
    #dispatcher = (events) => this.#dispatch(events)
    #closing = null
    #handles = new Map()
    #shared
    // JS tasks: the pool's Workers by slot, the task table once the first Worker loaded the modules,
    // the load failure if they could not be loaded, and the runs waiting for either.
    #workers = []
    // Workers that have not reported yet (loading the modules), and retired ones (idle in a growing
    // pool) that are still exiting, out of their slots.
    #starting = new Set()
    #leaving = new Set()
    // Workers a growing pool wanted and had no free slot for (the slots of retiring Workers not yet
    // freed): started as those slots free.
    #unmetWant = 0
    #scriptKey = 0
    #jsNames = null
    #jsIndex = null
    #loadError = null
    #loaded = null
    #resolveLoaded = noop
    #waitingRuns = 0
    #lastSubmit = null
    #stopping = false

    /**
     * @param {object} [options] threads | minThreads/maxThreads, idleTimeout, maxQueue, niceIncrement, recordTiming (README)
     */
    constructor(options) {
      super()
      this.#shared = options === SHARED
      this.#config = this.#shared
        ? { minThreads: native.cpuCount(), maxThreads: native.cpuCount(), idleTimeout: Infinity, maxQueue: Infinity, niceIncrement: 0, recordTiming: true }
        : poolConfig(options, native.cpuCount())
      const c = this.#config
      this.#id = native.createPool(
        c.minThreads,
        c.maxThreads,
        c.idleTimeout,
        c.maxQueue === Infinity ? -1 : c.maxQueue,
        c.niceIncrement,
        c.recordTiming,
        this.#shared,
        this.#dispatcher,
        makeError,
        c.maxWorkers ?? 0,
        c.graceTime ?? 0,
        c.minWorkers ?? 0,
      )
      if (c.maxWorkers > 0) {
        this.#scriptKey = native.offerScripts(this.#id)
        this.#loaded = new Promise((resolve) => (this.#resolveLoaded = resolve))
        // A growing pool starts one Worker even with minWorkers 0: it learns the task names.
        for (let slot = 0; slot < Math.max(c.minWorkers, 1); slot++) this.#startWorker(slot)
      }
    }

    /** Starts (or replaces) the JS-task Worker of `slot`. Workers never keep the process alive. */
    #startWorker(slot) {
      const { modules, resourceLimits, minWorkers, maxWorkers, idleTimeout } = this.#config
      // Workers above the minimum of a growing pool retire after idleTimeout (-1: never).
      const retireAfter = minWorkers < maxWorkers && idleTimeout !== Infinity ? idleTimeout : -1
      const worker = new Worker(WORKER_ENTRY, {
        // A user's addon (`withAddon`): the Workers load the same one, whose pool they attach to.
        workerData: { key: this.#scriptKey, slot, modules, addon: addonPath, idleTimeout: retireAfter },
        resourceLimits,
        stdout: false,
        stderr: false,
      })
      this.#workers[slot] = worker
      this.#starting.add(worker)
      if (this.#waitingRuns === 0) worker.unref()
      worker.on('message', (report) => {
        this.#starting.delete(worker)
        this.#workerReport(report)
      })
      // An uncaught exception in a task's Worker: its task is rejected when the Worker exits.
      worker.on('error', noop)
      worker.on('exit', () => {
        this.#starting.delete(worker)
        if (this.#workers[slot] !== worker) return
        this.#workers[slot] = undefined
        // A Worker that died (process.exit, an uncaught error, out of memory, or terminated after
        // ignoring a cancellation) is replaced while the pool serves; a pool whose modules cannot
        // load has nothing to serve. (One that retired had left its slot already.)
        if (!this.#stopping && this.#loadError === null) this.#startWorker(slot)
      })
    }

    /**
     * A growing pool's JS tasks wait with no Worker free (`backlog` of them): start Workers for them,
     * counting those still loading, up to maxWorkers.
     */
    #growWorkers(backlog) {
      // A request means a task found no Worker free: at least one Worker is wanted, even if the
      // backlog read since counts a Worker as free that has just taken another task.
      const wanted = Math.max(backlog, 1) - this.#starting.size
      this.#unmetWant = wanted - this.#startInFreeSlots(wanted)
    }

    /** Starts up to `n` Workers in free slots; returns how many it started. */
    #startInFreeSlots(n) {
      if (this.#stopping || this.#loadError !== null) return n
      let started = 0
      for (let slot = 0; slot < this.#config.maxWorkers && started < n; slot++) {
        if (this.#workers[slot] !== undefined) continue
        this.#startWorker(slot)
        started++
      }
      return started
    }

    /** The first report of a Worker: the JS tasks' names, or why the modules could not be loaded. */
    #workerReport(report) {
      if (this.#jsIndex !== null || this.#loadError !== null) return
      if (report.kind === 'ready') {
        this.#jsNames = report.names
        this.#jsIndex = new Map(report.names.map((name, i) => [name, i]))
      } else {
        this.#loadError = loadError(report)
        for (const w of this.#workers) if (w !== undefined) w.terminate()
        // Said once, so that no task is lost silently; every run of a JS task rejects with it too.
        if (this.listenerCount('error') > 0) this.emit('error', this.#loadError)
      }
      this.#resolveLoaded()
    }

    /** Keeps the process alive while runs wait for the modules to load. */
    #waitForModules() {
      if (this.#waitingRuns++ === 0) for (const w of this.#workers) w?.ref()
      return this.#loaded.then(() => {
        if (--this.#waitingRuns === 0) for (const w of this.#workers) w?.unref()
      })
    }

    /**
     * The process-wide pool that the main thread and every worker_threads Worker share: one set of
     * native threads (one per CPU) for the whole process. Closing this handle stops nothing shared.
     */
    static shared() {
      if (sharedPool === null || sharedPool.#closing !== null) sharedPool = new Pool(SHARED)
      return sharedPool
    }

    /** Every registered native task: `[{ name, kind: 'native', description, args, result }]`. */
    static tasks() {
      return native.taskList().filter((t) => !t.name.startsWith('__')).map((t) => ({ name: t.name, kind: 'native', ...t }))
    }

    /**
     * Every task this pool runs: the native ones, then its JS tasks (`kind: 'js'`) once its modules
     * have loaded. Rejects with the load error if they could not be loaded.
     */
    async tasks() {
      const native = Pool.tasks()
      if (this.#loaded === null) return native
      await this.#loaded
      if (this.#loadError !== null) throw this.#loadError
      return [...native, ...this.#jsNames.map((name) => ({ name, kind: 'js', description: 'a JS task', args: 'any', result: 'unknown' }))]
    }

    /**
     * Runs `task` with `args`; resolves with its result. Never throws: every failure rejects with an
     * Error carrying a stable `code`.
     */
    run(task, args, options) {
      if (options === undefined) {
        const index = typeof task === 'string' ? taskIndex.get(task) : undefined
        if (index !== undefined) {
          if (this.#closing !== null) return rejected(poolClosed())
          const flags = this.listenerCount('message') > 0 ? WANTS_MESSAGES : 0
          const promise = native.run(this.#id, index, args, nextJobId++, flags)
          waiter.submitted()
          return promise
        }
        const js = this.#jsIndex !== null && typeof task === 'string' ? this.#jsIndex.get(task) : undefined
        if (js !== undefined && this.#closing === null) {
          const flags = this.listenerCount('message') > 0 ? WANTS_MESSAGES : 0
          const promise = native.runScript(this.#id, js, args, nextJobId++, flags)
          waiter.submitted()
          return promise
        }
      }
      return this.#submit(task, args, options, false, nextJobId++).promise
    }

    /**
     * Starts `task` and returns its TaskHandle (an EventEmitter with 'message', 'error', 'exit', and a
     * `result` promise). Never throws.
     */
    spawn(task, args, options) {
      const { id, promise, cancel } = this.#submit(task, args, options, true, nextJobId++)
      const handle = new TaskHandle(id, taskName(task), promise, cancel)
      this.#handles.set(id, handle)
      const forget = () => this.#handles.delete(id)
      promise.then(forget, forget)
      return handle
    }

    /** `accepted`: a run accepted before close(), submitted once the modules loaded (`#submitLater`). */
    #submit(task, args, options, spawned, id, accepted = false) {
      let opts
      try {
        opts = runOptions(options)
      } catch (err) {
        return { id, promise: rejected(err), cancel: noop }
      }
      let index = typeof task === 'string' ? taskIndex.get(task) : undefined
      let script = false
      if (index === undefined && typeof task === 'string' && this.#loaded !== null) {
        if (this.#jsIndex === null && this.#loadError === null) return this.#submitLater(task, args, options, spawned, id)
        if (this.#loadError !== null) return { id, promise: rejected(this.#loadError), cancel: noop }
        index = this.#jsIndex.get(task)
        script = true
      }
      if (index === undefined) return { id, promise: rejected(badTask(task)), cancel: noop }
      if (this.#closing !== null && !accepted) return { id, promise: rejected(poolClosed()), cancel: noop }
      const { signal } = opts
      const poolId = this.#id
      let abortReason
      const cancel = (reason) => {
        abortReason = reason
        native.cancel(poolId, id)
      }
      let forget = noop
      if (signal !== undefined) {
        // The listener goes on before the job is submitted: a signal whose methods throw (a caller's
        // own object) is then refused without anything having started.
        const onAbort = () => cancel(signal.reason)
        try {
          signal.addEventListener('abort', onAbort, { once: true })
          if (signal.aborted) {
            forgetListener(signal, onAbort)
            return { id, promise: rejected(abortError(signal.reason)), cancel: noop }
          }
        } catch (err) {
          forgetListener(signal, onAbort)
          return { id, promise: rejected(unreadable('options.signal', err)), cancel: noop }
        }
        forget = () => forgetListener(signal, onAbort)
      }

      const flags = (spawned || this.listenerCount('message') > 0 ? WANTS_MESSAGES : 0) | CANCELLABLE
      const promise = (script ? native.submitScript : native.submit)(poolId, index, args, id, opts.priority, opts.timeout, flags)
      waiter.submitted()
      if (forget !== noop) promise.then(forget, forget)
      return { id, promise: withAbortError(promise, () => abortReason), cancel }
    }

    /**
     * A run of a name that may be one of the JS tasks, before the modules have loaded: submitted (or
     * rejected) once they have. A cancel meanwhile rejects it without submitting it.
     */
    #submitLater(task, args, options, spawned, id) {
      if (this.#closing !== null) {
        return { id, promise: rejected(makeError(codes.ERR_POOL_CLOSED, 'the pool is closed', false)), cancel: noop }
      }
      let inner = null
      let cancelled = false
      let cancelReason
      const submitted = this.#waitForModules().then(() => {
        if (!cancelled) inner = this.#submit(task, args, options, spawned, id, true)
      })
      // Runs waiting for the modules are submitted in order, so this one is submitted after the others.
      this.#lastSubmit = submitted
      const promise = submitted.then(() => {
        if (inner === null) throw abortError(cancelReason)
        return inner.promise
      })
      const cancel = (reason) => {
        if (inner !== null) inner.cancel(reason)
        else {
          cancelled = true
          cancelReason = reason
        }
      }
      return { id, promise, cancel }
    }

    /** Receives a batch of this pool's events from the addon. */
    #dispatch(events) {
      for (let i = 0; i < events.length; ) {
        const kind = events[i]
        try {
          if (kind === EVENT_MESSAGE) {
            const id = events[i + 1]
            const index = events[i + 2]
            const task = index >= SCRIPT_TASK ? this.#jsNames[index - SCRIPT_TASK] : TASK_NAMES[index]
            const data = events[i + 3]
            i += 4
            const handle = this.#handles.get(id)
            if (handle !== undefined) deliver(handle, 'message', data)
            if (this.listenerCount('message') > 0) deliver(this, 'message', { id, task, data })
          } else if (kind === EVENT_ONLINE) {
            const thread = events[i + 1]
            i += 2
            deliver(this, 'online', thread)
          } else if (kind === EVENT_EXIT) {
            const thread = events[i + 1]
            const code = events[i + 2]
            i += 3
            deliver(this, 'exit', thread, code)
          } else if (kind === EVENT_DRAIN) {
            i += 1
            deliver(this, 'drain')
          } else if (kind === EVENT_TERMINATE) {
            const slot = events[i + 1]
            i += 2
            // Its task ignored a cancellation past the grace time: the Worker goes, the task is
            // rejected when it has gone, and a new Worker takes its slot.
            this.#workers[slot]?.terminate()
          } else if (kind === EVENT_RETIRED) {
            const slot = events[i + 1]
            const thread = events[i + 2]
            i += 3
            // Idle past idleTimeout above minWorkers: it has detached from the queue; it goes, and
            // its slot stays free until the pool needs a Worker again. (If it died meanwhile, its
            // slot holds its successor, which stays.)
            const worker = this.#workers[slot]
            if (worker !== undefined && worker.threadId === thread) {
              // The slot is free at once: a task may want a Worker before this one has exited.
              this.#workers[slot] = undefined
              this.#leaving.add(worker)
              worker.once('exit', () => this.#leaving.delete(worker))
              worker.terminate()
              // A task may have found no Worker free while this one was retiring (it had detached,
              // its slot not yet freed): the Worker it asked for starts now.
              if (this.#unmetWant > 0) this.#unmetWant -= this.#startInFreeSlots(this.#unmetWant)
            }
          } else if (kind === EVENT_WANT_WORKERS) {
            const backlog = events[i + 1]
            i += 2
            this.#growWorkers(backlog)
          } else {
            break
          }
        } catch (err) {
          rethrowLater(err)
        }
      }
    }

    /**
     * Finishes every accepted task, then stops the threads; resolves after each thread's 'exit' event,
     * then emits 'close'. Later calls return the same promise.
     */
    close() {
      if (this.#closing === null) this.#closing = this.#finish(this.#afterLoad(() => native.closePool(this.#id)))
      return this.#closing
    }

    /**
     * Calls `then` once the runs that wait for the modules have been submitted (they were accepted
     * before the close), at once when none waits.
     */
    #afterLoad(then) {
      if (this.#waitingRuns === 0) return then()
      return this.#lastSubmit.then(then)
    }

    /**
     * Rejects every queued task with ERR_POOL_CLOSED, cancels the running ones, then stops the threads.
     */
    destroy() {
      if (this.#closing === null) this.#closing = this.#finish(native.destroyPool(this.#id))
      else native.destroyPool(this.#id)
      return this.#closing
    }

    async #finish(done) {
      await done
      // Every JS task has settled (the addon waits for them): the Workers can go.
      this.#stopping = true
      await Promise.all([...this.#workers.filter((w) => w !== undefined), ...this.#leaving].map((w) => w.terminate()))
      this.emit('close')
    }

    /** `await using pool = new Pool()` closes the pool at the end of the block. */
    [Symbol.asyncDispose]() {
      return this.close()
    }

    /** Pending tasks keep the process alive (the default). */
    ref() {
      native.setRef(this.#id, true)
      return this
    }

    /** Pending tasks no longer keep the process alive (an idle pool never does). */
    unref() {
      native.setRef(this.#id, false)
      return this
    }

    /** Counters, latency summaries (milliseconds) and utilization. */
    stats() {
      return native.poolStats(this.#id)
    }

    /** Threads alive now. */
    get threads() {
      return this.stats().threads
    }

    /** Tasks waiting for a thread. */
    get queueSize() {
      return this.stats().queued
    }

    /** Tasks that finished with a result. */
    get completed() {
      return this.stats().completed
    }

    /** The options in force, defaults filled in. */
    get options() {
      return { ...this.#config }
    }

    /** True while the queue is full: the next run would be rejected with ERR_QUEUE_FULL. */
    get needsDrain() {
      const { maxThreads, maxQueue, maxWorkers } = this.#config
      return maxQueue !== Infinity && native.poolPending(this.#id) >= maxThreads + maxWorkers + maxQueue
    }

    /** Whether `close()` or `destroy()` was called. */
    get closed() {
      return this.#closing !== null
    }
  }

  const SHARED = Symbol('shared pool')
  const TASK_NAMES = [...taskIndex.keys()]

  function noop() {}

  /** Removes an abort listener; a caller's signal whose method throws is left as it is. */
  function forgetListener(signal, listener) {
    try {
      signal.removeEventListener('abort', listener)
    } catch {
      // Its own removeEventListener threw: nothing of ours depends on it any more.
    }
  }

  /** A TaskHandle's `task`: the name given, or a description of what was given instead. */
  function taskName(task) {
    if (typeof task === 'string') return task
    try {
      return String(task)
    } catch {
      return describe(task)
    }
  }

  /** A run on a closed pool (checked here: the addon forgets a closed pool's error factory). */
  function poolClosed() {
    return makeError(codes.ERR_POOL_CLOSED, 'the pool is closed', false)
  }

  /** The error every run of a JS task rejects with when the pool's modules could not be used. */
  function loadError(report) {
    let err
    if (report.kind === 'load') {
      const cause = Object.assign(new Error(report.cause.message), report.cause)
      err = new Error(`the JS-task module ${report.module} could not be loaded: ${report.cause.message}`, { cause })
      err.code = codes.ERR_TASK_FAILED
    } else if (report.kind === 'empty') {
      err = invalidArg('options.modules', `${report.module} exports no function`)
    } else {
      err = invalidArg('options.modules', `the JS task "${report.name}" of ${report.module} clashes with ${report.other} of that name (rename it with a prefix or names)`)
    }
    return err
  }

  function badTask(task) {
    if (typeof task !== 'string') return invalidArg('task', `expected a task name (string), got ${describe(task)}`)
    return makeError(codes.ERR_UNKNOWN_TASK, `unknown task "${task}"`, true)
  }

  /** Replaces the addon's ABORT_ERR rejection with a proper AbortError carrying the abort reason. */
  function withAbortError(promise, reason) {
    return promise.then(undefined, (err) => {
      throw err !== null && typeof err === 'object' && err.code === codes.ABORT_ERR ? abortError(reason()) : err
    })
  }

  function deliver(emitter, event, ...args) {
    emitter.emit(event, ...args)
  }

  /**
   * A spawned task, like a Worker: 'message' for each value it posts, 'error' if it fails (only emitted
   * when someone listens: `result` always carries the failure), then 'exit' once with a code:
   * 0 success, 1 failure, 2 cancelled (cancel(), an AbortSignal, destroy()), 3 timed out.
   */
  class TaskHandle extends EventEmitter {
    #cancel

    constructor(id, task, promise, cancel) {
      super()
      this.id = id
      this.task = task
      this.#cancel = cancel
      /** Resolves with the task's result; rejects with its error. Never an unhandled rejection by itself. */
      this.result = promise
      promise.then(
        () => this.emit('exit', EXIT_OK),
        (err) => {
          const code = exitCodeOf(err)
          if (code !== EXIT_CANCELLED && this.listenerCount('error') > 0) this.emit('error', err)
          this.emit('exit', code)
        },
      )
    }

    /** Stops the task: removed from the queue if it has not started, else asked to stop (within ms). */
    cancel(reason) {
      this.#cancel(reason)
    }
  }

  function exitCodeOf(err) {
    const code = err !== null && typeof err === 'object' ? err.code : undefined
    if (code === codes.ABORT_ERR || code === codes.ERR_POOL_CLOSED) return EXIT_CANCELLED
    if (code === codes.ERR_TASK_TIMEOUT) return EXIT_TIMED_OUT
    return EXIT_FAILED
  }

  return { Pool, TaskHandle }
}

module.exports = { ...definePool(require('./native.js')), definePool }
