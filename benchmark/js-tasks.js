#!/usr/bin/env node
'use strict'
// The JS-task section of the benchmark alone, printed rather than written to a report:
//
//   node benchmark/js-tasks.js [--quick] [--threads N]
//
// The same measurements as `node benchmark/run.js --only js-tasks` (workloads/js-tasks.js), which is
// how `npm run bench` puts them in RESULTS.md beside the rest; this entry writes no file.

const os = require('node:os')
const { run } = require('./workloads/js-tasks')
const { jsTasksSection } = require('./lib/report')

function parseArgs(argv) {
  const opts = { mode: 'full', threads: os.availableParallelism() }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') opts.mode = 'quick'
    else if (argv[i] === '--threads') opts.threads = Number(argv[++i])
    else throw new Error(`unknown argument ${argv[i]}; usage: js-tasks.js [--quick] [--threads N]`)
  }
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error('--threads must be a positive integer')
  return opts
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const lines = await run({ ...opts, systemNames: null, log: (m) => console.error(m) })
  console.log(jsTasksSection(lines))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
