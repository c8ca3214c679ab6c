'use strict'
// node startup.js SYSTEM THREADS [MODE]
//
// MODE pool (default): the system's module is loaded first (not timed), then the event loop idles
// for 50 ms so that work the loading left due runs before the timer starts (V8 posts a scavenge as
// a task once new space fills: about 1 ms here, which otherwise lands in whichever pool is being
// timed); then the pool is created and timed until every thread has answered (JS pools: one barrier
// task per thread, answered only once all threads are in it; native-pool: an 'online' event from
// every thread plus a first echo answer).
//
// MODE require: what a user's first call costs in a fresh process: the timer starts before the
// system's package is required (after the same 50 ms idle, with the module loader already warm from
// this script's own requires), then the pool is created and one `run('echo', 42)` is awaited. The
// phases are reported apart: require, create + first answer.
//
// No --expose-gc: a V8 flag that differs from the build's makes Node bootstrap every Worker without
// its snapshot (+40 ms for the JS pools here).

const { systemNamed, main } = require('./common')
const { now, msSince } = require('../lib/clock')

function requirePackage(sys) {
  if (sys.name === 'native-pool') {
    const { error } = sys.load()
    if (error) throw new Error(error)
    return null
  }
  if (sys.name === 'piscina') return require('piscina')
  if (sys.name === 'tinypool') return import('tinypool')
  if (sys.name === 'workerpool') return require('workerpool')
  if (sys.name === 'worker_threads') return require('node:worker_threads')
  return null
}

async function poolStartup(sys, threads) {
  await requirePackage(sys)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const t0 = now()
  const inst = await sys.create({ threads })
  const ids = await inst.startup(threads)
  const ms = msSince(t0)
  const distinct = new Set(ids).size
  await inst.close()
  if (distinct !== threads) throw new Error(`answers came from ${distinct} threads, expected ${threads}`)
  return { ms, threadIds: ids }
}

async function requireToFirstAnswer(sys, threads) {
  await new Promise((resolve) => setTimeout(resolve, 50))
  const t0 = now()
  await requirePackage(sys)
  const requireMs = msSince(t0)
  const inst = await sys.create({ threads })
  const answer = await inst.run('echo', 42)
  const ms = msSince(t0)
  await inst.close()
  if (answer !== 42) throw new Error(`echo answered ${answer}`)
  return { ms, requireMs, firstAnswerMs: ms - requireMs }
}

main(async () => {
  const [name, threadsArg, mode = 'pool'] = process.argv.slice(2)
  const threads = Number(threadsArg)
  const sys = systemNamed(name)
  if (mode === 'pool') return poolStartup(sys, threads)
  if (mode === 'require') return requireToFirstAnswer(sys, threads)
  throw new Error(`unknown mode ${mode}`)
})
