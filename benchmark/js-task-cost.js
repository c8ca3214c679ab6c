'use strict'
// What a JS task costs per call, on each side: CPU time of the main thread and of the pool's
// Workers (read per thread from /proc, so Linux only) over runs of tasks, for native-pool's JS tasks,
// the minimal postMessage pool and piscina, 2 Workers each, each in a child process of its own.
//
//   node benchmark/js-task-cost.js [--tasks N]
//
// Three runs per system: a stream of empty tasks (echo; at most 1,024 in flight, each answer issuing
// the next, as the throughput row of `npm run bench`), one-at-a-time calls (each awaited before the
// next, as the round-trip row), and 1 MiB Buffers in with a new 1 MiB Buffer out (bytesOut, 8 in
// flight, as the 1 MiB row). The CPU includes everything the thread did meanwhile: our Workers' and
// caller's polling before they sleep, V8's work on that thread, the kernel's time for it. Every
// answer is checked.

const fs = require('node:fs')
const { fork } = require('node:child_process')
const { pump } = require('./lib/drive')

const SYSTEMS = ['native-pool-js', 'postmessage', 'piscina']
const argAt = process.argv.indexOf('--tasks')
const TASKS = argAt > 0 ? Number(process.argv[argAt + 1]) : 200_000
// 1 MiB tasks: a tenth of a second each on the slow pools' side, so fewer.
const BYTES = Math.max(64, Math.round(TASKS / 400))

/** CPU time (µs) of thread `tid` of this process. */
function threadCpu(tid) {
  const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100 // utime + stime, in clock ticks of 10 ms
}

/** The Workers' thread ids: `threadTid` tasks, two at a time, until two different ones answered. */
async function workerTids(pool) {
  const seen = new Set()
  for (let round = 0; round < 10_000 && seen.size < 2; round++) {
    for (const tid of await Promise.all([pool.run('threadTid'), pool.run('threadTid')])) seen.add(tid)
  }
  if (seen.size < 2) throw new Error('could not find both Workers')
  return [...seen]
}

/** At most 1,024 echo tasks in flight, each answer issuing the next. */
function stream(pool, n) {
  return pump(pool, 'echo', n, 1024, (i) => i, (v, i) => (v === i ? null : `gave ${v}`))
}

async function oneAtATime(pool, n) {
  for (let i = 0; i < n; i++) {
    const v = await pool.run('echo', i)
    if (v !== i) throw new Error(`echo(${i}) gave ${v}`)
  }
}

// 1 MiB in with a distinct byte at each 4 KiB block's start, for bytesOut's answer to be checked.
const BYTES_IN = Buffer.alloc(1 << 20)
for (let i = 0; i < BYTES_IN.length; i += 4096) BYTES_IN[i] = i / 4096

/** 1 MiB Buffer in, a new 1 MiB Buffer out (`bytesOut`, which complements each block), 8 in flight. */
function bytes(pool, n) {
  const check = (out) => (out.length === BYTES_IN.length && out[4096 * 7] === (~7 & 0xff) ? null : 'a wrong answer')
  return pump(pool, 'bytesOut', n, 8, () => ({ data: BYTES_IN }), check)
}

async function measure(name) {
  const pool = await require(`./systems/${name}`).create({ threads: 2 })
  const tids = await workerTids(pool)
  const out = {}
  for (const [row, drive, n] of [['stream', stream, TASKS], ['one at a time', oneAtATime, TASKS / 10], ['1 MiB', bytes, BYTES]]) {
    await drive(pool, Math.ceil(n / 10)) // warm-up
    const before = [threadCpu(process.pid), ...tids.map(threadCpu)]
    const t0 = performance.now()
    await drive(pool, n)
    const ms = performance.now() - t0
    const after = [threadCpu(process.pid), ...tids.map(threadCpu)]
    const main = (after[0] - before[0]) / n
    const workers = (after[1] - before[1] + after[2] - before[2]) / n
    out[row] = { main, workers, rate: n / (ms / 1000) }
  }
  await pool.close()
  return out
}

if (process.argv[2] === '--child') {
  measure(process.argv[3]).then((r) => process.send(r), (err) => process.send({ error: String(err.stack) }))
} else {
  ;(async () => {
    const load = require('node:os').loadavg()[0].toFixed(2)
    const rows = []
    for (const name of SYSTEMS) {
      const child = fork(__filename, ['--child', name, '--tasks', String(TASKS)])
      const r = await new Promise((resolve) => child.on('message', resolve))
      child.kill()
      if (r.error) throw new Error(`${name}: ${r.error}`)
      rows.push([name, r])
    }
    console.log(`CPU per task; empty (echo): ${TASKS} streamed, ${TASKS / 10} one at a time; 1 MiB in + out (bytesOut): ${BYTES}, 8 in flight; 2 Workers; load ${load} at the start`)
    console.log('| system | stream: main thread | stream: Workers | stream: tasks/s | one at a time: main thread | one at a time: Workers | one at a time: calls/s | 1 MiB: main thread | 1 MiB: Workers | 1 MiB: tasks/s |')
    console.log('|---|---|---|---|---|---|---|---|---|---|')
    const us = (v) => `${v.toFixed(2)} µs`
    for (const [name, r] of rows) {
      const s = r.stream
      const o = r['one at a time']
      const b = r['1 MiB']
      console.log(`| ${name} | ${us(s.main)} | ${us(s.workers)} | ${Math.round(s.rate)} | ${us(o.main)} | ${us(o.workers)} | ${Math.round(o.rate)} | ${us(b.main)} | ${us(b.workers)} | ${Math.round(b.rate)} |`)
    }
  })().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
