'use strict'
// Small statistics helpers: quantiles with linear interpolation, and the summary every result line
// carries (median, min, max, quartiles, relative spread).

function sorted(xs) {
  return Float64Array.from(xs).sort()
}

/** q in [0, 1] of an already sorted array, linearly interpolated. */
function quantileSorted(s, q) {
  if (s.length === 0) return NaN
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}

function quantile(xs, q) {
  return quantileSorted(sorted(xs), q)
}

function median(xs) {
  return quantile(xs, 0.5)
}

/** What a result line reports about a set of repetitions. `spread` is (max - min) / median. */
function summarize(samples) {
  const s = sorted(samples)
  const med = quantileSorted(s, 0.5)
  return {
    median: med,
    min: s[0],
    max: s[s.length - 1],
    p25: quantileSorted(s, 0.25),
    p75: quantileSorted(s, 0.75),
    spread: med === 0 ? 0 : (s[s.length - 1] - s[0]) / Math.abs(med),
    n: s.length,
    samples: Array.from(samples),
  }
}

/** p50 / p99 / max of a latency sample (any unit). */
function latencySummary(xs) {
  const s = sorted(xs)
  return { p50: quantileSorted(s, 0.5), p90: quantileSorted(s, 0.9), p99: quantileSorted(s, 0.99), max: s[s.length - 1], n: s.length }
}

module.exports = { quantile, median, summarize, latencySummary, sorted, quantileSorted }
