'use strict'
// `npm run test:memcheck`: the engine's Rust tests and a Node workload that drives the addon
// (scripts/memcheck-workload.js), each under valgrind memcheck. Fails on any error valgrind reports
// that the suppressions don't cover, and says so loudly when one has a frame in the addon (those are
// never suppressed, except the Node-API limits listed in scripts/valgrind/napi-limits.supp, each
// documented there; scripts/valgrind/node.supp matches only Node's, V8's, libuv's and glibc's own).
//
// The addon is built for this run with the system allocator (`--no-default-features --features
// binding,catalogue`: every default but mimalloc; profile `memcheck`): memcheck tracks malloc and free, and mimalloc hands out blocks from
// its own pages, where an overrun or a use after free would go unseen. The build goes to
// target/memcheck/ and is loaded through NAPI_RS_NATIVE_LIBRARY_PATH, so the release addon in the
// package root stays what it was.
//
// Installs valgrind with apt-get when it is missing (CI runs as root). Writes its counts to
// target/test-counts/memcheck.json for the closing line of .ci/run. Options: --rust-only, --node-only.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const outDir = path.join(root, 'target', 'memcheck-reports')
// node.supp: Node's, V8's, libuv's and glibc's own reports; napi-limits.supp: the few reports with a
// frame of ours that are limits of Node-API itself, each documented there.
const suppressions = ['node.supp', 'napi-limits.supp'].map((f) => path.join(__dirname, 'valgrind', f))
/** Objects and symbols of our own code: an error with any of them in a stack is ours. */
const OURS = /native[-_]pool|libnative_pool/

const args = new Set(process.argv.slice(2))
const counts = { passed: 0, failed: 0 }
const totals = { errors: 0, oursErrors: 0, suppressed: 0 }

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', stdio: 'inherit', ...opts })
  if (r.error) throw r.error
  return r
}

