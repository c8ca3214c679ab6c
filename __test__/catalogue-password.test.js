'use strict'
// bcrypt and scrypt against their independent references: the npm bcrypt and bcryptjs packages,
// crypto.scrypt, and published vectors. argon2 is in catalogue-argon2.test.js.

const crypto = require('node:crypto')
const bcrypt = require('bcrypt')
const bcryptjs = require('bcryptjs')
const { Pool } = require('..')
const { withProgress, EVERY_PERCENT } = require('./helpers')

const pool = new Pool({ threads: 2 })
afterAll(() => pool.close())

// Passwords around bcrypt's 72-byte limit, non-ASCII ones, and the empty one. No NUL bytes: npm
// bcrypt stops at the first NUL (a C string), bcryptjs and we do not.
const PASSWORDS = ['', 'a', 'correct horse battery staple', 'pässwörd ✓ 𝄞', 'x'.repeat(71), 'y'.repeat(72), 'z'.repeat(73), 'é'.repeat(40)]

describe('bcryptHash / bcryptVerify', () => {
  test('hashes made by npm bcrypt and bcryptjs verify with ours, and a wrong password does not', async () => {
    for (const password of PASSWORDS) {
      for (const hash of [bcrypt.hashSync(password, 4), bcryptjs.hashSync(password, 4), bcrypt.hashSync(password, bcrypt.genSaltSync(5, 'a'))]) {
        await expect(pool.run('bcryptVerify', { password, hash })).resolves.toBe(true)
        await expect(pool.run('bcryptVerify', { password: '!' + password, hash })).resolves.toBe(false)
      }
    }
  })

  test('our hashes verify with npm bcrypt and bcryptjs', async () => {
    for (const password of PASSWORDS) {
      const hash = await pool.run('bcryptHash', { password, cost: 4 })
      expect(hash).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/)
      expect([password, bcrypt.compareSync(password, hash), bcryptjs.compareSync(password, hash)]).toEqual([password, true, true])
      expect(bcrypt.compareSync('!' + password, hash)).toBe(false)
    }
  })

  test('with the salt string of bcrypt.genSalt, the hash is byte-identical to npm bcrypt\'s', async () => {
    for (const [cost, minor] of [[4, 'b'], [6, 'a'], [10, 'b']]) {
      const salt = bcrypt.genSaltSync(cost, minor)
      const password = crypto.randomBytes(12).toString('base64')
      await expect(pool.run('bcryptHash', { password, salt })).resolves.toBe(bcrypt.hashSync(password, salt))
      await expect(pool.run('bcryptHash', { password, salt })).resolves.toBe(bcryptjs.hashSync(password, salt))
    }
  })

  test('the default cost is 10 and the default version 2b; version 2a can be asked for', async () => {
    const hash = await pool.run('bcryptHash', { password: 'p' })
    expect(hash.slice(0, 7)).toBe('$2b$10$')
    expect(bcrypt.compareSync('p', hash)).toBe(true)
    const a = await pool.run('bcryptHash', { password: 'p', cost: 4, version: '2a' })
    expect(a.slice(0, 7)).toBe('$2a$04$')
    expect(bcryptjs.compareSync('p', a)).toBe(true)
  })

  test('bytes past 72 are ignored, as by npm bcrypt', async () => {
    const hash = bcrypt.hashSync('q'.repeat(72), 4)
    await expect(pool.run('bcryptVerify', { password: 'q'.repeat(100), hash })).resolves.toBe(true)
  })

  test('a high-cost hash posts progress and can be cancelled while it runs', async () => {
    // Cost 16: about four seconds of work, its first whole percent after a few tens of milliseconds.
    const task = pool.spawn('bcryptHash', { password: 'p', cost: 16 })
    const first = new Promise((resolve) => task.once('message', resolve))
    expect((await first).progress).toBeGreaterThan(0)
    task.cancel()
    await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
  })

  test.each([
    '',
    'not a hash',
    '$2b$10$' + 'a'.repeat(52),
    '$2b$10$' + 'a'.repeat(54),
    '$2c$10$' + 'a'.repeat(53),
    '$2b$03$' + 'a'.repeat(53),
    '$2b$32$' + 'a'.repeat(53),
    '$2b$1a$' + 'a'.repeat(53),
    '$2b$10$' + '!'.repeat(53),
    '$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g',
  ])('the malformed hash %p rejects with ERR_INVALID_ARG', async (hash) => {
    await expect(pool.run('bcryptVerify', { password: 'p', hash })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'hash' })
  })

  test.each([
    [{ password: 'p', cost: 3 }, 'cost'],
    [{ password: 'p', cost: 32 }, 'cost'],
    [{ password: 'p', cost: '10' }, 'cost'],
    [{ password: 'p', salt: Buffer.alloc(15) }, 'salt'],
    [{ password: 'p', salt: '$2b$10$short' }, 'salt'],
    [{ password: 'p', salt: '$2b$10$abcdefghijklmnopqrstuu', cost: 5 }, 'salt'],
    [{ password: 'p', version: '2y' }, 'version'],
    [{ cost: 4 }, 'password'],
    [{ password: 12345 }, 'password'],
  ])('bcryptHash %o rejects with ERR_INVALID_ARG', async (args, field) => {
    await expect(pool.run('bcryptHash', args)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })
})

