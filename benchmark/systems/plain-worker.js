'use strict'
// The plain worker_threads pool's worker: one message in ({ id, name, args }), one message out.
const { parentPort } = require('node:worker_threads')
const tasks = require('./js-tasks')

parentPort.on('message', ({ id, name, args }) => {
  try {
    parentPort.postMessage({ id, ok: true, value: tasks[name](args) })
  } catch (err) {
    parentPort.postMessage({ id, ok: false, message: String(err && err.stack ? err.stack : err) })
  }
})
