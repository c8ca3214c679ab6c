'use strict'
// `npm test`: jest, `cargo test` (the engine without Node) and the types test, then one summary line
// `N passed, N failed` counting every test that ran. Exits non-zero if anything failed.

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

// For CI's summary line (scripts/test-summary.js), beside the other steps' counts.
const counts = path.join(root, 'target', 'test-counts')
fs.mkdirSync(counts, { recursive: true })
fs.writeFileSync(path.join(counts, 'npm-test.json'), JSON.stringify({ passed, failed }))
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
