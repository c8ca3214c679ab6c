'use strict'
// Ours, running the JS pools' own functions (js-tasks.js) as JS tasks on the pool's Workers: the
// same JavaScript as piscina & co run, fed by the native queue. Prefixed `js_`, since `echo`, `sum`
// and `fib` are also native tasks.

const path = require('node:path')
const { TASKS_FILE, unavailable } = require('./js-pool-common')

module.exports = {
  name: 'native-pool JS tasks',
  kind: 'js-pool',
  unavailable: (task) => (task === 'barrier' ? 'JS tasks take no SharedArrayBuffer' : unavailable(task)),
  version: () => require(path.join(__dirname, '..', '..', 'package.json')).version,
  async create({ threads }) {
    const { Pool } = require(path.join(__dirname, '..', '..'))
    const pool = new Pool({ threads: 1, workers: threads, modules: [{ path: TASKS_FILE, prefix: 'js_' }] })
    // The names are known once the first Worker has loaded the module: wait for it.
    await pool.tasks()
    return { run: (task, args) => pool.run(`js_${task}`, args), close: () => pool.close() }
  },
}
