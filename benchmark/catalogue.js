'use strict'
// Throughput of the catalogue's hash('sha256') and gzip on 1 MiB inputs, next to node:crypto and
// node:zlib on the same machine, and of argon2Hash at npm argon2's defaults next to npm argon2: one
// at a time (latency-bound), then with `threads` tasks in flight. Then the password hashes one at a
// time against their C counterparts, each hash on one thread, taken in turns (see `perHash`):
// bcryptVerify cost 10 against npm bcrypt (OpenBSD's C on a libuv thread), scrypt N=2^14 r=8 p=1
// against node:crypto.scrypt (OpenSSL), argon2Hash m=64 MiB t=3 p=1 against npm argon2 (the
// reference C), and at npm argon2's defaults (p=4, which npm argon2 computes on four threads).
// Usage: node benchmark/catalogue.js [--rounds 200] [--threads 2] [--hashes 20] [--samples 15]
//        [--only passwords]

const crypto = require('node:crypto')
const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { Pool } = require('..')

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const ROUNDS = arg('rounds', 200)
const THREADS = arg('threads', 2)
const HASHES = arg('hashes', 20)
const SAMPLES = arg('samples', 15)
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null
const MiB = 1 << 20

// Half text-like, half random: gzip has work to do on both kinds.
const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.split(' ')
let text = ''
while (text.length < MiB / 2) text += words[crypto.randomInt(words.length)] + ' '
const input = Buffer.concat([Buffer.from(text.slice(0, MiB / 2)), crypto.randomBytes(MiB / 2)])

