'use strict'
// JS tasks side by side (issue 11): the same JavaScript functions (systems/js-tasks.js) on
// native-pool's Workers, on a minimal promise-per-task postMessage pool (the transport alone), on
// piscina, tinypool, workerpool and the plain worker_threads pool, with `threads` Workers each, every
// system in processes of its own (children/js-tasks.js):
//
// - cold rows (start-up, RSS at rest): a fresh process per repetition, the systems in rotation;
// - steady rows (throughput, round trip, 1 MiB in + out, fib, event-loop delay): one long-lived
//   process per system, all started first; then for each row, each repetition asks every system's
//   process in turn (the order rotating), so that a change in the shared machine's load falls on
//   each system alike rather than on whichever ran during it. Each sample is an untimed warm-up of
//   the row's workload on that pool (WARMUP, identical for every system), then the timed run, so it
//   measures the steady state rather than the first page faults and JIT of that workload.

const { fork } = require('node:child_process')
const path = require('node:path')
const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

const SECTION = 'js-tasks'
// Samples of each row per system in the full run (the quick run takes one): as many as are cheap.
// A cold sample is a fresh process (a start-up and 200 ms); the empty row's sample takes seconds on
// the slow pools (100,000 tasks at 15k/s), the others' about one. The 1 MiB row's sample is 1,024
// tasks (about 0.3 s for ours, 1 s for piscina): with 256 (0.1 s) a sample spanned only a few of the
// garbage collections its 1 MiB buffers set off, and the same system's samples ranged over 2×.
const FULL_REPS = { empty: 3, roundtrip: 5, bytes: 5, fib: 5, loop: 5, startup: 5, rss: 5 }
const CHILD = path.join(__dirname, '..', 'children', 'js-tasks.js')

// What each timed row runs, per mode. `loopMs` is the event-loop window; the others are task counts.
const SIZES = {
  quick: { empty: 20_000, trips: 2_000, bytes: 128, fib: 64, loopMs: 300 },
  full: { empty: 100_000, trips: 10_000, bytes: 1_024, fib: 64, loopMs: 1_000 },
}
// The untimed warm-up before each row, the same workload on the same pool.
const WARMUP = {
  quick: { empty: 2_000, trips: 200, bytes: 64, fib: 8, loopMs: 50 },
  full: { empty: 10_000, trips: 1_000, bytes: 256, fib: 8, loopMs: 100 },
}
const EMPTY_WINDOW = 1024 // empty tasks in flight at most, each answer issuing the next
const BYTES_WINDOW_PER_THREAD = 4 // 1 MiB tasks in flight per thread
const LOOP_IN_FLIGHT_PER_THREAD = 4 // fib(30) tasks in flight per thread while the loop is watched
const FIB_N = 30

// In the report's column order. `ours` marks native-pool's (what `--systems native-pool` selects).
const SYSTEMS = ['native-pool-js', 'postmessage', 'piscina', 'tinypool', 'workerpool', 'plain'].map((file) => ({
  file,
  name: require(path.join(__dirname, '..', 'systems', file)).name,
  ours: file === 'native-pool-js',
}))

