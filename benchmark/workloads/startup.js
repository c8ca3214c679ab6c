'use strict'
// Pool start-up: create, then a first answer from every thread; one fresh process per repetition so
// every pool starts cold (see children/startup.js for what "an answer from every thread" means).

const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

const REPS = { quick: 2, full: 7 }

async function run(ctx) {
  const out = []
  for (const sys of ctx.systems) {
    const base = { system: sys.name, workload: 'startup', title: 'pool start-up: create → first answer from every thread (fresh process each time)', threads: ctx.threads }
    const why = sys.unavailable('barrier') || sys.unavailable('echo')
    if (why) {
      out.push({ ...base, status: 'skipped', reason: why })
      continue
    }
    try {
      const ms = []
      for (let rep = 0; rep < REPS[ctx.mode]; rep++) {
        const r = await runChild('startup.js', [sys.name, ctx.threads])
        ms.push(r.ms)
      }
      ctx.log(`  startup ${sys.name}: ${ms.map((m) => m.toFixed(2)).join(', ')} ms`)
      out.push({ ...base, status: 'ok', metric: 'ms', better: 'lower', ...summarize(ms), checked: ms.length * ctx.threads })
    } catch (err) {
      out.push({ ...base, status: 'error', reason: String(err.message || err) })
    }
  }
  return out
}

module.exports = { run }
