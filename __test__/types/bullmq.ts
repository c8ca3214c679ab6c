// Type-checks native-pool/bullmq's declarations against bullmq's own types (compiled, never run).
import { Queue } from 'bullmq'
import type { Job } from 'bullmq'
import { Pool } from '../..'
import { createWorker, createProcessor, decodeValue, encodeValue, failureCode, isRetryable, UNRECOVERABLE_CODES } from '../../bullmq'
import type { ErrorCode } from '../..'

const pool = new Pool({ threads: 2 })
const connection = { host: '127.0.0.1', port: 6379 }

const worker = createWorker('hashes', {
  connection,
  pool,
  tasks: { sha: 'hash', total: 'sum' },
  timeout: (job: Job) => (job.name === 'total' ? 5000 : undefined),
  progress: (m) => m,
  progressInterval: 50,
  retryable: (err, job) => isRetryable(err) && job.attemptsMade < 5,
  lockDuration: 10000,
})
worker.cancelJob('1', 'stop')

const processor: (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown> = createProcessor({ tasks: (job) => job.name })
void processor

async function produce(): Promise<void> {
  const queue = new Queue('hashes', { connection })
  const job = await queue.add('sha', encodeValue({ algorithm: 'sha256', data: Buffer.from('abc') }))
  const digest: Buffer = decodeValue(job.returnvalue)
  const code: ErrorCode | undefined = failureCode(job.failedReason)
  const codes: readonly ErrorCode[] = UNRECOVERABLE_CODES
  void digest
  void code
  void codes
}
void produce

// @ts-expect-error: timeout is milliseconds or a function
createWorker('q', { connection, timeout: '5s' })