// In the report's row order.
function rows(mode, threads) {
  const s = SIZES[mode]
  const w = WARMUP[mode]
  const n = (x) => x.toLocaleString('en-US')
  const list = [
    { id: 'empty', title: `empty task (echo) throughput, ${n(s.empty)} tasks, at most ${n(EMPTY_WINDOW)} in flight`, warmup: `${n(w.empty)} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'roundtrip', title: `one-at-a-time round trip p50, ${n(s.trips)} echo trips`, warmup: `${n(w.trips)} trips`, metric: 'p50 µs', better: 'lower' },
    { id: 'bytes', title: `1 MiB Buffer in, a new 1 MiB Buffer out, ${n(s.bytes)} tasks, ${BYTES_WINDOW_PER_THREAD * threads} in flight`, warmup: `${n(w.bytes)} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'fib', title: `CPU-bound JS: fib(${FIB_N}), ${s.fib} tasks all in flight`, warmup: `${w.fib} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'loop', title: `main-thread event-loop delay p99 while fib(${FIB_N}) saturates the Workers (${LOOP_IN_FLIGHT_PER_THREAD * threads} in flight, ${s.loopMs} ms)`, warmup: `${w.loopMs} ms saturated`, metric: 'saturated p99 ms', better: 'lower' },
    { id: 'startup', cold: true, title: 'start-up: create → a first answer from every JS thread (package already loaded; fresh process)', warmup: 'none (the first thing the process does)', metric: 'ms', better: 'lower' },
    { id: 'rss', cold: true, title: 'RSS at rest after start-up, above the process before the package was loaded (fresh process)', warmup: 'none', metric: 'MB', better: 'lower' },
  ]
  return list.map((row) => ({ ...row, reps: mode === 'full' ? FULL_REPS[row.id] : 1 }))
}

/** The systems `--systems` names (by name; `native-pool` selects ours), all of them without it. */
function selected(names) {
  if (!names) return SYSTEMS
  return SYSTEMS.filter((s) => names.includes(s.name) || (s.ours && names.includes('native-pool')))
}

/** A system's long-lived process: `ask(row)` resolves with that row's sample, `close()` ends it. */
function serve(file, threads, mode) {
  const child = fork(CHILD, [file, threads, mode, 'serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let nextId = 0
  let gone = null
  let onReady
  const ready = new Promise((resolve, reject) => (onReady = { resolve, reject }))
  child.on('message', (msg) => {
    if (msg.ready) return onReady.resolve()
    if (msg.id === undefined) return onReady.reject(new Error(msg.error))
    const p = pending.get(msg.id)
    pending.delete(msg.id)
    if (msg.error !== undefined) p.reject(new Error(msg.error))
    else p.resolve(msg.sample)
  })
  child.on('exit', (code, signal) => {
    gone = new Error(`${file}'s process exited (${signal || code})`)
    onReady.reject(gone)
    for (const p of pending.values()) p.reject(gone)
    pending.clear()
  })
  return {
    ready,
    ask(row) {
      if (gone) return Promise.reject(gone)
      return new Promise((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        child.send({ id, row })
      })
    },
    close() {
      if (gone) return Promise.resolve()
      return new Promise((resolve) => {
        child.once('exit', resolve)
        child.send({ close: true })
      })
    },
  }
}

async function run(ctx) {
  const systems = selected(ctx.systemNames)
  const table = rows(ctx.mode, ctx.threads)
  const state = systems.map((sys) => ({ sys, samples: Object.fromEntries(table.map((r) => [r.id, []])), error: null, child: null }))
  const fail = (st, err) => {
    st.error ??= String(err.message || err)
    ctx.log(`  ${st.sys.name}: ${st.error}`)
  }
  const rotated = (rep) => state.map((_, i) => state[(i + rep) % state.length])

  // Both cold rows come from the same processes.
  const coldRows = table.filter((t) => t.cold)
  for (let rep = 0; rep < Math.max(...coldRows.map((t) => t.reps)); rep++) {
    for (const st of rotated(rep)) {
      if (st.error) continue
      try {
        const r = await runChild('js-tasks.js', [st.sys.file, ctx.threads, ctx.mode, 'cold'])
        for (const row of coldRows) if (st.samples[row.id].length < row.reps) st.samples[row.id].push(r[row.id])
      } catch (err) {
        fail(st, err)
      }
    }
  }

  try {
    for (const st of state) {
      if (st.error) continue
      st.child = serve(st.sys.file, ctx.threads, ctx.mode)
      await st.child.ready.catch((err) => fail(st, err))
    }
    for (const row of table.filter((t) => !t.cold)) {
      for (let rep = 0; rep < row.reps; rep++) {
        for (const st of rotated(rep)) {
          if (st.error) continue
          try {
            st.samples[row.id].push(await st.child.ask(row.id))
          } catch (err) {
            fail(st, err)
          }
        }
      }
    }
  } finally {
    await Promise.all(state.map((st) => st.child && st.child.close()))
  }

  for (const row of table) {
    const shown = state.filter((st) => !st.error).map((st) => `${st.sys.name} ${st.samples[row.id].map((x) => +x.value.toPrecision(3)).join(', ')}`)
    ctx.log(`  ${row.id}: ${shown.join('; ')}`)
  }
  const out = []
  for (const row of table) {
    for (const st of state) {
      const base = { section: SECTION, system: st.sys.name, workload: `${SECTION}-${row.id}`, title: row.title, warmup: row.warmup, threads: ctx.threads }
      if (st.error) {
        out.push({ ...base, status: 'error', reason: st.error })
        continue
      }
      const samples = st.samples[row.id]
      const extra = {}
      for (const key of Object.keys(samples[0])) if (key !== 'value' && key !== 'checked') extra[key] = summarize(samples.map((x) => x[key])).median
      out.push({
        ...base,
        status: 'ok',
        metric: row.metric,
        better: row.better,
        ...summarize(samples.map((x) => x.value)),
        ...extra,
        checked: samples.reduce((a, x) => a + x.checked, 0),
      })
    }
  }
  return out
}

module.exports = { run, SECTION, SYSTEMS, SIZES, WARMUP, FULL_REPS, EMPTY_WINDOW, BYTES_WINDOW_PER_THREAD, LOOP_IN_FLIGHT_PER_THREAD, FIB_N }
