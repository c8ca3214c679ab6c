'use strict'
// Helpers shared by the jest tests: child processes with a safety-net timeout, and waiting on events.

const path = require('node:path')
const { spawn } = require('node:child_process')
const { once } = require('node:events')

/** The package root, as users require it. */
const ROOT = path.resolve(__dirname, '..')

/**
 * Runs `code` in a fresh `node` process (CommonJS, cwd = package root, test tasks enabled).
 * Resolves with { code, signal, stdout, stderr, killed } once the process has exited. `killed` is
 * true when the safety net (`timeout` ms) had to kill it: a test asserts on it, never on time.
 */
function runNode(code, { args = [], timeout = 20000, env = {}, shell } = {}) {
  const argv = [...args, '-e', code]
  const fullEnv = { ...process.env, NATIVE_POOL_TEST_TASKS: '1', ...env }
  return shell
    ? runProcess('sh', ['-c', `${shell}; exec "$0" "$@"`, process.execPath, ...argv], { env: fullEnv, timeout })
    : runProcess(process.execPath, argv, { env: fullEnv, timeout })
}

/**
 * Runs `command` with `args` (cwd = package root, environment `env` as given). Resolves with
 * { code, signal, stdout, stderr, killed, stopped } once it has exited: `killed` when the safety net
 * (`timeout` ms) had to kill it, `stopped` when `until(stdout, stderr)` held on some output and it
 * was killed then (a test asserts on these, never on time).
 */
function runProcess(command, args, { env, timeout, until }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env })
    let stdout = ''
    let stderr = ''
    let killed = false
    let stopped = false
    const check = () => {
      if (until !== undefined && !stopped && until(stdout, stderr)) {
        stopped = true
        child.kill('SIGKILL')
      }
    }
    child.stdout.on('data', (d) => {
      stdout += d
      check()
    })
    child.stderr.on('data', (d) => {
      stderr += d
      check()
    })
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, timeout)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, killed, stopped })
    })
  })
}

/** Resolves with the arguments of the next `event` on `emitter`. */
function next(emitter, event) {
  return once(emitter, event)
}

/** A promise that settles with an outcome record instead of rejecting: { ok, value } or { ok: false, error }. */
function settle(promise) {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error }),
  )
}

/** Calls `fn` and fails if it throws synchronously; returns what it returned. */
function noThrow(fn) {
  let out
  expect(() => {
    out = fn()
  }).not.toThrow()
  return out
}

/**
 * Waits for a spawned task to finish, collecting its progress messages: resolves with
 * { result, progress } once 'exit' has fired, so that every message has been delivered.
 */
async function withProgress(task) {
  const progress = []
  task.on('message', (m) => progress.push(m.progress))
  const exited = once(task, 'exit')
  const result = await task.result
  await exited
  return { result, progress }
}

/** What a completed task posts: each whole percent once, in order, ending at 1. */
const EVERY_PERCENT = Array.from({ length: 100 }, (_, k) => (k + 1) / 100)

module.exports = { ROOT, runNode, runProcess, next, settle, noThrow, withProgress, EVERY_PERCENT }