async function measure(label, inFlight, once, { rounds = ROUNDS, rate = (n, s) => `${((n * input.length) / MiB / s).toFixed(0).padStart(6)} MiB/s  (${n} × 1 MiB` } = {}) {
  await once() // warm up
  const start = process.hrtime.bigint()
  let next = 0
  const worker = async () => {
    while (next++ < rounds) await once()
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`${label.padEnd(52)} ${rate(rounds, seconds)}, ${inFlight} in flight)`)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// One hash at a time, ours and theirs in turns (which goes first alternates), SAMPLES pairs after
// one warm-up each, so load from elsewhere on a shared machine falls on both alike. Wall time per
// hash (median and best) and process CPU time per hash (best: other processes do not count, but
// every thread of ours does, so it also shows a C library that spreads one hash over threads).
async function perHash(label, ours, theirs, theirName) {
  const time = async (fn) => {
    const cpu = process.cpuUsage()
    const start = process.hrtime.bigint()
    await fn()
    const wall = Number(process.hrtime.bigint() - start) / 1e6
    const used = process.cpuUsage(cpu)
    return { wall, cpu: (used.user + used.system) / 1e3 }
  }
  await ours()
  await theirs()
  const o = []
  const t = []
  for (let i = 0; i < SAMPLES; i++) {
    if (i % 2) {
      o.push(await time(ours))
      t.push(await time(theirs))
    } else {
      t.push(await time(theirs))
      o.push(await time(ours))
    }
  }
  const stats = (xs) => ({
    med: median(xs.map((x) => x.wall)),
    best: Math.min(...xs.map((x) => x.wall)),
    cpu: Math.min(...xs.map((x) => x.cpu)),
  })
  const [a, b] = [stats(o), stats(t)]
  const ms = (x) => x.toFixed(1).padStart(6)
  console.log(
    `${label.padEnd(34)} ours ${ms(a.med)} ms (best ${ms(a.best)}, CPU ${ms(a.cpu)})  ${theirName.padEnd(15)} ${ms(b.med)} ms (best ${ms(b.best)}, CPU ${ms(b.cpu)})  ours/theirs ${(a.med / b.med).toFixed(2)} median, ${(a.best / b.best).toFixed(2)} best, ${(a.cpu / b.cpu).toFixed(2)} CPU`,
  )
}

async function passwords(pool) {
  console.log(`password hashes, one at a time, ${SAMPLES} of each in turns; times per hash:`)
  const bcrypt = require('bcrypt')
  const hash = await bcrypt.hash('correct horse', 10)
  const ok = await pool.run('bcryptVerify', { password: 'correct horse', hash })
  if (ok !== true) throw new Error('bcryptVerify disagrees with npm bcrypt')
  await perHash(
    'bcrypt verify, cost 10',
    () => pool.run('bcryptVerify', { password: 'correct horse', hash }),
    () => bcrypt.compare('correct horse', hash),
    'npm bcrypt',
  )

  const scrypt = promisify(crypto.scrypt)
  const salt = crypto.randomBytes(16)
  const params = { N: 16384, r: 8, p: 1 }
  const [mine, theirs] = [await pool.run('scrypt', { password: 'pw', salt, keylen: 64, ...params }), await scrypt('pw', salt, 64, params)]
  if (!mine.equals(theirs)) throw new Error('scrypt disagrees with node:crypto')
  await perHash(
    'scrypt N=2^14 r=8 p=1',
    () => pool.run('scrypt', { password: 'pw', salt, keylen: 64, ...params }),
    () => scrypt('pw', salt, 64, params),
    'node:crypto',
  )

  const argon2 = require('argon2')
  for (const [label, options] of [
    ['argon2id m=64 MiB t=3 p=1', { memoryCost: 65536, timeCost: 3, parallelism: 1 }],
    ['argon2id defaults m=64 MiB t=3 p=4', { memoryCost: 65536, timeCost: 3, parallelism: 4 }],
  ]) {
    const salt = crypto.randomBytes(16)
    const want = await argon2.hash('pw', { ...options, salt })
    if ((await pool.run('argon2Hash', { password: 'pw', salt, ...options })) !== want) throw new Error('argon2Hash disagrees with npm argon2')
    await perHash(
      label,
      () => pool.run('argon2Hash', { password: 'pw', ...options }),
      () => argon2.hash('pw', options),
      'npm argon2',
    )
  }
}

async function main() {
  // Not niced: libuv's threads are not either, and other processes share this machine.
  const pool = new Pool({ threads: THREADS, niceIncrement: 0 })
  const gzipAsync = promisify(zlib.gzip)
  console.log(`node ${process.version}, ${require('node:os').cpus().length} CPUs, pool threads ${THREADS}, load average ${require('node:os').loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  if (ONLY === 'passwords') {
    await passwords(pool)
    await pool.close()
    return
  }

  await measure('sha256  node:crypto createHash (main thread)', 1, async () => crypto.createHash('sha256').update(input).digest())
  await measure('sha256  crypto.subtle.digest (libuv pool)', 1, () => crypto.subtle.digest('SHA-256', input))
  await measure('sha256  pool.run(hash)', 1, () => pool.run('hash', { algorithm: 'sha256', data: input }))
  await measure('sha256  crypto.subtle.digest (libuv pool)', THREADS, () => crypto.subtle.digest('SHA-256', input))
  await measure('sha256  pool.run(hash)', THREADS, () => pool.run('hash', { algorithm: 'sha256', data: input }))
  // One at a time, the wall time per task adds two thread wake-ups to the hash itself; the pool's
  // own run-time histogram (every task so far on this pool was a 1 MiB sha256) shows the hash alone.
  const hashMs = pool.stats().runTime.p50
  console.log(`${'sha256  pool thread run time per 1 MiB (p50)'.padEnd(52)} ${(1 / hashMs * 1000).toFixed(0).padStart(6)} MiB/s  (${hashMs.toFixed(3)} ms a hash)`)

  await measure('gzip    zlib.gzipSync (main thread)', 1, async () => zlib.gzipSync(input))
  await measure('gzip    zlib.gzip (libuv pool)', 1, () => gzipAsync(input))
  await measure('gzip    pool.run(gzip)', 1, () => pool.run('gzip', { data: input }))
  await measure('gzip    zlib.gzip (libuv pool)', THREADS, () => gzipAsync(input))
  await measure('gzip    pool.run(gzip)', THREADS, () => pool.run('gzip', { data: input }))

  // npm argon2 (the reference C code on libuv's pool) computes p = 4 lanes on 4 threads; we compute
  // them one after the other on one pool thread. Loaded only here: it is a dev dependency.
  const argon2 = require('argon2')
  const defaults = { memoryCost: 65536, timeCost: 3, parallelism: 4 }
  const hashes = { rounds: HASHES, rate: (n, s) => `${(n / s).toFixed(1).padStart(6)} hash/s  (${n} × m=64 MiB t=3 p=4` }
  await measure('argon2id npm argon2.hash (libuv pool)', 1, () => argon2.hash('pw', defaults), hashes)
  await measure('argon2id pool.run(argon2Hash)', 1, () => pool.run('argon2Hash', { password: 'pw', ...defaults }), hashes)
  await measure('argon2id npm argon2.hash (libuv pool)', THREADS, () => argon2.hash('pw', defaults), hashes)
  await measure('argon2id pool.run(argon2Hash)', THREADS, () => pool.run('argon2Hash', { password: 'pw', ...defaults }), hashes)

  await passwords(pool)

  const ours = await pool.run('gzip', { data: input })
  console.log(`gzip level 6 output: ours ${ours.length} bytes, node:zlib ${zlib.gzipSync(input).length} bytes`)
  await pool.close()
}

main()
