// Type-checked by tsc against tasks.d.ts, which `npm run build` generates from the Rust declaration
// (native-pool-types): each `@ts-expect-error` line must be an error, or tsc fails on the directive.
import ownTask = require('../..')

async function main(): Promise<void> {
  const pool = new ownTask.Pool({ threads: 1 })

  const image: Buffer = await pool.run('mandelbrot', { width: 64, height: 48, maxIter: 100, span: 0.5 })
  const task = pool.spawn('mandelbrot', { width: 8, height: 8 })
  task.on('message', (m) => console.log(m.progress.toFixed(2)))
  const bytes: Buffer = await task.result

  // @ts-expect-error: height is required
  pool.run('mandelbrot', { width: 64 })
  // @ts-expect-error: width is a number
  pool.run('mandelbrot', { width: '64', height: 48 })
  // @ts-expect-error: no such field
  pool.run('mandelbrot', { width: 64, height: 48, zoom: 2 })
  // @ts-expect-error: it resolves with a Buffer
  const wrong: string = await pool.run('mandelbrot', { width: 1, height: 1 })
  // @ts-expect-error: its messages are { progress }
  task.on('message', (m) => m.percent)

  // The built-in tasks are still there, with their hand-written types.
  const total: number | bigint = await pool.run('sum', { iterations: 10 })
  console.log(image.length, bytes.length, wrong, total)
  await pool.close()
}

void main
