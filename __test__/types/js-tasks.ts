// Type-checked by `npm run test:types`: a pool typed from its JS-task module. Each `@ts-expect-error`
// line must be an error, or tsc fails on the unused directive.
import { Pool, type JsTaskContext } from '../..'

async function main(): Promise<void> {
  const pool = new Pool<typeof import('../fixtures/js-tasks/tasks.js')>({
    modules: ['__test__/fixtures/js-tasks/tasks.js', { path: 'x.js', prefix: 'x_' }, new URL('file:///tmp/t.mjs')],
    workers: 2,
    graceTime: 500,
  })
  const total: number = await pool.run('performTask', 1e6)
  const f: number = await pool.run('fibonacci', 20)
  const later: unknown = await pool.run('delayed', { ms: 1, value: 2 })
  const native: number | bigint = await pool.run('sum', { iterations: 10 })
  const handle = pool.spawn('sumWithProgress', { iterations: 100 }, { timeout: 1000 })
  const result: number = await handle.result
  handle.on('message', (m: unknown) => void m)

  // @ts-expect-error: performTask takes a number
  pool.run('performTask', '1e6')
  // @ts-expect-error: performTask resolves with a number, not a string
  const wrong: string = await pool.run('performTask', 10)
  // @ts-expect-error: not a task of the module (nor a native one)
  pool.run('performTasks', 1)
  // @ts-expect-error: notAFunction is not a function, so not a task
  pool.run('notAFunction', 1)
  // @ts-expect-error: workers is a number
  new Pool({ modules: ['a.js'], workers: 'two' })
  const growing = new Pool({ modules: ['a.js'], minWorkers: 0, maxWorkers: 4, idleTimeout: 500, resourceLimits: { maxOldGenerationSizeMb: 64 } })
  const max: number = growing.options.maxWorkers
  // @ts-expect-error: resourceLimits takes worker_threads' limits
  new Pool({ modules: ['a.js'], resourceLimits: { heapMb: 64 } })
  void max

  const fn = (args: { n: number }, ctx: JsTaskContext): number => {
    ctx.post({ progress: 0.5 })
    ctx.throwIfAborted()
    return ctx.aborted || ctx.signal.aborted ? 0 : args.n + ctx.id
  }
  void [total, f, later, native, result, wrong, fn]
  const list = await pool.tasks()
  const kinds: Array<'native' | 'js'> = list.map((t) => t.kind)
  void kinds
  await pool.close()
}

void main
