// The packed app's ESM script: `import` native-pool (its index.mjs) and check the same behaviours
// as the jest suite, one `ok - …` / `not ok - …` line per check, counted by scripts/test-packed.js.
import crypto from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { Pool, codes } from 'native-pool'

const jsSum = (n) => {
  let t = 0
  for (let i = 0; i < n; i++) t += i
  return t
}

let failed = 0
async function check(name, fn) {
  try {
    await fn()
    console.log(`ok - ${name}`)
  } catch (err) {
    failed += 1
    console.log(`not ok - ${name}: ${err && err.stack}`)
  }
}
function equal(actual, expected) {
  if (actual !== expected) throw new Error(`expected ${String(expected)}, got ${String(actual)}`)
}

const pool = new Pool({ threads: 2 })

await check('esm: run resolves with the sum a JS loop computes', async () => {
  equal(await pool.run('sum', { iterations: 99999 }), jsSum(99999))
})

await check('esm: spawn posts progress up to 1 before exit 0', async () => {
  const task = pool.spawn('sum', { iterations: 1e6 })
  const progress = []
  task.on('message', (m) => progress.push(m.progress))
  const exit = new Promise((resolve) => task.on('exit', resolve))
  equal(await task.result, jsSum(1e6))
  equal(await exit, 0)
  equal(progress.length > 1, true)
  equal(progress[progress.length - 1], 1)
})

await check('esm: sha256 matches node:crypto', async () => {
  const data = crypto.randomBytes(100000)
  equal(await pool.run('hash', { algorithm: 'sha256', data, encoding: 'hex' }), crypto.createHash('sha256').update(data).digest('hex'))
})

await check('esm: unknown task rejects with ERR_UNKNOWN_TASK', async () => {
  const err = await pool.run('no-such-task', {}).then(() => null, (e) => e)
  equal(err && err.code, codes.ERR_UNKNOWN_TASK)
})

await check('esm: a worker_threads Worker uses Pool.shared()', async () => {
  const r = await new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { iterations: 777, text: 'esm' } })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  equal(r.error, undefined)
  equal(r.sum, jsSum(777))
  equal(r.sha256, crypto.createHash('sha256').update('esm').digest('hex'))
})

await pool.close()
process.exitCode = failed === 0 ? 0 : 1
