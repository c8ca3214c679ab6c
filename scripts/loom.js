'use strict'
// `npm run test:loom`: the loom model checks of tests/loom.rs (the job state machine, the completion
// inbox and the growing script-consumer protocol), in a `--cfg loom` build of the engine. Its own
// target directory: RUSTFLAGS apply to every crate, and sharing target/ would rebuild everything on
// each switch. LOOM_MAX_PREEMPTIONS bounds the
// search (default 3 here: every bug seen in these protocols needs at most two preemptions; set it
// higher by hand for a deeper run). The dev profile, not --release: it already optimizes every
// dependency, loom included (Cargo.toml), and skips the release profile's LTO build. Writes its counts to target/test-counts/loom.json for .ci/run.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const env = {
  ...process.env,
  RUSTFLAGS: `${process.env.RUSTFLAGS || ''} --cfg loom`.trim(),
  CARGO_TARGET_DIR: path.join(root, 'target', 'loom'),
  LOOM_MAX_PREEMPTIONS: process.env.LOOM_MAX_PREEMPTIONS || '3',
}
const r = spawnSync('cargo', ['test', '--no-default-features', '--test', 'loom', ...process.argv.slice(2)], {
  cwd: root,
  env,
  encoding: 'utf8',
  stdio: ['inherit', 'pipe', 'inherit'],
})
process.stdout.write(r.stdout || '')
const counts = { passed: 0, failed: 0 }
let counted = false
for (const m of (r.stdout || '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  counts.passed += Number(m[1])
  counts.failed += Number(m[2])
  counted = true
}
if (r.status !== 0 && (!counted || counts.failed === 0)) counts.failed += 1
const dir = path.join(root, 'target', 'test-counts')
fs.mkdirSync(dir, { recursive: true })
fs.writeFileSync(path.join(dir, 'loom.json'), JSON.stringify(counts))
console.log(`${counts.passed} passed, ${counts.failed} failed`)
process.exit(counts.failed === 0 ? 0 : 1)
