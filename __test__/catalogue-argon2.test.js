'use strict'
// argon2Hash / argon2Verify against the npm argon2 package, RFC 9106 (in the Rust tests) and the
// reference implementation's README example.

const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { Pool } = require('..')
const { withProgress, EVERY_PERCENT } = require('./helpers')

const pool = new Pool({ threads: 2 })
afterAll(() => pool.close())

// npm argon2 is a native module: where its prebuilt binary crashes on load (seen on some Linux
// machines: a segfault), requiring it here would kill this whole file. Probe it in a child first.
const probe = spawnSync(process.execPath, ['-e', "require('argon2').hash('x').then((h) => process.stdout.write(h))"], { cwd: __dirname, encoding: 'utf8' })
const npmArgon2Works = probe.status === 0 && probe.stdout.startsWith('$argon2id$')
const argon2 = npmArgon2Works ? require('argon2') : null
const withNpmArgon2 = npmArgon2Works ? describe : describe.skip

test('the npm argon2 reference package loads (if not: rebuild it with `npm rebuild argon2 --build-from-source`)', () => {
  expect({ status: probe.status, signal: probe.signal, stderr: probe.stderr.slice(0, 500) }).toEqual({ status: 0, signal: null, stderr: '' })
})

withNpmArgon2('argon2Hash / argon2Verify against npm argon2', () => {
  const SMALL = { timeCost: 2, memoryCost: 1024, parallelism: 2 }
  // npm argon2's type constants (argon2.argon2d, .argon2i, .argon2id): plain numbers, so that this
  // block can be declared even when the package cannot load.
  const TYPES = { argon2d: 0, argon2i: 1, argon2id: 2 }

  test.each(Object.keys(TYPES))('%s hashes made by npm argon2 verify with ours', async (type) => {
    for (const password of ['', 'password', 'pässwörd ✓']) {
      const hash = await argon2.hash(password, { ...SMALL, type: TYPES[type] })
      await expect(pool.run('argon2Verify', { password, hash })).resolves.toBe(true)
      await expect(pool.run('argon2Verify', { password: '!' + password, hash })).resolves.toBe(false)
    }
  })

  test.each(Object.keys(TYPES))('%s hashes we make verify with npm argon2', async (type) => {
    const hash = await pool.run('argon2Hash', { password: 'secret', type, ...SMALL })
    expect(hash.startsWith(`$${type}$v=19$m=1024,t=2,p=2$`)).toBe(true)
    await expect(argon2.verify(hash, 'secret')).resolves.toBe(true)
    await expect(argon2.verify(hash, 'secreT')).resolves.toBe(false)
  })

  // npm argon2 writes the parameters as m,p,t; the reference implementation (and we) as m,t,p.
  const normalized = (phc) => phc.split('$').map((part) => (part.startsWith('m=') ? part.split(',').sort().join(',') : part))

  test.each(Object.keys(TYPES))('%s: with the same salt and parameters, our PHC string is npm argon2\'s, parameter order aside', async (type) => {
    // One lane and several; memory not a multiple of 4 × lanes; segments longer than one address block.
    for (const opts of [
      { timeCost: 1, memoryCost: 8, parallelism: 1, hashLength: 4 },
      { timeCost: 1, memoryCost: 64, parallelism: 1, hashLength: 16 },
      { timeCost: 2, memoryCost: 1001, parallelism: 3, hashLength: 65 },
      { timeCost: 3, memoryCost: 4096, parallelism: 4, hashLength: 64 },
      { timeCost: 4, memoryCost: 2053, parallelism: 1, hashLength: 1024 },
    ]) {
      const salt = crypto.randomBytes(16)
      const password = crypto.randomBytes(opts.memoryCost % 50)
      const ours = await pool.run('argon2Hash', { password, salt, type, ...opts })
      const theirs = await argon2.hash(password, { salt, type: TYPES[type], ...opts })
      expect(normalized(ours)).toEqual(normalized(theirs))
      expect(ours).toMatch(/\$m=\d+,t=\d+,p=\d+\$/)
    }
  })

  test('a completed argon2Hash posts each whole percent once, in order, ending at 1, and equals npm argon2', async () => {
    const opts = { type: 'argon2d', timeCost: 2, memoryCost: 16384, parallelism: 2 }
    const salt = crypto.randomBytes(16)
    const { result: ours, progress } = await withProgress(pool.spawn('argon2Hash', { password: 'pw', salt, ...opts }))
    expect(progress).toEqual(EVERY_PERCENT)
    const theirs = await argon2.hash('pw', { ...opts, salt, type: TYPES.argon2d })
    expect(normalized(ours)).toEqual(normalized(theirs))
  })

  test('a secret (pepper) must match on both sides', async () => {
    const secret = crypto.randomBytes(16)
    const theirs = await argon2.hash('pw', { ...SMALL, secret })
    await expect(pool.run('argon2Verify', { password: 'pw', hash: theirs, secret })).resolves.toBe(true)
    await expect(pool.run('argon2Verify', { password: 'pw', hash: theirs })).resolves.toBe(false)
    const ours = await pool.run('argon2Hash', { password: 'pw', secret, ...SMALL })
    await expect(argon2.verify(ours, 'pw', { secret })).resolves.toBe(true)
  })

  test('the defaults are npm argon2\'s: argon2id, m=65536, t=3, p=4, 32-byte hash, 16-byte salt', async () => {
    const hash = await pool.run('argon2Hash', { password: 'pw' })
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    await expect(argon2.verify(hash, 'pw')).resolves.toBe(true)
  })
})

