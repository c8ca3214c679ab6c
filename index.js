'use strict'
// native-pool: run named native (Rust) tasks on a pool of threads; see README.md.

const path = require('node:path')
const { Pool, TaskHandle, definePool } = require('./lib/pool.js')
const { loadAddon } = require('./lib/native.js')
const { codes, invalidArg, describe } = require('./lib/errors.js')

/** Pool classes per user addon, by absolute path: an addon is loaded and indexed once. */
const addons = new Map()

/**
 * The same `Pool` and `TaskHandle`, running on a user's own addon (a `.node` built with the crate
 * API and `native_pool::addon!`): its tasks beside the built-in ones. Each addon has its own threads,
 * its own `Pool.shared()` and its own `Pool.tasks()`; any number of them live in one process.
 */
function withAddon(file) {
  if (typeof file !== 'string' || file === '') {
    throw invalidArg('path', `expected the path of a .node file, got ${describe(file)}`)
  }
  const resolved = path.resolve(file)
  let classes = addons.get(resolved)
  if (classes === undefined) {
    const addon = loadAddon(() => {
      const native = require(resolved)
      if (typeof native.taskNames !== 'function' || typeof native.createPool !== 'function') {
        throw invalidArg('path', `${resolved} is not an addon built with native_pool::addon!`)
      }
      return native
    })
    classes = definePool({ ...addon, addonPath: resolved })
    addons.set(resolved, classes)
  }
  return { Pool: classes.Pool, TaskHandle: classes.TaskHandle, codes }
}

module.exports = { Pool, TaskHandle, codes, withAddon }
