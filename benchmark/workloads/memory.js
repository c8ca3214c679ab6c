'use strict'
// Memory: RSS above bare Node for a pool at rest (every thread started), then after each of several
// rounds of empty tasks, each system in its own fresh process with --expose-gc. The first round lifts
// the process to its high-water mark (the harness's own arrays and promises, V8's heap, malloc's
// arenas: inline, which has no pool at all, shows that part); a leak shows as growth between the last
// rounds.

const { runChild } = require('../lib/child')
const { summarize } = require('../lib/stats')

// JS pools run fewer tasks per round in the full run (1M through piscina alone takes about a minute
// here); the count is recorded on each line.
const TASKS = { quick: { fast: 5_000, js: 5_000 }, full: { fast: 1_000_000, js: 150_000 } }
const ROUNDS = { quick: 2, full: 4 }
const MB = 1e6

async function run(ctx) {
  const out = []
  for (const sys of ctx.systems) {
    const tasks = TASKS[ctx.mode][sys.kind === 'js-pool' ? 'js' : 'fast']
    const rounds = ROUNDS[ctx.mode]
    const base = {
      system: sys.name,
      workload: 'memory',
      title: 'RSS above bare Node with the pool at rest, then after each round of empty tasks (fresh process)',
      threads: sys.kind === 'inline' ? 1 : ctx.threads,
    }
    const why = sys.unavailable('echo')
    if (why) {
      out.push({ ...base, status: 'skipped', reason: why })
      continue
    }
    try {
      const r = await runChild('memory.js', [sys.name, ctx.threads, tasks, rounds], { execArgv: ['--expose-gc'], timeoutMs: 600_000 })
      const above = (m) => (m.rss - r.bare.rss) / MB
      const rest = above(r.rest)
      const afterRounds = r.rounds.map(above)
      const lastGrowth = afterRounds.at(-1) - afterRounds.at(-2)
      ctx.log(`  memory ${sys.name}: at rest +${rest.toFixed(1)} MB, after each round of ${tasks} tasks: ${afterRounds.map((x) => '+' + x.toFixed(1)).join(', ')} MB`)
      out.push({
        ...base,
        status: 'ok',
        metric: 'MB above bare Node at rest',
        better: 'lower',
        ...summarize([rest]),
        restAnonMB: Number.isFinite(r.rest.rssAnon) ? (r.rest.rssAnon - r.bare.rssAnon) / MB : null,
        restFileMB: Number.isFinite(r.rest.rssFile) ? (r.rest.rssFile - r.bare.rssFile) / MB : null,
        afterRoundsMB: afterRounds,
        lastRoundGrowthMB: lastGrowth,
        tasksPerRound: tasks,
        rounds,
        checked: tasks * rounds,
      })
    } catch (err) {
      out.push({ ...base, status: 'error', reason: String(err.message || err) })
    }
  }
  return out
}

module.exports = { run }