describe('argon2Hash / argon2Verify', () => {
  // The argon2 reference CLI: `echo -n password | ./argon2 somesalt -t 2 -m 16 -p 4 -l 24` (README).
  test('the reference implementation\'s README example verifies', async () => {
    const hash = '$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'
    await expect(pool.run('argon2Verify', { password: 'password', hash })).resolves.toBe(true)
    await expect(pool.run('argon2Verify', { password: 'Password', hash })).resolves.toBe(false)
  })

  test.each([
    '',
    'garbage',
    '$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=20$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=64,t=1$c29tZXNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=64,t=1,p=1$c29t*XNhbHQ$aGFzaGhhc2g',
    '$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ',
    '$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g',
    '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234',
  ])('the malformed hash %p rejects with ERR_INVALID_ARG', async (hash) => {
    await expect(pool.run('argon2Verify', { password: 'p', hash })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'hash' })
  })

  test.each([
    [{ password: 'p', type: 'argon3' }, 'type'],
    [{ password: 'p', timeCost: 0 }, 'timeCost'],
    [{ password: 'p', memoryCost: 7 }, 'memoryCost'],
    [{ password: 'p', memoryCost: 16, parallelism: 4 }, 'memoryCost'],
    [{ password: 'p', parallelism: 0 }, 'parallelism'],
    [{ password: 'p', hashLength: 3 }, 'hashLength'],
    [{ password: 'p', salt: Buffer.alloc(7) }, 'salt'],
    [{ password: 'p', salt: 'a string' }, 'salt'],
    [{ password: null }, 'password'],
  ])('argon2Hash %o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run('argon2Hash', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})

describe('argon2 progress and cancellation', () => {
  // 1 GiB, 20 passes: most of a minute of work, past jest's 30 s timeout if it could not be
  // stopped; the first whole percent comes after about a fifth of a pass. One thread, so the next
  // task can only run once the cancelled one has let go of it.
  const HUGE = { memoryCost: 1 << 20, timeCost: 20, parallelism: 1 }
  const HUGE_PHC = `$argon2id$v=19$m=${HUGE.memoryCost},t=${HUGE.timeCost},p=1$c29tZXNhbHQ$${Buffer.alloc(32).toString('base64').replace(/=+$/, '')}`

  async function andThePoolGoesOn(solo) {
    const hash = await solo.run('argon2Hash', { password: 'next', memoryCost: 64, parallelism: 1 })
    await expect(solo.run('argon2Verify', { password: 'next', hash })).resolves.toBe(true)
  }

  test('a high-cost argon2Hash cancelled after its first progress message rejects with ABORT_ERR', async () => {
    const solo = new Pool({ threads: 1 })
    try {
      const task = solo.spawn('argon2Hash', { password: 'p', ...HUGE })
      const first = await new Promise((resolve) => task.once('message', resolve))
      expect(first.progress).toBeGreaterThan(0)
      expect(first.progress).toBeLessThan(1)
      task.cancel()
      await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
      await andThePoolGoesOn(solo)
    } finally {
      await solo.close()
    }
  })

  test('a high-cost argon2Verify stops on its AbortSignal and on its timeout', async () => {
    const solo = new Pool({ threads: 1 })
    try {
      const controller = new AbortController()
      const task = solo.spawn('argon2Verify', { password: 'p', hash: HUGE_PHC }, { signal: controller.signal })
      await new Promise((resolve) => task.once('message', resolve))
      controller.abort()
      await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
      await expect(solo.run('argon2Verify', { password: 'p', hash: HUGE_PHC }, { timeout: 300 })).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' })
      await andThePoolGoesOn(solo)
    } finally {
      await solo.close()
    }
  })
})
