'use strict'
// piscina's worker for bench.js: the JS reference kernel, its result as a Buffer like the task's.
const { mandelbrot } = require('./__test__/reference.js')

module.exports = (view) => Buffer.from(mandelbrot(view).buffer)
