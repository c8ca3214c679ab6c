// Types of native-pool. Hand-written: the generated binding.d.ts describes the private addon layer.

import { EventEmitter } from 'node:events'

/** A message posted by a long task: its progress, a fraction from 0 to 1, at every whole percent. */
export interface Progress {
  progress: number
}

/**
 * Every task by name: its argument, its result and the messages it posts. An interface, so a crate
 * that adds tasks can add their types by declaration merging:
 * `declare module 'native-pool' { interface TaskMap { myTask: { args: …; result: …; message: never } } }`.
 * `npx native-pool-types <addon.node>` writes that declaration from the addon's own task schemas.
 */
export interface TaskMap {
  /** Resolves with its argument unchanged (see the `run` overload for echo). */
  echo: { args: unknown; result: unknown; message: never }
  /** Occupies a thread for `ms` milliseconds without using CPU; cancellable. */
  sleep: { args: { ms: number }; result: undefined; message: never }
  /** Sum of 0 … iterations-1 by looping: a number, or an exact bigint past Number.MAX_SAFE_INTEGER. */
  sum: { args: { iterations: number }; result: number | bigint; message: Progress }
  /** The n-th Fibonacci number (0 ≤ n ≤ 93) by naive recursion: a number, or a bigint past 2^53. */
  fib: { args: { n: number }; result: number | bigint; message: Progress }
  /** How many primes are below `limit`. */
  primes: { args: { limit: number }; result: number; message: Progress }

  // The catalogue (docs/catalogue.md). Binary inputs are read in place, without a copy: do not
  // change them while the task runs.

  /** A message digest, identical to `crypto.createHash(algorithm)`; BLAKE3 too. */
  hash: { args: HashArgs; result: Buffer | string; message: Progress }
  /** An HMAC, identical to `crypto.createHmac(algorithm, key)`. */
  hmac: { args: HmacArgs; result: Buffer | string; message: Progress }
  /** gzip (RFC 1952), readable by `zlib.gunzip`. */
  gzip: { args: ZlibCompressArgs; result: Buffer; message: Progress }
  /** Decompresses gzip (multi-member too), as `zlib.gunzip`. */
  gunzip: { args: DecompressArgs; result: Buffer; message: Progress }
  /** zlib-wrapped deflate (RFC 1950), readable by `zlib.inflate`. */
  deflate: { args: ZlibCompressArgs; result: Buffer; message: Progress }
  /** Decompresses zlib-wrapped deflate, as `zlib.inflate`. */
  inflate: { args: DecompressArgs; result: Buffer; message: Progress }
  /** Raw deflate (RFC 1951), readable by `zlib.inflateRaw`. */
  deflateRaw: { args: ZlibCompressArgs; result: Buffer; message: Progress }
  /** Decompresses raw deflate, as `zlib.inflateRaw`. */
  inflateRaw: { args: DecompressArgs; result: Buffer; message: Progress }
  /** Brotli, readable by `zlib.brotliDecompress`. */
  brotliCompress: { args: BrotliCompressArgs; result: Buffer; message: Progress }
  /** Decompresses brotli, as `zlib.brotliDecompress`. */
  brotliDecompress: { args: DecompressArgs; result: Buffer; message: Progress }
  /** A standard Zstandard frame, read by the zstd CLI (tested) and so by Node 22.15+ `zlib.zstdDecompress`. */
  zstdCompress: { args: ZstdCompressArgs; result: Buffer; message: Progress }
  /** Decompresses one or more Zstandard frames. */
  zstdDecompress: { args: DecompressArgs; result: Buffer; message: Progress }
  /** An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), as the npm `argon2` package writes. */
  argon2Hash: { args: Argon2HashArgs; result: string; message: Progress }
  /** Whether `password` matches an argon2 PHC string; constant-time. */
  argon2Verify: { args: { password: BinaryLike; hash: string; secret?: BinaryInput }; result: boolean; message: Progress }
  /** A bcrypt hash (`$2b$10$…`), as the npm `bcrypt` and `bcryptjs` packages write. */
  bcryptHash: { args: BcryptHashArgs; result: string; message: Progress }
  /** Whether `password` matches a `$2a$` / `$2b$` / `$2y$` bcrypt hash; constant-time. */
  bcryptVerify: { args: { password: BinaryLike; hash: string }; result: boolean; message: Progress }
  /** scrypt (RFC 7914): the same bytes and parameter rules as `crypto.scrypt`. */
  scrypt: { args: ScryptArgs; result: Buffer | string; message: Progress }
}

