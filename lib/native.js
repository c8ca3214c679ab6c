'use strict'
// The addon, loaded once per JS environment (the generated `binding.js` picks the right .node file).

const native = require('../binding.js')

native.init()

/** Task name → index in the addon's sorted task list. */
const taskIndex = new Map(native.taskList().map((t, i) => [t.name, i]))

module.exports = { native, taskIndex }
