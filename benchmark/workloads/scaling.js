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
    // Every (system, thread count) pair is a system of its own in one interleaved batch run, so the
    // 1-thread and N-thread repetitions alternate and a change in the machine's load hits both.
    const variants = []
    for (const sys of systems)
      for (let t = 1; t <= ctx.threads; t++) variants.push({ ...sys, name: `${sys.name}@${t}`, base: sys.name, t, create: () => sys.create({ threads: t }) })
    const lines = await runBatchWorkload(ctx, w, { systems: variants, workloadId: `scaling-${w.id}`, count: step.count[ctx.mode], reps: REPS[ctx.mode] })
    for (const sys of systems) {
      const perT = variants.filter((v) => v.base === sys.name).map((v) => lines.find((l) => l.system === v.name))
      const base = { system: sys.name, workload: `scaling-${w.id}`, title: `scaling: ${titleOf(w, ctx.mode)}, ${step.count[ctx.mode]} tasks, 1…${ctx.threads} threads (interleaved)`, threads: ctx.threads }
      const bad = perT.find((l) => !l || l.status !== 'ok')
      if (bad) {
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
        // Repetition k at N threads over repetition k at 1 thread: the two ran back to back.
        ...summarize(top.samples.map((x, k) => x / one.samples[k])),
        tasksPerSecondByThreads: Object.fromEntries(perT.map((l, i) => [i + 1, { median: l.median, min: l.min, max: l.max, coresUsed: l.coresUsed.median }])),
        checked: perT.reduce((a, l) => a + l.checked, 0),
      })
    }
  }
  return out
}

module.exports = { run }
