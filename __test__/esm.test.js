'use strict'
// The ESM entry point works: named and default exports, the same objects as CommonJS.

const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { runNode, ROOT } = require('./helpers')

test('import { Pool } from the package works and runs a task', async () => {
  const url = pathToFileURL(path.join(ROOT, 'index.mjs')).href
  const out = await runNode(
    `
    import { Pool, TaskHandle, codes } from '${url}'
    import cjs from '${url}'
    import { createRequire } from 'node:module'
    const required = createRequire(import.meta.url)('${ROOT.replace(/\\/g, '\\\\')}')
    const pool = new Pool({ threads: 1 })
    const sum = await pool.run('sum', { iterations: 1000 })
    const handle = pool.spawn('fib', { n: 10 })
    console.log(JSON.stringify({
      sum,
      fib: await handle.result,
      isHandle: handle instanceof TaskHandle,
      sameAsCjs: Pool === required.Pool && cjs.Pool === Pool,
      code: codes.ERR_POOL_CLOSED,
    }))
    await pool.close()
  `,
    { args: ['--input-type=module'] },
  )
  expect(out.stderr).toBe('')
  expect(out.code).toBe(0)
  expect(JSON.parse(out.stdout)).toEqual({ sum: 499500, fib: 55, isHandle: true, sameAsCjs: true, code: 'ERR_POOL_CLOSED' })
})

test('the package name resolves through its exports map for import and require', async () => {
  const out = await runNode(
    `
    import { Pool } from 'native-pool'
    import { createRequire } from 'node:module'
    const { Pool: P2 } = createRequire(import.meta.url)('native-pool')
    console.log(Pool === P2, await Pool.shared().run('echo', 'ok'))
  `,
    { args: ['--input-type=module'], env: { NODE_PATH: path.dirname(ROOT) } },
  )
  // Self-reference by package name works from inside the package root (cwd).
  expect(out.stderr).toBe('')
  expect(out.stdout).toBe('true ok\n')
})
