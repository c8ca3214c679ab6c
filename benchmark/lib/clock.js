'use strict'
// Monotonic time in milliseconds and microseconds, from process.hrtime.bigint().

const now = () => process.hrtime.bigint()
const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
const usSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e3

module.exports = { now, msSince, usSince }
