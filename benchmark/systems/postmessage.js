'use strict'
// The transport alone: a minimal promise-per-task pool over postMessage. Two (`threads`) Workers,
// round-robin, every task posted at once as { id, name, arg }, a Map of resolvers. No queue, no
// cancellation, no errors: what any pool's per-task cost is measured against.

const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { unavailable } = require('./js-pool-common')

module.exports = {
  name: 'postMessage pool',
  kind: 'js-pool',
  unavailable,
  version: () => process.version,
  async create({ threads }) {
    const workers = Array.from({ length: threads }, () => new Worker(path.join(__dirname, 'postmessage-worker.js')))
    const resolvers = new Map()
    let nextId = 0
    for (const w of workers) w.on('message', ({ id, value }) => {
      resolvers.get(id)(value)
      resolvers.delete(id)
    })
    const run = (name, arg) => new Promise((resolve) => {
      const id = nextId++
      resolvers.set(id, resolve)
      workers[id % workers.length].postMessage({ id, name, arg })
    })
    return { run, close: () => Promise.all(workers.map((w) => w.terminate())) }
  },
}
