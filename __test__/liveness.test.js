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