/** Binary input: read in place, without a copy. */
export type BinaryInput = ArrayBufferView | ArrayBuffer
/** Binary input, or a string taken as its UTF-8 bytes. */
export type BinaryLike = string | BinaryInput

export type HashAlgorithm =
  | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'sha512-224' | 'sha512-256'
  | 'sha3-224' | 'sha3-256' | 'sha3-384' | 'sha3-512' | 'blake2b512' | 'blake2s256'
/** `'buffer'` (the default) resolves with a Buffer, the others with a string as `digest(encoding)` gives. */
export type DigestEncoding = 'buffer' | 'hex' | 'base64' | 'base64url'

export interface HashArgs {
  algorithm: HashAlgorithm | 'blake3'
  data: BinaryLike
  encoding?: DigestEncoding
}
export interface HmacArgs {
  algorithm: HashAlgorithm
  key: BinaryLike
  data: BinaryLike
  encoding?: DigestEncoding
}
export interface ZlibCompressArgs {
  data: BinaryLike
  /** -1 (zlib's default, 6) or 0 (store) to 9 (smallest). Default -1. */
  level?: number
}
export interface BrotliCompressArgs {
  data: BinaryLike
  /** 0 (fastest) to 11 (smallest). Default 11, as node:zlib. */
  quality?: number
  /** log2 of the window, 10 to 24. Default 22. */
  lgwin?: number
}
export interface ZstdCompressArgs {
  data: BinaryLike
  /** Negative (fastest) to 22 (smallest). Default 3. */
  level?: number
}
export interface DecompressArgs {
  data: BinaryLike
  /** Fail with ERR_TASK_FAILED once the output passes this many bytes. Default 2^30 (1 GiB), at most 2^32. */
  maxOutputLength?: number
}
export interface Argon2HashArgs {
  password: BinaryLike
  /** At least 8 bytes. Default: 16 random bytes. */
  salt?: BinaryInput
  /** A secret key (pepper), needed again to verify. */
  secret?: BinaryInput
  /** Default 'argon2id'. */
  type?: 'argon2id' | 'argon2i' | 'argon2d'
  /** Passes over memory. Default 3. */
  timeCost?: number
  /** Memory in KiB, at least 8 × parallelism, at most 4 GiB. Default 65536 (64 MiB). */
  memoryCost?: number
  /** Lanes, 1 to 255 (computed on one pool thread). Default 4. */
  parallelism?: number
  /** Bytes of hash, 4 to 1024. Default 32. */
  hashLength?: number
}
export interface BcryptHashArgs {
  /** Bytes past the 72nd are ignored, as by every bcrypt. */
  password: BinaryLike
  /** log2 of the rounds, 4 to 31. Default 10. */
  cost?: number
  /** 16 bytes, or a salt string from `bcrypt.genSalt` (which sets cost and version). Default: random. */
  salt?: string | BinaryInput
  /** Default '2b'. */
  version?: '2a' | '2b'
}
export interface ScryptArgs {
  password: BinaryLike
  salt: BinaryLike
  keylen: number
  /** CPU/memory cost, a power of two > 1. Default 16384. Alias: cost. */
  N?: number
  cost?: number
  /** Block size. Default 8. Alias: blockSize. */
  r?: number
  blockSize?: number
  /** Parallelization. Default 1. Alias: parallelization. */
  p?: number
  parallelization?: number
  /** Reject when 128 × r × (N + 2 + p) bytes exceed this. Default 32 MiB. */
  maxmem?: number
  encoding?: DigestEncoding
}