function ensureValgrind() {
  if (spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0) return
  if (process.getuid && process.getuid() !== 0) {
    console.error('memcheck: valgrind is missing; install it (Debian: apt-get install valgrind) or run as root')
    process.exit(1)
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (sh('apt-get', ['update'], { env }).status !== 0 || sh('apt-get', ['install', '-y', 'valgrind'], { env }).status !== 0) {
    console.error('memcheck: could not install valgrind')
    process.exit(1)
  }
}

/** The common memcheck flags; `xml` is where the report goes (`%p`: one file per process). */
function valgrind(xml, extra = []) {
  return [
    '--tool=memcheck',
    '--error-exitcode=99',
    // Pool threads poll the queue before they sleep; fair scheduling keeps a poller from starving the
    // thread it waits for under valgrind's one-thread-at-a-time scheduler.
    '--fair-sched=yes',
    '--num-callers=40',
    ...suppressions.map((f) => `--suppressions=${f}`),
    '--xml=yes',
    `--xml-file=${xml}`,
    ...extra,
  ]
}

const unxml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')

/** Reads a valgrind XML report: its errors (kind, what, frames) and how many were suppressed. */
function readReport(file) {
  const text = unxml(fs.readFileSync(file, 'utf8'))
  const errors = [...text.matchAll(/<error>([\s\S]*?)<\/error>/g)].map(([, body]) => {
    const kind = (body.match(/<kind>(.*?)<\/kind>/) || [])[1]
    const what = (body.match(/<text>([\s\S]*?)<\/text>/) || body.match(/<what>([\s\S]*?)<\/what>/) || [])[1]
    const frames = [...body.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].map(([, f]) => {
      const tag = (t) => (f.match(new RegExp(`<${t}>([\\s\\S]*?)</${t}>`)) || [])[1] || ''
      return { obj: tag('obj'), fn: tag('fn'), file: tag('file'), line: tag('line') }
    })
    return { kind, what, frames }
  })
  const suppressed = [...text.matchAll(/<pair>\s*<count>(\d+)<\/count>\s*<name>(.*?)<\/name>/g)].map((m) => ({
    count: Number(m[1]),
    name: m[2],
  }))
  return { errors, suppressed }
}

/** Adds one report to the totals and prints its errors; returns how many errors it had. */
function account(file, label) {
  const { errors, suppressed } = readReport(file)
  for (const s of suppressed) totals.suppressed += s.count
  for (const e of errors) {
    // Any stack of the error counts (where it happened, and where the block was allocated or freed).
    const ours = e.frames.some((f) => OURS.test(f.obj) || OURS.test(f.fn))
    totals.errors += 1
    if (ours) totals.oursErrors += 1
    console.error(`memcheck: ${label}: ${ours ? 'ERROR IN THE ADDON' : 'unsuppressed error'}: ${e.kind}: ${e.what}`)
    for (const f of e.frames.slice(0, 25)) {
      console.error(`    ${f.fn || '???'} (${f.file ? `${f.file}:${f.line}` : path.basename(f.obj)})`)
    }
  }
  const n = suppressed.reduce((a, s) => a + s.count, 0)
  console.log(`memcheck: ${label}: ${errors.length} errors, ${n} suppressed`)
  return errors.length
}

function freshReports(prefix) {
  for (const f of fs.readdirSync(outDir)) if (f.startsWith(prefix)) fs.rmSync(path.join(outDir, f))
}

/**
 * The test binaries of `cargo test --no-default-features` that run under memcheck, with the filter
 * each gets: the engine's (pool, queue, job state, context, values, stats, unwinding). The catalogue's
 * test vectors (tests/tasks.rs, the tasks:: unit tests) are left out: pure computation in safe Rust,
 * checked against reference crates, minutes natively and hours under valgrind.
 */
const RUST_TESTS = { 'lib native_pool': ['engine::'], 'test engine': [] }

/** The engine's tests (`cargo test --no-default-features`), each test binary under memcheck. */
function rustTests() {
  const build = sh('cargo', ['test', '--no-default-features', '--no-run', '--message-format=json-render-diagnostics'], {
    stdio: ['inherit', 'pipe', 'inherit'],
  })
  if (build.status !== 0) {
    counts.failed += 1
    return
  }
  const binaries = build.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((m) => m.reason === 'compiler-artifact' && m.executable && m.profile.test)
    // The library's unit tests: its target kinds are ["cdylib", "rlib"].
    .map((m) => ({ name: m.target.name, kind: m.target.kind.some((k) => k.endsWith('lib')) ? 'lib' : m.target.kind[0], exe: m.executable }))
  for (const { name, kind, exe } of binaries) {
    const label = `cargo ${kind} ${name}`
    const filter = RUST_TESTS[`${kind} ${name}`]
    if (!filter) continue
    const prefix = `rust-${kind}-${name}.`
    freshReports(prefix)
    const xml = path.join(outDir, `${prefix}%p.xml`)
    const r = sh('valgrind', [...valgrind(xml, ['--leak-check=full', '--show-leak-kinds=definite,indirect', '--errors-for-leak-kinds=definite,indirect']), exe, ...filter], {
      stdio: ['inherit', 'pipe', 'inherit'],
      env: { ...process.env, RUST_TEST_THREADS: '2' },
    })
    process.stdout.write(r.stdout)
    let counted = false
    for (const m of r.stdout.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
      counts.passed += Number(m[1])
      counts.failed += Number(m[2])
      counted = true
    }
    let errors = 0
    for (const f of fs.readdirSync(outDir)) if (f.startsWith(prefix)) errors += account(path.join(outDir, f), label)
    if (errors > 0) counts.failed += 1
    else if (r.status !== 0 && !counted) counts.failed += 1 // crashed outside any test
  }
}

/** The addon with the system allocator, for valgrind to see every block. */
function buildAddon() {
  const r = sh('cargo', ['build', '--lib', '--profile', 'memcheck', '--no-default-features', '--features', 'binding,catalogue'])
  if (r.status !== 0) return null
  const node = path.join(root, 'target', 'memcheck', 'native-pool.memcheck.node')
  fs.copyFileSync(path.join(root, 'target', 'memcheck', 'libnative_pool.so'), node)
  return node
}

/** The Node workload under memcheck, with our definite leaks counted as errors. */
function nodeWorkload() {
  const addon = buildAddon()
  if (!addon) {
    counts.failed += 1
    return
  }
  const prefix = 'node.'
  freshReports(prefix)
  const xml = path.join(outDir, `${prefix}%p.xml`)
  // Node never frees much of what it allocated at exit (isolate, snapshot, code space): a full leak
  // check of the process would be all theirs. Definite leaks still reach the report, and any with a
  // frame of ours is an error; the suppressions cover Node's own.
  const r = sh(
    'valgrind',
    [
      ...valgrind(xml, ['--leak-check=full', '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite']),
      process.execPath,
      path.join(__dirname, 'memcheck-workload.js'),
    ],
    { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: addon } },
  )
  process.stdout.write(r.stdout)
  const m = r.stdout.match(/(\d+) passed, (\d+) failed\s*$/)
  if (m) {
    counts.passed += Number(m[1])
    counts.failed += Number(m[2])
  }
  let errors = 0
  for (const f of fs.readdirSync(outDir)) if (f.startsWith(prefix)) errors += account(path.join(outDir, f), 'node workload')
  if (errors > 0 || (!m && r.status !== 0)) counts.failed += 1
}

ensureValgrind()
fs.mkdirSync(outDir, { recursive: true })
if (!args.has('--node-only')) rustTests()
if (!args.has('--rust-only')) nodeWorkload()

console.log(
  `memcheck: ${totals.errors} unsuppressed errors (${totals.oursErrors} with a frame in the addon), ` +
    `${totals.suppressed} suppressed (reports in ${path.relative(root, outDir)})`,
)
const countsDir = path.join(root, 'target', 'test-counts')
fs.mkdirSync(countsDir, { recursive: true })
fs.writeFileSync(path.join(countsDir, 'memcheck.json'), JSON.stringify(counts))
console.log(`${counts.passed} passed, ${counts.failed} failed`)
process.exit(counts.failed === 0 ? 0 : 1)
