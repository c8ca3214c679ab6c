'use strict'
// Writes RESULTS.md from one run's result lines: the machine and command, a headline table, each
// workload's table (median, spread, ratio to piscina and to inline from the same run), and the
// goals of issue 5 with the measured figure beside each; the JS-task section (issue 11) as one table,
// a row per measurement and a column per system.

const fs = require('node:fs')

const SYSTEM_ORDER = ['native-pool', 'piscina', 'tinypool', 'workerpool', 'worker_threads', 'inline']

function fmtNum(x, digits = 3) {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  return x.toPrecision(digits)
}

function fmtRate(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M/s`
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k/s`
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k/s`
  return `${fmtNum(x)}/s`
}

function fmtValue(line, x) {
  switch (line.metric) {
    case 'tasks/s':
      return fmtRate(x)
    case 'p50 µs':
    case 'readFile p99 µs':
      return `${fmtNum(x)} µs`
    case 'ms':
    case 'saturated p99 ms':
      return `${fmtNum(x)} ms`
    case 'MB above bare Node at rest':
    case 'MB':
      return `${fmtNum(x)} MB`
    default:
      return line.metric.startsWith('speed-up') ? `${x.toFixed(2)}×` : fmtNum(x)
  }
}

/** How many times better `line` is than `ref` (> 1: better), whatever the metric's direction. */
function ratio(line, ref) {
  if (!ref || ref.status !== 'ok' || line.status !== 'ok') return null
  if (ref.median === 0 || line.median === 0) return null // e.g. inline's memory at rest: no ratio to speak of
  if (line.better === 'higher') return line.median / ref.median
  return ref.median / line.median
}

const fmtRatio = (r) => (r === null || !Number.isFinite(r) ? '–' : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`)

function extraColumns(line) {
  const bits = []
  if (line.workload === 'roundtrip' && line.p99) bits.push(`p99 ${fmtNum(line.p99.median)} µs`)
  if (line.workload === 'event-loop') {
    bits.push(`idle p99 ${fmtNum(line.idleP99.median)} ms`)
    bits.push(`excess p99 ${fmtNum(line.excessP99Ms.median)} ms`)
    bits.push(`saturated max ${fmtNum(line.saturatedMax.median)} ms`)
  }
  if (line.workload === 'startup-require') bits.push(`require ${fmtNum(line.requireMs)} ms, create → first answer ${fmtNum(line.firstAnswerMs)} ms (medians)`)
  if (line.workload === 'memory') {
    if (line.restAnonMB !== null && line.restAnonMB !== undefined)
      bits.push(`at rest: anonymous +${fmtNum(line.restAnonMB)} MB, file-backed (mapped code) +${fmtNum(line.restFileMB)} MB`)
    bits.push(`after each round of ${line.tasksPerRound.toLocaleString('en-US')} tasks: ${line.afterRoundsMB.map((x) => `+${fmtNum(x)}`).join(', ')} MB`)
    bits.push(`last round ${line.lastRoundGrowthMB >= 0 ? '+' : ''}${fmtNum(line.lastRoundGrowthMB)} MB`)
  }
  if (line.workload === 'isolation' && line.p50Us) bits.push(`p50 ${fmtNum(line.p50Us.median)} µs; ${line.reads} reads, ${line.loadTasks} load tasks`)
  if (line.workload.startsWith('scaling-') && line.tasksPerSecondByThreads)
    bits.push(Object.entries(line.tasksPerSecondByThreads).map(([t, v]) => `${t}t: ${fmtRate(v.median)} using ${v.coresUsed.toFixed(2)} cores`).join(', '))
  if (line.coresUsed) bits.push(`${line.coresUsed.median.toFixed(2)} cores used`)
  if (line.extra && line.extra.compressedRatio) bits.push(`output ${(line.extra.compressedRatio * 100).toFixed(1)}% of input`)
  return bits.join('; ')
}

function groupByWorkload(lines) {
  const groups = new Map()
  for (const l of lines) {
    if (!groups.has(l.workload)) groups.set(l.workload, [])
    groups.get(l.workload).push(l)
  }
  return groups
}

function find(lines, workload, system) {
  return lines.find((l) => l.workload === workload && l.system === system)
}

