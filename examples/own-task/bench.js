'use strict'
// `npm run bench`: renders per second of the same Mandelbrot kernel, as this addon's task on the pool
// and as plain JS (__test__/reference.js) on piscina, 2 threads each, one run, interleaved.
// Prints the machine's load average first: on a shared machine the numbers are only comparable
// within one run.

const os = require('node:os')
const path = require('node:path')
const { Piscina } = require('piscina')
const { Pool } = require('.')

const VIEW = { width: 400, height: 300, maxIter: 255, centerX: -0.5, centerY: 0, span: 3 }
const TASKS = 64
const THREADS = 2

async function time(label, runOne) {
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: TASKS }, runOne))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`${label.padEnd(28)} ${(TASKS / seconds).toFixed(1).padStart(8)} renders/s  (${TASKS} in ${seconds.toFixed(2)} s)`)
  return TASKS / seconds
}

async function main() {
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} CPUs`)
  console.log(`${TASKS} renders of ${VIEW.width}×${VIEW.height}, maxIter ${VIEW.maxIter}, ${THREADS} threads each`)
  // niceIncrement 0: the same CPU priority as piscina's Workers (the pool's default, 10, yields to
  // every other process, which on a shared machine measures the neighbours, not the kernel).
  const pool = new Pool({ threads: THREADS, niceIncrement: 0 })
  const piscina = new Piscina({ filename: path.join(__dirname, 'bench-worker.js'), minThreads: THREADS, maxThreads: THREADS })
  // Warm both (thread start, JIT) before timing.
  await Promise.all([pool.run('mandelbrot', VIEW), piscina.run(VIEW), piscina.run(VIEW)])
  const native = []
  const js = []
  for (let round = 0; round < 2; round++) {
    native.push(await time('native-pool (Rust task)', () => pool.run('mandelbrot', VIEW)))
    js.push(await time('piscina (same kernel in JS)', () => piscina.run(VIEW)))
  }
  const best = (xs) => Math.max(...xs)
  console.log(`best of 2: native-pool ${best(native).toFixed(1)}/s, piscina ${best(js).toFixed(1)}/s, ratio ${(best(native) / best(js)).toFixed(2)}×`)
  await pool.close()
  await piscina.destroy()
}

main()
