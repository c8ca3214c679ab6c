'use strict'
// Runs one batch workload on every available system: all pools are created and warmed first, then the
// repetitions are interleaved (system A, B, C…, then again in a rotated order), so that a change in the
// machine's load during the run hits every system alike instead of whichever ran last.

const { runBatch } = require('./drive')
const { summarize } = require('./stats')

/** A workload's title; some depend on the mode. */
function titleOf(w, mode) {
  return typeof w.title === 'function' ? w.title(mode) : w.title
}

/** Checks every result; returns the reasons of the failures (empty when all are right). */
function checkAll(w, state, inputsCount, results) {
  const failures = []
  for (let i = 0; i < inputsCount; i++) {
    const why = w.check(state, i, results[i])
    if (why) failures.push(`#${i}: ${why}`)
    if (failures.length >= 3) break
  }
  return failures
}

async function runBatchWorkload(ctx, w, { threads = ctx.threads, systems = ctx.systems, workloadId = w.id, count, reps } = {}) {
  count ??= w.count[ctx.mode]
  reps ??= w.reps[ctx.mode]
  const state = w.prepare(ctx.mode)
  const inputs = Array.from({ length: count }, (_, i) => w.input(state, i))
  const warmInputs = inputs.slice(0, Math.max(threads, Math.ceil(count / 4)))
  const lines = new Map()
  const live = []

  for (const sys of systems) {
    const base = { system: sys.name, workload: workloadId, title: `${titleOf(w, ctx.mode)}, ${count.toLocaleString('en-US')} tasks`, threads: sys.kind === 'inline' ? 1 : threads, count }
    let inst = null
    try {
      const why = sys.unavailable(w.task)
      if (why) {
        lines.set(sys.name, { ...base, status: 'skipped', reason: why })
        continue
      }
      inst = await sys.create({ threads })
      const warm = await runBatch(inst, w.task, warmInputs, w.window)
      const failures = checkAll(w, state, warmInputs.length, warm.results)
      if (failures.length) throw new Error(`wrong answers during warm-up: ${failures.join('; ')}`)
      live.push({ sys, inst, base, ms: [], cores: [], checked: warm.results.length, extra: null })
    } catch (err) {
      lines.set(sys.name, { ...base, status: 'error', reason: String(err.message || err) })
      if (inst) await inst.close().catch(() => {})
    }
  }

  for (let rep = 0; rep < reps; rep++) {
    const order = live.slice(rep % Math.max(live.length, 1)).concat(live.slice(0, rep % Math.max(live.length, 1)))
    for (const entry of order) {
      if (entry.failed) continue
      try {
        const { ms, results, cores } = await runBatch(entry.inst, w.task, inputs, w.window)
        const failures = checkAll(w, state, inputs.length, results)
        if (failures.length) throw new Error(`wrong answers: ${failures.join('; ')}`)
        entry.checked += results.length
        entry.ms.push(ms)
        entry.cores.push(cores)
        if (w.extra && !entry.extra) entry.extra = w.extra(state, results)
        ctx.log(`  ${workloadId} ${entry.sys.name} rep ${rep + 1}/${reps}: ${ms.toFixed(1)} ms (${((count / ms) * 1000).toFixed(0)} tasks/s, ${cores.toFixed(2)} cores)`)
      } catch (err) {
        entry.failed = String(err.message || err)
      }
    }
  }

  for (const entry of live) {
    await entry.inst.close().catch(() => {})
    if (entry.failed) {
      lines.set(entry.sys.name, { ...entry.base, status: 'error', reason: entry.failed })
      continue
    }
    const rate = summarize(entry.ms.map((ms) => (count / ms) * 1000))
    lines.set(entry.sys.name, {
      ...entry.base,
      status: 'ok',
      metric: 'tasks/s',
      better: 'higher',
      ...rate,
      batchMs: summarize(entry.ms),
      coresUsed: summarize(entry.cores),
      checked: entry.checked,
      note: w.note,
      extra: entry.extra || undefined,
    })
  }
  // In the systems' order, whatever order they finished in.
  return systems.map((s) => lines.get(s.name)).filter(Boolean)
}

module.exports = { runBatchWorkload, checkAll, titleOf }
