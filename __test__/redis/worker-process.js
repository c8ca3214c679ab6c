'use strict'
// One BullMQ worker process for __test__/bullmq.test.js: a pool of two threads behind
// native-pool/bullmq's createWorker, reporting what it does to the test over IPC, and obeying
// { cancel } and { close } messages (BullMQ's cancelJob works only in the process that runs the job).
// Environment: REDIS_PORT, QUEUE.

const { Pool } = require('../..')
const { createWorker, failureCode } = require('../../lib/bullmq.js')

const pool = new Pool({ threads: 2 })
const worker = createWorker(process.env.QUEUE, {
  connection: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT) },
  pool,
  // An allow-list: 'slow-sum' is the sum task under a short timeout; other names are not listed.
  tasks: { sum: 'sum', 'slow-sum': 'sum', hash: 'hash', gzip: 'gzip', gunzip: 'gunzip', sleep: 'sleep', echo: 'echo' },
  timeout: (job) => (job.name === 'slow-sum' ? 300 : undefined),
  progressInterval: 50,
  // BullMQ's job name for processedBy: lets the test tell the two processes apart from Redis alone.
  name: `worker-${process.pid}`,
  // Short locks so that a killed process's job is found stalled within a few seconds.
  lockDuration: 2000,
  stalledInterval: 1000,
})

const send = (message) => {
  if (process.connected) process.send(message)
}

worker.on('active', (job) => send({ event: 'active', jobId: job.id, pid: process.pid }))
worker.on('completed', (job) => send({ event: 'completed', jobId: job.id, pid: process.pid }))
worker.on('failed', (job, err) => send({ event: 'failed', jobId: job?.id, pid: process.pid, code: failureCode(err), name: err.name }))
worker.on('error', (err) => send({ event: 'error', pid: process.pid, message: String(err && err.message) }))

process.on('message', async (message) => {
  if (message.cancel !== undefined) {
    send({ event: 'cancel', jobId: message.cancel, found: worker.cancelJob(message.cancel, message.reason) })
  } else if (message.close) {
    await worker.close()
    await pool.close()
    process.disconnect()
  }
})

worker.waitUntilReady().then(
  () => send({ event: 'ready', pid: process.pid, concurrency: worker.concurrency, threads: pool.threads }),
  (err) => {
    send({ event: 'error', pid: process.pid, message: String(err && err.message) })
    process.exit(1)
  },
)
