#!/usr/bin/env node
'use strict'
// The benchmark: native-pool side by side with piscina, tinypool, workerpool, a plain worker_threads
// pool and the main thread, on the same workloads and the same thread count.
//
//   node benchmark/run.js [--quick] [--threads N] [--only a,b] [--systems a,b] [--nice N]
//
// The js-tasks section runs its own systems (workloads/js-tasks.js: the same JS functions on
// native-pool's JS tasks, a minimal postMessage pool, piscina, tinypool, workerpool, plain
// worker_threads); --systems selects among them by name, `native-pool` selecting ours.
//
// --nice N sets native-pool's niceIncrement (its threads' CPU priority below the process's); without
// it native-pool runs with its default, as users get it.
//
// Writes one JSON line per (system, workload) to benchmark/results/latest.jsonl and the report to
// benchmark/RESULTS.md; --quick writes results/quick.jsonl and results/quick.md instead, so a smoke run
// never replaces the full run's report (README.md in this folder explains every workload).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const allSystems = require('./systems')
const batch = require('./workloads/batch')
const { runBatchWorkload } = require('./lib/batch-runner')
const { machine } = require('./lib/machine')
const { writeReport } = require('./lib/report')

const SECTIONS = [
  ...batch.map((w) => ({ id: w.id, run: (ctx) => runBatchWorkload(ctx, w) })),
  { id: 'roundtrip', run: (ctx) => require('./workloads/latency').run(ctx) },
  { id: 'event-loop', run: (ctx) => require('./workloads/event-loop').run(ctx) },
  { id: 'startup', run: (ctx) => require('./workloads/startup').run(ctx) },
  { id: 'memory', run: (ctx) => require('./workloads/memory').run(ctx) },
  { id: 'scaling', run: (ctx) => require('./workloads/scaling').run(ctx) },
  { id: 'isolation', run: (ctx) => require('./workloads/isolation').run(ctx) },
  { id: 'js-tasks', run: (ctx) => require('./workloads/js-tasks').run(ctx) },
]
const knownSystems = [...new Set([...allSystems, ...require('./workloads/js-tasks').SYSTEMS].map((s) => s.name))]

function parseArgs(argv) {
  const opts = { mode: 'full', threads: os.availableParallelism(), only: null, systems: null, out: null, nice: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') opts.mode = 'quick'
    else if (a === '--threads') opts.threads = Number(argv[++i])
    else if (a === '--only') opts.only = argv[++i].split(',')
    else if (a === '--systems') opts.systems = argv[++i].split(',')
    else if (a === '--out') opts.out = argv[++i]
    else if (a === '--nice') opts.nice = Number(argv[++i])
    else throw new Error(`unknown argument ${a}; usage: run.js [--quick] [--threads N] [--only a,b] [--systems a,b] [--nice N] [--out RESULTS.md]`)
  }
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error('--threads must be a positive integer')
  if (opts.nice !== null && !(Number.isInteger(opts.nice) && opts.nice >= 0 && opts.nice <= 19)) throw new Error('--nice must be an integer from 0 to 19')
  for (const id of opts.only || []) if (!SECTIONS.some((s) => s.id === id)) throw new Error(`unknown workload ${id}; known: ${SECTIONS.map((s) => s.id).join(', ')}`)
  for (const name of opts.systems || []) if (!knownSystems.includes(name)) throw new Error(`unknown system ${name}; known: ${knownSystems.join(', ')}`)
  return opts
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  // Children (start-up, memory, isolation) inherit it through the environment.
  if (opts.nice !== null) process.env.NATIVE_POOL_BENCH_NICE = String(opts.nice)
  const started = new Date()
  const t0 = Date.now()
  const systems = opts.systems ? allSystems.filter((s) => opts.systems.includes(s.name)) : allSystems
  const ctx = { mode: opts.mode, threads: opts.threads, systems, systemNames: opts.systems, log: (m) => console.log(m) }
  const runId = started.toISOString()
  const resultsDir = path.join(__dirname, 'results')
  fs.mkdirSync(resultsDir, { recursive: true })
  // The smoke run never overwrites the committed report of a full run.
  const jsonl = path.join(resultsDir, opts.mode === 'quick' ? 'quick.jsonl' : 'latest.jsonl')
  fs.writeFileSync(jsonl, '')

  const ours = require('./systems/native-pool').load()
  const command = `node benchmark/run.js ${process.argv.slice(2).join(' ')}`.trim()
  const npmCommand = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : null
  const env = machine()
  console.log(`native-pool benchmark (${opts.mode}), ${opts.threads} threads per pool, ${env.cpu}, ${env.cores} cores, Node ${env.node}`)
  if (ours.error) console.log(`note: ${ours.error}: its rows are skipped`)
  else console.log(`native-pool tasks: ${[...ours.names].join(', ')}`)

  const lines = []
  for (const section of SECTIONS) {
    if (opts.only && !opts.only.includes(section.id)) continue
    const s0 = Date.now()
    console.log(`${section.id}…`)
    const out = await section.run(ctx)
    for (const line of out) {
      const full = { run: runId, mode: opts.mode, ...line }
      lines.push(full)
      fs.appendFileSync(jsonl, JSON.stringify(full) + '\n')
      if (line.status !== 'ok') console.log(`  ${line.system}: ${line.status}: ${line.reason}`)
    }
    console.log(`  (${((Date.now() - s0) / 1000).toFixed(1)} s)`)
  }

  const seconds = (Date.now() - t0) / 1000
  env.loadAverageAtEnd = require('node:os').loadavg().map((x) => +x.toFixed(2))
  const out = opts.out ? path.resolve(opts.out) : opts.mode === 'quick' ? path.join(resultsDir, 'quick.md') : path.join(__dirname, 'RESULTS.md')
  writeReport(out, { lines, env, opts, command, npmCommand, started, seconds })
  console.log(`done in ${seconds.toFixed(0)} s: ${path.relative(process.cwd(), jsonl)}, ${path.relative(process.cwd(), out)}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