export type TaskName = keyof TaskMap
export type TaskArgs<K extends TaskName> = TaskMap[K]['args']
export type TaskResult<K extends TaskName> = TaskMap[K]['result']
export type TaskMessage<K extends TaskName> = TaskMap[K]['message']

/** The stable `err.code` values. */
export type ErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_UNKNOWN_TASK'
  | 'ERR_POOL_CLOSED'
  | 'ERR_QUEUE_FULL'
  | 'ERR_TASK_FAILED'
  | 'ERR_TASK_PANICKED'
  | 'ERR_TASK_TIMEOUT'
  | 'ABORT_ERR'

export declare const codes: { readonly [C in ErrorCode]: C }

/** What every rejection and thrown option error is. */
export interface NativePoolError extends Error {
  code: ErrorCode
  /** For ERR_INVALID_ARG: the bad field or option (`iterations`, `options.timeout`). */
  field?: string
  /**
   * For ERR_INVALID_ARG raised because reading the caller's value threw (a getter, a Proxy trap, a
   * revoked Proxy): what it threw. For an AbortError: the abort reason.
   */
  cause?: unknown
}

export interface PoolOptions {
  /** A fixed number of threads, started at once. Default: the number of CPUs. */
  threads?: number
  /** Threads kept even when idle (a growing pool; not with `threads`). Default 0. */
  minThreads?: number
  /** Threads at most (a growing pool; not with `threads`). Default: the number of CPUs. */
  maxThreads?: number
  /** Milliseconds a thread above `minThreads` (or a JS-task Worker above `minWorkers`) waits for work before it stops. Default 10000. */
  idleTimeout?: number
  /** Tasks that may wait for a thread; more are rejected with ERR_QUEUE_FULL. Default Infinity. */
  maxQueue?: number
  /**
   * How much lower the threads' CPU priority is than the process's (Linux nice, 0-19). Default 0.
   * A positive value lets the event loop win a contested CPU sooner (1-2 ms of p99 latency here
   * when the pool saturates every CPU), and also yields CPU to every other busy process in the same
   * cgroup or session, at a large cost in the pool's throughput beside them (README: "Thread priority").
   */
  niceIncrement?: number
  /** Keep run/wait-time histograms and utilization for `stats()`. Default true. */
  recordTiming?: boolean
  /**
   * JS-task modules: every exported function becomes a task run on the pool's Workers. A path
   * (relative ones resolve against `process.cwd()`), a `file:` URL, or `{ path | url, prefix?, names? }`
   * (`prefix` is put before every export's name; `names` maps export names to task names).
   */
  modules?: ReadonlyArray<string | URL | JsModule>
  /** JS-task Workers, a fixed number (needs `modules`). Default: the number of CPUs. */
  workers?: number
  /**
   * A growing set of JS-task Workers instead (needs `modules`; not with `workers`): at least this
   * many stay when idle (default 0; one starts with the pool anyway, to load the modules)...
   */
  minWorkers?: number
  /** ...and at most this many run (default: the number of CPUs); those above `minWorkers` stop after `idleTimeout` idle. */
  maxWorkers?: number
  /** Milliseconds a cancelled JS task may go on before its Worker is terminated. Default 1000. */
  graceTime?: number
  /**
   * worker_threads' resource limits for every JS-task Worker (needs `modules`). A Worker that runs
   * out of heap dies: its task rejects with ERR_TASK_FAILED and a new Worker takes its place.
   */
  resourceLimits?: import('node:worker_threads').ResourceLimits
}

/** A JS-task module with its naming. */
export type JsModule = ({ path: string; url?: never } | { url: string | URL; path?: never }) & {
  /** Put before every exported function's name. */
  prefix?: string
  /** Export name → task name. */
  names?: Record<string, string>
}

/** The second argument of a JS task function. */
export interface JsTaskContext {
  /** The task's id (`handle.id` on the caller's side). */
  readonly id: number
  /** Aborts on cancel(), the caller's signal, a timeout (reason: a TimeoutError) or destroy(). */
  readonly signal: AbortSignal
  /** A live read of the cancel flag, for synchronous loops. */
  readonly aborted: boolean
  /** Throws the abort reason once the task should stop. */
  throwIfAborted(): void
  /** A 'message' on the handle and the pool, before 'exit'. */
  post(value: unknown): void
}

