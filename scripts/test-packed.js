'use strict'
// `npm run test:packed` (a CI step after `npm test`): what a user of the published packages gets, on
// this machine's platform. It packs the main package (with the optionalDependencies that
// `napi pre-publish` adds at release) and this platform's npm/<platform> package with the binary
// (`npm pack`), installs both tarballs into a fresh app outside the repository with no Rust
// toolchain on PATH, runs the app's own jest suite and an ESM script there (scripts/test-packed/),
// then checks, in a second app without the platform package, that loading fails with an error
// naming the platform, and that both documented source-build paths work (NAPI_RS_NATIVE_LIBRARY_PATH;
// `npm install /path/to/clone`).
// Counts go to target/test-counts/packed.json (`{"passed":N,"failed":M}`, summed by
// scripts/test-summary.js).
//
//   node scripts/test-packed.js [--binary FILE] [--keep]
//     --binary FILE  package this prebuilt .node (e.g. a release build's artifact) instead of
//                    building one with `npm run build`
//     --keep         keep the temporary directory (it is kept anyway when something failed)

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const fixtures = path.join(__dirname, 'test-packed')
const pkg = require('../package.json')
const argv = process.argv.slice(2)
const keep = argv.includes('--keep')
const binaryArg = argv.includes('--binary') ? path.resolve(argv[argv.indexOf('--binary') + 1]) : null

/** napi-rs's name for this machine's platform, as in npm/<platform> and the loader. */
function hostTriple() {
  let abi = ''
  if (process.platform === 'linux') abi = process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl'
  else if (process.platform === 'win32') abi = '-msvc'
  return `${process.platform}-${process.arch}${abi}`
}

const triple = hostTriple()
const platformPkg = `${pkg.name}-${triple}`
const nodeFile = `${pkg.napi.binaryName}.${triple}.node`
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'native-pool-packed-'))

let passed = 0
let failed = 0
const measured = {}

function check(name, fn) {
  try {
    fn()
    passed += 1
    console.log(`  ok - ${name}`)
  } catch (err) {
    failed += 1
    console.log(`  not ok - ${name}\n    ${String(err && err.message).split('\n').join('\n    ')}`)
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message)
}

function sh(cmd, args, opts = {}) {
  const started = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { encoding: 'utf8', shell: process.platform === 'win32', ...opts })
  r.seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (opts.mustPass && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.error || ''}\n${r.stdout}\n${r.stderr}`)
  }
  return r
}

/** PATH without any directory holding cargo or rustc, and an environment without npm's run-script variables. */
function cleanEnv() {
  const exe = process.platform === 'win32' ? '.exe' : ''
  const dirs = (process.env.PATH || '').split(path.delimiter).filter((dir) => dir
    && !fs.existsSync(path.join(dir, `cargo${exe}`)) && !fs.existsSync(path.join(dir, `rustc${exe}`)))
  // node and npm must stay reachable even if they sat beside cargo.
  const nodeDir = path.dirname(process.execPath)
  if (!dirs.includes(nodeDir)) dirs.unshift(nodeDir)
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|NAPI_RS_|CARGO|RUSTUP)/i.test(k) && k.toUpperCase() !== 'PATH') env[k] = v
  }
  env.PATH = dirs.join(path.delimiter)
  return env
}

function duBytes(dir) {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    total += entry.isDirectory() ? duBytes(p) : fs.lstatSync(p).size
  }
  return total
}

function pack(dir) {
  const r = sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: dir, mustPass: true })
  const [info] = JSON.parse(r.stdout)
  return { ...info, tarball: path.join(tmp, info.filename) }
}

function writeApp(dir, manifest) {
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, ...manifest }, null, 2)}\n`)
}

