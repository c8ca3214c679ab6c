'use strict'
// JS tasks side by side: the same JavaScript functions (systems/js-tasks.js) on native-pool's
// Workers, on a minimal postMessage pool (the transport alone), piscina, tinypool, workerpool and the
// plain worker_threads pool, 2 Workers each. `node benchmark/js-tasks.js [--quick]`.
//
// Rows: empty-task throughput (at most 1,024 in flight, each answer issuing the next), one-at-a-time
// round trip p50, 1 MiB Buffer in + a new 1 MiB Buffer out, fib(30) in JS ×64, the main thread's
// event-loop delay p99 while fib(30) saturates the Workers, start-up to every Worker ready (the
// first answer of each), and RSS above this process's at rest after start-up. One system at a time,
// in a child process each (so RSS and start-up are its own).

const { fork } = require('node:child_process')
const { monitorEventLoopDelay } = require('node:perf_hooks')

const quick = process.argv.includes('--quick')
const SYSTEMS = ['native-pool-js', 'postmessage', 'piscina', 'tinypool', 'workerpool', 'plain']
const THREADS = 2
const MiB = 1 << 20

async function measure(name) {
  const rss0 = process.memoryUsage().rss
  const system = require(`./systems/${name}`)
  const t0 = performance.now()
  const pool = await system.create({ threads: THREADS })
  // Start-up: the first answer of as many tasks as Workers, each holding its Worker for 20 ms.
  await Promise.all(Array.from({ length: THREADS }, () => pool.run('sum', { iterations: 2e7 })))
  const startup = performance.now() - t0
  await new Promise((r) => setTimeout(r, 200))
  const rss = process.memoryUsage().rss - rss0

  const n = quick ? 20_000 : 100_000
  let next = 0
  let done = 0
  const t1 = performance.now()
  await new Promise((resolve, reject) => {
    const issue = () => {
      const i = next++
      pool.run('echo', i).then((v) => {
        if (v !== i) return reject(new Error(`echo(${i}) gave ${v}`))
        if (++done === n) return resolve()
        if (next < n) issue()
      }, reject)
    }
    for (let k = 0; k < 1024; k++) issue()
  })
  const throughput = n / ((performance.now() - t1) / 1000)

  const trips = []
  for (let i = 0; i < (quick ? 2000 : 10000); i++) {
    const s = performance.now()
    await pool.run('echo', i)
    trips.push(performance.now() - s)
  }
  trips.sort((a, b) => a - b)
  const p50 = trips[trips.length >> 1] * 1000

  const data = Buffer.alloc(MiB, 0x5a)
  const bytesCount = quick ? 64 : 256
  const t2 = performance.now()
  await Promise.all(Array.from({ length: bytesCount }, async () => {
    const out = await pool.run('bytesOut', { data })
    if (out.length !== MiB || out[0] !== 0xa5 || out[MiB - 1] !== 0xa5) throw new Error('bytesOut: wrong bytes')
  }))
  const bytesRate = bytesCount / ((performance.now() - t2) / 1000)

  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const t3 = performance.now()
  const fibs = await Promise.all(Array.from({ length: 64 }, () => pool.run('fib', { n: 30 })))
  const fibRate = 64 / ((performance.now() - t3) / 1000)
  h.disable()
  if (fibs.some((v) => v !== 832040)) throw new Error('fib(30) wrong')
  await pool.close()
  return { throughput, p50, bytesRate, fibRate, delay: h.percentile(99) / 1e6, startup, rss: rss / 1e6 }
}

if (process.argv[2] === '--child') {
  measure(process.argv[3]).then((r) => process.send(r), (err) => process.send({ error: String(err.stack) }))
} else {
  ;(async () => {
    const rows = []
    for (const name of SYSTEMS) {
      const child = fork(__filename, ['--child', name, ...(quick ? ['--quick'] : [])])
      const r = await new Promise((resolve) => child.on('message', resolve))
      child.kill()
      rows.push([name, r])
      console.error(name, r.error ?? 'done')
    }
    const fmt = (v, unit) => (v === undefined ? '-' : `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)}${unit}`)
    console.log('| system | empty tasks/s | round trip p50 | 1 MiB in + out /s | fib(30) ×64 /s | loop delay p99 | start-up | RSS at rest |')
    console.log('|---|---|---|---|---|---|---|---|')
    for (const [name, r] of rows) {
      if (r.error) console.log(`| ${name} | ${r.error.split('\n')[0]} |`)
      else console.log(`| ${name} | ${fmt(r.throughput, '')} | ${fmt(r.p50, ' µs')} | ${fmt(r.bytesRate, '')} | ${fmt(r.fibRate, '')} | ${fmt(r.delay, ' ms')} | ${fmt(r.startup, ' ms')} | ${fmt(r.rss, ' MB')} |`)
    }
  })()
}
