'use strict'
// Scheduling under contention: a realistic server, measured with its load generator on the same
// machine. An HTTP server (benchmark/server-app.js) verifies bcrypt passwords (cost 10) on a
// back-end beside a trivial /ping endpoint; the load generator (benchmark/server-load.js, its own
// process) drives both at once. Every back-end runs in every scenario, with and without competing
// CPU-bound processes (a `node -e` busy loop at nice 0, in the same session, so in the same
// autogroup/cgroup as the server), repetitions interleaved, the load average recorded per run.
//
//   node benchmark/server.js                       # defaults below, about 2.5 minutes
//   node benchmark/server.js --duration 5 --reps 3 --competitors 2 \
//        --backends native-pool:0,native-pool:5,native-pool:10,bcrypt,piscina-bcrypt
//   node benchmark/server.js --backends native-pool:10,native-pool:0:batch,native-pool:0:idle
//
// A back-end is NAME[:NICE[:POLICY]]: NICE is native-pool's niceIncrement; POLICY (batch or idle)
// moves native-pool's threads to SCHED_BATCH / SCHED_IDLE with `chrt` once the pool has started (to
// measure those policies without an option in the addon). Writes benchmark/results/server.jsonl
// (one line per run) and prints a table of medians with every run's figures.

const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const readline = require('node:readline')

const ARGS = parseArgs(process.argv.slice(2), {
  duration: 5, // seconds per run
  reps: 2,
  competitors: os.availableParallelism(), // busy loops in the contended scenario: one per CPU
  scenarios: 'quiet,contended',
  backends: 'native-pool:0,native-pool:5,native-pool:10,bcrypt,piscina-bcrypt',
  threads: os.availableParallelism(),
  'login-connections': 0, // 0: twice the threads, so the back-end always has the next job queued
  'ping-rate': 200, // /ping requests per second
  'max-requests': 100_000, // /login requests per run at most
})
const PASSWORD = 'correct horse battery staple'
const RESULTS = path.join(__dirname, 'results', 'server.jsonl')

function parseArgs(argv, defaults) {
  const out = { ...defaults }
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in defaults) || argv[i + 1] === undefined) throw new Error(`unknown or incomplete option ${argv[i]}`)
    out[key] = typeof defaults[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1]
  }
  return out
}

function loadavg() {
  return os.loadavg().map((x) => +x.toFixed(2))
}

/** Starts the server; resolves with { child, port } once it listens. */
function startServer(backend, nice, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server-app.js'), backend, ARGS.threads, nice], { env, stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = readline.createInterface({ input: child.stdout })
    lines.once('line', (line) => resolve({ child, port: JSON.parse(line).port }))
    child.once('exit', (code) => reject(new Error(`server ${backend} exited with ${code} before listening`)))
  })
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.stdin.end()
  })
}

/** The ids of the server's native-pool threads (named native-pool-N by the engine). */
function poolThreads(pid) {
  const dir = `/proc/${pid}/task`
  return fs.readdirSync(dir).filter((tid) => /^native-pool-\d+$/.test(fs.readFileSync(`${dir}/${tid}/comm`, 'utf8').trim()))
}

function applyPolicy(pid, policy) {
  const tids = poolThreads(pid)
  if (tids.length !== ARGS.threads) throw new Error(`found ${tids.length} native-pool threads, expected ${ARGS.threads}`)
  for (const tid of tids) execFileSync('chrt', [`--${policy}`, '-p', '0', tid])
}

function getJson(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
    }).on('error', reject)
  })
}

function runLoad(port, env) {
  const connections = ARGS['login-connections'] || 2 * ARGS.threads
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server-load.js'), port, ARGS.duration * 1000, connections, ARGS['ping-rate'], ARGS['max-requests']], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.once('exit', (code) => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop())
        if (r.error) return reject(new Error(r.error))
        resolve(r)
      } catch {
        reject(new Error(`load generator exited with ${code}: ${out}`))
      }
    })
  })
}

// A busy loop that also stops when its parent (this harness) is gone, so an interrupted run leaves
// nothing spinning: it looks at its parent id every 1e7 iterations (well under a second).
const BUSY_LOOP = 'const parent = process.ppid; for (let i = 0; ; i++) if (i % 1e7 === 0 && process.ppid !== parent) process.exit(0)'

function startCompetitors(n) {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore' }))
}

function stopCompetitors(children) {
  return Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve()
          c.once('exit', resolve)
          c.kill('SIGKILL')
        }),
    ),
  )
}