describe('scrypt', () => {
  test('equals crypto.scryptSync across parameters, passwords and salts', async () => {
    const cases = [
      { N: 16, r: 1, p: 1 },
      { N: 1024, r: 8, p: 16 },
      { N: 16384, r: 8, p: 1 },
      { N: 2, r: 1, p: 1 },
      { N: 256, r: 3, p: 5 },
      {},
    ]
    for (const params of cases) {
      for (const keylen of [1, 16, 32, 64, 100]) {
        const password = crypto.randomBytes(crypto.randomInt(0, 40))
        const salt = crypto.randomBytes(crypto.randomInt(0, 40))
        const ours = await pool.run('scrypt', { password, salt, keylen, ...params })
        expect([params, keylen, Buffer.from(ours).toString('hex')]).toEqual([params, keylen, crypto.scryptSync(password, salt, keylen, params).toString('hex')])
      }
    }
  })

  test('node\'s aliases cost / blockSize / parallelization, string inputs and encodings', async () => {
    const opts = { cost: 1024, blockSize: 4, parallelization: 2 }
    const ours = await pool.run('scrypt', { password: 'pässword', salt: 'NaCl', keylen: 48, ...opts, encoding: 'base64' })
    expect(ours).toBe(crypto.scryptSync('pässword', 'NaCl', 48, opts).toString('base64'))
  })

  test('RFC 7914 vector 2', async () => {
    const ours = await pool.run('scrypt', { password: 'password', salt: 'NaCl', keylen: 64, N: 1024, r: 8, p: 16, encoding: 'hex' })
    expect(ours).toBe('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640')
  })

  test('keylen 0 gives an empty buffer, as crypto.scryptSync does', async () => {
    const ours = await pool.run('scrypt', { password: 'p', salt: 's', keylen: 0 })
    expect(Buffer.from(ours).length).toBe(crypto.scryptSync('p', 's', 0).length)
  })

  test('maxmem is enforced where crypto.scrypt enforces it', async () => {
    for (const [opts, ok] of [
      [{ N: 16384, r: 8 }, true],
      [{ N: 32768, r: 8 }, false],
      [{ N: 32768, r: 8, maxmem: 64 * 1024 * 1024 }, true],
      [{ N: 1024, r: 8, maxmem: 1024 * 1024 }, false],
      [{ N: 1024, r: 8, maxmem: 1024 * 1024 + 128 * 8 * 3 }, true],
    ]) {
      let nodeOk = true
      try { crypto.scryptSync('p', 's', 8, opts) } catch { nodeOk = false }
      expect([opts, nodeOk]).toEqual([opts, ok])
      const p = pool.run('scrypt', { password: 'p', salt: 's', keylen: 8, ...opts })
      if (ok) await expect(p).resolves.toBeDefined()
      else await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'maxmem' })
    }
  })

  test.each([
    [{ N: 1000 }, 'N'],
    [{ N: 1 }, 'N'],
    [{ N: 16, cost: 16 }, 'cost'],
    [{ r: 1, p: 1 << 30 }, 'p'],
    [{ N: 65536, r: 1, maxmem: 2 ** 40 }, 'N'],
    [{ keylen: -1 }, 'keylen'],
    [{ keylen: 1.5 }, 'keylen'],
    [{ N: -2 }, 'N'],
  ])('%o rejects with ERR_INVALID_ARG, where crypto.scryptSync throws too', async (opts, field) => {
    const { keylen = 16, ...rest } = opts
    expect(() => crypto.scryptSync('p', 's', keylen, rest)).toThrow()
    await expect(pool.run('scrypt', { password: 'p', salt: 's', keylen, ...rest })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field })
  })

  test('a completed scrypt posts each whole percent once, in order, ending at 1, and equals crypto.scrypt', async () => {
    const params = { N: 16384, r: 8, p: 2 }
    const password = crypto.randomBytes(16)
    const salt = crypto.randomBytes(16)
    const { result: ours, progress } = await withProgress(pool.spawn('scrypt', { password, salt, keylen: 64, ...params }))
    expect(progress).toEqual(EVERY_PERCENT)
    expect(Buffer.from(ours).toString('hex')).toBe(crypto.scryptSync(password, salt, 64, params).toString('hex'))
  })

  test('a high-cost scrypt cancelled after its first progress message rejects with ABORT_ERR, and the pool goes on', async () => {
    // N = 2^20, r = 8, p = 16: 1 GiB and most of a minute of work, past jest's 30 s timeout if it
    // could not be cancelled; the first whole percent comes after about half a second. One thread,
    // so the next task can only run once the cancelled one has let go of it.
    const solo = new Pool({ threads: 1 })
    try {
      const task = solo.spawn('scrypt', { password: 'p', salt: 's', keylen: 32, N: 1 << 20, r: 8, p: 16, maxmem: 2 ** 31 })
      const first = await new Promise((resolve) => task.once('message', resolve))
      expect(first.progress).toBeGreaterThan(0)
      expect(first.progress).toBeLessThan(1)
      task.cancel()
      await expect(task.result).rejects.toMatchObject({ code: 'ABORT_ERR' })
      const next = await solo.run('scrypt', { password: 'p', salt: 's', keylen: 32, N: 1024, r: 8, p: 1, encoding: 'hex' })
      expect(next).toBe(crypto.scryptSync('p', 's', 32, { N: 1024, r: 8, p: 1 }).toString('hex'))
    } finally {
      await solo.close()
    }
  })

  test('a missing salt or keylen rejects with ERR_INVALID_ARG', async () => {
    await expect(pool.run('scrypt', { password: 'p', keylen: 16 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'salt' })
    await expect(pool.run('scrypt', { password: 'p', salt: 's' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', field: 'keylen' })
  })
})
