'use strict'
// What `scripts/memcheck.js` runs under valgrind: a small, bounded tour of every path where the addon
// touches JS memory or another thread's. Values go in and out (objects, strings, Buffers, typed
// arrays, BigInts), messages, cancellation, timeouts, panics, bad arguments, batches of completions,
// destroy with jobs queued, and worker_threads Workers that share the pool and are terminated with jobs
// in flight (the orphan path). Each check compares with an independent reference (node:crypto,
// node:zlib, the JS loop, the input itself) and the script ends with `N passed, N failed`.
//
// Plain node rather than jest: under valgrind, jest's start-up alone (thousands of modules through
// its transform) costs minutes on 2 cores, and it adds nothing the checks need.

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const zlib = require('node:zlib')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')

const ROOT = path.join(__dirname, '..')
// The test-only tasks (__panic, __spin), read when the addon loads (Workers inherit it).
process.env.NATIVE_POOL_TEST_TASKS = '1'

if (!isMainThread) {
  // A Worker: queue work on the shared pool, report the results it got, then keep jobs in flight for
  // the parent to terminate us in the middle of.
  const { Pool } = require(ROOT)
  const pool = Pool.shared()
  Promise.all([pool.run('echo', { from: workerData.index }), pool.run('sum', { iterations: 1000 })]).then(
    ([echoed, sum]) => {
      for (let i = 0; i < 50; i++) pool.run('sleep', { ms: 5 }).catch(() => {})
      const spinning = pool.spawn('__spin', null)
      spinning.once('message', () => parentPort.postMessage({ echoed, sum }))
      spinning.result.catch(() => {})
    },
  )
  return
}

const { Pool } = require(ROOT)

const results = { passed: 0, failed: 0 }
async function check(name, fn) {
  try {
    await fn()
    results.passed += 1
    console.log(`ok - ${name}`)
  } catch (e) {
    results.failed += 1
    console.log(`not ok - ${name}\n${e && e.stack ? e.stack : e}`)
  }
}

const jsSum = (n) => {
  let t = 0
  for (let i = 0; i < n; i++) t += i
  return t
}

