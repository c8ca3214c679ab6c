'use strict'
// Runs a measurement in a fresh Node process, so that it starts from a clean heap, a cold pool and an
// untouched libuv thread pool. The child prints one JSON line last; anything else goes to the log.

const { execFile } = require('node:child_process')
const path = require('node:path')

function runChild(script, args = [], { execArgv = [], env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...execArgv, path.join(__dirname, '..', 'children', script), ...args.map(String)],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop()
        let parsed = null
        try {
          parsed = JSON.parse(last)
        } catch {}
        if (parsed && parsed.error) return reject(new Error(parsed.error))
        if (err || !parsed) {
          const why = (stderr || stdout || String(err)).trim().split('\n').slice(-3).join(' | ')
          return reject(new Error(`${script} ${args.join(' ')}: ${why}`))
        }
        resolve(parsed)
      },
    )
  })
}

module.exports = { runChild }