async function oneRun(spec, scenario, rep, env) {
  const [backend, niceText = '0', policy] = spec.split(':')
  const nice = backend === 'native-pool' ? Number(niceText) : 0
  const loadBefore = loadavg()
  const { child, port } = await startServer(backend, nice, env)
  try {
    if (policy) applyPolicy(child.pid, policy)
    // Warm-up: a few verifications, so that start-up (pool threads, piscina's Workers) is not timed.
    await Promise.all(Array.from({ length: 2 * ARGS.threads }, () => getJson(port, '/ping')))
    const before = await getJson(port, '/stats')
    const load = await runLoad(port, env)
    const after = await getJson(port, '/stats')
    const serverCores = (after.cpuMs - before.cpuMs) / 1000 / load.seconds
    return { spec, backend, nice, policy: policy || 'normal', scenario, rep, ...load, serverCores, loopDelayP99Ms: after.loopDelayP99Ms, loadBefore, loadAfter: loadavg() }
  } finally {
    await stopServer(child)
  }
}

function median(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function fmt(x, digits = 1) {
  return x === null || x === undefined ? '—' : x.toFixed(digits)
}

function report(runs) {
  const rows = []
  rows.push('| back-end | scenario | /login per s | /login p50 ms | /login p99 ms | /ping p50 ms | /ping p99 ms | /ping max ms | server cores | runs (/login per s; /ping p99) | load avg (1 min) |')
  rows.push('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const scenario of ARGS.scenarios.split(',')) {
    for (const spec of ARGS.backends.split(',')) {
      const rs = runs.filter((r) => r.spec === spec && r.scenario === scenario)
      if (rs.length === 0) continue
      const m = (f) => median(rs.map(f))
      rows.push(
        `| ${spec} | ${scenario} | ${fmt(m((r) => r.login.perSecond))} | ${fmt(m((r) => r.login.p50Ms))} | ${fmt(m((r) => r.login.p99Ms))} | ${fmt(m((r) => r.ping.p50Ms), 2)} | ${fmt(m((r) => r.ping.p99Ms), 2)} | ${fmt(m((r) => r.ping.maxMs), 1)} | ${fmt(m((r) => r.serverCores), 2)} | ${rs.map((r) => `${fmt(r.login.perSecond)}; ${fmt(r.ping.p99Ms, 2)}`).join(' / ')} | ${rs.map((r) => r.loadBefore[0]).join(', ')} |`,
      )
    }
  }
  return rows.join('\n')
}

async function main() {
  const bcrypt = require('bcrypt')
  const env = { ...process.env, SERVER_BCRYPT_HASH: bcrypt.hashSync(PASSWORD, 10), SERVER_PASSWORD: PASSWORD }
  const specs = ARGS.backends.split(',')
  const scenarios = ARGS.scenarios.split(',')
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true })
  const out = fs.createWriteStream(RESULTS, { flags: 'w' })
  const runs = []
  console.log(`# server under contention: ${ARGS.threads} threads, ${ARGS.duration} s per run, ${ARGS.reps} reps, ${ARGS.competitors} competitors; load avg ${loadavg().join(' ')}; uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`)
  for (let rep = 0; rep < ARGS.reps; rep++) {
    // Rotate the order each repetition, so a change in the machine's load falls on every back-end.
    const order = specs.map((_, i) => specs[(i + rep) % specs.length])
    for (const scenario of rep % 2 === 0 ? scenarios : [...scenarios].reverse()) {
      const competitors = scenario === 'contended' ? startCompetitors(ARGS.competitors) : []
      try {
        for (const spec of order) {
          const r = await oneRun(spec, scenario, rep, env)
          runs.push(r)
          out.write(JSON.stringify(r) + '\n')
          console.log(`  rep ${rep} ${scenario.padEnd(9)} ${spec.padEnd(20)} login ${fmt(r.login.perSecond)}/s p50 ${fmt(r.login.p50Ms)} p99 ${fmt(r.login.p99Ms)} ms | ping p50 ${fmt(r.ping.p50Ms, 2)} p99 ${fmt(r.ping.p99Ms, 2)} max ${fmt(r.ping.maxMs)} ms | errors ${r.login.errors + r.ping.errors} | server ${fmt(r.serverCores, 2)} cores | load ${r.loadBefore[0]}`)
          if (r.login.errors + r.ping.errors > 0) throw new Error(`${spec} ${scenario}: ${r.login.errors} /login and ${r.ping.errors} /ping errors`)
        }
      } finally {
        await stopCompetitors(competitors)
      }
    }
  }
  out.end()
  console.log(`\nuptime at the end: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}\n`)
  console.log(report(runs))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
