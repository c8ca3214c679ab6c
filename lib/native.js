'use strict'
// The addon, loaded once per JS environment: this package's own (the generated `binding.js` picks the
// right .node file), and any user's addon built with the crate API (`withAddon(path)`), each with
// its own task list.

// mimalloc, the addon's allocator, commits memory eagerly on Linux (it assumes overcommit): about a
// megabyte per pool thread that may never be used (+4.5 MB at rest for a 2-thread pool, +0.9 MB with
// lazy commit). It reads its options from the environment when the addon loads; set this one for
// that moment only, unless the user chose otherwise.
const EAGER_COMMIT = 'MIMALLOC_ARENA_EAGER_COMMIT'

/** Loads an addon with `load()` and indexes its tasks: `{ native, taskIndex }`. */
function loadAddon(load) {
  const userSetting = process.env[EAGER_COMMIT]
  if (userSetting === undefined) process.env[EAGER_COMMIT] = '0'
  let native
  try {
    native = load()
  } finally {
    if (userSetting === undefined) delete process.env[EAGER_COMMIT]
  }

  native.init()

  /** Task name → index in the addon's sorted task list. */
  const taskIndex = new Map(native.taskNames().map((name, i) => [name, i]))

  return { native, taskIndex }
}

module.exports = { ...loadAddon(() => require('../binding.js')), loadAddon }
