'use strict'
// JS tasks side by side (issue 11): the same JavaScript functions (systems/js-tasks.js) on
// native-pool's Workers, on a minimal promise-per-task postMessage pool (the transport alone), on
// piscina, tinypool, workerpool and the plain worker_threads pool, with `threads` Workers each.
//
// Every repetition of a system is a fresh process (children/js-tasks.js), so its start-up and RSS are
// its own; repetitions rotate through the systems (A B C …, B C … A) so that a change in the shared
// machine's load falls on each alike. Inside that process each timed row is preceded by an untimed
// warm-up of the same workload on the same pool (WARMUP, identical for every system), so the row
// measures the steady state rather than the first page faults and JIT of that workload.

const path = require('node:path')
const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

const SECTION = 'js-tasks'
const REPS = { quick: 1, full: 3 }

// What each timed row runs, per mode. `loopMs` is the event-loop window; the others are task counts.
const SIZES = {
  quick: { empty: 20_000, trips: 2_000, bytes: 64, fib: 64, loopMs: 300 },
  full: { empty: 100_000, trips: 10_000, bytes: 256, fib: 64, loopMs: 1_000 },
}
// The untimed warm-up before each row, the same workload on the same pool.
const WARMUP = {
  quick: { empty: 2_000, trips: 200, bytes: 32, fib: 8, loopMs: 50 },
  full: { empty: 10_000, trips: 1_000, bytes: 128, fib: 8, loopMs: 100 },
}
const EMPTY_WINDOW = 1024 // empty tasks in flight at most, each answer issuing the next
const BYTES_WINDOW_PER_THREAD = 4 // 1 MiB tasks in flight per thread
const LOOP_IN_FLIGHT_PER_THREAD = 4 // fib(30) tasks in flight per thread while the loop is watched
const FIB_N = 30

// In the report's column order. `ours` is the system the ratio columns divide.
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
  return [
    { id: 'empty', title: `empty task (echo) throughput, ${n(s.empty)} tasks, at most ${n(EMPTY_WINDOW)} in flight`, warmup: `${n(w.empty)} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'roundtrip', title: `one-at-a-time round trip p50, ${n(s.trips)} echo trips`, warmup: `${n(w.trips)} trips`, metric: 'p50 µs', better: 'lower' },
    { id: 'bytes', title: `1 MiB Buffer in, a new 1 MiB Buffer out, ${n(s.bytes)} tasks, ${BYTES_WINDOW_PER_THREAD * threads} in flight`, warmup: `${n(w.bytes)} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'fib', title: `CPU-bound JS: fib(${FIB_N}), ${s.fib} tasks all in flight`, warmup: `${w.fib} tasks`, metric: 'tasks/s', better: 'higher' },
    { id: 'loop', title: `main-thread event-loop delay p99 while fib(${FIB_N}) saturates the Workers (${LOOP_IN_FLIGHT_PER_THREAD * threads} in flight, ${s.loopMs} ms)`, warmup: `${w.loopMs} ms saturated`, metric: 'saturated p99 ms', better: 'lower' },
    { id: 'startup', title: 'start-up: create → a first answer from every JS thread (package already loaded)', warmup: 'none (the first thing the process does)', metric: 'ms', better: 'lower' },
    { id: 'rss', title: 'RSS at rest after start-up, above the process before the package was loaded', warmup: 'none', metric: 'MB', better: 'lower' },
  ]
}

/** The systems `--systems` names (by name; `native-pool` selects ours), all of them without it. */
function selected(names) {
  if (!names) return SYSTEMS
  return SYSTEMS.filter((s) => names.includes(s.name) || (s.ours && names.includes('native-pool')))
}

async function run(ctx) {
  const systems = selected(ctx.systemNames)
  const reps = REPS[ctx.mode]
  const table = rows(ctx.mode, ctx.threads)
  const state = systems.map((sys) => ({ sys, samples: Object.fromEntries(table.map((r) => [r.id, []])), extra: [], error: null }))
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < state.length; i++) {
      const st = state[(i + rep) % state.length]
      if (st.error) continue
      try {
        const r = await runChild('js-tasks.js', [st.sys.file, ctx.threads, ctx.mode], { timeoutMs: 600_000 })
        for (const row of table) st.samples[row.id].push(r.rows[row.id])
        ctx.log(`  ${st.sys.name} (${rep + 1}/${reps}): ${table.map((row) => `${row.id} ${+r.rows[row.id].value.toPrecision(3)}`).join(', ')}`)
      } catch (err) {
        st.error = String(err.message || err)
        ctx.log(`  ${st.sys.name}: ${st.error}`)
      }
    }
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

module.exports = { run, SECTION, SYSTEMS, SIZES, WARMUP, EMPTY_WINDOW, BYTES_WINDOW_PER_THREAD, LOOP_IN_FLIGHT_PER_THREAD, FIB_N }
