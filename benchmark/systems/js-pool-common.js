'use strict'
// What the JS pools share: their tasks are the functions of js-tasks.js, so every generic task is
// available, and the start-up probe is the barrier task run once per thread.

const path = require('node:path')
const fs = require('node:fs')
const tasks = require('./js-tasks')

const TASKS_FILE = path.join(__dirname, 'js-tasks.js')

function packageVersion(name) {
  const file = path.join(__dirname, '..', '..', 'node_modules', name, 'package.json')
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).version
  } catch {
    return 'not installed'
  }
}

function unavailable(task) {
  return typeof tasks[task] === 'function' ? null : `no JS implementation of '${task}'`
}

/** Runs `parties` barrier tasks at once: resolves with the distinct thread ids that answered. */
async function barrierProbe(run, parties) {
  const sab = new SharedArrayBuffer(4)
  const ids = await Promise.all(Array.from({ length: parties }, () => run('barrier', { sab, parties })))
  return ids
}

module.exports = { TASKS_FILE, packageVersion, unavailable, barrierProbe }
