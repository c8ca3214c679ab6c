'use strict'
// JS tasks (and a native task) from a test written with node:test, the way a user would: results
// against the same functions run inline, a failure's cause, messages, the pool closed at the end.
// `npm test` runs this file with `node --test` (scripts/test.js); jest does not (its testMatch is
// `*.test.js`). The file's process must exit by itself: the runner waits for it, so a pool whose
// idle Workers kept it alive would hang the step, which then fails on its timeout. The last pool
// here is left idle and never closed for that reason.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { once } = require('node:events')
const { Pool } = require('../..')

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'js-tasks')
const TASKS = path.join(FIXTURES, 'tasks.js')
const MORE = path.join(FIXTURES, 'more-tasks.js')
const inline = require(TASKS)
const more = require(MORE)

const pool = new Pool({ threads: 1, workers: 2, modules: [TASKS, MORE] })
after(() => pool.close())

/** An assert.rejects validator: ERR_TASK_FAILED whose cause has this name and message. */
function failedWith(name, message) {
  return (err) => {
    assert.equal(err.code, 'ERR_TASK_FAILED')
    assert.equal(err.cause.name, name)
    assert.equal(err.cause.message, message)
    return true
  }
}

test('JS tasks give what the same functions give inline', async () => {
  assert.equal(await pool.run('performTask', 250000), inline.performTask(250000))
  assert.equal(await pool.run('fibonacci', 20), inline.fibonacci(20))
  const value = { list: [1, 'two', null, true], nested: { big: 2n ** 70n, neg: -0.25 } }
  assert.deepEqual(await pool.run('passThrough', value), inline.passThrough(value))
  const data = Buffer.from([0, 127, 255])
  assert.deepEqual(await pool.run('increment', { data }), inline.increment({ data }))
})

test('a native task beside them gives what the JS loop gives', async () => {
  assert.equal(await pool.run('sum', { iterations: 250000 }), inline.performTask(250000))
})

test('a failing JS task rejects with ERR_TASK_FAILED; its cause is the thrown error', async () => {
  const err = await pool.run('fail', { message: 'out of range' }).then(() => assert.fail('resolved'), (e) => e)
  failedWith('RangeError', 'out of range')(err)
  assert.match(err.cause.stack, /tasks\.js/)
  await assert.rejects(pool.run('reject', { message: 'later' }), failedWith('TypeError', 'later'))
})

test('an async task posts its messages in order, all before exit 0', async () => {
  const expected = []
  const inlineResult = await more.steps({ n: 7 }, { post: (v) => expected.push(v) })
  const handle = pool.spawn('steps', { n: 7 })
  const events = []
  handle.on('message', (m) => events.push(['message', m]))
  const exit = once(handle, 'exit').then(([code]) => events.push(['exit', code]))
  assert.equal(await handle.result, inlineResult)
  await exit
  assert.deepEqual(events, [...expected.map((m) => ['message', m]), ['exit', 0]])
})

test('a cancelled JS task sees its abort and rejects with ABORT_ERR', async () => {
  const handle = pool.spawn('holdUntilAborted')
  const messages = []
  handle.on('message', (m) => messages.push(m))
  const exit = once(handle, 'exit')
  await once(handle, 'message')
  handle.cancel('enough')
  await assert.rejects(handle.result, { code: 'ABORT_ERR', cause: 'enough' })
  assert.deepEqual(await exit, [2])
  assert.deepEqual(messages, ['started', { sawAbort: 'AbortError' }])
})

test('close() waits for accepted tasks; runs after it reject with ERR_POOL_CLOSED', async () => {
  const own = new Pool({ threads: 1, workers: 1, modules: [TASKS] })
  const accepted = own.run('performTask', 1000)
  const closed = own.close()
  await assert.rejects(own.run('performTask', 1), { code: 'ERR_POOL_CLOSED' })
  assert.equal(await accepted, inline.performTask(1000))
  await closed
  assert.equal(own.stats().workers, 0)
})

test('a pool left idle, never closed (the process must still exit by itself)', async () => {
  const idle = new Pool({ threads: 1, workers: 2, modules: [TASKS] })
  assert.equal(await idle.run('performTask', 10), inline.performTask(10))
  assert.equal(await idle.run('sum', { iterations: 10 }), inline.performTask(10))
})
