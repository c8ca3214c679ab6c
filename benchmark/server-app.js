'use strict'
// The server that benchmark/server.js measures (run as its own process):
//   node benchmark/server-app.js BACKEND THREADS NICE
// POST /login {"password": "..."} verifies the password against one bcrypt hash (cost 10) on the
// back-end and answers {"ok": true|false}; GET /ping answers {"pong": true} at once, so its latency is
// the event loop's responsiveness while /login keeps the back-end busy. GET /stats gives the process's
// CPU time and its event-loop delay. The hash comes from the environment (SERVER_BCRYPT_HASH), made by
// the harness with npm bcrypt, so every back-end verifies the very same string.
//
// Back-ends:
//   native-pool     our Pool, `bcryptVerify`, THREADS threads at niceIncrement NICE
//   bcrypt          npm bcrypt's `compare` on libuv's thread pool (UV_THREADPOOL_SIZE, default 4)
//   piscina-bcrypt  piscina, THREADS threads, each running npm bcrypt's `compareSync` (the C code)
// Prints one JSON line {"port", "pid"} once it listens; stops on SIGTERM or when stdin closes.

const http = require('node:http')
const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')

const [backend, threadsArg, niceArg] = process.argv.slice(2)
const threads = Number(threadsArg)
const niceIncrement = Number(niceArg || 0)
const hash = process.env.SERVER_BCRYPT_HASH
if (!hash) throw new Error('SERVER_BCRYPT_HASH is not set')

function makeVerifier() {
  if (backend === 'native-pool') {
    const { Pool } = require(path.join(__dirname, '..'))
    const pool = new Pool({ threads, niceIncrement })
    return { verify: (password) => pool.run('bcryptVerify', { password, hash }), close: () => pool.close() }
  }
  if (backend === 'bcrypt') {
    const bcrypt = require('bcrypt')
    return { verify: (password) => bcrypt.compare(password, hash), close: async () => {} }
  }
  if (backend === 'piscina-bcrypt') {
    const { Piscina } = require('piscina')
    const pool = new Piscina({ filename: path.join(__dirname, 'server-piscina-task.js'), minThreads: threads, maxThreads: threads })
    return { verify: (password) => pool.run({ password, hash }), close: () => pool.destroy() }
  }
  throw new Error(`unknown back-end '${backend}'`)
}

const verifier = makeVerifier()
const delay = monitorEventLoopDelay({ resolution: 1 })
delay.enable()
const cpuAtStart = process.cpuUsage()

function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ping') return send(res, 200, { pong: true })
  if (req.method === 'GET' && req.url === '/stats') {
    const cpu = process.cpuUsage(cpuAtStart)
    return send(res, 200, { cpuMs: (cpu.user + cpu.system) / 1000, loopDelayP99Ms: delay.percentile(99) / 1e6, loopDelayMaxMs: delay.max / 1e6 })
  }
  if (req.method === 'POST' && req.url === '/login') {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      let password
      try {
        password = JSON.parse(Buffer.concat(chunks).toString('utf8')).password
      } catch {
        return send(res, 400, { error: 'bad json' })
      }
      if (typeof password !== 'string') return send(res, 400, { error: 'password must be a string' })
      verifier.verify(password).then(
        (ok) => send(res, 200, { ok }),
        (err) => send(res, 500, { error: String(err && err.message) }),
      )
    })
    return
  }
  send(res, 404, { error: 'not found' })
})
server.keepAliveTimeout = 60_000

let stopping = false
function stop() {
  if (stopping) return
  stopping = true
  server.closeAllConnections()
  server.close()
  verifier.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, pid: process.pid }) + '\n')
})