/** The exported functions of a JS-task module type `M` (e.g. `typeof import('./tasks.js')`). */
export type JsTaskName<M> = { [K in keyof M]: M[K] extends (...args: any[]) => unknown ? K : never }[keyof M] & string
/** A JS task's argument: its function's first parameter. */
export type JsTaskArgs<M, K extends JsTaskName<M>> = M[K] extends (args: infer A, ...rest: any[]) => unknown ? A : never
/** A JS task's result: what its function returns, awaited. */
export type JsTaskResult<M, K extends JsTaskName<M>> = M[K] extends (...args: any[]) => infer R ? Awaited<R> : never

export interface ResolvedPoolOptions {
  minThreads: number
  maxThreads: number
  idleTimeout: number
  maxQueue: number
  niceIncrement: number
  recordTiming: boolean
  /** The JS-task modules, resolved (empty without JS tasks). */
  modules: Array<{ path: string; url?: string; prefix?: string; names?: Record<string, string> }>
  /** JS-task Workers kept when idle, and at most (both 0 without modules; equal for a fixed number). */
  minWorkers: number
  maxWorkers: number
  graceTime: number
  resourceLimits?: import('node:worker_threads').ResourceLimits
}

export interface RunOptions {
  /** Aborting rejects with an AbortError (code ABORT_ERR, cause = the reason) and stops the task. */
  signal?: AbortSignal
  /** Milliseconds from the moment the task starts running; then it is stopped (ERR_TASK_TIMEOUT). */
  timeout?: number
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number
}

export interface LatencySummary {
  count: number
  /** Milliseconds. */
  min: number
  max: number
  mean: number
  p50: number
  p90: number
  p99: number
}

export interface PoolStats {
  threads: number
  idle: number
  /** JS-task Workers attached. */
  workers: number
  running: number
  queued: number
  completed: number
  failed: number
  cancelled: number
  timedOut: number
  runTime: LatencySummary
  waitTime: LatencySummary
  /** Busy share of the threads' lifetime, from 0 to 1. */
  utilization: number
}

export interface TaskField {
  name: string
  type: string
  required: boolean
  description: string
  oneOf?: string[]
}

export interface TaskInfo {
  name: string
  kind: 'native' | 'js'
  description: string
  /** The fields of its argument object, or 'any'. */
  args: TaskField[] | 'any'
  /** Its result, as a TypeScript type. */
  result: string
}

/** A message from any task of the pool. */
export interface PoolMessage<K extends TaskName = TaskName> {
  id: number
  task: K
  data: TaskMessage<K>
}

/**
 * A spawned task, like a Worker: 'message' for each value it posts, then 'exit' once with a code
 * (0 success, 1 failure, 2 cancelled, 3 timed out). 'error' comes before 'exit' on failure, and only
 * when someone listens: `result` always carries the failure, and is never an unhandled rejection.
 */
export declare class TaskHandle<K extends TaskName = TaskName> extends EventEmitter {
  readonly id: number
  readonly task: K
  readonly result: Promise<TaskResult<K>>
  /** Removes the task from the queue, or asks it to stop if it runs; `result` rejects with an AbortError. */
  cancel(reason?: unknown): void

  on(event: 'message', listener: (message: TaskMessage<K>) => void): this
  on(event: 'error', listener: (error: NativePoolError) => void): this
  on(event: 'exit', listener: (code: number) => void): this
  once(event: 'message', listener: (message: TaskMessage<K>) => void): this
  once(event: 'error', listener: (error: NativePoolError) => void): this
  once(event: 'exit', listener: (code: number) => void): this
}

/**
 * A pool. `M` types its JS tasks from their module: `new Pool<typeof import('./tasks.js')>({ modules:
 * ['./tasks.js'] })` checks `run('performTask', …)`'s argument and result.
 */