function workloadTable(group) {
  const wl = group[0].workload
  const refNames = wl === 'isolation' ? ['piscina', 'idle'] : ['piscina', 'inline']
  const refs = refNames.map((n) => group.find((l) => l.system === n))
  const rows = []
  rows.push(`| system | threads | median | spread (min … max) | × ${refNames[0]} | × ${refNames[1]} | also | checked |`)
  rows.push('|---|---|---|---|---|---|---|---|')
  for (const l of group) {
    if (l.status !== 'ok') {
      rows.push(`| ${l.system} | ${l.threads ?? ''} | ${l.status} | ${String(l.reason).replace(/\|/g, '\\|')} | | | | |`)
      continue
    }
    rows.push(
      `| ${l.system === 'native-pool' ? '**native-pool**' : l.system} | ${l.threads} | ${fmtValue(l, l.median)} | ` +
        `${fmtValue(l, l.min)} … ${fmtValue(l, l.max)} (±${((l.spread / 2) * 100).toFixed(0)}%, n=${l.n}) | ` +
        `${fmtRatio(ratio(l, refs[0]))} | ${fmtRatio(ratio(l, refs[1]))} | ${extraColumns(l)} | ${l.checked ?? ''} |`,
    )
  }
  return rows.join('\n')
}

const HEADLINE = ['empty', 'roundtrip', 'sum', 'fib', 'sha256', 'gzip', 'scrypt', 'bcrypt', 'event-loop', 'startup', 'startup-require', 'memory']

function headline(lines) {
  const systems = SYSTEM_ORDER.filter((s) => lines.some((l) => l.system === s))
  const rows = [`| workload | ${systems.join(' | ')} | native-pool vs piscina |`, `|---|${systems.map(() => '---').join('|')}|---|`]
  for (const wl of HEADLINE) {
    const group = lines.filter((l) => l.workload === wl)
    if (!group.length) continue
    const cells = systems.map((s) => {
      const l = group.find((x) => x.system === s)
      if (!l) return ''
      if (l.status !== 'ok') return l.status
      return fmtValue(l, l.median)
    })
    const ours = group.find((l) => l.system === 'native-pool')
    const pis = group.find((l) => l.system === 'piscina')
    const label = { empty: 'empty tasks, throughput', roundtrip: 'one-at-a-time round trip p50', 'event-loop': 'event-loop delay p99, saturated', startup: 'start-up to every thread', 'startup-require': 'require → first answer (fresh process)', memory: 'RSS above bare Node, at rest' }[wl] || group[0].title
    rows.push(`| ${label} | ${cells.join(' | ')} | ${ours ? fmtRatio(ratio(ours, pis)) : '–'} |`)
  }
  return rows.join('\n')
}

function goals(lines, threads) {
  const ours = (wl) => find(lines, wl, 'native-pool')
  const ok = (l) => l && l.status === 'ok'
  const vsPiscina = (wl) => fmtRatio(ok(ours(wl)) ? ratio(ours(wl), find(lines, wl, 'piscina')) : null)
  const notMeasured = (l) => (l ? `not measured: ${l.reason || l.status}` : 'not measured in this run')
  const verdict = (pass) => (pass ? 'met' : '**missed**')
  const rows = ['| goal | target | measured (native-pool, median) | × piscina | verdict |', '|---|---|---|---|---|']
  const row = (goal, target, l, measured, pass, wl) =>
    rows.push(`| ${goal} | ${target} | ${ok(l) ? measured() : notMeasured(l)} | ${wl ? vsPiscina(wl) : '–'} | ${ok(l) ? verdict(pass()) : '–'} |`)

  const empty = ours('empty')
  const pisEmpty = find(lines, 'empty', 'piscina')
  row('empty tasks: throughput', '≥ 20× piscina (aim 1,000,000/s)', empty, () => fmtRate(empty.median), () => ratio(empty, pisEmpty) >= 20, 'empty')
  const rt = ours('roundtrip')
  row('empty task: one-at-a-time round trip p50', '≤ 20 µs', rt, () => `${fmtNum(rt.median)} µs (p99 ${fmtNum(rt.p99.median)} µs)`, () => rt.median <= 20, 'roundtrip')
  for (const wl of ['fib', 'sum', 'sha256', 'gzip']) {
    const s = ours(`scaling-${wl}`)
    row(`${wl}: ${threads} threads vs 1`, threads === 2 ? '≥ 1.9×' : `(goal stated for 2 threads)`, s, () => `${s.median.toFixed(2)}×`, () => s.median >= 1.9, `scaling-${wl}`)
  }
  for (const wl of ['fib', 'sha256']) {
    const l = ours(wl)
    row(`${wl}: throughput vs piscina`, '≥ 3× piscina', l, () => fmtRate(l.median), () => ratio(l, find(lines, wl, 'piscina')) >= 3, wl)
  }
  const eld = ours('event-loop')
  row('event-loop delay p99 while saturated', '≤ idle p99 + 1 ms', eld, () => `${fmtNum(eld.median)} ms (idle ${fmtNum(eld.idleP99.median)} ms, excess ${fmtNum(eld.excessP99Ms.median)} ms)`, () => eld.excessP99Ms.median <= 1, 'event-loop')
  const st = ours('startup')
  row('start-up to a first answer from every thread', '≤ 2 ms', st, () => `${fmtNum(st.median)} ms`, () => st.median <= 2, 'startup')
  const mem = ours('memory')
  row(
    'memory at rest',
    '≤ 5 MB above bare Node',
    mem,
    () => `${fmtNum(mem.median)} MB RSS${mem.restAnonMB !== null && mem.restAnonMB !== undefined ? ` (anonymous +${fmtNum(mem.restAnonMB)} MB, file-backed addon code +${fmtNum(mem.restFileMB)} MB)` : ''}`,
    () => mem.median <= 5,
    'memory',
  )
  const inl = find(lines, 'memory', 'inline')
  row(
    'memory after empty tasks',
    'flat',
    mem,
    () =>
      `${mem.afterRoundsMB.map((x) => `+${fmtNum(x)}`).join(', ')} MB above bare after each round of ${mem.tasksPerRound.toLocaleString('en-US')} tasks ` +
      `(last round ${fmtNum(mem.lastRoundGrowthMB)} MB${ok(inl) ? `; inline, no pool: ${inl.afterRoundsMB.map((x) => `+${fmtNum(x)}`).join(', ')} MB` : ''})`,
    () => mem.lastRoundGrowthMB <= 1,
    null,
  )
  const iso = find(lines, 'isolation', 'native-pool')
  const idle = find(lines, 'isolation', 'idle')
  const bc = find(lines, 'isolation', 'bcrypt (libuv)')
  row(
    'fs.readFile p99 while our pool is saturated',
    'indistinguishable from idle',
    iso,
    () =>
      `${fmtNum(iso.median)} µs (idle ${ok(idle) ? fmtNum(idle.median) : '?'} µs, range ${ok(idle) ? `${fmtNum(idle.min)}…${fmtNum(idle.max)}` : '?'}; ` +
      `piscina load ${ok(find(lines, 'isolation', 'piscina')) ? fmtNum(find(lines, 'isolation', 'piscina').median) : '?'} µs; bcrypt on libuv ${ok(bc) ? fmtNum(bc.median) : '?'} µs)`,
    () => ok(idle) && iso.median <= idle.max && iso.p50Us.median <= idle.p50Us.median * 1.25,
    null,
  )
  rows.push('')
  rows.push(
    '"× piscina" is how many times better than piscina on the same metric in this run (> 1: better). ' +
      'Memory counts as flat when the last round of tasks grew RSS by at most 1 MB. ' +
      'The isolation verdict counts as met when the median p99 is within the range of the idle repetitions and the median p50 within 25% of idle\'s.',
  )
  return rows.join('\n')
}

