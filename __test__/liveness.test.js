'use strict'
// Liveness, in child processes: an idle pool never keeps the process alive, a pending task always
// does, unref() lets it go, and a closed pool leaves nothing behind. The child's timeout is only a
// safety net: the assertions are on its exit code and output.

const { runNode } = require('./helpers')

test('a pool that is created and never closed lets the process exit by itself with 0', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 2 })
    pool.on('online', () => {})
    console.log('created')
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'created\n' })
})

test('a pool that ran tasks and was never closed lets the process exit by itself', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 2 })
    Promise.all([pool.run('sum', { iterations: 1000 }), pool.spawn('echo', 1).result]).then((r) => console.log(r.join(',')))
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: '499500,1\n' })
})

test('a pending sleep keeps the process alive until its result is printed', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 })
    pool.run('sleep', { ms: 300 }).then((v) => console.log('slept', v))
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'slept undefined\n' })
})

test('a pending task on Pool.shared() keeps the process alive too', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    Pool.shared().run('sleep', { ms: 200 }).then(() => Pool.shared().run('fib', { n: 20 })).then((v) => console.log(v))
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: '6765\n' })
})

test('unref() with a pending task lets the process exit without settling it', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 }).unref()
    pool.run('sleep', { ms: 60000 }).then(() => console.log('resolved'), () => console.log('rejected'))
    process.on('exit', () => console.log('exiting'))
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'exiting\n' })
})

test('ref() after unref() keeps the process alive again', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 }).unref()
    pool.run('sleep', { ms: 200 }).then(() => console.log('resolved'))
    pool.ref()
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'resolved\n' })
})

test('after close() the process exits by itself, nothing left open', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 2 })
    pool.run('sum', { iterations: 100 }).then(async (v) => {
      await pool.close()
      console.log('closed', v, process._getActiveHandles().length)
    })
  `)
  expect(out).toMatchObject({ code: 0, killed: false })
  expect(out.stdout).toMatch(/^closed 4950 \d+\n$/)
})

test('after destroy() with a running task the process exits by itself', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 })
    const h = pool.spawn('__spin', null)
    h.once('message', async () => {
      pool.run('echo', 1).catch((e) => console.log('queued', e.code))
      await pool.destroy()
      console.log('destroyed')
    })
    h.result.catch((e) => console.log('running', e.code))
  `)
  expect(out).toMatchObject({ code: 0, killed: false })
  expect(out.stdout.split('\n').sort()).toEqual(['', 'destroyed', 'queued ERR_POOL_CLOSED', 'running ERR_POOL_CLOSED'].sort())
})

test('destroy() after close() has completed still lets the process exit', async () => {
  const out = await runNode(
    `
    const { Pool } = require('.')
    const pool = new Pool({ threads: 1 })
    pool.close().then(() => pool.destroy()).then(() => console.log('done'))
  `,
    { timeout: 5000 },
  )
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'done\n' })
})

test('a process whose pending task panicked does not hang', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    new Pool({ threads: 1 }).run('__panic', {}).catch((e) => console.log(e.code))
  `)
  expect(out).toMatchObject({ code: 0, killed: false, stdout: 'ERR_TASK_PANICKED\n' })
})

test('process.exit() with tasks running does not crash', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const pool = new Pool({ threads: 2 })
    const h = pool.spawn('__spin', null)
    pool.run('sleep', { ms: 1e9 })
    h.once('message', () => process.exit(7))
  `)
  expect(out).toMatchObject({ code: 7, signal: null, killed: false })
})

describe('an idle pool holds nothing of its caller alive', () => {
  // The addon keeps strong references to a pool's JS objects only while it has work pending; idle,
  // they are weak. This is what lets jest (which loads the package afresh for every test file, in one
  // process when run in-band) free each file's modules even though every file used Pool.shared().
  const collect = `
    async function collected(ref) {
      for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
        await new Promise(setImmediate)
        gc()
      }
      return ref.deref() === undefined
    }
  `

  test('a pool dropped after its tasks settled is garbage-collected', async () => {
    const out = await runNode(`${collect}
      const { Pool } = require('.')
      let pool = new Pool({ threads: 1 })
      pool.run('echo', 1).then(async () => {
        const ref = new WeakRef(pool)
        pool = null
        console.log(await collected(ref))
      })
    `, { args: ['--expose-gc'] })
    expect(out).toMatchObject({ code: 0, killed: false, stdout: 'true\n' })
  })

  test('loading the package again frees the previous load: its shared handle and its modules', async () => {
    const out = await runNode(`${collect}
      const fresh = () => {
        // Forget the package's modules, as a new jest test file's module registry does (Node's own
        // registry also lists a module among its parent's children: forget it there too).
        for (const key of Object.keys(require.cache)) if (!key.includes('node_modules')) delete require.cache[key]
        const exports = require('./index.js')
        const loaded = require.cache[require.resolve('./index.js')]
        loaded.parent.children.splice(loaded.parent.children.indexOf(loaded), 1)
        return exports
      }
      let first = fresh()
      first.Pool.shared().run('sum', { iterations: 100 }).then(async (sum) => {
        const handle = new WeakRef(first.Pool.shared())
        const codes = new WeakRef(first.codes) // held by the first load's lib/errors.js, whose makeError the addon knew
        first = null
        const second = fresh()
        const again = await second.Pool.shared().run('sum', { iterations: 100 })
        console.log(sum === again, await collected(handle), await collected(codes))
      })
    `, { args: ['--expose-gc'] })
    expect(out).toMatchObject({ code: 0, killed: false, stdout: 'true true true\n' })
  })
})
