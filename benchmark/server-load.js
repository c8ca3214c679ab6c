'use strict'
// The load generator of benchmark/server.js (its own process, on the same machine, loopback only):
//   node benchmark/server-load.js PORT DURATION_MS LOGIN_CONNECTIONS PING_RATE MAX_REQUESTS
// Two loads at once, for DURATION_MS (or until MAX_REQUESTS /login requests were sent):
// - /login, closed loop: LOGIN_CONNECTIONS keep-alive connections, each sending the next request as
//   soon as the last one was answered; every other request carries a wrong password, and each answer
//   is checked against what was sent (a wrong `ok` counts as an error);
// - /ping, open loop: PING_RATE requests per second on a schedule, whatever the server's state, so
//   its latency is how long a trivial request waits while the password work runs.
// Latency is measured from the moment a request is handed to the socket to its full response, with
// process.hrtime (microseconds). Prints one JSON line.

const http = require('node:http')

const [port, durationMs, loginConnections, pingRate, maxRequests] = process.argv.slice(2).map(Number)
const PASSWORD = process.env.SERVER_PASSWORD
if (!PASSWORD) throw new Error('SERVER_PASSWORD is not set')

const loginAgent = new http.Agent({ keepAlive: true, maxSockets: loginConnections })
const pingAgent = new http.Agent({ keepAlive: true, maxSockets: 64 })

function request(agent, method, reqPath, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const req = http.request({ host: '127.0.0.1', port, method, path: reqPath, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), us: Number(process.hrtime.bigint() - t0) / 1000 }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function summary(lat, errors, seconds) {
  const s = Float64Array.from(lat).sort()
  return { count: s.length, perSecond: s.length / seconds, p50Ms: percentile(s, 50) / 1000, p99Ms: percentile(s, 99) / 1000, maxMs: s.length ? s[s.length - 1] / 1000 : null, errors }
}

async function main() {
  const start = process.hrtime.bigint()
  const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6
  const login = { lat: [], errors: 0, sent: 0 }
  const ping = { lat: [], errors: 0 }

  async function loginLoop() {
    while (elapsedMs() < durationMs && login.sent < maxRequests) {
      const right = login.sent++ % 2 === 0
      const body = JSON.stringify({ password: right ? PASSWORD : PASSWORD + 'x' })
      try {
        const r = await request(loginAgent, 'POST', '/login', body)
        if (r.status === 200 && JSON.parse(r.body).ok === right) login.lat.push(r.us)
        else login.errors++
      } catch {
        login.errors++
      }
    }
  }

  const pings = []
  const pingTimer = setInterval(() => {
    pings.push(
      request(pingAgent, 'GET', '/ping').then(
        (r) => (r.status === 200 && JSON.parse(r.body).pong === true ? ping.lat.push(r.us) : ping.errors++),
        () => ping.errors++,
      ),
    )
  }, 1000 / pingRate)

  await Promise.all(Array.from({ length: loginConnections }, loginLoop))
  const seconds = elapsedMs() / 1000
  clearInterval(pingTimer)
  await Promise.all(pings)
  loginAgent.destroy()
  pingAgent.destroy()
  process.stdout.write(JSON.stringify({ seconds, login: summary(login.lat, login.errors, seconds), ping: summary(ping.lat, ping.errors, seconds) }) + '\n')
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.stack) }) + '\n')
  process.exitCode = 1
})
