'use strict'
// A throwaway redis-server for the BullMQ tests, the demo and the benchmark: installed with apt-get
// when it is missing (CI runs as root with the Debian registry), started on a free loopback port
// with no persistence, and stopped by whoever started it.

const { spawn, spawnSync } = require('node:child_process')
const net = require('node:net')

/** The redis-server binary on PATH, or null. */
function findRedisServer() {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const found = r.status === 0 ? r.stdout.trim() : ''
  return found === '' ? null : found
}

/**
 * Returns the path of redis-server, installing the Debian package `redis-server` first if it is not
 * on PATH. Throws with the reason (not root, apt-get failed) when it cannot.
 */
function ensureRedisServer({ log = () => {} } = {}) {
  const found = findRedisServer()
  if (found !== null) return found
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('redis-server is not installed and this is not root: apt-get install redis-server')
  }
  log('redis-server not found: installing the Debian package redis-server')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 240000 })
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error}`)
  }
  const installed = findRedisServer()
  if (installed === null) throw new Error('apt-get installed redis-server, but it is not on PATH')
  return installed
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts redis-server on a free loopback port, without persistence (`--save '' --appendonly no`).
 * Resolves once it logs that it accepts connections, with { port, url, connection, stop }.
 * `stop()` shuts it down and resolves when the process has exited.
 */
async function startRedis({ log = () => {}, attempts = 3 } = {}) {
  const bin = ensureRedisServer({ log })
  let lastError
  for (let i = 0; i < attempts; i++) {
    const port = await freePort()
    try {
      return await launch(bin, port)
    } catch (err) {
      // Another process may have taken the port between freePort() and the launch: try another.
      lastError = err
    }
  }
  throw lastError
}

function launch(bin, port) {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice']
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let ready = false
    const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })))
    const onData = (chunk) => {
      output += chunk
      if (!ready && output.includes('Ready to accept connections')) {
        ready = true
        const stop = async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          await exited
        }
        resolve({ port, url: `redis://127.0.0.1:${port}`, connection: { host: '127.0.0.1', port }, stop, pid: child.pid })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('error', reject)
    exited.then(({ code, signal }) => {
      if (!ready) reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`))
    })
  })
}

module.exports = { startRedis, ensureRedisServer, freePort }
