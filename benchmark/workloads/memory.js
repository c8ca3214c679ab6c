'use strict'
// Memory: RSS above bare Node for a pool at rest (every thread started), and its growth after 1M
// empty tasks (then after 1M more), each system in its own fresh process with --expose-gc.

const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

// JS pools run fewer tasks in the full run (1M through piscina alone takes about a minute here);
// the count is recorded on each line.
const TASKS = { quick: { fast: 10_000, js: 10_000 }, full: { fast: 1_000_000, js: 200_000 } }
const MB = 1e6

async function run(ctx) {
  const out = []
  for (const sys of ctx.systems) {
    const tasks = TASKS[ctx.mode][sys.kind === 'js-pool' ? 'js' : 'fast']
    const base = {
      system: sys.name,
      workload: 'memory',
      title: 'RSS above bare Node with the pool at rest, and its growth after many empty tasks (fresh process each)',
      threads: sys.kind === 'inline' ? 1 : ctx.threads,
    }
    const why = sys.unavailable('echo')
    if (why) {
      out.push({ ...base, status: 'skipped', reason: why })
      continue
    }
    try {
      const reps = 1
      const rest = []
      const growth = []
      const growth2 = []
      for (let rep = 0; rep < reps; rep++) {
        const r = await runChild('memory.js', [sys.name, ctx.threads, tasks], { execArgv: ['--expose-gc'], timeoutMs: 600_000 })
        rest.push((r.rest.rss - r.bare.rss) / MB)
        growth.push((r.after.rss - r.rest.rss) / MB)
        growth2.push((r.after2.rss - r.after.rss) / MB)
      }
      ctx.log(`  memory ${sys.name}: at rest +${rest.map((x) => x.toFixed(1)).join(', ')} MB, after tasks +${growth.map((x) => x.toFixed(1)).join(', ')} MB, after more +${growth2.map((x) => x.toFixed(1)).join(', ')} MB`)
      out.push({
        ...base,
        status: 'ok',
        metric: 'MB above bare Node at rest',
        better: 'lower',
        ...summarize(rest),
        growthAfterTasksMB: summarize(growth),
        growthAfterMoreTasksMB: summarize(growth2),
        tasks,
        checked: tasks * 2 * reps,
      })
    } catch (err) {
      out.push({ ...base, status: 'error', reason: String(err.message || err) })
    }
  }
  return out
}

module.exports = { run }
