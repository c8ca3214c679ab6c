'use strict'
// The addon, loaded once per JS environment.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

/**
 * The .node file `npm run build` left in the package root for this platform, when there is exactly
 * one candidate; otherwise null, and the generated `binding.js` chooses (musl or glibc, the
 * per-platform npm packages, NAPI_RS_NATIVE_LIBRARY_PATH, WASI). Compiling and running that
 * 850-line loader cost more CPU here than mapping the addon itself (about 3.5 ms against 2 ms, in
 * a fresh process), so the common case skips it. A file that fails to load falls back to
 * `binding.js` too, which then reports every attempt.
 */
function builtAddon() {
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH || process.env.NAPI_RS_FORCE_WASI) return null
  const prefix = `native-pool.${process.platform}-${process.arch}`
  let names
  try {
    names = fs.readdirSync(ROOT).filter((name) => name.startsWith(prefix) && name.endsWith('.node'))
  } catch {
    return null
  }
  return names.length === 1 ? path.join(ROOT, names[0]) : null
}

function loadAddon() {
  const file = builtAddon()
  if (file) {
    try {
      // The same resolved filename binding.js would require, so both share one module instance
      // (__test__/setup.js enables the test tasks through binding.js).
      return require(file)
    } catch {
      // binding.js retries and reports this file's error among the others.
    }
  }
  return require('../binding.js')
}

// mimalloc, the addon's allocator, commits memory eagerly on Linux (it assumes overcommit): about a
// megabyte per pool thread that may never be used (+4.5 MB at rest for a 2-thread pool, +0.9 MB with
// lazy commit). It reads its options from the environment when the addon loads; set this one for
// that moment only, unless the user chose otherwise.
const EAGER_COMMIT = 'MIMALLOC_ARENA_EAGER_COMMIT'
const userSetting = process.env[EAGER_COMMIT]
if (userSetting === undefined) process.env[EAGER_COMMIT] = '0'
let native
try {
  native = loadAddon()
} finally {
  if (userSetting === undefined) delete process.env[EAGER_COMMIT]
}

native.init()

/** Task name → index in the addon's sorted task list. */
const taskIndex = new Map(native.taskNames().map((name, i) => [name, i]))

module.exports = { native, taskIndex }
