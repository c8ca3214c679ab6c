'use strict'
// One empty task at a time (await each before the next): the round trip a single caller sees.
// p50 and p99 per repetition; the line reports the median p50 (and the p99s beside it).

const { roundTrips } = require('../lib/drive')
const { summarize, latencySummary } = require('../lib/stats')

const TRIPS = { quick: 1000, full: 10000 }
const REPS = { quick: 2, full: 5 }

async function run(ctx) {
  const trips = TRIPS[ctx.mode]
  const reps = REPS[ctx.mode]
  const lines = []
  const live = []
  for (const sys of ctx.systems) {
    const base = { system: sys.name, workload: 'roundtrip', title: `one empty task at a time (${trips} round trips per repetition)`, threads: sys.kind === 'inline' ? 1 : ctx.threads }
    const why = sys.unavailable('echo')
    if (why) {
      lines.push({ ...base, status: 'skipped', reason: why })
      continue
    }
    try {
      const inst = await sys.create({ threads: ctx.threads })
      await roundTrips(inst, Math.ceil(trips / 4))
      const entry = { sys, inst, base, p50: [], p99: [], max: [] }
      live.push(entry)
      lines.push(entry)
    } catch (err) {
      lines.push({ ...base, status: 'error', reason: String(err.message || err) })
    }
  }
  for (let rep = 0; rep < reps; rep++) {
    const k = rep % Math.max(live.length, 1)
    for (const e of live.slice(k).concat(live.slice(0, k))) {
      if (e.failed) continue
      try {
        const l = latencySummary(await roundTrips(e.inst, trips))
        e.p50.push(l.p50)
        e.p99.push(l.p99)
        e.max.push(l.max)
        ctx.log(`  roundtrip ${e.sys.name} rep ${rep + 1}/${reps}: p50 ${l.p50.toFixed(1)} µs, p99 ${l.p99.toFixed(1)} µs`)
      } catch (err) {
        e.failed = String(err.message || err)
      }
    }
  }
  const out = []
  for (const e of lines) {
    if (!e.inst) {
      out.push(e)
      continue
    }
    await e.inst.close().catch(() => {})
    if (e.failed) out.push({ ...e.base, status: 'error', reason: e.failed })
    else
      out.push({
        ...e.base,
        status: 'ok',
        metric: 'p50 µs',
        better: 'lower',
        ...summarize(e.p50),
        p99: summarize(e.p99),
        maxUs: summarize(e.max),
        checked: trips * reps + Math.ceil(trips / 4),
      })
  }
  return out
}

module.exports = { run }
