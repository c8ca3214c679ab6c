'use strict'
// The example addon's own task on native-pool's Pool: output against the JS reference, progress,
// cancellation, validation from the Rust declaration, and two addons in one process.

const { Pool } = require('..')
const nativePool = require('native-pool')
const { mandelbrot } = require('./reference.js')

let pool
beforeAll(() => {
  pool = new Pool({ threads: 2 })
})
afterAll(() => pool.close())

const views = [
  { width: 64, height: 48 },
  { width: 1, height: 1 },
  { width: 301, height: 7, maxIter: 40 },
  { width: 120, height: 90, centerX: -0.743643887, centerY: 0.131825904, span: 0.002, maxIter: 255 },
  { width: 50, height: 80, centerX: 0.3, centerY: -0.5, span: 0.5, maxIter: 1 },
]

test.each(views)('renders the same bytes as the JS reference: %o', async (view) => {
  const got = await pool.run('mandelbrot', view)
  expect(Buffer.isBuffer(got)).toBe(true)
  expect(got.length).toBe(view.width * view.height)
  expect(got.equals(Buffer.from(mandelbrot(view)))).toBe(true)
})

test('the picture is not trivial: escape counts vary across the default view', async () => {
  const got = await pool.run('mandelbrot', { width: 64, height: 48 })
  expect(new Set(got).size).toBeGreaterThan(10)
  expect(Math.max(...got)).toBe(255)
})

test('posts { progress } at every whole percent of its rows, in order, ending at 1', async () => {
  const task = pool.spawn('mandelbrot', { width: 32, height: 200 })
  const seen = []
  task.on('message', (m) => seen.push(m.progress))
  await task.result
  expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => (i + 1) / 100))
})

// Inside the main cardioid every point takes all 255 iterations: 16M pixels, seconds of work.
const SLOW = { width: 4096, height: 4096, centerX: -0.1, centerY: 0, span: 0.1 }

test('cancel() stops a running render: ABORT_ERR, exit code 2', async () => {
  const task = pool.spawn('mandelbrot', SLOW)
  const exit = new Promise((resolve) => task.on('exit', resolve))
  await new Promise((resolve) => task.once('message', resolve))
  task.cancel()
  await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
  expect(await exit).toBe(2)
})

test('an AbortSignal and a timeout stop it too', async () => {
  const controller = new AbortController()
  const aborted = pool.run('mandelbrot', SLOW, { signal: controller.signal })
  setImmediate(() => controller.abort())
  await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
  await expect(pool.run('mandelbrot', SLOW, { timeout: 20 })).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
})

test('bad arguments are ERR_INVALID_ARG naming the field, from the Rust declaration', async () => {
  const cases = [
    [{ width: 0, height: 1 }, 'width'],
    [{ width: 1.5, height: 1 }, 'width'],
    [{ width: 1 }, 'height'],
    [{ width: 1, height: 1, maxIter: 256 }, 'maxIter'],
    [{ width: 1, height: 1, span: 0 }, 'span'],
    [{ width: 1, height: 1, centerX: '0' }, 'centerX'],
    [{ width: 1, height: 1, zoom: 2 }, 'zoom'],
    [null, 'args'],
  ]
  for (const [args, field] of cases) {
    await expect(pool.run('mandelbrot', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  }
})

test('Pool.tasks() describes it from its doc comments, beside the built-in tasks', () => {
  const tasks = Pool.tasks()
  const m = tasks.find((t) => t.name === 'mandelbrot')
  expect(m.description).toMatch(/^Renders the Mandelbrot set/)
  expect(m.result).toBe('Buffer')
  expect(m.args.map((f) => [f.name, f.required])).toEqual([
    ['width', true],
    ['height', true],
    ['maxIter', false],
    ['centerX', false],
    ['centerY', false],
    ['span', false],
  ])
  expect(m.args[0]).toMatchObject({ type: 'integer 1..=16384', description: 'image width in pixels' })
  expect(tasks.map((t) => t.name)).toEqual(expect.arrayContaining(['sum', 'hash', 'gzip']))
})

test("both addons live in one process, each with its own tasks and threads", async () => {
  const builtin = new nativePool.Pool({ threads: 1 })
  try {
    expect(builtin).not.toBeInstanceOf(Pool)
    await expect(builtin.run('sum', { iterations: 1000 })).resolves.toBe(499500)
    await expect(pool.run('sum', { iterations: 1000 })).resolves.toBe(499500)
    await expect(builtin.run('mandelbrot', { width: 1, height: 1 })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TASK' })
    expect(nativePool.Pool.tasks().some((t) => t.name === 'mandelbrot')).toBe(false)
    const [mine, theirs] = await Promise.all([
      pool.run('mandelbrot', { width: 16, height: 16 }),
      builtin.run('hash', { algorithm: 'sha256', data: 'abc', encoding: 'hex' }),
    ])
    expect(mine.equals(Buffer.from(mandelbrot({ width: 16, height: 16 })))).toBe(true)
    expect(theirs).toBe(require('node:crypto').createHash('sha256').update('abc').digest('hex'))
  } finally {
    await builtin.close()
  }
})

test('withAddon rejects what is not a native-pool addon', () => {
  expect(() => nativePool.withAddon(42)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'path' }))
  expect(() => nativePool.withAddon(require.resolve('./reference.js'))).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG', field: 'path' }),
  )
  expect(nativePool.withAddon(require.resolve('../own-task.node')).Pool).toBe(Pool)
})