// The JS-task section: whose figures the ratio columns divide, and by whose.
const JS_OURS = 'native-pool JS tasks'
const JS_REFS = ['piscina', 'postMessage pool']

/**
 * The JS-task section's table: a row per measurement (in the order the section emitted them), a
 * column per system (the median of its repetitions, ± half its spread), then ours ÷ each reference,
 * a plain quotient of medians whose good direction the "better" column gives.
 */
function jsTasksTable(lines) {
  const js = lines.filter((l) => l.section === 'js-tasks')
  const systems = [...new Set(js.map((l) => l.system))]
  const rows = [...groupByWorkload(js).values()]
  const md = []
  md.push(`| measurement | better | ${systems.map((s) => (s === JS_OURS ? `**${s}**` : s)).join(' | ')} | ${JS_REFS.map((r) => `ours ÷ ${r}`).join(' | ')} |`)
  md.push(`|---|---|${systems.map(() => '---|').join('')}${JS_REFS.map(() => '---|').join('')}`)
  const failures = new Map()
  for (const group of rows) {
    const ok = group.find((l) => l.status === 'ok')
    const cells = systems.map((s) => {
      const l = group.find((x) => x.system === s)
      if (!l) return ''
      if (l.status !== 'ok') {
        failures.set(s, `${l.status}: ${l.reason}`)
        return l.status
      }
      return `${fmtValue(l, l.median)}${l.n > 1 ? ` ±${((l.spread / 2) * 100).toFixed(0)}%` : ''}`
    })
    const ours = group.find((l) => l.system === JS_OURS && l.status === 'ok')
    const quotients = JS_REFS.map((r) => {
      const ref = group.find((l) => l.system === r && l.status === 'ok')
      return ours && ref && ref.median !== 0 ? fmtRatio(ours.median / ref.median) : '–'
    })
    const better = ok ? (ok.better === 'higher' ? 'higher (ratio > 1)' : 'lower (ratio < 1)') : ''
    md.push(`| ${group[0].title} | ${better} | ${cells.join(' | ')} | ${quotients.join(' | ')} |`)
  }
  const checked = systems.map((s) => js.filter((l) => l.system === s && l.status === 'ok').reduce((a, l) => a + (l.checked || 0), 0).toLocaleString('en-US'))
  md.push(`| answers checked | | ${checked.join(' | ')} | | |`)
  for (const [s, why] of failures) md.push('', `${s}: ${why}`)
  return md.join('\n')
}

