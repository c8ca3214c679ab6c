'use strict'
// The packed app's own jest suite: native-pool installed from its tarball and its per-platform
// package, with no Rust toolchain on PATH (scripts/test-packed.js sets that up). Every expected
// value comes from an independent reference: a JS loop, node:crypto, node:zlib.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { Worker } = require('node:worker_threads')
const { Pool, codes } = require('native-pool')

const TRIPLE = process.env.NATIVE_POOL_TRIPLE

const jsSum = (n) => {
  let t = 0
  for (let i = 0; i < n; i++) t += i
  return t
}

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

test('the addon loaded is the per-platform package’s, and the main package ships no .node', () => {
  // Real paths, case-folded on Windows: macOS's temp dir is behind a symlink, Windows's may be a
  // short (8.3) name, and the loaded-module list reports the long, resolved path.
  const norm = (p) => (process.platform === 'win32' ? fs.realpathSync.native(p).toLowerCase() : fs.realpathSync.native(p))
  const appModules = path.join(__dirname, 'node_modules')
  const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node')).map(norm)
  expect(loaded).toContain(norm(path.join(appModules, `native-pool-${TRIPLE}`, `native-pool.${TRIPLE}.node`)))
  const mainDir = norm(path.join(appModules, 'native-pool')) + path.sep
  expect(loaded.filter((f) => f.startsWith(mainDir))).toEqual([])
  expect(norm(require.resolve('native-pool'))).toBe(mainDir + 'index.js')
})

test('JS tasks from the installed package run on its Workers, with messages and binary data', async () => {
  const tasks = require('./js-tasks.js')
  const js = new Pool({ threads: 1, minWorkers: 0, maxWorkers: 2, modules: [path.join(__dirname, 'js-tasks.js')] })
  try {
    await expect(js.run('performTask', 100000)).resolves.toBe(tasks.performTask(100000))
    const data = crypto.randomBytes(1 << 16)
    const handle = js.spawn('digest', { data, steps: 3 })
    const steps = []
    handle.on('message', (m) => steps.push(m.step))
    const digest = await handle.result
    expect(Buffer.from(digest)).toEqual(crypto.createHash('sha256').update(data).digest())
    expect(steps).toEqual([1, 2, 3])
    const kinds = (await js.tasks()).filter((t) => t.kind === 'js').map((t) => t.name)
    expect(kinds.sort()).toEqual(['digest', 'performTask'])
  } finally {
    await js.close()
  }
})

test('run resolves with the sum a JS loop computes', async () => {
  await expect(pool.run('sum', { iterations: 123456 })).resolves.toBe(jsSum(123456))
})

test('spawn posts increasing progress messages, then exits 0 with the result', async () => {
  const task = pool.spawn('sum', { iterations: 1e6 })
  const progress = []
  let exitedAfter = -1
  task.on('message', (m) => progress.push(m.progress))
  const exit = new Promise((resolve) => task.on('exit', (code) => {
    exitedAfter = progress.length
    resolve(code)
  }))
  await expect(task.result).resolves.toBe(jsSum(1e6))
  await expect(exit).resolves.toBe(0)
  expect(progress.length).toBeGreaterThan(1)
  expect(exitedAfter).toBe(progress.length)
  for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1])
  expect(progress[progress.length - 1]).toBe(1)
})

test('hash and hmac give the bytes node:crypto gives', async () => {
  const data = crypto.randomBytes(300000)
  const key = crypto.randomBytes(32)
  const [sha256, sha512, hmac] = await Promise.all([
    pool.run('hash', { algorithm: 'sha256', data }),
    pool.run('hash', { algorithm: 'sha512', data, encoding: 'hex' }),
    pool.run('hmac', { algorithm: 'sha256', key, data, encoding: 'base64' }),
  ])
  expect(Buffer.compare(sha256, crypto.createHash('sha256').update(data).digest())).toBe(0)
  expect(sha512).toBe(crypto.createHash('sha512').update(data).digest('hex'))
  expect(hmac).toBe(crypto.createHmac('sha256', key).update(data).digest('base64'))
})

test('gzip output is read back by node:zlib, and zlib output by gunzip', async () => {
  const text = Buffer.from('native-pool packed app '.repeat(5000))
  const ours = await pool.run('gzip', { data: text })
  expect(Buffer.compare(zlib.gunzipSync(ours), text)).toBe(0)
  const back = await pool.run('gunzip', { data: zlib.gzipSync(text) })
  expect(Buffer.compare(back, text)).toBe(0)
})

test('a bad run rejects with a stable code', async () => {
  await expect(pool.run('no-such-task', {})).rejects.toMatchObject({ code: codes.ERR_UNKNOWN_TASK })
  await expect(pool.run('sum', { iterations: -1 })).rejects.toMatchObject({ code: codes.ERR_INVALID_ARG, field: 'iterations' })
})

test('worker_threads Workers share Pool.shared() and get what node:crypto and a JS loop give', async () => {
  const inputs = [{ iterations: 1000, text: 'first' }, { iterations: 54321, text: 'second' }]
  const results = await Promise.all(inputs.map((workerData) => new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData })
    worker.once('message', resolve)
    worker.once('error', reject)
  })))
  results.forEach((r, i) => {
    expect(r).toEqual({
      sum: jsSum(inputs[i].iterations),
      sha256: crypto.createHash('sha256').update(inputs[i].text).digest('hex'),
    })
  })
})
