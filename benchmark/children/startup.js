'use strict'
// node startup.js SYSTEM THREADS: the system's module is loaded first (not timed), then the event loop
// idles for 50 ms so that work the loading left due runs before the timer starts (V8 posts a
// scavenge as a task once new space fills: about 1 ms here, which otherwise lands in whichever
// pool is being timed); then the pool is created and timed until every thread has answered
// (JS pools: one barrier task per thread, answered only once all threads are in it; native-pool:
// an 'online' event from every thread plus a first echo answer). No --expose-gc: a V8 flag that
// differs from the build's makes Node bootstrap every Worker without its snapshot (+40 ms for the
// JS pools here).

const { systemNamed, main } = require('./common')
const { now, msSince } = require('../lib/clock')

main(async () => {
  const [name, threadsArg] = process.argv.slice(2)
  const threads = Number(threadsArg)
  const sys = systemNamed(name)
  if (sys.name === 'native-pool') sys.load()
  else if (sys.name === 'piscina') require('piscina')
  else if (sys.name === 'tinypool') await import('tinypool')
  else if (sys.name === 'workerpool') require('workerpool')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const t0 = now()
  const inst = await sys.create({ threads })
  const ids = await inst.startup(threads)
  const ms = msSince(t0)
  const distinct = new Set(ids).size
  await inst.close()
  if (distinct !== threads) throw new Error(`answers came from ${distinct} threads, expected ${threads}`)
  return { ms, threadIds: ids }
})
