'use strict'
// What every child shares: find a system by name, print the one JSON answer, turn failures into it.

const systems = require('../systems')

function systemNamed(name) {
  const sys = systems.find((s) => s.name === name)
  if (!sys) throw new Error(`no system named ${name}`)
  return sys
}

function main(fn) {
  fn().then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0)
    },
    (err) => {
      process.stdout.write(JSON.stringify({ error: String((err && err.message) || err) }) + '\n')
      process.exit(1)
    },
  )
}

module.exports = { systemNamed, main }
