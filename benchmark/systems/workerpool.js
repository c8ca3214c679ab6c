'use strict'
// workerpool on worker_threads with a fixed number of workers (minWorkers = maxWorkers).

const path = require('node:path')
const { packageVersion, unavailable, barrierProbe } = require('./js-pool-common')

module.exports = {
  name: 'workerpool',
  kind: 'js-pool',
  unavailable,
  version: () => packageVersion('workerpool'),
  async create({ threads }) {
    const workerpool = require('workerpool')
    const pool = workerpool.pool(path.join(__dirname, 'workerpool-worker.js'), {
      minWorkers: threads,
      maxWorkers: threads,
      workerType: 'thread',
    })
    // workerpool returns its own Promise type; wrap it so callers get a native one.
    const run = (task, args) => Promise.resolve(pool.exec(task, [args]))
    return {
      run,
      unavailable,
      startup: (parties) => barrierProbe(run, parties),
      close: () => pool.terminate(),
    }
  },
}
