'use strict'
// Waiting for results without falling asleep: after a task is submitted, the JS thread keeps its
// event loop turning (setImmediate) for up to 50 µs after the last result it saw, so that a result
// due soon finds it awake. A thread that sleeps in the event loop is woken by the result's
// threadsafe-function call, and on these virtual machines a core that went idle takes 20-60 µs to
// wake: a one-at-a-time round trip took 22-35 µs p50 asleep and 4-7 µs awake (native echo and a JS
// task alike; src/binding/README.md, "Waiting for results"). The pool's threads and Workers poll
// the queue the same way before they sleep.
//
// The event loop is never blocked: each poll is one immediate, so I/O, timers and every other
// callback run between polls. A poll does not yield the CPU (sched_yield): a JS thread that yields
// to the pool's busy threads may wait for the scheduler's next turn, and with the yield the main
// thread's event-loop delay p99 while the pool was saturated was 2.33-2.73 ms against 2.17-2.39 ms
// without it (`node benchmark/run.js --only event-loop`); not yielding costs the pool's threads at
// most the 50 µs window. Waits that find nothing back off: after k polls in a row that saw no result
// (tasks longer than the window), the next 2^k - 1 submits (k at most 8) do not poll, so long tasks
// cost at most 50 µs of polling now and then, and a pool whose results come slowly costs almost
// nothing.

const { setImmediate } = require('node:timers')

/** How long a wait polls after the last result it saw (ms). */
const POLL_MS = 0.05
/** The back-off's cap: at most 2^8 - 1 submits skip polling after fruitless polls. */
const MAX_MISSES = 8

/** The settled count in a `waitState()` answer, whether or not jobs are pending. */
function settledIn(state) {
  return state >= 0 ? state : -state - 1
}

/**
 * A waiter for one JS environment. `waitState()` is the addon's: the count of jobs settled in this
 * environment, or that count negated minus one when none is pending. `now` (ms) and `schedule` are
 * for tests.
 */
function createWaiter({ waitState, now = () => performance.now(), schedule = setImmediate }) {
  let polling = false
  let seen = 0
  let deadline = 0
  let fruitful = false
  let misses = 0
  let skip = 0

  function poll() {
    const state = waitState()
    const pending = state >= 0
    const settled = settledIn(state)
    const t = now()
    if (settled !== seen) {
      seen = settled
      fruitful = true
      deadline = t + POLL_MS
    }
    if (pending && t < deadline) {
      schedule(poll)
      return
    }
    polling = false
    misses = fruitful ? 0 : Math.min(misses + 1, MAX_MISSES)
    skip = 2 ** misses - 1
  }

  return {
    /** A task was submitted: poll for its result for a while, unless recent polls found nothing. */
    submitted() {
      if (polling) return
      if (skip > 0) {
        skip--
        return
      }
      polling = true
      fruitful = false
      seen = settledIn(waitState())
      deadline = now() + POLL_MS
      schedule(poll)
    },
    /** Whether a poll is scheduled now (for tests). */
    get polling() {
      return polling
    },
  }
}

module.exports = { createWaiter, POLL_MS, MAX_MISSES }
