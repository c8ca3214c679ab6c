'use strict'
// Waiting for results (lib/wait.js): after a submit the JS thread polls for results for up to
// POLL_MS after the last one it saw, backing off after polls that found nothing. The policy is
// tested with a scripted clock and queue; then the addon's side of it and the real pool.

const { createWaiter, POLL_MS, MAX_MISSES } = require('../lib/wait.js')
const { native } = require('../lib/native.js')
const { Pool } = require('..')

/** A waiter over a scripted addon: `settled` and `pending` are set by the test, time moves by hand. */
function scripted() {
  const world = { t: 0, settled: 0, pending: 0, queue: [] }
  world.waiter = createWaiter({
    waitState: () => (world.pending > 0 ? world.settled : -world.settled - 1),
    now: () => world.t,
    schedule: (fn) => world.queue.push(fn),
  })
  /** Runs the scheduled poll (there is at most one); false if none was scheduled. */
  world.step = () => {
    expect(world.queue.length).toBeLessThanOrEqual(1)
    const fn = world.queue.shift()
    if (fn === undefined) return false
    fn()
    return true
  }
  /** Polls until the waiter stops, moving the clock by `dt` each time; returns how many polls ran. */
  world.drain = (dt) => {
    let polls = 0
    while (world.step()) {
      polls++
      world.t += dt
      if (polls > 10_000) throw new Error('the waiter never stopped')
    }
    return polls
  }
  return world
}

test('a submit polls until POLL_MS pass with no result, then stops', () => {
  const w = scripted()
  w.pending = 1
  w.waiter.submitted()
  expect(w.waiter.polling).toBe(true)
  const polls = w.drain(POLL_MS / 10)
  expect(w.waiter.polling).toBe(false)
  // Ten steps of a tenth reach the deadline (the last poll sees t >= deadline; a step more or
  // less with the clock's rounding).
  expect(polls).toBeGreaterThanOrEqual(10)
  expect(polls).toBeLessThanOrEqual(12)
})

test('a submit while a poll is scheduled schedules no second one', () => {
  const w = scripted()
  w.pending = 3
  w.waiter.submitted()
  w.waiter.submitted()
  w.waiter.submitted()
  expect(w.queue).toHaveLength(1)
})

test('each result seen moves the deadline: polling lasts as long as results keep coming', () => {
  const w = scripted()
  w.pending = 1
  w.waiter.submitted()
  // A result every 0.8 × POLL_MS, for 20 × POLL_MS: the waiter must still be polling at the end.
  const end = 20 * POLL_MS
  while (w.t < end) {
    w.t += 0.8 * POLL_MS
    w.settled++
    expect(w.step()).toBe(true)
  }
  expect(w.waiter.polling).toBe(true)
})

test('polling stops at once when no job is pending', () => {
  const w = scripted()
  w.pending = 1
  w.waiter.submitted()
  w.pending = 0
  w.settled++
  expect(w.step()).toBe(true)
  expect(w.waiter.polling).toBe(false)
  expect(w.queue).toHaveLength(0)
})

test('after k fruitless waits in a row the next 2^k - 1 submits do not poll, up to 2^MAX_MISSES - 1', () => {
  const w = scripted()
  w.pending = 1
  for (let k = 1; k <= MAX_MISSES + 2; k++) {
    w.waiter.submitted()
    expect(w.waiter.polling).toBe(true)
    w.drain(POLL_MS)
    const skipped = 2 ** Math.min(k, MAX_MISSES) - 1
    for (let i = 0; i < skipped; i++) {
      w.waiter.submitted()
      expect(w.waiter.polling).toBe(false)
    }
  }
})

test('a wait that sees a result ends the back-off', () => {
  const w = scripted()
  w.pending = 1
  for (let k = 0; k < 3; k++) {
    w.waiter.submitted()
    w.drain(POLL_MS)
    while (!w.waiter.polling) w.waiter.submitted()
    if (k < 2) w.drain(POLL_MS)
  }
  // Polling now after three misses: a result arrives during it.
  w.settled++
  w.step()
  w.pending = 0
  w.drain(POLL_MS)
  w.pending = 1
  w.waiter.submitted()
  expect(w.waiter.polling).toBe(true)
})

test("the addon's waitState counts settled jobs, negated minus one when none is pending", async () => {
  const pool = new Pool({ threads: 1 })
  try {
    const idle = native.waitState()
    expect(idle).toBeLessThan(0)
    const before = -idle - 1
    const running = pool.run('sleep', { ms: 20 })
    expect(native.waitState()).toBe(before)
    await running
    expect(native.waitState()).toBe(-(before + 1) - 1)
    await Promise.all([pool.run('echo', 1), pool.run('echo', 2), pool.run('echo', 3)])
    expect(native.waitState()).toBe(-(before + 4) - 1)
  } finally {
    await pool.close()
  }
})

test('one-at-a-time calls keep giving the right answers, native and JS alike, and no poll is left behind', async () => {
  const tasks = require('node:path').join(__dirname, 'fixtures', 'js-tasks', 'tasks.js')
  const pool = new Pool({ threads: 1, workers: 1, modules: [tasks] })
  try {
    // performTask(n) sums 0 … n-1 by looping (the classic worker.js); the reference is the same
    // function run inline.
    const { performTask } = require(tasks)
    for (let i = 0; i < 2000; i++) {
      expect(await pool.run('echo', i)).toBe(i)
      expect(await pool.run('performTask', i)).toBe(performTask(i))
    }
    // Nothing is pending: the next poll (an immediate scheduled before ours) stops.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Immediate')).toHaveLength(0)
  } finally {
    await pool.close()
  }
})

test("under jest's fake timers results still arrive, and the waiter's polls are not faked", async () => {
  jest.useFakeTimers()
  const pool = new Pool({ threads: 1 })
  try {
    for (let i = 0; i < 50; i++) expect(await pool.run('echo', i)).toBe(i)
    // lib/wait.js takes setImmediate from node:timers, which fake timers leave alone: its poll ran
    // and stopped (nothing is pending), rather than waiting in the fake clock.
    expect(jest.getTimerCount()).toBe(0)
  } finally {
    jest.useRealTimers()
    await pool.close()
  }
})
