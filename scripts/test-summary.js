'use strict'
// The last line of CI: the sum of every step's test counts, as `N passed, N failed`. Each step writes
// `{"passed":N,"failed":M}` to target/test-counts/<step>.json. Exits non-zero if anything failed or
// no step reported.

const fs = require('node:fs')
const path = require('node:path')

const dir = path.join(__dirname, '..', 'target', 'test-counts')
let passed = 0
let failed = 0
let steps = 0
for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
  if (!name.endsWith('.json')) continue
  const counts = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))
  passed += counts.passed
  failed += counts.failed
  steps += 1
}
if (steps === 0) failed += 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
