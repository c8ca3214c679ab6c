'use strict'
// Start-up, in a fresh process per repetition (see children/startup.js for both modes):
// - startup: create → a first answer from every thread (the package already loaded, untimed);
// - startup-require: require the package → create a pool → one run resolved, what a user's first
//   call costs. Repetitions rotate through the systems, so a change in the machine's load falls on
//   each of them alike.

const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

const REPS = { quick: 2, full: 7 }

const MODES = [
  { workload: 'startup', mode: 'pool', title: 'pool start-up: create → first answer from every thread (fresh process each time)', needs: ['barrier', 'echo'] },
  { workload: 'startup-require', mode: 'require', title: "require → create → one run('echo') resolved (fresh process each time)", needs: ['echo'] },
]

async function run(ctx) {
  const out = []
  for (const m of MODES) {
    const runnable = []
    for (const sys of ctx.systems) {
      const base = { system: sys.name, workload: m.workload, title: m.title, threads: ctx.threads }
      const why = sys.kind === 'inline' ? 'the main thread has no pool to load or start' : m.needs.map((t) => sys.unavailable(t)).find(Boolean)
      if (why) out.push({ ...base, status: 'skipped', reason: why })
      else runnable.push({ sys, base, ms: [], parts: [], error: null })
    }
    for (let rep = 0; rep < REPS[ctx.mode]; rep++) {
      for (let i = 0; i < runnable.length; i++) {
        const r = runnable[(i + rep) % runnable.length]
        if (r.error) continue
        try {
          const res = await runChild('startup.js', [r.sys.name, ctx.threads, m.mode])
          r.ms.push(res.ms)
          if (m.mode === 'require') r.parts.push(res)
        } catch (err) {
          r.error = String(err.message || err)
        }
      }
    }
    for (const r of runnable) {
      if (r.error) {
        out.push({ ...r.base, status: 'error', reason: r.error })
        continue
      }
      ctx.log(`  ${m.workload} ${r.sys.name}: ${r.ms.map((x) => x.toFixed(2)).join(', ')} ms`)
      const extra = m.mode === 'require' ? { requireMs: summarize(r.parts.map((p) => p.requireMs)).median, firstAnswerMs: summarize(r.parts.map((p) => p.firstAnswerMs)).median } : {}
      out.push({ ...r.base, status: 'ok', metric: 'ms', better: 'lower', ...summarize(r.ms), ...extra, checked: r.ms.length * (m.mode === 'pool' ? ctx.threads : 1) })
    }
  }
  return out
}

module.exports = { run }