async function main() {
  console.log(`test-packed: ${platformPkg} in ${tmp}`)

  // 1. The binary: built here from source, or given.
  const builtNode = binaryArg || path.join(root, nodeFile)
  if (!binaryArg) sh('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', mustPass: true })
  assert(fs.existsSync(builtNode), `no ${builtNode}`)

  // 2. Pack both packages as the release workflow publishes them: the platform package from a copy
  // of npm/<platform> with the binary added (what `napi artifacts` does), the main package from a
  // copy of its files whose package.json gets the optionalDependencies `napi pre-publish` writes
  // (`<packageName>-<platform>` at the package's exact version for every napi.targets entry) and
  // loses `prepare`.
  const { readNapiConfig } = require('@napi-rs/cli')
  const config = await readNapiConfig(path.join(root, 'package.json'))
  const optionalDependencies = Object.fromEntries(config.targets.map((t) => [`${config.packageName}-${t.platformArchABI}`, pkg.version]))
  const staged = path.join(tmp, `npm-${triple}`)
  fs.cpSync(path.join(root, 'npm', triple), staged, { recursive: true })
  fs.copyFileSync(builtNode, path.join(staged, nodeFile))
  const stagedMain = path.join(tmp, 'main')
  const listing = JSON.parse(sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, mustPass: true }).stdout)[0]
  for (const { path: file } of listing.files) {
    fs.mkdirSync(path.dirname(path.join(stagedMain, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(stagedMain, file))
  }
  // The release job also drops `prepare` (the contributors' source build): npm never runs it for a
  // registry install, but npm 11 warns about it on every install of the package.
  const { prepare, ...scripts } = pkg.scripts
  fs.writeFileSync(path.join(stagedMain, 'package.json'), `${JSON.stringify({ ...pkg, scripts, optionalDependencies }, null, 2)}\n`)
  const mainPack = pack(stagedMain)
  const platPack = pack(staged)
  measured.tarballs = [mainPack, platPack].map((p) => ({ file: p.filename, size: p.size, unpackedSize: p.unpackedSize, files: p.entryCount }))

  check('the main tarball has the JS, the types and binding.js, and no .node', () => {
    const files = mainPack.files.map((f) => f.path)
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'binding.d.ts', 'lib/native.js', 'package.json']) {
      assert(files.includes(f), `${f} missing from ${mainPack.filename}`)
    }
    assert(!files.some((f) => f.endsWith('.node')), `a .node in ${mainPack.filename}: ${files.join(', ')}`)
  })
  check(`the platform tarball is ${platformPkg}@${pkg.version} with ${nodeFile}; npm/ has one package per target, at the version`, () => {
    assert(platPack.name === platformPkg && platPack.version === pkg.version, `${platPack.name}@${platPack.version}`)
    assert(platPack.files.some((f) => f.path === nodeFile), `${nodeFile} missing`)
    assert(platformPkg in optionalDependencies, `${platformPkg} is not among the targets' packages`)
    const dirs = fs.readdirSync(path.join(root, 'npm')).sort()
    const platforms = config.targets.map((t) => t.platformArchABI).sort()
    assert(JSON.stringify(dirs) === JSON.stringify(platforms), `npm/ has ${dirs.join(', ')}; napi.targets give ${platforms.join(', ')}`)
    for (const dir of dirs) {
      const sub = JSON.parse(fs.readFileSync(path.join(root, 'npm', dir, 'package.json'), 'utf8'))
      assert(sub.name in optionalDependencies && sub.version === pkg.version, `npm/${dir} is ${sub.name}@${sub.version}`)
    }
  })

  const env = cleanEnv()
  check('no Rust toolchain on the apps’ PATH (cargo and rustc are not found)', () => {
    for (const tool of ['cargo', 'rustc']) {
      const r = spawnSync(tool, ['--version'], { env, encoding: 'utf8' })
      assert(r.error && r.error.code === 'ENOENT', `${tool} ran: ${r.stdout}${r.error || ''}`)
    }
  })

  // 3. The app: native-pool from its tarball, the platform package through the optional
  // dependency's edge (an override points that name at the tarball, since it is on no registry).
  const app = path.join(tmp, 'app')
  writeApp(app, {
    name: 'packed-app',
    dependencies: { [pkg.name]: `file:${mainPack.tarball}` },
    overrides: { [platformPkg]: `file:${platPack.tarball}` },
    jest: { testEnvironment: 'node', testTimeout: 30000 },
  })
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(app, f))
  const install = sh('npm', ['install', '--no-audit', '--no-fund'], { cwd: app, env, mustPass: true })
  measured.installSeconds = install.seconds
  measured.installedBytes = {
    [pkg.name]: duBytes(path.join(app, 'node_modules', pkg.name)),
    [platformPkg]: duBytes(path.join(app, 'node_modules', platformPkg)),
  }
  const jestVersion = pkg.devDependencies.jest
  // jest is the repository's own devDependency, so its packages are in npm's cache already.
  const jestInstall = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', `jest@${jestVersion}`], { cwd: app, env, mustPass: true })
  measured.jestInstallSeconds = jestInstall.seconds

  check(`npm installed ${platformPkg} (through the optional dependency), no other platform's package, and no install script`, () => {
    const present = fs.readdirSync(path.join(app, 'node_modules')).filter((n) => n.startsWith(`${pkg.name}-`))
    assert(JSON.stringify(present) === JSON.stringify([platformPkg]), `found ${present.join(', ') || 'none'}`)
    assert(!/install-scripts/.test(install.stderr), `npm flagged install scripts: ${install.stderr}`)
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'))
    const entry = lock.packages[`node_modules/${platformPkg}`]
    assert(entry && entry.optional === true, `the app's lock has ${JSON.stringify(entry)} for ${platformPkg}, not an optional dependency`)
  })

  // The app's jest suite: its own counts.
  const jestJson = path.join(tmp, 'jest.json')
  const jestRun = sh(path.join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'jest.cmd' : 'jest'),
    ['--json', `--outputFile=${jestJson}`], { cwd: app, env: { ...env, NATIVE_POOL_TRIPLE: triple }, stdio: 'inherit' })
  if (fs.existsSync(jestJson)) {
    const report = JSON.parse(fs.readFileSync(jestJson, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites
    console.log(`  jest in the app: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
    if (jestRun.status !== 0 && report.numFailedTests + report.numRuntimeErrorTestSuites === 0) failed += 1
  } else {
    failed += 1
    console.log('  not ok - jest in the app wrote no report')
  }

  // The ESM script: one `ok - ` / `not ok - ` line per check.
  const esm = sh(process.execPath, ['esm.mjs'], { cwd: app, env })
  for (const line of esm.stdout.trimEnd().split('\n')) console.log(`  ${line}`)
  const oks = (esm.stdout.match(/^ok - /gm) || []).length
  const notOks = (esm.stdout.match(/^not ok - /gm) || []).length
  passed += oks
  failed += notOks
  if (esm.status !== 0 && notOks === 0) {
    failed += 1
    console.log(`  not ok - esm.mjs exited ${esm.status}: ${esm.stderr}`)
  }
  check('esm.mjs ran all of its checks', () => assert(oks + notOks === 5, `${oks + notOks} checks ran`))

  // 4. An app without the platform package (--omit=optional): the loader names what it looked for.
  const bare = path.join(tmp, 'app-without-binary')
  writeApp(bare, { name: 'packed-app-without-binary', dependencies: { [pkg.name]: `file:${mainPack.tarball}` } })
  const bareInstall = sh('npm', ['install', '--no-audit', '--no-fund', '--omit=optional'], { cwd: bare, env, mustPass: true })
  measured.mainOnlyInstallSeconds = bareInstall.seconds
  const probe = `const { Pool } = require('native-pool')
    new Pool({ threads: 1 }).run('sum', { iterations: 1000 }).then((v) => { console.log(v); process.exit(0) })`
  check('without the platform package, require fails with ERR_NATIVE_ADDON_NOT_FOUND naming the platform, the package and the source build', () => {
    const r = sh(process.execPath, ['-e', `try { require('native-pool') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(3) }`], { cwd: bare, env })
    assert(r.status === 3, `exit ${r.status}: ${r.stdout}${r.stderr}`)
    const { code, message } = JSON.parse(r.stdout)
    assert(code === 'ERR_NATIVE_ADDON_NOT_FOUND', `code ${code}`)
    const [platform, arch] = triple.split('-')
    const wanted = [`no native addon for ${triple}`, `platform ${platform}`, `arch ${arch}`, `the package ${platformPkg} is not installed`,
      'optional dependency', 'npm install', 'https://rustup.rs', `NAPI_RS_NATIVE_LIBRARY_PATH=/path/to/clone/${nodeFile}`]
    if (process.platform === 'linux') wanted.push(`libc ${triple.endsWith('musl') ? 'musl' : 'glibc'}`)
    for (const w of wanted) assert(message.includes(w), `message lacks "${w}": ${message}`)
  })
  check('the documented source-build path: NAPI_RS_NATIVE_LIBRARY_PATH at a built .node makes that app work', () => {
    const r = sh(process.execPath, ['-e', probe], { cwd: bare, env: { ...env, NAPI_RS_NATIVE_LIBRARY_PATH: builtNode } })
    assert(r.status === 0 && r.stdout.trim() === String((1000 * 999) / 2), `exit ${r.status}: ${r.stdout}${r.stderr}`)
  })

  // 5. The other documented source-build path: an app installs a built clone (here, this checkout)
  // by its path. npm links it and runs its `prepare` (a rebuild), so this app has Rust on PATH.
  if (!binaryArg) {
    const linked = path.join(tmp, 'app-from-clone')
    writeApp(linked, { name: 'packed-app-from-clone' })
    const withRust = { ...env, PATH: process.env.PATH }
    check('the documented source-build path: `npm install /path/to/clone` (with Rust) gives an app that runs', () => {
      sh('npm', ['install', '--no-audit', '--no-fund', root], { cwd: linked, env: withRust, mustPass: true })
      assert(fs.realpathSync(path.join(linked, 'node_modules', pkg.name)) === fs.realpathSync(root), 'native-pool is not a link to the clone')
      const r = sh(process.execPath, ['-e', probe], { cwd: linked, env: withRust })
      assert(r.status === 0 && r.stdout.trim() === String((1000 * 999) / 2), `exit ${r.status}: ${r.stdout}${r.stderr}`)
    })
  }
}

async function finish() {
  try {
    await main()
  } catch (err) {
    failed += 1
    console.log(`  not ok - test-packed stopped: ${err && err.stack}`)
  }
  if (Object.keys(measured).length) console.log(`test-packed measured: ${JSON.stringify(measured)}`)
  const countsDir = path.join(root, 'target', 'test-counts')
  fs.mkdirSync(countsDir, { recursive: true })
  fs.writeFileSync(path.join(countsDir, 'packed.json'), `${JSON.stringify({ passed, failed })}\n`)
  if (failed === 0 && !keep) fs.rmSync(tmp, { recursive: true, force: true })
  else console.log(`test-packed: kept ${tmp}`)
  console.log(`test-packed: ${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

finish()
