'use strict'
// node --expose-gc startup.js SYSTEM THREADS: the system's module is loaded first (not timed), and a
// full GC empties the heap, so that no collection the loading has made due (a V8 scavenge task:
// about 1 ms here) lands in the timed window; then the pool is created and timed until every thread
// has answered (JS pools: one barrier task per thread, answered
// only once all threads are in it; native-pool: an 'online' event from every thread plus a first
// echo answer).

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
  if (typeof global.gc !== 'function') throw new Error('run with --expose-gc')
  global.gc()
  const t0 = now()
  const inst = await sys.create({ threads })
  const ids = await inst.startup(threads)
  const ms = msSince(t0)
  const distinct = new Set(ids).size
  await inst.close()
  if (distinct !== threads) throw new Error(`answers came from ${distinct} threads, expected ${threads}`)
  return { ms, threadIds: ids }
})
