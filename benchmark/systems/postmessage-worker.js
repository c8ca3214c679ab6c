'use strict'
// The minimal pool's Worker: one message in ({ id, name, arg }), one message out ({ id, value }).
const { parentPort } = require('node:worker_threads')
const tasks = require('./js-tasks')

parentPort.on('message', ({ id, name, arg }) => parentPort.postMessage({ id, value: tasks[name](arg) }))
