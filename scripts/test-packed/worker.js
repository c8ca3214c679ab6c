'use strict'
// A worker_threads Worker of the packed app: it loads native-pool from the app's node_modules, runs
// a sum and a SHA-256 on Pool.shared() (the threads the main thread uses too) and posts the results.
const { parentPort, workerData } = require('node:worker_threads')
const { Pool } = require('native-pool')

async function main() {
  const pool = Pool.shared()
  const sum = await pool.run('sum', { iterations: workerData.iterations })
  const sha256 = await pool.run('hash', { algorithm: 'sha256', data: Buffer.from(workerData.text), encoding: 'hex' })
  parentPort.postMessage({ sum, sha256 })
}

main().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }))
