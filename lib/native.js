'use strict'
// The addon, loaded once per JS environment (the generated `binding.js` picks the right .node file).

// mimalloc, the addon's allocator, commits memory eagerly on Linux (it assumes overcommit): about a
// megabyte per pool thread that may never be used (+4.5 MB at rest for a 2-thread pool, +0.9 MB with
// lazy commit). It reads its options from the environment when the addon loads; set this one for
// that moment only, unless the user chose otherwise.
const EAGER_COMMIT = 'MIMALLOC_ARENA_EAGER_COMMIT'
const userSetting = process.env[EAGER_COMMIT]
if (userSetting === undefined) process.env[EAGER_COMMIT] = '0'
let native
try {
  native = require('../binding.js')
} finally {
  if (userSetting === undefined) delete process.env[EAGER_COMMIT]
}

native.init()

/** Task name → index in the addon's sorted task list. */
const taskIndex = new Map(native.taskNames().map((name, i) => [name, i]))

module.exports = { native, taskIndex }
