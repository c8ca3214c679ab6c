'use strict'
// `npm run demo`: the classic worker_threads example on the pool. A sum of 1e8 iterations with a
// progress bar driven by 'message' events, as the native `sum` task and as the example's own JS
// function (`performTask`, examples/tasks.js) on the pool's Workers, and a batch of fib/primes in
// parallel, while a timer measures how responsive the main thread's event loop stays. First the same
// sum inline, to show what it replaces.

const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { Pool } = require('..')

const ITERATIONS = 1e8
const tty = process.stdout.isTTY

/** The classic example's job, on the main thread. */
function sumInline(n) {
  let total = 0
  for (let i = 0; i < n; i++) total += i
  return total
}

/** Measures the event loop while `work()` runs: Node's delay histogram, and a 10 ms ticker's longest gap. */
async function measured(work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let ticks = 0
  let last = performance.now()
  let longestGap = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    longestGap = Math.max(longestGap, now - last)
    last = now
    ticks++
  }, 10)
  histogram.enable()
  const started = performance.now()
  const result = await work()
  const ms = performance.now() - started
  // One more turn of the loop, so a block at the very end is seen by both measures.
  await new Promise((resolve) => setTimeout(resolve, 10))
  longestGap = Math.max(longestGap, performance.now() - last)
  histogram.disable()
  clearInterval(ticker)
  return { result, ms, ticks, longestGap, p99Delay: histogram.percentile(99) / 1e6 }
}

function bar(fraction) {
  const width = 40
  const full = Math.round(fraction * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(fraction * 100).toFixed(0).padStart(3)}%`
}

function report(label, m) {
  console.log(
    `${label}\n    ${m.ms.toFixed(0)} ms; event loop: ${m.ticks} ticks of a 10 ms timer, longest gap ` +
      `${m.longestGap.toFixed(1)} ms, delay p99 ${m.p99Delay.toFixed(1)} ms`,
  )
}

async function main() {
  console.log(`sum of 0 … ${ITERATIONS - 1}, then fib(32) ×4 and primes below 2e7 ×4\n`)

  // Let the timer get one tick in first, so the inline run is measured from a running loop.
  const inline = await measured(() => new Promise((resolve) => setTimeout(() => resolve(sumInline(ITERATIONS)), 0)))
  report(`inline on the main thread  = ${inline.result}`, inline)

  const pool = new Pool({ modules: [path.join(__dirname, 'tasks.js')] })
  const withProgress = (task) => async () => {
    let last = -1
    task.on('message', ({ progress }) => {
      if (tty) process.stdout.write(`\r  ${bar(progress)}`)
      else if (Math.floor(progress * 10) > last) {
        last = Math.floor(progress * 10)
        console.log(`  ${bar(progress)}`)
      }
    })
    const sum = await task.result
    if (tty) process.stdout.write('\n')
    return sum
  }
  const onPool = await measured(withProgress(pool.spawn('sum', { iterations: ITERATIONS })))
  report(`native sum on the pool (${pool.threads} threads) = ${onPool.result}`, onPool)
  if (onPool.result !== inline.result) throw new Error(`mismatch: ${onPool.result} vs ${inline.result}`)

  const js = await measured(withProgress(pool.spawn('performTaskWithProgress', ITERATIONS)))
  report(`performTask, your JS, on the pool's Workers = ${js.result}`, js)
  if (js.result !== inline.result) throw new Error(`mismatch: ${js.result} vs ${inline.result}`)
  const plain = await measured(() => pool.run('performTask', ITERATIONS))
  report(`performTask unchanged (no progress) on a Worker = ${plain.result}`, plain)

  const batch = await measured(() =>
    Promise.all([
      ...Array.from({ length: 4 }, () => pool.run('fib', { n: 32 })),
      ...Array.from({ length: 4 }, () => pool.run('primes', { limit: 2e7 })),
    ]),
  )
  report(`fib(32) ×4 = ${batch.result[0]}, primes below 2e7 ×4 = ${batch.result[4]}`, batch)

  await pool.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
