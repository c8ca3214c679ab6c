'use strict'
// The last line of CI (`.ci/run`): the sum of every test step's counts, `N passed, N failed`. Each
// step writes `{"passed":N,"failed":M}` to target/test-counts/<step>.json (scripts/test.js as
// test.json, scripts/test-packed.js as packed.json, scripts/soak.js as soak.json, ...); `.ci/run`
// empties that folder first and writes a failure for a step that died before writing its own. Exits
// non-zero if anything failed or no step wrote its counts.

const fs = require('node:fs')
const path = require('node:path')

const dir = path.join(__dirname, '..', 'target', 'test-counts')
let passed = 0
let failed = 0
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []
for (const file of files) {
  const counts = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))
  if (!Number.isInteger(counts.passed) || !Number.isInteger(counts.failed)) {
    throw new Error(`${file}: expected {"passed":N,"failed":M}, got ${JSON.stringify(counts)}`)
  }
  console.log(`${path.basename(file, '.json')}: ${counts.passed} passed, ${counts.failed} failed`)
  passed += counts.passed
  failed += counts.failed
}
if (files.length === 0) failed += 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
