'use strict'
// CI's step for examples/own-task, a user's addon of its own: installs and builds it from this
// checkout, runs its jest tests and its types test (tsc over the declaration generated from its Rust
// tasks), prints `N passed, N failed` and writes the counts to target/test-counts/own-task.json.
// It shares this package's target directory: its artifact has another name, and the crates they
// have in common are built once.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const example = path.join(root, 'examples', 'own-task')
const counts = path.join(root, 'target', 'test-counts')
const jestJson = path.join(root, 'target', 'own-task-jest.json')
const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR || path.join(root, 'target') }
const bin = (name) => path.join(example, 'node_modules', '.bin', name)

function run(cmd, args) {
  console.log(`> ${cmd} ${args.join(' ')}`)
  return spawnSync(cmd, args, { cwd: example, stdio: 'inherit', env })
}

let passed = 0
let failed = 0
const install = run('npm', ['install', '--no-audit', '--no-fund'])
const build = install.status === 0 ? run('npm', ['run', 'build']) : install
if (build.status !== 0) {
  failed += 1
} else {
  fs.rmSync(jestJson, { force: true })
  const jest = run(bin('jest'), ['--json', `--outputFile=${jestJson}`])
  if (fs.existsSync(jestJson)) {
    const report = JSON.parse(fs.readFileSync(jestJson, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites
  }
  if (jest.status !== 0 && failed === 0) failed += 1
  const tsc = run(bin('tsc'), ['-p', path.join('__test__', 'types')])
  if (tsc.status === 0) passed += 1
  else failed += 1
}

fs.mkdirSync(counts, { recursive: true })
fs.writeFileSync(path.join(counts, 'own-task.json'), JSON.stringify({ passed, failed }))
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
