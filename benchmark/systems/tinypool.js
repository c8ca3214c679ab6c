'use strict'
// tinypool (ESM only, loaded with import()) with a fixed number of threads, default options otherwise.

const { TASKS_FILE, packageVersion, unavailable, barrierProbe } = require('./js-pool-common')

module.exports = {
  name: 'tinypool',
  kind: 'js-pool',
  unavailable,
  version: () => packageVersion('tinypool'),
  async create({ threads }) {
    const { Tinypool } = await import('tinypool')
    const pool = new Tinypool({ filename: TASKS_FILE, minThreads: threads, maxThreads: threads })
    const run = (task, args) => pool.run(args, { name: task })
    return {
      run,
      unavailable,
      startup: (parties) => barrierProbe(run, parties),
      close: () => pool.destroy(),
    }
  },
}
