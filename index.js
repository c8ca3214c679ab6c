'use strict'
// native-pool: run named native (Rust) tasks on a pool of threads; see README.md.

const { Pool, TaskHandle } = require('./lib/pool.js')
const { codes } = require('./lib/errors.js')

module.exports = { Pool, TaskHandle, codes }
