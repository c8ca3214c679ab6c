'use strict'
// `node benchmark/control.js`: what the control features cost.
// 1. Cancel latency: from abort() on a running `sum` / `sleep` task to its promise rejecting, and
//    from cancel() on a 1 GiB argon2Hash that has posted its first progress message (a fifth of its
//    memory written) to its rejection, freeing included.
// 2. The cost of statistics: empty-task throughput with recordTiming on and off, in alternating
//    rounds of the same process, reported as a ratio, with the JS thread's CPU time per task (Linux).
// Options: --trials N (cancel trials per task, default 50), --rounds N (throughput rounds per
// setting, default 6), --tasks N (empty tasks per round, default 200000), --argon2-trials N (default 10).

const { Pool } = require('..')

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const TRIALS = arg('trials', 50)
const ROUNDS = arg('rounds', 6)
const TASKS = arg('tasks', 200_000)
const ARGON2_TRIALS = arg('argon2-trials', 10)
const IN_FLIGHT = 1000

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Resolves once the pool runs a task (polled once per turn of the event loop: no timer involved). */
function running(pool) {
  return new Promise((resolve) => {
    const poll = () => (pool.stats().running > 0 ? resolve() : setImmediate(poll))
    poll()
  })
}

async function cancelLatency(pool, task, args) {
  const ms = []
  for (let i = 0; i < TRIALS; i++) {
    const controller = new AbortController()
    const result = pool.run(task, args, { signal: controller.signal })
    await running(pool)
    const t0 = performance.now()
    controller.abort()
    const err = await result.then(
      () => null,
      (e) => e,
    )
    ms.push(performance.now() - t0)
    if (err === null || err.code !== 'ABORT_ERR') throw new Error(`${task} was not aborted: ${err}`)
  }
  return summary(ms)
}

/** Like cancelLatency, but cancels each task once it has posted its first progress message. */
async function cancelAfterProgress(pool, task, args, trials) {
  const ms = []
  for (let i = 0; i < trials; i++) {
    const handle = pool.spawn(task, args)
    await new Promise((resolve) => handle.once('message', resolve))
    const t0 = performance.now()
    handle.cancel()
    const err = await handle.result.then(
      () => null,
      (e) => e,
    )
    ms.push(performance.now() - t0)
    if (err === null || err.code !== 'ABORT_ERR') throw new Error(`${task} was not cancelled: ${err}`)
  }
  return summary(ms)
}

function summary(ms) {
  ms.sort((a, b) => a - b)
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1], trials: ms.length }
}

const report = (what, l) =>
  console.log(`cancel latency, ${what} (${l.trials} trials): p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms`)

/** CPU time of the JS (main) thread alone, in ms, from /proc (Linux); null elsewhere. */
function mainThreadCpuMs() {
  try {
    const fields = require('node:fs').readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in clock ticks of 10 ms
  } catch {
    return null
  }
}

async function throughput(pool, cpu) {
  const c0 = mainThreadCpuMs()
  const t0 = performance.now()
  for (let done = 0; done < TASKS; done += IN_FLIGHT) {
    const batch = new Array(IN_FLIGHT)
    for (let j = 0; j < IN_FLIGHT; j++) batch[j] = pool.run('echo', j)
    const out = await Promise.all(batch)
    if (out[IN_FLIGHT - 1] !== IN_FLIGHT - 1) throw new Error('wrong echo result')
  }
  const rate = TASKS / ((performance.now() - t0) / 1000)
  const c1 = mainThreadCpuMs()
  if (cpu && c0 !== null && c1 !== null) cpu.push(((c1 - c0) * 1000) / TASKS)
  return rate
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function main() {
  const pool = new Pool({ threads: 2 })
  for (const [task, args] of [
    ['sum', { iterations: Number.MAX_SAFE_INTEGER }],
    ['sleep', { ms: 60_000 }],
  ]) {
    report(`running ${task}`, await cancelLatency(pool, task, args))
  }
  const argon2 = { password: 'p', memoryCost: 1 << 20, timeCost: 20, parallelism: 1 }
  report('argon2Hash at 1 GiB after its first progress message', await cancelAfterProgress(pool, 'argon2Hash', argon2, ARGON2_TRIALS))
  await pool.close()

  const on = new Pool({ threads: 2, recordTiming: true })
  const off = new Pool({ threads: 2, recordTiming: false })
  await throughput(on) // warm-up
  await throughput(off)
  const rates = { on: [], off: [] }
  const cpu = { on: [], off: [] }
  for (let r = 0; r < ROUNDS; r++) {
    rates.on.push(await throughput(on, cpu.on))
    rates.off.push(await throughput(off, cpu.off))
  }
  const [mOn, mOff] = [median(rates.on), median(rates.off)]
  console.log(
    `empty tasks (${TASKS} per round, ${IN_FLIGHT} in flight, median of ${ROUNDS}): ` +
      `recordTiming on ${Math.round(mOn)}/s, off ${Math.round(mOff)}/s, on/off = ${(mOn / mOff).toFixed(3)}`,
  )
  if (cpu.on.length > 0) {
    console.log(
      `JS-thread CPU per empty task (median): recordTiming on ${median(cpu.on).toFixed(2)} µs, off ${median(cpu.off).toFixed(2)} µs`,
    )
  }
  if (on.stats().runTime.count === 0 || off.stats().runTime.count !== 0) throw new Error('recordTiming had no effect')
  await Promise.all([on.close(), off.close()])
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
