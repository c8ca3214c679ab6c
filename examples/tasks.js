'use strict'
// JS tasks for `npm run demo`: the classic worker_threads example's job, as a module the pool loads.

/** The classic example's loop, unchanged: the sum of 0 … iterations-1. */
function performTask(iterations) {
  let total = 0
  for (let i = 0; i < iterations; i++) total += i
  return total
}

/** The same loop, posting `{ progress }` at every whole percent and stopping when cancelled. */
function performTaskWithProgress(iterations, ctx) {
  let total = 0
  let percent = 0
  let next = Math.ceil(iterations / 100)
  for (let i = 0; i < iterations; i++) {
    total += i
    if (i + 1 === next) {
      percent++
      ctx.post({ progress: percent / 100 })
      ctx.throwIfAborted()
      next = Math.ceil((iterations * (percent + 1)) / 100)
    }
  }
  return total
}

module.exports = { performTask, performTaskWithProgress }
