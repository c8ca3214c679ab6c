'use strict'
// piscina with a fixed number of threads (minThreads = maxThreads), default options otherwise.

const { TASKS_FILE, packageVersion, unavailable, barrierProbe } = require('./js-pool-common')

module.exports = {
  name: 'piscina',
  kind: 'js-pool',
  unavailable,
  version: () => packageVersion('piscina'),
  async create({ threads }) {
    const { Piscina } = require('piscina')
    const pool = new Piscina({ filename: TASKS_FILE, minThreads: threads, maxThreads: threads })
    const run = (task, args) => pool.run(args, { name: task })
    return {
      run,
      unavailable,
      startup: (parties) => barrierProbe(run, parties),
      close: () => pool.destroy(),
    }
  },
}
