// The same from an ES module, importing the package by its name as a user's project would
// (a package may import itself by name through its "exports"). Run by `npm test` with `node --test`.

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Pool } from 'native-pool'

const TASKS = new URL('../fixtures/js-tasks/tasks.js', import.meta.url)
const ESM = new URL('../fixtures/js-tasks/esm-tasks.mjs', import.meta.url)
const inline = createRequire(import.meta.url)('../fixtures/js-tasks/tasks.js')
const esm = await import(ESM)

const pool = new Pool({ threads: 1, workers: 1, modules: [TASKS, ESM] })
after(() => pool.close())

test('CommonJS and ES-module tasks given as file: URLs give what they give inline', async () => {
  assert.equal(await pool.run('performTask', 5000), inline.performTask(5000))
  assert.equal(await pool.run('square', 12), esm.square(12))
  assert.equal(await pool.run('greet', { name: 'node:test' }), await esm.greet({ name: 'node:test' }))
})

test('a failure carries its cause', async () => {
  await assert.rejects(pool.run('fail', { message: 'esm' }), (err) => {
    assert.equal(err.code, 'ERR_TASK_FAILED')
    assert.equal(err.cause.name, 'RangeError')
    assert.equal(err.cause.message, 'esm')
    return true
  })
})
