'use strict'
// Isolation from libuv: fs.readFile latency while our pool is saturated, against idle, against
// piscina saturated (the same CPU pressure from JS threads) and against the npm bcrypt package's async
// hashing, which occupies libuv's thread pool. Each condition runs in its own fresh process.
// One line per load; the "system" column is the load.

const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

const MS = { quick: 500, full: 3000 }
const REPS = { quick: 1, full: 3 }

function unavailableIn(ctx, name) {
  const sys = ctx.systems.find((s) => s.name === name)
  return sys ? sys.unavailable('fib') : 'not selected (--systems)'
}

async function run(ctx) {
  const loads = [
    { name: 'idle', why: null },
    { name: 'native-pool', why: unavailableIn(ctx, 'native-pool') },
    { name: 'piscina', why: unavailableIn(ctx, 'piscina') },
    { name: 'bcrypt', why: null },
  ]
  const out = []
  const ms = MS[ctx.mode]
  for (const load of loads) {
    const base = {
      system: load.name === 'bcrypt' ? 'bcrypt (libuv)' : load.name === 'idle' ? 'idle' : load.name,
      workload: 'isolation',
      title: `fs.readFile (64 KiB) p99 latency while the load runs (${ms} ms windows, fresh process each)`,
      threads: load.name === 'bcrypt' ? 'libuv' : ctx.threads,
    }
    if (load.why) {
      out.push({ ...base, status: 'skipped', reason: load.why })
      continue
    }
    try {
      const runs = []
      for (let rep = 0; rep < REPS[ctx.mode]; rep++) runs.push(await runChild('isolation.js', [load.name, ctx.threads, ms]))
      ctx.log(`  isolation ${load.name}: p50 ${runs.map((r) => r.p50.toFixed(0)).join(', ')} µs, p99 ${runs.map((r) => r.p99.toFixed(0)).join(', ')} µs`)
      out.push({
        ...base,
        status: 'ok',
        metric: 'readFile p99 µs',
        better: 'lower',
        ...summarize(runs.map((r) => r.p99)),
        p50Us: summarize(runs.map((r) => r.p50)),
        reads: runs.reduce((a, r) => a + r.reads, 0),
        loadTasks: runs.reduce((a, r) => a + r.loadTasks, 0),
        checked: runs.reduce((a, r) => a + r.reads + r.loadTasks, 0),
      })
    } catch (err) {
      out.push({ ...base, status: 'error', reason: String(err.message || err) })
    }
  }
  return out
}

module.exports = { run }
