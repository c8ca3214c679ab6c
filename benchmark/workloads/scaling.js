'use strict'
// Scaling: the CPU workloads at 1 … N threads, each pool created anew for each thread count. The line
// reports tasks/s at N threads and the speed-up over the same system at 1 thread.

const batch = require('./batch')
const { runBatchWorkload, titleOf } = require('../lib/batch-runner')
const { summarize } = require('../lib/stats')

// Smaller batches than the main workloads: this section runs each one N times per system.
// The JS pools run the two workloads whose goals compare against piscina; native-pool runs all four
// (its goal: N threads at least 1.9x its own single thread on each).
const PLAN = [
  { id: 'fib', count: { quick: 8, full: 64 }, peers: true },
  { id: 'sha256', count: { quick: 40, full: 500 }, peers: true },
  { id: 'sum', count: { quick: 8, full: 64 }, peers: false },
  { id: 'gzip', count: { quick: 4, full: 16 }, peers: false },
]
const REPS = { quick: 1, full: 3 }

async function run(ctx) {
  const pools = ctx.systems.filter((s) => s.kind !== 'inline')
  const out = []
  for (const step of PLAN) {
    const w = batch.find((b) => b.id === step.id)
    const systems = step.peers ? pools : pools.filter((s) => s.kind === 'native')
    const byThreads = new Map()
    for (let t = 1; t <= ctx.threads; t++) {
      const lines = await runBatchWorkload(ctx, w, { threads: t, systems, workloadId: `scaling-${w.id}@${t}`, count: step.count[ctx.mode], reps: REPS[ctx.mode] })
      for (const l of lines) {
        if (!byThreads.has(l.system)) byThreads.set(l.system, [])
        byThreads.get(l.system).push(l)
      }
    }
    for (const sys of systems) {
      const perT = byThreads.get(sys.name) || []
      const base = { system: sys.name, workload: `scaling-${w.id}`, title: `scaling: ${titleOf(w, ctx.mode)}, ${step.count[ctx.mode]} tasks, 1…${ctx.threads} threads`, threads: ctx.threads }
      const bad = perT.find((l) => l.status !== 'ok')
      if (bad || perT.length !== ctx.threads) {
        out.push({ ...base, status: bad ? bad.status : 'error', reason: bad ? bad.reason : 'missing thread counts' })
        continue
      }
      const one = perT[0]
      const top = perT[perT.length - 1]
      out.push({
        ...base,
        status: 'ok',
        metric: `speed-up ${ctx.threads} vs 1 thread`,
        better: 'higher',
        ...summarize(top.samples.map((x) => x / one.median)),
        tasksPerSecondByThreads: Object.fromEntries(perT.map((l) => [l.threads, { median: l.median, min: l.min, max: l.max }])),
        checked: perT.reduce((a, l) => a + l.checked, 0),
      })
    }
  }
  return out
}

module.exports = { run }
