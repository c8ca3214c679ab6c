// Type-checked by `npm run test:types`: the catalogue's entries in TaskMap. Each `@ts-expect-error`
// line must be an error, or tsc fails on the unused directive.
import { Pool } from '../..'

async function catalogue(): Promise<void> {
  const pool = new Pool({ threads: 2 })
  const digest: Buffer | string = await pool.run('hash', { algorithm: 'sha256', data: new Uint8Array(4), encoding: 'hex' })
  await pool.run('hash', { algorithm: 'blake3', data: 'text' })
  await pool.run('hmac', { algorithm: 'sha512', key: 'k', data: new DataView(new ArrayBuffer(8)) })
  const packed: Buffer = await pool.run('gzip', { data: Buffer.alloc(1), level: 9 })
  await pool.run('gunzip', { data: packed, maxOutputLength: 1 << 20 })
  await pool.run('brotliCompress', { data: 'x', quality: 5, lgwin: 20 })
  await pool.run('zstdDecompress', { data: new ArrayBuffer(4) })
  const phc: string = await pool.run('argon2Hash', { password: 'pw', type: 'argon2id', memoryCost: 1024 })
  const ok: boolean = await pool.run('argon2Verify', { password: 'pw', hash: phc })
  const bc: string = await pool.run('bcryptHash', { password: 'pw', cost: 12 })
  const ok2: boolean = await pool.run('bcryptVerify', { password: 'pw', hash: bc })
  await pool.run('scrypt', { password: 'pw', salt: 'salt', keylen: 64, N: 1024, maxmem: 64 << 20 })
  void [digest, ok, ok2]
  // Long password hashes post their progress.
  pool.spawn('argon2Hash', { password: 'pw', memoryCost: 1 << 20 }).on('message', (m) => {
    const fraction: number = m.progress
    void fraction
  })

  // scrypt posts { progress } too.
  pool.spawn('scrypt', { password: 'pw', salt: 's', keylen: 32 }).on('message', (m) => {
    const fraction: number = m.progress
    void fraction
  })

  // @ts-expect-error: blake3 has no HMAC
  pool.run('hmac', { algorithm: 'blake3', key: 'k', data: 'd' })
  // @ts-expect-error: an unknown digest algorithm
  pool.run('hash', { algorithm: 'sha257', data: 'd' })
  // @ts-expect-error: gzip takes level, not quality
  pool.run('gzip', { data: 'x', quality: 5 })
  // @ts-expect-error: verification resolves with a boolean
  const wrong: string = await pool.run('bcryptVerify', { password: 'p', hash: 'h' })
  // @ts-expect-error: scrypt needs a keylen
  pool.run('scrypt', { password: 'p', salt: 's' })
  void wrong
  await pool.close()
}
void catalogue
