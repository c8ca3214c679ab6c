'use strict'
// The machine and software a run measured: recorded in every results file so numbers are never read
// without their context.

const os = require('node:os')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..', '..')

function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return 'not installed'
  }
}

function machine() {
  const cpus = os.cpus()
  const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  return {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGB: +(os.totalmem() / 1e9).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE || 4),
    rustc: tryExec('rustc', ['--version']),
    commit: tryExec('git', ['rev-parse', '--short', 'HEAD']),
    // The report this run is about to write does not count as a change to what was measured.
    dirty: (tryExec('git', ['status', '--porcelain', '--', '.', ':!benchmark/RESULTS.md']) || '') !== '',
    packages: {
      'native-pool': own.version,
      piscina: pkgVersion('piscina'),
      tinypool: pkgVersion('tinypool'),
      workerpool: pkgVersion('workerpool'),
      bcrypt: pkgVersion('bcrypt'),
      bcryptjs: pkgVersion('bcryptjs'),
    },
    loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
  }
}

module.exports = { machine }
