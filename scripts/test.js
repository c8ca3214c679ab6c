'use strict'
// `npm test`: jest, the node:test files, `cargo test` (the engine without Node) and the types test,
// then one summary line `N passed, N failed` counting every test that ran. Exits non-zero if anything
// failed.

const { spawn, spawnSync } = require('node:child_process')
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

// The node:test files (`node --test`): *.node-test.{js,cjs,mjs} under __test__/node-test, a name
// jest's testMatch (`*.test.{js,mjs}`) never matches.
const nodeTestDir = path.join(root, '__test__', 'node-test')
const NODE_TEST_TIMEOUT = 120000

/**
 * Runs `node --test` on `files` with the TAP reporter, its output shown as it comes and scanned.
 * Bounded: after `timeout` ms its whole process group (the runner and the processes it started for
 * the files) is killed. Resolves { status, timedOut, passed, failed, counted, sawDep0168 }, the
 * counts from the runner's closing `# pass N` / `# fail N` / `# cancelled N` lines.
 */
function runNodeTest(files, env, timeout) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      detached: true,
    })
    let out = ''
    let sawDep0168 = false
    let timedOut = false
    const take = (stream) => (chunk) => {
      stream.write(chunk)
      out += chunk.toString('utf8')
      if (out.includes('DEP0168')) sawDep0168 = true
    }
    child.stdout.on('data', take(process.stdout))
    child.stderr.on('data', take(process.stderr))
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeout)
    child.on('close', (status) => {
      clearTimeout(timer)
      const count = (name) => {
        const m = out.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))
        return m === null ? null : Number(m[1])
      }
      const pass = count('pass')
      const fail = count('fail')
      const cancelled = count('cancelled')
      const counted = pass !== null && fail !== null
      resolve({ status, timedOut, passed: pass ?? 0, failed: (fail ?? 0) + (cancelled ?? 0), counted, sawDep0168 })
    })
  })
}

/** Runs a command with its stderr both shown as it comes and scanned: resolves { status, sawDep0168 }. */
function runWatchingStderr(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['inherit', 'inherit', 'pipe'], env })
    let tail = ''
    let sawDep0168 = false
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk)
      tail = (tail + chunk.toString('utf8')).slice(-64) // a match may straddle two chunks
      if (tail.includes('DEP0168')) sawDep0168 = true
    })
    child.on('close', (status) => resolve({ status, sawDep0168 }))
  })
}

async function main() {
  let passed = 0
  let failed = 0

  // jest: counts from its JSON report. Every process of the run (jest's workers, and the child
  // processes tests start) uses the Node-API exception policy Node is moving to, under which an
  // exception escaping a Node-API callback is fatal instead of a DEP0168 warning; a DEP0168 warning
  // anywhere in the output fails the run all the same.
  fs.mkdirSync(path.dirname(jestJson), { recursive: true })
  fs.rmSync(jestJson, { force: true })
  const STRICT = '--force-node-api-uncaught-exceptions-policy=true'
  const nodeOptions = [process.env.NODE_OPTIONS, STRICT].filter(Boolean).join(' ')
  const jest = await runWatchingStderr(bin('jest'), ['--json', `--outputFile=${jestJson}`, ...process.argv.slice(2)], {
    ...process.env,
    NODE_OPTIONS: nodeOptions,
  })
  if (fs.existsSync(jestJson)) {
    const report = JSON.parse(fs.readFileSync(jestJson, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites
  }
  if (jest.status !== 0 && failed === 0) failed += 1 // jest failed outside any test
  if (jest.sawDep0168) {
    console.error('FAILED: a Node-API callback left an exception uncaught (DEP0168 in the output above)')
    failed += 1
  }

  // node:test: the files a user's `node --test` would run, under the same Node-API exception policy
  // as jest. A runner that crashes, or hangs (a pool keeping its file's process alive would), is a
  // failure of its own.
  const nodeTestFiles = fs
    .readdirSync(nodeTestDir)
    .filter((name) => /\.node-test\.[cm]?js$/.test(name))
    .sort()
    .map((name) => path.join('__test__', 'node-test', name))
  const nodeTest = await runNodeTest(nodeTestFiles, { ...process.env, NODE_OPTIONS: nodeOptions }, NODE_TEST_TIMEOUT)
  passed += nodeTest.passed
  failed += nodeTest.failed
  if (nodeTest.timedOut) {
    console.error(`FAILED: node --test did not finish within ${NODE_TEST_TIMEOUT / 1000} s (killed)`)
    failed += 1
  } else if (!nodeTest.counted || (nodeTest.status !== 0 && nodeTest.failed === 0)) {
    console.error(`FAILED: node --test exited with ${nodeTest.status} without counting a failure`)
    failed += 1
  }
  if (nodeTest.sawDep0168) {
    console.error('FAILED: a Node-API callback left an exception uncaught (DEP0168 in the node --test output above)')
    failed += 1
  }

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

  // For CI's closing line, the sum over every test step (scripts/test-summary.js).
  const countsDir = path.join(root, 'target', 'test-counts')
  fs.mkdirSync(countsDir, { recursive: true })
  fs.writeFileSync(path.join(countsDir, 'test.json'), `${JSON.stringify({ passed, failed })}\n`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

main()
