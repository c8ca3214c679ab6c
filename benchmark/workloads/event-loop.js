'use strict'
// Main-thread event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while a system's
// pool is idle, then while it is saturated with short CPU tasks (fib(27), 4 per thread in flight,
// refilled as each completes), in alternating windows. The line reports the saturated p99 and the
// idle p99 of the same system; the goal compares the two.

const { monitorEventLoopDelay } = require('node:perf_hooks')
const { saturate } = require('../lib/drive')
const { summarize } = require('../lib/stats')
const { fibIter } = require('./data')

const WINDOW_MS = { quick: 250, full: 1000 }
const REPS = { quick: 1, full: 3 }
const N = 27

function waitMs(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function measureDelay(ms, during) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await waitMs(ms) // the measurement window itself, not an ordering device
  h.disable()
  const toMs = (ns) => ns / 1e6
  const r = { p50: toMs(h.percentile(50)), p99: toMs(h.percentile(99)), max: toMs(h.max), mean: toMs(h.mean) }
  if (during) Object.assign(r, await during())
  return r
}

async function run(ctx) {
  const windowMs = WINDOW_MS[ctx.mode]
  const reps = REPS[ctx.mode]
  const ref = fibIter(N)
  const out = []
  for (const sys of ctx.systems) {
    const base = {
      system: sys.name,
      workload: 'event-loop',
      title: `main-thread event-loop delay p99 while saturated with fib(${N}) (${windowMs} ms windows)`,
      threads: sys.kind === 'inline' ? 1 : ctx.threads,
    }
    const why = sys.unavailable('fib')
    if (why) {
      out.push({ ...base, status: 'skipped', reason: why })
      continue
    }
    let inst = null
    try {
      inst = await sys.create({ threads: ctx.threads })
      await Promise.all(Array.from({ length: ctx.threads * 2 }, () => inst.run('fib', { n: N })))
      const idle = []
      const busy = []
      let completed = 0
      for (let rep = 0; rep < reps; rep++) {
        idle.push(await measureDelay(windowMs))
        const load = saturate(inst, 'fib', { n: N }, {
          inFlight: sys.kind === 'inline' ? 1 : ctx.threads * 4,
          check: (v) => Number(v) === ref,
          yieldBetween: sys.kind === 'inline',
        })
        const r = await measureDelay(windowMs, async () => {
          const s = await load.stop()
          if (s.wrong) throw new Error(`${s.wrong} wrong fib(${N}) answers`)
          completed += s.completed
          return { tasks: s.completed }
        })
        busy.push(r)
        ctx.log(`  event-loop ${sys.name} rep ${rep + 1}/${reps}: idle p99 ${idle.at(-1).p99.toFixed(2)} ms, saturated p99 ${r.p99.toFixed(2)} ms (${r.tasks} tasks)`)
      }
      out.push({
        ...base,
        status: 'ok',
        metric: 'saturated p99 ms',
        better: 'lower',
        ...summarize(busy.map((r) => r.p99)),
        idleP99: summarize(idle.map((r) => r.p99)),
        idleP50: summarize(idle.map((r) => r.p50)),
        saturatedP50: summarize(busy.map((r) => r.p50)),
        saturatedMax: summarize(busy.map((r) => r.max)),
        excessP99Ms: summarize(busy.map((r, i) => r.p99 - idle[i].p99)),
        tasksPerSecond: summarize(busy.map((r) => (r.tasks / windowMs) * 1000)),
        checked: completed,
      })
    } catch (err) {
      out.push({ ...base, status: 'error', reason: String(err.message || err) })
    } finally {
      if (inst) await inst.close().catch(() => {})
    }
  }
  return out
}

module.exports = { run }
