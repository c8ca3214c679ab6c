'use strict'
// JS tasks of the packed app: the classic worker_threads example's loop, and one with progress and
// binary data, run on the pool's Workers from the installed package.

const crypto = require('node:crypto')

exports.performTask = function performTask(iterations) {
  let total = 0
  for (let i = 0; i < iterations; i++) total += i
  return total
}

exports.digest = function digest({ data, steps }, ctx) {
  for (let i = 1; i <= steps; i++) ctx.post({ step: i })
  return crypto.createHash('sha256').update(data).digest()
}
