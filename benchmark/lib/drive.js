'use strict'
// How work is pushed through a system: a batch with a bounded number in flight (keeping the results,
// or checking and dropping each), one-at-a-time round trips, and a saturating load that runs until it
// is stopped.

const { now, msSince, usSince } = require('./clock')

/**
 * Runs `inputs.length` tasks, keeping at most `window` in flight (each completion issues the next).
 * Resolves with the wall time, every result in input order, and the cores used on average (process
 * CPU time over wall time); rejects on the first failure.
 */
function runBatch(inst, task, inputs, window = Infinity) {
  const count = inputs.length
  return new Promise((resolve, reject) => {
    const results = new Array(count)
    let issued = 0
    let done = 0
    let failed = false
    const t0 = now()
    // Process-wide CPU time (every thread: main, workers, native pool threads) over the batch, so a
    // result can say how many cores the system actually got on this shared machine.
    const cpu0 = process.cpuUsage()
    const onError = (err) => {
      if (!failed) {
        failed = true
        reject(err)
      }
    }
    const issue = () => {
      const i = issued++
      inst.run(task, inputs[i]).then((value) => {
        results[i] = value
        if (++done === count) {
          const ms = msSince(t0)
          const cpu = process.cpuUsage(cpu0)
          resolve({ ms, results, cores: (cpu.user + cpu.system) / 1000 / ms })
        }
        else if (issued < count && !failed) issue()
      }, onError)
    }
    const first = Math.min(window, count)
    for (let k = 0; k < first; k++) issue()
  })
}

/** Runs `count` tasks, at most `window` in flight, each answer checked and dropped; resolves with the ms taken. */
function pump(inst, task, count, window, argsOf, check) {
  return new Promise((resolve, reject) => {
    let issued = 0
    let done = 0
    let failed = false
    const t0 = now()
    const fail = (err) => {
      if (!failed) {
        failed = true
        reject(err)
      }
    }
    const issue = () => {
      const i = issued++
      inst.run(task, argsOf(i)).then((value) => {
        if (failed) return
        const wrong = check(value, i)
        if (wrong) return fail(new Error(`${task} #${i}: ${wrong}`))
        if (++done === count) resolve(msSince(t0))
        else if (issued < count) issue()
      }, fail)
    }
    for (let k = 0; k < Math.min(window, count); k++) issue()
  })
}

/** `count` echo round trips, one at a time; returns each in µs. Checks every answer. */
async function roundTrips(inst, count) {
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = now()
    const v = await inst.run('echo', i)
    out[i] = usSince(t0)
    if (v !== i) throw new Error(`echo(${i}) answered ${v}`)
  }
  return out
}

/**
 * Keeps `inFlight` tasks running on `inst` until `stop()` is called; `stop()` waits for those in flight
 * and resolves with how many completed and how many answers were wrong. Completions issue the next
 * task through setImmediate when `yieldBetween` is set (the inline system, whose run() finishes before
 * it returns: chaining it through promise callbacks alone would never let the event loop turn).
 */
function saturate(inst, task, args, { inFlight, check, yieldBetween = false }) {
  let stopping = false
  let running = 0
  let completed = 0
  let wrong = 0
  let firstError = null
  let onIdle = null
  const issue = () => {
    if (stopping) return
    running++
    inst.run(task, args).then(
      (v) => {
        completed++
        if (!check(v)) wrong++
        finish()
      },
      (err) => {
        firstError ??= err
        finish()
      },
    )
  }
  const finish = () => {
    running--
    if (!stopping) {
      if (yieldBetween) setImmediate(issue)
      else issue()
    } else if (running === 0 && onIdle) onIdle()
  }
  for (let k = 0; k < inFlight; k++) {
    if (yieldBetween) setImmediate(issue)
    else issue()
  }
  return {
    stop() {
      stopping = true
      return new Promise((resolve, reject) => {
        const done = () => (firstError ? reject(firstError) : resolve({ completed, wrong }))
        if (running === 0) done()
        else onIdle = done
      })
    },
  }
}

module.exports = { runBatch, pump, roundTrips, saturate }
