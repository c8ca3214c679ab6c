// Type-checked by `npm run test:types` (tsc --noEmit). Each `@ts-expect-error` line must be an error:
// if index.d.ts became too loose to catch it, tsc fails on the unused directive.
import { Pool, TaskHandle, codes, type NativePoolError, type PoolStats, type TaskInfo } from '../..'

async function main(): Promise<void> {
  const pool = new Pool({ threads: 2, maxQueue: 100 })
  const grow = new Pool({ minThreads: 0, maxThreads: 4, idleTimeout: 1000 })

  const total: number | bigint = await pool.run('sum', { iterations: 1e6 })
  const f: number | bigint = await pool.run('fib', { n: 30 })
  const primes: number = await pool.run('primes', { limit: 1000 })
  const slept: undefined = await pool.run('sleep', { ms: 1 }, { timeout: 100, priority: 2 })
  const same: { a: number } = await pool.run('echo', { a: 1 })
  const ac = new AbortController()
  await pool.run('sum', { iterations: 10 }, { signal: ac.signal })

  // @ts-expect-error: unknown task name
  pool.run('summ', { iterations: 1 })
  // @ts-expect-error: wrong argument field
  pool.run('sum', { iteration: 1 })
  // @ts-expect-error: wrong argument type
  pool.run('fib', { n: '30' })
  // @ts-expect-error: primes resolves with a number, not a string
  const wrong: string = await pool.run('primes', { limit: 10 })
  // @ts-expect-error: unknown run option
  pool.run('sum', { iterations: 1 }, { timeoutMs: 5 })
  // @ts-expect-error: unknown pool option
  new Pool({ thread: 2 })

  const task: TaskHandle<'sum'> = pool.spawn('sum', { iterations: 1e7 })
  task.on('message', (m) => {
    const p: number = m.progress
  })
  task.on('error', (err) => {
    const code: string = err.code
  })
  task.on('exit', (code: number) => {})
  // @ts-expect-error: 'exit' gives a number
  task.on('exit', (code: string) => {})
  const r: number | bigint = await task.result
  task.cancel('no longer needed')
  const id: number = task.id

  pool.on('message', ({ id, task, data }) => {})
  pool.on('online', (threadId: number) => {})
  pool.on('exit', (threadId: number, code: number) => {})
  pool.on('drain', () => {})
  pool.on('close', () => {})

  const stats: PoolStats = pool.stats()
  const p99: number = stats.runTime.p99
  const n: number = pool.threads + pool.queueSize + pool.completed
  const full: boolean = pool.needsDrain
  const tasks: TaskInfo[] = Pool.tasks()
  const shared: Pool = Pool.shared()
  const code: 'ERR_QUEUE_FULL' = codes.ERR_QUEUE_FULL

  try {
    await pool.run('sum', { iterations: -1 })
  } catch (e) {
    const err = e as NativePoolError
    const field: string | undefined = err.field
  }

  pool.unref().ref()
  await pool[Symbol.asyncDispose]()
  await grow.destroy()
  await shared.close()
}

void main
