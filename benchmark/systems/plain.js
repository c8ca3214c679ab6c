'use strict'
// The pool a Node developer writes by hand: N worker_threads, a FIFO queue, one task per worker at a
// time, postMessage in and out (structured clone, no transfer lists).

const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { unavailable, barrierProbe } = require('./js-pool-common')

class PlainPool {
  constructor(threads) {
    this.idle = []
    this.queue = []
    this.pending = new Map()
    this.nextId = 0
    this.workers = []
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(path.join(__dirname, 'plain-worker.js'))
      worker.on('message', (msg) => this.#settle(worker, msg))
      worker.on('error', (err) => {
        for (const { reject } of this.pending.values()) reject(err)
        this.pending.clear()
      })
      this.workers.push(worker)
      this.idle.push(worker)
    }
  }

  run(name, args) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, { resolve, reject })
      const worker = this.idle.pop()
      if (worker) worker.postMessage({ id, name, args })
      else this.queue.push({ id, name, args })
    })
  }

  #settle(worker, { id, ok, value, message }) {
    const next = this.queue.shift()
    if (next) worker.postMessage(next)
    else this.idle.push(worker)
    const p = this.pending.get(id)
    this.pending.delete(id)
    if (ok) p.resolve(value)
    else p.reject(new Error(message))
  }

  close() {
    return Promise.all(this.workers.map((w) => w.terminate()))
  }
}

module.exports = {
  name: 'worker_threads',
  kind: 'js-pool',
  unavailable,
  version: () => `node ${process.versions.node}`,
  async create({ threads }) {
    const pool = new PlainPool(threads)
    const run = (task, args) => pool.run(task, args)
    return {
      run,
      unavailable,
      startup: (parties) => barrierProbe(run, parties),
      close: () => pool.close(),
    }
  },
}
