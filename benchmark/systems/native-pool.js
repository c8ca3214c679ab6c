'use strict'
// Ours: native-pool, loaded from the repository root. Each generic task maps onto the native task
// that does the same work; a task the addon does not register (yet) makes its workloads skip, with
// the reason recorded.

const path = require('node:path')
const fs = require('node:fs')

const ROOT = path.join(__dirname, '..', '..')

// generic task -> [native task name, args mapper]
const NATIVE = {
  echo: ['echo', (v) => v],
  sum: ['sum', (a) => a],
  fib: ['fib', (a) => a],
  sha256: ['hash', ({ data }) => ({ algorithm: 'sha256', data, encoding: 'hex' })],
  gzip: ['gzip', (a) => a],
  scrypt: ['scrypt', (a) => a],
  bcryptHash: ['bcryptHash', (a) => a],
}

let loaded = null
function load() {
  if (loaded) return loaded
  try {
    const mod = require(ROOT)
    if (typeof mod.Pool !== 'function') throw new Error('the package exports no Pool class')
    const names = new Set((typeof mod.Pool.tasks === 'function' ? mod.Pool.tasks() : []).map((t) => t.name))
    loaded = { mod, names, error: null }
  } catch (err) {
    loaded = { mod: null, names: new Set(), error: `native-pool cannot be loaded (${String(err.message).split('\n')[0]})` }
  }
  return loaded
}

function version() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
  } catch {
    return 'unknown'
  }
}

function unavailable(task) {
  const { error, names } = load()
  if (error) return error
  if (task === 'barrier') return null // start-up uses 'online' events instead
  const native = NATIVE[task]
  if (!native) return `no native task for '${task}'`
  if (!names.has(native[0])) return `task '${native[0]}' is not registered in this build (Pool.tasks())`
  return null
}

module.exports = {
  name: 'native-pool',
  kind: 'native',
  unavailable,
  version,
  load,
  async create({ threads }) {
    const { mod, error } = load()
    if (error) throw new Error(error)
    // NATIVE_POOL_BENCH_NICE (set by run.js --nice N) overrides the threads' niceIncrement;
    // unset, the pool runs with its defaults, as users get it.
    const nice = process.env.NATIVE_POOL_BENCH_NICE
    const pool = new mod.Pool(nice === undefined ? { threads } : { threads, niceIncrement: Number(nice) })
    const online = new Set()
    let onAllOnline = null
    pool.on('online', (id) => {
      online.add(id)
      if (onAllOnline && online.size >= onAllOnline.parties) onAllOnline.resolve()
    })
    const run = (task, args) => {
      const [name, map] = NATIVE[task]
      return pool.run(name, map(args))
    }
    return {
      run,
      unavailable,
      pool,
      // A first answer from the pool once every native thread has reported 'online'. There is no
      // native barrier task, so 'online' is the per-thread signal (see README).
      async startup(parties) {
        // The timer is ref'd on purpose: an idle pool does not keep the process alive, so without it a
        // process whose echo has answered could exit before the last 'online' event is delivered.
        const allOnline = new Promise((resolve, reject) => {
          if (online.size >= parties) return resolve()
          const timer = setTimeout(() => reject(new Error(`only ${online.size} of ${parties} 'online' events within 10 s`)), 10_000)
          onAllOnline = {
            parties,
            resolve: () => {
              clearTimeout(timer)
              resolve()
            },
          }
        })
        const [, answer] = await Promise.all([allOnline, pool.run('echo', 42)])
        if (answer !== 42) throw new Error(`echo answered ${answer}`)
        return Array.from(online)
      },
      close: () => pool.close(),
    }
  },
}
