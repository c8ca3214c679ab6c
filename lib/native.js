'use strict'
// The addon, loaded once per JS environment: this package's own (the built .node, or what the
// generated `binding.js` finds: a per-platform package, NAPI_RS_NATIVE_LIBRARY_PATH), and any user's
// addon built with the crate API (`withAddon(path)`), each with its own task list.

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

/** This package's own addon: the built file when there is one, else what `binding.js` finds. */
function loadPackageAddon() {
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

/**
 * The error thrown when no addon could be loaded: it names the platform package this machine needs
 * (`native-pool-<platform>-<arch>[-<abi>]`, napi-rs's naming; `napi pre-publish` lists every published
 * one in the published package.json's `optionalDependencies`), whether one is published for it, and
 * how to build from source instead. The generated loader's own errors (one per file or package it
 * tried) stay as `cause`.
 */
function bindingNotFound(cause) {
  const pkg = require('../package.json')
  let abi = ''
  let libc = ''
  if (process.platform === 'linux') {
    // The loader's own test, simplified: a glibc Node reports its glibc version.
    libc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl'
    abi = libc === 'glibc' ? '-gnu' : '-musl'
  } else if (process.platform === 'win32') {
    abi = '-msvc'
  }
  const triple = `${process.platform}-${process.arch}${abi}`
  const expected = `${pkg.name}-${triple}`
  const prebuilt = Object.keys(pkg.optionalDependencies || {}).map((name) => name.slice(pkg.name.length + 1))
  let why
  let fromSource = '. To build it from source instead (needs Rust, https://rustup.rs): clone native-pool, run ' +
    `\`npm install\` there (it builds ${pkg.napi.binaryName}.${triple}.node), then in your app ` +
    `\`npm install /path/to/clone\` or set NAPI_RS_NATIVE_LIBRARY_PATH=/path/to/clone/${pkg.napi.binaryName}.${triple}.node`
  if (fs.existsSync(path.join(ROOT, '__test__'))) {
    // Only a clone has __test__/ beside package.json (the published package's `files` leave it out;
    // it does ship Cargo.toml and src/, for users' own addons).
    why = `this is a source checkout where ${pkg.napi.binaryName}.${triple}.node is not built yet: run \`npm run build\``
    fromSource = ''
  } else if (isInstalled(expected)) {
    why = `${expected} is installed but its binary failed to load (see the cause)`
  } else if (prebuilt.includes(triple)) {
    why = `the package ${expected} is not installed: it is an optional dependency, skipped by ` +
      '--omit=optional / --no-optional or by npm bug https://github.com/npm/cli/issues/4828; ' +
      'reinstall with optional dependencies (delete node_modules and package-lock.json if that is not enough)'
  } else {
    why = `no prebuilt package ${expected} is published for this platform (prebuilt: ${prebuilt.join(', ')})`
  }
  const err = new Error(
    `native-pool: no native addon for ${triple} (platform ${process.platform}, arch ${process.arch}` +
      `${libc ? `, libc ${libc}` : ''}): ${why}${fromSource}`,
    { cause },
  )
  err.code = 'ERR_NATIVE_ADDON_NOT_FOUND'
  return err
}

function isInstalled(name) {
  try {
    require.resolve(`${name}/package.json`)
    return true
  } catch {
    return false
  }
}

const own = loadAddon(() => {
  try {
    return loadPackageAddon()
  } catch (err) {
    throw bindingNotFound(err)
  }
})

module.exports = { ...own, loadAddon }
