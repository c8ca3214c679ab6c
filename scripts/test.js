'use strict'
// `npm test`: jest, `cargo test` (the engine without Node) and the types test, then one summary line
// `N passed, N failed` counting every test that ran. Exits non-zero if anything failed.
// Each run also leaves its counts in target/test-counts/npm-test.json, beside those of the other
// steps (memcheck.json, loom.json): `node scripts/test.js --total` prints their sum as one line, the
// closing line of .ci/run.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const jestJson = path.join(root, 'target', 'jest-results.json')
const bin = (name) => path.join(root, 'node_modules', '.bin', name)

function run(cmd, args, { capture = false } = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' })
  if (capture && r.stdout) process.stdout.write(r.stdout)
  return r
}

const countsDir = path.join(root, 'target', 'test-counts')

if (process.argv[2] === '--total') {
  let passed = 0
  let failed = 0
  const files = fs.existsSync(countsDir) ? fs.readdirSync(countsDir).filter((f) => f.endsWith('.json')) : []
  for (const f of files) {
    const c = JSON.parse(fs.readFileSync(path.join(countsDir, f), 'utf8'))
    console.log(`${path.basename(f, '.json')}: ${c.passed} passed, ${c.failed} failed`)
    passed += c.passed
    failed += c.failed
  }
  if (files.length === 0) failed += 1 // nothing ran
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

let passed = 0
let failed = 0

// jest: counts from its JSON report.
fs.mkdirSync(path.dirname(jestJson), { recursive: true })
fs.rmSync(jestJson, { force: true })
const jest = run(bin('jest'), ['--json', `--outputFile=${jestJson}`, ...process.argv.slice(2)])
if (fs.existsSync(jestJson)) {
  const report = JSON.parse(fs.readFileSync(jestJson, 'utf8'))
  passed += report.numPassedTests
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites
}
if (jest.status !== 0 && failed === 0) failed += 1 // jest failed outside any test

// cargo test: counts from its `test result:` lines.
const cargo = run('cargo', ['test', '--no-default-features'], { capture: true })
let cargoCounted = false
for (const m of (cargo.stdout || '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  passed += Number(m[1])
  failed += Number(m[2])
  cargoCounted = true
}
if (cargo.status !== 0 && !cargoCounted) failed += 1

// The types test: tsc type-checks __test__/types against index.d.ts; one test.
const tsc = run(bin('tsc'), ['-p', path.join('__test__', 'types')])
if (tsc.status === 0) passed += 1
else failed += 1

fs.mkdirSync(countsDir, { recursive: true })
fs.writeFileSync(path.join(countsDir, 'npm-test.json'), JSON.stringify({ passed, failed }))
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
