// Types of native-pool/bullmq (hand-written). Needs the optional peer dependency `bullmq`.

import type { Job, Worker, WorkerOptions } from 'bullmq'
import type { ErrorCode, Pool } from './index'

export interface PoolProcessorOptions {
  /** The pool that runs the jobs. Default: `Pool.shared()`. */
  pool?: Pool
  /**
   * Which task a job runs. Default: the task named `job.name`. A map is an allow-list: a job name it
   * does not list fails with ERR_UNKNOWN_TASK. A function returns the task name for a job.
   */
  tasks?: Record<string, string> | ((job: Job) => string | undefined)
  /**
   * Milliseconds from the moment the task starts running on a pool thread; then it is stopped and the
   * job fails with ERR_TASK_TIMEOUT (retried while attempts remain). A number for every job, or a
   * function of the job (`undefined`: no timeout). BullMQ has no job timeout of its own. Default: none.
   */
  timeout?: number | ((job: Job) => number | undefined)
  /**
   * What a task's message becomes in `job.updateProgress`. `true` (default): `{ progress: f }` as a
   * percentage `f × 100` (two decimals), a number as it is, another object encoded with `encodeValue`.
   * `false`: no progress. A function: its return value (`undefined` skips the message).
   */
  progress?: boolean | ((message: unknown) => unknown)
  /**
   * At most one `job.updateProgress` per this many milliseconds, the first one this long after the
   * task started (a shorter job sends none); the latest value wins. Default 100.
   */
  progressInterval?: number
  /**
   * Whether a failed job may be retried (while its `attempts` remain). Default `isRetryable`: not for
   * ERR_INVALID_ARG, ERR_UNKNOWN_TASK and ABORT_ERR, yes for the rest.
   */
  retryable?: (err: unknown, job: Job) => boolean
}

export type PoolWorkerOptions = PoolProcessorOptions & WorkerOptions

/**
 * A BullMQ Worker on `queueName` whose jobs run on the pool. `concurrency` defaults to the pool's
 * thread count. Throws TypeError / RangeError (code ERR_INVALID_ARG, `field`) on a bad option of ours.
 */
export declare function createWorker(queueName: string, options: PoolWorkerOptions): Worker

/** The processor `(job, token, signal)` alone, for a BullMQ Worker you construct yourself. */
export declare function createProcessor(options?: PoolProcessorOptions): (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>

/** A Buffer (or any binary view) as stored by the worker. */
export interface EncodedBuffer {
  type: 'Buffer'
  base64: string
}
/** A BigInt as stored by the worker. */
export interface EncodedBigInt {
  type: 'BigInt'
  value: string
}

/**
 * A value made storable as JSON: Buffers and binary views → `{ type: 'Buffer', base64 }`, BigInts →
 * `{ type: 'BigInt', value }`, inside arrays and plain objects too. What the worker does to results.
 */
export declare function encodeValue(value: unknown): unknown
/**
 * The inverse of `encodeValue` (and of Node's `{ type: 'Buffer', data }`), for a job's return value;
 * the worker applies it to `job.data` before running the task.
 */
export declare function decodeValue(value: unknown): any

/** The native-pool code of a failure: from `failedReason`, the Error `waitUntilFinished` rejects with, or a Job. */
export declare function failureCode(failure: string | Error | Job | { failedReason?: string } | null | undefined): ErrorCode | undefined

/** The default retry rule: false for the codes in UNRECOVERABLE_CODES, true otherwise. */
export declare function isRetryable(err: unknown): boolean

/** The codes whose jobs fail at once (as BullMQ's UnrecoverableError), whatever their attempts. */
export declare const UNRECOVERABLE_CODES: readonly ErrorCode[]
