'use strict'
// node isolation.js LOAD THREADS MS: fs.readFile latency (a 64 KiB file, one read at a time) for MS
// milliseconds while LOAD keeps the machine busy:
//   idle         nothing else runs
//   native-pool  our pool saturated with fib(27), 4 per thread in flight
//   piscina      piscina saturated the same way (same CPU pressure, JS threads, no libuv work)
//   bcrypt       the npm bcrypt package's async hash (cost 10), which runs on libuv's thread pool,
//                2 per libuv thread in flight (UV_THREADPOOL_SIZE, default 4)
// Every read's content and every load task's answer is checked.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { systemNamed, main } = require('./common')
const { saturate } = require('../lib/drive')
const { latencySummary } = require('../lib/stats')
const { now, usSince } = require('../lib/clock')
const { fibIter, randomBytes } = require('../workloads/data')

function bcryptLoad(inFlight) {
  const bcrypt = require('bcrypt')
  let stopping = false
  let running = 0
  let completed = 0
  let firstError = null
  let onIdle = null
  const issue = () => {
    running++
    bcrypt.hash('password', 10).then(
      (h) => {
        if (!h.startsWith('$2b$10$')) firstError ??= new Error(`bad bcrypt hash ${h}`)
        done()
      },
      (err) => {
        firstError ??= err
        done()
      },
    )
  }
  const done = () => {
    running--
    completed++
    if (!stopping) issue()
    else if (running === 0 && onIdle) onIdle()
  }
  for (let i = 0; i < inFlight; i++) issue()
  return {
    stop() {
      stopping = true
      return new Promise((resolve, reject) => {
        const fin = () => (firstError ? reject(firstError) : resolve({ completed, wrong: 0 }))
        if (running === 0) fin()
        else onIdle = fin
      })
    },
  }
}

main(async () => {
  const [load, threadsArg, msArg] = process.argv.slice(2)
  const threads = Number(threadsArg)
  const ms = Number(msArg)
  const file = path.join(os.tmpdir(), `native-pool-bench-${process.pid}.bin`)
  const content = randomBytes(64 * 1024, 7)
  fs.writeFileSync(file, content)

  // Warm the fs path (and libuv's threads) before anything is measured.
  for (let i = 0; i < 50; i++) await fs.promises.readFile(file)

  let inst = null
  let loader = null
  const uvThreads = Number(process.env.UV_THREADPOOL_SIZE || 4)
  if (load === 'bcrypt') loader = bcryptLoad(uvThreads * 2)
  else if (load !== 'idle') {
    const sys = systemNamed(load)
    inst = await sys.create({ threads })
    const ref = fibIter(27)
    loader = saturate(inst, 'fib', { n: 27 }, { inFlight: threads * 4, check: (v) => Number(v) === ref })
  }

  const lat = []
  const end = Date.now() + ms
  while (Date.now() < end) {
    const t0 = now()
    const got = await fs.promises.readFile(file)
    lat.push(usSince(t0))
    if (!got.equals(content)) throw new Error('readFile returned different bytes')
  }
  const loadResult = loader ? await loader.stop() : { completed: 0, wrong: 0 }
  if (loadResult.wrong) throw new Error(`${loadResult.wrong} wrong answers from the load`)
  if (inst) await inst.close()
  fs.unlinkSync(file)
  return { ...latencySummary(lat), reads: lat.length, loadTasks: loadResult.completed, uvThreads }
})
