'use strict'
// `npm run demo:bullmq`: a BullMQ producer and a BullMQ worker whose jobs run on native-pool's
// threads. Uses the Redis at REDIS_URL, or starts a throwaway redis-server on a free loopback port
// (installing the Debian package first if it is missing and this is root), and stops it at the end.

const crypto = require('node:crypto')
const { Queue, QueueEvents } = require('bullmq')
const { Pool } = require('..')
const { createWorker, decodeValue, failureCode } = require('native-pool/bullmq') // this package's own entry point, as an app imports it
const { startRedis } = require('../__test__/redis/server.js')

function connectionFrom(url) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
  }
}

function bar(percent) {
  const width = 30
  const filled = Math.round((percent / 100) * width)
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${percent.toFixed(0).padStart(3)}%`
}

async function main() {
  let redis = null
  let connection
  if (process.env.REDIS_URL) {
    connection = connectionFrom(process.env.REDIS_URL)
    console.log(`Redis: ${process.env.REDIS_URL} (REDIS_URL)`)
  } else {
    redis = await startRedis({ log: (line) => console.log(line) })
    connection = redis.connection
    console.log(`Redis: started redis-server on 127.0.0.1:${redis.port} (set REDIS_URL to use your own)`)
  }

  const name = `native-pool-demo-${process.pid}`
  const pool = new Pool()
  // The worker: each job's name is a task, its data the task's arguments; concurrency = pool threads.
  const worker = createWorker(name, { connection, pool, timeout: 30000 })
  // The producer side: a queue to add jobs, and QueueEvents to watch them from anywhere.
  const queue = new Queue(name, { connection })
  const events = new QueueEvents(name, { connection })
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()])
  console.log(`Worker: concurrency ${worker.concurrency} (the pool's ${pool.threads} threads)\n`)

  try {
    console.log('1. sum of 0 … 3e8-1, progress seen by the producer (QueueEvents "progress"):')
    const sum = await queue.add('sum', { iterations: 3e8 })
    const onProgress = ({ jobId, data }) => {
      if (jobId === sum.id) process.stdout.write(process.stdout.isTTY ? `\r   ${bar(data)}` : `   ${bar(data)}\n`)
    }
    events.on('progress', onProgress)
    const total = decodeValue(await sum.waitUntilFinished(events))
    events.off('progress', onProgress)
    console.log(`${process.stdout.isTTY ? '\n' : ''}   result ${total} (a BigInt: past 2^53, stored as { type: 'BigInt', value })`)
    console.log(`   closed form n(n-1)/2 = ${(300000000n * 299999999n) / 2n}\n`)

    console.log('2. 200 SHA-256 jobs of 4 KiB each, spread over the pool, checked against node:crypto:')
    const inputs = Array.from({ length: 200 }, () => crypto.randomBytes(4096))
    const started = process.hrtime.bigint()
    // Results come back on QueueEvents 'completed' (one listener for every job, wherever it ran).
    const results = new Map()
    let allDone
    const done = new Promise((resolve) => (allDone = resolve))
    const onCompleted = ({ jobId, returnvalue }) => {
      results.set(jobId, returnvalue)
      if (results.size === inputs.length) allDone()
    }
    events.on('completed', onCompleted)
    const jobs = await queue.addBulk(inputs.map((data) => ({ name: 'hash', data: { algorithm: 'sha256', data } })))
    await done
    events.off('completed', onCompleted)
    const digests = jobs.map((job) => decodeValue(results.get(job.id)))
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const same = digests.every((d, i) => d.equals(crypto.createHash('sha256').update(inputs[i]).digest()))
    console.log(`   ${digests.length} digests (Buffers, stored as { type: 'Buffer', base64 }) in ${ms.toFixed(0)} ms, all equal to node:crypto: ${same}\n`)

    console.log('3. a long job cancelled by the worker (worker.cancelJob) while it runs:')
    const long = await queue.add('sum', { iterations: 1e11 }, { attempts: 3 })
    const firstProgress = new Promise((resolve) => {
      const once = ({ jobId, data }) => {
        if (jobId !== long.id) return
        events.off('progress', once)
        resolve(data)
      }
      events.on('progress', once)
    })
    const at = await firstProgress
    worker.cancelJob(long.id, 'the demo asked')
    const failure = await long.waitUntilFinished(events).then(() => null, (err) => err)
    const stored = await queue.getJob(long.id)
    console.log(`   cancelled at ${at}%: ${failure.message}`)
    console.log(`   code ${failureCode(failure)}, state ${await stored.getState()}, attempts made ${stored.attemptsMade} of 3 (a cancellation is not retried)\n`)

    console.log('4. a bad argument fails at once with our code:')
    const bad = await queue.add('sum', { iterations: -1 }, { attempts: 3 })
    const err = await bad.waitUntilFinished(events).then(() => null, (e) => e)
    console.log(`   ${err.message}\n   code ${failureCode(err)}, attempts made ${(await queue.getJob(bad.id)).attemptsMade} of 3`)
  } finally {
    await worker.close()
    await queue.obliterate({ force: true })
    await queue.close()
    await events.close()
    await pool.close()
    if (redis !== null) await redis.stop()
  }
  console.log('\nStopped: worker, queue, pool' + (redis !== null ? ' and redis-server.' : '.'))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
