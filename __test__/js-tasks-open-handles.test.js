'use strict'
// JS-task pools under jest, as a user's test suite has them: jest itself runs in a child process on
// one fixture of __test__/fixtures/jest-open-handles (a pool of JS tasks used, then closed or left
// idle). `--detectOpenHandles` must report nothing of the pool, and jest must exit by itself. A
// control fixture leaves a ref'd setInterval: the detector must report it, so we know it works here.
// The child's timeout is only a safety net: the assertions are on its exit, its output and its report.

const path = require('node:path')
const { ROOT, runProcess } = require('./helpers.js')

const FIXTURES = path.join(__dirname, 'fixtures', 'jest-open-handles')
const CONFIG = path.join(FIXTURES, 'jest.config.js')
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js')
const DETECTED = 'Jest has detected the following'
const DID_NOT_EXIT = 'did not exit'
const SAFETY_NET = 60000

jest.setTimeout(SAFETY_NET + 30000)

/**
 * Runs jest on one fixture in a child process. Resolves with { code, signal, killed, stdout, stderr,
 * report } once it has exited, or once `until(stdout, stderr)` holds (then it is killed: `killed`
 * stays false, `stopped` is true), or when the safety net kills it (`killed` true). `report` is
 * jest's --json report, parsed from stdout.
 */
async function runJest(fixture, { detectOpenHandles = true, until } = {}) {
  const args = [JEST, '--config', CONFIG, '--json', '--runTestsByPath', path.join(FIXTURES, fixture)]
  if (detectOpenHandles) args.push('--detectOpenHandles')
  const env = { ...process.env }
  // This jest's own worker id is not the child's.
  delete env.JEST_WORKER_ID
  const out = await runProcess(process.execPath, args, { env, timeout: SAFETY_NET, until })
  return { ...out, report: parseReport(out.stdout) }
}

/** jest's --json report (the whole of its stdout), or null while it is incomplete. */
function parseReport(stdout) {
  try {
    return JSON.parse(stdout)
  } catch {
    return null
  }
}

/** The fixture's tests, all passed: the pool worked under the child jest too. */
function expectPassed(out, count) {
  expect(out.report).not.toBeNull()
  expect(out.report).toMatchObject({ success: true, numPassedTests: count, numFailedTests: 0, numTotalTests: count })
}

test('jest --detectOpenHandles reports nothing after close(), and exits by itself with 0', async () => {
  const out = await runJest('closed.fixture.js')
  expect(out.killed).toBe(false)
  expect(out.code).toBe(0)
  expectPassed(out, 5)
  expect(out.report.openHandles).toEqual([])
  expect(out.stderr).not.toContain(DETECTED)
  expect(out.stderr).not.toContain(DID_NOT_EXIT)
})

test('a JS-task pool left idle, never closed, does not keep jest --detectOpenHandles alive', async () => {
  const out = await runJest('idle.fixture.js')
  expect(out.killed).toBe(false)
  expect(out.code).toBe(0)
  expectPassed(out, 4)
  expect(out.report.openHandles).toEqual([])
  expect(out.stderr).not.toContain(DETECTED)
  expect(out.stderr).not.toContain(DID_NOT_EXIT)
})

test('a JS-task pool left idle does not keep plain jest alive ("did not exit one second after")', async () => {
  const out = await runJest('idle.fixture.js', { detectOpenHandles: false })
  expect(out.killed).toBe(false)
  expect(out.code).toBe(0)
  expectPassed(out, 4)
  expect(out.stderr).not.toContain(DID_NOT_EXIT)
})

test('control: a ref\'d setInterval left by the same fixture is reported, and only it', async () => {
  // Jest reports the handle and then waits for it forever: the child is stopped once both the
  // report and the detector's message are out.
  const out = await runJest('leaky-interval.fixture.js', {
    until: (stdout, stderr) => stderr.includes(DETECTED) && parseReport(stdout) !== null,
  })
  expect(out.killed).toBe(false)
  expect(out.stopped).toBe(true)
  expectPassed(out, 6)
  expect(out.stderr).toContain(`${DETECTED} 1 open handle`)
  expect(out.report.openHandles).toHaveLength(1)
  expect(out.report.openHandles[0].message).toBe('Timeout')
  expect(out.report.openHandles[0].stack).toContain('leaky-interval.fixture.js')
})
