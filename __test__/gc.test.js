'use strict'
// Large results and the caller's garbage collector: a Buffer the addon makes over its own memory
// counts only toward V8's external-memory limit, whose crossing starts a full mark-compact, unless V8
// is given a look at its young generation (src/binding/js.rs, `young_gc_hint`). A caller that
// receives 1 MiB results and drops them must see them freed by young-generation collections
// (scavenges), not one mark-compact per ~70 MiB. And the large blocks those results free are kept for
// the next results only while jobs are pending (src/binding/alloc.rs). Each check runs in a child
// process, whose heap holds nothing else; the GCs are counted with perf_hooks' 'gc' entries.

const { runNode } = require('./helpers')

/**
 * In a child: runs `setup` (which defines `pool`, and `next(i)` giving a 1 MiB result's promise),
 * then `count` calls of `next`, four at a time, each result checked and dropped; gives the GCs seen.
 */
async function gcCounts(setup, count) {
  const out = await runNode(`
    const { PerformanceObserver, constants } = require('node:perf_hooks')
    const { Pool } = require('.')
    const zlib = require('node:zlib')
    const counts = { major: 0, minor: 0 }
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++
        else if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++
      }
    })
    ;(async () => {
      ${setup}
      observer.observe({ entryTypes: ['gc'] })
      let issued = 0
      const lane = async () => {
        while (issued < ${count}) {
          const i = issued++
          const out = await next(i)
          if (!Buffer.isBuffer(out) || out.length !== 1 << 20) throw new Error('wrong result ' + i)
        }
      }
      await Promise.all([lane(), lane(), lane(), lane()])
      // The observer's entries arrive asynchronously: one more turn of the loop delivers them.
      await new Promise((resolve) => setImmediate(resolve))
      observer.disconnect()
      await pool.close()
      console.log(JSON.stringify(counts))
    })().catch((err) => { console.error(err); process.exit(1) })
  `)
  expect(out).toMatchObject({ code: 0, killed: false })
  return JSON.parse(out.stdout)
}

test('1 MiB results of a native task, received and dropped, are freed by scavenges, not mark-compacts', async () => {
  // 400 results of 1 MiB: about six mark-compacts without the hint (one per ~70 MiB), none with it.
  const counts = await gcCounts(
    `const pool = new Pool({ threads: 2 })
     const gz = zlib.gzipSync(Buffer.alloc(1 << 20, 7), { level: 1 })
     const next = () => pool.run('gunzip', { data: gz })`,
    400,
  )
  expect(counts.major).toBeLessThanOrEqual(1)
  expect(counts.minor).toBeGreaterThanOrEqual(3)
})

test('1 MiB results of a JS task, received and dropped, are freed by scavenges, not mark-compacts', async () => {
  const tasks = require('node:path').join(__dirname, 'fixtures', 'js-tasks', 'tasks.js')
  const counts = await gcCounts(
    `const pool = new Pool({ threads: 1, workers: 2, modules: [${JSON.stringify(tasks)}] })
     await pool.tasks()
     const data = Buffer.alloc(1 << 20, 1)
     const next = () => pool.run('increment', { data })`,
    400,
  )
  expect(counts.major).toBeLessThanOrEqual(1)
  expect(counts.minor).toBeGreaterThanOrEqual(3)
})

test('freed large result blocks are kept for the next results while jobs are pending, and released once none is', async () => {
  const out = await runNode(`
    const { Pool } = require('.')
    const { native } = require('./lib/native.js')
    const zlib = require('node:zlib')
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    ;(async () => {
      const pool = new Pool({ threads: 2 })
      const gz = zlib.gzipSync(Buffer.alloc(1 << 20, 7), { level: 1 })
      // A job that stays pending: this environment is not idle while it runs.
      const holder = pool.spawn('sleep', { ms: 60000 })
      let results = []
      for (let i = 0; i < 8; i++) results.push(await pool.run('gunzip', { data: gz }))
      if (!results.every((r) => r.length === 1 << 20)) throw new Error('wrong result')
      results = null
      global.gc()
      // External buffers are freed from an immediate after the collection.
      for (let i = 0; i < 5; i++) await turn()
      const whilePending = native.keptLargeBlocks()
      holder.cancel()
      await holder.result.catch(() => {})
      const whenIdle = native.keptLargeBlocks()
      await pool.close()
      console.log(JSON.stringify({ whilePending, whenIdle }))
    })().catch((err) => { console.error(err); process.exit(1) })
  `, { args: ['--expose-gc'] })
  expect(out).toMatchObject({ code: 0, killed: false })
  const { whilePending, whenIdle } = JSON.parse(out.stdout)
  expect(whilePending).toBeGreaterThan(0)
  expect(whenIdle).toBe(0)
})
