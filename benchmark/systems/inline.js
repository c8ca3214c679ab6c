'use strict'
// The main thread doing the work itself, one task after another: the baseline every pool must beat
// on CPU work, and the event-loop blocking every pool exists to avoid. `threads` does not apply.

const tasks = require('./js-tasks')
const { unavailable } = require('./js-pool-common')

const inlineUnavailable = (task) => (task === 'barrier' ? 'the main thread has no threads to start' : unavailable(task))

function run(task, args) {
  try {
    return Promise.resolve(tasks[task](args))
  } catch (err) {
    return Promise.reject(err)
  }
}

module.exports = {
  name: 'inline',
  kind: 'inline',
  unavailable: inlineUnavailable,
  version: () => `node ${process.versions.node}`,
  async create() {
    return {
      run,
      unavailable: inlineUnavailable,
      startup: null,
      close: async () => {},
    }
  },
}