async function main() {
  const pool = new Pool({ threads: 2 })

  await check('echo returns every kind of value unchanged', async () => {
    const values = [
      null,
      true,
      0,
      -1.5,
      2n ** 70n,
      'a string with ünïcode',
      'x'.repeat(10000),
      [1, [2, [3, { four: 4 }]]],
      { nested: { list: [1, 'two', null], flag: false } },
    ]
    for (const v of values) assert.deepEqual(await pool.run('echo', v), v)
  })

  await check('Buffers and typed arrays cross both ways without corruption', async () => {
    const buf = crypto.randomBytes(64 * 1024)
    const u16 = new Uint16Array([1, 2, 65535])
    assert.deepEqual(Buffer.from(await pool.run('echo', buf)), buf)
    assert.deepEqual(Array.from(await pool.run('echo', u16)), [1, 2, 65535])
    const view = new Uint8Array(buf.buffer, buf.byteOffset + 7, 1000)
    const digest = await pool.run('hash', { algorithm: 'sha256', data: view })
    assert.deepEqual(Buffer.from(digest), crypto.createHash('sha256').update(view).digest())
  })

  await check('hash and hmac match node:crypto', async () => {
    const data = crypto.randomBytes(100000)
    for (const algorithm of ['md5', 'sha1', 'sha512', 'sha3-256', 'blake2b512']) {
      const ours = await pool.run('hash', { algorithm, data, encoding: 'hex' })
      assert.equal(ours, crypto.createHash(algorithm).update(data).digest('hex'), algorithm)
    }
    const mac = await pool.run('hmac', { algorithm: 'sha256', key: 'k', data: 'message', encoding: 'base64' })
    assert.equal(mac, crypto.createHmac('sha256', 'k').update('message').digest('base64'))
  })

  await check('gzip interoperates with node:zlib both ways', async () => {
    const text = Buffer.from('native-pool memcheck '.repeat(5000))
    assert.deepEqual(zlib.gunzipSync(await pool.run('gzip', { data: text })), text)
    assert.deepEqual(Buffer.from(await pool.run('gunzip', { data: zlib.gzipSync(text) })), text)
    await assert.rejects(pool.run('gunzip', { data: Buffer.from('not gzip') }), { code: 'ERR_TASK_FAILED' })
  })

  await check('a spawned task posts every progress message before its exit', async () => {
    const handle = pool.spawn('sum', { iterations: 100000 })
    const progress = []
    handle.on('message', (m) => progress.push(m.progress))
    const exit = new Promise((resolve) => handle.once('exit', resolve))
    assert.equal(await handle.result, jsSum(100000))
    assert.equal(await exit, 0)
    assert.equal(progress.length, 100)
    assert.equal(progress[99], 1)
  })

  await check('a thousand completions in flight all settle with their own values', async () => {
    const out = await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.run('echo', { i })))
    out.forEach((v, i) => assert.deepEqual(v, { i }))
  })

  await check('cancel, abort and timeout reject with their codes, queued or running', async () => {
    const running = pool.spawn('sleep', { ms: 60000 })
    const queued = [pool.spawn('sleep', { ms: 60000 }), pool.spawn('sleep', { ms: 60000 })]
    const controller = new AbortController()
    const aborted = pool.run('sleep', { ms: 60000 }, { signal: controller.signal })
    // Every rejection is expected before any is awaited: none may go unhandled meanwhile.
    const expected = [running, ...queued].map((h) => assert.rejects(h.result, { code: 'ABORT_ERR' }))
    expected.push(assert.rejects(aborted, { code: 'ABORT_ERR' }))
    running.cancel()
    queued.forEach((h) => h.cancel())
    controller.abort()
    await Promise.all(expected)
    await assert.rejects(pool.run('sleep', { ms: 60000 }, { timeout: 20 }), { code: 'ERR_TASK_TIMEOUT' })
  })

  await check('a panic and a bad argument reject that task only', async () => {
    await assert.rejects(pool.run('__panic', { message: 'memcheck' }), { code: 'ERR_TASK_PANICKED' })
    await assert.rejects(pool.run('fib', { n: 'ten' }), { code: 'ERR_INVALID_ARG' })
    await assert.rejects(pool.run('no such task', {}), { code: 'ERR_UNKNOWN_TASK' })
    assert.equal(await pool.run('fib', { n: 20 }), 6765)
  })

  await check('destroy rejects what is queued and cancels what runs', async () => {
    const doomed = new Pool({ threads: 1 })
    const jobs = Array.from({ length: 20 }, () => doomed.run('sleep', { ms: 60000 }))
    const settled = Promise.allSettled(jobs)
    await doomed.destroy()
    for (const r of await settled) {
      assert.equal(r.status, 'rejected')
      assert.equal(r.reason.code, 'ERR_POOL_CLOSED')
    }
  })

  await check('Workers share the pool, and terminating them with jobs in flight leaves it serving', async () => {
    const workers = [0, 1].map((index) => new Worker(__filename, { workerData: { index } }))
    const replies = await Promise.all(
      workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))),
    )
    replies.forEach((r, index) => assert.deepEqual(r, { echoed: { from: index }, sum: jsSum(1000) }))
    await Promise.all(workers.map((w) => w.terminate()))
    assert.equal(await Pool.shared().run('echo', 'still here'), 'still here')
  })

  await check('JS tasks: Buffers lent to a Worker and detached, a throw, a Worker that exits', async () => {
    const modules = [path.join(ROOT, '__test__', 'fixtures', 'js-tasks', 'tasks.js')]
    const scripts = new Pool({ threads: 1, modules, workers: 1 })
    const data = crypto.randomBytes(32 * 1024)
    const incremented = await scripts.run('increment', { data })
    assert.deepEqual(Buffer.from(incremented), Buffer.from(data.map((b) => (b + 1) & 0xff)))
    assert.equal(await scripts.run('keepInput', { data }), data.length)
    assert.equal(await scripts.run('keptLength'), 0) // detached when its task ended
    await assert.rejects(scripts.run('fail', { message: 'planned' }), { code: 'ERR_TASK_FAILED' })
    await assert.rejects(scripts.run('exitProcess'), { code: 'ERR_TASK_FAILED' })
    assert.equal(await scripts.run('performTask', 1000), jsSum(1000))
    await scripts.close()
  })

  await pool.close()
  await Pool.shared().close()
  console.log(`${results.passed} passed, ${results.failed} failed`)
  process.exitCode = results.failed === 0 ? 0 : 1
}

main()