/** A spawned JS task: like a TaskHandle, with its module's result type; messages are `unknown`. */
export interface JsTaskHandle<M, K extends JsTaskName<M>> extends EventEmitter {
  readonly id: number
  readonly task: K
  readonly result: Promise<JsTaskResult<M, K>>
  cancel(reason?: unknown): void
  on(event: 'message', listener: (message: unknown) => void): this
  on(event: 'error', listener: (error: NativePoolError) => void): this
  on(event: 'exit', listener: (code: number) => void): this
  once(event: 'message', listener: (message: unknown) => void): this
  once(event: 'error', listener: (error: NativePoolError) => void): this
  once(event: 'exit', listener: (code: number) => void): this
}

export declare class Pool<M = {}> extends EventEmitter implements AsyncDisposable {
  /** Throws TypeError / RangeError (code ERR_INVALID_ARG, `field` = the option) on a bad option. */
  constructor(options?: PoolOptions)

  /** The process-wide pool shared by the main thread and every worker_threads Worker. */
  static shared(): Pool
  /** Every registered native task. */
  static tasks(): TaskInfo[]
  /** Every task of this pool: the native ones, and its JS tasks once their modules have loaded. */
  tasks(): Promise<TaskInfo[]>

  /** Runs a task; never throws, every failure is a rejection with a `code`. */
  run<T>(task: 'echo', args: T, options?: RunOptions): Promise<T>
  run<K extends TaskName>(task: K, args: TaskArgs<K>, options?: RunOptions): Promise<TaskResult<K>>
  run<K extends JsTaskName<M>>(task: K, args: JsTaskArgs<M, K>, options?: RunOptions): Promise<JsTaskResult<M, K>>

  /** Starts a task and returns its handle; never throws. */
  spawn<K extends TaskName>(task: K, args: TaskArgs<K>, options?: RunOptions): TaskHandle<K>
  spawn<K extends JsTaskName<M>>(task: K, args: JsTaskArgs<M, K>, options?: RunOptions): JsTaskHandle<M, K>

  /** Finishes accepted tasks, stops the threads; resolves after every thread's 'exit'. */
  close(): Promise<void>
  /** Rejects queued tasks (ERR_POOL_CLOSED), cancels running ones, stops the threads. */
  destroy(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>

  /** Pending tasks keep the process alive (default). */
  ref(): this
  /** Pending tasks don't keep the process alive. An idle pool never does. */
  unref(): this

  stats(): PoolStats
  readonly threads: number
  readonly queueSize: number
  readonly completed: number
  /** True while the queue is full: the next run would be rejected with ERR_QUEUE_FULL. */
  readonly needsDrain: boolean
  readonly closed: boolean
  /** The options in force, defaults filled in (a fixed pool has minThreads = maxThreads). */
  readonly options: ResolvedPoolOptions

  on(event: 'message', listener: (message: PoolMessage) => void): this
  on(event: 'online', listener: (threadId: number) => void): this
  on(event: 'exit', listener: (threadId: number, code: number) => void): this
  on(event: 'error', listener: (error: Error) => void): this
  on(event: 'drain' | 'close', listener: () => void): this
  once(event: 'message', listener: (message: PoolMessage) => void): this
  once(event: 'online', listener: (threadId: number) => void): this
  once(event: 'exit', listener: (threadId: number, code: number) => void): this
  once(event: 'error', listener: (error: Error) => void): this
  once(event: 'drain' | 'close', listener: () => void): this
}

/** What `withAddon` returns: the same classes, running on a user's addon. */
export interface AddonClasses {
  Pool: typeof Pool
  TaskHandle: typeof TaskHandle
  codes: typeof codes
}

/**
 * The same `Pool` class running on your own addon (a `.node` built with the crate API and
 * `native_pool::addon!`): its tasks beside the built-in ones, with its own threads. Throws a
 * TypeError (`ERR_INVALID_ARG`) when `path` is not such an addon. Its tasks' types merge into
 * `TaskMap` (`npx native-pool-types <addon.node> > tasks.d.ts`).
 */
export declare function withAddon(path: string): AddonClasses