function jsTasksSection(lines) {
  const js = lines.filter((l) => l.section === 'js-tasks')
  const samples = [...groupByWorkload(js).values()].map((g) => `${g[0].workload.replace(/^js-tasks-/, '')} ${Math.max(0, ...g.filter((l) => l.status === 'ok').map((l) => l.n))}`).join(', ')
  const warmups = [...groupByWorkload(js).values()].map((g) => `${g[0].workload.replace(/^js-tasks-/, '')} ${g[0].warmup}`).join(', ')
  return [
    'The same JavaScript functions (benchmark/systems/js-tasks.js) on native-pool\'s JS-task Workers, a minimal promise-per-task ' +
      'postMessage pool (the transport alone), piscina, tinypool, workerpool and the plain worker_threads pool, ' +
      `${js[0].threads} Workers each, each system in processes of its own: start-up and RSS a fresh process per sample, ` +
      'the other rows one process per system, the systems taking turns sample by sample. ' +
      `A cell is the median of the samples (${samples}) ± half their spread. Each timed sample follows an untimed warm-up of the same workload ` +
      `on the same pool, identical for every system (${warmups}). The ratio columns are ours ÷ that system, medians of this run; ` +
      '"better" says which way is good. Every answer is checked (benchmark/README.md).',
    '',
    jsTasksTable(lines),
  ].join('\n')
}

function writeReport(file, { lines, env, opts, command, npmCommand, started, seconds }) {
  const p = env.packages
  const md = []
  md.push('# native-pool benchmark results')
  md.push('')
  md.push(`Generated by \`${command}\`${npmCommand ? ` (\`${npmCommand}\`)` : ''} on ${started.toISOString()}, in ${seconds.toFixed(0)} s (${opts.mode} mode). Do not edit: rerun the command.`)
  md.push('')
  md.push('| machine | |')
  md.push('|---|---|')
  md.push(`| CPU | ${env.cpu}, ${env.cores} cores (availableParallelism ${env.availableParallelism}) |`)
  md.push(`| memory, OS | ${env.memoryGB} GB, ${env.os} |`)
  md.push(`| Node | ${env.node} (V8 ${env.v8}), UV_THREADPOOL_SIZE ${env.uvThreadpoolSize} |`)
  md.push(`| Rust | ${env.rustc || 'unknown'} |`)
  md.push(`| packages | native-pool ${p['native-pool']} (commit ${env.commit}${env.dirty ? ', uncommitted changes' : ''}), piscina ${p.piscina}, tinypool ${p.tinypool}, workerpool ${p.workerpool}, bcrypt ${p.bcrypt}, bcryptjs ${p.bcryptjs} |`)
  md.push(`| threads per pool | ${opts.threads} (every pool; inline is the main thread alone) |`)
  md.push(
    `| native-pool thread priority | ${opts.nice === null ? 'its default niceIncrement (0: its threads run at the same priority as the main thread and the JS pools\' threads)' : `niceIncrement ${opts.nice} (--nice)`} |`,
  )
  md.push(`| load average | ${env.loadAverage.join(' ')} at start, ${env.loadAverageAtEnd.join(' ')} at end (the machine is shared: other load inflates every system alike, since repetitions are interleaved) |`)
  // The JS-task section has its own table; the others' tables leave it out (and are left out when
  // only it ran).
  const others = lines.filter((l) => l.section !== 'js-tasks')
  if (others.length > 0) {
    md.push('')
    md.push('## Headline (medians)')
    md.push('')
    md.push(headline(others))
    md.push('')
    md.push('## Goals (issue 5)')
    md.push('')
    md.push(goals(others, opts.threads))
  }
  if (others.length < lines.length) {
    md.push('')
    md.push('## JavaScript tasks (issue 11)')
    md.push('')
    md.push(jsTasksSection(lines))
  }
  if (others.length > 0) {
    md.push('')
    md.push('## Every workload')
    md.push('')
    md.push(
      'Median over the repetitions, the smallest and largest repetition, and how many times better each system is than piscina and than inline ' +
        '(> 1: better), from this run. "checked" counts answers verified against an independent reference (see benchmark/README.md). ' +
        'Skipped and failed rows carry their reason.',
    )
    for (const [wl, group] of groupByWorkload(others)) {
      md.push('')
      md.push(`### ${wl}: ${group[0].title}`)
      const note = group.find((l) => l.note)
      if (note) md.push('', note.note + '.')
      md.push('')
      md.push(workloadTable(group))
    }
  }
  md.push('')
  fs.writeFileSync(file, md.join('\n'))
}

module.exports = { writeReport, ratio, jsTasksSection }
