'use strict'
// node --expose-gc memory.js SYSTEM THREADS TASKS ROUNDS: RSS of this process after a full GC,
// (1) before anything is loaded (bare Node), (2) with the system's pool created and every thread
// started, (3) after each of ROUNDS rounds of TASKS empty tasks (1,024 in flight).
// The first round raises the process to its high-water mark (V8's heap, malloc's arenas); a pool that
// leaks keeps growing in the rounds after it. SYSTEM may be "bare": then only (1) is reported.

const fs = require('node:fs')
const { systemNamed, main } = require('./common')
const { runBatch } = require('../lib/drive')

/** Linux's split of RSS: anonymous (private heap, stacks) and file-backed (mapped code, shareable). */
function rssSplit() {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8')
    const kb = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [])[1]) * 1024
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') }
  } catch {
    return {}
  }
}

async function settledRss() {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, ...rssSplit() }
}

async function pump(inst, tasks) {
  const chunk = 10_000
  for (let done = 0; done < tasks; done += chunk) {
    const n = Math.min(chunk, tasks - done)
    const inputs = Array.from({ length: n }, (_, i) => done + i)
    const { results } = await runBatch(inst, 'echo', inputs, 1024)
    for (let i = 0; i < n; i++) if (results[i] !== done + i) throw new Error(`echo(${done + i}) answered ${results[i]}`)
  }
}

main(async () => {
  if (typeof global.gc !== 'function') throw new Error('run with --expose-gc')
  const [name, threadsArg, tasksArg, roundsArg = '3'] = process.argv.slice(2)
  const bare = await settledRss()
  if (name === 'bare') return { bare }
  const threads = Number(threadsArg)
  const tasks = Number(tasksArg)
  const sys = systemNamed(name)
  const inst = await sys.create({ threads })
  if (inst.startup) await inst.startup(threads)
  else await inst.run('echo', 0)
  const rest = await settledRss()
  const rounds = []
  for (let r = 0; r < Number(roundsArg); r++) {
    await pump(inst, tasks)
    rounds.push(await settledRss())
  }
  await inst.close()
  return { bare, rest, rounds, tasks }
})
