'use strict'
// BullMQ's own sandboxed processor for benchmark/bullmq.js: BullMQ runs this file in child processes
// (`new Worker(queue, thisFile)`), one job at a time per child. The same jobs as the native tasks,
// in JavaScript: sha256 with node:crypto, sum by the JS loop, echo.

const crypto = require('node:crypto')

module.exports = async (job) => {
  const { data } = job
  if (job.name === 'hash') return crypto.createHash(data.algorithm).update(data.data).digest(data.encoding)
  if (job.name === 'sum') {
    let total = 0
    for (let i = 0; i < data.iterations; i++) total += i
    return total
  }
  if (job.name === 'echo') return data
  throw new Error(`unknown job name ${job.name}`)
}
