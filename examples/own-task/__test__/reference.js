'use strict'
// The same kernel in plain JS, written from the definition (escape-time Mandelbrot, row by row): the
// independent reference the addon's output is compared with, and the benchmark's JS side.

function mandelbrot({ width, height, maxIter = 255, centerX = -0.5, centerY = 0, span = 3 }) {
  const out = new Uint8Array(width * height)
  const scale = span / width
  for (let y = 0; y < height; y++) {
    const ci = centerY + (y - height / 2) * scale
    for (let x = 0; x < width; x++) {
      const cr = centerX + (x - width / 2) * scale
      let zr = 0
      let zi = 0
      let i = 0
      while (i < maxIter && zr * zr + zi * zi <= 4) {
        const next = zr * zr - zi * zi + cr
        zi = 2 * zr * zi + ci
        zr = next
        i++
      }
      out[y * width + x] = i
    }
  }
  return out
}

module.exports = { mandelbrot }
